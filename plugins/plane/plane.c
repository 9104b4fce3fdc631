/* plane.c: plane bases (three points by Gram-Schmidt, or filter-normalised random
 * directions), points and projections in a plane, and the grid evaluation with BN
 * statistics recomputed at every point (definitions in plane.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dist.h"
#include "plane.h"
#include "rng.h"
#include "run.h"
#include "wspace.h"
#include "clock.h"


static int basis_alloc(plane_basis *b, size_t n, char *err) {
    memset(b, 0, sizeof *b);
    b->n = n;
    size_t sz = (n ? n : 1) * sizeof(float);
    b->origin = malloc(sz); b->u = malloc(sz); b->v = malloc(sz);
    if (!b->origin || !b->u || !b->v) {
        plane_basis_free(b);
        snprintf(err, DKMC_ERRLEN, "out of memory for a plane of %zu parameters", n);
        return -1;
    }
    return 0;
}

void plane_basis_free(plane_basis *b) {
    free(b->origin); free(b->u); free(b->v);
    memset(b, 0, sizeof *b);
}

/* Gram-Schmidt in double per element: the float vectors are only rounded once at the end.
 * The thresholds for "degenerate" are relative to the size of the weights, because float
 * rounding alone leaves a residual of about 1e-7 ||w|| in a combination of networks. */
int plane_basis_points(plane_basis *b, size_t n, const float *w0, const float *w1,
                       const float *w2, char *err) {
    if (basis_alloc(b, n, err)) return -1;
    double scale = ws_norm(n, w0) + ws_norm(n, w1) + ws_norm(n, w2);
    double dx = ws_dist(n, w2, w0);
    if (!isfinite(dx) || !isfinite(scale)) {
        snprintf(err, DKMC_ERRLEN, "the networks hold non-finite weights");
        plane_basis_free(b); return -1;
    }
    if (dx <= 1e-6 * scale || dx == 0) {
        snprintf(err, DKMC_ERRLEN, "degenerate plane: the first and third networks are the same point (distance %.3g)", dx);
        plane_basis_free(b); return -1;
    }
    for (size_t i = 0; i < n; i++) b->u[i] = (float)(((double)w2[i] - w0[i]) / dx);
    /* component of w1 - w0 along u, in double */
    double along = 0, r2 = 0;
    for (size_t i = 0; i < n; i++) { double r = (double)w1[i] - w0[i]; along += r * b->u[i]; r2 += r * r; }
    double dy2 = 0;
    for (size_t i = 0; i < n; i++) { double r = (double)w1[i] - w0[i] - along * b->u[i]; dy2 += r * r; }
    double dy = sqrt(dy2);
    if (r2 == 0) {
        snprintf(err, DKMC_ERRLEN, "degenerate plane: the first and second networks are the same point");
        plane_basis_free(b); return -1;
    }
    if (dy <= 1e-6 * scale || dy <= 1e-5 * sqrt(r2)) {
        snprintf(err, DKMC_ERRLEN, "degenerate plane: the three networks are collinear (the second is %.3g from the line through the others)", dy);
        plane_basis_free(b); return -1;
    }
    for (size_t i = 0; i < n; i++) b->v[i] = (float)(((double)w1[i] - w0[i] - along * b->u[i]) / dy);
    memcpy(b->origin, w0, n * sizeof(float));
    b->dx = dx; b->dy = dy; b->orthogonal = 1;
    return 0;
}

size_t plane_block_filters(const host_net *h, int block, size_t *filter_size) {
    const hp_block *bl = host_blocks(h);
    int nb = host_nblocks(h);
    const hp_block *w = &bl[block];
    *filter_size = w->n;
    if (w->kind != HP_WEIGHTS) { *filter_size = 0; return 0; }
    /* the layer's output count is the length of its bias block */
    for (int i = 0; i < nb; i++)
        if (bl[i].kind == HP_BIASES && bl[i].layer == w->layer && bl[i].sub == w->sub && bl[i].n > 0 && w->n % bl[i].n == 0) {
            *filter_size = w->n / bl[i].n;
            return bl[i].n;
        }
    return 1;   /* no bias block of a fitting size: the whole block is one filter */
}

