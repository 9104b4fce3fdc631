/* test_plane.c: the plane module. The three-point basis is orthonormal and puts each point
 * at its expected coordinates, plane points at those coordinates give the networks back,
 * identical or collinear points are refused, random directions are filter-normalised, and
 * the grid evaluation matches a direct evaluation and resumes to the same numbers; a grid
 * run (plane_run) resumed after an interruption writes the CSV of an uninterrupted one byte
 * for byte, its values are those of the network at each point, and an unwritable CSV is
 * refused by name. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "testutil.h"
#include "host.h"
#include "plane.h"
#include "plane_run.h"
#include "run.h"
#include "wspace.h"

static const char *NET =
    "[net]\nbatch=16\nwidth=8\nheight=8\nchannels=2\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[convolutional]\nfilters=3\nsize=3\nstride=2\npad=1\nactivation=leaky\n"
    "[connected]\noutput=5\nactivation=linear\n[softmax]\n";

static host_net *load_net(char **path) {
    *path = tu_write_temp(".cfg", NET);
    char err[HOST_ERRLEN];
    host_net *h = host_load(*path, 0, err);
    if (!h) fprintf(stderr, "%s\n", err);
    assert_non_null(h);
    return h;
}

static void test_basis_orthonormal_and_bend_coordinates(void **s) {
    (void)s;
    const size_t n = 3000;
    float *w0 = malloc(n * 4), *w1 = malloc(n * 4), *w2 = malloc(n * 4), *p = malloc(n * 4), *d = malloc(n * 4);
    tu_fill_random(w0, n, 1, 1); tu_fill_random(w1, n, 1, 2); tu_fill_random(w2, n, 1, 3);
    plane_basis b;
    char err[PLANE_ERRLEN];
    assert_int_equal(plane_basis_points(&b, n, w0, w1, w2, err), 0);
    assert_true(b.orthogonal);
    assert_true(fabs(ws_norm(n, b.u) - 1) < 1e-5 && fabs(ws_norm(n, b.v) - 1) < 1e-5);
    assert_true(fabs(ws_dot(n, b.u, b.v)) < 1e-5);
    assert_true(fabs(b.dx - ws_dist(n, w2, w0)) < 1e-9 * b.dx);
    /* each network projects onto its expected coordinates, on the plane */
    double x, y, off;
    plane_project(&b, w0, &x, &y, &off);
    assert_true(fabs(x) < 1e-6 && fabs(y) < 1e-6 && off < 1e-4);
    plane_project(&b, w2, &x, &y, &off);
    assert_true(fabs(x - b.dx) < 1e-4 && fabs(y) < 1e-4 && off < 1e-3);
    for (size_t i = 0; i < n; i++) d[i] = w1[i] - w0[i];
    double along = ws_dot(n, d, b.u);
    plane_project(&b, w1, &x, &y, &off);
    assert_true(fabs(x - along) < 1e-4 && fabs(y - b.dy) < 1e-4 && off < 1e-3);
    /* the point at a network's coordinates is that network */
    const float *w[3] = { w0, w1, w2 };
    for (int k = 0; k < 3; k++) {
        plane_project(&b, w[k], &x, &y, NULL);
        plane_point(&b, x, y, p);
        assert_true(tu_max_abs_diff(p, w[k], n) < 1e-5);
    }
    /* a grid with no margin has w0 and w2 at its corners (alpha 0 and 1, beta 0) */
    plane_grid g = { 5, 0, 1, 0, 1 };
    assert_true(plane_grid_alpha(&g, 0) == 0 && plane_grid_alpha(&g, 4) == 1 && plane_grid_beta(&g, 2) == 0.5);
    plane_point(&b, plane_grid_alpha(&g, 4) * b.dx, plane_grid_beta(&g, 0) * b.dy, p);
    assert_true(tu_max_abs_diff(p, w2, n) < 1e-5);
    plane_point(&b, 0, 0, p);
    assert_true(tu_max_abs_diff(p, w0, n) == 0);
    plane_basis_free(&b);
    free(w0); free(w1); free(w2); free(p); free(d);
}

