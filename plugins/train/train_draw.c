/* train_draw.c: the figure of a training or FGE run (train_job.h): the plot module's
 * line-plot spec built from the session's history. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "plot.h"
#include "train_job.h"

int train_session_draw(const train_session *c, const char *path, char *err) {
    const train_job *j = c->j;
    /* x[0] = 0 and d[0] = 0: the distance starts at the start; x + 1 for the per-iteration rest */
    double *x = malloc((c->hist_n + 1) * sizeof(double)), *d = malloc((c->hist_n + 1) * sizeof(double));
    if (!x || !d) { free(x); free(d); snprintf(err, TRAIN_ERRLEN, "%s: out of memory", path); return -1; }
    x[0] = d[0] = 0;
    for (uint64_t i = 0; i < c->hist_n; i++) { x[i + 1] = (double)(i + 1); d[i + 1] = c->dist_hist[i]; }
    double xmax = (double)c->hist_n;
    double xmin = isfinite(c->start_err) ? -0.015 * xmax : 0;   /* the marker at 0 inside the frame */
    const char *split = j->te_label ? j->te_label : "test";
    char err_title[64], err_label[64], start_label[64], xlabel[96];
    snprintf(err_title, sizeof err_title, "%s error", split);
    snprintf(err_label, sizeof err_label, "%s error (%%)", split);
    snprintf(start_label, sizeof start_label, "iteration 0: the %s network", j->kind == SCHED_FGE ? "pretrained" : "start");
    snprintf(xlabel, sizeof xlabel, "iteration%s", isfinite(c->start_err) ? " (0: the network the run started from)" : "");
    double start_x = 0, start_y = c->start_err, base_x[2] = { 0, xmax }, base_y[2] = { j->baseline_err, j->baseline_err };
    plot_series lr = { NULL, x + 1, c->lr_hist, c->hist_n, plot_palette(0), PLOT_SOLID, PLOT_NO_MARKER };
    plot_series dist = { NULL, x, d, c->hist_n + 1, plot_palette(2), PLOT_SOLID, PLOT_NO_MARKER };
    plot_series err_s[5] = {
        { "network", c->ev_it, c->ev_err, c->ev_n, plot_palette(1), PLOT_SOLID, c->ev_n <= 60 ? PLOT_CIRCLE : PLOT_NO_MARKER },
        { "snapshots", c->snap_it, c->snap_err, c->snaps.count, plot_palette(3), PLOT_NO_LINE, PLOT_DIAMOND },
        { "ensemble of the snapshots so far", c->snap_it, c->ens_err, c->snaps.count, plot_palette(0), PLOT_DASHED, PLOT_SQUARE },
        { start_label, &start_x, &start_y, 1, plot_palette(4), PLOT_NO_LINE, PLOT_TRIANGLE },
        { j->baseline_label, base_x, base_y, 2, plot_palette(5), PLOT_DOTTED, PLOT_NO_MARKER },
    };
    int ne = 0;
    plot_series es[5];
    if (c->ev_n) es[ne++] = err_s[0];
    if (c->snaps.count) es[ne++] = err_s[1], es[ne++] = err_s[2];
    if (isfinite(c->start_err)) es[ne++] = err_s[3];
    if (j->baseline_label && isfinite(j->baseline_err)) es[ne++] = err_s[4];
    plot_panel p[3] = {
        { .title = "learning rate", .ylabel = "lr", .series = &lr, .nseries = 1, .xmin = xmin, .xmax = xmax },
        { .title = err_title, .ylabel = err_label, .series = es, .nseries = ne, .xmin = xmin, .xmax = xmax },
        { .title = "distance from the start in weight space", .xlabel = xlabel, .ylabel = "||w - w0||",
          .series = &dist, .nseries = 1, .xmin = xmin, .xmax = xmax },
    };
    plot_lines f = { .width = 900, .height = 1000, .rows = 3, .cols = 1, .title = j->title, .panels = p };
    int rc = plot_lines_save(&f, path, err);
    free(x); free(d);
    return rc ? -1 : 0;
}
