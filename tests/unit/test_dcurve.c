/* test_dcurve.c: curves between detectors (issue 22). The bend gradients of a tiny YOLO
 * detector's curve against finite differences of the detection loss; t = 0 of a curve
 * evaluates to exactly the start point's loss and mAP, recomputed here step by step; a
 * resumed curve training gives the same bends as an uninterrupted one; a detector's curve
 * with a classifier cfg and the reverse are refused in one line. The plane of detectors:
 * every grid point equals the point evaluator called on the same weights, the plane of a
 * curve at its first bend equals the curve's evaluation at t = 0, a resumed grid writes the
 * same CSV byte for byte, a classifier's curve with a detector cfg is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "curve.h"
#include "curve_train.h"
#include "det_curve.h"
#include "det_plane.h"
#include "detector.h"
#include "detset.h"
#include "host.h"
#include "wspace.h"

/* smooth activations, and ignore_thresh=1 (no prediction is ever ignored), so that the loss
 * is smooth in the weights: only the truths decide which outputs get a target. num=6 anchors,
 * 3 in the mask: truths whose best anchor is outside it get no box terms. */
#define TINY_NET(filters, classes)                                                                      \
    "[net]\nbatch=4\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\nmomentum=0.9\ndecay=0.0005\n"      \
    "learning_rate=0.001\nmax_batches=100\nhue=.1\nsaturation=1.5\nexposure=1.5\n"                        \
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=2\npad=1\nactivation=tanh\n"          \
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=logistic\n"      \
    "[convolutional]\nsize=1\nstride=1\npad=1\nfilters=" filters "\nactivation=linear\n"                \
    "[yolo]\nmask=0,1,2\nanchors=4,5, 9,8, 14,16, 20,22, 26,20, 30,30\nclasses=" classes "\nnum=6\n"     \
    "jitter=.1\nignore_thresh=1\ntruth_thresh=1\nrandom=0\n"
static const char *TINY = TINY_NET("21", "2");
static const char *TINY10 = TINY_NET("45", "10");   /* the detection set's 10 classes */
/* a 1x1 convolution first: AlexeyAB's CPU parser crashes on a network of [connected] layers
 * alone (caught: one line) */
static const char *CLASSIFIER =
    "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=1\n"
    "[convolutional]\nfilters=2\nsize=1\nactivation=linear\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";

static host_net *load(const char *text, int det, char **path) {
    *path = tu_write_temp(".cfg", text);
    char err[HOST_ERRLEN];
    host_net *h = det ? host_load_detector(*path, 0, err) : host_load(*path, 0, err);
    if (!h) fprintf(stderr, "%s\n", err);
    assert_non_null(h);
    return h;
}

static void make_curve(curve *cv, host_net *h, unsigned seed) {
    size_t n = host_nparams(h);
    assert_int_equal(curve_init(cv, CURVE_BEZIER, 3, n, 0), 0);
    for (int j = 0; j < 3; j++) tu_fill_random(cv->bends[j], n, 0.3f, seed + j);
    cv->flags = CURVE_FIX_START | CURVE_FIX_END | CURVE_DETECTOR;
}

/* truths of 4 images: 3 boxes each, two of image 0 in the same cell (the last one wins in
 * pjreddie's [yolo], both count in AlexeyAB's); ts floats per box (host_det_truth_size) */
static void fill_truths(float *t, int nt, int ts) {
    memset(t, 0, 4 * (size_t)nt * sizeof(float));
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++) {
            float *b = t + (size_t)i * nt + ts * k;
            b[0] = 0.15f + 0.27f * ((i + k) % 3) + 0.03f * k; b[1] = 0.2f + 0.25f * ((i * 2 + k) % 3);
            b[2] = 0.12f + 0.2f * ((i + 2 * k) % 4) / 3; b[3] = 0.15f + 0.15f * ((k + i) % 3); b[4] = (float)((i + k) % 2);
        }
    float *b = t + ts * 3;   /* image 0, box 3: the cell and shape of box 0 */
    memcpy(b, t, 5 * sizeof(float));
    b[0] += 0.01f; b[4] = 1 - b[4];
}

