/* test_cfgs.c: the cfgs Darknet users have (issue 13). [cost] after [softmax] trains with the
 * plain cross-entropy gradient (checked against the same net without [cost], against the
 * library's doubled gradient, and by finite differences); every key this Darknet would not
 * read and every unknown activation is a one-line error with file:line (and
 * DKMC_ALLOW_UNUSED=1 goes on); malformed cfgs that make the library exit, abort or crash
 * get a message instead of a signal; adam=1 is reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "host_private.h"
#include "wspace.h"

#define HDR "[net]\nbatch=%d\nwidth=%d\nheight=%d\nchannels=%d\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"

/* smooth activations, no max-pooling: finite differences see no kinks */
static const char *SMOOTH_NET =
    "\n[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "\n[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=logistic\n"
    "\n[connected]\noutput=8\nbatch_normalize=1\nactivation=tanh\n"
    "\n[connected]\noutput=4\nactivation=linear\n\n[softmax]\n";

static char *cfg_text(int batch, int w, int h, int c, const char *body, const char *tail) {
    char buf[8192];
    snprintf(buf, sizeof buf, HDR "%s%s", batch, w, h, c, body, tail ? tail : "");
    return tu_write_temp(".cfg", buf);
}

static host_net *load(const char *cfg) {
    char err[HOST_ERRLEN] = "";
    host_net *h = host_load(cfg, 0, err);
    if (!h) fprintf(stderr, "load failed: %s\n", err);
    assert_non_null(h);
    return h;
}

static void batch_xy(host_net *h, float *x, float *y, unsigned seed) {
    int B = host_batch(h), k = host_outputs(h), in = host_inputs(h);
    tu_fill_random(x, (size_t)B * in, 1.0f, seed);
    memset(y, 0, (size_t)B * k * sizeof(float));
    for (int i = 0; i < B; i++) y[i * k + (i * 5 + seed) % k] = 1;
}

/* [softmax] + [cost]: same loss and gradient as [softmax] alone, bit for bit; the loss is the
 * mean cross-entropy of the softmax output; Darknet's full net would give twice the gradient. */
static void test_cost_after_softmax(void **s) {
    (void)s;
    char *ca = cfg_text(16, 8, 8, 2, SMOOTH_NET, "\n[cost]\ntype=sse\n");
    char *cb = cfg_text(16, 8, 8, 2, SMOOTH_NET, NULL);
    host_net *a = load(ca), *b = load(cb);
    assert_int_equal(host_nparams(a), host_nparams(b));
    assert_int_equal(host_outputs(a), 4);
    size_t n = host_nparams(a);
    int B = host_batch(a), k = host_outputs(a);
    float *w = malloc(n * 4), *ga = malloc(n * 4), *gb = malloc(n * 4), *g2 = malloc(n * 4);
    float *x = malloc((size_t)B * host_inputs(a) * 4), *y = malloc((size_t)B * k * 4);
    assert_true(w && ga && gb && g2 && x && y);
    tu_fill_random(w, n, 0.3f, 3);
    host_set_params(a, w); host_set_params(b, w);
    batch_xy(a, x, y, 4);
    float la = host_step(a, x, y, NULL), lb = host_step(b, x, y, NULL);
    host_get_grad(a, ga); host_get_grad(b, gb);
    assert_true(la == lb);
    assert_memory_equal(ga, gb, n * sizeof(float));
    /* the reported loss is the softmax's mean cross-entropy */
    double ce = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < k; j++) if (y[i * k + j] > 0) ce -= log(a->net->output[i * k + j]);
    ce /= B;
    assert_true(fabs(ce - la) < 1e-5 * fabs(ce));
    /* the library's own forward/backward over the [cost] layer too: gradient doubled */
    a->net->n = a->full_n;
    host_step(a, x, y, NULL);
    host_get_grad(a, g2);
    a->net->n = a->full_n - 1;
    for (size_t i = 0; i < n; i++) gb[i] *= 2;
    double rel = tu_rel_l2(g2, gb, n);
    printf("[cost] after [softmax]: loss %.6f = CE %.6f; library's gradient / ours = 2 (rel err %.1e)\n", la, ce, rel);
    assert_true(rel < 1e-5);
    host_free(a); host_free(b); unlink(ca); unlink(cb);
    free(ca); free(cb); free(w); free(ga); free(gb); free(g2); free(x); free(y);
}

/* Relative error of a fourth-order central finite difference of the mean loss along the
 * gradient direction, at random weights (uniform in [-a, a], seed ws) on a random batch. */
