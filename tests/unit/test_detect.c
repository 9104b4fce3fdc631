/* test_detect.c: the detect module. Label files (good, every refusal naming file:line),
 * Darknet's image -> label path mapping, image lists; VOC AP, COCO mAP@[.5:.95] and the
 * counts on hand-worked cases and against tests/ref/detmap.py (an independent pure-Python
 * implementation; skipped with a message where python3 is absent); NMS and WBF on
 * hand-worked cases. Run from the repository root (as tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "detect.h"

#define REF "tests/ref/detmap.py"
#define TOL 1e-9

static det_box B(int image, int cls, double score, double x, double y, double w, double h) {
    return (det_box){ x, y, w, h, cls, score, image };
}
/* a box from corners */
static det_box C4(int image, int cls, double score, double x1, double y1, double x2, double y2) {
    return B(image, cls, score, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1);
}

/* ---------- labels ---------- */

static void test_labels_good(void **state) {
    (void)state;
    char *p = tu_write_temp(".txt", "0 0.5 0.5 0.2 0.4\n\n  \t\n2 0.1 0.9 0.2 0.2\r\n1 1 0 0.0015 0.001");
    det_boxes s = { 0 };
    char err[DKMC_ERRLEN] = "";
    assert_int_equal(det_labels_read(p, 3, 7, &s, err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.b[0].cls, 0);
    assert_true(s.b[0].x == 0.5 && s.b[0].w == 0.2 && s.b[0].h == 0.4 && s.b[0].score == 1);
    assert_int_equal(s.b[1].cls, 2);
    assert_true(s.b[1].y == 0.9 && s.b[2].x == 1 && s.b[2].y == 0);
    for (int i = 0; i < 3; i++) assert_int_equal(s.b[i].image, 7);
    /* appends; an empty file adds nothing */
    char *e = tu_write_temp(".txt", "");
    assert_int_equal(det_labels_read(e, 3, 8, &s, err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(det_labels_read(p, 3, 9, &s, err), 0);
    assert_int_equal(s.n, 6);
    assert_int_equal(s.b[5].image, 9);
    det_boxes_free(&s);
    unlink(p); unlink(e); free(p); free(e);
}

static void test_labels_bad(void **state) {
    (void)state;
    static const struct { const char *text, *why; } bad[] = {
        { "0 0.5 0.5 0.2\n", "expected" },            /* four fields */
        { "0 0.5 0.5 0.2 0.2 7\n", "expected" },       /* six */
        { "0 0.5 0.5 0.2 0.2x\n", "expected" },        /* junk after a number */
        { "1.5 0.5 0.5 0.2 0.2\n", "expected" },       /* class not an integer */
        { "a 0.5 0.5 0.2 0.2\n", "expected" },
        { "0 nan 0.5 0.2 0.2\n", "not finite" },
        { "0 0.5 inf 0.2 0.2\n", "not finite" },
        { "0 1.2 0.5 0.2 0.2\n", "centre" },
        { "0 0.5 -0.01 0.2 0.2\n", "centre" },
        { "0 0.5 0.5 0 0.2\n", "width or height" },
        { "0 0.5 0.5 0.2 1.5\n", "width or height" },
        { "0 0.05 0.5 0.2 0.2\n", "edge" },            /* left edge -0.05 */
        { "0 0.5 0.9995 0.2 0.0032\n", "edge" },       /* bottom edge 1.0011 */
        { "3 0.5 0.5 0.2 0.2\n", "class 3 outside" },
        { "-1 0.5 0.5 0.2 0.2\n", "class -1 outside" },
        { "99999999999999999999 0.5 0.5 0.2 0.2\n", "expected" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "0 0.5 0.5 0.1 0.1\n\n%s", bad[i].text);   /* the bad line is line 3 */
        char *p = tu_write_temp(".txt", text);
        det_boxes s = { 0 };
        char err[DKMC_ERRLEN] = "", want[300];
        assert_int_equal(det_labels_read(p, 3, 0, &s, err), -1);
        snprintf(want, sizeof want, "%s:3: ", p);
        if (!strstr(err, want) || !strstr(err, bad[i].why) || strchr(err, '\n'))
            fail_msg("case %zu ('%s'): message '%s'", i, bad[i].text, err);
        assert_int_equal(s.n, 0);
        det_boxes_free(&s);
        unlink(p); free(p);
    }
}

static void test_labels_missing_and_tolerance(void **state) {
    (void)state;
    char err[DKMC_ERRLEN] = "";
    det_boxes s = { 0 };
    assert_int_equal(det_labels_read("/nonexistent/dkmc/a.txt", 3, 0, &s, err), -1);
    assert_non_null(strstr(err, "/nonexistent/dkmc/a.txt: cannot open"));
    /* edges 5e-4 outside [0,1]: inside the 1e-3 tolerance */
    char *p = tu_write_temp(".txt", "0 0.0505 0.5 0.102 0.2\n0 0.5 0.9995 0.2 0.002\n");
    assert_int_equal(det_labels_read(p, 1, 0, &s, err), 0);
    assert_int_equal(s.n, 2);
    /* a failure leaves what was there */
    char *q = tu_write_temp(".txt", "0 0.5 0.5 0.1 0.1\n0 0.5 0.5\n");
    assert_int_equal(det_labels_read(q, 1, 1, &s, err), -1);
    assert_int_equal(s.n, 2);
    det_boxes_free(&s);
    unlink(p); unlink(q); free(p); free(q);
}

static void test_label_path(void **state) {
    (void)state;
    static const char *cases[][2] = {
        { "data/images/train/a.jpg", "data/labels/train/a.txt" },
        { "VOC2007/JPEGImages/000001.jpg", "VOC2007/labels/000001.txt" },
        { "x/images/b.png", "x/labels/b.txt" },
        { "c.JPG", "c.txt" },
        { "/d/images/e.JPEG", "/d/labels/e.txt" },
        { "images/images/f.jpg", "labels/images/f.txt" },   /* Darknet: the first only */
    };
    char out[256], err[DKMC_ERRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(det_label_path(cases[i][0], out, sizeof out, err), 0);
        assert_string_equal(out, cases[i][1]);
    }
    assert_int_equal(det_label_path("data/images/a.bmp", out, sizeof out, err), -1);
    assert_non_null(strstr(err, "data/images/a.bmp: "));
    assert_int_equal(det_label_path("data/a.jpeg", out, sizeof out, err), -1);
    assert_int_equal(det_label_path("data/images/a.jpg", out, 10, err), -1);
    assert_non_null(strstr(err, "data/images/a.jpg: "));
}

static void test_list(void **state) {
    (void)state;
    char *p = tu_write_temp(".list", "  a/images/1.jpg \n\n\tb/2.png\r\nc/3.jpg");
    char **v, err[DKMC_ERRLEN];
    int n;
    assert_int_equal(det_list_read(p, &v, &n, err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "a/images/1.jpg");
    assert_string_equal(v[1], "b/2.png");
    assert_string_equal(v[2], "c/3.jpg");
    det_list_free(v, n);
    char *e = tu_write_temp(".list", "\n  \n");
    assert_int_equal(det_list_read(e, &v, &n, err), -1);
    assert_non_null(strstr(err, e));
    assert_true(v == NULL && n == 0);
    assert_int_equal(det_list_read("/nonexistent/dkmc.list", &v, &n, err), -1);
    assert_non_null(strstr(err, "/nonexistent/dkmc.list: cannot open"));
    unlink(p); unlink(e); free(p); free(e);
}

/* ---------- mAP: hand-worked ---------- */

typedef struct { det_box *gt, *dt; int ngt, ndt, classes, maxdets; } map_case;
static int have_python(void);
static void compare(const map_case *k, double *map50_out, double *map_out);

/* One image, class 0, GT boxes A and B; detections d1 (0.9) = A, d2 (0.8) far from both,
 * d3 (0.7) = B. Ranks: TP, FP, TP; npos 2.
 *   precision 1, 1/2, 2/3; recall 1/2, 1/2, 1; envelope 1, 2/3, 2/3.
 *   VOC all-point AP = 1/2 * 1 + (1 - 1/2) * 2/3 = 5/6.
 *   COCO: recall points 0 .. 0.50 (51 points) reach rank 1 (precision 1), 0.51 .. 1 (50
 *   points) rank 3 (2/3): (51 + 50 * 2/3) / 101 at each IoU threshold (the boxes are exact).
 *   Counts at score >= 0.75: d1 TP, d2 FP: precision 1/2, recall 1/2. */
static void test_ap_hand(void **state) {
    (void)state;
    det_box gt[] = { B(0, 0, 1, 0.2, 0.2, 0.2, 0.2), B(0, 0, 1, 0.7, 0.7, 0.2, 0.2) };
    det_box dt[] = { B(0, 0, 0.9, 0.2, 0.2, 0.2, 0.2), B(0, 0, 0.8, 0.45, 0.8, 0.05, 0.05),
                     B(0, 0, 0.7, 0.7, 0.7, 0.2, 0.2) };
    double ap[2], map;
    int npos[2];
    char err[DKMC_ERRLEN];
    assert_int_equal(det_ap_voc(gt, 2, dt, 3, 2, 0.5, ap, npos, &map, err), 0);
    assert_true(fabs(ap[0] - 5.0 / 6) < 1e-15);
    assert_true(isnan(ap[1]));              /* no GT: excluded */
    assert_true(fabs(map - 5.0 / 6) < 1e-15);
    assert_int_equal(npos[0], 2);
    assert_int_equal(npos[1], 0);
    assert_int_equal(det_map_coco(gt, 2, dt, 3, 2, 100, ap, &map, err), 0);
    assert_true(fabs(map - (51 + 50 * 2.0 / 3) / 101) < 1e-15);
    det_count c[3];
    assert_int_equal(det_counts(gt, 2, dt, 3, 2, 0.5, 0.75, c, err), 0);
    assert_true(c[0].tp == 1 && c[0].fp == 1 && c[0].npos == 2);
    assert_true(c[0].precision == 0.5 && c[0].recall == 0.5);
    assert_true(c[1].tp == 0 && c[1].fp == 0 && c[1].precision == 0 && c[1].recall == 0);
    assert_true(c[2].tp == 1 && c[2].fp == 1 && c[2].npos == 2);
    /* d1 IoU with A lowered to 0.64 (same centre, 0.16 wide): a TP at 0.5, an FP at 0.7 */
    dt[0].w = dt[0].h = 0.16;
    assert_int_equal(det_ap_voc(gt, 2, dt, 3, 2, 0.7, ap, NULL, &map, err), 0);
    assert_true(fabs(ap[0] - 1.0 / 3 * 0.5) < 1e-15);   /* FP, FP, TP: 1/3 at recall 1/2 */
}

/* Equal IoUs: the detection takes the first GT in input order. G1 [0.25,0.5], G2 [0.5,0.75]
 * (exact binary fractions), d1 [0.375,0.625] has IoU 1/3 with both and takes G1; d2 = G1
 * then finds G1 matched and G2 outside: TP, FP, recall 1/2 -> AP 1/2 (had d1 taken G2, 1). */
static void test_ap_equal_iou(void **state) {
    (void)state;
    det_box gt[] = { C4(0, 0, 1, 0.25, 0.25, 0.5, 0.5), C4(0, 0, 1, 0.5, 0.25, 0.75, 0.5) };
    det_box dt[] = { C4(0, 0, 0.9, 0.375, 0.25, 0.625, 0.5), C4(0, 0, 0.8, 0.25, 0.25, 0.5, 0.5) };
    assert_true(det_iou(&dt[0], &gt[0]) == det_iou(&dt[0], &gt[1]));
    double ap, map;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_ap_voc(gt, 2, dt, 2, 1, 0.25, &ap, NULL, &map, err), 0);
    assert_true(ap == 0.5);
}

/* COCO's recall points are i * 0.01 (numpy's linspace), and 35 * 0.01 > 0.35 = 7/20: with 20
 * GT boxes, 7 TPs, 3 FPs, then 13 TPs (all exact), the point r_35 is reached at rank 11, not
 * rank 7. Envelope after rank 7: the last precision 20/23. So COCO AP = (35 + 66 * 20/23) / 101
 * at every threshold (with r = i / 100 it would be (36 + 65 * 20/23) / 101). */
static void test_coco_recall_points(void **state) {
    (void)state;
    det_box gt[20], dt[23];
    int nd = 0;
    for (int i = 0; i < 20; i++) gt[i] = B(0, 0, 1, 0.1 + 0.2 * (i % 5), 0.125 + 0.25 * (i / 5), 0.1, 0.1);
    for (int i = 0; i < 7; i++) { dt[nd] = gt[i]; dt[nd++].score = 0.99 - 0.01 * i; }
    for (int i = 0; i < 3; i++) dt[nd++] = B(1, 0, 0.9 - 0.01 * i, 0.5, 0.5, 0.1, 0.1);
    for (int i = 7; i < 20; i++) { dt[nd] = gt[i]; dt[nd++].score = 0.8 - 0.01 * i; }
    double ap, map;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_map_coco(gt, 20, dt, nd, 1, 100, &ap, &map, err), 0);
    assert_true(fabs(map - (35 + 66 * 20.0 / 23) / 101) < 1e-14);
    map_case k = { gt, dt, 20, nd, 1, 100 };
    if (have_python() && !access(REF, R_OK)) compare(&k, NULL, NULL);
}

static void test_map_refusals(void **state) {
    (void)state;
    det_box gt[] = { B(0, 0, 1, 0.5, 0.5, 0.2, 0.2) };
    det_box dt[] = { B(0, 0, NAN, 0.5, 0.5, 0.2, 0.2) };
    double ap[1], map;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_ap_voc(gt, 1, dt, 1, 1, 0.5, ap, NULL, &map, err), -1);
    assert_non_null(strstr(err, "detect: detection 0: score"));
    dt[0].score = 0.5;
    dt[0].cls = 1;
    assert_int_equal(det_map_coco(gt, 1, dt, 1, 1, 100, ap, &map, err), -1);
    assert_non_null(strstr(err, "class 1 outside"));
    gt[0].w = -1;
    assert_int_equal(det_ap_voc(gt, 1, dt, 0, 1, 0.5, ap, NULL, &map, err), -1);
    assert_non_null(strstr(err, "ground truth box 0"));
    gt[0].w = 0.2;
    assert_int_equal(det_ap_voc(gt, 1, dt, 0, 1, 1.5, ap, NULL, &map, err), -1);
    assert_int_equal(det_map_coco(gt, 1, dt, 0, 1, 0, ap, &map, err), -1);
    /* no GT at all: mean over no class is 0 */
    assert_int_equal(det_ap_voc(gt, 0, dt, 0, 1, 0.5, ap, NULL, &map, err), 0);
    assert_true(map == 0 && isnan(ap[0]));
}

/* ---------- mAP: against the Python reference ---------- */

static int have_python(void) { return system("command -v python3 >/dev/null 2>&1") == 0; }

static void write_case(const map_case *k, const char *path) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "classes %d\nmaxdets %d\n", k->classes, k->maxdets);
    for (int i = 0; i < k->ngt; i++) {
        const det_box *b = &k->gt[i];
        fprintf(f, "gt %d %d %.17g %.17g %.17g %.17g\n", b->image, b->cls, b->x, b->y, b->w, b->h);
    }
    for (int i = 0; i < k->ndt; i++) {
        const det_box *b = &k->dt[i];
        fprintf(f, "det %d %d %.17g %.17g %.17g %.17g %.17g\n", b->image, b->cls, b->score, b->x, b->y, b->w, b->h);
    }
    assert_int_equal(fclose(f), 0);
}