static void test_bend_gradients_fd(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load(TINY, 1, &cfgp);
    curve cv;
    make_curve(&cv, h, 10);
    cv.decay = 5e-3f;
    size_t n = cv.n;
    int nt = host_det_truths(h), in = host_inputs(h);
    float *x = malloc((size_t)4 * in * 4), *y = malloc((size_t)4 * nt * 4);
    tu_fill_random(x, (size_t)4 * in, 0.5f, 3);
    fill_truths(y, nt, host_det_truth_size(h));
    float *w = malloc(n * 4), *g = malloc(n * 4), *saved = malloc(n * 4), *gk = malloc(n * 4);
    unsigned char *mask = malloc(n);
    curve_decay_mask(&cv, h, mask);
    const double t = 0.3;
    float c[3];
    curve_coeffs(cv.type, 3, t, c);
    for (int k = 0; k < 3; k++) {
        double f0 = curve_batch_grad(&cv, h, t, x, y, mask, w, g, NULL, NULL);
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
        printf("bend %d at t=%.1f: loss %.5f, |grad| %.6g, finite difference %.6g, rel err %.2e\n", k, t, f0, gn, fd, rel);
        assert_true(isfinite(f0) && f0 > 0 && rel < 1e-3);
    }
    free(x); free(y); free(w); free(g); free(saved); free(gk); free(mask);
    curve_free(&cv); host_free(h); unlink(cfgp); free(cfgp);
}

/* The [yolo] input's own gradient, channel by channel: the biases of the last convolution
 * (one per anchor and entry: x, y, w, h, objectness, classes) against central differences of
 * the step's loss. The curve test above sees the box terms only through their share of the
 * whole gradient; here each entry is on its own (a box term off by a factor 0.75 fails). */
static void test_head_bias_gradients_fd(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load(TINY, 1, &cfgp);
    size_t n = host_nparams(h);
    int nt = host_det_truths(h), in = host_inputs(h);
    float *x = malloc((size_t)4 * in * 4), *y = malloc((size_t)4 * nt * 4), *w = malloc(n * 4), *g = malloc(n * 4);
    tu_fill_random(x, (size_t)4 * in, 0.5f, 3);
    fill_truths(y, nt, host_det_truth_size(h));
    tu_fill_random(w, n, 0.3f, 10);
    host_set_params(h, w);
    const hp_block *bias = NULL;
    for (int i = 0; i < host_nblocks(h); i++) if (host_blocks(h)[i].kind == HP_BIASES) bias = &host_blocks(h)[i];
    assert_non_null(bias);
    assert_int_equal(bias->n, 21);
    host_step(h, x, y, NULL);
    host_get_grad(h, g);
    double worst = 0;
    for (size_t c = 0; c < bias->n; c++) {
        size_t k = bias->offset + c;
        const double eps = 5e-2, at[4] = { 1, -1, 2, -2 };
        double f[4];
        for (int q = 0; q < 4; q++) {
            w[k] = (float)(bias->value[c] + at[q] * eps);
            float saved = bias->value[c];
            host_set_params(h, w);
            f[q] = host_step(h, x, y, NULL);
            w[k] = saved;
            host_set_params(h, w);
        }
        double fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * eps), err = fabs(fd - g[k]) / (fabs(g[k]) > 0.1 ? fabs(g[k]) : 0.1);
        if (err > worst) worst = err;
        if (err > 1e-2) printf("head bias %zu (anchor %zu, entry %zu): gradient %.6g, finite difference %.6g\n", c, c / 7, c % 7, g[k], fd);
        assert_true(err < 1e-2);
    }
    printf("the [yolo] input's 21 bias gradients against finite differences: worst rel err %.2e\n", worst);
    free(x); free(y); free(w); free(g);
    host_free(h); unlink(cfgp); free(cfgp);
}

/* ---- on a small detection set (darknet detset's, 16 + 8 canvases of 64 px) ---- */
static char g_dir[256], g_data[400], g_cfg[400], g_start[400], g_end[400];

