/* test_train.c: the schedules against their closed forms (fge.py's per-epoch form of the
 * triangle, the DARKNET.md check values, cosine restarts with sgdr_mult > 1, the reference's
 * table), snapshots exactly at the minima, the [net] keys and their errors, and the loop:
 * hooks see the schedule's lr, snapshots are taken where the schedule says, a diverging step
 * stops the run with a message naming the iteration; non-finite weights are never written
 * and never scored as a number. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "schedule.h"
#include "train.h"
#include "train_job.h"
#include "host.h"
#include "curve.h"
#include "run.h"
#include "wspace.h"

#define NET(extra) "[net]\nbatch=8\nwidth=6\nheight=6\nchannels=1\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\nmax_batches=100\n" extra \
    "[convolutional]\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=relu\n[connected]\noutput=3\nactivation=linear\n[softmax]\n"

static host_net *load_cfg(const char *text, char **path) {
    *path = tu_write_temp(".cfg", text);
    char err[HOST_ERRLEN];
    host_net *h = host_load(*path, 0, err);
    if (!h) fprintf(stderr, "%s\n", err);
    return h;
}

/* fge.py's form: FGE epoch e (0-based), batch i of N, cycle c epochs */
static double fge_py(double lr1, double lr2, int e, int i, int N, int c) {
    double s = ((e % c) + (double)i / N) / c;
    return s < 0.5 ? lr1 * (1 - 2 * s) + lr2 * 2 * s : lr1 * (2 * s - 1) + lr2 * (2 - 2 * s);
}

static void test_fge_closed_form(void **st) {
    (void)st;
    const int N = 7, c = 4;
    sched s = { .kind = SCHED_FGE, .lr = 0.05, .lr2 = 0.0001, .cycle = (long)c * N };
    for (int e = 0; e < 3 * c; e++)
        for (int i = 0; i < N; i++)
            assert_true(fabs(sched_rate(&s, (uint64_t)e * N + i) - fge_py(0.05, 0.0001, e, i, N, c)) < 1e-12);
    /* boundaries and mid-cycle */
    assert_true(fabs(sched_rate(&s, 0) - 0.05) < 1e-15 && fabs(sched_rate(&s, 2 * N * c) - 0.05) < 1e-15);
    assert_true(fabs(sched_rate(&s, N * c / 2) - 0.0001) < 1e-15);
    /* DARKNET.md's check: lr1 .05, lr2 .0005, cycle 4 -> .02525, .0005, .02525, .05 */
    sched d = { .kind = SCHED_FGE, .lr = 0.05, .lr2 = 0.0005, .cycle = 4 };
    const double want[4] = { 0.02525, 0.0005, 0.02525, 0.05 };
    for (int i = 0; i < 4; i++) assert_true(fabs(sched_rate(&d, (uint64_t)i + 1) - want[i]) < 1e-12);
}

static void test_fge_snapshots_at_minima(void **st) {
    (void)st;
    const int N = 5, c = 2;
    sched s = { .kind = SCHED_FGE, .lr = 0.05, .lr2 = 0.001, .cycle = (long)c * N };
    int count = 0;
    for (uint64_t it = 0; it < 60; it++) {
        int snap = sched_snapshot_after(&s, it);
        /* a snapshot after iteration it exactly when iteration it+1 runs at lr2 */
        assert_int_equal(snap, fabs(sched_rate(&s, it + 1) - 0.001) < 1e-15);
        /* fge.py: at the end of FGE epoch e with (e mod c) + 1 == c/2, i.e. epochs 0, 2, 4 ... */
        if ((it + 1) % N == 0) {
            int e = (int)((it + 1) / N) - 1;
            assert_int_equal(snap, (e % c) + 1 == c / 2);
        } else assert_int_equal(snap, 0);
        count += snap;
    }
    assert_int_equal(count, 6);
    assert_int_equal(sched_count_snapshots(&s, 60), 6);
    /* the lr at the snapshot's own iteration is above lr2, and falls towards it */
    assert_true(sched_rate(&s, 4) > 0.001 && sched_rate(&s, 4) < sched_rate(&s, 3));
}

