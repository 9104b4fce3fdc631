/* fast_dnnl.c: convolution forward, backward-data and backward-weights on oneDNN (Debian's
 * libdnnl, the CPU primitive library PyTorch uses), a backend of the plan (fast_plan.c asks
 * fast_dnnl_prepare for the primitives of each convolution the rule in fast_dnnl_use gives
 * to oneDNN, and the layer functions in fast_layers.c run them) instead of im2col + OpenBLAS.
 *
 * Layouts: Darknet keeps activations NCHW and weights OIHW. The primitives are created with
 * format `any`, so oneDNN picks its fastest layout (with AVX2 the blocked nChw8c / OIhw8i8o;
 * with AVX-512 NHWC for many shapes, or nChw16c), or with the layout a test forces
 * (fast_set_block). The plan keeps an activation in the primitive's layout between layers
 * where it can; otherwise the plain arrays are reordered into per-process scratch slots
 * before and out of them after each call. Gradients that Darknet accumulates (weight_updates, and net.delta through
 * col2im for size > 1) are added by a reorder with a sum post-op; for size 1 Darknet's own
 * backward overwrites net.delta (gemm with BETA 0), and so does this one.
 *
 * Eval mode (net.train == 0) with batch_normalize and a RELU/LEAKY/LINEAR activation: BN with
 * the rolling statistics is folded into the convolution (weights scaled per output channel
 * by scale/(sqrt(var)+.000001), bias = bias - mean*that) and the activation is an eltwise
 * post-op, so one primitive writes l.output. l.x (the pre-BN copy, read only by a backward
 * pass) is not written in that mode.
 *
 * Primitives, memory objects and reorders are created once per layer shape and thread count
 * (a small cache, searched linearly) and only their data handles change per call. oneDNN's
 * CPU runtime in Debian's build is OpenMP (libgomp, the same pool as ours): it sizes its
 * parallel regions by omp_get_max_threads(), which is set to the fast thread count around
 * creation and execution and restored after, so the two never oversubscribe. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <dnnl.h>
#include "fast.h"
#include "fast_internal.h"
#include "fast_protos.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t eng;
static dnnl_stream_t strm;
static int dnnl_broken;   /* engine creation failed: never again */

/* ------------------------------------------------------------------ scratch slots */

enum { S_SRC, S_WEI, S_DST, S_TMP, S_BIAS, S_BIAS2, S_PLAIN, NSLOT };
static void *slot[NSLOT];
static size_t slot_cap[NSLOT];

static void *get_slot(int s, size_t bytes)
{
    if (bytes > slot_cap[s]) {
        free(slot[s]);
        size_t cap = bytes + bytes / 8 + 4096;
        void *p = NULL;
        if (posix_memalign(&p, 64, cap)) {
            fprintf(stderr, "fast: out of memory (%zu bytes for oneDNN)\n", cap);
            abort();
        }
        slot[s] = p;
        slot_cap[s] = cap;
    }
    return slot[s];
}

/* ------------------------------------------------------------------ ports */

/* A plain user array and the primitive's view of it: when the primitive wants another
 * layout (or the result is to be added), a reorder through a scratch slot. */
typedef struct {
    dnnl_memory_t um, pm;
    dnnl_primitive_t reo;
    size_t bytes;   /* of the primitive's layout */
    int same;
} port;

#define CK(call) do { if ((call) != dnnl_success) goto fail; } while (0)

