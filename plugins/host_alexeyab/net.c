/* net.c of the second host (AlexeyAB's Darknet): loading a network from a cfg, .weights I/O
 * through the parameter view, the batch step (forward + backward in training mode),
 * prediction, exact BN recompute and the [net] options. What differs from pjreddie's host
 * (docs/hosts.md): the parser returns the network by value and allocates no input or truth
 * (ours are in host_net); forward/backward take the network by value and a network_state
 * that carries input, truth and the mode; the parser prints its table on stdout and stderr
 * (both captured); its error() exits instead of aborting, so the host defines error() (the
 * library calls it through the PLT when built with -fsemantic-interposition,
 * scripts/build_alexeyab.sh) and jumps out of the parser; BN running statistics move 10 %
 * (convolutional) or 5 % (connected) per training forward. A detector (host_load_detector:
 * a cfg ending with [yolo]) keeps all its layers; its truths are the head's (6 floats a box)
 * and its step's loss is host_detect.c's detection loss. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host_private.h"
#include "wspace.h"

/* ---- the parser, quiet and guarded ---- */
static FILE *g_capture;
static int g_saved[2] = { -1, -1 };
static void capture_begin(void) {
    fflush(stdout); fflush(stderr);
    g_capture = tmpfile();
    if (!g_capture) return;
    g_saved[0] = dup(1); g_saved[1] = dup(2);
    dup2(fileno(g_capture), 1); dup2(fileno(g_capture), 2);
}
/* Ends the capture; replays what was captured on stderr if replay; the last line naming a
 * failed assertion ("... Assertion `...' failed.") into why (may be NULL), "" if none. */
static void capture_end(int replay, char *why, size_t nwhy) {
    if (why) why[0] = 0;
    if (!g_capture) return;
    fflush(stdout); fflush(stderr);
    dup2(g_saved[0], 1); dup2(g_saved[1], 2);
    close(g_saved[0]); close(g_saved[1]);
    g_saved[0] = g_saved[1] = -1;
    if (replay) { rewind(g_capture); char b[4096]; size_t n; while ((n = fread(b, 1, sizeof b, g_capture)) > 0) fwrite(b, 1, n, stderr); }
    if (why) {
        rewind(g_capture);
        char line[1024];
        while (fgets(line, sizeof line, g_capture)) {
            char *a = strstr(line, "Assertion `");
            if (!a) continue;
            line[strcspn(line, "\r\n")] = 0;
            snprintf(why, nwhy, "%s", a);
        }
    }
    fclose(g_capture);
    g_capture = NULL;
}

static sigjmp_buf g_parse_jmp;
static volatile sig_atomic_t g_in_parse, g_parse_sig;
static char g_parse_msg[256];
static void parse_signal(int sig) { g_parse_sig = sig; siglongjmp(g_parse_jmp, 1); }

/* The library's error(): inside our parse, a jump back to it with the message; elsewhere
 * what the library does (message, exit 1). */
void error(const char *const msg, const char *const filename, const char *const funcname, const int line) {
    if (g_in_parse) {
        snprintf(g_parse_msg, sizeof g_parse_msg, "%s (%s, %s(), line %d)", msg, filename, funcname, line);
        g_parse_sig = -1;
        siglongjmp(g_parse_jmp, 1);
    }
    fprintf(stderr, "Darknet error location: %s, %s(), line #%d\n", filename, funcname, line);
    perror(msg);
    exit(EXIT_FAILURE);
}

static network *guarded_parse(const char *cfg, char *err) {
    struct sigaction sa, old[4];
    int sigs[4] = { SIGABRT, SIGSEGV, SIGFPE, SIGBUS };
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = parse_signal;
    sigemptyset(&sa.sa_mask);
    network *volatile net = calloc(1, sizeof *net);
    if (!net) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", cfg); return NULL; }
    g_parse_sig = 0;
    g_parse_msg[0] = 0;
    for (int i = 0; i < 4; i++) sigaction(sigs[i], &sa, &old[i]);
    capture_begin();
    g_in_parse = 1;
    if (!sigsetjmp(g_parse_jmp, 1)) *net = parse_network_cfg((char *)cfg);
    g_in_parse = 0;
    for (int i = 0; i < 4; i++) sigaction(sigs[i], &old[i], NULL);
    char why[512];
    /* the parser's output is replayed when it stopped with no reason we could name */
    capture_end(getenv("DKMC_VERBOSE") != NULL, why, sizeof why);
    if (g_parse_sig) {
        if (g_parse_msg[0]) snprintf(err, DKMC_ERRLEN, "%s: Darknet's parser stops: %s", cfg, g_parse_msg);
        else if (why[0]) snprintf(err, DKMC_ERRLEN, "%s: Darknet's parser aborts on this cfg: %s", cfg, why);
        else snprintf(err, DKMC_ERRLEN, "%s: Darknet's parser %s on this cfg (DKMC_VERBOSE=1 shows its output)", cfg,
                      g_parse_sig == SIGABRT ? "aborts" : "crashes");
        free(net);
        return NULL;   /* what the parser had built is lost with it */
    }
    if (net->n < 1) { snprintf(err, DKMC_ERRLEN, "%s: Darknet could not build the network", cfg); free(net); return NULL; }
    return net;
}

