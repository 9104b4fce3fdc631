/* net.c: loading a network from a cfg, .weights I/O through the parameter view, the batch
 * step (forward + backward in train mode), eval-mode prediction, exact BN recompute and
 * Darknet's learning-rate policy. Darknet's parser exits on some errors and prints its layer
 * table on stderr; we validate the cfg first so that bad input gets a one-line error, and
 * capture the parser's chatter (replayed on stderr only if the parser exits). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host_private.h"
#include "wspace.h"

static const char *known_sections[] = {
    "[shortcut]", "[crop]", "[cost]", "[detection]", "[region]", "[yolo]", "[iseg]", "[local]",
    "[conv]", "[convolutional]", "[deconv]", "[deconvolutional]", "[activation]", "[logistic]",
    "[l2norm]", "[net]", "[network]", "[crnn]", "[gru]", "[lstm]", "[rnn]", "[conn]", "[connected]",
    "[max]", "[maxpool]", "[reorg]", "[avg]", "[avgpool]", "[dropout]", "[lrn]", "[normalization]",
    "[batchnorm]", "[soft]", "[softmax]", "[route]", "[upsample]", NULL };

/* Our own pass over the cfg text: the file opens, the first section is [net], every
 * section is one Darknet knows, and options are key=value. Darknet would exit, crash or
 * build a layer with no forward function on each of these. */
static int validate_cfg(const char *path, char *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) { snprintf(err, HOST_ERRLEN, "%s: cannot open cfg: %s", path, strerror(errno)); return -1; }
    char line[4096];
    int lineno = 0, nsections = 0, rc = 0, layers = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char *s = line, *e;
        while (isspace((unsigned char)*s)) s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
        if (!*s || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *p = s; for (; *p; p++) *p = (char)tolower((unsigned char)*p);
            int ok = 0;
            for (int i = 0; known_sections[i]; i++) if (!strcmp(s, known_sections[i])) ok = 1;
            if (!ok) { snprintf(err, HOST_ERRLEN, "%s:%d: unknown section %s", path, lineno, s); rc = -1; break; }
            int is_net = !strcmp(s, "[net]") || !strcmp(s, "[network]");
            if (nsections == 0 && !is_net) {
                snprintf(err, HOST_ERRLEN, "%s:%d: the first section must be [net], found %s", path, lineno, s);
                rc = -1; break;
            }
            if (nsections > 0 && is_net) {
                snprintf(err, HOST_ERRLEN, "%s:%d: a second [net] section", path, lineno); rc = -1; break;
            }
            if (!is_net) layers++;
            nsections++;
        } else {
            if (nsections == 0) {
                snprintf(err, HOST_ERRLEN, "%s:%d: option before the [net] section", path, lineno); rc = -1; break;
            }
            if (!strchr(s, '=')) {
                snprintf(err, HOST_ERRLEN, "%s:%d: expected key=value, found '%s'", path, lineno, s); rc = -1; break;
            }
        }
    }
    fclose(fp);
    if (!rc && nsections == 0) { snprintf(err, HOST_ERRLEN, "%s: empty cfg (no [net] section)", path); rc = -1; }
    if (!rc && layers == 0) { snprintf(err, HOST_ERRLEN, "%s: the cfg has no layers", path); rc = -1; }
    return rc;
}

/* The parser's stderr goes to a temp file; if Darknet exits inside the parser, the atexit
 * hook replays it so the user still sees why. */
static FILE *g_capture;
static int g_saved_stderr = -1;
static void replay_capture(void) {
    if (g_saved_stderr < 0 || !g_capture) return;
    fflush(stderr);
    dup2(g_saved_stderr, 2);
    rewind(g_capture);
    char buf[4096]; size_t n;
    while ((n = fread(buf, 1, sizeof buf, g_capture)) > 0) fwrite(buf, 1, n, stderr);
}
static void capture_begin(void) {
    static int registered;
    if (!registered) { atexit(replay_capture); registered = 1; }
    fflush(stderr);
    g_capture = tmpfile();
    if (!g_capture) return;
    g_saved_stderr = dup(2);
    dup2(fileno(g_capture), 2);
}
static void capture_end(int replay) {
    if (g_saved_stderr < 0) return;
    fflush(stderr);
    dup2(g_saved_stderr, 2);
    if (replay) { rewind(g_capture); char b[4096]; size_t n; while ((n = fread(b, 1, sizeof b, g_capture)) > 0) fwrite(b, 1, n, stderr); }
    close(g_saved_stderr);
    g_saved_stderr = -1;
    fclose(g_capture);
    g_capture = NULL;
}

