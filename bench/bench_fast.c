/* bench_fast: images/s of Darknet with its stock kernels and with plugins/fast, measured in
 * interleaved rounds in one process (the machine is shared: trust the ratios).
 *   bench_fast CFG [--batch N] [--iters N] [--rounds N] [--min-secs S] [--threads LIST] [--what train,eval,bn]
 *   (--min-secs: each counted measurement repeats its iterations until it has run S seconds)
 *              [--dnnl LIST] [--layers] [--no-stock]
 * Modes: stock (fast off = libdarknet's own kernels), fast with each thread count in LIST
 * (default "1,2"), and with --dnnl 0,1,2 each of those oneDNN modes (0 off, 1 every conv,
 * 2 the rule; the mode is then named "fast 1T dnnl=0"; without --dnnl, DKDNNL's). Also
 * printed: the peak resident memory (VmHWM) at the end. --layers times each convolutional
 * layer on its own instead (forward train, forward eval, backward; ms per call), per mode.
 * What is timed:
 *   train: train_network_datum (forward + backward + Darknet's update_network), train=1
 *   eval:  forward_network with train=0, the layers' deltas NULL (what host_predict does:
 *          Darknet then skips zeroing every delta)
 *   bn:    the BN-recompute pass: forward with train=1, truth=NULL and the deltas NULL
 *          (host_bn_recompute), pooling every BN
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
#include "clock.h"


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

/* The forward pass as the host's evaluation and BN passes run it (host_predict,
 * host_bn_recompute): every layer's delta NULL, so forward_network does not zero them. */
static void forward_no_deltas(network *net)
{
    float *saved[1024];
    int n = net->n < 1024 ? net->n : 1024;
    for (int i = 0; i < n; i++) { saved[i] = net->layers[i].delta; net->layers[i].delta = NULL; }
    forward_network(net);
    for (int i = 0; i < n; i++) net->layers[i].delta = saved[i];
}

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
        forward_no_deltas(net);
        net->truth = t;
    } else {   /* bn */
        float *t = net->truth;
        net->truth = NULL;
        net->train = 1;
        forward_no_deltas(net);
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

/* mode m: 0 stock, then thread count x oneDNN mode */
static void set_mode(int m, const int *tl, const int *dl, int ndl)
{
    fast_set_enabled(m > 0);
    if (m == 0) return;
    int nd = ndl ? ndl : 1;
    fast_set_threads(tl[(m - 1) / nd]);
    if (ndl) fast_set_dnnl(dl[(m - 1) % nd]);
}

static void mode_name(char *name, size_t n, int m, const int *tl, const int *dl, int ndl)
{
    int nd = ndl ? ndl : 1;
    if (m == 0) snprintf(name, n, "stock");
    else if (!ndl) snprintf(name, n, "fast %dT", tl[(m - 1) / nd]);
    else snprintf(name, n, "fast %dT dnnl=%d", tl[(m - 1) / nd], dl[(m - 1) % nd]);
}

static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    if (f) fclose(f);
    return kb / 1024;
}

/* Each convolutional layer on its own: forward (train), forward (eval), backward, in ms per
 * call, median over rounds, modes interleaved. The layer's input is the previous layer's
 * output after one whole forward pass; its delta is restored before each backward. */
static void time_layers(network *net, float *x, float *y, int nmodes, const int *tl, const int *dl,
                        int ndl, int iters, int rounds, int skip_stock)
{
    memcpy(net->input, x, sizeof(float) * net->inputs * net->batch);
    memcpy(net->truth, y, sizeof(float) * net->truths * net->batch);
    net->train = 1;
    fast_set_enabled(1);
    forward_network(net);
    backward_network(net);
    float *in0 = malloc(sizeof(float) * net->inputs * net->batch);
    memcpy(in0, x, sizeof(float) * net->inputs * net->batch);
    printf("%-5s %-26s %-18s %9s %9s %9s\n", "layer", "shape", "mode", "fwd ms", "eval ms", "bwd ms");
    for (int i = 0; i < net->n; i++) {
        layer l = net->layers[i];
        if (l.type != CONVOLUTIONAL) continue;
        network n = *net;
        n.index = i;   /* as forward_network runs it (the layout chain keys on it) */
        n.input = i ? net->layers[i - 1].output : in0;
        n.delta = i ? net->layers[i - 1].delta : NULL;
        size_t nd = (size_t)l.outputs * l.batch;
        float *d0 = malloc(sizeof(float) * nd);
        memcpy(d0, l.delta, sizeof(float) * nd);
        double *t = calloc((size_t)nmodes * 3 * rounds, sizeof(double));
        for (int r = -1; r < rounds; r++)
            for (int m = 0; m < nmodes; m++) {
                if (m == 0 && skip_stock) continue;
                set_mode(m, tl, dl, ndl);
                int it = r < 0 ? 1 : iters;
                for (int ph = 0; ph < 3; ph++) {
                    double tt = 0;
                    for (int k = 0; k < it; k++) {
                        n.train = ph != 1;
                        if (ph == 2) {
                            n.train = 1;
                            l.forward(l, n);
                            memcpy(l.delta, d0, sizeof(float) * nd);
                        }
                        double t0 = dkmc_now();
                        if (ph < 2) l.forward(l, n);
                        else l.backward(l, n);
                        tt += dkmc_now() - t0;
                    }
                    if (r >= 0) t[((size_t)m * 3 + ph) * rounds + r] = 1e3 * tt / it;
                }
            }
        for (int m = 0; m < nmodes; m++) {
            if (m == 0 && skip_stock) continue;
            char name[32], shape[64];
            mode_name(name, sizeof name, m, tl, dl, ndl);
            snprintf(shape, sizeof shape, "%dx%dx%d->%dx%dx%d k%d/%d", l.c, l.h, l.w, l.n, l.out_h, l.out_w, l.size, l.stride);
            double med[3];
            for (int ph = 0; ph < 3; ph++) {
                double *v = t + ((size_t)m * 3 + ph) * rounds;
                qsort(v, rounds, sizeof(double), cmp_d);
                med[ph] = v[rounds / 2];
            }
            printf("%-5d %-26s %-18s %9.2f %9.2f %9.2f\n", i, shape, name, med[0], med[1], med[2]);
        }
        free(t); free(d0);
    }
    free(in0);
    fast_set_enabled(1);
}

