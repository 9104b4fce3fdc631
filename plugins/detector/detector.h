/* detector.h: detectors on Darknet's own pipeline: evaluation of a network on a valid list
 * (mAP from the detect module on Darknet's inference, host_det_predict) and training with
 * our policies inside the library's own loop (det_train_run). */
#ifndef DETECTOR_H
#define DETECTOR_H
#include <stdint.h>
#include "detect.h"
#include "host.h"
#include "schedule.h"

/* A valid list with its ground truth: every label file read and checked (detect.h). limit >
 * 0 keeps the first limit images. */
typedef struct { char **paths; int n, classes; det_boxes gt; } det_valset;
int  det_valset_load(const char *list, int classes, int limit, det_valset *v, char *err);
void det_valset_free(det_valset *v);

/* Inference options: Darknet's detector test/valid defaults are thresh .005 for mAP, nms .45. */
typedef struct { float thresh, nms; int letterbox; int progress; } det_infer_opts;
det_infer_opts det_infer_defaults(void);
/* Darknet's boxes for every image of v (image index = position in v), appended to dt. The
 * network must be loaded with batch 1. */
int det_predict_set(host_net *h, const det_valset *v, const det_infer_opts *o, det_boxes *dt, char *err);

/* mAP@0.5 (VOC all-point) and COCO's mAP@[.5:.95], per-class AP@0.5 (ap50[classes], NAN for
 * a class without GT; may be NULL) and the counts at score >= count_thr (counts[classes + 1],
 * may be NULL). */
typedef struct { double map50, map5095; } det_metrics;
int det_evaluate(const det_valset *v, const det_boxes *dt, double count_thr, det_metrics *m, double *ap50,
                 det_count *counts, char *err);

/* ---- training: "darknet detector train" with policy=fge_cyclic or policy=sgdr ----
 * The library's loop pieces (host_det_*) with the rate from train/schedule through
 * get_current_rate; the schedule's iteration is Darknet's batch number - 1 - the batch number
 * at the start (a run from weights starts a fresh cycle; -clear restarts seen at 0). Until
 * max_batches: one train_network step per iteration; random=1 resizes every 10 iterations to
 * a multiple of 32 in [0.7, 1.3] x the cfg's size (Darknet's 320..608 assumes a 416 network);
 * <backup>/<stem>.backup every 100 iterations; after each iteration where the policy takes a
 * snapshot (not during burn_in): <backup>/<stem>_snapNN.weights, its mAP@0.5 on the valid
 * list and the mAP@0.5 of the ensemble of the snapshots so far (Weighted Boxes Fusion of
 * their detections); <backup>/<stem>_final.weights at the end. A non-finite loss or weight
 * stops the run with an error naming the iteration; no file with non-finite weights is
 * written. */
typedef struct {
    int index;                  /* 1-based */
    uint64_t iteration;         /* Darknet's batch number after it */
    double lr, avg_loss, map50, map5095, ens_map50, ens_map5095;
    const char *path;
} det_snap_row;
typedef struct {
    const char *data, *cfg, *weights;   /* weights may be NULL */
    int clear;                          /* Darknet's -clear: seen = 0 */
    int threads;                        /* the library's loader threads (0: 8) */
    uint64_t stop_after;                /* > 0: stop after this many iterations of this run */
    int valid_limit;                    /* > 0: snapshots are evaluated on the first N valid images */
    int letterbox;
    int verbose;                        /* the library's per-step lines on stdout, as in Darknet */
    void (*snap)(void *ctx, const det_snap_row *r);
    void (*progress)(void *ctx, uint64_t batch, uint64_t max_batches, double loss, double avg, double lr);
    void *ctx;
} det_train_job;
int det_train_run(const det_train_job *j, char *err);
/* The rate hook det_train_run registers (host_set_rate_hook): the schedule's rate for
 * Darknet's batch number b (as get_current_rate sees it, during the step that makes it b) of
 * a run that started at batch number start, i.e. at the schedule's iteration b - 1 - start. */
typedef struct { sched s; uint64_t start; } det_rate_ctx;
double det_rate_hook(void *ctx, uint64_t b);
#endif
