/* net.c: loading a network from a cfg, .weights I/O through the parameter view, the batch
 * step (forward + backward in train mode), eval-mode prediction, exact BN recompute and
 * Darknet's learning-rate policy. Darknet's parser exits on some errors and prints its layer
 * table on stderr; we validate the cfg first (cfgcheck.c) so that bad input gets a one-line
 * error, and capture the parser's chatter (replayed on stderr only if the parser exits). What
 * the validation cannot foresee (shape errors such as "Layer before convolutional layer must
 * output image", which make the library abort) is caught by a signal guard around the parser
 * and turned into the same kind of one-line error, naming the layer and its cfg line.
 *
 * [cost] after the final [softmax]: Darknet's cost layer adds its own delta into the
 * softmax's, doubling the cross-entropy gradient, and averages the two losses. We keep such
 * layers built but outside net->n, so forward/backward/cost see a plain softmax
 * cross-entropy network; net->n is restored before free_network. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host_private.h"
#include "wspace.h"

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

/* The signal guard around parse_network_cfg: Darknet's error() is perror + assert(0), i.e.
 * SIGABRT; a few malformed inputs the validation misses would segfault. */
static sigjmp_buf g_parse_jmp;
static volatile sig_atomic_t g_parse_sig;
static void parse_signal(int sig) { g_parse_sig = sig; siglongjmp(g_parse_jmp, 1); }

/* After a signal in the parser: the layer it was building is the last "%5d " row of the
 * captured layer table, and error()'s perror text follows it on that row. */
static void parse_failure(const char *cfg, const host_cfg_info *info, int sig, char *err) {
    char buf[16384] = "";
    size_t len = 0;
    if (g_capture) {
        fflush(stderr);
        fseek(g_capture, 0, SEEK_END);
        long end = ftell(g_capture);
        if (end < 0) end = 0;
        long from = end > (long)sizeof buf - 1 ? end - (long)sizeof buf + 1 : 0;
        fseek(g_capture, from, SEEK_SET);
        len = fread(buf, 1, sizeof buf - 1, g_capture);
        buf[len] = 0;
    }
    int layer = -1;
    char msg[256] = "";
    for (char *line = buf; line && *line; ) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *p = line;
        while (*p == ' ') p++;
        if (isdigit((unsigned char)*p)) {
            char *q;
            long v = strtol(p, &q, 10);
            if (*q == ' ' || !*q) {
                layer = (int)v;   /* a new table row: what came before was another layer's */
                msg[0] = 0;
                while (*q == ' ') q++;
                p = q;
            }
        }
        /* error()'s perror line: "<sentence>: <strerror>"; skip the parser's other chatter */
        char *colon = strrchr(p, ':');
        if (*p && colon && !strstr(p, "Using default") && !strstr(p, "Assertion") && !strstr(p, "Unused field")
            && !strstr(p, "Couldn't find")) {
            *colon = 0;
            snprintf(msg, sizeof msg, "%s", p);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (sig != SIGABRT) msg[0] = 0;
    const char *what = sig == SIGABRT ? "aborts" : sig == SIGSEGV ? "crashes (segmentation fault)" : "crashes";
    if (layer >= 0 && layer < info->nlayers)
        snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s: Darknet's parser %s on it%s%s", cfg, info->line[layer], layer,
                 info->name[layer], what, msg[0] ? ": " : "", msg);
    else
        snprintf(err, DKMC_ERRLEN, "%s: Darknet's parser %s on this cfg%s%s", cfg, what, msg[0] ? ": " : "", msg);
}

