/* plot.c: the two figures of plot.h drawn by PLplot. PLplot does the work: axes, ticks and
 * tick labels (plbox), legends (pllegend), the colour bar (plcolorbar), markers (plstring
 * with a Unicode glyph), contour lines (plcont) and the heat map's raster (plimagefr).
 * What is ours: the margins of the panels (fixed multiples of the text height), the axis
 * ranges, and the heat map's bands: every raster cell takes the band of the bilinear value
 * at its centre, one cell per device pixel, so no pixel can show a band its value is not in.
 *
 * PLplot keeps process-wide state and exits the process on some errors (an unknown device,
 * a file it cannot open): every drawing runs under one lock in a stream of its own, and
 * what could make PLplot exit is checked here first. */
#define _GNU_SOURCE
#include "plot.h"
#include "wspace.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <plplot.h>

/* ---- look (pixels; text scales with the panel, 1.0 at about 600 x 400) -------------- */
#define TEXT_PX 14.0        /* character height of ticks, labels, legend */
#define SERIES_WIDTH 2.5
#define CONTOUR_WIDTH 2.0
#define SERIES_MARKER 10.0  /* glyph height of a series marker */
#define POINT_MARKER 20.0   /* glyph height of a marked point on a surface */
#define GRID_COLOR 0xe0e0e0u
#define NAN_COLOR 0xd0d0d0u
#define LEGEND_EDGE 0xb0b0b0u

/* cmap0 slots: PLplot picks colours by index, so each colour used is loaded into one. */
enum { C_BG = 0, C_FG = 1, C_TMP = 2, C_LEGEND = 3, NCOL0 = C_LEGEND + PLOT_MAX_SERIES };

const char *plot_unavailable(void) { return NULL; }

static int seterr(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, PLOT_ERR_LEN, fmt, ap);
        va_end(ap);
        for (char *c = err; *c; c++)
            if (*c == '\n' || *c == '\r') *c = ' ';
    }
    return -1;
}

/* ---- checking the specs ---------------------------------------------------------------- */

static int bad_size(int w, int h, char *err) {
    return w < 16 || h < 16 || w > 16384 || h > 16384 ? seterr(err, "plot: figure size %dx%d not within 16..16384", w, h) : 0;
}

static int check_lines(const plot_lines *f, char *err) {
    if (!f) return seterr(err, "plot: no figure");
    int rows = f->rows ? f->rows : 1, cols = f->cols ? f->cols : 1;
    if (bad_size(f->width, f->height, err)) return -1;
    if (rows < 1 || cols < 1 || rows * cols > PLOT_MAX_PANELS || !f->panels)
        return seterr(err, "plot: %d x %d panels (1 to %d)", rows, cols, PLOT_MAX_PANELS);
    for (int p = 0; p < rows * cols; p++) {
        const plot_panel *q = &f->panels[p];
        if (q->nseries < 0 || q->nseries > PLOT_MAX_SERIES || (q->nseries && !q->series))
            return seterr(err, "plot: panel %d: %d series (at most %d)", p, q->nseries, PLOT_MAX_SERIES);
        for (int k = 0; k < q->nseries; k++)
            if (q->series[k].n && (!q->series[k].x || !q->series[k].y))
                return seterr(err, "plot: panel %d, series %d: no data", p, k);
    }
    return 0;
}

static int check_surface(const plot_surface *f, char *err) {
    if (!f) return seterr(err, "plot: no figure");
    if (bad_size(f->width, f->height, err)) return -1;
    if (!f->xs || !f->ys || !f->v || f->nx < 2 || f->ny < 2 || f->nx > 1000000 / f->ny)
        return seterr(err, "plot: heat map needs a grid of at least 2x2 values");
    for (size_t i = 0; i < f->nx || i < f->ny; i++) {
        if (i < f->nx && (!isfinite(f->xs[i]) || (i && !(f->xs[i] > f->xs[i - 1]))))
            return seterr(err, "plot: heat-map x coordinates must be finite and increasing");
        if (i < f->ny && (!isfinite(f->ys[i]) || (i && !(f->ys[i] > f->ys[i - 1]))))
            return seterr(err, "plot: heat-map y coordinates must be finite and increasing");
    }
    const plot_heatmap_opts *o = &f->heat;
    if (o->nlevels < 1 || o->nlevels > PLOT_MAX_LEVELS)
        return seterr(err, "plot: heat map needs 1..%d levels, not %d", PLOT_MAX_LEVELS, o->nlevels);
    if (!(o->alpha > 0 && o->alpha <= 1)) return seterr(err, "plot: heat-map alpha %g not in (0, 1]", o->alpha);
    if (f->nkeys < 0 || f->nkeys > PLOT_MAX_SERIES || (f->nkeys && !f->keys))
        return seterr(err, "plot: %d legend keys (at most %d)", f->nkeys, PLOT_MAX_SERIES);
    if (f->npaths < 0 || f->npoints < 0 || (f->npaths && !f->paths) || (f->npoints && !f->points))
        return seterr(err, "plot: overlays missing");
    for (int k = 0; k < f->npaths; k++)
        if (f->paths[k].n && (!f->paths[k].x || !f->paths[k].y)) return seterr(err, "plot: path %d: no data", k);
    double lev[PLOT_MAX_LEVELS + 2];
    if (plot_heatmap_levels(f->v, f->nx * f->ny, o->vmax, o->log_alpha, o->nlevels, lev))
        return seterr(err, "plot: heat map has no finite value");
    return 0;
}

