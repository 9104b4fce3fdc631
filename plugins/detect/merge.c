/* merge.c: greedy NMS and Weighted Boxes Fusion over the detections of an ensemble
 * (detect.h states the rules). Both work on groups of one image and one class, each in the
 * module's ranking (score, then image, then position). */
#include "detect_private.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int image, cls, rank, pos; } grp_key;

static int grp_cmp(const void *pa, const void *pb) {
    const grp_key *a = pa, *b = pb;
    if (a->image != b->image) return a->image < b->image ? -1 : 1;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    return (a->rank > b->rank) - (a->rank < b->rank);
}

/* *g (n keys): the boxes grouped by image and class, ranked within each group */
static int group(const det_box *b, int n, grp_key **g, char *err) {
    int *order;
    if (det__rank(b, n, -1, &order, err) < 0) return -1;
    *g = malloc((size_t)(n ? n : 1) * sizeof **g);
    if (!*g) { free(order); return det__fail(err, "detect: out of memory (%d boxes)", n); }
    for (int k = 0; k < n; k++) (*g)[k] = (grp_key){ b[order[k]].image, b[order[k]].cls, k, order[k] };
    free(order);
    qsort(*g, (size_t)n, sizeof **g, grp_cmp);
    return 0;
}

/* the end of the group that starts at g[i] */
static int group_end(const grp_key *g, int n, int i) {
    int j = i + 1;
    while (j < n && g[j].image == g[i].image && g[j].cls == g[i].cls) j++;
    return j;
}

int det_nms(const det_box *b, int n, double iou_thr, int *keep, char *err) {
    if (det__check(b, n, 0, 1, "box", err)) return -1;
    if (!(iou_thr >= 0 && iou_thr <= 1)) return det__fail(err, "detect: IoU threshold %g outside [0,1]", iou_thr);
    grp_key *g;
    if (group(b, n, &g, err)) return -1;
    for (int i = 0; i < n; i++) keep[i] = 1;
    for (int s = 0, e; s < n; s = e) {
        e = group_end(g, n, s);
        for (int i = s; i < e; i++) {
            if (!keep[g[i].pos]) continue;
            for (int j = i + 1; j < e; j++)
                if (keep[g[j].pos] && det_iou(&b[g[i].pos], &b[g[j].pos]) > iou_thr) keep[g[j].pos] = 0;
        }
    }
    free(g);
    return 0;
}

/* a WBF cluster: sums over its members (score-weighted corners, plain corners for a
 * cluster whose scores are all 0), its fused corners, score and creation index */
typedef struct { double wsum, csum[4], psum[4], fused[4], score; int n, made; } cluster;

static void cluster_add(cluster *c, const double corners[4], double score) {
    c->n++;
    c->wsum += score;
    for (int k = 0; k < 4; k++) {
        c->csum[k] += score * corners[k];
        c->psum[k] += corners[k];
        c->fused[k] = c->wsum > 0 ? c->csum[k] / c->wsum : c->psum[k] / c->n;
    }
}

static int cluster_cmp(const void *pa, const void *pb) {
    const cluster *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->made > b->made) - (a->made < b->made);
}

/* the cluster c[nc] that box corners joins (IoU > thr, highest), or -1 */
static int best_cluster(const cluster *c, int nc, const double corners[4], double thr) {
    int best = -1;
    double best_iou = thr;
    for (int i = 0; i < nc; i++) {
        double iou = det__iou_corners(c[i].fused, corners);
        if (iou > best_iou) { best_iou = iou; best = i; }
    }
    return best;
}

/* fuses the group g[s..e) into out; c: room for e - s clusters */
static int wbf_group(const det_box *b, const grp_key *g, int s, int e, int models, double thr,
                     double skip, cluster *c, det_boxes *out, char *err) {
    int nc = 0;
    for (int i = s; i < e; i++) {
        const det_box *p = &b[g[i].pos];
        if (p->score < skip) continue;
        double corners[4];
        det__corners(p, corners);
        int k = best_cluster(c, nc, corners, thr);
        if (k < 0) { k = nc++; memset(&c[k], 0, sizeof c[k]); c[k].made = k; }
        cluster_add(&c[k], corners, p->score);
    }
    for (int k = 0; k < nc; k++)
        c[k].score = c[k].wsum / c[k].n * (c[k].n < models ? c[k].n : models) / models;
    qsort(c, (size_t)nc, sizeof *c, cluster_cmp);
    for (int k = 0; k < nc; k++) {
        const double *f = c[k].fused;
        det_box o = { (f[0] + f[2]) / 2, (f[1] + f[3]) / 2, f[2] - f[0], f[3] - f[1],
                      g[s].cls, c[k].score, g[s].image };
        if (det_boxes_push(out, &o, err)) return -1;
    }
    return 0;
}

static int wbf_check(const det_box *b, int n, int models, double iou_thr, char *err) {
    if (det__check(b, n, 0, 1, "box", err)) return -1;
    if (models < 1) return det__fail(err, "detect: WBF needs models >= 1 (got %d)", models);
    if (!(iou_thr >= 0 && iou_thr <= 1)) return det__fail(err, "detect: IoU threshold %g outside [0,1]", iou_thr);
    for (int i = 0; i < n; i++)
        if (b[i].score < 0) return det__fail(err, "detect: box %d: negative score %g (WBF weighs by score)", i, b[i].score);
    return 0;
}

int det_wbf(const det_box *b, int n, int models, double iou_thr, double skip_thr,
            det_box **out, int *nout, char *err) {
    *out = NULL;
    *nout = 0;
    if (wbf_check(b, n, models, iou_thr, err)) return -1;
    grp_key *g;
    if (group(b, n, &g, err)) return -1;
    cluster *c = malloc((size_t)(n ? n : 1) * sizeof *c);
    det_boxes o = { 0 };
    int rc = c ? 0 : det__fail(err, "detect: out of memory (%d boxes)", n);
    for (int s = 0, e; !rc && s < n; s = e) {
        e = group_end(g, n, s);
        rc = wbf_group(b, g, s, e, models, iou_thr, skip_thr, c, &o, err);
    }
    free(g);
    free(c);
    if (rc) { det_boxes_free(&o); return -1; }
    *out = o.b;
    *nout = o.n;
    return 0;
}
