/* test_gpu.c: the GPU path against the CPU path of the same library, in one process (GPU=1
 * build, run by scripts/gpu_check.sh on a machine with an NVIDIA GPU). Each network is loaded
 * twice, once with gpu_index -1 (Darknet's CPU code) and once on GPU 0, with the same weights,
 * and given the same batches; the results must agree within the stated tolerances (float32
 * on both sides, different summation orders: cuBLAS against Darknet's gemm). Plus the curve
 * gradient on the GPU against central finite differences. Synthetic data, no files needed.
 * Prints one line per check and "gpu tests: N passed, N failed"; exit status 1 on a failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "curve.h"
#include "curve_train.h"
#include "data.h"
#include "gpu_kernels.h"
#include "host.h"
#include "run.h"
#include "train.h"
#include "wspace.h"

static int passed, failed;

/* The batch loss and curve objective of a network with BN, GPU vs CPU. Darknet's own GPU
 * kernels normalise as its CPU code does (unbiased batch variance, epsilon 1e-6), so float
 * rounding is all that differs: 1e-4. With CUDNN its training forward is cuDNN's, which
 * normalises by the biased variance with epsilon 1e-5: a deliberate difference of about
 * 1/(2M) in every normalised activation (M = batch x spatial, 1568 in the small CNN's last
 * conv layer: 3e-4), so the cuDNN build is held to 1e-3. */
#ifdef CUDNN
#define LOSS_TOL 1e-3
#else
#define LOSS_TOL 1e-4
#endif
static void check(int ok, const char *what, double value, double tol) {
    printf("%-4s %-58s %.3e (tolerance %.0e)\n", ok ? "ok" : "FAIL", what, value, tol);
    if (ok) passed++; else failed++;
}

/* a smooth network for the finite differences (tanh, logistic: no kinks) */
static const char *SMOOTH =
    "[net]\nbatch=32\nwidth=12\nheight=12\nchannels=1\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=logistic\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";

static char *write_cfg(const char *text) {
    char *p = strdup("/tmp/test_gpu_XXXXXX.cfg");
    int fd = mkstemps(p, 4);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) { perror(p); exit(1); }
    close(fd);
    return p;
}

static host_net *load(const char *cfg, int gpu, int batch) {
    char err[HOST_ERRLEN];
    if (host_select_gpu(gpu, err)) { fprintf(stderr, "%s\n", err); exit(1); }
    host_net *h = host_load(cfg, batch, err);
    if (!h) { fprintf(stderr, "test_gpu: %s\n", err); exit(1); }
    if (host_gpu(h) != gpu) { fprintf(stderr, "test_gpu: %s loaded on device %d, asked for %d\n", cfg, host_gpu(h), gpu); exit(1); }
    return h;
}

static unsigned long long g_seed = 12345;
static float frand(void) { g_seed = g_seed * 6364136223846793005ULL + 1442695040888963407ULL; return (float)((g_seed >> 40) / 16777216.0); }

static dataset synthetic(int n, int w, int h, int c, int classes) {
    dataset d = { 0 };
    d.n = n; d.w = w; d.h = h; d.c = c; d.classes = classes;
    d.X = malloc((size_t)n * w * h * c * sizeof(float));
    d.labels = malloc((size_t)n * sizeof(int));
    for (size_t i = 0; i < (size_t)n * w * h * c; i++) d.X[i] = frand();
    for (int i = 0; i < n; i++) d.labels[i] = (int)(frand() * classes) % classes;
    return d;
}

/* ||a - b|| / ||b|| */
static double rel(size_t n, const float *a, const float *b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) { double d = (double)a[i] - b[i]; num += d * d; den += (double)b[i] * b[i]; }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}
/* ||(a1 - a0) - (b1 - b0)|| / ||b1 - b0||: how far two updates of the same start differ */
static double rel_change(size_t n, const float *a1, const float *b1, const float *start) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double da = (double)a1[i] - start[i], db = (double)b1[i] - start[i];
        num += (da - db) * (da - db); den += db * db;
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* the same weights and BN statistics in both */
static void copy_net(host_net *from, host_net *to) {
    size_t n = host_nparams(from), ns = host_nstats(from);
    float *p = malloc(n * 4), *s = malloc((ns ? ns : 1) * 4);
    host_get_params(from, p); host_set_params(to, p);
    if (ns) { host_get_stats(from, s); host_set_stats(to, s); }
    free(p); free(s);
}