static int port_init(port *p, const dnnl_memory_desc_t *umd, const dnnl_memory_desc_t *pmd, int in, int sum)
{
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    memset(p, 0, sizeof *p);
    p->bytes = dnnl_memory_desc_get_size(pmd);
    p->same = !sum && dnnl_memory_desc_equal(umd, pmd);
    CK(dnnl_memory_create(&p->um, umd, eng, DNNL_MEMORY_NONE));
    if (p->same) return 1;
    CK(dnnl_memory_create(&p->pm, pmd, eng, DNNL_MEMORY_NONE));
    if (sum) {
        CK(dnnl_primitive_attr_create(&attr));
        CK(dnnl_post_ops_create(&po));
        CK(dnnl_post_ops_append_sum(po, 1.0f));
        CK(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    if (in) CK(dnnl_reorder_primitive_desc_create(&rpd, umd, eng, pmd, eng, attr));
    else CK(dnnl_reorder_primitive_desc_create(&rpd, pmd, eng, umd, eng, attr));
    CK(dnnl_primitive_create(&p->reo, rpd));
    dnnl_primitive_desc_destroy(rpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    return 1;
fail:
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    return 0;
}

/* The memory the primitive reads or writes: the user array itself, or slot s. */
static dnnl_memory_t port_bind(port *p, const float *user, int s)
{
    dnnl_memory_set_data_handle(p->um, (void *)user);
    if (p->same) return p->um;
    dnnl_memory_set_data_handle(p->pm, get_slot(s, p->bytes));
    return p->pm;
}

/* The primitive reads or writes the user array itself, which already holds its layout. */
static dnnl_memory_t port_direct(port *p, const float *user)
{
    if (p->same) return port_bind(p, user, 0);
    dnnl_memory_set_data_handle(p->pm, (void *)user);
    return p->pm;
}

static void port_in(port *p);

/* The primitive's view of an input array: the array itself when it already holds the
 * primitive's layout (direct: the layout chain), else reordered into slot s. */
static dnnl_memory_t port_read(port *p, const float *user, int direct, int s)
{
    if (direct) return port_direct(p, user);
    dnnl_memory_t m = port_bind(p, user, s);
    port_in(p);
    return m;
}

static void run(dnnl_primitive_t prim, int n, const dnnl_exec_arg_t *args)
{
    if (dnnl_primitive_execute(prim, strm, n, args) != dnnl_success ||
        dnnl_stream_wait(strm) != dnnl_success) {
        fprintf(stderr, "fast: a oneDNN primitive failed to execute\n");
        abort();
    }
}

static void port_in(port *p)
{
    if (p->same) return;
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, p->um }, { DNNL_ARG_TO, p->pm } };
    run(p->reo, 2, a);
}

static void port_out(port *p)
{
    if (p->same) return;
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, p->pm }, { DNNL_ARG_TO, p->um } };
    run(p->reo, 2, a);
}

/* ------------------------------------------------------------------ per-shape cache */

typedef struct dconv {
    int b, c, h, w, n, size, stride, pad, nt, force;   /* key (force: fast_sw.block) */
    int oh, ow;
    int fwd_ok, bwd_ok, fused_ok[3];   /* 0 not tried, 1 ready, -1 unavailable */
    dnnl_primitive_desc_t fpd;   /* training forward (the backward's hint) */
    dnnl_primitive_t fwd, bwdd, bww, fused[3];
    port f_src, f_wei, f_dst;
    port d_ddst, d_wei, d_dsrc_add, d_dsrc_set;
    port w_src, w_ddst, w_dwei;
    port e_src, e_wei, e_bias, e_dst[3];
    int e_src_blk, e_dst_blk[3];   /* channel block of the fused primitive's src/dst layout, 0: other */
    int f_src_blk, f_dst_blk;      /* the same for training: forward, */
    int b_src_blk, b_dst_blk;      /* and both backward primitives (src, diff_src / diff_dst) */
    int w_ddst_reuse;   /* backward-weights reads the diff_dst that backward-data reordered */
} dconv;

/* Entries are allocated one by one and never freed or moved: plans hold pointers to them. */
static dconv **cache;
static int cache_cap;
static int ncache;

static void mdesc(dnnl_memory_desc_t *md, int n0, int n1, int n2, int n3, dnnl_format_tag_t tag)
{
    dnnl_dims_t d = { n0, n1, n2, n3 };
    dnnl_memory_desc_init_by_tag(md, 4, d, dnnl_f32, tag);
}

static void mdesc1(dnnl_memory_desc_t *md, int n0)
{
    dnnl_dims_t d = { n0 };
    dnnl_memory_desc_init_by_tag(md, 1, d, dnnl_f32, dnnl_x);
}

/* Padding on the right/bottom that makes oneDNN's output size Darknet's (never negative: the
 * size formula floors, so a smaller right pad gives the same size where Darknet's would be < 0). */
static int pad_r(int in, int out, int k, int s, int pl)
{
    int r = (out - 1) * s + k - in - pl;
    return r < 0 ? 0 : r;
}

