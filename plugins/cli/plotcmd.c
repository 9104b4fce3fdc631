/* plotcmd.c: "darknet plot <file.csv> -x COL -y COL[,COL...]": a line plot of any CSV this
 * tool writes (curve tables, training and FGE tables, the budget study), one series per -y
 * column or, with -group COL, one series per value of that column (in order of first
 * appearance). Plain comma-separated values with a header line; no quoting. The table is
 * read and drawn by plot/ (plot_table.h). */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "plot.h"
#include "plot_table.h"

static const char *help =
    "usage: darknet plot <file.csv> -x COL -y COL[,COL...] -png OUT [options]\n"
    "A line plot of CSV columns (as written by -csv of train, fge, curve eval, ensemble).\n"
    "  -group COL       one series per value of COL (e.g. method, path)\n"
    "  -title T, -xlabel T, -ylabel T   text (default: none, the x column, the y column)\n"
    "  -logy            logarithmic y axis\n"
    "  -err COL[,COL..] error half-widths, one column per -y column (e.g. a standard error):\n"
    "                   points with error bars, no lines, groups side by side\n"
    "  -panels          one panel per -y column, side by side (with -group: one series per\n"
    "                   group in each); -title and -ylabel then take one comma-separated\n"
    "                   text per panel\n"
    "  -png OUT         the picture (.png, .svg or .pdf)\n"
    "  -plane           the CSV is one of 'darknet plane': draw its two heat maps again,\n"
    "                   OUT_train_loss.png and OUT_test_error.png (no -x, -y); -aspect equal:\n"
    "                   one distance unit as long on both axes\n";

/* The header's x, group and y columns named on the command line, then the option checks. */
static int columns(plot_table *t, const char *list, int *idx, int *n) {
    char err[DKMC_ERRLEN], buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *c = strtok(buf, ","); c && *n < PLOT_TABLE_MAXSER; c = strtok(NULL, ",")) {
        if ((idx[*n] = plot_table_column(t, c, err)) < 0) return cli_fail("%s", err);
        (*n)++;
    }
    return 0;
}

static int find_columns(plot_table *t, const char *xs, const char *ys, const char *es, const char *group, int panels,
                        int *xi, int *gi, int *yi, int *ny, int *ne) {
    char err[DKMC_ERRLEN];
    if ((*xi = plot_table_column(t, xs, err)) < 0) return cli_fail("%s", err);
    if (group && (*gi = plot_table_column(t, group, err)) < 0) return cli_fail("%s", err);
    *ny = *ne = 0;
    if (columns(t, ys, yi, ny)) return 1;
    int y = *ny;
    if (es && columns(t, es, yi, ny)) return 1;
    *ne = *ny - y;
    if (es && *ne != y) return cli_fail("-err: %d column(s) for %d -y column(s)", *ne, y);
    if (group && y != 1 && !panels) return cli_fail("-group takes one -y column (or several with -panels), got %d", y);
    if (panels && y > PLOT_MAX_PANELS) return cli_fail("-panels: at most %d -y columns, got %d", PLOT_MAX_PANELS, y);
    return 0;
}

int cmd_plot(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet plot");
    char *pos[1] = { NULL };
    int np = cli_positionals(&a, pos, 1);
    const char *xs = cli_str(&a, "x", NULL), *ys = cli_str(&a, "y", NULL), *group = cli_str(&a, "group", NULL),
               *es = cli_str(&a, "err", NULL);
    plot_table_look look = { .title = cli_str(&a, "title", NULL), .xlabel = cli_str(&a, "xlabel", NULL),
                             .ylabel = cli_str(&a, "ylabel", NULL), .logy = cli_flag(&a, "logy"), .panels = cli_flag(&a, "panels") };
    const char *png = cli_str(&a, "png", NULL);
    int plane = cli_flag(&a, "plane");
    const char *aspect = cli_str(&a, "aspect", NULL);
    if (cli_check_unused(&a)) return 2;
    if (plane && np >= 1 && png) {
        if (plot_unavailable()) return cli_fail("%s: %s", png, plot_unavailable());
        int eq = cli_aspect(aspect);
        return eq < 0 ? 1 : cli_plane_pictures(pos[0], png, eq);
    }
    if (np < 1 || !xs || !ys || !png) { return cli_usage_error(help); }
    if (cli_check_picture(png)) return 1;
    plot_table t;
    char err[DKMC_ERRLEN];
    int xi = -1, gi = -1, yi[PLOT_TABLE_MAXSER], ny = 0, rc = 1;
    if (plot_table_open(&t, pos[0], err)) cli_fail("%s", err);
    else if (!find_columns(&t, xs, ys, es, group, look.panels, &xi, &gi, yi, &ny, &look.nerr)) {
        if (plot_table_read(&t, xi, yi, ny, gi, err) || plot_table_draw(&t, &look, png, err)) cli_fail("%s", err);
        else { fprintf(stderr, "wrote %s\n", png); rc = 0; }
    }
    plot_table_close(&t);
    return rc;
}
