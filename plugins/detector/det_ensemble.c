/* det_ensemble.c: ensembles of detectors (detector.h): the members opened and checked, their
 * detections on the valid list merged by Weighted Boxes Fusion or NMS for each prefix of
 * the members, and one image's merged detections drawn. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "detector.h"
#include "members.h"
#include "wspace.h"

int det_cfg_is_detector(const char *cfg) {
    FILE *f = fopen(cfg, "r");
    if (!f) return 0;
    char line[4096], last[64] = "";
    int yolo = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (*s != '[') continue;
        size_t l = strcspn(s, "]");
        snprintf(last, sizeof last, "%.*s", (int)(l < 60 ? l + 1 : 60), s);
        yolo |= !strcmp(last, "[yolo]");
    }
    fclose(f);
    /* [Gaussian_yolo] (AlexeyAB's) too, and a [contrastive] after a [yolo] (its
     * yolov4-tiny_contrastive.cfg), so that a host that cannot run them says so in one line
     * instead of the classifier's loader judging the detection set */
    return !strcmp(last, "[yolo]") || !strcmp(last, "[region]") || !strcmp(last, "[detection]") ||
           !strcmp(last, "[Gaussian_yolo]") || (yolo && !strcmp(last, "[contrastive]"));
}

det_merge det_merge_default(void) { return (det_merge){ DET_MERGE_WBF, DET_WBF_IOU_DEFAULT }; }

int det_merge_members(const det_boxes *members, int k, const det_merge *m, det_boxes *out, char *err) {
    out->n = 0;
    det_boxes all = { 0 };
    int bad = 0;
    for (int t = 0; t < k && !bad; t++)
        for (int i = 0; i < members[t].n && !bad; i++) bad = det_boxes_push(&all, &members[t].b[i], err);
    if (m->kind == DET_MERGE_WBF) {
        det_box *fused = NULL;
        int nf = 0;
        if (!bad) bad = det_wbf(all.b, all.n, k, m->iou, 0, &fused, &nf, err);
        for (int i = 0; i < nf && !bad; i++) bad = det_boxes_push(out, &fused[i], err);
        free(fused);
    } else {
        int *keep = bad ? NULL : malloc(((size_t)all.n + 1) * sizeof *keep);
        if (!bad && !keep) bad = snprintf(err, DKMC_ERRLEN, "detect: out of memory for %d boxes", all.n) > 0;
        if (!bad) bad = det_nms(all.b, all.n, m->iou, keep, err);
        for (int i = 0; i < all.n && !bad; i++)
            if (keep[i]) bad = det_boxes_push(out, &all.b[i], err);
        free(keep);
    }
    det_boxes_free(&all);
    return bad ? -1 : 0;
}

/* ---- members ---- */

void det_members_free(det_members *m) {
    for (int i = 0; i < m->n; i++) {
        if (m->cfg) free(m->cfg[i]);
        if (m->weights) free(m->weights[i]);
    }
    for (int i = 0; i < m->nnets; i++) host_free(m->nets[i]);
    free(m->cfg); free(m->weights); free(m->net_of); free(m->nets);
    memset(m, 0, sizeof *m);
}

/* the network of member i's cfg: an earlier member's, or a new one checked against classes */
static int net_for(det_members *m, int i, int classes, char *err) {
    for (int t = 0; t < i; t++)
        if (!strcmp(m->cfg[t], m->cfg[i])) return m->net_of[t];
    host_net *h = host_load_detector(m->cfg[i], 1, err);
    if (!h) return -1;
    if (host_det_classes(h) != classes) {
        snprintf(err, DKMC_ERRLEN, "%s: the last layer has classes=%d, the ensemble's .data has classes=%d", m->cfg[i],
                 host_det_classes(h), classes);
        host_free(h);
        return -1;
    }
    m->nets[m->nnets] = h;
    return m->nnets++;
}

