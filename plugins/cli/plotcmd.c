/* plotcmd.c: "darknet plot <file.csv> -x COL -y COL[,COL...]": a line plot of any CSV this
 * tool writes (curve tables, training and FGE tables, the budget study), one series per -y
 * column or, with -group COL, one series per value of that column (in order of first
 * appearance). Plain comma-separated values with a header line; no quoting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "plot.h"

static const char *help =
    "usage: darknet plot <file.csv> -x COL -y COL[,COL...] -png OUT [options]\n"
    "A line plot of CSV columns (as written by -csv of train, fge, curve eval, ensemble).\n"
    "  -group COL       one series per value of COL (e.g. method, path)\n"
    "  -title T, -xlabel T, -ylabel T   text (default: none, the x column, the y column)\n"
    "  -logy            logarithmic y axis\n"
    "  -png OUT         the picture (.png, .svg or .pdf)\n";

#define MAXCOL 64
#define MAXSER 16

static int split(char *line, char **f) {
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *s = line; n < MAXCOL;) {
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c) break;
        *c = 0; s = c + 1;
    }
    return n;
}

static int col_index(char **head, int nh, const char *name) {
    for (int i = 0; i < nh; i++) if (!strcmp(head[i], name)) return i;
    return -1;
}

typedef struct { char name[128]; double *x, *y; size_t n, cap; } series;

static void push(series *s, double x, double y) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->x = realloc(s->x, s->cap * sizeof(double)); s->y = realloc(s->y, s->cap * sizeof(double));
        if (!s->x || !s->y) { fprintf(stderr, "darknet: out of memory\n"); exit(1); }
    }
    s->x[s->n] = x; s->y[s->n] = y; s->n++;
}

int cmd_plot(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet plot");
    char *pos[1];
    int np = cli_positionals(&a, pos, 1);
    const char *xs = cli_str(&a, "x", NULL), *ys = cli_str(&a, "y", NULL), *group = cli_str(&a, "group", NULL);
    const char *title = cli_str(&a, "title", NULL), *xl = cli_str(&a, "xlabel", NULL), *yl = cli_str(&a, "ylabel", NULL);
    const char *png = cli_str(&a, "png", NULL);
    int logy = cli_flag(&a, "logy");
    if (cli_check_unused(&a)) return 2;
    if (np < 1 || !xs || !ys || !png) { return cli_usage_error(help); }
    if (cli_check_picture(png)) return 1;
    FILE *fp = fopen(pos[0], "r");
    if (!fp) return cli_fail("%s: cannot open", pos[0]);
    static char hline[16384], line[16384];
    char *head[MAXCOL], *f[MAXCOL];
    if (!fgets(hline, sizeof hline, fp)) { fclose(fp); return cli_fail("%s: empty file (no header line)", pos[0]); }
    int nh = split(hline, head);
    int xi = col_index(head, nh, xs), gi = group ? col_index(head, nh, group) : -1;
    if (xi < 0) { fclose(fp); return cli_fail("%s: no column '%s'", pos[0], xs); }
    if (group && gi < 0) { fclose(fp); return cli_fail("%s: no column '%s'", pos[0], group); }
    char ybuf[1024];
    snprintf(ybuf, sizeof ybuf, "%s", ys);
    int yi[MAXSER], ny = 0;
    for (char *t = strtok(ybuf, ","); t && ny < MAXSER; t = strtok(NULL, ",")) {
        if ((yi[ny] = col_index(head, nh, t)) < 0) { fclose(fp); return cli_fail("%s: no column '%s'", pos[0], t); }
        ny++;
    }
    if (group && ny != 1) { fclose(fp); return cli_fail("-group takes one -y column, got %d", ny); }
    series ser[MAXSER];
    memset(ser, 0, sizeof ser);
    int nser = group ? 0 : ny, rc = 0, lineno = 1;
    if (!group) for (int k = 0; k < ny; k++) snprintf(ser[k].name, sizeof ser[k].name, "%s", head[yi[k]]);
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '\n' || line[0] == 0) continue;
        int n = split(line, f);
        if (n < nh) { rc = cli_fail("%s:%d: %d fields, the header has %d", pos[0], lineno, n, nh); break; }
        char *end;
        double x = strtod(f[xi], &end);
        if (end == f[xi]) { rc = cli_fail("%s:%d: '%s' is not a number", pos[0], lineno, f[xi]); break; }
        if (group) {
            int s = 0;
            while (s < nser && strcmp(ser[s].name, f[gi])) s++;
            if (s == nser) {
                if (nser == MAXSER) { rc = cli_fail("%s: more than %d groups", pos[0], MAXSER); break; }
                snprintf(ser[nser++].name, sizeof ser[0].name, "%s", f[gi]);
            }
            push(&ser[s], x, strtod(f[yi[0]], NULL));
        } else
            for (int k = 0; k < ny; k++) { double v = strtod(f[yi[k]], &end); push(&ser[k], x, end == f[yi[k]] ? NAN : v); }
    }
    fclose(fp);
    if (!rc) {
        plot_figure *fig = plot_figure_new(900, 600, 1);
        plot_panel_set(fig, 0, title, xl ? xl : xs, yl ? yl : (ny == 1 ? head[yi[0]] : NULL));
        if (logy) plot_panel_set_logy(fig, 0, 1);
        for (int s = 0; s < nser; s++) {
            int id = plot_add_series(fig, 0, ser[s].name, ser[s].x, ser[s].y, ser[s].n, s >= 4 ? PLOT_DASHED : PLOT_SOLID, PLOT_PALETTE(s));
            if (ser[s].n <= 30) plot_series_set_marker(fig, 0, id, PLOT_CIRCLE);
        }
        char err[DKMC_ERRLEN];
        if (plot_save(fig, png, err)) rc = cli_fail("%s", err);
        else fprintf(stderr, "wrote %s\n", png);
        plot_figure_free(fig);
    }
    for (int s = 0; s < MAXSER; s++) { free(ser[s].x); free(ser[s].y); }
    return rc;
}
