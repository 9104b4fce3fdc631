/* run.c: evaluation and BN recompute over a data set, built on host.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "run.h"
#include "wspace.h"
#include "clock.h"


/* On a terminal: one line rewritten in place twice a second. Into a file or pipe: a plain
 * line every 15 seconds, so logs stay readable. */
void run_progress(const char *label, long i, long n) {
    static double last;
    static int tty = -1;
    if (!label) return;
    if (tty < 0) tty = isatty(2);
    double t = dkmc_now();
    if (tty) {
        if (i < n && t - last < 0.5) return;
        last = t;
        fprintf(stderr, "\r%s %ld/%ld", label, i, n);
    } else {
        if (last == 0) last = t;
        if (t - last < 15) return;
        last = t;
        fprintf(stderr, "%s %ld/%ld\n", label, i, n);
    }
    fflush(stderr);
}
void run_progress_done(const char *label) {
    if (!label || !isatty(2)) return;
    fprintf(stderr, "\r%*s\r", (int)strlen(label) + 24, "");
    fflush(stderr);
}

eval_result run_eval(host_net *h, const dataset *d, float *probs, const char *progress) {
    int B = host_batch(h), k = host_outputs(h), in = host_inputs(h);
    float *x = ws_xmalloc((size_t)B * in * sizeof(float), "an evaluation batch");
    float *p = ws_xmalloc((size_t)B * k * sizeof(float), "an evaluation batch");
    float *y = ws_xmalloc((size_t)B * k * sizeof(float), "an evaluation batch");
    int *order = ws_xmalloc((size_t)d->n * sizeof(int), "the image order");
    data_identity(order, d->n);
    double nll = 0; long correct = 0;
    for (int s = 0; s < d->n; s += B) {
        int n = d->n - s < B ? d->n - s : B;
        data_batch(d, order, s, n, x, y, 0, NULL);
        host_predict(h, x, n, p);
        for (int i = 0; i < n; i++) {
            int hit;
            nll += host_nll_hit(p + (size_t)i * k, k, d->labels[s + i], 1, &hit);
            correct += hit;
        }
        if (probs) memcpy(probs + (size_t)s * k, p, (size_t)n * k * sizeof(float));
        run_progress(progress, s + n, d->n);
    }
    run_progress_done(progress);
    eval_result r = { d->n ? nll / d->n : 0, d->n ? 100.0 * correct / d->n : 0, d->n };
    free(x); free(p); free(y); free(order);
    return r;
}

typedef struct { const dataset *d; int limit, B; const char *progress; } bn_ctx;

static int bn_batch(void *vctx, int b, float *x, int max) {
    bn_ctx *c = vctx;
    int s = b * c->B;
    if (s >= c->limit) return 0;
    int n = c->limit - s < max ? c->limit - s : max;
    /* images are contiguous: no need for an order array */
    memcpy(x, c->d->X + (size_t)s * c->d->w * c->d->h * c->d->c, (size_t)n * c->d->w * c->d->h * c->d->c * sizeof(float));
    run_progress(c->progress, s + n, c->limit);
    return n;
}

void run_bn_update(host_net *h, const dataset *d, int limit, const char *progress) {
    if (!host_has_bn(h)) return;
    bn_ctx c = { d, (limit > 0 && limit < d->n) ? limit : d->n, host_batch(h), progress };
    int nb = (c.limit + c.B - 1) / c.B;
    host_bn_recompute(h, bn_batch, &c, nb);
    run_progress_done(progress);
}

int run_bn_young(const host_net *h) { return host_has_bn(h) && host_bn_initial_share(h) > RUN_BN_YOUNG; }

long run_bn_batches_to_grow(const host_net *h) {
    if (!run_bn_young(h)) return 0;
    /* the least k with share * keep^k <= RUN_BN_YOUNG */
    long k = (long)ceil(log(RUN_BN_YOUNG / host_bn_initial_share(h)) / log(host_bn_keep(h)) - 1e-9);
    return k > 0 ? k : 1;
}

