/* gpu_kernels.cu: the kernels of gpu_kernels.h. Grid-stride loops over the n parameters;
 * the reductions (l2 term, non-finite check) reduce per block in shared memory and then
 * once per block into a small device result, which is read back (a few bytes) per step. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include "gpu_kernels.h"

#define THREADS 256

static cudaError_t g_err = cudaSuccess;
static int note(cudaError_t e) { if (e != cudaSuccess) { g_err = e; return -1; } return 0; }
extern "C" const char *gk_last_error(void) { return cudaGetErrorString(g_err); }

static unsigned blocks_for(size_t n) {
    size_t b = (n + THREADS - 1) / THREADS;
    if (b > 4096) b = 4096;
    return b ? (unsigned)b : 1;
}

extern "C" void *gk_malloc(size_t bytes) {
    void *p = NULL;
    if (note(cudaMalloc(&p, bytes ? bytes : 1))) return NULL;
    if (note(cudaMemset(p, 0, bytes ? bytes : 1))) { cudaFree(p); return NULL; }
    return p;
}
extern "C" void gk_free(void *p) { if (p) cudaFree(p); }
extern "C" int gk_push(void *dst, const void *src, size_t bytes) { return note(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice)); }
extern "C" int gk_pull(void *dst, const void *src, size_t bytes) { return note(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost)); }

/* the bends travel by value in the kernel's parameters (1.3 KB of the 4 KB allowed) */
struct bendset { float *b[GK_MAX_BENDS]; float *m[GK_MAX_BENDS]; float c[GK_MAX_BENDS]; };

__global__ void curve_point_kernel(size_t n, int k, bendset s, float *w) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float acc = 0;
        for (int j = 0; j < k; j++) acc += s.c[j] * s.b[j][i];
        w[i] = acc;
    }
}

extern "C" void gk_curve_point(size_t n, int k, float *const *bends, const float *c, float *w) {
    bendset s;
    for (int j = 0; j < k && j < GK_MAX_BENDS; j++) { s.b[j] = bends[j]; s.m[j] = NULL; s.c[j] = c[j]; }
    curve_point_kernel<<<blocks_for(n), THREADS>>>(n, k, s, w);
    note(cudaGetLastError());
}

struct step_result { double l2; int bad; };

/* per-block sum of squares and minimum bad bend, then one atomic per block */
__device__ static void block_reduce(double l2, int bad, step_result *r) {
    __shared__ double s2[THREADS];
    __shared__ int sb[THREADS];
    s2[threadIdx.x] = l2; sb[threadIdx.x] = bad;
    __syncthreads();
    for (int h = THREADS / 2; h > 0; h >>= 1) {
        if (threadIdx.x < h) {
            s2[threadIdx.x] += s2[threadIdx.x + h];
            if (sb[threadIdx.x + h] < sb[threadIdx.x]) sb[threadIdx.x] = sb[threadIdx.x + h];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) { atomicAdd(&r->l2, s2[0]); atomicMin(&r->bad, sb[0]); }
}

__global__ void curve_update_kernel(size_t n, int k, bendset s, const float *graw, float gscale, const float *w,
                                    const unsigned char *mask, float decay, float lr, float momentum, step_result *r) {
    double l2 = 0;
    int bad = k;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float wi = w[i], g = gscale * graw[i];
        if (mask[i]) { g += decay * wi; l2 += (double)wi * wi; }
        for (int j = 0; j < k; j++) {
            if (!s.m[j]) continue;
            float v = momentum * s.m[j][i] + s.c[j] * g;
            float th = s.b[j][i] - lr * v;
            s.m[j][i] = v;
            s.b[j][i] = th;
            if (!isfinite(th) && j < bad) bad = j;
        }
    }
    block_reduce(l2, bad, r);
}

static step_result *g_result;   /* device scratch, allocated once */

static int result_begin(int k) {
    if (!g_result && note(cudaMalloc(&g_result, sizeof *g_result))) return -1;
    step_result z = { 0, k };
    return note(cudaMemcpy(g_result, &z, sizeof z, cudaMemcpyHostToDevice));
}

extern "C" int gk_curve_update(size_t n, int k, float *const *bends, float *const *mom, const float *c,
                               const float *graw, float gscale, const float *w, const unsigned char *mask,
                               float decay, float lr, float momentum, double *l2) {
    if (k > GK_MAX_BENDS || result_begin(k)) return -2;
    bendset s;
    for (int j = 0; j < k; j++) { s.b[j] = bends[j]; s.m[j] = mom[j]; s.c[j] = c[j]; }
    curve_update_kernel<<<blocks_for(n), THREADS>>>(n, k, s, graw, gscale, w, mask, decay, lr, momentum, g_result);
    if (note(cudaGetLastError())) return -2;
    step_result r;
    if (note(cudaMemcpy(&r, g_result, sizeof r, cudaMemcpyDeviceToHost))) return -2;
    if (l2) *l2 = r.l2;
    return r.bad < k ? r.bad : -1;
}

__global__ void sgd_kernel(size_t n, float *w, float *v, const float *graw, float gscale, const unsigned char *mask,
                           float lr, float momentum, float decay, step_result *r) {
    int bad = 1;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float wi = w[i], d = gscale * graw[i];
        if (mask[i]) d += decay * wi;
        float vi = momentum * v[i] + d;
        wi -= lr * vi;
        v[i] = vi;
        w[i] = wi;
        if (!isfinite(wi)) bad = 0;
    }
    block_reduce(0, bad, r);
}

extern "C" int gk_sgd(size_t n, float *w, float *v, const float *graw, float gscale, const unsigned char *mask,
                      float lr, float momentum, float decay) {
    if (result_begin(1)) return -2;
    sgd_kernel<<<blocks_for(n), THREADS>>>(n, w, v, graw, gscale, mask, lr, momentum, decay, g_result);
    if (note(cudaGetLastError())) return -2;
    step_result r;
    if (note(cudaMemcpy(&r, g_result, sizeof r, cudaMemcpyDeviceToHost))) return -2;
    return r.bad == 0;
}
