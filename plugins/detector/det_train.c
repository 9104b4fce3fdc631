/* det_train.c: "darknet detector train" with policy=fge_cyclic or policy=sgdr (detector.h):
 * Darknet's own detection loop, our schedule inside it, snapshots and their ensemble. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data.h"
#include "detector.h"
#include "det_curve.h"
#include "rng.h"
#include "run.h"
#include "schedule.h"
#include "wspace.h"

typedef det_rate_ctx rate_ctx;

/* Darknet asks during iteration i (0-based) of this run with batch number start + i + 1 */
double det_rate_hook(void *c, uint64_t b) {
    rate_ctx *r = c;
    return sched_rate(&r->s, b > r->start ? b - 1 - r->start : 0);
}
#define rate_hook det_rate_hook

typedef struct {
    const det_train_job *j;
    host_net *h, *eval;
    data_cfg dc;
    char **paths;
    int npaths;
    det_valset val;
    rate_ctx rc;
    det_boxes *snaps;          /* each snapshot's detections on the valid list */
    int nsnaps;
    char backup[1024], stem[256];
    float *params, *stats;
} run;

static void stem_of(const char *cfg, char *out, size_t n) {
    const char *b = strrchr(cfg, '/');
    b = b ? b + 1 : cfg;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}

/* Every training image's label file, read and checked before the library's loader sees it
 * (it exits on a missing file). */
static int check_train_labels(run *r, char *err) { return det_labels_check(r->paths, r->npaths, r->dc.classes, err); }

/* "darknet fge" on a detector: the cfg's policy replaced by FGE's triangle from the command
 * line, for fge_epochs epochs of the training list from the weights' iteration on */
static int fge_override(run *r, long iters, char *err) {
    const det_train_job *j = r->j;
    double c = j->fge_cycle_epochs * iters;
    if (c < 2 || c != floor(c) || (long)c % 2) {
        snprintf(err, DKMC_ERRLEN, "%s: -cycle %g epochs is %g iterations of %ld per epoch; it must be an even whole number >= 2",
                 j->data, j->fge_cycle_epochs, c, iters);
        return -1;
    }
    sched *s = &r->rc.s;
    s->kind = SCHED_FGE; s->lr = j->fge_lr1; s->lr2 = j->fge_lr2; s->cycle = (long)c;
    host_policy_set_fge(r->h);
    host_set_max_batches(r->h, (int)(r->rc.start + (uint64_t)j->fge_epochs * iters));
    return 0;
}

static int setup(run *r, char *err) {
    const det_train_job *j = r->j;
    if (data_cfg_load(j->data, &r->dc, err)) return -1;
    if (!(r->h = host_load_detector(j->cfg, 0, err))) return -1;
    if (host_det_classes(r->h) != r->dc.classes) {
        snprintf(err, DKMC_ERRLEN, "%s: classes=%d, but the last layer of %s has classes=%d", j->data, r->dc.classes, j->cfg,
                 host_det_classes(r->h));
        return -1;
    }
    if (j->weights && host_load_weights(r->h, j->weights, err)) return -1;
    if (j->clear) host_set_seen(r->h, 0);
    if (det_list_read(r->dc.train, &r->paths, &r->npaths, err) || check_train_labels(r, err)) return -1;
    if (det_valset_load(r->dc.valid, r->dc.classes, j->valid_limit, &r->val, err)) return -1;
    if (!(r->eval = host_load_detector(j->cfg, 1, err))) return -1;
    long iters = r->npaths / host_det_images_per_step(r->h);
    if (sched_from_cfg(&r->rc.s, r->h, j->cfg, iters > 0 ? iters : 1, 0, err)) return -1;
    r->rc.start = host_det_batch_num(r->h);
    if (j->fge_epochs > 0 && fge_override(r, iters > 0 ? iters : 1, err)) return -1;
    if (host_set_rate_hook(r->h, rate_hook, &r->rc)) { snprintf(err, DKMC_ERRLEN, "%s: too many networks", j->cfg); return -1; }
    snprintf(r->backup, sizeof r->backup, "%s", r->dc.backup[0] ? r->dc.backup : "backup");
    mkdir(r->backup, 0777);
    stem_of(j->cfg, r->stem, sizeof r->stem);
    r->params = malloc(host_nparams(r->h) * sizeof(float));
    r->stats = malloc((host_nstats(r->h) + 1) * sizeof(float));
    if (!r->params || !r->stats) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", j->cfg); return -1; }
    return 0;
}

/* Writes h's weights to path unless one of them is not finite (then an error naming it). */
static int save_checked(run *r, const char *path, uint64_t batch, char *err) {
    host_get_params(r->h, r->params);
    host_get_stats(r->h, r->stats);
    if (!ws_all_finite(host_nparams(r->h), r->params) || !ws_all_finite(host_nstats(r->h), r->stats)) {
        snprintf(err, DKMC_ERRLEN, "%s: iteration %llu: a weight is not finite; stopped without writing %s", r->j->cfg,
                 (unsigned long long)batch, path);
        return -1;
    }
    return host_save_weights(r->h, path, err);
}