static void test_degenerate_planes_refused(void **s) {
    (void)s;
    const size_t n = 500;
    float *a = malloc(n * 4), *c = malloc(n * 4), *m = malloc(n * 4);
    tu_fill_random(a, n, 1, 7); tu_fill_random(c, n, 1, 8);
    plane_basis b;
    char err[PLANE_ERRLEN];
    /* identical first and third */
    assert_int_equal(plane_basis_points(&b, n, a, c, a, err), -1);
    assert_non_null(strstr(err, "degenerate")); assert_null(strchr(err, '\n'));
    /* identical first and second */
    assert_int_equal(plane_basis_points(&b, n, a, a, c, err), -1);
    assert_non_null(strstr(err, "degenerate"));
    /* all three the same */
    assert_int_equal(plane_basis_points(&b, n, a, a, a, err), -1);
    /* collinear: the midpoint, and a point beyond the end */
    for (size_t i = 0; i < n; i++) m[i] = 0.5f * (a[i] + c[i]);
    assert_int_equal(plane_basis_points(&b, n, a, m, c, err), -1);
    assert_non_null(strstr(err, "collinear"));
    for (size_t i = 0; i < n; i++) m[i] = a[i] + 3 * (c[i] - a[i]);
    assert_int_equal(plane_basis_points(&b, n, a, m, c, err), -1);
    /* but a small genuine offset is a plane */
    for (size_t i = 0; i < n; i++) m[i] = 0.5f * (a[i] + c[i]) + (i == 3 ? 0.05f : 0);
    assert_int_equal(plane_basis_points(&b, n, a, m, c, err), 0);
    assert_true(isfinite(b.dy) && fabs(b.dy - 0.05 * sqrt(1 - pow((c[3] - a[3]) / b.dx, 2))) < 1e-3);
    plane_basis_free(&b);
    free(a); free(c); free(m);
}

static void test_random_directions_filter_normalised(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_net(&cfgp);
    size_t n = host_nparams(h);
    float *w = malloc(n * 4), *d = malloc(n * 4);
    tu_fill_random(w, n, 0.5f, 11);
    rng_t r;
    rng_seed(&r, 5);
    plane_random_direction(h, w, &r, d);
    const hp_block *bl = host_blocks(h);
    int weight_blocks = 0;
    for (int k = 0; k < host_nblocks(h); k++) {
        const hp_block *b = &bl[k];
        if (b->kind == HP_ROLLING_MEAN || b->kind == HP_ROLLING_VAR) continue;
        if (b->kind != HP_WEIGHTS) {   /* biases and BN scales: no direction */
            for (size_t i = 0; i < b->n; i++) assert_true(d[b->offset + i] == 0);
            continue;
        }
        weight_blocks++;
        size_t fs, nf = plane_block_filters(h, k, &fs);
        assert_true(nf > 1 && nf * fs == b->n);
        for (size_t f = 0; f < nf; f++) {
            double dn = ws_norm(fs, d + b->offset + f * fs), wn = ws_norm(fs, w + b->offset + f * fs);
            assert_true(fabs(dn - wn) < 1e-5 * wn);
        }
    }
    assert_int_equal(weight_blocks, 3);
    /* filters: 4 output channels of 2*3*3, 3 of 4*3*3, 5 rows of 3*4*4 */
    size_t fs;
    for (int k = 0, seen = 0; k < host_nblocks(h); k++) {
        if (bl[k].kind != HP_WEIGHTS) continue;
        size_t nf = plane_block_filters(h, k, &fs);
        size_t want_nf[3] = { 4, 3, 5 }, want_fs[3] = { 18, 36, 48 };
        assert_true(nf == want_nf[seen] && fs == want_fs[seen]);
        seen++;
    }
    /* the random basis: unit vectors along the two directions, lengths dx, dy, same seed same plane */
    plane_basis b, b2, b3;
    char err[PLANE_ERRLEN];
    assert_int_equal(plane_basis_random(&b, h, w, 9, err), 0);
    assert_int_equal(plane_basis_random(&b2, h, w, 9, err), 0);
    assert_int_equal(plane_basis_random(&b3, h, w, 10, err), 0);
    assert_false(b.orthogonal);
    assert_true(fabs(ws_norm(n, b.u) - 1) < 1e-5 && fabs(ws_norm(n, b.v) - 1) < 1e-5);
    assert_true(memcmp(b.u, b2.u, n * 4) == 0 && memcmp(b.v, b2.v, n * 4) == 0);
    assert_true(memcmp(b.u, b3.u, n * 4) != 0);
    assert_true(tu_max_abs_diff(b.origin, w, n) == 0);
    /* alpha = 1 is one whole direction away: its filter norms are again the network's */
    plane_point(&b, b.dx, 0, d);
    for (size_t i = 0; i < n; i++) d[i] -= w[i];
    for (int k = 0; k < host_nblocks(h); k++) {
        if (bl[k].kind != HP_WEIGHTS) continue;
        size_t nf = plane_block_filters(h, k, &fs);
        for (size_t f = 0; f < nf; f++) {
            double dn = ws_norm(fs, d + bl[k].offset + f * fs), wn = ws_norm(fs, w + bl[k].offset + f * fs);
            assert_true(fabs(dn - wn) < 1e-4 * wn);
        }
    }
    plane_basis_free(&b); plane_basis_free(&b2); plane_basis_free(&b3);
    /* all-zero weights: no direction, a one-line error */
    memset(w, 0, n * 4);
    assert_int_equal(plane_basis_random(&b, h, w, 1, err), -1);
    assert_non_null(strstr(err, "degenerate"));
    free(w); free(d);
    host_free(h); unlink(cfgp); free(cfgp);
}

