/* det_curve.h: curves between two detectors (issue 22), on the layer-agnostic curve of
 * curve/ (bends = flat parameter vectors of a host_net loaded with host_load_detector).
 *
 * Training: curve_train_run with a train_source that draws each iteration's batch from the
 * library's load_data_detection (the cfg's augmentation and random image choice) after
 * srand(seed, iteration), in the calling thread: a run resumed from its checkpoint draws the
 * same batches as an uninterrupted one. The step's loss is host.h's detection loss at w(t)
 * (the function the [yolo] backward differentiates) plus the l2 term, as for classifiers.
 *
 * Evaluation at each t: BN statistics recomputed exactly (host_bn_recompute) on the first
 * bn_limit training images without augmentation (resized by the library to the network's
 * size, as Darknet's inference), then the mean detection loss per image (with and without
 * the l2 term) on the first train_limit training images with the truths of their label
 * files (file order, boxes under 0.001 dropped, at most the head's max_boxes, as the
 * library fills them), and mAP@0.5 and mAP@[.5:.95] on the valid list (its first
 * test_limit images) from a batch-1 network holding w(t) and the recomputed statistics. */
#ifndef DET_CURVE_H
#define DET_CURVE_H
#include <stdint.h>
#include <stdio.h>
#include "curve.h"
#include "curve_train.h"
#include "detector.h"

/* ---- training ---- */
typedef struct {
    curve_train_job c;      /* the curve's settings (cfg, start/end or resume, out, ...); its backup
                             * and src are set by the run from the .data file */
    const char *data;       /* the .data file: train=, valid=, classes=, backup= */
    int limit;              /* > 0: train on the first N images of the train list */
} det_curve_train_job;
/* 0, or -1 with a one-line err (the .data or a list or label file, a cfg that is not a
 * detector or whose classes differ, then curve_train_run's errors). */
int det_curve_train_run(det_curve_train_job *j, const curve_train_report *rep, char *err);

/* ---- evaluation ---- */
typedef struct {
    double t, dl;             /* dl: ||w(t_i) - w(t_{i-1})|| */
    double tr_loss, tr_det;   /* mean detection loss per training image, with / without 0.5 decay ||w||^2 */
    double map50, map5095;    /* on the valid list, in [0, 1] */
} det_curve_row;

typedef struct {
    int points;               /* t = linspace(0, 1, points) */
    int bn_limit;             /* BN statistics from the first N training images (0: all) */
    int train_limit;          /* the loss on the first N training images (0: all, < 0: none) */
    int test_limit;           /* mAP on the first N valid images (0: all) */
    double decay;             /* the l2 term's decay (< 0: the curve's) */
    int line;                 /* also the straight line between the curve's end points */
    int progress;             /* a line per point on stderr */
    const char *name;         /* the curve's name in rows and CSV ("bezier", "line", ...) */
    const char *csv;          /* path,t,dl,tr_loss,tr_det,map50,map5095 (atomic; NULL: none) */
    void (*row)(void *ctx, const char *path, const det_curve_row *r);
    void *ctx;
} det_curve_eval_opts;

/* The curve cv (a detector's, fitting cfg) and, with line, the 2-bend line between its end
 * points, at the same points; rows (and lrows) get o->points rows each. 0, or -1 with err. */
int det_curve_eval_run(const curve *cv, const char *curve_path, const char *data, const char *cfg,
                       const det_curve_eval_opts *o, det_curve_row *rows, det_curve_row *lrows, char *err);
/* The 2-bend line between two detectors' .weights (decay: the cfg's), as a curve to evaluate. */
int det_curve_line(const char *cfg, const char *a, const char *b, curve *line, char *err);

/* w(t) with BN statistics recomputed on the first bn_limit (0: all) un-augmented training
 * images, written as a Darknet .weights file (atomically). 0, or -1 with err. */
int det_curve_export(const curve *cv, const char *curve_path, const char *data, const char *cfg, double t, int bn_limit,
                     const char *out, char *err);

/* ---- one weight vector: what the curve's evaluation does at each t, and the plane at each
 * grid point (det_plane.h) ----
 * The env holds the cfg's networks (its batch: BN statistics and loss; batch 1: mAP), the
 * first max(bn_limit, train_limit) training images un-augmented with their truths, and the
 * valid list's first test_limit images (0: all; train_limit < 0: no loss, NaN). */
typedef struct det_point_env det_point_env;
typedef struct {
    double tr_loss, tr_det;   /* mean detection loss per training image, with / without 0.5 decay ||mask w||^2 */
    double map50, map5095;    /* on the valid list, in [0, 1] */
} det_point;
/* NULL with a one-line err naming the file (the .data, a list or label file, the cfg). */
det_point_env *det_point_open(const char *data, const char *cfg, int bn_limit, int train_limit, int test_limit, char *err);
void det_point_close(det_point_env *e);
/* The cfg's network at the env's batch (parameter count, layers; its parameters are
 * overwritten by every evaluation). */
host_net *det_point_net(det_point_env *e);
void det_point_sizes(const det_point_env *e, int *bn_images, int *train_images, int *test_images);
/* 64-bit FNV-1a of the images, truths and valid list the env measures on. */
uint64_t det_point_fingerprint(const det_point_env *e);
/* w (host_nparams floats) into the networks, BN statistics recomputed exactly, then the loss
 * (l2 over mask[] with decay) and the mAP. 0, or -1 with err. */
int det_point_eval(det_point_env *e, const float *w, const unsigned char *mask, double decay, det_point *r, char *err);

/* Every image's label file of a list, read and checked before the library's loader sees it
 * (it exits on a missing file): 0, or -1 naming the file (and line). */
int det_labels_check(char **paths, int n, int classes, char *err);
#endif