static network *guarded_parse(const char *cfg, const host_cfg_info *info, char *err) {
    struct sigaction sa, old_abrt, old_segv, old_fpe, old_bus;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = parse_signal;
    sigemptyset(&sa.sa_mask);
    g_parse_sig = 0;
    sigaction(SIGABRT, &sa, &old_abrt);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGFPE, &sa, &old_fpe);
    sigaction(SIGBUS, &sa, &old_bus);
    network *volatile net = NULL;
    capture_begin();
    if (!sigsetjmp(g_parse_jmp, 1)) net = parse_network_cfg((char *)cfg);
    sigaction(SIGABRT, &old_abrt, NULL);
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGFPE, &old_fpe, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    if (g_parse_sig) {
        parse_failure(cfg, info, g_parse_sig, err);
        capture_end(getenv("DKMC_VERBOSE") != NULL);
        return NULL;   /* what the parser had built is lost with it */
    }
    capture_end(getenv("DKMC_VERBOSE") != NULL);
    if (!net || net->n < 1) snprintf(err, DKMC_ERRLEN, "%s: Darknet could not build the network", cfg);
    return net;
}

static host_net *load_net(const char *cfg, int batch, int detector, char *err) {
    host_cfg_info info = {0};
    if (host__validate_cfg(cfg, &info, err)) return NULL;
    if (host__gpu_check(cfg, err)) { host__cfg_info_free(&info); return NULL; }
    host_net *h = calloc(1, sizeof *h);
    if (!h) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", cfg); host__cfg_info_free(&info); return NULL; }
    snprintf(h->cfg, sizeof h->cfg, "%s", cfg);
    h->net = guarded_parse(cfg, &info, err);
    if (!h->net || h->net->n < 1) { host__cfg_info_free(&info); free(h); return NULL; }
    h->gpu = -1;
#ifdef GPU
    h->gpu = h->net->gpu_index;
#endif
    h->full_n = h->net->n;
    h->cfg_batch = h->net->batch;
    if (batch > 0 && batch != h->net->batch) {
        /* Rebuilding is the only way to change buffer sizes in Darknet: re-parse with a patched
         * copy would be heavy; set_batch_network only shrinks safely, so grow by re-parsing. */
        if (batch < h->net->batch) set_batch_network(h->net, batch);
        else {
            snprintf(err, DKMC_ERRLEN, "%s: batch %d is larger than the cfg's batch %d (edit batch= in the cfg)",
                     cfg, batch, h->net->batch);
            host__cfg_info_free(&info); host_free(h); return NULL;
        }
    }
    h->full_batch = h->net->batch;
    network *net = h->net;
    if (detector) {
        h->detector = 1;
        LAYER_TYPE t = net->layers[net->n - 1].type;
        if (t != YOLO && t != REGION && t != DETECTION) {
            snprintf(err, DKMC_ERRLEN, "%s: the last layer must be [yolo], [region] or [detection] (a detector); this cfg ends with %s",
                     cfg, info.name[net->n - 1]);
            host__cfg_info_free(&info); host_free(h); return NULL;
        }
        host__cfg_info_free(&info);
        if (host__enumerate(h, err)) { host_free(h); return NULL; }
        h->bn_share = h->nstats ? 1.0 : 0.0;
        h->sections = read_cfg((char *)cfg);
        return h;
    }
    /* the final [softmax], possibly followed by [cost] layers that we leave out */
    int last = net->n - 1;
    while (last >= 0 && net->layers[last].type == COST) last--;
    int bad = -1;
    for (int i = 0; i < last; i++) if (net->layers[i].type == COST) { bad = i; break; }
    if (bad >= 0)
        snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d [cost]: a [cost] layer is supported only after the final [softmax]",
                 cfg, info.line[bad], bad);
    else if (last < 0 || net->layers[last].type != SOFTMAX) {
        if (last < net->n - 1)
            snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d [cost] follows %s, not a [softmax] (classification networks only)",
                     cfg, info.line[last + 1], last + 1, last >= 0 ? info.name[last] : "nothing");
        else
            snprintf(err, DKMC_ERRLEN, "%s: the last layer must be [softmax] (classification networks only)", cfg);
        bad = 0;
    }
    host__cfg_info_free(&info);
    if (bad >= 0) { host_free(h); return NULL; }
    net->n = last + 1;
    for (int i = 0; i < net->n && h->gpu >= 0; i++)
        if (net->layers[i].type == CRNN) {   /* its state reset (reset_recurrent_state) is host-side only */
            snprintf(err, HOST_ERRLEN, "%s: layer %d [crnn]: not supported on the GPU yet; run with -nogpu", cfg, i);
            host_free(h); return NULL;
        }
    if (host__enumerate(h, err)) { host_free(h); return NULL; }
    h->bn_share = h->nstats ? 1.0 : 0.0;   /* Darknet's rolling statistics start at 0 */
    h->sections = read_cfg((char *)cfg);
    return h;
}