static dataset synthetic(int n, unsigned seed) {
    dataset d = {0};
    d.n = n; d.w = 8; d.h = 8; d.c = 2; d.classes = 5;
    d.X = malloc((size_t)n * 128 * sizeof(float));
    d.labels = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        d.labels[i] = (i * 3 + seed) % 5;
        tu_fill_random(d.X + (size_t)i * 128, 128, 1, seed * 977 + i);
    }
    return d;
}

typedef struct { int calls; int last; } row_count;
static int count_rows(void *ctx, int index, const plane_row *r, char *err) {
    (void)r; (void)err;
    row_count *c = ctx;
    c->calls++; c->last = index;
    return 0;
}

static void test_grid_matches_direct_eval_and_resumes(void **s) {
    (void)s;
    char *cfgp;
    host_net *h = load_net(&cfgp);
    size_t n = host_nparams(h);
    float *w[3];
    for (int k = 0; k < 3; k++) { w[k] = malloc(n * 4); tu_fill_random(w[k], n, 0.3f, 20 + k); }
    dataset tr = synthetic(40, 1), te = synthetic(24, 2);
    plane_basis b;
    char err[PLANE_ERRLEN];
    assert_int_equal(plane_basis_points(&b, n, w[0], w[1], w[2], err), 0);
    plane_grid g = { 3, 0, 1, 0, 1 };
    plane_row full[9], part[9];
    row_count rc = { 0, -1 };
    plane_eval_opts o = { 32, 20, 5e-4f, 0, 0, NULL, 0, count_rows, &rc, NULL };
    assert_int_equal(plane_evaluate(&b, &g, h, &tr, &te, &o, full, err), 9);
    assert_int_equal(rc.calls, 9);
    /* (0, 0) is w0: the same numbers as setting w0, exact BN on 32 images, evaluating */
    unsigned char *mask = malloc(n);
    host_decay_mask(h, mask);
    double l2 = 0;
    for (size_t i = 0; i < n; i++) if (mask[i]) l2 += (double)w[0][i] * w[0][i];
    host_set_params(h, w[0]);
    run_bn_update(h, &tr, 32, NULL);
    dataset trl = tr;
    trl.n = 20;
    eval_result a = run_eval(h, &trl, NULL, NULL), e = run_eval(h, &te, NULL, NULL);
    assert_true(full[0].tr_nll == a.nll && full[0].te_nll == e.nll && full[0].te_err == 100 - e.acc);
    assert_true(fabs(full[0].tr_loss - (a.nll + 0.5 * (double)5e-4f * l2)) < 1e-12);
    assert_true(full[0].x == 0 && full[0].y == 0);
    /* (2, 0) is w2 (alpha 1, beta 0) */
    assert_true(fabs(full[6].x - b.dx) < 1e-12 && full[6].y == 0);
    /* interrupted after 4 points, then resumed: the same rows */
    unsigned char done[9] = { 0 };
    memset(part, 0, sizeof part);
    o.stop_after = 4;
    o.done = done;
    rc.calls = 0;
    assert_int_equal(plane_evaluate(&b, &g, h, &tr, &te, &o, part, err), 4);
    assert_int_equal(rc.last, 3);
    for (int k = 0; k < 4; k++) done[k] = 1;
    o.stop_after = 0;
    assert_int_equal(plane_evaluate(&b, &g, h, &tr, &te, &o, part, err), 5);
    assert_true(memcmp(part, full, sizeof full) == 0);
    /* no train metrics: NaN */
    o.train_limit = -1; o.done = NULL;
    assert_int_equal(plane_evaluate(&b, &g, h, &tr, &te, &o, part, err), 9);
    assert_true(isnan(part[4].tr_loss) && isnan(part[4].tr_nll) && part[4].te_nll == full[4].te_nll);
    /* a basis of another size is refused */
    plane_basis small;
    assert_int_equal(plane_basis_points(&small, 10, w[0], w[1], w[2], err), 0);
    assert_int_equal(plane_evaluate(&small, &g, h, &tr, &te, &o, part, err), -1);
    plane_basis_free(&small);
    plane_basis_free(&b);
    free(mask);
    for (int k = 0; k < 3; k++) free(w[k]);
    data_free(&tr); data_free(&te);
    host_free(h); unlink(cfgp); free(cfgp);
}

/* ---- the grid's files (plane_files.c) ---- */