/* ---- PLplot helpers ------------------------------------------------------------------- */

static pthread_mutex_t pl_lock = PTHREAD_MUTEX_INITIALIZER;
static char pl_msg[256]; /* the first complaint of PLplot during a drawing */
static double pl_ppmm;   /* device pixels per millimetre of the stream being drawn */
static double pl_ypx;    /* world y units per pixel in the current viewport */
#define GLYPH_LIFT 0.16  /* PLplot centres a glyph's text box: its ink sits this share of its
                            height below the point (measured: 3.2 px of 20) */

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

static void text_px(double t) { plschr(t / pl_ppmm, 1.0); }

/* Solid, or a dash pattern scaled to a line w pixels wide (plstyl counts micrometres). */
static void line_style(plot_style st, double w) {
    if (st != PLOT_DASHED && st != PLOT_DOTTED) {
        pllsty(1);
        return;
    }
    double on = st == PLOT_DASHED ? 3.5 * w : 0.9 * w, off = st == PLOT_DASHED ? 2.0 * w : 1.6 * w;
    PLINT mk = (PLINT)lround(on / pl_ppmm * 1000), sp = (PLINT)lround(off / pl_ppmm * 1000);
    plstyl(1, &mk, &sp);
}

static const char *glyph(plot_marker m) {
    static const char *g[5] = {"", "●", "◆", "■", "▲"};
    return (unsigned)m <= PLOT_TRIANGLE ? g[m] : "";
}

/* The finite runs of (x, y) as lines (when style draws one) and a marker glyph at every
 * finite point (glyph height mk pixels). y is taken in log10 on a log axis. */
static void draw_xy(const double *xs, const double *ys, size_t n, int logy, plot_style st,
                    double width, plot_marker marker, double mk) {
    PLFLT *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        on_abort("out of memory");
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i <= n; i++) {
        double yy = i < n ? (logy ? (ys[i] > 0 ? log10(ys[i]) : NAN) : ys[i]) : NAN;
        if (i < n && isfinite(xs[i]) && isfinite(yy)) {
            x[m] = xs[i], y[m] = yy, m++;
            continue;
        }
        if (m >= 2 && st != PLOT_NO_LINE) {
            plwidth(width);
            line_style(st, width);
            plline((PLINT)m, x, y);
            pllsty(1);
        }
        if (m && marker) {
            for (size_t k = 0; k < m; k++) y[k] += GLYPH_LIFT * mk * pl_ypx;
            text_px(mk);
            plstring((PLINT)m, x, y, glyph(marker));
        }
        m = 0;
    }
    free(x);
    free(y);
}

/* Sets the viewport to the pixel rectangle [L, R) x [T, B) of a W x H page and the window
 * to the data range; returns where PLplot put it. */
static void viewport(double W, double H, double L, double T, double R, double B, double x0,
                     double x1, double y0, double y1, plot_area *a) {
    if (R - L < 8) R = L + 8;
    if (B - T < 8) B = T + 8;
    plvpor(L / W, R / W, 1 - B / H, 1 - T / H);
    plwind(x0, x1, y0, y1);
    PLFLT a0, a1, b0, b1;
    plgvpd(&a0, &a1, &b0, &b1);
    a->left = a0 * W, a->right = a1 * W, a->top = (1 - b1) * H, a->bottom = (1 - b0) * H;
    a->xmin = x0, a->xmax = x1, a->ymin = y0, a->ymax = y1;
    pl_ypx = (y1 - y0) / (a->bottom - a->top);
}

/* Title above the plot area, axis labels below and to the left (t: text height). */
static void panel_text(const char *title, const char *xl, const char *yl, double t) {
    char buf[512];
    set_color(C_FG, PLOT_BLACK);
    text_px(t);
    if (title) plmtex("t", 0.9, 0.5, 0.5, esc(title, buf, sizeof buf));
    if (xl) plmtex("b", 3.2, 0.5, 0.5, esc(xl, buf, sizeof buf));
    if (yl) plmtex("l", 5.7, 0.5, 0.5, esc(yl, buf, sizeof buf));
}

