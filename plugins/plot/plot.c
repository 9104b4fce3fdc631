/* plot.c: figures, layout and a small RGB rasteriser for the plot module (see plot.h).
 *
 * Building a figure only records data. Layout (axis ranges, ticks, margins) and drawing
 * happen on demand, so the caller can add series in any order and ask where a data point
 * lands (plot_data_to_pixel) with the same arithmetic the drawing uses. Drawing is plain
 * pixel work: thick lines are every pixel whose centre lies within width/2 of a segment
 * (which also gives round joins and caps), text is stb_easy_font's quads scaled up by an
 * integer, and the PNG comes from stb_image_write, written atomically via a temp file. */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

/* ---- look ------------------------------------------------------------------------------ */
enum {
    TEXT_SCALE = 2,       /* ticks, labels, legend */
    FIG_TITLE_SCALE = 3,
    CAP = 7,              /* stb_easy_font cap height in font units */
    PAD = 10,
    TICK_LEN = 5,
    MAX_TICKS = 32,
    LEGEND_SAMPLE = 40,
    CBAR_W = 22,
};
#define GRID_COLOR 0xdededeu
#define FRAME_COLOR 0x404040u
#define NAN_COLOR 0xd0d0d0u
#define LEGEND_EDGE 0xb0b0b0u
#define SERIES_WIDTH 2.5
#define SERIES_MARKER 4.0
#define OVERLAY_MARKER 7.0
#define CONTOUR_WIDTH 2.4

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
    double head; /* share of the axis height kept free above the data for the legend */
    /* layout: plot area [L, R) x [T, B); axis ranges (y in log10 units when logy) */
    int L, T, R, B;
    double x0, x1, y0, y1;
    int nxt, nyt;
    double xt[MAX_TICKS], yt[MAX_TICKS];
    char xtl[MAX_TICKS][32], ytl[MAX_TICKS][32];
} panel_t;

