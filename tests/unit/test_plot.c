/* test_plot.c: the plot module draws what it says where it says: pictures are rendered to
 * /tmp, read back with stb_image and probed at the pixels plot_data_to_pixel names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "plot.h"

/* Static, so it cannot clash with another module's copy; stb_image then declares one static
 * function it never defines, which -Wunused-function reports at the end of the file: that
 * warning stays off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

typedef struct {
    unsigned char *px;
    int w, h;
} image;

/* Save f to a fresh /tmp path and read the PNG back. */
static image save_and_load(plot_figure *f, const char *suffix) {
    char *path = tu_temp_path(suffix);
    assert_non_null(path);
    char err[PLOT_ERR_LEN];
    int rc = plot_save_png(f, path, err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    image im = {0};
    int comp = 0;
    im.px = stbi_load(path, &im.w, &im.h, &comp, 3);
    assert_non_null(im.px);
    unlink(path);
    free(path);
    return im;
}

static plot_color pixel(const image *im, int x, int y) {
    assert_true(x >= 0 && x < im->w && y >= 0 && y < im->h);
    const unsigned char *p = im->px + ((size_t)y * im->w + x) * 3;
    return (plot_color)p[0] << 16 | (plot_color)p[1] << 8 | p[2];
}

static void test_nice_ticks(void **state) {
    (void)state;
    double t[64], step = 0;
    size_t n = plot_nice_ticks(0, 0.93, 6, t, 64, &step);
    assert_int_equal(n, 6);
    assert_true(fabs(step - 0.2) < 1e-12);
    for (size_t i = 0; i < n; i++) assert_true(fabs(t[i] - 0.2 * (double)i) < 1e-12);
    assert_true(t[5] == 1.0); /* exactly representable: no 1.0000000002 */

    /* Steps are 1, 2 or 5 times a power of ten, ticks cover the range, and there are at
     * most max_ticks of them, over a spread of ranges. */
    const double r[][2] = {{0, 1}, {-3.7, 12.2}, {0.0012, 0.0049}, {97, 1034}, {-1e6, -2e5},
                           {1.5, 1.5}, {0, 0}, {0.07, 0.931}, {-0.5, 0.5}, {3e-9, 7e-9}};
    for (size_t k = 0; k < sizeof r / sizeof r[0]; k++) {
        for (int mt = 3; mt <= 12; mt++) {
            n = plot_nice_ticks(r[k][0], r[k][1], mt, t, 64, &step);
            assert_true(n >= 2 && (int)n <= mt);
            assert_true(t[0] <= r[k][0] && t[n - 1] >= r[k][1]);
            double e = floor(log10(step)), m = step / pow(10, e);
            assert_true(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9);
            for (size_t i = 1; i < n; i++)
                assert_true(fabs(t[i] - t[i - 1] - step) < 1e-8 * step);
        }
    }
    /* A bound on a tick does not pull in another one. */
    n = plot_nice_ticks(0.2, 0.6, 3, t, 64, &step);
    assert_int_equal(n, 3);
    assert_true(fabs(t[0] - 0.2) < 1e-12 && fabs(t[2] - 0.6) < 1e-12);
    assert_int_equal(plot_nice_ticks(NAN, 1, 5, t, 64, NULL), 0);
    assert_int_equal(plot_nice_ticks(2, 1, 5, t, 64, NULL), 0);
}

static void test_figure_size_and_background(void **state) {
    (void)state;
    plot_figure *f = plot_figure_new(640, 360, 2);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "left", "t", "y"), 0);
    image im = save_and_load(f, ".png");
    assert_int_equal(im.w, 640);
    assert_int_equal(im.h, 360);
    assert_int_equal(pixel(&im, 2, 2), PLOT_WHITE);
    stbi_image_free(im.px);
    assert_int_equal(plot_panel_set(f, 2, "no", NULL, NULL), -1); /* panel out of range */
    assert_non_null(strstr(plot_figure_last_error(f), "panel 2"));
    plot_figure_free(f);
    assert_null(plot_figure_new(0, 100, 1));
    assert_null(plot_figure_new(100, 100, PLOT_MAX_PANELS + 1));
}

