/* test_curve.c: curve coefficients against closed forms, bend gradients against finite
 * differences, end points reproduced exactly, the .curve file (round trip, truncation,
 * corruption), and resume = uninterrupted training. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "curve.h"
#include "curve_train.h"
#include "host.h"
#include "run.h"
#include "wspace.h"

static const char *SMOOTH =
    "[net]\nbatch=32\nwidth=12\nheight=12\nchannels=1\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=logistic\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";
static const char *WITH_DROPOUT =
    "[net]\nbatch=16\nwidth=12\nheight=12\nchannels=1\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n[dropout]\nprobability=0.2\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";

static void test_coeffs_closed_forms(void **s) {
    (void)s;
    float c[8];
    for (int i = 0; i <= 20; i++) {
        double t = i / 20.0;
        curve_coeffs(CURVE_BEZIER, 3, t, c);
        assert_true(fabs(c[0] - (1 - t) * (1 - t)) < 1e-6 && fabs(c[1] - 2 * t * (1 - t)) < 1e-6 && fabs(c[2] - t * t) < 1e-6);
        curve_coeffs(CURVE_BEZIER, 4, t, c);
        double u = 1 - t;
        assert_true(fabs(c[0] - u * u * u) < 1e-6 && fabs(c[1] - 3 * t * u * u) < 1e-6 &&
                    fabs(c[2] - 3 * t * t * u) < 1e-6 && fabs(c[3] - t * t * t) < 1e-6);
        curve_coeffs(CURVE_POLYCHAIN, 3, t, c);
        double e0 = t <= .5 ? 1 - 2 * t : 0, e1 = t <= .5 ? 2 * t : 2 - 2 * t, e2 = t <= .5 ? 0 : 2 * t - 1;
        assert_true(fabs(c[0] - e0) < 1e-6 && fabs(c[1] - e1) < 1e-6 && fabs(c[2] - e2) < 1e-6);
        for (int k = 2; k <= 7; k++)
            for (int ty = 0; ty < 2; ty++) {
                curve_coeffs(ty ? CURVE_POLYCHAIN : CURVE_BEZIER, k, t, c);
                double sum = 0;
                for (int j = 0; j < k; j++) { sum += c[j]; assert_true(c[j] >= 0); }
                assert_true(fabs(sum - 1) < 1e-5);
            }
        /* K = 2: both are the straight line */
        float b[2], p[2];
        curve_coeffs(CURVE_BEZIER, 2, t, b);
        curve_coeffs(CURVE_POLYCHAIN, 2, t, p);
        assert_true(fabs(b[0] - (1 - t)) < 1e-7 && fabs(p[0] - (1 - t)) < 1e-7 && fabs(b[1] - t) < 1e-7 && fabs(p[1] - t) < 1e-7);
    }
    /* PolyChain passes through every bend */
    curve_coeffs(CURVE_POLYCHAIN, 5, 0.75, c);
    assert_true(c[3] == 1.0f && c[0] == 0 && c[1] == 0 && c[2] == 0 && c[4] == 0);
}

static void test_init_linear_is_the_segment(void **s) {
    (void)s;
    curve cv;
    curve_init(&cv, CURVE_BEZIER, 4, 50, 0);
    tu_fill_random(cv.bends[0], 50, 1, 1);
    tu_fill_random(cv.bends[3], 50, 1, 2);
    curve_init_linear(&cv);
    float w[50];
    for (int i = 0; i <= 10; i++) {
        double t = i / 10.0;
        curve_point(&cv, t, w);
        for (int j = 0; j < 50; j++) assert_true(fabs(w[j] - ((1 - t) * cv.bends[0][j] + t * cv.bends[3][j])) < 1e-5);
    }
    curve_free(&cv);
}

static host_net *load_cfg(const char *text, char **path) {
    *path = tu_write_temp(".cfg", text);
    char err[HOST_ERRLEN];
    host_net *h = host_load(*path, 0, err);
    if (!h) fprintf(stderr, "%s\n", err);
    assert_non_null(h);
    return h;
}

