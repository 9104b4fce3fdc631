/* test_host.c: the parameter view against Darknet's own save_weights, the plugin's SGD
 * against update_network, the batch gradient against finite differences, the exact BN
 * recompute against a brute-force computation, and the age of the BN running statistics
 * against Darknet's own running average. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "host_private.h"
#include "run.h"
#include "wspace.h"

#define NET_HDR "[net]\nbatch=%d\nwidth=%d\nheight=%d\nchannels=%d\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"

static const char *CONV_BN =
    "\n[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "\n[maxpool]\nsize=2\nstride=2\n"
    "\n[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "\n[connected]\noutput=4\nactivation=linear\n\n[softmax]\n";
/* smooth activations and no max-pooling: finite differences see no kinks */
static const char *SMOOTH_BN =
    "\n[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "\n[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=logistic\n"
    "\n[connected]\noutput=8\nbatch_normalize=1\nactivation=tanh\n"
    "\n[connected]\noutput=4\nactivation=linear\n\n[softmax]\n";
static const char *CONV_NOBN =
    "\n[convolutional]\nfilters=6\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "\n[convolutional]\nfilters=4\nsize=1\nstride=1\npad=0\nactivation=linear\n"
    "\n[avgpool]\n\n[softmax]\n";
static const char *RESNET =
    "\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "\n[shortcut]\nfrom=-3\nactivation=relu\n"
    "\n[avgpool]\n\n[connected]\noutput=4\nactivation=linear\n\n[softmax]\n";
static const char *MLP =
    "\n[connected]\noutput=20\nbatch_normalize=1\nactivation=relu\n"
    "\n[dropout]\nprobability=.3\n"
    "\n[connected]\noutput=4\nactivation=linear\n\n[softmax]\n";
static const char *LOCAL_DECONV =
    "\n[local]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "\n[deconvolutional]\nbatch_normalize=1\nfilters=4\nsize=2\nstride=2\nactivation=relu\n"
    /* [rnn], [gru], [lstm] are refused at load; [crnn] only as linear without BN */
    "\n[crnn]\noutput_filters=3\nhidden_filters=3\nactivation=linear\n"
    "\n[connected]\noutput=4\nactivation=linear\n\n[softmax]\n";

static char *write_cfg(int batch, int w, int h, int c, const char *body, const char *extra) {
    char buf[8192];
    snprintf(buf, sizeof buf, NET_HDR "%s%s", batch, w, h, c, extra ? extra : "", body);
    return tu_write_temp(".cfg", buf);
}

static host_net *load(char *cfg) {
    char err[HOST_ERRLEN] = "";
    host_net *h = host_load(cfg, 0, err);
    if (!h) fprintf(stderr, "load failed: %s\n", err);
    assert_non_null(h);
    return h;
}

static void randomise(host_net *h, unsigned seed) {
    size_t n = host_nparams(h), m = host_nstats(h);
    float *p = malloc(n * sizeof(float)), *s = malloc((m + 1) * sizeof(float));
    tu_fill_random(p, n, 0.3f, seed);
    tu_fill_random(s, m, 0.5f, seed + 7);
    for (size_t i = 0; i < m; i++) s[i] = fabsf(s[i]) + 0.1f;
    host_set_params(h, p);
    host_set_stats(h, s);
    free(p); free(s);
}

/* The flat vector equals the payload of the file save_weights writes, byte for byte. */
/* darknet_loads = 0 for deconvolutional layers: Darknet's own load_convolutional_weights
 * divides by l.groups, which make_deconvolutional_layer leaves 0 (SIGFPE in the library). */
static void check_save_order_ex(const char *body, const char *extra, int w, int hh, int c, int darknet_loads) {
    char *cfg = write_cfg(4, w, hh, c, body, extra);
    host_net *h = load(cfg);
    randomise(h, 11);
    char *path = tu_temp_path(".weights");
    save_weights(h->net, path);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    size_t len = host_payload_len(h);
    assert_int_equal(size, 20 + (long)(len * sizeof(float)));
    fseek(fp, 20, SEEK_SET);
    float *file = malloc(len * sizeof(float)), *mine = malloc(len * sizeof(float));
    assert_int_equal(fread(file, sizeof(float), len, fp), len);
    fclose(fp);
    float *p = malloc(host_nparams(h) * sizeof(float)), *s = malloc((host_nstats(h) + 1) * sizeof(float));
    host_get_params(h, p);
    host_get_stats(h, s);
    host_pack_payload(h, p, s, mine);
    assert_memory_equal(file, mine, len * sizeof(float));
    /* and our reader puts a Darknet-written file back exactly */
    host_net *h2 = load(cfg);
    char err[HOST_ERRLEN];
    assert_int_equal(host_load_weights(h2, path, err), 0);
    float *p2 = malloc(host_nparams(h) * sizeof(float));
    host_get_params(h2, p2);
    assert_memory_equal(p, p2, host_nparams(h) * sizeof(float));
    /* our writer gives a file Darknet's load_weights reads back */
    char *path2 = tu_temp_path(".weights");
    assert_int_equal(host_save_weights(h, path2, err), 0);
    host_net *h3 = load(cfg);
    if (darknet_loads) {
        load_weights(h3->net, path2);
        host_get_params(h3, p2);
        assert_memory_equal(p, p2, host_nparams(h) * sizeof(float));
    }
    unlink(path); unlink(path2); unlink(cfg);
    free(path); free(path2); free(cfg); free(file); free(mine); free(p); free(s); free(p2);
    host_free(h); host_free(h2); host_free(h3);
}

static void check_save_order(const char *body, const char *extra, int w, int hh, int c) {
    check_save_order_ex(body, extra, w, hh, c, 1);
}
static void test_save_order_conv_bn(void **s) { (void)s; check_save_order(CONV_BN, NULL, 8, 8, 2); }
static void test_save_order_conv_nobn(void **s) { (void)s; check_save_order(CONV_NOBN, NULL, 8, 8, 3); }
static void test_save_order_resnet(void **s) { (void)s; check_save_order(RESNET, NULL, 6, 6, 3); }
static void test_save_order_mlp(void **s) { (void)s; check_save_order(MLP, NULL, 5, 1, 1); }

static void test_save_order_local_deconv_crnn(void **s) { (void)s; check_save_order_ex(LOCAL_DECONV, "time_steps=1\n", 5, 5, 2, 0); }

static void test_param_counts(void **s) {
    (void)s;
    host_net *h = load("cfg/fashion-cnn.cfg");
    /* PyTorch counts 104,426 for the twin; Darknet's BN conv has no conv bias, so the same */
    assert_int_equal(host_nparams(h), 104426);
    assert_int_equal(host_nstats(h), 2 * (32 + 64 + 128));
    host_free(h);
}

static void expect_refusal(const char *text, const char *needle) {
    char *cfg = tu_write_temp(".cfg", text);
    char err[HOST_ERRLEN] = "";
    host_net *h = host_load(cfg, 0, err);
    assert_null(h);
    if (!strstr(err, needle)) fprintf(stderr, "error was: %s\n", err);
    assert_non_null(strstr(err, needle));
    assert_non_null(strstr(err, cfg));
    unlink(cfg); free(cfg);
}

static void test_refusals(void **s) {
    (void)s;
    expect_refusal("[net]\nbatch=2\nwidth=4\nheight=4\nchannels=1\n[batchnorm]\n[connected]\noutput=2\n[softmax]\n", "layer 0 (batchnorm)");
    expect_refusal("[net]\nbatch=2\nwidth=4\nheight=4\nchannels=1\n[bogus]\n[softmax]\n", "unknown section [bogus]");
    expect_refusal("[convolutional]\nfilters=2\n[net]\n", "first section must be [net]");
    expect_refusal("batch=3\n[net]\n", "option before the [net] section");
    expect_refusal("[net]\nbatch=2\nwidth=4\nheight=4\nchannels=1\n[connected]\noutput=2\n", "last layer must be [softmax]");
    expect_refusal("[net]\nbatch=2\n", "no layers");
    char err[HOST_ERRLEN];
    assert_null(host_load("/nonexistent/x.cfg", 0, err));
    assert_non_null(strstr(err, "/nonexistent/x.cfg"));
}

static void test_weights_errors(void **s) {
    (void)s;
    char *cfg = write_cfg(4, 8, 8, 2, CONV_BN, NULL);
    host_net *h = load(cfg);
    char err[HOST_ERRLEN];
    char *path = tu_temp_path(".weights");
    assert_int_equal(host_save_weights(h, path, err), 0);
    /* truncate by 4 bytes: a clear error naming the file */
    assert_int_equal(truncate(path, 20 + (host_payload_len(h) - 1) * 4), 0);
    assert_int_not_equal(host_load_weights(h, path, err), 0);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "floats"));
    /* not a weights file */
    FILE *fp = fopen(path, "wb"); fputs("hi", fp); fclose(fp);
    assert_int_not_equal(host_load_weights(h, path, err), 0);
    assert_non_null(strstr(err, path));
    assert_int_not_equal(host_load_weights(h, "/nonexistent.weights", err), 0);
    /* saving into a missing directory fails and leaves nothing behind */
    assert_int_not_equal(host_save_weights(h, "/nonexistent-dir/x.weights", err), 0);
    assert_non_null(strstr(err, "/nonexistent-dir/x.weights"));
    unlink(path); unlink(cfg); free(path); free(cfg); host_free(h);
}

