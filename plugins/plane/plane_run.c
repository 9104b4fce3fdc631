/* plane_run.c: a plane's grid run (see plane_run.h): the settings a resumed grid must share,
 * the resumed points, the grid evaluated with its partial file, the CSV and the summary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "dist.h"
#include "plane_run.h"

static const char *mode_name[] = { "curve", "points", "random" };

plane_grid plane_grid_of(plane_mode mode, int g, double margin, double left, double right, double bottom, double top) {
    double m = isnan(margin) ? (mode == PLANE_RANDOM ? 0 : 0.2) : margin, lo = mode == PLANE_RANDOM ? -1 : 0;
    return (plane_grid){ g, lo - (isnan(left) ? m : left), 1 + (isnan(right) ? m : right), lo - (isnan(bottom) ? m : bottom),
                         1 + (isnan(top) ? m : top) };
}

int plane_train_images(int bn_limit, int train_limit, int no_train) {
    if (bn_limit <= 0 || (!no_train && train_limit <= 0)) return 0;
    return no_train || bn_limit > train_limit ? bn_limit : train_limit;
}

int plane_mark_outside(const plane_setup *p, const plane_grid *g, int q, double *alpha, double *beta) {
    double al = *alpha = p->marks[q].x / p->b.dx, be = *beta = p->marks[q].y / p->b.dy;
    return al < g->a0 - 1e-9 || al > g->a1 + 1e-9 || be < g->b0 - 1e-9 || be > g->b1 + 1e-9;
}

static uint64_t hash_data(uint64_t hv, const dataset *d, int n) {
    size_t in = (size_t)d->w * d->h * d->c;
    hv = plane_hash(hv, &n, sizeof n);
    hv = plane_hash(hv, d->X, (size_t)n * in * sizeof(float));
    return plane_hash(hv, d->labels, (size_t)n * sizeof(int));
}

/* The settings fingerprint: what makes two grids the same computation. */
static void settings_line(char *out, size_t len, const plane_job *j, const plane_run_info *i, const host_net *h,
                          const dataset *tr, const dataset *te) {
    const plane_basis *b = &j->plane->b;
    size_t n = b->n;
    uint64_t hb = plane_hash(PLANE_HASH_INIT, b->origin, n * sizeof(float));
    hb = plane_hash(hb, b->u, n * sizeof(float));
    hb = plane_hash(hb, b->v, n * sizeof(float));
    hb = plane_hash(hb, &b->dx, sizeof b->dx);
    hb = plane_hash(hb, &b->dy, sizeof b->dy);
    int ntr = i->bn_images > i->train_images ? i->bn_images : i->train_images;
    uint64_t hd = j->point ? j->point->data : hash_data(hash_data(PLANE_HASH_INIT, tr, ntr), te, te->n);
    const plane_grid *g = &j->grid;
    snprintf(out, len,
             "%smode=%s params=%zu basis=%016llx grid=%d alpha=%.17g:%.17g beta=%.17g:%.17g bn_images=%d train_images=%d "
             "test_images=%d decay=%.9g%s data=%016llx batch=%d",
             j->point && j->point->detector ? "metrics=detector " : "", mode_name[j->plane->mode], n, (unsigned long long)hb, g->g, g->a0, g->a1, g->b0, g->b1, i->bn_images,
             i->train_images, i->test_images, i->decay, i->decay_all ? ":all" : "", (unsigned long long)hd, host_batch(h));
}

/* Rank 0 reads the partial file; every rank learns which points are done. */
static int resume_grid(plane_state *s, const char *path, char *err) {
    int count = 0, bad = dist_is_root() ? plane_state_resume(s, path, &count, err) : 0;
    dist_bcast(&bad, sizeof bad, 0);
    if (bad && !dist_is_root()) snprintf(err, PLANE_ERRLEN, "%s: refused on rank 0", path);
    if (bad) return -1;
    dist_bcast(s->done, (size_t)s->g * s->g, 0);
    return 0;
}

typedef struct { const plane_job *j; plane_state *s; } run_ctx;
static int on_row(void *ctx, int k, const plane_row *r, char *err) {
    run_ctx *c = ctx;
    if (c->j->row && c->j->row(c->j->ctx, k, r, err)) return -1;
    return plane_state_done(c->s, k, r, err);
}

static void summarise(plane_run_info *i, const plane_state *s) {
    for (int q = 0; q < 5; q++) {
        double lo = NAN, hi = NAN;
        for (int k = 0; k < s->g * s->g; k++) {
            double v = (&s->rows[k].tr_loss)[q];
            if (!s->done[k] || isnan(v)) continue;
            if (isnan(lo) || v < lo) lo = v;
            if (isnan(hi) || v > hi) hi = v;
        }
        i->range[q].min = lo;
        i->range[q].max = hi;
    }
}

int plane_run(const plane_job *j, host_net *h, const dataset *tr, const dataset *te, plane_run_info *i, char *err) {
    const plane_setup *p = j->plane;
    int G = j->grid.g;
    memset(i, 0, sizeof *i);
    i->points = G * G;
    if (j->point) {   /* the evaluator's own images */
        i->bn_images = j->point->bn_images;
        i->train_images = j->no_train ? 0 : j->point->train_images;
        i->test_images = j->point->test_images;
    } else {
        i->bn_images = j->bn_limit > 0 && j->bn_limit < tr->n ? j->bn_limit : tr->n;
        i->train_images = j->no_train ? 0 : j->train_limit > 0 && j->train_limit < tr->n ? j->train_limit : tr->n;
        i->test_images = te->n;
    }
    i->decay = j->decay >= 0 ? j->decay : p->has_decay ? p->decay : host_cfg_decay(h);
    i->decay_all = p->decay_all;
    char partial[4200], settings[1024];
    snprintf(partial, sizeof partial, "%s.partial", j->csv ? j->csv : "");
    settings_line(settings, sizeof settings, j, i, h, tr, te);
    plane_state s;
    if (plane_state_init(&s, G, j->csv ? partial : NULL, settings, err)) return -1;
    s.detector = j->point && j->point->detector;
    if (j->resume && resume_grid(&s, j->resume, err)) goto fail;
    for (int k = 0; k < G * G; k++) i->from_file += s.done[k];
    if (j->start) j->start(j->ctx, i);
    for (int k = 0; k < G * G && j->row && dist_is_root(); k++)
        if (s.done[k] && j->row(j->ctx, k, &s.rows[k], err)) goto fail;

    run_ctx c = { j, &s };
    plane_eval_opts o = { j->bn_limit, j->no_train ? -1 : j->train_limit, (float)i->decay, i->decay_all, j->progress,
                          s.done, j->stop_after, on_row, &c, j->point };
    double t0 = dkmc_now();
    i->evaluated = plane_evaluate(&p->b, &j->grid, h, tr, te, &o, s.rows, err);
    if (i->evaluated < 0) goto fail;
    i->secs = dkmc_now() - t0;
    i->complete = i->from_file + i->evaluated == G * G;
    summarise(i, &s);
    if (i->complete && j->csv && dist_is_root()) {   /* rank 0 has the rows and writes the files */
        if (plane_write_csv(j->csv, &s, &p->b, p->marks, p->nm, p->ct, p->cx, p->cy, p->ncurve, err)) goto fail;
        unlink(partial);
    }
    i->rows = s.rows;
    s.rows = NULL;
    plane_state_free(&s);
    return 0;
fail:
    plane_state_free(&s);
    i->rows = NULL;
    return -1;
}
