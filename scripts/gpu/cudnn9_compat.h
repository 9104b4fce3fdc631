/* cudnn9_compat.h: ours, force-included (-include) into the build of Debian's darknet source
 * by scripts/gpu_check.sh when CUDNN=1 is asked for. pjreddie's Darknet picks convolution
 * algorithms with cudnnGet*Algorithm(..., *_SPECIFY_WORKSPACE_LIMIT, limit, &algo), an API
 * that cuDNN 8 removed. This header supplies the three functions and the preference enums
 * with the same signatures, answered by cuDNN's heuristic queries (the _v7 functions, still
 * in cuDNN 9): the first algorithm, in cuDNN's order of expected speed, that is supported and
 * needs no more workspace than the limit. Nothing of Darknet's source is changed or copied. */
#ifndef CUDNN9_COMPAT_H
#define CUDNN9_COMPAT_H
#include <cudnn.h>
#if CUDNN_MAJOR >= 8

typedef enum { CUDNN_CONVOLUTION_FWD_NO_WORKSPACE = 0, CUDNN_CONVOLUTION_FWD_PREFER_FASTEST = 1,
               CUDNN_CONVOLUTION_FWD_SPECIFY_WORKSPACE_LIMIT = 2 } cudnnConvolutionFwdPreference_t;
typedef enum { CUDNN_CONVOLUTION_BWD_DATA_NO_WORKSPACE = 0, CUDNN_CONVOLUTION_BWD_DATA_PREFER_FASTEST = 1,
               CUDNN_CONVOLUTION_BWD_DATA_SPECIFY_WORKSPACE_LIMIT = 2 } cudnnConvolutionBwdDataPreference_t;
typedef enum { CUDNN_CONVOLUTION_BWD_FILTER_NO_WORKSPACE = 0, CUDNN_CONVOLUTION_BWD_FILTER_PREFER_FASTEST = 1,
               CUDNN_CONVOLUTION_BWD_FILTER_SPECIFY_WORKSPACE_LIMIT = 2 } cudnnConvolutionBwdFilterPreference_t;

#define CUDNN9_COMPAT_MAX_ALGOS 16

/* the limit that a preference means: 0 for NO_WORKSPACE, none for PREFER_FASTEST */
static inline size_t cudnn9_compat_limit(int pref, size_t limit) {
    return pref == 0 ? 0 : pref == 1 ? (size_t)-1 : limit;
}

static inline cudnnStatus_t cudnnGetConvolutionForwardAlgorithm(
    cudnnHandle_t h, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y,
    cudnnConvolutionFwdPreference_t pref, size_t limit, cudnnConvolutionFwdAlgo_t *algo) {
    cudnnConvolutionFwdAlgoPerf_t p[CUDNN9_COMPAT_MAX_ALGOS];
    int n = 0;
    cudnnStatus_t s = cudnnGetConvolutionForwardAlgorithm_v7(h, x, w, conv, y, CUDNN9_COMPAT_MAX_ALGOS, &n, p);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    limit = cudnn9_compat_limit(pref, limit);
    for (int i = 0; i < n; i++)
        if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].memory <= limit) { *algo = p[i].algo; return CUDNN_STATUS_SUCCESS; }
    *algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;   /* needs no workspace */
    return CUDNN_STATUS_SUCCESS;
}

static inline cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm(
    cudnnHandle_t h, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx,
    cudnnConvolutionBwdDataPreference_t pref, size_t limit, cudnnConvolutionBwdDataAlgo_t *algo) {
    cudnnConvolutionBwdDataAlgoPerf_t p[CUDNN9_COMPAT_MAX_ALGOS];
    int n = 0;
    cudnnStatus_t s = cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w, dy, conv, dx, CUDNN9_COMPAT_MAX_ALGOS, &n, p);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    limit = cudnn9_compat_limit(pref, limit);
    for (int i = 0; i < n; i++)
        if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].memory <= limit) { *algo = p[i].algo; return CUDNN_STATUS_SUCCESS; }
    *algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
    return CUDNN_STATUS_SUCCESS;
}

static inline cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm(
    cudnnHandle_t h, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw,
    cudnnConvolutionBwdFilterPreference_t pref, size_t limit, cudnnConvolutionBwdFilterAlgo_t *algo) {
    cudnnConvolutionBwdFilterAlgoPerf_t p[CUDNN9_COMPAT_MAX_ALGOS];
    int n = 0;
    cudnnStatus_t s = cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x, dy, conv, dw, CUDNN9_COMPAT_MAX_ALGOS, &n, p);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    limit = cudnn9_compat_limit(pref, limit);
    for (int i = 0; i < n; i++)
        if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].memory <= limit) { *algo = p[i].algo; return CUDNN_STATUS_SUCCESS; }
    *algo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
    return CUDNN_STATUS_SUCCESS;
}
#endif
#endif
