/* plot.h: the plot module's door. Figures for the mode-connectivity and FGE tools: line
 * plots of loss/error along a curve or over training, and heat maps of a loss surface over
 * the plane of three bends, with overlays (curve, straight segment, bends). PLplot draws
 * them (its cairo devices: antialiased lines, real fonts), as PNG, SVG or PDF.
 *
 * A figure is W x H pixels split into a grid of 1..PLOT_MAX_PANELS panels (rows x cols,
 * numbered row-major). A panel is a line plot (plot_add_series) or a heat map
 * (plot_heatmap); both take overlays (plot_add_polyline, plot_add_marker). Nothing is drawn
 * while the figure is built: ranges, ticks, margins and the legend corner are worked out by
 * plot_render / plot_save / plot_data_to_pixel, and again after any change.
 *
 * PLplot keeps process-wide state: drawings (plot_render, plot_save) are serialised by a
 * lock inside the module, each in a PLplot stream of its own, and a figure must not be
 * changed by one thread while another draws it.
 *
 * Conventions
 *  - All functions taking a figure return 0 on success and -1 on bad arguments or
 *    out-of-memory (plot_figure_last_error says which), except where noted.
 *  - Data are doubles and are copied; the caller's arrays can be freed right away.
 *  - Non-finite points (NaN, +-inf; y <= 0 on a log axis) are not drawn and break a
 *    line: the segments on either side of them are left out.
 *  - Pixel coordinates: x rightwards, y downwards; pixel (i, j) covers [i, i+1) x [j, j+1).
 *  - Text is UTF-8, drawn as given ('#' included: PLplot's escape character is doubled).
 */
#ifndef PLOT_H
#define PLOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct plot_figure plot_figure;

/* Colours are 0xRRGGBB. PLOT_PALETTE(i) picks the i-th colour of the built-in palette
 * (blue, orange, green, red, purple, brown, pink, grey, olive, cyan; wraps around), and
 * PLOT_AUTO_COLOR the next palette colour not yet taken automatically in that panel. */
typedef uint32_t plot_color;
#define PLOT_PALETTE(i) ((plot_color)(0x01000000u | ((unsigned)(i) & 0xffu)))
#define PLOT_AUTO_COLOR ((plot_color)0xffffffffu)
#define PLOT_BLACK ((plot_color)0x000000u)
#define PLOT_WHITE ((plot_color)0xffffffu)

typedef enum { PLOT_SOLID = 0, PLOT_DASHED, PLOT_DOTTED } plot_style;
typedef enum {
    PLOT_NO_MARKER = 0, PLOT_CIRCLE, PLOT_DIAMOND, PLOT_SQUARE, PLOT_TRIANGLE
} plot_marker;
typedef enum {
    PLOT_LEGEND_AUTO = 0,     /* the inside corner covering the fewest drawn points; if all
                                 do and y is automatic, the y axis is raised so that the
                                 legend fits above the data (not on heat maps) */
    PLOT_LEGEND_NONE,
    PLOT_LEGEND_TOP_RIGHT,
    PLOT_LEGEND_TOP_LEFT,
    PLOT_LEGEND_BOTTOM_RIGHT,
    PLOT_LEGEND_BOTTOM_LEFT
} plot_legend_pos;

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_LEVELS 64   /* most contour levels (N) a heat map takes */
#include "errlen.h"
#define PLOT_ERR_LEN DKMC_ERRLEN   /* alias: the size of the err buffer of plot_save */

/* ---- figure ---------------------------------------------------------------------------- */

/* A white figure of width x height pixels (each 16..16384) with npanels panels
 * (1..PLOT_MAX_PANELS) side by side: plot_figure_new_grid(width, height, 1, npanels).
 * NULL on bad arguments or out of memory. */
/* NULL where pictures can be drawn; in a build without PLplot (make PLOT=0) the one-line
 * reason, and every plot_save fails with it. */
const char *plot_unavailable(void);