host_net *host_load(const char *cfg, int batch, char *err) {
#ifdef GPU
    /* The parameter view reads and writes the host copies; device transfers come with the GPU
     * issue. Refuse rather than train on stale device weights. */
    snprintf(err, HOST_ERRLEN, "%s: this build was compiled with GPU=1, and the GPU path is not implemented yet; build with GPU=0 against a CPU libdarknet", cfg);
    return NULL;
#endif
    if (validate_cfg(cfg, err)) return NULL;
    host_net *h = calloc(1, sizeof *h);
    snprintf(h->cfg, sizeof h->cfg, "%s", cfg);
    capture_begin();
    h->net = parse_network_cfg((char *)cfg);
    capture_end(getenv("DKMC_VERBOSE") != NULL);
    if (!h->net || h->net->n < 1) { snprintf(err, HOST_ERRLEN, "%s: Darknet could not build the network", cfg); free(h); return NULL; }
    if (batch > 0 && batch != h->net->batch) {
        /* Rebuilding is the only way to change buffer sizes in Darknet: re-parse with a patched
         * copy would be heavy; set_batch_network only shrinks safely, so grow by re-parsing. */
        if (batch < h->net->batch) set_batch_network(h->net, batch);
        else {
            snprintf(err, HOST_ERRLEN, "%s: batch %d is larger than the cfg's batch %d (edit batch= in the cfg)",
                     cfg, batch, h->net->batch);
            free_network(h->net); free(h); return NULL;
        }
    }
    h->full_batch = h->net->batch;
    if (h->net->layers[h->net->n - 1].type != SOFTMAX) {
        snprintf(err, HOST_ERRLEN, "%s: the last layer must be [softmax] (classification networks only)", cfg);
        free_network(h->net); free(h); return NULL;
    }
    for (int i = 0; i < h->net->n; i++)
        if (h->net->layers[i].type == COST) {
            snprintf(err, HOST_ERRLEN, "%s: layer %d ([cost]) after [softmax] doubles the gradient; use [softmax] alone", cfg, i);
            free_network(h->net); free(h); return NULL;
        }
    if (host__enumerate(h, err)) { host_free(h); return NULL; }
    h->sections = read_cfg((char *)cfg);
    return h;
}

void host_free(host_net *h) {
    if (!h) return;
    if (h->sections) {
        for (node *n = h->sections->front; n; n = n->next) free_section((dk_section *)n->val);
        free_list(h->sections);
    }
    if (h->net) free_network(h->net);
    free(h->blocks);
    free(h->block_layer);
    free(h);
}

int host_load_weights(host_net *h, const char *path, char *err) {
    size_t len = host_payload_len(h);
    float *payload = malloc(len * sizeof(float) + 1);
    ws_weights_header hdr;
    if (ws_weights_read(path, payload, len, &hdr, err)) {
        /* name the cfg too: the usual cause is a weights file of another network */
        size_t l = strlen(err);
        if (l + 40 < HOST_ERRLEN && strstr(err, "floats")) snprintf(err + l, HOST_ERRLEN - l, " (cfg %s)", h->cfg);
        free(payload); return -1;
    }
    size_t pos = 0;
    for (int i = 0; i < h->nblocks; i++) {
        memcpy(h->blocks[i].value, payload + pos, h->blocks[i].n * sizeof(float));
        pos += h->blocks[i].n;
    }
    *h->net->seen = (size_t)hdr.seen;
    free(payload);
    return 0;
}

int host_save_weights(host_net *h, const char *path, char *err) {
    size_t len = host_payload_len(h);
    float *payload = malloc(len * sizeof(float) + 1);
    host_pack_payload(h, NULL, NULL, payload);
    int rc = ws_weights_write(path, payload, len, *h->net->seen, err);
    free(payload);
    return rc;
}

int host_batch(const host_net *h) { return h->net->batch; }
int host_inputs(const host_net *h) { return h->net->inputs; }
int host_outputs(const host_net *h) { return h->net->outputs; }
int host_width(const host_net *h) { return h->net->w; }
int host_height(const host_net *h) { return h->net->h; }
int host_channels(const host_net *h) { return h->net->c; }
int host_has_bn(const host_net *h) { return h->nstats > 0; }

static int argmax(const float *a, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (a[i] > a[b]) b = i;
    return b;
}

float host_step(host_net *h, const float *x, const float *y, int *correct) {
    network *net = h->net;
    int B = net->batch, k = net->outputs;
    host_zero_grad(h);
    memcpy(net->input, x, (size_t)B * net->inputs * sizeof(float));
    memcpy(net->truth, y, (size_t)B * net->truths * sizeof(float));
    net->train = 1;
    net->delta = NULL;
    forward_network(net);
    backward_network(net);
    /* The mean NLL from the softmax output, with the probability clamped at 1e-30 as in
     * evaluation: Darknet's own cost is -log(p) unclamped, so one confidently wrong image
     * early in training makes it +inf although the gradient (truth - p) is finite. A NaN
     * output still gives NaN. */
    int c = 0;
    double nll = 0;
    for (int i = 0; i < B; i++) {
        const float *p = net->output + (size_t)i * k;
        int lab = argmax((float *)y + (size_t)i * k, k);
        c += argmax((float *)p, k) == lab;
        nll -= isnan(p[lab]) ? NAN : log(p[lab] > 1e-30f ? p[lab] : 1e-30);
    }
    if (correct) *correct = c;
    return (float)(nll / B);
}

