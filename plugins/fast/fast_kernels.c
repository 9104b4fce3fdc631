/* fast_kernels.c: the interposed element-wise, batch-norm, im2col/col2im and gemm kernels.
 * Each exported name has the library's exact signature; with the switch off it forwards to
 * the library's own definition. The fk_* functions are the fast bodies, also used directly by
 * the fused layer code in fast_layers.c. */
/* No FP-exception semantics are needed: lets GCC if-convert (vectorise) the ReLU selects. */
#pragma GCC optimize("no-trapping-math")
#include <math.h>
#include <string.h>
#include <cblas.h>
#include <omp.h>
#include "fast.h"
#include "fast_internal.h"
#include "fast_protos.h"
#include "fast_kern.h"

/* ------------------------------------------------------------------ gemm */

static void gemm_ref(int TA, int TB, int M, int N, int K, float ALPHA, const float *A, int lda,
                     const float *B, int ldb, float BETA, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++)
                s += (TA ? A[k * lda + i] : A[i * lda + k]) * (TB ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = (BETA == 0 ? 0 : BETA * C[i * ldc + j]) + ALPHA * s;
        }
}

void fk_gemm(int TA, int TB, int M, int N, int K, float ALPHA, const float *A, int lda,
             const float *B, int ldb, float BETA, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {   /* C = BETA*C (the library scales C, then adds nothing) */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[i * ldc + j] = BETA == 0 ? 0 : BETA * C[i * ldc + j];
        return;
    }
    /* cblas rejects leading dimensions smaller than the row length */
    if (lda < (TA ? M : K) || ldb < (TB ? K : N) || ldc < N) {
        gemm_ref(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, TA ? CblasTrans : CblasNoTrans, TB ? CblasTrans : CblasNoTrans,
                M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
}

/* A lone large gemm (outside our parallel regions) is split in row or column blocks over
 * the fast threads, each block a single-threaded OpenBLAS call. */
void fk_gemm_par(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda,
                        float *B, int ldb, float BETA, float *C, int ldc)
{
    double work = (double)M * N * K;
    int nt = fast_nthr;
    if (nt <= 1 || work < 4e6 || omp_in_parallel() || (M < 2 * nt && N < 64 * nt)) {
        fk_gemm(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
        return;
    }
    int by_rows = M >= N || N < 64 * nt;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        if (by_rows) {
            int i0 = (int)((long)M * t / T), i1 = (int)((long)M * (t + 1) / T);
            if (i1 > i0)
                fk_gemm(TA, TB, i1 - i0, N, K, ALPHA, TA ? A + i0 : A + (size_t)i0 * lda, lda, B,
                        ldb, BETA, C + (size_t)i0 * ldc, ldc);
        } else {
            int j0 = (int)((long)N * t / T / 16) * 16, j1 = t == T - 1 ? N : (int)((long)N * (t + 1) / T / 16) * 16;
            if (j1 > j0)
                fk_gemm(TA, TB, M, j1 - j0, K, ALPHA, A, lda, TB ? B + (size_t)j0 * ldb : B + j0,
                        ldb, BETA, C + j0, ldc);
        }
    }
}

void gemm(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B, int ldb,
          float BETA, float *C, int ldc)
{
    if (fast_go(FI_gemm)) fk_gemm_par(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
    else ((fp_gemm)FAST_ORIG(gemm))(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
}

/* ------------------------------------------------------------------ im2col / col2im */

/* Valid output range [lo, hi) of w for kernel offset kw: 0 <= kw + w*stride - pad < width */
static inline void valid_range(int kw, int stride, int pad, int width, int width_col, int *lo, int *hi)
{
    int a = pad - kw;                       /* need w*stride >= a */
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    int b = width + pad - kw;               /* need w*stride < b */
    int h = b <= 0 ? 0 : (b + stride - 1) / stride;
    if (h > width_col) h = width_col;
    if (l > h) l = h;
    *lo = l; *hi = h;
}

/* Columns of one channel: rows (kh, kw), each `ldc` floats apart (ldc >= height_col*width_col). */
static void im2col_channel(const float *restrict im, int height, int width, int ksize, int stride,
                           int pad, int height_col, int width_col, float *restrict col, size_t ldc)
{
    for (int kh = 0; kh < ksize; kh++)
        for (int kw = 0; kw < ksize; kw++) {
            float *restrict row = col + (size_t)(kh * ksize + kw) * ldc;
            int lo, hi;
            valid_range(kw, stride, pad, width, width_col, &lo, &hi);
            for (int h = 0; h < height_col; h++) {
                float *restrict o = row + h * width_col;
                int ir = kh + h * stride - pad;
                if (ir < 0 || ir >= height) { memset(o, 0, sizeof(float) * width_col); continue; }
                const float *restrict src = im + (size_t)ir * width + kw - pad;
                for (int w = 0; w < lo; w++) o[w] = 0;
                if (stride == 1) memcpy(o + lo, src + lo, sizeof(float) * (hi - lo));
                else for (int w = lo; w < hi; w++) o[w] = src[w * stride];
                for (int w = hi; w < width_col; w++) o[w] = 0;
            }
        }
}

void fk_im2col(const float *im, int channels, int height, int width, int ksize, int stride, int pad,
               float *col, size_t ldc, int nt)
{
    int height_col = (height + 2 * pad - ksize) / stride + 1;
    int width_col = (width + 2 * pad - ksize) / stride + 1;
    if (height_col <= 0 || width_col <= 0) return;
    size_t rows_per_c = (size_t)ksize * ksize;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int c = 0; c < channels; c++)
        im2col_channel(im + (size_t)c * height * width, height, width, ksize, stride, pad,
                       height_col, width_col, col + c * rows_per_c * ldc, ldc);
}

void im2col_cpu(float *data_im, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_col)
{
    if (!fast_go(FI_im2col_cpu)) {
        ((fp_im2col)FAST_ORIG(im2col_cpu))(data_im, channels, height, width, ksize, stride, pad, data_col);
        return;
    }
    int hc = (height + 2 * pad - ksize) / stride + 1, wc = (width + 2 * pad - ksize) / stride + 1;
    size_t n = (size_t)channels * ksize * ksize * (hc > 0 ? hc : 0) * (wc > 0 ? wc : 0);
    fk_im2col(data_im, channels, height, width, ksize, stride, pad, data_col,
              (size_t)(hc > 0 ? hc : 0) * (wc > 0 ? wc : 0), omp_in_parallel() ? 1 : fast_nt(n));
}

/* Same loop order as the library within each image channel, so the sums are bit-identical. */
static void col2im_channel(const float *restrict col, int height, int width, int ksize, int stride,
                           int pad, int height_col, int width_col, float *restrict im, size_t ldc)
{
    for (int kh = 0; kh < ksize; kh++)
        for (int kw = 0; kw < ksize; kw++) {
            const float *restrict row = col + (size_t)(kh * ksize + kw) * ldc;
            int lo, hi;
            valid_range(kw, stride, pad, width, width_col, &lo, &hi);
            for (int h = 0; h < height_col; h++) {
                int ir = kh + h * stride - pad;
                if (ir < 0 || ir >= height) continue;
                const float *restrict s = row + h * width_col;
                float *restrict dst = im + (size_t)ir * width + kw - pad;
                if (stride == 1) {
#pragma omp simd
                    for (int w = lo; w < hi; w++) dst[w] += s[w];
                } else {
                    for (int w = lo; w < hi; w++) dst[w * stride] += s[w];
                }
            }
        }
}

void fk_col2im(const float *col, int channels, int height, int width, int ksize, int stride,
               int pad, float *im, size_t ldc, int nt)
{
    int height_col = (height + 2 * pad - ksize) / stride + 1;
    int width_col = (width + 2 * pad - ksize) / stride + 1;
    if (height_col <= 0 || width_col <= 0) return;
    size_t rows_per_c = (size_t)ksize * ksize;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int c = 0; c < channels; c++)
        col2im_channel(col + c * rows_per_c * ldc, height, width, ksize, stride, pad, height_col,
                       width_col, im + (size_t)c * height * width, ldc);
}

void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_im)
{
    if (!fast_go(FI_col2im_cpu)) {
        ((fp_im2col)FAST_ORIG(col2im_cpu))(data_col, channels, height, width, ksize, stride, pad, data_im);
        return;
    }
    int hc = (height + 2 * pad - ksize) / stride + 1, wc = (width + 2 * pad - ksize) / stride + 1;
    size_t n = (size_t)channels * ksize * ksize * (hc > 0 ? hc : 0) * (wc > 0 ? wc : 0);
    fk_col2im(data_col, channels, height, width, ksize, stride, pad, data_im,
              (size_t)(hc > 0 ? hc : 0) * (wc > 0 ? wc : 0), omp_in_parallel() ? 1 : fast_nt(n));
}

/* ------------------------------------------------------------------ batch-norm loops */
/* Layout [batch][filters][spatial]. Per-channel sums: float within an image's chunk (SIMD),
 * double across images. Channels are split over the threads. */

static inline int nt_for(int batch, int filters, int spatial)
{
    return omp_in_parallel() ? 1 : fast_nt((size_t)batch * filters * spatial);
}

static inline float chunk_sum(const float *restrict x, int n)
{
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < n; k++) s += x[k];
    return s;
}

