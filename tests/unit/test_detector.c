/* test_detector.c: detectors on Darknet's own pipeline. The learning rate that the library's
 * own train_network applies with policy=fge_cyclic (through the interposed get_current_rate)
 * is the closed form, burn-in included: checked against a twin network trained by the
 * library at a constant rate set to the closed form written out here. Ensembles of detectors
 * (det_ens_run): each row's mAP is det_evaluate of the boxes merged here, by det_wbf or
 * det_nms, from each member's own detections; members of other classes are refused. SWA
 * (det_swa_run): the saved parameters are the mean computed here, the first BN layer's
 * statistics those of a convolution written out here over the same training images, the
 * deeper ones recomputed (not the members' mean) and reproducible bit for bit. Drawing:
 * the frame's pixels have Darknet's class colour, computed here from get_color's formula. */
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
#include "data.h"
#include "detset.h"

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

/* ---- ensembles, SWA and drawing on a small detection set ---- */

#define ENS_CFG(classes, filters)                                                                   \
    "[net]\nbatch=4\nsubdivisions=1\nwidth=32\nheight=32\nchannels=3\nmomentum=0.9\ndecay=0.0005\n"   \
    "learning_rate=0.001\nmax_batches=100\npolicy=constant\n"                                      \
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n"      \
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n"      \
    "[convolutional]\nsize=1\nstride=1\npad=1\nfilters=" #filters "\nactivation=linear\n"            \
    "[yolo]\nmask=0,1,2\nanchors=6,6, 12,12, 20,20\nclasses=" #classes "\nnum=3\njitter=0\nrandom=0\n"

static struct {
    char dir[256], data[300], cfg[300], three[300], w[3][300];
} F;

/* member weights: random parameters, BN statistics mean 0 and variance 1 */
static void random_member(host_net *h, unsigned seed, const char *path) {
    size_t np = host_nparams(h), ns = host_nstats(h);
    float *p = malloc(np * 4), *st = malloc(ns * 4);
    tu_fill_random(p, np, 0.4f, seed);
    const hp_block *b = host_blocks(h);
    for (int i = 0; i < host_nblocks(h); i++)
        if (b[i].kind == HP_ROLLING_MEAN || b[i].kind == HP_ROLLING_VAR)
            for (size_t k = 0; k < b[i].n; k++) st[b[i].offset + k] = b[i].kind == HP_ROLLING_VAR;
    host_set_params(h, p);
    host_set_stats(h, st);
    char err[HOST_ERRLEN];
    assert_int_equal(host_save_weights(h, path, err), 0);
    free(p); free(st);
}

static int ens_setup(void **s) {
    (void)s;
    char *d = tu_temp_path("");
    snprintf(F.dir, sizeof F.dir, "%s", d);
    free(d);
    detset_opts o = detset_defaults();
    o.out = F.dir; o.seed = 5; o.ntrain = 12; o.nvalid = 6; o.size = 32; o.max_items = 2; o.min_item = 10; o.max_item = 20;
    char err[DKMC_ERRLEN];
    if (detset_make(&o, err)) { fprintf(stderr, "%s\n", err); return -1; }
    snprintf(F.data, sizeof F.data, "%s/fashion-det.data", F.dir);
    char *c = tu_write_temp(".cfg", ENS_CFG(10, 45)), *t = tu_write_temp(".cfg", ENS_CFG(3, 24));
    snprintf(F.cfg, sizeof F.cfg, "%s", c);
    snprintf(F.three, sizeof F.three, "%s", t);
    free(c); free(t);
    host_net *h = host_load_detector(F.cfg, 1, err), *h3 = host_load_detector(F.three, 1, err);
    if (!h || !h3) return -1;
    for (int i = 0; i < 3; i++) snprintf(F.w[i], sizeof F.w[i], "%s/m%d.weights", F.dir, i);
    random_member(h, 11, F.w[0]);
    random_member(h, 12, F.w[1]);
    random_member(h3, 13, F.w[2]);
    host_free(h); host_free(h3);
    return 0;
}

static int ens_teardown(void **s) {
    (void)s;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", F.dir);
    int rc = system(cmd);
    unlink(F.cfg); unlink(F.three);
    return rc;
}

typedef struct { det_ens_row r[4]; int n; } rows;
static void keep_row(void *ctx, const det_ens_row *r) {
    rows *k = ctx;
    if (k->n < 4) k->r[k->n++] = *r;
}

/* one member's detections on the valid list, computed here with its own network */
static void member_boxes(const char *weights, const det_valset *v, det_boxes *dt) {
    char err[DKMC_ERRLEN];
    host_net *h = host_load_detector(F.cfg, 1, err);
    assert_non_null(h);
    assert_int_equal(host_load_weights(h, weights, err), 0);
    det_infer_opts io = det_infer_defaults();
    assert_int_equal(det_predict_set(h, v, &io, dt, err), 0);
    host_free(h);
}