struct plot_figure {
    int w, h, np;
    char *title;
    panel_t p[PLOT_MAX_PANELS];
    uint8_t *px;
    int laid_out, drawn;
    char err[256];
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

static void touch(plot_figure *f) { f->laid_out = f->drawn = 0; }

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

plot_figure *plot_figure_new(int width, int height, int npanels) {
    if (width < 16 || height < 16 || width > 16384 || height > 16384 || npanels < 1 ||
        npanels > PLOT_MAX_PANELS)
        return NULL;
    plot_figure *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->w = width;
    f->h = height;
    f->np = npanels;
    for (int i = 0; i < npanels; i++) {
        f->p[i].xlim[0] = f->p[i].xlim[1] = NAN;
        f->p[i].ylim[0] = f->p[i].ylim[1] = NAN;
    }
    return f;
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

plot_heatmap_opts plot_heatmap_defaults(void) {
    plot_heatmap_opts o = {INFINITY, -5.0, 7, 0.55, NULL};
    return o;
}

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

/* Band of value x: the largest k <= N with lev[k] <= x; -1 for non-finite x. */
static int band_of(const heat_t *h, double x) {
    if (!isfinite(x)) return -1;
    int lo = 0, hi = h->N; /* answer in [lo, hi] */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (h->lev[mid] <= x) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* ---- text ------------------------------------------------------------------------------- */

/* stb_easy_font covers ASCII 32..126 only; anything else would index past its tables. */
static char *clean_text(const char *s) {
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        c[i] = ch >= 32 && ch <= 126 ? (char)ch : '?';
    }
    c[n] = 0;
    return c;
}

/* Ink width in pixels of s at the given scale (the font's advance less the last gap). */
static int text_w(const char *s, int scale) {
    if (!s || !*s) return 0;
    char *c = clean_text(s);
    if (!c) return 0;
    int w = stb_easy_font_width(c) - 1;
    free(c);
    return (w > 0 ? w : 0) * scale;
}

/* ---- canvas ---------------------------------------------------------------------------- */

typedef struct {
    uint8_t *px;
    int w, h;
    int cx0, cy0, cx1, cy1; /* clip rectangle [cx0, cx1) x [cy0, cy1) */
} canvas;

static void clip_all(canvas *c) {
    c->cx0 = c->cy0 = 0;
    c->cx1 = c->w;
    c->cy1 = c->h;
}

static void clip_to(canvas *c, int x0, int y0, int x1, int y1) {
    c->cx0 = x0 > 0 ? x0 : 0;
    c->cy0 = y0 > 0 ? y0 : 0;
    c->cx1 = x1 < c->w ? x1 : c->w;
    c->cy1 = y1 < c->h ? y1 : c->h;
}

static inline void put(canvas *c, int x, int y, plot_color col) {
    if (x < c->cx0 || x >= c->cx1 || y < c->cy0 || y >= c->cy1) return;
    uint8_t *p = c->px + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = (uint8_t)(col >> 16);
    p[1] = (uint8_t)(col >> 8);
    p[2] = (uint8_t)col;
}

/* Clamp a double pixel coordinate into int range first (data far off-axis map far out). */
static int clampi(double v, int lo, int hi) {
    if (!(v >= lo)) return lo; /* also NaN */
    if (v > hi) return hi;
    return (int)v;
}

static void fill_rect(canvas *c, double x0, double y0, double x1, double y1, plot_color col) {
    int a = clampi(ceil(x0 - 0.5), c->cx0, c->cx1), b = clampi(ceil(x1 - 0.5), c->cx0, c->cx1);
    int u = clampi(ceil(y0 - 0.5), c->cy0, c->cy1), v = clampi(ceil(y1 - 0.5), c->cy0, c->cy1);
    for (int y = u; y < v; y++)
        for (int x = a; x < b; x++) put(c, x, y, col);
}

/* Outline of [x0, x1) x [y0, y1), 1 px, inside the rectangle. */
static void rect_edge(canvas *c, int x0, int y0, int x1, int y1, plot_color col) {
    fill_rect(c, x0, y0, x1, y0 + 1, col);
    fill_rect(c, x0, y1 - 1, x1, y1, col);
    fill_rect(c, x0, y0, x0 + 1, y1, col);
    fill_rect(c, x1 - 1, y0, x1, y1, col);
}

/* Draw text with its ink's top-left corner at (x, y); rot = 1 turns it 90 degrees
 * anticlockwise about that corner (reading upwards, ink to the right of x, above y). */
static void text_raw(canvas *c, int x, int y, const char *s, int scale, plot_color col, int rot) {
    if (!s || !*s) return;
    char *t = clean_text(s);
    if (!t) return;
    size_t cap = (strlen(t) + 1) * 64 * 32;
    char *buf = malloc(cap);
    if (!buf) {
        free(t);
        return;
    }
    int q = stb_easy_font_print(0, 0, t, NULL, buf, (int)cap);
    for (int i = 0; i < q; i++) {
        float *v0 = (float *)(buf + 64 * i), *v2 = (float *)(buf + 64 * i + 32);
        int fx0 = (int)v0[0], fy0 = (int)v0[1], fx1 = (int)v2[0], fy1 = (int)v2[1];
        if (!rot)
            fill_rect(c, x + fx0 * scale, y + fy0 * scale, x + fx1 * scale, y + fy1 * scale, col);
        else
            fill_rect(c, x + fy0 * scale, y - fx1 * scale, x + fy1 * scale, y - fx0 * scale, col);
    }
    free(buf);
    free(t);
}

/* Text anchored at (x, y): ha -1/0/1 = left/centre/right, va -1/0/1 = top/middle/bottom
 * of the capital letters. */
static void text_at(canvas *c, int x, int y, const char *s, int scale, plot_color col, int ha,
                    int va) {
    int w = text_w(s, scale), h = CAP * scale;
    int x0 = ha < 0 ? x : ha == 0 ? x - w / 2 : x - w;
    int y0 = va < 0 ? y : va == 0 ? y - h / 2 : y - h;
    text_raw(c, x0, y0, s, scale, col, 0);
}

/* Upward text centred on (x, y). */
static void text_up(canvas *c, int x, int y, const char *s, int scale, plot_color col) {
    int w = text_w(s, scale), h = CAP * scale;
    text_raw(c, x - h / 2, y + w / 2, s, scale, col, 1);
}

/* Text with a 1 px white halo, readable over a heat map. */
static void text_halo(canvas *c, int x, int y, const char *s, int scale, plot_color col) {
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if (dx || dy) text_raw(c, x + dx, y + dy, s, scale, PLOT_WHITE, 0);
    text_raw(c, x, y, s, scale, col, 0);
}

/* ---- lines and markers ---------------------------------------------------------------- */

/* Every pixel whose centre is within w/2 of segment a-b (round caps). */
static void segment(canvas *c, double ax, double ay, double bx, double by, double w,
                    plot_color col) {
    double r = w / 2;
    if (r < 0.5) r = 0.5;
    int x0 = clampi(floor(fmin(ax, bx) - r), c->cx0, c->cx1);
    int x1 = clampi(ceil(fmax(ax, bx) + r), c->cx0, c->cx1);
    int y0 = clampi(floor(fmin(ay, by) - r), c->cy0, c->cy1);
    int y1 = clampi(ceil(fmax(ay, by) + r), c->cy0, c->cy1);
    double dx = bx - ax, dy = by - ay, L2 = dx * dx + dy * dy, r2 = r * r;
    for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
            double px = x + 0.5 - ax, py = y + 0.5 - ay;
            double t = L2 > 0 ? (px * dx + py * dy) / L2 : 0;
            if (t < 0) t = 0;
            if (t > 1) t = 1;
            double ex = px - t * dx, ey = py - t * dy;
            if (ex * ex + ey * ey <= r2) put(c, x, y, col);
        }
    }
}

/* Clip segment a-b to the rectangle (Liang-Barsky); returns 0 when nothing is left, else
 * the parameters [*t0, *t1] of the visible part. */
static int clip_segment(double ax, double ay, double bx, double by, double x0, double y0,
                        double x1, double y1, double *t0, double *t1) {
    double p[4] = {-(bx - ax), bx - ax, -(by - ay), by - ay};
    double q[4] = {ax - x0, x1 - ax, ay - y0, y1 - ay};
    double lo = 0, hi = 1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
        } else {
            double t = q[i] / p[i];
            if (p[i] < 0) {
                if (t > lo) lo = t;
            } else if (t < hi) {
                hi = t;
            }
        }
    }
    if (lo > hi) return 0;
    *t0 = lo;
    *t1 = hi;
    return 1;
}

