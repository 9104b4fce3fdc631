/* host_gpu.c: the host module's device side (GPU=1 builds). A network loaded while Darknet's
 * gpu_index is >= 0 runs forward/backward on that GPU through Darknet's own kernels
 * (forward_network/backward_network dispatch to their _gpu versions; input and truth are
 * pushed, the output pulled, by Darknet). Its parameters, gradient accumulators and BN
 * statistics then live on the device: the view's reads pull, its writes push, and the
 * host_dev_* calls move whole parameter vectors between the network and device vectors of
 * ours without touching the host. With -nogpu (gpu_index -1) the same library runs its CPU
 * path and none of this is used. In CPU builds the functions are no-ops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host_private.h"
#ifdef GPU
#include "gpu_kernels.h"
#endif

#ifdef GPU
int host__gpu_check(const char *cfg, char *err) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count < 1) {
        /* Darknet's GPU build allocates device memory for some layers even on its CPU path,
         * and asserts when that fails: refuse here, in one line, before it does */
        snprintf(err, HOST_ERRLEN, "%s: this darknet is a GPU build (GPU=1) and needs a CUDA device, but none is usable "
                 "(%s); use a CPU build of libdarknet and make GPU=0", cfg,
                 e != cudaSuccess ? cudaGetErrorString(e) : "no device found");
        return -1;
    }
    if (gpu_index >= count) {
        snprintf(err, HOST_ERRLEN, "%s: -gpu %d: this machine has %d CUDA device%s", cfg, gpu_index, count, count == 1 ? "" : "s");
        return -1;
    }
    if (gpu_index >= 0) cuda_set_device(gpu_index);   /* as Darknet's main does: the parser allocates on it */
    return 0;
}

