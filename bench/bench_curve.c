/* bench_curve: cost of a curve training step over a plain training step on the same
 * network (the target: <= 1.05x). Both use the plugin's primitives: the plain step is
 * host_step + host_get_grad + ws_sgd_step + host_set_params (what "darknet train" does); the
 * curve step is what "darknet curve train" does per batch: w(t) from 3 bends, the same
 * forward/backward, the l2 term and the momentum update of the free middle bend. Rounds are
 * interleaved so that machine load hits both alike; the ratio of medians is printed.
 *   bench_curve [CFG] [--iters N] [--rounds N] [--bends K] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "curve.h"
#include "curve_train.h"
#include "host.h"
#include "wspace.h"
#include "clock.h"

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    const char *cfg = "cfg/fashion-cnn.cfg";
    int iters = 10, rounds = 5, k = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bends") && i + 1 < argc) k = atoi(argv[++i]);
        else cfg = argv[i];
    }
    char err[HOST_ERRLEN];
    host_net *h = host_load(cfg, 0, err);
    if (!h) { fprintf(stderr, "bench_curve: %s\n", err); return 1; }
    int B = host_batch(h), in = host_inputs(h), nc = host_outputs(h);
    size_t n = host_nparams(h);
    float *x = malloc((size_t)B * in * 4), *y = calloc((size_t)B * nc, 4);
    for (int i = 0; i < B * in; i++) x[i] = (float)rand() / RAND_MAX;
    for (int i = 0; i < B; i++) y[i * nc + rand() % nc] = 1;
    /* plain step state */
    float *w = malloc(n * 4), *g = malloc(n * 4), *v = calloc(n, 4);
    unsigned char *mask = malloc(n);
    host_get_params(h, w);
    host_decay_mask(h, mask);
    /* curve state: end points = the initial weights +- noise, middle on the segment */
    curve cv;
    curve_init(&cv, CURVE_BEZIER, k, n, 0);
    for (size_t i = 0; i < n; i++) { cv.bends[0][i] = w[i]; cv.bends[k - 1][i] = w[i] * 0.9f; }
    curve_init_linear(&cv);
    cv.flags = CURVE_FIX_START | CURVE_FIX_END;
    for (int j = 1; j < k - 1; j++) cv.momentum[j] = calloc(n, 4);
    float *cw = malloc(n * 4), *cg = malloc(n * 4);
    double *tp = malloc(rounds * sizeof(double)), *tc = malloc(rounds * sizeof(double));
    rng_t r;
    rng_seed(&r, 1);
    for (int round = -1; round < rounds; round++) {   /* round -1 warms up */
        double t0 = dkmc_now();
        for (int it = 0; it < iters; it++) {
            host_step(h, x, y, NULL);
            host_get_grad(h, g);
            ws_sgd_step(n, w, g, v, 0.01f, 0.9f, 5e-4f, mask);
            host_set_params(h, w);
        }
        double t1 = dkmc_now();
        for (int it = 0; it < iters; it++) {
            double t = rng_uniform(&r);
            float c[64];
            curve_coeffs(cv.type, k, t, c);
            curve_batch_grad(&cv, h, t, x, y, mask, cw, cg, NULL, NULL);
            for (int j = 1; j < k - 1; j++) {
                float *m = cv.momentum[j], *th = cv.bends[j];
                for (size_t i = 0; i < n; i++) { m[i] = 0.9f * m[i] + c[j] * cg[i]; th[i] -= 0.01f * m[i]; }
            }
        }
        double t2 = dkmc_now();
        if (round >= 0) { tp[round] = t1 - t0; tc[round] = t2 - t1; }
    }
    qsort(tp, rounds, sizeof(double), cmp);
    qsort(tc, rounds, sizeof(double), cmp);
    double mp = tp[rounds / 2], mc = tc[rounds / 2];
    printf("curve step (%s, batch %d, %d bends, %zu params): plain %.0f img/s, curve %.0f img/s, curve/plain time ratio %.3f (target <= 1.05)\n",
           cfg, B, k, n, iters * B / mp, iters * B / mc, mc / mp);
    curve_free(&cv);
    host_free(h);
    free(x); free(y); free(w); free(g); free(v); free(mask); free(cw); free(cg); free(tp); free(tc);
    return 0;
}
