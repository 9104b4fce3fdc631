/* gpu_kernels.h: our CUDA kernels (gpu_kernels.cu), for GPU=1 builds only. The weight-space
 * arithmetic of curve training and SGD done where the weights live, so that a training step
 * moves no weights between host and device: w(t) from the K bends in one fused kernel, the
 * bends' momentum update in another, plain SGD in a third. Darknet's gradient accumulators
 * hold -sum over the batch; `gscale` (-1/batch) turns them into the mean gradient.
 * Every launcher works on the default stream, like Darknet's own kernels, so the order of
 * Darknet's calls and ours is the order of the calls. */
#ifndef GPU_KERNELS_H
#define GPU_KERNELS_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

#define GK_MAX_BENDS 64

/* Device memory: zeroed allocation (NULL on failure), free, copies (0 or -1). */
void *gk_malloc(size_t bytes);
void gk_free(void *p);
int gk_push(void *dst_dev, const void *src_host, size_t bytes);
int gk_pull(void *dst_host, const void *src_dev, size_t bytes);
/* The CUDA error of the last launch or copy, as a sentence ("no error" if none). */
const char *gk_last_error(void);

/* w = sum_j c[j] bends[j], j < k (k <= GK_MAX_BENDS); one pass over the K bends. */
void gk_curve_point(size_t n, int k, float *const *bends, const float *c, float *w);

/* One step of the curve's free bends at the point w = w(t):
 *   g = gscale graw + decay mask w,  and for each j with mom[j] != NULL:
 *   mom[j] = momentum mom[j] + c[j] g,  bends[j] -= lr mom[j].
 * *l2 gets sum over mask of w^2 (the objective's l2 term, before the step). Returns the
 * first bend that holds a non-finite value after the step, -1 if none, -2 on a CUDA error. */
int gk_curve_update(size_t n, int k, float *const *bends, float *const *mom, const float *c,
                    const float *graw, float gscale, const float *w, const unsigned char *mask,
                    float decay, float lr, float momentum, double *l2);

/* Darknet's SGD in normal form: d = gscale graw + decay mask w; v = momentum v + d;
 * w -= lr v. Returns 1 if a weight became non-finite, 0 if not, -2 on a CUDA error. */
int gk_sgd(size_t n, float *w, float *v, const float *graw, float gscale, const unsigned char *mask,
           float lr, float momentum, float decay);

#ifdef __cplusplus
}
#endif
#endif
