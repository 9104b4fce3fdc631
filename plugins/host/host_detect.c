/* host_detect.c: detectors on Darknet's own detection pipeline (host.h, "detectors").
 * Training batches come from the library's load_data with DETECTION_DATA in its background
 * thread (jitter from the last layer, hue/saturation/exposure from [net], random flips, the
 * library's own random image choice), and a step is the library's train_network (forward,
 * backward, and update_network with the rate of get_current_rate: host_policy.c). Inference
 * is what Darknet's detector test does: the image resized (or letterboxed) by the library,
 * network_predict, get_network_boxes, do_nms_sort. */
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data.h"
#include "host_private.h"

struct host_det_loader {
    load_args args;
    data buffer;
    pthread_t thread;
    int running;
    int quiet;
};

static layer *head(const host_net *h) { return &h->net->layers[h->net->n - 1]; }
int host_det_classes(const host_net *h) { return head(h)->classes; }
int host_det_random(const host_net *h) { return head(h)->random; }
uint64_t host_det_batch_num(const host_net *h) {
    return *h->net->seen / ((uint64_t)h->net->batch * h->net->subdivisions);
}
int host_det_images_per_step(const host_net *h) { return h->net->batch * h->net->subdivisions; }

/* each train-mode forward moves Darknet's running statistics 1 % (host_bn_initial_share) */
static void age_stats(host_net *h, int images) {
    if (h->nstats) h->bn_share *= pow(0.99, images / h->net->batch);
}

host_det_loader *host_det_loader_new(host_net *h, char **paths, int n, int threads, char *err) {
    host_det_loader *L = calloc(1, sizeof *L);
    if (!L) { snprintf(err, HOST_ERRLEN, "%s: out of memory", h->cfg); return NULL; }
    network *net = h->net;
    layer *l = head(h);
    load_args *a = &L->args;
    a->w = net->w; a->h = net->h;
    a->paths = paths; a->m = n;
    a->n = net->batch * net->subdivisions;
    a->classes = l->classes;
    a->jitter = l->jitter;
    a->num_boxes = l->max_boxes;
    a->d = &L->buffer;
    a->type = DETECTION_DATA;
    a->threads = threads > 0 ? threads : 8;
    a->angle = net->angle; a->exposure = net->exposure; a->saturation = net->saturation; a->hue = net->hue;
    L->thread = load_data(*a);
    L->running = 1;
    return L;
}

static data take(host_det_loader *L) {
    pthread_join(L->thread, 0);
    L->running = 0;
    return L->buffer;
}

void host_det_loader_quiet(host_det_loader *L, int quiet) { L->quiet = quiet; }

void host_det_loader_free(host_det_loader *L) {
    if (!L) return;
    if (L->running) free_data(take(L));
    free(L);
}

/* the library's [yolo]/[region] layers printf a line per layer and train-mode forward */
host__quiet host__stdout_off(int on) {
    host__quiet q = { -1, -1 };
    if (on && (q.null = open("/dev/null", O_WRONLY)) >= 0) {
        fflush(stdout);
        q.saved = dup(1);
        dup2(q.null, 1);
    }
    return q;
}

void host__stdout_on(host__quiet q) {
    if (q.saved >= 0) {
        fflush(stdout);
        dup2(q.saved, 1);
        close(q.saved);
    }
    if (q.null >= 0) close(q.null);
}

float host_det_train_step(host_net *h, host_det_loader *L) {
    data d = take(L);
    L->thread = load_data(L->args);
    L->running = 1;
    host__quiet q = host__stdout_off(L->quiet);
    float loss = train_network(h->net, d);
    age_stats(h, d.X.rows);
    host__stdout_on(q);
    free_data(d);
    return loss;
}

float host_det_train_batch(host_net *h, float *x, float *truth, int n) {
    data d = { 0 };
    d.X.rows = n; d.X.cols = h->net->inputs; d.X.vals = malloc(n * sizeof(float *));
    d.y.rows = n; d.y.cols = h->net->truths; d.y.vals = malloc(n * sizeof(float *));
    if (!d.X.vals || !d.y.vals) { free(d.X.vals); free(d.y.vals); return NAN; }
    for (int i = 0; i < n; i++) {
        d.X.vals[i] = x + (size_t)i * d.X.cols;
        d.y.vals[i] = truth + (size_t)i * d.y.cols;
    }
    float loss = train_network(h->net, d);
    age_stats(h, n);
    free(d.X.vals); free(d.y.vals);
    return loss;
}
int host_det_truths(const host_net *h) { return h->net->truths; }
int host_det_truth_size(const host_net *h) { (void)h; return 5; }
void host_set_learning_rate(host_net *h, float lr) { h->net->learning_rate = lr; }