static double fd_rel_err(host_net *h, float a, unsigned ws, unsigned bs, const char *label) {
    size_t n = host_nparams(h);
    int B = host_batch(h);
    float *w = malloc(n * 4), *g = malloc(n * 4), *wp = malloc(n * 4);
    float *x = malloc((size_t)B * host_inputs(h) * 4), *y = malloc((size_t)B * host_outputs(h) * 4);
    assert_true(w && g && wp && x && y);
    tu_fill_random(w, n, a, ws);
    host_set_params(h, w);
    batch_xy(h, x, y, bs);
    host_step(h, x, y, NULL);
    host_get_grad(h, g);
    double gn = ws_norm(n, g);
    assert_true(gn > 0);
    const double eps = 1e-2, at[4] = { 1, -1, 2, -2 };
    double f[4];
    for (int j = 0; j < 4; j++) {
        for (size_t i = 0; i < n; i++) wp[i] = w[i] + (float)(at[j] * eps * g[i] / gn);
        host_set_params(h, wp);
        f[j] = host_step(h, x, y, NULL);
    }
    double d = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * eps);
    double rel = fabs(d - gn) / gn;
    printf("%s gradient check: |g| = %.6g, finite difference = %.6g, rel err %.2e\n", label, gn, d, rel);
    free(w); free(g); free(wp); free(x); free(y);
    return rel;
}

/* Central finite differences (fourth order) of the mean loss along the gradient direction,
 * on the [softmax] + [cost] net. */
static void test_cost_gradient_fd(void **s) {
    (void)s;
    char *cfg = cfg_text(32, 12, 12, 2, SMOOTH_NET, "\n[cost]\n");
    host_net *h = load(cfg);
    assert_true(fd_rel_err(h, 0.3f, 5, 9, "[cost] net") < 1e-3);
    host_free(h); unlink(cfg); free(cfg);
}

/* The recurrent layer that is accepted: [crnn] with a linear activation and no BN (one time
 * step; its state is reset before every forward, so images are independent), gradient by
 * finite differences like the [cost] net above. With activation=tanh the same check gives
 * rel. err 2.5e-2 (the library's backward), hence the refusal; [gru] is refused too: its
 * CPU backward is empty. */
static void test_crnn_gradient_fd(void **s) {   /* linear: see cfgcheck.c */
    (void)s;
    char *cfg = tu_write_temp(".cfg", "[net]\nbatch=16\nwidth=6\nheight=6\nchannels=2\ntime_steps=1\n"
                              "[crnn]\noutput_filters=3\nhidden_filters=4\nactivation=linear\n"
                              "[connected]\noutput=4\nactivation=linear\n[softmax]\n");
    host_net *h = load(cfg);
    assert_true(fd_rel_err(h, 0.5f, 7, 3, "[crnn]") < 1e-3);
    size_t n = host_nparams(h);
    int B = host_batch(h);
    float *w = malloc(n * 4);
    float *x = malloc((size_t)B * host_inputs(h) * 4), *y = malloc((size_t)B * host_outputs(h) * 4);
    assert_true(w && x && y);
    tu_fill_random(w, n, 0.5f, 7);
    host_set_params(h, w);
    batch_xy(h, x, y, 3);
    /* eval: a batch's prediction does not depend on the batch before it (state reset) */
    int k = host_outputs(h);
    float *p1 = malloc((size_t)B * k * 4), *p2 = malloc((size_t)B * k * 4), *x2 = malloc((size_t)B * host_inputs(h) * 4);
    assert_true(p1 && p2 && x2);
    tu_fill_random(x2, (size_t)B * host_inputs(h), 1.0f, 77);
    host_predict(h, x, B, p1);
    host_predict(h, x2, B, p2);
    host_predict(h, x, B, p2);
    assert_memory_equal(p1, p2, (size_t)B * k * 4);
    free(p1); free(p2); free(x2);
    host_free(h); unlink(cfg); free(cfg); free(w); free(x); free(y);
}

/* host_load refuses; err is one line, names the cfg, and contains each needle (NULL-ended) */
static void refused(const char *text, ...) {
    char *cfg = tu_write_temp(".cfg", text);
    char err[HOST_ERRLEN] = "";
    host_net *h = host_load(cfg, 0, err);
    if (h) fprintf(stderr, "not refused: %s\n", text);
    assert_null(h);
    va_list ap;
    va_start(ap, text);
    for (const char *needle; (needle = va_arg(ap, const char *)); ) {
        if (!strstr(err, needle)) fprintf(stderr, "error was: %s\nmissing: %s\n", err, needle);
        assert_non_null(strstr(err, needle));
    }
    va_end(ap);
    assert_non_null(strstr(err, cfg));
    assert_null(strchr(err, '\n'));
    unlink(cfg); free(cfg);
}
static void accepted(const char *text) {
    char *cfg = tu_write_temp(".cfg", text);
    host_free(load(cfg));
    unlink(cfg); free(cfg);
}

