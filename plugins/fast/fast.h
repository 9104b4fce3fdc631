/* fast.h: fast CPU kernels interposed over libdarknet's exported hot functions.
 *
 * libdarknet.so is built -fPIC without -fno-semantic-interposition, so its internal calls to
 * its own exported functions (gemm, im2col_cpu, the batch-norm loops, the layer forward and
 * backward functions, ...) go through the PLT/GOT, and a definition with the same name in the
 * executable wins. plugins/fast defines those names (same signatures as the library's
 * source), and so replaces them in ./darknet and in every binary that links the plugins.
 *
 * Interposed (see fast_interposed_names()):
 *   gemm (-> OpenBLAS cblas_sgemm), im2col_cpu, col2im_cpu,
 *   mean_cpu, variance_cpu, normalize_cpu, mean_delta_cpu, variance_delta_cpu,
 *   normalize_delta_cpu, backward_scale_cpu, scale_bias, add_bias, backward_bias,
 *   activate_array, gradient_array, fill_cpu, copy_cpu, axpy_cpu, scal_cpu,
 *   forward_maxpool_layer, backward_maxpool_layer,
 *   forward_batchnorm_layer, backward_batchnorm_layer (fused BN passes),
 *   forward_convolutional_layer, backward_convolutional_layer (the convolution on oneDNN where
 *   fast_dnnl.c's rule takes it, as one GEMM over the batch on tiny maps (fast_dense.c), else
 *   images in parallel, one workspace per thread, per-thread weight-gradient partials reduced
 *   at the end), shortcut_cpu, forward_shortcut_layer, backward_shortcut_layer (one pass,
 *   activation fused), forward_avgpool_layer, backward_avgpool_layer.
 *
 * Runtime switch: fast_set_enabled(0) or env DKFAST=0 makes every interposed function
 * forward to the library's own definition (dlsym(RTLD_NEXT, name), resolved once). If a
 * symbol is not interposed (another Darknet build, static linking, the executable does not
 * export it) or the RTLD_NEXT lookup fails, one line says so on stderr and the program still
 * works (with the fast version, or the library's, whichever is reachable).
 *
 * Threads: env DKTHREADS or fast_set_threads(n); default = number of online cores, at most 2
 * (FAST_MAX_DEFAULT_THREADS). OpenBLAS is kept at 1 thread inside the image-parallel regions
 * (no oversubscription); a lone large gemm outside them may use the fast thread count. */
#ifndef FAST_H
#define FAST_H

#define FAST_MAX_DEFAULT_THREADS 2

void fast_set_enabled(int on);
int fast_enabled(void);
void fast_set_threads(int n);   /* n < 1: back to the default */
/* One line: enabled/disabled, threads, BLAS core, how many symbols are interposed. */
const char *fast_status(void);
/* Resolve and check everything now (otherwise done lazily on first use). Returns the number
 * of names that are NOT interposed in this process (0 when all are). */
int fast_init(void);
/* NULL-terminated list of the interposed names. */
const char *const *fast_interposed_names(void);
/* The library's own definition of an interposed name (dlsym(RTLD_NEXT)), or NULL. */
void *fast_orig(const char *name);
/* Whether `name` is actually interposed in this process (the dynamic linker resolves it to
 * this program's definition). */
int fast_is_interposed(const char *name);

/* libgomp's default wait policy spins between parallel regions; on a machine whose cores are
 * shared with other work that halves the throughput (measured: 1 and 2 threads alike), and
 * PASSIVE costs nothing measurable here. libgomp reads OMP_WAIT_POLICY before main runs, so
 * the only in-process remedy is to re-execute: call this first thing in main. If
 * OMP_WAIT_POLICY is unset (and DKFAST_NOEXEC is unset) it sets OMP_WAIT_POLICY=PASSIVE and
 * execv's /proc/self/exe with the same argv; otherwise, or if exec fails, it returns. */
void fast_exec_passive_wait(char **argv);

/* oneDNN convolutions (built with DNNL=1): env DKDNNL=0 (never), 1 (every convolution it can
 * take: groups 1, not xnor/binary), auto (default: the measured rule in fast_dnnl.c).
 * Every DK* variable is read once, in fast_core.c.
 * fast_set_dnnl(m) sets the mode (-1: back to the environment's). Without oneDNN in the
 * build the mode is always 0. */
void fast_set_dnnl(int mode);
int fast_dnnl_mode(void);
const char *fast_dnnl_status(void);

/* A convolution over an input of at most 16 pixels where 3/4 of the (output pixel, input
 * pixel) pairs have a tap (VGG's 2x2 maps at CIFAR size) runs as one GEMM over the batch
 * (fast_dense.c) instead of oneDNN's or im2col's convolution. Env DKDENSE=0 or
 * fast_set_dense(0) turns it off (-1: back to the environment's). */
void fast_set_dense(int on);

/* The plan (fast_plan.c): one per network and mode, made on first use. For each layer it
 * records which backend runs a convolution (im2col + OpenBLAS, oneDNN, or one GEMM over the
 * batch on tiny maps; forward and backward each) and the layout of every layer output:
 * NCHW, or the blocked layout nChwBc of oneDNN's primitives (channel blocks of B interleaved
 * per pixel; B = C is NHWC). Which B: whatever the primitives oneDNN created report, e.g.
 * nChw8c with AVX2, NHWC or nChw16c with AVX-512 (blocks of 8 or more channels only).
 * An output stays blocked (the layout chain) when every reader of it reads that layout: a
 * oneDNN convolution whose primitive reads exactly it, a tiny-map convolution, [shortcut],
 * [maxpool], [avgpool]; in training its delta too, and a convolution's BN runs on it.
 * The network's output (net.output, the last layer) is always NCHW; an intermediate layer's
 * l.output may not be (fast_internal.h: fast_layer_output gives it in NCHW).
 * Env DKCHAIN=0 or fast_set_chain(0) keeps every output NCHW (-1: back to the environment's). */
void fast_set_chain(int on);
int fast_chain_enabled(void);

/* Tests and benchmarks: force oneDNN's activation layout to nChw8c (8), nChw16c (16) or NHWC
 * (FAST_BLOCK_NHWC) where the channel count allows it, 0 leaves it to oneDNN, -1 back to the
 * environment's (DKBLOCK=8|16|nhwc). */
#define FAST_BLOCK_NHWC 1
void fast_set_block(int block);
#endif
