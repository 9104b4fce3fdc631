/* det_swa.c: "darknet swa" on a detector cfg (detector.h): the weight-space mean of the
 * files, BN statistics recomputed exactly on training images as inference sees them, the
 * mean saved, and its mAP on the valid list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "detector.h"
#include "swa.h"

/* host_bn_recompute's batches: the train list's images, one network input each */
typedef struct {
    host_net *h;
    char **paths;
    int n, letterbox, failed;
    char *err;
} bn_feed;

static int bn_batch(void *ctx, int b, float *x, int max) {
    bn_feed *f = ctx;
    int in = host_inputs(f->h), k = 0;
    for (int i = b * max; i < f->n && k < max && !f->failed; i++, k++)
        if (host_det_input(f->h, f->paths[i], f->letterbox, x + (size_t)k * in, f->err)) f->failed = 1;
    return f->failed ? 0 : k;
}

/* the mean of the files in h, its BN statistics from the train list; *images: how many */
static int average(const det_swa_job *j, const data_cfg *dc, host_net *h, int *images, char *err) {
    char **paths;
    int all, n;
    if (det_list_read(dc->train, &paths, &all, err)) return -1;
    n = j->bn_limit > 0 && j->bn_limit < all ? j->bn_limit : all;
    int rc = swa_average(h, j->files, j->n, err);
    if (!rc) {
        bn_feed f = { h, paths, n, j->letterbox, 0, err };
        int B = host_batch(h);
        host_bn_recompute(h, bn_batch, &f, (n + B - 1) / B);
        rc = f.failed ? -1 : 0;
    }
    *images = n;
    det_list_free(paths, all);
    return rc;
}

int det_swa_run(const det_swa_job *j, const det_swa_report *rep, char *err) {
    static const det_swa_report none = { 0 };
    if (!rep) rep = &none;
    data_cfg dc;
    if (det_data_load(j->data, &dc, err)) return -1;
    host_net *h = host_load_detector(j->cfg, 1, err);
    if (!h) return -1;
    int rc = -1, images = 0;
    det_valset v = { 0 };
    det_boxes dt = { 0 };
    if (host_det_classes(h) != dc.classes) {
        snprintf(err, DKMC_ERRLEN, "%s: the last layer has classes=%d, %s has classes=%d", j->cfg, host_det_classes(h), j->data,
                 dc.classes);
        goto done;
    }
    for (int i = 0; i < j->n; i++)   /* every file's size before any work */
        if (host_load_weights(h, j->files[i], err)) goto done;
    if (!j->no_test && det_valset_load(dc.valid, dc.classes, j->limit, &v, err)) goto done;
    if (average(j, &dc, h, &images, err) || host_save_weights(h, j->out, err)) goto done;
    if (rep->saved) rep->saved(rep->ctx, j->out, images);
    if (!j->no_test) {
        det_infer_opts io = det_infer_defaults();
        io.letterbox = j->letterbox;
        io.progress = j->progress;
        det_metrics m;
        if (det_predict_set(h, &v, &io, &dt, err) || det_evaluate(&v, &dt, 0.25, &m, NULL, NULL, err)) goto done;
        if (rep->row) rep->row(rep->ctx, "swa", &m);
    }
    rc = 0;
done:
    det_boxes_free(&dt);
    det_valset_free(&v);
    host_free(h);
    return rc;
}