/* AlexeyAB's forward_network zeroes a layer's delta before its forward only where l.train is
 * set, and [route] and [upsample] (among others) never set it; their backward adds into the
 * layer below, and the next layer's backward adds into theirs, so in the library's own CPU
 * training loop (train_network) their deltas would grow from step to step. A detector's layers
 * all get train = 1 here: update_network asks train only to skip layers, and these have no
 * update. */
static void mark_all_train(network *net) {
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].delta && !net->layers[i].update) net->layers[i].train = 1;
}

static host_net *load_net(const char *cfg, int batch, int detector, char *err) {
    host_cfg_info info = {0};
    if (host__validate_cfg(cfg, &info, err)) return NULL;
    host_net *h = calloc(1, sizeof *h);
    if (!h) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", cfg); host__cfg_info_free(&info); return NULL; }
    snprintf(h->cfg, sizeof h->cfg, "%s", cfg);
    h->gpu = -1;
    h->net = guarded_parse(cfg, err);
    if (!h->net) { free(h); host__cfg_info_free(&info); return NULL; }
    network *net = h->net;
    h->full_n = net->n;
    h->cfg_batch = net->batch;
    if (batch > 0 && batch != net->batch) {
        if (batch > net->batch) {
            snprintf(err, DKMC_ERRLEN, "%s: batch %d is larger than the cfg's batch %d (edit batch= in the cfg)", cfg, batch, net->batch);
            host__cfg_info_free(&info); host_free(h); return NULL;
        }
        set_batch_network(net, batch);
    }
    h->full_batch = net->batch;
    int last = net->n - 1;
    size_t truths;
    if (detector) {
        h->detector = 1;
        LAYER_TYPE t = net->layers[last].type;
        if (t != YOLO) {
            snprintf(err, DKMC_ERRLEN, "%s: the last layer must be [yolo] (a detector; on this host [region], [detection] and "
                     "[gaussian_yolo] heads are not supported yet); this cfg ends with %s", cfg,
                     t == REGION ? "[region]" : t == DETECTION ? "[detection]" : t == GAUSSIAN_YOLO ? "[gaussian_yolo]" : "another layer");
            host__cfg_info_free(&info); host_free(h); return NULL;
        }
        for (int i = 0; i < last; i++)
            if (net->layers[i].type == REGION || net->layers[i].type == DETECTION || net->layers[i].type == GAUSSIAN_YOLO) {
                snprintf(err, DKMC_ERRLEN, "%s: layer %d: only [yolo] heads are supported on this host", cfg, i);
                host__cfg_info_free(&info); host_free(h); return NULL;
            }
        mark_all_train(net);
        truths = (size_t)net->layers[last].truths;
    } else {
        while (last >= 0 && net->layers[last].type == COST) last--;
        for (int i = 0; i < last; i++)
            if (net->layers[i].type == COST) {
                snprintf(err, DKMC_ERRLEN, "%s: layer %d [cost]: a [cost] layer is supported only after the final [softmax]", cfg, i);
                host__cfg_info_free(&info); host_free(h); return NULL;
            }
        if (last < 0 || net->layers[last].type != SOFTMAX) {
            snprintf(err, DKMC_ERRLEN, "%s: the last layer must be [softmax] (classification networks only)", cfg);
            host__cfg_info_free(&info); host_free(h); return NULL;
        }
        net->n = last + 1;
        net->outputs = net->layers[last].outputs;
        net->output = net->layers[last].output;
        truths = (size_t)net->outputs;
    }
    h->input = calloc((size_t)h->full_batch * net->inputs, sizeof(float));
    h->truth = calloc((size_t)h->full_batch * truths, sizeof(float));
    if (!h->input || !h->truth) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", cfg); host__cfg_info_free(&info); host_free(h); return NULL; }
    int bad = host__enumerate(h, &info, err);
    host__cfg_info_free(&info);
    if (bad) { host_free(h); return NULL; }
    h->bn_share = h->nstats ? 1.0 : 0.0;   /* the rolling statistics start at 0 */
    h->sections = read_cfg((char *)cfg);
    return h;
}