static void random_batch(host_net *h, float *x, float *y, unsigned seed) {
    int B = host_batch(h), k = host_outputs(h);
    tu_fill_random(x, (size_t)B * host_inputs(h), 1.0f, seed);
    for (int i = 0; i < B * host_inputs(h); i++) x[i] = fabsf(x[i]);
    memset(y, 0, (size_t)B * k * sizeof(float));
    for (int i = 0; i < B; i++) y[i * k + (i * 7 + seed) % k] = 1;
}

/* Our SGD (momentum, decay on weights only) reproduces update_network over several steps. */
static void test_update_equivalence(void **s) {
    (void)s;
    char *cfg = write_cfg(8, 8, 8, 2, CONV_BN, NULL);
    host_net *a = load(cfg), *b = load(cfg);
    randomise(a, 3); randomise(b, 3);
    size_t n = host_nparams(a);
    float *w = malloc(n * 4), *g = malloc(n * 4), *v = calloc(n, 4), *wa = malloc(n * 4);
    unsigned char *mask = malloc(n);
    host_decay_mask(b, mask);
    host_get_params(b, w);
    int B = host_batch(a);
    float *x = malloc((size_t)B * host_inputs(a) * 4), *y = malloc((size_t)B * host_outputs(a) * 4);
    host_zero_grad(a);
    for (int step = 0; step < 5; step++) {
        random_batch(a, x, y, step);
        /* Darknet's own path: accumulate into the momentum-scaled updates, then update */
        network *net = a->net;
        memcpy(net->input, x, (size_t)B * net->inputs * 4);
        memcpy(net->truth, y, (size_t)B * net->truths * 4);
        net->train = 1;
        forward_network(net);
        backward_network(net);
        update_network(net);
        /* the plugin's path */
        host_step(b, x, y, NULL);
        host_get_grad(b, g);
        ws_sgd_step(n, w, g, v, host_policy_rate(b, step), host_cfg_momentum(b), host_cfg_decay(b), mask);
        host_set_params(b, w);
    }
    host_get_params(a, wa);
    double maxd = tu_max_abs_diff(wa, w, n);
    printf("update equivalence: max |dw| = %.3g after 5 steps\n", maxd);
    assert_true(maxd < 1e-6);
    /* and the steps did move the weights */
    float *w0 = malloc(n * 4);
    host_net *c = load(cfg); randomise(c, 3); host_get_params(c, w0);
    assert_true(tu_max_abs_diff(w0, w, n) > 1e-3);
    host_free(a); host_free(b); host_free(c); unlink(cfg); free(cfg);
    free(w); free(g); free(v); free(wa); free(mask); free(x); free(y); free(w0);
}

