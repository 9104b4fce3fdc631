/* test_ensemble.c: prediction ensembles average probabilities (not logits), checked against
 * brute-force computations on constructed cases; the NLL of the mean against the mean of the
 * NLLs; the members of an ensemble (cfg:weights parsing, checks, single-image prediction);
 * the SWA average of weight files against independently computed means; image loading. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "data.h"
#include "ens_run.h"
#include "ensemble.h"
#include "members.h"
#include "swa.h"

/* n rows of k softmax probabilities from random logits */
static void random_probs(float *p, int n, int k, unsigned seed) {
    tu_fill_random(p, (size_t)n * k, 3.0f, seed);
    for (int i = 0; i < n; i++) {
        float *r = p + (size_t)i * k, m = r[0], s = 0;
        for (int c = 1; c < k; c++) if (r[c] > m) m = r[c];
        for (int c = 0; c < k; c++) { r[c] = expf(r[c] - m); s += r[c]; }
        for (int c = 0; c < k; c++) r[c] /= s;
    }
}

static void random_labels(int *l, int n, int k, unsigned seed) {
    float *u = malloc(n * sizeof *u);
    tu_fill_random(u, n, 1.0f, seed);
    for (int i = 0; i < n; i++) { l[i] = (int)((u[i] + 1.0f) * 0.5f * k); if (l[i] >= k) l[i] = k - 1; }
    free(u);
}

static int argmax_d(const double *a, int k) { int b = 0; for (int c = 1; c < k; c++) if (a[c] > a[b]) b = c; return b; }

/* Brute force: the mean of m members' probabilities per image, then accuracy and NLL. */
static eval_result brute_force(float *const *members, int m, int n, int k, const int *labels) {
    double nll = 0, correct = 0, *mean = malloc(k * sizeof *mean);
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < k; c++) {
            mean[c] = 0;
            for (int j = 0; j < m; j++) mean[c] += members[j][(size_t)i * k + c];
            mean[c] /= m;
        }
        correct += argmax_d(mean, k) == labels[i];
        nll -= log(mean[labels[i]]);
    }
    free(mean);
    return (eval_result){ nll / n, 100.0 * correct / n, n };
}

static void test_one_member_is_the_model(void **state) {
    (void)state;
    int n = 200, k = 7, labels[200];
    float *p = malloc(n * k * sizeof *p);
    random_probs(p, n, k, 11);
    random_labels(labels, n, k, 12);
    ens_acc e;
    assert_int_equal(ens_init(&e, n, k), 0);
    eval_result none = ens_eval(&e, labels);
    assert_true(isnan(none.nll) && isnan(none.acc));
    ens_add(&e, p);
    /* against the brute-force sum written out above, not against another use of the same code */
    eval_result a = ens_eval(&e, labels), b = brute_force(&p, 1, n, k, labels);
    assert_true(fabs(a.nll - b.nll) <= 1e-12 * fabs(b.nll));
    assert_true(a.acc == b.acc);
    assert_int_equal(a.n, n);
    ens_free(&e);
    free(p);
}

/* Image 0: member 1 is sure of class 0, member 2 doubts it (0.001) and prefers class 1.
 * The mean of the probabilities says class 0 (0.45 vs 0.35); the mean of the log-
 * probabilities (the geometric mean, what averaging logits amounts to) says class 1.
 * Image 1: both members agree on class 1. */