static plane_row row_k(int k) {
    /* values with all 17 digits in play, a NaN (no train metrics), negative coordinates */
    return (plane_row){ .alpha = k * 0.1 - 0.2, .beta = 1.0 / (k + 3), .x = -k / 7.0, .y = M_PI * k, .tr_loss = 1.0 / 3 + k,
                        .tr_nll = k % 2 ? NAN : 2.0 / 3, .tr_err = 100.0 * k / 9, .te_nll = exp(-k), .te_err = 50 + 1e-9 * k };
}

static int same_row(const plane_row *a, const plane_row *b) {
    const double *x = &a->alpha, *y = &b->alpha;
    for (int q = 0; q < 9; q++)
        if (!(x[q] == y[q] || (isnan(x[q]) && isnan(y[q])))) return 0;
    return 1;
}

/* A partial file written after each point and read back: the same doubles bit for bit, only
 * the finished points; other settings, another file, a truncated one and a malformed row are
 * refused with the file (and line) named. */
static void test_partial_file(void **st) {
    (void)st;
    char err[PLANE_ERRLEN], *path = tu_temp_path(".partial");
    plane_state a, b;
    assert_int_equal(plane_state_init(&a, 4, path, "mode=points grid=4 data=00ff", err), 0);
    const int ks[] = { 0, 5, 6, 15 };
    for (int q = 0; q < 4; q++) { plane_row r = row_k(ks[q]); assert_int_equal(plane_state_done(&a, ks[q], &r, err), 0); }
    assert_int_equal(plane_state_init(&b, 4, NULL, "mode=points grid=4 data=00ff", err), 0);
    int count = -1;
    assert_int_equal(plane_state_resume(&b, path, &count, err), 0);
    assert_int_equal(count, 4);
    for (int k = 0; k < 16; k++) {
        assert_int_equal(b.done[k], a.done[k]);
        if (b.done[k]) assert_true(same_row(&b.rows[k], &a.rows[k]));
    }
    plane_state_free(&b);
    assert_int_equal(plane_state_init(&b, 4, NULL, "mode=points grid=4 data=0100", err), 0);
    assert_int_equal(plane_state_resume(&b, path, &count, err), -1);
    assert_non_null(strstr(err, "it has data=00ff, this run has data=0100"));
    assert_non_null(strstr(err, path));
    plane_state_free(&b);
    /* broken files */
    const char *bad[][2] = {
        { "not a partial\n", "not a partial grid" },
        { "# darknet plane partial 1\n", "truncated" },
        { "# darknet plane partial 1\nsettings missing\n", "line 2: no settings line" },
        { "# darknet plane partial 1\n# settings mode=points grid=4 data=00ff\n3,1,2,3,4,5,6,7,8\n", "line 3: malformed" },
        { "# darknet plane partial 1\n# settings mode=points grid=4 data=00ff\n16,1,2,3,4,5,6,7,8,9\n", "line 3: malformed" },
        { "# darknet plane partial 1\n# settings mode=points grid=4 data=00ff\n1,1,2,3,4,5,6,7,8,9x\n", "line 3: malformed" },
    };
    for (size_t q = 0; q < sizeof bad / sizeof *bad; q++) {
        char *f = tu_write_temp(".partial", bad[q][0]);
        assert_int_equal(plane_state_init(&b, 4, NULL, "mode=points grid=4 data=00ff", err), 0);
        assert_int_equal(plane_state_resume(&b, f, &count, err), -1);
        if (!strstr(err, bad[q][1]) || !strstr(err, f)) fail_msg("case %zu: '%s'", q, err);
        plane_state_free(&b);
        unlink(f);
        free(f);
    }
    plane_state_free(&a);
    unlink(path);
    free(path);
}

/* The CSV written and read back: every grid row at its (i, j) with the printed precision,
 * the marks and the curve; a point given twice and a grid that is not square are refused. */
