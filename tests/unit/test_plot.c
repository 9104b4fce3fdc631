/* test_plot.c: the plot module (PLplot underneath) draws what it says where it says:
 * pictures are saved to /tmp, read back with stb_image and probed at the pixels
 * plot_data_to_pixel names; SVG and PDF files are checked by their first bytes; bad paths
 * and names come back as one-line errors with nothing left on disk. */
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

typedef struct {
    unsigned char *px;
    int w, h;
} image;

/* Save f to a fresh /tmp path with the given ending and read the PNG back. */
static image save_and_load(plot_figure *f) {
    char *path = tu_temp_path(".png");
    assert_non_null(path);
    char err[PLOT_ERR_LEN];
    int rc = plot_save(f, path, err);
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

/* Largest per-channel difference of two colours. */
static int cdist(plot_color a, plot_color b) {
    int d = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        int x = (int)((a >> sh) & 0xff) - (int)((b >> sh) & 0xff);
        if (abs(x) > d) d = abs(x);
    }
    return d;
}

/* The closest colour to want within r pixels of (x, y), as a distance. */
static int near(const image *im, double x, double y, int r, plot_color want) {
    int best = 256;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            int xx = (int)x + dx, yy = (int)y + dy;
            if (xx < 0 || yy < 0 || xx >= im->w || yy >= im->h) continue;
            int d = cdist(pixel(im, xx, yy), want);
            if (d < best) best = d;
        }
    return best;
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
    assert_int_equal(plot_palette(0), 0x1f77b4);
    assert_int_equal(plot_palette(13), plot_palette(3));
    assert_true(plot_log_norm(1.0, 1.0 - 1e-8, 5.0, -1.0) == 0.0);
    assert_true(fabs(plot_log_norm(5.0, 1.0, 5.0 + 1e-300, -1.0) - 0.9) < 1e-9);
}

static void test_figure_size_and_background(void **state) {
    (void)state;
    plot_figure *f = plot_figure_new(640, 360, 2);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "left", "t", "y"), 0);
    image im = save_and_load(f);
    assert_int_equal(im.w, 640);
    assert_int_equal(im.h, 360);
    assert_int_equal(pixel(&im, 2, 2), PLOT_WHITE);
    assert_int_equal(pixel(&im, 637, 357), PLOT_WHITE);
    stbi_image_free(im.px);
    assert_int_equal(plot_panel_set(f, 2, "no", NULL, NULL), -1); /* panel out of range */
    assert_non_null(strstr(plot_figure_last_error(f), "panel 2"));
    plot_figure_free(f);
    assert_null(plot_figure_new(0, 100, 1));
    assert_null(plot_figure_new(100, 100, PLOT_MAX_PANELS + 1));
    assert_null(plot_figure_new_grid(100, 100, 3, 3));
    assert_null(plot_figure_new_grid(100, 100, 0, 1));
    assert_true(PLOT_MAX_PANELS >= 6);
}

/* Bowl v = 0.05 + 4((x-a)^2 + (y-b)^2) over a 25 x 25 grid, with a plateau far above vmax
 * in one corner. */
enum { G = 25 };
static void bowl(double *xs, double *ys, double *v, double a, double b) {
    for (int i = 0; i < G; i++) xs[i] = -0.2 + 1.4 * i / (G - 1);
    for (int j = 0; j < G; j++) ys[j] = -0.3 + 1.6 * j / (G - 1);
    for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++) {
            double dx = xs[i] - a, dy = ys[j] - b;
            v[i * G + j] = 0.05 + 4.0 * (dx * dx + dy * dy);
            if (i >= G - 4 && j >= G - 4) v[i * G + j] = 1e3; /* beyond vmax: the top band */
        }
}

/* The paper's plane figure on a synthetic bowl: filled bands with contour lines, colour
 * bar, the curve (solid), the straight segment (dashed) and the bends. */
