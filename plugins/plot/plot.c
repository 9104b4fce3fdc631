/* plot.c: figures for the mode-connectivity and FGE tools, drawn by PLplot (see plot.h).
 *
 * Building a figure only records data. Layout (axis ranges, ticks, margins, legend corner)
 * is worked out on demand, in pixels, and the drawing hands PLplot exactly that layout
 * (viewports, windows, tick steps), so plot_data_to_pixel answers with the arithmetic the
 * picture uses. PLplot's cairo devices do the drawing: pngcairo, svgcairo and pdfcairo for
 * files, memcairo for plot_render's RGB buffer. PLplot keeps process-wide state and exits
 * the process on some errors (an unknown device, a file it cannot open), so every drawing
 * runs under one lock in a stream of its own, and everything that could make it exit is
 * checked here first. */
#define _GNU_SOURCE
#include "plot.h"
#include "wspace.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plplot.h>

/* ---- look (in pixels; text scales with the panel cell, 1.0 at about 600 x 400) -------- */
#define TEXT_PX 14.0          /* character height of ticks, labels, legend */
#define SERIES_WIDTH 2.5
#define SERIES_MARKER 7.0     /* marker size of a series */
#define OVERLAY_MARKER 15.0   /* plot_add_marker */
#define CONTOUR_WIDTH 2.0
#define MAX_TICKS 32
#define GRID_COLOR 0xe0e0e0u
#define NAN_COLOR 0xd0d0d0u
#define LEGEND_EDGE 0xb0b0b0u

/* cmap0 slots: PLplot picks colours by index, so each colour used is loaded into one. */
enum { C_BG = 0, C_FG = 1, C_TMP = 2, C_LEGEND = 16, NCOL0 = 16 + 64 };

/* ---- the figure -------------------------------------------------------------------------- */
typedef struct {
    char *label;
    double *x, *y;
    size_t n;
    plot_style style;
    plot_color color;
    plot_marker marker;
    double width;
    int overlay; /* plot_add_polyline: does not move a heat map's axes */
} series_t;

typedef struct {
    double x, y;
    plot_marker shape;
    char *label;
} mark_t;

typedef struct {
    double *xs, *ys, *v;
    size_t nx, ny;
    plot_heatmap_opts o;
    char *label;
    int N;
    double lev[PLOT_MAX_LEVELS + 2];
    plot_color fill[PLOT_MAX_LEVELS + 1], line[PLOT_MAX_LEVELS + 1];
} heat_t;

typedef struct {
    char *title, *xlabel, *ylabel;
    int logy;
    double xlim[2], ylim[2];
    plot_legend_pos legend;
    series_t *s;
    int ns, scap, auto_color;
    mark_t *m;
    int nm, mcap;
    heat_t *hm;
    /* layout: plot area [L, R) x [T, B) in pixels; axis ranges (y in log10 units when
     * logy); tick steps; the legend's corner and size */
    double L, T, R, B;
    double x0, x1, y0, y1, xstep, ystep;
    int nyt;                 /* log y axis: its ticks (log10 units), chosen here */
    double yt[MAX_TICKS];
    plot_legend_pos corner;
    double lw, lh;
} panel_t;

struct plot_figure {
    int w, h, rows, cols, np;
    char *title;
    panel_t p[PLOT_MAX_PANELS];
    uint8_t *px;
    int laid_out;
    double text; /* character height in pixels */
    char err[DKMC_ERRLEN];
};

static int fail(plot_figure *f, const char *fmt, ...) {
    if (f) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->err, sizeof f->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void touch(plot_figure *f) { f->laid_out = 0; }

/* Replace *dst by a copy of s (NULL or "" clears it). */
static int set_str(char **dst, const char *s) {
    char *c = NULL;
    if (s && *s && !(c = strdup(s))) return -1;
    free(*dst);
    *dst = c;
    return 0;
}

static panel_t *get_panel(plot_figure *f, int panel) {
    if (!f) return NULL;
    if (panel < 0 || panel >= f->np) {
        fail(f, "plot: panel %d out of range (figure has %d)", panel, f->np);
        return NULL;
    }
    return &f->p[panel];
}

plot_figure *plot_figure_new_grid(int width, int height, int rows, int cols) {
    if (width < 16 || height < 16 || width > 16384 || height > 16384 || rows < 1 || cols < 1 ||
        rows > PLOT_MAX_PANELS || cols > PLOT_MAX_PANELS || rows * cols > PLOT_MAX_PANELS)
        return NULL;
    plot_figure *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->w = width;
    f->h = height;
    f->rows = rows;
    f->cols = cols;
    f->np = rows * cols;
    for (int i = 0; i < f->np; i++) {
        f->p[i].xlim[0] = f->p[i].xlim[1] = NAN;
        f->p[i].ylim[0] = f->p[i].ylim[1] = NAN;
    }
    return f;
}

plot_figure *plot_figure_new(int width, int height, int npanels) {
    return plot_figure_new_grid(width, height, 1, npanels);
}

static void heat_free(heat_t *h) {
    if (!h) return;
    free(h->xs);
    free(h->ys);
    free(h->v);
    free(h->label);
    free(h);
}

void plot_figure_free(plot_figure *f) {
    if (!f) return;
    for (int i = 0; i < f->np; i++) {
        panel_t *p = &f->p[i];
        free(p->title);
        free(p->xlabel);
        free(p->ylabel);
        for (int k = 0; k < p->ns; k++) {
            free(p->s[k].label);
            free(p->s[k].x);
            free(p->s[k].y);
        }
        free(p->s);
        for (int k = 0; k < p->nm; k++) free(p->m[k].label);
        free(p->m);
        heat_free(p->hm);
    }
    free(f->title);
    free(f->px);
    free(f);
}

int plot_figure_set_title(plot_figure *f, const char *title) {
    if (!f) return -1;
    touch(f);
    return set_str(&f->title, title) ? fail(f, "plot: out of memory") : 0;
}

const char *plot_figure_last_error(const plot_figure *f) { return f ? f->err : "plot: no figure"; }

int plot_panel_set(plot_figure *f, int panel, const char *title, const char *xlabel,
                   const char *ylabel) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    touch(f);
    if (set_str(&p->title, title) || set_str(&p->xlabel, xlabel) || set_str(&p->ylabel, ylabel))
        return fail(f, "plot: out of memory");
    return 0;
}

int plot_panel_set_logy(plot_figure *f, int panel, int on) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    touch(f);
    p->logy = on != 0;
    return 0;
}

static int set_lim(plot_figure *f, int panel, double lo, double hi, int y) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    double *lim = y ? p->ylim : p->xlim;
    if (isnan(lo) && isnan(hi)) {
        lim[0] = lim[1] = NAN;
    } else if (!isfinite(lo) || !isfinite(hi) || !(lo < hi)) {
        return fail(f, "plot: bad %s range [%g, %g]", y ? "y" : "x", lo, hi);
    } else {
        lim[0] = lo;
        lim[1] = hi;
    }
    touch(f);
    return 0;
}

