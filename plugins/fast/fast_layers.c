/* fast_layers.c: interposed layer functions: maxpool, fused batch-norm, and convolution: on
 * oneDNN where fast_dnnl.c takes the layer (fused with BN and the activation in eval mode),
 * otherwise with the images of a batch split over the threads (one workspace per thread,
 * single-threaded OpenBLAS inside, per-thread weight-gradient partials summed at the end). */
#include <float.h>
/* No FP-exception semantics are needed: lets GCC if-convert (vectorise) the ReLU selects. */
#pragma GCC optimize("no-trapping-math")
/* ... and keeps the copies inside the blocked BN loops vectorised: loop distribution turned
 * them into one memmove call per pixel (15 % of a ResNet-20 BN pass in NHWC). */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <omp.h>
#include "fast.h"
#include "fast_internal.h"
#include "fast_protos.h"
#include "fast_kern.h"

#define FAST_CLONES __attribute__((target_clones("avx2", "default")))

/* ------------------------------------------------------------------ maxpool */

/* One output position, exactly the library's scan (strict >, first maximum wins, windows
 * partly outside the input ignore the outside). */
static inline void maxpool_one(const layer *l, const float *ip, size_t base, int off, int i, int j,
                               float *o, int *xo)
{
    float max = -FLT_MAX;
    int max_i = -1;
    for (int n = 0; n < l->size; n++) {
        int ch = off + i * l->stride + n;
        if (ch < 0 || ch >= l->h) continue;
        for (int m = 0; m < l->size; m++) {
            int cw = off + j * l->stride + m;
            if (cw < 0 || cw >= l->w) continue;
            float v = ip[ch * l->w + cw];
            if (v > max) { max = v; max_i = (int)(base + ch * l->w + cw); }
        }
    }
    *o = max;
    *xo = max_i;
}

static void maxpool_plane(const layer *l, const float *ip, size_t base, float *op, int *xp)
{
    int h = l->out_h, w = l->out_w, off = -l->pad / 2, W = l->w;
    if (l->size == 2 && l->stride == 2 && off == 0) {
        int hi = l->h / 2 < h ? l->h / 2 : h, wi = W / 2 < w ? W / 2 : w;   /* full windows */
        for (int i = 0; i < h; i++) {
            if (i >= hi) {
                for (int j = 0; j < w; j++) maxpool_one(l, ip, base, off, i, j, op + i * w + j, xp + i * w + j);
                continue;
            }
            const float *r0 = ip + (size_t)(2 * i) * W, *r1 = r0 + W;
            int b0 = (int)base + 2 * i * W;
            float *restrict o = op + i * w;
            int *restrict xo = xp + i * w;
#pragma omp simd
            for (int j = 0; j < wi; j++) {   /* the same scan with selects (vectorisable) */
                float max = -FLT_MAX, v;
                int mi = -1, t;
                v = r0[2 * j];     t = v > max; max = t ? v : max; mi = t ? b0 + 2 * j : mi;
                v = r0[2 * j + 1]; t = v > max; max = t ? v : max; mi = t ? b0 + 2 * j + 1 : mi;
                v = r1[2 * j];     t = v > max; max = t ? v : max; mi = t ? b0 + W + 2 * j : mi;
                v = r1[2 * j + 1]; t = v > max; max = t ? v : max; mi = t ? b0 + W + 2 * j + 1 : mi;
                o[j] = max;
                xo[j] = mi;
            }
            for (int j = wi; j < w; j++) maxpool_one(l, ip, base, off, i, j, op + i * w + j, xp + i * w + j);
        }
        return;
    }
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) maxpool_one(l, ip, base, off, i, j, op + i * w + j, xp + i * w + j);
}

static void maxpool_fwd(const layer *l, const float *in, int nt)
{
    int planes = l->batch * l->c;
    size_t pin = (size_t)l->h * l->w, pout = (size_t)l->out_h * l->out_w;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int p = 0; p < planes; p++)
        maxpool_plane(l, in + p * pin, p * pin, l->output + p * pout, l->indexes + p * pout);
}

/* The same scan on the blocked layout nChwBc (the plan's): one plane per (image, channel
 * block), P = B channels per pixel side by side, L lanes (8 or 16) of them at once, ip/op/xo
 * pointing at the first lane; indexes are offsets in that layout. Writes `out` (blocked too)
 * and `xo`. */
static inline __attribute__((always_inline)) void maxpool_blk_plane(const layer *l, const float *ip, int base,
                                                                     float *op, int *xo, const int P, const int B)
{
    int off = -l->pad / 2, W = l->w;
    for (int i = 0; i < l->out_h; i++)
        for (int j = 0; j < l->out_w; j++) {
            float mx[16];
            int mi[16];
            float *o = op + ((size_t)i * l->out_w + j) * P;
            int *x = xo + ((size_t)i * l->out_w + j) * P;
            if (l->size == 2 && l->stride == 2 && off == 0 && 2 * i + 1 < l->h && 2 * j + 1 < W) {
                int a0 = (2 * i * W + 2 * j) * P, a1 = a0 + P, a2 = a0 + W * P, a3 = a2 + P;
#pragma omp simd
                for (int q = 0; q < B; q++) {   /* the library's order: (0,0) (0,1) (1,0) (1,1), strict > */
                    float m = -FLT_MAX, v;
                    int k = -1, t;
                    v = ip[a0 + q]; t = v > m; m = t ? v : m; k = t ? base + a0 + q : k;
                    v = ip[a1 + q]; t = v > m; m = t ? v : m; k = t ? base + a1 + q : k;
                    v = ip[a2 + q]; t = v > m; m = t ? v : m; k = t ? base + a2 + q : k;
                    v = ip[a3 + q]; t = v > m; m = t ? v : m; k = t ? base + a3 + q : k;
                    o[q] = m;
                    x[q] = k;
                }
                continue;
            }
            for (int q = 0; q < B; q++) { mx[q] = -FLT_MAX; mi[q] = -1; }
            for (int n = 0; n < l->size; n++) {
                int ch = off + i * l->stride + n;
                if (ch < 0 || ch >= l->h) continue;
                for (int m = 0; m < l->size; m++) {
                    int cw = off + j * l->stride + m;
                    if (cw < 0 || cw >= W) continue;
                    int at = (ch * W + cw) * P;
#pragma omp simd
                    for (int q = 0; q < B; q++) {
                        float v = ip[at + q];
                        int t = v > mx[q];
                        mx[q] = t ? v : mx[q];
                        mi[q] = t ? base + at + q : mi[q];
                    }
                }
            }
            for (int q = 0; q < B; q++) { o[q] = mx[q]; x[q] = mi[q]; }
        }
}