static int setup_set(void **s) {
    (void)s;
    snprintf(g_dir, sizeof g_dir, "/tmp/dkmc_dcurve_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    char out[300], err[DKMC_ERRLEN];
    snprintf(out, sizeof out, "%s/ds", g_dir);
    detset_opts o = detset_defaults();
    o.out = out; o.seed = 5; o.ntrain = 16; o.nvalid = 8; o.size = 64; o.max_items = 3; o.min_item = 16; o.max_item = 32;
    if (detset_make(&o, err)) { fprintf(stderr, "%s\n", err); return -1; }
    snprintf(g_data, sizeof g_data, "%s/fashion-det.data", out);
    snprintf(g_cfg, sizeof g_cfg, "%s/tiny.cfg", g_dir);
    FILE *f = fopen(g_cfg, "w");
    fputs(TINY10, f);
    fclose(f);
    host_net *h = host_load_detector(g_cfg, 0, err);
    if (!h) { fprintf(stderr, "%s\n", err); return -1; }
    float *w = malloc(host_nparams(h) * 4);
    snprintf(g_start, sizeof g_start, "%s/start.weights", g_dir);
    snprintf(g_end, sizeof g_end, "%s/end.weights", g_dir);
    tu_fill_random(w, host_nparams(h), 0.3f, 41);
    host_set_params(h, w);
    int rc = host_save_weights(h, g_start, err);
    tu_fill_random(w, host_nparams(h), 0.3f, 42);
    host_set_params(h, w);
    rc |= host_save_weights(h, g_end, err);
    free(w);
    host_free(h);
    return rc;
}

static int teardown_set(void **s) {
    (void)s;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) ? -1 : 0;
}

typedef struct { char **paths; int n, nbn, in; float *x; } bn_imgs;
static int bn_fn(void *ctx, int b, float *x, int max) {
    bn_imgs *c = ctx;
    int from = b * max, n = c->nbn - from < max ? c->nbn - from : max;
    if (n <= 0) return 0;
    memcpy(x, c->x + (size_t)from * c->in, (size_t)n * c->in * 4);
    return n;
}

/* The start point's numbers the long way: its weights, BN statistics over the first 8
 * training images, the loss over the first 12 with their label files' truths, the mAP of a
 * batch-1 network over the valid list. */
static void start_numbers(double *loss, det_metrics *m) {
    char err[DKMC_ERRLEN], **paths;
    int n;
    data_cfg dc;
    assert_int_equal(data_cfg_load(g_data, &dc, err), 0);
    assert_int_equal(det_list_read(dc.train, &paths, &n, err), 0);
    host_net *h = host_load_detector(g_cfg, 0, err), *h1 = host_load_detector(g_cfg, 1, err);
    assert_int_equal(host_load_weights(h, g_start, err), 0);
    int in = host_inputs(h), nt = host_det_truths(h);
    float *x = malloc((size_t)12 * in * 4), *tr = calloc((size_t)12 * nt, 4);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(host_det_input(h, paths[i], 0, x + (size_t)i * in, err), 0);
        char lp[4096];
        det_boxes b = { 0 };
        assert_int_equal(det_label_path(paths[i], lp, sizeof lp, err) || det_labels_read(lp, 10, i, &b, err), 0);
        for (int k = 0; k < b.n; k++) {
            float *t = tr + (size_t)i * nt + host_det_truth_size(h) * k;
            t[0] = b.b[k].x; t[1] = b.b[k].y; t[2] = b.b[k].w; t[3] = b.b[k].h; t[4] = b.b[k].cls;
        }
        det_boxes_free(&b);
    }
    bn_imgs c = { paths, n, 8, in, x };
    host_bn_recompute(h, bn_fn, &c, 2);
    *loss = (host_det_loss(h, x, tr, 4) + host_det_loss(h, x + 4 * in, tr + 4 * nt, 4) + host_det_loss(h, x + 8 * in, tr + 8 * nt, 4)) / 12;
    float *p = malloc(host_nparams(h) * 4), *st = malloc(host_nstats(h) * 4);
    host_get_params(h, p); host_get_stats(h, st);
    host_set_params(h1, p); host_set_stats(h1, st);
    det_valset v;
    det_boxes dt = { 0 };
    det_infer_opts io = det_infer_defaults();
    assert_int_equal(det_valset_load(dc.valid, 10, 0, &v, err), 0);
    assert_int_equal(det_predict_set(h1, &v, &io, &dt, err) || det_evaluate(&v, &dt, 0.25, m, NULL, NULL, err), 0);
    det_boxes_free(&dt); det_valset_free(&v);
    free(p); free(st); free(x); free(tr);
    det_list_free(paths, n);
    host_free(h); host_free(h1);
}