/* runs the reference on k: ap50[classes], map50, coco[classes], map */
static void run_ref(const map_case *k, double *ap50, double *map50, double *coco, double *map) {
    char *in = tu_temp_path(".det"), cmd[600], word[16];
    write_case(k, in);
    snprintf(cmd, sizeof cmd, "python3 " REF " %s", in);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int c, got = 0;
    double v;
    char num[64];
    while (fscanf(p, "%15s", word) == 1) {
        if (!strcmp(word, "map50") || !strcmp(word, "map")) {
            assert_int_equal(fscanf(p, "%63s", num), 1);
            *(word[3] == '5' ? map50 : map) = strtod(num, NULL);
            got++;
            continue;
        }
        assert_int_equal(fscanf(p, "%d %63s", &c, num), 2);
        assert_true(c >= 0 && c < k->classes);
        v = strtod(num, NULL);   /* "nan" too */
        (!strcmp(word, "ap50") ? ap50 : coco)[c] = v;
        got++;
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(got, 2 * k->classes + 2);
    unlink(in);
    free(in);
}

static void near(double a, double b, const char *what, int c) {
    if (isnan(a) && isnan(b)) return;
    if (!(fabs(a - b) <= TOL)) fail_msg("%s (class %d): C %.17g, reference %.17g", what, c, a, b);
}

/* C and reference agree; returns the C values through map50/map */
static void compare(const map_case *k, double *map50_out, double *map_out) {
    int C = k->classes;
    double ap[C], coco[C], rap[C], rcoco[C], map50, map, rmap50 = NAN, rmap = NAN;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_ap_voc(k->gt, k->ngt, k->dt, k->ndt, C, 0.5, ap, NULL, &map50, err), 0);
    assert_int_equal(det_map_coco(k->gt, k->ngt, k->dt, k->ndt, C, k->maxdets, coco, &map, err), 0);
    run_ref(k, rap, &rmap50, rcoco, &rmap);
    for (int c = 0; c < C; c++) { near(ap[c], rap[c], "AP50", c); near(coco[c], rcoco[c], "COCO AP", c); }
    near(map50, rmap50, "mAP50", -1);
    near(map, rmap, "mAP@[.5:.95]", -1);
    if (map50_out) *map50_out = map50;
    if (map_out) *map_out = map;
}

