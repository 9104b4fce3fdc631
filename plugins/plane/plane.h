/* plane.h: loss surfaces over a plane in weight space (Garipov et al. 2018, plane.py; Li et
 * al. 2018 for random directions). A plane is an origin and two unit vectors u, v with
 * lengths dx, dy; the point at grid coordinates (alpha, beta) is
 *     p(alpha, beta) = origin + alpha dx u + beta dy v,
 * and it is drawn at (x, y) = (alpha dx, beta dy), i.e. in weight-space distance units.
 *
 * Two ways to build one:
 *  - through three networks w0, w1, w2 (a curve's bends, or any three .weights files), by
 *    Gram-Schmidt as in the reference: u = (w2 - w0)/dx, dx = ||w2 - w0||; v = the part of
 *    w1 - w0 orthogonal to u, divided by dy = ||v||. Then w0 sits at (0, 0), w2 at (dx, 0)
 *    and w1 at (<w1 - w0, u>, dy). u, v are orthonormal; identical or collinear points are
 *    refused (degenerate basis).
 *  - around one network w by two random Gaussian directions d1, d2, filter-normalised as in
 *    Li et al. 2018: each filter of a direction (for a convolutional layer one output
 *    channel's weights, for a connected layer one output row) is rescaled to the norm of
 *    the same filter of w; the direction is 0 on biases and BN scales (loss-landscape's
 *    default "biasbn" ignore). u = d1/||d1||, dx = ||d1|| (likewise v, dy). As in
 *    loss-landscape, the two directions are NOT orthogonalised (in high dimension they are
 *    nearly orthogonal anyway); alpha = beta = +-1 is one whole direction away from w.
 *
 * Grid: alpha = linspace(a0, a1, G), beta = linspace(b0, b1, G); grid point (i, j) has index
 * i*G + j (alpha outer, beta inner, like plane.npz's [i_alpha, j_beta]). At every point the
 * network gets p, its BN statistics are recomputed exactly, then train loss (NLL plus the l2
 * term 0.5 decay ||mask w||^2 with the squared norm over conv/connected weights, the same as
 * `curve eval`; the reference plane.py uses un-squared norms over all parameters), train
 * NLL and error, test NLL and error are measured.
 *
 * Module code: errors come back as -1 with a one-line message in err (PLANE_ERRLEN). */
#ifndef PLANE_H
#define PLANE_H
#include <stddef.h>
#include <stdint.h>
#include "curve.h"
#include "data.h"
#include "host.h"

#include "errlen.h"
#define PLANE_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

typedef struct {
    size_t n;
    float *origin, *u, *v;   /* n floats each; u, v unit vectors */
    double dx, dy;           /* lengths: p(alpha, beta) = origin + alpha dx u + beta dy v */
    int orthogonal;          /* 1 for the three-point basis (u, v orthonormal) */
} plane_basis;

/* The plane through w0, w1, w2 (Gram-Schmidt). Refuses identical or collinear points. */
int  plane_basis_points(plane_basis *b, size_t n, const float *w0, const float *w1,
                        const float *w2, char *err);
/* Two filter-normalised Gaussian directions around w (the network's current parameters are
 * not used: w gives the filter norms, h the layer structure), from seed. */
int  plane_basis_random(plane_basis *b, const host_net *h, const float *w, uint64_t seed,
                        char *err);
void plane_basis_free(plane_basis *b);

/* out = origin + x u + y v (x, y in distance units, i.e. alpha dx and beta dy). */
void plane_point(const plane_basis *b, double x, double y, float *out);
/* Coordinates (<p - origin, u>, <p - origin, v>) in distance units; *off (may be NULL)
 * gets the distance of p from the plane (exact only for an orthogonal basis). */
void plane_project(const plane_basis *b, const float *p, double *x, double *y, double *off);

/* One filter-normalised random direction for network h around w (see above): d gets
 * Gaussian entries from r, then per-filter rescaling; 0 on biases and scales. */
void plane_random_direction(const host_net *h, const float *w, rng_t *r, float *d);
/* The filters of a parameter block: count and size (count * size = block length). For
 * weight blocks, the number of output channels/rows (the layer's bias count); 0 for
 * biases and scales (they are not filters). */