/* Labels of a log axis over the values lo..hi: the decades, else 1-2-5 or 1..9 times them,
 * the first set that gives three (at most maxn); inside one decade step, 1-2-5 steps. */
static int log_ticks(double lo, double hi, int maxn, double *v) {
    static const int m[3][9] = {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}, nm[3] = {1, 3, 9};
    int n = 0;
    for (int s = 0; s < 3; s++) {
        double w[64];
        int c = 0;
        for (double k = floor(log10(lo)); k <= ceil(log10(hi)); k++)
            for (int i = 0; i < nm[s] && c < 64; i++) {
                double x = m[s][i] * pow(10, k);
                if (x >= lo * (1 - 1e-9) && x <= hi * (1 + 1e-9)) w[c++] = x;
            }
        if (c > maxn) break;
        memcpy(v, w, (size_t)c * sizeof *v);
        if ((n = c) >= 3) return n;
    }
    if (n >= 2) return n;
    double step = pow(10, floor(log10(hi - lo)));
    for (int i = 0; (hi - lo) / step < 3 && i < 60; i++) step /= i % 3 == 1 ? 2.5 : 2;
    n = 0;
    for (double x = ceil(lo / step) * step; x <= hi * (1 + 1e-12) && n < 64; x += step) v[n++] = x;
    return n;
}

/* The frame with PLplot's ticks and tick labels (fixed point: no "x10^k" label, which
 * would need room above the frame); ticks outwards where they would cover data (a heat
 * map). PLplot labels a log axis at whole decades only, so a log y axis (y0..y1 in log10,
 * h pixels high) gets its labels from log_ticks. */
static void frame(int out, int logy, double y0, double y1, double h, double t) {
    set_color(C_FG, PLOT_BLACK);
    plwidth(1.0);
    pllsty(1);
    if (out) {
        plbox("binstf", 0, 0, "binstfv", 0, 0);
        plbox("c", 0, 0, "c", 0, 0);
        return;
    }
    plbox("bcnstf", 0, 0, logy ? "bcstl" : "bcnstfv", 0, 0);
    double v[64];
    int n = logy ? log_ticks(pow(10, y0), pow(10, y1), (int)(h / (1.8 * t)), v) : 0;
    for (int i = 0; i < n; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "%g", v[i]);
        plmtex("lv", 0.6, (log10(v[i]) - y0) / (y1 - y0), 1.0, lab);
    }
}

/* ---- line plots -------------------------------------------------------------------------- */

static int labelled(const plot_panel *p) {
    int n = 0;
    for (int s = 0; s < p->nseries; s++) n += p->series[s].label && *p->series[s].label;
    return n;
}

/* Vertical bars from y - e to y + e at each point where x, y and e are finite. */
static void error_bars(const plot_series *e, const double *err, int logy) {
    plwidth(SERIES_WIDTH);
    for (size_t i = 0; i < e->n; i++) {
        double y = e->y[i], h = fabs(err[i]);
        if (!isfinite(e->x[i]) || !isfinite(y) || !isfinite(h)) continue;
        PLFLT x = e->x[i], lo = y - h, hi = y + h;
        if (logy) {
            if (hi <= 0) continue;
            lo = lo > 0 ? log10(lo) : log10(y > 0 ? y : hi), hi = log10(hi);
        }
        plerry(1, &x, &lo, &hi);
    }
}

/* The panel's axis ranges: fixed ones as given, else the data's (y plus 5 % and the
 * legend's room, a share `room` of the height, above the data). */
static void ranges(const plot_panel *p, double room, double *x0, double *x1, double *y0, double *y1) {
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            double e = p->yerr && p->yerr[s] && isfinite(p->yerr[s][i]) ? fabs(p->yerr[s][i]) : 0;
            double ya = y - e, yb = y + e;
            if (p->logy) ya = ya > 0 ? log10(ya) : y > 0 ? log10(y) : NAN, yb = yb > 0 ? log10(yb) : NAN;
            if (!isfinite(x) || !isfinite(ya) || !isfinite(yb)) continue;
            xl = fmin(xl, x), xh = fmax(xh, x), yl = fmin(yl, ya), yh = fmax(yh, yb);
        }
    if (!(xl <= xh)) xl = 0, xh = 1;
    if (!(yl <= yh)) yl = 0, yh = 1;
    double dx = xl != 0 ? 0.1 * fabs(xl) : 0.5, dy = yl != 0 ? 0.1 * fabs(yl) : 0.5; /* a flat range */
    if (xl == xh) xl -= dx, xh += dx;
    if (p->yerr) { double px = 0.08 * (xh - xl); xl -= px, xh += px; }   /* points, not lines: room at the sides */
    if (yl == yh) yl -= dy, yh += dy;
    double pad = 0.05 * (yh - yl);
    yl -= pad, yh += pad;
    yh = yl + (yh - yl) / (1 - room);
    *x0 = p->xmin < p->xmax ? p->xmin : xl;
    *x1 = p->xmin < p->xmax ? p->xmax : xh;
    if (p->ymin < p->ymax && (!p->logy || p->ymin > 0))
        *y0 = p->logy ? log10(p->ymin) : p->ymin, *y1 = p->logy ? log10(p->ymax) : p->ymax;
    else
        *y0 = yl, *y1 = yh;
}