static double gaussian(rng_t *r) {
    double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r);   /* u1 in (0, 1] */
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void plane_random_direction(const host_net *h, const float *w, rng_t *r, float *d) {
    const hp_block *bl = host_blocks(h);
    int nb = host_nblocks(h);
    for (int k = 0; k < nb; k++) {
        const hp_block *b = &bl[k];
        if (b->kind == HP_ROLLING_MEAN || b->kind == HP_ROLLING_VAR) continue;
        float *db = d + b->offset;
        if (b->kind != HP_WEIGHTS) { memset(db, 0, b->n * sizeof(float)); continue; }
        size_t fs, nf = plane_block_filters(h, k, &fs);
        for (size_t f = 0; f < nf; f++) {
            float *df = db + f * fs;
            const float *wf = w + b->offset + f * fs;
            double dn = 0, wn = 0;
            for (size_t i = 0; i < fs; i++) { double g = gaussian(r); df[i] = (float)g; dn += g * g; }
            for (size_t i = 0; i < fs; i++) wn += (double)wf[i] * wf[i];
            double s = dn > 0 ? sqrt(wn / dn) : 0;
            for (size_t i = 0; i < fs; i++) df[i] = (float)(df[i] * s);
        }
    }
}

int plane_basis_random(plane_basis *b, const host_net *h, const float *w, uint64_t seed, char *err) {
    size_t n = host_nparams(h);
    if (basis_alloc(b, n, err)) return -1;
    rng_t r;
    rng_seed(&r, seed);
    plane_random_direction(h, w, &r, b->u);
    plane_random_direction(h, w, &r, b->v);
    b->dx = ws_norm(n, b->u);
    b->dy = ws_norm(n, b->v);
    if (!(b->dx > 0) || !(b->dy > 0) || !isfinite(b->dx) || !isfinite(b->dy)) {
        snprintf(err, DKMC_ERRLEN, "degenerate plane: the network's weights are all zero (or not finite), so filter-normalised directions are empty");
        plane_basis_free(b); return -1;
    }
    ws_scale(n, (float)(1.0 / b->dx), b->u);
    ws_scale(n, (float)(1.0 / b->dy), b->v);
    memcpy(b->origin, w, n * sizeof(float));
    b->orthogonal = 0;
    return 0;
}

void plane_point(const plane_basis *b, double x, double y, float *out) {
    for (size_t i = 0; i < b->n; i++) out[i] = (float)(b->origin[i] + x * b->u[i] + y * b->v[i]);
}

void plane_project(const plane_basis *b, const float *p, double *x, double *y, double *off) {
    double px = 0, py = 0;
    for (size_t i = 0; i < b->n; i++) {
        double r = (double)p[i] - b->origin[i];
        px += r * b->u[i]; py += r * b->v[i];
    }
    *x = px; *y = py;
    if (!off) return;
    /* the residual itself, not ||r||^2 - x^2 - y^2, which cancels catastrophically */
    double o2 = 0;
    for (size_t i = 0; i < b->n; i++) {
        double r = (double)p[i] - b->origin[i] - px * b->u[i] - py * b->v[i];
        o2 += r * r;
    }
    *off = sqrt(o2);
}

double plane_grid_alpha(const plane_grid *g, int i) { return g->a0 + (g->a1 - g->a0) * i / (g->g - 1); }
double plane_grid_beta(const plane_grid *g, int j) { return g->b0 + (g->b1 - g->b0) * j / (g->g - 1); }

