/* test_dist.c: the one-process side of dist.h (the ordinary build) and the pure helpers the
 * MPI build relies on: balanced shards, the point map's order and error path. The
 * multi-rank behaviour is tested with mpirun in tests/cli/mpi.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "dist.h"
#include "testutil.h"

/* Every item in exactly one shard, shards contiguous and in rank order, sizes differing by
 * at most one: checked for all totals and sizes up to 40 against a direct count. */
static void test_shards_balanced(void **state) {
    (void)state;
    for (int size = 1; size <= 40; size++)
        for (int total = 0; total <= 40; total++) {
            int next = 0, lo = total, hi = 0;
            for (int r = 0; r < size; r++) {
                int off, n;
                dist_shard_of(total, r, size, &off, &n);
                assert_int_equal(off, next);
                next += n;
                if (n < lo) lo = n;
                if (n > hi) hi = n;
            }
            assert_int_equal(next, total);
            assert_true(hi - lo <= 1);
        }
    int off, n;
    dist_shard_of(128, 1, 3, &off, &n);   /* 43, 43, 42 */
    assert_int_equal(off, 43);
    assert_int_equal(n, 43);
    dist_shard_of(128, 2, 3, &off, &n);
    assert_int_equal(off, 86);
    assert_int_equal(n, 42);
}

static void test_one_process(void **state) {
    (void)state;
    assert_int_equal(dist_rank(), 0);
    assert_int_equal(dist_size(), 1);
    assert_true(dist_is_root());
    float f[3] = { 1, 2, 3 };
    dist_sum_f(f, 3);   /* the sum over one rank: unchanged */
    assert_true(f[0] == 1 && f[1] == 2 && f[2] == 3);
    double d[2] = { 0.5, -1 };
    dist_sum_d(d, 2);
    assert_true(d[0] == 0.5 && d[1] == -1);
    assert_int_equal(dist_differs(f, sizeof f), 0);
    int g, o;
    dist_batch_split(128, &g, &o);
    assert_int_equal(g, 128);
    assert_int_equal(o, 0);
    /* one GPU per rank: explicit wins; else local rank modulo the node's devices */
    assert_int_equal(dist_gpu_for_rank(3, 8), 3);
    assert_int_equal(dist_gpu_for_rank(-1, 4), dist_local_rank() % 4);
    assert_int_equal(dist_gpu_for_rank(-1, 0), -1);
}

typedef struct { int evaluated[16], delivered[16], nd, fail_at; double got[16][2]; } map_ctx;

static int ev(void *vc, int item, double *out, char *err) {
    map_ctx *c = vc;
    c->evaluated[item]++;
    if (item == c->fail_at) { snprintf(err, DIST_ERRLEN, "item %d failed", item); return -1; }
    out[0] = item * 10; out[1] = -item;
    return 0;
}
static int dl(void *vc, int item, const double *v, char *err) {
    map_ctx *c = vc;
    (void)err;
    c->delivered[c->nd++] = item;
    c->got[item][0] = v[0]; c->got[item][1] = v[1];
    return 0;
}

static void test_map_order_and_errors(void **state) {
    (void)state;
    map_ctx c = { .fail_at = -1 };
    char err[DIST_ERRLEN] = "";
    assert_int_equal(dist_map(7, 2, &c, ev, dl, err), 0);
    assert_int_equal(c.nd, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(c.evaluated[i], 1);
        assert_int_equal(c.delivered[i], i);
        assert_true(c.got[i][0] == i * 10 && c.got[i][1] == -i);
    }
    map_ctx e = { .fail_at = 3 };
    assert_int_equal(dist_map(7, 2, &e, ev, dl, err), -1);
    assert_string_equal(err, "item 3 failed");
    assert_int_equal(e.nd, 3);          /* items 0..2 delivered, nothing after the failure */
    assert_int_equal(e.evaluated[4], 0);
    map_ctx z = { .fail_at = -1 };
    assert_int_equal(dist_map(0, 2, &z, ev, dl, err), 0);
    assert_int_equal(z.nd, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_balanced),
        cmocka_unit_test(test_one_process),
        cmocka_unit_test(test_map_order_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