size_t plane_block_filters(const host_net *h, int block, size_t *filter_size);

typedef struct {
    int g;                   /* points per axis, >= 2 */
    double a0, a1, b0, b1;   /* alpha and beta ranges */
} plane_grid;
double plane_grid_alpha(const plane_grid *g, int i);
double plane_grid_beta(const plane_grid *g, int j);

/* A grid point's five metrics: a classifier's (errors in %; NaN when not measured), or, in a
 * detector's grid (plane_point_eval.detector), tr_loss, the detection loss tr_det and mAP@0.5,
 * mAP@[.5:.95] in [0, 1] (det_unused NaN) in the same five places. */
typedef struct {
    double alpha, beta, x, y;
    double tr_loss;
    union {
        struct { double tr_nll, tr_err, te_nll, te_err; };
        struct { double tr_det, map50, map5095, det_unused; };
    };
} plane_row;

/* Another evaluation of a grid point (a detector's: detector/det_plane.h): with it, the grid
 * hands each point's parameters w to eval instead of measuring a classifier on data sets;
 * eval fills the metrics of r (tr_loss with 0.5 decay ||mask w||^2, the grid's l2 term).
 * Its image counts and the fingerprint of what it measures on go into the settings line. */
typedef struct {
    int (*eval)(void *ctx, const float *w, const unsigned char *mask, double decay, plane_row *r, char *err);
    void *ctx;
    int detector;            /* the metrics are a detector's (CSV columns, pictures) */
    int bn_images, train_images, test_images;
    uint64_t data;           /* fingerprint of the images eval reads */
} plane_point_eval;

typedef struct {
    int bn_limit;            /* BN statistics from the first N training images (0: all) */
    int train_limit;         /* train metrics on the first N training images (0: all, <0: none) */
    float decay;             /* of the l2 term in tr_loss */
    int decay_all;           /* l2 over all parameters (a curve trained with -decay_all), not weights only */
    int progress;            /* progress with ETA on stderr */
    const unsigned char *done;  /* g*g flags: points already evaluated (skipped); NULL: none */
    int stop_after;          /* evaluate at most this many points in this call (0: all) */
    /* called after each evaluated point; a nonzero return stops with that error (err filled) */
    int (*row)(void *ctx, int index, const plane_row *r, char *err);
    void *ctx;
    const plane_point_eval *point;   /* NULL: a classifier's metrics on tr and te */
} plane_eval_opts;

/* Evaluates every grid point not yet done; rows[i*g+j] gets the result of point (i, j).
 * Returns the number of points evaluated in this call, or -1 with err filled.
 * Under mpirun (dist.h) the points are spread over the ranks, one per rank per round, and
 * rows[] and the row callback are filled and called on rank 0 only, in grid order; the
 * count is that of all ranks together. With o->point, tr and te are not read (may be NULL). */
int plane_evaluate(const plane_basis *b, const plane_grid *g, host_net *h, const dataset *tr,
                   const dataset *te, const plane_eval_opts *o, plane_row *rows, char *err);

/* 64-bit FNV-1a over bytes, continuing from h (start with PLANE_HASH_INIT): a fingerprint
 * of a basis and of data sets, so that a resumed grid belongs to the same settings. */
#define PLANE_HASH_INIT 0xcbf29ce484222325ULL
uint64_t plane_hash(uint64_t h, const void *data, size_t len);
/* ---- a grid's files (plane_files.c) ----
 * The partial file makes a grid resumable: rewritten atomically after every finished point,
 * it holds a magic line, one settings line (whatever a resumed grid must share: basis and
 * data fingerprints, grid, limits, decay) and one row per finished point, its values printed
 * exactly (%.17g), so that a resumed grid's CSV equals that of an uninterrupted run byte for
 * byte. The CSV: a header, one row per marked point (a bend, one of three networks, the
 * centre of random directions), per point of the curve drawn in the plane, per grid point. */
