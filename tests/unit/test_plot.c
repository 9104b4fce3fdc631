/* test_plot.c: the plot module draws what its specs say, checked by the pixels.
 *
 * The heat map: known fields (a saddle, a ridge, a checkerboard, random 5x5 and 21x21
 * grids, values above the levels and non-finite ones) are rendered, and at every sampled
 * pixel of the plot area whose neighbourhood lies inside one band (so away from band edges
 * and the contour lines on them) the colour must be that band's: the band of the value
 * there, bilinearly interpolated between the four grid values around it by this file's own
 * code, with the levels and colours of the colour rules (plot_heatmap_levels, jet_r, the log
 * norm, alpha over white). PLplot's filled contours (plshades, the old renderer) fail this:
 * where a band polygon left a hole, the lowest band showed through.
 *
 * Line plots: series land where the panel's area says, in their colours; a log axis spaces
 * decades evenly; stacked panels share their x axis. Files: PNG, SVG and PDF by the name,
 * written atomically; bad specs and paths come back as one-line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

#include "plot.h"

/* Static, so it cannot clash with plugins/data's own static copy; stb_image then declares
 * one static function it never defines, which -Wunused-function reports at the end of the
 * file: that warning stays off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#define GREY 0xd0d0d0u

static plot_color pixel(const uint8_t *px, int w, int x, int y) {
    const uint8_t *p = px + ((size_t)y * w + x) * 3;
    return (plot_color)p[0] << 16 | (plot_color)p[1] << 8 | p[2];
}

/* Largest per-channel difference of two colours. */
static int cdist(plot_color a, plot_color b) {
    int d = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        int x = abs((int)((a >> sh) & 0xff) - (int)((b >> sh) & 0xff));
        if (x > d) d = x;
    }
    return d;
}

/* The closest colour to want within r pixels of (x, y), as a distance. */
static int near(const uint8_t *px, int w, int h, double x, double y, int r, plot_color want) {
    int best = 256;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            int xx = (int)x + dx, yy = (int)y + dy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            int d = cdist(pixel(px, w, xx, yy), want);
            if (d < best) best = d;
        }
    return best;
}

/* Data point to pixel, by the area the drawing reported. */
static void to_px(const plot_area *a, double x, double y, double *px, double *py) {
    *px = a->left + (x - a->xmin) / (a->xmax - a->xmin) * (a->right - a->left);
    *py = a->bottom - (y - a->ymin) / (a->ymax - a->ymin) * (a->bottom - a->top);
}

/* ---- colour rules ---------------------------------------------------------------------- */

static void test_colour_rules(void **state) {
    (void)state;
    double v[6] = {1, 2, 3, 50, NAN, 7}, lev[9];
    assert_int_equal(plot_heatmap_levels(v, 6, 5.0, -1.0, 7, lev), 0);
    assert_true(lev[0] == 1.0 && lev[7] == 5.0 && lev[8] == 1e10);
    double g = (log(4.0) + 1.0) / 7;
    for (int k = 1; k < 7; k++) assert_true(fabs(lev[k] - (1.0 + exp(-1.0 + g * k))) < 1e-12);
    for (int k = 1; k < 9; k++) assert_true(lev[k] >= lev[k - 1]);
    double c[4] = {2, 2, 2, 2}; /* flat: still ordered */
    assert_int_equal(plot_heatmap_levels(c, 4, INFINITY, -5, 7, lev), 0);
    for (int k = 1; k < 9; k++) assert_true(lev[k] >= lev[k - 1]);
    double nn[2] = {NAN, INFINITY};
    assert_int_equal(plot_heatmap_levels(nn, 2, INFINITY, -5, 7, lev), -1);

    assert_int_equal(plot_jet_r(0), 0x800000); /* dark red */
    assert_int_equal(plot_jet_r(1), 0x000080); /* dark blue */
    assert_int_equal(plot_blend(0x000000, 0xffffff, 0.5), 0x808080);
    assert_int_equal(plot_palette(0), 0x1f77b4);
    assert_int_equal(plot_palette(13), plot_palette(3));
    assert_true(plot_log_norm(1.0, 1.0 - 1e-8, 5.0, -1.0) == 0.0);
    assert_true(fabs(plot_log_norm(5.0, 1.0, 5.0 + 1e-300, -1.0) - 0.9) < 1e-9);
    plot_heatmap_opts o = plot_heatmap_defaults();
    assert_true(isinf(o.vmax) && o.log_alpha == -5 && o.nlevels == 7 && o.alpha == 0.55);
}

/* ---- the heat map, pixel by pixel ------------------------------------------------------ */

enum { MAXG = 32, R = 4 /* neighbourhood radius: pixels this close to a band edge are skipped */ };

