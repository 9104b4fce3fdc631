/* fast_chain.c: which layer outputs stay in oneDNN's blocked layout between layers.
 *
 * A oneDNN convolution reads and writes activations in a blocked layout (nChw8c on AVX2,
 * nChw16c on AVX-512: channel blocks of B interleaved per pixel). Darknet keeps NCHW, so
 * every convolution on oneDNN costs a reorder in and a reorder out: measured 17 % of a
 * ResNet-20 eval pass on a 2-core AVX2 EPYC (docs/performance.md). Where every reader of a
 * layer's output is one of ours that reads the blocked layout too, the output is left in it:
 *
 *   - a convolution on oneDNN's fused eval path whose primitive reads exactly that layout;
 *   - [shortcut] (elementwise, or option A by index arithmetic) and [maxpool]: they keep the
 *     layout they read (and write NCHW, converting, where a reader of theirs needs it);
 *   - [avgpool] (global average: its output of C floats per image is NCHW whatever it read).
 *
 * Any other reader (connected, route, dropout, softmax, cost, the host through net.output)
 * needs NCHW, and then the producer writes NCHW as before. The plan is made per network
 * (keyed by its layers array, its structure, train/eval, the thread count and the modes) on
 * first use; a layer asks it for the layout of its input and of its own output.
 *
 * In training, a layer's delta has the layout of its output; the BN of a convolution runs on
 * the blocked layout, and a maxpool's indexes point into the layout of its input.
 * Switch: DKCHAIN=0 in the environment or fast_set_chain(0) keeps every output NCHW.
 * fast_layer_output() gives any layer's output in NCHW. */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "fast.h"
#include "fast_internal.h"

static int chain_mode = -1;

void fast_set_chain(int on) { chain_mode = on < 0 ? -1 : !!on; }

int fast_chain_enabled(void)
{
    if (chain_mode < 0) {
        const char *e = getenv("DKCHAIN");
        chain_mode = !(e && (!strcmp(e, "0") || !strcmp(e, "off") || !strcmp(e, "no")));
    }
    return chain_mode;
}

enum { K_OTHER, K_CONV, K_SHORTCUT, K_MAXPOOL, K_AVGPOOL };

typedef struct {
    const layer *layers;
    int n, train, nthr, dnnl, par, used;
    unsigned long sig;
    unsigned char *blk;    /* per layer: 0 NCHW, else the channel block of its output */
    unsigned char *sole;   /* per layer: the next layer is the only reader of its output */
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

static int kind_of(const network *net, int i)
{
    const layer *l = &net->layers[i];
    switch (l->type) {
    case CONVOLUTIONAL: return K_CONV;
    case SHORTCUT: return l->index >= 0 && l->index < i ? K_SHORTCUT : K_OTHER;
    case MAXPOOL: return K_MAXPOOL;
    case AVGPOOL: return K_AVGPOOL;
    default: return K_OTHER;
    }
}

typedef struct {
    const network *net;
    int *kind, *src;
    unsigned char *out, *plain;
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
    case K_SHORTCUT: case K_MAXPOOL: case K_AVGPOOL: return 1;
    default: return 0;
    }
}

