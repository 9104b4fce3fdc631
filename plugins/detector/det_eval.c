/* det_eval.c: a network's detections on a valid list and their mAP (detector.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detector.h"

int det_data_load(const char *path, data_cfg *dc, char *err) {
    if (data_cfg_load(path, dc, err)) return -1;
    if (strcmp(dc->format, "list")) {
        snprintf(err, DKMC_ERRLEN, "%s: format %s: a detector needs train= and valid= lists of images with label files", path,
                 dc->format);
        return -1;
    }
    return 0;
}

int det_valset_load(const char *list, int classes, int limit, det_valset *v, char *err) {
    memset(v, 0, sizeof *v);
    v->classes = classes;
    if (det_list_read(list, &v->paths, &v->n, err)) return -1;
    if (limit > 0 && limit < v->n) {
        for (int i = limit; i < v->n; i++) free(v->paths[i]);
        v->n = limit;
    }
    char lp[4096];
    for (int i = 0; i < v->n; i++)
        if (det_label_path(v->paths[i], lp, sizeof lp, err) || det_labels_read(lp, classes, i, &v->gt, err)) {
            det_valset_free(v);
            return -1;
        }
    return 0;
}

void det_valset_free(det_valset *v) {
    det_list_free(v->paths, v->n);
    det_boxes_free(&v->gt);
    memset(v, 0, sizeof *v);
}

det_infer_opts det_infer_defaults(void) { return (det_infer_opts){ 0.005f, 0.45f, 0, 0 }; }

int det_predict_set(host_net *h, const det_valset *v, const det_infer_opts *o, det_boxes *dt, char *err) {
    for (int i = 0; i < v->n; i++) {
        host_det *b;
        int n;
        if (host_det_predict(h, v->paths[i], o->thresh, o->nms, o->letterbox, &b, &n, err)) return -1;
        int bad = 0;
        for (int k = 0; k < n && !bad; k++) {
            det_box d = { b[k].x, b[k].y, b[k].w, b[k].h, b[k].cls, b[k].score, i };
            /* a box the network cannot place (exp overflow in a young [yolo] head's w, h) still
             * counts, as the false positive it is: an empty box overlaps nothing */
            if (!isfinite(d.x) || !isfinite(d.y) || !isfinite(d.w) || !isfinite(d.h)) d.x = d.y = d.w = d.h = 0;
            bad = det_boxes_push(dt, &d, err);
        }
        free(b);
        if (bad) return -1;
        if (o->progress && ((i + 1) % 100 == 0 || i + 1 == v->n))
            fprintf(stderr, "detect: %d/%d images\r%s", i + 1, v->n, i + 1 == v->n ? "\n" : "");
    }
    return 0;
}

int det_evaluate(const det_valset *v, const det_boxes *dt, double count_thr, det_metrics *m, double *ap50,
                 det_count *counts, char *err) {
    if (det_ap_voc(v->gt.b, v->gt.n, dt->b, dt->n, v->classes, 0.5, ap50, NULL, &m->map50, err)) return -1;
    if (det_map_coco(v->gt.b, v->gt.n, dt->b, dt->n, v->classes, DET_COCO_MAXDETS, NULL, &m->map5095, err)) return -1;
    if (counts && det_counts(v->gt.b, v->gt.n, dt->b, dt->n, v->classes, 0.5, count_thr, counts, err)) return -1;
    return 0;
}
