/* params.c of the second host: the parameter view over AlexeyAB's layer structs, in its
 * save_weights_upto order (convolutional: biases, [scales, rolling mean, rolling variance],
 * weights; connected: biases, weights, [scales, rolling]). Only the layers whose arrays we
 * have checked are listed; a parameterised layer we do not know is refused (a silent skip
 * would shift every flat vector). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host_private.h"

typedef struct { host_net *h; int cap; int layer; int oom; } walker;

static void add(walker *w, layer *l, float *value, float *grad, size_t n, hp_kind kind, int bnc) {
    host_net *h = w->h;
    if (w->oom) return;
    if (h->nblocks == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        hp_block *b = realloc(h->blocks, cap * sizeof *h->blocks);
        if (b) h->blocks = b;
        layer **bl = realloc(h->block_layer, cap * sizeof *h->block_layer);
        if (bl) h->block_layer = bl;
        if (!b || !bl) { w->oom = 1; return; }
        w->cap = cap;
    }
    hp_block *b = &h->blocks[h->nblocks];
    b->value = value; b->grad = grad; b->n = n; b->kind = kind;
    b->layer = w->layer; b->sub = -1; b->bn_channels = bnc;
    if (kind == HP_ROLLING_MEAN || kind == HP_ROLLING_VAR) { b->offset = h->nstats; h->nstats += n; }
    else { b->offset = h->nparams; h->nparams += n; }
    h->block_layer[h->nblocks] = l;
    h->nblocks++;
}

/* layer i's section as the cfg names it ("[crop]"), for messages */
static const char *sec_name(const host_cfg_info *info, int i) {
    return info && info->name && i < info->nlayers ? info->name[i] : "(a layer)";
}

int host__enumerate(host_net *h, const host_cfg_info *info, char *err) {
    walker w = { h, 0, 0, 0 };
    network *net = h->net;
    h->bn_keep = 0;
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        w.layer = i;
        if (l->dontsave) continue;
        switch (l->type) {
        case CONVOLUTIONAL:
            if (l->binary || l->xnor || l->share_layer) {
                snprintf(err, DKMC_ERRLEN, "%s: layer %d [convolutional]: binary, xnor or shared weights are not supported",
                         h->cfg, i);
                return -1;
            }
            if (!l->weight_updates || (l->batch_normalize && !l->mean)) {
                /* the parser builds the layers before the last stopbackward=1 with train = 0:
                 * no updates, no batch mean; the library's CPU training forward then calls
                 * mean_cpu into NULL (a SIGSEGV; yolov4-p5-frozen.cfg) */
                snprintf(err, DKMC_ERRLEN, "%s: layer %d [convolutional] is frozen (a later layer has stopbackward=1): this "
                         "library builds it without training buffers and its CPU training crashes on it; frozen layers are "
                         "not supported on this host", h->cfg, i);
                return -1;
            }
            add(&w, l, l->biases, l->bias_updates, l->n, HP_BIASES, 0);
            if (l->batch_normalize) {
                add(&w, l, l->scales, l->scale_updates, l->n, HP_SCALES, 0);
                add(&w, l, l->rolling_mean, NULL, l->n, HP_ROLLING_MEAN, l->n);
                add(&w, l, l->rolling_variance, NULL, l->n, HP_ROLLING_VAR, l->n);
                if (h->bn_keep < 0.9) h->bn_keep = 0.9;    /* forward_batchnorm_layer: .9 old + .1 batch */
            }
            add(&w, l, l->weights, l->weight_updates, l->nweights, HP_WEIGHTS, 0);
            break;
        case CONNECTED:
            add(&w, l, l->biases, l->bias_updates, l->outputs, HP_BIASES, 0);
            add(&w, l, l->weights, l->weight_updates, (size_t)l->inputs * l->outputs, HP_WEIGHTS, 0);
            if (l->batch_normalize) {
                add(&w, l, l->scales, l->scale_updates, l->outputs, HP_SCALES, 0);
                add(&w, l, l->rolling_mean, NULL, l->outputs, HP_ROLLING_MEAN, l->outputs);
                add(&w, l, l->rolling_variance, NULL, l->outputs, HP_ROLLING_VAR, l->outputs);
                if (h->bn_keep < 0.95) h->bn_keep = 0.95;  /* forward_connected_layer: .95 + .05 */
            }
            break;
        case SHORTCUT:
            if (l->nweights > 0) {
                snprintf(err, DKMC_ERRLEN, "%s: layer %d [shortcut]: a weighted shortcut (weights_type=) is not supported by this host's parameter view yet", h->cfg, i);
                return -1;
            }
            break;
        case MAXPOOL: case LOCAL_AVGPOOL: case SOFTMAX: case DROPOUT: case CROP: case NORMALIZATION: case ROUTE: case COST:
        case AVGPOOL: case ACTIVE:
        case REORG: case REORG_OLD: case UPSAMPLE: case L2NORM: case LOGXENT: case EMPTY: case BLANK: case SCALE_CHANNELS:
        case SAM: case YOLO: case GAUSSIAN_YOLO: case REGION: case DETECTION:
            break;   /* no trainable parameters (yolo/region biases are anchors) */
        default:
            snprintf(err, DKMC_ERRLEN, "%s: layer %d %s is not supported by this host's parameter view yet",
                     h->cfg, i, sec_name(info, i));
            return -1;
        }
    }
    if (w.oom) { snprintf(err, DKMC_ERRLEN, "%s: out of memory for the parameter view", h->cfg); return -1; }
    return 0;
}

static int is_stat(hp_kind k) { return k == HP_ROLLING_MEAN || k == HP_ROLLING_VAR; }
static void get_kind(const host_net *h, float *flat, int stats) {
    for (int i = 0; i < h->nblocks; i++)
        if (is_stat(h->blocks[i].kind) == stats) memcpy(flat + h->blocks[i].offset, h->blocks[i].value, h->blocks[i].n * sizeof(float));
}
static void set_kind(host_net *h, const float *flat, int stats) {
    for (int i = 0; i < h->nblocks; i++)
        if (is_stat(h->blocks[i].kind) == stats) memcpy(h->blocks[i].value, flat + h->blocks[i].offset, h->blocks[i].n * sizeof(float));
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
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        const float *src = is_stat(b->kind) ? stats : params;
        memcpy(payload + pos, src ? src + b->offset : b->value, b->n * sizeof(float));
        pos += b->n;
    }
}
void host_zero_grad(host_net *h) {
    for (int i = 0; i < h->nblocks; i++)
        if (h->blocks[i].grad) memset(h->blocks[i].grad, 0, h->blocks[i].n * sizeof(float));
}
/* the library's accumulators hold -sum over the batch (delta = truth - p); we return d(mean loss)/dθ */
void host_get_grad(const host_net *h, float *flat) {
    float s = -1.0f / h->net->batch;
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        if (is_stat(b->kind)) continue;
        for (size_t j = 0; j < b->n; j++) flat[b->offset + j] = s * b->grad[j];
    }
}
size_t host_nparams(const host_net *h) { return h->nparams; }
size_t host_nstats(const host_net *h) { return h->nstats; }
int host_nblocks(const host_net *h) { return h->nblocks; }
const hp_block *host_blocks(const host_net *h) { return h->blocks; }
