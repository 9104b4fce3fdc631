/* plane_run.h: a plane's grid run and its pictures, what "darknet plane" does between reading
 * its inputs and printing (the command line parses, loads, calls these and prints).
 *
 * plane_run evaluates the grid of a prepared plane (plane_setup_make) with the grid's files
 * (plane.h): with a CSV, FILE.partial is rewritten after every finished point; with resume,
 * the finished points of an interrupted grid of the same settings (the basis and data
 * fingerprints, grid, limits, l2 term, batch) are loaded and only the others evaluated; once
 * every point is done the CSV is written atomically and the partial file removed. The CSV of
 * a resumed grid equals that of an uninterrupted run byte for byte (the partial file keeps
 * every value exactly). Under mpirun the points are spread over the ranks (plane_evaluate);
 * rank 0 alone reads and writes the files, has the rows and calls row.
 *
 * Module code: errors come back as -1 with a one-line message in err (PLANE_ERRLEN) that
 * names the file concerned; nothing is printed. */
#ifndef PLANE_RUN_H
#define PLANE_RUN_H
#include "plane.h"

/* What a run measures on, its l2 term, and afterwards how it went. */
typedef struct {
    int points;              /* g*g */
    int bn_images, train_images, test_images;   /* train_images 0 with no_train */
    double decay;            /* of the l2 term: the job's, else the curve's, else the cfg's */
    int decay_all;           /* l2 over all parameters (a curve trained with -decay_all) */
    int from_file;           /* points loaded from the resumed partial file */
    /* after the grid: */
    int evaluated;           /* points evaluated in this call (all ranks together) */
    double secs;             /* wall time of the evaluation */
    int complete;            /* every point done: the CSV (if any) is written */
    struct { double min, max; } range[5];   /* tr_loss, tr_nll, tr_err, te_nll, te_err (a detector's:
                                              * tr_loss, tr_det, map50, map5095, -) over the finished
                                              * points (rank 0), NaN where none is a number */
    plane_row *rows;         /* g*g rows (rank 0), finished points only; the caller frees them */
} plane_run_info;

typedef struct {
    const plane_setup *plane;   /* the basis, the marks and the curve drawn in it */
    plane_grid grid;
    int bn_limit;            /* BN statistics from the first N training images (0: all) */
    int train_limit;         /* train metrics on the first N training images (0: all) */
    int no_train;            /* no train metrics (NaN) */
    double decay;            /* < 0: the curve's (plane->has_decay), else the cfg's */
    const char *csv;         /* NULL: no files at all */
    const char *resume;      /* a partial file to continue (NULL: a fresh grid) */
    int stop_after;          /* evaluate at most this many points (0: all): an interruption */
    int progress;            /* progress with ETA on stderr */
    /* Called on every rank once the settings are known and a resumed file is loaded (info
     * without the "after the grid" part); may be NULL. */
    void (*start)(void *ctx, const plane_run_info *info);
    /* Called on rank 0 for every finished point, in grid order: first those loaded from the
     * partial file, then each one evaluated; a nonzero return stops the run with that error
     * (err filled). May be NULL. */
    int (*row)(void *ctx, int index, const plane_row *r, char *err);
    void *ctx;
    /* NULL: a classifier's metrics on train and test; else every point is evaluated by it
     * (a detector's: detector/det_plane.h), train and test are not read (may be NULL) */
    const plane_point_eval *point;
} plane_job;

/* The grid of the command line's margins: alpha in [lo - left, 1 + right], beta in
 * [lo - bottom, 1 + top], lo = 0 for a plane through points (w0 at 0, w2 at 1) and -1 around
 * one network (random directions: +-1 is one whole direction away). A side given as NaN
 * takes margin; margin NaN: 0.2, or 0 for random directions (as loss-landscape). */
plane_grid plane_grid_of(plane_mode mode, int g, double margin, double left, double right, double bottom, double top);
/* The training images a run reads (0: all): enough for the BN statistics and the train
 * metrics under these limits. */
int  plane_train_images(int bn_limit, int train_limit, int no_train);
/* 1 when mark q of p lies outside grid g (the margins widen the grid); *alpha, *beta get its
 * grid coordinates. */
int  plane_mark_outside(const plane_setup *p, const plane_grid *g, int q, double *alpha, double *beta);

/* 0 with *info filled (info->rows to free; an interrupted grid too, its partial file then
 * holds the finished points), or -1 with err (info->rows NULL, no CSV written). */
int plane_run(const plane_job *j, host_net *h, const dataset *train, const dataset *test, plane_run_info *info,
              char *err);

/* ---- the pictures of a grid (plane_draw.c) ----
 * One heat map over the grid, as the reference plane_plot.py draws them: train loss (levels
 * placed with values clipped at 5, log_alpha -5) or test error in % (clipped at 40, log_alpha
 * -1); over it the marks (end points and the centre circles, middle bends and the second of
 * three networks diamonds, with their labels when given) and, in a curve's plane (marks of
 * kind "bend"), the curve and the dashed straight segment between its ends. Axes: distances
 * along u and v, or along the two random directions (a "center" mark). Written atomically
 * (plot_surface_save); err starts with the path. PLANE_MAP50: a detector's grid's mAP@0.5 in %
 * on the valid list (its picture in place of the test error; higher is better). */
/* PLANE_DET_LOSS: a detector's training loss (detection + l2), its levels over the grid's whole
 * range (a classifier's loss map is clipped at 5, the reference's choice for an NLL; a
 * detector's loss is of another scale, 10-25 on the detection set). */
typedef enum { PLANE_TRAIN_LOSS, PLANE_TEST_ERROR, PLANE_MAP50, PLANE_DET_LOSS } plane_picture_kind;
typedef struct {
    int g;
    const plane_row *rows;      /* g*g, grid order */
    const plane_mark *marks;
    const char (*labels)[64];   /* nm labels ("" for none); NULL: unlabelled */
    int nm;
    const double *cx, *cy;      /* the curve's points in distance units; ncurve may be 0 */
    int ncurve;
    int equal_aspect;           /* one distance unit as long on both axes */
} plane_picture;
int plane_draw(const plane_picture *p, plane_picture_kind which, const char *path, char *err);
#endif