int host_det_resize(host_net *h, host_det_loader *L, int w, int hgt) {
    if (L && L->running) free_data(take(L));   /* the batch in flight has the old size */
    resize_network(h->net, w, hgt);
    if (L) {
        L->args.w = w; L->args.h = hgt;
        L->thread = load_data(L->args);
        L->running = 1;
    }
    return 0;
}

/* A decoded image (CHW floats) as Darknet's image, then resized or letterboxed by the library. */
static image input_image(const host_net *h, float *pix, int w, int hgt, int letterbox) {
    image im = { w, hgt, 3, pix };
    return letterbox ? letterbox_image(im, h->net->w, h->net->h) : resize_image(im, h->net->w, h->net->h);
}

static int collect(detection *dets, int nb, int classes, float thresh, host_det **out, int *n) {
    int cap = 0;
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < classes; j++) cap += dets[i].prob[j] > thresh;
    *out = malloc((cap ? cap : 1) * sizeof **out);
    if (!*out) return -1;
    *n = 0;
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < classes; j++)
            if (dets[i].prob[j] > thresh) {
                box b = dets[i].bbox;
                (*out)[(*n)++] = (host_det){ b.x, b.y, b.w, b.h, dets[i].prob[j], j };
            }
    return 0;
}

int host_det_predict(host_net *h, const char *path, float thresh, float nms, int letterbox, host_det **out, int *n,
                     char *err) {
    *out = NULL; *n = 0;
    int w, hgt;
    float *pix = data_read_image(path, 3, &w, &hgt, err);
    if (!pix) return -1;
    image sized = input_image(h, pix, w, hgt, letterbox);
    free(pix);
    network *net = h->net;
    network_predict(net, sized.data);
    free_image(sized);
    int nb = 0, classes = head(h)->classes;
    detection *dets = get_network_boxes(net, letterbox ? w : net->w, letterbox ? hgt : net->h, thresh, 0.5f, 0, 1, &nb);
    if (nms > 0) do_nms_sort(dets, nb, classes, nms);
    int rc = collect(dets, nb, classes, thresh, out, n);
    free_detections(dets, nb);
    if (rc) snprintf(err, HOST_ERRLEN, "%s: out of memory for %d boxes", path, nb);
    return rc;
}

/* ---- the detection loss (host.h, host_det_loss) ---- */
static int is_head(LAYER_TYPE t) { return t == YOLO || t == REGION || t == DETECTION; }

/* -log of the probability given to a hard target: p is a logistic output, p + d its target */
static double hard_ce(float p, float d) {
    double q = p + d > 0.5f ? p : 1.0 - p;
    return -log(q > 1e-30 ? q : 1e-30);
}

/* s * KL(t || p) for a logistic output p and a soft target t in [0, 1] */
static double soft_ce(double s, double t, double p) {
    p = p < 1e-30 ? 1e-30 : p > 1 - 1e-16 ? 1 - 1e-16 : p;
    double a = t > 0 ? t * log(t / p) : 0, b = t < 1 ? (1 - t) * log((1 - t) / (1 - p)) : 0;
    return s * (a + b);
}

/* The anchor of the layer's mask that Darknet's second loop gives truth (x, y, w, h), and its
 * cell: the best anchor of all (l->total) by IoU of the shapes, -1 if it is not in the mask. */
static int yolo_anchor(const layer *l, const network *net, const float *tr, int *best, int *cell) {
    box ts = { 0, 0, tr[2], tr[3] };
    float best_iou = 0;
    *best = 0;
    for (int n = 0; n < l->total; n++) {
        box a = { 0, 0, l->biases[2 * n] / net->w, l->biases[2 * n + 1] / net->h };
        float iou = box_iou(a, ts);
        if (iou > best_iou) { best_iou = iou; *best = n; }
    }
    *cell = (int)(tr[1] * l->h) * l->w + (int)(tr[0] * l->w);
    for (int m = 0; m < l->n; m++) if (l->mask[m] == *best) return m;
    return -1;
}

/* The box terms of image b: the last truth of a cell and anchor sets its four deltas */
static double yolo_box_terms(const layer *l, const network *net, int b) {
    int wh = l->w * l->h, used[512], nused = 0;
    double s = 0;
    const float *truth = net->truth + (size_t)b * l->truths;
    int nt = 0;
    while (nt < l->max_boxes && truth[nt * 5]) nt++;
    for (int t = nt - 1; t >= 0; t--) {
        const float *tr = truth + t * 5;
        int best, cell, m = yolo_anchor(l, net, tr, &best, &cell);
        if (m < 0) continue;
        int key = m * wh + cell, dup = 0;
        for (int u = 0; u < nused; u++) dup |= used[u] == key;
        if (dup) continue;
        if (nused < 512) used[nused++] = key;
        size_t idx = (size_t)b * l->outputs + (size_t)m * wh * (5 + l->classes) + cell;
        float scale = 2 - tr[2] * tr[3];
        float tx = tr[0] * l->w - cell % l->w, ty = tr[1] * l->h - cell / l->w;
        float tw = log(tr[2] * net->w / l->biases[2 * best]), th = log(tr[3] * net->h / l->biases[2 * best + 1]);
        const float *o = l->output;
        s += soft_ce(scale, tx, o[idx]) + soft_ce(scale, ty, o[idx + wh]);
        s += 0.5 * scale * ((tw - o[idx + 2 * wh]) * (tw - o[idx + 2 * wh]) + (th - o[idx + 3 * wh]) * (th - o[idx + 3 * wh]));
    }
    return s;
}

