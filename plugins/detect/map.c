/* map.c: VOC all-point AP, COCO's mAP@[.5:.95] and counts at a score threshold (detect.h
 * states the ranking, the matching and the means). */
#include "detect_private.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the GT boxes of one class, sorted by image then position, and their matched flags */
typedef struct { int image, pos; } gt_ref;
typedef struct { int n; gt_ref *r; unsigned char *used; } gt_set;

static int ref_cmp(const void *pa, const void *pb) {
    const gt_ref *a = pa, *b = pb;
    if (a->image != b->image) return a->image < b->image ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static int gt_set_build(const det_box *gt, int ngt, int cls, gt_set *s, char *err) {
    s->n = 0;
    s->r = malloc((size_t)(ngt ? ngt : 1) * sizeof *s->r);
    s->used = calloc((size_t)(ngt ? ngt : 1), 1);
    if (!s->r || !s->used) {
        free(s->r); free(s->used);
        return det__fail(err, "detect: out of memory (%d boxes)", ngt);
    }
    for (int i = 0; i < ngt; i++)
        if (gt[i].cls == cls) s->r[s->n++] = (gt_ref){ gt[i].image, i };
    qsort(s->r, (size_t)s->n, sizeof *s->r, ref_cmp);
    return 0;
}

static void gt_set_free(gt_set *s) { free(s->r); free(s->used); }

/* 1 when d matches a GT box not yet matched (which becomes matched), else 0 */
static int match_one(const det_box *gt, gt_set *s, const det_box *d, double thr) {
    int lo = 0, hi = s->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (s->r[mid].image < d->image) lo = mid + 1; else hi = mid;
    }
    int best = -1;
    double best_iou = -1;
    for (int k = lo; k < s->n && s->r[k].image == d->image; k++) {
        if (s->used[k]) continue;
        double iou = det_iou(d, &gt[s->r[k].pos]);
        if (iou >= thr && iou > best_iou) { best_iou = iou; best = k; }
    }
    if (best < 0) return 0;
    s->used[best] = 1;
    return 1;
}

/* tp[k] for the ranked detections order[m] of one class, at IoU thr */
static void match_class(const det_box *gt, gt_set *s, const det_box *dt, const int *order, int m,
                        double thr, unsigned char *tp) {
    memset(s->used, 0, (size_t)(s->n ? s->n : 1));
    for (int k = 0; k < m; k++) tp[k] = (unsigned char)match_one(gt, s, &dt[order[k]], thr);
}

/* precision (made non-increasing from the right) and recall at each rank; m > 0, npos > 0 */
static void pr_curve(const unsigned char *tp, int m, int npos, double *prec, double *rec) {
    int ctp = 0;
    for (int k = 0; k < m; k++) {
        ctp += tp[k];
        prec[k] = (double)ctp / (k + 1);
        rec[k] = (double)ctp / npos;
    }
    for (int k = m - 2; k >= 0; k--)
        if (prec[k + 1] > prec[k]) prec[k] = prec[k + 1];
}

static double ap_all_point(const unsigned char *tp, int m, int npos, double *prec, double *rec) {
    if (m == 0) return 0;
    pr_curve(tp, m, npos, prec, rec);
    double ap = 0, last = 0;
    for (int k = 0; k < m; k++)
        if (rec[k] != last) { ap += (rec[k] - last) * prec[k]; last = rec[k]; }
    return ap;
}

/* COCO's recall points and IoU thresholds, as numpy's linspace computes them */
static double recall_point(int i) { return i == 100 ? 1.0 : i * (1.0 / 100); }
static double coco_thr(int j) { return j == 9 ? 0.95 : j * ((0.95 - 0.5) / 9) + 0.5; }

static double ap_101(const unsigned char *tp, int m, int npos, double *prec, double *rec) {
    if (m == 0) return 0;
    pr_curve(tp, m, npos, prec, rec);
    double sum = 0;
    for (int i = 0, k = 0; i <= 100; i++) {
        double r = recall_point(i);
        while (k < m && rec[k] < r) k++;   /* the first rank with recall >= r */
        if (k == m) break;
        sum += prec[k];
    }
    return sum / 101;
}

/* one class's GT, ranked detections and buffers */
typedef struct {
    gt_set s;
    int *order, m;
    unsigned char *tp;
    double *prec, *rec;
} class_work;

static void work_close(class_work *w) {
    gt_set_free(&w->s);
    free(w->order); free(w->tp); free(w->prec); free(w->rec);
}

static int work_open(const det_box *gt, int ngt, const det_box *dt, int ndt, int cls, class_work *w, char *err) {
    memset(w, 0, sizeof *w);
    if (gt_set_build(gt, ngt, cls, &w->s, err)) return -1;
    if ((w->m = det__rank(dt, ndt, cls, &w->order, err)) < 0) { gt_set_free(&w->s); return -1; }
    size_t m1 = (size_t)w->m + 1;
    w->tp = malloc(m1);
    w->prec = malloc(m1 * sizeof *w->prec);
    w->rec = malloc(m1 * sizeof *w->rec);
    if (!w->tp || !w->prec || !w->rec) {
        work_close(w);
        return det__fail(err, "detect: out of memory (%d detections)", w->m);
    }
    return 0;
}