static void test_step_and_grad(host_net *hc, host_net *hg, const dataset *d, const char *name) {
    int B = host_batch(hc), k = d->classes;
    size_t n = host_nparams(hc);
    float *x = malloc((size_t)B * host_inputs(hc) * 4), *y = malloc((size_t)B * k * 4);
    data_batch(d, NULL, 0, B, x, y, 0, NULL);
    float *gc = malloc(n * 4), *gg = malloc(n * 4);
    float lc = host_step(hc, x, y, NULL), lg = host_step(hg, x, y, NULL);
    host_get_grad(hc, gc); host_get_grad(hg, gg);
    char what[128];
    snprintf(what, sizeof what, "%s: batch loss, GPU vs CPU (relative)", name);
    double r = fabs(lg - lc) / fabs(lc);
    check(r < LOSS_TOL, what, r, LOSS_TOL);
    snprintf(what, sizeof what, "%s: gradient, GPU vs CPU (relative L2)", name);
    r = rel(n, gg, gc);
    check(r < 1e-2, what, r, 1e-2);
    free(x); free(y); free(gc); free(gg);
}

/* three curve steps at fixed t values, on each device, from the same bends */
static void test_curve_steps(host_net *hc, host_net *hg, const dataset *d, const char *name) {
    size_t n = host_nparams(hc);
    int B = host_batch(hc), k = d->classes;
    curve cc, cg;
    float *w0 = malloc(n * 4);
    host_get_params(hc, w0);
    for (int pass = 0; pass < 2; pass++) {
        curve *cv = pass ? &cg : &cc;
        curve_init(cv, CURVE_BEZIER, 3, n, 0);
        g_seed = 777;
        for (size_t i = 0; i < n; i++) {
            cv->bends[0][i] = w0[i];
            cv->bends[2][i] = w0[i] + 0.05f * (frand() - 0.5f);
            cv->bends[1][i] = 0.5f * (cv->bends[0][i] + cv->bends[2][i]) + 0.02f * (frand() - 0.5f);
        }
        cv->flags = CURVE_FIX_START | CURVE_FIX_END;
        cv->lr = 0.05f; cv->mom = 0.9f; cv->decay = 5e-4f;
    }
    float *mid0 = malloc(n * 4);
    memcpy(mid0, cc.bends[1], n * 4);
    char err[CURVE_ERRLEN];
    curve_stepper *sc = curve_stepper_new(&cc, hc, err), *sg = curve_stepper_new(&cg, hg, err);
    if (!sc || !sg) { fprintf(stderr, "test_gpu: %s\n", err); exit(1); }
    float *x = malloc((size_t)B * host_inputs(hc) * 4), *y = malloc((size_t)B * k * 4);
    const double ts[3] = { 0.3, 0.55, 0.8 };
    double obj_c = 0, obj_g = 0;
    for (int s = 0; s < 3; s++) {
        data_batch(d, NULL, s * B, B, x, y, 0, NULL);
        train_step_out oc = { 0, 0, 0, "" }, og = { 0, 0, 0, "" };
        int rc = curve_stepper_step(sc, ts[s], x, y, 0.05f, &oc);
        int rg = curve_stepper_step(sg, ts[s], x, y, 0.05f, &og);
        if (rc || rg) { fprintf(stderr, "test_gpu: curve step failed (%s / %s)\n", oc.note, og.note); exit(1); }
        obj_c += oc.obj; obj_g += og.obj;
    }
    if (curve_stepper_sync(sg, err)) { fprintf(stderr, "test_gpu: %s\n", err); exit(1); }
    char what[128];
    snprintf(what, sizeof what, "%s: curve objective over 3 steps, GPU vs CPU", name);
    double r = fabs(obj_g - obj_c) / fabs(obj_c);
    check(r < LOSS_TOL, what, r, LOSS_TOL);
    snprintf(what, sizeof what, "%s: middle bend's change after 3 steps, GPU vs CPU", name);
    r = rel_change(n, cg.bends[1], cc.bends[1], mid0);
    check(r < 1e-2, what, r, 1e-2);
    snprintf(what, sizeof what, "%s: momentum buffer after 3 steps, GPU vs CPU", name);
    r = rel(n, cg.momentum[1], cc.momentum[1]);
    check(r < 1e-2, what, r, 1e-2);
    snprintf(what, sizeof what, "%s: fixed end points unchanged on the GPU", name);
    r = rel(n, cg.bends[0], cc.bends[0]) + rel(n, cg.bends[2], cc.bends[2]);
    check(r == 0, what, r, 0);
    curve_stepper_free(sc); curve_stepper_free(sg);
    curve_free(&cc); curve_free(&cg);
    free(x); free(y); free(w0); free(mid0);
}