static void test_csv_round_trip(void **st) {
    (void)st;
    char err[PLANE_ERRLEN], *path = tu_temp_path(".csv");
    plane_state a;
    assert_int_equal(plane_state_init(&a, 3, NULL, "", err), 0);
    for (int k = 0; k < 9; k++) { plane_row r = row_k(k); assert_int_equal(plane_state_done(&a, k, &r, err), 0); }
    plane_basis b = { .dx = 2.5, .dy = 0.5 };
    plane_mark m[3] = { { "bend", 0, 0, 0 }, { "bend", 1, 1.25, 0.4 }, { "bend", 2, 2.5, 0 } };
    double ct[2] = { 0, 1 }, cx[2] = { 0, 2.5 }, cy[2] = { 0, 0 };
    assert_int_equal(plane_write_csv(path, &a, &b, m, 3, ct, cx, cy, 2, err), 0);
    plane_csv c;
    assert_int_equal(plane_read_csv(path, &c, err), 0);
    assert_int_equal(c.g, 3);
    assert_int_equal(c.nm, 3);
    assert_int_equal(c.ncurve, 2);
    assert_string_equal(c.marks[1].kind, "bend");
    assert_true(fabs(c.marks[1].x - 1.25) < 1e-6 && fabs(c.marks[1].y - 0.4) < 1e-6);
    assert_true(c.cx[1] == 2.5 && c.cy[1] == 0);
    for (int k = 0; k < 9; k++) {
        const plane_row *r = &c.rows[k], *w = &a.rows[k];
        assert_true(fabs(r->x - w->x) < 1e-6 && fabs(r->y - w->y) < 1e-6);
        assert_true(fabs(r->tr_loss - w->tr_loss) < 1e-6 && fabs(r->te_err - w->te_err) < 1e-4);
        assert_true(isnan(w->tr_nll) ? isnan(r->tr_nll) : fabs(r->tr_nll - w->tr_nll) < 1e-6);
    }
    plane_csv_free(&c);
    /* the same point twice (the last row says i=0, j=0), and 8 grid rows */
    FILE *f = fopen(path, "a");
    fprintf(f, "grid,0,0,,0,0,0,0,1,1,1,1,1\n");
    fclose(f);
    assert_int_equal(plane_read_csv(path, &c, err), -1);
    assert_non_null(strstr(err, "grid rows, not a square grid"));
    char *two = tu_write_temp(".csv", "kind,i,j,t,alpha,beta,x,y,tr_loss,tr_nll,tr_err,te_nll,te_err\n"
                                      "grid,0,0,,0,0,0,0,1,1,1,1,1\ngrid,0,0,,0,0,0,1,1,1,1,1,1\n"
                                      "grid,1,0,,0,0,1,0,1,1,1,1,1\ngrid,1,1,,0,0,1,1,1,1,1,1,1\n");
    assert_int_equal(plane_read_csv(two, &c, err), -1);
    assert_non_null(strstr(err, "given twice"));
    char *hdr = tu_write_temp(".csv", "kind,i,j\n");
    assert_int_equal(plane_read_csv(hdr, &c, err), -1);
    assert_non_null(strstr(err, "header differs"));
    unlink(two); unlink(hdr); unlink(path);
    free(two); free(hdr); free(path);
    plane_state_free(&a);
}

/* plane_setup_make: a 3-bend Bezier curve's plane holds its bends at their coordinates and the
 * curve exactly (its points lie in the plane: the projection reproduces w(t) to rounding);
 * three networks get labelled marks with w0 at the origin; random directions a centre; bad
 * inputs are refused naming the file. */
