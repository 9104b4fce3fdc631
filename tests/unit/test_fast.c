/* test_fast: every interposed kernel of plugins/fast against libdarknet's own definition
 * (dlsym(RTLD_NEXT)), on random and edge-case shapes, plus whole-network checks (every layer's
 * output and every gradient with fast on and off) and a whole training step through the host
 * API.
 * Tolerances: im2col, col2im, scale/add_bias, activations, blas-1 and maxpool are bit-exact;
 * gemm and the BN reductions are compared by relative L2 (1e-5; the sums are taken in another
 * order / in double); whole-network outputs 1e-4 and gradients 2e-3 relative L2 (reduction-order
 * noise amplified by ReLU/maxpool kinks), the loss 1e-4 relative. TF_DEBUG=1 prints every
 * relative L2 it checks on stderr. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <fcntl.h>
#include "fast.h"
#include "fast_internal.h"
#include "fast_protos.h"
#include "host.h"
#include "host_private.h"

#define ORIG(T, name) ((T)fast_orig(#name))

static float *rnd(size_t n, unsigned seed)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    tu_fill_random(x, n, 1.0f, seed);
    return x;
}

static float *dup_f(const float *x, size_t n)
{
    float *y = malloc(sizeof(float) * (n ? n : 1));
    if (n) memcpy(y, x, sizeof(float) * n);
    return y;
}

static void expect_close(const float *a, const float *b, size_t n, double tol, const char *what)
{
    double r = tu_rel_l2(a, b, n);
    if (getenv("TF_DEBUG")) fprintf(stderr, "%s: %g\n", what, r);
    if (!(r <= tol)) fail_msg("%s: relative L2 %g > %g", what, r, tol);
}

static void expect_same(const float *a, const float *b, size_t n, const char *what)
{
    if (n && memcmp(a, b, sizeof(float) * n)) {
        size_t i = 0;
        while (i < n && !memcmp(a + i, b + i, sizeof(float))) i++;
        fail_msg("%s: differs at %zu (%g vs %g)", what, i, a[i], b[i]);
    }
}

static void test_all_interposed(void **state)
{
    (void)state;
    assert_int_equal(fast_init(), 0);
    for (const char *const *n = fast_interposed_names(); *n; n++) {
        if (!fast_is_interposed(*n)) fail_msg("%s is not interposed", *n);
        if (!fast_orig(*n)) fail_msg("no library definition of %s", *n);
    }
    assert_non_null(strstr(fast_status(), "interposed"));
    fast_set_enabled(0);
    assert_int_equal(fast_enabled(), 0);
    fast_set_enabled(1);
    assert_int_equal(fast_enabled(), 1);
}

static void test_gemm(void **state)
{
    (void)state;
    static const int shapes[][3] = { {1, 1, 1}, {3, 5, 7}, {32, 784, 9}, {64, 196, 288}, {17, 1, 33},
                                     {1, 29, 4}, {128, 10, 1152}, {9, 49, 128} };
    static const float ab[][2] = { {1, 1}, {1, 0}, {0.5f, 1}, {-2, 0.3f} };
    fp_gemm orig = ORIG(fp_gemm, gemm);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int TA = 0; TA < 2; TA++)
            for (int TB = 0; TB < 2; TB++)
                for (size_t q = 0; q < sizeof ab / sizeof *ab; q++)
                    for (int pad = 0; pad < 2; pad++) {
                        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                        int lda = (TA ? M : K) + pad * 3, ldb = (TB ? K : N) + pad, ldc = N + pad * 2;
                        float *A = rnd((size_t)(TA ? K : M) * lda, 1 + s);
                        float *B = rnd((size_t)(TB ? N : K) * ldb, 2 + s);
                        float *C1 = rnd((size_t)M * ldc, 3 + s), *C2 = dup_f(C1, (size_t)M * ldc);
                        gemm(TA, TB, M, N, K, ab[q][0], A, lda, B, ldb, ab[q][1], C1, ldc);
                        orig(TA, TB, M, N, K, ab[q][0], A, lda, B, ldb, ab[q][1], C2, ldc);
                        char what[96];
                        snprintf(what, sizeof what, "gemm TA%d TB%d %dx%dx%d alpha %g beta %g ld+%d", TA, TB,
                                 M, N, K, ab[q][0], ab[q][1], pad);
                        expect_close(C1, C2, (size_t)M * ldc, 1e-5, what);
                        free(A); free(B); free(C1); free(C2);
                    }
    /* a big one, split over the threads */
    int M = 256, N = 900, K = 300;
    float *A = rnd((size_t)M * K, 7), *B = rnd((size_t)K * N, 8), *C1 = rnd((size_t)M * N, 9);
    float *C2 = dup_f(C1, (size_t)M * N);
    fast_set_threads(2);
    gemm(0, 1, M, N / 3, K, 1, A, K, B, K, 1, C1, N);
    orig(0, 1, M, N / 3, K, 1, A, K, B, K, 1, C2, N);
    expect_close(C1, C2, (size_t)M * N, 1e-5, "gemm 256x300x300 NT, 2 threads");
    fast_set_threads(0);
    free(A); free(B); free(C1); free(C2);
}

