/* detector.h: detectors on Darknet's own pipeline: evaluation of a network on a valid list
 * (mAP from the detect module on Darknet's inference, host_det_predict) and training with
 * our policies inside the library's own loop (det_train_run). */
#ifndef DETECTOR_H
#define DETECTOR_H
#include <stdint.h>
#include "data.h"
#include "detect.h"
#include "host.h"
#include "schedule.h"

/* A .data file for detectors (data_cfg_load): its train= and valid= must be image lists
 * (format list), otherwise one line naming the file and its format. */
int det_data_load(const char *path, data_cfg *dc, char *err);

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
    /* "darknet fge": fge_epochs > 0 replaces the cfg's policy by FGE's triangle lr1 -> lr2 ->
     * lr1, cycles of fge_cycle_epochs epochs, for fge_epochs epochs from the weights on */
    int fge_epochs;
    double fge_cycle_epochs, fge_lr1, fge_lr2;
} det_train_job;
int det_train_run(const det_train_job *j, char *err);
/* The rate hook det_train_run registers (host_set_rate_hook): the schedule's rate for
 * Darknet's batch number b (as get_current_rate sees it, during the step that makes it b) of
 * a run that started at batch number start, i.e. at the schedule's iteration b - 1 - start. */
typedef struct { sched s; uint64_t start; } det_rate_ctx;
double det_rate_hook(void *ctx, uint64_t b);

/* ---- ensembles of detectors (det_ensemble.c) ---- */

/* 1 when the cfg's last section is [yolo], [region], [detection] or [Gaussian_yolo], or a
 * [contrastive] after a [yolo] (a detector for
 * host_load_detector), 0 otherwise, also for a file that cannot be read (the loader then
 * says why). */
int det_cfg_is_detector(const char *cfg);

/* Merging the members' detections: Weighted Boxes Fusion (det_wbf with models = the number of
 * members merged, iou_thr = iou, skip_thr 0) or greedy NMS (det_nms at iou over the union of
 * their boxes, the kept ones in the union's order: member 0's first). */
typedef enum { DET_MERGE_WBF, DET_MERGE_NMS } det_merge_kind;
typedef struct { det_merge_kind kind; double iou; } det_merge;
det_merge det_merge_default(void);   /* WBF at DET_WBF_IOU_DEFAULT */
/* members[0..k) merged into *out (emptied first). */
int det_merge_members(const det_boxes *members, int k, const det_merge *m, det_boxes *out, char *err);

/* The members of a detector ensemble, as fge/members.h names them ("w.weights" of the
 * default cfg or "model.cfg:model.weights"); cfgs may differ (input size, layers) but every
 * one must be a detector of `classes` classes: otherwise one line naming the member's cfg.
 * One batch-1 network per distinct cfg; every weights file's size is checked on opening. */
typedef struct {
    int n;
    char **cfg, **weights;
    int *net_of;
    int nnets;
    host_net **nets;
} det_members;
int det_members_open(det_members *m, const char *default_cfg, char *const *args, int n, int classes, char *err);
host_net *det_members_load(det_members *m, int i, char *err);   /* member i's weights in its network */
void det_members_free(det_members *m);

/* "darknet ensemble" for detectors: each member's detections on the .data's valid list
 * (det_predict_set with det_infer_defaults), kept, and for each k = 1..n the first k merged:
 * a row with member k's mAP and the merged ensemble's; CSV written atomically. */
typedef struct {
    const char *data, *cfg;       /* the .data, the members' default cfg */
    char *const *members;
    int n;
    det_merge merge;
    int limit;                    /* > 0: the first limit valid images */
    int letterbox, progress;
    const char *csv;              /* NULL: none */
} det_ens_job;
typedef struct {
    int i;                        /* 1-based */
    const char *file;             /* the member's argument */
    det_metrics member, ensemble;
    int boxes, merged;            /* the member's detections, the merged ensemble's */
} det_ens_row;
typedef struct {
    void (*start)(void *ctx, int members, int images);   /* members open, CSV ready */
    void (*row)(void *ctx, const det_ens_row *r);
    void *ctx;
} det_ens_report;
int det_ens_run(const det_ens_job *j, const det_ens_report *rep, char *err);

/* "darknet ensemble detect": one image's merged detections with score >= thresh, drawn with
 * the class names of the .data's names= (host_det_draw, Darknet's glyphs from labels_dir)
 * and written atomically as a PNG to out. */
typedef struct {
    const char *data, *cfg;
    char *const *members;
    int n;
    const char *image, *out;
    det_merge merge;
    float thresh;
    int letterbox;
    const char *labels_dir;       /* NULL: no names drawn */
} det_ens_detect_job;
typedef struct {
    det_boxes shown;              /* the drawn boxes (image 0), highest score first */
    char **names;                 /* the .data's class names (NULL without names=) */
    int classes, labeled;         /* labeled: the names were drawn */
} det_ens_detection;
int det_ens_detect_run(const det_ens_detect_job *j, det_ens_detection *r, char *err);
void det_ens_detection_free(det_ens_detection *r);

/* ---- SWA of detectors (det_swa.c) ----
 * The mean of the files (fge/swa.h swa_average: parameters and BN statistics, in double),
 * then BN statistics recomputed exactly (host_bn_recompute) on the first bn_limit (0: all)
 * images of the .data's train list, each the network's input as inference makes it
 * (host_det_input: resized or letterboxed by the library, no augmentation), saved
 * atomically to out; then (unless no_test) the mean's mAP on the valid list. */
typedef struct {
    const char *data, *cfg, *out;
    char *const *files;
    int n;
    int bn_limit, limit, letterbox, no_test, progress;
} det_swa_job;
typedef struct {
    void (*saved)(void *ctx, const char *out, int images);
    void (*row)(void *ctx, const char *name, const det_metrics *m);
    void *ctx;
} det_swa_report;
int det_swa_run(const det_swa_job *j, const det_swa_report *rep, char *err);
#endif