static det_metrics eval_boxes(const det_valset *v, const det_box *b, int n) {
    det_boxes d = { (det_box *)b, n, n };
    det_metrics m;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_evaluate(v, &d, 0.25, &m, NULL, NULL, err), 0);
    return m;
}

static void assert_metrics(det_metrics a, det_metrics b) {
    assert_true(a.map50 == b.map50 && a.map5095 == b.map5095);
}

static void test_ensemble_rows_are_the_merged_members(void **s) {
    (void)s;
    char err[DKMC_ERRLEN], csv[400];
    data_cfg dc;
    det_valset v;
    assert_int_equal(data_cfg_load(F.data, &dc, err), 0);
    assert_int_equal(det_valset_load(dc.valid, 10, 0, &v, err), 0);
    det_boxes a = { 0 }, b = { 0 }, all = { 0 };
    member_boxes(F.w[0], &v, &a);
    member_boxes(F.w[1], &v, &b);
    for (int i = 0; i < a.n; i++) det_boxes_push(&all, &a.b[i], err);
    for (int i = 0; i < b.n; i++) det_boxes_push(&all, &b.b[i], err);
    assert_true(a.n > 0 && b.n > 0);
    char *members[2] = { F.w[0], F.w[1] };
    snprintf(csv, sizeof csv, "%s/ens.csv", F.dir);
    det_ens_job j = { F.data, F.cfg, members, 2, det_merge_default(), 0, 0, 0, csv };
    rows k = { 0 };
    det_ens_report rep = { NULL, keep_row, &k };
    assert_int_equal(det_ens_run(&j, &rep, err), 0);
    assert_int_equal(k.n, 2);
    det_box *f1, *f2;
    int n1, n2;
    assert_int_equal(det_wbf(a.b, a.n, 1, 0.55, 0, &f1, &n1, err), 0);
    assert_int_equal(det_wbf(all.b, all.n, 2, 0.55, 0, &f2, &n2, err), 0);
    assert_metrics(k.r[0].member, eval_boxes(&v, a.b, a.n));
    assert_metrics(k.r[0].ensemble, eval_boxes(&v, f1, n1));
    assert_metrics(k.r[1].member, eval_boxes(&v, b.b, b.n));
    assert_metrics(k.r[1].ensemble, eval_boxes(&v, f2, n2));
    assert_true(k.r[0].boxes == a.n && k.r[0].merged == n1 && k.r[1].merged == n2);
    printf("WBF: member 1 %d boxes mAP50 %.4f; ensemble of 2: %d boxes mAP50 %.4f\n", a.n, k.r[0].member.map50, n2,
           k.r[1].ensemble.map50);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    int lines = 0;
    for (int c; (c = fgetc(f)) != EOF;) lines += c == '\n';
    fclose(f);
    assert_int_equal(lines, 3);
    /* -merge nms: greedy NMS over the union at 0.5 */
    int *keep = malloc((size_t)all.n * sizeof *keep);
    assert_int_equal(det_nms(all.b, all.n, 0.5, keep, err), 0);
    det_boxes kept = { 0 };
    for (int i = 0; i < all.n; i++) if (keep[i]) det_boxes_push(&kept, &all.b[i], err);
    j.merge = (det_merge){ DET_MERGE_NMS, 0.5 };
    j.csv = NULL;
    k.n = 0;
    assert_int_equal(det_ens_run(&j, &rep, err), 0);
    assert_metrics(k.r[1].ensemble, eval_boxes(&v, kept.b, kept.n));
    assert_int_equal(k.r[1].merged, kept.n);
    printf("NMS: ensemble of 2: %d boxes mAP50 %.4f\n", kept.n, k.r[1].ensemble.map50);
    free(keep); free(f1); free(f2);
    det_boxes_free(&a); det_boxes_free(&b); det_boxes_free(&all); det_boxes_free(&kept);
    det_valset_free(&v);
}

static void test_ensemble_refuses_other_classes(void **s) {
    (void)s;
    char err[DKMC_ERRLEN] = "", csv[400], m3[700];
    snprintf(csv, sizeof csv, "%s/refused.csv", F.dir);
    snprintf(m3, sizeof m3, "%s:%s", F.three, F.w[2]);
    char *members[2] = { F.w[0], m3 };
    det_ens_job j = { F.data, F.cfg, members, 2, det_merge_default(), 0, 0, 0, csv };
    assert_int_equal(det_ens_run(&j, NULL, err), -1);
    printf("refused: %s\n", err);
    assert_non_null(strstr(err, F.three));
    assert_null(strchr(err, '\n'));
    assert_int_equal(access(csv, F_OK), -1);
}

/* The first layer's BN statistics written out: a 3x3 stride-2 pad-1 convolution (no bias
 * before BN) of the images at the network's size, mean and population variance per filter
 * over images and positions. */
