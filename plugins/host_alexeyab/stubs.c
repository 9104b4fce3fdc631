/* stubs.c of the second host: what it does not do yet. The CPU only (the device calls as in a
 * CPU build of pjreddie's host: the optimiser state stays with the caller); no detectors
 * (host_load_detector refuses with one line, so none of the host_det_* below is reached). */
#include <stdio.h>
#include <stdlib.h>
#include "host_private.h"

int host_gpu_count(void) { return 0; }
int host_select_gpu(int index, char *err) {
    if (index < 0) return 0;
    snprintf(err, HOST_ERRLEN, "-gpu %d: this darknet runs on the CPU (AlexeyAB's Darknet, CPU build)", index);
    return -1;
}
int host_gpu(const host_net *h) { return h->gpu; }
/* CPU builds: the optimiser state stays with the caller, on the host */
host_dev_curve *host_dev_curve_new(host_net *h, size_t n, int k, float *const *bends, float *const *mom,
                                   const unsigned char *mask, char *err) {
    (void)h; (void)n; (void)k; (void)bends; (void)mom; (void)mask;
    err[0] = 0;
    return NULL;
}
int host_dev_curve_step(host_dev_curve *d, const float *c, const float *x, const float *y, float lr, float decay,
                        float momentum, float *nll, int *hits, double *l2, int *bad, char *why) {
    (void)d; (void)c; (void)x; (void)y; (void)lr; (void)decay; (void)momentum; (void)nll; (void)hits; (void)l2;
    *bad = -1;
    snprintf(why, HOST_ERRLEN, "no GPU in this build");
    return HOST_STEP_DEVICE;
}
int host_dev_curve_pull(host_dev_curve *d, float *const *bends, float *const *mom, char *err) {
    (void)d; (void)bends; (void)mom; (void)err;
    return 0;
}
void host_dev_curve_free(host_dev_curve *d) { (void)d; }
host_dev_sgd *host_dev_sgd_new(host_net *h, size_t n, const unsigned char *mask, char *err) {
    (void)h; (void)n; (void)mask;
    err[0] = 0;
    return NULL;
}
int host_dev_sgd_step(host_dev_sgd *d, const float *x, const float *y, float lr, float momentum, float decay,
                      float *loss, int *hits, char *why) {
    (void)d; (void)x; (void)y; (void)lr; (void)momentum; (void)decay; (void)loss; (void)hits;
    snprintf(why, HOST_ERRLEN, "no GPU in this build");
    return HOST_STEP_DEVICE;
}
int host_dev_sgd_pull(host_dev_sgd *d, float *w) { (void)d; (void)w; return 0; }
void host_dev_sgd_free(host_dev_sgd *d) { (void)d; }

/* ---- detectors: not on this host yet ---- */
int host_det_classes(const host_net *h) { (void)h; return 0; }
int host_det_random(const host_net *h) { (void)h; return 0; }
uint64_t host_det_batch_num(const host_net *h) { (void)h; return 0; }
int host_det_images_per_step(const host_net *h) { (void)h; return 0; }
int host_det_truths(const host_net *h) { (void)h; return 0; }
host_det_loader *host_det_loader_new(host_net *h, char **paths, int n, int threads, char *err) {
    (void)paths; (void)n; (void)threads;
    snprintf(err, HOST_ERRLEN, "%s: detectors are not supported on this host yet", h->cfg);
    return NULL;
}
void host_det_loader_free(host_det_loader *L) { (void)L; }
void host_det_loader_quiet(host_det_loader *L, int quiet) { (void)L; (void)quiet; }
float host_det_train_step(host_net *h, host_det_loader *L) { (void)h; (void)L; return NAN; }
float host_det_train_batch(host_net *h, float *x, float *truth, int n) { (void)h; (void)x; (void)truth; (void)n; return NAN; }
double host_det_loss(host_net *h, const float *x, const float *truth, int n) {
    (void)h; (void)x; (void)truth; (void)n; return NAN;
}
int host_det_load_batch(host_net *h, char **paths, int m, unsigned seed, float *x, float *truth, char *err) {
    (void)paths; (void)m; (void)seed; (void)x; (void)truth;
    snprintf(err, HOST_ERRLEN, "%s: detectors are not supported on this host yet", h->cfg);
    return -1;
}
int host_det_resize(host_net *h, host_det_loader *L, int w, int hgt) { (void)h; (void)L; (void)w; (void)hgt; return -1; }
int host_det_predict(host_net *h, const char *image, float thresh, float nms, int letterbox, host_det **out, int *n,
                     char *err) {
    (void)image; (void)thresh; (void)nms; (void)letterbox; *out = NULL; *n = 0;
    snprintf(err, HOST_ERRLEN, "%s: detectors are not supported on this host yet", h->cfg);
    return -1;
}
int host_det_input(const host_net *h, const char *image, int letterbox, float *x, char *err) {
    (void)image; (void)letterbox; (void)x;
    snprintf(err, HOST_ERRLEN, "%s: detectors are not supported on this host yet", h->cfg);
    return -1;
}
int host_det_draw(const char *image, const host_det *d, int n, int classes, char *const *names, const char *labels_dir,
                  float **pix, int *w, int *h, int *labeled, char *err) {
    (void)d; (void)n; (void)classes; (void)names; (void)labels_dir; *pix = NULL; *w = *h = 0; *labeled = 0;
    snprintf(err, HOST_ERRLEN, "%s: drawing boxes is not supported on this host yet", image);
    return -1;
}
void host_det_color(int cls, int classes, float rgb[3]) { (void)cls; (void)classes; rgb[0] = rgb[1] = rgb[2] = 0; }