void host_predict(host_net *h, const float *x, int n, float *probs) {
    network *net = h->net;
    int B = h->full_batch;
    if (n > B) n = B;
    if (net->batch != n) set_batch_network(net, n);
    memcpy(net->input, x, (size_t)n * net->inputs * sizeof(float));
    float *truth = net->truth;
    net->truth = NULL;            /* softmax then skips the loss */
    net->train = 0;
    net->delta = NULL;
    forward_network(net);
    net->truth = truth;
    memcpy(probs, net->output, (size_t)n * net->outputs * sizeof(float));
    if (net->batch != B) set_batch_network(net, B);
}

/* Exact BN statistics for the current weights: pool every BN layer's per-channel batch
 * mean and E[x^2] over all batches (weighted by batch size), then store the pooled mean and
 * population variance in rolling_mean/rolling_variance. Darknet's l.variance is the unbiased
 * batch variance, so E[x^2]_b = var_b (M-1)/M + mean_b^2 with M = batch * spatial. */
void host_bn_recompute(host_net *h, host_batch_fn fn, void *ctx, int nbatches) {
    network *net = h->net;
    int B = h->full_batch;
    int nbn = 0;
    for (int i = 0; i < h->nblocks; i++) if (h->blocks[i].kind == HP_ROLLING_MEAN) nbn++;
    if (!nbn) return;
    double *s1 = calloc(h->nstats, sizeof(double)), *s2 = calloc(h->nstats, sizeof(double));
    double total = 0;
    float *truth = net->truth;
    net->truth = NULL;
    for (int b = 0; b < nbatches; b++) {
        int n = fn(ctx, b, net->input, B);
        if (n <= 0) break;
        if (n != net->batch) set_batch_network(net, n);
        net->train = 1;
        net->delta = NULL;
        forward_network(net);
        for (int i = 0; i < h->nblocks; i++) {
            const hp_block *bl = &h->blocks[i];
            if (bl->kind != HP_ROLLING_MEAN) continue;
            layer *l = h->block_layer[i];
            double M = (double)n * l->out_w * l->out_h;
            double unb = M > 1 ? (M - 1) / M : 1.0;
            for (int c = 0; c < bl->bn_channels; c++) {
                double m = l->mean[c];
                s1[bl->offset + c] += n * m;
                s2[bl->offset + c] += n * (l->variance[c] * unb + m * m);
            }
        }
        total += n;
    }
    if (net->batch != B) set_batch_network(net, B);
    net->truth = truth;
    if (total > 0) {
        for (int i = 0; i < h->nblocks; i++) {
            const hp_block *bl = &h->blocks[i];
            if (bl->kind != HP_ROLLING_MEAN) continue;
            /* the rolling_variance block follows its rolling_mean block */
            const hp_block *bv = &h->blocks[i + 1];
            for (int c = 0; c < bl->bn_channels; c++) {
                double m = s1[bl->offset + c] / total;
                double v = s2[bl->offset + c] / total - m * m;
                bl->value[c] = (float)m;
                bv->value[c] = (float)(v > 0 ? v : 0);
            }
        }
    }
    free(s1); free(s2);
}

float host_policy_rate(host_net *h, size_t iteration) {
    network *net = h->net;
    size_t saved = *net->seen;
    *net->seen = iteration * (size_t)net->batch * net->subdivisions;
    float r = get_current_rate(net);
    *net->seen = saved;
    return r;
}
float host_cfg_learning_rate(const host_net *h) { return h->net->learning_rate; }
float host_cfg_momentum(const host_net *h) { return h->net->momentum; }
float host_cfg_decay(const host_net *h) { return h->net->decay; }
int host_cfg_max_batches(const host_net *h) { return h->net->max_batches; }
void host_set_max_batches(host_net *h, int n) { h->net->max_batches = n; }

const char *host_net_option(const host_net *h, const char *key) {
    if (!h->sections || !h->sections->front) return NULL;
    dk_section *s = (dk_section *)h->sections->front->val;
    return option_find(s->options, (char *)key);
}
uint64_t host_seen(const host_net *h) { return *h->net->seen; }
void host_set_seen(host_net *h, uint64_t seen) { *h->net->seen = (size_t)seen; }
