/* plot_table.c: a CSV table with a header line, read into numeric series (plot_table.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plot.h"
#include "plot_table.h"

#define LINE_MAX_BYTES 16384

/* Splits line at its commas (at most PLOT_TABLE_MAXCOL fields) after cutting its end of line. */
static int split(char *line, char **f) {
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *s = line; n < PLOT_TABLE_MAXCOL;) {
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c) break;
        *c = 0; s = c + 1;
    }
    return n;
}

static int push(plot_table_series *s, double x, double y) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof(double));
        if (nx) s->x = nx;
        double *ny = nx ? realloc(s->y, cap * sizeof(double)) : NULL;
        if (!ny) return -1;
        s->y = ny; s->cap = cap;
    }
    s->x[s->n] = x; s->y[s->n] = y; s->n++;
    return 0;
}

int plot_table_open(plot_table *t, const char *path, char *err) {
    memset(t, 0, sizeof *t);
    t->path = path;
    if (!(t->fp = fopen(path, "r"))) { snprintf(err, PLOT_ERR_LEN, "%s: cannot open", path); return -1; }
    if (!(t->hline = malloc(LINE_MAX_BYTES)) || !(t->line = malloc(LINE_MAX_BYTES))) {
        snprintf(err, PLOT_ERR_LEN, "out of memory");
        return -1;
    }
    if (!fgets(t->hline, LINE_MAX_BYTES, t->fp)) { snprintf(err, PLOT_ERR_LEN, "%s: empty file (no header line)", path); return -1; }
    t->nh = split(t->hline, t->head);
    return 0;
}

int plot_table_column(const plot_table *t, const char *name, char *err) {
    for (int i = 0; i < t->nh; i++) if (!strcmp(t->head[i], name)) return i;
    snprintf(err, PLOT_ERR_LEN, "%s: no column '%s'", t->path, name);
    return -1;
}

int plot_table_read(plot_table *t, int xcol, const int *ycols, int ny, int gcol, char *err) {
    char *f[PLOT_TABLE_MAXCOL], *end;
    int lineno = 1, maxg = gcol >= 0 ? PLOT_TABLE_MAXSER : 1;
    if (!(t->ser = calloc((size_t)maxg * ny + 1, sizeof *t->ser))) { snprintf(err, PLOT_ERR_LEN, "out of memory"); return -1; }
    t->ny = ny;
    t->ng = gcol >= 0 ? 0 : 1;
    t->xcol = xcol; t->gcol = gcol;
    for (int k = 0; k < ny; k++) t->ycol[k] = ycols[k];
    plot_table_series *ser = t->ser;
    for (int k = 0; k < ny; k++) snprintf(ser[k].name, sizeof ser[k].name, "%s", t->head[ycols[k]]);
    while (fgets(t->line, LINE_MAX_BYTES, t->fp)) {
        lineno++;
        if (t->line[0] == '\n' || t->line[0] == 0) continue;
        int n = split(t->line, f), g = 0;
        if (n < t->nh) { snprintf(err, PLOT_ERR_LEN, "%s:%d: %d fields, the header has %d", t->path, lineno, n, t->nh); return -1; }
        double x = strtod(f[xcol], &end);
        if (end == f[xcol]) { snprintf(err, PLOT_ERR_LEN, "%s:%d: '%s' is not a number", t->path, lineno, f[xcol]); return -1; }
        if (gcol >= 0) {
            while (g < t->ng && strcmp(ser[g * ny].name, f[gcol])) g++;
            if (g == t->ng) {
                if (t->ng == PLOT_TABLE_MAXSER) { snprintf(err, PLOT_ERR_LEN, "%s: more than %d groups", t->path, PLOT_TABLE_MAXSER); return -1; }
                for (int k = 0; k < ny; k++) snprintf(ser[g * ny + k].name, sizeof ser[0].name, "%s", f[gcol]);
                t->ng++;
            }
        }
        for (int k = 0; k < ny; k++) {
            double v = strtod(f[ycols[k]], &end);
            if (push(&ser[g * ny + k], x, end == f[ycols[k]] ? NAN : v)) { snprintf(err, PLOT_ERR_LEN, "out of memory"); return -1; }
        }
    }
    return 0;
}

