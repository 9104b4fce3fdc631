/* test_detector.c: detectors on Darknet's own pipeline. The learning rate that the library's
 * own train_network applies with policy=fge_cyclic (through the interposed get_current_rate)
 * is the closed form, burn-in included: checked against a twin network trained by the
 * library at a constant rate set to the closed form written out here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include "testutil.h"
#include "detector.h"
#include "host.h"
#include "schedule.h"

#define NET_HEAD                                                                                  \
    "[net]\nbatch=4\nsubdivisions=1\nwidth=16\nheight=16\nchannels=3\nmomentum=0.9\ndecay=0.0005\n" \
    "learning_rate=0.001\nmax_batches=100\n"
#define LAYERS                                                                                    \
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n"   \
    "[convolutional]\nsize=1\nstride=1\npad=1\nfilters=21\nactivation=linear\n"                    \
    "[yolo]\nmask=0,1,2\nanchors=4,4, 8,8, 12,12\nclasses=2\nnum=3\njitter=0\nrandom=0\n"
static const char *FGE = NET_HEAD "policy=fge_cyclic\nlearning_rate_min=0.0001\nfge_cycle=6\nburn_in=3\npower=4\n" LAYERS;
static const char *CONST = NET_HEAD "policy=constant\n" LAYERS;

/* the closed forms, written out independently of train/schedule.c */
static double expected_rate(uint64_t b) {
    const double lr1 = 0.001, lr2 = 0.0001;
    if (b < 3) return (float)0.001 * pow((float)b / 3, 4);   /* Darknet's burn-in expression */
    double s = (double)((b - 1) % 6) / 6;
    return s < 0.5 ? lr1 * (1 - 2 * s) + lr2 * 2 * s : lr1 * (2 * s - 1) + lr2 * (2 - 2 * s);
}

static host_net *load(const char *text, char **path) {
    *path = tu_write_temp(".cfg", text);
    char err[HOST_ERRLEN];
    host_net *h = host_load_detector(*path, 0, err);
    if (!h) fprintf(stderr, "%s\n", err);
    assert_non_null(h);
    return h;
}

static void test_library_step_uses_the_closed_form_rate(void **s) {
    (void)s;
    char *pa, *pb, err[HOST_ERRLEN];
    host_net *a = load(FGE, &pa), *b = load(CONST, &pb);
    assert_true(host_policy_is_ours(a) && !host_policy_is_ours(b));
    det_rate_ctx rc = { 0 };
    assert_int_equal(sched_from_cfg(&rc.s, a, pa, 1, 0, err), 0);
    rc.start = 0;
    assert_int_equal(host_set_rate_hook(a, det_rate_hook, &rc), 0);
    size_t n = host_nparams(a), ns = host_nstats(a);
    float *pa0 = malloc(n * 4), *pa1 = malloc(n * 4), *pb1 = malloc(n * 4), *st = malloc(ns * 4);
    host_get_params(a, pa0);
    host_set_params(b, pa0);
    host_get_stats(a, st);
    host_set_stats(b, st);
    int B = 4, in = host_inputs(a), nt = host_det_truths(a);
    float *x = malloc((size_t)B * in * 4), *t = calloc((size_t)B * nt, 4);
    for (uint64_t it = 1; it <= 14; it++) {
        tu_fill_random(x, (size_t)B * in, 0.5f, 100 + it);
        for (int i = 0; i < B; i++) {   /* one box per image, somewhere */
            float *tr = t + (size_t)i * nt;
            tr[0] = 0.2f + 0.1f * (i % 4); tr[1] = 0.3f + 0.1f * ((i + it) % 4); tr[2] = 0.3f; tr[3] = 0.4f; tr[4] = (float)((i + it) % 2);
        }
        host_set_learning_rate(b, (float)expected_rate(it));
        host_get_params(a, pa0);
        float la = host_det_train_batch(a, x, t, B), lb = host_det_train_batch(b, x, t, B);
        assert_int_equal(host_det_batch_num(a), it);
        host_get_params(a, pa1);
        host_get_params(b, pb1);
        double num = 0, den = 0;
        for (size_t i = 0; i < n; i++) {
            double da = pa1[i] - pa0[i], db = pb1[i] - pa0[i];
            num += (da - db) * (da - db);
            den += db * db;
        }
        printf("iteration %llu: rate %.6f, loss %.5f / %.5f, |step difference| / |step| = %.2e\n", (unsigned long long)it,
               expected_rate(it), la, lb, sqrt(num / den));
        assert_true(den > 0 && sqrt(num / den) < 1e-5);
        host_set_params(b, pa1);   /* the twins start every step from the same weights */
    }
    host_set_rate_hook(a, NULL, NULL);
    free(pa0); free(pa1); free(pb1); free(st); free(x); free(t);
    host_free(a); host_free(b);
    unlink(pa); unlink(pb); free(pa); free(pb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_step_uses_the_closed_form_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
