/* host_detect.c of the second host: detectors on AlexeyAB's detection pipeline (host.h,
 * "detectors"). Training batches come from the library's load_data with DETECTION_DATA (its
 * pool of loader threads, made once per process by its first call; the cfg's augmentation:
 * the last layer's jitter and resize, [net] hue/saturation/exposure, flip, blur, gaussian
 * noise, letter_box; its own random choice of images), and a step is the library's
 * train_network, by value (forward and backward of each subdivision, then update_network at
 * get_current_rate: host_policy.c; it advances cur_iteration beside seen). Inference is what
 * its detector test does: the image resized (or letterboxed), network_predict,
 * get_network_boxes (with its `letter` argument), do_nms_sort. What differs from pjreddie's:
 * a truth is 6 floats here (x, y, w, h, class, track id: the [yolo] layer's truth_size); the
 * [yolo] layer prints a line per forward on stderr, not stdout; only [yolo] heads. The
 * detection loss (host_det_loss, a detector's host_step) is written for this library's
 * [yolo] with iou_loss=mse and the default settings (below); host_det_loss_check refuses
 * the others. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data.h"
#include "detect.h"
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
int host_det_random(const host_net *h) { return head(h)->random != 0; }
uint64_t host_det_batch_num(const host_net *h) {
    return *h->net->seen / ((uint64_t)h->net->batch * h->net->subdivisions);
}
int host_det_images_per_step(const host_net *h) { return h->net->batch * h->net->subdivisions; }
int host_det_truths(const host_net *h) { return head(h)->truths; }

/* each train-mode forward keeps host_bn_keep of the running statistics */
static void age_stats(host_net *h, int images) {
    if (h->nstats) h->bn_share *= pow(h->bn_keep, images / h->net->batch);
}

static data take(host_det_loader *L) {
    pthread_join(L->thread, 0);
    L->running = 0;
    return L->buffer;
}

/* The library keeps one pool of loader threads for the process, sized by the first load_data
 * call; every later call must ask for the same number. */
static int g_loader_threads;

host_det_loader *host_det_loader_new(host_net *h, char **paths, int n, int threads, char *err) {
    network *net = h->net;
    if (net->c != 3) {
        snprintf(err, HOST_ERRLEN, "%s: the detection loader makes 3-channel images, the cfg has channels=%d", h->cfg, net->c);
        return NULL;
    }
    if (net->mixup || net->track || net->contrastive) {
        snprintf(err, HOST_ERRLEN, "%s: [net] %s: not supported by detector training on this host (a CPU build without OpenCV)",
                 h->cfg, net->mixup ? "mosaic, mixup or cutmix" : net->track ? "track" : "contrastive");
        return NULL;
    }
    host_det_loader *L = calloc(1, sizeof *L);
    if (!L) { snprintf(err, HOST_ERRLEN, "%s: out of memory", h->cfg); return NULL; }
    layer *l = head(h);
    load_args *a = &L->args;
    a->w = net->w; a->h = net->h; a->c = net->c;
    a->paths = paths; a->m = n;
    a->n = net->batch * net->subdivisions;
    a->classes = l->classes;
    a->jitter = l->jitter; a->resize = l->resize;
    a->num_boxes = l->max_boxes;
    a->truth_size = l->truth_size;
    a->flip = net->flip; a->blur = net->blur; a->gaussian_noise = net->gaussian_noise;
    a->angle = net->angle; a->exposure = net->exposure; a->saturation = net->saturation; a->hue = net->hue;
    a->letter_box = net->letter_box; a->mosaic_bound = net->mosaic_bound;
    a->d = &L->buffer;
    a->type = DETECTION_DATA;
    if (!g_loader_threads) {
        /* the first call makes the pool and says so on stderr from its thread: made quietly */
        g_loader_threads = threads > 0 ? threads : 8;
        a->threads = g_loader_threads;
        host__quiet q = host__quiet_on(1);
        L->thread = load_data(*a);
        free_data(take(L));
        host__quiet_off(q);
    }
    a->threads = g_loader_threads;
    L->thread = load_data(*a);
    L->running = 1;
    return L;
}

void host_det_loader_quiet(host_det_loader *L, int quiet) { L->quiet = quiet; }