static void legend(const plot_panel *p, double t) {
    PLINT opt[PLOT_MAX_SERIES], tcol[PLOT_MAX_SERIES], lcol[PLOT_MAX_SERIES], lsty[PLOT_MAX_SERIES];
    PLINT scol[PLOT_MAX_SERIES], snum[PLOT_MAX_SERIES], zero[PLOT_MAX_SERIES] = {0};
    PLFLT lwid[PLOT_MAX_SERIES], sscale[PLOT_MAX_SERIES], zf[PLOT_MAX_SERIES] = {0};
    const char *text[PLOT_MAX_SERIES], *sym[PLOT_MAX_SERIES];
    char buf[PLOT_MAX_SERIES][128];
    int n = 0;
    for (int s = 0; s < p->nseries; s++) {
        const plot_series *e = &p->series[s];
        if (!e->label || !*e->label) continue;
        plscol0(C_LEGEND + n, (PLINT)(e->color >> 16 & 0xff), (PLINT)(e->color >> 8 & 0xff),
                (PLINT)(e->color & 0xff));
        opt[n] = (e->style != PLOT_NO_LINE ? PL_LEGEND_LINE : 0) | (e->marker ? PL_LEGEND_SYMBOL : 0);
        if (!opt[n]) opt[n] = PL_LEGEND_NONE;
        tcol[n] = C_FG;
        lcol[n] = scol[n] = C_LEGEND + n;
        lsty[n] = e->style == PLOT_DASHED ? 3 : e->style == PLOT_DOTTED ? 2 : 1;
        lwid[n] = SERIES_WIDTH;
        sym[n] = glyph(e->marker);
        snum[n] = 1;
        sscale[n] = SERIES_MARKER / t;
        text[n] = esc(e->label, buf[n], sizeof buf[n]);
        n++;
    }
    if (!n) return;
    PLFLT w, h;
    plscol0(C_TMP, LEGEND_EDGE >> 16 & 0xff, LEGEND_EDGE >> 8 & 0xff, LEGEND_EDGE & 0xff);
    plwidth(1.0);
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_VIEWPORT | PL_POSITION_INSIDE | PL_POSITION_TOP | PL_POSITION_RIGHT, 0.01,
             0.02, 0.07, C_BG, C_TMP, 1, 0, 0, n, opt, 0.6, 0.9, 1.7, 0.0, tcol, text, zero, zero, zf,
             zf, lcol, lsty, lwid, scol, sscale, snum, sym);
    pllsty(1);
}

/* The text height for panels of cw x ch pixels. */
static double text_for(double cw, double ch) {
    double s = fmin(cw / 600.0, ch / 400.0);
    return TEXT_PX * (s < 0.8 ? 0.8 : s > 1.2 ? 1.2 : s);
}

static void draw_lines(const plot_lines *f, plot_area *area) {
    int rows = f->rows ? f->rows : 1, cols = f->cols ? f->cols : 1;
    double W = f->width, H = f->height;
    double t = text_for(W / cols, H / rows), top = f->title ? 2.4 * t : 0;
    double cw = W / cols, ch = (H - top) / rows;
    char buf[512];
    for (int k = 0; k < rows * cols; k++) {
        const plot_panel *p = &f->panels[k];
        double cx = (k % cols) * cw, cy = top + (k / cols) * ch;
        double T = cy + (p->title ? 2.0 : 0.8) * t, B = cy + ch - (p->xlabel ? 4.0 : 2.4) * t;
        double L = cx + (p->ylabel ? 6.6 : 4.8) * t, R = cx + cw - 1.2 * t;
        int nl = labelled(p);
        double room = nl ? fmin(0.5, (1.55 * nl + 1.2) * t / (B - T)) : 0, x0, x1, y0, y1;
        ranges(p, room, &x0, &x1, &y0, &y1);
        viewport(W, H, L, T, R, B, x0, x1, y0, y1, &area[k]);
        text_px(t);
        set_color(C_TMP, GRID_COLOR);
        plwidth(1.0);
        plbox("g", 0, 0, p->logy ? "gl" : "g", 0, 0);
        for (int s = 0; s < p->nseries; s++) {
            const plot_series *e = &p->series[s];
            set_color(C_TMP, e->color);
            draw_xy(e->x, e->y, e->n, p->logy, e->style, SERIES_WIDTH, e->marker, SERIES_MARKER);
            if (p->yerr && p->yerr[s]) error_bars(e, p->yerr[s], p->logy);
        }
        text_px(t);
        frame(0, p->logy, y0, y1, area[k].bottom - area[k].top, t);
        legend(p, t);
        panel_text(p->title, p->xlabel, p->ylabel, t);
    }
    if (f->title) {
        plvpor(0, 1, 0, 1);
        plwind(0, 1, 0, 1);
        set_color(C_FG, PLOT_BLACK);
        text_px(1.3 * t);
        plptex(0.5, 1 - 1.2 * t / H, 1, 0, 0.5, esc(f->title, buf, sizeof buf));
    }
}