static void test_im2col_col2im(void **state)
{
    (void)state;
    static const int sh[][6] = {   /* channels, height, width, ksize, stride, pad */
        {1, 28, 28, 3, 1, 1}, {3, 5, 7, 3, 1, 1}, {3, 5, 7, 3, 2, 0}, {2, 1, 1, 1, 1, 0},
        {2, 1, 1, 3, 1, 1}, {4, 9, 6, 3, 2, 1}, {5, 7, 7, 1, 1, 0}, {2, 8, 5, 5, 1, 2},
        {3, 6, 6, 2, 2, 0}, {2, 7, 9, 3, 3, 1}, {64, 14, 14, 3, 1, 1}};
    fp_im2col oi = ORIG(fp_im2col, im2col_cpu), oc = ORIG(fp_im2col, col2im_cpu);
    for (size_t s = 0; s < sizeof sh / sizeof *sh; s++) {
        int c = sh[s][0], h = sh[s][1], w = sh[s][2], k = sh[s][3], st = sh[s][4], p = sh[s][5];
        int hc = (h + 2 * p - k) / st + 1, wc = (w + 2 * p - k) / st + 1;
        size_t ni = (size_t)c * h * w, nc = (size_t)c * k * k * hc * wc;
        float *im = rnd(ni, 11 + s), *c1 = rnd(nc, 5), *c2 = dup_f(c1, nc);
        im2col_cpu(im, c, h, w, k, st, p, c1);
        oi(im, c, h, w, k, st, p, c2);
        char what[64];
        snprintf(what, sizeof what, "im2col shape %zu", s);
        expect_same(c1, c2, nc, what);
        float *i1 = rnd(ni, 21 + s), *i2 = dup_f(i1, ni);
        col2im_cpu(c1, c, h, w, k, st, p, i1);
        oc(c1, c, h, w, k, st, p, i2);
        snprintf(what, sizeof what, "col2im shape %zu", s);
        expect_same(i1, i2, ni, what);
        free(im); free(c1); free(c2); free(i1); free(i2);
    }
}

static const int bn_shapes[][3] = { {2, 3, 5}, {4, 7, 49}, {3, 16, 1}, {1, 2, 9}, {16, 32, 196}, {128, 4, 784} };

static void test_bn_loops(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof bn_shapes / sizeof *bn_shapes; s++) {
        int B = bn_shapes[s][0], F = bn_shapes[s][1], S = bn_shapes[s][2];
        size_t n = (size_t)B * F * S;
        char what[96];
        float *x = rnd(n, 31 + s), *d = rnd(n, 41 + s);
        for (size_t i = 0; i < n; i++) x[i] = 2 * x[i] + 0.5f;   /* nonzero mean */
        float m1[64], m2[64], v1[64], v2[64], md1[64], md2[64], vd1[64], vd2[64], u1[64], u2[64];
#define CHECK(arr1, arr2, cnt, name, tol)                                      \
        do {                                                                   \
            snprintf(what, sizeof what, "%s B%d F%d S%d", name, B, F, S);      \
            expect_close(arr1, arr2, cnt, tol, what);                         \
        } while (0)
        mean_cpu(x, B, F, S, m1);
        ORIG(fp_x_b_f_s_o, mean_cpu)(x, B, F, S, m2);
        CHECK(m1, m2, F, "mean_cpu", 1e-5);
        if (B * S > 1) {
            variance_cpu(x, m2, B, F, S, v1);
            ORIG(fp_variance, variance_cpu)(x, m2, B, F, S, v2);
            CHECK(v1, v2, F, "variance_cpu", 1e-5);
        } else {
            for (int f = 0; f < F; f++) v2[f] = 0.7f;
        }
        float *y1 = dup_f(x, n), *y2 = dup_f(x, n);
        normalize_cpu(y1, m2, v2, B, F, S);
        ORIG(fp_normalize, normalize_cpu)(y2, m2, v2, B, F, S);
        CHECK(y1, y2, n, "normalize_cpu", 1e-6);
        mean_delta_cpu(d, v2, B, F, S, md1);
        ORIG(fp_mean_delta, mean_delta_cpu)(d, v2, B, F, S, md2);
        CHECK(md1, md2, F, "mean_delta_cpu", 1e-5);
        variance_delta_cpu(x, d, m2, v2, B, F, S, vd1);
        ORIG(fp_variance_delta, variance_delta_cpu)(x, d, m2, v2, B, F, S, vd2);
        CHECK(vd1, vd2, F, "variance_delta_cpu", 1e-5);
        float *e1 = dup_f(d, n), *e2 = dup_f(d, n);
        normalize_delta_cpu(x, m2, v2, md2, vd2, B, F, S, e1);
        ORIG(fp_normalize_delta, normalize_delta_cpu)(x, m2, v2, md2, vd2, B, F, S, e2);
        CHECK(e1, e2, n, "normalize_delta_cpu", 1e-6);
        for (int f = 0; f < F; f++) u1[f] = u2[f] = 0.25f * f;
        backward_scale_cpu(y2, d, B, F, S, u1);
        ORIG(fp_bscale, backward_scale_cpu)(y2, d, B, F, S, u2);
        CHECK(u1, u2, F, "backward_scale_cpu", 1e-5);
        for (int f = 0; f < F; f++) u1[f] = u2[f] = -0.5f * f;
        backward_bias(u1, d, B, F, S);
        ORIG(fp_bias, backward_bias)(u2, d, B, F, S);
        CHECK(u1, u2, F, "backward_bias", 1e-5);
        float sc[64];
        tu_fill_random(sc, F, 2.0f, 77);
        memcpy(y1, x, sizeof(float) * n); memcpy(y2, x, sizeof(float) * n);
        scale_bias(y1, sc, B, F, S);
        ORIG(fp_bias, scale_bias)(y2, sc, B, F, S);
        snprintf(what, sizeof what, "scale_bias B%d F%d S%d", B, F, S);
        expect_same(y1, y2, n, what);
        add_bias(y1, sc, B, F, S);
        ORIG(fp_bias, add_bias)(y2, sc, B, F, S);
        snprintf(what, sizeof what, "add_bias B%d F%d S%d", B, F, S);
        expect_same(y1, y2, n, what);
#undef CHECK
        free(x); free(d); free(y1); free(y2); free(e1); free(e2);
    }
}

