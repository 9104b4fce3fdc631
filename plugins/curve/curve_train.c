/* curve_train.c: curve training and evaluation on top of host/ and wspace/. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "curve_train.h"
#include "run.h"
#include "train.h"
#include "wspace.h"

void curve_decay_mask(const curve *cv, const host_net *h, unsigned char *mask) {
    if (cv->flags & CURVE_DECAY_ALL) memset(mask, 1, cv->n);
    else host_decay_mask(h, mask);
}

/* The curve's side of the training loop: t before the batch, the bends' step, the rows and
 * checkpoints at the end of an epoch. */
typedef struct {
    curve *cv;
    host_net *h;
    const curve_train_opts *o;
    float *w, *g;
    unsigned char *mask;
    double t;
} curve_ctx;

static void curve_draw_t(void *vc) {
    curve_ctx *c = vc;
    c->t = rng_uniform(&c->cv->rng);
}

static int curve_step(void *vc, const float *x, const float *y, float lr, train_step_out *out) {
    curve_ctx *c = vc;
    curve *cv = c->cv;
    float coef[CURVE_MAX_BENDS], nll;
    curve_coeffs(cv->type, cv->k, c->t, coef);
    out->obj = curve_batch_grad(cv, c->h, c->t, x, y, c->mask, c->w, c->g, &nll, &out->hits);
    out->nll = nll;
    snprintf(out->note, sizeof out->note, "t = %.3f", c->t);
    if (!isfinite(out->obj)) return -1;
    const float mom = cv->mom;
    const float *g = c->g;
    for (int j = 0; j < cv->k; j++) {
        if (!curve_is_free(cv, j)) continue;
        float *v = cv->momentum[j], *th = cv->bends[j], cj = coef[j];
        for (size_t i = 0; i < cv->n; i++) {
            v[i] = mom * v[i] + cj * g[i];
            th[i] -= lr * v[i];
        }
        if (!ws_all_finite(cv->n, th)) {   /* the loss may still be finite when a bend is not */
            snprintf(out->note, sizeof out->note, "t = %.3f, bend %d became non-finite", c->t, j);
            out->obj = NAN;
            return -1;
        }
    }
    return 0;
}

static int curve_epoch_end(void *vc, const train_epoch_info *e, int last, char *err) {
    curve_ctx *c = vc;
    const curve_train_opts *o = c->o;
    curve *cv = c->cv;
    cv->epoch = (uint32_t)e->epoch;
    if (o->table) {
        fprintf(o->table, "%5d %10.6f %10.4f %10.4f %9.2f %8.1f\n", e->epoch, e->lr, e->loss, e->nll, e->acc, e->seconds);
        fflush(o->table);
    }
    if (o->out && (last || (o->save_every > 0 && cv->epoch % o->save_every == 0))) {
        if (curve_save(cv, o->out, err)) return -1;
        if (o->progress) fprintf(stderr, "saved %s (epoch %u)\n", o->out, cv->epoch);
    }
    return 0;
}

int curve_train(curve *cv, host_net *h, const dataset *tr, const curve_train_opts *o, char *err) {
    size_t n = cv->n;
    int B = host_batch(h);
    int iters = tr->n / B;
    if (iters < 1) { snprintf(err, DKMC_ERRLEN, "%d training images are fewer than one batch of %d", tr->n, B); return -1; }
    curve_ctx c = { cv, h, o, malloc(n * sizeof(float)), malloc(n * sizeof(float)), malloc(n), 0 };
    int rc = -1;
    if (!c.w || !c.g || !c.mask) { snprintf(err, DKMC_ERRLEN, "out of memory for %zu parameters", n); goto out; }
    curve_decay_mask(cv, h, c.mask);
    for (int j = 0; j < cv->k; j++)
        if (curve_is_free(cv, j) && !cv->momentum[j]) {
            cv->momentum[j] = calloc(n, sizeof(float));
            if (!cv->momentum[j]) { snprintf(err, DKMC_ERRLEN, "out of memory for a momentum buffer of %zu floats", n); goto out; }
        }
    cv->flags |= CURVE_HAS_STATE;
    if (cv->epoch == 0 && cv->iteration == 0) rng_seed(&cv->rng, cv->seed);
    sched s = { 0 };
    s.lr = cv->lr; s.iters = iters; s.epochs = (int)cv->epochs;
    if (cv->schedule == 1) {   /* the cfg's policy, scaled to the curve's lr, over the whole run */
        host_set_max_batches(h, (int)cv->epochs * iters);
        s.kind = SCHED_CFG; s.h = h; s.scale = cv->lr / host_cfg_learning_rate(h);
    } else s.kind = SCHED_REFERENCE;
    if (o->table) {
        fprintf(o->table, "%5s %10s %10s %10s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_nll", "tr_acc", "time");
        fflush(o->table);
    }
    int epoch = (int)cv->epoch;
    train_loop L = { tr, B, (int)cv->epochs, &epoch, &cv->iteration, &cv->rng, cv->seed, &s, o->progress,
                     "curve epoch", o->stop_after, &c, curve_draw_t, curve_step, NULL, curve_epoch_end };
    rc = train_run(&L, err);
out:
    free(c.w); free(c.g); free(c.mask);
    return rc;
}