int det_members_open(det_members *m, const char *default_cfg, char *const *args, int n, int classes, char *err) {
    memset(m, 0, sizeof *m);
    if (n < 1) { snprintf(err, DKMC_ERRLEN, "no members given"); return -1; }
    m->cfg = calloc((size_t)n, sizeof *m->cfg);
    m->weights = calloc((size_t)n, sizeof *m->weights);
    m->net_of = calloc((size_t)n, sizeof *m->net_of);
    m->nets = calloc((size_t)n, sizeof *m->nets);
    m->n = n;
    if (!m->cfg || !m->weights || !m->net_of || !m->nets) {
        snprintf(err, DKMC_ERRLEN, "out of memory for %d members", n);
        goto fail;
    }
    char cbuf[4096], wbuf[4096];
    for (int i = 0; i < n; i++) {
        if (ens_member_split(args[i], default_cfg, cbuf, sizeof cbuf, wbuf, sizeof wbuf, err)) goto fail;
        m->cfg[i] = strdup(cbuf);
        m->weights[i] = strdup(wbuf);
        if (!m->cfg[i] || !m->weights[i]) { snprintf(err, DKMC_ERRLEN, "out of memory"); goto fail; }
        if ((m->net_of[i] = net_for(m, i, classes, err)) < 0) goto fail;
        if (host_load_weights(m->nets[m->net_of[i]], wbuf, err)) goto fail;   /* its size now, not halfway */
    }
    return 0;
fail:
    det_members_free(m);
    return -1;
}

host_net *det_members_load(det_members *m, int i, char *err) {
    host_net *h = m->nets[m->net_of[i]];
    return host_load_weights(h, m->weights[i], err) ? NULL : h;
}

/* ---- the table ---- */

/* A CSV field: as is, or quoted (quotes doubled) when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) { if (*s == '"') fputc('"', f); fputc(*s, f); }
    fputc('"', f);
}

typedef struct {
    const det_ens_job *j;
    data_cfg dc;
    det_valset v;
    det_members m;
    det_boxes *dt;    /* per member */
    det_boxes merged;
    ws_atomic csv;
} ens_state;

/* member i's detections, then the first i + 1 merged: the row */
static int ens_member(ens_state *s, int i, const det_ens_report *rep, char *err) {
    det_infer_opts io = det_infer_defaults();
    io.letterbox = s->j->letterbox;
    io.progress = s->j->progress;
    det_ens_row row = { i + 1, s->j->members[i], { 0, 0 }, { 0, 0 }, 0, 0 };
    host_net *h = det_members_load(&s->m, i, err);
    if (!h || det_predict_set(h, &s->v, &io, &s->dt[i], err)) return -1;
    if (det_evaluate(&s->v, &s->dt[i], 0.25, &row.member, NULL, NULL, err)) return -1;
    if (det_merge_members(s->dt, i + 1, &s->j->merge, &s->merged, err)) return -1;
    if (det_evaluate(&s->v, &s->merged, 0.25, &row.ensemble, NULL, NULL, err)) return -1;
    row.boxes = s->dt[i].n;
    row.merged = s->merged.n;
    if (rep->row) rep->row(rep->ctx, &row);
    if (s->csv.fp) {
        fprintf(s->csv.fp, "%d,", i + 1);
        csv_field(s->csv.fp, s->j->members[i]);
        fprintf(s->csv.fp, ",%.4f,%.4f,%.4f,%.4f,%d,%d\n", 100 * row.member.map50, 100 * row.member.map5095,
                100 * row.ensemble.map50, 100 * row.ensemble.map5095, row.boxes, row.merged);
    }
    return 0;
}

int det_ens_run(const det_ens_job *j, const det_ens_report *rep, char *err) {
    static const det_ens_report none = { 0 };
    if (!rep) rep = &none;
    ens_state s;
    memset(&s, 0, sizeof s);
    s.j = j;
    int rc = -1;
    if (det_data_load(j->data, &s.dc, err) || det_valset_load(s.dc.valid, s.dc.classes, j->limit, &s.v, err)) goto done;
    if (det_members_open(&s.m, j->cfg, j->members, j->n, s.dc.classes, err)) goto done;
    if (!(s.dt = calloc((size_t)j->n, sizeof *s.dt))) { snprintf(err, DKMC_ERRLEN, "out of memory"); goto done; }
    if (j->csv) {
        if (ws_atomic_open(&s.csv, j->csv, err)) goto done;
        fprintf(s.csv.fp, "member,file,map50,map5095,ens_map50,ens_map5095,boxes,ens_boxes\n");
    }
    if (rep->start) rep->start(rep->ctx, j->n, s.v.n);
    for (int i = 0; i < j->n; i++)
        if (ens_member(&s, i, rep, err)) goto done;
    if (s.csv.fp && ws_atomic_commit(&s.csv, err)) goto done;
    rc = 0;
done:
    if (s.csv.fp) ws_atomic_abort(&s.csv);
    for (int i = 0; s.dt && i < j->n; i++) det_boxes_free(&s.dt[i]);
    free(s.dt);
    det_boxes_free(&s.merged);
    det_members_free(&s.m);
    det_valset_free(&s.v);
    return rc;
}