uint64_t plane_hash(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

static void fmt_secs(char *buf, size_t n, double s) {
    if (s < 0 || !isfinite(s)) snprintf(buf, n, "?");
    else if (s < 120) snprintf(buf, n, "%.0fs", s);
    else if (s < 7200) snprintf(buf, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
    else snprintf(buf, n, "%.0fh%02.0fm", floor(s / 3600), fmod(floor(s / 60), 60));
}

/* One grid point at a time, spread over the ranks by dist_map (plane.h). */
typedef struct {
    const plane_basis *b;
    const plane_grid *g;
    host_net *h;
    const dataset *tr, *te, *trl;
    const plane_eval_opts *o;
    plane_row *rows;
    const int *todo;          /* grid indices still to evaluate */
    int ntodo, done;
    float *w;
    unsigned char *mask;
    double t0;
} grid_job;

/* A classifier's metrics at the parameters in J->w (set into the network): BN statistics
 * recomputed, train loss, NLL and error, test NLL and error. */
static void classifier_metrics(grid_job *J, int item, int i, int j, plane_row *r) {
    const plane_eval_opts *o = J->o;
    size_t n = J->b->n;
    char label[160], eta[32];
    host_set_params(J->h, J->w);
    if (J->done) fmt_secs(eta, sizeof eta, (dkmc_now() - J->t0) / J->done * (J->ntodo - J->done));
    else snprintf(eta, sizeof eta, "?");
    snprintf(label, sizeof label, "point %d/%d (i=%d j=%d, eta %s) bn", item + 1, J->ntodo, i, j, eta);
    run_bn_update(J->h, J->tr, o->bn_limit, o->progress ? label : NULL);
    double l2 = 0;
    for (size_t q = 0; q < n; q++) if (J->mask[q]) l2 += (double)J->w[q] * J->w[q];
    if (J->trl->n > 0) {
        snprintf(label, sizeof label, "point %d/%d (i=%d j=%d, eta %s) train", item + 1, J->ntodo, i, j, eta);
        eval_result a = run_eval(J->h, J->trl, NULL, o->progress ? label : NULL);
        r->tr_nll = a.nll; r->tr_err = 100 - a.acc;
        r->tr_loss = a.nll + 0.5 * o->decay * l2;
    } else r->tr_nll = r->tr_err = r->tr_loss = NAN;
    snprintf(label, sizeof label, "point %d/%d (i=%d j=%d, eta %s) test", item + 1, J->ntodo, i, j, eta);
    eval_result e = run_eval(J->h, J->te, NULL, o->progress ? label : NULL);
    r->te_nll = e.nll; r->te_err = 100 - e.acc;
}

static int grid_eval(void *vj, int item, double *out, char *err) {
    grid_job *J = vj;
    const plane_grid *g = J->g;
    const plane_point_eval *pe = J->o->point;
    int k = J->todo[item], i = k / g->g, j = k % g->g;
    plane_row r;
    r.alpha = plane_grid_alpha(g, i);
    r.beta = plane_grid_beta(g, j);
    r.x = r.alpha * J->b->dx;
    r.y = r.beta * J->b->dy;
    plane_point(J->b, r.x, r.y, J->w);
    if (!pe) classifier_metrics(J, item, i, j, &r);
    else {
        if (J->o->progress) fprintf(stderr, "point %d/%d (i=%d j=%d)\n", item + 1, J->ntodo, i, j);
        if (pe->eval(pe->ctx, J->w, J->mask, J->o->decay, &r, err)) return -1;
    }
    double v[9] = { r.alpha, r.beta, r.x, r.y, r.tr_loss, r.tr_nll, r.tr_err, r.te_nll, r.te_err };
    memcpy(out, v, sizeof v);
    return 0;
}

static int grid_deliver(void *vj, int item, const double *v, char *err) {
    grid_job *J = vj;
    int k = J->todo[item];
    plane_row *r = &J->rows[k];
    r->alpha = v[0]; r->beta = v[1]; r->x = v[2]; r->y = v[3];
    r->tr_loss = v[4]; r->tr_nll = v[5]; r->tr_err = v[6]; r->te_nll = v[7]; r->te_err = v[8];
    J->done++;
    return J->o->row ? J->o->row(J->o->ctx, k, r, err) : 0;
}

int plane_evaluate(const plane_basis *b, const plane_grid *g, host_net *h, const dataset *tr,
                   const dataset *te, const plane_eval_opts *o, plane_row *rows, char *err) {
    size_t n = b->n;
    if (n != host_nparams(h)) {
        snprintf(err, DKMC_ERRLEN, "plane of %zu parameters, network of %zu", n, host_nparams(h));
        return -1;
    }
    if (g->g < 2) { snprintf(err, PLANE_ERRLEN, "a grid needs at least 2 points per axis, got %d", g->g); return -1; }
    int total = g->g * g->g;
    float *w = malloc(n * sizeof(float));
    unsigned char *mask = malloc(n);
    int *todo = malloc((size_t)total * sizeof(int));
    if (!w || !mask || !todo) {
        free(w); free(mask); free(todo);
        snprintf(err, PLANE_ERRLEN, "out of memory for %zu parameters", n);
        return -1;
    }
    if (o->decay_all) memset(mask, 1, n);
    else host_decay_mask(h, mask);
    dataset trl = { 0 };
    if (tr) trl = *tr;
    if (o->train_limit > 0 && o->train_limit < trl.n) trl.n = o->train_limit;
    if (o->train_limit < 0) trl.n = 0;
    int ntodo = 0;
    for (int k = 0; k < total; k++) if (!(o->done && o->done[k])) todo[ntodo++] = k;
    if (o->stop_after > 0 && o->stop_after < ntodo) ntodo = o->stop_after;
    /* with several ranks, rank r evaluates todo[q*size + r] in round q; rank 0 gets the rows */
    grid_job J = { b, g, h, tr, te, &trl, o, rows, todo, ntodo, 0, w, mask, dkmc_now() };
    int rc = dist_map(ntodo, 9, &J, grid_eval, grid_deliver, err);
    free(w); free(mask); free(todo);
    return rc ? -1 : ntodo;
}