static void test_mean_of_probabilities_not_logits(void **state) {
    (void)state;
    float p1[] = { 0.899f, 0.100f, 0.001f,   0.2f, 0.7f, 0.1f };
    float p2[] = { 0.001f, 0.600f, 0.399f,   0.1f, 0.8f, 0.1f };
    int labels[] = { 0, 1 }, n = 2, k = 3;
    /* the case is what it claims to be: the two rules disagree on image 0 */
    double lmean[3], pmean[3];
    for (int c = 0; c < k; c++) { lmean[c] = 0.5 * (log(p1[c]) + log(p2[c])); pmean[c] = 0.5 * ((double)p1[c] + p2[c]); }
    assert_int_equal(argmax_d(pmean, k), 0);
    assert_int_equal(argmax_d(lmean, k), 1);

    ens_acc e;
    assert_int_equal(ens_init(&e, n, k), 0);
    ens_add(&e, p1);
    ens_add(&e, p2);
    eval_result r = ens_eval(&e, labels);
    float *m[] = { p1, p2 };
    eval_result bf = brute_force(m, 2, n, k, labels);
    assert_true(fabs(r.acc - 100.0) < 1e-12);   /* a logit ensemble would score 50 */
    assert_true(fabs(r.acc - bf.acc) < 1e-12);
    assert_true(fabs(r.nll - bf.nll) < 1e-12);
    double want = -0.5 * (log(0.5 * (0.899 + 0.001)) + log(0.5 * (0.7 + 0.8)));
    assert_true(fabs(r.nll - want) < 1e-6);
    ens_free(&e);
}

/* -log of the mean is at most the mean of -log (Jensen), strictly when the members differ;
 * the ensemble NLL is the former, not the latter. */
static void test_nll_of_mean_vs_mean_of_nll(void **state) {
    (void)state;
    int n = 300, k = 10, m = 4, labels[300];
    float *p[4];
    random_labels(labels, n, k, 5);
    ens_acc e;
    assert_int_equal(ens_init(&e, n, k), 0);
    double mean_nll = 0;
    for (int j = 0; j < m; j++) {
        p[j] = malloc(n * k * sizeof(float));
        random_probs(p[j], n, k, 100 + j);
        ens_add(&e, p[j]);
        mean_nll += probs_eval(p[j], n, k, labels).nll / m;
        eval_result r = ens_eval(&e, labels), bf = brute_force(p, j + 1, n, k, labels);
        assert_true(fabs(r.nll - bf.nll) < 1e-9);
        assert_true(fabs(r.acc - bf.acc) < 1e-9);
    }
    eval_result r = ens_eval(&e, labels);
    assert_true(r.nll < mean_nll - 0.1);
    /* per image it holds too */
    for (int i = 0; i < n; i++) {
        double mp = 0, ml = 0;
        for (int j = 0; j < m; j++) { mp += p[j][i * k + labels[i]] / m; ml -= log(p[j][i * k + labels[i]]) / m; }
        assert_true(-log(mp) <= ml + 1e-12);
    }
    for (int j = 0; j < m; j++) free(p[j]);
    ens_free(&e);
}

static void test_top_k(void **state) {
    (void)state;
    float p[] = { 0.1f, 0.4f, 0.05f, 0.4f, 0.05f };
    int idx[5];
    assert_int_equal(ens_top_k(p, 5, 3, idx), 3);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 3);
    assert_int_equal(idx[2], 0);
    assert_int_equal(ens_top_k(p, 5, 9, idx), 5);
    assert_int_equal(idx[3], 2);
    assert_int_equal(idx[4], 4);
}

static void test_member_args(void **state) {
    (void)state;
    char cfg[256], w[256], err[HOST_ERRLEN];
    assert_true(ens_is_member_arg("a/b.weights"));
    assert_true(ens_is_member_arg("net.cfg:snap-3"));
    assert_false(ens_is_member_arg("cat.png"));
    assert_false(ens_is_member_arg("net.cfg:"));
    assert_int_equal(ens_member_split("x.weights", "d.cfg", cfg, sizeof cfg, w, sizeof w, err), 0);
    assert_string_equal(cfg, "d.cfg");
    assert_string_equal(w, "x.weights");
    assert_int_equal(ens_member_split("dir/m.cfg:dir/m.weights", "d.cfg", cfg, sizeof cfg, w, sizeof w, err), 0);
    assert_string_equal(cfg, "dir/m.cfg");
    assert_string_equal(w, "dir/m.weights");
    assert_int_equal(ens_member_split("m.cfg:", "d.cfg", cfg, sizeof cfg, w, sizeof w, err), -1);
    assert_non_null(strstr(err, "m.cfg:"));
}

/* ---- networks: a small conv+BN net on 6x6x1 images, 4 classes ---- */
static char *net_cfg(int classes) {
    char buf[1024];
    snprintf(buf, sizeof buf,
             "[net]\nbatch=4\nwidth=6\nheight=6\nchannels=1\n"
             "\n[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
             "\n[connected]\noutput=%d\nactivation=linear\n\n[softmax]\n", classes);
    return tu_write_temp(".cfg", buf);
}