static void test_activations_blas1(void **state)
{
    (void)state;
    static const ACTIVATION acts[] = { RELU, LEAKY, LINEAR, LOGISTIC, TANH };
    for (int n = 0; n < 70000; n = n * 3 + 1) {
        float *x = rnd((size_t)n, 51), *d = rnd((size_t)n, 52);
        if (n > 3) { x[0] = 0.0f; x[1] = -0.0f; x[2] = -1e-30f; }
        for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
            float *x1 = dup_f(x, n), *x2 = dup_f(x, n);
            activate_array(x1, n, acts[a]);
            ORIG(fp_activate_array, activate_array)(x2, n, acts[a]);
            expect_same(x1, x2, n, "activate_array");
            float *d1 = dup_f(d, n), *d2 = dup_f(d, n);
            gradient_array(x2, n, acts[a], d1);
            ORIG(fp_gradient_array, gradient_array)(x2, n, acts[a], d2);
            expect_same(d1, d2, n, "gradient_array");
            free(x1); free(x2); free(d1); free(d2);
        }
        for (int inc = 1; inc <= 2; inc++) {
            int m = n / inc;
            float *y1 = dup_f(d, n), *y2 = dup_f(d, n);
            fill_cpu(m, 0, y1, inc);  ORIG(fp_fill, fill_cpu)(m, 0, y2, inc);
            expect_same(y1, y2, n, "fill_cpu 0");
            fill_cpu(m, -2.5f, y1, inc);  ORIG(fp_fill, fill_cpu)(m, -2.5f, y2, inc);
            expect_same(y1, y2, n, "fill_cpu");
            copy_cpu(m, x, inc, y1, inc);  ORIG(fp_copy, copy_cpu)(m, x, inc, y2, inc);
            expect_same(y1, y2, n, "copy_cpu");
            axpy_cpu(m, 0.3f, d, inc, y1, inc);  ORIG(fp_axpy, axpy_cpu)(m, 0.3f, d, inc, y2, inc);
            expect_same(y1, y2, n, "axpy_cpu");
            scal_cpu(m, 0.99f, y1, inc);  ORIG(fp_scal, scal_cpu)(m, 0.99f, y2, inc);
            expect_same(y1, y2, n, "scal_cpu");
            free(y1); free(y2);
        }
        free(x); free(d);
    }
}

/* ---------------------------------------------------------------- whole networks */

static network *load_cfg_text(const char *text)
{
    char *path = tu_write_temp(".cfg", text);
    assert_non_null(path);
    fflush(stderr);
    int saved = dup(2), dn = open("/dev/null", O_WRONLY);
    dup2(dn, 2);
    network *net = parse_network_cfg(path);
    fflush(stderr);
    dup2(saved, 2); close(saved); close(dn);
    unlink(path);
    free(path);
    return net;
}

typedef struct { float *buf; size_t n; } snap;

/* Everything a forward+backward writes, in one buffer. */
static size_t net_state(network *net, float *out)
{
    size_t o = 0;
#define PUT(p, cnt) do { if (p) { if (out) memcpy(out + o, p, sizeof(float) * (size_t)(cnt)); o += (cnt); } } while (0)
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        if (l->output) {   /* in NCHW, whatever layout the plan keeps it in (fast_plan.c) */
            if (out) fast_layer_output(net, i, out + o);
            o += (size_t)l->outputs * l->batch;
        }
        if (l->delta) {
            if (out) fast_layer_delta(net, i, out + o);
            o += (size_t)l->outputs * l->batch;
        }
        int nb = l->type == CONNECTED ? l->outputs : l->n;
        int nw = l->type == CONNECTED ? l->inputs * l->outputs : l->nweights;
        if (l->type == CONVOLUTIONAL || l->type == CONNECTED) {
            PUT(l->weight_updates, nw);
            PUT(l->bias_updates, nb);
            if (l->batch_normalize) {
                PUT(l->scale_updates, nb);
                PUT(l->rolling_mean, nb);
                PUT(l->rolling_variance, nb);
            }
        }
    }