host_net *host_load(const char *cfg, int batch, char *err) { return load_net(cfg, batch, 0, err); }
host_net *host_load_detector(const char *cfg, int batch, char *err) { return load_net(cfg, batch, 1, err); }
int host_is_detector(const host_net *h) { return h->detector; }

/* free_network and what this Darknet's free_network forgets (found by the sanitizer pass of
 * the command-line tests): make_network's seen, t and cost, parse_net_options' steps and
 * scales (policy=steps), parse_network_cfg's workspace (host memory in a CPU build). */
void host__free_network(network *net) {
    if (!net) return;
    free(net->seen); free(net->t); free(net->cost); free(net->steps); free(net->scales);
    net->seen = NULL; net->t = NULL; net->cost = NULL; net->steps = NULL; net->scales = NULL;
#ifndef GPU
    free(net->workspace);
    net->workspace = NULL;
#endif
    free_network(net);
}

void host_free(host_net *h) {
    if (!h) return;
    if (h->net) host_set_rate_hook(h, NULL, NULL);
    if (h->sections) {
        for (node *n = h->sections->front; n; n = n->next) free_section((dk_section *)n->val);
        free_list(h->sections);
    }
    if (h->net) {
        if (h->full_n) h->net->n = h->full_n;
        host__free_network(h->net);
    }
    free(h->blocks);
    free(h->block_layer);
    free(h->dvalue);
    free(h->dgrad);
    free(h);
}

/* The initial share of a loaded file's BN statistics (host.h): from the batches its network
 * has seen, or, for seen 0, whether the statistics were ever set. */
/* normalize_cpu's running averages: .99 old + .01 batch, in every BN layer */
double host_bn_keep(const host_net *h) { return h->nstats ? 0.99 : 0; }

static double file_bn_share(const host_net *h, uint64_t seen) {
    if (!h->nstats) return 0;
    if (seen > 0) return pow(host_bn_keep(h), (double)(seen / (uint64_t)(h->cfg_batch > 0 ? h->cfg_batch : 1)));
    for (int i = 0; i < h->nblocks; i++) {
        const hp_block *b = &h->blocks[i];
        if (b->kind != HP_ROLLING_VAR) continue;
        for (size_t j = 0; j < b->n; j++) if (b->value[j] != 0) return 0;
    }
    return 1;
}

int host_load_weights(host_net *h, const char *path, char *err) {
    size_t len = host_payload_len(h);
    float *payload = malloc(len * sizeof(float) + 1);
    if (!payload) { snprintf(err, DKMC_ERRLEN, "%s: out of memory for %zu floats", path, len); return -1; }
    ws_weights_header hdr;
    if (ws_weights_read(path, payload, len, &hdr, err)) {
        /* name the cfg too: the usual cause is a weights file of another network */
        size_t l = strlen(err);
        if (l + 40 < DKMC_ERRLEN && strstr(err, "floats")) snprintf(err + l, DKMC_ERRLEN - l, " (cfg %s)", h->cfg);
        free(payload); return -1;
    }
    size_t pos = 0;
    for (int i = 0; i < h->nblocks; i++) {
        memcpy(h->blocks[i].value, payload + pos, h->blocks[i].n * sizeof(float));
        pos += h->blocks[i].n;
    }
    host__push_all(h);
    *h->net->seen = (size_t)hdr.seen;
    free(payload);
    h->bn_share = file_bn_share(h, hdr.seen);
    return 0;
}

