/* det_curve.c: curves between detectors (det_curve.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "det_curve.h"
#include "wspace.h"

int det_labels_check(char **paths, int n, int classes, char *err) {
    char lp[4096];
    for (int i = 0; i < n; i++) {
        det_boxes b = { 0 };
        int bad = det_label_path(paths[i], lp, sizeof lp, err) || det_labels_read(lp, classes, i, &b, err);
        det_boxes_free(&b);
        if (bad) return -1;
    }
    return 0;
}

/* The .data file, its train list (first limit images) with checked labels, and a detector
 * cfg with the same classes. */
static int open_train(const char *data, int limit, data_cfg *dc, char ***paths, int *n, char *err) {
    if (data_cfg_load(data, dc, err) || det_list_read(dc->train, paths, n, err)) return -1;
    if (limit > 0 && limit < *n) {
        for (int i = limit; i < *n; i++) free((*paths)[i]);
        *n = limit;
    }
    return det_labels_check(*paths, *n, dc->classes, err);
}

static int classes_fit(const host_net *h, const data_cfg *dc, const char *cfg, char *err) {
    if (host_det_classes(h) == dc->classes) return 0;
    snprintf(err, DKMC_ERRLEN, "%s: classes=%d, but the last layer of %s has classes=%d", dc->path, dc->classes, cfg,
             host_det_classes(h));
    return -1;
}

/* ---- training ---- */
typedef struct { host_net *h; char **paths; int n; } batch_src;

static int fill_batch(void *ctx, uint64_t seed, uint64_t it, float *x, float *y, char *err) {
    batch_src *s = ctx;
    unsigned sd = (unsigned)(seed * 2654435761u + it * 40503u + 17u);
    return host_det_load_batch(s->h, s->paths, s->n, sd, x, y, err);
}

int det_curve_train_run(det_curve_train_job *j, const curve_train_report *rep, char *err) {
    data_cfg dc;
    char **paths = NULL;
    int n = 0, rc = -1;
    host_net *h = NULL;
    if (open_train(j->data, j->limit, &dc, &paths, &n, err)) goto done;
    if (!(h = host_load_detector(j->c.cfg, 0, err)) || classes_fit(h, &dc, j->c.cfg, err)) goto done;
    if (host_adam_error(h, "curve train", err) || host_det_loss_check(h, "curve train", err)) goto done;
    batch_src bs = { h, paths, n };
    train_source src = { host_inputs(h), host_det_truths(h), fill_batch, &bs };
    dataset tr = { 0 };
    tr.n = n; tr.w = host_width(h); tr.h = host_height(h); tr.c = host_channels(h);
    j->c.src = &src;
    j->c.backup = dc.backup;
    rc = curve_train_run(&j->c, h, &tr, rep, err);
    j->c.src = NULL;
done:
    host_free(h);
    if (paths) det_list_free(paths, n);
    return rc;
}

/* ---- evaluation: the networks, the images and truths, loaded once (det_point_env) ---- */
struct det_point_env {
    host_net *h, *h1;            /* the cfg's batch (BN statistics, loss), batch 1 (mAP) */
    det_valset val;
    char **paths;
    int npaths, nimg, nbn, ntr;  /* images held: max(nbn, ntr) */
    float *x, *truth;            /* nimg images and their truths */
    float *w, *prev, *stats;
    unsigned char *mask;
};
typedef struct det_point_env env;

static void env_close(env *e) {
    host_free(e->h); host_free(e->h1);
    det_valset_free(&e->val);
    if (e->paths) det_list_free(e->paths, e->npaths);
    free(e->x); free(e->truth); free(e->w); free(e->prev); free(e->stats); free(e->mask);
    memset(e, 0, sizeof *e);
}

/* Image i's truths as the library fills them from its label file, without augmentation. */
static int read_truths(const env *e, int i, float *truth, char *err) {
    char lp[4096];
    det_boxes b = { 0 };
    if (det_label_path(e->paths[i], lp, sizeof lp, err) || det_labels_read(lp, e->val.classes, i, &b, err)) return -1;
    int nt = host_det_truths(e->h), ts = host_det_truth_size(e->h), k = 0;
    memset(truth, 0, (size_t)nt * sizeof(float));
    for (int q = 0; q < b.n && (k + 1) * ts <= nt; q++) {
        const det_box *d = &b.b[q];
        if (d->w < .001 || d->h < .001) continue;
        float *t = truth + (size_t)ts * k++;
        t[0] = (float)d->x; t[1] = (float)d->y; t[2] = (float)d->w; t[3] = (float)d->h; t[4] = (float)d->cls;
    }
    det_boxes_free(&b);
    return 0;
}

static int load_images(env *e, char *err) {
    size_t in = (size_t)host_inputs(e->h), nt = (size_t)host_det_truths(e->h);
    e->x = malloc((e->nimg ? e->nimg : 1) * in * sizeof(float));
    e->truth = malloc((e->nimg ? e->nimg : 1) * nt * sizeof(float));
    if (!e->x || !e->truth) { snprintf(err, DKMC_ERRLEN, "out of memory for %d training images", e->nimg); return -1; }
    for (int i = 0; i < e->nimg; i++)
        if (host_det_input(e->h, e->paths[i], 0, e->x + i * in, err) || read_truths(e, i, e->truth + i * nt, err)) return -1;
    return 0;
}

