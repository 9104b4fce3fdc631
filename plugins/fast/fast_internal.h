/* fast_internal.h: shared state of the fast kernels (private to plugins/fast). */
#ifndef FAST_INTERNAL_H
#define FAST_INTERNAL_H
#include <stddef.h>
#include "fast.h"

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
/* The other switches (fast_core.c reads them all from the environment, once; fast.h's
 * setters change them). */
typedef struct {
    int dnnl;    /* 0 never, 1 every convolution oneDNN can take, 2 by the measured rule */
    int dense;   /* tiny-map convolutions as one GEMM over the batch */
    int chain;   /* the layout chain */
    int block;   /* 0 oneDNN's choice of layout, 8/16 nChw8c/nChw16c, FAST_BLOCK_NHWC */
} fast_switches;
extern fast_switches fast_sw;
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

/* How many threads for a loop of `work` floats (1 below a threshold). */
static inline int fast_nt(size_t work)
{
    return (work >= 32768 && fast_nthr > 1) ? fast_nthr : 1;
}

/* The files of plugins/fast call one way, top to bottom:
 *   fast_layers.c   the interposed layer functions: run what the plan says
 *   fast_plan.c     one plan per network: each layer's backends and layouts
 *   fast_dnnl.c, fast_dense.c   the convolution backends (oneDNN, one GEMM on tiny maps)
 *   fast_kernels.c  kernels (gemm, im2col, BN loops, activations, layout conversions)
 *   fast_core.c     switches, threads, symbol resolution, scratch
 *
 * Layouts: 0 is NCHW; B > 0 is nChwBc, channel blocks of B (C % B == 0) interleaved per
 * pixel: element (n, c, y, x) at (((n * C/B + c/B) * H + y) * W + x) * B + c % B. B = C is
 * NHWC. The plan keeps an output blocked only for B a multiple of 8. */
#include <darknet.h>
void fk_blk_to_nchw(const float *src, float *dst, int N, int C, int H, int W, int B);
void fk_nchw_to_blk(const float *src, float *dst, int N, int C, int H, int W, int B);
/* Eval-mode BN of a convolution as Darknet computes it, folded into per-output-channel
 * factors: y = conv(x)*scale[o] + bias[o]. */
void fk_bn_fold(const layer *l, float *scale, float *bias);

/* ---- the plan (fast_plan.c) ---- */
/* What it decided, for tests (call with the modes and thread count of the pass in question):
 * fast_layer_output/_delta copy layer i's output/delta of the last pass in NCHW;
 * fast_layer_layout is the channel block B of its output layout (0 NCHW); fast_layer_backends
 * its convolution backends (FB_*; 0 for a layer that is not a convolution or runs the
 * library's own code) and whether the eval forward is fused (conv + BN + activation). */
void fast_layer_output(const network *net, int i, float *dst);
void fast_layer_delta(const network *net, int i, float *dst);
int fast_layer_layout(const network *net, int i);
void fast_layer_backends(const network *net, int i, int *fwd, int *bwd, int *fused);
enum { FB_LIBRARY = 0, FB_GEMM, FB_DNNL, FB_DENSE };
struct dconv;
/* What a layer runs: its convolution backends (FB_*; fwd also for eval) and the layouts of
 * net.input as it reads it (in), of its output and delta (out) and, for [shortcut], of the
 * layer it adds (from). fused: eval conv + BN + activation in one call (oneDNN or dense).
 * sole: the layer before is read by this one only (its delta is this layer's to write).
 * dn: the oneDNN primitives when fwd or bwd is FB_DNNL; they were created with the layouts
 * recorded here, so in/out are either 0 or exactly the primitives' blocks. */
typedef struct {
    int in, out, from;
    unsigned char fwd, bwd, fused, sole;
    struct dconv *dn;
} fast_step;
/* The step of l: its entry in net's plan when l is the layer net->index names (the one
 * forward_network/backward_network is running), else l on its own (NCHW, the same choice of
 * backends). */
fast_step fast_step_of(const network *net, const layer *l);

/* ---- tiny maps as one GEMM (fast_dense.c); ib/ob: the layouts of net->input, l->output ---- */
int fast_dense_use(const layer *l);
void fast_dense_forward(const layer *l, const network *net, int ib, int ob);
void fast_dense_forward_eval(const layer *l, const network *net, int ib, int ob);
void fast_dense_backward(const layer *l, const network *net, int ib, int ob);

/* ---- oneDNN convolutions (fast_dnnl.c) ---- */
enum { FD_FWD = 0, FD_BWD = 1, FD_FUSED = 2 };
/* the fused path's activation code for l (0 LINEAR, 1 RELU, 2 LEAKY; -1: none of these) */
static inline int fast_dnnl_fused_act(const layer *l)
{
    return l->activation == RELU ? 1 : l->activation == LEAKY ? 2 : l->activation == LINEAR ? 0 : -1;
}
#ifdef FAST_DNNL
/* Does the rule (fast_sw.dnnl) give l to oneDNN for this phase? */
int fast_dnnl_use(const layer *l, int phase);
/* oneDNN's primitives for l (FD_FWD: training forward; FD_BWD: training forward and both
 * backward ones; FD_FUSED: eval conv + BN + activation), created on first use for this shape,
 * thread count and forced layout; NULL when oneDNN cannot create them. The channel blocks of
 * their src and dst layouts (0: NCHW or another layout; for FD_BWD where the forward and
 * backward primitives agree) go to *src, *dst. */
struct dconv *fast_dnnl_prepare(const layer *l, int phase, int *src, int *dst);
/* Run them; ib/ob are the layouts of net->input and l->output (0 or the primitives'). */
void fast_dnnl_conv_forward(struct dconv *e, const layer *l, const network *net, int ib, int ob);
void fast_dnnl_conv_forward_fused(struct dconv *e, const layer *l, const network *net, int ib, int ob);
void fast_dnnl_conv_backward(struct dconv *e, const layer *l, const network *net, int ib, int ob, int sole);
#else
#define fast_dnnl_use(l, phase) 0
#define fast_dnnl_prepare(l, phase, s, d) ((struct dconv *)0)
#define fast_dnnl_conv_forward(e, l, net, ib, ob) ((void)0)
#define fast_dnnl_conv_forward_fused(e, l, net, ib, ob) ((void)0)
#define fast_dnnl_conv_backward(e, l, net, ib, ob, sole) ((void)0)
#endif
#endif