/* ---- the surface ----------------------------------------------------------------------- */

/* Levels and band colours of a surface. */
typedef struct {
    int N;
    double lev[PLOT_MAX_LEVELS + 2];
    plot_color fill[PLOT_MAX_LEVELS + 1], line[PLOT_MAX_LEVELS + 1];
} bands;

static void make_bands(const plot_surface *f, bands *b) {
    const plot_heatmap_opts *o = &f->heat;
    b->N = o->nlevels;
    plot_heatmap_levels(f->v, f->nx * f->ny, o->vmax, o->log_alpha, o->nlevels, b->lev);
    double lo = b->lev[0] - 1e-8, hi = b->lev[b->N] + 1e-8;
    for (int k = 0; k <= b->N; k++) {
        double mid = 0.5 * (b->lev[k] + b->lev[k + 1]);
        b->fill[k] = plot_blend(plot_jet_r(plot_log_norm(mid, lo, hi, o->log_alpha)), PLOT_WHITE, o->alpha);
        b->line[k] = plot_jet_r(plot_log_norm(b->lev[k], lo, hi, o->log_alpha));
    }
}

/* The band of value z: 0 up to level_1, k for (level_k, level_{k+1}], N above. */
static int band_of(const bands *b, double z) {
    int k = 0;
    while (k < b->N && z > b->lev[k + 1]) k++;
    return k;
}

/* The cell [xs[i], xs[i+1]] holding x (the last one for x at or past the end) and where x
 * is in it, 0..1. */
static size_t cell(const double *xs, size_t n, double x, double *frac) {
    size_t lo = 0, hi = n - 1; /* xs[lo] <= x < xs[hi], narrowed */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (x >= xs[mid]) lo = mid;
        else hi = mid;
    }
    double u = (x - xs[lo]) / (xs[lo + 1] - xs[lo]);
    *frac = u < 0 ? 0 : u > 1 ? 1 : u;
    return lo;
}

/* Bilinear value at (x, y); NaN in a cell with a non-finite corner. A weight of exactly 0
 * leaves its corners out, so a point on a cell's edge uses that edge's two values only. */
static double bilinear(const plot_surface *f, double x, double y) {
    double u, w;
    size_t i = cell(f->xs, f->nx, x, &u), j = cell(f->ys, f->ny, y, &w), ny = f->ny;
    const double *v = f->v;
    double c[4] = {v[i * ny + j], v[(i + 1) * ny + j], v[i * ny + j + 1], v[(i + 1) * ny + j + 1]};
    for (int k = 0; k < 4; k++)
        if (!isfinite(c[k])) return NAN;
    double a = u == 0 ? c[0] : u == 1 ? c[1] : c[0] + u * (c[1] - c[0]);
    double b = u == 0 ? c[2] : u == 1 ? c[3] : c[2] + u * (c[3] - c[2]);
    return w == 0 ? a : w == 1 ? b : a + w * (b - a);
}

/* The bands: a raster of one cell per device pixel of the plot area, each the band of the
 * bilinear value at its centre (plimagefr maps band k to colour k of cmap1; NaN, a grid cell
 * with a non-finite corner, is left to draw_grey_cells). The contour lines (plcont) run
 * through the same samples, so they lie on the raster's band edges; samples in a grey cell
 * get a stand-in value there, painted over. */