static void test_sgdr_closed_form(void **st) {
    (void)st;
    sched s = { .kind = SCHED_SGDR, .lr = 0.1, .lr2 = 0.001, .cycle = 4, .mult = 2 };
    /* cycles [0,4), [4,12), [12,28), [28,60) */
    const uint64_t starts[] = { 0, 4, 12, 28, 60 };
    for (int k = 0; k < 4; k++) {
        uint64_t st0 = starts[k], L = starts[k + 1] - starts[k];
        for (uint64_t j = 0; j < L; j++) {
            double want = 0.001 + (0.1 - 0.001) * 0.5 * (1 + cos(M_PI * (double)j / (double)L));
            assert_true(fabs(sched_rate(&s, st0 + j) - want) < 1e-12);
            assert_int_equal(sched_snapshot_after(&s, st0 + j), j == L - 1);
        }
        assert_true(fabs(sched_rate(&s, st0) - 0.1) < 1e-12);   /* warm restart */
    }
    assert_int_equal(sched_count_snapshots(&s, 60), 4);
    sched one = { .kind = SCHED_SGDR, .lr = 0.1, .lr2 = 0, .cycle = 10, .mult = 1 };
    assert_true(fabs(sched_rate(&one, 15) - 0.1 * 0.5 * (1 + cos(M_PI * 0.5))) < 1e-12);
    assert_int_equal(sched_count_snapshots(&one, 35), 3);
}

static void test_reference_table(void **st) {
    (void)st;
    const double want[5] = { 0.05, 0.05, 0.037625, 0.012875, 0.0005 };   /* the authors' train.py: 5 epochs at 0.05 */
    sched s = { .kind = SCHED_REFERENCE, .lr = 0.05, .iters = 3, .epochs = 5 };
    for (int e = 0; e < 5; e++)
        for (int i = 0; i < 3; i++) assert_true(fabs(sched_rate(&s, (uint64_t)e * 3 + i) - want[e]) < 1e-12);
}

static void test_cfg_keys(void **st) {
    (void)st;
    char *p, err[SCHED_ERRLEN];
    sched s;
    host_net *h = load_cfg(NET("policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle_epochs=2\n"), &p);
    assert_non_null(h);
    assert_true(sched_cfg_is_ours(h));
    assert_int_equal(sched_from_cfg(&s, h, p, 10, 6, err), 0);
    assert_int_equal(s.kind, SCHED_FGE);
    assert_int_equal(s.cycle, 20);
    assert_true(fabs(s.lr - 0.05) < 1e-7 && fabs(s.lr2 - 0.001) < 1e-9);
    host_free(h); unlink(p); free(p);

    h = load_cfg(NET("policy=sgdr\nsgdr_cycle=6\n"), &p);
    assert_int_equal(sched_from_cfg(&s, h, p, 10, 6, err), 0);
    assert_int_equal(s.kind, SCHED_SGDR);
    assert_int_equal(s.cycle, 6);
    assert_int_equal(s.mult, 2);                      /* AlexeyAB's defaults */
    assert_true(fabs(s.lr2 - 0.00001) < 1e-12);
    host_free(h); unlink(p); free(p);

    h = load_cfg(NET("policy=sgdr\n"), &p);           /* sgdr_cycle defaults to max_batches */
    assert_int_equal(sched_from_cfg(&s, h, p, 10, 6, err), 0);
    assert_int_equal(s.cycle, 100);
    host_free(h); unlink(p); free(p);

    h = load_cfg(NET("policy=steps\nsteps=10\nscales=.1\n"), &p);   /* Darknet's own */
    assert_false(sched_cfg_is_ours(h));
    assert_int_equal(sched_from_cfg(&s, h, p, 10, 6, err), 0);
    assert_int_equal(s.kind, SCHED_CFG);
    host_free(h); unlink(p); free(p);

    struct { const char *extra, *needle; } bad[] = {
        { "policy=fge_cyclic\nfge_cycle=4\n", "learning_rate_min" },
        { "policy=fge_cyclic\nlearning_rate_min=0.001\n", "fge_cycle" },
        { "policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle=5\n", "even" },
        { "policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle=4\nfge_cycle_epochs=2\n", "both" },
        { "policy=fge_cyclic\nlearning_rate_min=abc\nfge_cycle=4\n", "not a number" },
        { "policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle_epochs=0.15\n", "whole number" },
        { "policy=sgdr\nsgdr_mult=1.5\n", "sgdr_mult" },
        { "policy=sgdr\nlearning_rate_min=-1\n", "negative" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, NET("%s"), bad[i].extra);
        h = load_cfg(text, &p);
        assert_non_null(h);
        err[0] = 0;
        assert_int_equal(sched_from_cfg(&s, h, p, 10, 6, err), -1);
        if (!strstr(err, bad[i].needle) || !strstr(err, p) || strchr(err, '\n')) fail_msg("case %zu: '%s'", i, err);
        host_free(h); unlink(p); free(p);
    }
}

