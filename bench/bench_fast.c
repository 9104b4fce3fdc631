/* bench_fast: images/s of Darknet with its stock kernels and with plugins/fast, measured in
 * interleaved rounds in one process (the machine is shared: trust the ratios).
 *   bench_fast CFG [--batch N] [--iters N] [--rounds N] [--threads LIST] [--what train,eval,bn]
 * Modes: stock (fast off = libdarknet's own kernels), fast with each thread count in LIST
 * (default "1,2"). What is timed:
 *   train: train_network_datum (forward + backward + Darknet's update_network), train=1
 *   eval:  forward_network with train=0 (what network_predict does)
 *   bn:    the BN-recompute pass: forward with train=1 and truth=NULL, pooling every BN
 *          layer's batch mean and E[x^2] after each batch (what host_bn_recompute does)
 * Input: uniform [0,1) images and random one-hot labels (fixed seed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <math.h>
#include <darknet.h>
#include "fast.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static network *load_quiet(const char *cfg)
{
    /* parse_network_cfg prints the layer table on stderr */
    fflush(stderr);
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    network *net = parse_network_cfg((char *)cfg);
    fflush(stderr);
    if (saved >= 0) { dup2(saved, 2); close(saved); }
    if (devnull >= 0) close(devnull);
    return net;
}

static double *pool_m, *pool_q;

static void run_once(network *net, const char *what, float *x, float *y)
{
    int nin = net->inputs * net->batch;
    memcpy(net->input, x, sizeof(float) * nin);
    if (!strcmp(what, "train")) {
        memcpy(net->truth, y, sizeof(float) * net->truths * net->batch);
        train_network_datum(net);
    } else if (!strcmp(what, "eval")) {
        float *t = net->truth;
        net->truth = NULL;
        net->train = 0;
        forward_network(net);
        net->truth = t;
    } else {   /* bn */
        float *t = net->truth;
        net->truth = NULL;
        net->train = 1;
        forward_network(net);
        net->truth = t;
        int off = 0;
        for (int i = 0; i < net->n; i++) {
            layer *l = &net->layers[i];
            if (!l->batch_normalize || !l->mean) continue;
            int c = l->type == CONNECTED ? l->outputs : l->out_c;
            double N = (double)l->batch * (l->type == CONNECTED ? 1 : l->out_w * l->out_h);
            for (int k = 0; k < c; k++) {
                double m = l->mean[k], v = l->variance[k] * (N - 1) / N;
                pool_m[off + k] += m;
                pool_q[off + k] += v + m * m;
            }
            off += c;
        }
    }
}

int main(int argc, char **argv)
{
    fast_exec_passive_wait(argv);   /* OMP_WAIT_POLICY=PASSIVE unless set (see fast.h) */
    const char *cfg = NULL, *threads = "1,2", *whats = "train,eval,bn";
    int batch = 128, iters = 10, rounds = 5, skip_stock = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = argv[++i];
        else if (!strcmp(argv[i], "--what") && i + 1 < argc) whats = argv[++i];
        else if (!strcmp(argv[i], "--no-stock")) skip_stock = 1;   /* for profiling */
        else if (argv[i][0] != '-' && !cfg) cfg = argv[i];
        else { fprintf(stderr, "usage: %s CFG [--batch N] [--iters N] [--rounds N] [--threads 1,2] [--what train,eval,bn]\n", argv[0]); return 2; }
    }
    if (!cfg) cfg = "cfg/fashion-cnn.cfg";
    if (access(cfg, R_OK)) { fprintf(stderr, "bench_fast: cannot read %s\n", cfg); return 1; }
    network *net = load_quiet(cfg);
    if (!net) return 1;
    set_batch_network(net, batch);
    fast_init();

    int nin = net->inputs * batch, nout = net->truths * batch;
    float *x = malloc(sizeof(float) * nin), *y = calloc(nout, sizeof(float));
    srand(12345);
    for (int i = 0; i < nin; i++) x[i] = rand() / (RAND_MAX + 1.0f);
    for (int b = 0; b < batch; b++) y[b * net->truths + rand() % net->truths] = 1;
    pool_m = calloc(1 << 16, sizeof(double));
    pool_q = calloc(1 << 16, sizeof(double));

    int tl[16], ntl = 0;
    for (const char *p = threads; *p && ntl < 16;) {
        tl[ntl++] = atoi(p);
        const char *c = strchr(p, ',');
        if (!c) break;
        p = c + 1;
    }
    int nmodes = 1 + ntl;
    printf("bench_fast: %s, batch %d, %d rounds x %d iterations per mode, interleaved; %s; "
           "OMP_WAIT_POLICY=%s\n", cfg, batch, rounds, iters, fast_status(),
           getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "(unset)");

    char wbuf[64];
    snprintf(wbuf, sizeof wbuf, "%s", whats);
    for (char *what = strtok(wbuf, ","); what; what = strtok(NULL, ",")) {
        double *ips = malloc(sizeof(double) * nmodes * rounds);
        for (int r = -1; r < rounds; r++) {   /* round -1: warm-up, not counted */
            for (int m = 0; m < nmodes; m++) {
                if (m == 0 && skip_stock) { if (r >= 0) ips[r] = 1; continue; }
                fast_set_enabled(m > 0);
                if (m > 0) fast_set_threads(tl[m - 1]);
                int it = r < 0 ? 1 : iters;
                double t0 = now();
                for (int i = 0; i < it; i++) run_once(net, what, x, y);
                double dt = now() - t0;
                if (r >= 0) ips[m * rounds + r] = (double)it * batch / dt;
            }
        }
        double med[17];
        for (int m = 0; m < nmodes; m++) {
            qsort(ips + m * rounds, rounds, sizeof(double), cmp_d);
            med[m] = ips[m * rounds + rounds / 2];
        }
        for (int m = 0; m < nmodes; m++) {
            char name[32];
            if (m == 0) snprintf(name, sizeof name, "stock");
            else snprintf(name, sizeof name, "fast %dT", tl[m - 1]);
            printf("%-6s %-8s median %8.1f img/s  (min %7.1f, max %7.1f)  ratio to stock %5.2fx\n",
                   what, name, med[m], ips[m * rounds], ips[m * rounds + rounds - 1], med[m] / med[0]);
        }
        if (!strcmp(what, "train"))
            printf("train  loss after the runs: %g (finite: %s)\n", *net->cost, isfinite(*net->cost) ? "yes" : "NO");
        free(ips);
    }
    fast_set_enabled(1);
    free(x); free(y);
    return 0;
}
