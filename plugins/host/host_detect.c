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

float host_det_train_step(host_net *h, host_det_loader *L) {
    data d = take(L);
    L->thread = load_data(L->args);
    L->running = 1;
    /* the library's [yolo]/[region] layers printf a line per layer and step */
    int saved = -1, null = -1;
    if (L->quiet && (null = open("/dev/null", O_WRONLY)) >= 0) {
        fflush(stdout);
        saved = dup(1);
        dup2(null, 1);
    }
    float loss = train_network(h->net, d);
    age_stats(h, d.X.rows);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
    }
    if (null >= 0) close(null);
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

int host_det_input(host_net *h, const char *path, int letterbox, float *x, char *err) {
    int w, hgt;
    float *pix = data_read_image(path, 3, &w, &hgt, err);
    if (!pix) return -1;
    image sized = input_image(h, pix, w, hgt, letterbox);
    free(pix);
    memcpy(x, sized.data, (size_t)h->net->w * h->net->h * 3 * sizeof *x);
    free_image(sized);
    return 0;
}

void host_det_color(int cls, int classes, float rgb[3]) {
    int offset = cls * 123457 % classes;
    rgb[0] = get_color(2, offset, classes);
    rgb[1] = get_color(1, offset, classes);
    rgb[2] = get_color(0, offset, classes);
}

/* Darknet's glyphs of one size (get_label's index size / 10, at most 7) from labels_dir, in
 * the layout get_label reads (alphabet[size][char]); NULL where one is missing. */
static image **glyphs(const char *dir, int size) {
    if (!dir) return NULL;
    image **a = calloc(8, sizeof *a);
    if (!a || !(a[size] = calloc(128, sizeof **a))) { free(a); return NULL; }
    char path[4096], err[DKMC_ERRLEN];
    for (int c = 32; c < 127; c++) {
        snprintf(path, sizeof path, "%s/%d_%d.png", dir, c, size);
        int w, hgt;
        float *pix = data_read_image(path, 3, &w, &hgt, err);
        if (!pix) {
            for (int k = 32; k < c; k++) free_image(a[size][k]);
            free(a[size]); free(a);
            return NULL;
        }
        a[size][c] = (image){ w, hgt, 3, pix };
    }
    return a;
}

static void glyphs_free(image **a, int size) {
    if (!a) return;
    for (int c = 32; c < 127; c++) free_image(a[size][c]);
    free(a[size]); free(a);
}

static int clip_px(double v, int n) { return v > n - 1 ? n - 1 : v > 0 ? (int)v : 0; }   /* NaN: 0 */

static void draw_one(image im, const host_det *d, int classes, char *const *names, image **alpha, int size) {
    float rgb[3];
    host_det_color(d->cls, classes, rgb);
    int width = im.h * .006 < 1 ? 1 : (int)(im.h * .006);
    /* Darknet's int() then clip to the image, clipped first here: a box far outside the image
     * (a young network's exp(w)) must not overflow the int */
    int left = clip_px((d->x - d->w / 2.) * im.w, im.w), right = clip_px((d->x + d->w / 2.) * im.w, im.w);
    int top = clip_px((d->y - d->h / 2.) * im.h, im.h), bot = clip_px((d->y + d->h / 2.) * im.h, im.h);
    draw_box_width(im, left, top, right, bot, width, rgb[0], rgb[1], rgb[2]);
    if (!alpha) return;
    char text[256];
    if (names) snprintf(text, sizeof text, "%s", names[d->cls]);
    else snprintf(text, sizeof text, "class %d", d->cls);
    for (char *t = text; *t; t++) if (*t < 32 || *t > 126) *t = '?';   /* glyphs exist for ASCII only */
    image label = get_label(alpha, text, size * 10);
    draw_label(im, top + width, left, label, rgb);
    free_image(label);
}

int host_det_draw(const char *path, const host_det *d, int n, int classes, char *const *names, const char *labels_dir,
                  float **pix, int *w, int *h, int *labeled, char *err) {
    *pix = data_read_image(path, 3, w, h, err);
    if (!*pix) return -1;
    for (int i = 0; i < n; i++)
        if (d[i].cls < 0 || d[i].cls >= classes) {
            snprintf(err, HOST_ERRLEN, "%s: box %d has class %d, not in 0..%d", path, i, d[i].cls, classes - 1);
            free(*pix); *pix = NULL;
            return -1;
        }
    image im = { *w, *h, 3, *pix };
    int size = (int)(im.h * .03) / 10;   /* get_label's glyph size for Darknet's im.h * .03 */
    if (size > 7) size = 7;
    image **alpha = glyphs(labels_dir, size);
    for (int i = 0; i < n; i++) draw_one(im, &d[i], classes, names, alpha, size);
    *labeled = alpha != NULL;
    glyphs_free(alpha, size);
    return 0;
}
