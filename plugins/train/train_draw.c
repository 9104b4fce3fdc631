/* train_draw.c: the figure of a training or FGE run (train_job.h): the plot module's
 * line-plot spec built from the session's history. */
#include <stdio.h>
#include <stdlib.h>
#include "plot.h"
#include "train_job.h"

int train_session_draw(const train_session *c, const char *path, char *err) {
    double *x = malloc((c->hist_n + 1) * sizeof(double));
    if (!x) { snprintf(err, TRAIN_ERRLEN, "%s: out of memory", path); return -1; }
    for (uint64_t i = 0; i < c->hist_n; i++) x[i] = (double)(i + 1);
    plot_series lr = { NULL, x, c->lr_hist, c->hist_n, plot_palette(0), PLOT_SOLID, PLOT_NO_MARKER };
    plot_series dist = { NULL, x, c->dist_hist, c->hist_n, plot_palette(2), PLOT_SOLID, PLOT_NO_MARKER };
    plot_series err_s[3] = {
        { "network", c->ev_it, c->ev_err, c->ev_n, plot_palette(1), PLOT_SOLID, c->ev_n <= 60 ? PLOT_CIRCLE : PLOT_NO_MARKER },
        { "snapshots", c->snap_it, c->snap_err, c->snaps.count, plot_palette(3), PLOT_NO_LINE, PLOT_DIAMOND },
        { "ensemble of the snapshots so far", c->snap_it, c->ens_err, c->snaps.count, plot_palette(0), PLOT_DASHED, PLOT_SQUARE },
    };
    int ne = 0;
    plot_series es[3];
    if (c->ev_n) es[ne++] = err_s[0];
    if (c->snaps.count) es[ne++] = err_s[1], es[ne++] = err_s[2];
    double xmax = (double)c->hist_n;
    plot_panel p[3] = {
        { .title = "learning rate", .ylabel = "lr", .series = &lr, .nseries = 1, .xmin = 0, .xmax = xmax },
        { .title = "test error", .ylabel = "test error (%)", .series = es, .nseries = ne, .xmin = 0, .xmax = xmax },
        { .title = "distance from the start in weight space", .xlabel = "iteration", .ylabel = "||w - w0||",
          .series = &dist, .nseries = 1, .xmin = 0, .xmax = xmax },
    };
    plot_lines f = { .width = 900, .height = 1000, .rows = 3, .cols = 1, .panels = p };
    int rc = plot_lines_save(&f, path, err);
    free(x);
    return rc ? -1 : 0;
}