#define NEED_PYTHON() do { if (!have_python()) { \
    print_message("skip: python3 not found: the comparison with " REF " needs it\n"); skip(); } \
    assert_int_equal(access(REF, R_OK), 0); /* run from the repository root */ } while (0)

static void test_ref_perfect_empty(void **state) {
    (void)state;
    NEED_PYTHON();
    det_box gt[] = { B(0, 0, 1, 0.3, 0.3, 0.2, 0.2), B(0, 1, 1, 0.6, 0.6, 0.3, 0.1),
                     B(1, 0, 1, 0.5, 0.5, 0.5, 0.5), B(2, 2, 1, 0.2, 0.8, 0.1, 0.1) };
    det_box dt[4];
    for (int i = 0; i < 4; i++) { dt[i] = gt[i]; dt[i].score = 0.5 + 0.1 * i; }
    map_case k = { gt, dt, 4, 4, 3, 100 };
    double m50, m;
    compare(&k, &m50, &m);
    assert_true(m50 == 1 && m == 1);
    k.ndt = 0;
    compare(&k, &m50, &m);
    assert_true(m50 == 0 && m == 0);
}

static void test_ref_duplicates_wrong_class(void **state) {
    (void)state;
    NEED_PYTHON();
    det_box gt[] = { B(0, 0, 1, 0.5, 0.5, 0.4, 0.4), B(0, 1, 1, 0.2, 0.2, 0.1, 0.1) };
    /* three copies of the class-0 box: one TP then two FPs; a class-2 box on the class-1 GT */
    det_box dt[] = { B(0, 0, 0.9, 0.5, 0.5, 0.4, 0.4), B(0, 0, 0.8, 0.51, 0.5, 0.4, 0.4),
                     B(0, 0, 0.95, 0.5, 0.49, 0.4, 0.4), B(0, 2, 0.9, 0.2, 0.2, 0.1, 0.1) };
    map_case k = { gt, dt, 2, 4, 3, 100 };
    double m50;
    compare(&k, &m50, NULL);
    assert_true(fabs(m50 - 0.5) < 1e-15);   /* class 0: 1; class 1 (GT, no detection): 0 */
    det_count c[4];
    char err[DKMC_ERRLEN];
    assert_int_equal(det_counts(gt, 2, dt, 4, 3, 0.5, 0, c, err), 0);
    assert_true(c[0].tp == 1 && c[0].fp == 2 && c[1].tp == 0 && c[1].npos == 1 && c[2].fp == 1);
    assert_true(c[3].tp == 1 && c[3].fp == 3 && c[3].npos == 2 && c[3].recall == 0.5);
}