typedef struct {
    int g;                   /* g x g points, point k = i * g + j */
    plane_row *rows;
    unsigned char *done;     /* g*g flags: finished */
    const char *partial;     /* the partial file, rewritten after every point; NULL: none */
    const char *settings;    /* one line without newline */
    int detector;            /* the CSV's columns are a detector's (set after init) */
} plane_state;
int  plane_state_init(plane_state *s, int g, const char *partial, const char *settings, char *err);
void plane_state_free(plane_state *s);
/* Point k finished with r: recorded, and the partial file (if any) rewritten. */
int  plane_state_done(plane_state *s, int k, const plane_row *r, char *err);
/* The finished points of the interrupted grid in `path`; refused (-1, err names the first
 * setting that differs) when it was made with other settings, and when it is not a partial
 * file, truncated or malformed (err names the file and line). *count: points loaded. */
int  plane_state_resume(plane_state *s, const char *path, int *count, char *err);

#define PLANE_MAX_MARKS 64
typedef struct { char kind[8]; int index; double x, y; } plane_mark;   /* "bend", "point", "center" */
/* The CSV of a finished grid (b: its basis, for alpha and beta of the marks and the curve;
 * ct/cx/cy: ncurve points of the curve, t and distance coordinates; may be 0). A detector's
 * grid (s->detector) has the metric columns tr_loss,tr_det,map50,map5095 instead of
 * tr_loss,tr_nll,tr_err,te_nll,te_err. */
int  plane_write_csv(const char *path, const plane_state *s, const plane_basis *b, const plane_mark *m, int nm,
                     const double *ct, const double *cx, const double *cy, int ncurve, char *err);
/* A CSV read back, for pictures: the grid's rows (x, y, every metric) in grid order, the
 * marks and the curve's points in distance units. Refuses another header, rows with other
 * than 13 fields (12 in a detector's CSV) or non-numbers, unknown kinds, a grid that is not
 * square or has a point given twice. */
typedef struct {
    int g;
    int detector;            /* the detector's header: tr_loss,tr_det,map50,map5095 */
    plane_row *rows;
    int has_train;           /* some grid row has a finite train loss (not a -no_train grid) */
    plane_mark marks[PLANE_MAX_MARKS];
    int nm;
    double *cx, *cy;
    int ncurve;
} plane_csv;
int  plane_read_csv(const char *path, plane_csv *c, char *err);
void plane_csv_free(plane_csv *c);
/* ---- a plane from the command line's inputs (plane_setup.c) ----
 * PLANE_CURVE: through bends i, j, k of a curve (default first, middle, last), with the curve
 * drawn in the plane (curve_points points, projected: exact for 3 bends) and the curve's own
 * l2 term (decay, -decay_all) as the default; PLANE_POINTS: through three .weights files;
 * PLANE_RANDOM: two filter-normalised random directions around one .weights file. The marks:
 * the bends (end points circles, middle bends diamonds in the pictures), the three networks
 * (labelled with their file names), or the centre. */
typedef enum { PLANE_CURVE, PLANE_POINTS, PLANE_RANDOM } plane_mode;
typedef struct {
    plane_mode mode;
    const char *cfg;            /* the cfg's file name, for messages */
    const char *curve;          /* PLANE_CURVE: the .curve file */
    const char *bends;          /* "i,j,k", NULL for the default */
    int curve_points;
    const char *weights[3];     /* PLANE_POINTS: three files; PLANE_RANDOM: one */
    uint64_t seed;              /* PLANE_RANDOM */
} plane_setup_req;
typedef struct {
    plane_mode mode;            /* the request's */
    plane_basis b;
    plane_mark marks[PLANE_MAX_MARKS];
    char labels[PLANE_MAX_MARKS][64];   /* "" for none */
    int nm;
    double *ct, *cx, *cy;       /* the curve's points: t and distance coordinates */
    int ncurve;
    int has_decay, decay_all;   /* the curve's l2 term, when it has one */
    float decay;
    char desc[600];             /* one sentence: which plane */
} plane_setup;
/* h: the network of the cfg (the parameter count to check, the filters of random directions;
 * its parameters are overwritten). 0, or -1 with a one-line err naming the file. */
int plane_setup_make(plane_setup *p, const plane_setup_req *q, host_net *h, char *err);
void plane_setup_free(plane_setup *p);
#endif
