/* curve_draw.c: the figure of an evaluation run (curve_train.h): the plot module's line-plot
 * spec built from the rows of a curve and of the straight line between its end points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "curve_train.h"
#include "plot.h"

int curve_draw(const char *path, const curve_eval_row *cr, const char *cname, const curve_eval_row *lr, int n, char *err) {
    double *buf = malloc(6 * (size_t)n * sizeof(double));
    if (!buf) { snprintf(err, CURVE_ERRLEN, "%s: out of memory", path); return -1; }
    /* buf: t, test error and train loss of the curve, then of the line */
    double *t[2] = { buf, buf + 3 * n }, *v[2][2] = { { buf + n, buf + 2 * n }, { buf + 4 * n, buf + 5 * n } };
    const char *label = !strcmp(cname, "bezier") ? "Bezier curve" : !strcmp(cname, "polychain") ? "polygonal chain" : cname;
    plot_series s[2][2]; /* [panel][curve, line] */
    for (int which = 0; which < 2; which++) {
        const curve_eval_row *r = which ? lr : cr;
        for (int i = 0; i < n && r; i++) { t[which][i] = r[i].t; v[which][0][i] = r[i].te_err; v[which][1][i] = r[i].tr_loss; }
        for (int panel = 0; panel < 2; panel++)
            s[panel][which] = (plot_series){ which ? "straight line" : label, t[which], v[which][panel], n, plot_palette(which ? 3 : 0),
                                             which ? PLOT_DASHED : PLOT_SOLID, n <= 21 ? PLOT_CIRCLE : PLOT_NO_MARKER };
    }
    plot_panel p[2] = {
        { .title = "test error along the path", .xlabel = "t", .ylabel = "test error (%)", .series = s[0], .nseries = lr ? 2 : 1 },
        { .title = "train loss along the path", .xlabel = "t", .ylabel = "train loss (nll + l2)", .series = s[1], .nseries = lr ? 2 : 1 },
    };
    plot_lines f = { .width = 1200, .height = 480, .cols = 2, .panels = p };
    int rc = plot_lines_save(&f, path, err); /* .png, .svg or .pdf, by the name */
    free(buf);
    return rc ? -1 : 0;
}