typedef struct {
    const char *name;
    int nx, ny;
    double xs[MAXG], ys[MAXG], v[MAXG * MAXG];
    plot_heatmap_opts o;
} field;

/* The value at (x, y): bilinear in the grid cell holding it, NaN if a corner is not finite. */
static double interp(const field *f, double x, double y) {
    int i = 0, j = 0;
    while (i < f->nx - 2 && x > f->xs[i + 1]) i++;
    while (j < f->ny - 2 && y > f->ys[j + 1]) j++;
    double u = (x - f->xs[i]) / (f->xs[i + 1] - f->xs[i]), w = (y - f->ys[j]) / (f->ys[j + 1] - f->ys[j]);
    double a = f->v[i * f->ny + j], b = f->v[(i + 1) * f->ny + j];
    double c = f->v[i * f->ny + j + 1], d = f->v[(i + 1) * f->ny + j + 1];
    if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(d)) return NAN;
    return (1 - u) * (1 - w) * a + u * (1 - w) * b + (1 - u) * w * c + u * w * d;
}

/* Band 0 up to level_1, k for (level_k, level_{k+1}], N beyond. */
static int band(const double *lev, int N, double z) {
    for (int k = 0; k < N; k++)
        if (z <= lev[k + 1]) return k;
    return N;
}

typedef struct {
    long sampled, checked, wrong, grey_checked, grey_wrong;
    int bands_seen;
} field_result;

/* Render f and compare every second pixel of the plot area, where its (2R+1)^2
 * neighbourhood has one band, with that band's colour. */
static field_result check_field(const field *f) {
    int N = f->o.nlevels;
    double lev[PLOT_MAX_LEVELS + 2];
    assert_int_equal(plot_heatmap_levels(f->v, (size_t)f->nx * f->ny, f->o.vmax, f->o.log_alpha, N, lev), 0);
    plot_color fill[PLOT_MAX_LEVELS + 1];
    for (int k = 0; k <= N; k++)
        fill[k] = plot_blend(plot_jet_r(plot_log_norm(0.5 * (lev[k] + lev[k + 1]), lev[0] - 1e-8, lev[N] + 1e-8,
                                                      f->o.log_alpha)), PLOT_WHITE, f->o.alpha);
    plot_surface s = {.width = 640, .height = 520, .title = f->name, .xlabel = "x", .ylabel = "y",
                      .xs = f->xs, .ys = f->ys, .v = f->v, .nx = (size_t)f->nx, .ny = (size_t)f->ny, .heat = f->o};
    plot_area a;
    char err[PLOT_ERR_LEN] = "";
    uint8_t *px = plot_surface_render(&s, &a, err);
    if (!px) fprintf(stderr, "%s\n", err);
    assert_non_null(px);
    assert_true(a.left > 20 && a.right < s.width - 60 && a.top > 10 && a.bottom < s.height - 20);
    assert_true(a.xmin == f->xs[0] && a.xmax == f->xs[f->nx - 1] && a.ymin == f->ys[0] && a.ymax == f->ys[f->ny - 1]);

    /* Each second pixel of the area, with the box of (2R+1)^2 pixels around it in data
     * units. The interpolant is linear along x and along y inside a grid cell, so over the
     * box its least and greatest values are among the box's corners, the grid nodes inside
     * it and the points where grid lines cross its edges: the lattice of the box's edges and
     * the grid lines inside. The box is inside one band when both ends are; it is a grey box
     * when every lattice value is NaN (a cell with a non-finite corner). */
    int W = s.width, H = s.height;
    double sx = (a.xmax - a.xmin) / (a.right - a.left), sy = (a.ymax - a.ymin) / (a.bottom - a.top);
    field_result r = {0};
    unsigned long seen = 0;
    for (int y = (int)a.top + R + 1; y + R + 1 < a.bottom; y += 2)
        for (int x = (int)a.left + R + 1; x + R + 1 < a.right; x += 2) {
            r.sampled++;
            double bx[MAXG + 2], by[MAXG + 2];
            int nbx = 0, nby = 0;
            bx[nbx++] = a.xmin + (x - R - a.left) * sx;
            bx[nbx++] = a.xmin + (x + R + 1 - a.left) * sx;
            by[nby++] = a.ymax - (y + R + 1 - a.top) * sy;
            by[nby++] = a.ymax - (y - R - a.top) * sy;
            for (int i = 0; i < f->nx; i++)
                if (f->xs[i] > bx[0] && f->xs[i] < bx[1]) bx[nbx++] = f->xs[i];
            for (int j = 0; j < f->ny; j++)
                if (f->ys[j] > by[0] && f->ys[j] < by[1]) by[nby++] = f->ys[j];
            double lo = INFINITY, hi = -INFINITY;
            int nans = 0;
            for (int i = 0; i < nbx; i++)
                for (int j = 0; j < nby; j++) {
                    double z = interp(f, bx[i], by[j]);
                    nans += isnan(z);
                    lo = fmin(lo, z), hi = fmax(hi, z);
                }
            plot_color c = pixel(px, W, x, y);
            if (nans == nbx * nby) {
                r.grey_checked++;
                r.grey_wrong += cdist(c, GREY) > 2;
                continue;
            }
            int b = band(lev, N, lo);
            if (nans || band(lev, N, hi) != b) continue;
            r.checked++;
            seen |= 1ul << b;
            if (cdist(c, fill[b]) > 2) {
                if (r.wrong < 3)
                    fprintf(stderr, "%s: pixel (%d, %d) is %06x, band %d is %06x\n", f->name, x, y, c, b, fill[b]);
                r.wrong++;
            }
        }
    for (; seen; seen &= seen - 1) r.bands_seen++;
    fprintf(stderr, "%-28s %6ld of %6ld sampled pixels checked, %ld wrong; %d bands seen; grey %ld, %ld wrong\n",
            f->name, r.checked, r.sampled, r.wrong, r.bands_seen, r.grey_checked, r.grey_wrong);
    free(px);
    (void)H;
    return r;
}