static void test_t0_is_the_start_point(void **s) {
    (void)s;
    char err[DKMC_ERRLEN];
    curve cv;
    host_net *h = host_load_detector(g_cfg, 0, err);
    make_curve(&cv, h, 60);
    assert_int_equal(host_load_weights(h, g_start, err), 0);
    host_get_params(h, cv.bends[0]);
    host_free(h);
    cv.decay = 5e-4f;
    det_curve_eval_opts o = { 0 };
    o.points = 3; o.bn_limit = 8; o.train_limit = 12; o.decay = -1; o.name = "bezier";
    det_curve_row rows[3];
    assert_int_equal(det_curve_eval_run(&cv, "c.curve", g_data, g_cfg, &o, rows, NULL, err), 0);
    double loss;
    det_metrics m;
    start_numbers(&loss, &m);
    printf("t=0: loss %.6f (start %.6f), mAP@0.5 %.4f (start %.4f), mAP@[.5:.95] %.4f (start %.4f); t=0.5: loss %.4f\n",
           rows[0].tr_det, loss, rows[0].map50, m.map50, rows[0].map5095, m.map5095, rows[1].tr_det);
    assert_true(rows[0].tr_det == loss && rows[0].map50 == m.map50 && rows[0].map5095 == m.map5095);
    assert_true(rows[0].tr_loss > rows[0].tr_det && rows[1].dl > 0 && rows[0].dl == 0);
    curve_free(&cv);
}

static void train_job(det_curve_train_job *j, const char *out, const char *resume, int stop_after) {
    memset(j, 0, sizeof *j);
    j->data = g_data;
    j->c.cfg = g_cfg; j->c.start = g_start; j->c.end = g_end; j->c.resume = resume; j->c.out = out;
    j->c.type = CURVE_BEZIER; j->c.bends = 3; j->c.epochs = resume ? 0 : 2; j->c.seed = 7;
    j->c.lr = 0.01; j->c.mom = -1; j->c.decay = -1;
    j->c.save_every = 1; j->c.stop_after = stop_after;
}

static void test_resume_equals_uninterrupted(void **s) {
    (void)s;
    char a[300], b[300], err[DKMC_ERRLEN];
    snprintf(a, sizeof a, "%s/a.curve", g_dir);
    snprintf(b, sizeof b, "%s/b.curve", g_dir);
    det_curve_train_job j;
    train_job(&j, a, NULL, 0);
    assert_int_equal(det_curve_train_run(&j, NULL, err), 0);
    train_job(&j, b, NULL, 1);
    assert_int_equal(det_curve_train_run(&j, NULL, err), 0);
    train_job(&j, NULL, b, 0);
    if (det_curve_train_run(&j, NULL, err)) fprintf(stderr, "%s\n", err);
    curve ca, cb;
    assert_int_equal(curve_load(&ca, a, err) || curve_load(&cb, b, err), 0);
    assert_true(ca.flags & CURVE_DETECTOR);
    assert_int_equal(ca.epoch, 2);
    assert_int_equal(cb.epoch, 2);
    assert_int_equal(ca.iteration, 8);   /* 16 images, batch 4 */
    float *w0 = malloc(ca.n * 4);
    curve_point(&ca, 0, w0);
    assert_memory_equal(w0, ca.bends[0], ca.n * 4);
    assert_true(tu_max_abs_diff(ca.bends[1], cb.bends[1], ca.n) == 0);   /* bit for bit */
    assert_true(tu_rel_l2(ca.bends[1], ca.bends[0], ca.n) > 0);
    free(w0);
    curve_free(&ca); curve_free(&cb);
}

