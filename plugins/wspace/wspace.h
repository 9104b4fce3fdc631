/* wspace.h: weight-space vectors and files. Flat float vectors (axpy, dot, norm, linear
 * combinations), the plugin's SGD step that reproduces Darknet's update_network, and the
 * .weights file format (read with size checks, written atomically). */
#ifndef WSPACE_H
#define WSPACE_H
#include <stddef.h>
#include <stdint.h>

/* ---- vectors (double accumulation for reductions) ---- */
void   ws_copy(size_t n, const float *x, float *y);
void   ws_fill(size_t n, float a, float *y);
void   ws_scale(size_t n, float a, float *y);
void   ws_axpy(size_t n, float a, const float *x, float *y);         /* y += a x */
double ws_dot(size_t n, const float *x, const float *y);
double ws_norm(size_t n, const float *x);
double ws_dist(size_t n, const float *x, const float *y);           /* ||x - y|| */
/* out = sum_k c[k] * v[k] */
void   ws_combine(size_t n, int k, const float *c, const float *const *v, float *out);
int    ws_all_finite(size_t n, const float *x);

/* ---- SGD with momentum and weight decay, Darknet semantics ----
 * v = momentum*v + (g + decay*mask*w); w -= lr*v. mask may be NULL (decay everything). */
void ws_sgd_step(size_t n, float *w, const float *g, float *v, float lr, float momentum,
                 float decay, const unsigned char *mask);

/* ---- .weights files ----
 * Header: int major, minor, revision; then size_t seen if major*10+minor >= 2 (int otherwise);
 * then the float payload. We write major 0, minor 2, revision 0. */
typedef struct { int major, minor, revision; uint64_t seen; } ws_weights_header;
/* Reads exactly `len` floats of payload; a short or long file is an error naming the path. */
int ws_weights_read(const char *path, float *payload, size_t len, ws_weights_header *hdr, char *err);
/* Refuses (error, no file) a payload with a NaN or infinity: a diverged run is not saved. */
int ws_weights_write(const char *path, const float *payload, size_t len, uint64_t seen, char *err);

/* Atomic file write helpers: open a temp file beside path, then commit (fflush+fsync+rename)
 * or abort (unlink). Used by every writer of the project. */
typedef struct { void *fp; char tmp[4096]; char path[4096]; } ws_atomic;
int  ws_atomic_open(ws_atomic *a, const char *path, char *err);
int  ws_atomic_commit(ws_atomic *a, char *err);
void ws_atomic_abort(ws_atomic *a);

#endif