/* A y = const series lands on the row plot_data_to_pixel gives, in its colour, on both
 * panels of a two-panel figure; a second, dashed series sits at its own row. */
static void test_constant_series_row(void **state) {
    (void)state;
    enum { N = 41 };
    double x[N], y1[N], y2[N];
    for (int i = 0; i < N; i++) {
        x[i] = i / (double)(N - 1);
        y1[i] = 3.0;
        y2[i] = 1.0 + 4.0 * x[i];
    }
    plot_figure *f = plot_figure_new(1000, 420, 2);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "constant", "t", "value"), 0);
    assert_int_equal(plot_add_series(f, 0, "flat", x, y1, N, PLOT_SOLID, 0x2040c0), 0);
    assert_int_equal(plot_panel_set(f, 1, "only flat", "t", NULL), 0);
    assert_int_equal(plot_add_series(f, 1, "flat", x, y1, N, PLOT_SOLID, PLOT_PALETTE(3)), 0);
    assert_int_equal(plot_add_series(f, 0, "ramp", x, y2, N, PLOT_DASHED, PLOT_AUTO_COLOR), 1);
    image im = save_and_load(f, ".png");

    double px, py;
    /* Panel 0, near x = 0.2 (left of the legend, away from the ramp crossing at 0.5). */
    assert_int_equal(plot_data_to_pixel(f, 0, 0.2, 3.0, &px, &py), 0);
    assert_int_equal(pixel(&im, (int)px, (int)py), 0x2040c0);
    /* The line is thin: 8 px above and below it is background or grid. */
    plot_color above = pixel(&im, (int)px, (int)py - 8), below = pixel(&im, (int)px, (int)py + 8);
    assert_int_not_equal(above, 0x2040c0);
    assert_int_not_equal(below, 0x2040c0);
    /* The ramp at x = 0.1 has y = 1.4 and the first palette colour. */
    double rx, ry;
    assert_int_equal(plot_data_to_pixel(f, 0, 0.1, 1.4, &rx, &ry), 0);
    int hit = 0;
    for (int dx = -8; dx <= 8; dx++) hit |= pixel(&im, (int)rx + dx, (int)ry) == plot_palette(0);
    assert_true(hit); /* dashed: somewhere within a dash period */
    /* Panel 1 holds only a constant series: its range is widened, not zero. */
    assert_int_equal(plot_data_to_pixel(f, 1, 0.5, 3.0, &px, &py), 0);
    assert_true(px > 500 && px < 1000 && py > 20 && py < 400);
    assert_int_equal(pixel(&im, (int)px, (int)py), plot_palette(3));
    double qx, qy;
    assert_int_equal(plot_data_to_pixel(f, 1, 0.5, 3.5, &qx, &qy), 0);
    assert_true(qy < py); /* y grows upwards */
    stbi_image_free(im.px);
    plot_figure_free(f);
}

static void test_nan_and_log(void **state) {
    (void)state;
    double x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    double y[8] = {1, 2, NAN, 4, INFINITY, 0.5, -INFINITY, 100};
    double xa[3] = {NAN, NAN, NAN};
    plot_figure *f = plot_figure_new(600, 400, 1);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "gaps", "x", "y"), 0);
    assert_true(plot_add_series(f, 0, "with holes", x, y, 8, PLOT_SOLID, PLOT_AUTO_COLOR) >= 0);
    assert_int_equal(plot_series_set_marker(f, 0, 0, PLOT_CIRCLE), 0);
    assert_true(plot_add_series(f, 0, "all nan", xa, xa, 3, PLOT_DOTTED, PLOT_AUTO_COLOR) >= 0);
    assert_true(plot_add_series(f, 0, "empty", NULL, NULL, 0, PLOT_DASHED, PLOT_AUTO_COLOR) >= 0);
    image im = save_and_load(f, ".png");
    /* The break: between x = 1 and x = 3 there is no line (NaN at x = 2). */
    double ax, ay, bx, by;
    assert_int_equal(plot_data_to_pixel(f, 0, 1.5, 2.0, &ax, &ay), 0);
    assert_int_equal(plot_data_to_pixel(f, 0, 1.5, 3.0, &bx, &by), 0);
    for (int yy = (int)by - 3; yy <= (int)ay + 3; yy++)
        assert_int_not_equal(pixel(&im, (int)ax, yy), plot_palette(0));
    /* The points either side are drawn (marker at x = 1). */
    assert_int_equal(plot_data_to_pixel(f, 0, 1, 2, &ax, &ay), 0);
    assert_int_equal(pixel(&im, (int)ax, (int)ay), plot_palette(0));
    stbi_image_free(im.px);

    /* Log scale: 1, 10, 100 are evenly spaced; y <= 0 has no pixel. */
    assert_int_equal(plot_panel_set_logy(f, 0, 1), 0);
    double p1, p10, p100, px;
    assert_int_equal(plot_data_to_pixel(f, 0, 0, 1, &px, &p1), 0);
    assert_int_equal(plot_data_to_pixel(f, 0, 0, 10, &px, &p10), 0);
    assert_int_equal(plot_data_to_pixel(f, 0, 0, 100, &px, &p100), 0);
    assert_true(fabs((p1 - p10) - (p10 - p100)) < 1e-6 && p1 > p10);
    assert_int_equal(plot_data_to_pixel(f, 0, 0, -1, &px, &p1), -1);
    im = save_and_load(f, ".png");
    stbi_image_free(im.px);
    plot_figure_free(f);
}