int plot_panel_set_xlim(plot_figure *f, int panel, double lo, double hi) {
    return set_lim(f, panel, lo, hi, 0);
}

int plot_panel_set_ylim(plot_figure *f, int panel, double lo, double hi) {
    return set_lim(f, panel, lo, hi, 1);
}

int plot_panel_set_legend(plot_figure *f, int panel, plot_legend_pos pos) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    if ((int)pos < PLOT_LEGEND_AUTO || pos > PLOT_LEGEND_BOTTOM_LEFT)
        return fail(f, "plot: bad legend position %d", (int)pos);
    touch(f);
    p->legend = pos;
    return 0;
}

static plot_color resolve_color(panel_t *p, plot_color c) {
    if (c == PLOT_AUTO_COLOR) return plot_palette(p->auto_color++);
    if (c & 0xff000000u) return plot_palette((int)(c & 0xffu));
    return c;
}

static int add_series(plot_figure *f, int panel, const char *label, const double *xs,
                      const double *ys, size_t n, plot_style style, plot_color color,
                      double width, int overlay) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    if (n > 0 && (!xs || !ys)) return fail(f, "plot: series without data");
    if ((int)style < PLOT_SOLID || style > PLOT_DOTTED)
        return fail(f, "plot: bad line style %d", (int)style);
    if (p->ns == p->scap) {
        int cap = p->scap ? 2 * p->scap : 4;
        series_t *s = realloc(p->s, (size_t)cap * sizeof *s);
        if (!s) return fail(f, "plot: out of memory");
        p->s = s;
        p->scap = cap;
    }
    series_t s = {0};
    s.n = n;
    s.style = style;
    s.width = width;
    s.overlay = overlay;
    if (n > 0) {
        s.x = malloc(n * sizeof *s.x);
        s.y = malloc(n * sizeof *s.y);
    }
    if ((n > 0 && (!s.x || !s.y)) || set_str(&s.label, label)) {
        free(s.x);
        free(s.y);
        return fail(f, "plot: out of memory");
    }
    if (n > 0) {
        memcpy(s.x, xs, n * sizeof *s.x);
        memcpy(s.y, ys, n * sizeof *s.y);
    }
    s.color = resolve_color(p, color);
    p->s[p->ns] = s;
    touch(f);
    return p->ns++;
}

int plot_add_series(plot_figure *f, int panel, const char *label, const double *xs,
                    const double *ys, size_t n, plot_style style, plot_color color) {
    return add_series(f, panel, label, xs, ys, n, style, color, SERIES_WIDTH, 0);
}

int plot_add_polyline(plot_figure *f, int panel, const double *xs, const double *ys,
                      size_t n, plot_style style) {
    return add_series(f, panel, NULL, xs, ys, n, style, PLOT_BLACK,
                      style == PLOT_SOLID ? 4.0 : 3.0, 1);
}

static series_t *get_series(plot_figure *f, int panel, int series) {
    panel_t *p = get_panel(f, panel);
    if (!p) return NULL;
    if (series < 0 || series >= p->ns) {
        fail(f, "plot: series %d out of range (panel %d has %d)", series, panel, p->ns);
        return NULL;
    }
    return &p->s[series];
}

int plot_series_set_marker(plot_figure *f, int panel, int series, plot_marker marker) {
    series_t *s = get_series(f, panel, series);
    if (!s) return -1;
    if ((int)marker < PLOT_NO_MARKER || marker > PLOT_TRIANGLE)
        return fail(f, "plot: bad marker %d", (int)marker);
    s->marker = marker;
    touch(f);
    return 0;
}

int plot_series_set_width(plot_figure *f, int panel, int series, double width_px) {
    series_t *s = get_series(f, panel, series);
    if (!s) return -1;
    if (!(width_px >= 0 && width_px <= 64)) return fail(f, "plot: bad line width %g", width_px);
    s->width = width_px;
    touch(f);
    return 0;
}

int plot_series_set_label(plot_figure *f, int panel, int series, const char *label) {
    series_t *s = get_series(f, panel, series);
    if (!s) return -1;
    touch(f);
    return set_str(&s->label, label) ? fail(f, "plot: out of memory") : 0;
}

int plot_add_marker(plot_figure *f, int panel, double x, double y, plot_marker shape,
                    const char *label) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    if ((int)shape < PLOT_NO_MARKER || shape > PLOT_TRIANGLE)
        return fail(f, "plot: bad marker %d", (int)shape);
    if (p->nm == p->mcap) {
        int cap = p->mcap ? 2 * p->mcap : 4;
        mark_t *m = realloc(p->m, (size_t)cap * sizeof *m);
        if (!m) return fail(f, "plot: out of memory");
        p->m = m;
        p->mcap = cap;
    }
    mark_t m = {x, y, shape, NULL};
    if (set_str(&m.label, label)) return fail(f, "plot: out of memory");
    p->m[p->nm] = m;
    touch(f);
    return p->nm++;
}

/* ---- heat map ------------------------------------------------------------------------- */

const char *plot_unavailable(void) { return NULL; }

int plot_heatmap(plot_figure *f, int panel, const double *xs, size_t nx, const double *ys,
                 size_t ny, const double *v, const plot_heatmap_opts *opts) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    plot_heatmap_opts o = opts ? *opts : plot_heatmap_defaults();
    if (!xs || !ys || !v || nx < 2 || ny < 2 || nx > 1000000 / ny)
        return fail(f, "plot: heat map needs a grid of at least 2x2 values");
    for (size_t i = 0; i < nx; i++)
        if (!isfinite(xs[i]) || (i && !(xs[i] > xs[i - 1])))
            return fail(f, "plot: heat-map x coordinates must be finite and increasing");
    for (size_t j = 0; j < ny; j++)
        if (!isfinite(ys[j]) || (j && !(ys[j] > ys[j - 1])))
            return fail(f, "plot: heat-map y coordinates must be finite and increasing");
    if (o.nlevels < 1 || o.nlevels > PLOT_MAX_LEVELS)
        return fail(f, "plot: heat map needs 1..%d levels, not %d", PLOT_MAX_LEVELS, o.nlevels);
    if (!(o.alpha > 0 && o.alpha <= 1))
        return fail(f, "plot: heat-map alpha %g not in (0, 1]", o.alpha);
    heat_t *h = calloc(1, sizeof *h);
    if (!h) return fail(f, "plot: out of memory");
    h->nx = nx;
    h->ny = ny;
    h->o = o;
    h->N = o.nlevels;
    h->xs = malloc(nx * sizeof *h->xs);
    h->ys = malloc(ny * sizeof *h->ys);
    h->v = malloc(nx * ny * sizeof *h->v);
    if (!h->xs || !h->ys || !h->v || set_str(&h->label, o.label)) {
        heat_free(h);
        return fail(f, "plot: out of memory");
    }
    h->o.label = NULL; /* the copy in h->label is the one used */
    memcpy(h->xs, xs, nx * sizeof *h->xs);
    memcpy(h->ys, ys, ny * sizeof *h->ys);
    memcpy(h->v, v, nx * ny * sizeof *h->v);
    if (plot_heatmap_levels(v, nx * ny, o.vmax, o.log_alpha, o.nlevels, h->lev)) {
        heat_free(h);
        return fail(f, "plot: heat map has no finite value");
    }
    /* Colours: the norm spans the clipped range (level_0 .. level_N), with the reference's
     * 1e-8 slack; bands take their midpoint's colour, lines their level's. */
    double lo = h->lev[0] - 1e-8, hi = h->lev[h->N] + 1e-8;
    for (int k = 0; k <= h->N; k++) {
        double mid = 0.5 * (h->lev[k] + h->lev[k + 1]);
        h->fill[k] = plot_blend(plot_jet_r(plot_log_norm(mid, lo, hi, o.log_alpha)),
                                PLOT_WHITE, o.alpha);
        h->line[k] = plot_jet_r(plot_log_norm(h->lev[k], lo, hi, o.log_alpha));
    }
    heat_free(p->hm);
    p->hm = h;
    touch(f);
    return 0;
}

