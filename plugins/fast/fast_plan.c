/* fast_plan.c: one plan per network, the single place that decides what each layer runs.
 *
 * For every layer the plan records (fast_step, fast_internal.h):
 *   - a convolution's backend, forward and backward: im2col + OpenBLAS (FB_GEMM), oneDNN
 *     (FB_DNNL, with the primitives it created), or one GEMM over the batch on tiny maps
 *     (FB_DENSE); in eval mode whether conv + BN + activation run as one call (fused);
 *   - the layout of each layer output (and, in training, of its delta): NCHW, or the blocked
 *     layout nChwBc in which oneDNN's primitives read and write activations, with B whatever
 *     the primitives report (nChw8c with AVX2; NHWC, i.e. B = C, or nChw16c with AVX-512).
 * The layer functions (fast_layers.c) dispatch on it and never choose again.
 *
 * The layout chain: Darknet keeps NCHW, so a convolution on oneDNN costs a reorder in and a
 * reorder out (17 % of a ResNet-20 eval pass on a 2-core AVX2 EPYC, docs/performance.md).
 * An output stays blocked where every reader of it reads that layout:
 *   - a oneDNN convolution (eval: fused; training: with BN, forward and backward primitives
 *     agreeing) whose primitive reads exactly that layout;
 *   - a tiny-map convolution under the same conditions (it reads any layout and writes its
 *     input's block, or NHWC after NHWC);
 *   - [shortcut] and [maxpool] (they keep the layout they read; a shortcut reads the layer it
 *     adds in whatever layout that has) and [avgpool] (its C floats per image are NCHW).
 * Any other reader (connected, route, dropout, softmax, cost, the host through net.output)
 * needs NCHW, and then the producer writes NCHW. Only blocks of 8 or more channels (B % 8
 * == 0) are kept: the blocked BN and maxpool kernels work 8 or 16 lanes at a time.
 * In training a layer's delta has its output's layout, the BN of a convolution runs on it,
 * and a maxpool's indexes point into its input: its input and output share a layout.
 *
 * A plan is keyed by the layers array, a hash of the structure (output pointers included, so
 * a freed network's address reused by another is not mistaken for it), train/eval, the
 * thread count, the switches and whether it runs inside a parallel region; 8 are cached,
 * least recently used replaced. It applies to the layer net->index names (the one
 * forward_network/backward_network is running); a layer run on its own gets its backends by
 * the same rule (choose) and NCHW. */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "fast.h"
#include "fast_internal.h"
#include "fast_kern.h"

enum { K_OTHER, K_CONV, K_DENSE, K_SHORTCUT, K_MAXPOOL, K_AVGPOOL };

typedef struct {
    const layer *layers;
    int n, train, nthr, par, used;
    fast_switches sw;
    unsigned long sig;
    fast_step *step;
} plan;

#define NPLAN 8
static plan plans[NPLAN];
static unsigned tick;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned long mix(unsigned long h, unsigned long v) { return (h ^ v) * 1099511628211ul; }

/* Everything the plan depends on, so that a network freed and another allocated at the same
 * address is not taken for the first. */
static unsigned long net_sig(const network *net)
{
    unsigned long h = 14695981039346656037ul;
    for (int i = 0; i < net->n; i++) {
        const layer *l = &net->layers[i];
        const int v[] = { l->type, l->batch, l->w, l->h, l->c, l->out_w, l->out_h, l->out_c, l->n,
                          l->size, l->stride, l->pad, l->batch_normalize, l->activation, l->index,
                          l->groups, l->xnor, l->binary };
        for (size_t k = 0; k < sizeof v / sizeof *v; k++) h = mix(h, (unsigned)v[k]);
        h = mix(h, (unsigned long)(size_t)l->output);
        for (int k = 0; l->type == ROUTE && k < l->n; k++) h = mix(h, (unsigned)l->input_layers[k]);
    }
    return mix(h, (unsigned long)(size_t)net->output);
}

/* The backends of convolution l in this mode (the one rule; layouts NCHW). *src, *dst: the
 * blocks of the oneDNN primitives that will run it (0 when none or another layout). */
static fast_step choose(const layer *l, int train, int *src, int *dst)
{
    fast_step s = { 0 };
    int sb = 0, db = 0;
    *src = *dst = 0;
    if (l->type != CONVOLUTIONAL || ((l->xnor || l->binary) && FAST_ORIG(forward_convolutional_layer)))
        return s;   /* FB_LIBRARY */
    int dense = fast_dense_use(l);
    if (!train && dense && fk_act_supported(l->activation)) {
        s.fwd = FB_DENSE;
        s.fused = 1;
        return s;
    }
    if (!train && (s.dn = fast_dnnl_prepare(l, FD_FUSED, &sb, &db))) {
        s.fwd = FB_DNNL;
        s.fused = 1;
        *src = sb;
        *dst = db;
        return s;
    }
    if (dense) {
        s.fwd = s.bwd = FB_DENSE;
        return s;
    }
    s.dn = fast_dnnl_prepare(l, FD_FWD, &sb, &db);
    s.fwd = s.dn ? FB_DNNL : FB_GEMM;
    s.bwd = FB_GEMM;
    if (train && s.dn) {
        struct dconv *b = fast_dnnl_prepare(l, FD_BWD, &sb, &db);   /* the same entry */
        if (b) s.bwd = FB_DNNL;
    }
    if (s.fwd == FB_DNNL && (!train || s.bwd == FB_DNNL)) {
        *src = sb;
        *dst = db;
    }
    return s;
}