static dataset synthetic_s(int n, int side, int classes, unsigned seed, float signal) {
    dataset d = {0};
    d.n = n; d.w = side; d.h = side; d.c = 1; d.classes = classes;
    d.X = malloc((size_t)n * side * side * sizeof(float));
    d.labels = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        int lab = (i * 7 + seed) % classes;
        d.labels[i] = lab;
        float *x = d.X + (size_t)i * side * side;
        tu_fill_random(x, side * side, 0.3f, seed * 1000 + i);
        for (int p = 0; p < side * side; p++) x[p] = fabsf(x[p]) + ((p % classes) == lab ? signal : 0);
    }
    return d;
}
static dataset synthetic(int n, int side, int classes, unsigned seed) { return synthetic_s(n, side, classes, seed, 0.5f); }

static void make_curve(curve *cv, host_net *h, int k, unsigned seed) {
    size_t n = host_nparams(h);
    curve_init(cv, CURVE_BEZIER, k, n, host_nstats(h));
    for (int j = 0; j < k; j++) tu_fill_random(cv->bends[j], n, 0.4f, seed + j);
    cv->flags = CURVE_FIX_START | CURVE_FIX_END;
}

/* d/dtheta_k of L(w(t)) + l2 = c_k(t) g: checked by central differences (4th order) along
 * that gradient, for each bend, at fixed t. */
static void test_bend_gradients_fd(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_cfg(SMOOTH, &cfgp);
    curve cv;
    make_curve(&cv, h, 3, 10);
    cv.decay = 5e-3f;
    size_t n = cv.n;
    int B = host_batch(h);
    dataset d = synthetic(B, 12, 3, 1);
    float *x = malloc((size_t)B * 144 * 4), *y = malloc((size_t)B * 3 * 4);
    data_batch(&d, NULL, 0, B, x, y, 0, NULL);
    float *w = malloc(n * 4), *g = malloc(n * 4), *saved = malloc(n * 4), *gk = malloc(n * 4);
    unsigned char *mask = malloc(n);
    curve_decay_mask(&cv, h, mask);
    const double t = 0.3;
    float c[3];
    curve_coeffs(cv.type, 3, t, c);
    for (int k = 0; k < 3; k++) {
        curve_batch_grad(&cv, h, t, x, y, mask, w, g, NULL, NULL);
        for (size_t i = 0; i < n; i++) gk[i] = c[k] * g[i];
        double gn = ws_norm(n, gk);
        memcpy(saved, cv.bends[k], n * 4);
        const double eps = 1e-2, at[4] = { 1, -1, 2, -2 };
        double f[4];
        for (int q = 0; q < 4; q++) {
            for (size_t i = 0; i < n; i++) cv.bends[k][i] = saved[i] + (float)(at[q] * eps * gk[i] / gn);
            f[q] = curve_batch_grad(&cv, h, t, x, y, mask, w, g, NULL, NULL);
        }
        memcpy(cv.bends[k], saved, n * 4);
        double fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * eps);
        double rel = fabs(fd - gn) / gn;
        printf("bend %d at t=%.1f: |grad| %.6g, finite difference %.6g, rel err %.2e\n", k, t, gn, fd, rel);
        assert_true(rel < 1e-3);
    }
    free(x); free(y); free(w); free(g); free(saved); free(gk); free(mask);
    data_free(&d); curve_free(&cv); host_free(h); unlink(cfgp); free(cfgp);
}