static plot_figure *bowl_figure(double a, double b, double *xs, double *ys, double *v) {
    bowl(xs, ys, v, a, b);
    plot_figure *f = plot_figure_new(800, 600, 1);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "train loss", "x", "y"), 0);
    plot_heatmap_opts o = plot_heatmap_defaults();
    o.vmax = 5.0;
    o.log_alpha = -5.0;
    o.label = "loss";
    assert_int_equal(plot_heatmap(f, 0, xs, G, ys, G, v, &o), 0);
    double cx[40], cy[40];
    for (int i = 0; i < 40; i++) {
        double t = i / 39.0;
        cx[i] = 2 * t * (1 - t) * 0.5 + t * t;
        cy[i] = 2 * t * (1 - t) * 1.0;
    }
    assert_true(plot_add_polyline(f, 0, cx, cy, 40, PLOT_SOLID) >= 0);
    double lx[2] = {0, 1}, ly[2] = {0, 0};
    assert_true(plot_add_polyline(f, 0, lx, ly, 2, PLOT_DASHED) >= 0);
    assert_int_equal(plot_add_marker(f, 0, 0, 0, PLOT_CIRCLE, "w1"), 0);
    assert_int_equal(plot_add_marker(f, 0, 1, 0, PLOT_CIRCLE, "w3"), 1);
    assert_int_equal(plot_add_marker(f, 0, 0.5, 1.0, PLOT_DIAMOND, "theta"), 2);
    return f;
}

static void test_heatmap_bowl(void **state) {
    (void)state;
    double xs[G], ys[G], v[G * G];
    plot_figure *f = bowl_figure(0.3, 0.4, xs, ys, v);
    image im = save_and_load(f);
    assert_int_equal(im.w, 800);
    assert_int_equal(im.h, 600);

    /* not one colour: white margins, coloured bands, black overlays */
    int white = 0, black = 0, other = 0;
    for (int y = 0; y < im.h; y += 3)
        for (int x = 0; x < im.w; x += 3) {
            plot_color c = pixel(&im, x, y);
            white += c == PLOT_WHITE;
            black += cdist(c, PLOT_BLACK) < 40;
            other += c != PLOT_WHITE && cdist(c, PLOT_BLACK) >= 40;
        }
    assert_true(white > 1000 && black > 50 && other > 10000);

    /* The minimum lies in the lowest band, in its colour from the pure functions. */
    double lev[PLOT_MAX_LEVELS + 2];
    assert_int_equal(plot_heatmap_levels(v, G * G, 5.0, -5.0, 7, lev), 0);
    plot_color want = plot_blend(
        plot_jet_r(plot_log_norm(0.5 * (lev[0] + lev[1]), lev[0] - 1e-8, lev[7] + 1e-8, -5.0)),
        PLOT_WHITE, 0.55);
    plot_color fill, line, top;
    assert_int_equal(plot_heatmap_band_color(f, 0, 0, &fill, &line), 0);
    assert_int_equal(fill, want);
    double px, py;
    assert_int_equal(plot_data_to_pixel(f, 0, 0.3, 0.4, &px, &py), 0);
    assert_true(cdist(pixel(&im, (int)px, (int)py), want) <= 3);
    /* The plateau above vmax is filled with the catch-all band's colour, not left white. */
    assert_int_equal(plot_heatmap_band_color(f, 0, 7, &top, NULL), 0);
    assert_int_not_equal(top, want);
    assert_int_equal(plot_data_to_pixel(f, 0, xs[G - 1], ys[G - 1], &px, &py), 0);
    assert_true(cdist(pixel(&im, (int)px - 6, (int)py + 6), top) <= 3);
    assert_int_equal(plot_heatmap_band_color(f, 0, 8, &fill, NULL), -1);
    /* Overlays on top: the bends' markers are black at their centres. */
    assert_int_equal(plot_data_to_pixel(f, 0, 0.5, 1.0, &px, &py), 0);
    assert_true(near(&im, px, py, 1, PLOT_BLACK) < 30);
    assert_int_equal(plot_data_to_pixel(f, 0, 1, 0, &px, &py), 0);
    assert_true(near(&im, px, py, 1, PLOT_BLACK) < 30);

    /* Another bowl centre gives another picture. */
    double xs2[G], ys2[G], v2[G * G];
    plot_figure *f2 = bowl_figure(0.7, 0.6, xs2, ys2, v2);
    image im2 = save_and_load(f2);
    assert_int_equal(im2.w, 800);
    assert_int_equal(im2.h, 600);
    size_t diff = 0;
    for (size_t i = 0; i < (size_t)im.w * im.h * 3; i++) diff += im.px[i] != im2.px[i];
    assert_true(diff > 10000);
    stbi_image_free(im.px);
    stbi_image_free(im2.px);
    plot_figure_free(f2);

    /* A non-finite value: its cells are grey, the rest still draws. */
    v[5 * G + 18] = NAN;
    assert_int_equal(plot_heatmap(f, 0, xs, G, ys, G, v, NULL), 0);
    im = save_and_load(f);
    assert_int_equal(plot_data_to_pixel(f, 0, xs[5], ys[18], &px, &py), 0);
    assert_true(near(&im, px, py, 2, 0xd0d0d0) <= 3);
    stbi_image_free(im.px);

    /* A flat surface (every value equal: a grid of identical test errors) still draws,
     * in band 0's colour; PLplot refuses empty bands unless the edges are spread apart. */
    for (size_t i = 0; i < (size_t)G * G; i++) v[i] = 17.0;
    assert_int_equal(plot_heatmap(f, 0, xs, G, ys, G, v, NULL), 0);
    char *flat = tu_temp_path(".png"), ferr[PLOT_ERR_LEN];
    assert_int_equal(plot_save(f, flat, ferr), 0);
    assert_int_equal(access(flat, F_OK), 0);
    unlink(flat);
    free(flat);

    /* Bad grids are refused. */
    double bad[3] = {0, 0, 1};
    assert_int_equal(plot_heatmap(f, 0, bad, 3, ys, 3, v, NULL), -1);
    assert_int_equal(plot_heatmap(f, 0, xs, 1, ys, G, v, NULL), -1);
    plot_figure_free(f);
}