int main(int argc, char **argv)
{
    fast_exec_passive_wait(argv);   /* OMP_WAIT_POLICY=PASSIVE unless set (see fast.h) */
    const char *cfg = NULL, *threads = "1,2", *whats = "train,eval,bn";
    int batch = 128, iters = 10, rounds = 5, skip_stock = 0, per_layer = 0;
    double min_secs = 0;
    const char *dnnls = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-secs") && i + 1 < argc) min_secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = argv[++i];
        else if (!strcmp(argv[i], "--what") && i + 1 < argc) whats = argv[++i];
        else if (!strcmp(argv[i], "--no-stock")) skip_stock = 1;   /* for profiling */
        else if (!strcmp(argv[i], "--dnnl") && i + 1 < argc) dnnls = argv[++i];
        else if (!strcmp(argv[i], "--layers")) per_layer = 1;
        else if (argv[i][0] != '-' && !cfg) cfg = argv[i];
        else { fprintf(stderr, "usage: %s CFG [--batch N] [--iters N] [--rounds N] [--min-secs S] [--threads 1,2] [--what train,eval,bn]\n", argv[0]); return 2; }
    }
    if (!cfg) cfg = "cfg/fashion-cnn.cfg";
    if (access(cfg, R_OK)) { fprintf(stderr, "bench_fast: cannot read %s\n", cfg); return 1; }
    network *net = load_quiet(cfg);
    if (!net) return 1;
    if (batch < 1 || batch > net->batch) {   /* Darknet sized every buffer for the cfg's batch */
        fprintf(stderr, "bench_fast: %s: --batch %d must be between 1 and the cfg's batch=%d\n", cfg, batch, net->batch);
        return 1;
    }
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
    int dl[8], ndl = 0;
    for (const char *p = dnnls; p && *p && ndl < 8;) {
        dl[ndl++] = atoi(p);
        const char *c = strchr(p, ',');
        if (!c) break;
        p = c + 1;
    }
    int nd = ndl ? ndl : 1;
    int nmodes = 1 + ntl * nd;
    if (nmodes > 17) { fprintf(stderr, "bench_fast: too many modes\n"); return 2; }
    printf("bench_fast: %s, batch %d, %d rounds x %d iterations per mode, interleaved; %s; "
           "OMP_WAIT_POLICY=%s\n", cfg, batch, rounds, iters, fast_status(),
           getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "(unset)");

    if (per_layer) {
        time_layers(net, x, y, nmodes, tl, dl, ndl, iters, rounds, skip_stock);
        whats = "";
    }
    char wbuf[64];
    snprintf(wbuf, sizeof wbuf, "%s", whats);
    for (char *what = strtok(wbuf, ","); what; what = strtok(NULL, ",")) {
        double *ips = malloc(sizeof(double) * nmodes * rounds);
        for (int r = -1; r < rounds; r++) {   /* round -1: warm-up, not counted */
            for (int m = 0; m < nmodes; m++) {
                if (m == 0 && skip_stock) { if (r >= 0) ips[r] = 1; continue; }
                set_mode(m, tl, dl, ndl);
                int it = r < 0 ? 1 : iters, done = 0;
                double t0 = dkmc_now();
                for (; done < it || (r >= 0 && dkmc_now() - t0 < min_secs); done++) run_once(net, what, x, y);
                double dt = dkmc_now() - t0;
                if (r >= 0) ips[m * rounds + r] = (double)done * batch / dt;
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
            else mode_name(name, sizeof name, m, tl, dl, ndl);
            if (m == 0 && skip_stock) continue;
            printf("%-6s %-8s median %8.1f img/s  (min %7.1f, max %7.1f)", what, name, med[m],
                   ips[m * rounds], ips[m * rounds + rounds - 1]);
            if (skip_stock) printf("\n");
            else printf("  ratio to stock %5.2fx\n", med[m] / med[0]);
        }
        if (!strcmp(what, "train"))
            printf("train  loss after the runs: %g (finite: %s)\n", *net->cost, isfinite(*net->cost) ? "yes" : "NO");
        free(ips);
    }
    fast_set_enabled(1);
    printf("peak resident memory %.1f MiB\n", peak_rss_mib());
    free(x); free(y);
    return 0;
}