static double urand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (double)((*s >> 8) & 0xffffff) / 16777216.0;
}

static void grid(field *f, int nx, int ny, double x0, double x1, double y0, double y1) {
    f->nx = nx, f->ny = ny;
    for (int i = 0; i < nx; i++) f->xs[i] = x0 + (x1 - x0) * i / (nx - 1);
    for (int j = 0; j < ny; j++) f->ys[j] = y0 + (y1 - y0) * j / (ny - 1);
    f->o = plot_heatmap_defaults();
    f->o.label = "value";
}

static void test_heatmap_bands(void **state) {
    (void)state;
    static field fs[7];
    int n = 0;
    unsigned seed = 12345;
    field *f;

    f = &fs[n++], f->name = "saddle x^2 - y^2 (9x9)"; /* negative values: levels above the minimum */
    grid(f, 9, 9, -1, 1, -1, 1);
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) f->v[i * 9 + j] = f->xs[i] * f->xs[i] - f->ys[j] * f->ys[j];

    f = &fs[n++], f->name = "ridge (11x7)"; /* a high diagonal ridge between two low sides */
    grid(f, 11, 7, 0, 10, 0, 3);
    f->o.log_alpha = -2;
    for (int i = 0; i < 11; i++)
        for (int j = 0; j < 7; j++) {
            double d = f->xs[i] - 3 - f->ys[j];
            f->v[i * 7 + j] = 0.2 + 3 * exp(-d * d / 2);
        }

    f = &fs[n++], f->name = "checkerboard (6x6)"; /* a saddle in every cell */
    grid(f, 6, 6, 0, 5, 0, 5);
    f->o.log_alpha = -3;
    for (int i = 0; i < 36; i++) f->v[i] = (i / 6 + i % 6) % 2 ? 1.0 : 0.0;

    f = &fs[n++], f->name = "random 5x5, test-error rule"; /* the case: vmax 40 */
    grid(f, 5, 5, -6.5, 39.2, -5.5, 33.3);
    f->o.vmax = 40, f->o.log_alpha = -1;
    for (int i = 0; i < 25; i++) f->v[i] = 12 + 76 * urand(&seed);

    f = &fs[n++], f->name = "random 5x5, another draw";
    grid(f, 5, 5, 0, 1, 0, 1);
    f->o.vmax = 40, f->o.log_alpha = -1;
    for (int i = 0; i < 25; i++) f->v[i] = 20 + 70 * urand(&seed);

    f = &fs[n++], f->name = "random 21x21, uneven x"; /* train-loss rule; some values above vmax */
    grid(f, 21, 21, -1, 1, -1, 1);
    f->o.vmax = 5, f->o.log_alpha = -5;
    for (int i = 0; i < 21; i++) f->xs[i] = -1 + 2 * pow(i / 20.0, 1.5);
    for (int i = 0; i < 21 * 21; i++) f->v[i] = 0.2 + (i % 7 == 3 ? 8.0 : 2.0) * urand(&seed);

    /* a bowl whose corner is far above vmax (the catch-all band), with a spike above the
     * catch-all level 1e10, a NaN and a -inf (grey cells) */
    f = &fs[n++], f->name = "outside the levels (13x13)";
    grid(f, 13, 13, 0, 12, 0, 12);
    f->o.vmax = 3;
    for (int i = 0; i < 13; i++)
        for (int j = 0; j < 13; j++) {
            double dx = i - 4.0, dy = j - 5.0;
            f->v[i * 13 + j] = 0.05 + 0.08 * (dx * dx + dy * dy);
            if (i >= 9 && j >= 9) f->v[i * 13 + j] = 1e3;
        }
    f->v[11 * 13 + 11] = 1e12;
    f->v[2 * 13 + 10] = NAN;
    f->v[9 * 13 + 2] = -INFINITY;

    for (int k = 0; k < n; k++) {
        field_result r = check_field(&fs[k]);
        assert_int_equal(r.wrong, 0);
        /* not vacuous: most of the area is checked, and several bands are in it */
        assert_true(r.checked > r.sampled / 3);
        assert_true(r.bands_seen >= 3);
        if (k == n - 1) {
            assert_true(r.grey_checked > 200);
            assert_int_equal(r.grey_wrong, 0);
        }
    }
}