#undef PUT
    return o;
}

static void net_reset(network *net)
{
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        int nb = l->type == CONNECTED ? l->outputs : l->n;
        int nw = l->type == CONNECTED ? l->inputs * l->outputs : l->nweights;
        if (l->type != CONVOLUTIONAL && l->type != CONNECTED) continue;
        memset(l->weight_updates, 0, sizeof(float) * nw);
        memset(l->bias_updates, 0, sizeof(float) * nb);
        if (l->batch_normalize) {
            memset(l->scale_updates, 0, sizeof(float) * nb);
            for (int k = 0; k < nb; k++) { l->rolling_mean[k] = 0.1f * k; l->rolling_variance[k] = 1 + 0.05f * k; }
        }
    }
}

static float run_net(network *net, const float *x, const float *y, int train, int fast_on, int threads, float *state)
{
    fast_set_enabled(fast_on);
    fast_set_threads(threads);
    net_reset(net);
    memcpy(net->input, x, sizeof(float) * net->inputs * net->batch);
    memcpy(net->truth, y, sizeof(float) * net->truths * net->batch);
    net->train = train;
    forward_network(net);
    if (train) backward_network(net);
    net_state(net, state);
    fast_set_enabled(1);
    fast_set_threads(0);
    return *net->cost;
}

static const char *net_cfgs[] = {
    /* odd sizes, stride 2, pad 0/1, 1x1, groups, leaky/linear, maxpool with and without pad */
    "[net]\nbatch=5\nwidth=11\nheight=13\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npadding=0\nactivation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=1\npad=0\nactivation=linear\n"
    "[convolutional]\nfilters=6\nsize=3\nstride=1\npad=1\ngroups=2\nactivation=relu\n"
    "[maxpool]\nsize=3\nstride=2\n"
    "[connected]\noutput=7\nactivation=linear\n[softmax]\n",
    /* the small Fashion-MNIST CNN (cfg/fashion-cnn.cfg) at batch 16 */
    "[net]\nbatch=16\nwidth=28\nheight=28\nchannels=1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=64\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=128\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\npadding=0\n"
    "[connected]\noutput=10\nactivation=linear\n[softmax]\n",
    /* tiny maps (fast_dense.c): 3x3 convs over 2x2 and 1x1 inputs, with and without BN, and
     * one over 4x4 (too few taps: not dense); then a stride-2 one over 2x2 */
    "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[connected]\noutput=6\nactivation=linear\n[softmax]\n",
    "[net]\nbatch=3\nwidth=2\nheight=2\nchannels=5\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=7\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[connected]\noutput=4\nactivation=linear\n[softmax]\n",
};

/* oneDNN's cases beside those: stride 2 with a right pad of 0 and with an odd size, a 1x1
 * stride-2 conv reached through a route (the library ignores a 1x1 conv's stride; oneDNN must
 * leave it alone), shortcuts (identity, and option A: from a larger input with fewer
 * channels), a conv without BN (bias), a 2x2 conv */
static const char *dnnl_cfgs[] = {
    "[net]\nbatch=6\nwidth=17\nheight=18\nchannels=8\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[route]\nlayers=-3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=1\nstride=2\npad=0\nactivation=linear\n"
    "[shortcut]\nfrom=-3\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-3\nactivation=relu\n"
    "[convolutional]\nfilters=12\nsize=3\nstride=2\npadding=0\nactivation=leaky\n"
    "[convolutional]\nbatch_normalize=1\nfilters=9\nsize=2\nstride=1\npad=0\nactivation=leaky\n"
    "[connected]\noutput=5\nactivation=linear\n[softmax]\n",
};

/* the layout chain's readers (eval mode): maxpool with and without padding, identity and
 * option-A shortcuts, a shortcut whose inputs cannot share a layout (12 channels), a conv
 * read by a route (stays NCHW), avgpool */
static const char *chain_cfgs[] = {
    "[net]\nbatch=3\nwidth=16\nheight=16\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-3\nactivation=relu\n"
    "[maxpool]\nsize=3\nstride=1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "[convolutional]\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-3\nactivation=leaky\n"
    "[convolutional]\nbatch_normalize=1\nfilters=12\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[shortcut]\nfrom=-2\nactivation=linear\n"
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[route]\nlayers=-1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[avgpool]\n"
    "[connected]\noutput=5\nactivation=linear\n[softmax]\n",
};