int plot_heatmap_band_color(const plot_figure *f, int panel, int band, plot_color *fill,
                            plot_color *line) {
    if (!f || panel < 0 || panel >= f->np || !f->p[panel].hm) return -1;
    const heat_t *h = f->p[panel].hm;
    if (band < 0 || band > h->N) return -1;
    if (fill) *fill = h->fill[band];
    if (line) *line = h->line[band];
    return 0;
}


/* ---- layout ----------------------------------------------------------------------------- */

/* Tick label of v on an axis with ticks step apart: as few decimals as the step needs. */
static void tick_label(char *out, size_t n, double v, double step) {
    double a = fabs(v);
    if (a < step * 1e-6) v = 0, a = 0;
    if (a >= 1e6 || step < 1e-4) {
        snprintf(out, n, "%.3g", v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 8) dec = 8;
    snprintf(out, n, "%.*f", dec, v);
}

/* Label of a log axis tick at 10^e: the value, "1e-5" style when far from 1. */
static void log_label(char *out, size_t n, double e) {
    double v = pow(10, e), k = floor(e + 1e-9), m = round(v / pow(10, k));
    if (k >= -3 && k <= 4) snprintf(out, n, "%.6g", m * pow(10, k));
    else snprintf(out, n, "%ge%d", m, (int)k);
}

/* Ticks of a log axis over [lo, hi] (log10 units), at most maxt: whole decades when at
 * least three fit inside, else 1-2-5 or 1..9 times powers of ten. */
static int log_ticks(double lo, double hi, int maxt, double *t) {
    if (maxt < 2) maxt = 2;
    if (maxt > MAX_TICKS) maxt = MAX_TICKS;
    static const int sets[2][9] = {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
    static const int nset[2] = {3, 9};
    double hair = (hi - lo) * 1e-9;
    int decades = (int)(floor(hi + hair) - ceil(lo - hair) + 1);
    if (decades < 3) {
        for (int s = 0; s < 2; s++) {
            int n = 0;
            for (double k = floor(lo) - 1; k <= ceil(hi); k++)
                for (int i = 0; i < nset[s]; i++) {
                    double e = k + log10(sets[s][i]);
                    if (e >= lo - hair && e <= hi + hair && n < MAX_TICKS) t[n++] = e;
                }
            if (n > maxt) break;           /* too dense: take what the coarser set gave */
            if (n >= 3 || s == 1) return n;
        }
    }
    double step = 1;
    while ((floor(hi / step + 1e-9) - ceil(lo / step - 1e-9) + 1) > maxt) step++;
    int n = 0;
    for (double k = ceil(lo / step - 1e-9); k * step <= hi + hair && n < MAX_TICKS; k++)
        t[n++] = k * step;
    return n;
}

/* Finite data range of a panel's series and markers: x, and y in axis units (log10 on a
 * log axis). Overlays (polylines) count only where there is no heat map. */
static void data_range(const panel_t *p, double *xlo, double *xhi, double *ylo, double *yhi) {
    *xlo = *ylo = INFINITY;
    *xhi = *yhi = -INFINITY;
    for (int k = 0; k < p->ns; k++) {
        const series_t *s = &p->s[k];
        for (size_t i = 0; i < s->n; i++) {
            double x = s->x[i], y = s->y[i];
            if (p->logy) y = y > 0 ? log10(y) : NAN;
            if (!isfinite(x) || !isfinite(y)) continue;
            *xlo = fmin(*xlo, x);
            *xhi = fmax(*xhi, x);
            *ylo = fmin(*ylo, y);
            *yhi = fmax(*yhi, y);
        }
    }
    for (int k = 0; k < p->nm; k++) {
        double x = p->m[k].x, y = p->m[k].y;
        if (p->logy) y = y > 0 ? log10(y) : NAN;
        if (!isfinite(x) || !isfinite(y)) continue;
        *xlo = fmin(*xlo, x);
        *xhi = fmax(*xhi, x);
        *ylo = fmin(*ylo, y);
        *yhi = fmax(*yhi, y);
    }
}

static void widen(double *lo, double *hi) {
    if (!(*lo <= *hi)) {
        *lo = 0;
        *hi = 1;
    } else if (*lo == *hi) {
        double d = *lo != 0 ? fabs(*lo) * 0.1 : 0.5;
        *lo -= d;
        *hi += d;
    }
}

/* The smallest 1-2-5 step that puts at most maxt ticks inside [lo, hi]. */
static double tick_step(double lo, double hi, int maxt) {
    double t[MAX_TICKS], step = 1, span = hi - lo;
    if (maxt < 2) maxt = 2;
    if (maxt > MAX_TICKS) maxt = MAX_TICKS;
    /* plot_nice_ticks covers the range with ticks; asking it for one more than we want
     * inside gives the step that leaves at most maxt inside. */
    size_t n = plot_nice_ticks(lo, hi, maxt + 1, t, MAX_TICKS, &step);
    if (n == 0 || !(step > 0)) step = span > 0 ? span : 1;
    return step;
}

/* The ticks k*step inside [lo, hi] (a hair of slack); returns how many, up to cap. */
static int ticks_inside(double lo, double hi, double step, double *t, int cap) {
    double hair = (hi - lo) * 1e-9;
    int n = 0;
    for (double k = ceil((lo - hair) / step); k * step <= hi + hair && n < cap; k++)
        t[n++] = fabs(k * step) < step * 1e-9 ? 0.0 : k * step;
    return n;
}

/* Rough width in pixels of text drawn t pixels high (PLplot measures it only once
 * drawing; the layout needs it before). */
static double text_w(const char *s, double t) { return s ? 0.64 * t * (double)strlen(s) : 0; }

/* Widest y tick label of a panel, in pixels. */
static double ylabels_w(const panel_t *p, double t) {
    double tk[MAX_TICKS], w = 0;
    int n = p->logy ? p->nyt : ticks_inside(p->y0, p->y1, p->ystep, tk, MAX_TICKS);
    if (p->logy) memcpy(tk, p->yt, sizeof tk);
    for (int i = 0; i < n; i++) {
        char s[40];
        if (p->logy) log_label(s, sizeof s, tk[i]);
        else tick_label(s, sizeof s, tk[i], p->ystep);
        w = fmax(w, text_w(s, t));
    }
    return w;
}

/* Colour-bar labels: "%.Pg" with the smallest P >= 2 that keeps the labels of distinct
 * levels distinct (levels 16.6 and 17.4 would both read "17" with %.2g); the catch-all top
 * one reads "> previous". */
static int cbar_precision(const heat_t *h) {
    for (int p = 2; p < 7; p++) {
        int ok = 1;
        for (int k = 1; k <= h->N && ok; k++) {
            char a[32], b[32];
            snprintf(a, sizeof a, "%.*g", p, h->lev[k - 1]);
            snprintf(b, sizeof b, "%.*g", p, h->lev[k]);
            if (h->lev[k] > h->lev[k - 1] && !strcmp(a, b)) ok = 0;
        }
        if (ok) return p;
    }
    return 7;
}

static void cbar_label(const heat_t *h, int k, char *out, size_t n) {
    int p = cbar_precision(h);
    if (k >= h->N + 1) {
        char prev[32];
        snprintf(prev, sizeof prev, "%.*g", p, h->lev[h->N]);
        snprintf(out, n, "> %s", prev);
    } else {
        snprintf(out, n, "%.*g", p, h->lev[k < 0 ? 0 : k]);
    }
}

/* Width of the colour bar with its labels and caption, in pixels. */
static double cbar_w(const heat_t *h, double t) {
    double w = 0;
    for (int k = 0; k <= h->N + 1; k++) {
        char s[48];
        cbar_label(h, k, s, sizeof s);
        w = fmax(w, text_w(s, t));
    }
    return t * 2.6 + w + (h->label ? 2.0 * t : 0);
}

static int legend_entries(const panel_t *p) {
    int n = 0;
    for (int k = 0; k < p->ns; k++) n += p->s[k].label != NULL;
    return n > NCOL0 - C_LEGEND ? NCOL0 - C_LEGEND : n;
}

/* Data (x, y in axis units) to pixels. */
static void to_px(const panel_t *p, double x, double y, double *px, double *py) {
    *px = p->L + (x - p->x0) / (p->x1 - p->x0) * (p->R - p->L);
    *py = p->B - (y - p->y0) / (p->y1 - p->y0) * (p->B - p->T);
}

/* Legend rectangle in pixels for a corner. */
static void legend_rect(const panel_t *p, plot_legend_pos c, double pad, double *x, double *y) {
    int right = c == PLOT_LEGEND_TOP_RIGHT || c == PLOT_LEGEND_BOTTOM_RIGHT;
    int top = c == PLOT_LEGEND_TOP_RIGHT || c == PLOT_LEGEND_TOP_LEFT;
    *x = right ? p->R - pad - p->lw : p->L + pad;
    *y = top ? p->T + pad : p->B - pad - p->lh;
}

/* How many drawn points (and midpoints of segments) fall under the legend in corner c. */
static int legend_cost(const panel_t *p, plot_legend_pos c, double pad) {
    double lx, ly;
    legend_rect(p, c, pad, &lx, &ly);
    lx -= pad / 2, ly -= pad / 2;
    double lw = p->lw + pad, lh = p->lh + pad;
    int cost = 0;
    for (int k = 0; k < p->ns; k++) {
        const series_t *s = &p->s[k];
        double qx = NAN, qy = NAN;
        for (size_t i = 0; i < s->n; i++) {
            double y = p->logy ? (s->y[i] > 0 ? log10(s->y[i]) : NAN) : s->y[i];
            double px, py;
            if (!isfinite(s->x[i]) || !isfinite(y)) {
                qx = NAN;
                continue;
            }
            to_px(p, s->x[i], y, &px, &py);
            for (int h = 0; h < 8; h++) { /* the point and seven along the segment before it */
                double w = h / 8.0, ax = px, ay = py;
                if (h > 0) {
                    if (!isfinite(qx)) break;
                    ax = px + w * (qx - px), ay = py + w * (qy - py);
                }
                cost += ax >= lx && ax <= lx + lw && ay >= ly && ay <= ly + lh;
            }
            qx = px, qy = py;
        }
    }
    for (int k = 0; k < p->nm; k++) {
        double y = p->logy ? (p->m[k].y > 0 ? log10(p->m[k].y) : NAN) : p->m[k].y, px, py;
        if (!isfinite(p->m[k].x) || !isfinite(y)) continue;
        to_px(p, p->m[k].x, y, &px, &py);
        cost += 8 * (px >= lx && px <= lx + lw && py >= ly && py <= ly + lh);
    }
    return cost;
}

/* Where the panel's legend goes; with PLOT_LEGEND_AUTO and data in every corner, an
 * automatic y axis of a line plot is raised so that the legend fits above the data. */
static void place_legend(panel_t *p, double t, int yauto, double ymax_data) {
    int n = legend_entries(p);
    p->corner = PLOT_LEGEND_NONE;
    if (n == 0 || p->legend == PLOT_LEGEND_NONE) return;
    double w = 0;
    for (int k = 0; k < p->ns; k++)
        if (p->s[k].label) w = fmax(w, text_w(p->s[k].label, t));
    p->lw = w + 5.8 * t;
    p->lh = (1.6 * n + 0.7) * t;
    if (p->legend != PLOT_LEGEND_AUTO) {
        p->corner = p->legend;
        return;
    }
    static const plot_legend_pos order[4] = {PLOT_LEGEND_TOP_RIGHT, PLOT_LEGEND_TOP_LEFT,
                                             PLOT_LEGEND_BOTTOM_RIGHT, PLOT_LEGEND_BOTTOM_LEFT};
    int best = -1, bestc = 0;
    for (int i = 0; i < 4; i++) {
        int c = legend_cost(p, order[i], 0.5 * t);
        if (best < 0 || c < bestc) best = i, bestc = c;
    }
    p->corner = order[best];
    if (bestc == 0 || !yauto || p->hm || !isfinite(ymax_data)) return;
    double room = (p->lh + 1.5 * t) / (p->B - p->T); /* share of the height above the data */
    if (room > 0.6) room = 0.6;
    p->y1 = p->y0 + (ymax_data - p->y0) / (1 - room);
    p->corner = PLOT_LEGEND_TOP_RIGHT;
}

/* y ticks for the panel's height. */
static void y_ticks(panel_t *p, double t) {
    int maxt = (int)((p->B - p->T) / (2.6 * t));
    if (p->logy) p->nyt = log_ticks(p->y0, p->y1, maxt, p->yt), p->ystep = 1;
    else p->ystep = tick_step(p->y0, p->y1, maxt);
}

/* First pass over a panel: axis ranges and the margins its own labels need. */
static void layout_panel(plot_figure *f, int i, double top) {
    panel_t *p = &f->p[i];
    double t = f->text;
    int r = i / f->cols, c = i % f->cols;
    double cw = (double)f->w / f->cols, ch = (f->h - top) / f->rows;
    double cx = c * cw, cy = top + r * ch;

    double xlo, xhi, ylo, yhi;
    data_range(p, &xlo, &xhi, &ylo, &yhi);
    if (p->hm) {
        xlo = p->hm->xs[0], xhi = p->hm->xs[p->hm->nx - 1];
        ylo = p->hm->ys[0], yhi = p->hm->ys[p->hm->ny - 1];
        if (p->logy) ylo = ylo > 0 ? log10(ylo) : NAN, yhi = yhi > 0 ? log10(yhi) : NAN;
        if (!isfinite(ylo) || !isfinite(yhi)) ylo = INFINITY, yhi = -INFINITY;
    } else {
        widen(&ylo, &yhi);
        double pad = 0.05 * (yhi - ylo);
        ylo -= pad, yhi += pad;
    }
    widen(&xlo, &xhi);
    widen(&ylo, &yhi);
    int xauto = isnan(p->xlim[0]), yauto = isnan(p->ylim[0]);
    p->x0 = xauto ? xlo : p->xlim[0];
    p->x1 = xauto ? xhi : p->xlim[1];
    if (yauto) {
        p->y0 = ylo, p->y1 = yhi;
    } else if (p->logy) {
        p->y0 = p->ylim[0] > 0 ? log10(p->ylim[0]) : ylo;
        p->y1 = p->ylim[1] > 0 ? log10(p->ylim[1]) : yhi;
        if (!(p->y0 < p->y1)) p->y0 = ylo, p->y1 = yhi;
    } else {
        p->y0 = p->ylim[0], p->y1 = p->ylim[1];
    }

    /* title above, tick labels and axis labels below and left, colour bar right */
    p->T = cy + t * (p->title ? 2.0 : 0.9);
    p->B = cy + ch - t * (p->xlabel ? 3.4 : 2.0);
    if (p->B - p->T < 8) p->B = p->T + 8;
    y_ticks(p, t);
    p->L = cx + t * 0.6 + ylabels_w(p, t) + t * 0.6 + (p->ylabel ? 2.2 * t : 0);
    p->R = cx + cw - t * 1.4 - (p->hm ? cbar_w(p->hm, t) : 0);
}

/* Second pass, once the plot areas are aligned: x ticks and the legend (which may raise
 * an automatic y axis, and then the y ticks change). */
static void layout_finish(plot_figure *f, int i) {
    panel_t *p = &f->p[i];
    double t = f->text;
    if (p->R - p->L < 8) p->R = p->L + 8;
    p->xstep = tick_step(p->x0, p->x1, (int)((p->R - p->L) / (5.0 * t)));
    double xlo, xhi, ylo, yhi, y1 = p->y1;
    data_range(p, &xlo, &xhi, &ylo, &yhi);
    place_legend(p, t, isnan(p->ylim[0]), yhi);
    if (p->y1 != y1) y_ticks(p, t);
}

static double fig_top(const plot_figure *f) { return f->title ? 2.6 * f->text : 0; }

/* Panels share their plot area's edges along rows and columns, so stacked panels line
 * their x axes up (and side-by-side ones their y axes). */
static void layout(plot_figure *f) {
    if (f->laid_out) return;
    double cw = (double)f->w / f->cols, ch = (double)f->h / f->rows;
    double s = fmin(cw / 600.0, ch / 400.0);
    if (s < 0.8) s = 0.8;
    if (s > 1.2) s = 1.2;
    f->text = TEXT_PX * s;
    for (int i = 0; i < f->np; i++) layout_panel(f, i, fig_top(f));
    for (int i = 0; i < f->np; i++) {
        panel_t *p = &f->p[i];
        for (int k = 0; k < f->np; k++) {
            const panel_t *q = &f->p[k];
            if (k % f->cols == i % f->cols) p->L = fmax(p->L, q->L), p->R = fmin(p->R, q->R);
            if (k / f->cols == i / f->cols) p->T = fmax(p->T, q->T), p->B = fmin(p->B, q->B);
        }
    }
    for (int i = 0; i < f->np; i++) layout_finish(f, i);
    f->laid_out = 1;
}

int plot_data_to_pixel(plot_figure *f, int panel, double x, double y, double *px, double *py) {
    panel_t *p = get_panel(f, panel);
    if (!p) return -1;
    if (p->logy) y = y > 0 ? log10(y) : NAN;
    if (!isfinite(x) || !isfinite(y)) return fail(f, "plot: point (%g, %g) has no pixel", x, y);
    layout(f);
    double qx, qy;
    to_px(p, x, y, &qx, &qy);
    if (px) *px = qx;
    if (py) *py = qy;
    return 0;
}

/* ---- drawing with PLplot ----------------------------------------------------------------- */

static pthread_mutex_t pl_lock = PTHREAD_MUTEX_INITIALIZER;
static char pl_msg[256]; /* the first complaint of PLplot during a drawing */
static double pl_ppmm;   /* device pixels per millimetre of the stream being drawn */

static void on_abort(const char *msg) {
    if (!pl_msg[0]) snprintf(pl_msg, sizeof pl_msg, "%s", msg ? msg : "error");
}

/* PLplot reads '#' as the start of an escape sequence: double it. */
static const char *esc(const char *s, char *buf, size_t n) {
    size_t j = 0;
    for (; s && *s && j + 2 < n; s++) {
        if (*s == '#') buf[j++] = '#';
        buf[j++] = *s;
    }
    buf[j] = 0;
    return buf;
}

static void set_color(int slot, plot_color c) {
    plscol0(slot, (PLINT)(c >> 16 & 0xff), (PLINT)(c >> 8 & 0xff), (PLINT)(c & 0xff));
    plcol0(slot);
}

/* Character height of t pixels. */
static void text_px(double t) { plschr(t / pl_ppmm, 1.0); }

/* Dash pattern of a line style for a line w pixels wide (plstyl counts micrometres). */
static void line_style(plot_style st, double w, int overlay) {
    double on, off;
    if (st == PLOT_SOLID) {
        pllsty(1);
        return;
    }
    if (st == PLOT_DASHED) on = overlay ? 3 * w : 3.7 * w, off = overlay ? 4 * w : 1.6 * w;
    else on = w, off = 1.65 * w;
    PLINT mk = (PLINT)lround(on / pl_ppmm * 1000), sp = (PLINT)lround(off / pl_ppmm * 1000);
    plstyl(1, &mk, &sp);
}

/* A filled marker of size s pixels centred on data point (x, y) (axis units). */
static void draw_marker(const panel_t *p, plot_marker shape, double x, double y, double s) {
    if (shape == PLOT_NO_MARKER) return;
    double cx, cy, px[33], py[33];
    to_px(p, x, y, &cx, &cy);
    int n = 0;
    double r = s / 2;
    if (shape == PLOT_CIRCLE) {
        r *= 0.9;
        for (n = 0; n < 32; n++) {
            double a = 2 * M_PI * n / 32;
            px[n] = cx + r * cos(a), py[n] = cy + r * sin(a);
        }
    } else if (shape == PLOT_DIAMOND) {
        r *= 1.3;
        double dx[4] = {0, 0.75, 0, -0.75}, dy[4] = {-1, 0, 1, 0};
        for (n = 0; n < 4; n++) px[n] = cx + r * dx[n], py[n] = cy + r * dy[n];
    } else if (shape == PLOT_SQUARE) {
        r *= 0.9;
        double dx[4] = {-1, 1, 1, -1}, dy[4] = {-1, -1, 1, 1};
        for (n = 0; n < 4; n++) px[n] = cx + r * dx[n], py[n] = cy + r * dy[n];
    } else {
        r *= 1.15;
        double dx[3] = {0, 0.866, -0.866}, dy[3] = {-1, 0.5, 0.5};
        for (n = 0; n < 3; n++) px[n] = cx + r * dx[n], py[n] = cy + r * dy[n];
    }
    PLFLT wx[33], wy[33];
    for (int i = 0; i < n; i++) {
        wx[i] = p->x0 + (px[i] - p->L) / (p->R - p->L) * (p->x1 - p->x0);
        wy[i] = p->y0 + (p->B - py[i]) / (p->B - p->T) * (p->y1 - p->y0);
    }
    plfill(n, wx, wy);
}

static void draw_series(const panel_t *p, const series_t *s) {
    PLFLT *x = malloc((s->n + 1) * sizeof *x), *y = malloc((s->n + 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        on_abort("out of memory");
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i <= s->n; i++) {
        double yy = i < s->n ? (p->logy ? (s->y[i] > 0 ? log10(s->y[i]) : NAN) : s->y[i]) : NAN;
        if (i < s->n && isfinite(s->x[i]) && isfinite(yy)) {
            x[m] = s->x[i], y[m] = yy, m++;
            continue;
        }
        if (m >= 2 && s->width > 0) { /* a finite run ends: draw it */
            plwidth(s->width);
            line_style(s->style, s->width, s->overlay);
            plline((PLINT)m, x, y);
            pllsty(1);
        }
        for (size_t k = 0; k < m && s->marker; k++)
            draw_marker(p, s->marker, x[k], y[k], s->overlay ? OVERLAY_MARKER : SERIES_MARKER);
        m = 0;
    }
    free(x);
    free(y);
}

/* plshades' fill callback: the polygon and its outline, so that neighbouring bands meet
 * without the hairline seams antialiasing would leave between them. */
static void fill_band(PLINT n, const PLFLT *x, const PLFLT *y) {
    plfill(n, x, y);
    plwidth(1.0);
    plline(n, x, y);
}

static void draw_heatmap(const panel_t *p) {
    const heat_t *h = p->hm;
    int N = h->N, nx = (int)h->nx, ny = (int)h->ny;
    PLFLT *z = malloc(h->nx * h->ny * sizeof *z);
    PLFLT **rows = malloc(h->nx * sizeof *rows);
    PLFLT *yg = malloc(h->ny * sizeof *yg);
    if (!z || !rows || !yg) {
        free(z), free(rows), free(yg);
        on_abort("out of memory");
        return;
    }
    /* Every value inside [level_0, level_N+1): the catch-all band is filled like the rest
     * (PLplot leaves values beyond the outer levels blank); non-finite points get a
     * stand-in, and their cells are painted grey afterwards. */
    double top = 0.5 * (h->lev[N] + h->lev[N + 1]);
    for (size_t i = 0; i < h->nx * h->ny; i++) {
        double v = h->v[i];
        z[i] = !isfinite(v) ? h->lev[N] : v < h->lev[0] ? h->lev[0] : v > top ? top : v;
    }
    for (int i = 0; i < nx; i++) rows[i] = z + (size_t)i * h->ny;
    for (int j = 0; j < ny; j++) yg[j] = p->logy ? (h->ys[j] > 0 ? log10(h->ys[j]) : NAN) : h->ys[j];
    PLcGrid grid = {(PLFLT *)h->xs, yg, NULL, nx, ny, 0};

    /* band k has colour k of cmap1, which plshades picks as position k / N */
    PLINT r[PLOT_MAX_LEVELS + 1], g[PLOT_MAX_LEVELS + 1], b[PLOT_MAX_LEVELS + 1];
    for (int k = 0; k <= N; k++)
        r[k] = h->fill[k] >> 16 & 0xff, g[k] = h->fill[k] >> 8 & 0xff, b[k] = h->fill[k] & 0xff;
    plscmap1n(N + 1);
    plscmap1(r, g, b, N + 1);
    PLFLT edge[PLOT_MAX_LEVELS + 2];
    for (int k = 0; k <= N + 1; k++) edge[k] = h->lev[k];
    edge[0] -= 1e-9 * (1 + fabs(edge[0])); /* the minimum itself inside band 0 */
    /* a flat surface gives empty bands (equal levels), which plshades refuses: keep the
     * edges strictly increasing; an empty band then has a negligible width */
    for (int k = 1; k <= N + 1; k++)
        if (!(edge[k] > edge[k - 1])) edge[k] = edge[k - 1] + 1e-9 * (1 + fabs(edge[k - 1]));
    /* the lowest band under everything: every value is at least level_0, and a band polygon
     * that plshades returns self-intersecting is filled even-odd, which left a hole showing
     * the white background (seen in the demo's plane) */
    {
        PLFLT bx[4] = { h->xs[0], h->xs[nx - 1], h->xs[nx - 1], h->xs[0] };
        PLFLT by[4] = { yg[0], yg[0], yg[ny - 1], yg[ny - 1] };
        set_color(C_TMP, h->fill[0]);
        plfill(4, bx, by);
    }
    plshades((PLFLT_MATRIX)rows, nx, ny, NULL, p->x0, p->x1, p->y0, p->y1, edge, N + 2, 1.0,
             0, 0.0, fill_band, 0, pltr1, &grid);

    /* contour lines at the levels above the minimum, each in its own colour */
    plwidth(CONTOUR_WIDTH);
    for (int k = 1; k <= N; k++) {
        if (!(h->lev[k] > h->lev[k - 1])) continue;
        set_color(C_TMP, h->line[k]);
        PLFLT lv = h->lev[k];
        plcont((PLFLT_MATRIX)rows, nx, ny, 1, nx, 1, ny, &lv, 1, pltr1, &grid);
    }
    /* cells with a non-finite corner */
    set_color(C_TMP, NAN_COLOR);
    for (int i = 0; i + 1 < nx; i++)
        for (int j = 0; j + 1 < ny; j++) {
            const double *v = h->v;
            if (isfinite(v[i * ny + j]) && isfinite(v[(i + 1) * ny + j]) &&
                isfinite(v[i * ny + j + 1]) && isfinite(v[(i + 1) * ny + j + 1]))
                continue;
            PLFLT cx[4] = {h->xs[i], h->xs[i + 1], h->xs[i + 1], h->xs[i]};
            PLFLT cy[4] = {yg[j], yg[j], yg[j + 1], yg[j + 1]};
            plfill(4, cx, cy);
        }
    free(z);
    free(rows);
    free(yg);
}

/* Axis labels: our own formatting (as many decimals as the step needs; 10^k on a log
 * axis), the same the layout measured. */
static void axis_label_fn(PLINT axis, PLFLT v, char *out, PLINT n, PLPointer data) {
    const panel_t *p = data;
    if (axis == PL_Y_AXIS && p->logy) log_label(out, (size_t)n, v);
    else tick_label(out, (size_t)n, v, axis == PL_Y_AXIS ? p->ystep : p->xstep);
}

/* Colour-bar labels: the bar runs over band indices 0..N+1, labelled with the levels. */
static void cbar_label_fn(PLINT axis, PLFLT v, char *out, PLINT n, PLPointer data) {
    (void)axis;
    cbar_label(data, (int)lround(v), out, (size_t)n);
}

static void draw_colorbar(const panel_t *p, double t) {
    const heat_t *h = p->hm;
    PLFLT vals[PLOT_MAX_LEVELS + 2];
    for (int k = 0; k <= h->N + 1; k++) vals[k] = k;
    const PLFLT *vp[1] = {vals};
    PLINT nv[1] = {h->N + 2}, sub[1] = {0};
    PLFLT ticks[1] = {1.0};
    const char *axis_opts[1] = {"bcmtvo"};
    PLINT lopt[1] = {PL_COLORBAR_LABEL_RIGHT};
    char cap[512];
    const char *labels[1] = {esc(h->label, cap, sizeof cap)};
    double vw = p->R - p->L;
    PLFLT cw, chh;
    plslabelfunc(cbar_label_fn, (PLPointer)h);
    set_color(C_FG, PLOT_BLACK);
    plwidth(1.0);
    plcolorbar(&cw, &chh, PL_COLORBAR_SHADE | PL_COLORBAR_SHADE_LABEL,
               PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
               0.9 * t / vw, 0, 1.1 * t / vw, 1.0, C_BG, C_FG, 1, 0, 0, 0, 0,
               h->label ? 1 : 0, lopt, labels, 1, axis_opts, ticks, sub, nv, vp);
    plslabelfunc(NULL, NULL);
}

static void draw_legend(const panel_t *p, double t) {
    int n = legend_entries(p);
    if (p->corner == PLOT_LEGEND_NONE || n == 0) return;
    PLINT opt[NCOL0], tcol[NCOL0], lcol[NCOL0], lsty[NCOL0], scol[NCOL0], snum[NCOL0];
    PLINT zero[NCOL0];
    PLFLT lwid[NCOL0], sscale[NCOL0], zf[NCOL0];
    const char *text[NCOL0], *sym[NCOL0];
    char buf[NCOL0][128];
    int i = 0;
    for (int k = 0; k < p->ns && i < n; k++) {
        const series_t *s = &p->s[k];
        if (!s->label) continue;
        plscol0(C_LEGEND + i, (PLINT)(s->color >> 16 & 0xff), (PLINT)(s->color >> 8 & 0xff),
                (PLINT)(s->color & 0xff));
        opt[i] = (s->width > 0 ? PL_LEGEND_LINE : 0) | (s->marker ? PL_LEGEND_SYMBOL : 0);
        if (!opt[i]) opt[i] = PL_LEGEND_NONE;
        tcol[i] = C_FG;
        lcol[i] = scol[i] = C_LEGEND + i;
        lsty[i] = s->style == PLOT_DASHED ? 3 : s->style == PLOT_DOTTED ? 2 : 1;
        lwid[i] = s->width;
        static const char *glyph[5] = {"", "●", "◆", "■", "▲"};
        sym[i] = glyph[s->marker];
        snum[i] = s->width > 0 ? 1 : 2;
        sscale[i] = 0.6;
        zero[i] = 0;
        zf[i] = 0;
        text[i] = esc(s->label, buf[i], sizeof buf[i]);
        i++;
    }
    PLINT pos = PL_POSITION_VIEWPORT | PL_POSITION_INSIDE;
    pos |= p->corner == PLOT_LEGEND_TOP_LEFT || p->corner == PLOT_LEGEND_BOTTOM_LEFT
               ? PL_POSITION_LEFT : PL_POSITION_RIGHT;
    pos |= p->corner == PLOT_LEGEND_TOP_LEFT || p->corner == PLOT_LEGEND_TOP_RIGHT
               ? PL_POSITION_TOP : PL_POSITION_BOTTOM;
    double vw = p->R - p->L, vh = p->B - p->T;
    plscol0(C_TMP, LEGEND_EDGE >> 16 & 0xff, LEGEND_EDGE >> 8 & 0xff, LEGEND_EDGE & 0xff);
    PLFLT lw, lh;
    plwidth(1.0);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, pos, 0.5 * t / vw,
             0.5 * t / vh, 2.4 * t / vw, C_BG, C_TMP, 1, 0, 0, n, opt, 0.5, 1.0, 1.6, 0.0, tcol,
             text, zero, zero, zf, zf, lcol, lsty, lwid, scol, sscale, snum, sym);
    pllsty(1);
}

static void draw_panel(plot_figure *f, int i) {
    panel_t *p = &f->p[i];
    double t = f->text, W = f->w, H = f->h;
    char buf[512];
    plvpor(p->L / W, p->R / W, 1 - p->B / H, 1 - p->T / H);
    plwind(p->x0, p->x1, p->y0, p->y1);
    text_px(t);
    if (p->hm) {
        draw_heatmap(p);
    } else { /* light grid behind the data */
        set_color(C_TMP, GRID_COLOR);
        plwidth(1.0);
        plbox("g", p->xstep, 0, p->logy ? "" : "g", p->ystep, 0);
        for (int k = 0; k < p->nyt && p->logy; k++) {
            PLFLT gx[2] = {p->x0, p->x1}, gy[2] = {p->yt[k], p->yt[k]};
            plline(2, gx, gy);
        }
    }
    for (int k = 0; k < p->ns; k++) {
        set_color(C_TMP, p->s[k].color);
        draw_series(p, &p->s[k]);
    }
    set_color(C_FG, PLOT_BLACK);
    for (int k = 0; k < p->nm; k++) {
        const mark_t *m = &p->m[k];
        double y = p->logy ? (m->y > 0 ? log10(m->y) : NAN) : m->y;
        if (!isfinite(m->x) || !isfinite(y)) continue;
        draw_marker(p, m->shape, m->x, y, OVERLAY_MARKER);
        if (m->label) {
            double px, py;
            to_px(p, m->x, y, &px, &py);
            px += 0.6 * OVERLAY_MARKER + 0.3 * t;
            py -= 0.5 * OVERLAY_MARKER + 0.3 * t;
            plptex(p->x0 + (px - p->L) / (p->R - p->L) * (p->x1 - p->x0),
                   p->y0 + (p->B - py) / (p->B - p->T) * (p->y1 - p->y0), 1, 0, 0,
                   esc(m->label, buf, sizeof buf));
        }
    }
    /* frame, ticks and their labels */
    plwidth(1.0);
    pllsty(1);
    plslabelfunc(axis_label_fn, p);
    plbox("bcnto", p->xstep, 0, p->logy ? "bc" : "bcntvo", p->ystep, 0);
    plslabelfunc(NULL, NULL);
    for (int k = 0; k < p->nyt && p->logy; k++) { /* a log axis's ticks are our own */
        double len = 0.5 * t / (p->R - p->L) * (p->x1 - p->x0);
        PLFLT ax[2] = {p->x0, p->x0 + len}, bx[2] = {p->x1 - len, p->x1};
        PLFLT ty[2] = {p->yt[k], p->yt[k]};
        plline(2, ax, ty);
        plline(2, bx, ty);
        char lab[40];
        log_label(lab, sizeof lab, p->yt[k]);
        plmtex("lv", 0.5, (p->yt[k] - p->y0) / (p->y1 - p->y0), 1.0, lab);
    }
    if (p->hm) draw_colorbar(p, t);
    draw_legend(p, t);
    set_color(C_FG, PLOT_BLACK);
    text_px(t);
    if (p->title) plmtex("t", 0.7, 0.5, 0.5, esc(p->title, buf, sizeof buf));
    if (p->xlabel) plmtex("b", 2.5, 0.5, 0.5, esc(p->xlabel, buf, sizeof buf));
    if (p->ylabel)
        plmtex("l", (p->L - (i % f->cols) * (double)f->w / f->cols - 1.1 * t) / t, 0.5, 0.5,
               esc(p->ylabel, buf, sizeof buf));
}

/* Draw f on a fresh PLplot stream of device dev, into file or into mem (RGB, w*h*3).
 * Returns 0, or -1 with PLplot's complaint in f->err. */
static int draw(plot_figure *f, const char *dev, const char *file, uint8_t *mem) {
    layout(f);
    pthread_mutex_lock(&pl_lock);
    PLINT old = 0, s = -1;
    plgstrm(&old);
    plmkstrm(&s);
    if (s < 0) {
        pthread_mutex_unlock(&pl_lock);
        return fail(f, "plot: PLplot has no free stream");
    }
    pl_msg[0] = 0;
    plsabort(on_abort);
    plsdev(dev);
    if (file) plsfnam(file);
    if (mem) {
        plsmem(f->w, f->h, mem);
    } else {
        char geo[64];
        snprintf(geo, sizeof geo, "%dx%d", f->w, f->h);
        plsetopt("geometry", geo);
    }
    plspause(0);
    plscmap0n(NCOL0);
    plscolbg(255, 255, 255);
    plscol0(C_FG, 0, 0, 0);
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    plinit();
    pladv(0);
    PLFLT x0, x1, y0, y1;
    plgspa(&x0, &x1, &y0, &y1);
    pl_ppmm = x1 > x0 ? f->w / (x1 - x0) : 3.78;
    for (int i = 0; i < f->np; i++) draw_panel(f, i);
    if (f->title) {
        char buf[512];
        plvpor(0, 1, 0, 1);
        plwind(0, 1, 0, 1);
        set_color(C_FG, PLOT_BLACK);
        text_px(f->text * 1.3);
        plptex(0.5, 1 - 0.5 * fig_top(f) / f->h, 1, 0, 0.5, esc(f->title, buf, sizeof buf));
    }
    plend1();
    plsstrm(old);
    plsabort(NULL);
    int rc = pl_msg[0] ? fail(f, "plot: PLplot: %s", pl_msg) : 0;
    pthread_mutex_unlock(&pl_lock);
    return rc;
}

const uint8_t *plot_render(plot_figure *f, int *w, int *h) {
    if (!f) return NULL;
    size_t n = (size_t)f->w * f->h * 3;
    if (!f->px && !(f->px = malloc(n))) {
        fail(f, "plot: out of memory");
        return NULL;
    }
    memset(f->px, 255, n); /* memcairo draws over what the buffer holds */
    if (draw(f, "memcairo", NULL, f->px)) return NULL;
    if (w) *w = f->w;
    if (h) *h = f->h;
    return f->px;
}

/* Is PLplot's device name built in here? (plinit would ask on the terminal, then exit.) */
static int have_device(const char *name) {
    const char *menu[256], *devs[256];
    const char **pm = menu, **pd = devs;
    int n = 256;
    pthread_mutex_lock(&pl_lock);
    plgDevs(&pm, &pd, &n);
    pthread_mutex_unlock(&pl_lock);
    for (int i = 0; i < n; i++)
        if (devs[i] && !strcmp(devs[i], name)) return 1;
    return 0;
}

static int save_fail(plot_figure *f, char *err, const char *fmt, ...) {
    char msg[DKMC_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    if (err) snprintf(err, DKMC_ERRLEN, "%s", msg);
    return fail(f, "%s", msg);
}

int plot_save(plot_figure *f, const char *path, char *err) {
    if (!f || !path || !*path) {
        if (err) snprintf(err, DKMC_ERRLEN, "plot: no figure or no path to save to");
        return fail(f, "plot: no figure or no path to save to");
    }
    const char *slash = strrchr(path, '/'), *dot = strrchr(slash ? slash : path, '.');
    const char *dev = NULL;
    if (dot && !strcasecmp(dot, ".png")) dev = "pngcairo";
    else if (dot && !strcasecmp(dot, ".svg")) dev = "svgcairo";
    else if (dot && !strcasecmp(dot, ".pdf")) dev = "pdfcairo";
    if (!dev)
        return save_fail(f, err, "%s: unknown picture format '%s' (use .png, .svg or .pdf)",
                         path, dot ? dot : "");
    if (!have_device(dev))
        return save_fail(f, err, "%s: PLplot has no '%s' device (install plplot-driver-cairo)",
                         path, dev);
    /* The project's atomic write (wspace): the temp file is made here, so PLplot never meets a
     * path it cannot open; PLplot writes it by name, and the commit syncs it (same file) and
     * renames it, with the mode of the user's umask. */
    ws_atomic a;
    char aerr[DKMC_ERRLEN];
    if (ws_atomic_open(&a, path, aerr)) return save_fail(f, err, "%s", aerr);
    const char *why = NULL;
    struct stat st;
    if (draw(f, dev, a.tmp, NULL)) why = f->err;
    else if (stat(a.tmp, &st) || st.st_size == 0) why = "PLplot wrote nothing";
    if (why) {
        ws_atomic_abort(&a);
        return save_fail(f, err, "%s: cannot write (%s)", path, why);
    }
    if (ws_atomic_commit(&a, aerr)) return save_fail(f, err, "%s", aerr);
    return 0;
}

int plot_save_png(plot_figure *f, const char *path, char *err) { return plot_save(f, path, err); }
