/* test_fast_hidden: a program in which two fast kernels are NOT interposed (the linker keeps
 * gemm and im2col_cpu local, as a static or differently built Darknet would): plugins/fast
 * says so once on stderr, and training steps still work and give the library's results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "fast.h"
#include "host.h"

static void test_not_interposed_says_so_once(void **s) {
    (void)s;
    /* capture stderr from the first use of the fast path on */
    char *log = tu_temp_path(".log");
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(log, "w");
    dup2(fileno(f), 2);
    assert_false(fast_is_interposed("gemm"));
    assert_false(fast_is_interposed("im2col_cpu"));
    assert_true(fast_is_interposed("col2im_cpu"));
    char err[HOST_ERRLEN];
    host_net *h = host_load("cfg/fashion-cnn.cfg", 0, err);
    assert_non_null(h);
    int B = host_batch(h), in = host_inputs(h), k = host_outputs(h);
    float *x = malloc((size_t)B * in * 4), *y = calloc((size_t)B * k, 4);
    tu_fill_random(x, (size_t)B * in, 1.0f, 3);
    for (int i = 0; i < B; i++) y[i * k + i % k] = 1;
    float l1 = host_step(h, x, y, NULL);
    float l2 = host_step(h, x, y, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    char buf[4096] = "";
    f = fopen(log, "r");
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = 0;
    fclose(f);
    unlink(log); free(log);
    int count = 0;
    for (char *p = buf; (p = strstr(p, "not interposed")); p++) count++;
    assert_int_equal(count, 1);
    assert_non_null(strstr(buf, "gemm"));
    /* and the numbers are the library's: the same step with the fast path off */
    fast_set_enabled(0);
    float l3 = host_step(h, x, y, NULL);
    fast_set_enabled(1);
    assert_true(isfinite(l1) && l1 == l2);
    assert_true(fabsf(l1 - l3) < 1e-4f * fabsf(l3));
    free(x); free(y); host_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_not_interposed_says_so_once) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