FAST_CLONES static void maxpool_blk8(const layer *l, const float *ip, int base, float *op, int *xo, int P)
{
    maxpool_blk_plane(l, ip, base, op, xo, P, 8);
}

FAST_CLONES static void maxpool_blk16(const layer *l, const float *ip, int base, float *op, int *xo, int P)
{
    maxpool_blk_plane(l, ip, base, op, xo, P, 16);
}

/* Lanes at once on layout B (a multiple of 8): 16 where B allows it. */
static inline int lanes(int B) { return B % 16 ? 8 : 16; }

static void maxpool_fwd_blk(const layer *l, const float *in, int B, float *out, int nt)
{
    int L = lanes(B), per = B / L, chunks = l->batch * (l->c / B) * per;
    size_t pin = (size_t)l->h * l->w * B, pout = (size_t)l->out_h * l->out_w * B;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int k = 0; k < chunks; k++) {
        size_t p = (size_t)(k / per), q0 = (size_t)(k % per) * L;
        (L == 8 ? maxpool_blk8 : maxpool_blk16)(l, in + p * pin + q0, (int)(p * pin + q0), out + p * pout + q0,
                                                l->indexes + p * pout + q0, B);
    }
}

/* x (n floats of C x H x W images) in NCHW, in slot `slot` of the layout scratch */
static const float *to_nchw(const float *x, int blk, int batch, int C, int H, int W, int slot)
{
    float *t = fast_scratch(slot, 0, (size_t)batch * C * H * W);
    fk_blk_to_nchw(x, t, batch, C, H, W, blk);
    return t;
}

/* an NCHW result written to `out` in place, in the layout the plan gives it */
static void nchw_to(float *out, int blk, int batch, int C, int H, int W)
{
    size_t n = (size_t)batch * C * H * W;
    float *t = fast_scratch(3, 0, n);
    memcpy(t, out, sizeof(float) * n);
    fk_nchw_to_blk(t, out, batch, C, H, W, blk);
}

void forward_maxpool_layer(const layer l, network net)
{
    if (!fast_go(FI_forward_maxpool_layer)) {
        ((fp_layer)FAST_ORIG(forward_maxpool_layer))(l, net);
        return;
    }
    int nt = fast_nt((size_t)l.batch * l.inputs);
    fast_step st = fast_step_of(&net, &l);
    int ib = st.in, ob = st.out;
    if (ib && ib == ob) {
        maxpool_fwd_blk(&l, net.input, ib, l.output, nt);
        return;
    }
    if (ib && !ob) {   /* eval only (training keeps a maxpool's input and output alike): pool, then convert */
        float *t = fast_scratch(4, 0, (size_t)l.outputs * l.batch);
        maxpool_fwd_blk(&l, net.input, ib, t, nt);
        fk_blk_to_nchw(t, l.output, l.batch, l.out_c, l.out_h, l.out_w, ib);
        return;
    }
    const float *in = ib ? to_nchw(net.input, ib, l.batch, l.c, l.h, l.w, 3) : net.input;
    maxpool_fwd(&l, in, nt);
    if (ob) nchw_to(l.output, ob, l.batch, l.out_c, l.out_h, l.out_w);
}

void backward_maxpool_layer(const layer l, network net)
{
    if (!fast_go(FI_backward_maxpool_layer)) {
        ((fp_layer)FAST_ORIG(backward_maxpool_layer))(l, net);
        return;
    }
    int blk = fast_step_of(&net, &l).out;   /* in training the plan keeps input and output alike */
    int per = l.out_h * l.out_w * (blk ? blk : 1);
    int planes = l.batch * l.c / (blk ? blk : 1);
    int nt = fast_nt((size_t)l.batch * l.outputs);
    /* the max of output plane p always lies in input plane p: planes are independent */
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int p = 0; p < planes; p++)
        for (int i = p * per; i < (p + 1) * per; i++) {
            int index = l.indexes[i];
            if (index >= 0) net.delta[index] += l.delta[i];
        }
}

/* ------------------------------------------------------------------ batch norm (fused) */


/* One channel of the BN forward (train mode): mean, unbiased variance, then x, x_norm and
 * act(x_norm*scale + bias) in one write pass. The channel's chunks are 'stride' floats apart. */
FAST_CLONES static void bn_fwd_channel(float *restrict out, float *restrict x, float *restrict xn,
                                       int B, int S, size_t stride, float sc, float bi, int a,
                                       float *mean_out, float *var_out)
{
    double acc = 0;
    for (int b = 0; b < B; b++) {
        const float *restrict p = out + b * stride;
        float s = 0;
#pragma omp simd reduction(+ : s)
        for (int k = 0; k < S; k++) s += p[k];
        acc += s;
    }
    float m = (float)acc * (float)(1. / (B * S));
    acc = 0;
    for (int b = 0; b < B; b++) {
        const float *restrict p = out + b * stride;
        float s = 0;
#pragma omp simd reduction(+ : s)
        for (int k = 0; k < S; k++) s += (p[k] - m) * (p[k] - m);
        acc += s;
    }
    float v = (float)acc * (float)(1. / (B * S - 1));
    *mean_out = m;
    *var_out = v;
    float inv = (float)(1.0 / (sqrt(v) + .000001f));
    for (int b = 0; b < B; b++) {
        float *restrict p = out + b * stride, *restrict px = x + b * stride, *restrict pn = xn + b * stride;
        if (a == RELU) {
#pragma omp simd
            for (int k = 0; k < S; k++) {
                float xv = p[k], q = (xv - m) * inv, y = q * sc + bi;
                px[k] = xv; pn[k] = q; p[k] = (y > 0) ? y : 0.0f;   /* y*(y>0) as the -Ofast library computes it */
            }
        } else if (a == LEAKY) {
#pragma omp simd
            for (int k = 0; k < S; k++) {
                float xv = p[k], q = (xv - m) * inv, y = q * sc + bi;
                px[k] = xv; pn[k] = q; float z = (float)(.1 * y); p[k] = (y > 0) ? y : z;
            }
        } else {
#pragma omp simd
            for (int k = 0; k < S; k++) {
                float xv = p[k], q = (xv - m) * inv;
                px[k] = xv; pn[k] = q; p[k] = q * sc + bi;
            }
        }
    }
}