void host_det_loader_free(host_det_loader *L) {
    if (!L) return;
    if (L->running) free_data(take(L));
    free(L);
}

host__quiet host__quiet_on(int on) {
    host__quiet q = { { -1, -1 }, -1 };
    if (on && (q.null = open("/dev/null", O_WRONLY)) >= 0) {
        fflush(stdout); fflush(stderr);
        q.saved[0] = dup(1); q.saved[1] = dup(2);
        dup2(q.null, 1); dup2(q.null, 2);
    }
    return q;
}

void host__quiet_off(host__quiet q) {
    fflush(stdout); fflush(stderr);
    for (int k = 0; k < 2; k++)
        if (q.saved[k] >= 0) { dup2(q.saved[k], k + 1); close(q.saved[k]); }
    if (q.null >= 0) close(q.null);
}

float host_det_train_step(host_net *h, host_det_loader *L) {
    data d = take(L);
    L->thread = load_data(L->args);
    L->running = 1;
    host__quiet q = host__quiet_on(L->quiet);
    float loss = train_network(*h->net, d);
    host__quiet_off(q);
    age_stats(h, d.X.rows);
    free_data(d);
    return loss;
}

float host_det_train_batch(host_net *h, float *x, float *truth, int n) {
    data d = { 0 };
    d.shallow = 1;
    d.X.rows = n; d.X.cols = h->net->inputs; d.X.vals = malloc(n * sizeof(float *));
    d.y.rows = n; d.y.cols = host_det_truths(h); d.y.vals = malloc(n * sizeof(float *));
    if (!d.X.vals || !d.y.vals) { free(d.X.vals); free(d.y.vals); return NAN; }
    for (int i = 0; i < n; i++) {
        d.X.vals[i] = x + (size_t)i * d.X.cols;
        d.y.vals[i] = truth + (size_t)i * d.y.cols;
    }
    host__quiet q = host__quiet_on(1);
    float loss = train_network(*h->net, d);
    host__quiet_off(q);
    age_stats(h, n);
    free(d.X.vals); free(d.y.vals);
    return loss;
}

int host_det_resize(host_net *h, host_det_loader *L, int w, int hgt) {
    if (L && L->running) free_data(take(L));   /* the batch in flight has the old size */
    host__quiet q = host__quiet_on(1);
    resize_network(h->net, w, hgt);
    host__quiet_off(q);
    if (L) {
        L->args.w = w; L->args.h = hgt;
        L->thread = load_data(L->args);
        L->running = 1;
    }
    return 0;
}

/* The library's loader reads an image's boxes from the file replace_image_to_label names:
 * in this Darknet beside the image (a.png -> a.txt) unless the path has one of COCO's or
 * VOC's folder names. With -fsemantic-interposition (scripts/build_alexeyab.sh) its
 * fill_truth_detection asks through the PLT, so this definition is the one used: the label
 * file that the detection commands check and score with (det_label_path, detect/labels.c:
 * images/ -> labels/, as pjreddie's Darknet and `darknet detset`). */
void replace_image_to_label(const char *input_path, char *output_path) {
    char err[DKMC_ERRLEN];
    /* fill_truth_detection's buffer holds 4096 bytes; on failure the image's own path, which
     * read_boxes then cannot read as labels (the commands check every label file first) */
    if (det_label_path(input_path, output_path, 4096, err)) snprintf(output_path, 4096, "%s", input_path);
}

/* A decoded image (CHW floats) as the library's image, then resized or letterboxed by it. */
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
    network_predict(*net, sized.data);
    free_image(sized);
    int nb = 0, classes = head(h)->classes;
    /* relative 1: boxes in fractions of the image; letter: undo the letterbox */
    detection *dets = get_network_boxes(net, w, hgt, thresh, 0.5f, 0, 1, &nb, letterbox);
    if (nms > 0) do_nms_sort(dets, nb, classes, nms);
    int rc = collect(dets, nb, classes, thresh, out, n);
    free_detections(dets, nb);
    if (rc) snprintf(err, HOST_ERRLEN, "%s: out of memory for %d boxes", path, nb);
    return rc;
}