/* equal scores: ranked by image, then position; the order decides the AP */
static void test_ref_ties(void **state) {
    (void)state;
    NEED_PYTHON();
    det_box gt[] = { B(1, 0, 1, 0.5, 0.5, 0.2, 0.2) };
    det_box dt[] = { B(1, 0, 0.5, 0.5, 0.5, 0.2, 0.2), B(0, 0, 0.5, 0.5, 0.5, 0.2, 0.2) };
    map_case k = { gt, dt, 1, 2, 1, 100 };
    double m50;
    compare(&k, &m50, NULL);
    assert_true(fabs(m50 - 0.5) < 1e-15);   /* image 0's FP ranks first: precision 1/2 at recall 1 */
    det_box dt2[] = { B(1, 0, 0.5, 0.5, 0.5, 0.2, 0.2), B(1, 0, 0.5, 0.5, 0.5, 0.2, 0.2), B(0, 0, 0.6, 0.1, 0.1, 0.1, 0.1) };
    map_case k2 = { gt, dt2, 1, 3, 1, 100 };
    compare(&k2, &m50, NULL);
    assert_true(fabs(m50 - 0.5) < 1e-15);
}

/* a 6 x 6 grid of overlapping boxes (neighbours IoU about 0.4), two classes alternating,
 * detections shifted, a third missing, a few duplicates */