static void conv_geom(const dconv *e, dnnl_dims_t st, dnnl_dims_t pl, dnnl_dims_t pr)
{
    st[0] = st[1] = e->stride;
    pl[0] = pl[1] = e->pad;
    pr[0] = pad_r(e->h, e->oh, e->size, e->stride, e->pad);
    pr[1] = pad_r(e->w, e->ow, e->size, e->stride, e->pad);
}

/* The activation layout asked of oneDNN for C channels: `any` (its choice), or the forced
 * one (tests: fast_set_block) where C allows it. */
static dnnl_format_tag_t act_tag(const dconv *e, int C)
{
    if (e->force == FAST_BLOCK_NHWC) return dnnl_acdb;
    if (e->force == 8 && C % 8 == 0) return dnnl_aBcd8b;
    if (e->force == 16 && C % 16 == 0) return dnnl_aBcd16b;
    return dnnl_format_tag_any;
}

/* plain 1: Darknet's own layouts (NCHW, OIHW); 0: the primitive's (act_tag, weights any) */
static void geom_mds(const dconv *e, dnnl_memory_desc_t *src, dnnl_memory_desc_t *wei,
                     dnnl_memory_desc_t *dst, int plain)
{
    mdesc(src, e->b, e->c, e->h, e->w, plain ? dnnl_nchw : act_tag(e, e->c));
    mdesc(wei, e->n, e->c, e->size, e->size, plain ? dnnl_oihw : dnnl_format_tag_any);
    mdesc(dst, e->b, e->n, e->oh, e->ow, plain ? dnnl_nchw : act_tag(e, e->n));
}

static const dnnl_memory_desc_t *qmd(dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* B when md is the blocked layout nChwBc of its dims (fast_internal.h) with C a multiple of
 * B: nChw8c, nChw16c, or NHWC (B = C; oneDNN's choice with AVX-512 for many shapes); else 0 */
static int blk_of(const dnnl_memory_desc_t *md)
{
    if (md->ndims != 4) return 0;
    static const int bs[] = { 8, 16, 0 };
    static const dnnl_format_tag_t tags[] = { dnnl_aBcd8b, dnnl_aBcd16b, dnnl_acdb };
    for (int i = 0; i < 3; i++) {
        dnnl_memory_desc_t b;
        int B = bs[i] ? bs[i] : (int)md->dims[1];
        if (md->dims[1] % B) continue;
        if (dnnl_memory_desc_init_by_tag(&b, 4, md->dims, dnnl_f32, tags[i]) == dnnl_success &&
            dnnl_memory_desc_equal(&b, md))
            return B;
    }
    return 0;
}

static int make_fwd(dconv *e)
{
    dnnl_memory_desc_t s, w, d, us, uw, ud;
    dnnl_dims_t st, pl, pr;
    dnnl_convolution_desc_t cd;
    conv_geom(e, st, pl, pr);
    geom_mds(e, &s, &w, &d, 0);
    geom_mds(e, &us, &uw, &ud, 1);
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct, &s, &w,
                                          NULL, &d, st, pl, pr));
    CK(dnnl_primitive_desc_create(&e->fpd, &cd, NULL, eng, NULL));
    CK(dnnl_primitive_create(&e->fwd, e->fpd));
    if (!port_init(&e->f_src, &us, qmd(e->fpd, dnnl_query_src_md), 1, 0) ||
        !port_init(&e->f_wei, &uw, qmd(e->fpd, dnnl_query_weights_md), 1, 0) ||
        !port_init(&e->f_dst, &ud, qmd(e->fpd, dnnl_query_dst_md), 0, 0))
        goto fail;
    e->f_src_blk = blk_of(qmd(e->fpd, dnnl_query_src_md));
    e->f_dst_blk = blk_of(qmd(e->fpd, dnnl_query_dst_md));
    return 1;
fail:
    return 0;
}