int run_bn_young_warning(const host_net *h, const char *path, char *buf, size_t n) {
    buf[0] = 0;
    if (!run_bn_young(h)) return 0;
    uint64_t seen = host_seen(h);
    int B = host_cfg_batch(h);
    if (!seen)
        snprintf(buf, n, "%s: its BN statistics are Darknet's initial zeros (the network was never trained): numbers "
                 "computed with them are not to be trusted", path);
    else
        snprintf(buf, n, "%s: its network has seen %llu images (%llu batches of %d): if its BN statistics are Darknet's "
                 "running averages, %.0f %% of them is still their initial zero and numbers computed with them are not to "
                 "be trusted", path, (unsigned long long)seen, (unsigned long long)(seen / (uint64_t)(B > 0 ? B : 1)), B,
                 100 * host_bn_initial_share(h));
    return 1;
}

int run_bn_swap_init(run_bn_swap *s, host_net *h, const dataset *train, int bn_limit) {
    memset(s, 0, sizeof *s);
    s->h = h; s->train = train; s->bn_limit = bn_limit;
    size_t ns = host_nstats(h) + 1;
    s->running = malloc(ns * sizeof(float));
    s->exact = malloc(ns * sizeof(float));
    if (!s->running || !s->exact) { run_bn_swap_free(s); return -1; }
    return 0;
}

void run_bn_swap_free(run_bn_swap *s) {
    free(s->running); free(s->exact);
    s->running = s->exact = NULL;
}

int run_bn_swap_images(const run_bn_swap *s) {
    int n = s->train ? s->train->n : 0;
    return s->bn_limit > 0 && s->bn_limit < n ? s->bn_limit : n;
}

int run_bn_swap_in(run_bn_swap *s, int force, const char *progress) {
    host_net *h = s->h;
    int young = run_bn_young(h);
    if (!host_has_bn(h) || (!force && !young) || !s->train || !s->train->n || s->in) return 0;
    host_get_stats(h, s->running);
    s->running_share = host_bn_initial_share(h);
    if (s->have_exact && s->exact_seen == host_seen(h)) {
        host_set_stats(h, s->exact);
        host_set_bn_initial_share(h, 0);
    } else {
        run_bn_update(h, s->train, s->bn_limit, progress);
        host_get_stats(h, s->exact);
        s->exact_seen = host_seen(h);
        s->have_exact = 1;
    }
    if (!ws_all_finite(host_nstats(h), s->exact)) {
        host_set_stats(h, s->running);
        host_set_bn_initial_share(h, s->running_share);
        return -1;
    }
    if (young && !force) s->young_swaps++;
    s->in = 1;
    return 1;
}

void run_bn_swap_out(run_bn_swap *s) {
    if (!s->in) return;
    host_set_stats(s->h, s->running);
    host_set_bn_initial_share(s->h, s->running_share);
    s->in = 0;
}

eval_result run_eval_swap(run_bn_swap *s, const dataset *d, float *probs, const char *progress, int *exact) {
    int in = run_bn_swap_in(s, 0, progress ? "bn" : NULL);
    eval_result r = { NAN, NAN, d->n };
    if (in >= 0) r = run_eval(s->h, d, probs, progress);
    run_bn_swap_out(s);
    if (exact) *exact = in != 0;
    return r;
}

int run_save_swap(run_bn_swap *s, const char *path, int *exact, char *err) {
    int in = run_bn_swap_in(s, 0, "bn");
    if (exact) *exact = in != 0;
    if (in < 0) {
        snprintf(err, DKMC_ERRLEN, "the BN statistics recomputed on %d training images for %s are not finite",
                 run_bn_swap_images(s), path);
        return -2;
    }
    int rc = host_save_weights(s->h, path, err);
    run_bn_swap_out(s);
    return rc;
}