/* want_val: the valid list too (evaluation; export needs none) */
static int env_open(env *e, const curve *cv, const char *cpath, const char *data, const char *cfg, const det_curve_eval_opts *o,
                    int want_val, char *err) {
    memset(e, 0, sizeof *e);
    data_cfg dc;
    if (open_train(data, 0, &dc, &e->paths, &e->npaths, err)) return -1;
    if (!(e->h = host_load_detector(cfg, 0, err)) || classes_fit(e->h, &dc, cfg, err)) return -1;
    if (cv && curve_check_fits(cv, e->h, cpath, cfg, err)) return -1;
    if (!(e->h1 = host_load_detector(cfg, 1, err))) return -1;
    if (want_val && det_valset_load(dc.valid, dc.classes, o->test_limit, &e->val, err)) return -1;
    e->val.classes = dc.classes;
    e->nbn = o->bn_limit > 0 && o->bn_limit < e->npaths ? o->bn_limit : e->npaths;
    e->ntr = o->train_limit < 0 ? 0 : o->train_limit > 0 && o->train_limit < e->npaths ? o->train_limit : e->npaths;
    e->nimg = e->nbn > e->ntr ? e->nbn : e->ntr;
    if (e->ntr > 0 && host_det_loss_check(e->h, "the training loss (-train_limit -1, or plane -no_train, leaves it out)", err)) return -1;
    size_t n = host_nparams(e->h);
    e->w = malloc(n * sizeof(float)); e->prev = malloc(n * sizeof(float)); e->mask = malloc(n);
    e->stats = malloc((host_nstats(e->h) + 1) * sizeof(float));
    if (!e->w || !e->prev || !e->mask || !e->stats) { snprintf(err, DKMC_ERRLEN, "%s: out of memory for %zu parameters", cfg, n); return -1; }
    return load_images(e, err);
}

static int bn_batch(void *ctx, int b, float *x, int max) {
    env *e = ctx;
    int from = b * max, n = e->nbn - from < max ? e->nbn - from : max;
    if (n <= 0) return 0;
    memcpy(x, e->x + (size_t)from * host_inputs(e->h), (size_t)n * host_inputs(e->h) * sizeof(float));
    return n;
}

/* w into both networks with statistics recomputed on e->nbn images */
static void set_point(env *e, const float *w) {
    int B = host_batch(e->h);
    host_set_params(e->h, w);
    host_bn_recompute(e->h, bn_batch, e, (e->nbn + B - 1) / B);
    host_get_stats(e->h, e->stats);
    host_set_params(e->h1, w);
    host_set_stats(e->h1, e->stats);
}

static double mean_loss(env *e) {
    int B = host_batch(e->h);
    size_t in = (size_t)host_inputs(e->h), nt = (size_t)host_det_truths(e->h);
    double s = 0;
    for (int i = 0; i < e->ntr; i += B) {
        int n = e->ntr - i < B ? e->ntr - i : B;
        s += host_det_loss(e->h, e->x + i * in, e->truth + i * nt, n);
    }
    return e->ntr ? s / e->ntr : NAN;
}

int det_point_eval(det_point_env *e, const float *w, const unsigned char *mask, double decay, det_point *r, char *err) {
    size_t n = host_nparams(e->h);
    set_point(e, w);
    double l2 = 0;
    for (size_t j = 0; j < n; j++) if (mask[j]) l2 += (double)w[j] * w[j];
    r->tr_det = mean_loss(e);
    r->tr_loss = r->tr_det + 0.5 * decay * l2;
    det_boxes dt = { 0 };
    det_infer_opts io = det_infer_defaults();
    det_metrics m = { NAN, NAN };
    int rc = det_predict_set(e->h1, &e->val, &io, &dt, err) || det_evaluate(&e->val, &dt, 0.25, &m, NULL, NULL, err);
    det_boxes_free(&dt);
    r->map50 = m.map50; r->map5095 = m.map5095;
    return rc ? -1 : 0;
}

static int eval_point(env *e, const curve *cv, const det_curve_eval_opts *o, int i, det_curve_row *r, char *err) {
    size_t n = cv->n;
    double t = o->points > 1 ? (double)i / (o->points - 1) : 0;
    r->t = t;
    curve_point(cv, t, e->w);
    r->dl = i ? ws_dist(n, e->w, e->prev) : 0;
    det_point p;
    int rc = det_point_eval(e, e->w, e->mask, o->decay >= 0 ? o->decay : cv->decay, &p, err);
    r->tr_loss = p.tr_loss; r->tr_det = p.tr_det; r->map50 = p.map50; r->map5095 = p.map5095;
    memcpy(e->prev, e->w, n * sizeof(float));
    if (!rc && o->progress) fprintf(stderr, "t = %.3f: loss %.4f, mAP@0.5 %.2f %%\n", t, r->tr_det, 100 * r->map50);
    return rc;
}

