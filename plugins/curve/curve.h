/* curve.h: parametric curves in weight space between two trained networks (Garipov et al.
 * 2018). w(t) = sum_k c_k(t) theta_k over K >= 2 bends, each a full copy of the network's
 * trainable parameters (BN statistics are not part of a bend: they are recomputed at every
 * evaluated point). Bezier: Bernstein coefficients of degree K-1; PolyChain: hat functions on
 * a uniform grid, a polygonal path through every bend. Layer-agnostic: a bend is a flat
 * params vector of host.h, so every cfg the parameter view accepts works.
 *
 * The .curve file (little-endian, written atomically):
 *   0   char[8]  magic "DKCURVE\0"
 *   8   u32      version (1)
 *   12  u32      type (0 bezier, 1 polychain)
 *   16  u32      K (bends, end points included)
 *   20  u32      flags: 1 fix_start, 2 fix_end, 4 has training state, 8 decay_all,
 *                 16 detector (the bends are a detector's: [yolo]/[region] head; files
 *                 written before the flag existed are classifiers' and read as such)
 *   24  u64      n (floats per bend)
 *   32  u64      nstats (floats of BN statistics per end point; 0 without BN)
 *   40  u64      iteration (training iterations done)
 *   48  u32      epoch (epochs done), u32 epochs (planned total)
 *   56  f32      lr, momentum, decay; u32 schedule (0 reference, 1 cfg)
 *   72  u64      seed
 *   80  u64[4]   rng state after the last completed epoch
 *   112 f32[K*n] bends theta_0 .. theta_{K-1}
 *       f32[2*nstats] BN statistics stored with the start and end .weights files
 *       f32[F*n] momentum buffers of the F free bends, in bend order (only with flag 4)
 *       u32      crc32 of everything before it
 */
#ifndef CURVE_H
#define CURVE_H
#include <stddef.h>
#include <stdint.h>
#include "rng.h"

typedef enum { CURVE_BEZIER = 0, CURVE_POLYCHAIN = 1 } curve_type;

#define CURVE_FIX_START 1
#define CURVE_FIX_END 2
#define CURVE_HAS_STATE 4
#define CURVE_DECAY_ALL 8
#define CURVE_DETECTOR 16
/* Most bends a curve may have, end points included (the file's K is checked against it). */
#define CURVE_MAX_BENDS 64

typedef struct {
    curve_type type;
    int k;                 /* number of bends, end points included */
    size_t n, nstats;
    uint32_t flags;
    float **bends;         /* k vectors of n floats */
    float *stats[2];       /* BN statistics of the two end point files (nstats each, may be NULL) */
    float **momentum;      /* k entries; NULL for fixed bends; allocated on demand */
    uint64_t iteration;
    uint32_t epoch, epochs;
    float lr, mom, decay;
    uint32_t schedule;
    uint64_t seed;
    rng_t rng;
} curve;

#include "errlen.h"
#define CURVE_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

/* c[0..k-1] for parameter t in [0,1]. */
void curve_coeffs(curve_type type, int k, double t, float *c);
/* Allocate a curve with k bends of n floats (zeroed) and nstats per end point. Returns -1
 * (and leaves *cv empty, safe to curve_free) for k outside [2, CURVE_MAX_BENDS] or when
 * memory runs out. */
int  curve_init(curve *cv, curve_type type, int k, size_t n, size_t nstats);
void curve_free(curve *cv);
/* Middle bends on the straight segment: theta_j = (1 - j/(k-1)) theta_0 + j/(k-1) theta_{k-1}. */
void curve_init_linear(curve *cv);
/* w = w(t) */
void curve_point(const curve *cv, double t, float *w);
int  curve_is_free(const curve *cv, int j);
/* Files */
int  curve_save(const curve *cv, const char *path, char *err);
int  curve_load(curve *cv, const char *path, char *err);
const char *curve_type_name(curve_type t);
int  curve_parse_type(const char *s, curve_type *t);
#endif