plot_figure *plot_figure_new(int width, int height, int npanels);
/* A white figure with rows x cols panels (rows * cols <= PLOT_MAX_PANELS) of equal size,
 * numbered row-major: panel r * cols + c is in row r (from the top), column c. */
plot_figure *plot_figure_new_grid(int width, int height, int rows, int cols);
void plot_figure_free(plot_figure *f);
/* Title across the top of the whole figure (NULL or "" for none). */
int plot_figure_set_title(plot_figure *f, const char *title);
/* The message of the last failed call on f ("" if none). */
const char *plot_figure_last_error(const plot_figure *f);

/* ---- panels ---------------------------------------------------------------------------- */

/* Title above the panel, x-axis label below, y-axis label (drawn upwards) on the left;
 * NULL for none. */
int plot_panel_set(plot_figure *f, int panel, const char *title, const char *xlabel,
                   const char *ylabel);
/* Logarithmic y axis (on != 0). Points with y <= 0 are then treated as non-finite. */
int plot_panel_set_logy(plot_figure *f, int panel, int on);
/* Fixed axis range; lo = hi = NAN goes back to automatic. By default x spans the data
 * exactly and y the data plus 5% each side (a heat map's axes span its grid). */
int plot_panel_set_xlim(plot_figure *f, int panel, double lo, double hi);
int plot_panel_set_ylim(plot_figure *f, int panel, double lo, double hi);
/* Where the legend goes (default PLOT_LEGEND_AUTO). It lists the series and polylines that
 * have a non-empty label; with none there is no legend. */
int plot_panel_set_legend(plot_figure *f, int panel, plot_legend_pos pos);

/* ---- series and overlays -------------------------------------------------------------- */

/* Add a line through (xs[i], ys[i]), i < n, in the given style and colour, ~2.5 px wide.
 * Returns the series index within the panel (>= 0), or -1. label may be NULL. */
int plot_add_series(plot_figure *f, int panel, const char *label, const double *xs,
                    const double *ys, size_t n, plot_style style, plot_color color);
/* Marker at each finite point of a series (default none), and its line width in pixels
 * (0 draws markers only). */
int plot_series_set_marker(plot_figure *f, int panel, int series, plot_marker marker);
int plot_series_set_width(plot_figure *f, int panel, int series, double width_px);
int plot_series_set_label(plot_figure *f, int panel, int series, const char *label);

/* A black overlay line in data coordinates (4 px solid; 3 px dashed or dotted), e.g. the
 * curve w(t) or the straight segment on a heat map. It does not move automatic axis ranges
 * of a heat-map panel. Unlabelled; returns its series index, so plot_series_set_* apply. */
int plot_add_polyline(plot_figure *f, int panel, const double *xs, const double *ys,
                      size_t n, plot_style style);
/* A black marker (~15 px) at (x, y), e.g. a bend; label (NULL for none) is written next
 * to it. Returns the marker index (>= 0), or -1. */
int plot_add_marker(plot_figure *f, int panel, double x, double y, plot_marker shape,
                    const char *label);

/* ---- heat map (loss surface over a plane) --------------------------------------------- */

/* Levels and colours as in the reference plane_plot.py (ALGORITHMS.md section 7):
 *   clipped = min(v, vmax); g = (ln(max(clipped) - min(clipped)) - log_alpha) / N;
 *   level_k = min(clipped) + exp(log_alpha + g k), k = 0..N, with level_0 = min(clipped),
 *   level_N = max(clipped), and a catch-all level_{N+1} = 1e10.
 * Band k is [level_k, level_{k+1}); its fill is jet_r(norm(midpoint)) laid over white
 * with opacity alpha, contour lines (where the band changes) are jet_r(norm(level)). */
typedef struct {
    double vmax;       /* clip used to place the levels; INFINITY for none */
    double log_alpha;  /* ln of the first level's height above the minimum */
    int nlevels;       /* N, 1..PLOT_MAX_LEVELS */
    double alpha;      /* fill opacity over white, in (0, 1] */
    const char *label; /* caption of the colour bar, NULL for none */
} plot_heatmap_opts;
/* vmax = INFINITY, log_alpha = -5, nlevels = 7, alpha = 0.55, label = NULL. */
plot_heatmap_opts plot_heatmap_defaults(void);