static int eval_path(env *e, const curve *cv, const char *name, const det_curve_eval_opts *o, det_curve_row *rows, char *err) {
    curve_decay_mask(cv, e->h, e->mask);
    for (int i = 0; i < o->points; i++) {
        if (eval_point(e, cv, o, i, &rows[i], err)) return -1;
        if (o->row) o->row(o->ctx, name, &rows[i]);
    }
    return 0;
}

static void csv_rows(FILE *f, const char *name, const det_curve_row *r, int n) {
    for (int i = 0; i < n; i++)
        fprintf(f, "%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f\n", name, r[i].t, r[i].dl, r[i].tr_loss, r[i].tr_det, r[i].map50, r[i].map5095);
}

int det_curve_eval_run(const curve *cv, const char *curve_path, const char *data, const char *cfg,
                       const det_curve_eval_opts *o, det_curve_row *rows, det_curve_row *lrows, char *err) {
    env e;
    curve line = { 0 };
    int rc = env_open(&e, cv, curve_path, data, cfg, o, 1, err);
    if (!rc) rc = eval_path(&e, cv, o->name, o, rows, err);
    if (!rc && o->line) {
        rc = curve_line_of(cv, &line);
        if (rc) snprintf(err, DKMC_ERRLEN, "out of memory for the line of %zu parameters", cv->n);
        else rc = eval_path(&e, &line, "line", o, lrows, err);
    }
    curve_free(&line);
    env_close(&e);
    if (rc || !o->csv) return rc;
    ws_atomic a;
    if (ws_atomic_open(&a, o->csv, err)) return -1;
    fprintf(a.fp, "path,t,dl,tr_loss,tr_det,map50,map5095\n");
    csv_rows(a.fp, o->name, rows, o->points);
    if (o->line) csv_rows(a.fp, "line", lrows, o->points);
    return ws_atomic_commit(&a, err);
}

int det_curve_line(const char *cfg, const char *a, const char *b, curve *line, char *err) {
    memset(line, 0, sizeof *line);
    host_net *h = host_load_detector(cfg, 1, err);
    if (!h) return -1;
    int rc = -1;
    if (curve_init(line, CURVE_POLYCHAIN, 2, host_nparams(h), 0)) {
        snprintf(err, DKMC_ERRLEN, "%s: out of memory for %zu parameters", cfg, host_nparams(h));
        goto done;
    }
    line->flags = CURVE_DETECTOR;
    line->decay = host_cfg_decay(h);
    if (host_load_weights(h, a, err)) goto done;
    host_get_params(h, line->bends[0]);
    if (host_load_weights(h, b, err)) goto done;
    host_get_params(h, line->bends[1]);
    rc = 0;
done:
    host_free(h);
    return rc;
}

int det_curve_export(const curve *cv, const char *curve_path, const char *data, const char *cfg, double t, int bn_limit,
                     const char *out, char *err) {
    det_curve_eval_opts o = { 0 };
    o.bn_limit = bn_limit;
    o.train_limit = -1;
    env e;
    int rc = env_open(&e, cv, curve_path, data, cfg, &o, 0, err);
    if (!rc) {
        curve_point(cv, t, e.w);
        set_point(&e, e.w);
        rc = host_save_weights(e.h, out, err);
    }
    env_close(&e);
    return rc;
}

/* ---- one weight vector, for the plane (det_curve.h) ---- */
det_point_env *det_point_open(const char *data, const char *cfg, int bn_limit, int train_limit, int test_limit, char *err) {
    det_curve_eval_opts o = { 0 };
    o.bn_limit = bn_limit; o.train_limit = train_limit; o.test_limit = test_limit;
    env *e = malloc(sizeof *e);
    if (!e) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", cfg); return NULL; }
    if (env_open(e, NULL, NULL, data, cfg, &o, 1, err)) { env_close(e); free(e); return NULL; }
    return e;
}

void det_point_close(det_point_env *e) {
    if (!e) return;
    env_close(e);
    free(e);
}

host_net *det_point_net(det_point_env *e) { return e->h; }

void det_point_sizes(const det_point_env *e, int *bn_images, int *train_images, int *test_images) {
    *bn_images = e->nbn; *train_images = e->ntr; *test_images = e->val.n;
}

static uint64_t fnv(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

uint64_t det_point_fingerprint(const det_point_env *e) {
    size_t in = (size_t)host_inputs(e->h), nt = (size_t)host_det_truths(e->h);
    int n[3] = { e->nbn, e->ntr, e->val.n };
    uint64_t h = fnv(0xcbf29ce484222325ULL, n, sizeof n);
    h = fnv(h, e->x, (size_t)e->nimg * in * sizeof(float));
    h = fnv(h, e->truth, (size_t)e->nimg * nt * sizeof(float));
    for (int i = 0; i < e->val.n; i++) h = fnv(h, e->val.paths[i], strlen(e->val.paths[i]) + 1);
    for (int i = 0; i < e->val.gt.n; i++) {   /* field by field: no padding bytes */
        const det_box *b = &e->val.gt.b[i];
        double v[6] = { b->x, b->y, b->w, b->h, b->cls, b->image };
        h = fnv(h, v, sizeof v);
    }
    return h;
}