/* Bowl-shaped surface z = (x-a)^2 + (y-b)^2 with its minimum at a grid point. */
static void bowl(double *xs, double *ys, double *v, int G) {
    for (int i = 0; i < G; i++) xs[i] = -0.2 + 1.4 * i / (G - 1);
    for (int j = 0; j < G; j++) ys[j] = -0.3 + 1.6 * j / (G - 1);
    for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++) {
            double dx = xs[i] - xs[7], dy = ys[j] - ys[9];
            v[i * G + j] = 0.05 + 4.0 * (dx * dx + dy * dy); /* above 5 at the far corner */
        }
}

static void test_heatmap_levels_and_colors(void **state) {
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

    assert_int_equal(plot_jet_r(0), 0x800000);    /* dark red */
    assert_int_equal(plot_jet_r(1), 0x000080);    /* dark blue */
    assert_int_equal(plot_blend(0x000000, 0xffffff, 0.5), 0x808080);
    assert_true(plot_log_norm(1.0, 1.0 - 1e-8, 5.0, -1.0) == 0.0);
    assert_true(fabs(plot_log_norm(5.0, 1.0, 5.0 + 1e-300, -1.0) - 0.9) < 1e-9);
}

static void test_heatmap_min_pixel(void **state) {
    (void)state;
    enum { G = 21 };
    double xs[G], ys[G], v[G * G];
    bowl(xs, ys, v, G);
    v[0] = NAN; /* one bad corner: that cell is grey, nothing breaks */
    plot_figure *f = plot_figure_new(800, 600, 1);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "train loss", "x", "y"), 0);
    plot_heatmap_opts o = plot_heatmap_defaults();
    o.vmax = 5.0;
    o.log_alpha = -5.0;
    o.label = "loss";
    assert_int_equal(plot_heatmap(f, 0, xs, G, ys, G, v, &o), 0);
    image im = save_and_load(f, ".png");
    assert_int_equal(im.w, 800);
    assert_int_equal(im.h, 600);

    /* Expected colour of the lowest band, from the pure functions. */
    double lev[PLOT_MAX_LEVELS + 2];
    assert_int_equal(plot_heatmap_levels(v, G * G, 5.0, -5.0, 7, lev), 0);
    plot_color want = plot_blend(
        plot_jet_r(plot_log_norm(0.5 * (lev[0] + lev[1]), lev[0] - 1e-8, lev[7] + 1e-8, -5.0)),
        PLOT_WHITE, 0.55);
    plot_color fill, line;
    assert_int_equal(plot_heatmap_band_color(f, 0, 0, &fill, &line), 0);
    assert_int_equal(fill, want);
    double px, py;
    assert_int_equal(plot_data_to_pixel(f, 0, xs[7], ys[9], &px, &py), 0);
    assert_int_equal(pixel(&im, (int)px, (int)py), want);
    /* The highest grid values (a corner) are in the catch-all band, another colour. */
    plot_color top;
    assert_int_equal(plot_heatmap_band_color(f, 0, 7, &top, NULL), 0);
    assert_int_not_equal(top, want);
    assert_int_equal(plot_data_to_pixel(f, 0, xs[G - 1], ys[G - 1], &px, &py), 0);
    assert_int_equal(pixel(&im, (int)px - 2, (int)py + 2), top);
    assert_int_equal(plot_heatmap_band_color(f, 0, 8, &fill, NULL), -1);
    stbi_image_free(im.px);

    /* Overlays draw over the fill: a black polyline through the minimum. */
    double lx[2] = {xs[2], xs[15]}, ly[2] = {ys[9], ys[9]};
    assert_true(plot_add_polyline(f, 0, lx, ly, 2, PLOT_SOLID) >= 0);
    assert_int_equal(plot_add_marker(f, 0, xs[2], ys[2], PLOT_DIAMOND, "w1"), 0);
    im = save_and_load(f, ".png");
    assert_int_equal(plot_data_to_pixel(f, 0, xs[7], ys[9], &px, &py), 0);
    assert_int_equal(pixel(&im, (int)px, (int)py), PLOT_BLACK);
    assert_int_equal(plot_data_to_pixel(f, 0, xs[2], ys[2], &px, &py), 0);
    assert_int_equal(pixel(&im, (int)px, (int)py), PLOT_BLACK);
    stbi_image_free(im.px);

    /* Bad grids are refused. */
    double bad[3] = {0, 0, 1};
    assert_int_equal(plot_heatmap(f, 0, bad, 3, ys, 3, v, NULL), -1);
    assert_int_equal(plot_heatmap(f, 0, xs, 1, ys, G, v, NULL), -1);
    plot_figure_free(f);
}