void plot_table_close(plot_table *t) {
    if (t->fp) fclose(t->fp);
    if (t->ser)   /* only the first ng groups have numbers */
        for (int s = 0; s < t->ny * t->ng; s++) { free(t->ser[s].x); free(t->ser[s].y); }
    free(t->ser); free(t->hline); free(t->line);
    memset(t, 0, sizeof *t);
}

/* The x values' range over every series read (1 where they are all equal). */
static double x_span(const plot_table *t) {
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < t->ny * t->ng; k++)
        for (size_t i = 0; i < t->ser[k].n; i++) lo = fmin(lo, t->ser[k].x[i]), hi = fmax(hi, t->ser[k].x[i]);
    return hi > lo ? hi - lo : 1;
}

/* x of series s of ns, shifted from its neighbours by 2 % of the x range (error bars). */
static double *dodged(const plot_table_series *q, double span, int s, int ns) {
    double d = span * 0.02 * (s - 0.5 * (ns - 1)), *x = malloc((q->n + 1) * sizeof *x);
    for (size_t i = 0; x && i < q->n; i++) x[i] = q->x[i] + d;
    return x;
}

int plot_table_draw(const plot_table *t, const plot_table_look *o, const char *path, char *err) {
    int stride = t->ny, ne = o->nerr > 0 ? o->nerr : 0, ny = stride - ne;
    int npan = o->panels ? ny : 1, ns = t->gcol >= 0 ? t->ng : o->panels ? 1 : ny;
    plot_series ps[PLOT_MAX_PANELS][PLOT_TABLE_MAXSER];
    const double *pe[PLOT_MAX_PANELS][PLOT_TABLE_MAXSER];
    double *xs[PLOT_MAX_PANELS][PLOT_TABLE_MAXSER] = { { NULL } };
    plot_panel pan[PLOT_MAX_PANELS];
    char tbuf[1024], lbuf[1024], *tp = NULL, *lp = NULL;
    if (ne && ne != ny) { snprintf(err, PLOT_ERR_LEN, "%s: %d error columns for %d y columns", path, ne, ny); return -1; }
    if (npan > PLOT_MAX_PANELS) { snprintf(err, PLOT_ERR_LEN, "%s: at most %d panels, got %d", path, PLOT_MAX_PANELS, npan); return -1; }
    snprintf(tbuf, sizeof tbuf, "%s", o->title ? o->title : "");
    snprintf(lbuf, sizeof lbuf, "%s", o->ylabel ? o->ylabel : "");
    int rc = -1;
    double span = ne ? x_span(t) : 1;
    for (int p = 0; p < npan; p++) {
        const char *pt = o->title, *py = o->ylabel ? o->ylabel : (ny == 1 ? t->head[t->ycol[0]] : NULL);
        if (o->panels) { /* one comma-separated text per panel */
            pt = strtok_r(p ? NULL : tbuf, ",", &tp);
            py = strtok_r(p ? NULL : lbuf, ",", &lp);
            if (!py) py = t->head[t->ycol[p]];
        }
        for (int s = 0; s < ns; s++) {
            int k = o->panels ? s * stride + p : t->gcol >= 0 ? s * stride : s;
            const plot_table_series *q = &t->ser[k];
            const double *x = q->x;
            if (ne) {
                if (!(x = xs[p][s] = dodged(q, span, s, ns))) { snprintf(err, PLOT_ERR_LEN, "out of memory"); goto done; }
                pe[p][s] = t->ser[k + ny].y;
            }
            ps[p][s] = (plot_series){ q->name, x, q->y, q->n, plot_palette(s), ne ? PLOT_NO_LINE : s >= 4 ? PLOT_DASHED : PLOT_SOLID,
                                      ne || q->n <= 30 ? PLOT_CIRCLE : PLOT_NO_MARKER };
        }
        pan[p] = (plot_panel){ .title = pt, .xlabel = o->xlabel ? o->xlabel : t->head[t->xcol], .ylabel = py, .series = ps[p],
                               .nseries = ns, .logy = o->logy, .yerr = ne ? pe[p] : NULL };
    }
    plot_lines fig = { .width = o->panels ? 600 * npan : 900, .height = o->panels ? 480 : 600, .cols = npan, .panels = pan };
    rc = plot_lines_save(&fig, path, err) ? -1 : 0;
done:
    for (int p = 0; p < npan; p++)
        for (int s = 0; s < ns; s++) free(xs[p][s]);
    return rc;
}