static void test_ref_crowded(void **state) {
    (void)state;
    NEED_PYTHON();
    det_box gt[36], dt[60];
    int ngt = 0, ndt = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double x = 0.15 + 0.12 * i, y = 0.15 + 0.12 * j;
            int cls = (i + j) % 2;
            gt[ngt++] = B(0, cls, 1, x, y, 0.2, 0.2);
            if ((i * 6 + j) % 3 == 2) continue;
            dt[ndt++] = B(0, cls, 0.3 + 0.019 * ((i * 7 + j * 5) % 37), x + 0.01 * (j - 3), y + 0.006 * (i - 2), 0.2, 0.19);
            if ((i + 2 * j) % 5 == 0) dt[ndt++] = B(0, cls, 0.25 + 0.01 * i, x + 0.05, y, 0.2, 0.2);
        }
    map_case k = { gt, dt, ngt, ndt, 2, 100 };
    double m50, m;
    compare(&k, &m50, &m);
    assert_true(m50 > 0.3 && m50 < 1 && m < m50);
    k.maxdets = 7;   /* COCO's per-image limit cuts in */
    double m7;
    compare(&k, NULL, &m7);
    assert_true(m7 < m);
}

static double urand(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1.0p-53;
}

/* 25 images, 4 classes (class 3 without GT), about 150 GT and 350 detections: jittered
 * copies, duplicates, wrong classes, background boxes; scores on a 0.05 grid (many ties) */