/* Dash pattern (on, off) in pixels for a style and width; off = 0 means solid. */
static void dash_pattern(plot_style st, double w, double *on, double *off) {
    if (st == PLOT_DASHED) {
        *on = 3.0 * w + 4;
        *off = 2.0 * w + 3;
    } else if (st == PLOT_DOTTED) {
        *on = 0.01;
        *off = 1.5 * w + 2;
    } else {
        *on = 1;
        *off = 0;
    }
}

/* A styled line through pixel points; a non-finite point breaks it. The dash phase runs on
 * along the whole line, so dashes keep their rhythm across short segments. */
static void polyline(canvas *c, const double *px, const double *py, size_t n, plot_style st,
                     double w, plot_color col) {
    if (w <= 0) return;
    double on, off;
    dash_pattern(st, w, &on, &off);
    double period = on + off, phase = 0, m = w + 2;
    for (size_t i = 0; i + 1 < n; i++) {
        double ax = px[i], ay = py[i], bx = px[i + 1], by = py[i + 1];
        if (!isfinite(ax) || !isfinite(ay) || !isfinite(bx) || !isfinite(by)) {
            phase = 0;
            continue;
        }
        double len = hypot(bx - ax, by - ay), t0, t1;
        if (!clip_segment(ax, ay, bx, by, c->cx0 - m, c->cy0 - m, c->cx1 + m, c->cy1 + m, &t0,
                          &t1)) {
            phase = fmod(phase + len, period > 0 ? period : 1);
            continue;
        }
        double sx = ax + t0 * (bx - ax), sy = ay + t0 * (by - ay);
        double ex = ax + t1 * (bx - ax), ey = ay + t1 * (by - ay);
        if (off <= 0) {
            segment(c, sx, sy, ex, ey, w, col);
            continue;
        }
        double ux = len > 0 ? (bx - ax) / len : 0, uy = len > 0 ? (by - ay) / len : 0;
        double vis = len * (t1 - t0);
        double ph = fmod(phase + len * t0, period), s = 0;
        while (s < vis) {
            double step;
            if (ph < on) { /* inside a dash */
                step = fmin(on - ph, vis - s);
                segment(c, sx + ux * s, sy + uy * s, sx + ux * (s + step), sy + uy * (s + step),
                        w, col);
            } else {
                step = fmin(period - ph, vis - s);
            }
            s += step;
            ph += step;
            if (ph >= period - 1e-9) ph = 0;
        }
        phase = fmod(phase + len, period);
    }
}

/* Filled marker of size s (about its radius) centred at (x, y). */
static void marker(canvas *c, plot_marker shape, double x, double y, double s, plot_color col) {
    if (shape == PLOT_NO_MARKER || !isfinite(x) || !isfinite(y)) return;
    double r = s * 1.35;
    int x0 = clampi(floor(x - r), c->cx0, c->cx1), x1 = clampi(ceil(x + r), c->cx0, c->cx1);
    int y0 = clampi(floor(y - r), c->cy0, c->cy1), y1 = clampi(ceil(y + r), c->cy0, c->cy1);
    for (int j = y0; j < y1; j++) {
        for (int i = x0; i < x1; i++) {
            double dx = i + 0.5 - x, dy = j + 0.5 - y;
            int in = 0;
            switch (shape) {
            case PLOT_CIRCLE: in = dx * dx + dy * dy <= s * s; break;
            case PLOT_DIAMOND: in = fabs(dx) + fabs(dy) <= s * 1.35; break;
            case PLOT_SQUARE: in = fabs(dx) <= s * 0.85 && fabs(dy) <= s * 0.85; break;
            case PLOT_TRIANGLE: /* apex up, base at y + s/2 */
                in = dy <= s * 0.55 && dy >= -s * 1.1 + 1.73 * fabs(dx) * 0.95;
                break;
            default: break;
            }
            if (in) put(c, i, j, col);
        }
    }
}

/* ---- layout ---------------------------------------------------------------------------- */

/* A tick label: as many decimals as the step needs, or %g for very large/small numbers. */
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

/* Finite data range of a panel's series (and markers): x, and y in axis units. */
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

/* Round ticks inside [lo, hi]: the smallest 1-2-5 step that puts at most maxt of them
 * inside (plot_nice_ticks instead covers the range, which can leave a short axis with a
 * single labelled tick). Returns the count, writes up to cap ticks and the step. */
static int inside_ticks(double lo, double hi, int maxt, double *t, int cap, double *step) {
    double span = hi - lo, hair = span * 1e-9;
    if (!(span > 0) || !isfinite(span)) return 0;
    static const double mant[3] = {1, 2, 5};
    int e = (int)floor(log10(span / maxt)) - 1;
    for (int guard = 0; guard < 64; guard++, e++) {
        for (int k = 0; k < 3; k++) {
            double s = mant[k] * pow(10.0, e);
            double a = ceil((lo - hair) / s), b = floor((hi + hair) / s);
            if (b - a + 1 > maxt) continue;
            int n = 0;
            for (double i = a; i <= b && n < cap; i++, n++) {
                double v = e < 0 ? i * mant[k] / pow(10.0, -e) : i * mant[k] * pow(10.0, e);
                t[n] = fabs(v) < s * 1e-9 ? 0.0 : v;
            }
            *step = s;
            return n;
        }
    }
    return 0;
}