/* At t = 0 and t = 1 the network is exactly the end point network (same BN statistics). */
static void test_endpoints_exact(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_cfg(SMOOTH, &cfgp);
    curve cv;
    make_curve(&cv, h, 3, 20);
    cv.type = CURVE_BEZIER;
    dataset d = synthetic(40, 12, 3, 2);
    size_t n = cv.n, ns = host_nstats(h);
    float *stats = malloc(ns * 4), *w = malloc(n * 4);
    float *p_end = malloc(40 * 3 * 4), *p_curve = malloc(40 * 3 * 4);
    for (int which = 0; which < 2; which++)
        for (int ty = 0; ty < 2; ty++) {
            cv.type = ty ? CURVE_POLYCHAIN : CURVE_BEZIER;
            tu_fill_random(stats, ns, 0.5f, 3 + which);
            for (size_t i = 0; i < ns; i++) stats[i] = fabsf(stats[i]) + 0.2f;
            host_set_stats(h, stats);
            host_set_params(h, cv.bends[which ? 2 : 0]);
            run_eval(h, &d, p_end, NULL);
            curve_point(&cv, which ? 1.0 : 0.0, w);
            assert_memory_equal(w, cv.bends[which ? 2 : 0], n * 4);
            host_set_params(h, w);
            host_set_stats(h, stats);
            run_eval(h, &d, p_curve, NULL);
            assert_memory_equal(p_end, p_curve, 40 * 3 * 4);
        }
    free(stats); free(w); free(p_end); free(p_curve);
    data_free(&d); curve_free(&cv); host_free(h); unlink(cfgp); free(cfgp);
}

static void test_file_round_trip_and_corruption(void **s) {
    (void)s;
    curve cv, back;
    curve_init(&cv, CURVE_POLYCHAIN, 4, 1000, 30);
    for (int j = 0; j < 4; j++) tu_fill_random(cv.bends[j], 1000, 1, j);
    tu_fill_random(cv.stats[0], 30, 1, 9);
    tu_fill_random(cv.stats[1], 30, 1, 8);
    cv.flags = CURVE_FIX_START | CURVE_HAS_STATE;
    for (int j = 1; j < 4; j++) { cv.momentum[j] = malloc(4000); tu_fill_random(cv.momentum[j], 1000, 1, 50 + j); }
    cv.iteration = 12345; cv.epoch = 3; cv.epochs = 7; cv.lr = 0.02f; cv.seed = 99;
    rng_seed(&cv.rng, 5);
    char *path = tu_temp_path(".curve");
    char err[CURVE_ERRLEN];
    assert_int_equal(curve_save(&cv, path, err), 0);
    assert_int_equal(curve_load(&back, path, err), 0);
    assert_int_equal(back.k, 4);
    assert_int_equal(back.type, CURVE_POLYCHAIN);
    assert_int_equal(back.iteration, 12345);
    assert_int_equal(back.epoch, 3);
    assert_true(back.lr == 0.02f && back.seed == 99);
    assert_memory_equal(back.rng.s, cv.rng.s, 32);
    for (int j = 0; j < 4; j++) assert_memory_equal(back.bends[j], cv.bends[j], 4000);
    assert_null(back.momentum[0]);
    for (int j = 1; j < 4; j++) assert_memory_equal(back.momentum[j], cv.momentum[j], 4000);
    assert_memory_equal(back.stats[1], cv.stats[1], 120);
    curve_free(&back);
    /* truncated */
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(path, size - 100), 0);
    assert_int_not_equal(curve_load(&back, path, err), 0);
    assert_non_null(strstr(err, path));
    /* one flipped byte in a bend */
    assert_int_equal(curve_save(&cv, path, err), 0);
    fp = fopen(path, "r+b");
    fseek(fp, 500, SEEK_SET);
    fputc(0x5a, fp);
    fclose(fp);
    assert_int_not_equal(curve_load(&back, path, err), 0);
    assert_non_null(strstr(err, "checksum"));
    /* not a curve */
    fp = fopen(path, "wb");
    for (int i = 0; i < 300; i++) fputc(i, fp);
    fclose(fp);
    assert_int_not_equal(curve_load(&back, path, err), 0);
    assert_non_null(strstr(err, "magic"));
    assert_int_not_equal(curve_load(&back, "/nonexistent.curve", err), 0);
    /* save into a missing directory: error, nothing left */
    assert_int_not_equal(curve_save(&cv, "/nonexistent-dir/a.curve", err), 0);
    unlink(path); free(path); curve_free(&cv);
}