/* without BN: compared with the library directly */
static const char *nobn_cfgs[] = {
    "[net]\nbatch=4\nwidth=12\nheight=11\nchannels=3\n"
    "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[convolutional]\nfilters=16\nsize=3\nstride=2\npad=1\nactivation=leaky\n"
    "[convolutional]\nfilters=8\nsize=1\nstride=1\npad=0\nactivation=linear\n"
    "[convolutional]\nfilters=8\nsize=3\nstride=2\npadding=0\nactivation=relu\n"
    "[connected]\noutput=5\nactivation=linear\n[softmax]\n",
};

/* Which layers fast_dense.c takes (net_cfgs[2] and [3]). */
static void test_dense_choice(void **state)
{
    (void)state;
    static const int want2[] = { 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0 }, want3[] = { 1, 1, 0, 0 };
    const int *want[] = { want2, want3 };
    for (int c = 2; c <= 3; c++) {
        network *net = load_cfg_text(net_cfgs[c]);
        assert_non_null(net);
        for (int i = 0; i < net->n; i++)
            if (fast_dense_use(&net->layers[i]) != want[c - 2][i])
                fail_msg("cfg %d layer %d (%dx%d input): dense %d", c, i, net->layers[i].w, net->layers[i].h, !want[c - 2][i]);
        host__free_network(net);
    }
}

/* ---- the backend table (as ggml's test-backend-ops): every layer kind through every path ----
 *
 * Rows: a layer kind between two convolutions (so that oneDNN's layouts reach it and leave it),
 * and the whole networks above. Columns: the paths a layer can take: the library itself, the
 * fast kernels (im2col + OpenBLAS), the tiny-map GEMM, oneDNN with every output NCHW, and oneDNN
 * with the plan's layout chain in oneDNN's own layout and in nChw8c, nChw16c and NHWC forced.
 * Each row runs in training (every output, delta, weight gradient and rolling statistic) and
 * in eval mode, with 1 and 2 threads, and is compared with its reference: the library, or for
 * networks with BN on oneDNN the fast path without oneDNN (itself checked against the library
 * in its own column). Reason: BN's backward subtracts nearly equal sums; the library takes
 * them in float, the fast BN in double, and for some random weights the library's own rounding
 * is above 2e-3 on the first layer's delta (measured 3e-3..3e-2 with other seeds, with oneDNN
 * off as well); against the fast BN the only difference left is the convolution's.
 * Each column also checks that the plan did what it names (a forced block was used, the
 * tiny-map GEMM or oneDNN ran the row's layer), so no path passes by not being taken. */
typedef struct {
    const char *name;
    int fast, dnnl, dense, chain, block;   /* switches */
    int ref;                               /* reference column */
} path;

enum { P_LIB, P_GEMM, P_DENSE, P_DNNL, P_CHAIN, P_B8, P_B16, P_NHWC, NPATH };
static const path paths[NPATH] = {
    { "library", 0, 0, 0, 0, 0, P_LIB },
    { "gemm", 1, 0, 0, 0, 0, P_LIB },
    { "dense", 1, 0, 1, 0, 0, P_LIB },
    { "onednn", 1, 1, 0, 0, 0, P_GEMM },
    { "onednn+chain", 1, 1, 1, 1, 0, P_DENSE },
    { "chain nChw8c", 1, 1, 1, 1, 8, P_DENSE },
    { "chain nChw16c", 1, 1, 1, 1, 16, P_DENSE },
    { "chain NHWC", 1, 1, 1, 1, FAST_BLOCK_NHWC, P_DENSE },
};

static void set_path(const path *p)
{
    fast_set_dnnl(p->dnnl);
    fast_set_dense(p->dense);
    fast_set_chain(p->chain);
    fast_set_block(p->block);
}

static void reset_path(void)
{
    fast_set_dnnl(-1);
    fast_set_dense(-1);
    fast_set_chain(-1);
    fast_set_block(-1);
}

/* A layer kind: `mid` goes between a 3x3 BN conv with 16 filters on a w x w x 3 input and
 * a 3x3 BN conv with 16 filters, an [avgpool], a [connected] and a [softmax]; layer `at`
 * (counted from the first conv, 0) is the one the row is about. dense: the tiny-map GEMM
 * takes it in the dense column. (No [batchnorm] row: the library's own forward of a lone
 * [batchnorm] writes l.x, which its make_batchnorm_layer does not allocate.) */
typedef struct { const char *name; int w, at, dense; const char *mid; } kind;

