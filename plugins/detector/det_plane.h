/* det_plane.h: "darknet plane" on a detector cfg (issue 22): the plane module's grid run
 * (plane_run: partial file, resume, CSV) with each grid point evaluated by det_curve.h's point
 * evaluator, the one the curve's evaluation calls at each t: w set into the network, BN
 * statistics recomputed exactly on the first bn_limit un-augmented training images, the mean
 * detection loss per image with and without the l2 term (0.5 decay ||w||^2, the grid's
 * decay and mask: the curve's, else the cfg's) on the first train_limit training images, and
 * mAP@0.5, mAP@[.5:.95] on the valid list's first test_limit images. The rows hold tr_loss,
 * tr_det, map50, map5095 (plane.h); the CSV names those columns. */
#ifndef DET_PLANE_H
#define DET_PLANE_H
#include "det_curve.h"
#include "plane_run.h"

typedef struct {
    const char *data;          /* the detection .data: train=, valid=, classes= */
    const char *cfg;           /* a detector cfg */
    plane_setup_req req;       /* which plane (a detector's .curve, three .weights, -random) */
    plane_job job;             /* grid, limits, files, callbacks; plane and point are set by the run */
    int test_limit;            /* mAP on the first N valid images (0: all) */
} det_plane_job;

/* 0 with ps (free with plane_setup_free) and info (info->rows to free) filled, or -1 with a
 * one-line err naming the file (ps then holds nothing to free). */
int det_plane_run(const det_plane_job *j, plane_setup *ps, plane_run_info *info, char *err);
#endif