/* Training 2 epochs in one go = 1 epoch, checkpoint, reload, 1 more epoch: same bends. */
static void test_resume_equals_uninterrupted(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_cfg(WITH_DROPOUT, &cfgp);
    dataset d = synthetic(96, 12, 3, 3);
    d.crop_pad = 2; d.flip = 1;   /* augmentation is part of the state too */
    char err[CURVE_ERRLEN];
    curve a;
    make_curve(&a, h, 3, 30);
    curve_init_linear(&a);
    a.epochs = 2; a.lr = 0.05f; a.mom = 0.9f; a.decay = 5e-4f; a.seed = 4;
    curve b;
    curve_init(&b, a.type, a.k, a.n, a.nstats);
    for (int j = 0; j < 3; j++) memcpy(b.bends[j], a.bends[j], a.n * 4);
    b.flags = a.flags; b.epochs = 2; b.lr = a.lr; b.mom = a.mom; b.decay = a.decay; b.seed = a.seed;
    curve_train_opts o = { 0, NULL, NULL, 0, 0, NULL };
    assert_int_equal(curve_train(&a, h, &d, &o, err), 0);
    char *path = tu_temp_path(".curve");
    curve_train_opts o1 = { 1, path, NULL, 0, 1, NULL };
    assert_int_equal(curve_train(&b, h, &d, &o1, err), 0);
    assert_int_equal(b.epoch, 1);
    curve_free(&b);
    assert_int_equal(curve_load(&b, path, err), 0);
    assert_int_equal(curve_train(&b, h, &d, &o, err), 0);
    assert_int_equal(b.epoch, 2);
    assert_int_equal(b.iteration, a.iteration);
    assert_memory_equal(a.bends[1], b.bends[1], a.n * 4);
    /* the middle bend moved, the fixed ends did not */
    curve c0;
    make_curve(&c0, h, 3, 30);
    curve_init_linear(&c0);
    assert_true(ws_dist(a.n, a.bends[1], c0.bends[1]) > 1e-3);
    assert_memory_equal(a.bends[0], c0.bends[0], a.n * 4);
    assert_memory_equal(a.bends[2], c0.bends[2], a.n * 4);
    curve_free(&c0); curve_free(&a); curve_free(&b);
    unlink(path); free(path); data_free(&d); host_free(h); unlink(cfgp); free(cfgp);
}

/* Train a plain network from the current (random) weights: the end points of the test below. */
static void train_plain(host_net *h, const dataset *d, int steps, float *w) {
    size_t n = host_nparams(h);
    int B = host_batch(h);
    float *g = malloc(n * 4), *v = calloc(n, 4), *x = malloc((size_t)B * 144 * 4), *y = malloc((size_t)B * 3 * 4);
    unsigned char *mask = malloc(n);
    host_decay_mask(h, mask);
    host_get_params(h, w);
    for (int it = 0; it < steps; it++) {
        data_batch(d, NULL, (it * B) % (d->n - B + 1), B, x, y, 0, NULL);
        host_step(h, x, y, NULL);
        host_get_grad(h, g);
        ws_sgd_step(n, w, g, v, 0.1f, 0.9f, 5e-4f, mask);
        host_set_params(h, w);
    }
    free(g); free(v); free(x); free(y); free(mask);
}

/* Curve training does what it is for: between two independently trained networks, the loss
 * in the middle of the trained Bezier curve is lower than in the middle of the line. */