/* Overlays: the curve and the segment in black, the markers black at their points, and a
 * label beside a point on the right edge kept inside the frame (it used to be cut there:
 * "e3.weig"): the same label has as much ink beside the right edge as in the middle. */
static long ink_right_of(const uint8_t *a, const uint8_t *b, int w, int h, double x0, long *outside) {
    long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = (int)x0; x < w; x++)
            if (cdist(pixel(a, w, x, y), pixel(b, w, x, y)) > 60) n++;
    if (outside) *outside = n;
    return n;
}

static long ink(const uint8_t *a, const uint8_t *b, int w, int h) { return ink_right_of(a, b, w, h, 0, NULL); }

static void test_surface_overlays(void **state) {
    (void)state;
    enum { G = 9 };
    double xs[G], ys[G], v[G * G];
    for (int i = 0; i < G; i++) xs[i] = ys[i] = i / (G - 1.0);
    for (int i = 0; i < G * G; i++) v[i] = 1.0 + (i / G - 4) * (i / G - 4) + (i % G) * 0.3;
    double cx[30], cy[30];
    for (int i = 0; i < 30; i++) {
        double t = i / 29.0;
        cx[i] = 0.1 + 0.8 * t, cy[i] = 0.2 + 1.2 * t * (1 - t);
    }
    double sx[2] = {0.1, 0.9}, sy[2] = {0.2, 0.2};
    plot_path paths[2] = {{cx, cy, 30, PLOT_SOLID}, {sx, sy, 2, PLOT_DASHED}};
    plot_point pts[3] = {{0.1, 0.2, PLOT_CIRCLE, NULL}, {0.5, 0.8, PLOT_DIAMOND, NULL}, {1.0, 0.5, PLOT_CIRCLE, NULL}};
    plot_surface s = {.width = 700, .height = 560, .xs = xs, .ys = ys, .v = v, .nx = G, .ny = G,
                      .heat = plot_heatmap_defaults(), .paths = paths, .npaths = 2, .points = pts, .npoints = 3};
    plot_area a, b;
    char err[PLOT_ERR_LEN];
    uint8_t *bare = plot_surface_render(&s, &a, err);
    assert_non_null(bare);
    double px, py;
    for (int k = 0; k < 3; k++) {
        to_px(&a, pts[k].x, pts[k].y, &px, &py);
        assert_true(near(bare, s.width, s.height, px, py, 1, PLOT_BLACK) < 40);
        assert_true(near(bare, s.width, s.height, px - 16, py, 1, PLOT_BLACK) > 100); /* a marker, not a blot */
    }
    to_px(&a, cx[10], cy[10], &px, &py);
    assert_true(near(bare, s.width, s.height, px, py, 1, PLOT_BLACK) < 40);
    to_px(&a, 0.35, 0.2, &px, &py); /* the dashed segment: black on and off it */
    int on = 0;
    for (int d = 0; d < 40; d++) on += near(bare, s.width, s.height, px + d, py, 0, PLOT_BLACK) < 60;
    assert_true(on > 10 && on < 38);

    /* each marker's ink is centred on its point (PLplot centres a glyph's text box) */
    s.npaths = 0;
    uint8_t *marks = plot_surface_render(&s, &a, err);
    assert_non_null(marks);
    for (int k = 0; k < 3; k++) {
        to_px(&a, pts[k].x, pts[k].y, &px, &py);
        double sx = 0, sy = 0, n = 0;
        for (int y = (int)py - 14; y <= (int)py + 14; y++)
            for (int x = (int)px - 14; x <= (int)px + 14; x++)
                if (x < a.right - 1 && cdist(pixel(marks, s.width, x, y), PLOT_BLACK) < 100) sx += x + 0.5, sy += y + 0.5, n++;
        assert_true(n > 60);
        if (k < 2) assert_true(fabs(sx / n - px) < 1.5 && fabs(sy / n - py) < 1.5);
    }
    free(marks);
    s.npaths = 2;

    /* a label in the middle, then the same on the point at the right edge */
    pts[1].label = "e3.weights";
    uint8_t *mid = plot_surface_render(&s, &b, err);
    assert_non_null(mid);
    long want = ink(mid, bare, s.width, s.height);
    pts[1].label = NULL, pts[2].label = "e3.weights";
    uint8_t *edge = plot_surface_render(&s, &b, err);
    assert_non_null(edge);
    long outside, got = ink(edge, bare, s.width, s.height);
    ink_right_of(edge, bare, s.width, s.height, a.right + 1, &outside);
    fprintf(stderr, "label ink: %ld in the middle, %ld at the right edge, %ld of it right of the frame\n", want,
            got, outside);
    assert_true(want > 150);
    assert_true(labs(got - want) < want / 10);
    assert_int_equal(outside, 0);
    free(bare), free(mid), free(edge);
}

