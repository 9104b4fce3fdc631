/* bench_bn_age: how wrong are Darknet's BN running statistics early in a run, and what does
 * an exact pass cost? Darknet updates rolling_mean/rolling_variance as 0.99 old + 0.01 batch,
 * so after k batches 0.99^k of the initial value (mean 0, variance 0) remains. This program
 * trains a network from scratch with the plugin's one training loop (the cfg's policy, SGD
 * with momentum, as "darknet train") and at chosen iterations evaluates the test set twice:
 * with the running statistics, and with exact statistics recomputed on the training set (or
 * its first --bn_limit images), timing the exact pass; the running statistics are put back,
 * so training goes on as Darknet's. A third evaluation divides the running statistics by
 * 1 - 0.99^k (the bias correction of an average that started at zero, as Adam's): free, but
 * it still averages over the networks of the last hundred batches. At each epoch end it
 * prints the epoch's time.
 *   bench_bn_age DATA CFG [--epochs N] [--limit N] [--test_limit N] [--bn_limit N]
 *                [--at I,J,...] [--seed S]
 * --at: iterations (1-based counts of batches) where to measure; epoch ends are always
 * measured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "data.h"
#include "host.h"
#include "run.h"
#include "schedule.h"
#include "train.h"
#include "clock.h"


typedef struct {
    train_sgd sgd;
    host_net *h;
    const dataset *tr, *te;
    int bn_limit, iters;
    long at[64];
    int nat;
    float *saved, *debiased;
    size_t nstats;
    double bn_secs, bn_images;   /* totals over all exact passes */
    int bn_passes;
} bench_ctx;

static void measure(bench_ctx *c, uint64_t done, int epoch_end) {
    double t0 = dkmc_now();
    eval_result run = run_eval(c->h, c->te, NULL, NULL);
    double t_eval = dkmc_now() - t0;
    host_get_stats(c->h, c->saved);
    double corr = 1 - pow(0.99, (double)done);
    for (size_t i = 0; i < c->nstats; i++) c->debiased[i] = (float)(c->saved[i] / corr);
    host_set_stats(c->h, c->debiased);
    eval_result db = run_eval(c->h, c->te, NULL, NULL);
    t0 = dkmc_now();
    run_bn_update(c->h, c->tr, c->bn_limit, NULL);
    double t_bn = dkmc_now() - t0;
    eval_result ex = run_eval(c->h, c->te, NULL, NULL);
    host_set_stats(c->h, c->saved);
    int used = c->bn_limit > 0 && c->bn_limit < c->tr->n ? c->bn_limit : c->tr->n;
    c->bn_secs += t_bn; c->bn_images += used; c->bn_passes++;
    printf("%7llu %7.2f %8.4f %9.4f %8.2f %9.4f %8.2f %9.4f %8.2f %7.2f %8.2f%s\n", (unsigned long long)done,
           (double)done / c->iters, pow(0.99, (double)done), run.nll, run.acc, db.nll, db.acc, ex.nll, ex.acc, t_bn,
           t_eval, epoch_end ? "  (epoch end)" : "");
    fflush(stdout);
}

static int step(void *vc, const float *x, const float *y, float lr, train_step_out *out) {
    return train_sgd_step(&((bench_ctx *)vc)->sgd, x, y, lr, out);
}

static int after_iter(void *vc, uint64_t it, float lr, char *err) {
    (void)lr; (void)err;
    bench_ctx *c = vc;
    uint64_t done = it + 1;
    if (done % (uint64_t)c->iters == 0) return 0;   /* measured at the epoch's end */
    for (int i = 0; i < c->nat; i++) if ((uint64_t)c->at[i] == done) measure(c, done, 0);
    return 0;
}

static int epoch_end(void *vc, const train_epoch_info *e, int last, char *err) {
    (void)last; (void)err;
    bench_ctx *c = vc;
    printf("# epoch %d: %.2f s for %d iterations (train loss %.4f, train acc %.2f in train mode)\n", e->epoch, e->seconds,
           c->iters, e->loss, e->acc);
    measure(c, (uint64_t)e->epoch * c->iters, 1);
    return 0;
}