static void test_training_lowers_the_middle(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_cfg(SMOOTH, &cfgp);
    dataset d = synthetic_s(256, 12, 3, 5, 0.02f);
    curve cv;
    curve_init(&cv, CURVE_BEZIER, 3, host_nparams(h), 0);
    char err[HOST_ERRLEN];
    for (int e = 0; e < 2; e++) {
        host_net *fresh;
        srand(100 + e);                       /* different initialisations */
        fresh = host_load(cfgp, 0, err);
        assert_non_null(fresh);
        train_plain(fresh, &d, 60, cv.bends[e ? 2 : 0]);
        host_free(fresh);
    }
    curve_init_linear(&cv);
    cv.flags = CURVE_FIX_START | CURVE_FIX_END;
    cv.epochs = 8; cv.lr = 0.1f; cv.mom = 0.9f; cv.decay = 5e-4f; cv.seed = 3;
    curve_eval_opts o = { 3, 0, 0, 5e-4f, 0, 0, NULL, NULL };
    curve_eval_row before[3], after[3];
    { char e2[CURVE_ERRLEN]; assert_int_equal(curve_evaluate(&cv, h, &d, &d, &o, before, e2), 0); }
    curve_train_opts to = { 0, NULL, NULL, 0, 0, NULL };
    assert_int_equal(curve_train(&cv, h, &d, &to, err), 0);
    { char e2[CURVE_ERRLEN]; assert_int_equal(curve_evaluate(&cv, h, &d, &d, &o, after, e2), 0); }
    printf("middle train nll: line %.4f, trained curve %.4f (ends %.4f, %.4f)\n",
           before[1].tr_nll, after[1].tr_nll, after[0].tr_nll, after[2].tr_nll);
    assert_true(after[0].tr_nll == before[0].tr_nll && after[2].tr_nll == before[2].tr_nll);  /* fixed ends */
    /* the barrier (middle above the worse end) shrinks to less than half of the line's */
    double worse = after[0].tr_nll > after[2].tr_nll ? after[0].tr_nll : after[2].tr_nll;
    assert_true(before[1].tr_nll - worse > 0.05);
    assert_true(after[1].tr_nll - worse < 0.5 * (before[1].tr_nll - worse));
    curve_free(&cv); data_free(&d); host_free(h); unlink(cfgp); free(cfgp);
}

static void test_stats(void **s) {
    (void)s;
    curve_eval_row r[3] = { { 0, 0, 0, 0, 0, 0, 1 }, { .5, 1, 0, 0, 0, 0, 3 }, { 1, 3, 0, 0, 0, 0, 2 } };
    curve_stat st = curve_stats(r, 3, offsetof(curve_eval_row, te_err));
    assert_true(st.min == 1 && st.max == 3 && fabs(st.avg - 2) < 1e-12 && st.start == 1 && st.end == 2);
    /* (1+3)/2*1 + (3+2)/2*3 = 2 + 7.5 = 9.5 over length 4 */
    assert_true(fabs(st.integral - 9.5 / 4) < 1e-12);
}

/* An evaluation run: the curve, the line between its end points and the CSV. The line's end
 * rows equal the curve's (same weights, statistics recomputed the same way), its middle lies
 * half of ||end - start|| from the start, the callback sees every row with its path's name,
 * and the CSV holds exactly the rows; an unwritable CSV is an error naming it. */