static const kind kinds[] = {
    { "conv bn relu", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n" },
    { "conv bn leaky stride 2", 9, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=2\npad=1\nactivation=leaky\n" },
    { "conv bn linear 1x1", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=1\nstride=1\npad=0\nactivation=linear\n" },
    { "conv bias relu", 8, 1, 0, "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n" },
    { "conv bn logistic", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=logistic\n" },
    { "conv 32 filters", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=relu\n" },
    { "conv 24 filters", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=24\nsize=3\nstride=1\npad=1\nactivation=relu\n" },
    { "conv 12 filters", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=12\nsize=3\nstride=1\npad=1\nactivation=leaky\n" },
    { "conv groups 2", 8, 1, 0, "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\ngroups=2\nactivation=relu\n" },
    { "conv tiny map", 4, 2, 1, "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n" },
    { "conv tiny map no bn", 4, 2, 1, "[maxpool]\nsize=2\nstride=2\n"
      "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n" },
    { "maxpool 2x2/2", 8, 1, 0, "[maxpool]\nsize=2\nstride=2\n" },
    { "maxpool 3x3/1", 8, 1, 0, "[maxpool]\nsize=3\nstride=1\n" },
    { "maxpool odd 3x3/2", 9, 1, 0, "[maxpool]\nsize=3\nstride=2\n" },
    { "shortcut identity", 8, 2, 0, "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=linear\n"
      "[shortcut]\nfrom=-2\nactivation=relu\n" },
    { "shortcut option A", 8, 2, 0, "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=linear\n"
      "[shortcut]\nfrom=-2\nactivation=leaky\n" },
    { "avgpool", 8, 2, 0, "" },
    { "route", 8, 1, 0, "[route]\nlayers=-1\n" },
};

/* Compare state s with the reference r layer by layer (the layout of net_state). */
static void compare_state(network *net, const float *s, const float *r, int train, double out_tol,
                          const char *row, const char *col)
{
    size_t o = 0;
    char what[160];
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        size_t cnt = (size_t)l->outputs * l->batch;
        if (l->output) {
            snprintf(what, sizeof what, "%s / %s / %s: layer %d output", row, col, train ? "train" : "eval", i);
            expect_close(s + o, r + o, cnt, out_tol, what);
            o += cnt;
        }
        if (l->delta) {
            snprintf(what, sizeof what, "%s / %s / train: layer %d delta", row, col, i);
            if (train) expect_close(s + o, r + o, cnt, 2e-3, what);
            o += cnt;
        }
        if (l->type == CONVOLUTIONAL || l->type == CONNECTED) {
            int nb = l->type == CONNECTED ? l->outputs : l->n;
            size_t nw = l->type == CONNECTED ? (size_t)l->inputs * l->outputs : (size_t)l->nweights;
            size_t k = nw + nb + (l->batch_normalize ? 3 * (size_t)nb : 0);
            snprintf(what, sizeof what, "%s / %s / train: layer %d weight grad", row, col, i);
            if (train) expect_close(s + o, r + o, nw, 2e-3, what);
            snprintf(what, sizeof what, "%s / %s / train: layer %d bias/scale grad, rolling", row, col, i);
            if (train) expect_close(s + o + nw, r + o + nw, k - nw, 2e-3, what);
            o += k;
        }
    }
}

static int kept[NPATH];   /* layer outputs kept blocked, per column, over the table */

/* The plan did what column p names, for layer `at` of net (-1: the whole network). */
static void check_taken(network *net, const path *p, int at, int dense, const char *row)
{
    int fwd, bwd, fused;
    for (int i = 0; p->block && i < net->n; i++) {   /* every kept layout oneDNN wrote is the forced one */
        int b = fast_layer_layout(net, i), want = p->block == FAST_BLOCK_NHWC ? net->layers[i].out_c : p->block;
        int be;
        fast_layer_backends(net, i, &be, NULL, NULL);
        if (b && be == FB_DNNL && net->layers[i].out_c % want == 0 && b != want)   /* oneDNN's, where the channels allow it */
            fail_msg("%s / %s: layer %d kept in block %d", row, p->name, i, b);
        kept[p - paths] += b != 0;
    }
    for (int i = 0; !p->block && p->chain && i < net->n; i++) kept[p - paths] += fast_layer_layout(net, i) != 0;
    if (at < 0 || net->layers[at].type != CONVOLUTIONAL) return;
    fast_layer_backends(net, at, &fwd, &bwd, &fused);
    if (p->dense && dense && fwd != FB_DENSE)
        fail_msg("%s / %s: the tiny-map GEMM did not take layer %d (backend %d)", row, p->name, at, fwd);
    if (p->dnnl && !dense && net->layers[at].groups == 1 && fwd != FB_DNNL)
        fail_msg("%s / %s: oneDNN did not take layer %d (backend %d)", row, p->name, at, fwd);
    if (!p->dnnl && !(p->dense && dense) && fwd != FB_GEMM)
        fail_msg("%s / %s: layer %d not on im2col + OpenBLAS (backend %d)", row, p->name, at, fwd);
}

/* One row: the network through every column, train and eval, 1 and 2 threads. */
static void run_row(const char *cfg, const char *row, int at, int dense)
{
    network *net = load_cfg_text(cfg);
    if (!net) fail_msg("%s: the cfg does not parse", row);
    int bn = 0;
    for (int i = 0; i < net->n; i++) bn |= net->layers[i].batch_normalize;
    size_t nx = (size_t)net->inputs * net->batch, ny = (size_t)net->truths * net->batch;
    float *x = rnd(nx, 61 + at), *y = calloc(ny, sizeof(float));
    for (int b = 0; b < net->batch; b++) y[b * net->truths + (b * 7 + 3) % net->truths] = 1;
    size_t ns = net_state(net, NULL);
    float *st[NPATH], *two = malloc(sizeof(float) * ns);
    for (int train = 1; train >= 0; train--) {
        float cost[NPATH];
        for (int c = 0; c < NPATH; c++) {
            const path *p = &paths[c];
            st[c] = malloc(sizeof(float) * ns);
            set_path(p);
            if (p->dnnl && fast_dnnl_mode() != p->dnnl) { reset_path(); free(st[c]); st[c] = NULL; continue; }   /* make DNNL=0 */
            cost[c] = run_net(net, x, y, train, p->fast, 1, st[c]);
            net->train = train;
            if (p->fast) check_taken(net, p, at, dense, row);
            float c2 = run_net(net, x, y, train, p->fast, 2, two);
            reset_path();
            int ref = p->ref == P_GEMM || p->ref == P_DENSE ? (bn ? p->ref : P_LIB) : p->ref;
            char col[64];
            snprintf(col, sizeof col, "%s vs %s", p->name, paths[ref].name);
            if (c != P_LIB) {
                if (fabsf(cost[c] - cost[ref]) > 1e-4f * fabsf(cost[ref]) + 1e-6f)
                    fail_msg("%s / %s / %s: cost %g vs %g", row, col, train ? "train" : "eval", cost[c], cost[ref]);
                compare_state(net, st[c], st[ref], train, 1e-4, row, col);
            }
            /* 2 threads: the same bits without oneDNN, close with it (its weight gradient sums
             * in an order that depends on the thread count) */
            snprintf(col, sizeof col, "%s, 2 threads vs 1", p->name);
            if (p->dnnl) compare_state(net, two, st[c], train, 1e-5, row, col);
            else expect_same(two, st[c], ns, col);
            if (p->dnnl ? fabsf(c2 - cost[c]) > 1e-5f * fabsf(cost[c]) + 1e-6f : c2 != cost[c])
                fail_msg("%s / %s: cost %g with 2 threads, %g with 1", row, p->name, c2, cost[c]);
        }
        for (int c = 0; c < NPATH; c++) free(st[c]);
    }
    free(x); free(y); free(two);
    host__free_network(net);
}

static void test_backend_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        char cfg[2048];
        snprintf(cfg, sizeof cfg,
                 "[net]\nbatch=4\nwidth=%d\nheight=%d\nchannels=3\n"
                 "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
                 "%s"
                 "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=relu\n"
                 "[avgpool]\n[connected]\noutput=5\nactivation=linear\n[softmax]\n",
                 kinds[k].w, kinds[k].w, kinds[k].mid);
        run_row(cfg, kinds[k].name, kinds[k].at, kinds[k].dense);
    }
    const char *const *sets[] = { net_cfgs, dnnl_cfgs, chain_cfgs, nobn_cfgs };
    size_t counts[] = { sizeof net_cfgs / sizeof *net_cfgs, sizeof dnnl_cfgs / sizeof *dnnl_cfgs,
                        sizeof chain_cfgs / sizeof *chain_cfgs, sizeof nobn_cfgs / sizeof *nobn_cfgs };
    for (size_t s = 0; s < 4; s++)
        for (size_t c = 0; c < counts[s]; c++) {
            char row[48];
            snprintf(row, sizeof row, "network %zu.%zu", s, c);
            run_row(sets[s][c], row, -1, 0);
        }
    for (int c = P_CHAIN; c < NPATH; c++)
        if (fast_dnnl_mode() && !kept[c]) fail_msg("%s: no layer output was kept blocked in the whole table", paths[c].name);
}

/* The plan on chain_cfgs: which outputs stay blocked, in eval mode and in training, with
 * oneDNN's own choice of layout (nChw8c with AVX2; NHWC for these shapes with AVX-512) and with
 * nChw8c, nChw16c and NHWC forced: the same layers in every case. */
static void test_chain_plan(void **state)
{
    (void)state;
    fast_set_dnnl(1);
    int have = fast_dnnl_mode() == 1;
    if (!have) { fast_set_dnnl(-1); skip(); }
    network *net = load_cfg_text(chain_cfgs[0]);
    assert_non_null(net);
    /* 0 conv 1 maxpool 2 conv 3 conv 4 shortcut 5 maxpool 6 conv32 7 conv32 (no BN) 8 shortcut
     * (option A: adds layer 5's 16 channels) 9 conv12 (12 channels: no block) 10 shortcut (its
     * input is NCHW) 11 conv16 (read by a route) 12 route 13 conv32 14 avgpool 15 connected
     * 16 softmax */
    static const int blocked[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
    /* training: the conv without BN (7) takes NCHW, so its input (6) is NCHW too */
    static const int blocked_train[] = { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(net->n, 17);
    static const int blocks[] = { 0, 8, 16, FAST_BLOCK_NHWC };
    for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
        fast_set_block(blocks[k]);
        for (int train = 0; train < 2; train++) {
            net->train = train;
            const int *want = train ? blocked_train : blocked;
            int B = fast_layer_layout(net, 0);
            int b0 = blocks[k] == FAST_BLOCK_NHWC ? 16 : blocks[k];   /* conv 0 has 16 channels */
            if (b0 ? B != b0 : B % 8 != 0 || B == 0)
                fail_msg("block %d train %d: conv 0 (16 channels, read by maxpool and conv) kept in %d", blocks[k], train, B);
            for (int i = 0; i < net->n; i++)
                if ((fast_layer_layout(net, i) != 0) != want[i])
                    fail_msg("block %d train %d: layer %d: layout %d, expected %s", blocks[k], train, i,
                             fast_layer_layout(net, i), want[i] ? "blocked" : "NCHW");
        }
        fast_set_chain(0);
        for (int train = 0; train < 2; train++) {
            net->train = train;
            for (int i = 0; i < net->n; i++) assert_int_equal(fast_layer_layout(net, i), 0);
        }
        fast_set_chain(-1);
    }
    fast_set_block(-1);
    host__free_network(net);
    fast_set_dnnl(-1);
}

/* More networks than the plan cache holds, of two structures, run in turns (plans evicted and
 * rebuilt): each network's eval output equals its output with the chain off. */
static void test_chain_many(void **state)
{
    (void)state;
    fast_set_dnnl(1);
    if (fast_dnnl_mode() != 1) { fast_set_dnnl(-1); skip(); }
    enum { NN = 11 };
    network *nets[NN];
    float *out[NN];
    for (int k = 0; k < NN; k++) {
        nets[k] = load_cfg_text(k % 2 ? dnnl_cfgs[0] : chain_cfgs[0]);   /* two structures */
        assert_non_null(nets[k]);
        net_reset(nets[k]);   /* rolling statistics away from 0 */
        nets[k]->train = 0;
        float *x = rnd((size_t)nets[k]->inputs * nets[k]->batch, 300 + k);
        memcpy(nets[k]->input, x, sizeof(float) * nets[k]->inputs * nets[k]->batch);
        free(x);
        out[k] = malloc(sizeof(float) * nets[k]->outputs * nets[k]->batch);
    }
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < NN; k++) {
            forward_network(nets[k]);
            memcpy(out[k], nets[k]->output, sizeof(float) * nets[k]->outputs * nets[k]->batch);
        }
    fast_set_chain(0);
    for (int k = 0; k < NN; k++) {
        forward_network(nets[k]);
        expect_close(out[k], nets[k]->output, (size_t)nets[k]->outputs * nets[k]->batch, 1e-4, "chain vs no chain, many networks");
        free(out[k]);
        host__free_network(nets[k]);
    }
    fast_set_chain(-1);
    fast_set_dnnl(-1);
}

/* Whole training step through the host API: loss and gradient with fast on and off. */
static void test_host_step(void **state)
{
    (void)state;
    const char *cfg = "cfg/fashion-cnn.cfg";
    if (access(cfg, R_OK)) skip();
    char err[HOST_ERRLEN] = "";
    host_net *h = host_load(cfg, 32, err);
    if (!h) fail_msg("host_load: %s", err);
    int B = host_batch(h), nin = host_inputs(h), nc = host_outputs(h);
    size_t np = host_nparams(h), ns = host_nstats(h);
    float *x = rnd((size_t)B * nin, 71), *y = calloc((size_t)B * nc, sizeof(float));
    for (int i = 0; i < B * nin; i++) x[i] = 0.5f * (x[i] + 1);
    for (int b = 0; b < B; b++) y[b * nc + (b * 3) % nc] = 1;
    float *p = malloc(sizeof(float) * np), *st = malloc(sizeof(float) * (ns ? ns : 1));
    host_get_params(h, p);
    host_get_stats(h, st);
    float *g0 = malloc(sizeof(float) * np), *g1 = malloc(sizeof(float) * np);
    float loss[2];
    int correct[2];
    for (int on = 0; on < 2; on++) {
        fast_set_enabled(on);
        host_set_params(h, p);
        host_set_stats(h, st);
        loss[on] = host_step(h, x, y, &correct[on]);
        host_get_grad(h, on ? g1 : g0);
    }
    fast_set_enabled(1);
    if (fabsf(loss[0] - loss[1]) > 1e-4f * fabsf(loss[0])) fail_msg("loss %g (fast) vs %g (stock)", loss[1], loss[0]);
    assert_int_equal(correct[0], correct[1]);
    expect_close(g1, g0, np, 2e-3, "host_step gradient, fast vs stock");
    free(x); free(y); free(p); free(st); free(g0); free(g1);
    host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_interposed),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_im2col_col2im),
        cmocka_unit_test(test_bn_loops),
        cmocka_unit_test(test_activations_blas1),
        cmocka_unit_test(test_dense_choice),
        cmocka_unit_test(test_host_step),
        cmocka_unit_test(test_chain_plan),
        cmocka_unit_test(test_chain_many),
        cmocka_unit_test(test_backend_table),   /* last: its networks draw from rand() */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