static int make_bwd(dconv *e)
{
    dnnl_memory_desc_t s, w, d, us, uw, ud;
    dnnl_dims_t st, pl, pr;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t dpd = NULL, wpd = NULL;
    conv_geom(e, st, pl, pr);
    geom_mds(e, &s, &w, &d, 0);
    geom_mds(e, &us, &uw, &ud, 1);
    CK(dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &s, &w, &d, st, pl, pr));
    CK(dnnl_primitive_desc_create(&dpd, &cd, NULL, eng, e->fpd));
    CK(dnnl_primitive_create(&e->bwdd, dpd));
    CK(dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &s, &w, NULL, &d, st, pl, pr));
    CK(dnnl_primitive_desc_create(&wpd, &cd, NULL, eng, e->fpd));
    CK(dnnl_primitive_create(&e->bww, wpd));
    if (!port_init(&e->d_ddst, &ud, qmd(dpd, dnnl_query_diff_dst_md), 1, 0) ||
        !port_init(&e->d_wei, &uw, qmd(dpd, dnnl_query_weights_md), 1, 0) ||
        !port_init(&e->d_dsrc_add, &us, qmd(dpd, dnnl_query_diff_src_md), 0, 1) ||
        !port_init(&e->d_dsrc_set, &us, qmd(dpd, dnnl_query_diff_src_md), 0, 0) ||
        !port_init(&e->w_src, &us, qmd(wpd, dnnl_query_src_md), 1, 0) ||
        !port_init(&e->w_ddst, &ud, qmd(wpd, dnnl_query_diff_dst_md), 1, 0) ||
        !port_init(&e->w_dwei, &uw, qmd(wpd, dnnl_query_diff_weights_md), 0, 1))
        goto fail;
    e->w_ddst_reuse = dnnl_memory_desc_equal(qmd(dpd, dnnl_query_diff_dst_md), qmd(wpd, dnnl_query_diff_dst_md));
    {
        int a = blk_of(qmd(wpd, dnnl_query_src_md)), b = blk_of(qmd(dpd, dnnl_query_diff_src_md));
        int c = blk_of(qmd(wpd, dnnl_query_diff_dst_md)), d = blk_of(qmd(dpd, dnnl_query_diff_dst_md));
        e->b_src_blk = a == b ? a : 0;
        e->b_dst_blk = c == d ? c : 0;
    }
    dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
    return 1;
fail:
    if (dpd) dnnl_primitive_desc_destroy(dpd);
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    return 0;
}

/* act: 0 LINEAR, 1 RELU, 2 LEAKY */
static int make_fused(dconv *e, int act)
{
    dnnl_memory_desc_t s, w, d, us, uw, ud, b;
    dnnl_dims_t st, pl, pr;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    conv_geom(e, st, pl, pr);
    geom_mds(e, &s, &w, &d, 0);
    geom_mds(e, &us, &uw, &ud, 1);
    mdesc1(&b, e->n);
    CK(dnnl_primitive_attr_create(&attr));
    if (act) {
        CK(dnnl_post_ops_create(&po));
        CK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, act == 2 ? .1f : 0.f, 0.f));
        CK(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &s, &w,
                                          &b, &d, st, pl, pr));
    CK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
    CK(dnnl_primitive_create(&e->fused[act], pd));
    if (!e->e_src.um) {   /* the ports are the same for the three activations */
        if (!port_init(&e->e_src, &us, qmd(pd, dnnl_query_src_md), 1, 0) ||
            !port_init(&e->e_wei, &uw, qmd(pd, dnnl_query_weights_md), 1, 0) ||
            !port_init(&e->e_bias, &b, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), 1, 0))
            goto fail;
        e->e_src_blk = blk_of(qmd(pd, dnnl_query_src_md));
    }
    if (!port_init(&e->e_dst[act], &ud, qmd(pd, dnnl_query_dst_md), 0, 0)) goto fail;
    e->e_dst_blk[act] = blk_of(qmd(pd, dnnl_query_dst_md));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    return 1;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    return 0;
}

/* Threads for oneDNN: the fast count, 1 inside a parallel region. */
static int dnnl_threads(const layer *l)
{
    int nt = fast_nthr;
    if (omp_in_parallel()) return 1;
    if (nt > l->batch) nt = l->batch;
    return nt < 1 ? 1 : nt;
}