void mean_cpu(float *x, int batch, int filters, int spatial, float *mean)
{
    if (!fast_go(FI_mean_cpu)) {
        ((fp_x_b_f_s_o)FAST_ORIG(mean_cpu))(x, batch, filters, spatial, mean);
        return;
    }
    float scale = 1. / (batch * spatial);
    int nt = nt_for(batch, filters, spatial);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < filters; f++) {
        double acc = 0;
        for (int b = 0; b < batch; b++) acc += chunk_sum(x + ((size_t)b * filters + f) * spatial, spatial);
        mean[f] = (float)acc * scale;
    }
}

void variance_cpu(float *x, float *mean, int batch, int filters, int spatial, float *variance)
{
    if (!fast_go(FI_variance_cpu)) {
        ((fp_variance)FAST_ORIG(variance_cpu))(x, mean, batch, filters, spatial, variance);
        return;
    }
    float scale = 1. / (batch * spatial - 1);
    int nt = nt_for(batch, filters, spatial);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < filters; f++) {
        double acc = 0;
        float m = mean[f];
        for (int b = 0; b < batch; b++) {
            const float *restrict p = x + ((size_t)b * filters + f) * spatial;
            float s = 0;
#pragma omp simd reduction(+ : s)
            for (int k = 0; k < spatial; k++) s += (p[k] - m) * (p[k] - m);
            acc += s;
        }
        variance[f] = (float)acc * scale;
    }
}