/* Eval mode, one (image, channel) chunk. */
FAST_CLONES static void bn_eval_chunk(float *restrict p, float *restrict px, int S, float m, float inv,
                                      float sc, float bi, int a)
{
    if (a == RELU) {
#pragma omp simd
        for (int k = 0; k < S; k++) { float xv = p[k], y = (xv - m) * inv * sc + bi; px[k] = xv; p[k] = (y > 0) ? y : 0.0f;   /* y*(y>0) as the -Ofast library computes it */ }
    } else if (a == LEAKY) {
#pragma omp simd
        for (int k = 0; k < S; k++) { float xv = p[k], y = (xv - m) * inv * sc + bi; px[k] = xv; float z = (float)(.1 * y); p[k] = (y > 0) ? y : z; }
    } else {
#pragma omp simd
        for (int k = 0; k < S; k++) { float xv = p[k]; px[k] = xv; p[k] = (xv - m) * inv * sc + bi; }
    }
}

/* ---- BN on the blocked layout nChwBc (the plan's; B = C is NHWC): images in parallel, each
 * image read in memory order (per pixel its B channels side by side, B lanes wide), its sums
 * per channel kept apart (in float, over the pixels in order, as the library sums a channel of
 * one image) and then added in image order (in double): the same bits for every thread count,
 * and every thread streams its own images (channel-parallel loops over NHWC read a fraction
 * of each cache line: measured 2x the time of this on ResNet-20's BN pass). Same formulas as
 * bn_fwd_channel / bn_bwd_channel. */

/* L lanes (8 or 16, a compile-time constant, so the sums stay in registers) of S pixels at a
 * pixel stride of P floats: the sums over the pixels in order of x (m NULL) or of (x - m)^2. */
static inline __attribute__((always_inline)) void lane_sums(const float *restrict p, int S, int P,
                                                            const float *restrict m, float *restrict out,
                                                            const int L)
{
    float s[16] = { 0 }, mm[16];
    for (int q = 0; q < L; q++) mm[q] = m ? m[q] : 0.f;
    if (m) {
        for (int k = 0; k < S; k++)
#pragma omp simd
            for (int q = 0; q < L; q++) { float d = p[(size_t)k * P + q] - mm[q]; s[q] += d * d; }
    } else {
        for (int k = 0; k < S; k++)
#pragma omp simd
            for (int q = 0; q < L; q++) s[q] += p[(size_t)k * P + q];
    }
    for (int q = 0; q < L; q++) out[q] = s[q];
}

/* The per-channel sums of one image (C channels of S pixels in layout B), each over the
 * pixels in order: of x (m NULL), or of (x - m)^2. 16 or 8 lanes at a time; an image of a
 * CIFAR-size layer stays in L2 between the lane groups of a wide NHWC block. */
FAST_CLONES static void blk_image_sums(const float *restrict x, int C, int S, int B, const float *restrict m,
                                       float *restrict out)
{
    int L = lanes(B);
    for (int cb = 0; cb < C / B; cb++)
        for (int q0 = 0; q0 < B; q0 += L) {
            const float *p = x + (size_t)cb * S * B + q0;
            int f = cb * B + q0;
            if (L == 16) lane_sums(p, S, B, m ? m + f : NULL, out + f, 16);
            else lane_sums(p, S, B, m ? m + f : NULL, out + f, 8);
        }
}

/* L lanes (compile-time, parameters in registers) of S pixels at stride P: x <- out,
 * xn <- (out - m) * inv, out <- act(xn * sc + bi). */
static inline __attribute__((always_inline)) void lane_norm(float *restrict out, float *restrict x,
                                                            float *restrict xn, int S, int P,
                                                            const float *restrict m, const float *restrict inv,
                                                            const float *restrict sc, const float *restrict bi,
                                                            int a, const int L)
{
    float mm[16], iv[16], s[16], bb[16];
    for (int q = 0; q < L; q++) { mm[q] = m[q]; iv[q] = inv[q]; s[q] = sc[q]; bb[q] = bi[q]; }
    for (int k = 0; k < S; k++) {
        float *restrict pp = out + (size_t)k * P, *restrict ppx = x + (size_t)k * P, *restrict ppn = xn + (size_t)k * P;
        if (a == RELU) {
#pragma omp simd
            for (int q = 0; q < L; q++) {
                float xv = pp[q], t = (xv - mm[q]) * iv[q], y = t * s[q] + bb[q];
                ppx[q] = xv; ppn[q] = t; pp[q] = (y > 0) ? y : 0.0f;
            }
        } else if (a == LEAKY) {
#pragma omp simd
            for (int q = 0; q < L; q++) {
                float xv = pp[q], t = (xv - mm[q]) * iv[q], y = t * s[q] + bb[q];
                ppx[q] = xv; ppn[q] = t; float z = (float)(.1 * y); pp[q] = (y > 0) ? y : z;
            }
        } else {
#pragma omp simd
            for (int q = 0; q < L; q++) {
                float xv = pp[q], t = (xv - mm[q]) * iv[q];
                ppx[q] = xv; ppn[q] = t; pp[q] = t * s[q] + bb[q];
            }
        }
    }
}

/* One image (C channels of S pixels in layout B): lane_norm, 16 or 8 lanes at a time. */
FAST_CLONES static void blk_image_norm(float *restrict out, float *restrict x, float *restrict xn, int C, int S,
                                       int B, const float *restrict m, const float *restrict inv,
                                       const float *restrict sc, const float *restrict bi, int a)
{
    int L = lanes(B);
    for (int cb = 0; cb < C / B; cb++)
        for (int q0 = 0; q0 < B; q0 += L) {
            size_t o = (size_t)cb * S * B + q0;
            int f = cb * B + q0;
            if (L == 16) lane_norm(out + o, x + o, xn + o, S, B, m + f, inv + f, sc + f, bi + f, a, 16);
            else lane_norm(out + o, x + o, xn + o, S, B, m + f, inv + f, sc + f, bi + f, a, 8);
        }
}