static void test_setup(void **st) {
    (void)st;
    char *cfg, err[PLANE_ERRLEN];
    host_net *h = load_net(&cfg);
    size_t n = host_nparams(h);
    curve cv = { 0 };
    assert_int_equal(curve_init(&cv, CURVE_BEZIER, 3, n, 0), 0);
    for (int j = 0; j < 3; j++) tu_fill_random(cv.bends[j], n, 0.5f, 40 + j);
    cv.decay = 0.003f;
    char *cpath = tu_temp_path(".curve");
    assert_int_equal(curve_save(&cv, cpath, err), 0);
    plane_setup p;
    plane_setup_req q = { PLANE_CURVE, cfg, cpath, NULL, 11, { NULL, NULL, NULL }, 0 };
    assert_int_equal(plane_setup_make(&p, &q, h, err), 0);
    assert_int_equal(p.nm, 3);
    assert_int_equal(p.ncurve, 11);
    assert_true(p.has_decay && fabsf(p.decay - 0.003f) < 1e-9f);
    assert_true(fabs(p.marks[0].x) < 1e-9 && fabs(p.marks[0].y) < 1e-9);          /* bend 0 at the origin */
    assert_true(fabs(p.marks[2].x - p.b.dx) < 1e-4 * p.b.dx && fabs(p.marks[2].y) < 1e-4 * p.b.dx);
    float *w = malloc(n * sizeof(float)), *back = malloc(n * sizeof(float));
    for (int k = 0; k < 11; k++) {   /* the curve lies in the plane of its three bends */
        curve_point(&cv, p.ct[k], w);
        plane_point(&p.b, p.cx[k], p.cy[k], back);
        assert_true(tu_max_abs_diff(w, back, n) < 1e-4f);
    }
    assert_non_null(strstr(p.desc, "the plane of the 3 bends"));
    plane_setup_free(&p);
    /* the same weights as three files */
    char *wp[3];
    for (int j = 0; j < 3; j++) {
        host_set_params(h, cv.bends[j]);
        wp[j] = tu_temp_path(".weights");
        assert_int_equal(host_save_weights(h, wp[j], err), 0);
    }
    plane_setup_req r = { PLANE_POINTS, cfg, NULL, NULL, 0, { wp[0], wp[1], wp[2] }, 0 };
    assert_int_equal(plane_setup_make(&p, &r, h, err), 0);
    assert_int_equal(p.nm, 3);
    assert_string_equal(p.marks[1].kind, "point");
    assert_non_null(strstr(wp[1], p.labels[1]));                                   /* labelled with its file name */
    assert_true(fabs(p.marks[0].x) < 1e-9 && fabs(p.marks[0].y) < 1e-9);
    assert_int_equal(p.ncurve, 0);
    plane_setup_free(&p);
    plane_setup_req rr = { PLANE_RANDOM, cfg, NULL, NULL, 0, { wp[0], NULL, NULL }, 7 };
    assert_int_equal(plane_setup_make(&p, &rr, h, err), 0);
    assert_int_equal(p.nm, 1);
    assert_string_equal(p.marks[0].kind, "center");
    assert_non_null(strstr(p.desc, "seed 7"));
    plane_setup_free(&p);
    /* refusals */
    q.bends = "0,0,2";
    assert_int_equal(plane_setup_make(&p, &q, h, err), -1);
    assert_non_null(strstr(err, "three different indices"));
    q.bends = "zero";
    assert_int_equal(plane_setup_make(&p, &q, h, err), -1);
    assert_non_null(strstr(err, "-bends takes three bend indices"));
    r.weights[2] = wp[0];                                                           /* w2 = w0: degenerate */
    assert_int_equal(plane_setup_make(&p, &r, h, err), -1);
    assert_non_null(strstr(err, wp[0]));
    curve small = { 0 };
    assert_int_equal(curve_init(&small, CURVE_BEZIER, 3, n - 1, 0), 0);
    char *spath = tu_temp_path(".curve");
    assert_int_equal(curve_save(&small, spath, err), 0);
    q.curve = spath; q.bends = NULL;
    assert_int_equal(plane_setup_make(&p, &q, h, err), -1);
    assert_non_null(strstr(err, "bends have"));
    assert_non_null(strstr(err, spath));
    for (int j = 0; j < 3; j++) { unlink(wp[j]); free(wp[j]); }
    unlink(cpath); unlink(spath); unlink(cfg);
    free(cpath); free(spath); free(cfg); free(w); free(back);
    curve_free(&cv); curve_free(&small);
    host_free(h);
}

/* ---- a grid run (plane_run.c) ---- */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

typedef struct { int calls, last, started, from_file; } run_seen;
static int seen_row(void *ctx, int k, const plane_row *r, char *err) {
    (void)r; (void)err;
    run_seen *c = ctx;
    c->calls++; c->last = k;
    return 0;
}
static void seen_start(void *ctx, const plane_run_info *i) {
    run_seen *c = ctx;
    c->started++; c->from_file = i->from_file;
}

/* Three networks' plane on the tiny net, a 3 x 3 grid with margins (9 points, 4 in the
 * first piece) and half the training images for BN. */
typedef struct { char *cfg; host_net *h; dataset tr, te; plane_setup ps; char *wp[3]; } run_fixture;
static void run_fixture_make(run_fixture *f) {
    f->h = load_net(&f->cfg);
    size_t n = host_nparams(f->h);
    float *w = malloc(n * sizeof(float));
    char err[PLANE_ERRLEN];
    for (int k = 0; k < 3; k++) {
        tu_fill_random(w, n, 0.3f, 60 + k);
        host_set_params(f->h, w);
        f->wp[k] = tu_temp_path(".weights");
        assert_int_equal(host_save_weights(f->h, f->wp[k], err), 0);
    }
    free(w);
    f->tr = synthetic(40, 3);
    f->te = synthetic(24, 4);
    plane_setup_req q = { PLANE_POINTS, f->cfg, NULL, NULL, 0, { f->wp[0], f->wp[1], f->wp[2] }, 0 };
    assert_int_equal(plane_setup_make(&f->ps, &q, f->h, err), 0);
}
static void run_fixture_free(run_fixture *f) {
    plane_setup_free(&f->ps);
    for (int k = 0; k < 3; k++) { unlink(f->wp[k]); free(f->wp[k]); }
    data_free(&f->tr); data_free(&f->te);
    host_free(f->h); unlink(f->cfg); free(f->cfg);
}

/* Interrupted after 4 points, then resumed: the CSV equals that of an uninterrupted run
 * byte for byte, the partial file is gone, the rows from the file come first. */
