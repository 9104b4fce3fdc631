/* train.c: the training loop and the plain SGD step (see train.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "run.h"
#include "train.h"
#include "wspace.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int train_run(train_loop *L, char *err) {
    const dataset *d = L->data;
    int B = L->batch, k = d->classes, in = d->w * d->h * d->c;
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
        double t0 = now();
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
            data_batch(d, order, it * B, B, x, y, 1, L->rng);
            train_step_out o = { 0, 0, 0, "" };
            if (L->step(L->ctx, x, y, lr, &o) || !isfinite(o.obj)) {
                snprintf(err, DKMC_ERRLEN, "training diverged at epoch %d, iteration %d: loss %f (lr %g%s%s)",
                         e, it, o.obj, lr, o.note[0] ? ", " : "", o.note);
                rc = -1;
                break;
            }
            (*L->iteration)++;
            obj_sum += o.obj; nll_sum += o.nll; correct += o.hits;
            if (L->progress) run_progress(label, it + 1, iters);
            if (L->after_iter && L->after_iter(L->ctx, gi, lr, err)) { rc = -1; break; }
        }
        if (L->progress) run_progress_done(label);
        if (rc) break;
        (*L->epoch)++;
        done_here++;
        int last = *L->epoch == L->epochs || (L->stop_after && done_here >= L->stop_after);
        train_epoch_info info = { e, lr, obj_sum / iters, nll_sum / iters, 100.0 * correct / ((double)iters * B), now() - t0 };
        if (L->epoch_end && L->epoch_end(L->ctx, &info, last, err)) { rc = -1; break; }
        if (L->stop_after && done_here >= L->stop_after) break;
    }
    free(x); free(y); free(order);
    return rc;
}

int train_sgd_init(train_sgd *s, host_net *h, float momentum, float decay) {
    memset(s, 0, sizeof *s);
    s->h = h; s->n = host_nparams(h); s->momentum = momentum; s->decay = decay;
    s->w = malloc(s->n * sizeof(float));
    s->g = malloc(s->n * sizeof(float));
    s->v = calloc(s->n, sizeof(float));
    s->mask = malloc(s->n);
    if (!s->w || !s->g || !s->v || !s->mask) { train_sgd_free(s); return -1; }
    host_get_params(h, s->w);
    host_decay_mask(h, s->mask);
    return 0;
}

void train_sgd_free(train_sgd *s) {
    free(s->w); free(s->g); free(s->v); free(s->mask);
    s->w = s->g = s->v = NULL; s->mask = NULL;
}

int train_sgd_step(void *ctx, const float *x, const float *y, float lr, train_step_out *out) {
    train_sgd *s = ctx;
    int hits = 0;
    float loss = host_step(s->h, x, y, &hits);
    out->obj = out->nll = loss;
    out->hits = hits;
    if (!isfinite(loss)) return -1;
    host_get_grad(s->h, s->g);
    ws_sgd_step(s->n, s->w, s->g, s->v, lr, s->momentum, s->decay, s->mask);
    if (!ws_all_finite(s->n, s->w)) {   /* the loss may still be finite when weights are not */
        snprintf(out->note, sizeof out->note, "the weights became non-finite");
        out->obj = NAN;
        return -1;
    }
    host_set_params(s->h, s->w);
    host_set_seen(s->h, host_seen(s->h) + (uint64_t)host_batch(s->h));
    return 0;
}