/* plain SGD (darknet train / fge) on each device */
static void test_sgd(host_net *hc, host_net *hg, const dataset *d, const char *name) {
    size_t n = host_nparams(hc);
    int B = host_batch(hc), k = d->classes;
    train_sgd sc, sg;
    float *w0 = malloc(n * 4);
    host_get_params(hc, w0);
    if (train_sgd_init(&sc, hc, 0.9f, 5e-4f) || train_sgd_init(&sg, hg, 0.9f, 5e-4f)) { fprintf(stderr, "test_gpu: sgd init\n"); exit(1); }
    float *x = malloc((size_t)B * host_inputs(hc) * 4), *y = malloc((size_t)B * k * 4);
    for (int s = 0; s < 3; s++) {
        data_batch(d, NULL, s * B, B, x, y, 0, NULL);
        train_step_out oc = { 0, 0, 0, "" }, og = { 0, 0, 0, "" };
        if (train_sgd_step(&sc, x, y, 0.05f, &oc) || train_sgd_step(&sg, x, y, 0.05f, &og)) {
            fprintf(stderr, "test_gpu: sgd step failed\n"); exit(1);
        }
    }
    float *wg = malloc(n * 4);
    host_get_params(hg, wg);   /* what the network on the GPU holds now */
    char what[128];
    snprintf(what, sizeof what, "%s: SGD weights' change after 3 steps, GPU vs CPU", name);
    double r = rel_change(n, wg, sc.w, w0);
    check(r < 1e-2, what, r, 1e-2);
    snprintf(what, sizeof what, "%s: train_sgd_weights = the network's device weights", name);
    r = rel(n, train_sgd_weights(&sg), wg);
    check(r == 0, what, r, 0);
    train_sgd_free(&sc); train_sgd_free(&sg);
    free(x); free(y); free(w0); free(wg);
}

