/* detect.h: object detection metrics and merging, on plain boxes (no Darknet types), for
 * `darknet detector map` and detector ensembles: Darknet's label files and image lists
 * (labels.c), VOC all-point AP, COCO's mAP@[.5:.95] and precision/recall counts (map.c),
 * greedy NMS and Weighted Boxes Fusion (merge.c).
 *
 * Coordinates are Darknet's: relative to the image (0..1), box centre (x, y), width w and
 * height h. Every computation is in double; IoU is computed on corner coordinates
 * (x -+ w/2, y -+ h/2) and is 0 where the union is 0.
 * Every error is one line "<file>: <problem>" (or "detect: <problem>" where no file is
 * involved) in a buffer of DKMC_ERRLEN bytes and a return of -1; nothing here exits or prints. */
#ifndef DETECT_H
#define DETECT_H
#include <stddef.h>
#include "errlen.h"

typedef struct {
    double x, y, w, h;   /* relative centre format, as Darknet */
    int cls;             /* class index, 0 <= cls < classes */
    double score;        /* confidence (detections); 1 for ground truth read from labels */
    int image;           /* index of the image the box belongs to (>= 0) */
} det_box;

/* A growing array of boxes. Zero-initialise ({0}) before the first push. */
typedef struct { det_box *b; int n, cap; } det_boxes;
int  det_boxes_push(det_boxes *s, const det_box *b, char *err);
void det_boxes_free(det_boxes *s);

double det_iou(const det_box *a, const det_box *b);

/* ---- labels (labels.c) ---- */

/* Edge tolerance of a label box: a box whose edges x -+ w/2, y -+ h/2 lie outside [0,1] by
 * more than this is refused (annotation tools round; 1e-3 is a third of a pixel at 300 px). */
#define DET_LABEL_TOL 1e-3

/* Reads a Darknet label file: one box per line, "class cx cy w h" separated by blanks (a
 * trailing '\r' is a blank), relative to the image; blank lines are skipped; an empty file is
 * an image without objects. Appends its boxes to *out with image = `image` and score = 1.
 * Refused, with "<path>:<line>: <problem>": a line that is not exactly an integer and four
 * numbers, a number that is not finite, a class < 0 or >= classes, a centre outside [0,1],
 * w or h outside (0,1], an edge outside [-DET_LABEL_TOL, 1 + DET_LABEL_TOL], a line of
 * 4096 bytes or more (newline included), a NUL byte. A missing or unreadable file is
 * "<path>: cannot open: <reason>". On failure *out holds what it held before the call. */
int det_labels_read(const char *path, int classes, int image, det_boxes *out, char *err);

/* The label file of an image, as Darknet maps it (src/data.c, fill_truth_*): the first
 * "images" becomes "labels", then the first "JPEGImages" becomes "labels", then the first
 * ".jpg", ".png", ".JPG", ".JPEG" (in that order) becomes ".txt". Darknet would then read the
 * image itself as a label file when none of those extensions occurs; here a result that does
 * not end in ".txt" is an error naming the image path, as is a result over outlen - 1 bytes. */
int det_label_path(const char *image_path, char *out, size_t outlen, char *err);

/* Reads a list of image paths (Darknet's train=/valid= lists): one path per line, blanks at
 * both ends trimmed, blank lines skipped. An empty list, a missing file or a line as for
 * det_labels_read is an error naming the file. *paths (n strings) is freed with det_list_free. */
int  det_list_read(const char *path, char ***paths, int *n, char *err);
void det_list_free(char **paths, int n);