/* ---- the loop ---- */
typedef struct { const sched *s; int steps, snaps, bad_at, epochs_seen; double lr_err; } loop_ctx;

static int fake_step(void *vc, const float *x, const float *y, float lr, train_step_out *o) {
    loop_ctx *c = vc;
    (void)x; (void)y;
    double want = sched_rate(c->s, (uint64_t)c->steps);
    if (fabs(lr - want) > c->lr_err) c->lr_err = fabs(lr - want);
    c->steps++;
    o->obj = o->nll = c->steps == c->bad_at ? NAN : 1.0 / c->steps;
    o->hits = 1;
    snprintf(o->note, sizeof o->note, "note %d", c->steps);
    return 0;
}
static int fake_after(void *vc, uint64_t it, float lr, char *err) {
    loop_ctx *c = vc;
    (void)lr; (void)err;
    c->snaps += sched_snapshot_after(c->s, it);
    return 0;
}
/* a hook that reports a divergence after the 7th iteration (it 6), in its own words */
static int diverging_after(void *vc, uint64_t it, float lr, char *err) {
    (void)vc; (void)lr;
    if (it < 6) return 0;
    snprintf(err, TRAIN_ERRLEN, "the BN statistics are not finite");
    return TRAIN_DIVERGED;
}
static int fake_epoch(void *vc, const train_epoch_info *e, int last, char *err) {
    loop_ctx *c = vc;
    (void)last; (void)err;
    c->epochs_seen++;
    assert_int_equal(e->epoch, c->epochs_seen);
    return 0;
}

static void test_loop_hooks(void **st) {
    (void)st;
    dataset d = { 0 };
    d.n = 40; d.w = 2; d.h = 2; d.c = 1; d.classes = 3;
    d.X = calloc(40 * 4, sizeof(float)); d.labels = calloc(40, sizeof(int));
    sched s = { .kind = SCHED_FGE, .lr = 0.05, .lr2 = 0.001, .cycle = 4 };
    loop_ctx c = { &s, 0, 0, -1, 0, 0 };
    int epoch = 0;
    uint64_t iteration = 0;
    rng_t r;
    rng_seed(&r, 1);
    char err[TRAIN_ERRLEN] = "";
    train_loop L = { &d, 8, 6, &epoch, &iteration, &r, 1, &s, 0, "epoch", 0, &c, NULL, fake_step, fake_after, fake_epoch, 0, 0, NULL };
    assert_int_equal(train_run(&L, err), 0);
    assert_int_equal(c.steps, 30);           /* 6 epochs x 5 batches */
    assert_int_equal((int)iteration, 30);
    assert_int_equal(epoch, 6);
    assert_int_equal(c.epochs_seen, 6);
    assert_true(c.lr_err < 1e-7);            /* float lr of the schedule */
    assert_int_equal(c.snaps, (int)sched_count_snapshots(&s, 30));
    assert_int_equal(c.snaps, 8);            /* after iterations 1, 5, 9, ..., 29 */
    /* a non-finite loss stops the run and names where */
    loop_ctx c2 = { &s, 0, 0, 13, 0, 0 };
    epoch = 0; iteration = 0;
    L.ctx = &c2;
    assert_int_equal(train_run(&L, err), -1);
    assert_non_null(strstr(err, "epoch 3, iteration 2"));
    assert_non_null(strstr(err, "note 13"));
    assert_int_equal((int)iteration, 12);    /* the bad step is not counted */
    /* a hook's divergence is put in the loop's words, with where */
    loop_ctx c3 = { &s, 0, 0, -1, 0, 0 };
    epoch = 0; iteration = 0;
    L.ctx = &c3;
    L.after_iter = diverging_after;
    assert_int_equal(train_run(&L, err), -1);
    assert_string_equal(err, "training diverged at epoch 2, iteration 1: the BN statistics are not finite");
    free(d.X); free(d.labels);
}

