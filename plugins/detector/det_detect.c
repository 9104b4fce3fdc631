/* det_detect.c: "darknet ensemble detect" (detector.h): one image's detections by every
 * member, merged, the boxes above the threshold drawn (host_det_draw) and written as a PNG. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "data.h"
#include "detector.h"
#include "wspace.h"

/* CHW floats in [0,1] as 8-bit RGB (255 x value truncated, as Darknet's save_image), written
 * atomically */
static int write_png(const char *path, const float *pix, int w, int h, char *err) {
    size_t n = (size_t)w * h;
    unsigned char *b = malloc(n * 3 + 1);
    if (!b) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", path); return -1; }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            float v = pix[i + k * n];
            b[i * 3 + k] = (unsigned char)(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
        }
    ws_atomic a;
    int rc = ws_atomic_open(&a, path, err);
    if (!rc && data_png_write(a.fp, w, h, 3, b)) {
        snprintf(err, DKMC_ERRLEN, "%s: cannot write the picture", path);
        ws_atomic_abort(&a);
        rc = -1;
    } else if (!rc) rc = ws_atomic_commit(&a, err);
    free(b);
    return rc;
}

static int by_score(const void *a, const void *b) {
    double x = ((const det_box *)a)->score, y = ((const det_box *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* every member's boxes on the one image, merged; those >= thresh into r->shown, best first */
static int detect_merged(const det_ens_detect_job *j, det_members *m, det_ens_detection *r, char *err) {
    char *img = (char *)j->image;
    det_valset v = { &img, 1, r->classes, { 0 } };
    det_boxes *dt = calloc((size_t)j->n, sizeof *dt), merged = { 0 };
    det_infer_opts io = det_infer_defaults();
    io.letterbox = j->letterbox;
    int bad = !dt;
    if (bad) snprintf(err, DKMC_ERRLEN, "out of memory");
    for (int i = 0; i < j->n && !bad; i++) {
        host_net *h = det_members_load(m, i, err);
        bad = !h || det_predict_set(h, &v, &io, &dt[i], err);
    }
    if (!bad) bad = det_merge_members(dt, j->n, &j->merge, &merged, err);
    for (int i = 0; i < merged.n && !bad; i++)
        if (merged.b[i].score >= j->thresh) bad = det_boxes_push(&r->shown, &merged.b[i], err);
    if (!bad && r->shown.n) qsort(r->shown.b, (size_t)r->shown.n, sizeof *r->shown.b, by_score);
    for (int i = 0; dt && i < j->n; i++) det_boxes_free(&dt[i]);
    free(dt);
    det_boxes_free(&merged);
    return bad ? -1 : 0;
}

static int draw(const det_ens_detect_job *j, det_ens_detection *r, char *err) {
    host_det *d = malloc(((size_t)r->shown.n + 1) * sizeof *d);
    if (!d) { snprintf(err, DKMC_ERRLEN, "out of memory"); return -1; }
    for (int i = 0; i < r->shown.n; i++) {
        const det_box *b = &r->shown.b[i];
        d[i] = (host_det){ (float)b->x, (float)b->y, (float)b->w, (float)b->h, (float)b->score, b->cls };
    }
    float *pix = NULL;
    int w, h;
    int rc = host_det_draw(j->image, d, r->shown.n, r->classes, r->names, j->labels_dir, &pix, &w, &h, &r->labeled, err);
    if (!rc) rc = write_png(j->out, pix, w, h, err);
    free(pix); free(d);
    return rc;
}

int det_ens_detect_run(const det_ens_detect_job *j, det_ens_detection *r, char *err) {
    memset(r, 0, sizeof *r);
    const char *dot = strrchr(j->out, '.');
    if (!dot || strcasecmp(dot, ".png") || strchr(dot, '/')) {
        snprintf(err, DKMC_ERRLEN, "%s: the picture is written as PNG: name it .png", j->out);
        return -1;
    }
    if (!(j->thresh >= 0 && j->thresh <= 1)) { snprintf(err, DKMC_ERRLEN, "thresh must be in [0, 1], got %g", j->thresh); return -1; }
    data_cfg dc;
    det_members m = { 0 };
    if (det_data_load(j->data, &dc, err)) return -1;
    r->classes = dc.classes;
    if (dc.labels[0] && !(r->names = data_read_names(dc.labels, dc.classes, err))) return -1;
    int rc = det_members_open(&m, j->cfg, j->members, j->n, dc.classes, err);
    if (!rc) rc = detect_merged(j, &m, r, err);
    if (!rc) rc = draw(j, r, err);
    det_members_free(&m);
    return rc;
}

void det_ens_detection_free(det_ens_detection *r) {
    det_boxes_free(&r->shown);
    if (r->names) data_free_names(r->names, r->classes);
    r->names = NULL;
}
