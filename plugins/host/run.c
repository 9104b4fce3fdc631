/* run.c: evaluation and BN recompute over a data set, built on host.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "run.h"
#include "wspace.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

/* On a terminal: one line rewritten in place twice a second. Into a file or pipe: a plain
 * line every 15 seconds, so logs stay readable. */
void run_progress(const char *label, long i, long n) {
    static double last;
    static int tty = -1;
    if (!label) return;
    if (tty < 0) tty = isatty(2);
    double t = now();
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
            const float *pi = p + (size_t)i * k;
            int lab = d->labels[s + i], best = 0;
            for (int c = 1; c < k; c++) if (pi[c] > pi[best]) best = c;
            correct += best == lab;
            /* NaN probabilities (a diverged network) make the NLL NaN, not the clamp value */
            nll -= isnan(pi[lab]) ? NAN : log(pi[lab] > 1e-30f ? pi[lab] : 1e-30);
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