/* a diverged network is never written, and never scored with a plausible number */
static void test_non_finite_guards(void **st) {
    (void)st;
    char *path = tu_temp_path(".weights"), err[512] = "";
    float p[5] = { 1, 2, 3, 4, 5 };
    assert_int_equal(ws_weights_write(path, p, 5, 0, err), 0);
    unlink(path);
    p[3] = NAN;
    assert_int_equal(ws_weights_write(path, p, 5, 0, err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "non-finite"));
    assert_int_equal(access(path, F_OK), -1);
    p[3] = INFINITY;
    assert_int_equal(ws_weights_write(path, p, 5, 0, err), -1);
    free(path);
    curve cv;
    assert_int_equal(curve_init(&cv, CURVE_BEZIER, 3, 4, 0), 0);
    char *cpath = tu_temp_path(".curve");
    assert_int_equal(curve_save(&cv, cpath, err), 0);
    cv.bends[1][2] = NAN;
    assert_int_equal(curve_save(&cv, cpath, err), -1);   /* the previous checkpoint stays */
    assert_non_null(strstr(err, "bend 1"));
    curve back;
    assert_int_equal(curve_load(&back, cpath, err), 0);
    assert_true(back.bends[1][2] == 0);
    curve_free(&back); curve_free(&cv);
    unlink(cpath); free(cpath);
    /* NaN weights in a network: the evaluation reports NaN, not the clamp's 69.08 */
    char *cfg;
    host_net *h = load_cfg(NET(""), &cfg);
    size_t n = host_nparams(h);
    float *w = malloc(n * sizeof(float));
    host_get_params(h, w);
    w[n - 1] = NAN;   /* in the connected layer: ReLU would turn a NaN in the conv into 0 */
    host_set_params(h, w);
    dataset d = { 0 };
    d.n = 10; d.w = 6; d.h = 6; d.c = 1; d.classes = 3;
    d.X = calloc(10 * 36, sizeof(float)); d.labels = calloc(10, sizeof(int));
    for (int i = 0; i < 360; i++) d.X[i] = (float)(i % 7) / 7;
    eval_result r = run_eval(h, &d, NULL, NULL);
    assert_true(isnan(r.nll));
    char *wpath = tu_temp_path(".weights");
    assert_int_equal(host_save_weights(h, wpath, err), -1);
    assert_int_equal(access(wpath, F_OK), -1);
    free(wpath); free(w); free(d.X); free(d.labels);
    host_free(h); unlink(cfg); free(cfg);
}

/* train_plan: the run's length from max_batches (counted from what the weights have seen) or
 * from -epochs (then max_batches ends there), the schedules' rates, FGE's cycle checks. */