/* Labelled ticks inside [lo, hi] for an axis len pixels long, about px_per pixels apart. */
static int axis_ticks(double lo, double hi, int len, int px_per, int logax, double *t,
                      char (*lab)[32]) {
    int maxt = len / px_per + 1;
    if (maxt < 3) maxt = 3;
    if (maxt > 12) maxt = 12;
    double tmp[MAX_TICKS], step = 1;
    int n = 0;
    if (logax && hi - lo >= 1) { /* whole decades, every 1, 2, 5, ... of them */
        int m = inside_ticks(lo, hi, maxt, tmp, MAX_TICKS, &step);
        if (step < 1) {
            m = 0;
            for (double e = ceil(lo - 1e-9); e <= hi + 1e-9 && m < MAX_TICKS; e++) tmp[m++] = e;
        }
        for (int i = 0; i < m; i++) {
            double e = round(tmp[i]);
            t[n] = e;
            if (e >= -3 && e <= 4) snprintf(lab[n], 32, "%g", pow(10, e));
            else snprintf(lab[n], 32, "1e%d", (int)e);
            n++;
        }
        return n;
    }
    if (logax) { /* less than a decade: round values, placed logarithmically */
        int m = inside_ticks(pow(10, lo), pow(10, hi), maxt, tmp, MAX_TICKS, &step);
        for (int i = 0; i < m; i++) {
            if (!(tmp[i] > 0)) continue;
            t[n] = log10(tmp[i]);
            tick_label(lab[n], 32, tmp[i], step);
            n++;
        }
        return n;
    }
    int m = inside_ticks(lo, hi, maxt, tmp, MAX_TICKS, &step);
    for (int i = 0; i < m; i++) {
        t[n] = tmp[i];
        tick_label(lab[n], 32, tmp[i], step);
        n++;
    }
    return n;
}

/* Colour-bar label k of a heat map ("%.2g"; the catch-all top one reads "> previous"). */
static void cbar_label(const heat_t *h, int k, char *out, size_t n) {
    if (k == h->N + 1) {
        char prev[32];
        snprintf(prev, sizeof prev, "%.2g", h->lev[h->N]);
        snprintf(out, n, "> %s", prev);
    } else {
        snprintf(out, n, "%.2g", h->lev[k]);
    }
}

static int cbar_width(const heat_t *h) {
    int w = 0;
    for (int k = 0; k <= h->N + 1; k++) {
        char b[48];
        cbar_label(h, k, b, sizeof b);
        int tw = text_w(b, TEXT_SCALE);
        if (tw > w) w = tw;
    }
    return 2 * PAD + CBAR_W + TICK_LEN + 4 + w + (h->label ? PAD + CAP * TEXT_SCALE : 0);
}

static int fig_top(const plot_figure *f) {
    return f->title ? PAD + CAP * FIG_TITLE_SCALE + PAD : 0;
}

static void layout_panel(plot_figure *f, int i) {
    panel_t *p = &f->p[i];
    int cx0 = f->w * i / f->np, cx1 = f->w * (i + 1) / f->np;
    const int th = CAP * TEXT_SCALE; /* text cap height */
    /* Ranges. */
    double xlo, xhi, ylo, yhi;
    if (p->hm) {
        xlo = p->hm->xs[0];
        xhi = p->hm->xs[p->hm->nx - 1];
        ylo = p->hm->ys[0];
        yhi = p->hm->ys[p->hm->ny - 1];
        if (p->logy) {
            ylo = ylo > 0 ? log10(ylo) : NAN;
            yhi = yhi > 0 ? log10(yhi) : NAN;
        }
        widen(&ylo, &yhi);
    } else {
        data_range(p, &xlo, &xhi, &ylo, &yhi);
        widen(&xlo, &xhi);
        widen(&ylo, &yhi);
        double pad = 0.05 * (yhi - ylo);
        ylo -= pad;
        yhi += pad;
        if (p->head > 0 && isnan(p->ylim[0])) yhi = ylo + (yhi - ylo) / (1 - p->head);
    }
    if (!isnan(p->xlim[0])) xlo = p->xlim[0], xhi = p->xlim[1];
    if (!isnan(p->ylim[0])) {
        ylo = p->ylim[0];
        yhi = p->ylim[1];
        if (p->logy) {
            ylo = ylo > 0 ? log10(ylo) : NAN;
            yhi = log10(yhi);
            if (!isfinite(ylo) || !isfinite(yhi)) ylo = 0, yhi = 1;
        }
    }
    p->x0 = xlo;
    p->x1 = xhi;
    p->y0 = ylo;
    p->y1 = yhi;
    /* Vertical: title above, tick labels and x label below. */
    p->T = fig_top(f) + PAD + (p->title ? th + 2 * PAD : PAD);
    p->B = f->h - PAD - (p->xlabel ? th + PAD : 0) - (th + PAD + TICK_LEN);
    if (p->B < p->T + 4) p->B = p->T + 4;
    /* y ticks first: their labels set the left margin, which sets the x axis's length. */
    p->nyt = axis_ticks(ylo, yhi, p->B - p->T, 45, p->logy, p->yt, p->ytl);
    int lw = 0;
    for (int k = 0; k < p->nyt; k++) {
        int w = text_w(p->ytl[k], TEXT_SCALE);
        if (w > lw) lw = w;
    }
    p->L = cx0 + PAD + (p->ylabel ? th + PAD : 0) + lw + 8 + TICK_LEN;
    p->R = cx1 - 2 * PAD - (p->hm ? cbar_width(p->hm) : 0);
    if (p->R < p->L + 4) p->R = p->L + 4;
    p->nxt = axis_ticks(xlo, xhi, p->R - p->L, 75, 0, p->xt, p->xtl);
    /* Keep the last x tick label inside the cell. */
    if (p->nxt > 0 && !p->hm) {
        int half = text_w(p->xtl[p->nxt - 1], TEXT_SCALE) / 2 + PAD / 2;
        if (p->R + half > cx1) p->R = cx1 - half;
    }
}

