/* plot_scale.c: the colour rules behind a picture, with no pixels in sight: the log-spaced
 * heat-map levels of the reference plane plot, its colour normalisation, the jet_r colour
 * map, and the line-plot palette. Shared by plot.c and plot_none.c, and checked directly by
 * the tests. */
#include "plot.h"

#include <math.h>

int plot_heatmap_levels(const double *v, size_t n, double vmax, double log_alpha,
                        int nlevels, double *levels) {
    if (!v || !levels || nlevels < 1 || nlevels > PLOT_MAX_LEVELS || !isfinite(log_alpha))
        return -1;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        double c = (isnan(vmax) || v[i] < vmax) ? v[i] : vmax; /* NAN vmax: no clip */
        if (c < lo) lo = c;
        if (c > hi) hi = c;
    }
    if (!(lo <= hi)) return -1;
    /* A flat surface has no log range: place the levels as if it spanned e^log_alpha. */
    double range = hi - lo > 0 ? hi - lo : exp(log_alpha);
    double g = (log(range) - log_alpha) / nlevels;
    for (int k = 0; k <= nlevels; k++) levels[k] = lo + exp(log_alpha + g * k);
    levels[0] = lo;
    levels[nlevels] = hi;
    levels[nlevels + 1] = 1e10;
    /* With range < e^log_alpha the formula runs downwards; keep the bands ordered (some
     * then are empty) rather than hand out a non-monotone list. */
    for (int k = 1; k <= nlevels + 1; k++) {
        if (levels[k] < levels[k - 1]) levels[k] = levels[k - 1];
        if (k < nlevels && levels[k] > hi) levels[k] = hi;
    }
    if (levels[nlevels + 1] < hi) levels[nlevels + 1] = hi;
    return 0;
}

double plot_log_norm(double v, double vmin, double vmax, double log_alpha) {
    double den = log(vmax - vmin) - log_alpha;
    if (!(den > 0)) return 0.0;
    double l = v > vmin ? log(v - vmin) : log_alpha;
    if (l < log_alpha) l = log_alpha;
    double u = 0.9 * (l - log_alpha) / den;
    if (!(u >= 0)) return 0.0;
    return u > 1 ? 1.0 : u;
}

/* Piecewise-linear channel through (x, y) knots, x increasing from 0 to 1. */
static double ramp(const double (*k)[2], int n, double u) {
    for (int i = 1; i < n; i++) {
        if (u <= k[i][0]) {
            double w = (u - k[i - 1][0]) / (k[i][0] - k[i - 1][0]);
            return k[i - 1][1] + w * (k[i][1] - k[i - 1][1]);
        }
    }
    return k[n - 1][1];
}

static int channel(double c) {
    int i = (int)lround(c * 255.0);
    return i < 0 ? 0 : i > 255 ? 255 : i;
}

plot_color plot_jet_r(double u) {
    /* The jet colour map's knots (dark blue -> blue -> cyan -> yellow -> red -> dark red). */
    static const double red[][2] = {{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}};
    static const double grn[][2] = {{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}};
    static const double blu[][2] = {{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}};
    if (!(u >= 0)) u = 0;
    if (u > 1) u = 1;
    double j = 1.0 - u;
    return (plot_color)(channel(ramp(red, 5, j)) << 16 | channel(ramp(grn, 6, j)) << 8 |
                        channel(ramp(blu, 5, j)));
}

plot_color plot_palette(int i) {
    static const plot_color pal[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                       0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    i %= 10;
    if (i < 0) i += 10;
    return pal[i];
}

plot_color plot_blend(plot_color fg, plot_color bg, double alpha) {
    plot_color out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        double a = (fg >> sh) & 0xff, b = (bg >> sh) & 0xff;
        long c = lround(alpha * a + (1.0 - alpha) * b);
        if (c < 0) c = 0;
        if (c > 255) c = 255;
        out |= (plot_color)c << sh;
    }
    return out;
}

/* the heat map's defaults (shared by plot.c and plot_none.c) */
plot_heatmap_opts plot_heatmap_defaults(void) {
    plot_heatmap_opts o = {INFINITY, -5.0, 7, 0.55, NULL};
    return o;
}