double curve_batch_grad(const curve *cv, host_net *h, double t, const float *x, const float *y,
                        const unsigned char *mask, float *w, float *g, float *nll, int *hits) {
    size_t n = cv->n;
    const float decay = cv->decay;
    curve_point(cv, t, w);
    host_set_params(h, w);
    float l = host_step(h, x, y, hits);
    host_get_grad(h, g);
    double l2 = 0;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) { l2 += (double)w[i] * w[i]; g[i] += decay * w[i]; }
    if (nll) *nll = l;
    return l + 0.5 * decay * l2;
}

int curve_evaluate(const curve *cv, host_net *h, const dataset *tr, const dataset *te,
                   const curve_eval_opts *o, curve_eval_row *rows) {
    size_t n = cv->n;
    float *w = ws_xmalloc(n * sizeof(float), "a point of the curve"), *prev = ws_xmalloc(n * sizeof(float), "a point of the curve");
    unsigned char *mask = ws_xmalloc(n, "the decay mask");
    curve_decay_mask(cv, h, mask);
    if (o->decay_all) memset(mask, 1, n);
    dataset trl = *tr;
    if (o->train_limit > 0 && o->train_limit < trl.n) trl.n = o->train_limit;
    if (o->train_limit < 0) trl.n = 0;
    char label[64];
    for (int i = 0; i < o->points; i++) {
        double t = o->points > 1 ? (double)i / (o->points - 1) : 0;
        curve_point(cv, t, w);
        curve_eval_row *r = &rows[i];
        r->t = t;
        r->dl = i ? ws_dist(n, w, prev) : 0;
        memcpy(prev, w, n * sizeof(float));
        host_set_params(h, w);
        snprintf(label, sizeof label, "t=%.3f bn", t);
        run_bn_update(h, tr, o->bn_limit, o->progress ? label : NULL);
        double l2 = 0;
        for (size_t j = 0; j < n; j++) if (mask[j]) l2 += (double)w[j] * w[j];
        if (trl.n > 0) {
            snprintf(label, sizeof label, "t=%.3f train", t);
            eval_result a = run_eval(h, &trl, NULL, o->progress ? label : NULL);
            r->tr_nll = a.nll; r->tr_err = 100 - a.acc;
            r->tr_loss = a.nll + 0.5 * o->decay * l2;
        } else r->tr_nll = r->tr_err = r->tr_loss = NAN;
        snprintf(label, sizeof label, "t=%.3f test", t);
        eval_result b = run_eval(h, te, NULL, o->progress ? label : NULL);
        r->te_nll = b.nll; r->te_err = 100 - b.acc;
        if (o->row) o->row(o->ctx, r);
    }
    free(w); free(prev); free(mask);
    return 0;
}

curve_stat curve_stats(const curve_eval_row *rows, int n, size_t off) {
#define V(i) (*(const double *)((const char *)&rows[i] + off))
    curve_stat s = { V(0), V(n - 1), V(0), V(0), 0, 0 };
    double len = 0, acc = 0;
    for (int i = 0; i < n; i++) {
        double v = V(i);
        if (v < s.min) s.min = v;
        if (v > s.max) s.max = v;
        s.avg += v / n;
        if (i) { acc += 0.5 * (V(i - 1) + v) * rows[i].dl; len += rows[i].dl; }
    }
    s.integral = len > 0 ? acc / len : s.avg;
    return s;
#undef V
}