void normalize_cpu(float *x, float *mean, float *variance, int batch, int filters, int spatial)
{
    if (!fast_go(FI_normalize_cpu)) {
        ((fp_normalize)FAST_ORIG(normalize_cpu))(x, mean, variance, batch, filters, spatial);
        return;
    }
    int nt = nt_for(batch, filters, spatial);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
    for (int b = 0; b < batch; b++)
        for (int f = 0; f < filters; f++) {
            float *restrict p = x + ((size_t)b * filters + f) * spatial;
            float m = mean[f], inv = (float)(1.0 / (sqrt(variance[f]) + .000001f));
#pragma omp simd
            for (int k = 0; k < spatial; k++) p[k] = (p[k] - m) * inv;
        }
}

void mean_delta_cpu(float *delta, float *variance, int batch, int filters, int spatial, float *mean_delta)
{
    if (!fast_go(FI_mean_delta_cpu)) {
        ((fp_mean_delta)FAST_ORIG(mean_delta_cpu))(delta, variance, batch, filters, spatial, mean_delta);
        return;
    }
    int nt = nt_for(batch, filters, spatial);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < filters; f++) {
        double acc = 0;
        for (int b = 0; b < batch; b++) acc += chunk_sum(delta + ((size_t)b * filters + f) * spatial, spatial);
        mean_delta[f] = (float)((float)acc * (-1. / sqrt(variance[f] + .00001f)));
    }
}