static double legend_place(const panel_t *p, int *x, int *y, int *w, int *h);

/* Lay out each panel; where the automatic legend would hide data in every corner and the
 * y range is automatic, raise the top of the y axis by the legend's height and lay out
 * again, so the legend sits above the data. */
static void layout(plot_figure *f) {
    if (f->laid_out) return;
    for (int i = 0; i < f->np; i++) {
        panel_t *p = &f->p[i];
        p->head = 0;
        layout_panel(f, i);
        int x, y, w, h;
        if (p->hm || p->legend != PLOT_LEGEND_AUTO || !isnan(p->ylim[0]) ||
            legend_place(p, &x, &y, &w, &h) <= 0)
            continue;
        double head = (double)(h + 10 + 8) / (p->B - p->T);
        if (head < 0.6) {
            p->head = head;
            layout_panel(f, i);
        }
    }
    f->laid_out = 1;
}

static void to_px(const panel_t *p, double x, double y, double *px, double *py) {
    if (p->logy) y = y > 0 ? log10(y) : NAN;
    *px = p->L + (x - p->x0) / (p->x1 - p->x0) * (p->R - p->L);
    *py = p->B - (y - p->y0) / (p->y1 - p->y0) * (p->B - p->T);
}

int plot_data_to_pixel(plot_figure *f, int panel, double x, double y, double *px, double *py) {
    panel_t *p = get_panel(f, panel);
    if (!p || !px || !py) return -1;
    layout(f);
    to_px(p, x, y, px, py);
    return isfinite(*px) && isfinite(*py) ? 0 : fail(f, "plot: point (%g, %g) has no pixel", x, y);
}

/* ---- drawing ------------------------------------------------------------------------- */

static void draw_heatmap(canvas *c, const panel_t *p) {
    const heat_t *h = p->hm;
    int W = p->R - p->L, H = p->B - p->T;
    int *band = malloc((size_t)W * (size_t)H * sizeof *band);
    int *ca = malloc((size_t)W * sizeof *ca);
    double *ta = malloc((size_t)W * sizeof *ta);
    int *cb = malloc((size_t)H * sizeof *cb);
    double *tb = malloc((size_t)H * sizeof *tb);
    if (!band || !ca || !ta || !cb || !tb) goto out;
    /* Cell and fraction along it for every column and row (-1: outside the grid). */
    for (int i = 0; i < W; i++) {
        double x = p->x0 + (i + 0.5) / W * (p->x1 - p->x0);
        ca[i] = -1;
        if (x < h->xs[0] || x > h->xs[h->nx - 1]) continue;
        size_t a = 0;
        while (a + 2 < h->nx && h->xs[a + 1] <= x) a++;
        ca[i] = (int)a;
        ta[i] = (x - h->xs[a]) / (h->xs[a + 1] - h->xs[a]);
    }
    for (int j = 0; j < H; j++) {
        double y = p->y1 - (j + 0.5) / H * (p->y1 - p->y0);
        if (p->logy) y = pow(10, y);
        cb[j] = -1;
        if (y < h->ys[0] || y > h->ys[h->ny - 1]) continue;
        size_t b = 0;
        while (b + 2 < h->ny && h->ys[b + 1] <= y) b++;
        cb[j] = (int)b;
        tb[j] = (y - h->ys[b]) / (h->ys[b + 1] - h->ys[b]);
    }
    for (int j = 0; j < H; j++) {
        for (int i = 0; i < W; i++) {
            int *bp = &band[(size_t)j * W + i];
            *bp = -2;
            if (ca[i] < 0 || cb[j] < 0) continue;
            size_t a = (size_t)ca[i], b = (size_t)cb[j], ny = h->ny;
            double u = ta[i], v = tb[j];
            double z = (1 - u) * (1 - v) * h->v[a * ny + b] + u * (1 - v) * h->v[(a + 1) * ny + b] +
                       (1 - u) * v * h->v[a * ny + b + 1] + u * v * h->v[(a + 1) * ny + b + 1];
            *bp = band_of(h, z);
            put(c, p->L + i, p->T + j, *bp >= 0 ? h->fill[*bp] : NAN_COLOR);
        }
    }
    /* Contour lines: both pixels of each neighbouring pair whose bands differ, in the colour
     * of the level between them (the upper band's lower level). */
    for (int j = 0; j < H; j++) {
        for (int i = 0; i < W; i++) {
            int b0 = band[(size_t)j * W + i];
            if (b0 < 0) continue;
            for (int d = 0; d < 2; d++) {
                int i2 = i + (d == 0), j2 = j + (d == 1);
                if (i2 >= W || j2 >= H) continue;
                int b1 = band[(size_t)j2 * W + i2];
                if (b1 < 0 || b1 == b0) continue;
                plot_color lc = h->line[b0 > b1 ? b0 : b1];
                segment(c, p->L + i + 0.5, p->T + j + 0.5, p->L + i2 + 0.5, p->T + j2 + 0.5,
                        CONTOUR_WIDTH, lc);
            }
        }
    }
out:
    free(band);
    free(ca);
    free(ta);
    free(cb);
    free(tb);
}

