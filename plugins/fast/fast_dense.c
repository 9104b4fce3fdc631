/* fast_dense.c: a convolution over a tiny input as one matrix product over the batch.
 *
 * VGG16's last block at CIFAR size convolves 512 channels of 2x2 pixels with 3x3 kernels and
 * pad 1: every output pixel sees every input pixel through some tap, so the layer is exactly a
 * fully connected layer from c*h*w inputs to n*out_h*out_w outputs whose weight matrix W'
 * holds, at (output o at pixel p, input i at pixel q), the tap W[o][i][ky][kx] that joins them
 * (ky = qy - py*stride + pad, likewise kx), and 0 where none does. oneDNN's direct kernel ran
 * such a layer at about a quarter of its peak (it steps over the padded taps); one GEMM per
 * pass over the batch does only the useful products (docs/performance.md).
 *
 * Used where at least 3/4 of the (output pixel, input pixel) pairs have a tap and the input
 * has at most 16 pixels (VGG's 2x2 maps; not its 4x4 ones, where 100 of 256 pairs have one).
 * The rows and columns of W' follow the layouts the plan keeps the output and input in (NCHW
 * or nChwBc, any B), so the product reads and writes them directly.
 * Env DKDENSE=0 or fast_set_dense(0) turns it off. */
#include <string.h>
#include <omp.h>
#include "fast.h"
#include "fast_internal.h"
#include "fast_kern.h"

/* the tap joining output pixel (py, px) and input pixel (qy, qx), or -1 */
static inline int tap(const layer *l, int py, int px, int qy, int qx)
{
    int ky = qy - py * l->stride + l->pad, kx = qx - px * l->stride + l->pad;
    return ky < 0 || ky >= l->size || kx < 0 || kx >= l->size ? -1 : ky * l->size + kx;
}

int fast_dense_use(const layer *l)
{
    fast_lazy_init();
    if (!fast_sw.dense || l->type != CONVOLUTIONAL || l->groups != 1 || l->xnor || l->binary ||
        l->size < 2 || l->batch < 1)
        return 0;
    int hw = l->h * l->w, ohw = l->out_h * l->out_w;
    if (hw > 16 || ohw < 1 || (double)l->n * ohw * l->c * hw > 16e6) return 0;
    int valid = 0;
    for (int p = 0; p < ohw; p++)
        for (int q = 0; q < hw; q++) valid += tap(l, p / l->out_w, p % l->out_w, q / l->w, q % l->w) >= 0;
    return 4 * valid >= 3 * ohw * hw;
}

/* offset of (channel k, pixel p) within one image of C channels and S pixels in layout blk */
static inline size_t img_off(int blk, int S, int k, int p)
{
    return blk ? ((size_t)(k / blk) * S + p) * blk + k % blk : (size_t)k * S + p;
}

/* W' (rows: outputs in layout ob, columns: inputs in layout ib), the weights of output channel
 * o scaled by scale[o] when scale is given. */
static void build(const layer *l, const float *scale, int ib, int ob, float *wp, int nt)
{
    int hw = l->h * l->w, ohw = l->out_h * l->out_w, K = l->c * hw, ss = l->size * l->size;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int o = 0; o < l->n; o++) {
        float a = scale ? scale[o] : 1.f;
        const float *w = l->weights + (size_t)o * l->c * ss;
        for (int p = 0; p < ohw; p++) {
            float *row = wp + img_off(ob, ohw, o, p) * K;
            int py = p / l->out_w, px = p % l->out_w;
            for (int q = 0; q < hw; q++) {
                int t = tap(l, py, px, q / l->w, q % l->w);
                for (int i = 0; i < l->c; i++)
                    row[img_off(ib, hw, i, q)] = t < 0 ? 0.f : (scale ? w[i * ss + t] * a : w[i * ss + t]);
            }
        }
    }
}

static int threads(void) { return omp_in_parallel() ? 1 : fast_nthr; }

/* The convolution itself into l->output (layout ob) from net->input (layout ib): no bias. */
void fast_dense_forward(const layer *l, const network *net, int ib, int ob)
{
    int K = l->c * l->h * l->w, N = l->n * l->out_h * l->out_w, nt = threads();
    float *wp = fast_scratch(3, 0, (size_t)N * K);
    build(l, NULL, ib, ob, wp, nt);
    fk_gemm_par(0, 1, l->batch, N, K, 1, net->input, K, wp, K, 0, l->output, N);
}

/* Eval mode: conv, BN with the rolling statistics (folded, as fast_dnnl.c does) or the bias,
 * and the activation (RELU/LEAKY/LINEAR), into l->output. */
void fast_dense_forward_eval(const layer *l, const network *net, int ib, int ob)
{
    int K = l->c * l->h * l->w, ohw = l->out_h * l->out_w, N = l->n * ohw, nt = threads();
    float *wp = fast_scratch(3, 0, (size_t)N * K);
    float *sb = fast_scratch(4, 0, 2 * (size_t)l->n), *scale = NULL, *bias = sb + l->n;
    if (l->batch_normalize) {
        scale = sb;
        fk_bn_fold(l, scale, bias);
    } else {
        memcpy(bias, l->biases, sizeof(float) * l->n);
    }
    build(l, scale, ib, ob, wp, nt);
    fk_gemm_par(0, 1, l->batch, N, K, 1, net->input, K, wp, K, 0, l->output, N);
    ACTIVATION a = l->activation;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int b = 0; b < l->batch; b++) {
        float *y = l->output + (size_t)b * N;
        for (int o = 0; o < l->n; o++)
            for (int p = 0; p < ohw; p++) {
                size_t at = img_off(ob, ohw, o, p);
                float v = y[at] + bias[o];
                y[at] = a == RELU ? (v > 0 ? v : 0.0f) : a == LEAKY ? (v > 0 ? v : (float)(.1 * v)) : v;
            }
    }
}

/* Weight gradient added to weight_updates, input gradient added to net->delta, from l->delta
 * (the gradient at the convolution's output, layout ob; BN's backward has run). */
void fast_dense_backward(const layer *l, const network *net, int ib, int ob)
{
    int hw = l->h * l->w, ohw = l->out_h * l->out_w, K = l->c * hw, N = l->n * ohw, nt = threads();
    int ss = l->size * l->size;
    float *g = fast_scratch(3, 0, (size_t)N * K);
    /* dW' = dY^T X, then each tap's entries summed into its weight */
    fk_gemm_par(1, 0, N, K, l->batch, 1, l->delta, N, net->input, K, 0, g, K);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int o = 0; o < l->n; o++) {
        float *wu = l->weight_updates + (size_t)o * l->c * ss;
        for (int p = 0; p < ohw; p++) {
            const float *row = g + img_off(ob, ohw, o, p) * K;
            int py = p / l->out_w, px = p % l->out_w;
            for (int q = 0; q < hw; q++) {
                int t = tap(l, py, px, q / l->w, q % l->w);
                if (t < 0) continue;
                for (int i = 0; i < l->c; i++) wu[i * ss + t] += row[img_off(ib, hw, i, q)];
            }
        }
    }
    if (!net->delta) return;
    /* dX += dY W' */
    build(l, NULL, ib, ob, g, nt);
    fk_gemm_par(0, 0, l->batch, K, N, 1, l->delta, N, g, K, 1, net->delta, K);
}