/* ---- line plots ---------------------------------------------------------------------- */

static void test_line_plot(void **state) {
    (void)state;
    enum { N = 41 };
    double x[N], y1[N], y2[N], l1[N], l10[N], l100[N];
    for (int i = 0; i < N; i++) {
        x[i] = i / (double)(N - 1);
        y1[i] = 3.0, y2[i] = 1.0 + 4.0 * x[i];
        l1[i] = 1, l10[i] = 10, l100[i] = 100;
    }
    y2[20] = NAN; /* a hole at x = 0.5 */
    plot_series left[2] = {{"flat", x, y1, N, 0x2040c0, PLOT_SOLID, PLOT_NO_MARKER},
                           {"ramp", x, y2, N, plot_palette(1), PLOT_DASHED, PLOT_SQUARE}};
    plot_series right[3] = {{NULL, x, l1, N, 0xd62728, PLOT_SOLID, PLOT_NO_MARKER},
                            {NULL, x, l10, N, 0x2ca02c, PLOT_SOLID, PLOT_NO_MARKER},
                            {NULL, x, l100, N, 0x9467bd, PLOT_SOLID, PLOT_NO_MARKER}};
    plot_panel p[2] = {{.title = "linear", .xlabel = "t", .ylabel = "value", .series = left, .nseries = 2},
                       {.title = "log", .xlabel = "t", .series = right, .nseries = 3, .logy = 1, .ymin = 0.5, .ymax = 200}};
    plot_lines f = {.width = 1000, .height = 420, .cols = 2, .title = "two panels", .panels = p};
    plot_area a[2];
    char err[PLOT_ERR_LEN];
    uint8_t *px = plot_lines_render(&f, a, err);
    assert_non_null(px);
    int W = f.width, H = f.height;
    assert_int_equal(pixel(px, W, 1, 1), PLOT_WHITE);
    assert_true(a[0].right < a[1].left && a[0].top > 20);
    double qx, qy;
    to_px(&a[0], 0.2, 3.0, &qx, &qy);
    assert_true(near(px, W, H, qx, qy, 1, 0x2040c0) < 40);
    assert_true(near(px, W, H, qx, qy - 10, 2, 0x2040c0) > 100); /* a thin line */
    /* the ramp's hole: nothing of its colour around (0.5, 3.0) off the flat line */
    to_px(&a[0], 0.5, 3.0, &qx, &qy);
    assert_true(near(px, W, H, qx, qy - 6, 2, plot_palette(1)) > 100);
    assert_true(near(px, W, H, qx, qy + 6, 2, plot_palette(1)) > 100);
    /* its marker at x = 0.1 is drawn, and its line */
    to_px(&a[0], 0.1, 1.4, &qx, &qy);
    assert_true(near(px, W, H, qx, qy, 1, plot_palette(1)) < 40);
    /* the automatic y range leaves room for the legend above the data */
    assert_true(a[0].ymax > 5.2 && a[0].ymin < 1.0);

    /* the log panel: its y range in log10, and decades evenly spaced in the picture */
    assert_true(fabs(a[1].ymin - log10(0.5)) < 1e-12 && fabs(a[1].ymax - log10(200)) < 1e-12);
    int col = (int)(0.5 * (a[1].left + a[1].right)), row[3] = {-1, -1, -1};
    plot_color c3[3] = {0xd62728, 0x2ca02c, 0x9467bd};
    for (int k = 0; k < 3; k++) {
        int best = 256;
        for (int y = (int)a[1].top; y < (int)a[1].bottom; y++) {
            int d = cdist(pixel(px, W, col, y), c3[k]);
            if (d < best) best = d, row[k] = y;
        }
        assert_true(best < 30);
    }
    assert_true(row[0] > row[1] && row[1] > row[2]);
    assert_true(abs((row[0] - row[1]) - (row[1] - row[2])) <= 2);
    for (int k = 0; k < 3; k++) { /* y = 1, 10, 100 where the area (log10 units) says */
        to_px(&a[1], 0.5, (double)k, &qx, &qy);
        assert_true(fabs(qy - row[k]) < 2.5);
    }
    free(px);
}