/* acc[c] = sum over the N images of part[b*C + c], in image order, in double */
static void add_images(const float *part, int N, int C, double *acc)
{
    for (int c = 0; c < C; c++) acc[c] = 0;
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++) acc[c] += part[(size_t)b * C + c];
}

/* Train-mode BN forward of l->output (layout blk) with the activation a: batch statistics
 * into l->mean / l->variance. */
static void bn_fwd_blk(layer *l, int a, int blk, int nt)
{
    int N = l->batch, C = l->out_c, S = l->out_h * l->out_w;
    size_t img = (size_t)C * S;
    float *part = fast_scratch(5, 0, (size_t)N * C + 2 * (size_t)C);
    float *m = part + (size_t)N * C, *inv = m + C;
    double *acc = (double *)fast_scratch(6, 0, 2 * (size_t)C);   /* C doubles */
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int b = 0; b < N; b++) blk_image_sums(l->output + b * img, C, S, blk, NULL, part + (size_t)b * C);
    add_images(part, N, C, acc);
    for (int c = 0; c < C; c++) m[c] = (float)acc[c] * (float)(1. / (N * S));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int b = 0; b < N; b++) blk_image_sums(l->output + b * img, C, S, blk, m, part + (size_t)b * C);
    add_images(part, N, C, acc);
    for (int c = 0; c < C; c++) {
        float v = (float)acc[c] * (float)(1. / (N * S - 1));
        l->mean[c] = m[c];
        l->variance[c] = v;
        inv[c] = (float)(1.0 / (sqrt(v) + .000001f));
    }
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int b = 0; b < N; b++)
        blk_image_norm(l->output + b * img, l->x + b * img, l->x_norm + b * img, C, S, blk, m, inv, l->scales,
                       l->biases, a);
}

/* L lanes of the backward sums (see lane_sums): the activation gradient of a (taken at out)
 * applied to d, and the sums of d, d * xn and d * (x - m) over the pixels in order. */
static inline __attribute__((always_inline)) void lane_bwd_sums(float *restrict d, const float *restrict x,
                                                                const float *restrict xn,
                                                                const float *restrict out, int S, int P,
                                                                const float *restrict m, int a,
                                                                float *restrict o1, float *restrict o2,
                                                                float *restrict o3, const int L)
{
    float s1[16] = { 0 }, s2[16] = { 0 }, s3[16] = { 0 }, mm[16];
    for (int q = 0; q < L; q++) mm[q] = m[q];
    for (int k = 0; k < S; k++) {
        size_t o = (size_t)k * P;
        float *restrict dd = d + o;
        const float *restrict xx = x + o, *restrict nn = xn + o, *restrict oo = out + o;
        if (a == RELU) {
#pragma omp simd
            for (int q = 0; q < L; q++) {
                float dz = dd[q] * 0.0f, dv = (oo[q] > 0) ? dd[q] : dz;   /* delta*(x>0): -0 kept */
                dd[q] = dv;
                s1[q] += dv; s2[q] += dv * nn[q]; s3[q] += dv * (xx[q] - mm[q]);
            }
        } else if (a == LEAKY) {
#pragma omp simd
            for (int q = 0; q < L; q++) {
                float dv = dd[q] * ((oo[q] > 0) ? 1.f : .1f);
                dd[q] = dv;
                s1[q] += dv; s2[q] += dv * nn[q]; s3[q] += dv * (xx[q] - mm[q]);
            }
        } else {
#pragma omp simd
            for (int q = 0; q < L; q++) {
                float dv = dd[q];
                s1[q] += dv; s2[q] += dv * nn[q]; s3[q] += dv * (xx[q] - mm[q]);
            }
        }
    }
    for (int q = 0; q < L; q++) { o1[q] = s1[q]; o2[q] = s2[q]; o3[q] = s3[q]; }
}

/* One image of the backward: lane_bwd_sums over its channels, 16 or 8 lanes at a time. */
FAST_CLONES static void blk_image_bwd_sums(float *restrict d, const float *restrict x, const float *restrict xn,
                                           const float *restrict out, int C, int S, int B,
                                           const float *restrict m, int a, float *restrict s1,
                                           float *restrict s2, float *restrict s3)
{
    int L = lanes(B);
    for (int cb = 0; cb < C / B; cb++)
        for (int q0 = 0; q0 < B; q0 += L) {
            size_t o = (size_t)cb * S * B + q0;
            int f = cb * B + q0;
            if (L == 16) lane_bwd_sums(d + o, x + o, xn + o, out + o, S, B, m + f, a, s1 + f, s2 + f, s3 + f, 16);
            else lane_bwd_sums(d + o, x + o, xn + o, out + o, S, B, m + f, a, s1 + f, s2 + f, s3 + f, 8);
        }
}

/* One image: d <- d * sc * ia + c2 * (x - m) + c3. */
FAST_CLONES static void blk_image_bwd_delta(float *restrict d, const float *restrict x, int C, int S, int B,
                                            const float *restrict m, const float *restrict sc,
                                            const float *restrict ia, const float *restrict c2,
                                            const float *restrict c3)
{
    for (int cb = 0; cb < C / B; cb++) {
        size_t o0 = (size_t)cb * S * B;
        int f = cb * B;
        for (int k = 0; k < S; k++) {
            float *restrict pd = d + o0 + (size_t)k * B;
            const float *restrict px = x + o0 + (size_t)k * B;
#pragma omp simd
            for (int q = 0; q < B; q++)
                pd[q] = (pd[q] * sc[f + q]) * ia[f + q] + c2[f + q] * (px[q] - m[f + q]) + c3[f + q];
        }
    }
}

/* BN backward of l->delta (layout blk; the activation a's gradient first), with mean/var the
 * statistics the forward used. */
