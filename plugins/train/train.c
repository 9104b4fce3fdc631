/* train.c: the training loop and the plain SGD step (see train.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dist.h"
#include "run.h"
#include "train.h"
#include "wspace.h"
#include "clock.h"


/* a hook's reason for a divergence, put in the loop's words */
static void diverged_at(char *err, int epoch, int it) {
    char why[DKMC_ERRLEN];
    snprintf(why, sizeof why, "%s", err);
    snprintf(err, DKMC_ERRLEN, "training diverged at epoch %d, iteration %d: %s", epoch, it, why);
}

int train_run(train_loop *L, char *err) {
    const dataset *d = L->data;
    int B = L->batch, k = L->src ? L->src->ydim : d->classes, in = L->src ? L->src->in : d->w * d->h * d->c;
    int iters = d->n / B;
    if (iters < 1) { snprintf(err, DKMC_ERRLEN, "%d training images are fewer than one batch of %d", d->n, B); return -1; }
    float *x = malloc((size_t)B * in * sizeof(float)), *y = malloc((size_t)B * k * sizeof(float));
    int *order = malloc((size_t)d->n * sizeof(int));
    if (!x || !y || !order) {
        free(x); free(y); free(order);
        snprintf(err, DKMC_ERRLEN, "out of memory for a batch of %d images", B);
        return -1;
    }
    int rc = 0, done_here = 0;
    char label[64];
    while (*L->epoch < L->epochs && !rc) {
        int e = *L->epoch + 1;
        double t0 = dkmc_now();
        srand((unsigned)(L->seed * 7919u + (uint64_t)e));
        data_identity(order, d->n);
        data_shuffle(order, d->n, L->rng);
        double obj_sum = 0, nll_sum = 0;
        long correct = 0;
        float lr = 0;
        snprintf(label, sizeof label, "%s %d", L->label ? L->label : "epoch", e);
        for (int it = 0; it < iters; it++) {
            uint64_t gi = *L->iteration;
            lr = (float)sched_rate(L->sched, gi);
            if (L->before_batch) L->before_batch(L->ctx);
            if (!L->src) data_batch(d, order, it * B, B, x, y, 1, L->rng);
            else if (L->src->fill(L->src->ctx, L->seed, gi, x, y, err)) { rc = -1; break; }
            train_step_out o = { 0, 0, 0, "" };
            int so = L->shard_n > 0 ? L->shard_off : 0;
            if (L->step(L->ctx, x + (size_t)so * in, y + (size_t)so * k, lr, &o) || !isfinite(o.obj)) {
                snprintf(err, TRAIN_ERRLEN, "training diverged at epoch %d, iteration %d: loss %f (lr %g%s%s)",
                         e, it, o.obj, lr, o.note[0] ? ", " : "", o.note);
                rc = -1;
                break;
            }
            (*L->iteration)++;
            obj_sum += o.obj; nll_sum += o.nll; correct += o.hits;
            if (L->progress) run_progress(label, it + 1, iters);
            int hr = L->after_iter ? L->after_iter(L->ctx, gi, lr, err) : 0;
            if (hr) { if (hr == TRAIN_DIVERGED) diverged_at(err, e, it); rc = -1; break; }
        }
        if (L->progress) run_progress_done(label);
        if (rc) break;
        (*L->epoch)++;
        done_here++;
        int last = *L->epoch == L->epochs || (L->stop_after && done_here >= L->stop_after);
        train_epoch_info info = { e, lr, obj_sum / iters, nll_sum / iters, 100.0 * correct / ((double)iters * B), dkmc_now() - t0 };
        int hr = L->epoch_end ? L->epoch_end(L->ctx, &info, last, err) : 0;
        if (hr) { if (hr == TRAIN_DIVERGED) diverged_at(err, e, iters - 1); rc = -1; break; }
        if (L->stop_after && done_here >= L->stop_after) break;
    }
    free(x); free(y); free(order);
    return rc;
}

int train_sgd_init(train_sgd *s, host_net *h, float momentum, float decay) {
    memset(s, 0, sizeof *s);
    s->h = h; s->n = host_nparams(h); s->momentum = momentum; s->decay = decay;
    s->global_batch = host_batch(h);
    s->w = malloc(s->n * sizeof(float));
    s->g = malloc(s->n * sizeof(float));
    s->v = calloc(s->n, sizeof(float));
    s->mask = malloc(s->n);
    if (dist_size() > 1) s->stats = malloc((host_nstats(h) + 1) * sizeof(float));
    if (!s->w || !s->g || !s->v || !s->mask || (dist_size() > 1 && !s->stats)) { train_sgd_free(s); return -1; }
    host_get_params(h, s->w);
    host_decay_mask(h, s->mask);
    if (dist_size() == 1) {   /* under mpirun the step works on host vectors: the gradient is summed over ranks there */
        char why[HOST_ERRLEN];
        s->dev = host_dev_sgd_new(h, s->n, s->mask, why);
        if (!s->dev && why[0]) { train_sgd_free(s); return -1; }
    }
    return 0;
}

void train_sgd_free(train_sgd *s) {
    free(s->w); free(s->g); free(s->v); free(s->mask); free(s->stats);
    s->w = s->g = s->v = s->stats = NULL; s->mask = NULL;
    host_dev_sgd_free(s->dev);
    s->dev = NULL;
}