static dconv *lookup(const layer *l, int nt)
{
    for (int i = 0; i < ncache; i++) {
        dconv *e = cache[i];
        if (e->b == l->batch && e->c == l->c && e->h == l->h && e->w == l->w && e->n == l->n &&
            e->size == l->size && e->stride == l->stride && e->pad == l->pad && e->nt == nt &&
            e->force == fast_sw.block)
            return e;
    }
    if (ncache == cache_cap) {
        int cap = cache_cap ? 2 * cache_cap : 64;
        dconv **c = realloc(cache, sizeof *c * (size_t)cap);
        if (!c) return NULL;   /* out of memory: the im2col path */
        cache = c;
        cache_cap = cap;
    }
    dconv *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    cache[ncache++] = e;
    e->b = l->batch; e->c = l->c; e->h = l->h; e->w = l->w; e->n = l->n;
    e->size = l->size; e->stride = l->stride; e->pad = l->pad; e->nt = nt; e->force = fast_sw.block;
    e->oh = l->out_h; e->ow = l->out_w;
    return e;
}

static void warn_once(const char *what, const layer *l)
{
    static int said;
    if (said++) return;
    fprintf(stderr, "fast: oneDNN could not create its %s for a %dx%dx%d -> %d conv %dx%d/%d "
            "(that layer keeps im2col + OpenBLAS)\n", what, l->c, l->h, l->w, l->n, l->size, l->size,
            l->stride);
}

static int engine_ok(void)
{
    if (eng) return 1;
    if (dnnl_broken) return 0;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&strm, eng, dnnl_stream_default_flags) != dnnl_success) {
        fprintf(stderr, "fast: oneDNN's CPU engine could not be created (convolutions keep im2col + OpenBLAS)\n");
        dnnl_broken = 1;
        return 0;
    }
    return 1;
}

/* The rule (auto mode), from bench_fast --layers --dnnl 0,1 on a 2-core AVX2 AMD EPYC
 * (docs/performance.md): oneDNN's forward (train, and the fused eval) was as fast or faster
 * for every layer of the Fashion-MNIST CNN, VGG16-BN and ResNet-20, 1.0x-2.8x; its backward
 * was 1.2x-2x faster everywhere except for a single input channel (the Fashion CNN's first
 * layer, 1.6x slower: its weight gradient runs on an input padded to 8 channels), and faster
 * for ResNet's 3-channel first layer. So: backward on oneDNN from 3 input channels on. */
static int rule(const layer *l, int phase)
{
    return phase != 1 || l->c >= 3;
}

int fast_dnnl_use(const layer *l, int phase)
{
    fast_lazy_init();
    int m = fast_sw.dnnl;
    if (!m || l->groups != 1 || l->xnor || l->binary || l->size < 1) return 0;
    /* the library computes a 1x1 conv without im2col and so ignores its stride (it reads
     * the first out_h*out_w floats of each image as if unstrided): keep its own semantics */
    if (l->size == 1 && l->stride != 1) return 0;
    if (l->out_h < 1 || l->out_w < 1 || l->batch < 1) return 0;
    return m == 1 || rule(l, phase);
}

/* ------------------------------------------------------------------ the calls */

typedef struct { int prev; } thr_guard;
static thr_guard thr_set(int nt)
{
    thr_guard g = { omp_get_max_threads() };
    omp_set_num_threads(nt);
    return g;
}
static void thr_restore(thr_guard g) { omp_set_num_threads(g.prev); }

/* The entry of layer l with its training forward primitive, or NULL; caller holds mu. */
static dconv *fwd_entry(const layer *l, int nt)
{
    dconv *e = engine_ok() ? lookup(l, nt) : NULL;
    if (e && !e->fwd_ok) {
        e->fwd_ok = make_fwd(e) ? 1 : -1;
        if (e->fwd_ok < 0) warn_once("forward convolution", l);
    }
    return e && e->fwd_ok == 1 ? e : NULL;
}

/* ... with the backward primitives too (the forward's is their hint), or NULL. */
static dconv *train_entry(const layer *l, int nt)
{
    dconv *e = fwd_entry(l, nt);
    if (e && !e->bwd_ok) {
        e->bwd_ok = make_bwd(e) ? 1 : -1;
        if (e->bwd_ok < 0) warn_once("backward convolution", l);
    }
    return e && e->fwd_ok == 1 && e->bwd_ok == 1 ? e : NULL;
}