/* Error bars: a point at (1, 5) with half-width 2 draws its colour from y = 3 to 7 at x = 1
 * and nothing of it at y = 8 or beside the bar; the automatic range holds the bars, and the
 * x range leaves room at the sides for points drawn without lines. */
static void test_error_bars(void **state) {
    (void)state;
    double x[2] = { 1, 2 }, y[2] = { 5, 6 }, e[2] = { 2, NAN };
    plot_series s = { "m", x, y, 2, 0x2040c0, PLOT_NO_LINE, PLOT_CIRCLE };
    const double *pe[1] = { e };
    plot_panel p = { .xlabel = "x", .ylabel = "y", .series = &s, .nseries = 1, .yerr = pe };
    plot_lines f = { .width = 600, .height = 480, .panels = &p };
    plot_area a;
    char err[PLOT_ERR_LEN];
    uint8_t *px = plot_lines_render(&f, &a, err);
    assert_non_null(px);
    int W = f.width, H = f.height;
    assert_true(a.ymin < 3 && a.ymax > 7 && a.xmin < 0.95 && a.xmax > 2.05);
    double qx, qy;
    for (double v = 3.1; v <= 6.9; v += 0.3) {   /* the bar, away from the marker */
        if (fabs(v - 5) < 0.6) continue;
        to_px(&a, 1, v, &qx, &qy);
        assert_true(near(px, W, H, qx, qy, 1, 0x2040c0) < 40);
    }
    to_px(&a, 1, 8, &qx, &qy);
    assert_true(near(px, W, H, qx, qy, 2, 0x2040c0) > 100);
    to_px(&a, 1.25, 4, &qx, &qy);
    assert_true(near(px, W, H, qx, qy, 2, 0x2040c0) > 100);
    to_px(&a, 2, 7, &qx, &qy);   /* the NaN half-width: no bar above the second point */
    assert_true(near(px, W, H, qx, qy, 2, 0x2040c0) > 100);
    free(px);
}

/* A surface's legend: with keys, the top right corner of the plot area holds the legend's
 * white box and its black key lines; without, that corner is the heat map's colours only. */
static void test_surface_legend(void **state) {
    (void)state;
    enum { G = 5 };
    double xs[G], ys[G], v[G * G];
    for (int i = 0; i < G; i++) xs[i] = ys[i] = i;
    for (int i = 0; i < G * G; i++) v[i] = 1.0 + i;
    plot_series keys[2] = { { "end points", NULL, NULL, 0, PLOT_BLACK, PLOT_NO_LINE, PLOT_CIRCLE },
                            { "curve", NULL, NULL, 0, PLOT_BLACK, PLOT_SOLID, PLOT_NO_MARKER } };
    plot_surface s = { .width = 700, .height = 560, .xs = xs, .ys = ys, .v = v, .nx = G, .ny = G,
                       .heat = plot_heatmap_defaults() };
    plot_area a;
    char err[PLOT_ERR_LEN];
    int count[2][2];   /* [without, with] x [white, black] in the corner */
    for (int k = 0; k < 2; k++) {
        s.keys = k ? keys : NULL, s.nkeys = k ? 2 : 0;
        uint8_t *px = plot_surface_render(&s, &a, err);
        assert_non_null(px);
        count[k][0] = count[k][1] = 0;
        int x0 = (int)(a.left + 0.6 * (a.right - a.left)), y1 = (int)(a.top + 0.25 * (a.bottom - a.top));
        for (int y = (int)a.top + 3; y < y1; y++)
            for (int x = x0; x < (int)a.right - 3; x++) {
                plot_color c = pixel(px, s.width, x, y);
                count[k][0] += cdist(c, PLOT_WHITE) < 10;
                count[k][1] += cdist(c, PLOT_BLACK) < 60;
            }
        free(px);
    }
    assert_true(count[0][0] < 50 && count[0][1] < 50);
    assert_true(count[1][0] > 2000 && count[1][1] > 100);
    s.nkeys = PLOT_MAX_SERIES + 1;
    assert_null(plot_surface_render(&s, &a, err));
    assert_non_null(strstr(err, "legend keys"));
}

/* -aspect equal: one data unit as many pixels on both axes; at plot_surface_fit_height the
 * plot area is as wide as without equal aspect at that height (no blank band, nothing narrowed). */