/* B is a layout a tensor of C channels can be kept in between layers */
static int keepable(int B, int C) { return B > 0 && B % 8 == 0 && C % B == 0; }

typedef struct {
    const network *net;
    int *kind, *src, *out;
    unsigned char *plain;
    int changed;
} ctx;

/* Layer k's output must be NCHW (a shortcut or maxpool then converts what it reads; in
 * training a maxpool cannot, its indexes point into its input: that must be NCHW too). */
static void demote(ctx *c, int k)
{
    if (k < 0 || c->plain[k]) return;
    c->plain[k] = 1;
    if (c->out[k]) c->changed = 1;
    c->out[k] = 0;
    if (c->net->train && c->kind[k] == K_MAXPOOL) demote(c, k - 1);
}

/* Can layer j read input k (its net.input, or a shortcut's other input) in layout b? */
static int accepts(const ctx *c, int j, int k, int b)
{
    switch (c->kind[j]) {
    case K_CONV: return k == j - 1 && c->src[j] == b;
    case K_DENSE: return k == j - 1;
    case K_SHORTCUT: case K_MAXPOOL: case K_AVGPOOL: return 1;
    default: return 0;
    }
}

/* The layout a tiny-map convolution writes after reading b: b itself where its channels
 * allow it, else NHWC after NHWC */
static int dense_out(const layer *l, int b)
{
    if (!b) return 0;
    int o = l->out_c % b == 0 ? b : b == l->c ? l->out_c : 0;
    return keepable(o, l->out_c) ? o : 0;
}

static void plan_build(plan *p, const network *net)
{
    int n = net->n;
    fast_step *st = calloc(n, sizeof *st);
    unsigned char *readers = calloc(n, 1);
    ctx c = { net, calloc(n, sizeof(int)), calloc(n, sizeof(int)), calloc(n, sizeof(int)), calloc(n, 1), 1 };
    if (!st || !readers || !c.kind || !c.src || !c.out || !c.plain) {
        free(st);
        st = NULL;
        goto done;
    }
    for (int j = 1; j < n; j++) {
        const layer *l = &net->layers[j];
        if (readers[j - 1] < 2) readers[j - 1]++;
        if (l->type == SHORTCUT && l->index >= 0 && l->index < n && readers[l->index] < 2) readers[l->index]++;
        for (int k = 0; l->type == ROUTE && k < l->n; k++)
            if (l->input_layers[k] >= 0 && l->input_layers[k] < n) readers[l->input_layers[k]] = 2;
    }
    for (int i = 0; i < n; i++) {
        const layer *l = &net->layers[i];
        int sb = 0, db = 0;
        st[i] = choose(l, net->train, &sb, &db);
        switch (l->type) {
        case CONVOLUTIONAL:
            /* on the blocked layout: eval fused, training with BN (bias and BN-less paths are NCHW) */
            if (!(net->train ? l->batch_normalize : st[i].fused)) break;
            if (st[i].fwd == FB_DENSE) c.kind[i] = K_DENSE;
            if (st[i].fwd == FB_DNNL && (sb || db)) {
                c.kind[i] = K_CONV;
                c.src[i] = sb;   /* read directly where its input is kept in it */
                c.out[i] = keepable(db, l->out_c) ? db : 0;
            }
            break;
        case SHORTCUT: if (l->index >= 0 && l->index < i) c.kind[i] = K_SHORTCUT; break;
        case MAXPOOL: c.kind[i] = K_MAXPOOL; break;
        case AVGPOOL: c.kind[i] = K_AVGPOOL; break;
        default: break;
        }
    }
    if (!fast_sw.chain || !fast_sw.dnnl) goto fill;
    while (c.changed) {
        c.changed = 0;
        for (int i = 0; i < n; i++) {   /* maxpool, shortcut and dense keep the layout they read */
            int b = -1;
            const layer *l = &net->layers[i];
            if (c.kind[i] == K_MAXPOOL) b = i > 0 ? c.out[i - 1] : 0;
            if (c.kind[i] == K_DENSE) b = i > 0 ? dense_out(l, c.out[i - 1]) : 0;
            if (c.kind[i] == K_SHORTCUT) b = c.out[i - 1];   /* the added layer: any layout */
            if (b >= 0 && !c.plain[i] && c.out[i] != b) {
                if (net->train && c.kind[i] == K_MAXPOOL && !b) demote(&c, i);   /* see demote */
                else { c.out[i] = b; c.changed = 1; }
            }
        }
        for (int j = 0; j < n; j++) {
            const layer *l = &net->layers[j];
            if (j > 0 && c.out[j - 1] && !accepts(&c, j, j - 1, c.out[j - 1])) demote(&c, j - 1);
            if (c.kind[j] == K_SHORTCUT) continue;   /* both inputs: the same-layout rule above */
            if (l->type == SHORTCUT && l->index >= 0 && l->index < n) demote(&c, l->index);
            for (int k = 0; l->type == ROUTE && k < l->n; k++)
                if (l->input_layers[k] >= 0 && l->input_layers[k] < n) demote(&c, l->input_layers[k]);
        }
        demote(&c, n - 1);
        for (int i = 0; i < n; i++)
            if (net->layers[i].output == net->output) demote(&c, i);
    }
fill:
    if (!fast_sw.chain || !fast_sw.dnnl) memset(c.out, 0, sizeof(int) * n);
    for (int i = 0; i < n; i++) {
        const layer *l = &net->layers[i];
        st[i].out = c.out[i];
        st[i].in = i > 0 && net->layers[i - 1].output ? c.out[i - 1] : 0;
        st[i].from = l->type == SHORTCUT && l->index >= 0 && l->index < n ? c.out[l->index] : 0;
        st[i].sole = i > 0 && readers[i - 1] == 1;
    }
done:
    p->step = st;
    free(readers);
    free(c.kind);
    free(c.src);
    free(c.out);
    free(c.plain);
}