static void test_ref_random(void **state) {
    (void)state;
    NEED_PYTHON();
    enum { NG = 150, ND = 400 };
    det_box *gt = malloc(NG * sizeof *gt), *dt = malloc(ND * sizeof *dt);
    uint64_t s = 20240601;
    int ngt = 0, ndt = 0;
    for (int i = 0; i < NG; i++) {
        double w = 0.05 + 0.3 * urand(&s), h = 0.05 + 0.3 * urand(&s);
        gt[ngt++] = B((int)(urand(&s) * 25), (int)(urand(&s) * 3), 1, w / 2 + (1 - w) * urand(&s),
                      h / 2 + (1 - h) * urand(&s), w, h);
    }
    while (ndt < ND) {
        const det_box *g = &gt[(int)(urand(&s) * ngt)];
        double r = urand(&s), score = 0.05 * (int)(urand(&s) * 20);
        det_box d = B(g->image, g->cls, score, g->x + 0.04 * (urand(&s) - 0.5) * g->w * 4,
                      g->y + 0.04 * (urand(&s) - 0.5) * g->h * 4, g->w * (0.8 + 0.4 * urand(&s)), g->h * (0.8 + 0.4 * urand(&s)));
        if (r < 0.1) d.cls = (int)(urand(&s) * 4);
        else if (r < 0.25) { d.x = urand(&s); d.y = urand(&s); d.image = (int)(urand(&s) * 25); }
        dt[ndt++] = d;
    }
    map_case k = { gt, dt, ngt, ndt, 4, 100 };
    double m50, m;
    compare(&k, &m50, &m);
    print_message("random case: %d GT, %d detections: mAP@0.5 %.17g, mAP@[.5:.95] %.17g\n", ngt, ndt, m50, m);
    assert_true(m50 > 0.2 && m50 < 0.99 && m > 0.05 && m < m50);
    k.maxdets = 3;
    compare(&k, NULL, NULL);
    free(gt);
    free(dt);
}