/* BN recompute and a plane point (weights set, BN recomputed, test set evaluated) */
static void test_bn_and_plane_point(host_net *hc, host_net *hg, const dataset *tr, const dataset *te, const char *name) {
    size_t n = host_nparams(hc), ns = host_nstats(hc);
    float *a = malloc(n * 4), *w = malloc(n * 4);
    host_get_params(hc, a);
    g_seed = 99;
    for (size_t i = 0; i < n; i++) w[i] = a[i] * (0.8f + 0.4f * frand());   /* a point off the network */
    host_set_params(hc, w); host_set_params(hg, w);
    run_bn_update(hc, tr, 0, NULL);
    run_bn_update(hg, tr, 0, NULL);
    float *sc = malloc(ns * 4), *sg = malloc(ns * 4);
    host_get_stats(hc, sc); host_get_stats(hg, sg);
    char what[128];
    snprintf(what, sizeof what, "%s: BN recompute statistics, GPU vs CPU (rel. L2)", name);
    double r = rel(ns, sg, sc);
    check(r < 1e-3, what, r, 1e-3);
    int k = te->classes;
    float *pc = malloc((size_t)te->n * k * 4), *pg = malloc((size_t)te->n * k * 4);
    eval_result ec = run_eval(hc, te, pc, NULL), eg = run_eval(hg, te, pg, NULL);
    snprintf(what, sizeof what, "%s: plane point test NLL, GPU vs CPU (relative)", name);
    r = fabs(eg.nll - ec.nll) / ec.nll;
    check(r < 1e-3, what, r, 1e-3);
    double m = 0;
    for (size_t i = 0; i < (size_t)te->n * k; i++) if (fabs(pg[i] - pc[i]) > m) m = fabs(pg[i] - pc[i]);
    snprintf(what, sizeof what, "%s: plane point probabilities, max |GPU - CPU|", name);
    check(m < 1e-3, what, m, 1e-3);
    snprintf(what, sizeof what, "%s: plane point test error, |GPU - CPU| in %%", name);
    r = fabs(eg.acc - ec.acc);
    check(r <= 100.0 / te->n + 1e-9, what, r, 100.0 / te->n);
    /* a save from the GPU writes the device's values: it loads back into the CPU network */
    char path[] = "/tmp/test_gpu_XXXXXX.weights", err[HOST_ERRLEN];
    int fd = mkstemps(path, 8);
    close(fd);
    float *back = malloc(n * 4);
    if (host_save_weights(hg, path, err) || host_load_weights(hc, path, err)) { fprintf(stderr, "test_gpu: %s\n", err); exit(1); }
    host_get_params(hc, back);
    host_get_stats(hc, sc);
    snprintf(what, sizeof what, "%s: .weights saved from the GPU = device values", name);
    r = rel(n, back, w) + rel(ns, sc, sg);
    check(r == 0, what, r, 0);
    unlink(path);
    free(a); free(w); free(sc); free(sg); free(pc); free(pg); free(back);
}

/* d/dtheta_k of the objective at fixed t = c_k(t) g, by 4th-order central differences along
 * that gradient, with the network on the GPU */
static void test_gradient_fd(host_net *hg, const dataset *d) {
    size_t n = host_nparams(hg);
    int B = host_batch(hg), k = d->classes;
    curve cv;
    curve_init(&cv, CURVE_BEZIER, 3, n, 0);
    g_seed = 4242;
    for (int j = 0; j < 3; j++) for (size_t i = 0; i < n; i++) cv.bends[j][i] = 0.4f * (2 * frand() - 1);
    cv.decay = 5e-3f;
    float *x = malloc((size_t)B * host_inputs(hg) * 4), *y = malloc((size_t)B * k * 4);
    data_batch(d, NULL, 0, B, x, y, 0, NULL);
    float *w = malloc(n * 4), *g = malloc(n * 4), *saved = malloc(n * 4), *gk = malloc(n * 4);
    unsigned char *mask = malloc(n);
    curve_decay_mask(&cv, hg, mask);
    const double t = 0.3;
    float c[3];
    curve_coeffs(cv.type, 3, t, c);
    for (int j = 0; j < 3; j++) {
        curve_batch_grad(&cv, hg, t, x, y, mask, w, g, NULL, NULL);
        for (size_t i = 0; i < n; i++) gk[i] = c[j] * g[i];
        double gn = ws_norm(n, gk);
        memcpy(saved, cv.bends[j], n * 4);
        const double eps = 1e-2, at[4] = { 1, -1, 2, -2 };
        double f[4];
        for (int q = 0; q < 4; q++) {
            for (size_t i = 0; i < n; i++) cv.bends[j][i] = saved[i] + (float)(at[q] * eps * gk[i] / gn);
            f[q] = curve_batch_grad(&cv, hg, t, x, y, mask, w, g, NULL, NULL);
        }
        memcpy(cv.bends[j], saved, n * 4);
        double fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * eps);
        char what[128];
        snprintf(what, sizeof what, "GPU: bend %d gradient vs finite differences (t=0.3)", j);
        double r = fabs(fd - gn) / gn;
        check(r < 2e-3, what, r, 2e-3);
    }
    free(x); free(y); free(w); free(g); free(saved); free(gk); free(mask);
    curve_free(&cv);
}

