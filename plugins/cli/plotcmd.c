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
    "  -panels          one panel per -y column, side by side (with -group: one series per\n"
    "                   group in each); -title and -ylabel then take one comma-separated\n"
    "                   text per panel\n"
    "  -png OUT         the picture (.png, .svg or .pdf)\n"
    "  -plane           the CSV is one of 'darknet plane': draw its two heat maps again,\n"
    "                   OUT_train_loss.png and OUT_test_error.png (no -x, -y)\n";

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
    int logy = cli_flag(&a, "logy"), panels = cli_flag(&a, "panels"), plane = cli_flag(&a, "plane");
    if (cli_check_unused(&a)) return 2;
    if (plane && np >= 1 && png) {
        if (plot_unavailable()) return cli_fail("%s: %s", png, plot_unavailable());
        return cli_plane_pictures(pos[0], png);
    }
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
    if (group && ny != 1 && !panels) { fclose(fp); return cli_fail("-group takes one -y column (or several with -panels), got %d", ny); }
    if (panels && ny > PLOT_MAX_PANELS) { fclose(fp); return cli_fail("-panels: at most %d -y columns, got %d", PLOT_MAX_PANELS, ny); }
    /* ser[g * ny + k]: group g (one group without -group), column k */
    static series ser[MAXSER * MAXSER];
    memset(ser, 0, sizeof ser);
    int ng = group ? 0 : 1, rc = 0, lineno = 1;
    for (int k = 0; k < ny; k++) snprintf(ser[k].name, sizeof ser[k].name, "%s", head[yi[k]]);
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '\n' || line[0] == 0) continue;
        int n = split(line, f);
        if (n < nh) { rc = cli_fail("%s:%d: %d fields, the header has %d", pos[0], lineno, n, nh); break; }
        char *end;
        double x = strtod(f[xi], &end);
        if (end == f[xi]) { rc = cli_fail("%s:%d: '%s' is not a number", pos[0], lineno, f[xi]); break; }
        int g = 0;
        if (group) {
            while (g < ng && strcmp(ser[g * ny].name, f[gi])) g++;
            if (g == ng) {
                if (ng == MAXSER) { rc = cli_fail("%s: more than %d groups", pos[0], MAXSER); break; }
                for (int k = 0; k < ny; k++) snprintf(ser[g * ny + k].name, sizeof ser[0].name, "%s", f[gi]);
                ng++;
            }
        }
        for (int k = 0; k < ny; k++) {
            double v = strtod(f[yi[k]], &end);
            push(&ser[g * ny + k], x, end == f[yi[k]] ? NAN : v);
        }
    }
    fclose(fp);
    if (!rc) {
        int npan = panels ? ny : 1, ns = group ? ng : panels ? 1 : ny;
        static plot_series ps[PLOT_MAX_PANELS][MAXSER];
        plot_panel pan[PLOT_MAX_PANELS];
        char tbuf[1024], lbuf[1024], *tp = NULL, *lp = NULL;
        snprintf(tbuf, sizeof tbuf, "%s", title ? title : "");
        snprintf(lbuf, sizeof lbuf, "%s", yl ? yl : "");
        for (int p = 0; p < npan; p++) {
            const char *pt = title, *py = yl ? yl : (ny == 1 ? head[yi[0]] : NULL);
            if (panels) { /* one comma-separated text per panel */
                pt = strtok_r(p ? NULL : tbuf, ",", &tp);
                py = strtok_r(p ? NULL : lbuf, ",", &lp);
                if (!py) py = head[yi[p]];
            }
            for (int s = 0; s < ns; s++) {
                series *q = &ser[panels ? s * ny + p : s];
                ps[p][s] = (plot_series){ q->name, q->x, q->y, q->n, plot_palette(s), s >= 4 ? PLOT_DASHED : PLOT_SOLID,
                                          q->n <= 30 ? PLOT_CIRCLE : PLOT_NO_MARKER };
            }
            pan[p] = (plot_panel){ .title = pt, .xlabel = xl ? xl : xs, .ylabel = py, .series = ps[p], .nseries = ns, .logy = logy };
        }
        plot_lines fig = { .width = panels ? 600 * npan : 900, .height = panels ? 480 : 600, .cols = npan, .panels = pan };
        char err[DKMC_ERRLEN];
        if (plot_lines_save(&fig, png, err)) rc = cli_fail("%s", err);
        else fprintf(stderr, "wrote %s\n", png);
    }
    for (int s = 0; s < MAXSER * MAXSER; s++) { free(ser[s].x); free(ser[s].y); }
    return rc;
}