static void draw_series(canvas *c, const panel_t *p, const series_t *s) {
    if (s->n == 0) return;
    double *px = malloc(s->n * sizeof *px), *py = malloc(s->n * sizeof *py);
    if (!px || !py) {
        free(px);
        free(py);
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        to_px(p, s->x[i], s->y[i], &px[i], &py[i]);
        if (!isfinite(s->x[i]) || !isfinite(s->y[i])) px[i] = py[i] = NAN;
    }
    polyline(c, px, py, s->n, s->style, s->width, s->color);
    if (s->marker != PLOT_NO_MARKER)
        for (size_t i = 0; i < s->n; i++)
            marker(c, s->marker, px[i], py[i], SERIES_MARKER, s->color);
    free(px);
    free(py);
}

/* Legend geometry: entries are the labelled series. */
static int legend_entries(const panel_t *p) {
    int n = 0;
    for (int k = 0; k < p->ns; k++) n += p->s[k].label != NULL;
    return n;
}

#define LEG_ROW 24

static void legend_size(const panel_t *p, int *w, int *h) {
    int lw = 0;
    for (int k = 0; k < p->ns; k++)
        if (p->s[k].label) {
            int t = text_w(p->s[k].label, TEXT_SCALE);
            if (t > lw) lw = t;
        }
    *w = 8 + LEGEND_SAMPLE + 8 + lw + 10;
    *h = 6 + legend_entries(p) * LEG_ROW + 2;
}

/* How much of the panel's drawing a legend box at (x, y) would hide: points sampled every
 * 2 px along each series, and markers counted heavily. */
static double legend_cost(const panel_t *p, int x, int y, int w, int h) {
    double cost = 0, x0 = x - 3, y0 = y - 3, x1 = x + w + 3, y1 = y + h + 3;
    for (int k = 0; k < p->ns; k++) {
        const series_t *s = &p->s[k];
        double ax = NAN, ay = NAN;
        for (size_t i = 0; i < s->n; i++) {
            double bx, by;
            to_px(p, s->x[i], s->y[i], &bx, &by);
            if (!isfinite(s->x[i]) || !isfinite(bx) || !isfinite(by)) {
                ax = ay = NAN;
                continue;
            }
            if (isfinite(ax)) {
                double len = hypot(bx - ax, by - ay);
                int m = (int)fmin(len / 2, 4000) + 1;
                for (int q = 0; q < m; q++) {
                    double sx = ax + (bx - ax) * q / m, sy = ay + (by - ay) * q / m;
                    cost += sx >= x0 && sx < x1 && sy >= y0 && sy < y1;
                }
            } else {
                cost += bx >= x0 && bx < x1 && by >= y0 && by < y1;
            }
            ax = bx;
            ay = by;
        }
    }
    for (int k = 0; k < p->nm; k++) {
        double bx, by;
        to_px(p, p->m[k].x, p->m[k].y, &bx, &by);
        cost += 20.0 * (bx >= x0 - 12 && bx < x1 + 12 && by >= y0 - 12 && by < y1 + 12);
    }
    return cost;
}

/* Where the legend goes (top-left corner *x, *y; size *w, *h). Returns how much data it
 * covers there (0: none; negative: no legend). */
static double legend_place(const panel_t *p, int *x, int *y, int *w, int *h) {
    if (p->legend == PLOT_LEGEND_NONE || legend_entries(p) == 0) return -1;
    legend_size(p, w, h);
    const int in = 10;
    int xr = p->R - in - *w, xl = p->L + in, yt = p->T + in, yb = p->B - in - *h;
    int cx[4] = {xr, xl, xr, xl}, cy[4] = {yt, yt, yb, yb};
    int pick = 0;
    double best = INFINITY;
    switch (p->legend) {
    case PLOT_LEGEND_TOP_LEFT: pick = 1; break;
    case PLOT_LEGEND_BOTTOM_RIGHT: pick = 2; break;
    case PLOT_LEGEND_BOTTOM_LEFT: pick = 3; break;
    case PLOT_LEGEND_AUTO:
        for (int k = 0; k < 4 && best > 0; k++) {
            double cst = legend_cost(p, cx[k], cy[k], *w, *h);
            if (cst < best) best = cst, pick = k;
        }
        break;
    default: break;
    }
    *x = cx[pick];
    *y = cy[pick];
    return isfinite(best) ? best : legend_cost(p, *x, *y, *w, *h);
}

