/* plane_setup.c: a plane from the command line's inputs (see plane.h): a curve's bends, three
 * networks or random directions around one; the marks and the curve drawn in it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plane.h"
#include "wspace.h"

static const char *base_name(const char *p) { const char *s = strrchr(p, '/'); return s ? s + 1 : p; }

static plane_mark *add_mark(plane_setup *p, const char *kind, int index, double x, double y, const char *label) {
    plane_mark *m = &p->marks[p->nm];
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    m->index = index; m->x = x; m->y = y;
    snprintf(p->labels[p->nm], sizeof p->labels[0], "%.40s", label ? label : "");
    p->nm++;
    return m;
}

/* A detector's curve with a detector cfg, a classifier's with a classifier's (the message of
 * curve_check_fits, curve_train.h), and the cfg's parameter count. */
static int curve_fits(const curve *cv, const plane_setup_req *q, const host_net *h, char *err) {
    int det = host_is_detector(h);
    if (!(cv->flags & CURVE_DETECTOR) != !det) {
        snprintf(err, PLANE_ERRLEN, "%s: a %s's curve, but %s is a %s cfg", q->curve, det ? "classifier" : "detector", q->cfg,
                 det ? "detector" : "classifier");
        return -1;
    }
    if (cv->n == host_nparams(h)) return 0;
    snprintf(err, PLANE_ERRLEN, "%s: bends have %zu parameters, %s has %zu", q->curve, cv->n, q->cfg, host_nparams(h));
    return -1;
}

static int from_curve(plane_setup *p, const plane_setup_req *q, const host_net *h, char *err) {
    size_t n = host_nparams(h);
    curve cv = { 0 };
    int rc = -1;
    float *w = NULL;
    if (curve_load(&cv, q->curve, err)) return -1;
    if (curve_fits(&cv, q, h, err)) goto out;
    int bi[3] = { 0, cv.k / 2, cv.k - 1 };
    if (q->bends && sscanf(q->bends, "%d,%d,%d", &bi[0], &bi[1], &bi[2]) != 3) {
        snprintf(err, PLANE_ERRLEN, "-bends takes three bend indices i,j,k, got '%s'", q->bends);
        goto out;
    }
    if (cv.k < 3) { snprintf(err, PLANE_ERRLEN, "%s: a curve of %d bends has no plane (it is a straight line)", q->curve, cv.k); goto out; }
    for (int k = 0; k < 3; k++)
        if (bi[k] < 0 || bi[k] >= cv.k || bi[(k + 1) % 3] == bi[k]) {
            snprintf(err, PLANE_ERRLEN, "-bends: three different indices in 0..%d, got '%s'", cv.k - 1, q->bends);
            goto out;
        }
    p->has_decay = 1;
    p->decay = cv.decay;
    p->decay_all = (cv.flags & CURVE_DECAY_ALL) != 0;   /* the l2 term the curve was trained with */
    char why[PLANE_ERRLEN];
    if (plane_basis_points(&p->b, n, cv.bends[bi[0]], cv.bends[bi[1]], cv.bends[bi[2]], why)) {
        snprintf(err, PLANE_ERRLEN, "%s: bends %d, %d, %d: %s", q->curve, bi[0], bi[1], bi[2], why);
        goto out;
    }
    for (int j = 0; j < cv.k && j < PLANE_MAX_MARKS; j++) {
        double x, y;
        plane_project(&p->b, cv.bends[j], &x, &y, NULL);
        add_mark(p, "bend", j, x, y, NULL);
    }
    int m = p->ncurve = q->curve_points;
    p->ct = malloc(m * sizeof(double)); p->cx = malloc(m * sizeof(double)); p->cy = malloc(m * sizeof(double));
    w = malloc(n * sizeof(float));
    if (!p->ct || !p->cx || !p->cy || !w) { snprintf(err, PLANE_ERRLEN, "out of memory"); goto out; }
    double far = 0;
    for (int k = 0; k < m; k++) {
        double off;
        p->ct[k] = (double)k / (m - 1);
        curve_point(&cv, p->ct[k], w);
        plane_project(&p->b, w, &p->cx[k], &p->cy[k], &off);
        if (off > far) far = off;
    }
    if (cv.k == 3)
        snprintf(p->desc, sizeof p->desc, "the plane of the 3 bends of %s (%s); the curve lies in it (farthest point %.2g off it, rounding)",
                 q->curve, curve_type_name(cv.type), far);
    else
        snprintf(p->desc, sizeof p->desc, "the plane of bends %d, %d, %d of the %d-bend %s curve %s; the curve is PROJECTED onto it "
                 "(its farthest point is %.4g from the plane)", bi[0], bi[1], bi[2], cv.k, curve_type_name(cv.type), q->curve, far);
    rc = 0;
out:
    free(w);
    curve_free(&cv);
    return rc;
}

int plane_setup_make(plane_setup *p, const plane_setup_req *q, host_net *h, char *err) {
    memset(p, 0, sizeof *p);
    p->mode = q->mode;
    size_t n = host_nparams(h);
    if (q->mode == PLANE_CURVE) {
        if (from_curve(p, q, h, err)) { plane_setup_free(p); return -1; }
        return 0;
    }
    int nw = q->mode == PLANE_RANDOM ? 1 : 3, rc = -1;
    float *w[3] = { NULL, NULL, NULL };
    char why[PLANE_ERRLEN];
    for (int k = 0; k < nw; k++) {
        w[k] = malloc(n * sizeof(float));
        if (!w[k]) { snprintf(err, PLANE_ERRLEN, "out of memory"); goto out; }
        if (host_load_weights(h, q->weights[k], err)) goto out;
        host_get_params(h, w[k]);
    }
    if (q->mode == PLANE_POINTS) {
        if (plane_basis_points(&p->b, n, w[0], w[1], w[2], why)) {
            snprintf(err, PLANE_ERRLEN, "%s, %s, %s: %s", q->weights[0], q->weights[1], q->weights[2], why);
            goto out;
        }
        for (int k = 0; k < 3; k++) {
            double x, y;
            plane_project(&p->b, w[k], &x, &y, NULL);
            add_mark(p, "point", k, x, y, base_name(q->weights[k]));
        }
        snprintf(p->desc, sizeof p->desc, "the plane of %s (origin), %s, %s", q->weights[0], q->weights[1], q->weights[2]);
    } else {
        if (plane_basis_random(&p->b, h, w[0], q->seed, why)) { snprintf(err, PLANE_ERRLEN, "%s: %s", q->weights[0], why); goto out; }
        add_mark(p, "center", 0, 0, 0, base_name(q->weights[0]));
        snprintf(p->desc, sizeof p->desc, "two random filter-normalised directions around %s (seed %llu; |d1| = %.4g, "
                 "|d2| = %.4g, cos = %.3g, not orthogonalised)", q->weights[0], (unsigned long long)q->seed, p->b.dx, p->b.dy,
                 ws_dot(n, p->b.u, p->b.v));
    }
    rc = 0;
out:
    for (int k = 0; k < 3; k++) free(w[k]);
    if (rc) plane_setup_free(p);
    return rc;
}

void plane_setup_free(plane_setup *p) {
    plane_basis_free(&p->b);
    free(p->ct); free(p->cx); free(p->cy);
    p->ct = p->cx = p->cy = NULL;
    p->ncurve = 0;
}