#define NET "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=1\n"                      /* lines 1-5 */
#define TAIL "[connected]\noutput=3\n[softmax]\n"

static void test_unused_keys_and_activations(void **s) {
    (void)s;
    unsetenv("DKMC_ALLOW_UNUSED");
    refused(NET "[convolutional]\nfilters=2\nsize=3\nactivation=mish\n" TAIL,
            ".cfg:9: [convolutional] activation=mish is unknown", "relu", "DKMC_ALLOW_UNUSED=1", NULL);
    refused(NET "[convolutional]\nfilters=2\nsize=3\n[route]\nlayers=-1\ngroups=2\ngroup_id=1\n" TAIL,
            ".cfg:11: [route] groups=2 is not read", "line 12: [route] group_id=1", NULL);
    refused(NET "[convolutional]\nfilters=2\nsize=3\ndilation=2\nactivation=swish\n" TAIL,
            ".cfg:9: [convolutional] dilation=2", "line 10: [convolutional] activation=swish", NULL);
    refused(NET "[crnn]\noutput_filters=4\nactivation=linear\nhidden=4\n" TAIL, ".cfg:9: [crnn] hidden=4", NULL);
    refused(NET "mosaic=1\n" TAIL, ".cfg:6: [net] mosaic=1", NULL);
    /* conditional [net] keys: B1 is read only with adam=1, steps only with policy=steps */
    refused(NET "B1=0.8\n" TAIL, "[net] B1=0.8", NULL);
    refused(NET "policy=poly\nsteps=10\n" TAIL, "[net] steps=10", NULL);
    /* whitespace as Darknet's reader strips it */
    refused(NET "[convolutional]\nfilters = 2\nsize=3\nactivation = relu6\n" TAIL, "activation=relu6", NULL);
    /* many at once: the first four and a count */
    refused(NET "[connected]\noutput=3\nactivation=mish\n[connected]\noutput=3\nactivation=mish\n"
            "[connected]\noutput=3\nactivation=mish\n[connected]\noutput=3\nactivation=mish\n"
            "[connected]\noutput=3\nactivation=mish\n[connected]\noutput=3\nactivation=mish\n[softmax]\n",
            ".cfg:8:", "and 2 more", NULL);
    /* what the parser does read is fine, [net] keys of our schedules included */
    accepted(NET "adam=1\nB1=0.8\nB2=0.99\neps=0.001\npolicy=steps\nsteps=10,20\nscales=.1,.1\nburn_in=3\n"
             "[convolutional]\nfilters=2\nsize=3\nstride=1\npad=1\ngroups=1\nbatch_normalize=1\nactivation=leaky\nlearning_rate=0.5\n"
             "[maxpool]\nsize=2\nstride=2\n[route]\nlayers=-1\n[shortcut]\nfrom=-2\nactivation=linear\n"
             "[dropout]\nprobability=.2\n" TAIL "[cost]\ntype=sse\n");
    accepted(NET "policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle=4\n" TAIL);
    /* and the option to go on anyway */
    setenv("DKMC_ALLOW_UNUSED", "1", 1);
    accepted(NET "mosaic=1\n[convolutional]\nfilters=2\nsize=3\nactivation=mish\ndilation=2\n" TAIL);
    unsetenv("DKMC_ALLOW_UNUSED");
}