static void test_surface_equal_aspect(void **state) {
    (void)state;
    enum { G = 5 };
    double xs[G], ys[G], v[G * G];
    for (int i = 0; i < G; i++) xs[i] = 10.0 * i, ys[i] = 2.0 * i;   /* x spans 40, y 8 */
    for (int i = 0; i < G * G; i++) v[i] = 1.0 + i;
    plot_surface s = { .width = 900, .height = 720, .xs = xs, .ys = ys, .v = v, .nx = G, .ny = G,
                       .heat = plot_heatmap_defaults(), .title = "t", .xlabel = "x", .ylabel = "y" };
    plot_area free_a, eq, fit;
    char err[PLOT_ERR_LEN];
    uint8_t *px = plot_surface_render(&s, &free_a, err);
    assert_non_null(px); free(px);
    s.equal_aspect = 1;
    assert_non_null(px = plot_surface_render(&s, &eq, err)); free(px);
    double ux = (eq.right - eq.left) / 40, uy = (eq.bottom - eq.top) / 8;
    assert_true(fabs(ux - uy) < 1.0 / 8);   /* within a pixel over the axis */
    assert_true(fabs((eq.right - eq.left) - (free_a.right - free_a.left)) < 2);   /* y was the long side here */
    s.height = plot_surface_fit_height(&s);
    assert_true(s.height < 720 && s.height >= 240);
    assert_non_null(px = plot_surface_render(&s, &fit, err)); free(px);
    assert_true(fabs((fit.right - fit.left) / 40 - (fit.bottom - fit.top) / 8) < 1.0 / 8);
    s.equal_aspect = 0;   /* the same height without equal aspect: the same width, so none was lost */
    assert_non_null(px = plot_surface_render(&s, &free_a, err)); free(px);
    assert_true(fabs((fit.right - fit.left) - (free_a.right - free_a.left)) < 2);
}

/* Three panels stacked (the FGE figure): their plot areas line up, in order. */
static void test_stacked_panels(void **state) {
    (void)state;
    enum { N = 60 };
    double e[N], lr[N], er[N];
    for (int i = 0; i < N; i++) {
        e[i] = i / 6.0;
        lr[i] = 0.05 * (1 + cos(e[i])) + 1e-4;
        er[i] = 10 + 3 * exp(-e[i] / 3);
    }
    plot_series s0 = {"lr", e, lr, N, plot_palette(0), PLOT_SOLID, PLOT_NO_MARKER};
    double se[6], ser[6]; /* snapshots: every 10th point */
    for (int i = 0; i < 6; i++) se[i] = e[10 * i], ser[i] = er[10 * i];
    plot_series s1 = {"snapshots", se, ser, 6, 0xd62728, PLOT_NO_LINE, PLOT_DIAMOND};
    plot_panel p[3] = {{.ylabel = "lr", .series = &s0, .nseries = 1, .logy = 1},
                       {.ylabel = "test error (%)", .series = &s1, .nseries = 1, .xmin = 0, .xmax = 12},
                       {.xlabel = "epoch", .ylabel = "none"}};
    plot_lines f = {.width = 700, .height = 900, .rows = 3, .cols = 1, .panels = p};
    plot_area a[3];
    char err[PLOT_ERR_LEN];
    uint8_t *px = plot_lines_render(&f, a, err);
    assert_non_null(px);
    for (int k = 1; k < 3; k++) {
        assert_true(fabs(a[k].left - a[0].left) < 1e-9 && fabs(a[k].right - a[0].right) < 1e-9);
        assert_true(a[k].top > a[k - 1].bottom);
    }
    assert_true(a[1].xmin == 0 && a[1].xmax == 12);
    double qx, qy;
    to_px(&a[1], se[3], ser[3], &qx, &qy);
    assert_true(near(px, f.width, f.height, qx, qy, 2, 0xd62728) < 40);
    to_px(&a[1], 0.5 * (se[3] + se[4]), 0.5 * (ser[3] + ser[4]), &qx, &qy); /* markers only: no line */
    assert_true(near(px, f.width, f.height, qx, qy, 0, 0xd62728) > 60);
    free(px);
}

/* ---- files and errors ------------------------------------------------------------------ */

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
    closedir(d);
    return entries;
}

/* PNG, SVG and PDF by the ending, the PNG of the figure's size; over an existing file, with
 * no temp file left. */
