/* plot.h: the plot module's door. Two kinds of figure, each described by one spec struct
 * and drawn by one call: line plots (plot_lines: panels of series, e.g. loss along a curve
 * or over training) and a loss surface (plot_surface: a heat map over the plane of three
 * bends, with the curve, the straight segment and the bends drawn over it). PLplot draws
 * them with its cairo devices (ticks, legend, colour bar and markers are PLplot's), as PNG,
 * SVG or PDF; the _render variants give the RGB pixels, for tests.
 *
 * Conventions
 *  - Specs are read only during the call; nothing is kept. Data are doubles.
 *  - Non-finite points (and y <= 0 on a log axis) are not drawn and break a line.
 *  - Text is UTF-8, drawn as given ('#', PLplot's escape character, included).
 *  - Errors: -1 (or NULL) and, when err is not NULL, a one-line message in err
 *    (PLOT_ERR_LEN bytes); a _save message starts with the path.
 *  - PLplot keeps process-wide state: drawings are serialised by a lock in the module. */
#ifndef PLOT_H
#define PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "errlen.h"
#define PLOT_ERR_LEN DKMC_ERRLEN

/* 0xRRGGBB */
typedef uint32_t plot_color;
#define PLOT_BLACK ((plot_color)0x000000u)
#define PLOT_WHITE ((plot_color)0xffffffu)

typedef enum { PLOT_SOLID = 0, PLOT_DASHED, PLOT_DOTTED, PLOT_NO_LINE } plot_style;
typedef enum { PLOT_NO_MARKER = 0, PLOT_CIRCLE, PLOT_DIAMOND, PLOT_SQUARE, PLOT_TRIANGLE } plot_marker;

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_SERIES 32   /* per panel */
#define PLOT_MAX_LEVELS 64   /* most contour levels (N) a heat map takes */

/* NULL where pictures can be drawn; in a build without PLplot (make PLOT=0) the one-line
 * reason, and every drawing fails with it. */
const char *plot_unavailable(void);

/* ---- line plots ---------------------------------------------------------------------- */

typedef struct {
    const char *label;      /* legend entry; NULL: none */
    const double *x, *y;    /* n points */
    size_t n;
    plot_color color;
    plot_style style;       /* PLOT_NO_LINE: markers only */
    plot_marker marker;     /* at every drawn point */
} plot_series;

typedef struct {
    const char *title, *xlabel, *ylabel;   /* NULL: none */
    const plot_series *series;
    int nseries;                           /* 0..PLOT_MAX_SERIES */
    int logy;                              /* logarithmic y axis */
    /* A fixed range where min < max (and ymin > 0 on a log axis); else x spans the data and
     * y the data plus 5 % each side, plus room for the legend (inside, top right) above the
     * data. Log axes: PLplot's ticks, labelled at decades (or 1-2-5 times them). */
    double xmin, xmax, ymin, ymax;
    /* NULL, or one entry per series: NULL or the series' n half-widths of error bars
     * (y - e to y + e, drawn in the series' colour; non-finite ones are left out) */
    const double *const *yerr;
} plot_panel;

typedef struct {
    int width, height;   /* pixels (PNG) or points (SVG, PDF), 16..16384 each */
    int rows, cols;      /* panels row-major, rows * cols <= PLOT_MAX_PANELS; 0 means 1 */
    const char *title;   /* over the whole figure; NULL: none */
    const plot_panel *panels;
} plot_lines;

/* ---- the loss surface ---------------------------------------------------------------- */

/* Levels and colours as in the reference plane_plot.py (the authors' plane_plot.py):
 *   clipped = min(v, vmax); g = (ln(max(clipped) - min(clipped)) - log_alpha) / N;
 *   level_k = min(clipped) + exp(log_alpha + g k), k = 0..N, with level_0 = min(clipped),
 *   level_N = max(clipped), and a catch-all level_{N+1} = 1e10.
 * Band 0 is [level_0, level_1], band k (1..N) is (level_k, level_{k+1}] (matplotlib's
 * contourf), and values above level_{N+1} are in band N too. Band k's colour is
 * jet_r(norm(its midpoint)) laid over white with opacity alpha, norm being plot_log_norm
 * over [level_0 - 1e-8, level_N + 1e-8]; the contour line at level_k is jet_r(norm(level_k)). */