/* A y = const series lands on the row plot_data_to_pixel gives, in its colour; a log axis
 * spaces decades evenly; non-finite points break the line. */
static void test_line_plot(void **state) {
    (void)state;
    enum { N = 41 };
    double x[N], y1[N], y2[N];
    for (int i = 0; i < N; i++) {
        x[i] = i / (double)(N - 1);
        y1[i] = 3.0;
        y2[i] = 1.0 + 4.0 * x[i];
    }
    y2[20] = NAN; /* a hole at x = 0.5 */
    plot_figure *f = plot_figure_new(1000, 420, 2);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "constant", "t", "value"), 0);
    assert_int_equal(plot_add_series(f, 0, "flat", x, y1, N, PLOT_SOLID, 0x2040c0), 0);
    assert_int_equal(plot_add_series(f, 0, "ramp", x, y2, N, PLOT_DASHED, PLOT_AUTO_COLOR), 1);
    assert_int_equal(plot_series_set_marker(f, 0, 1, PLOT_SQUARE), 0);
    assert_int_equal(plot_series_set_width(f, 0, 0, 3.0), 0);
    assert_int_equal(plot_panel_set(f, 1, "log", "t", NULL), 0);
    assert_int_equal(plot_add_series(f, 1, "flat", x, y1, N, PLOT_DOTTED, PLOT_PALETTE(3)), 0);
    assert_int_equal(plot_panel_set_logy(f, 1, 1), 0);
    image im = save_and_load(f);
    double px, py;
    assert_int_equal(plot_data_to_pixel(f, 0, 0.2, 3.0, &px, &py), 0);
    assert_true(near(&im, px, py, 1, 0x2040c0) < 40);
    assert_true(near(&im, px, py - 10, 2, 0x2040c0) > 100); /* a thin line */
    /* the ramp's hole: nothing of its colour around (0.5, 3.0) off the flat line */
    assert_int_equal(plot_data_to_pixel(f, 0, 0.5, 3.0, &px, &py), 0);
    assert_true(near(&im, px, py - 6, 2, plot_palette(0)) > 100);
    assert_true(near(&im, px, py + 6, 2, plot_palette(0)) > 100);
    /* its marker at x = 0.1 is drawn */
    assert_int_equal(plot_data_to_pixel(f, 0, 0.1, 1.4, &px, &py), 0);
    assert_true(near(&im, px, py, 1, plot_palette(0)) < 40);
    stbi_image_free(im.px);

    /* log axis */
    assert_int_equal(plot_panel_set_ylim(f, 1, 0.5, 200), 0);
    double p1, p10, p100;
    assert_int_equal(plot_data_to_pixel(f, 1, 0, 1, &px, &p1), 0);
    assert_int_equal(plot_data_to_pixel(f, 1, 0, 10, &px, &p10), 0);
    assert_int_equal(plot_data_to_pixel(f, 1, 0, 100, &px, &p100), 0);
    assert_true(fabs((p1 - p10) - (p10 - p100)) < 1e-6 && p1 > p10);
    assert_int_equal(plot_data_to_pixel(f, 1, 0, -1, &px, &p1), -1);
    assert_int_equal(plot_panel_set_ylim(f, 1, 3, 1), -1);
    plot_figure_free(f);
}