/* The fused eval entry of layer l (created on first use), or NULL; caller holds mu. */
static dconv *fused_entry(const layer *l, int act, int nt)
{
    dconv *e = engine_ok() ? lookup(l, nt) : NULL;
    if (e && !e->fused_ok[act]) {
        e->fused_ok[act] = make_fused(e, act) ? 1 : -1;
        if (e->fused_ok[act] < 0) warn_once("fused inference convolution", l);
    }
    return e && e->fused_ok[act] == 1 ? e : NULL;
}

dconv *fast_dnnl_prepare(const layer *l, int phase, int *src_blk, int *dst_blk)
{
    int act = fast_dnnl_fused_act(l);
    *src_blk = *dst_blk = 0;
    if (!fast_dnnl_use(l, phase) || (phase == FD_FUSED && act < 0)) return NULL;
    int nt = dnnl_threads(l);
    pthread_mutex_lock(&mu);
    thr_guard g = thr_set(nt);
    dconv *e = NULL;
    if (phase == FD_FUSED) {
        e = fused_entry(l, act, nt);
        if (e) {
            *src_blk = e->e_src_blk;
            *dst_blk = e->e_dst_blk[act];
        }
    } else if (phase == FD_FWD) {
        e = fwd_entry(l, nt);
        if (e) {
            *src_blk = e->f_src_blk;
            *dst_blk = e->f_dst_blk;
        }
    } else {
        e = train_entry(l, nt);
        if (e) {   /* forward and both backward primitives must agree */
            *src_blk = e->f_src_blk == e->b_src_blk ? e->f_src_blk : 0;
            *dst_blk = e->f_dst_blk == e->b_dst_blk ? e->f_dst_blk : 0;
        }
    }
    thr_restore(g);
    pthread_mutex_unlock(&mu);
    return e;
}

/* The input of a forward pass in the layout the primitive reads: the array itself when it
 * holds that layout (ib == want), else NCHW (ib 0; another blocked layout is converted). */
static const float *fwd_input(const layer *l, const network *net, int *ib, int want)
{
    if (!*ib || *ib == want) return net->input;
    float *pl = get_slot(S_PLAIN, sizeof(float) * (size_t)l->inputs * l->batch);
    fk_blk_to_nchw(net->input, pl, l->batch, l->c, l->h, l->w, *ib);
    *ib = 0;
    return pl;
}

/* After a primitive wrote NCHW to l->output: the blocked layout ob of the plan. */
static void fwd_output_to(const layer *l, int ob)
{
    size_t cnt = (size_t)l->outputs * l->batch;
    float *pl = get_slot(S_PLAIN, sizeof(float) * cnt);
    memcpy(pl, l->output, sizeof(float) * cnt);
    fk_nchw_to_blk(pl, l->output, l->batch, l->out_c, l->out_h, l->out_w, ob);
}

void fast_dnnl_conv_forward(dconv *e, const layer *l, const network *net, int ib, int ob)
{
    pthread_mutex_lock(&mu);
    thr_guard g = thr_set(e->nt);
    const float *in = fwd_input(l, net, &ib, e->f_src_blk);
    int direct_out = ob && ob == e->f_dst_blk;
    dnnl_exec_arg_t a[3] = {
        { DNNL_ARG_SRC, port_read(&e->f_src, in, ib != 0, S_SRC) },
        { DNNL_ARG_WEIGHTS, port_read(&e->f_wei, l->weights, 0, S_WEI) },
        { DNNL_ARG_DST, direct_out ? port_direct(&e->f_dst, l->output) : port_bind(&e->f_dst, l->output, S_DST) } };
    run(e->fwd, 3, a);
    if (!direct_out) {
        port_out(&e->f_dst);
        if (ob) fwd_output_to(l, ob);
    }
    thr_restore(g);
    pthread_mutex_unlock(&mu);
}