static void draw_legend(canvas *c, const panel_t *p) {
    int x, y, w, h;
    if (legend_place(p, &x, &y, &w, &h) < 0) return;
    fill_rect(c, x, y, x + w, y + h, PLOT_WHITE);
    rect_edge(c, x, y, x + w, y + h, LEGEND_EDGE);
    int row = 0;
    for (int k = 0; k < p->ns; k++) {
        const series_t *s = &p->s[k];
        if (!s->label) continue;
        double my = y + 6 + row * LEG_ROW + CAP * TEXT_SCALE / 2.0;
        double lx[2] = {x + 8, x + 8 + LEGEND_SAMPLE}, ly[2] = {my, my};
        polyline(c, lx, ly, 2, s->style, fmin(s->width, 4.0), s->color);
        marker(c, s->marker, x + 8 + LEGEND_SAMPLE / 2.0, my, SERIES_MARKER, s->color);
        text_at(c, x + 8 + LEGEND_SAMPLE + 8, (int)round(my), s->label, TEXT_SCALE, PLOT_BLACK,
                -1, 0);
        row++;
    }
}

static void draw_colorbar(canvas *c, const panel_t *p) {
    const heat_t *h = p->hm;
    int x0 = p->R + 2 * PAD, x1 = x0 + CBAR_W, nb = h->N + 1;
    double hh = (double)(p->B - p->T) / nb;
    for (int k = 0; k < nb; k++)
        fill_rect(c, x0, p->B - (k + 1) * hh, x1, p->B - k * hh, h->fill[k]);
    rect_edge(c, x0, p->T, x1, p->B, FRAME_COLOR);
    int lw = 0;
    for (int k = 0; k <= nb; k++) {
        char b[48];
        cbar_label(h, k, b, sizeof b);
        int y = (int)round(p->B - k * hh);
        fill_rect(c, x1, y - 1, x1 + TICK_LEN, y + 1, FRAME_COLOR);
        text_at(c, x1 + TICK_LEN + 4, y, b, TEXT_SCALE, PLOT_BLACK, -1, 0);
        int tw = text_w(b, TEXT_SCALE);
        if (tw > lw) lw = tw;
    }
    if (h->label)
        text_up(c, x1 + TICK_LEN + 4 + lw + PAD + CAP * TEXT_SCALE / 2, (p->T + p->B) / 2, h->label,
                TEXT_SCALE, PLOT_BLACK);
}

static void draw_panel(canvas *c, plot_figure *f, int i) {
    panel_t *p = &f->p[i];
    const int th = CAP * TEXT_SCALE;
    clip_to(c, p->L, p->T, p->R, p->B);
    if (p->hm) {
        draw_heatmap(c, p);
    } else { /* grid lines at the ticks */
        for (int k = 0; k < p->nxt; k++) {
            double x, y;
            to_px(p, p->xt[k], 1, &x, &y);
            fill_rect(c, floor(x), p->T, floor(x) + 1, p->B, GRID_COLOR);
        }
        for (int k = 0; k < p->nyt; k++) {
            double y = p->B - (p->yt[k] - p->y0) / (p->y1 - p->y0) * (p->B - p->T);
            fill_rect(c, p->L, floor(y), p->R, floor(y) + 1, GRID_COLOR);
        }
    }
    for (int k = 0; k < p->ns; k++) draw_series(c, p, &p->s[k]);
    for (int k = 0; k < p->nm; k++) {
        double x, y;
        to_px(p, p->m[k].x, p->m[k].y, &x, &y);
        marker(c, p->m[k].shape, x, y, OVERLAY_MARKER, PLOT_BLACK);
    }
    clip_all(c);
    for (int k = 0; k < p->nm; k++) { /* marker labels may run past the axes */
        double x, y;
        to_px(p, p->m[k].x, p->m[k].y, &x, &y);
        if (p->m[k].label && isfinite(x) && isfinite(y) && x >= p->L - 1 && x <= p->R + 1 &&
            y >= p->T - 1 && y <= p->B + 1)
            text_halo(c, (int)x + 10, (int)y - 10 - th, p->m[k].label, TEXT_SCALE, PLOT_BLACK);
    }
    /* Frame, ticks, tick labels. */
    rect_edge(c, p->L - 1, p->T - 1, p->R + 1, p->B + 1, FRAME_COLOR);
    for (int k = 0; k < p->nxt; k++) {
        double x, y;
        to_px(p, p->xt[k], 1, &x, &y);
        int xi = (int)floor(x);
        fill_rect(c, xi, p->B + 1, xi + 1, p->B + 1 + TICK_LEN, FRAME_COLOR);
        text_at(c, xi, p->B + 1 + TICK_LEN + 6, p->xtl[k], TEXT_SCALE, PLOT_BLACK, 0, -1);
    }
    for (int k = 0; k < p->nyt; k++) {
        double y = p->B - (p->yt[k] - p->y0) / (p->y1 - p->y0) * (p->B - p->T);
        int yi = (int)floor(y);
        fill_rect(c, p->L - 1 - TICK_LEN, yi, p->L - 1, yi + 1, FRAME_COLOR);
        text_at(c, p->L - 1 - TICK_LEN - 6, yi, p->ytl[k], TEXT_SCALE, PLOT_BLACK, 1, 0);
    }
    if (p->logy && p->y1 - p->y0 >= 1) { /* unlabelled minor ticks at 2..9 x 10^k */
        for (double e = floor(p->y0); e < p->y1; e++)
            for (int m = 2; m <= 9; m++) {
                double v = e + log10(m);
                if (v < p->y0 || v > p->y1) continue;
                int yi = (int)floor(p->B - (v - p->y0) / (p->y1 - p->y0) * (p->B - p->T));
                fill_rect(c, p->L - 1 - TICK_LEN / 2 - 1, yi, p->L - 1, yi + 1, FRAME_COLOR);
            }
    }
    int cx0 = f->w * i / f->np;
    if (p->xlabel)
        text_at(c, (p->L + p->R) / 2, f->h - PAD, p->xlabel, TEXT_SCALE, PLOT_BLACK, 0, 1);
    if (p->ylabel)
        text_up(c, cx0 + PAD + th / 2, (p->T + p->B) / 2, p->ylabel, TEXT_SCALE, PLOT_BLACK);
    if (p->title) { /* bold: drawn twice, one pixel apart */
        int w = text_w(p->title, TEXT_SCALE) + 1, x = (p->L + p->R) / 2 - w / 2;
        int y = p->T - PAD - th;
        text_raw(c, x, y, p->title, TEXT_SCALE, PLOT_BLACK, 0);
        text_raw(c, x + 1, y, p->title, TEXT_SCALE, PLOT_BLACK, 0);
    }
    draw_legend(c, p);
    if (p->hm) draw_colorbar(c, p);
}

