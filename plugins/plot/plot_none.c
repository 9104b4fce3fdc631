/* plot_none.c: the plot module of a build without PLplot (make PLOT=0, as on a GPU server
 * whose image has no PLplot: scripts/gpu_check.sh). Nothing is drawn: plot_unavailable()
 * says why, the command line refuses -png/-svg/-pdf with it before any work
 * (cli_check_picture), and every drawing fails with it. Every command still writes its
 * tables, CSV files and .weights. plot_scale.c (levels, colours) is shared with the real
 * module. */
#include <stdio.h>
#include "plot.h"

static const char *WHY = "this darknet was built without PLplot (make PLOT=0): no pictures; "
                         "write the CSV and draw it with a PLplot build (darknet plot)";

const char *plot_unavailable(void) { return WHY; }

static int fail(const char *path, char *err) {
    if (err) snprintf(err, PLOT_ERR_LEN, "%s: %s", path ? path : "plot", WHY);
    return -1;
}

int plot_lines_save(const plot_lines *fig, const char *path, char *err) {
    (void)fig;
    return fail(path, err);
}
int plot_surface_save(const plot_surface *fig, const char *path, char *err) {
    (void)fig;
    return fail(path, err);
}
int plot_surface_fit_height(const plot_surface *fig) { return fig->height; }
uint8_t *plot_lines_render(const plot_lines *fig, plot_area *area, char *err) {
    (void)fig, (void)area, fail(NULL, err);
    return NULL;
}
uint8_t *plot_surface_render(const plot_surface *fig, plot_area *area, char *err) {
    (void)fig, (void)area, fail(NULL, err);
    return NULL;
}