/* ---- the detection loss (host.h, host_det_loss) ----
 * Written for this library's [yolo] forward (its yolo_layer.c at 59596d78) with the settings
 * whose delta is minus the gradient of one function: iou_loss=mse (its default), scale_x_y=1,
 * new_coords=0, objectness_smooth=0, label_smooth_eps=0, focal_loss=0, no counters_per_class,
 * iou_thresh=1 and truth_thresh=1 (their defaults), and none of [net]'s adversarial,
 * badlabels_rejection_percentage, num_sigmas_reject_badlabels, equidistant_point. Then the
 * delta of an objectness output is obj_normalizer (t - p), of a class output t - p, with a
 * hard target t (outputs whose best match is above ignore_thresh get none), and every truth
 * whose best anchor (of all, by the shapes' IoU) is in the layer's mask adds, at its cell,
 * s (tx - x), s (ty - y) for the logistic x, y and s (tw - w), s (th - h) for the raw w, h,
 * s = iou_normalizer (2 - w h): truths of one cell and anchor add up (pjreddie's: the last
 * wins). The function: obj_normalizer x the logistic cross-entropy of each objectness that
 * has a delta, the cross-entropy of each class output that has one, and per truth
 * s KL(tx || x) + s KL(ty || y) + s/2 (tw - w)^2 + s/2 (th - h)^2. */
static const char *unsupported_yolo(const layer *l, const network *net) {
    if (l->iou_loss != MSE) return "iou_loss= other than mse";
    if (l->scale_x_y != 1) return "scale_x_y= other than 1";
    if (l->new_coords) return "new_coords=1";
    if (l->objectness_smooth) return "objectness_smooth=1";
    if (l->label_smooth_eps != 0) return "label_smooth_eps=";
    if (l->focal_loss) return "focal_loss=1";
    if (l->classes_multipliers) return "counters_per_class=";
    if (l->iou_thresh < 1) return "iou_thresh= below 1";
    if (l->truth_thresh < 1) return "truth_thresh= below 1";
    if (l->map) return "map=";
    if (net->adversarial || net->badlabels_rejection_percentage || net->num_sigmas_reject_badlabels || net->equidistant_point)
        return "[net] adversarial/badlabels_rejection_percentage/num_sigmas_reject_badlabels/equidistant_point";
    return NULL;
}

int host_det_loss_check(const host_net *h, const char *command, char *err) {
    for (int i = 0; i < h->net->n; i++) {
        const layer *l = &h->net->layers[i];
        const char *why = l->type == YOLO ? unsupported_yolo(l, h->net) : NULL;
        if (why) {
            snprintf(err, HOST_ERRLEN, "%s: %s: layer %d [yolo] has %s; this host's detection loss is written for the "
                     "[yolo] of iou_loss=mse with the default scale_x_y, iou_thresh, truth_thresh and no smoothing",
                     h->cfg, command, i, why);
            return -1;
        }
    }
    return 0;
}

/* -log of the probability given to a hard target: p is a logistic output, p + d its target */
static double hard_ce(float p, double d) {
    double q = p + d > 0.5 ? p : 1.0 - p;
    return -log(q > 1e-30 ? q : 1e-30);
}

/* s * KL(t || p) for a logistic output p and a soft target t in [0, 1] */
static double soft_ce(double s, double t, double p) {
    p = p < 1e-30 ? 1e-30 : p > 1 - 1e-16 ? 1 - 1e-16 : p;
    double a = t > 0 ? t * log(t / p) : 0, b = t < 1 ? (1 - t) * log((1 - t) / (1 - p)) : 0;
    return s * (a + b);
}

/* The anchor of the mask that the layer's second loop gives truth tr, -1 if its best anchor
 * (of all l->total, by the IoU of the shapes) is not in the mask; *best, *cell. */
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