static void bn_bwd_blk(layer *l, int a, int blk, const float *mean, const float *var, int nt)
{
    int N = l->batch, C = l->out_c, S = l->out_h * l->out_w;
    size_t img = (size_t)C * S, NC = (size_t)N * C;
    float *part = fast_scratch(5, 0, 3 * NC + 3 * (size_t)C);
    float *ia = part + 3 * NC, *c2 = ia + C, *c3 = c2 + C;
    double *acc = (double *)fast_scratch(6, 0, 6 * (size_t)C);   /* 3C doubles */
    double *sd = acc, *sdn = acc + C, *sdx = acc + 2 * C;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int b = 0; b < N; b++)
        blk_image_bwd_sums(l->delta + b * img, l->x + b * img, l->x_norm + b * img, l->output + b * img, C, S, blk,
                           mean, a, part + (size_t)b * C, part + NC + (size_t)b * C, part + 2 * NC + (size_t)b * C);
    add_images(part, N, C, sd);
    add_images(part + NC, N, C, sdn);
    add_images(part + 2 * NC, N, C, sdx);
    double NN = (double)N * S;
    for (int c = 0; c < C; c++) {
        l->bias_updates[c] += (float)sd[c];
        l->scale_updates[c] += (float)sdn[c];
        float md = (float)((float)(sd[c] * l->scales[c]) * (-1. / sqrt(var[c] + .00001f)));
        float vd = (float)((float)(sdx[c] * l->scales[c]) * -.5 * pow(var[c] + .00001f, (float)(-3. / 2.)));
        l->mean_delta[c] = md;
        l->variance_delta[c] = vd;
        ia[c] = (float)(1. / sqrt(var[c] + .00001f));
        c2[c] = (float)(vd * 2. / NN);
        c3[c] = (float)(md / NN);
    }
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int b = 0; b < N; b++)
        blk_image_bwd_delta(l->delta + b * img, l->x + b * img, C, S, blk, mean, l->scales, ia, c2, c3);
}

/* Train/eval BN forward on l->output in place, as forward_batchnorm_layer does (x <- input,
 * batch stats + EMA, x_norm), then the activation `a` (LINEAR/RELU/LEAKY) in the same pass. */
/* blk: the plan's blocked layout of l->output (training only: in eval mode a convolution the
 * plan keeps blocked runs fused, on oneDNN or as one GEMM, never here) */
static void bn_forward(layer *l, network *net, ACTIVATION a, int blk)
{
    int B = l->batch, C = l->out_c, S = l->out_h * l->out_w;
    if (l->type == BATCHNORM) memcpy(l->output, net->input, sizeof(float) * (size_t)l->outputs * B);
    int nt = fast_nt((size_t)B * C * S);
    size_t stride = (size_t)C * S;
    if (blk && net->train) {
        bn_fwd_blk(l, a, blk, nt);
    } else if (net->train) {
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
        for (int f = 0; f < C; f++) {
            size_t o = (size_t)f * S;
            bn_fwd_channel(l->output + o, l->x + o, l->x_norm + o, B, S, stride, l->scales[f],
                           l->biases[f], a, &l->mean[f], &l->variance[f]);
        }
    }
    if (net->train) {
        for (int f = 0; f < C; f++) {
            l->rolling_mean[f] *= .99f;
            l->rolling_mean[f] += .01f * l->mean[f];
            l->rolling_variance[f] *= .99f;
            l->rolling_variance[f] += .01f * l->variance[f];
        }
    } else {
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
        for (int b = 0; b < B; b++)
            for (int f = 0; f < C; f++) {
                size_t o = ((size_t)b * C + f) * S;
                float inv = (float)(1.0 / (sqrt(l->rolling_variance[f]) + .000001f));
                bn_eval_chunk(l->output + o, l->x + o, S, l->rolling_mean[f], inv, l->scales[f],
                              l->biases[f], a);
            }
    }
}

void forward_batchnorm_layer(layer l, network net)
{
    if (!fast_go(FI_forward_batchnorm_layer)) {
        ((fp_layer)FAST_ORIG(forward_batchnorm_layer))(l, net);
        return;
    }
    bn_forward(&l, &net, LINEAR, 0);
}

/* One channel of the BN backward: activation gradient (at out) applied to delta, the sums
 * for bias/scale updates and mean/variance deltas, then the new delta. */
FAST_CLONES static void bn_bwd_channel(float *restrict d, const float *restrict x, const float *restrict xn,
                                       const float *restrict out, int B, int S, size_t stride, float m,
                                       float var, float sc, int a, float *bias_u, float *scale_u,
                                       float *md_out, float *vd_out)
{
    double sd = 0, sdn = 0, sdx = 0;
    for (int b = 0; b < B; b++) {
        float *restrict pd = d + b * stride;
        const float *restrict px = x + b * stride, *restrict pn = xn + b * stride, *restrict po = out + b * stride;
        float s1 = 0, s2 = 0, s3 = 0;
        if (a == RELU) {
#pragma omp simd reduction(+ : s1, s2, s3)
            for (int k = 0; k < S; k++) {
                float dz = pd[k] * 0.0f, dv = (po[k] > 0) ? pd[k] : dz;   /* delta*(x>0): -0 kept */
                pd[k] = dv;
                s1 += dv; s2 += dv * pn[k]; s3 += dv * (px[k] - m);
            }
        } else if (a == LEAKY) {
#pragma omp simd reduction(+ : s1, s2, s3)
            for (int k = 0; k < S; k++) {
                float dv = pd[k] * ((po[k] > 0) ? 1.f : .1f);
                pd[k] = dv;
                s1 += dv; s2 += dv * pn[k]; s3 += dv * (px[k] - m);
            }
        } else {
#pragma omp simd reduction(+ : s1, s2, s3)
            for (int k = 0; k < S; k++) {
                float dv = pd[k];
                s1 += dv; s2 += dv * pn[k]; s3 += dv * (px[k] - m);
            }
        }
        sd += s1; sdn += s2; sdx += s3;
    }
    *bias_u += (float)sd;
    *scale_u += (float)sdn;
    float md = (float)((float)(sd * sc) * (-1. / sqrt(var + .00001f)));
    float vd = (float)((float)(sdx * sc) * -.5 * pow(var + .00001f, (float)(-3. / 2.)));
    *md_out = md;
    *vd_out = vd;
    double N = (double)B * S;
    float ia = (float)(1. / sqrt(var + .00001f)), c2 = (float)(vd * 2. / N), c3 = (float)(md / N);
    for (int b = 0; b < B; b++) {
        float *restrict pd = d + b * stride;
        const float *restrict px = x + b * stride;
#pragma omp simd
        for (int k = 0; k < S; k++) pd[k] = (pd[k] * sc) * ia + c2 * (px[k] - m) + c3;
    }
}