/* ---------- NMS and WBF ---------- */

static void test_nms(void **state) {
    (void)state;
    det_box b[] = {
        C4(0, 0, 0.8, 0.15, 0.1, 0.35, 0.3),   /* b: IoU with a 0.6 -> suppressed at 0.5 */
        C4(0, 0, 0.9, 0.1, 0.1, 0.3, 0.3),     /* a: the best -> kept */
        C4(0, 0, 0.7, 0.2, 0.1, 0.4, 0.3),     /* c: IoU(a) 1/3, IoU(b) 0.6, b is gone -> kept */
        C4(0, 1, 0.5, 0.1, 0.1, 0.3, 0.3),     /* same place, other class -> kept */
        C4(1, 0, 0.5, 0.1, 0.1, 0.3, 0.3),     /* same place, other image -> kept */
        C4(0, 0, 0.6, 0.1, 0.1, 0.3, 0.3),     /* a's duplicate -> suppressed */
    };
    int keep[6];
    char err[DKMC_ERRLEN];
    assert_int_equal(det_nms(b, 6, 0.5, keep, err), 0);
    int want[6] = { 0, 1, 1, 1, 1, 0 };
    for (int i = 0; i < 6; i++) assert_int_equal(keep[i], want[i]);
    /* at 0.7 only the duplicate goes */
    assert_int_equal(det_nms(b, 6, 0.7, keep, err), 0);
    int want7[6] = { 1, 1, 1, 1, 1, 0 };
    for (int i = 0; i < 6; i++) assert_int_equal(keep[i], want7[i]);
    assert_int_equal(det_nms(b, 6, 2, keep, err), -1);
}

static void expect_box(const det_box *o, int cls, double score, double x1, double y1, double x2, double y2) {
    assert_int_equal(o->cls, cls);
    if (fabs(o->score - score) > 1e-12 || fabs(o->x - o->w / 2 - x1) > 1e-12 || fabs(o->y - o->h / 2 - y1) > 1e-12 ||
        fabs(o->x + o->w / 2 - x2) > 1e-12 || fabs(o->y + o->h / 2 - y2) > 1e-12)
        fail_msg("fused box %g (%g %g %g %g), want %g (%g %g %g %g)", o->score, o->x - o->w / 2, o->y - o->h / 2,
                 o->x + o->w / 2, o->y + o->h / 2, score, x1, y1, x2, y2);
}

/* Two models. Model 1: A (0.9) at (0.1,0.1)-(0.3,0.3), F (0.8) far away; model 2: B (0.6) at
 * (0.12,0.1)-(0.32,0.32) (IoU with A 0.036/0.048 = 0.75), L (0.05, under skip_thr 0.1), and
 * K (0.5) of class 1 exactly on A. Fused A+B: x1 = (0.9*0.1 + 0.6*0.12)/1.5 = 0.108, y1 = 0.1,
 * x2 = (0.9*0.3 + 0.6*0.32)/1.5 = 0.308, y2 = 0.308; score (0.9+0.6)/2 * min(2,2)/2 = 0.75.
 * F alone: 0.8 * 1/2; K alone (never fused with class 0): 0.5 * 1/2. */
