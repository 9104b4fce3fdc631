/* params.c: the layer-agnostic parameter view. Walks the network in save_weights order and
 * lists every trainable array (weights, biases, BN scales) and every BN rolling statistic,
 * with the sizes save_weights writes. Layer types are whitelisted: a parameterised layer we
 * do not know is refused, because silently skipping it would corrupt every flat vector. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host_private.h"

static const char *type_name(LAYER_TYPE t) {
    switch (t) {
    case CONVOLUTIONAL: return "convolutional"; case DECONVOLUTIONAL: return "deconvolutional";
    case CONNECTED: return "connected"; case MAXPOOL: return "maxpool"; case SOFTMAX: return "softmax";
    case DETECTION: return "detection"; case DROPOUT: return "dropout"; case CROP: return "crop";
    case ROUTE: return "route"; case COST: return "cost"; case NORMALIZATION: return "normalization";
    case AVGPOOL: return "avgpool"; case LOCAL: return "local"; case SHORTCUT: return "shortcut";
    case ACTIVE: return "activation"; case RNN: return "rnn"; case GRU: return "gru"; case LSTM: return "lstm";
    case CRNN: return "crnn"; case BATCHNORM: return "batchnorm"; case NETWORK: return "network";
    case XNOR: return "xnor"; case REGION: return "region"; case YOLO: return "yolo"; case ISEG: return "iseg";
    case REORG: return "reorg"; case UPSAMPLE: return "upsample"; case LOGXENT: return "logxent";
    case L2NORM: return "l2norm"; case BLANK: return "blank";
    }
    return "unknown";
}

typedef struct { host_net *h; int cap; int layer, sub; int oom; } walker;

/* The device twins of a block's arrays (GPU=1 builds, network on a GPU); NULL otherwise. */
static void device_arrays(const host_net *h, layer *l, hp_kind kind, float **dv, float **dg) {
    *dv = *dg = NULL;
#ifdef GPU
    if (h->gpu < 0) return;
    switch (kind) {
    case HP_WEIGHTS: *dv = l->weights_gpu; *dg = l->weight_updates_gpu; break;
    case HP_BIASES: *dv = l->biases_gpu; *dg = l->bias_updates_gpu; break;
    case HP_SCALES: *dv = l->scales_gpu; *dg = l->scale_updates_gpu; break;
    case HP_ROLLING_MEAN: *dv = l->rolling_mean_gpu; break;
    case HP_ROLLING_VAR: *dv = l->rolling_variance_gpu; break;
    }
#else
    (void)h; (void)l; (void)kind;
#endif
}

static void add(walker *w, layer *l, float *value, float *grad, size_t n, hp_kind kind, int bnc) {
    host_net *h = w->h;
    if (w->oom) return;
    if (h->nblocks == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        hp_block *b = realloc(h->blocks, cap * sizeof *h->blocks);
        if (b) h->blocks = b;
        layer **bl = realloc(h->block_layer, cap * sizeof *h->block_layer);
        if (bl) h->block_layer = bl;
        float **dv = realloc(h->dvalue, cap * sizeof *h->dvalue);
        if (dv) h->dvalue = dv;
        float **dg = realloc(h->dgrad, cap * sizeof *h->dgrad);
        if (dg) h->dgrad = dg;
        if (!b || !bl || !dv || !dg) { w->oom = 1; return; }   /* the old arrays stay valid for host_free */
        w->cap = cap;
    }
    hp_block *b = &h->blocks[h->nblocks];
    b->value = value; b->grad = grad; b->n = n; b->kind = kind;
    b->layer = w->layer; b->sub = w->sub; b->bn_channels = bnc;
    if (kind == HP_ROLLING_MEAN || kind == HP_ROLLING_VAR) { b->offset = h->nstats; h->nstats += n; }
    else { b->offset = h->nparams; h->nparams += n; }
    h->block_layer[h->nblocks] = l;
    device_arrays(h, l, kind, &h->dvalue[h->nblocks], &h->dgrad[h->nblocks]);
    h->nblocks++;
}

/* conv/deconv file order: biases, [scales, rolling_mean, rolling_variance], weights */
static void add_conv(walker *w, layer *l) {
    add(w, l, l->biases, l->bias_updates, l->n, HP_BIASES, 0);
    if (l->batch_normalize) {
        add(w, l, l->scales, l->scale_updates, l->n, HP_SCALES, 0);
        add(w, l, l->rolling_mean, NULL, l->n, HP_ROLLING_MEAN, l->n);
        add(w, l, l->rolling_variance, NULL, l->n, HP_ROLLING_VAR, l->n);
    }
    add(w, l, l->weights, l->weight_updates, l->nweights, HP_WEIGHTS, 0);
}

/* connected file order: biases, weights (inputs*outputs; nweights is 0), [scales, rolling] */
static void add_connected(walker *w, layer *l) {
    add(w, l, l->biases, l->bias_updates, l->outputs, HP_BIASES, 0);
    add(w, l, l->weights, l->weight_updates, (size_t)l->inputs * l->outputs, HP_WEIGHTS, 0);
    if (l->batch_normalize) {
        add(w, l, l->scales, l->scale_updates, l->outputs, HP_SCALES, 0);
        add(w, l, l->rolling_mean, NULL, l->outputs, HP_ROLLING_MEAN, l->outputs);
        add(w, l, l->rolling_variance, NULL, l->outputs, HP_ROLLING_VAR, l->outputs);
    }
}

static void add_subs(walker *w, layer **subs, int n, int conv) {
    for (int s = 0; s < n; s++) {
        w->sub = s;
        if (conv) add_conv(w, subs[s]); else add_connected(w, subs[s]);
    }
    w->sub = -1;
}