/* The [yolo] loss of image b: the function whose gradient the layer's delta is minus. */
static double yolo_image_loss(const layer *l, const network *net, int b) {
    int wh = l->w * l->h;
    double s = 0;
    for (int n = 0; n < l->n; n++) {
        size_t at = (size_t)b * l->outputs + (size_t)n * wh * (5 + l->classes) + 4 * (size_t)wh;
        for (size_t i = 0; i < (size_t)(1 + l->classes) * wh; i++)
            if (l->delta[at + i] != 0) s += hard_ce(l->output[at + i], l->delta[at + i]);
    }
    return s + yolo_box_terms(l, net, b);
}

double host__det_loss_sum(const host_net *h, int n) {
    const network *net = h->net;
    double s = 0;
    for (int i = 0; i < net->n; i++) {
        const layer *l = &net->layers[i];
        if (l->type == YOLO)
            for (int b = 0; b < n; b++) s += yolo_image_loss(l, net, b);
        else if (is_head(l->type)) s += *l->cost;   /* [region], [detection]: the library's cost */
    }
    return s;
}

void host__forward_split(host_net *h, int body_train, int head_train) {
    network *net = h->net;
    network run = *net;
    for (int i = 0; i < net->n; i++) {
        layer l = net->layers[i];
        run.index = i;
        run.train = is_head(l.type) ? head_train : body_train;
        l.forward(l, run);   /* a head clears its own delta */
        run.input = l.output;
    }
}

int host_det_loss_check(const host_net *h, const char *command, char *err) {
    (void)h; (void)command; (void)err;
    return 0;
}

/* Eval-mode forward (BN with its running statistics) in which only the heads see train = 1,
 * so that they compute their deltas against the truth. */
double host_det_loss(host_net *h, const float *x, const float *truth, int n) {
    network *net = h->net;
    int B = h->full_batch;
    if (n > B) n = B;
    if (net->batch != n) set_batch_network(net, n);
    memcpy(net->input, x, (size_t)n * net->inputs * sizeof(float));
    memcpy(net->truth, truth, (size_t)n * net->truths * sizeof(float));
    host__quiet q = host__stdout_off(1);
    host__forward_split(h, 0, 1);
    host__stdout_on(q);
    double s = host__det_loss_sum(h, n);
    if (net->batch != B) set_batch_network(net, B);
    return s;
}

/* load_thread's defaults, then the call its DETECTION_DATA case makes */
int host_det_load_batch(host_net *h, char **paths, int m, unsigned seed, float *x, float *truth, char *err) {
    network *net = h->net;
    layer *l = head(h);
    int n = net->batch;
    float sat = net->saturation ? net->saturation : 1, exp_ = net->exposure ? net->exposure : 1;
    if (net->c != 3) { snprintf(err, HOST_ERRLEN, "%s: the detection loader makes 3-channel images, the cfg has channels=%d", h->cfg, net->c); return -1; }
    srand(seed);
    data d = load_data_detection(n, paths, m, net->w, net->h, l->max_boxes, l->classes, l->jitter, net->hue, sat, exp_);
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * net->inputs, d.X.vals[i], (size_t)net->inputs * sizeof(float));
        memset(truth + (size_t)i * net->truths, 0, (size_t)net->truths * sizeof(float));
        memcpy(truth + (size_t)i * net->truths, d.y.vals[i], (size_t)(d.y.cols < net->truths ? d.y.cols : net->truths) * sizeof(float));
    }
    free_data(d);
    return 0;
}

int host_det_input(const host_net *h, const char *path, int letterbox, float *x, char *err) {
    int w, hgt;
    float *pix = data_read_image(path, 3, &w, &hgt, err);
    if (!pix) return -1;
    image sized = input_image(h, pix, w, hgt, letterbox);
    free(pix);
    memcpy(x, sized.data, (size_t)h->net->w * h->net->h * 3 * sizeof *x);
    free_image(sized);
    return 0;
}

/* get_label's size argument is ten times the glyph size here (it divides by 10); host_draw.c */
const int host__label_size_scale = 10;