/* Central finite differences of the mean loss along the gradient direction. */
static void test_gradient_fd(void **s) {
    (void)s;
    int S = getenv("FD_S") ? atoi(getenv("FD_S")) : 16;
    char *cfg = write_cfg(getenv("FD_B") ? atoi(getenv("FD_B")) : 32, S, S, 2, getenv("FD_NOBN") ? CONV_NOBN : getenv("FD_RELU") ? CONV_BN : SMOOTH_BN, NULL);
    host_net *h = load(cfg);
    randomise(h, 5);
    int B = host_batch(h);
    size_t n = host_nparams(h);
    float *x = malloc((size_t)B * host_inputs(h) * 4), *y = malloc((size_t)B * host_outputs(h) * 4);
    float *w = malloc(n * 4), *g = malloc(n * 4), *wp = malloc(n * 4);
    random_batch(h, x, y, 9);
    host_get_params(h, w);
    host_step(h, x, y, NULL);
    host_get_grad(h, g);
    double gn = ws_norm(n, g);
    assert_true(gn > 0);
    /* fourth-order central stencil: error O(eps^4), so curvature does not mask the check */
    const double eps = getenv("FD_EPS") ? atof(getenv("FD_EPS")) : 1e-2;
    const double at[4] = { 1, -1, 2, -2 };
    double f[4];
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < n; i++) wp[i] = w[i] + (float)(at[k] * eps * g[i] / gn);
        host_set_params(h, wp);
        f[k] = host_step(h, x, y, NULL);
    }
    double d = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * eps);
    double rel = fabs(d - gn) / gn;
    printf("gradient check: |g| = %.6g, finite difference = %.6g, rel err %.2e\n", gn, d, rel);
    assert_true(rel < 1e-3);
    host_free(h); unlink(cfg); free(cfg); free(x); free(y); free(w); free(g); free(wp);
}