int main(int argc, char **argv) {
    const char *datafile = NULL, *cfg = NULL;
    int epochs = 4, limit = 0, test_limit = 0, bn_limit = 0, seed = 1;
    bench_ctx c;
    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--test_limit") && i + 1 < argc) test_limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bn_limit") && i + 1 < argc) bn_limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--at") && i + 1 < argc) {
            for (char *s = argv[++i]; *s && c.nat < 64;) {
                c.at[c.nat++] = strtol(s, &s, 10);
                if (*s == ',') s++; else break;
            }
        } else if (!datafile) datafile = argv[i];
        else if (!cfg) cfg = argv[i];
        else { fprintf(stderr, "bench_bn_age: unknown argument %s\n", argv[i]); return 2; }
    }
    if (!datafile || !cfg) {
        fprintf(stderr, "usage: bench_bn_age DATA CFG [--epochs N] [--limit N] [--test_limit N] [--bn_limit N] [--at I,J,...] [--seed S]\n");
        return 2;
    }
    char err[DKMC_ERRLEN];
    data_cfg dc;
    dataset tr = { 0 }, te = { 0 };
    if (data_cfg_load(datafile, &dc, err) || data_load(&dc, 0, limit, &tr, err) || data_load(&dc, 1, test_limit, &te, err)) {
        fprintf(stderr, "bench_bn_age: %s\n", err);
        return 1;
    }
    srand((unsigned)seed);
    host_net *h = host_load(cfg, 0, err);
    if (!h) { fprintf(stderr, "bench_bn_age: %s\n", err); return 1; }
    int B = host_batch(h);
    c.iters = tr.n / B;
    if (c.iters < 1) { fprintf(stderr, "bench_bn_age: fewer images than a batch\n"); return 1; }
    host_set_max_batches(h, epochs * c.iters);
    sched s;
    if (sched_from_cfg(&s, h, cfg, c.iters, epochs, err)) { fprintf(stderr, "bench_bn_age: %s\n", err); return 1; }
    if (train_sgd_init(&c.sgd, h, host_cfg_momentum(h), host_cfg_decay(h))) { fprintf(stderr, "bench_bn_age: out of memory\n"); return 1; }
    c.h = h; c.tr = &tr; c.te = &te; c.bn_limit = bn_limit;
    c.nstats = host_nstats(h);
    c.saved = malloc((c.nstats + 1) * sizeof(float));
    c.debiased = malloc((c.nstats + 1) * sizeof(float));
    printf("# %s on %s: %d train images (batch %d, %d iterations/epoch), %d test images, exact BN on %d images\n", cfg,
           datafile, tr.n, B, c.iters, te.n, bn_limit > 0 && bn_limit < tr.n ? bn_limit : tr.n);
    printf("%7s %7s %8s %9s %8s %9s %8s %9s %8s %7s %8s\n", "iter", "epoch", "0.99^k", "run_nll", "run_acc", "deb_nll",
           "deb_acc", "exact_nll", "exact_acc", "bn_s", "eval_s");
    int epoch = 0;
    uint64_t iteration = 0;
    rng_t rng;
    rng_seed(&rng, (uint64_t)seed);
    train_loop L = { &tr, B, epochs, &epoch, &iteration, &rng, (uint64_t)seed, &s, 0, "epoch", 0,
                     &c, NULL, step, after_iter, epoch_end, 0, 0, NULL };
    if (train_run(&L, err)) { fprintf(stderr, "bench_bn_age: %s\n", err); return 1; }
    printf("# exact BN pass: %.3f s per 1000 images (mean of %d passes)\n", 1000 * c.bn_secs / c.bn_images, c.bn_passes);
    train_sgd_free(&c.sgd);
    free(c.saved); free(c.debiased);
    host_free(h);
    data_free(&tr); data_free(&te);
    return 0;
}