host_net *host_load(const char *cfg, int batch, char *err) { return load_net(cfg, batch, 0, err); }
host_net *host_load_detector(const char *cfg, int batch, char *err) { return load_net(cfg, batch, 1, err); }
int host_is_detector(const host_net *h) { return h->detector; }

void host_free(host_net *h) {
    if (!h) return;
    if (h->net) host_set_rate_hook(h, NULL, NULL);
    if (h->sections) {
        for (node *n = h->sections->front; n; n = n->next) free_section((dk_section *)n->val);
        free_list(h->sections);
    }
    if (h->net) {
        h->net->n = h->full_n;
        free_network(*h->net);
        free(h->net);
    }
    free(h->input); free(h->truth);
    free(h->blocks); free(h->block_layer);
    free(h);
}

static double file_bn_share(const host_net *h, uint64_t seen) {
    if (!h->nstats) return 0;
    if (seen > 0) return pow(h->bn_keep, (double)(seen / (uint64_t)(h->cfg_batch > 0 ? h->cfg_batch : 1)));
    /* the parser allocates the rolling statistics as zeros, as pjreddie's: all variances 0 = never trained */
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
        size_t l = strlen(err);
        if (l + 40 < DKMC_ERRLEN && strstr(err, "floats")) snprintf(err + l, DKMC_ERRLEN - l, " (cfg %s)", h->cfg);
        free(payload); return -1;
    }
    size_t pos = 0;
    for (int i = 0; i < h->nblocks; i++) {
        memcpy(h->blocks[i].value, payload + pos, h->blocks[i].n * sizeof(float));
        pos += h->blocks[i].n;
    }
    *h->net->seen = hdr.seen;
    host__sync_iteration(h);
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

static network_state state_of(host_net *h, int train, float *truth) {
    network_state s;
    memset(&s, 0, sizeof s);
    s.net = *h->net;
    s.input = h->input;
    s.truth = truth;
    s.train = train;
    s.delta = NULL;
    s.workspace = h->net->workspace;
    return s;
}

float host_step(host_net *h, const float *x, const float *y, int *correct) {
    network *net = h->net;
    int B = net->batch, k = net->outputs;
    host_zero_grad(h);
    memcpy(h->input, x, (size_t)B * net->inputs * sizeof(float));
    memcpy(h->truth, y, (size_t)B * (h->detector ? host_det_truths(h) : k) * sizeof(float));
    /* forward_network zeroes a layer's delta only where l.train is set, and only some of the
     * layer constructors set it ([connected] and [softmax] do not): a connected layer's delta,
     * which the softmax's backward adds into, would grow from step to step. All of them here,
     * as pjreddie's forward_network does. */
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        if (l->delta) memset(l->delta, 0, (size_t)l->outputs * l->batch * sizeof(float));
    }
    network_state s = state_of(h, 1, h->truth);
    host__quiet q = host__quiet_on(h->detector);   /* [yolo] prints a line per forward */
    forward_network(*net, s);
    backward_network(*net, s);
    host__quiet_off(q);
    h->bn_share *= h->bn_keep;
    if (h->detector) {   /* the [yolo] layers' loss (host_det_loss); no hits */
        if (correct) *correct = 0;
        return (float)(host__det_loss_sum(h, h->truth, B) / B);
    }
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

/* A forward that needs no gradients: the deltas hidden (forward_network zeroes them in
 * training mode), no truth (the softmax then skips its loss). */
static void forward_plain(host_net *h, int train) {
    network *net = h->net;
    float *saved[4096];
    int n = net->n < 4096 ? net->n : 0;
    /* a [yolo] layer clears its delta in every forward: it keeps it */
    for (int i = 0; i < n; i++) { saved[i] = net->layers[i].delta; if (net->layers[i].type != YOLO) net->layers[i].delta = NULL; }
    forward_network(*net, state_of(h, train, NULL));
    for (int i = 0; i < n; i++) net->layers[i].delta = saved[i];
}