static void first_layer_stats(const float *wts, char **paths, int n, double *mean, double *var) {
    const int C = 3, W = 32, O = 16, K = 8;
    double s1[8] = { 0 }, s2[8] = { 0 };
    char err[DKMC_ERRLEN];
    for (int i = 0; i < n; i++) {
        int w, h;
        float *x = data_read_image(paths[i], 3, &w, &h, err);
        assert_true(x && w == W && h == W);
        for (int f = 0; f < K; f++)
            for (int oy = 0; oy < O; oy++)
                for (int ox = 0; ox < O; ox++) {
                    double acc = 0;
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int y = oy * 2 + ky - 1, xx = ox * 2 + kx - 1;
                                if (y < 0 || y >= W || xx < 0 || xx >= W) continue;
                                acc += (double)wts[((f * C + c) * 3 + ky) * 3 + kx] * x[(c * W + y) * W + xx];
                            }
                    s1[f] += acc; s2[f] += acc * acc;
                }
        free(x);
    }
    double m = (double)n * O * O;
    for (int f = 0; f < K; f++) { mean[f] = s1[f] / m; var[f] = s2[f] / m - mean[f] * mean[f]; }
}

static const hp_block *block(host_net *h, int layer, hp_kind kind) {
    const hp_block *b = host_blocks(h);
    for (int i = 0; i < host_nblocks(h); i++) if (b[i].layer == layer && b[i].kind == kind) return &b[i];
    return NULL;
}

static void test_swa_is_the_mean_with_exact_bn(void **s) {
    (void)s;
    char err[DKMC_ERRLEN], out[400], out2[400];
    snprintf(out, sizeof out, "%s/swa.weights", F.dir);
    snprintf(out2, sizeof out2, "%s/swa2.weights", F.dir);
    char *files[2] = { F.w[0], F.w[1] };
    det_swa_job j = { F.data, F.cfg, out, files, 2, 5, 3, 0, 1, 0 };
    assert_int_equal(det_swa_run(&j, NULL, err), 0);
    j.out = out2;
    assert_int_equal(det_swa_run(&j, NULL, err), 0);
    host_net *h = host_load_detector(F.cfg, 1, err);
    assert_non_null(h);
    size_t np = host_nparams(h), ns = host_nstats(h);
    float *p0 = malloc(np * 4), *p1 = malloc(np * 4), *pm = malloc(np * 4), *st = malloc(ns * 4), *st2 = malloc(ns * 4);
    assert_int_equal(host_load_weights(h, F.w[0], err), 0);
    host_get_params(h, p0);
    assert_int_equal(host_load_weights(h, F.w[1], err), 0);
    host_get_params(h, p1);
    assert_int_equal(host_load_weights(h, out2, err), 0);
    host_get_stats(h, st2);
    assert_int_equal(host_load_weights(h, out, err), 0);
    host_get_params(h, pm);
    host_get_stats(h, st);
    for (size_t i = 0; i < np; i++) assert_true(pm[i] == (float)(((double)p0[i] + p1[i]) / 2));   /* scales, biases too */
    assert_memory_equal(st, st2, ns * 4);   /* a second recompute: the same statistics */
    /* layer 0: the statistics of the convolution written out above */
    char **paths;
    int n;
    data_cfg dc;
    assert_int_equal(data_cfg_load(F.data, &dc, err), 0);
    assert_int_equal(det_list_read(dc.train, &paths, &n, err), 0);
    double mean[8], var[8];
    first_layer_stats(block(h, 0, HP_WEIGHTS)->value, paths, 5, mean, var);
    const hp_block *bm = block(h, 0, HP_ROLLING_MEAN), *bv = block(h, 0, HP_ROLLING_VAR);
    for (int f = 0; f < 8; f++) {
        assert_true(fabs(bm->value[f] - mean[f]) <= 1e-4 * (1 + fabs(mean[f])));
        assert_true(fabs(bv->value[f] - var[f]) <= 1e-4 * (1 + var[f]));
    }
    printf("layer 0 filter 0: mean %.6f (written out %.6f), variance %.6f (%.6f)\n", bm->value[0], mean[0], bv->value[0], var[0]);
    /* layer 1: recomputed, not the members' mean (0 and 1) */
    const hp_block *b1 = block(h, 1, HP_ROLLING_VAR);
    for (size_t k = 0; k < b1->n; k++) assert_true(b1->value[k] != 1.0f);
    det_list_free(paths, n);
    free(p0); free(p1); free(pm); free(st); free(st2);
    host_free(h);
}