/* BN backward as backward_batchnorm_layer does, with the activation gradient of `a` (taken
 * at l->output) applied to l->delta first in the same pass. Two passes over the data. */
static void bn_backward(layer *l, network *net, ACTIVATION a, int blk)
{
    int B = l->batch, C = l->out_c, S = l->out_h * l->out_w;
    float *mean = net->train ? l->mean : l->rolling_mean;
    float *var = net->train ? l->variance : l->rolling_variance;
    int nt = fast_nt((size_t)B * C * S);
    size_t stride = (size_t)C * S;
    if (blk) {   /* the plan's blocked layout */
        bn_bwd_blk(l, a, blk, mean, var, nt);
        return;
    }
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < C; f++) {
        size_t o = (size_t)f * S;
        bn_bwd_channel(l->delta + o, l->x + o, l->x_norm + o, l->output + o, B, S, stride, mean[f],
                       var[f], l->scales[f], a, &l->bias_updates[f], &l->scale_updates[f],
                       &l->mean_delta[f], &l->variance_delta[f]);
    }
    if (l->type == BATCHNORM && net->delta)
        memcpy(net->delta, l->delta, sizeof(float) * (size_t)l->outputs * B);
}

void backward_batchnorm_layer(layer l, network net)
{
    if (!fast_go(FI_backward_batchnorm_layer)) {
        ((fp_layer)FAST_ORIG(backward_batchnorm_layer))(l, net);
        return;
    }
    bn_backward(&l, &net, LINEAR, 0);
}

/* ------------------------------------------------------------------ convolution */

#define FAST_CONV_GROUPS 8

/* (G-1) partial weight gradients of nw floats each, shared by the threads. */
static float *conv_partials(int G, size_t nw)
{
    return fast_scratch(2, 0, (size_t)(G - 1) * nw);
}

/* Threads for the image loop of a conv layer: one image per thread at least. */
static int conv_threads(const layer *l)
{
    int nt = fast_nthr;
    if (omp_in_parallel()) return 1;
    if (nt > l->batch * l->groups) nt = l->batch * l->groups;
    return nt < 1 ? 1 : nt;
}

/* The convolution itself (no bias, BN or activation) with im2col + OpenBLAS, images in
 * parallel. */
static void conv_fwd_gemm(const layer *lp, const network *netp)
{
    const layer l = *lp;
    int m = l.n / l.groups, k = l.size * l.size * l.c / l.groups, n = l.out_w * l.out_h;
    int jobs = l.batch * l.groups, nt = conv_threads(&l);
    size_t cin = (size_t)l.c / l.groups * l.h * l.w;
    const float *input = netp->input;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int tid = omp_get_thread_num();
        float *ws = l.size == 1 ? NULL : fast_scratch(0, tid, (size_t)k * n);
#pragma omp for schedule(dynamic, 4)
        for (int q = 0; q < jobs; q++) {
            int j = q % l.groups;
            const float *a = l.weights + (size_t)j * l.nweights / l.groups;
            const float *im = input + (size_t)q * cin;
            const float *b = im;
            if (l.size != 1) {
                fk_im2col(im, l.c / l.groups, l.h, l.w, l.size, l.stride, l.pad, ws, (size_t)n, 1);
                b = ws;
            }
            fk_gemm(0, 0, m, n, k, 1, a, k, b, n, 0, l.output + (size_t)q * n * m, n);
        }
    }
}

void forward_convolutional_layer(layer l, network net)
{
    if (!fast_go(FI_forward_convolutional_layer) ||
        ((l.xnor || l.binary) && FAST_ORIG(forward_convolutional_layer))) {
        ((fp_layer)FAST_ORIG(forward_convolutional_layer))(l, net);
        return;
    }
    ACTIVATION act = l.activation;
    /* the plan: the backend, the layouts of the input and of the output (and BN on it) */
    fast_step st = fast_step_of(&net, &l);
    int ib = st.in, ob = st.out;
    if (st.fused) {   /* eval: conv + BN with the rolling statistics (or the bias) + activation */
        if (st.fwd == FB_DENSE) fast_dense_forward_eval(&l, &net, ib, ob);
        else fast_dnnl_conv_forward_fused(st.dn, &l, &net, ib, ob);
        return;
    }
    if (st.fwd == FB_DENSE) fast_dense_forward(&l, &net, ib, ob);
    else if (st.fwd == FB_DNNL) fast_dnnl_conv_forward(st.dn, &l, &net, ib, ob);
    else conv_fwd_gemm(&l, &net);
    int fuse = fk_act_supported(act);
    if (l.batch_normalize) {
        bn_forward(&l, &net, fuse ? act : LINEAR, ob);
    } else {
        add_bias(l.output, l.biases, l.batch, l.n, l.out_w * l.out_h);
    }
    if (!l.batch_normalize || !fuse)
        fk_activate(l.output, (size_t)l.outputs * l.batch, act, fast_nt((size_t)l.outputs * l.batch));
}

