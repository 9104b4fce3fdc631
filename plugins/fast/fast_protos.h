/* fast_protos.h: prototypes of the interposed libdarknet functions, exactly as the library
 * defines them (darknet.h declares only some of them). */
#ifndef FAST_PROTOS_H
#define FAST_PROTOS_H
#include <darknet.h>

void gemm(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B, int ldb,
          float BETA, float *C, int ldc);
void im2col_cpu(float *data_im, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_col);
void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_im);
void mean_cpu(float *x, int batch, int filters, int spatial, float *mean);
void variance_cpu(float *x, float *mean, int batch, int filters, int spatial, float *variance);
/* normalize_cpu, fill_cpu, copy_cpu, axpy_cpu, scal_cpu: declared in darknet.h */
void mean_delta_cpu(float *delta, float *variance, int batch, int filters, int spatial,
                    float *mean_delta);
void variance_delta_cpu(float *x, float *delta, float *mean, float *variance, int batch,
                        int filters, int spatial, float *variance_delta);
void normalize_delta_cpu(float *x, float *mean, float *variance, float *mean_delta,
                         float *variance_delta, int batch, int filters, int spatial,
                         float *delta);
void backward_scale_cpu(float *x_norm, float *delta, int batch, int n, int size,
                        float *scale_updates);
void scale_bias(float *output, float *scales, int batch, int n, int size);
void add_bias(float *output, float *biases, int batch, int n, int size);
void backward_bias(float *bias_updates, float *delta, int batch, int n, int size);
void activate_array(float *x, const int n, const ACTIVATION a);
void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta);
float activate(float x, ACTIVATION a);
float gradient(float x, ACTIVATION a);
void forward_maxpool_layer(const layer l, network net);
void backward_maxpool_layer(const layer l, network net);
void forward_batchnorm_layer(layer l, network net);
void backward_batchnorm_layer(layer l, network net);
void forward_convolutional_layer(layer l, network net);
void backward_convolutional_layer(layer l, network net);
void forward_shortcut_layer(const layer l, network net);
void backward_shortcut_layer(const layer l, network net);
void forward_avgpool_layer(const layer l, network net);
void backward_avgpool_layer(const layer l, network net);
void shortcut_cpu(int batch, int w1, int h1, int c1, float *add, int w2, int h2, int c2, float s1,
                  float s2, float *out);

/* Function-pointer types of the library's definitions. */
typedef void (*fp_gemm)(int, int, int, int, int, float, float *, int, float *, int, float,
                        float *, int);
typedef void (*fp_im2col)(float *, int, int, int, int, int, int, float *);
typedef void (*fp_x_b_f_s_o)(float *, int, int, int, float *);             /* mean_cpu */
typedef void (*fp_variance)(float *, float *, int, int, int, float *);
typedef void (*fp_normalize)(float *, float *, float *, int, int, int);
typedef void (*fp_mean_delta)(float *, float *, int, int, int, float *);
typedef void (*fp_variance_delta)(float *, float *, float *, float *, int, int, int, float *);
typedef void (*fp_normalize_delta)(float *, float *, float *, float *, float *, int, int, int,
                                   float *);
typedef void (*fp_bscale)(float *, float *, int, int, int, float *);
typedef void (*fp_bias)(float *, float *, int, int, int);
typedef void (*fp_activate_array)(float *, const int, const ACTIVATION);
typedef void (*fp_gradient_array)(const float *, const int, const ACTIVATION, float *);
typedef void (*fp_fill)(int, float, float *, int);
typedef void (*fp_copy)(int, float *, int, float *, int);
typedef void (*fp_axpy)(int, float, float *, int, float *, int);
typedef void (*fp_scal)(int, float, float *, int);
typedef void (*fp_layer)(layer, network);
typedef void (*fp_shortcut)(int, int, int, int, float *, int, int, int, float, float, float *);
#endif