int host__enumerate(host_net *h, char *err) {
    walker w = { h, 0, 0, -1, 0 };
    network *net = h->net;
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        w.layer = i; w.sub = -1;
        if (l->dontsave) continue;
        switch (l->type) {
        case CONVOLUTIONAL:
        case DECONVOLUTIONAL:
            if (l->binary || l->xnor) {
                snprintf(err, DKMC_ERRLEN, "%s: layer %d (%s): binary/xnor weights are not supported",
                         h->cfg, i, type_name(l->type));
                return -1;
            }
            add_conv(&w, l);
            break;
        case CONNECTED: add_connected(&w, l); break;
        case LOCAL: {
            size_t nw = (size_t)l->size * l->size * l->c * l->n * l->out_w * l->out_h;
            add(&w, l, l->biases, l->bias_updates, l->outputs, HP_BIASES, 0);
            add(&w, l, l->weights, l->weight_updates, nw, HP_WEIGHTS, 0);
            break;
        }
        case RNN: { layer *s[] = { l->input_layer, l->self_layer, l->output_layer }; add_subs(&w, s, 3, 0); break; }
        case CRNN: { layer *s[] = { l->input_layer, l->self_layer, l->output_layer }; add_subs(&w, s, 3, 1); break; }
        case GRU: { layer *s[] = { l->wz, l->wr, l->wh, l->uz, l->ur, l->uh }; add_subs(&w, s, 6, 0); break; }
        case LSTM: { layer *s[] = { l->wi, l->wf, l->wo, l->wg, l->ui, l->uf, l->uo, l->ug }; add_subs(&w, s, 8, 0); break; }
        case BATCHNORM:
            snprintf(err, DKMC_ERRLEN, "%s: layer %d (batchnorm): the standalone [batchnorm] layer is broken on "
                     "CPU in this Darknet; use batch_normalize=1 in the [convolutional] or [connected] section",
                     h->cfg, i);
            return -1;
        case MAXPOOL: case SOFTMAX: case DROPOUT: case CROP: case ROUTE: case COST: case NORMALIZATION:
        case AVGPOOL: case SHORTCUT: case ACTIVE: case REORG: case UPSAMPLE: case L2NORM: case LOGXENT:
        case REGION: case YOLO: case DETECTION: case ISEG:
            break;  /* no trainable parameters (region/yolo biases are anchors) */
        default:
            snprintf(err, DKMC_ERRLEN, "%s: layer %d (%s): layer type not supported by the parameter view",
                     h->cfg, i, type_name(l->type));
            return -1;
        }
    }
    if (w.oom) { snprintf(err, DKMC_ERRLEN, "%s: out of memory for the parameter view", h->cfg); return -1; }
    return 0;
}

/* ---- flat access ---- */
static int is_stat(hp_kind k) { return k == HP_ROLLING_MEAN || k == HP_ROLLING_VAR; }

/* On a GPU the device arrays are the state: reads pull from them, writes push to them (and
 * keep the host copy in step, so that a later save without a pull is still right). */
static void get_kind(const host_net *h, float *flat, int stats) {
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        if (is_stat(b->kind) != stats) continue;
        if (h->dvalue[i]) host__block_pull(h, i, flat + b->offset);
        else memcpy(flat + b->offset, b->value, b->n * sizeof(float));
    }
}
static void set_kind(host_net *h, const float *flat, int stats) {
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        if (is_stat(b->kind) != stats) continue;
        memcpy(b->value, flat + b->offset, b->n * sizeof(float));
        if (h->dvalue[i]) host__block_push(h, i, b->value);
    }
}
void host_get_params(const host_net *h, float *flat) { get_kind(h, flat, 0); }
void host_set_params(host_net *h, const float *flat) { set_kind(h, flat, 0); }
void host_get_stats(const host_net *h, float *flat) { get_kind(h, flat, 1); }
void host_set_stats(host_net *h, const float *flat) { set_kind(h, flat, 1); }
void host_decay_mask(const host_net *h, unsigned char *mask) {
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        if (!is_stat(b->kind)) memset(mask + b->offset, b->kind == HP_WEIGHTS, b->n);
    }
}
size_t host_payload_len(const host_net *h) { return h->nparams + h->nstats; }

void host_pack_payload(const host_net *h, const float *params, const float *stats, float *payload) {
    size_t pos = 0;
    if (!params || !stats) host__pull_all(h);   /* the network's own values are asked for */
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        const float *src = is_stat(b->kind) ? stats : params;
        if (src) memcpy(payload + pos, src + b->offset, b->n * sizeof(float));
        else memcpy(payload + pos, b->value, b->n * sizeof(float));
        pos += b->n;
    }
}

void host_zero_grad(host_net *h) {
    if (h->gpu >= 0) { host__zero_grad_dev(h); return; }
    for (int i = 0; i < h->nblocks; i++)
        if (h->blocks[i].grad) memset(h->blocks[i].grad, 0, h->blocks[i].n * sizeof(float));
}
/* Darknet's accumulators hold -sum over the batch; we return d(mean loss)/dθ. */
void host_get_grad(const host_net *h, float *flat) {
    float s = -1.0f / h->net->batch;
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        if (is_stat(b->kind)) continue;
        if (h->dgrad[i]) {
            host__pull_grad(h, i, flat + b->offset);
            for (size_t j = 0; j < b->n; j++) flat[b->offset + j] *= s;
            continue;
        }
        for (size_t j = 0; j < b->n; j++) flat[b->offset + j] = s * b->grad[j];
    }
}
size_t host_nparams(const host_net *h) { return h->nparams; }
size_t host_nstats(const host_net *h) { return h->nstats; }
int host_nblocks(const host_net *h) { return h->nblocks; }
const hp_block *host_blocks(const host_net *h) { return h->blocks; }