void backward_convolutional_layer(layer l, network net)
{
    if (!fast_go(FI_backward_convolutional_layer) ||
        ((l.xnor || l.binary) && FAST_ORIG(backward_convolutional_layer))) {
        ((fp_layer)FAST_ORIG(backward_convolutional_layer))(l, net);
        return;
    }
    int m = l.n / l.groups, n = l.size * l.size * l.c / l.groups, k = l.out_w * l.out_h;
    ACTIVATION act = l.activation;
    /* the plan: l.delta is in the output's layout, net.input and net.delta in the input's */
    fast_step st = fast_step_of(&net, &l);
    int ib = st.in, ob = st.out;
    if (l.batch_normalize && fk_act_supported(act)) {
        bn_backward(&l, &net, act, ob);
    } else {
        fk_gradient(l.output, (size_t)l.outputs * l.batch, act, l.delta, fast_nt((size_t)l.outputs * l.batch));
        if (l.batch_normalize) bn_backward(&l, &net, LINEAR, ob);
        else backward_bias(l.bias_updates, l.delta, l.batch, l.n, k);
    }
    if (st.bwd == FB_DENSE) {
        fast_dense_backward(&l, &net, ib, ob);
        return;
    }
    if (st.bwd == FB_DNNL) {
        fast_dnnl_conv_backward(st.dn, &l, &net, ib, ob, ib && net.delta ? st.sole : 0);
        return;
    }

    /* The images are cut into G fixed groups; group 0 accumulates its weight gradient into
     * weight_updates, group g > 0 into its own partial, and the partials are added in group
     * order at the end. The sums are therefore the same for every thread count, and groups
     * are handed out dynamically (a thread slowed down by other load holds up nobody). */
    int nt = conv_threads(&l);
    size_t cin = (size_t)l.c / l.groups * l.h * l.w;
    size_t nw = (size_t)l.nweights;
    int G = l.batch < FAST_CONV_GROUPS ? l.batch : FAST_CONV_GROUPS;   /* whole images per group */
    if (nw * (size_t)G > ((size_t)64 << 20) / sizeof(float)) G = 1;   /* huge layers: 1 group */
    if (G > 1) conv_partials(G, nw);   /* allocate outside the parallel region */
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int tid = omp_get_thread_num();
        float *ws = fast_scratch(0, tid, (size_t)n * k);
#pragma omp for schedule(dynamic, 1)
        for (int g = 0; g < G; g++) {
            int q0 = (int)((long)l.batch * g / G) * l.groups, q1 = (int)((long)l.batch * (g + 1) / G) * l.groups;
            float *wu = g == 0 ? l.weight_updates : conv_partials(G, nw) + (size_t)(g - 1) * nw;
            int first = g > 0;   /* a partial starts with BETA=0 (no memset) */
            for (int q = q0; q < q1; q++) {
                int j = q % l.groups;
                const float *a = l.delta + (size_t)q * m * k;
                float *c = wu + (size_t)j * nw / l.groups;
                const float *im = net.input + (size_t)q * cin;
                const float *b = im;
                if (l.size != 1) {
                    fk_im2col(im, l.c / l.groups, l.h, l.w, l.size, l.stride, l.pad, ws, (size_t)k, 1);
                    b = ws;
                }
                fk_gemm(0, 1, m, n, k, 1, a, k, b, k, (first && q < q0 + l.groups) ? 0 : 1, c, n);
                if (net.delta) {
                    float *imd = net.delta + (size_t)q * cin;
                    const float *w = l.weights + (size_t)j * nw / l.groups;
                    if (l.size == 1) {
                        fk_gemm(1, 0, n, k, m, 1, w, n, a, k, 0, imd, k);
                    } else {
                        fk_gemm(1, 0, n, k, m, 1, w, n, a, k, 0, ws, k);
                        fk_col2im(ws, l.c / l.groups, l.h, l.w, l.size, l.stride, l.pad, imd, (size_t)k, 1);
                    }
                }
            }
        }
        /* implicit barrier; then add the partials in group order, slices of the weights */
        if (G > 1) {
            const float *P = conv_partials(G, nw);
#pragma omp for schedule(static)
            for (size_t i0 = 0; i0 < nw; i0 += 4096) {
                size_t i1 = i0 + 4096 < nw ? i0 + 4096 : nw;
                for (int g = 1; g < G; g++) {
                    const float *p = P + (size_t)(g - 1) * nw;
                    for (size_t i = i0; i < i1; i++) l.weight_updates[i] += p[i];
                }
            }
        }
    }
}

/* ------------------------------------------------------------------ shortcut, avgpool */

/* Index of (image b, channel k, row y, column x) in C x H x W images of layout blk (0 NCHW). */
static inline size_t lay_idx(int blk, int C, int H, int W, int b, int k, int y, int x)
{
    if (!blk) return (((size_t)b * C + k) * H + y) * W + x;
    return ((((size_t)b * (C / blk) + k / blk) * H + y) * W + x) * blk + k % blk;
}

/* The library's shortcut_cpu (out = s1*out + s2*add over the overlap; add w1 x h1 x c1, out
 * w2 x h2 x c2) with add in layout ba and out in layout bo. */
static void shortcut_any(int batch, int w1, int h1, int c1, const float *add, int ba, int w2, int h2, int c2,
                         float s1, float s2, float *out, int bo, int nt)
{
    if (w1 == w2 && h1 == h2 && c1 == c2 && ba == bo) {
        size_t n = (size_t)batch * c1 * h1 * w1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
        for (size_t c = 0; c < n; c += 4096) {
            size_t e = c + 4096 < n ? c + 4096 : n;
#pragma omp simd
            for (size_t i = c; i < e; i++) out[i] = s1 * out[i] + s2 * add[i];
        }
        return;
    }
    int stride = w1 / w2, sample = w2 / w1;
    if (stride < 1) stride = 1;
    if (sample < 1) sample = 1;
    int minw = w1 < w2 ? w1 : w2, minh = h1 < h2 ? h1 : h2, minc = c1 < c2 ? c1 : c2;
    size_t po = bo ? (size_t)bo : 1, pa = ba ? (size_t)ba : 1;   /* floats from one pixel to the next */
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < minc; k++) {
            float *o = out + lay_idx(bo, c2, h2, w2, b, k, 0, 0);
            const float *a = add + lay_idx(ba, c1, h1, w1, b, k, 0, 0);
            for (int j = 0; j < minh; j++) {
                float *orow = o + (size_t)j * sample * w2 * po;
                const float *arow = a + (size_t)j * stride * w1 * pa;
                for (int i = 0; i < minw; i++) {
                    float *x = orow + (size_t)i * sample * po;
                    *x = s1 * *x + s2 * arow[(size_t)i * stride * pa];
                }
            }
        }
}

void shortcut_cpu(int batch, int w1, int h1, int c1, float *add, int w2, int h2, int c2, float s1,
                  float s2, float *out)
{
    if (!fast_go(FI_shortcut_cpu)) {
        ((fp_shortcut)FAST_ORIG(shortcut_cpu))(batch, w1, h1, c1, add, w2, h2, c2, s1, s2, out);
        return;
    }
    shortcut_any(batch, w1, h1, c1, add, 0, w2, h2, c2, s1, s2, out, 0,
                 omp_in_parallel() ? 1 : fast_nt((size_t)batch * c2 * h2 * w2));
}

