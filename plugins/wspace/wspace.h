/* wspace.h: weight-space vectors and files. Flat float vectors (axpy, dot, norm, linear
 * combinations), the plugin's SGD step that reproduces Darknet's update_network, and the
 * .weights file format (read with size checks, written atomically). */
#ifndef WSPACE_H
#define WSPACE_H
#include <stddef.h>
#include <stdint.h>
#include "errlen.h"   /* every err argument below is a buffer of DKMC_ERRLEN bytes */

/* ---- vectors (double accumulation for reductions) ---- */
void   ws_scale(size_t n, float a, float *y);
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

/* Atomic file write helpers: open a temp file beside path, then commit (fflush+fsync+rename,
 * then fsync of the folder) or abort (unlink). Used by every writer of the project (the plot
 * module hands a.tmp to PLplot and commits the same way). The file gets the mode any tool
 * gives under the user's umask (0666 & ~umask), not mkstemp's 0600. */
typedef struct { void *fp; char tmp[4096]; char path[4096]; } ws_atomic;
int  ws_atomic_open(ws_atomic *a, const char *path, char *err);
int  ws_atomic_commit(ws_atomic *a, char *err);
void ws_atomic_abort(ws_atomic *a);
/* The temp files of ws_atomic writes still open are removed when the process exits (exit()
 * or a return from main) and on SIGINT, SIGTERM, SIGHUP and SIGXFSZ (then the signal's
 * default action follows), so no half-written file is left beside an output. */

/* The few buffers of functions that have no error return (evaluation and BN passes): a NULL
 * from the allocator prints "darknet: out of memory (N bytes for WHAT)" and exits 1 (the
 * open temp files are removed as above). Everything else reports its error to the caller. */
void *ws_xmalloc(size_t n, const char *what);
void *ws_xcalloc(size_t n, size_t size, const char *what);

#endif
