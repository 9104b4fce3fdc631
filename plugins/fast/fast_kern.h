/* fast_kern.h: the fast kernel bodies shared by fast_kernels.c and fast_layers.c. */
#ifndef FAST_KERN_H
#define FAST_KERN_H
#include <stddef.h>
#include <darknet.h>

void fk_gemm(int TA, int TB, int M, int N, int K, float ALPHA, const float *A, int lda,
             const float *B, int ldb, float BETA, float *C, int ldc);
/* ldc: distance between column rows (>= out_h*out_w); nt: threads over channels */
void fk_im2col(const float *im, int channels, int height, int width, int ksize, int stride,
               int pad, float *col, size_t ldc, int nt);
void fk_col2im(const float *col, int channels, int height, int width, int ksize, int stride,
               int pad, float *im, size_t ldc, int nt);
/* the same, a lone large call split in row or column blocks over the fast threads */
void fk_gemm_par(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B, int ldb,
                 float BETA, float *C, int ldc);
int fk_act_supported(ACTIVATION a);
void fk_activate(float *x, size_t n, ACTIVATION a, int nt);
void fk_gradient(const float *x, size_t n, ACTIVATION a, float *delta, int nt);
#endif
