/* vec.c: flat weight-space vectors. Reductions accumulate in double so that norms and
 * distances of 10^5..10^7-float vectors are exact to float precision. */
#include <math.h>
#include <string.h>
#include "wspace.h"

void ws_scale(size_t n, float a, float *y) { for (size_t i = 0; i < n; i++) y[i] *= a; }

double ws_dot(size_t n, const float *x, const float *y) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * y[i];
    return s;
}
double ws_norm(size_t n, const float *x) { return sqrt(ws_dot(n, x, x)); }
double ws_dist(size_t n, const float *x, const float *y) {
    double s = 0;
    for (size_t i = 0; i < n; i++) { double d = (double)x[i] - y[i]; s += d * d; }
    return sqrt(s);
}

void ws_combine(size_t n, int k, const float *c, const float *const *v, float *out) {
    for (size_t i = 0; i < n; i++) {
        float s = 0;
        for (int j = 0; j < k; j++) s += c[j] * v[j][i];
        out[i] = s;
    }
}

int ws_all_finite(size_t n, const float *x) {
    for (size_t i = 0; i < n; i++) if (!isfinite(x[i])) return 0;
    return 1;
}

/* Darknet's update_network in normal form: with u = -updates/B it does
 * u <- m*u + (g + decay*w) (decay on weights only), w <- w - lr*u. */
void ws_sgd_step(size_t n, float *w, const float *g, float *v, float lr, float momentum,
                 float decay, const unsigned char *mask) {
    for (size_t i = 0; i < n; i++) {
        float d = g[i];
        if (!mask || mask[i]) d += decay * w[i];
        v[i] = momentum * v[i] + d;
        w[i] -= lr * v[i];
    }
}