/* Brute force: the first conv layer's pre-BN outputs for every image, by direct loops. */
static void brute_conv_stats(const layer *l, const dataset *d, double *mean, double *var) {
    int C = l->c, H = l->h, W = l->w, F = l->n, K = l->size, P = l->pad, S = l->stride;
    int oh = l->out_h, ow = l->out_w;
    for (int f = 0; f < F; f++) {
        double s1 = 0, s2 = 0; long cnt = 0;
        for (int img = 0; img < d->n; img++) {
            const float *X = d->X + (size_t)img * C * H * W;
            for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
                double acc = 0;
                for (int c = 0; c < C; c++) for (int ky = 0; ky < K; ky++) for (int kx = 0; kx < K; kx++) {
                    int iy = oy * S + ky - P, ix = ox * S + kx - P;
                    if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                    acc += (double)l->weights[((f * C + c) * K + ky) * K + kx] * X[(c * H + iy) * W + ix];
                }
                s1 += acc; s2 += acc * acc; cnt++;
            }
        }
        mean[f] = s1 / cnt;
        var[f] = s2 / cnt - mean[f] * mean[f];
    }
}

static dataset random_dataset(int n, int w, int h, int c, int classes, unsigned seed) {
    dataset d = {0};
    d.n = n; d.w = w; d.h = h; d.c = c; d.classes = classes;
    d.X = malloc((size_t)n * w * h * c * sizeof(float));
    d.labels = malloc(n * sizeof(int));
    tu_fill_random(d.X, (size_t)n * w * h * c, 1.0f, seed);
    for (int i = 0; i < n * w * h * c; i++) d.X[i] = fabsf(d.X[i]);
    for (int i = 0; i < n; i++) d.labels[i] = i % classes;
    return d;
}

static void test_bn_recompute_conv(void **s) {
    (void)s;
    char *cfg = write_cfg(64, 8, 8, 2, CONV_BN, NULL);
    host_net *h = load(cfg);
    randomise(h, 21);
    dataset d = random_dataset(300, 8, 8, 2, 4, 4);   /* 4 full batches + one of 44 */
    run_bn_update(h, &d, 0, NULL);
    layer *l = &h->net->layers[0];
    double mean[6], var[6];
    brute_conv_stats(l, &d, mean, var);
    for (int f = 0; f < l->n; f++) {
        assert_true(fabs(l->rolling_mean[f] - mean[f]) < 1e-4 * (1 + fabs(mean[f])));
        assert_true(fabs(l->rolling_variance[f] - var[f]) < 1e-4 * (1 + var[f]));
    }
    /* limit: the first 100 images only */
    dataset d100 = d; d100.n = 100;
    brute_conv_stats(l, &d100, mean, var);
    run_bn_update(h, &d, 100, NULL);
    for (int f = 0; f < l->n; f++) {
        assert_true(fabs(l->rolling_mean[f] - mean[f]) < 1e-4 * (1 + fabs(mean[f])));
        assert_true(fabs(l->rolling_variance[f] - var[f]) < 1e-4 * (1 + var[f]));
    }
    /* deeper layers get finite, positive variances */
    layer *l2 = &h->net->layers[2];
    for (int f = 0; f < l2->n; f++) assert_true(l2->rolling_variance[f] > 0 && isfinite(l2->rolling_mean[f]));
    data_free(&d); host_free(h); unlink(cfg); free(cfg);
}