static void test_plan(void **st) {
    (void)st;
    char *path, err[DKMC_ERRLEN];
    host_net *h = load_cfg(NET(""), &path);
    assert_non_null(h);
    int epochs = 0;
    sched s;
    train_plan_req q = { SCHED_CFG, path, 0, 0, 0, 0 };
    assert_int_equal(train_plan(&q, h, 30, 8, &epochs, &s, err), 0);
    assert_int_equal(epochs, 4);                       /* ceil(100 / 30) */
    host_set_seen(h, 60 * 8);                          /* 60 iterations done: 40 left */
    assert_int_equal(train_plan(&q, h, 30, 8, &epochs, &s, err), 0);
    assert_int_equal(epochs, 2);
    assert_int_equal((int)s.offset, 60);               /* the cfg's policy counts from there */
    q.epochs = 3;                                      /* 3 more epochs end at iteration 150 */
    assert_int_equal(train_plan(&q, h, 30, 8, &epochs, &s, err), 0);
    assert_int_equal(epochs, 3);
    assert_int_equal(host_cfg_max_batches(h), 150);
    q.lr = 0.1f;                                       /* -lr scales the cfg's policy */
    assert_int_equal(train_plan(&q, h, 30, 8, &epochs, &s, err), 0);
    assert_true(fabs(s.scale - 2.0) < 1e-6);
    train_plan_req r = { SCHED_REFERENCE, path, 0, 0, 0, 5 };
    assert_int_equal(train_plan(&r, h, 30, 8, &epochs, &s, err), 0);
    assert_int_equal(s.kind, SCHED_REFERENCE);
    assert_true(fabs(s.lr - 0.05) < 1e-7);            /* the cfg rate */
    assert_int_equal((int)s.iters, 30);
    assert_int_equal(s.epochs, 5);
    train_plan_req f = { SCHED_FGE, path, 0.05f, 0.0005f, 2, 0 };
    assert_int_equal(train_plan(&f, h, 30, 8, &epochs, &s, err), 0);
    assert_int_equal(epochs, 20);                      /* FGE's default */
    assert_int_equal((int)s.cycle, 60);
    f.cycle_epochs = 1.5;                              /* 45 iterations: odd */
    assert_int_equal(train_plan(&f, h, 30, 8, &epochs, &s, err), -1);
    assert_non_null(strstr(err, "-cycle 1.5"));
    assert_non_null(strstr(err, "30 per epoch"));
    f.cycle_epochs = 0.1;                              /* 3 iterations */
    assert_int_equal(train_plan(&f, h, 30, 8, &epochs, &s, err), -1);
    f.cycle_epochs = -2;
    assert_int_equal(train_plan(&f, h, 30, 8, &epochs, &s, err), -1);
    host_free(h);
    unlink(path);
    free(path);
}

/* train_young_window: a run from scratch that reports, snapshots or saves while its BN
 * statistics are young gets the whole young window; one that does none of these gets 0;
 * a network without BN never has one. */
static void test_young_window(void **st) {
    (void)st;
    char *path, *path2;
    host_net *h = load_cfg("[net]\nbatch=8\nwidth=6\nheight=6\nchannels=1\nlearning_rate=0.05\nmax_batches=100\n"
                           "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=relu\n"
                           "[connected]\noutput=3\nactivation=linear\n[softmax]\n", &path);
    host_net *nobn = load_cfg(NET(""), &path2);
    assert_non_null(h);
    assert_non_null(nobn);
    long young = run_bn_batches_to_grow(h);
    /* keep^k below 5 %: 299 batches at pjreddie's 0.99, 29 at AlexeyAB's 0.9 (convolutional) */
    double keep = host_bn_keep(h);
    assert_true(keep > 0 && keep < 1);
    assert_int_equal(young, (long)ceil(log(RUN_BN_YOUNG) / log(keep) - 1e-9));
    assert_true(keep == 0.99 ? young == 299 : keep == 0.9 ? young == 29 : 0);
    /* E iterations per epoch: 30 at pjreddie's rate (young 299), 3 at AlexeyAB's (29) */
    const long E = young / 10 + 1;
    sched s = { .kind = SCHED_REFERENCE, .lr = 0.05f, .iters = E, .epochs = 100 };
    assert_int_equal(train_young_window(h, &s, E, 100, 0, 0, 0, 1, 0), young);          /* test rows every epoch */
    assert_int_equal(train_young_window(h, &s, E, 100, 1, 0, 0, 0, 0), 0);              /* no test, no saves */
    assert_int_equal(train_young_window(h, &s, E, 100, 1, 5, 0, 0, 0), young);          /* a save after epoch 5 */
    assert_int_equal(train_young_window(h, &s, E, 100, 1, 20, 0, 0, 0), 0);             /* the first save after 20 E */
    assert_int_equal(train_young_window(h, &s, E, 100, 1, 0, young / 3, 1, 0), young);  /* -eval_every young/3 */
    assert_int_equal(train_young_window(h, &s, E, 100, 1, 0, 0, 0, 2 * E), young);      /* stops (and saves) at 2 E */
    assert_int_equal(train_young_window(h, &s, E, 5, 1, 0, 0, 0, 0), young);            /* ends at 5 E: the final save */
    sched f = { .kind = SCHED_FGE, .lr = 0.05f, .lr2 = 0.0005f, .cycle = 2 * E };
    assert_int_equal(train_young_window(h, &f, E, 100, 1, 0, 0, 1, 0), young);          /* snapshots at E, 3 E, ... */
    assert_int_equal(train_young_window(nobn, &s, E, 100, 0, 0, 0, 1, 0), 0);
    host_free(h); host_free(nobn);
    unlink(path); unlink(path2);
    free(path); free(path2);
}

