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
        if (l->output) {   /* in NCHW, whatever layout the fast path keeps it in (fast_chain.c) */
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
    /* the small Fashion-MNIST CNN (ALGORITHMS.md 13) at batch 16 */
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

/* Whole networks, fast (with oneDNN mode `dnnl`) against the library: every layer's output,
 * delta and gradient. With oneDNN the thread counts agree to 1e-5 relative L2 (its weight
 * gradient sums in an order that depends on them); without, bit for bit. */
static void check_nets(const char *const *cfgs, size_t ncfg, int dnnl, int ref_fast)
{
    for (size_t c = 0; c < ncfg; c++) {
        network *net = load_cfg_text(cfgs[c]);
        assert_non_null(net);
        size_t nx = (size_t)net->inputs * net->batch, ny = (size_t)net->truths * net->batch;
        float *x = rnd(nx, 61 + c), *y = calloc(ny, sizeof(float));
        for (int b = 0; b < net->batch; b++) y[b * net->truths + (b * 7 + 3) % net->truths] = 1;
        size_t ns = net_state(net, NULL);
        float *s0 = malloc(sizeof(float) * ns), *s1 = malloc(sizeof(float) * ns), *s2 = malloc(sizeof(float) * ns);
        for (int train = 1; train >= 0; train--) {
            fast_set_dnnl(0);
            float c0 = run_net(net, x, y, train, ref_fast, 1, s0);
            fast_set_dnnl(dnnl);
            float c1 = run_net(net, x, y, train, 1, 1, s1);
            float c2 = run_net(net, x, y, train, 1, 2, s2);
            if (fabsf(c0 - c1) > 1e-4f * fabsf(c0) + 1e-6f) fail_msg("cfg %zu train %d: cost %g vs %g", c, train, c1, c0);
            if (dnnl ? fabsf(c2 - c1) > 1e-5f * fabsf(c1) + 1e-6f : c2 != c1)
                fail_msg("cfg %zu train %d: cost %g with 2 threads, %g with 1", c, train, c2, c1);
            /* layer by layer, each array compared on its own */
            size_t o = 0;
            for (int i = 0; i < net->n; i++) {
                layer *l = &net->layers[i];
                size_t cnt = (size_t)l->outputs * l->batch;
                char what[96];
                snprintf(what, sizeof what, "cfg %zu%s train %d layer %d output", c, cfgs == net_cfgs ? "" : cfgs == dnnl_cfgs ? "d" : "n", train, i);
                expect_close(s1 + o, s0 + o, cnt, 1e-4, what);
                o += cnt;
                snprintf(what, sizeof what, "cfg %zu train %d layer %d delta", c, train, i);
                if (train) expect_close(s1 + o, s0 + o, cnt, 2e-3, what);
                o += cnt;
                if (l->type == CONVOLUTIONAL || l->type == CONNECTED) {
                    int nb = l->type == CONNECTED ? l->outputs : l->n;
                    size_t nw = l->type == CONNECTED ? (size_t)l->inputs * l->outputs : (size_t)l->nweights;
                    size_t k = nw + nb + (l->batch_normalize ? 3 * (size_t)nb : 0);
                    snprintf(what, sizeof what, "cfg %zu train %d layer %d weight grad", c, train, i);
                    if (train) expect_close(s1 + o, s0 + o, nw, 2e-3, what);
                    snprintf(what, sizeof what, "cfg %zu train %d layer %d bias/scale grad, rolling", c, train, i);
                    if (train) expect_close(s1 + o + nw, s0 + o + nw, k - nw, 2e-3, what);
                    o += k;
                }
            }
            /* the fast path gives the same bits with 1 and 2 threads (oneDNN: close) */
            if (dnnl) expect_close(s2, s1, ns, 1e-5, "fast+oneDNN 2 threads vs 1 thread");
            else expect_same(s2, s1, ns, "fast 2 threads vs 1 thread");
        }
        free(x); free(y); free(s0); free(s1); free(s2);
        host__free_network(net);
    }
    fast_set_dnnl(-1);
}

static void test_whole_network(void **state)
{
    (void)state;
    check_nets(net_cfgs, sizeof net_cfgs / sizeof *net_cfgs, 0, 0);
    fast_set_dense(0);   /* the tiny maps through im2col as well */
    check_nets(net_cfgs, sizeof net_cfgs / sizeof *net_cfgs, 0, 0);
    fast_set_dense(-1);
}

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

/* oneDNN on every convolution it takes (DKDNNL=1), and by the rule (auto).
 * References: the library itself for networks without BN; for networks with BN the fast path
 * without oneDNN (itself checked against the library above). Reason: BN's backward subtracts
 * nearly equal sums; the library takes them in float, the fast BN in double, and for some
 * random weights the library's own rounding is then above 2e-3 on the first layer's delta
 * (measured 3e-3..3e-2 with other seeds, with oneDNN off as well). Against the fast BN the
 * only difference left is the convolution's. */
static void test_whole_network_dnnl(void **state)
{
    (void)state;
    fast_set_dnnl(1);
    int have = fast_dnnl_mode() == 1;   /* 0 in a build without oneDNN (make DNNL=0) */
    fast_set_dnnl(-1);
    if (!have) skip();
    check_nets(net_cfgs, sizeof net_cfgs / sizeof *net_cfgs, 1, 1);
    check_nets(dnnl_cfgs, sizeof dnnl_cfgs / sizeof *dnnl_cfgs, 1, 1);
    check_nets(chain_cfgs, sizeof chain_cfgs / sizeof *chain_cfgs, 1, 1);
    fast_set_chain(0);   /* every output NCHW */
    check_nets(dnnl_cfgs, sizeof dnnl_cfgs / sizeof *dnnl_cfgs, 1, 1);
    check_nets(chain_cfgs, sizeof chain_cfgs / sizeof *chain_cfgs, 1, 1);
    fast_set_chain(-1);
    check_nets(nobn_cfgs, sizeof nobn_cfgs / sizeof *nobn_cfgs, 1, 0);
    check_nets(net_cfgs, sizeof net_cfgs / sizeof *net_cfgs, 2, 1);
}

/* The chain's plan on chain_cfgs in eval mode: which outputs stay blocked. */
static void test_chain_plan(void **state)
{
    (void)state;
    fast_set_dnnl(1);
    int have = fast_dnnl_mode() == 1;
    if (!have) { fast_set_dnnl(-1); skip(); }
    network *net = load_cfg_text(chain_cfgs[0]);
    assert_non_null(net);
    net->train = 0;
    int B = fast_layer_layout(net, 0);
    if (B != 8 && B != 16) fail_msg("conv 0 (16 channels, read by maxpool and conv) not blocked: %d", B);
    /* 0 conv 1 maxpool 2 conv 3 conv 4 shortcut 5 maxpool 6 conv32 7 conv32 (no BN) 8 shortcut
     * 9 conv12 (12 channels: no block) 10 shortcut (inputs in two layouts) 11 conv16 (read by a
     * route) 12 route 13 conv32 14 avgpool 15 connected 16 softmax */
    static const int blocked[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(net->n, 17);
    for (int i = 0; i < net->n; i++)
        if ((fast_layer_layout(net, i) != 0) != blocked[i])
            fail_msg("layer %d: layout %d, expected %s", i, fast_layer_layout(net, i), blocked[i] ? "blocked" : "NCHW");
    /* training: the conv without BN (7) takes NCHW, so its input (6) is NCHW too */
    static const int blocked_train[] = { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    net->train = 1;
    for (int i = 0; i < net->n; i++)
        if ((fast_layer_layout(net, i) != 0) != blocked_train[i])
            fail_msg("train: layer %d: layout %d, expected %s", i, fast_layer_layout(net, i), blocked_train[i] ? "blocked" : "NCHW");
    fast_set_chain(0);
    for (int i = 0; i < net->n; i++) assert_int_equal(fast_layer_layout(net, i), 0);
    net->train = 0;
    for (int i = 0; i < net->n; i++) assert_int_equal(fast_layer_layout(net, i), 0);
    fast_set_chain(-1);
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
        cmocka_unit_test(test_whole_network),
        cmocka_unit_test(test_dense_choice),
        cmocka_unit_test(test_host_step),
        cmocka_unit_test(test_chain_plan),
        cmocka_unit_test(test_chain_many),
        cmocka_unit_test(test_whole_network_dnnl),   /* last: its networks draw from rand() */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