static void test_run_resume_equals_uninterrupted(void **st) {
    (void)st;
    run_fixture f;
    run_fixture_make(&f);
    char err[PLANE_ERRLEN], *full = tu_temp_path(".csv"), *part = tu_temp_path(".csv"), partial[512];
    snprintf(partial, sizeof partial, "%s.partial", part);
    run_seen seen = { 0, -1, 0, 0 };
    plane_job j = { &f.ps, { 3, -0.25, 1.25, -0.5, 1.5 }, 32, 20, 0, -1, full, NULL, 0, 0, seen_start, seen_row, &seen, NULL };
    plane_run_info a, b;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &a, err), 0);
    assert_true(a.complete && a.evaluated == 9 && a.from_file == 0 && seen.calls == 9 && seen.started == 1);
    assert_true(fabsf((float)a.decay - host_cfg_decay(f.h)) == 0);   /* no curve: the cfg's decay */
    j.csv = part; j.stop_after = 4;
    seen.calls = 0;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &b, err), 0);
    assert_true(!b.complete && b.evaluated == 4 && seen.calls == 4);
    assert_true(access(part, F_OK) != 0 && access(partial, F_OK) == 0);   /* no CSV yet */
    free(b.rows);
    j.resume = partial; j.stop_after = 0;
    seen.calls = 0;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &b, err), 0);
    assert_true(b.complete && b.evaluated == 5 && b.from_file == 4 && seen.from_file == 4 && seen.calls == 9);
    assert_int_equal(seen.last, 8);
    assert_true(access(partial, F_OK) != 0);
    size_t la = 0, lb = 0;
    char *ca = slurp(full, &la), *cb = slurp(part, &lb);
    assert_non_null(ca); assert_non_null(cb);
    assert_true(la > 100 && la == lb && memcmp(ca, cb, la) == 0);
    assert_true(memcmp(a.rows, b.rows, 9 * sizeof *a.rows) == 0);
    /* the summary: the extremes of the rows */
    double lo = a.rows[0].te_err, hi = lo;
    for (int k = 1; k < 9; k++) { lo = fmin(lo, a.rows[k].te_err); hi = fmax(hi, a.rows[k].te_err); }
    assert_true(a.range[4].min == lo && a.range[4].max == hi);
    free(b.rows);
    /* a resume with other settings (another grid) is refused, naming the file */
    snprintf(partial, sizeof partial, "%s.partial", part);
    j.stop_after = 2;
    j.resume = NULL;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &b, err), 0);
    free(b.rows);
    j.resume = partial; j.grid.g = 4; j.stop_after = 0;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &b, err), -1);
    assert_non_null(strstr(err, partial));
    assert_non_null(strstr(err, "it has grid=3, this run has grid=4"));
    assert_null(b.rows);
    unlink(partial); unlink(full); unlink(part);
    free(ca); free(cb); free(a.rows); free(full); free(part);
    run_fixture_free(&f);
}

/* Every grid value is the network's at that point: p = w0 + alpha dx u + beta dy v set,
 * BN recomputed on the same images, evaluated; the l2 term over the decayed weights. */
static void test_run_values_are_the_networks(void **st) {
    (void)st;
    run_fixture f;
    run_fixture_make(&f);
    char err[PLANE_ERRLEN];
    plane_job j = { &f.ps, { 3, -0.25, 1.25, -0.5, 1.5 }, 32, 20, 0, 1e-3, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL };
    plane_run_info a;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &a, err), 0);
    assert_true(a.decay == 1e-3 && a.bn_images == 32 && a.train_images == 20 && a.test_images == 24);
    size_t n = host_nparams(f.h);
    float *p = malloc(n * sizeof(float));
    unsigned char *mask = malloc(n);
    host_decay_mask(f.h, mask);
    dataset trl = f.tr;
    trl.n = 20;
    for (int k = 0; k < 9; k++) {
        double al = plane_grid_alpha(&j.grid, k / 3), be = plane_grid_beta(&j.grid, k % 3);
        plane_point(&f.ps.b, al * f.ps.b.dx, be * f.ps.b.dy, p);
        host_set_params(f.h, p);
        run_bn_update(f.h, &f.tr, 32, NULL);
        eval_result tr = run_eval(f.h, &trl, NULL, NULL), te = run_eval(f.h, &f.te, NULL, NULL);
        double l2 = 0;
        for (size_t i = 0; i < n; i++) if (mask[i]) l2 += (double)p[i] * p[i];
        const plane_row *r = &a.rows[k];
        assert_true(fabs(r->alpha - al) < 1e-12 && fabs(r->beta - be) < 1e-12);
        assert_true(fabs(r->tr_nll - tr.nll) <= 1e-6 && fabs(r->te_nll - te.nll) <= 1e-6);
        assert_true(fabs(r->te_err - (100 - te.acc)) <= 1e-6 && fabs(r->tr_err - (100 - tr.acc)) <= 1e-6);
        assert_true(fabs(r->tr_loss - (tr.nll + 0.5 * (double)1e-3f * l2)) <= 1e-6 * fmax(1, fabs(r->tr_loss)));
    }
    /* no train metrics: NaN, and none in the summary */
    free(a.rows);
    j.no_train = 1;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &a, err), 0);
    assert_true(isnan(a.rows[4].tr_loss) && isnan(a.range[0].min) && a.train_images == 0);
    free(a.rows); free(p); free(mask);
    run_fixture_free(&f);
}