static void test_kinds_refused(void **s) {
    (void)s;
    char *cp, err[DKMC_ERRLEN];
    char *dp;
    host_net *c = load(CLASSIFIER, 0, &cp), *d = load(TINY, 1, &dp);
    curve dc, cc;
    make_curve(&dc, d, 1);
    assert_int_equal(curve_check_fits(&dc, d, "d.curve", "det.cfg", err), 0);
    assert_int_equal(curve_check_fits(&dc, c, "d.curve", "cls.cfg", err), -1);
    assert_non_null(strstr(err, "d.curve: a detector's curve, but cls.cfg is a classifier cfg"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(curve_init(&cc, CURVE_BEZIER, 3, host_nparams(d), 0), 0);   /* same size, a classifier's */
    assert_int_equal(curve_check_fits(&cc, d, "c.curve", "det.cfg", err), -1);
    assert_non_null(strstr(err, "c.curve: a classifier's curve, but det.cfg is a detector cfg"));
    det_curve_eval_opts o = { 0 };
    o.points = 2; o.name = "bezier";
    det_curve_row rows[2];
    assert_int_equal(det_curve_eval_run(&cc, "c.curve", g_data, g_cfg, &o, rows, NULL, err), -1);
    assert_non_null(strstr(err, "c.curve: "));
    curve_free(&dc); curve_free(&cc);
    host_free(c); host_free(d);
    unlink(cp); unlink(dp); free(cp); free(dp);
}

/* ---- the plane of detectors ---- */
static void plane_job_of(det_plane_job *j, plane_mode mode, const char *curve_path, int g, const char *csv, const char *resume,
                         int stop_after) {
    static char third[400];
    memset(j, 0, sizeof *j);
    j->data = g_data; j->cfg = g_cfg; j->test_limit = 6;
    snprintf(third, sizeof third, "%s/third.weights", g_dir);
    j->req = (plane_setup_req){ mode, g_cfg, curve_path, NULL, 5, { g_start, g_end, third }, 1 };
    j->job.grid = plane_grid_of(mode, g, mode == PLANE_CURVE ? 0 : 0.25, NAN, NAN, NAN, NAN);
    j->job.bn_limit = 8; j->job.train_limit = 12; j->job.decay = -1;
    j->job.csv = csv; j->job.resume = resume; j->job.stop_after = stop_after;
}

static void write_third(void) {
    char path[400], err[DKMC_ERRLEN];
    snprintf(path, sizeof path, "%s/third.weights", g_dir);
    host_net *h = host_load_detector(g_cfg, 0, err);
    float *w = malloc(host_nparams(h) * 4);
    tu_fill_random(w, host_nparams(h), 0.3f, 43);
    host_set_params(h, w);
    assert_int_equal(host_save_weights(h, path, err), 0);
    free(w); host_free(h);
}

static void test_plane_points_are_the_evaluator(void **s) {
    (void)s;
    char err[DKMC_ERRLEN];
    write_third();
    det_plane_job j;
    plane_job_of(&j, PLANE_POINTS, NULL, 2, NULL, NULL, 0);
    plane_setup ps;
    plane_run_info info;
    if (det_plane_run(&j, &ps, &info, err)) fprintf(stderr, "%s\n", err);
    assert_int_equal(info.complete, 1);
    det_point_env *e = det_point_open(g_data, g_cfg, 8, 12, 6, err);
    assert_non_null(e);
    host_net *h = det_point_net(e);
    size_t n = host_nparams(h);
    float *w = malloc(n * 4);
    unsigned char *mask = malloc(n);
    host_decay_mask(h, mask);
    for (int k = 0; k < 4; k++) {
        const plane_row *r = &info.rows[k];
        det_point p;
        plane_point(&ps.b, r->x, r->y, w);
        assert_int_equal(det_point_eval(e, w, mask, host_cfg_decay(h), &p, err), 0);
        printf("grid point %d: loss %.6f (evaluator %.6f), mAP@0.5 %.4f (%.4f), mAP@[.5:.95] %.4f (%.4f)\n", k, r->tr_loss,
               p.tr_loss, r->map50, p.map50, r->map5095, p.map5095);
        assert_true(r->tr_loss == p.tr_loss && r->tr_det == p.tr_det && r->map50 == p.map50 && r->map5095 == p.map5095);
        assert_true(isnan(r->det_unused) && r->tr_loss > r->tr_det);
    }
    assert_true(info.rows[0].tr_det != info.rows[3].tr_det);
    free(w); free(mask);
    det_point_close(e);
    free(info.rows);
    plane_setup_free(&ps);
}

/* the curve of test_t0_is_the_start_point, saved */
static void save_curve(const char *path, int detector) {
    char err[DKMC_ERRLEN];
    curve cv;
    host_net *h = host_load_detector(g_cfg, 0, err);
    make_curve(&cv, h, 60);
    assert_int_equal(host_load_weights(h, g_start, err), 0);
    host_get_params(h, cv.bends[0]);
    host_free(h);
    cv.decay = 5e-4f;
    if (!detector) cv.flags &= ~CURVE_DETECTOR;
    assert_int_equal(curve_save(&cv, path, err), 0);
    curve_free(&cv);
}

static void test_curve_plane_corner_is_t0(void **s) {
    (void)s;
    char path[400], err[DKMC_ERRLEN];
    snprintf(path, sizeof path, "%s/p.curve", g_dir);
    save_curve(path, 1);
    det_plane_job j;
    plane_job_of(&j, PLANE_CURVE, path, 2, NULL, NULL, 0);
    plane_setup ps;
    plane_run_info info;
    if (det_plane_run(&j, &ps, &info, err)) fprintf(stderr, "%s\n", err);
    assert_int_equal(info.complete, 1);
    assert_true(ps.nm == 3 && ps.marks[0].x == 0 && ps.marks[0].y == 0 && info.rows[0].x == 0 && info.rows[0].y == 0);
    curve cv;
    assert_int_equal(curve_load(&cv, path, err), 0);
    det_curve_eval_opts o = { 0 };
    o.points = 2; o.bn_limit = 8; o.train_limit = 12; o.test_limit = 6; o.decay = -1; o.name = "bezier";
    det_curve_row rows[2];
    assert_int_equal(det_curve_eval_run(&cv, path, g_data, g_cfg, &o, rows, NULL, err), 0);
    const plane_row *r = &info.rows[0];
    printf("plane (0,0): loss %.6f, mAP@0.5 %.4f; curve t=0: loss %.6f, mAP@0.5 %.4f\n", r->tr_loss, r->map50, rows[0].tr_loss,
           rows[0].map50);
    assert_true(r->tr_loss == rows[0].tr_loss && r->tr_det == rows[0].tr_det && r->map50 == rows[0].map50 &&
                r->map5095 == rows[0].map5095);
    curve_free(&cv);
    free(info.rows);
    plane_setup_free(&ps);
    save_curve(path, 0);   /* a classifier's curve of the same size */
    assert_int_equal(det_plane_run(&j, &ps, &info, err), -1);
    assert_non_null(strstr(err, "p.curve: a classifier's curve, but "));
    assert_null(strchr(err, '\n'));
}

static int same_file(const char *a, const char *b) {
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void test_plane_resume_same_csv(void **s) {
    (void)s;
    char full[400], part[400], partial[420], err[DKMC_ERRLEN];
    snprintf(full, sizeof full, "%s/full.csv", g_dir);
    snprintf(part, sizeof part, "%s/part.csv", g_dir);
    snprintf(partial, sizeof partial, "%s.partial", part);
    write_third();
    det_plane_job j;
    plane_setup ps;
    plane_run_info info;
    const char *csv[3] = { full, part, NULL }, *res[3] = { NULL, NULL, partial };
    int stop[3] = { 0, 4, 0 }, evaluated[3], from[3];
    for (int q = 0; q < 3; q++) {
        plane_job_of(&j, PLANE_POINTS, NULL, 3, csv[q], res[q], stop[q]);
        if (q == 2) j.job.csv = part;
        if (det_plane_run(&j, &ps, &info, err)) fprintf(stderr, "%s\n", err);
        evaluated[q] = info.evaluated; from[q] = info.from_file;
        free(info.rows);
        plane_setup_free(&ps);
        if (q == 1) assert_true(access(partial, F_OK) == 0 && access(part, F_OK) != 0);
    }
    assert_true(evaluated[0] == 9 && evaluated[1] == 4 && evaluated[2] == 5 && from[2] == 4);
    assert_true(same_file(full, part));
    assert_true(access(partial, F_OK) != 0);
    FILE *f = fopen(full, "r");
    char head[200] = "";
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    assert_string_equal(head, "kind,i,j,t,alpha,beta,x,y,tr_loss,tr_det,map50,map5095\n");
    plane_csv c;
    assert_int_equal(plane_read_csv(full, &c, err), 0);
    assert_true(c.detector && c.g == 3 && c.nm == 3 && c.has_train);
    plane_csv_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bend_gradients_fd),
        cmocka_unit_test(test_head_bias_gradients_fd),
        cmocka_unit_test(test_kinds_refused),
        cmocka_unit_test(test_t0_is_the_start_point),
        cmocka_unit_test(test_resume_equals_uninterrupted),
        cmocka_unit_test(test_plane_points_are_the_evaluator),
        cmocka_unit_test(test_curve_plane_corner_is_t0),
        cmocka_unit_test(test_plane_resume_same_csv),
    };
    return cmocka_run_group_tests(tests, setup_set, teardown_set);
}