const uint8_t *plot_render(plot_figure *f, int *w, int *h) {
    if (!f) return NULL;
    if (w) *w = f->w;
    if (h) *h = f->h;
    if (f->drawn) return f->px;
    size_t n = (size_t)f->w * (size_t)f->h * 3;
    if (!f->px && !(f->px = malloc(n))) {
        fail(f, "plot: out of memory for a %dx%d picture", f->w, f->h);
        return NULL;
    }
    memset(f->px, 0xff, n);
    layout(f);
    canvas c = {f->px, f->w, f->h, 0, 0, f->w, f->h};
    if (f->title) {
        int x = f->w / 2 - text_w(f->title, FIG_TITLE_SCALE) / 2;
        text_raw(&c, x, PAD, f->title, FIG_TITLE_SCALE, PLOT_BLACK, 0);
        text_raw(&c, x + 1, PAD, f->title, FIG_TITLE_SCALE, PLOT_BLACK, 0);
    }
    for (int i = 0; i < f->np; i++) draw_panel(&c, f, i);
    f->drawn = 1;
    return f->px;
}

/* ---- PNG out --------------------------------------------------------------------------- */

typedef struct {
    unsigned char *b;
    size_t n, cap;
    int oom;
} membuf;

static void mem_write(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (m->oom || size <= 0) return;
    if (m->n + (size_t)size > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->n + (size_t)size) cap *= 2;
        unsigned char *b = realloc(m->b, cap);
        if (!b) {
            m->oom = 1;
            return;
        }
        m->b = b;
        m->cap = cap;
    }
    memcpy(m->b + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

static int save_err(char *err, const char *path, const char *why) {
    if (err) snprintf(err, PLOT_ERR_LEN, "plot: cannot write '%s': %s", path, why);
    return -1;
}

int plot_save_png(plot_figure *f, const char *path, char *err) {
    if (err) err[0] = 0;
    if (!path || !*path) return save_err(err, path ? path : "(null)", "empty file name");
    if (!f) return save_err(err, path, "no figure");
    const uint8_t *px = plot_render(f, NULL, NULL);
    if (!px) return save_err(err, path, f->err);
    membuf m = {0};
    if (!stbi_write_png_to_func(mem_write, &m, f->w, f->h, 3, px, f->w * 3) || m.oom) {
        free(m.b);
        return save_err(err, path, "PNG encoding failed (out of memory)");
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(m.b);
        return save_err(err, path, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(m.b);
        free(tmp);
        return save_err(err, path, strerror(e));
    }
    const char *why = NULL;
    int e = 0;
    for (size_t off = 0; off < m.n && !why;) {
        ssize_t k = write(fd, m.b + off, m.n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) e = k < 0 ? errno : EIO, why = "write";
        else off += (size_t)k;
    }
    if (!why && fchmod(fd, 0644)) e = errno, why = "chmod";
    if (!why && fsync(fd)) e = errno, why = "fsync";
    if (close(fd) && !why) e = errno, why = "close";
    if (!why && rename(tmp, path)) e = errno, why = "rename";
    free(m.b);
    if (why) {
        unlink(tmp);
        free(tmp);
        char msg[160];
        snprintf(msg, sizeof msg, "%s: %s", why, strerror(e));
        return save_err(err, path, msg);
    }
    free(tmp);
    return 0;
}
