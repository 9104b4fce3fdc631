/* fast_internal.h: shared state of the fast kernels (private to plugins/fast). */
#ifndef FAST_INTERNAL_H
#define FAST_INTERNAL_H
#include <stddef.h>

/* X-macro of every interposed name (order = index in the tables). */
#define FAST_NAMES(X) \
    X(gemm) X(im2col_cpu) X(col2im_cpu) \
    X(mean_cpu) X(variance_cpu) X(normalize_cpu) \
    X(mean_delta_cpu) X(variance_delta_cpu) X(normalize_delta_cpu) \
    X(backward_scale_cpu) X(scale_bias) X(add_bias) X(backward_bias) \
    X(activate_array) X(gradient_array) \
    X(fill_cpu) X(copy_cpu) X(axpy_cpu) X(scal_cpu) \
    X(forward_maxpool_layer) X(backward_maxpool_layer) \
    X(forward_batchnorm_layer) X(backward_batchnorm_layer) \
    X(forward_convolutional_layer) X(backward_convolutional_layer) \
    X(shortcut_cpu) X(forward_shortcut_layer) X(backward_shortcut_layer) \
    X(forward_avgpool_layer) X(backward_avgpool_layer)

#define FAST_ENUM_(n) FI_##n,
enum { FAST_NAMES(FAST_ENUM_) FI_COUNT };
#undef FAST_ENUM_

extern void *fast_orig_tab[FI_COUNT];   /* the library's definitions (RTLD_NEXT) */
extern volatile int fast_ready;         /* lazy init done */
extern int fast_on;                     /* switch */
extern int fast_nthr;                   /* threads for the parallel kernels */
void fast_lazy_init(void);

/* Run the fast path for function `id`? (yes when enabled, or when the library's own
 * definition could not be found). */
static inline int fast_go(int id)
{
    if (__builtin_expect(!fast_ready, 0)) fast_lazy_init();
    return fast_on || !fast_orig_tab[id];
}
#define FAST_ORIG(n) fast_orig_tab[FI_##n]

/* Per-thread scratch (thread index tid < FAST_MAX_THREADS), grown on demand; only thread
 * tid touches slot tid. slot selects one of a few independent buffers. */
#define FAST_MAX_THREADS 64
float *fast_scratch(int slot, int tid, size_t n);

/* OpenBLAS threads (1 inside our own parallel regions). */
void fast_blas_threads(int n);

/* How many threads for a loop of `work` floats (1 below a threshold). */
static inline int fast_nt(size_t work)
{
    return (work >= 32768 && fast_nthr > 1) ? fast_nthr : 1;
}

/* The layout chain (fast_chain.c): the channel block B of the blocked layout (nChwBc) in
 * which a layer output is kept, 0 for NCHW. For the running layer l (net->layers[net->index];
 * any other l gets 0): of net->input, of l's own output, and of layer k < net->index. */
#include <darknet.h>
int fast_chain_in(const network *net, const layer *l);
int fast_chain_out(const network *net, const layer *l);
int fast_chain_of(const network *net, const layer *l, int k);
/* net->input's layer has no other reader than l (its delta is l's alone to write) */
int fast_chain_in_sole(const network *net, const layer *l);
void fast_blk_to_nchw(const float *src, float *dst, int N, int C, int H, int W, int B);
void fast_nchw_to_blk(const float *src, float *dst, int N, int C, int H, int W, int B);

/* Eval-mode BN of a convolution as Darknet computes it, folded into per-output-channel
 * factors: y = conv(x)*scale[o] + bias[o] (fast_layers.c). */
void fast_bn_fold(const layer *l, float *scale, float *bias);

/* A convolution over a tiny input as one GEMM over the batch (fast_dense.c). ib/ob: the
 * layouts of net->input and l->output (0 NCHW, else the channel block). */
int fast_dense_use(const layer *l);
void fast_dense_forward(const layer *l, const network *net, int ib, int ob);
void fast_dense_forward_eval(const layer *l, const network *net, int ib, int ob);
void fast_dense_backward(const layer *l, const network *net, int ib, int ob);

/* oneDNN convolutions (fast_dnnl.c). Each returns 1 when it did the work (the layer is one
 * oneDNN takes, by the rule or DKDNNL), 0 when the caller must run its own path. */
#ifdef FAST_DNNL
#include <darknet.h>
int fast_dnnl_use(const layer *l, int phase);   /* phase 0 forward, 1 backward, 2 fused eval */
/* ib, ob: the layouts (fast_chain_in/out) of net->input and l->output; sole:
 * fast_chain_in_sole */
int fast_dnnl_conv_forward(const layer *l, const network *net, int ib, int ob);
/* eval mode: conv + BN (rolling statistics) + act (0 LINEAR, 1 RELU, 2 LEAKY) in one call */
int fast_dnnl_conv_forward_fused(const layer *l, const network *net, int act, int ib, int ob);
int fast_dnnl_conv_backward(const layer *l, const network *net, int ib, int ob, int sole);
/* the fused path's activation code for l (-1: not RELU/LEAKY/LINEAR) */
int fast_dnnl_fused_act(const layer *l);
/* Will l run on oneDNN in net's mode (eval: the fused path; training: forward and backward,
 * with BN)? Then 1, with the channel blocks of the primitives' src and dst layouts (0: another
 * layout, or the training primitives disagree). */
int fast_dnnl_chain_blocks(const layer *l, const network *net, int *src_blk, int *dst_blk);
#else
#define fast_dnnl_fused_act(l) (-1)
#define fast_dnnl_chain_blocks(l, net, s, d) 0
#define fast_dnnl_conv_forward(l, net, ib, ob) 0
#define fast_dnnl_conv_forward_fused(l, net, act, ib, ob) 0
#define fast_dnnl_conv_backward(l, net, ib, ob, sole) 0
#endif
#endif