static void test_bn_recompute_connected(void **s) {
    (void)s;
    char *cfg = write_cfg(32, 5, 1, 1, MLP, NULL);
    host_net *h = load(cfg);
    randomise(h, 8);
    dataset d = random_dataset(100, 5, 1, 1, 4, 6);
    run_bn_update(h, &d, 0, NULL);
    layer *l = &h->net->layers[0];
    for (int o = 0; o < l->outputs; o++) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < d.n; i++) {
            double a = 0;
            for (int j = 0; j < 5; j++) a += (double)l->weights[o * 5 + j] * d.X[i * 5 + j];
            s1 += a; s2 += a * a;
        }
        double m = s1 / d.n, v = s2 / d.n - m * m;
        assert_true(fabs(l->rolling_mean[o] - m) < 1e-4 * (1 + fabs(m)));
        assert_true(fabs(l->rolling_variance[o] - v) < 1e-4 * (1 + v));
    }
    data_free(&d); host_free(h); unlink(cfg); free(cfg);
}

/* one-hot rows for d's labels */
static float *one_hot(const dataset *d) {
    float *y = calloc((size_t)d->n * d->classes, sizeof(float));
    for (int i = 0; i < d->n; i++) y[(size_t)i * d->classes + d->labels[i]] = 1;
    return y;
}

/* The initial share of the BN statistics follows Darknet's own running average: k steps on
 * one batch with fixed weights leave rolling = (1 - 0.99^k) batch statistics, and the share
 * is 0.99^k; a recompute makes it 0; a loaded file gets 0.99^(seen / the cfg's batch). */
static void test_bn_initial_share(void **s) {
    (void)s;
    char *cfg = write_cfg(16, 8, 8, 2, CONV_BN, NULL);
    host_net *h = load(cfg);
    assert_true(host_bn_initial_share(h) == 1.0);
    assert_true(run_bn_young(h));
    long grow = 0;
    for (double v = 1; v > RUN_BN_YOUNG; v *= 0.99) grow++;
    assert_int_equal(run_bn_batches_to_grow(h), grow);
    assert_int_equal(grow, 299);
    float *p = malloc(host_nparams(h) * sizeof(float));
    tu_fill_random(p, host_nparams(h), 0.3f, 5);
    host_set_params(h, p);          /* the statistics stay Darknet's initial zeros */
    dataset d = random_dataset(16, 8, 8, 2, 4, 9);
    float *y = one_hot(&d);
    for (int k = 0; k < 7; k++) host_step(h, d.X, y, NULL);
    double share = pow(0.99, 7);
    assert_true(fabs(host_bn_initial_share(h) - share) < 1e-12);
    for (int li = 0; li <= 2; li += 2) {   /* both conv BN layers (layer 1 is the maxpool) */
        layer *l = &h->net->layers[li];
        for (int f = 0; f < l->n; f++) {
            assert_true(fabs(l->rolling_mean[f] - (1 - share) * l->mean[f]) < 1e-5 * (1 + fabs(l->mean[f])));
            assert_true(fabs(l->rolling_variance[f] - (1 - share) * l->variance[f]) < 1e-5 * (1 + l->variance[f]));
        }
    }
    run_bn_update(h, &d, 0, NULL);
    assert_true(host_bn_initial_share(h) == 0 && !run_bn_young(h) && run_bn_batches_to_grow(h) == 0);

    /* files: seen / the cfg's batch (16), whatever batch the network is loaded with */
    char err[HOST_ERRLEN], note[4096];
    char *path = tu_temp_path(".weights");
    struct { uint64_t seen; double share; int young; } cases[] = {
        { 16 * 40, pow(0.99, 40), 1 }, { 16 * 298 + 15, pow(0.99, 298), 1 }, { 16 * 299, pow(0.99, 299), 0 },
        { 0, 0, 0 },   /* seen 0, statistics set (recomputed): trusted */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        host_set_seen(h, cases[c].seen);
        assert_int_equal(host_save_weights(h, path, err), 0);
        host_net *h2 = host_load(cfg, 4, err);
        assert_non_null(h2);
        assert_int_equal(host_load_weights(h2, path, err), 0);
        assert_true(fabs(host_bn_initial_share(h2) - cases[c].share) < 1e-12);
        assert_int_equal(run_bn_young(h2), cases[c].young);
        assert_int_equal(run_bn_young_warning(h2, path, note, sizeof note), cases[c].young);
        if (cases[c].young) {
            char want[128];
            snprintf(want, sizeof want, "(%llu batches of 16)", (unsigned long long)(cases[c].seen / 16));
            assert_non_null(strstr(note, path));
            assert_non_null(strstr(note, want));
        } else assert_string_equal(note, "");
        host_free(h2);
    }
    /* a never-trained network (variances 0) saved with seen 0: young, and said so */
    host_net *h3 = load(cfg);
    assert_int_equal(host_save_weights(h3, path, err), 0);
    host_set_bn_initial_share(h3, 0);
    assert_int_equal(host_load_weights(h3, path, err), 0);
    assert_true(host_bn_initial_share(h3) == 1.0);
    assert_int_equal(run_bn_young_warning(h3, path, note, sizeof note), 1);
    assert_non_null(strstr(note, "initial zeros"));
    host_free(h3);
    /* no BN: nothing to be young */
    char *cfg2 = write_cfg(4, 8, 8, 2, CONV_NOBN, NULL);
    host_net *h4 = load(cfg2);
    assert_true(host_bn_initial_share(h4) == 0 && !run_bn_young(h4));
    host_free(h4);
    unlink(path); unlink(cfg); unlink(cfg2);
    free(path); free(cfg); free(cfg2); free(p); free(y);
    data_free(&d); host_free(h);
}