const float *train_sgd_weights(train_sgd *s) {
    if (s->dev) host_dev_sgd_pull(s->dev, s->w);
    return s->w;
}

/* The step on the network's GPU (host_dev_sgd_step), its outcome in the loop's terms. */
static int sgd_step_dev(train_sgd *s, const float *x, const float *y, float lr, train_step_out *out) {
    float loss;
    char why[HOST_ERRLEN];
    int r = host_dev_sgd_step(s->dev, x, y, lr, s->momentum, s->decay, &loss, &out->hits, why);
    out->obj = out->nll = loss;
    if (r == HOST_STEP_DEVICE || r == HOST_STEP_STATE) {
        snprintf(out->note, sizeof out->note, "%s", r == HOST_STEP_DEVICE ? why : "the weights became non-finite");
        out->obj = NAN;
    }
    return r ? -1 : 0;
}

int train_sgd_step(void *ctx, const float *x, const float *y, float lr, train_step_out *out) {
    train_sgd *s = ctx;
    if (s->dev) return sgd_step_dev(s, x, y, lr, out);
    int hits = 0;
    float loss = host_step(s->h, x, y, &hits);
    host_get_grad(s->h, s->g);
    if (dist_size() > 1) {   /* shard means -> the global batch's mean, on every rank */
        float share = (float)host_batch(s->h) / (float)s->global_batch;
        double red[2] = { share * (double)loss, hits };
        dist_sum_d(red, 2);
        loss = (float)red[0]; hits = (int)red[1];
        ws_scale(s->n, share, s->g);
        dist_sum_f(s->g, s->n);
        size_t ns = host_nstats(s->h);
        host_get_stats(s->h, s->stats);
        ws_scale(ns, share, s->stats);
        dist_sum_f(s->stats, ns);
        host_set_stats(s->h, s->stats);
    }
    out->obj = out->nll = loss;
    out->hits = hits;
    if (!isfinite(loss)) return -1;
    ws_sgd_step(s->n, s->w, s->g, s->v, lr, s->momentum, s->decay, s->mask);
    if (!ws_all_finite(s->n, s->w)) {   /* the loss may still be finite when weights are not */
        snprintf(out->note, sizeof out->note, "the weights became non-finite");
        out->obj = NAN;
        return -1;
    }
    host_set_params(s->h, s->w);
    host_set_seen(s->h, host_seen(s->h) + (uint64_t)s->global_batch);
    return 0;
}

int train_plan(const train_plan_req *q, host_net *h, long iters, int B, int *epochs_out, sched *s, char *err) {
    memset(s, 0, sizeof *s);
    int start = (int)(host_seen(h) / (uint64_t)B);      /* iterations already done */
    int epochs = q->epochs;
    if (epochs <= 0 && q->kind != SCHED_FGE) {   /* up to the cfg's max_batches, as Darknet trains */
        int left = host_cfg_max_batches(h) - start;
        epochs = left > 0 ? (int)((left + iters - 1) / iters) : 1;
    } else {             /* N more epochs: max_batches is where this run ends */
        if (epochs <= 0) epochs = 20;
        host_set_max_batches(h, start + epochs * (int)iters);
    }
    double cfg_lr = host_cfg_learning_rate(h);
    if (q->kind == SCHED_CFG) {
        if (sched_from_cfg(s, h, q->cfg, iters, epochs, err)) return -1;
        if (s->kind == SCHED_CFG) { s->offset = (uint64_t)start; if (q->lr > 0) s->scale = q->lr / cfg_lr; }
        else if (q->lr > 0) s->lr = q->lr;
    } else if (q->kind == SCHED_REFERENCE) {
        s->kind = SCHED_REFERENCE; s->lr = q->lr > 0 ? q->lr : cfg_lr; s->iters = iters; s->epochs = epochs;
    } else {             /* FGE from the command line */
        s->kind = SCHED_FGE; s->lr = q->lr > 0 ? q->lr : cfg_lr; s->lr2 = q->lr2;
        s->cycle = (long)(q->cycle_epochs * iters);
        if (q->cycle_epochs <= 0 || q->cycle_epochs * iters != (double)s->cycle || s->cycle % 2) {
            snprintf(err, DKMC_ERRLEN, "-cycle %g: the cycle must be a positive number of epochs that is an even number of "
                     "iterations (%ld per epoch)", q->cycle_epochs, iters);
            return -1;
        }
    }
    *epochs_out = epochs;
    return 0;
}

long train_young_window(const host_net *h, const sched *s, long iters, int epochs, int no_test, int save_every,
                        int eval_every, int have_test, long stop) {
    long young = run_bn_batches_to_grow(h), total = (long)epochs * iters;
    if (stop <= 0 || stop > total) stop = total;
    int snapshots = s->kind == SCHED_FGE || s->kind == SCHED_SGDR;
    for (long it = 0; it < young && it < total; it++)
        if (((it + 1) % iters == 0 && (!no_test || (save_every > 0 && (it + 1) / iters % save_every == 0)))
            || it + 1 == stop || (snapshots && sched_snapshot_after(s, (uint64_t)it))
            || (eval_every > 0 && have_test && (it + 1) % eval_every == 0))
            return young;
    return 0;
}