static void draw_heat(const plot_surface *f, const bands *b, const plot_area *a) {
    PLINT ni = (PLINT)ceil(a->right - a->left - 1e-6), nj = (PLINT)ceil(a->bottom - a->top - 1e-6);
    ni = ni < 2 ? 2 : ni, nj = nj < 2 ? 2 : nj;
    PLFLT *z = malloc(2 * sizeof *z * ni * nj), **col = malloc(2 * sizeof *col * ni);
    PLFLT *xg = malloc(sizeof *xg * ni), *yg = malloc(sizeof *yg * nj);
    if (!z || !col || !xg || !yg) {
        free(z), free(col), free(xg), free(yg);
        on_abort("out of memory");
        return;
    }
    PLFLT **band = col, **val = col + ni; /* val[i][j]: the value, band[i][j]: its band */
    for (PLINT j = 0; j < nj; j++) yg[j] = a->ymin + (j + 0.5) / nj * (a->ymax - a->ymin);
    for (PLINT i = 0; i < ni; i++) {
        band[i] = z + (size_t)i * nj, val[i] = z + (size_t)(ni + i) * nj;
        xg[i] = a->xmin + (i + 0.5) / ni * (a->xmax - a->xmin);
        for (PLINT j = 0; j < nj; j++) {
            double v = bilinear(f, xg[i], yg[j]);
            band[i][j] = isnan(v) ? NAN : band_of(b, v);
            val[i][j] = isnan(v) ? b->lev[0] : v;
        }
    }
    plimagefr((PLFLT_MATRIX)band, ni, nj, a->xmin, a->xmax, a->ymin, a->ymax, -1, b->N + 1, -0.5, b->N + 0.5,
              NULL, NULL);
    PLcGrid grid = {xg, yg, NULL, ni, nj, 0};
    plwidth(CONTOUR_WIDTH);
    for (int k = 1; k <= b->N; k++) {
        if (!(b->lev[k] > b->lev[k - 1])) continue;
        set_color(C_TMP, b->line[k]);
        PLFLT lv = b->lev[k];
        plcont((PLFLT_MATRIX)val, ni, nj, 1, ni, 1, nj, &lv, 1, pltr1, &grid);
    }
    free(z), free(col), free(xg), free(yg);
}

static void draw_grey_cells(const plot_surface *f) {
    set_color(C_TMP, NAN_COLOR);
    for (size_t i = 0; i + 1 < f->nx; i++)
        for (size_t j = 0; j + 1 < f->ny; j++) {
            const double *v = f->v;
            size_t ny = f->ny;
            if (isfinite(v[i * ny + j]) && isfinite(v[(i + 1) * ny + j]) && isfinite(v[i * ny + j + 1]) &&
                isfinite(v[(i + 1) * ny + j + 1]))
                continue;
            PLFLT cx[4] = {f->xs[i], f->xs[i + 1], f->xs[i + 1], f->xs[i]};
            PLFLT cy[4] = {f->ys[j], f->ys[j], f->ys[j + 1], f->ys[j + 1]};
            plfill(4, cx, cy);
        }
}

/* Colour-bar label of edge k: "%.Pg" of level_k with the smallest P >= 2 that keeps the
 * labels of distinct levels distinct (16.6 and 17.4 would both read "17" with %.2g); the
 * top edge, the catch-all's 1e10, reads "> level_N". */
static void cbar_label(const bands *b, int k, char *out, size_t n) {
    int p = 2;
    for (int ok = 0; !ok && p < 7; p += !ok) {
        ok = 1;
        for (int q = 1; q <= b->N && ok; q++) {
            char x[32], y[32];
            snprintf(x, sizeof x, "%.*g", p, b->lev[q - 1]);
            snprintf(y, sizeof y, "%.*g", p, b->lev[q]);
            ok = !(b->lev[q] > b->lev[q - 1] && !strcmp(x, y));
        }
    }
    if (k > b->N) {
        char prev[32];
        snprintf(prev, sizeof prev, "%.*g", p, b->lev[b->N]);
        snprintf(out, n, "> %s", prev);
    } else {
        snprintf(out, n, "%.*g", p, b->lev[k < 0 ? 0 : k]);
    }
}

static void cbar_label_fn(PLINT axis, PLFLT v, char *out, PLINT n, PLPointer data) {
    (void)axis;
    cbar_label(data, (int)lround(v), out, (size_t)n);
}

/* The colour bar right of the plot area: one shade per band over band indices 0..N+1,
 * the edges labelled with the levels. */
static void colorbar(const plot_surface *f, const bands *b, const plot_area *a, double t) {
    PLFLT vals[PLOT_MAX_LEVELS + 2];
    for (int k = 0; k <= b->N + 1; k++) vals[k] = k;
    const PLFLT *vp[1] = {vals};
    PLINT nv[1] = {b->N + 2}, sub[1] = {0}, lopt[1] = {PL_COLORBAR_LABEL_RIGHT};
    PLFLT ticks[1] = {1.0};
    const char *axis_opts[1] = {"bcmtvo"};
    char cap[512];
    const char *labels[1] = {esc(f->heat.label, cap, sizeof cap)};
    double vw = a->right - a->left;
    PLFLT w, h;
    plslabelfunc(cbar_label_fn, (PLPointer)b);
    set_color(C_FG, PLOT_BLACK);
    plwidth(1.0);
    plcolorbar(&w, &h, PL_COLORBAR_SHADE | PL_COLORBAR_SHADE_LABEL,
               PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, 0.9 * t / vw, 0,
               1.1 * t / vw, 1.0, C_BG, C_FG, 1, 0, 0, 0, 0, f->heat.label ? 1 : 0, lopt, labels, 1,
               axis_opts, ticks, sub, nv, vp);
    plslabelfunc(NULL, NULL);
}