/* Saving into a missing directory fails with a message naming the file and leaves nothing;
 * saving over an existing file replaces it and leaves no temp file. */
static void test_atomic_write(void **state) {
    (void)state;
    plot_figure *f = plot_figure_new(100, 80, 1);
    assert_non_null(f);
    char dir[] = "/tmp/dkmc_plot_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char bad[512], good[512], err[PLOT_ERR_LEN];
    snprintf(bad, sizeof bad, "%s/missing/out.png", dir);
    snprintf(good, sizeof good, "%s/out.png", dir);
    assert_int_equal(plot_save_png(f, bad, err), -1);
    assert_non_null(strstr(err, bad));
    assert_null(strchr(err, '\n'));
    struct stat st;
    assert_int_equal(stat(bad, &st), -1);

    FILE *o = fopen(good, "w");
    assert_non_null(o);
    fputs("old", o);
    fclose(o);
    assert_int_equal(plot_save_png(f, good, err), 0);
    assert_int_equal(stat(good, &st), 0);
    assert_true(st.st_size > 8);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
    closedir(d);
    assert_int_equal(entries, 1); /* only out.png: no temp file left */
    unlink(good);
    rmdir(dir);
    plot_figure_free(f);
}

static void test_legend_avoids_data(void **state) {
    (void)state;
    /* Data rising to the top right: the automatic legend must not sit on the line there. */
    enum { N = 50 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = i, y[i] = (double)i * i;
    plot_figure *f = plot_figure_new(600, 400, 1);
    assert_non_null(f);
    assert_true(plot_add_series(f, 0, "a long legend label", x, y, N, PLOT_SOLID, 0x00aa00) >= 0);
    image im = save_and_load(f, ".png");
    /* Every point of the series that is inside the plot shows in its colour. */
    for (int i = 2; i < N - 2; i += 3) {
        double px, py;
        assert_int_equal(plot_data_to_pixel(f, 0, x[i], y[i], &px, &py), 0);
        assert_int_equal(pixel(&im, (int)px, (int)py), 0x00aa00);
    }
    stbi_image_free(im.px);
    plot_figure_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_ticks),
        cmocka_unit_test(test_figure_size_and_background),
        cmocka_unit_test(test_constant_series_row),
        cmocka_unit_test(test_nan_and_log),
        cmocka_unit_test(test_heatmap_levels_and_colors),
        cmocka_unit_test(test_heatmap_min_pixel),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_legend_avoids_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