/* our kernels against the same arithmetic on the host, on an odd-sized vector */
static double max_abs(size_t n, const float *a, const float *b) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs((double)a[i] - b[i]) > m || isnan(a[i]) != isnan(b[i])) m = isnan(a[i]) != isnan(b[i]) ? INFINITY : fabs((double)a[i] - b[i]);
    return m;
}
static void test_kernels(void) {
    const size_t n = 100003;
    const int k = 4;
    size_t bytes = n * sizeof(float);
    curve cv;
    curve_init(&cv, CURVE_BEZIER, k, n, 0);
    g_seed = 31;
    float *dbend[GK_MAX_BENDS] = { 0 }, *dmom[GK_MAX_BENDS] = { 0 };
    float *mom[4], *graw = malloc(bytes), *w = malloc(bytes), *got = malloc(bytes), *v = malloc(bytes);
    unsigned char *mask = malloc(n);
    for (int j = 0; j < k; j++) {
        for (size_t i = 0; i < n; i++) cv.bends[j][i] = 2 * frand() - 1;
        dbend[j] = gk_malloc(bytes);
        gk_push(dbend[j], cv.bends[j], bytes);
        mom[j] = NULL;
        if (j == 1 || j == 2) {   /* the free bends */
            mom[j] = malloc(bytes);
            for (size_t i = 0; i < n; i++) mom[j][i] = 0.1f * (2 * frand() - 1);
            dmom[j] = gk_malloc(bytes);
            gk_push(dmom[j], mom[j], bytes);
        }
    }
    for (size_t i = 0; i < n; i++) { graw[i] = 10 * (2 * frand() - 1); mask[i] = frand() < 0.7f; }
    float *dw = gk_malloc(bytes), *dg = gk_malloc(bytes), *dv = gk_malloc(bytes);
    unsigned char *dmask = gk_malloc(n);
    gk_push(dg, graw, bytes); gk_push(dmask, mask, n);
    double worst = 0;
    for (int type = 0; type < 2; type++)
        for (int q = 0; q < 3; q++) {
            const double ts[3] = { 0, 0.37, 1 };
            float c[GK_MAX_BENDS];
            cv.type = type ? CURVE_POLYCHAIN : CURVE_BEZIER;
            curve_coeffs(cv.type, k, ts[q], c);
            curve_point(&cv, ts[q], w);
            gk_curve_point(n, k, dbend, c, dw);
            gk_pull(got, dw, bytes);
            double m = max_abs(n, got, w);
            if (m > worst) worst = m;
        }
    check(worst < 1e-5, "kernel: w(t) of 4 bends (Bezier, PolyChain) vs curve_point", worst, 1e-5);
    /* one update at t = 0.37 on the Bezier curve; the host's arithmetic as curve_stepper_step's */
    float c[GK_MAX_BENDS];
    cv.type = CURVE_BEZIER;
    curve_coeffs(cv.type, k, 0.37, c);
    curve_point(&cv, 0.37, w);
    gk_curve_point(n, k, dbend, c, dw);
    const float B = 32, decay = 5e-4f, lr = 0.05f, mo = 0.9f;
    double l2 = 0, l2_gpu = -1;
    for (size_t i = 0; i < n; i++) {
        float g = -1.0f / B * graw[i];
        if (mask[i]) { g += decay * w[i]; l2 += (double)w[i] * w[i]; }
        for (int j = 1; j <= 2; j++) { mom[j][i] = mo * mom[j][i] + c[j] * g; cv.bends[j][i] -= lr * mom[j][i]; }
    }
    int bad = gk_curve_update(n, k, dbend, dmom, c, dg, -1.0f / B, dw, dmask, decay, lr, mo, &l2_gpu);
    check(bad == -1, "kernel: curve update reports no non-finite bend", bad, 0);
    double m = 0;
    for (int j = 0; j < k; j++) {
        gk_pull(got, dbend[j], bytes);
        double e = max_abs(n, got, cv.bends[j]);
        if (e > m) m = e;
        if (dmom[j]) { gk_pull(got, dmom[j], bytes); e = max_abs(n, got, mom[j]); if (e > m) m = e; }
    }
    check(m < 1e-5, "kernel: bends and momentum after an update vs the host's", m, 1e-5);
    double r = fabs(l2_gpu - l2) / l2;
    check(r < 1e-6, "kernel: the update's l2 term vs the host's (relative)", r, 1e-6);
    graw[77] = INFINITY;   /* a non-finite gradient reaches bends 1 and 2: bend 1 is reported */
    gk_push(dg, graw, bytes);
    bad = gk_curve_update(n, k, dbend, dmom, c, dg, -1.0f / B, dw, dmask, decay, lr, mo, &l2_gpu);
    check(bad == 1, "kernel: a non-finite bend is found (bend 1)", bad, 0);
    /* SGD */
    graw[77] = 1;
    gk_push(dg, graw, bytes);
    for (size_t i = 0; i < n; i++) { w[i] = 2 * frand() - 1; v[i] = 0.1f * (2 * frand() - 1); }
    gk_push(dw, w, bytes); gk_push(dv, v, bytes);
    float *g = malloc(bytes);
    for (size_t i = 0; i < n; i++) g[i] = -1.0f / B * graw[i];
    ws_sgd_step(n, w, g, v, lr, mo, decay, mask);
    bad = gk_sgd(n, dw, dv, dg, -1.0f / B, dmask, lr, mo, decay);
    gk_pull(got, dw, bytes);
    m = max_abs(n, got, w);
    gk_pull(got, dv, bytes);
    double mv = max_abs(n, got, v);
    check(bad == 0 && m < 1e-6 && mv < 1e-6, "kernel: SGD step vs ws_sgd_step (weights, momentum)", m > mv ? m : mv, 1e-6);
    for (int j = 0; j < k; j++) { gk_free(dbend[j]); gk_free(dmom[j]); free(mom[j]); }
    gk_free(dw); gk_free(dg); gk_free(dv); gk_free(dmask);
    free(graw); free(w); free(got); free(v); free(mask); free(g);
    curve_free(&cv);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);   /* each line out before a Darknet assert can abort us */
    const char *cnn = argc > 1 ? argv[1] : "cfg/fashion-cnn.cfg";
    char *smooth = write_cfg(SMOOTH);
    {   /* a network on the GPU first: it initialises Darknet's CUDA side as the commands do */
        host_net *hg = load(smooth, 0, 0);
        test_kernels();
        host_free(hg);
    }
    /* the smooth net: finite differences on the GPU, and GPU vs CPU */
    {
        host_net *hc = load(smooth, -1, 0), *hg = load(smooth, 0, 0);
        copy_net(hc, hg);
        dataset d = synthetic(256, 12, 12, 1, 3), te = synthetic(200, 12, 12, 1, 3);
        test_gradient_fd(hg, &d);
        copy_net(hc, hg);
        test_step_and_grad(hc, hg, &d, "smooth");
        test_curve_steps(hc, hg, &d, "smooth");
        copy_net(hc, hg);
        test_bn_and_plane_point(hc, hg, &d, &te, "smooth");
        data_free(&d); data_free(&te);
        host_free(hc); host_free(hg);
    }
    /* the small CNN of the reference comparison (ReLU, maxpool), batch 32 */
    {
        host_net *hc = load(cnn, -1, 32), *hg = load(cnn, 0, 32);
        copy_net(hc, hg);
        dataset d = synthetic(512, host_width(hc), host_height(hc), host_channels(hc), host_outputs(hc));
        dataset te = synthetic(300, host_width(hc), host_height(hc), host_channels(hc), host_outputs(hc));
        test_step_and_grad(hc, hg, &d, "cnn");
        test_curve_steps(hc, hg, &d, "cnn");
        copy_net(hc, hg);
        test_sgd(hc, hg, &d, "cnn");
        copy_net(hc, hg);
        test_bn_and_plane_point(hc, hg, &d, &te, "cnn");
        data_free(&d); data_free(&te);
        host_free(hc); host_free(hg);
    }
    unlink(smooth); free(smooth);
    printf("gpu tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