/* The snapshot's detections (the eval network takes the training network's weights) and the
 * mAP of it alone and of the ensemble so far. */
static int snapshot(run *r, uint64_t batch, double avg, char *err) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s_snap%02d.weights", r->backup, r->stem, r->nsnaps + 1);
    if (save_checked(r, path, batch, err)) return -1;
    host_set_params(r->eval, r->params);
    host_set_stats(r->eval, r->stats);
    det_boxes *grown = realloc(r->snaps, (r->nsnaps + 1) * sizeof *grown);
    if (!grown) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", path); return -1; }
    r->snaps = grown;
    det_boxes *dt = &r->snaps[r->nsnaps++];
    memset(dt, 0, sizeof *dt);
    det_infer_opts io = det_infer_defaults();
    io.letterbox = r->j->letterbox;
    det_snap_row row = { r->nsnaps, batch, host_current_rate(r->h), avg, 0, 0, 0, 0, path };
    det_metrics one, ens;
    if (run_bn_young(r->h))
        fprintf(stderr, "detector train: warning: snapshot %d at iteration %llu: %.0f %% of its BN running statistics is still "
                "Darknet's initial zero (young); its mAP is not to be trusted\n", r->nsnaps, (unsigned long long)batch,
                100 * host_bn_initial_share(r->h));
    if (det_predict_set(r->eval, &r->val, &io, dt, err) || det_evaluate(&r->val, dt, 0.25, &one, NULL, NULL, err)) return -1;
    det_boxes fb = { 0 };
    det_merge wbf = det_merge_default();
    int bad = det_merge_members(r->snaps, r->nsnaps, &wbf, &fb, err) || det_evaluate(&r->val, &fb, 0.25, &ens, NULL, NULL, err);
    det_boxes_free(&fb);
    if (bad) return -1;
    row.map50 = one.map50; row.map5095 = one.map5095; row.ens_map50 = ens.map50; row.ens_map5095 = ens.map5095;
    if (r->j->snap) r->j->snap(r->j->ctx, &row);
    return 0;
}

static int multiscale(run *r, host_det_loader *L, rng_t *g, int w0, int h0) {
    double f = 0.7 + 0.6 * rng_uniform(g);
    int w = (int)lround(w0 * f / 32) * 32, h = (int)lround(h0 * f / 32) * 32;
    return host_det_resize(r->h, L, w < 32 ? 32 : w, h < 32 ? 32 : h);
}

static int loop(run *r, char *err) {
    const det_train_job *j = r->j;
    host_det_loader *L = host_det_loader_new(r->h, r->paths, r->npaths, j->threads, err);
    if (!L) return -1;
    host_det_loader_quiet(L, !j->verbose);
    uint64_t maxb = (uint64_t)host_cfg_max_batches(r->h), b;
    int w0 = host_width(r->h), h0 = host_height(r->h), rc = 0;
    rng_t g;
    rng_seed(&g, 7);
    double avg = -1;
    char path[1400];
    while (!rc && (b = host_det_batch_num(r->h)) < maxb && !(j->stop_after && b - r->rc.start >= j->stop_after)) {
        if (host_det_random(r->h) && (b - r->rc.start) % 10 == 0) multiscale(r, L, &g, w0, h0);
        float loss = host_det_train_step(r->h, L);
        b = host_det_batch_num(r->h);
        if (!isfinite(loss)) {
            snprintf(err, DKMC_ERRLEN, "%s: iteration %llu: the loss is not finite (%g); stopped, nothing written for it", j->cfg,
                     (unsigned long long)b, loss);
            rc = -1; break;
        }
        avg = avg < 0 ? loss : 0.9 * avg + 0.1 * loss;
        if (j->progress) j->progress(j->ctx, b, maxb, loss, avg, host_current_rate(r->h));
        snprintf(path, sizeof path, "%s/%s.backup", r->backup, r->stem);
        if (b % 100 == 0) rc = save_checked(r, path, b, err);
        uint64_t it = b - 1 - r->rc.start;
        if (!rc && b > (uint64_t)host_cfg_burn_in(r->h) && sched_snapshot_after(&r->rc.s, it)) rc = snapshot(r, b, avg, err);
    }
    host_det_loader_free(L);
    if (!rc) {
        snprintf(path, sizeof path, "%s/%s_final.weights", r->backup, r->stem);
        rc = save_checked(r, path, host_det_batch_num(r->h), err);
    }
    return rc;
}

int det_train_run(const det_train_job *j, char *err) {
    run r;
    memset(&r, 0, sizeof r);
    r.j = j;
    int rc = setup(&r, err);
    if (!rc) rc = loop(&r, err);
    for (int k = 0; k < r.nsnaps; k++) det_boxes_free(&r.snaps[k]);
    free(r.snaps);
    free(r.params); free(r.stats);
    det_valset_free(&r.val);
    if (r.paths) det_list_free(r.paths, r.npaths);
    host_free(r.eval);
    host_free(r.h);
    return rc;
}