static int check_inputs(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
                        double thr, char *err) {
    if (classes <= 0) return det__fail(err, "detect: classes must be > 0 (got %d)", classes);
    if (!(thr >= 0 && thr <= 1)) return det__fail(err, "detect: IoU threshold %g outside [0,1]", thr);
    if (det__check(gt, ngt, classes, 0, "ground truth box", err)) return -1;
    return det__check(dt, ndt, classes, 1, "detection", err);
}

int det_ap_voc(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
               double thr, double *ap, int *npos, double *map, char *err) {
    if (check_inputs(gt, ngt, dt, ndt, classes, thr, err)) return -1;
    double sum = 0;
    int nc = 0;
    for (int c = 0; c < classes; c++) {
        class_work w;
        if (work_open(gt, ngt, dt, ndt, c, &w, err)) return -1;
        double a = NAN;
        if (w.s.n) {
            match_class(gt, &w.s, dt, w.order, w.m, thr, w.tp);
            a = ap_all_point(w.tp, w.m, w.s.n, w.prec, w.rec);
            sum += a;
            nc++;
        }
        if (ap) ap[c] = a;
        if (npos) npos[c] = w.s.n;
        work_close(&w);
    }
    *map = nc ? sum / nc : 0;
    return 0;
}

typedef struct { int image, k; } img_rank;

static int img_rank_cmp(const void *pa, const void *pb) {
    const img_rank *a = pa, *b = pb;
    if (a->image != b->image) return a->image < b->image ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* keeps in order[m] the first max_dets ranks of each image; returns the new m, -1 (OOM) */
static int limit_per_image(const det_box *dt, int *order, int m, int max_dets, char *err) {
    img_rank *r = malloc((size_t)(m ? m : 1) * sizeof *r);
    unsigned char *drop = calloc((size_t)(m ? m : 1), 1);
    if (!r || !drop) { free(r); free(drop); return det__fail(err, "detect: out of memory (%d detections)", m); }
    for (int k = 0; k < m; k++) r[k] = (img_rank){ dt[order[k]].image, k };
    qsort(r, (size_t)m, sizeof *r, img_rank_cmp);
    for (int k = 0, run = 0; k < m; k++) {
        run = (k > 0 && r[k].image == r[k - 1].image) ? run + 1 : 0;
        if (run >= max_dets) drop[r[k].k] = 1;
    }
    int n = 0;
    for (int k = 0; k < m; k++)
        if (!drop[k]) order[n++] = order[k];
    free(r); free(drop);
    return n;
}

/* the class's AP averaged over COCO's ten thresholds (w->s.n > 0) */
static int coco_class(const det_box *gt, const det_box *dt, class_work *w, int max_dets, double *ap, char *err) {
    if ((w->m = limit_per_image(dt, w->order, w->m, max_dets, err)) < 0) return -1;
    double a = 0;
    for (int j = 0; j < 10; j++) {
        match_class(gt, &w->s, dt, w->order, w->m, coco_thr(j), w->tp);
        a += ap_101(w->tp, w->m, w->s.n, w->prec, w->rec);
    }
    *ap = a / 10;
    return 0;
}

int det_map_coco(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
                 int max_dets, double *ap, double *map, char *err) {
    if (check_inputs(gt, ngt, dt, ndt, classes, 0.5, err)) return -1;
    if (max_dets <= 0) return det__fail(err, "detect: max_dets must be > 0 (got %d)", max_dets);
    double sum = 0;
    int nc = 0;
    for (int c = 0; c < classes; c++) {
        class_work w;
        if (work_open(gt, ngt, dt, ndt, c, &w, err)) return -1;
        double a = NAN;
        int rc = w.s.n ? coco_class(gt, dt, &w, max_dets, &a, err) : 0;
        work_close(&w);
        if (rc) return -1;
        if (w.s.n) { sum += a; nc++; }
        if (ap) ap[c] = a;
    }
    *map = nc ? sum / nc : 0;
    return 0;
}

static void count_finish(det_count *c) {
    c->precision = c->tp + c->fp ? (double)c->tp / (c->tp + c->fp) : 0;
    c->recall = c->npos ? (double)c->tp / c->npos : 0;
}

int det_counts(const det_box *gt, int ngt, const det_box *dt, int ndt, int classes,
               double thr, double score_thr, det_count *out, char *err) {
    if (check_inputs(gt, ngt, dt, ndt, classes, thr, err)) return -1;
    det_count all = { 0, 0, 0, 0, 0 };
    for (int c = 0; c < classes; c++) {
        class_work w;
        if (work_open(gt, ngt, dt, ndt, c, &w, err)) return -1;
        int m = 0;
        while (m < w.m && dt[w.order[m]].score >= score_thr) m++;
        match_class(gt, &w.s, dt, w.order, m, thr, w.tp);
        det_count *o = &out[c];
        *o = (det_count){ 0, 0, w.s.n, 0, 0 };
        for (int k = 0; k < m; k++) { o->tp += w.tp[k]; o->fp += !w.tp[k]; }
        count_finish(o);
        all.tp += o->tp; all.fp += o->fp; all.npos += o->npos;
        work_close(&w);
    }
    count_finish(&all);
    out[classes] = all;
    return 0;
}
