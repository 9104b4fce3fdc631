/* bench_gpu: training throughput on GPU 0 (GPU=1 build), one question: what does a curve
 * step cost against plain training on the same GPU? Three modes, interleaved rounds on the
 * same fixed synthetic batch (uniform [0,1) images, random labels), median img/s each:
 *   darknet  Darknet's own GPU training step (train_network_datum: forward, backward,
 *            update_network_gpu) on a network parsed by Darknet itself: the baseline
 *   sgd      our plain SGD step (darknet train / fge): host_step + our device SGD kernel
 *   curve    our curve step (darknet curve train): w(t) from 3 bends on the device, the same
 *            forward/backward, the fused bend/momentum update
 *   bench_gpu CFG [--iters N] [--rounds N]
 * Prints one line per mode with img/s and the ratio to the darknet baseline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "curve.h"
#include "curve_train.h"
#include "darknet.h"
#include "host.h"
#include "train.h"
#include "clock.h"

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static void sync_device(void) { cudaDeviceSynchronize(); }

int main(int argc, char **argv) {
    const char *cfg = NULL;
    int iters = 10, rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else cfg = argv[i];
    }
    if (!cfg || iters < 1 || rounds < 1) { fprintf(stderr, "usage: bench_gpu CFG [--iters N] [--rounds N]\n"); return 2; }
    char err[HOST_ERRLEN];
    if (host_select_gpu(0, err)) { fprintf(stderr, "bench_gpu: %s\n", err); return 1; }
    host_net *h = host_load(cfg, 0, err);
    if (!h) { fprintf(stderr, "bench_gpu: %s\n", err); return 1; }
    if (host_gpu(h) < 0) { fprintf(stderr, "bench_gpu: %s did not load on a GPU\n", cfg); return 1; }
    int B = host_batch(h), in = host_inputs(h), k = host_outputs(h);
    size_t n = host_nparams(h);
    float *x = malloc((size_t)B * in * 4), *y = calloc((size_t)B * k, 4);
    srand(1);
    for (size_t i = 0; i < (size_t)B * in; i++) x[i] = (float)rand() / RAND_MAX;
    for (int i = 0; i < B; i++) y[(size_t)i * k + rand() % k] = 1;

    /* the baseline: Darknet's own network and training step */
    network *dn = parse_network_cfg((char *)cfg);
    if (dn->batch != B) { fprintf(stderr, "bench_gpu: Darknet's batch %d, ours %d\n", dn->batch, B); return 1; }
    memcpy(dn->input, x, (size_t)B * in * 4);
    memcpy(dn->truth, y, (size_t)B * k * 4);
    dn->learning_rate = 0.01f; dn->policy = CONSTANT; dn->burn_in = 0;

    train_sgd sgd;
    if (train_sgd_init(&sgd, h, 0.9f, 5e-4f)) { fprintf(stderr, "bench_gpu: out of memory\n"); return 1; }
    curve cv;
    curve_init(&cv, CURVE_BEZIER, 3, n, 0);
    host_get_params(h, cv.bends[0]);
    for (size_t i = 0; i < n; i++) cv.bends[2][i] = cv.bends[0][i] * 0.9f;
    curve_init_linear(&cv);
    cv.flags = CURVE_FIX_START | CURVE_FIX_END;
    curve_stepper *cs = curve_stepper_new(&cv, h, err);
    if (!cs) { fprintf(stderr, "bench_gpu: %s\n", err); return 1; }

    double *td = malloc(rounds * sizeof(double)), *ts = malloc(rounds * sizeof(double)), *tc = malloc(rounds * sizeof(double));
    rng_t r;
    rng_seed(&r, 1);
    for (int round = -1; round < rounds; round++) {   /* round -1 warms up */
        int it_n = round < 0 ? 2 : iters;
        sync_device();
        double t0 = dkmc_now();
        for (int it = 0; it < it_n; it++) train_network_datum(dn);
        sync_device();
        double t1 = dkmc_now();
        for (int it = 0; it < it_n; it++) {
            train_step_out o = { 0, 0, 0, "" };
            if (train_sgd_step(&sgd, x, y, 0.01f, &o)) { fprintf(stderr, "bench_gpu: sgd step: %s\n", o.note); return 1; }
        }
        sync_device();
        double t2 = dkmc_now();
        for (int it = 0; it < it_n; it++) {
            train_step_out o = { 0, 0, 0, "" };
            if (curve_stepper_step(cs, rng_uniform(&r), x, y, 0.01f, &o)) { fprintf(stderr, "bench_gpu: curve step: %s\n", o.note); return 1; }
        }
        sync_device();
        double t3 = dkmc_now();
        if (round >= 0) { td[round] = t1 - t0; ts[round] = t2 - t1; tc[round] = t3 - t2; }
    }
    qsort(td, rounds, sizeof(double), cmp); qsort(ts, rounds, sizeof(double), cmp); qsort(tc, rounds, sizeof(double), cmp);
    double md = td[rounds / 2], ms = ts[rounds / 2], mc = tc[rounds / 2];
    printf("bench_gpu %s: batch %d, %zu parameters, %d rounds x %d iterations, interleaved, median\n", cfg, B, n, rounds, iters);
    printf("darknet  %10.1f img/s  1.000\n", iters * B / md);
    printf("sgd      %10.1f img/s  %.3f\n", iters * B / ms, md / ms);
    printf("curve    %10.1f img/s  %.3f\n", iters * B / mc, md / mc);
    curve_stepper_free(cs);
    curve_free(&cv);
    train_sgd_free(&sgd);
    free_network(dn);
    host_free(h);
    free(x); free(y); free(td); free(ts); free(tc);
    return 0;
}