void variance_delta_cpu(float *x, float *delta, float *mean, float *variance, int batch, int filters,
                        int spatial, float *variance_delta)
{
    if (!fast_go(FI_variance_delta_cpu)) {
        ((fp_variance_delta)FAST_ORIG(variance_delta_cpu))(x, delta, mean, variance, batch, filters,
                                                           spatial, variance_delta);
        return;
    }
    int nt = nt_for(batch, filters, spatial);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < filters; f++) {
        double acc = 0;
        float m = mean[f];
        for (int b = 0; b < batch; b++) {
            size_t o = ((size_t)b * filters + f) * spatial;
            const float *restrict px = x + o, *restrict pd = delta + o;
            float s = 0;
#pragma omp simd reduction(+ : s)
            for (int k = 0; k < spatial; k++) s += pd[k] * (px[k] - m);
            acc += s;
        }
        variance_delta[f] = (float)((float)acc * -.5 * pow(variance[f] + .00001f, (float)(-3. / 2.)));
    }
}

void normalize_delta_cpu(float *x, float *mean, float *variance, float *mean_delta, float *variance_delta,
                         int batch, int filters, int spatial, float *delta)
{
    if (!fast_go(FI_normalize_delta_cpu)) {
        ((fp_normalize_delta)FAST_ORIG(normalize_delta_cpu))(x, mean, variance, mean_delta,
                                                             variance_delta, batch, filters, spatial, delta);
        return;
    }
    int nt = nt_for(batch, filters, spatial);
    double N = (double)spatial * batch;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
    for (int b = 0; b < batch; b++)
        for (int f = 0; f < filters; f++) {
            size_t o = ((size_t)b * filters + f) * spatial;
            float *restrict pd = delta + o;
            const float *restrict px = x + o;
            float a = (float)(1. / sqrt(variance[f] + .00001f));
            float c2 = (float)(variance_delta[f] * 2. / N), c3 = (float)(mean_delta[f] / N);
            float m = mean[f];
#pragma omp simd
            for (int k = 0; k < spatial; k++) pd[k] = pd[k] * a + c2 * (px[k] - m) + c3;
        }
}

void backward_scale_cpu(float *x_norm, float *delta, int batch, int n, int size, float *scale_updates)
{
    if (!fast_go(FI_backward_scale_cpu)) {
        ((fp_bscale)FAST_ORIG(backward_scale_cpu))(x_norm, delta, batch, n, size, scale_updates);
        return;
    }
    int nt = nt_for(batch, n, size);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < n; f++) {
        double acc = 0;
        for (int b = 0; b < batch; b++) {
            size_t o = ((size_t)b * n + f) * size;
            const float *restrict px = x_norm + o, *restrict pd = delta + o;
            float s = 0;
#pragma omp simd reduction(+ : s)
            for (int k = 0; k < size; k++) s += pd[k] * px[k];
            acc += s;
        }
        scale_updates[f] += (float)acc;
    }
}

void scale_bias(float *output, float *scales, int batch, int n, int size)
{
    if (!fast_go(FI_scale_bias)) {
        ((fp_bias)FAST_ORIG(scale_bias))(output, scales, batch, n, size);
        return;
    }
    int nt = nt_for(batch, n, size);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
    for (int b = 0; b < batch; b++)
        for (int f = 0; f < n; f++) {
            float *restrict p = output + ((size_t)b * n + f) * size;
            float s = scales[f];
#pragma omp simd
            for (int k = 0; k < size; k++) p[k] *= s;
        }
}