int host_save_weights(host_net *h, const char *path, char *err) {
    size_t len = host_payload_len(h);
    float *payload = malloc(len * sizeof(float) + 1);
    if (!payload) { snprintf(err, DKMC_ERRLEN, "%s: out of memory for %zu floats", path, len); return -1; }
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

/* [crnn] keeps its hidden state from one forward to the next in eval mode (and GPU
 * paths aside, resets it only in train mode): clear it before every forward, so that each
 * batch is classified on its own, whatever came before. */
static void reset_recurrent_state(host_net *h) {
    network *net = h->net;
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        if (l->type == CRNN && l->state) memset(l->state, 0, (size_t)l->hidden * l->batch * (l->steps + 1) * sizeof(float));
    }
}

float host_step(host_net *h, const float *x, const float *y, int *correct) {
    network *net = h->net;
    int B = net->batch, k = net->outputs;
    host_zero_grad(h);
    memcpy(net->input, x, (size_t)B * net->inputs * sizeof(float));
    memcpy(net->truth, y, (size_t)B * net->truths * sizeof(float));
    net->train = 1;
    net->delta = NULL;
    reset_recurrent_state(h);
    host__quiet q = host__stdout_off(h->detector);
    forward_network(net);
    backward_network(net);
    host__stdout_on(q);
    h->bn_share *= host_bn_keep(h);   /* Darknet's running-average update, once per train-mode forward */
    if (h->detector) {     /* the heads' loss (host_det_loss); no hits */
        if (correct) *correct = 0;
        return (float)(host__det_loss_sum(h, B) / B);
    }
    /* The mean NLL from the softmax output, with the probability clamped at 1e-30 as in
     * evaluation: Darknet's own cost is -log(p) unclamped, so one confidently wrong image
     * early in training makes it +inf although the gradient (truth - p) is finite. A NaN
     * output still gives NaN. */
    int c = 0;
    double nll = 0;
    for (int i = 0; i < B; i++) {
        int hit;
        nll += host_nll_hit(net->output + (size_t)i * k, k, argmax((float *)y + (size_t)i * k, k), 1, &hit);
        c += hit;
    }
    if (correct) *correct = c;
    return (float)(nll / B);
}

/* A forward pass that needs no gradients (evaluation, BN statistics): forward_network zeroes
 * every layer's delta before calling it, which is pure cost here (about 6 % of a plane grid
 * point), so the delta pointers are hidden for the pass and put back after it. No forward
 * function reads l.delta (softmax writes it only with a truth, which these passes unset). */
static int is_head(LAYER_TYPE t) { return t == YOLO || t == REGION || t == DETECTION; }
static void forward_without_deltas(host_net *h) {
    network *net = h->net;
    float *saved[4096];
    int n = net->n < 4096 ? net->n : 0;
    /* a detection head clears its delta even in inference: it keeps it */
    for (int i = 0; i < n; i++) { saved[i] = net->layers[i].delta; if (!is_head(net->layers[i].type)) net->layers[i].delta = NULL; }
    forward_network(net);
    for (int i = 0; i < n; i++) net->layers[i].delta = saved[i];
}

/* A detector in a train-mode pass without truth (host_bn_recompute): the library's [yolo],
 * [region] and [detection] forwards read the truth when net.train is set, and no BN layer
 * follows them, so during the pass they run as in inference (net.train = 0) through these
 * wrappers; head_swap puts the library's functions back. */
