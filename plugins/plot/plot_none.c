/* plot_none.c: the plot module of a build without PLplot (make PLOT=0, as on a GPU server
 * whose image has no PLplot: scripts/gpu_check.sh). Figures are built as usual and nothing
 * is drawn: plot_unavailable() says why, the command line refuses -png/-svg/-pdf with it
 * before any work (cli_check_picture), and plot_save fails with it. Every command still
 * writes its tables, CSV files and .weights. plot_scale.c (ticks, levels, colours) is shared
 * with the real module. */
#include <stdio.h>
#include <stdlib.h>
#include "plot.h"

static const char *WHY = "this darknet was built without PLplot (make PLOT=0): no pictures; "
                         "write the CSV and draw it with a PLplot build (darknet plot)";

struct plot_figure { int panels; };

const char *plot_unavailable(void) { return WHY; }

plot_figure *plot_figure_new_grid(int width, int height, int rows, int cols) {
    if (width < 16 || height < 16 || width > 16384 || height > 16384 || rows < 1 || cols < 1 || rows * cols > PLOT_MAX_PANELS)
        return NULL;
    plot_figure *f = calloc(1, sizeof *f);
    if (f) f->panels = rows * cols;
    return f;
}
plot_figure *plot_figure_new(int width, int height, int npanels) { return plot_figure_new_grid(width, height, 1, npanels); }
void plot_figure_free(plot_figure *f) { free(f); }
int plot_figure_set_title(plot_figure *f, const char *title) { (void)f; (void)title; return 0; }
const char *plot_figure_last_error(const plot_figure *f) { (void)f; return WHY; }

static int panel_ok(const plot_figure *f, int panel) { return f && panel >= 0 && panel < f->panels ? 0 : -1; }
int plot_panel_set(plot_figure *f, int panel, const char *title, const char *xlabel, const char *ylabel) {
    (void)title; (void)xlabel; (void)ylabel;
    return panel_ok(f, panel);
}
int plot_panel_set_logy(plot_figure *f, int panel, int on) { (void)on; return panel_ok(f, panel); }
int plot_panel_set_xlim(plot_figure *f, int panel, double lo, double hi) { (void)lo; (void)hi; return panel_ok(f, panel); }
int plot_panel_set_ylim(plot_figure *f, int panel, double lo, double hi) { (void)lo; (void)hi; return panel_ok(f, panel); }
int plot_panel_set_legend(plot_figure *f, int panel, plot_legend_pos pos) { (void)pos; return panel_ok(f, panel); }
int plot_add_series(plot_figure *f, int panel, const char *label, const double *xs, const double *ys, size_t n,
                    plot_style style, plot_color color) {
    (void)label; (void)xs; (void)ys; (void)n; (void)style; (void)color;
    return panel_ok(f, panel);
}
int plot_series_set_marker(plot_figure *f, int panel, int series, plot_marker marker) {
    (void)series; (void)marker;
    return panel_ok(f, panel);
}
int plot_series_set_width(plot_figure *f, int panel, int series, double width_px) {
    (void)series; (void)width_px;
    return panel_ok(f, panel);
}
int plot_series_set_label(plot_figure *f, int panel, int series, const char *label) {
    (void)series; (void)label;
    return panel_ok(f, panel);
}
int plot_add_polyline(plot_figure *f, int panel, const double *xs, const double *ys, size_t n, plot_style style) {
    (void)xs; (void)ys; (void)n; (void)style;
    return panel_ok(f, panel);
}
int plot_add_marker(plot_figure *f, int panel, double x, double y, plot_marker shape, const char *label) {
    (void)x; (void)y; (void)shape; (void)label;
    return panel_ok(f, panel);
}
int plot_heatmap(plot_figure *f, int panel, const double *xs, size_t nx, const double *ys, size_t ny, const double *v,
                 const plot_heatmap_opts *opts) {
    (void)xs; (void)nx; (void)ys; (void)ny; (void)v; (void)opts;
    return panel_ok(f, panel);
}
int plot_heatmap_band_color(const plot_figure *f, int panel, int band, plot_color *fill, plot_color *line) {
    (void)f; (void)panel; (void)band; (void)fill; (void)line;
    return -1;
}
const uint8_t *plot_render(plot_figure *f, int *w, int *h) {
    (void)f; (void)w; (void)h;
    return NULL;
}
int plot_save(plot_figure *f, const char *path, char *err) {
    (void)f;
    snprintf(err, PLOT_ERR_LEN, "%s: %s", path, WHY);
    return -1;
}
int plot_save_png(plot_figure *f, const char *path, char *err) { return plot_save(f, path, err); }
int plot_data_to_pixel(plot_figure *f, int panel, double x, double y, double *px, double *py) {
    (void)f; (void)panel; (void)x; (void)y; (void)px; (void)py;
    return -1;
}