static void test_malformed_cfgs(void **s) {
    (void)s;
    refused(NET "policy=steps\n" TAIL, ".cfg:6: [net] policy=steps needs both steps= and scales=", NULL);
    refused(NET "policy=steps\nsteps=10,20\nscales=.1\n" TAIL, "steps= has 2 entries and scales= 1", NULL);
    refused(NET "policy=cosine\n" TAIL, ".cfg:6: [net] policy=cosine is not a policy", NULL);
    refused("[net]\nbatch=4\n" TAIL, "needs width=, height= and channels=", NULL);
    refused(NET "subdivisions=8\n" TAIL, "leaves no image per step", NULL);
    refused(NET "[route]\n" TAIL, ".cfg:6: layer 0 [route] needs layers=", NULL);
    refused(NET "[convolutional]\nfilters=2\nsize=3\n[route]\nlayers=-1,3\n" TAIL, ".cfg:10: layer 1 [route] layers=-1,3: layer 3 is not an earlier layer", NULL);
    refused(NET "[convolutional]\nfilters=2\nsize=3\n[shortcut]\nactivation=linear\n" TAIL, "layer 1 [shortcut] needs from=", NULL);
    refused(NET "[convolutional]\nfilters=2\nsize=3\n[route]\nlayers=-1x\n" TAIL, "layer 1 [route] layers=-1x: not a list of layer indices", NULL);
    /* an item that ends in a comment is read by the parser's atoi (AlexeyAB's cspx-p7-mish.cfg) */
    accepted(NET "[convolutional]\nfilters=2\nsize=3\n[route]\nlayers = -1 ###P6\n[route]\nlayers=-1,-2###S4\n" TAIL);
    refused(NET "[dropout]\n" TAIL, "layer 0 [dropout] needs a layer before it", NULL);
    /* a [yolo] mask item beyond its num= anchors: read from outside them (AlexeyAB's cspx-p7-mish.cfg) */
    refused(NET "[convolutional]\nfilters=12\nsize=1\n[yolo]\nmask=1,2\nnum=2\nclasses=1\n" TAIL,
            ".cfg:10: layer 1 [yolo] mask=1,2: anchor 2 is not one of its num=2 anchors", NULL);
    refused(NET "[rnn]\noutput=4\n" TAIL, ".cfg:6: layer 0 [rnn] is not supported", NULL);
    refused(NET "[lstm]\noutput=4\n" TAIL, ".cfg:6: layer 0 [lstm] is not supported", NULL);
    refused(NET "[gru]\noutput=4\n" TAIL, ".cfg:6: layer 0 [gru] is not supported", "no backward pass", NULL);
    refused(NET "time_steps=1\n[crnn]\noutput_filters=2\nhidden_filters=2\nactivation=leaky\n" TAIL, ".cfg:7: layer 0 [crnn] is supported only with activation=linear", NULL);
    refused(NET "time_steps=1\n[crnn]\noutput_filters=2\nhidden_filters=2\nactivation=linear\nbatch_normalize=1\n" TAIL, "no batch_normalize", NULL);
    refused(NET "time_steps=3\n[crnn]\noutput_filters=2\nhidden_filters=2\nactivation=linear\n" TAIL, "layer 0 [crnn] with time_steps=3", NULL);
    refused(NET "[connected]\noutput=3\n[softmax]\ntree=/nonexistent/9k.tree\n", ".cfg:9: layer 1 [softmax] tree=/nonexistent/9k.tree: a hierarchical softmax is not supported", NULL);
    refused(NET "[connected]\noutput=4\n[softmax]\ngroups=2\n", "layer 1 [softmax] groups=2: a grouped softmax", NULL);
    accepted(NET "[connected]\noutput=4\n[softmax]\ngroups=1\n");
    /* [cost] anywhere but after the final [softmax] */
    refused(NET "[connected]\noutput=3\n[cost]\n", ".cfg:8: layer 1 [cost] follows [connected], not a [softmax]", NULL);
    refused(NET "[connected]\noutput=3\n[cost]\n[softmax]\n", ".cfg:8: layer 1 [cost]: a [cost] layer is supported only after", NULL);
    /* the library's error(): a layer that needs an image after one that has none. Caught
     * (SIGABRT inside the parser), named, and the process goes on working. */
    for (int rep = 0; rep < 2; rep++)
        refused(NET "[convolutional]\nfilters=2\nsize=3\nstride=1\n[convolutional]\nfilters=2\nsize=3\nstride=2\n"
                "[route]\nlayers=-1,-2\n[convolutional]\nfilters=2\nsize=3\nstride=1\n" TAIL,
                ".cfg:16: layer 3 [convolutional]: Darknet's parser aborts on it: Layer before convolutional layer must output image.", NULL);
    refused(NET "[connected]\noutput=3\n[softmax]\n[maxpool]\nsize=2\nstride=2\n[softmax]\n", "layer 2 [maxpool]", "must output image", NULL);
    accepted(NET "[connected]\noutput=12\n[convolutional]\nfilters=2\nsize=1\nstride=1\n" TAIL);
}

static void test_adam(void **s) {
    (void)s;
    char *c1 = tu_write_temp(".cfg", NET "adam=1\n" TAIL), *c0 = tu_write_temp(".cfg", NET TAIL);
    host_net *a = load(c1), *b = load(c0);
    char err[HOST_ERRLEN] = "";
    assert_int_equal(host_cfg_adam(a), 1);
    assert_int_equal(host_cfg_adam(b), 0);
    assert_int_equal(host_adam_error(b, "darknet train", err), 0);
    assert_int_not_equal(host_adam_error(a, "darknet train", err), 0);
    assert_non_null(strstr(err, c1));
    assert_non_null(strstr(err, "adam=1"));
    assert_non_null(strstr(err, "'darknet train'"));
    host_free(a); host_free(b); unlink(c1); unlink(c0); free(c1); free(c0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_after_softmax),
        cmocka_unit_test(test_cost_gradient_fd),
        cmocka_unit_test(test_crnn_gradient_fd),
        cmocka_unit_test(test_unused_keys_and_activations),
        cmocka_unit_test(test_malformed_cfgs),
        cmocka_unit_test(test_adam),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