typedef struct {
    double vmax;       /* clip used to place the levels; INFINITY for none */
    double log_alpha;  /* ln of the first level's height above the minimum */
    int nlevels;       /* N, 1..PLOT_MAX_LEVELS */
    double alpha;      /* fill opacity over white, in (0, 1] */
    const char *label; /* caption of the colour bar, NULL for none */
} plot_heatmap_opts;
/* vmax = INFINITY, log_alpha = -5, nlevels = 7, alpha = 0.55, label = NULL. */
plot_heatmap_opts plot_heatmap_defaults(void);

/* A black line over the surface (solid ~4 px, dashed or dotted ~3 px). */
typedef struct {
    const double *x, *y;
    size_t n;
    plot_style style;
} plot_path;

/* A black marker; its label (NULL: none) is written beside it, on the side towards the
 * middle of the plot, so that it stays inside the frame. */
typedef struct {
    double x, y;
    plot_marker shape;
    const char *label;
} plot_point;

/* The surface v over the grid xs[0..nx) x ys[0..ny) (each finite and strictly increasing,
 * nx, ny >= 2), v[i*ny + j] the value at (xs[i], ys[j]) (plane.npz's [i_alpha, j_beta]).
 * Every pixel of the plot area has the colour of the band of the value there, bilinearly
 * interpolated between the four grid values around it; a cell with a non-finite corner is
 * light grey. Contour lines follow the band edges; a colour bar labelled with the levels
 * ("> level_N" on the catch-all band) is on the right. The axes span the grid. */
typedef struct {
    int width, height;
    const char *title, *xlabel, *ylabel;
    const double *xs, *ys, *v;
    size_t nx, ny;
    plot_heatmap_opts heat;
    const plot_path *paths;
    int npaths;
    const plot_point *points;
    int npoints;
    /* a legend, inside the plot area's top right corner: one entry per key, drawn as the
     * line plots' legend draws a series (label, colour, line style, marker; no data) */
    const plot_series *keys;
    int nkeys;   /* 0..PLOT_MAX_SERIES */
    int equal_aspect;   /* one data unit as long on both axes (the plot area shrinks to fit) */
} plot_surface;

/* ---- output -------------------------------------------------------------------------- */

/* Draw the figure and write it in the format its file name ends with: .png, .svg or .pdf
 * (case-insensitive; another ending is an error: "<path>: unknown picture format '.xyz'
 * (use .png, .svg or .pdf)"). Written atomically: to "<path>.tmp.XXXXXX" in the same
 * directory, then renamed onto path; on failure nothing is left behind. */
int plot_lines_save(const plot_lines *fig, const char *path, char *err);
int plot_surface_save(const plot_surface *fig, const char *path, char *err);
/* The height (240..4 x width pixels) at which fig's plot area, with one data unit as long on
 * both axes, fills the width: no blank band below an equal-aspect plane. */
int plot_surface_fit_height(const plot_surface *fig);

/* Where a panel's plot area landed: its frame in pixels (x rightwards, y downwards; pixel
 * (i, j) covers [i, i+1) x [j, j+1)) and the data at its edges (y in log10 on a log axis). */
typedef struct {
    double left, right, top, bottom;
    double xmin, xmax, ymin, ymax;
} plot_area;

/* Draw the figure in memory: its RGB pixels (width*height*3 bytes, rows top to bottom;
 * the caller frees them), and, when area is not NULL, each panel's plot area (rows*cols of
 * them; one for a surface). NULL on failure. */
uint8_t *plot_lines_render(const plot_lines *fig, plot_area *area, char *err);
uint8_t *plot_surface_render(const plot_surface *fig, plot_area *area, char *err);

/* ---- colour rules (pure functions, shared with the tests) ---------------------------- */

/* The heat-map levels described above for the n values v (non-finite ones ignored);
 * writes nlevels + 2 numbers (non-decreasing) to levels and returns 0, or -1 if no value
 * is finite or nlevels is out of range. */
int plot_heatmap_levels(const double *v, size_t n, double vmax, double log_alpha,
                        int nlevels, double *levels);
/* The reference LogNormalize: 0.9 (max(ln(v - vmin), log_alpha) - log_alpha) /
 * (ln(vmax - vmin) - log_alpha), clamped to [0, 1]. */
double plot_log_norm(double v, double vmin, double vmax, double log_alpha);
/* matplotlib-style "jet" reversed (u = 0 dark red ... u = 1 dark blue); u clamped. */
plot_color plot_jet_r(double u);
/* The line-plot palette (blue, orange, green, red, purple, brown, pink, grey, olive,
 * cyan), i taken modulo 10. */
plot_color plot_palette(int i);
/* alpha * fg + (1 - alpha) * bg, per channel, rounded. */
plot_color plot_blend(plot_color fg, plot_color bg, double alpha);

#endif