static void test_wbf_hand(void **state) {
    (void)state;
    det_box b[] = { C4(0, 0, 0.6, 0.12, 0.1, 0.32, 0.32), C4(0, 0, 0.8, 0.6, 0.6, 0.8, 0.9),
                    C4(0, 1, 0.5, 0.1, 0.1, 0.3, 0.3), C4(0, 0, 0.9, 0.1, 0.1, 0.3, 0.3),
                    C4(0, 0, 0.05, 0.5, 0.1, 0.6, 0.2) };
    det_box *o;
    int n;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_wbf(b, 5, 2, DET_WBF_IOU_DEFAULT, 0.1, &o, &n, err), 0);
    assert_int_equal(n, 3);
    double x1 = (0.9 * 0.1 + 0.6 * 0.12) / 1.5, x2 = (0.9 * 0.3 + 0.6 * 0.32) / 1.5;
    double y2 = (0.9 * 0.3 + 0.6 * 0.32) / 1.5;
    expect_box(&o[0], 0, 0.75, x1, 0.1, x2, y2);
    expect_box(&o[1], 0, 0.4, 0.6, 0.6, 0.8, 0.9);
    expect_box(&o[2], 1, 0.25, 0.1, 0.1, 0.3, 0.3);
    free(o);
    /* one model: a lone box keeps its score (x 1/1); three models: x 1/3 */
    assert_int_equal(det_wbf(&b[1], 1, 1, 0.55, 0, &o, &n, err), 0);
    assert_true(n == 1 && fabs(o[0].score - 0.8) < 1e-15);
    free(o);
    assert_int_equal(det_wbf(&b[1], 1, 3, 0.55, 0, &o, &n, err), 0);
    assert_true(n == 1 && fabs(o[0].score - 0.8 / 3) < 1e-15);
    free(o);
    /* without skip_thr, L forms its own cluster: 0.05 / 2 */
    assert_int_equal(det_wbf(b, 5, 2, 0.55, 0, &o, &n, err), 0);
    assert_true(n == 4 && fabs(o[2].score - 0.025) < 1e-15);
    free(o);
}

/* a box that overlaps two clusters by more than the threshold joins the one of higher IoU
 * (not the first); more members than models keep the mean score (min(T, n) = T); other
 * images never fuse. Threshold 0.3: P, Q IoU 0.25 (two clusters); R: IoU(P) 1/3, IoU(Q)
 * 0.818 -> Q; S on Q -> Q. */
static void test_wbf_clusters(void **state) {
    (void)state;
    det_box b[] = { C4(0, 0, 0.9, 0.0, 0.0, 0.4, 0.4), C4(0, 0, 0.8, 0.24, 0.0, 0.64, 0.4),
                    C4(0, 0, 0.7, 0.2, 0.0, 0.6, 0.4), C4(0, 0, 0.6, 0.24, 0.0, 0.64, 0.4),
                    C4(1, 0, 0.5, 0.0, 0.0, 0.4, 0.4) };
    det_box *o;
    int n;
    char err[DKMC_ERRLEN];
    assert_int_equal(det_wbf(b, 5, 2, 0.3, 0, &o, &n, err), 0);
    assert_int_equal(n, 3);
    double x1 = (0.8 * 0.24 + 0.7 * 0.2 + 0.6 * 0.24) / 2.1, x2 = (0.8 * 0.64 + 0.7 * 0.6 + 0.6 * 0.64) / 2.1;
    expect_box(&o[0], 0, 2.1 / 3, x1, 0.0, x2, 0.4);   /* n = 3 > T = 2: the plain mean */
    expect_box(&o[1], 0, 0.9 / 2, 0.0, 0.0, 0.4, 0.4);
    assert_true(o[2].image == 1 && fabs(o[2].score - 0.25) < 1e-15);
    free(o);
    b[0].score = -0.1;
    assert_int_equal(det_wbf(b, 5, 2, 0.5, 0, &o, &n, err), -1);
    assert_non_null(strstr(err, "negative score"));
    assert_int_equal(det_wbf(b, 5, 0, 0.5, 0, &o, &n, err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_good),
        cmocka_unit_test(test_labels_bad),
        cmocka_unit_test(test_labels_missing_and_tolerance),
        cmocka_unit_test(test_label_path),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_ap_hand),
        cmocka_unit_test(test_ap_equal_iou),
        cmocka_unit_test(test_coco_recall_points),
        cmocka_unit_test(test_map_refusals),
        cmocka_unit_test(test_ref_perfect_empty),
        cmocka_unit_test(test_ref_duplicates_wrong_class),
        cmocka_unit_test(test_ref_ties),
        cmocka_unit_test(test_ref_crowded),
        cmocka_unit_test(test_ref_random),
        cmocka_unit_test(test_nms),
        cmocka_unit_test(test_wbf_hand),
        cmocka_unit_test(test_wbf_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
