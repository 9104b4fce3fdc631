/* host_gpu.c: the host module's device side (GPU=1 builds). A network loaded while Darknet's
 * gpu_index is >= 0 runs forward/backward on that GPU through Darknet's own kernels
 * (forward_network/backward_network dispatch to their _gpu versions; input and truth are
 * pushed, the output pulled, by Darknet). Its parameters, gradient accumulators and BN
 * statistics then live on the device: the view's reads pull, its writes push, and the
 * host_dev_* calls move whole parameter vectors between the network and device vectors of
 * ours without touching the host. With -nogpu (gpu_index -1) the same library runs its CPU
 * path and none of this is used. In CPU builds the functions are no-ops. */
#include <stdio.h>
#include <string.h>
#include "host_private.h"

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
#else
int host__gpu_check(const char *cfg, char *err) { (void)cfg; (void)err; return 0; }
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
#endif

int host_gpu(const host_net *h) { return h->gpu; }
