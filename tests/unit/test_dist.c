/* test_dist.c: the pure helpers the MPI build relies on (balanced shards, the point map's
 * order and error path, the GPU per rank) and the collectives (sums, differs, broadcast,
 * batch split), which need several ranks: tests/cli/mpi.sh runs the MPI build of this file
 * under mpirun -np 3; in one process that test is skipped. The commands' multi-rank
 * behaviour is tested with mpirun in tests/cli/mpi.sh too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
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

/* One GPU per rank: explicit wins; else the local rank modulo the node's devices. */
static void test_gpu_for_rank(void **state) {
    (void)state;
    assert_int_equal(dist_gpu_for_rank(3, 8), 3);
    assert_int_equal(dist_gpu_for_rank(-1, 4), dist_local_rank() % 4);
    assert_int_equal(dist_gpu_for_rank(-1, 0), -1);
}

/* The collectives, against sums written out here: meaningful only with several ranks
 * (tests/cli/mpi.sh runs this binary's MPI build under mpirun -np 3); skipped, and said so,
 * in one process, where a sum over one rank cannot show anything. */
static void test_collectives(void **state) {
    (void)state;
    int size = dist_size(), rank = dist_rank();
    if (size < 2) skip();
    float f[5];
    double d[3];
    for (int i = 0; i < 5; i++) f[i] = (float)(rank + 1) * (i + 0.5f);
    for (int i = 0; i < 3; i++) d[i] = (rank + 1) * 1e-9 + i;
    dist_sum_f(f, 5);
    dist_sum_d(d, 3);
    for (int i = 0; i < 5; i++) {
        float want = 0;
        for (int r = 0; r < size; r++) want += (float)(r + 1) * (i + 0.5f);
        assert_float_equal(f[i], want, 1e-6f * want);
    }
    for (int i = 0; i < 3; i++) {
        double want = 0;
        for (int r = 0; r < size; r++) want += (r + 1) * 1e-9 + i;
        assert_true(fabs(d[i] - want) <= 1e-15);
    }
    /* the same bytes on every rank after a sum; different ones where one rank differs */
    assert_int_equal(dist_differs(f, sizeof f), 0);
    int mine = rank == size - 1;
    assert_int_equal(dist_differs(&mine, sizeof mine), 1);
    /* rank 0's bytes reach every rank */
    int v[2] = { rank == 0 ? 41 : -1, rank == 0 ? 43 : -1 };
    dist_bcast(v, sizeof v, 0);
    assert_true(v[0] == 41 && v[1] == 43);
    /* the global batch is the sum of the local ones; this rank's offset the sum before it */
    int g, o;
    dist_batch_split(10 + rank, &g, &o);
    int wg = 0, wo = 0;
    for (int r = 0; r < size; r++) { wg += 10 + r; if (r < rank) wo += 10 + r; }
    assert_int_equal(g, wg);
    assert_int_equal(o, wo);
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

/* dist_map in one process (over several ranks: the plane and curve commands in mpi.sh) */
static void test_map_order_and_errors(void **state) {
    (void)state;
    if (dist_size() > 1) skip();
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

int main(int argc, char **argv) {
    dist_init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_balanced),
        cmocka_unit_test(test_gpu_for_rank),
        cmocka_unit_test(test_collectives),
        cmocka_unit_test(test_map_order_and_errors),
    };
    return dist_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