/* Fill the panel with the surface v over the grid xs[0..nx) x ys[0..ny) (each strictly
 * increasing, nx, ny >= 2), with v[i*ny + j] the value at (xs[i], ys[j]), i.e. indexed
 * [x][y] like plane.npz's [i_alpha, j_beta]. The bands are filled contours (PLplot's
 * plshades, linear between grid points) with contour lines at the levels; values above
 * the top level fill the catch-all band; a cell with a non-finite corner is light grey.
 * A colour bar labelled with the levels ("%.2g", the top one "> level_N") is drawn to the
 * right of the panel. opts NULL means plot_heatmap_defaults(). One heat map
 * per panel; a second call replaces the first. */
int plot_heatmap(plot_figure *f, int panel, const double *xs, size_t nx, const double *ys,
                 size_t ny, const double *v, const plot_heatmap_opts *opts);
/* The colours the panel's heat map uses for band k (0..N): fill (already blended over
 * white) and contour line at the band's lower level. Either pointer may be NULL. */
int plot_heatmap_band_color(const plot_figure *f, int panel, int band, plot_color *fill,
                            plot_color *line);

/* ---- output ---------------------------------------------------------------------------- */

/* Draw the figure (PLplot's memcairo device). Returns its RGB pixels (width*height*3
 * bytes, rows top to bottom), owned by the figure and valid until the next plot_render or
 * plot_figure_free; NULL on failure (plot_figure_last_error says why). w and h may be
 * NULL. */
const uint8_t *plot_render(plot_figure *f, int *w, int *h);
/* Draw and write the figure in the format its file name ends with: .png (pngcairo),
 * .svg (svgcairo) or .pdf (pdfcairo), case-insensitive; another ending is an error
 * ("<path>: unknown picture format '.xyz' (use .png, .svg or .pdf)"). PNGs are width x
 * height pixels; SVG and PDF pages are width x height points. Written atomically: to
 * "<path>.tmp.XXXXXX" in the same directory, then renamed onto path. Everything that
 * would make PLplot exit (no such device, a file it cannot open) is checked first. On
 * failure returns -1, leaves no file behind and, when err is not NULL, puts a one-line
 * message naming path in err (PLOT_ERR_LEN bytes). */
int plot_save(plot_figure *f, const char *path, char *err);
/* The same as plot_save (kept for older callers; the format still follows the name). */
int plot_save_png(plot_figure *f, const char *path, char *err);
/* Where data point (x, y) of a panel lands in the picture, in continuous pixel
 * coordinates (see conventions above); lays the figure out first if needed. Points
 * outside the axis ranges map outside the plot area. */
int plot_data_to_pixel(plot_figure *f, int panel, double x, double y, double *px, double *py);

/* ---- scales and colours (pure functions, used by the figure and exposed for tests) ---- */

/* Round ticks step*i with step in {1, 2, 5} x 10^k, the smallest such step for which the
 * ticks covering [lo, hi] (first <= lo, last >= hi) number at most max_ticks (taken as
 * at least 3; two ticks cannot cover a range that straddles 0).
 * Writes up to cap ticks to out and returns how many there are (0 on bad input:
 * non-finite bounds or lo > hi; lo == hi is widened first). *step may be NULL.
 * The axes use the same 1-2-5 steps but label only the ticks inside their range. */
size_t plot_nice_ticks(double lo, double hi, int max_ticks, double *out, size_t cap,
                       double *step);
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
/* The i-th palette colour (see PLOT_PALETTE). */
plot_color plot_palette(int i);
/* alpha * fg + (1 - alpha) * bg, per channel, rounded. */
plot_color plot_blend(plot_color fg, plot_color bg, double alpha);

#endif
