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

/* A table being plotted: the options, its header's columns and the series read from it. */
typedef struct {
    const char *path, *xs, *ys, *group, *title, *xl, *yl, *png;
    int logy, panels;
    char *head[MAXCOL];
    int nh, xi, gi, yi[MAXSER], ny, ng;
} table;
/* ser[g * ny + k]: group g (one group without -group), column k */
static series ser[MAXSER * MAXSER];

/* The header line: the x, group and y columns named on the command line. */
static int read_header(table *t, FILE *fp) {
    static char hline[16384];
    if (!fgets(hline, sizeof hline, fp)) return cli_fail("%s: empty file (no header line)", t->path);
    t->nh = split(hline, t->head);
    t->xi = col_index(t->head, t->nh, t->xs);
    t->gi = t->group ? col_index(t->head, t->nh, t->group) : -1;
    if (t->xi < 0) return cli_fail("%s: no column '%s'", t->path, t->xs);
    if (t->group && t->gi < 0) return cli_fail("%s: no column '%s'", t->path, t->group);
    char ybuf[1024];
    snprintf(ybuf, sizeof ybuf, "%s", t->ys);
    t->ny = 0;
    for (char *c = strtok(ybuf, ","); c && t->ny < MAXSER; c = strtok(NULL, ",")) {
        if ((t->yi[t->ny] = col_index(t->head, t->nh, c)) < 0) return cli_fail("%s: no column '%s'", t->path, c);
        t->ny++;
    }
    if (t->group && t->ny != 1 && !t->panels) return cli_fail("-group takes one -y column (or several with -panels), got %d", t->ny);
    if (t->panels && t->ny > PLOT_MAX_PANELS) return cli_fail("-panels: at most %d -y columns, got %d", PLOT_MAX_PANELS, t->ny);
    return 0;
}

/* The rows into the series: one per -y column, times one per group with -group. */
static int read_rows(table *t, FILE *fp) {
    static char line[16384];
    char *f[MAXCOL], *end;
    int ny = t->ny, lineno = 1;
    t->ng = t->group ? 0 : 1;
    for (int k = 0; k < ny; k++) snprintf(ser[k].name, sizeof ser[k].name, "%s", t->head[t->yi[k]]);
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '\n' || line[0] == 0) continue;
        int n = split(line, f), g = 0;
        if (n < t->nh) return cli_fail("%s:%d: %d fields, the header has %d", t->path, lineno, n, t->nh);
        double x = strtod(f[t->xi], &end);
        if (end == f[t->xi]) return cli_fail("%s:%d: '%s' is not a number", t->path, lineno, f[t->xi]);
        if (t->group) {
            while (g < t->ng && strcmp(ser[g * ny].name, f[t->gi])) g++;
            if (g == t->ng) {
                if (t->ng == MAXSER) return cli_fail("%s: more than %d groups", t->path, MAXSER);
                for (int k = 0; k < ny; k++) snprintf(ser[g * ny + k].name, sizeof ser[0].name, "%s", f[t->gi]);
                t->ng++;
            }
        }
        for (int k = 0; k < ny; k++) {
            double v = strtod(f[t->yi[k]], &end);
            push(&ser[g * ny + k], x, end == f[t->yi[k]] ? NAN : v);
        }
    }
    return 0;
}

/* The figure: one panel, or one per -y column with -panels. */
static int draw(const table *t) {
    int ny = t->ny, npan = t->panels ? ny : 1, ns = t->group ? t->ng : t->panels ? 1 : ny;
    static plot_series ps[PLOT_MAX_PANELS][MAXSER];
    plot_panel pan[PLOT_MAX_PANELS];
    char tbuf[1024], lbuf[1024], *tp = NULL, *lp = NULL;
    snprintf(tbuf, sizeof tbuf, "%s", t->title ? t->title : "");
    snprintf(lbuf, sizeof lbuf, "%s", t->yl ? t->yl : "");
    for (int p = 0; p < npan; p++) {
        const char *pt = t->title, *py = t->yl ? t->yl : (ny == 1 ? t->head[t->yi[0]] : NULL);
        if (t->panels) { /* one comma-separated text per panel */
            pt = strtok_r(p ? NULL : tbuf, ",", &tp);
            py = strtok_r(p ? NULL : lbuf, ",", &lp);
            if (!py) py = t->head[t->yi[p]];
        }
        for (int s = 0; s < ns; s++) {
            series *q = &ser[t->panels ? s * ny + p : s];
            ps[p][s] = (plot_series){ q->name, q->x, q->y, q->n, plot_palette(s), s >= 4 ? PLOT_DASHED : PLOT_SOLID,
                                      q->n <= 30 ? PLOT_CIRCLE : PLOT_NO_MARKER };
        }
        pan[p] = (plot_panel){ .title = pt, .xlabel = t->xl ? t->xl : t->xs, .ylabel = py, .series = ps[p], .nseries = ns,
                               .logy = t->logy };
    }
    plot_lines fig = { .width = t->panels ? 600 * npan : 900, .height = t->panels ? 480 : 600, .cols = npan, .panels = pan };
    char err[DKMC_ERRLEN];
    if (plot_lines_save(&fig, t->png, err)) return cli_fail("%s", err);
    fprintf(stderr, "wrote %s\n", t->png);
    return 0;
}

int cmd_plot(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet plot");
    char *pos[1] = { NULL };
    int np = cli_positionals(&a, pos, 1);
    table t = { .path = pos[0], .xs = cli_str(&a, "x", NULL), .ys = cli_str(&a, "y", NULL), .group = cli_str(&a, "group", NULL),
                .title = cli_str(&a, "title", NULL), .xl = cli_str(&a, "xlabel", NULL), .yl = cli_str(&a, "ylabel", NULL),
                .png = cli_str(&a, "png", NULL), .logy = cli_flag(&a, "logy"), .panels = cli_flag(&a, "panels") };
    int plane = cli_flag(&a, "plane");
    if (cli_check_unused(&a)) return 2;
    if (plane && np >= 1 && t.png) {
        if (plot_unavailable()) return cli_fail("%s: %s", t.png, plot_unavailable());
        return cli_plane_pictures(pos[0], t.png);
    }
    if (np < 1 || !t.xs || !t.ys || !t.png) { return cli_usage_error(help); }
    if (cli_check_picture(t.png)) return 1;
    FILE *fp = fopen(pos[0], "r");
    if (!fp) return cli_fail("%s: cannot open", pos[0]);
    memset(ser, 0, sizeof ser);
    int rc = read_header(&t, fp) || read_rows(&t, fp);
    fclose(fp);
    if (!rc) rc = draw(&t);
    for (int s = 0; s < MAXSER * MAXSER; s++) { free(ser[s].x); free(ser[s].y); }
    return rc;
}