/* A detector in a train-mode pass without truth (host_bn_recompute): the library's [yolo]
 * forward compares with the truth when state.train is set, and no BN layer follows it, so
 * during the pass it runs as in inference through this wrapper; head_swap puts the library's
 * function back. */
static void (*g_yolo_forward)(layer, network_state);
static void yolo_forward_eval(layer l, network_state s) { s.train = 0; g_yolo_forward(l, s); }
static void head_swap(network *net, int on) {
    for (int i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        if (l->type != YOLO) continue;
        if (on && l->forward != yolo_forward_eval) { g_yolo_forward = l->forward; l->forward = yolo_forward_eval; }
        else if (!on && l->forward == yolo_forward_eval) l->forward = g_yolo_forward;
    }
}

void host_predict(host_net *h, const float *x, int n, float *probs) {
    network *net = h->net;
    int B = h->full_batch;
    if (n > B) n = B;
    if (net->batch != n) set_batch_network(net, n);
    memcpy(h->input, x, (size_t)n * net->inputs * sizeof(float));
    forward_plain(h, 0);
    memcpy(probs, net->output, (size_t)n * net->outputs * sizeof(float));
    if (net->batch != B) set_batch_network(net, B);
}

/* Exact BN statistics (host.h): pooled batch means and E[x^2] (l->variance is unbiased). */
void host_bn_recompute(host_net *h, host_batch_fn fn, void *ctx, int nbatches) {
    network *net = h->net;
    int B = h->full_batch;
    if (!h->nstats) return;
    double *s1 = ws_xcalloc(h->nstats, sizeof(double), "BN statistics"), *s2 = ws_xcalloc(h->nstats, sizeof(double), "BN statistics");
    double total = 0;
    if (h->detector) head_swap(net, 1);
    for (int b = 0; b < nbatches; b++) {
        int n = fn(ctx, b, h->input, B);
        if (n <= 0) break;
        if (n != net->batch) set_batch_network(net, n);
        forward_plain(h, 1);
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
    if (h->detector) head_swap(net, 0);
    if (total > 0) {
        for (int i = 0; i < h->nblocks; i++) {
            const hp_block *bl = &h->blocks[i];
            if (bl->kind != HP_ROLLING_MEAN) continue;
            const hp_block *bv = &h->blocks[i + 1];
            for (int c = 0; c < bl->bn_channels; c++) {
                double m = s1[bl->offset + c] / total;
                double v = s2[bl->offset + c] / total - m * m;
                bl->value[c] = (float)m;
                bv->value[c] = (float)(v > 0 ? v : 0);
            }
        }
        h->bn_share = 0;
    }
    free(s1); free(s2);
}

float host_policy_rate(host_net *h, size_t iteration) {
    network *net = h->net;
    uint64_t saved = *net->seen;
    *net->seen = (uint64_t)iteration * net->batch * net->subdivisions;
    float r = get_current_rate(*net);
    *net->seen = saved;
    return r;
}
int host_cfg_adam(const host_net *h) { return h->net->adam; }
int host_adam_error(const host_net *h, const char *command, char *err) {
    if (!h->net->adam) return 0;
    snprintf(err, DKMC_ERRLEN, "%s: [net] adam=1: '%s' trains with SGD and momentum only; remove adam=1 or set adam=0", h->cfg, command);
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
void host_set_seen(host_net *h, uint64_t seen) { *h->net->seen = seen; host__sync_iteration(h); }
void host__sync_iteration(host_net *h) {
    network *net = h->net;
    uint64_t per = (uint64_t)(h->cfg_batch > 0 ? h->cfg_batch : 1) * (net->subdivisions > 0 ? net->subdivisions : 1);
    *net->cur_iteration = (int)(*net->seen / per);
}
double host_bn_initial_share(const host_net *h) { return h->bn_share; }
double host_bn_keep(const host_net *h) { return h->nstats ? h->bn_keep : 0; }
void host_set_bn_initial_share(host_net *h, double share) { h->bn_share = h->nstats ? share : 0; }
int host_cfg_batch(const host_net *h) { return h->cfg_batch; }
void host_set_learning_rate(host_net *h, float lr) { h->net->learning_rate = lr; }