typedef struct { int n; char names[8][8]; } seen_rows;
static void note_row(void *ctx, const char *path, const curve_eval_row *r) {
    seen_rows *s = ctx;
    (void)r;
    if (s->n < 8) snprintf(s->names[s->n], 8, "%s", path);
    s->n++;
}
static void test_eval_run_line_and_csv(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_cfg(SMOOTH, &cfgp);
    curve cv;
    make_curve(&cv, h, 3, 40);
    cv.decay = 5e-4f;
    dataset tr = synthetic(48, 12, 3, 6), te = synthetic(40, 12, 3, 7);
    char *csv = tu_temp_path(".csv");
    seen_rows seen = { 0 };
    curve_run_opts o = { { 3, 0, 0, 5e-4f, 0, 0, NULL, NULL }, 1, "bezier", csv, note_row, &seen };
    curve_eval_row rows[3], lrows[3];
    char err[CURVE_ERRLEN];
    assert_int_equal(curve_eval_run(&cv, h, &tr, &te, &o, rows, lrows, err), 0);
    assert_int_equal(seen.n, 6);
    for (int i = 0; i < 6; i++) assert_string_equal(seen.names[i], i < 3 ? "bezier" : "line");
    for (int e = 0; e < 3; e += 2) {
        assert_true(lrows[e].t == rows[e].t);
        assert_true(lrows[e].tr_loss == rows[e].tr_loss && lrows[e].tr_nll == rows[e].tr_nll);
        assert_true(lrows[e].te_nll == rows[e].te_nll && lrows[e].te_err == rows[e].te_err);
    }
    float *d = malloc(cv.n * sizeof(float));
    for (size_t i = 0; i < cv.n; i++) d[i] = cv.bends[2][i] - cv.bends[0][i];
    double half = 0.5 * ws_norm(cv.n, d);
    assert_true(fabs(lrows[1].dl - half) < 1e-4 * half);
    free(d);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[512], name[16];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "path,t,dl,tr_loss,tr_nll,tr_err,te_nll,te_err\n");
    int nrows = 0;
    while (fgets(line, sizeof line, f)) {
        double v[7];
        assert_int_equal(sscanf(line, "%15[^,],%lf,%lf,%lf,%lf,%lf,%lf,%lf", name, v, v + 1, v + 2, v + 3, v + 4, v + 5, v + 6), 8);
        assert_true(nrows < 6);
        const curve_eval_row *r = nrows < 3 ? &rows[nrows] : &lrows[nrows - 3];
        assert_string_equal(name, nrows < 3 ? "bezier" : "line");
        assert_true(fabs(v[0] - r->t) < 1e-6 && fabs(v[3] - r->tr_nll) < 1e-6 && fabs(v[4] - r->tr_err) < 1e-4);
        assert_true(fabs(v[5] - r->te_nll) < 1e-6 && fabs(v[6] - r->te_err) < 1e-4);
        nrows++;
    }
    fclose(f);
    assert_int_equal(nrows, 6);
    unlink(csv);
    /* the CSV's directory does not exist: an error naming the file, nothing written */
    o.csv = "/nonexistent-dir/curve.csv";
    o.row = NULL;
    assert_int_equal(curve_eval_run(&cv, h, &tr, &te, &o, rows, lrows, err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/curve.csv"));
    free(csv);
    curve_free(&cv); data_free(&tr); data_free(&te); host_free(h); unlink(cfgp); free(cfgp);
}

/* ---- a training run (curve_train_run) ---- */
typedef struct { int resumed, started; char out[4096]; } seen_run;
static void run_resumed(void *ctx, const char *path, const curve *cv) { (void)path; (void)cv; ((seen_run *)ctx)->resumed++; }
static void run_started(void *ctx, const curve *cv, const char *out, int images) {
    seen_run *v = ctx;
    (void)cv; (void)images;
    v->started++;
    snprintf(v->out, sizeof v->out, "%s", out);
}

/* an end point: random weights written as a .weights file; its parameters in w */
static char *write_end(host_net *h, unsigned seed, float *w) {
    tu_fill_random(w, host_nparams(h), 0.4f, seed);
    host_set_params(h, w);
    char *path = tu_temp_path(".weights"), err[HOST_ERRLEN];
    assert_int_equal(host_save_weights(h, path, err), 0);
    return path;
}

/* A curve from two end point files: the ends are the files' parameters and stay, the
 * checkpoint of an interrupted run resumed to the end equals an uninterrupted run bit for
 * bit, and the refusals (nothing to train, a checkpoint of another cfg, a missing end point,
 * an unwritable output) are one line naming what is wrong. */
static void test_train_run(void **s) {
    (void)s;
    char *cfgp, *cfg2;
    host_net *h = load_cfg(WITH_DROPOUT, &cfgp);
    host_net *h2 = load_cfg(SMOOTH, &cfg2);
    size_t n = host_nparams(h);
    float *wa = malloc(n * sizeof(float)), *wb = malloc(n * sizeof(float));
    char *a = write_end(h, 50, wa), *b = write_end(h, 51, wb);
    dataset d = synthetic(64, 12, 3, 8);
    char *full = tu_temp_path(".curve"), *part = tu_temp_path(".curve"), err[CURVE_ERRLEN];
    curve_train_job j = { 0 };
    j.cfg = cfgp; j.start = a; j.end = b; j.out = full; j.type = CURVE_BEZIER; j.bends = 3; j.epochs = 2; j.seed = 5;
    j.lr = 0.05; j.mom = -1; j.decay = -1; j.save_every = 1;
    seen_run v = { 0 };
    curve_train_report rep = { run_resumed, run_started, &v };
    assert_int_equal(curve_train_run(&j, h, &d, &rep, err), 0);
    assert_int_equal(v.started, 1);
    assert_string_equal(v.out, full);
    j.out = part; j.stop_after = 1;                                  /* interrupted after epoch 1 */
    assert_int_equal(curve_train_run(&j, h, &d, &rep, err), 0);
    curve_train_job r = j;                                           /* resumed to its end */
    r.resume = part; r.out = NULL; r.start = r.end = NULL; r.stop_after = 0; r.epochs = 0;
    assert_int_equal(curve_train_run(&r, h, &d, &rep, err), 0);
    assert_int_equal(v.resumed, 1);
    assert_string_equal(v.out, part);                                /* resume writes its own file */
    curve c1, c2;
    assert_int_equal(curve_load(&c1, full, err), 0);
    assert_int_equal(curve_load(&c2, part, err), 0);
    assert_int_equal(c1.epoch, 2);
    assert_int_equal(c2.epoch, 2);
    assert_memory_equal(c1.bends[0], wa, n * 4);                     /* the ends are the files */
    assert_memory_equal(c1.bends[2], wb, n * 4);
    assert_memory_equal(c1.bends[1], c2.bends[1], n * 4);
    assert_true(fabs(c1.mom - 0.9f) < 1e-7 && fabs(c1.decay - 5e-4f) < 1e-9);   /* the cfg's */
    curve_free(&c1); curve_free(&c2);
    /* refusals */
    curve_train_job k = j;
    k.bends = 2; k.stop_after = 0;
    assert_int_equal(curve_train_run(&k, h, &d, NULL, err), -1);
    assert_string_equal(err, "a 2-bend curve with fixed ends has nothing to train (use -bends 3)");
    k.free_start = k.free_end = 1;
    assert_int_equal(curve_train_run(&k, h, &d, NULL, err), -1);
    assert_non_null(strstr(err, "both ends free"));
    curve_train_job o = r;
    o.cfg = cfg2;
    assert_int_equal(curve_train_run(&o, h2, &d, NULL, err), -1);
    if (!strstr(err, part) || !strstr(err, cfg2) || !strstr(err, "parameters")) fail_msg("'%s'", err);
    k = j; k.stop_after = 0; k.end = "/nonexistent-dir/b.weights";
    assert_int_equal(curve_train_run(&k, h, &d, NULL, err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/b.weights"));
    k = j; k.stop_after = 0; k.out = "/nonexistent-dir/c.curve";
    v.started = 0;
    assert_int_equal(curve_train_run(&k, h, &d, &rep, err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/c.curve"));
    assert_int_equal(v.started, 0);                                  /* refused before training */
    unlink(full); unlink(part); unlink(a); unlink(b);
    free(full); free(part); free(a); free(b); free(wa); free(wb);
    data_free(&d); host_free(h); host_free(h2); unlink(cfgp); unlink(cfg2); free(cfgp); free(cfg2);
}

/* The straight line between two .weights files is the 2-bend PolyChain of their parameters
 * with the cfg's decay; a point of it exported is (1-t) a + t b (summed here in double) with
 * the BN statistics of that point recomputed on the data; a curve of another cfg, a missing
 * end point and an unwritable output are refused in one line naming them. */
static void test_line_between_and_export(void **s) {
    (void)s;
    char *cfgp, *cfg2;
    host_net *h = load_cfg(SMOOTH, &cfgp);
    host_net *h2 = load_cfg(WITH_DROPOUT, &cfg2);
    size_t n = host_nparams(h), ns = host_nstats(h);
    float *wa = malloc(n * sizeof(float)), *wb = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    float *st = malloc(ns * sizeof(float)), *st_want = malloc(ns * sizeof(float));
    char *a = write_end(h, 60, wa), *b = write_end(h, 61, wb), *out = tu_temp_path(".weights"), err[CURVE_ERRLEN];
    dataset d = synthetic(48, 12, 3, 9);
    curve line;
    assert_int_equal(curve_line_between(&line, h, a, b, err), 0);
    assert_int_equal(line.type, CURVE_POLYCHAIN);
    assert_int_equal(line.k, 2);
    assert_memory_equal(line.bends[0], wa, n * 4);
    assert_memory_equal(line.bends[1], wb, n * 4);
    assert_true(line.decay == 0.0005f);
    assert_int_equal(curve_check_fits(&line, h, "x.curve", "x.cfg", err), 0);
    curve_export_job j = { "x.curve", cfgp, 0.25, out };
    assert_int_equal(curve_export_run(&line, h, &j, &d, err), 0);
    host_net *fresh = host_load(cfgp, 0, err);
    assert_non_null(fresh);
    assert_int_equal(host_load_weights(fresh, out, err), 0);
    host_get_params(fresh, got);
    for (size_t i = 0; i < n; i++) {
        double want = 0.75 * (double)wa[i] + 0.25 * (double)wb[i];
        if (fabs(got[i] - want) > 1e-6 * (1 + fabs(want))) fail_msg("parameter %zu: %g, want %g", i, got[i], want);
    }
    host_get_stats(fresh, st);
    host_set_params(h, got);                                         /* the point's exact BN statistics */
    run_bn_update(h, &d, 0, NULL);
    host_get_stats(h, st_want);
    assert_memory_equal(st, st_want, ns * 4);
    /* refusals */
    char want[CURVE_ERRLEN];
    snprintf(want, sizeof want, "x.curve: bends have %zu parameters, y.cfg has %zu", n, host_nparams(h2));
    assert_int_equal(curve_check_fits(&line, h2, "x.curve", "y.cfg", err), -1);
    assert_string_equal(err, want);
    assert_int_equal(curve_export_run(&line, h2, &(curve_export_job){ "x.curve", "y.cfg", 0.5, out }, &d, err), -1);
    assert_string_equal(err, want);
    j.out = "/nonexistent-dir/p.weights";
    assert_int_equal(curve_export_run(&line, h, &j, &d, err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/p.weights"));
    curve_free(&line);
    assert_int_equal(curve_line_between(&line, h, a, "/nonexistent-dir/b.weights", err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/b.weights"));
    unlink(a); unlink(b); unlink(out); free(a); free(b); free(out);
    free(wa); free(wb); free(got); free(st); free(st_want);
    data_free(&d); host_free(h); host_free(h2); host_free(fresh); unlink(cfgp); unlink(cfg2); free(cfgp); free(cfg2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coeffs_closed_forms),
        cmocka_unit_test(test_init_linear_is_the_segment),
        cmocka_unit_test(test_bend_gradients_fd),
        cmocka_unit_test(test_endpoints_exact),
        cmocka_unit_test(test_file_round_trip_and_corruption),
        cmocka_unit_test(test_resume_equals_uninterrupted),
        cmocka_unit_test(test_training_lowers_the_middle),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_eval_run_line_and_csv),
        cmocka_unit_test(test_train_run),
        cmocka_unit_test(test_line_between_and_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