static void (*g_head_fwd[3])(layer, network);
static int head_slot(LAYER_TYPE t) { return t == YOLO ? 0 : t == REGION ? 1 : 2; }
static void head_forward_eval(layer l, network net) { net.train = 0; g_head_fwd[head_slot(l.type)](l, net); }
#ifdef GPU
static void (*g_head_fwd_gpu[3])(layer, network);
static void head_forward_eval_gpu(layer l, network net) { net.train = 0; g_head_fwd_gpu[head_slot(l.type)](l, net); }
#endif
static void head_swap(network *net, int on) {
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        if (!is_head(l->type)) continue;
        int s = head_slot(l->type);
        if (on && l->forward != head_forward_eval) { g_head_fwd[s] = l->forward; l->forward = head_forward_eval; }
        else if (!on && l->forward == head_forward_eval) l->forward = g_head_fwd[s];
#ifdef GPU
        if (on && l->forward_gpu != head_forward_eval_gpu) { g_head_fwd_gpu[s] = l->forward_gpu; l->forward_gpu = head_forward_eval_gpu; }
        else if (!on && l->forward_gpu == head_forward_eval_gpu) l->forward_gpu = g_head_fwd_gpu[s];
#endif
    }
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
    reset_recurrent_state(h);
    forward_without_deltas(h);
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
    double *s1 = ws_xcalloc(h->nstats, sizeof(double), "BN statistics"), *s2 = ws_xcalloc(h->nstats, sizeof(double), "BN statistics");
    double total = 0;
    float *truth = net->truth;
    net->truth = NULL;
    if (h->detector) head_swap(net, 1);
    for (int b = 0; b < nbatches; b++) {
        int n = fn(ctx, b, net->input, B);
        if (n <= 0) break;
        if (n != net->batch) set_batch_network(net, n);
        net->train = 1;
        net->delta = NULL;
        reset_recurrent_state(h);
        forward_without_deltas(h);
        for (int i = 0; i < h->nblocks; i++) {
            const hp_block *bl = &h->blocks[i];
            if (bl->kind != HP_ROLLING_MEAN) continue;
            layer *l = h->block_layer[i];
            double M = (double)n * l->out_w * l->out_h;
            if (h->gpu >= 0) host__pull_bn_batch(l, bl->bn_channels, M);   /* this batch's statistics, from the device */
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
    if (h->detector) head_swap(net, 0);
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
        /* on a GPU: the new statistics to the device (only these: the device holds the parameters);
         * host__block_push skips blocks without a device twin (-nogpu in a GPU build) */
        for (int i = 0; i < h->nblocks; i++)
            if (h->blocks[i].kind == HP_ROLLING_MEAN || h->blocks[i].kind == HP_ROLLING_VAR) host__block_push(h, i, h->blocks[i].value);
        h->bn_share = 0;
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
int host_cfg_adam(const host_net *h) { return h->net->adam; }
int host_adam_error(const host_net *h, const char *command, char *err) {
    if (!h->net->adam) return 0;
    snprintf(err, DKMC_ERRLEN, "%s: [net] adam=1: '%s' trains with SGD and momentum only (this Darknet's CPU update "
             "ignores adam as well); remove adam=1 or set adam=0", h->cfg, command);
    return -1;
}
float host_cfg_learning_rate(const host_net *h) { return h->net->learning_rate; }
float host_cfg_momentum(const host_net *h) { return h->net->momentum; }
float host_cfg_decay(const host_net *h) { return h->net->decay; }
int host_cfg_max_batches(const host_net *h) { return h->net->max_batches; }
int host_cfg_burn_in(const host_net *h) { return h->net->burn_in; }
void host_set_max_batches(host_net *h, int n) { h->net->max_batches = n; }

const char *host_net_option(const host_net *h, const char *key) {
    if (!h->sections || !h->sections->front) return NULL;
    dk_section *s = (dk_section *)h->sections->front->val;
    return option_find(s->options, (char *)key);
}
uint64_t host_seen(const host_net *h) { return *h->net->seen; }
double host_bn_initial_share(const host_net *h) { return h->bn_share; }
void host_set_bn_initial_share(host_net *h, double share) { h->bn_share = h->nstats ? share : 0; }
int host_cfg_batch(const host_net *h) { return h->cfg_batch; }
void host_set_seen(host_net *h, uint64_t seen) { *h->net->seen = (size_t)seen; }