void fast_dnnl_conv_forward_fused(dconv *e, const layer *l, const network *net, int ib, int ob)
{
    int act = fast_dnnl_fused_act(l);
    pthread_mutex_lock(&mu);
    thr_guard g = thr_set(e->nt);
    /* BN with the rolling statistics as Darknet computes it, folded: y = conv(x)*a + b;
     * without BN the layer's own weights and biases */
    int n = l->n;
    const float *ws = l->weights, *bias = l->biases;
    if (l->batch_normalize) {
        size_t per = (size_t)l->nweights / n;
        float *w2 = get_slot(S_TMP, sizeof(float) * (size_t)l->nweights);
        float *b2 = get_slot(S_BIAS, sizeof(float) * 2 * (size_t)n), *a = b2 + n;
        fk_bn_fold(l, a, b2);
        for (int o = 0; o < n; o++) {
            const float *src = l->weights + o * per;
            float *dst = w2 + o * per;
            for (size_t k = 0; k < per; k++) dst[k] = src[k] * a[o];
        }
        ws = w2;
        bias = b2;
    }
    const float *in = fwd_input(l, net, &ib, e->e_src_blk);
    dnnl_memory_t src = port_read(&e->e_src, in, ib != 0, S_SRC);
    int direct_out = ob && ob == e->e_dst_blk[act];
    dnnl_memory_t dst = direct_out ? port_direct(&e->e_dst[act], l->output)
                                   : port_bind(&e->e_dst[act], l->output, S_DST);
    dnnl_exec_arg_t a[4] = {
        { DNNL_ARG_SRC, src },
        { DNNL_ARG_WEIGHTS, port_read(&e->e_wei, ws, 0, S_WEI) },
        { DNNL_ARG_BIAS, port_read(&e->e_bias, bias, 0, S_BIAS2) },
        { DNNL_ARG_DST, dst } };
    run(e->fused[act], 4, a);
    if (!direct_out) {
        port_out(&e->e_dst[act]);
        if (ob) fwd_output_to(l, ob);
    }
    thr_restore(g);
    pthread_mutex_unlock(&mu);
}

/* dst += src, n floats, the fast thread count */
static void add_into(float *restrict dst, const float *restrict src, size_t n)
{
    int nt = fast_nt(n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += 4096) {
        size_t e = c + 4096 < n ? c + 4096 : n;
#pragma omp simd
        for (size_t i = c; i < e; i++) dst[i] += src[i];
    }
}

/* Training: l->delta is in l's output layout ob, net->input and net->delta in the input
 * layout ib. The plan took both from this entry's FD_BWD blocks, so each is 0 or exactly the
 * primitives' layout. sole: l is the only reader of its input. */
void fast_dnnl_conv_backward(dconv *e, const layer *l, const network *net, int ib, int ob, int sole)
{
    pthread_mutex_lock(&mu);
    thr_guard g = thr_set(e->nt);
    /* weight gradient: added to weight_updates */
    dnnl_memory_t ddst = port_read(&e->w_ddst, l->delta, ob != 0, S_DST);
    dnnl_exec_arg_t w[3] = {
        { DNNL_ARG_SRC, port_read(&e->w_src, net->input, ib != 0, S_SRC) },
        { DNNL_ARG_DIFF_DST, ddst },
        { DNNL_ARG_DIFF_WEIGHTS, port_bind(&e->w_dwei, l->weight_updates, S_WEI) } };
    run(e->bww, 3, w);
    port_out(&e->w_dwei);
    if (net->delta) {
        /* input gradient: added to net.delta (size 1: written, as Darknet does) */
        dnnl_memory_t dd = e->w_ddst_reuse ? ddst   /* already in slot S_DST (or the user array) */
                                           : port_read(&e->d_ddst, l->delta, 0, S_DST);
        dnnl_memory_t ds;
        float *acc = NULL;
        if (!ib) {
            ds = port_bind(l->size == 1 ? &e->d_dsrc_set : &e->d_dsrc_add, net->delta, S_SRC);
        } else if (sole || l->size == 1) {   /* the only reader: net.delta is still zero */
            ds = port_direct(&e->d_dsrc_set, net->delta);
        } else {
            acc = get_slot(S_SRC, e->d_dsrc_set.bytes);
            ds = port_direct(&e->d_dsrc_set, acc);
        }
        dnnl_exec_arg_t d[3] = {
            { DNNL_ARG_DIFF_DST, dd },
            { DNNL_ARG_WEIGHTS, port_read(&e->d_wei, l->weights, 0, S_WEI) },
            { DNNL_ARG_DIFF_SRC, ds } };
        run(e->bwdd, 3, d);
        if (!ib) port_out(l->size == 1 ? &e->d_dsrc_set : &e->d_dsrc_add);
        else if (acc) add_into(net->delta, acc, (size_t)l->inputs * l->batch);
    }
    thr_restore(g);
    pthread_mutex_unlock(&mu);
}