/* ---- mAP (map.c) ----
 * Input: ground truth (gt, ngt) and detections (dt, ndt) of any number of images, each box
 * carrying its image index; classes C. Boxes are checked (finite, w and h >= 0, class in
 * [0,C), image >= 0, detection score finite): a bad one is "detect: ..." and -1.
 *
 * Order: detections of a class are ranked by score, highest first; equal scores by image
 * index, then by position in dt (a stable, reproducible order; COCO's evaluation gives the
 * same order). Matching, in that order: a detection is a true positive when some still
 * unmatched GT box of the same class and image has IoU >= thr with it; it takes the one of
 * highest IoU (the first in gt order among equal IoUs), which is then matched. Otherwise it
 * is a false positive (duplicates of a matched box are false positives). This is COCO's
 * matching; the VOC devkit and AlexeyAB's `detector map` take the highest-IoU GT whether
 * matched or not (then a false positive when it is), which differs only where a detection
 * overlaps two GT boxes by more than thr.
 *
 * Classes with no GT box are excluded from every mean (their AP is NAN and a detection of
 * such a class changes nothing); a mean over no class at all is 0. */

/* Per-class AP at IoU threshold thr, all-point interpolated (VOC2010+, AlexeyAB's `detector
 * map`): precision made non-increasing from the right, AP = sum over the ranks where recall
 * increases of (recall step) x (that precision). ap[C] (may be NULL), *map = mean of the
 * classes with GT. npos (may be NULL) gets the GT count per class. */
int det_ap_voc(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
               double thr, double *ap, int *npos, double *map, char *err);

/* COCO-style mAP@[.5:.95]: IoU thresholds .50, .55, ..., .95; per image and class only the
 * max_dets highest-ranked detections count (COCO: maxDets = 100); precision at recall points
 * r = 0, .01, ..., 1 (r_i = i * 0.01 in double, as numpy's linspace gives COCO, 1 exactly at
 * the end) is the non-increasing envelope at the first rank whose recall >= r, 0 where
 * recall never reaches r; a class's AP at a threshold is the mean over the 101 points.
 * ap[C] (may be NULL) = each class's mean over the ten thresholds (NAN without GT); *map =
 * the mean over the classes with GT and the thresholds. Not modelled: crowd boxes (iscrowd),
 * area ranges (small/medium/large), the maxDets 1/10 variants and recall (AR). */
#define DET_COCO_MAXDETS 100
int det_map_coco(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
                 int max_dets, double *ap, double *map, char *err);

/* Counts at a confidence threshold (Darknet prints these): detections with score >=
 * score_thr, matched as above at IoU thr. out[C + 1]: one per class, then all classes
 * together. precision = tp / (tp + fp), 0 when there is no detection; recall = tp / npos, 0
 * when there is no GT. */
typedef struct { int tp, fp, npos; double precision, recall; } det_count;
int det_counts(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
               double thr, double score_thr, det_count *out, char *err);

/* ---- merging (merge.c) ---- */

/* Greedy NMS per image and class: in the ranking above (score, then image, then position), a
 * box is kept unless a kept box of the same image and class has IoU > iou_thr with it.
 * keep[n] gets 1 (kept) or 0 (suppressed). */
int det_nms(const det_box *b, int n, double iou_thr, int *keep, char *err);

/* Weighted Boxes Fusion (Solovyev, Wang, Gabruseva 2019), conf_type 'avg', equal model
 * weights. b: the detections of all `models` ensemble members (T = models >= 1) for any
 * number of images. Boxes with score < skip_thr are dropped first. Per image and class, in
 * the ranking above, each box joins the cluster whose fused box has the highest IoU with it
 * among those with IoU > iou_thr (the earliest cluster among equal IoUs; this is the authors'
 * ensemble_boxes code), or else starts a new cluster; the fused box is recomputed after each
 * join. Fused box: corners (x1, y1, x2, y2) = score-weighted mean of the members' corners;
 * score = mean member score x min(T, n) / T for a cluster of n boxes (a cluster whose
 * scores are all 0 gets the plain mean of the corners). Nothing is clipped; a negative score
 * is refused.
 * *out (malloc'd, *nout boxes; free() it) holds the fused boxes ordered by image, then class,
 * then score (highest first). WBF_IOU_DEFAULT is the paper's threshold. */
#define DET_WBF_IOU_DEFAULT 0.55
int det_wbf(const det_box *b, int n, int models, double iou_thr, double skip_thr,
            det_box **out, int *nout, char *err);

#endif