/* run_bn_swap: exact statistics in while the running ones are young (or when forced), the
 * running ones and their share back out bit for bit; the exact ones kept for the same seen. */
static void test_bn_swap(void **s) {
    (void)s;
    char *cfg = write_cfg(16, 8, 8, 2, CONV_BN, NULL);
    host_net *h = load(cfg), *ref = load(cfg);
    float *p = malloc(host_nparams(h) * sizeof(float));
    tu_fill_random(p, host_nparams(h), 0.3f, 6);
    host_set_params(h, p);
    host_set_params(ref, p);
    dataset d = random_dataset(40, 8, 8, 2, 4, 10), d2 = random_dataset(40, 8, 8, 2, 4, 11);
    float *y = one_hot(&d);
    for (int k = 0; k < 3; k++) host_step(h, d.X, y, NULL);
    host_set_seen(h, 48);
    size_t ns = host_nstats(h);
    float *running = malloc(ns * sizeof(float)), *exact = malloc(ns * sizeof(float)), *now = malloc(ns * sizeof(float));
    host_get_stats(h, running);
    run_bn_update(ref, &d, 24, NULL);
    host_get_stats(ref, exact);
    eval_result want = run_eval(ref, &d2, NULL, NULL);

    run_bn_swap sw;
    assert_int_equal(run_bn_swap_init(&sw, h, &d, 24), 0);
    assert_int_equal(run_bn_swap_images(&sw), 24);
    assert_int_equal(run_bn_swap_in(&sw, 0, NULL), 1);
    host_get_stats(h, now);
    assert_memory_equal(now, exact, ns * sizeof(float));
    assert_true(host_bn_initial_share(h) == 0);
    run_bn_swap_out(&sw);
    host_get_stats(h, now);
    assert_memory_equal(now, running, ns * sizeof(float));
    assert_true(fabs(host_bn_initial_share(h) - pow(0.99, 3)) < 1e-12);
    assert_int_equal(sw.young_swaps, 1);
    /* the same seen: the kept exact statistics, even from another data set */
    sw.train = &d2;
    int ex = 0;
    eval_result r = run_eval_swap(&sw, &d2, NULL, NULL, &ex);
    assert_int_equal(ex, 1);
    assert_true(r.nll == want.nll && r.acc == want.acc);
    host_get_stats(h, now);
    assert_memory_equal(now, running, ns * sizeof(float));
    /* a step later (seen moved): recomputed, here from d2 */
    host_set_seen(h, 64);
    assert_int_equal(run_bn_swap_in(&sw, 0, NULL), 1);
    host_get_stats(h, now);
    assert_true(memcmp(now, exact, ns * sizeof(float)) != 0);
    run_bn_swap_out(&sw);
    /* grown statistics stay unless forced */
    host_set_bn_initial_share(h, 0.01);
    assert_int_equal(run_bn_swap_in(&sw, 0, NULL), 0);
    host_get_stats(h, now);
    assert_memory_equal(now, running, ns * sizeof(float));
    assert_int_equal(run_bn_swap_in(&sw, 1, NULL), 1);
    run_bn_swap_out(&sw);
    assert_true(host_bn_initial_share(h) == 0.01);
    assert_int_equal(sw.young_swaps, 3);
    /* saving while young writes the exact statistics, the network keeps its running ones */
    char err[HOST_ERRLEN];
    char *path = tu_temp_path(".weights");
    host_set_bn_initial_share(h, 0.5);
    sw.train = &d;
    host_set_seen(h, 80);
    assert_int_equal(run_save_swap(&sw, path, &ex, err), 0);
    assert_int_equal(ex, 1);
    host_net *back = load(cfg);
    assert_int_equal(host_load_weights(back, path, err), 0);
    host_get_stats(back, now);
    assert_memory_equal(now, exact, ns * sizeof(float));
    host_get_stats(h, now);
    assert_memory_equal(now, running, ns * sizeof(float));
    /* diverged weights: exact statistics that are not finite are refused, nothing written */
    for (size_t i = 0; i < host_nparams(h); i++) p[i] *= 1e30f;
    host_set_params(h, p);
    host_set_seen(h, 96);
    unlink(path);
    assert_int_equal(run_bn_swap_in(&sw, 1, NULL), -1);
    host_get_stats(h, now);
    assert_memory_equal(now, running, ns * sizeof(float));
    assert_true(host_bn_initial_share(h) == 0.5);
    assert_int_equal(run_save_swap(&sw, path, &ex, err), -2);
    assert_non_null(strstr(err, "not finite"));
    assert_int_equal(access(path, F_OK), -1);
    eval_result nan_r = run_eval_swap(&sw, &d, NULL, NULL, &ex);
    assert_true(isnan(nan_r.nll) && isnan(nan_r.acc));
    run_bn_swap_free(&sw);
    unlink(path); unlink(cfg);
    free(path); free(cfg); free(p); free(y); free(running); free(exact); free(now);
    data_free(&d); data_free(&d2); host_free(h); host_free(ref); host_free(back);
}