/* Line plots as SVG and PDF: the files are what their names say. */
static void test_svg_pdf(void **state) {
    (void)state;
    double x[3] = {0, 1, 2}, y[3] = {1, 3, 2};
    plot_figure *f = plot_figure_new(500, 300, 1);
    assert_non_null(f);
    assert_int_equal(plot_panel_set(f, 0, "svg and pdf", "x", "y"), 0);
    assert_int_equal(plot_add_series(f, 0, "a # b", x, y, 3, PLOT_DASHED, PLOT_AUTO_COLOR), 0);
    const char *ends[3] = {".svg", ".pdf", ".PDF"};
    for (int k = 0; k < 3; k++) {
        char *path = tu_temp_path(ends[k]);
        assert_non_null(path);
        char err[PLOT_ERR_LEN];
        int rc = plot_save(f, path, err);
        if (rc) fprintf(stderr, "%s\n", err);
        assert_int_equal(rc, 0);
        FILE *in = fopen(path, "rb");
        assert_non_null(in);
        char head[8] = {0};
        assert_true(fread(head, 1, 5, in) == 5);
        fclose(in);
        if (k == 0) assert_true(!strncmp(head, "<?xml", 5) || !strncmp(head, "<svg", 4));
        else assert_memory_equal(head, "%PDF", 4);
        unlink(path);
        free(path);
    }
    plot_figure_free(f);
}

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

/* Unknown endings and unwritable places fail with a one-line message naming the file,
 * leave nothing behind and do not end the process (PLplot would exit()); saving over an
 * existing file replaces it and leaves no temp file. */