static void plan_build(plan *p, const network *net)
{
    int n = net->n;
    unsigned char *readers = calloc(n, 1);
    if (readers) {
        for (int j = 1; j < n; j++) {
            const layer *l = &net->layers[j];
            if (readers[j - 1] < 2) readers[j - 1]++;
            if (l->type == SHORTCUT && l->index >= 0 && l->index < n && readers[l->index] < 2) readers[l->index]++;
            for (int k = 0; l->type == ROUTE && k < l->n; k++)
                if (l->input_layers[k] >= 0 && l->input_layers[k] < n) readers[l->input_layers[k]] = 2;
        }
        for (int k = 0; k < n; k++) readers[k] = readers[k] == 1 && k + 1 < n;
    }
    free(p->sole);
    p->sole = readers;
    ctx c = { net, calloc(n, sizeof(int)), calloc(n, sizeof(int)), calloc(n, 1), calloc(n, 1), 1 };
    if (!c.kind || !c.src || !c.out || !c.plain) goto done;
    for (int i = 0; i < n; i++) {
        c.kind[i] = kind_of(net, i);
        if (c.kind[i] == K_CONV) {
            int sb = 0, db = 0;
            if (!fast_dnnl_chain_blocks(&net->layers[i], net, &sb, &db)) c.kind[i] = K_OTHER;
            c.src[i] = sb;
            c.out[i] = (unsigned char)db;
        }
    }
    while (c.changed) {
        c.changed = 0;
        for (int i = 0; i < n; i++) {   /* maxpool and shortcut keep the layout they read */
            int b = -1;
            if (c.kind[i] == K_MAXPOOL) b = i > 0 ? c.out[i - 1] : 0;
            if (c.kind[i] == K_SHORTCUT) {
                int a = c.out[i - 1], f = c.out[net->layers[i].index];
                b = a == f ? a : 0;   /* inputs in two layouts: both read as NCHW */
            }
            if (b >= 0 && !c.plain[i] && c.out[i] != b) {
                if (net->train && c.kind[i] == K_MAXPOOL && !b) demote(&c, i);   /* see demote */
                else { c.out[i] = (unsigned char)b; c.changed = 1; }
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
done:
    free(p->blk);
    p->blk = c.out;
    free(c.kind);
    free(c.src);
    free(c.plain);
}

static plan *find(const network *net, unsigned long sig)
{
    for (int i = 0; i < NPLAN; i++)
        if (plans[i].blk && plans[i].layers == net->layers && plans[i].n == net->n && plans[i].sig == sig &&
            plans[i].train == net->train && plans[i].nthr == fast_nthr && plans[i].dnnl == fast_dnnl_mode() &&
            plans[i].par == omp_in_parallel())
            return &plans[i];
    return NULL;
}

/* Layer k's entry of net's plan (built on first use): its layout, or with sole != 0 whether
 * the next layer is its only reader. 0 when nothing stays blocked in this mode. Read under
 * the lock: another thread may replace a plan. */
static int plan_get(const network *net, int k, int sole)
{
    if (!net->layers || k < 0 || k >= net->n || !fast_chain_enabled() || !fast_on || fast_dnnl_mode() == 0)
        return 0;
    unsigned long sig = net_sig(net);
    pthread_mutex_lock(&mu);
    plan *p = find(net, sig);
    if (!p) {
        pthread_mutex_unlock(&mu);
        plan fresh = { net->layers, net->n, net->train, fast_nthr, fast_dnnl_mode(), omp_in_parallel(), 0, sig,
                       NULL, NULL };
        plan_build(&fresh, net);   /* calls into fast_dnnl (its own lock): outside ours */
        pthread_mutex_lock(&mu);
        p = find(net, sig);   /* another thread may have built it meanwhile */
        if (p) {
            free(fresh.blk);
            free(fresh.sole);
        } else {
            p = &plans[0];   /* an empty slot, else the least recently used */
            for (int i = 1; i < NPLAN; i++)
                if (p->blk && (!plans[i].blk || plans[i].used < p->used)) p = &plans[i];
            free(p->blk);
            free(p->sole);
            *p = fresh;
        }
    }
    p->used = (int)++tick;
    const unsigned char *a = sole ? p->sole : p->blk;
    int v = a ? a[k] : 0;
    pthread_mutex_unlock(&mu);
    return v;
}

/* Is l the layer net->index names (the one being run), so that the plan applies? */
static int running(const network *net, const layer *l)
{
    int i = net->index;
    return net->layers && i >= 0 && i < net->n && net->layers[i].output == l->output;
}

/* ... and net->input the output of the layer before it? */
static int fed(const network *net, const layer *l)
{
    int i = net->index;
    return running(net, l) && i > 0 && net->input == net->layers[i - 1].output;
}

int fast_chain_out(const network *net, const layer *l) { return running(net, l) ? plan_get(net, net->index, 0) : 0; }

int fast_chain_in(const network *net, const layer *l) { return fed(net, l) ? plan_get(net, net->index - 1, 0) : 0; }

int fast_chain_in_sole(const network *net, const layer *l) { return fed(net, l) ? plan_get(net, net->index - 1, 1) : 0; }

int fast_chain_of(const network *net, const layer *l, int k)
{
    return running(net, l) && k < net->index ? plan_get(net, k, 0) : 0;
}

/* ------------------------------------------------------------------ layout conversions */

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

void fast_blk_to_nchw(const float *src, float *dst, int N, int C, int H, int W, int B)
{
    convert(src, dst, N, C, H, W, B, 1);
}

void fast_nchw_to_blk(const float *src, float *dst, int N, int C, int H, int W, int B)
{
    convert(src, dst, N, C, H, W, B, 0);
}

int fast_layer_layout(const network *net, int i) { return plan_get(net, i, 0); }

static void copy_out(const network *net, int i, const float *x, float *dst)
{
    const layer *l = &net->layers[i];
    int b = fast_layer_layout(net, i);
    if (b) fast_blk_to_nchw(x, dst, l->batch, l->out_c, l->out_h, l->out_w, b);
    else memcpy(dst, x, sizeof(float) * (size_t)l->outputs * l->batch);
}

void fast_layer_output(const network *net, int i, float *dst) { copy_out(net, i, net->layers[i].output, dst); }

void fast_layer_delta(const network *net, int i, float *dst) { copy_out(net, i, net->layers[i].delta, dst); }