/* host_bn_keep is the library's: running means set to 1, one training step, then the
 * batch's own means (host_bn_recompute over that one batch): each channel's new running mean
 * is keep * 1 + (1 - keep) * its batch mean. */
static const float *g_keep_x;
static int keep_batch(void *ctx, int b, float *x, int max) {
    (void)ctx;
    if (b > 0) return 0;
    memcpy(x, g_keep_x, (size_t)max * 36 * sizeof(float));
    return max;
}
static void test_bn_keep_is_the_library_s(void **st) {
    (void)st;
    char *path;
    host_net *h = load_cfg("[net]\nbatch=8\nwidth=6\nheight=6\nchannels=1\nlearning_rate=0.05\nmax_batches=100\n"
                           "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=relu\n"
                           "[connected]\noutput=3\nactivation=linear\n[softmax]\n", &path);
    assert_non_null(h);
    int B = host_batch(h);
    size_t ns = host_nstats(h);
    float *x = malloc((size_t)B * 36 * sizeof(float)), *y = calloc((size_t)B * 3, sizeof(float));
    float *ones = malloc(ns * sizeof(float)), *after = malloc(ns * sizeof(float)), *batch = malloc(ns * sizeof(float));
    tu_fill_random(x, (size_t)B * 36, 1.0f, 7);
    for (int i = 0; i < B; i++) { y[i * 3 + i % 3] = 1; x[i * 36] += 3; }
    for (size_t i = 0; i < ns; i++) ones[i] = 1;
    host_set_stats(h, ones);
    host_step(h, x, y, NULL);
    host_get_stats(h, after);
    g_keep_x = x;
    host_bn_recompute(h, keep_batch, NULL, 1);
    host_get_stats(h, batch);
    double keep = host_bn_keep(h);
    int checked = 0;
    const hp_block *bl = host_blocks(h);
    for (int i = 0; i < host_nblocks(h); i++) {
        if (bl[i].kind != HP_ROLLING_MEAN) continue;
        for (int c = 0; c < bl[i].bn_channels; c++) {
            size_t o = bl[i].offset + c;
            if (fabs(1 - batch[o]) < 0.05) continue;   /* too close to 1 to tell */
            double measured = (after[o] - batch[o]) / (1 - batch[o]);
            printf("channel %d: running mean 1 -> %.6f, batch mean %.6f: keep %.5f (host_bn_keep %.5f)\n",
                   c, after[o], batch[o], measured, keep);
            assert_true(fabs(measured - keep) < 1e-3);
            checked++;
        }
    }
    assert_true(checked > 0);
    free(x); free(y); free(ones); free(after); free(batch);
    host_free(h); unlink(path); free(path);
}

/* ---- a whole run (train_job.h) ---- */
static dataset tiny_set(int n, unsigned seed) {
    dataset d = { 0 };
    d.n = n; d.w = 6; d.h = 6; d.c = 1; d.classes = 3;
    d.X = malloc((size_t)n * 36 * sizeof(float));
    d.labels = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        d.labels[i] = (i + (int)seed) % 3;
        tu_fill_random(d.X + (size_t)i * 36, 36, 0.5f, seed * 100 + i);
        d.X[(size_t)i * 36 + d.labels[i]] += 1;
    }
    return d;
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* what the run reported: rows, where the snapshots were, saves; every row checks the files */
typedef struct {
    const char *prefix;
    int rows, snap_rows, saves, started, finished, bad;
    uint64_t snap_its[16];
} job_seen;