static void test_save_errors(void **state) {
    (void)state;
    plot_figure *f = plot_figure_new(100, 80, 1);
    assert_non_null(f);
    char dir[] = "/tmp/dkmc_plot_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], err[PLOT_ERR_LEN];
    struct stat st;

    snprintf(path, sizeof path, "%s/out.xyz", dir);
    assert_int_equal(plot_save(f, path, err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "unknown picture format '.xyz' (use .png, .svg or .pdf)"));
    assert_null(strchr(err, '\n'));
    snprintf(path, sizeof path, "%s/noext", dir);
    assert_int_equal(plot_save_png(f, path, err), -1);
    assert_non_null(strstr(err, "unknown picture format"));
    assert_int_equal(count_entries(dir), 0);

    assert_int_equal(plot_save(f, "/nonexistent/x.png", err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.png"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(stat("/nonexistent/x.png", &st), -1);
    snprintf(path, sizeof path, "%s/missing/out.pdf", dir);
    assert_int_equal(plot_save(f, path, err), -1);
    assert_non_null(strstr(err, path));
    assert_int_equal(strcmp(plot_figure_last_error(f), err), 0);

    snprintf(path, sizeof path, "%s/out.png", dir);
    FILE *o = fopen(path, "w");
    assert_non_null(o);
    fputs("old", o);
    fclose(o);
    assert_int_equal(plot_save_png(f, path, err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 8);
    assert_int_equal(count_entries(dir), 1); /* only out.png: no temp file left */
    unlink(path);
    rmdir(dir);
    plot_figure_free(f);
}

/* Three panels stacked (the FGE figure): they share the x axis's place, the memory
 * rendering has the figure's size, and the second panel's series shows in it. */
static void test_grid_render(void **state) {
    (void)state;
    enum { N = 60 };
    double e[N], lr[N], err[N], dist[N];
    for (int i = 0; i < N; i++) {
        e[i] = i / 6.0;
        double s = fmod(e[i], 4) / 4;
        lr[i] = s < 0.5 ? 0.05 * (1 - 2 * s) + 1e-4 * 2 * s : 0.05 * (2 * s - 1) + 1e-4 * (2 - 2 * s);
        err[i] = 10 + 3 * exp(-e[i] / 3);
        dist[i] = sqrt(e[i]);
    }
    plot_figure *f = plot_figure_new_grid(700, 900, 3, 1);
    assert_non_null(f);
    assert_int_equal(plot_figure_set_title(f, "FGE"), 0);
    assert_int_equal(plot_panel_set(f, 0, NULL, NULL, "learning rate"), 0);
    assert_int_equal(plot_panel_set_logy(f, 0, 1), 0);
    assert_true(plot_add_series(f, 0, "lr", e, lr, N, PLOT_SOLID, PLOT_AUTO_COLOR) >= 0);
    assert_int_equal(plot_panel_set(f, 1, NULL, NULL, "test error (%)"), 0);
    assert_true(plot_add_series(f, 1, "snapshot", e, err, N, PLOT_SOLID, 0xd62728) >= 0);
    assert_int_equal(plot_panel_set(f, 2, NULL, "epoch", "distance"), 0);
    assert_true(plot_add_series(f, 2, NULL, e, dist, N, PLOT_SOLID, PLOT_AUTO_COLOR) >= 0);
    assert_int_equal(plot_panel_set_legend(f, 2, PLOT_LEGEND_NONE), 0);
    assert_int_equal(plot_panel_set(f, 3, NULL, NULL, NULL), -1);

    double ax, ay, bx, by, cx, cy;
    assert_int_equal(plot_data_to_pixel(f, 0, 5.0, 0.01, &ax, &ay), 0);
    assert_int_equal(plot_data_to_pixel(f, 1, 5.0, 11.0, &bx, &by), 0);
    assert_int_equal(plot_data_to_pixel(f, 2, 5.0, 2.0, &cx, &cy), 0);
    assert_true(fabs(ax - bx) < 1e-9 && fabs(bx - cx) < 1e-9);
    assert_true(ay < 300 && by > 300 && by < 600 && cy > 600);

    int w = 0, h = 0;
    const uint8_t *px = plot_render(f, &w, &h);
    assert_non_null(px);
    assert_int_equal(w, 700);
    assert_int_equal(h, 900);
    image im = {(unsigned char *)px, w, h};
    assert_int_equal(pixel(&im, 1, 1), PLOT_WHITE);
    assert_int_equal(plot_data_to_pixel(f, 1, e[30], err[30], &bx, &by), 0);
    assert_true(near(&im, bx, by, 2, 0xd62728) < 40);
    /* the same through a PNG */
    image png = save_and_load(f);
    assert_int_equal(png.w, 700);
    assert_int_equal(png.h, 900);
    assert_true(near(&png, bx, by, 2, 0xd62728) < 40);
    stbi_image_free(png.px);
    plot_figure_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_ticks),
        cmocka_unit_test(test_heatmap_levels_and_colors),
        cmocka_unit_test(test_figure_size_and_background),
        cmocka_unit_test(test_heatmap_bowl),
        cmocka_unit_test(test_line_plot),
        cmocka_unit_test(test_svg_pdf),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_grid_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
