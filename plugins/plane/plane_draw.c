/* plane_draw.c: the pictures of a grid (see plane_run.h): the plot module's surface spec
 * built from a plane's rows, marks and curve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plane_run.h"
#include "plot.h"

int plane_draw(const plane_picture *p, plane_picture_kind which, const char *path, char *err) {
    int g = p->g, nm = p->nm < PLANE_MAX_MARKS ? p->nm : PLANE_MAX_MARKS;
    /* the kind of plane from its marks: bends (a curve's), a centre (random directions), or points */
    int curve = nm > 0 && !strcmp(p->marks[0].kind, "bend"), random = nm > 0 && !strcmp(p->marks[0].kind, "center");
    double *xs = malloc(g * sizeof(double)), *ys = malloc(g * sizeof(double)), *v = malloc((size_t)g * g * sizeof(double));
    int rc = 0;
    if (!xs || !ys || !v) { snprintf(err, PLANE_ERRLEN, "%s: out of memory for the picture", path); rc = -1; goto out; }
    for (int i = 0; i < g; i++) { xs[i] = p->rows[i * g].x; ys[i] = p->rows[i].y; }
    for (int k = 0; k < g * g; k++)
        v[k] = which == PLANE_TEST_ERROR ? p->rows[k].te_err : which == PLANE_MAP50 ? 100 - 100 * p->rows[k].map50 : p->rows[k].tr_loss;
    double sx[2] = { 0, 0 }, sy[2] = { 0, 0 };   /* the straight segment between the curve's ends */
    int nc = p->ncurve;
    if (nc > 0) { sx[0] = p->cx[0]; sx[1] = p->cx[nc - 1]; sy[0] = p->cy[0]; sy[1] = p->cy[nc - 1]; }
    plot_path paths[2] = { { p->cx, p->cy, (size_t)nc, PLOT_SOLID }, { sx, sy, 2, PLOT_DASHED } };
    plot_point pts[PLANE_MAX_MARKS];
    for (int q = 0; q < nm; q++) {   /* end points circles; middle bends and w1 diamonds */
        const plane_mark *m = &p->marks[q];
        int diamond = curve ? q > 0 && q < nm - 1 : !random && m->index == 1;
        const char *label = p->labels && p->labels[q][0] ? p->labels[q] : NULL;
        pts[q] = (plot_point){ m->x, m->y, diamond ? PLOT_DIAMOND : PLOT_CIRCLE, label };
    }
    /* the legend of a curve's plane: what its marks and lines are */
    plot_series keys[4] = { { "end points", NULL, NULL, 0, PLOT_BLACK, PLOT_NO_LINE, PLOT_CIRCLE },
                            { "bends", NULL, NULL, 0, PLOT_BLACK, PLOT_NO_LINE, PLOT_DIAMOND },
                            { "curve", NULL, NULL, 0, PLOT_BLACK, PLOT_SOLID, PLOT_NO_MARKER },
                            { "straight line", NULL, NULL, 0, PLOT_BLACK, PLOT_DASHED, PLOT_NO_MARKER } };
    if (nm <= 2) keys[1] = keys[2], keys[2] = keys[3];   /* no middle bend */
    int nkeys = curve && nc > 0 ? (nm > 2 ? 4 : 3) : 0;
    /* a detector's map shows 100 - mAP@0.5, so that low is good and the levels, log-spaced above
     * the minimum, put their detail near the best points, as for a classifier's test error */
    const char *what = which == PLANE_TEST_ERROR ? "test error (%)" : which == PLANE_MAP50 ? "100 - mAP@0.5 (%)"
                     : which == PLANE_DET_LOSS ? "train loss (detection + l2)" : "train loss";
    const char *title = which == PLANE_MAP50 ? "100 - mAP@0.5 (%) on the valid list (low is good, as a test error)" : what;
    plot_surface f = {
        .width = 900, .height = 720, .title = title,
        .xlabel = random ? "distance along direction 1" : "distance along u (w0 -> w2)",
        .ylabel = random ? "distance along direction 2" : "distance along v (orthogonal to u)",
        .xs = xs, .ys = ys, .v = v, .nx = g, .ny = g, .heat = plot_heatmap_defaults(),
        .paths = paths, .npaths = curve && nc > 0 ? 2 : 0, .points = pts, .npoints = nm, .keys = keys, .nkeys = nkeys,
        .equal_aspect = p->equal_aspect,
    };
    f.heat.vmax = which == PLANE_TEST_ERROR ? 40 : which == PLANE_MAP50 ? 100 : which == PLANE_DET_LOSS ? INFINITY : 5.0;
    f.heat.log_alpha = which == PLANE_TRAIN_LOSS || which == PLANE_DET_LOSS ? -5 : -1;
    f.heat.label = what;
    if (f.equal_aspect) f.height = plot_surface_fit_height(&f);
    if (plot_surface_save(&f, path, err)) rc = -1;
out:
    free(xs); free(ys); free(v);
    return rc;
}