static void seen_start(void *ctx, const train_session *s) {
    job_seen *v = ctx;
    v->started++;
    if (!s->snapshots || s->nsnap != 3 || s->epochs != 2 || s->iters != 5) v->bad++;
}
static void seen_row(void *ctx, const train_session *s, const train_row *r) {
    job_seen *v = ctx;
    char path[4096];
    v->rows++;
    if (r->snap) {
        if (!sched_snapshot_after(&s->s, r->it)) v->bad++;          /* only where the schedule says */
        if (r->snap != s->snaps.count || v->snap_rows >= 16) v->bad++;
        else v->snap_its[v->snap_rows++] = r->it;
        if (r->whole != ((r->it + 1) % 5 == 0)) v->bad++;           /* inside an epoch: a row of its own */
    }
    /* files _snap01 .. _snapKK exist for the K snapshots so far, and no further one */
    for (int k = 1; k <= s->snaps.count + 1; k++) {
        snprintf(path, sizeof path, "%s_snap%02d.weights", v->prefix, k);
        if (file_exists(path) != (k <= s->snaps.count)) v->bad++;
    }
}
static void seen_saved(void *ctx, const char *path, int exact, int images) {
    job_seen *v = ctx;
    (void)exact; (void)images;
    v->saves++;
    if (!file_exists(path)) v->bad++;
}
static void seen_finished(void *ctx, const train_session *s) {
    job_seen *v = ctx;
    (void)s;
    v->finished++;
}

/* A run of policy=fge_cyclic with a cycle of 4 iterations, 5 per epoch, 2 epochs: the snapshot
 * files appear exactly after the schedule's snapshot iterations (1, 5, 9) under the names of
 * the output's stem, each when its row is reported; the CSV has the header and a line per
 * row; the final weights are saved once. */
static void test_job_snapshots(void **st) {
    (void)st;
    char *cfg, err[DKMC_ERRLEN] = "";
    host_net *h = load_cfg(NET("policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle=4\n"), &cfg);
    assert_non_null(h);
    dataset tr = tiny_set(40, 1), te = tiny_set(12, 2);
    char *out = tu_temp_path(".weights"), *csv = tu_temp_path(".csv"), prefix[4096];
    train_snapshot_prefix(prefix, sizeof prefix, out);
    assert_int_equal(strlen(prefix) + 8, strlen(out));              /* the stem: out without .weights */
    train_job j = { 0 };
    j.cmd = "train"; j.data = "tiny.data"; j.cfg = cfg; j.out = out; j.csv = csv;
    j.kind = SCHED_CFG; j.epochs = 2; j.seed = 3; j.batch = host_batch(h);
    job_seen v = { prefix, 0, 0, 0, 0, 0, 0, { 0 } };
    train_report rep = { seen_start, seen_row, seen_saved, seen_finished, &v };
    train_session s;
    int rc = train_session_run(&s, &j, h, &tr, &te, &rep, err);
    if (rc) fail_msg("%s", err);
    assert_int_equal(v.bad, 0);
    assert_int_equal(v.started, 1);
    assert_int_equal(v.finished, 1);
    assert_int_equal(v.saves, 1);                                    /* at the end only */
    assert_int_equal(s.snaps.count, 3);
    assert_int_equal(v.snap_rows, 3);
    int k = 0;                                                       /* the schedule's, independently */
    for (uint64_t it = 0; it < 10; it++) if (sched_snapshot_after(&s.s, it)) { assert_true(k < 3); assert_int_equal(v.snap_its[k++], it); }
    assert_int_equal(k, 3);
    assert_int_equal((int)v.snap_its[0], 1);
    assert_int_equal(v.rows, 4);                                     /* 2 epochs + 2 snapshots inside them */
    char path[4096];
    snprintf(path, sizeof path, "%s_snap03.weights", prefix);
    assert_true(file_exists(path));
    snprintf(path, sizeof path, "%s_snap04.weights", prefix);
    assert_false(file_exists(path));
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    int lines = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    assert_int_equal(lines, 5);                                      /* header + 4 rows */
    train_session_free(&s);
    for (int i = 1; i <= 3; i++) { snprintf(path, sizeof path, "%s_snap%02d.weights", prefix, i); unlink(path); }
    unlink(out); unlink(csv); free(out); free(csv);
    data_free(&tr); data_free(&te);
    host_free(h); unlink(cfg); free(cfg);
}