void add_bias(float *output, float *biases, int batch, int n, int size)
{
    if (!fast_go(FI_add_bias)) {
        ((fp_bias)FAST_ORIG(add_bias))(output, biases, batch, n, size);
        return;
    }
    int nt = nt_for(batch, n, size);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
    for (int b = 0; b < batch; b++)
        for (int f = 0; f < n; f++) {
            float *restrict p = output + ((size_t)b * n + f) * size;
            float s = biases[f];
#pragma omp simd
            for (int k = 0; k < size; k++) p[k] += s;
        }
}

void backward_bias(float *bias_updates, float *delta, int batch, int n, int size)
{
    if (!fast_go(FI_backward_bias)) {
        ((fp_bias)FAST_ORIG(backward_bias))(bias_updates, delta, batch, n, size);
        return;
    }
    int nt = nt_for(batch, n, size);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int f = 0; f < n; f++) {
        double acc = 0;
        for (int b = 0; b < batch; b++) acc += chunk_sum(delta + ((size_t)b * n + f) * size, size);
        bias_updates[f] += (float)acc;
    }
}

/* ------------------------------------------------------------------ activations */

int fk_act_supported(ACTIVATION a) { return a == LINEAR || a == RELU || a == LEAKY; }

void fk_activate(float *x, size_t n, ACTIVATION a, int nt)
{
    if (a == LINEAR) return;
    if (!fk_act_supported(a)) {
        for (size_t i = 0; i < n; i++) x[i] = activate(x[i], a);
        return;
    }
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += 4096) {
        size_t e = c + 4096 < n ? c + 4096 : n;
        if (a == RELU) {
#pragma omp simd
            for (size_t i = c; i < e; i++) x[i] = (x[i] > 0) ? x[i] : 0.0f;   /* x*(x>0) under -Ofast */
        } else {
#pragma omp simd
            for (size_t i = c; i < e; i++) { float z = (float)(.1 * x[i]); x[i] = (x[i] > 0) ? x[i] : z; }
        }
    }
}

void fk_gradient(const float *x, size_t n, ACTIVATION a, float *delta, int nt)
{
    if (a == LINEAR) return;
    if (!fk_act_supported(a)) {
        for (size_t i = 0; i < n; i++) delta[i] *= gradient(x[i], a);
        return;
    }
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += 4096) {
        size_t e = c + 4096 < n ? c + 4096 : n;
        if (a == RELU) {
#pragma omp simd
            for (size_t i = c; i < e; i++) { float z = delta[i] * 0.0f; delta[i] = (x[i] > 0) ? delta[i] : z; }
        } else {
#pragma omp simd
            for (size_t i = c; i < e; i++) delta[i] *= (x[i] > 0) ? 1.f : .1f;
        }
    }
}

void activate_array(float *x, const int n, const ACTIVATION a)
{
    if (!fast_go(FI_activate_array)) {
        ((fp_activate_array)FAST_ORIG(activate_array))(x, n, a);
        return;
    }
    if (n > 0) fk_activate(x, (size_t)n, a, omp_in_parallel() ? 1 : fast_nt(n));
}

void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta)
{
    if (!fast_go(FI_gradient_array)) {
        ((fp_gradient_array)FAST_ORIG(gradient_array))(x, n, a, delta);
        return;
    }
    if (n > 0) fk_gradient(x, (size_t)n, a, delta, omp_in_parallel() ? 1 : fast_nt(n));
}

/* ------------------------------------------------------------------ blas-1 */

void fill_cpu(int N, float ALPHA, float *X, int INCX)
{
    if (!fast_go(FI_fill_cpu)) {
        ((fp_fill)FAST_ORIG(fill_cpu))(N, ALPHA, X, INCX);
        return;
    }
    if (INCX == 1 && ALPHA == 0 && !signbit(ALPHA)) {
        if (N > 0) memset(X, 0, sizeof(float) * (size_t)N);
        return;
    }
    for (int i = 0; i < N; i++) X[(size_t)i * INCX] = ALPHA;
}