/* Darknet's get_color, written out: the six-colour ramp */
static float dk_color(int c, int x, int max) {
    static const float colors[6][3] = { { 1, 0, 1 }, { 0, 0, 1 }, { 0, 1, 1 }, { 0, 1, 0 }, { 1, 1, 0 }, { 1, 0, 0 } };
    float ratio = ((float)x / max) * 5;
    int i = (int)floor(ratio), j = (int)ceil(ratio);
    ratio -= i;
    return (1 - ratio) * colors[i][c] + ratio * colors[j][c];
}

/* the pixel (x, y) of a CHW picture is class cls's colour (png: as 8 bits, 255 x value truncated) */
static void assert_colour(const float *pix, int w, int h, int x, int y, int cls, int classes, int png) {
    int off = cls * 123457 % classes;
    for (int k = 0; k < 3; k++) {
        float want = png ? floorf(255 * dk_color(2 - k, off, classes)) / 255 : dk_color(2 - k, off, classes);
        float got = pix[(size_t)k * w * h + (size_t)y * w + x];
        if (fabsf(got - want) >= 1e-6) printf("pixel (%d,%d) channel %d: %.6f, class colour %.6f\n", x, y, k, got, want);
        assert_true(fabsf(got - want) < 1e-6);
    }
}

static void test_detect_draws_class_colours(void **s) {
    (void)s;
    char err[DKMC_ERRLEN], out[400], paths[2][400];
    data_cfg dc;
    assert_int_equal(data_cfg_load(F.data, &dc, err), 0);
    FILE *f = fopen(dc.valid, "r");
    assert_non_null(f);
    assert_non_null(fgets(paths[0], sizeof paths[0], f));
    fclose(f);
    paths[0][strcspn(paths[0], "\n")] = 0;
    snprintf(out, sizeof out, "%s/boxes.png", F.dir);
    char *members[2] = { F.w[0], F.w[1] };
    det_ens_detect_job j = { F.data, F.cfg, members, 2, paths[0], out, det_merge_default(), 0.0f, 0, NULL };
    det_ens_detection r;
    assert_int_equal(det_ens_detect_run(&j, &r, err), 0);
    assert_true(r.shown.n > 0 && !r.labeled);
    int w, h;
    float *pix = data_read_image(out, 3, &w, &h, err);
    assert_true(pix && w == 32 && h == 32);
    /* the last box drawn (the lowest score) is on top: its bottom and right edges */
    const det_box *b = &r.shown.b[r.shown.n - 1];
    float bx = (float)b->x, by = (float)b->y, bw = (float)b->w, bh = (float)b->h;   /* as host_det holds them */
    int left = (bx - bw / 2.) * w, right = (bx + bw / 2.) * w, top = (by - bh / 2.) * h, bot = (by + bh / 2.) * h;
    left = left < 0 ? 0 : left; top = top < 0 ? 0 : top;
    right = right > w - 1 ? w - 1 : right; bot = bot > h - 1 ? h - 1 : bot;
    assert_colour(pix, w, h, (left + right) / 2, bot, b->cls, 10, 1);
    assert_colour(pix, w, h, right, (top + bot) / 2, b->cls, 10, 1);
    printf("%d boxes drawn; the last, class %d, frame (%d,%d)-(%d,%d)\n", r.shown.n, b->cls, left, top, right, bot);
    free(pix);
    det_ens_detection_free(&r);
    /* a known box through host_det_draw, with Darknet's glyphs where the package has them */
    host_det d = { 0.6f, 0.7f, 0.4f, 0.5f, 0.9f, 3 };   /* columns 12..25, rows 14..30; the label above, rows 0..14 */
    int labeled;
    char *names[10] = { "a", "b", "c", "shirt", "e", "f", "g", "h", "i", "j" };
    assert_int_equal(host_det_draw(paths[0], &d, 1, 10, names, "/usr/share/darknet/data/labels", &pix, &w, &h, &labeled, err), 0);
    assert_colour(pix, w, h, 18, 30, 3, 10, 0);   /* bottom edge */
    assert_colour(pix, w, h, 25, 22, 3, 10, 0);   /* right edge */
    assert_int_equal(labeled, access("/usr/share/darknet/data/labels/65_0.png", R_OK) == 0);
    free(pix);
    /* an unreadable image: one line naming it */
    snprintf(paths[1], sizeof paths[1], "%s/nothere.png", F.dir);
    j.image = paths[1];
    assert_int_equal(det_ens_detect_run(&j, &r, err), -1);
    assert_non_null(strstr(err, "nothere.png"));
    det_ens_detection_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_step_uses_the_closed_form_rate),
    };
    const struct CMUnitTest ens[] = {
        cmocka_unit_test(test_ensemble_rows_are_the_merged_members),
        cmocka_unit_test(test_ensemble_refuses_other_classes),
        cmocka_unit_test(test_swa_is_the_mean_with_exact_bn),
        cmocka_unit_test(test_detect_draws_class_colours),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc + cmocka_run_group_tests(ens, ens_setup, ens_teardown);
}