static host_net *load(const char *cfg, int batch) {
    char err[HOST_ERRLEN] = "";
    host_net *h = host_load(cfg, batch, err);
    if (!h) fprintf(stderr, "load failed: %s\n", err);
    assert_non_null(h);
    return h;
}

/* random parameters and (positive) statistics, saved with the given seen */
static char *random_weights(host_net *h, unsigned seed, uint64_t seen) {
    size_t n = host_nparams(h), m = host_nstats(h);
    float *p = malloc(n * sizeof(float)), *s = malloc((m + 1) * sizeof(float));
    tu_fill_random(p, n, 0.5f, seed);
    tu_fill_random(s, m, 0.5f, seed + 7);
    for (size_t i = 0; i < m; i++) s[i] = fabsf(s[i]) + 0.1f;
    host_set_params(h, p);
    host_set_stats(h, s);
    host_set_seen(h, seen);
    char *path = tu_temp_path(".weights"), err[HOST_ERRLEN];
    assert_int_equal(host_save_weights(h, path, err), 0);
    free(p); free(s);
    return path;
}

static unsigned char *slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    unsigned char *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, f), (size_t)*len);
    fclose(f);
    return b;
}

static void test_swa_of_one_file_is_the_file(void **state) {
    (void)state;
    char *cfg = net_cfg(4), err[HOST_ERRLEN];
    host_net *h = load(cfg, 0);
    char *a = random_weights(h, 1, 1234);
    char *other = random_weights(h, 99, 7);   /* h now holds something else */
    char *out = tu_temp_path(".weights");
    char *list[] = { a };
    assert_int_equal(swa_average(h, list, 1, err), 0);
    assert_int_equal(host_save_weights(h, out, err), 0);
    long la, lo;
    unsigned char *ba = slurp(a, &la), *bo = slurp(out, &lo);
    assert_int_equal(la, lo);
    assert_memory_equal(ba, bo, la);   /* header (seen) and payload, bit for bit */
    free(ba); free(bo);
    unlink(a); unlink(out); unlink(cfg); unlink(other);
    free(a); free(out); free(cfg); free(other);
    host_free(h);
}

static void test_swa_of_two_files_is_the_midpoint(void **state) {
    (void)state;
    char *cfg = net_cfg(4), err[HOST_ERRLEN];
    host_net *h = load(cfg, 0);
    size_t n = host_nparams(h), m = host_nstats(h);
    char *a = random_weights(h, 3, 100), *b = random_weights(h, 4, 300);
    float *pa = malloc(n * 4), *pb = malloc(n * 4), *sa = malloc(m * 4), *sb = malloc(m * 4);
    float *want = malloc(n * 4), *wants = malloc(m * 4), *got = malloc(n * 4), *gots = malloc(m * 4);
    assert_int_equal(host_load_weights(h, a, err), 0);
    host_get_params(h, pa); host_get_stats(h, sa);
    assert_int_equal(host_load_weights(h, b, err), 0);
    host_get_params(h, pb); host_get_stats(h, sb);
    for (size_t i = 0; i < n; i++) want[i] = (pa[i] + pb[i]) / 2;
    for (size_t i = 0; i < m; i++) wants[i] = (sa[i] + sb[i]) / 2;
    char *list[] = { a, b };
    assert_int_equal(swa_average(h, list, 2, err), 0);
    host_get_params(h, got); host_get_stats(h, gots);
    assert_memory_equal(got, want, n * sizeof(float));
    assert_memory_equal(gots, wants, m * sizeof(float));
    assert_true(host_seen(h) == 300);
    /* order does not matter */
    char *rev[] = { b, a };
    assert_int_equal(swa_average(h, rev, 2, err), 0);
    host_get_params(h, got);
    assert_memory_equal(got, want, n * sizeof(float));

    /* a file of another network is refused by name */
    char *cfg5 = net_cfg(5);
    host_net *h5 = load(cfg5, 0);
    char *c = random_weights(h5, 5, 0);
    char *bad[] = { a, c };
    assert_int_equal(swa_average(h, bad, 2, err), -1);
    assert_non_null(strstr(err, c));
    assert_int_equal(swa_average(h, bad, 0, err), -1);

    free(pa); free(pb); free(sa); free(sb); free(want); free(wants); free(got); free(gots);
    unlink(a); unlink(b); unlink(c); unlink(cfg); unlink(cfg5);
    free(a); free(b); free(c); free(cfg); free(cfg5);
    host_free(h); host_free(h5);
}