static double yolo_image_loss(const layer *l, const network *net, const float *truth, int b) {
    int wh = l->w * l->h, C = l->classes;
    double s = 0;
    for (int n = 0; n < l->n; n++) {
        size_t at = (size_t)b * l->outputs + (size_t)n * wh * (5 + C) + 4 * (size_t)wh;
        for (size_t i = 0; i < (size_t)(1 + C) * wh; i++) {
            float d = l->delta[at + i];
            if (d == 0) continue;
            double k = i < (size_t)wh ? l->obj_normalizer : 1;
            s += k * hard_ce(l->output[at + i], d / k);
        }
    }
    const float *tb = truth + (size_t)b * l->truths;
    for (int t = 0; t < l->max_boxes; t++) {
        const float *tr = tb + (size_t)t * l->truth_size;
        if (!tr[0]) break;
        if ((int)tr[4] < 0 || (int)tr[4] >= C) continue;
        int best, cell, m = yolo_anchor(l, net, tr, &best, &cell);
        if (m < 0) continue;
        size_t idx = (size_t)b * l->outputs + (size_t)m * wh * (5 + C) + cell;
        double sc = l->iou_normalizer * (2 - tr[2] * tr[3]);
        double tx = tr[0] * l->w - cell % l->w, ty = tr[1] * l->h - cell / l->w;
        double tw = log(tr[2] * net->w / l->biases[2 * best]), th = log(tr[3] * net->h / l->biases[2 * best + 1]);
        const float *o = l->output;
        double dw = tw - o[idx + 2 * wh], dh = th - o[idx + 3 * wh];
        s += soft_ce(sc, tx, o[idx]) + soft_ce(sc, ty, o[idx + wh]) + 0.5 * sc * (dw * dw + dh * dh);
    }
    return s;
}

double host__det_loss_sum(const host_net *h, const float *truth, int n) {
    double s = 0;
    for (int i = 0; i < h->net->n; i++) {
        const layer *l = &h->net->layers[i];
        if (l->type == YOLO)
            for (int b = 0; b < n; b++) s += yolo_image_loss(l, h->net, truth, b);
    }
    return s;
}

/* Inference-mode forward (BN with its running statistics) in which the [yolo] layers see
 * train = 1, so that they compare with the truth and write their deltas. */
double host_det_loss(host_net *h, const float *x, const float *truth, int n) {
    network *net = h->net;
    int B = h->full_batch;
    if (n > B) n = B;
    if (net->batch != n) set_batch_network(net, n);
    memcpy(h->input, x, (size_t)n * net->inputs * sizeof(float));
    memcpy(h->truth, truth, (size_t)n * host_det_truths(h) * sizeof(float));
    network_state st;
    memset(&st, 0, sizeof st);
    st.net = *net;
    st.input = h->input;
    st.truth = h->truth;
    st.workspace = net->workspace;
    host__quiet q = host__quiet_on(1);
    for (int i = 0; i < net->n; i++) {
        layer l = net->layers[i];
        st.index = i;
        st.train = l.type == YOLO;
        l.forward(l, st);
        st.input = l.output;
    }
    host__quiet_off(q);
    double s = host__det_loss_sum(h, h->truth, n);
    if (net->batch != B) set_batch_network(net, B);
    return s;
}

int host_det_truth_size(const host_net *h) { return head(h)->truth_size; }

/* The call the library's DETECTION_DATA loader makes, in the calling thread, after srand(seed)
 * (its random_gen is rand()). */
int host_det_load_batch(host_net *h, char **paths, int m, unsigned seed, float *x, float *truth, char *err) {
    network *net = h->net;
    layer *l = head(h);
    int n = net->batch, nt = host_det_truths(h);
    if (net->c != 3) { snprintf(err, HOST_ERRLEN, "%s: the detection loader makes 3-channel images, the cfg has channels=%d", h->cfg, net->c); return -1; }
    srand(seed);
    host__quiet q = host__quiet_on(1);
    data d = load_data_detection(n, paths, m, net->w, net->h, net->c, l->max_boxes, l->truth_size, l->classes, net->flip,
                                 net->gaussian_noise, net->blur, 0, l->jitter, l->resize, net->hue, net->saturation,
                                 net->exposure, 0, 0, 0, net->letter_box, net->mosaic_bound, 0, 0, 0, 0);
    host__quiet_off(q);
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * net->inputs, d.X.vals[i], (size_t)net->inputs * sizeof(float));
        memset(truth + (size_t)i * nt, 0, (size_t)nt * sizeof(float));
        memcpy(truth + (size_t)i * nt, d.y.vals[i], (size_t)(d.y.cols < nt ? d.y.cols : nt) * sizeof(float));
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

/* this library's get_label takes the glyph size itself; host_draw.c */
const int host__label_size_scale = 1;