void copy_cpu(int N, float *X, int INCX, float *Y, int INCY)
{
    if (!fast_go(FI_copy_cpu)) {
        ((fp_copy)FAST_ORIG(copy_cpu))(N, X, INCX, Y, INCY);
        return;
    }
    if (INCX == 1 && INCY == 1 && (Y <= X || Y >= X + N)) {   /* forward copy semantics */
        if (N > 0) memmove(Y, X, sizeof(float) * (size_t)N);
        return;
    }
    for (int i = 0; i < N; i++) Y[(size_t)i * INCY] = X[(size_t)i * INCX];
}

void axpy_cpu(int N, float ALPHA, float *X, int INCX, float *Y, int INCY)
{
    if (!fast_go(FI_axpy_cpu)) {
        ((fp_axpy)FAST_ORIG(axpy_cpu))(N, ALPHA, X, INCX, Y, INCY);
        return;
    }
    if (INCX == 1 && INCY == 1) {
        float *restrict y = Y;
        const float *restrict x = X;
        if (Y == X) { for (int i = 0; i < N; i++) Y[i] += ALPHA * X[i]; return; }
#pragma omp simd
        for (int i = 0; i < N; i++) y[i] += ALPHA * x[i];
        return;
    }
    for (int i = 0; i < N; i++) Y[(size_t)i * INCY] += ALPHA * X[(size_t)i * INCX];
}

void scal_cpu(int N, float ALPHA, float *X, int INCX)
{
    if (!fast_go(FI_scal_cpu)) {
        ((fp_scal)FAST_ORIG(scal_cpu))(N, ALPHA, X, INCX);
        return;
    }
    if (INCX == 1) {
#pragma omp simd
        for (int i = 0; i < N; i++) X[i] *= ALPHA;
        return;
    }
    for (int i = 0; i < N; i++) X[(size_t)i * INCX] *= ALPHA;
}

/* ------------------------------------------------------------------ layouts, BN folding */

/* nChwBc <-> NCHW (to_nchw 1: from blocked), in tiles of 8 pixels x B channels, images and
 * channel blocks over the fast threads. */
static void convert(const float *src, float *dst, int N, int C, int H, int W, int B, int to_nchw)
{
    size_t S = (size_t)H * W;
    int nb = C / B, nt = omp_in_parallel() ? 1 : fast_nt((size_t)N * C * S);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) collapse(2)
    for (int n = 0; n < N; n++)
        for (int cb = 0; cb < nb; cb++) {
            size_t blk = ((size_t)n * nb + cb) * S * B, pl = ((size_t)n * C + (size_t)cb * B) * S;
            for (size_t k0 = 0; k0 < S; k0 += 8) {
                size_t k1 = k0 + 8 < S ? k0 + 8 : S;
                for (int q = 0; q < B; q++)
                    for (size_t k = k0; k < k1; k++) {
                        if (to_nchw) dst[pl + q * S + k] = src[blk + k * B + q];
                        else dst[blk + k * B + q] = src[pl + q * S + k];
                    }
            }
        }
}

void fk_blk_to_nchw(const float *src, float *dst, int N, int C, int H, int W, int B)
{
    convert(src, dst, N, C, H, W, B, 1);
}

void fk_nchw_to_blk(const float *src, float *dst, int N, int C, int H, int W, int B)
{
    convert(src, dst, N, C, H, W, B, 0);
}

void fk_bn_fold(const layer *l, float *scale, float *bias)
{
    for (int o = 0; o < l->n; o++) {
        scale[o] = l->scales[o] / (sqrtf(l->rolling_variance[o]) + .000001f);
        bias[o] = l->biases[o] - l->rolling_mean[o] * scale[o];
    }
}