static int same_sw(const fast_switches *a, const fast_switches *b) { return !memcmp(a, b, sizeof *a); }

static plan *find(const network *net, unsigned long sig)
{
    for (int i = 0; i < NPLAN; i++)
        if (plans[i].step && plans[i].layers == net->layers && plans[i].n == net->n && plans[i].sig == sig &&
            plans[i].train == net->train && plans[i].nthr == fast_nthr && same_sw(&plans[i].sw, &fast_sw) &&
            plans[i].par == omp_in_parallel())
            return &plans[i];
    return NULL;
}

/* Layer k's step in net's plan (built on first use); copied under the lock, since another
 * thread may replace a plan. 0 on out of memory: the caller runs the layer on its own. */
static int plan_get(const network *net, int k, fast_step *out)
{
    if (!net->layers || k < 0 || k >= net->n) return 0;
    unsigned long sig = net_sig(net);
    pthread_mutex_lock(&mu);
    plan *p = find(net, sig);
    if (!p) {
        pthread_mutex_unlock(&mu);
        plan fresh = { net->layers, net->n, net->train, fast_nthr, omp_in_parallel(), 0, fast_sw, sig, NULL };
        plan_build(&fresh, net);   /* calls into fast_dnnl (its own lock): outside ours */
        if (!fresh.step) return 0;
        pthread_mutex_lock(&mu);
        p = find(net, sig);   /* another thread may have built it meanwhile */
        if (p) {
            free(fresh.step);
        } else {
            p = &plans[0];   /* an empty slot, else the least recently used */
            for (int i = 1; i < NPLAN; i++)
                if (p->step && (!plans[i].step || plans[i].used < p->used)) p = &plans[i];
            free(p->step);
            *p = fresh;
        }
    }
    p->used = (int)++tick;
    *out = p->step[k];
    pthread_mutex_unlock(&mu);
    return 1;
}

/* Is l the layer net->index names (the one being run), so that the plan applies? */
static int running(const network *net, const layer *l)
{
    int i = net->index;
    return net->layers && i >= 0 && i < net->n && net->layers[i].output == l->output;
}

fast_step fast_step_of(const network *net, const layer *l)
{
    fast_step s;
    fast_lazy_init();
    if (running(net, l) && plan_get(net, net->index, &s)) {
        /* net->input is the previous layer's output only in forward_network's order */
        if (!(net->index > 0 && net->input == net->layers[net->index - 1].output)) s.in = 0, s.sole = 0;
        return s;
    }
    int sb, db;
    return choose(l, net->train, &sb, &db);
}

int fast_layer_layout(const network *net, int i)
{
    fast_step s;
    fast_lazy_init();
    return fast_on && plan_get(net, i, &s) ? s.out : 0;
}

void fast_layer_backends(const network *net, int i, int *fwd, int *bwd, int *fused)
{
    fast_step s = { 0 };
    fast_lazy_init();
    if (!fast_on || !plan_get(net, i, &s)) memset(&s, 0, sizeof s);
    if (fwd) *fwd = s.fwd;
    if (bwd) *bwd = s.bwd;
    if (fused) *fused = s.fused;
}

static void copy_out(const network *net, int i, const float *x, float *dst)
{
    const layer *l = &net->layers[i];
    int b = fast_layer_layout(net, i);
    if (b) fk_blk_to_nchw(x, dst, l->batch, l->out_c, l->out_h, l->out_w, b);
    else memcpy(dst, x, sizeof(float) * (size_t)l->outputs * l->batch);
}

void fast_layer_output(const network *net, int i, float *dst) { copy_out(net, i, net->layers[i].output, dst); }

void fast_layer_delta(const network *net, int i, float *dst) { copy_out(net, i, net->layers[i].delta, dst); }