static void test_files(void **state) {
    (void)state;
    double x[3] = {0, 1, 2}, y[3] = {1, 3, 2};
    plot_series s = {"a # b", x, y, 3, plot_palette(0), PLOT_DASHED, PLOT_CIRCLE};
    plot_panel p = {.title = "files", .xlabel = "x", .ylabel = "y", .series = &s, .nseries = 1};
    plot_lines f = {.width = 500, .height = 300, .panels = &p};
    char dir[] = "/tmp/dkmc_plot_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], err[PLOT_ERR_LEN];
    const char *ends[4] = {".png", ".svg", ".pdf", ".PDF"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/out%s", dir, ends[k]);
        FILE *o = fopen(path, "w");
        assert_non_null(o);
        fputs("old", o);
        fclose(o);
        int rc = plot_lines_save(&f, path, err);
        if (rc) fprintf(stderr, "%s\n", err);
        assert_int_equal(rc, 0);
        FILE *in = fopen(path, "rb");
        assert_non_null(in);
        char head[8] = {0};
        assert_true(fread(head, 1, 5, in) == 5);
        fclose(in);
        if (k == 0) {
            int w = 0, h = 0, comp = 0;
            unsigned char *im = stbi_load(path, &w, &h, &comp, 3);
            assert_non_null(im);
            assert_true(w == 500 && h == 300);
            stbi_image_free(im);
        } else if (k == 1) {
            assert_true(!strncmp(head, "<?xml", 5) || !strncmp(head, "<svg", 4));
        } else {
            assert_memory_equal(head, "%PDF", 4);
        }
        assert_int_equal(count_entries(dir), 1);
        unlink(path);
    }
    rmdir(dir);
}

/* Unknown endings, unwritable places and bad specs fail with one line naming the file,
 * leave nothing behind and do not end the process (PLplot would exit()). */
static void test_errors(void **state) {
    (void)state;
    double xs[3] = {0, 1, 2}, ys[3] = {0, 1, 2}, v[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, bad[3] = {0, 0, 1};
    plot_surface s = {.width = 300, .height = 200, .xs = xs, .ys = ys, .v = v, .nx = 3, .ny = 3,
                      .heat = plot_heatmap_defaults()};
    char dir[] = "/tmp/dkmc_plot_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], err[PLOT_ERR_LEN];
    struct stat st;

    snprintf(path, sizeof path, "%s/out.xyz", dir);
    assert_int_equal(plot_surface_save(&s, path, err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "unknown picture format '.xyz' (use .png, .svg or .pdf)"));
    snprintf(path, sizeof path, "%s/noext", dir);
    assert_int_equal(plot_surface_save(&s, path, err), -1);
    assert_non_null(strstr(err, "unknown picture format"));
    assert_int_equal(plot_surface_save(&s, "/nonexistent/x.png", err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.png"));
    assert_int_equal(stat("/nonexistent/x.png", &st), -1);
    snprintf(path, sizeof path, "%s/missing/out.pdf", dir);
    assert_int_equal(plot_surface_save(&s, path, err), -1);
    assert_non_null(strstr(err, path));

    snprintf(path, sizeof path, "%s/out.png", dir);
    s.ys = bad;
    assert_int_equal(plot_surface_save(&s, path, err), -1);
    assert_non_null(strstr(err, "y coordinates must be finite and increasing"));
    assert_non_null(strstr(err, path));
    s.ys = ys, s.nx = 1;
    assert_null(plot_surface_render(&s, NULL, err));
    assert_non_null(strstr(err, "at least 2x2"));
    s.nx = 3, s.heat.nlevels = 0;
    assert_null(plot_surface_render(&s, NULL, err));
    assert_non_null(strstr(err, "levels"));
    s.heat.nlevels = 7;
    for (int i = 0; i < 9; i++) v[i] = NAN;
    assert_null(plot_surface_render(&s, NULL, err));
    assert_non_null(strstr(err, "no finite value"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(count_entries(dir), 0);

    plot_panel p[9] = {{0}};
    plot_lines f = {.width = 10, .height = 100, .panels = p};
    assert_null(plot_lines_render(&f, NULL, err));
    assert_non_null(strstr(err, "figure size"));
    f.width = 100, f.rows = 3, f.cols = 3;
    assert_null(plot_lines_render(&f, NULL, err));
    assert_non_null(strstr(err, "panels"));
    f.rows = 1, f.cols = 1, p[0].nseries = 1;
    assert_null(plot_lines_render(&f, NULL, err));
    assert_non_null(strstr(err, "series"));
    assert_int_equal(plot_lines_save(NULL, path, err), -1);
    assert_int_equal(count_entries(dir), 0);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colour_rules),
        cmocka_unit_test(test_heatmap_bands),
        cmocka_unit_test(test_surface_overlays),
        cmocka_unit_test(test_line_plot),
        cmocka_unit_test(test_error_bars),
        cmocka_unit_test(test_surface_legend),
        cmocka_unit_test(test_surface_equal_aspect),
        cmocka_unit_test(test_stacked_panels),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