/* Marked points, with their labels beside them on the side towards the middle. */
static void draw_points(const plot_surface *f, const plot_area *a, double t) {
    double px = (a->xmax - a->xmin) / (a->right - a->left); /* data units per pixel */
    char buf[512];
    set_color(C_FG, PLOT_BLACK);
    for (int k = 0; k < f->npoints; k++) {
        const plot_point *p = &f->points[k];
        if (!isfinite(p->x) || !isfinite(p->y)) continue;
        PLFLT x = p->x, y = p->y + GLYPH_LIFT * POINT_MARKER * pl_ypx;
        if (p->shape) {
            text_px(POINT_MARKER);
            plstring(1, &x, &y, glyph(p->shape));
        }
        if (!p->label) continue;
        int left = p->x > 0.5 * (a->xmin + a->xmax);
        double d = (0.5 * POINT_MARKER + 0.4 * t) * px;
        text_px(t);
        plptex(left ? x - d : x + d, p->y, 1, 0, left ? 1.0 : 0.0, esc(p->label, buf, sizeof buf));
    }
}

/* The plot area (L, T, R, B in pixels) of a surface in a W x H picture, and its text height. */
static void surface_box(const plot_surface *f, const bands *b, double W, double H, double *box, double *t) {
    *t = text_for(W, H);
    size_t lab = 0; /* the colour bar's widest label, in characters */
    for (int k = 0; k <= b->N + 1; k++) {
        char s[48];
        cbar_label(b, k, s, sizeof s);
        lab = strlen(s) > lab ? strlen(s) : lab;
    }
    double L = (f->ylabel ? 6.6 : 4.8) * *t, T = (f->title ? 2.0 : 0.8) * *t;
    double R = W - (3.4 + 0.62 * lab + (f->heat.label ? 2.4 : 0)) * *t, B = H - (f->xlabel ? 4.0 : 2.4) * *t;
    double dx = f->xs[f->nx - 1] - f->xs[0], dy = f->ys[f->ny - 1] - f->ys[0];
    if (f->equal_aspect && R > L && B > T) {   /* the longer side shrinks to the other's scale */
        if ((R - L) / dx > (B - T) / dy) R = L + (B - T) * dx / dy;
        else B = T + (R - L) * dy / dx;
    }
    box[0] = L, box[1] = T, box[2] = R, box[3] = B;
}

int plot_surface_fit_height(const plot_surface *f) {
    if (f->nx < 2 || f->ny < 2 || !f->xs || !f->ys || !f->v || f->width < 16) return f->height;
    double dx = f->xs[f->nx - 1] - f->xs[0], dy = f->ys[f->ny - 1] - f->ys[0], H = f->height, box[4], t;
    if (!(dx > 0 && dy > 0)) return f->height;
    bands b;
    make_bands(f, &b);
    plot_surface g = *f;
    g.equal_aspect = 0;
    for (int k = 0; k < 4; k++) {   /* the text height depends on H: a few rounds settle it */
        surface_box(&g, &b, f->width, H, box, &t);
        H = box[1] + (box[2] - box[0]) * dy / dx + (H - box[3]);
        H = H < 240 ? 240 : H > 4 * f->width ? 4 * f->width : H;
    }
    return (int)ceil(H);
}

static void draw_surface(const plot_surface *f, plot_area *a) {
    double W = f->width, H = f->height, t, box[4];
    bands b;
    make_bands(f, &b);
    surface_box(f, &b, W, H, box, &t);
    viewport(W, H, box[0], box[1], box[2], box[3], f->xs[0], f->xs[f->nx - 1], f->ys[0], f->ys[f->ny - 1], a);
    PLINT r[PLOT_MAX_LEVELS + 1], g[PLOT_MAX_LEVELS + 1], bl[PLOT_MAX_LEVELS + 1];
    for (int k = 0; k <= b.N; k++)
        r[k] = b.fill[k] >> 16 & 0xff, g[k] = b.fill[k] >> 8 & 0xff, bl[k] = b.fill[k] & 0xff;
    plscmap1n(b.N + 1);
    plscmap1(r, g, bl, b.N + 1);
    draw_heat(f, &b, a);
    draw_grey_cells(f);
    for (int k = 0; k < f->npaths; k++) {
        const plot_path *p = &f->paths[k];
        set_color(C_FG, PLOT_BLACK);
        draw_xy(p->x, p->y, p->n, 0, p->style, p->style == PLOT_SOLID ? 4.0 : 3.0, PLOT_NO_MARKER, 0);
    }
    draw_points(f, a, t);
    text_px(t);
    if (f->nkeys) {
        plot_panel keys = { .series = f->keys, .nseries = f->nkeys };
        legend(&keys, t);
    }
    frame(1, 0, 0, 1, 0, t);
    colorbar(f, &b, a, t);
    panel_text(f->title, f->xlabel, f->ylabel, t);
}

