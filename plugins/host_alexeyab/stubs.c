/* stubs.c of the second host: what it does not do yet. The CPU only (the device calls as in a
 * CPU build of pjreddie's host: the optimiser state stays with the caller). Detectors are in
 * host_detect.c. */
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