/* The ensemble's prediction for one image is the mean of the members' probabilities, members
 * may name their own cfg, and a member that does not fit is refused by name. */
static void test_members_predict(void **state) {
    (void)state;
    char *cfg = net_cfg(4), *cfg5 = net_cfg(5), err[HOST_ERRLEN];
    host_net *h = load(cfg, 1);
    char *a = random_weights(h, 21, 0), *b = random_weights(h, 22, 0);
    float x[36], pa[4], pb[4], got[4];
    tu_fill_random(x, 36, 1.0f, 8);
    assert_int_equal(host_load_weights(h, a, err), 0);
    host_predict(h, x, 1, pa);
    assert_int_equal(host_load_weights(h, b, err), 0);
    host_predict(h, x, 1, pb);

    char spec[1024];
    snprintf(spec, sizeof spec, "%s:%s", cfg, b);
    char *args[] = { a, spec };
    ens_members m;
    assert_int_equal(ens_members_open(&m, cfg, args, 2, 1, 0, 0, 0, 4, err), 0);
    assert_int_equal(m.w * m.h * m.c, 36);
    assert_int_equal(m.nnets, 1);   /* one network per distinct cfg */
    assert_int_equal(ens_members_predict(&m, x, got, err), 0);
    for (int c = 0; c < 4; c++) assert_true(got[c] == (float)(((double)pa[c] + pb[c]) / 2));
    ens_members_free(&m);

    char *one[] = { a };
    assert_int_equal(ens_members_open(&m, cfg, one, 1, 1, 0, 0, 0, 4, err), 0);
    assert_int_equal(ens_members_predict(&m, x, got, err), 0);
    assert_memory_equal(got, pa, sizeof pa);
    ens_members_free(&m);

    /* 5 classes where the ensemble needs 4: the error names the member's cfg */
    snprintf(spec, sizeof spec, "%s:%s", cfg5, a);
    char *bad[] = { a, spec };
    assert_int_equal(ens_members_open(&m, cfg, bad, 2, 1, 6, 6, 1, 4, err), -1);
    assert_non_null(strstr(err, cfg5));
    /* a weights file of another size; a missing file */
    char *bad2[] = { a, "/nonexistent/x.weights" };
    assert_int_equal(ens_members_open(&m, cfg, bad2, 2, 1, 6, 6, 1, 4, err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.weights"));
    host_net *h5 = load(cfg5, 0);
    char *c = random_weights(h5, 5, 0);
    char *bad3[] = { c };
    assert_int_equal(ens_members_open(&m, cfg, bad3, 1, 1, 6, 6, 1, 4, err), -1);
    assert_non_null(strstr(err, c));
    /* images of another size */
    assert_int_equal(ens_members_open(&m, cfg, one, 1, 1, 7, 6, 1, 4, err), -1);
    assert_non_null(strstr(err, cfg));

    unlink(a); unlink(b); unlink(c); unlink(cfg); unlink(cfg5);
    free(a); free(b); free(c); free(cfg); free(cfg5);
    host_free(h); host_free(h5);
}

static void test_load_image(void **state) {
    (void)state;
    char *p = tu_temp_path(".pgm"), err[DATA_ERRLEN];
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    unsigned char px[16];
    for (int i = 0; i < 16; i++) px[i] = (unsigned char)(i * 17);
    fprintf(f, "P5\n4 4\n255\n");
    fwrite(px, 1, 16, f);
    fclose(f);
    float out[16 * 3];
    assert_int_equal(data_load_image(p, 4, 4, 1, out, err), 0);
    for (int i = 0; i < 16; i++) assert_true(out[i] == px[i] / 255.0f);
    /* grey to RGB: three equal planes */
    assert_int_equal(data_load_image(p, 4, 4, 3, out, err), 0);
    for (int i = 0; i < 16; i++) assert_true(out[i] == out[16 + i] && out[i] == out[32 + i]);
    /* resized to 2x2: each output pixel averages a 2x2 block (bilinear, centres aligned) */
    assert_int_equal(data_load_image(p, 2, 2, 1, out, err), 0);
    assert_true(fabsf(out[0] - (px[0] + px[1] + px[4] + px[5]) / 4.0f / 255.0f) < 1e-6f);
    unlink(p);
    assert_int_equal(data_load_image(p, 4, 4, 1, out, err), -1);
    assert_non_null(strstr(err, p));
    free(p);
}

/* ---- the runs (ens_run.h) ---- */
static dataset images(int n, int classes, unsigned seed) {
    dataset d = { 0 };
    d.n = n; d.w = 6; d.h = 6; d.c = 1; d.classes = classes;
    d.X = malloc((size_t)n * 36 * sizeof(float));
    d.labels = malloc(n * sizeof(int));
    tu_fill_random(d.X, (size_t)n * 36, 1.0f, seed);
    random_labels(d.labels, n, classes, seed + 1);
    return d;
}

typedef struct { int rows, started, done; ens_row r[4]; ens_summary s; } ens_seen;
static void seen_start(void *ctx, const ens_members *m) { (void)m; ((ens_seen *)ctx)->started++; }
static void seen_row(void *ctx, const ens_row *r) { ens_seen *v = ctx; if (v->rows < 4) v->r[v->rows] = *r; v->rows++; }
static void seen_done(void *ctx, const ens_summary *s) { ens_seen *v = ctx; v->done++; v->s = *s; }

/* ensemble run: each row's member numbers are the member's own evaluation, and its ensemble
 * numbers are the brute-force mean of the probabilities of the members so far; the CSV has a
 * line per row; a bad member fails before any row. */
static void test_ensemble_run_rows(void **state) {
    (void)state;
    char *cfg = net_cfg(4), err[DKMC_ERRLEN];
    host_net *h = load(cfg, 0);
    char *files[3] = { random_weights(h, 11, 5000), random_weights(h, 12, 5000), random_weights(h, 13, 5000) };
    dataset te = images(22, 4, 3), tr = { 0 };
    char *csv = tu_temp_path(".csv");
    ens_job j = { cfg, files, 3, 0, 0, csv, NULL };
    ens_seen v = { 0 };
    ens_report rep = { seen_start, seen_row, seen_done, &v };
    assert_int_equal(ens_eval_run(&j, &tr, &te, &rep, err), 0);
    assert_int_equal(v.started, 1);
    assert_int_equal(v.rows, 3);
    assert_int_equal(v.done, 1);
    float *probs[3];
    double sum_nll = 0, best = -1;
    for (int i = 0; i < 3; i++) {   /* independently: each member on its own, then the mean */
        probs[i] = malloc((size_t)te.n * 4 * sizeof(float));
        assert_int_equal(host_load_weights(h, files[i], err), 0);
        eval_result r = run_eval(h, &te, probs[i], NULL);
        assert_true(fabs(r.nll - v.r[i].member.nll) < 1e-6 && fabs(r.acc - v.r[i].member.acc) < 1e-9);
        eval_result e = brute_force(probs, i + 1, te.n, 4, te.labels);
        assert_true(fabs(e.nll - v.r[i].ensemble.nll) < 1e-5);
        assert_true(fabs(e.acc - v.r[i].ensemble.acc) < 1e-9);
        assert_int_equal(v.r[i].i, i + 1);
        assert_string_equal(v.r[i].file, files[i]);
        sum_nll += r.nll;
        if (r.acc > best) best = r.acc;
    }
    assert_true(fabs(v.s.mean_nll - sum_nll / 3) < 1e-6 && v.s.best_acc == best);
    assert_true(v.s.ensemble.nll == v.r[2].ensemble.nll);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[1024];
    int lines = 0;
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    assert_int_equal(lines, 4);
    unlink(csv);
    /* a member that does not exist: named, no row, no CSV */
    char *bad[2] = { files[0], "/nonexistent-dir/m.weights" };
    ens_job k = { cfg, bad, 2, 0, 0, csv, NULL };
    v.rows = 0;
    assert_int_equal(ens_eval_run(&k, &tr, &te, &rep, err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/m.weights"));
    assert_int_equal(v.rows, 0);
    assert_int_equal(access(csv, F_OK), -1);
    for (int i = 0; i < 3; i++) { unlink(files[i]); free(files[i]); free(probs[i]); }
    free(csv); data_free(&te);
    unlink(cfg); free(cfg); host_free(h);
}

/* -pairs: each pair's disagreement is the brute-force count of images whose argmax differs
 * (from each member's own probabilities), its distance the square root of the sum of the
 * squared parameter differences; a member against itself is 0 and 0; the means agree. */
static void test_ensemble_pairs(void **state) {
    (void)state;
    char *cfg = net_cfg(4), err[DKMC_ERRLEN];
    host_net *h = load(cfg, 0);
    char *files[3] = { random_weights(h, 21, 5000), random_weights(h, 22, 5000), NULL };
    files[2] = files[0];
    dataset te = images(40, 4, 5), tr = { 0 };
    char *pairs = tu_temp_path(".csv");
    ens_job j = { cfg, files, 3, 0, 0, NULL, pairs };
    ens_seen v = { 0 };
    ens_report rep = { NULL, NULL, seen_done, &v };
    assert_int_equal(ens_eval_run(&j, &tr, &te, &rep, err), 0);
    size_t np = host_nparams(h);
    float *w[2], *pr[2];
    for (int i = 0; i < 2; i++) {
        w[i] = malloc(np * sizeof(float)); pr[i] = malloc((size_t)te.n * 4 * sizeof(float));
        assert_int_equal(host_load_weights(h, files[i], err), 0);
        host_get_params(h, w[i]);
        run_eval(h, &te, pr[i], NULL);
    }
    int differ = 0;
    for (int k = 0; k < te.n; k++) {
        int a = 0, b = 0;
        for (int c = 1; c < 4; c++) { if (pr[0][k * 4 + c] > pr[0][k * 4 + a]) a = c; if (pr[1][k * 4 + c] > pr[1][k * 4 + b]) b = c; }
        differ += a != b;
    }
    double ss = 0;
    for (size_t i = 0; i < np; i++) ss += ((double)w[0][i] - w[1][i]) * ((double)w[0][i] - w[1][i]);
    double want_d = 100.0 * differ / te.n, want_w = sqrt(ss);
    assert_true(differ > 0 && differ < te.n);   /* random networks disagree on some images */
    FILE *f = fopen(pairs, "r");
    assert_non_null(f);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "a,b,file_a,file_b,disagree,dist\n");
    double dis[3], dist[3];
    for (int r = 0; r < 3; r++) {
        int a, b;
        assert_non_null(fgets(line, sizeof line, f));
        char *c1 = strrchr(line, ','); *c1 = 0;
        char *c2 = strrchr(line, ',');
        dist[r] = atof(c1 + 1); dis[r] = atof(c2 + 1);
        assert_int_equal(sscanf(line, "%d,%d", &a, &b), 2);
        assert_int_equal(a, r < 2 ? 1 : 2);
        assert_int_equal(b, r == 0 ? 2 : 3);
    }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    /* pairs (1,2), (1,3) = (1,1), (2,3) = (2,1) */
    assert_true(fabs(dis[0] - want_d) < 1e-3 && fabs(dis[2] - want_d) < 1e-3 && dis[1] == 0);
    assert_true(fabs(dist[0] - want_w) < 1e-4 * want_w && fabs(dist[2] - want_w) < 1e-4 * want_w && dist[1] == 0);
    assert_int_equal(v.s.pairs, 3);
    assert_true(fabs(v.s.mean_disagree - 2 * want_d / 3) < 1e-3);
    assert_true(fabs(v.s.mean_dist - 2 * want_w / 3) < 1e-4 * want_w);
    assert_true(ens_disagreement((int[]){ 1, 2, 3, 4 }, (int[]){ 1, 0, 3, 0 }, 4) == 50.0);
    unlink(pairs); free(pairs);
    for (int i = 0; i < 2; i++) { unlink(files[i]); free(files[i]); free(w[i]); free(pr[i]); }
    data_free(&te);
    unlink(cfg); free(cfg); host_free(h);
}

typedef struct { int rows, saved, images; char names[4][64]; } swa_seen;
static void swa_row(void *ctx, const char *name, eval_result r) {
    swa_seen *v = ctx;
    (void)r;
    if (v->rows < 4) snprintf(v->names[v->rows], 64, "%s", name);
    v->rows++;
}
static void swa_saved(void *ctx, const char *out, int images) {
    swa_seen *v = ctx;
    v->saved += access(out, F_OK) == 0;
    v->images = images;
}

/* swa run: the written network's parameters are the arithmetic mean of the files' (computed
 * here in double), with a row per member (-members) and one for the mean; a file of another
 * size is refused before anything is evaluated or written. */
static void test_swa_run_is_the_mean(void **state) {
    (void)state;
    char *cfg = net_cfg(4), *cfg3 = net_cfg(3), err[DKMC_ERRLEN];
    host_net *h = load(cfg, 0), *h3 = load(cfg3, 0);
    char *files[3] = { random_weights(h, 21, 100), random_weights(h, 22, 200), random_weights(h, 23, 300) };
    size_t n = host_nparams(h);
    double *mean = calloc(n, sizeof(double));
    float *p = malloc(n * sizeof(float));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(host_load_weights(h, files[i], err), 0);
        host_get_params(h, p);
        for (size_t q = 0; q < n; q++) mean[q] += p[q] / 3.0;
    }
    dataset tr = images(16, 4, 5), te = images(8, 4, 6);
    char *out = tu_temp_path(".weights");
    swa_job j = { out, files, 3, 1, 0 };
    swa_seen v = { 0 };
    swa_report rep = { NULL, swa_row, swa_saved, &v };
    assert_int_equal(swa_run(&j, h, &tr, &te, &rep, err), 0);
    assert_int_equal(v.rows, 4);
    assert_string_equal(v.names[0], files[0]);
    assert_string_equal(v.names[3], "swa");
    assert_int_equal(v.saved, 1);
    assert_int_equal(v.images, 16);
    assert_int_equal(host_load_weights(h, out, err), 0);   /* the file, not h's memory */
    host_get_params(h, p);
    double worst = 0;
    for (size_t q = 0; q < n; q++) if (fabs(p[q] - mean[q]) > worst) worst = fabs(p[q] - mean[q]);
    assert_true(worst < 1e-6);
    unlink(out);
    char *other = random_weights(h3, 24, 1);
    char *mixed[2] = { files[0], other };
    swa_job k = { out, mixed, 2, 1, 0 };
    v.rows = 0;
    assert_int_equal(swa_run(&k, h, &tr, &te, &rep, err), -1);
    assert_non_null(strstr(err, other));
    assert_int_equal(v.rows, 0);
    assert_int_equal(access(out, F_OK), -1);
    for (int i = 0; i < 3; i++) { unlink(files[i]); free(files[i]); }
    unlink(other); free(other); free(out); free(mean); free(p);
    data_free(&tr); data_free(&te);
    unlink(cfg); unlink(cfg3); free(cfg); free(cfg3); host_free(h); host_free(h3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_member_is_the_model),
        cmocka_unit_test(test_mean_of_probabilities_not_logits),
        cmocka_unit_test(test_nll_of_mean_vs_mean_of_nll),
        cmocka_unit_test(test_top_k),
        cmocka_unit_test(test_member_args),
        cmocka_unit_test(test_swa_of_one_file_is_the_file),
        cmocka_unit_test(test_swa_of_two_files_is_the_midpoint),
        cmocka_unit_test(test_members_predict),
        cmocka_unit_test(test_load_image),
        cmocka_unit_test(test_ensemble_run_rows),
        cmocka_unit_test(test_ensemble_pairs),
        cmocka_unit_test(test_swa_run_is_the_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