/* ---- output ------------------------------------------------------------------------------- */

/* Draw a figure (lines or surface) on a fresh PLplot stream of device dev, into file or
 * into mem (RGB, w*h*3). Returns 0, or -1 with PLplot's complaint in err. */
static int draw(const plot_lines *l, const plot_surface *s, const char *dev, const char *file,
                uint8_t *mem, plot_area *area, char *err) {
    int w = l ? l->width : s->width, h = l ? l->height : s->height;
    plot_area spare[PLOT_MAX_PANELS];
    pthread_mutex_lock(&pl_lock);
    PLINT old = 0, st = -1;
    plgstrm(&old);
    plmkstrm(&st);
    if (st < 0) {
        pthread_mutex_unlock(&pl_lock);
        return seterr(err, "plot: PLplot has no free stream");
    }
    pl_msg[0] = 0;
    plsabort(on_abort);
    plsdev(dev);
    if (file) plsfnam(file);
    if (mem) {
        plsmem(w, h, mem);
    } else {
        char geo[64];
        snprintf(geo, sizeof geo, "%dx%d", w, h);
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
    pl_ppmm = x1 > x0 ? w / (x1 - x0) : 3.78;
    if (l) draw_lines(l, area ? area : spare);
    else draw_surface(s, area ? area : spare);
    plend1();
    plsstrm(old);
    plsabort(NULL);
    int rc = pl_msg[0] ? seterr(err, "plot: PLplot: %s", pl_msg) : 0;
    pthread_mutex_unlock(&pl_lock);
    return rc;
}

static uint8_t *render(const plot_lines *l, const plot_surface *s, plot_area *area, char *err) {
    size_t n = (size_t)(l ? l->width : s->width) * (l ? l->height : s->height) * 3;
    uint8_t *px = malloc(n);
    if (!px) {
        seterr(err, "plot: out of memory");
        return NULL;
    }
    memset(px, 255, n); /* memcairo draws over what the buffer holds */
    if (draw(l, s, "memcairo", NULL, px, area, err)) {
        free(px);
        return NULL;
    }
    return px;
}

uint8_t *plot_lines_render(const plot_lines *fig, plot_area *area, char *err) {
    return check_lines(fig, err) ? NULL : render(fig, NULL, area, err);
}

uint8_t *plot_surface_render(const plot_surface *fig, plot_area *area, char *err) {
    return check_surface(fig, err) ? NULL : render(NULL, fig, area, err);
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

static int save(const plot_lines *l, const plot_surface *s, const char *path, char *err) {
    char msg[PLOT_ERR_LEN];
    if (!path || !*path) return seterr(err, "plot: no path to save to");
    if (l ? check_lines(l, msg) : check_surface(s, msg)) return seterr(err, "%s: %s", path, msg);
    const char *slash = strrchr(path, '/'), *dot = strrchr(slash ? slash : path, '.');
    const char *dev = !dot ? NULL : !strcasecmp(dot, ".png") ? "pngcairo"
                    : !strcasecmp(dot, ".svg") ? "svgcairo" : !strcasecmp(dot, ".pdf") ? "pdfcairo" : NULL;
    if (!dev)
        return seterr(err, "%s: unknown picture format '%s' (use .png, .svg or .pdf)", path, dot ? dot : "");
    if (!have_device(dev))
        return seterr(err, "%s: PLplot has no '%s' device (install plplot-driver-cairo)", path, dev);
    /* The project's atomic write (wspace): the temp file is made here, so PLplot never meets a
     * path it cannot open; PLplot writes it by name, and the commit syncs and renames it. */
    ws_atomic a;
    if (ws_atomic_open(&a, path, msg)) return seterr(err, "%s", msg);
    struct stat sb;
    const char *why = NULL;
    if (draw(l, s, dev, a.tmp, NULL, NULL, msg)) why = msg;
    else if (stat(a.tmp, &sb) || sb.st_size == 0) why = "PLplot wrote nothing";
    if (why) {
        ws_atomic_abort(&a);
        return seterr(err, "%s: cannot write (%s)", path, why);
    }
    if (ws_atomic_commit(&a, msg)) return seterr(err, "%s", msg);
    return 0;
}

int plot_lines_save(const plot_lines *fig, const char *path, char *err) { return save(fig, NULL, path, err); }

int plot_surface_save(const plot_surface *fig, const char *path, char *err) {
    return save(NULL, fig, path, err);
}