/* out = act(s1*in + s2*add), one pass (same shapes, RELU/LEAKY/LINEAR as fk_activate). */
static void shortcut_fused(const float *in, const float *add, float *out, size_t n, float s1, float s2,
                           ACTIVATION a, int nt)
{
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += 4096) {
        size_t e = c + 4096 < n ? c + 4096 : n;
        if (a == RELU) {
#pragma omp simd
            for (size_t i = c; i < e; i++) { float y = s1 * in[i] + s2 * add[i]; out[i] = (y > 0) ? y : 0.0f; }
        } else if (a == LEAKY) {
#pragma omp simd
            for (size_t i = c; i < e; i++) { float y = s1 * in[i] + s2 * add[i], z = (float)(.1 * y); out[i] = (y > 0) ? y : z; }
        } else {
#pragma omp simd
            for (size_t i = c; i < e; i++) out[i] = s1 * in[i] + s2 * add[i];
        }
    }
}

/* As the library: output = act(alpha*input + beta*(the layer at l.index, over the overlap)).
 * The plan keeps the output in its input's layout; the added layer's may be another (option
 * A after NHWC convolutions: 16 and 32 channels per pixel), read by index arithmetic. */
void forward_shortcut_layer(const layer l, network net)
{
    if (!fast_go(FI_forward_shortcut_layer)) {
        ((fp_layer)FAST_ORIG(forward_shortcut_layer))(l, net);
        return;
    }
    size_t n = (size_t)l.outputs * l.batch;
    int nt = fast_nt(n);
    const layer *from = &net.layers[l.index];
    fast_step st = fast_step_of(&net, &l);
    int ib = st.in, ab = st.from, ob = st.out;
    const float *in = net.input, *add = from->output;
    int blk = ob;
    if (ib != ob) {   /* not planned that way; the general case all the same */
        if (ib) in = to_nchw(in, ib, l.batch, l.out_c, l.out_h, l.out_w, 3);
        blk = 0;
    }
    if (l.w == l.out_w && l.h == l.out_h && l.c == l.out_c && fk_act_supported(l.activation) && ab == blk) {
        shortcut_fused(in, add, l.output, n, l.alpha, l.beta, l.activation, nt);
    } else {
        memmove(l.output, in, sizeof(float) * n);
        shortcut_any(l.batch, l.w, l.h, l.c, add, ab, l.out_w, l.out_h, l.out_c, l.alpha, l.beta, l.output, blk, nt);
        fk_activate(l.output, n, l.activation, nt);
    }
    if (ob && !blk) nchw_to(l.output, ob, l.batch, l.out_c, l.out_h, l.out_w);
}

/* As the library: the activation gradient, delta*alpha added to the input's delta and
 * delta*beta to the other layer's over the overlap; one pass for equal shapes. */
void backward_shortcut_layer(const layer l, network net)
{
    if (!fast_go(FI_backward_shortcut_layer)) {
        ((fp_layer)FAST_ORIG(backward_shortcut_layer))(l, net);
        return;
    }
    size_t n = (size_t)l.outputs * l.batch;
    int nt = fast_nt(n);
    float *fd = net.layers[l.index].delta, *nd = net.delta, *d = l.delta;
    /* the layout chain: each delta in the layout of its layer's output */
    fast_step st = fast_step_of(&net, &l);
    int bo = st.out, bi = st.in, bf = st.from;
    fk_gradient(l.output, n, l.activation, d, nt);
    if (l.w == l.out_w && l.h == l.out_h && l.c == l.out_c && nd && fd && bi == bo && bf == bo) {
        float al = l.alpha, be = l.beta;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
        for (size_t c = 0; c < n; c += 4096) {
            size_t e = c + 4096 < n ? c + 4096 : n;
            if (nd == fd) {   /* from=-1: both into one array, in the library's order */
                for (size_t i = c; i < e; i++) { float t = nd[i] + al * d[i]; nd[i] = t + be * d[i]; }
            } else {
#pragma omp simd
                for (size_t i = c; i < e; i++) { nd[i] += al * d[i]; fd[i] += be * d[i]; }
            }
        }
        return;
    }
    if (nd && bi == bo) axpy_cpu((int)n, l.alpha, d, 1, nd, 1);
    else if (nd) shortcut_any(l.batch, l.out_w, l.out_h, l.out_c, d, bo, l.out_w, l.out_h, l.out_c, 1, l.alpha, nd, bi, nt);
    if (fd) shortcut_any(l.batch, l.out_w, l.out_h, l.out_c, d, bo, l.w, l.h, l.c, 1, l.beta, fd, bf, nt);
}

/* As the library: the mean of each channel plane, summed in order (input NCHW or blocked). */
void forward_avgpool_layer(const layer l, network net)
{
    if (!fast_go(FI_forward_avgpool_layer)) {
        ((fp_layer)FAST_ORIG(forward_avgpool_layer))(l, net);
        return;
    }
    int blk = fast_step_of(&net, &l).in, S = l.h * l.w;   /* Darknet's avgpool is global: C floats per image */
    size_t step = blk ? (size_t)blk : 1;
    for (int b = 0; b < l.batch; b++)
        for (int k = 0; k < l.c; k++) {
            const float *p = net.input + lay_idx(blk, l.c, l.h, l.w, b, k, 0, 0);
            float s = 0;
            for (int i = 0; i < S; i++) s += p[i * step];
            l.output[k + b * l.c] = s / S;
        }
}

void backward_avgpool_layer(const layer l, network net)
{
    if (!fast_go(FI_backward_avgpool_layer)) {
        ((fp_layer)FAST_ORIG(backward_avgpool_layer))(l, net);
        return;
    }
    int blk = fast_step_of(&net, &l).in, S = l.h * l.w;
    size_t step = blk ? (size_t)blk : 1;
    for (int b = 0; b < l.batch; b++)
        for (int k = 0; k < l.c; k++) {
            float v = l.delta[k + b * l.c] / S;
            float *p = net.delta + lay_idx(blk, l.c, l.h, l.w, b, k, 0, 0);
            for (int i = 0; i < S; i++) p[i * step] += v;
        }
}