static void test_predict_matches_library(void **s) {
    (void)s;
    char *cfg = write_cfg(8, 8, 8, 2, CONV_BN, NULL);
    host_net *h = load(cfg);
    randomise(h, 2);
    dataset d = random_dataset(13, 8, 8, 2, 4, 3);
    float *probs = malloc((size_t)d.n * 4 * sizeof(float));
    eval_result r = run_eval(h, &d, probs, NULL);
    assert_int_equal(r.n, 13);
    /* each image alone through Darknet's network_predict (batch set to 1) */
    set_batch_network(h->net, 1);
    double nll = 0;
    for (int i = 0; i < d.n; i++) {
        float *p = network_predict(h->net, d.X + (size_t)i * 128);
        for (int c = 0; c < 4; c++) assert_true(fabsf(p[c] - probs[i * 4 + c]) < 1e-5f);
        nll -= log(p[d.labels[i]]);
    }
    set_batch_network(h->net, 8);
    assert_true(fabs(nll / d.n - r.nll) < 1e-4);
    free(probs); data_free(&d); host_free(h); unlink(cfg); free(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_order_conv_bn),
        cmocka_unit_test(test_save_order_conv_nobn),
        cmocka_unit_test(test_save_order_resnet),
        cmocka_unit_test(test_save_order_mlp),
        cmocka_unit_test(test_save_order_local_deconv_crnn),
        cmocka_unit_test(test_param_counts),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_weights_errors),
        cmocka_unit_test(test_update_equivalence),
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_bn_recompute_conv),
        cmocka_unit_test(test_bn_recompute_connected),
        cmocka_unit_test(test_predict_matches_library),
        cmocka_unit_test(test_bn_initial_share),
        cmocka_unit_test(test_bn_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