/* An unwritable CSV: -1, an error naming the file, no file left (not even the partial one). */
static void test_run_unwritable_csv(void **st) {
    (void)st;
    run_fixture f;
    run_fixture_make(&f);
    char err[PLANE_ERRLEN];
    plane_job j = { &f.ps, { 2, 0, 1, 0, 1 }, 16, 16, 0, -1, "/nonexistent-dir/p.csv", NULL, 0, 0, NULL, NULL, NULL, NULL };
    plane_run_info a;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &a, err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/p.csv"));
    assert_null(a.rows);
    assert_true(access("/nonexistent-dir/p.csv", F_OK) != 0 && access("/nonexistent-dir/p.csv.partial", F_OK) != 0);
    /* a directory in place of the CSV: the CSV itself cannot be written at the end */
    char *dir = tu_temp_path(".csv");
    assert_int_equal(mkdir(dir, 0700), 0);
    j.csv = dir;
    assert_int_equal(plane_run(&j, f.h, &f.tr, &f.te, &a, err), -1);
    assert_non_null(strstr(err, dir));
    char partial[512];
    snprintf(partial, sizeof partial, "%s.partial", dir);
    unlink(partial);
    rmdir(dir); free(dir);
    run_fixture_free(&f);
}

/* The command line's conventions: margins to a grid (default 0.2 around the points' [0, 1],
 * 0 around random directions' [-1, 1], one side each), the training images a run reads, the
 * marks outside a grid. */
static void test_grid_of_margins(void **st) {
    (void)st;
    plane_grid g = plane_grid_of(PLANE_POINTS, 5, NAN, NAN, NAN, NAN, NAN);
    assert_true(g.g == 5 && g.a0 == -0.2 && g.a1 == 1.2 && g.b0 == -0.2 && g.b1 == 1.2);
    g = plane_grid_of(PLANE_RANDOM, 3, NAN, NAN, 0.5, NAN, NAN);
    assert_true(g.a0 == -1 && g.a1 == 1.5 && g.b0 == -1 && g.b1 == 1);
    g = plane_grid_of(PLANE_CURVE, 3, 0.1, 0.3, NAN, NAN, 2);
    assert_true(g.a0 == -0.3 && g.a1 == 1.1 && fabs(g.b0 + 0.1) < 1e-15 && g.b1 == 3);
    assert_int_equal(plane_train_images(0, 100, 0), 0);      /* BN on all */
    assert_int_equal(plane_train_images(50, 0, 0), 0);       /* train metrics on all */
    assert_int_equal(plane_train_images(50, 80, 0), 80);
    assert_int_equal(plane_train_images(90, 80, 0), 90);
    assert_int_equal(plane_train_images(50, 80, 1), 50);     /* no train metrics: BN's only */
    plane_setup p = { .b = { .dx = 2, .dy = 4 }, .nm = 2 };
    p.marks[0] = (plane_mark){ "point", 0, 0, 0 };
    p.marks[1] = (plane_mark){ "point", 1, 1, 6 };          /* alpha 0.5, beta 1.5 */
    plane_grid in = { 3, -0.2, 1.2, -0.2, 1.2 };
    double al, be;
    assert_int_equal(plane_mark_outside(&p, &in, 0, &al, &be), 0);
    assert_int_equal(plane_mark_outside(&p, &in, 1, &al, &be), 1);
    assert_true(al == 0.5 && be == 1.5);
    in.b1 = 1.5;
    assert_int_equal(plane_mark_outside(&p, &in, 1, &al, &be), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basis_orthonormal_and_bend_coordinates),
        cmocka_unit_test(test_degenerate_planes_refused),
        cmocka_unit_test(test_random_directions_filter_normalised),
        cmocka_unit_test(test_grid_matches_direct_eval_and_resumes),
        cmocka_unit_test(test_partial_file),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_setup),
        cmocka_unit_test(test_run_resume_equals_uninterrupted),
        cmocka_unit_test(test_run_values_are_the_networks),
        cmocka_unit_test(test_run_unwritable_csv),
        cmocka_unit_test(test_grid_of_margins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