int host_gpu_count(void) {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

int host_select_gpu(int index, char *err) {
    (void)err;
    gpu_index = index < 0 ? -1 : index;
    return 0;
}

/* a block without a device twin (a network on the CPU path of a GPU build: -nogpu) has nothing to move */
void host__block_pull(const host_net *h, int i, float *dst) { if (h->dvalue[i]) cuda_pull_array(h->dvalue[i], dst, h->blocks[i].n); }
void host__block_push(host_net *h, int i, const float *src) { if (h->dvalue[i]) cuda_push_array(h->dvalue[i], (float *)src, h->blocks[i].n); }
void host__pull_all(const host_net *h) {
    for (int i = 0; i < h->nblocks; i++) if (h->dvalue[i]) host__block_pull(h, i, h->blocks[i].value);
}
void host__push_all(host_net *h) {
    for (int i = 0; i < h->nblocks; i++) if (h->dvalue[i]) host__block_push(h, i, h->blocks[i].value);
}
void host__zero_grad_dev(host_net *h) {
    for (int i = 0; i < h->nblocks; i++) if (h->dgrad[i]) fill_gpu((int)h->blocks[i].n, 0, h->dgrad[i], 1);
}
void host__pull_grad(const host_net *h, int i, float *dst) { cuda_pull_array(h->dgrad[i], dst, h->blocks[i].n); }
void host__pull_bn_batch(layer *l, int c, double m) {
    if (!l->mean_gpu) return;
    cuda_pull_array(l->mean_gpu, l->mean, c);
    cuda_pull_array(l->variance_gpu, l->variance, c);
#ifdef CUDNN
    /* With cuDNN, Darknet's training forward is cudnnBatchNormalizationForwardTraining, which
     * leaves in variance_gpu its saved inverse standard deviation 1/sqrt(var + 1e-5) of the
     * biased batch variance (epsilon as Darknet passes it). Turned back into the unbiased
     * variance that Darknet's own kernels leave there, so the caller's pooling is the same. */
    for (int i = 0; i < c; i++) {
        double inv = l->variance[i];
        double var = inv > 0 ? 1.0 / (inv * inv) - 1e-5 : 0;
        if (var < 0) var = 0;
        l->variance[i] = (float)(m > 1 ? var * m / (m - 1) : var);
    }
#else
    (void)m;
#endif
}

/* device to device, block by block, with Darknet's copy kernel (same stream as ours) */
void host_dev_get_params(const host_net *h, float *d) {
    for (int i = 0; i < h->nblocks; i++)
        if (h->dgrad[i]) copy_gpu((int)h->blocks[i].n, h->dvalue[i], 1, d + h->blocks[i].offset, 1);
}
void host_dev_set_params(host_net *h, const float *d) {
    for (int i = 0; i < h->nblocks; i++)
        if (h->dgrad[i]) copy_gpu((int)h->blocks[i].n, (float *)d + h->blocks[i].offset, 1, h->dvalue[i], 1);
}
void host_dev_get_grad_sum(const host_net *h, float *d) {
    for (int i = 0; i < h->nblocks; i++)
        if (h->dgrad[i]) copy_gpu((int)h->blocks[i].n, h->dgrad[i], 1, d + h->blocks[i].offset, 1);
}

/* ---- optimiser state on the device (see host.h) ---- */
struct host_dev_curve {
    host_net *h;
    size_t n;
    int k;
    float *bend[GK_MAX_BENDS], *mom[GK_MAX_BENDS], *w, *g;
    unsigned char *mask;
};

void host_dev_curve_free(host_dev_curve *d) {
    if (!d) return;
    for (int j = 0; j < GK_MAX_BENDS; j++) { gk_free(d->bend[j]); gk_free(d->mom[j]); }
    gk_free(d->w); gk_free(d->g); gk_free(d->mask);
    free(d);
}

host_dev_curve *host_dev_curve_new(host_net *h, size_t n, int k, float *const *bends, float *const *mom,
                                   const unsigned char *mask, char *err) {
    err[0] = 0;
    if (h->gpu < 0) return NULL;
    if (k > GK_MAX_BENDS) { snprintf(err, HOST_ERRLEN, "%d bends: the GPU step takes at most %d", k, GK_MAX_BENDS); return NULL; }
    host_dev_curve *d = calloc(1, sizeof *d);
    if (!d) { snprintf(err, HOST_ERRLEN, "out of memory"); return NULL; }
    size_t bytes = n * sizeof(float);
    d->h = h; d->n = n; d->k = k;
    d->w = gk_malloc(bytes); d->g = gk_malloc(bytes); d->mask = gk_malloc(n);
    int bad = !d->w || !d->g || !d->mask || gk_push(d->mask, mask, n);
    for (int j = 0; j < k && !bad; j++) {
        d->bend[j] = gk_malloc(bytes);
        bad = !d->bend[j] || gk_push(d->bend[j], bends[j], bytes);
        if (!bad && mom[j]) {
            d->mom[j] = gk_malloc(bytes);
            bad = !d->mom[j] || gk_push(d->mom[j], mom[j], bytes);
        }
    }
    if (bad) {
        snprintf(err, HOST_ERRLEN, "the curve's %d bends on the GPU (%zu floats each): %s", k, n, gk_last_error());
        host_dev_curve_free(d);
        return NULL;
    }
    return d;
}

int host_dev_curve_step(host_dev_curve *d, const float *c, const float *x, const float *y, float lr, float decay,
                        float momentum, float *nll, int *hits, double *l2, int *bad, char *why) {
    host_net *h = d->h;
    *bad = -1;
    *l2 = 0;
    gk_curve_point(d->n, d->k, d->bend, c, d->w);
    host_dev_set_params(h, d->w);
    *nll = host_step(h, x, y, hits);
    if (!isfinite(*nll)) return HOST_STEP_LOSS;
    host_dev_get_grad_sum(h, d->g);
    int r = gk_curve_update(d->n, d->k, d->bend, d->mom, c, d->g, -1.0f / host_batch(h), d->w, d->mask, decay, lr,
                            momentum, l2);
    if (r == -2) { snprintf(why, HOST_ERRLEN, "CUDA error: %s", gk_last_error()); return HOST_STEP_DEVICE; }
    if (r >= 0) { *bad = r; return HOST_STEP_STATE; }
    return 0;
}

int host_dev_curve_pull(host_dev_curve *d, float *const *bends, float *const *mom, char *err) {
    size_t bytes = d->n * sizeof(float);
    for (int j = 0; j < d->k; j++)
        if (gk_pull(bends[j], d->bend[j], bytes) || (d->mom[j] && mom[j] && gk_pull(mom[j], d->mom[j], bytes))) {
            snprintf(err, HOST_ERRLEN, "copying bend %d from the GPU: %s", j, gk_last_error());
            return -1;
        }
    return 0;
}

struct host_dev_sgd {
    host_net *h;
    size_t n;
    float *w, *g, *v;
    unsigned char *mask;
};

void host_dev_sgd_free(host_dev_sgd *d) {
    if (!d) return;
    gk_free(d->w); gk_free(d->g); gk_free(d->v); gk_free(d->mask);
    free(d);
}

host_dev_sgd *host_dev_sgd_new(host_net *h, size_t n, const unsigned char *mask, char *err) {
    err[0] = 0;
    if (h->gpu < 0) return NULL;
    host_dev_sgd *d = calloc(1, sizeof *d);
    if (!d) { snprintf(err, HOST_ERRLEN, "out of memory"); return NULL; }
    size_t bytes = n * sizeof(float);
    d->h = h; d->n = n;
    d->w = gk_malloc(bytes); d->g = gk_malloc(bytes); d->v = gk_malloc(bytes); d->mask = gk_malloc(n);
    if (!d->w || !d->g || !d->v || !d->mask || gk_push(d->mask, mask, n)) {
        snprintf(err, HOST_ERRLEN, "SGD's %zu weights on the GPU: %s", n, gk_last_error());
        host_dev_sgd_free(d);
        return NULL;
    }
    host_dev_get_params(h, d->w);
    return d;
}

int host_dev_sgd_step(host_dev_sgd *d, const float *x, const float *y, float lr, float momentum, float decay,
                      float *loss, int *hits, char *why) {
    host_net *h = d->h;
    *loss = host_step(h, x, y, hits);
    if (!isfinite(*loss)) return HOST_STEP_LOSS;
    host_dev_get_grad_sum(h, d->g);
    int bad = gk_sgd(d->n, d->w, d->v, d->g, -1.0f / host_batch(h), d->mask, lr, momentum, decay);
    if (bad < 0) { snprintf(why, HOST_ERRLEN, "CUDA error: %s", gk_last_error()); return HOST_STEP_DEVICE; }
    if (bad) return HOST_STEP_STATE;
    host_dev_set_params(h, d->w);
    host_set_seen(h, host_seen(h) + (uint64_t)host_batch(h));
    return 0;
}

int host_dev_sgd_pull(host_dev_sgd *d, float *w) { return gk_pull(w, d->w, d->n * sizeof(float)) ? -1 : 0; }
#else
int host__gpu_check(const char *cfg, char *err) { (void)cfg; (void)err; return 0; }
int host_gpu_count(void) { return 0; }
int host_select_gpu(int index, char *err) {
    if (index < 0) return 0;
    snprintf(err, HOST_ERRLEN, "-gpu %d: this darknet was built without GPU support (make GPU=1 against a GPU build of "
             "libdarknet); it runs on the CPU", index);
    return -1;
}
void host__block_pull(const host_net *h, int i, float *dst) { (void)h; (void)i; (void)dst; }
void host__block_push(host_net *h, int i, const float *src) { (void)h; (void)i; (void)src; }
void host__pull_all(const host_net *h) { (void)h; }
void host__push_all(host_net *h) { (void)h; }
void host__zero_grad_dev(host_net *h) { (void)h; }
void host__pull_grad(const host_net *h, int i, float *dst) { (void)h; (void)i; (void)dst; }
void host__pull_bn_batch(layer *l, int c, double m) { (void)l; (void)c; (void)m; }

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
#endif

int host_gpu(const host_net *h) { return h->gpu; }