/* A run refuses, in one line and before writing anything: a cfg whose cycle does not fit
 * (naming the cfg), snapshots without a test set, -cycle of an odd number of iterations, and
 * a training set smaller than one batch (naming the data). */
static void test_job_refusals(void **st) {
    (void)st;
    char *cfg, *cfg2, err[DKMC_ERRLEN];
    host_net *h = load_cfg(NET("policy=fge_cyclic\nlearning_rate_min=0.001\nfge_cycle=5\n"), &cfg);
    host_net *h2 = load_cfg(NET("policy=sgdr\nsgdr_cycle=4\n"), &cfg2);
    assert_non_null(h); assert_non_null(h2);
    dataset tr = tiny_set(40, 1), te = tiny_set(12, 2), few = tiny_set(5, 3);
    char *out = tu_temp_path(".weights"), *csv = tu_temp_path(".csv");
    train_job j = { 0 };
    j.cmd = "train"; j.data = "tiny.data"; j.cfg = cfg; j.out = out; j.csv = csv;
    j.kind = SCHED_CFG; j.epochs = 2; j.seed = 1; j.batch = 8;
    train_session s;
    assert_int_equal(train_session_run(&s, &j, h, &tr, &te, NULL, err), -1);
    train_session_free(&s);
    if (!strstr(err, cfg) || !strstr(err, "even") || strchr(err, '\n')) fail_msg("'%s'", err);
    j.cfg = cfg2; j.no_test = 1;
    dataset none = { 0 };
    assert_int_equal(train_session_run(&s, &j, h2, &tr, &none, NULL, err), -1);
    train_session_free(&s);
    assert_string_equal(err, "policy sgdr takes snapshots and evaluates them on the test set: drop -no_test");
    j.no_test = 0; j.kind = SCHED_FGE; j.lr = 0.05; j.lr2 = 0.001; j.cycle_epochs = 0.5;   /* 2.5 iterations */
    assert_int_equal(train_session_run(&s, &j, h2, &tr, &te, NULL, err), -1);
    train_session_free(&s);
    assert_non_null(strstr(err, "-cycle 0.5"));
    assert_int_equal(train_session_run(&s, &j, h2, &few, &te, NULL, err), -1);
    train_session_free(&s);
    assert_string_equal(err, "tiny.data: 5 training images are fewer than one batch of 8");
    assert_false(file_exists(out));
    assert_false(file_exists(csv));
    free(out); free(csv);
    data_free(&tr); data_free(&te); data_free(&few);
    host_free(h); host_free(h2); unlink(cfg); unlink(cfg2); free(cfg); free(cfg2);
}

/* the default output: <backup>/<cfg name><suffix>.weights */
static void test_job_default_out(void **st) {
    (void)st;
    char buf[256];
    train_default_out(buf, sizeof buf, "backup/", "cfg/fashion-cnn.cfg", "_fge");
    assert_string_equal(buf, "backup/fashion-cnn_fge.weights");
    train_default_out(buf, sizeof buf, "", "net.cfg", "");
    assert_string_equal(buf, "./net.weights");
    train_snapshot_prefix(buf, sizeof buf, "runs/a.weights");
    assert_string_equal(buf, "runs/a");
    train_snapshot_prefix(buf, sizeof buf, "runs/a.w");
    assert_string_equal(buf, "runs/a.w");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fge_closed_form),
        cmocka_unit_test(test_fge_snapshots_at_minima),
        cmocka_unit_test(test_sgdr_closed_form),
        cmocka_unit_test(test_reference_table),
        cmocka_unit_test(test_cfg_keys),
        cmocka_unit_test(test_loop_hooks),
        cmocka_unit_test(test_non_finite_guards),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_young_window),
        cmocka_unit_test(test_bn_keep_is_the_library_s),
        cmocka_unit_test(test_job_snapshots),
        cmocka_unit_test(test_job_refusals),
        cmocka_unit_test(test_job_default_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
