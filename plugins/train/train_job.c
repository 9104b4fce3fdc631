/* train_job.c: a run of "darknet train" / "darknet fge" (see train_job.h): the loop's hooks
 * decide the rows, take the snapshots, save, and keep the history of the figure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "train_job.h"

void train_default_out(char *buf, size_t n, const char *backup, const char *cfg, const char *suffix) {
    const char *base = strrchr(cfg, '/');
    base = base ? base + 1 : cfg;
    char name[512];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot) *dot = 0;
    const char *dir = backup && backup[0] ? backup : ".";
    size_t l = strlen(dir);
    snprintf(buf, n, "%s%s%s%s.weights", dir, (l && dir[l - 1] == '/') ? "" : "/", name, suffix);
}

void train_snapshot_prefix(char *buf, size_t n, const char *out) {
    snprintf(buf, n, "%s", out);
    size_t l = strlen(buf);
    if (l > 8 && !strcmp(buf + l - 8, ".weights")) buf[l - 8] = 0;
}

/* an evaluation point of the figure; 0 or -1 (out of memory) */
static int push_eval(train_session *c, double it, double err) {
    if (c->ev_n == c->ev_cap) {
        int cap = c->ev_cap ? 2 * c->ev_cap : 64;
        double *a = realloc(c->ev_it, cap * sizeof(double));
        if (a) c->ev_it = a;
        double *b = realloc(c->ev_err, cap * sizeof(double));
        if (b) c->ev_err = b;
        if (!a || !b) return -1;
        c->ev_cap = cap;
    }
    c->ev_it[c->ev_n] = it; c->ev_err[c->ev_n] = err; c->ev_n++;
    return 0;
}

/* one row to the caller and the CSV; tr_* NaN for a snapshot inside an epoch; snap 0 for none */
static void emit_row(train_session *c, double epoch, int whole, uint64_t it, double lr, double tr_loss, double tr_acc,
                     eval_result te, int snap, double secs) {
    train_row r = { epoch, whole, it, lr, tr_loss, tr_acc, te, snap, c->snaps.ensemble,
                    ws_dist(c->sgd.n, train_sgd_weights(&c->sgd), c->w0), secs };
    if (c->rep->row) c->rep->row(c->rep->ctx, c, &r);
    if (c->csv_open)
        fprintf(c->csv.fp, "%.4f,%llu,%.8g,%.6f,%.4f,%.6f,%.4f,%d,%.6f,%.4f,%.6f,%.2f\n", epoch, (unsigned long long)it + 1, lr,
                tr_loss, tr_acc, te.nll, te.acc, snap, snap ? r.ens.nll : NAN, snap ? r.ens.acc : NAN, r.dist, secs);
}

static int job_step(void *vc, const float *x, const float *y, float lr, train_step_out *out) {
    return train_sgd_step(&((train_session *)vc)->sgd, x, y, lr, out);
}

static int job_after_iter(void *vc, uint64_t it, float lr, char *err) {
    train_session *c = vc;
    const train_job *j = c->j;
    if (j->png && c->hist_n < c->hist_cap) {   /* the figure's history: O(n) per step, so only for -png */
        c->lr_hist[c->hist_n] = lr;
        c->dist_hist[c->hist_n] = ws_dist(c->sgd.n, train_sgd_weights(&c->sgd), c->w0);
        c->hist_n++;
    }
    double x = (double)(it + 1);
    if (c->snapshots && sched_snapshot_after(&c->s, it)) {
        int sr = fge_snapshot_take(&c->snaps, err);
        if (sr) return sr == -2 ? TRAIN_DIVERGED : -1;
        c->last_snap_it = it + 1;
        int k = c->snaps.count - 1;
        if (k < c->nsnap + 1) {   /* the schedule's count bounds the arrays */
            c->snap_it[k] = x; c->snap_err[k] = 100 - c->snaps.single.acc; c->ens_err[k] = 100 - c->snaps.ensemble.acc;
        }
        if (push_eval(c, x, 100 - c->snaps.single.acc)) { snprintf(err, DKMC_ERRLEN, "out of memory"); return -1; }
        if ((it + 1) % (uint64_t)c->iters)   /* inside an epoch: a row of its own */
            emit_row(c, x / c->iters, 0, it, lr, NAN, NAN, c->snaps.single, c->snaps.count, 0);
    } else if (j->eval_every > 0 && (it + 1) % (uint64_t)j->eval_every == 0 && c->te->n) {
        eval_result r = run_eval_swap(&c->bn, c->te, NULL, NULL, NULL);
        if (push_eval(c, x, 100 - r.acc)) { snprintf(err, DKMC_ERRLEN, "out of memory"); return -1; }
    }
    return 0;
}

static int job_epoch_end(void *vc, const train_epoch_info *e, int last, char *err) {
    train_session *c = vc;
    const train_job *j = c->j;
    uint64_t it = (uint64_t)(e->epoch) * c->iters;   /* iterations of this run so far */
    eval_result r = { NAN, NAN, 0 };
    int snap = 0;
    if (c->snapshots && c->last_snap_it == it) { r = c->snaps.single; snap = c->snaps.count; }
    else if (!j->no_test) {
        r = run_eval_swap(&c->bn, c->te, NULL, "test", NULL);
        if (push_eval(c, (double)it, 100 - r.acc)) { snprintf(err, DKMC_ERRLEN, "out of memory"); return -1; }
    }
    emit_row(c, e->epoch, 1, it - 1, e->lr, e->loss, e->acc, r, snap, e->seconds);
    /* the ranks step on the same all-reduced gradient: different weights mean a broken run */
    if (dist_size() > 1 && dist_differs(c->sgd.w, c->sgd.n * sizeof(float))) {
        snprintf(err, DKMC_ERRLEN, "the ranks hold different weights after epoch %d", e->epoch);
        return -1;
    }
    if (dist_is_root() && ((j->save_every > 0 && e->epoch % j->save_every == 0) || last)) {
        int exact = 0, sr = run_save_swap(&c->bn, j->out, &exact, err);
        if (sr) return sr == -2 ? TRAIN_DIVERGED : -1;
        if (c->rep->saved) c->rep->saved(c->rep->ctx, j->out, exact, run_bn_swap_images(&c->bn));
    }
    return 0;
}

/* Everything before the loop: the plan, the optimiser, the statistics, the snapshots, the CSV. */
static int session_open(train_session *c, char *err) {
    const train_job *j = c->j;
    int B = j->batch;
    c->iters = c->tr->n / B;
    if (c->iters < 1) {
        snprintf(err, DKMC_ERRLEN, "%s: %d training images are fewer than one batch of %d", j->data, c->tr->n, B);
        return -1;
    }
    train_plan_req q = { j->kind, j->cfg, j->lr, j->lr2, j->cycle_epochs, j->epochs };
    if (train_plan(&q, c->h, c->iters, B, &c->epochs, &c->s, err)) return -1;
    c->momentum = host_cfg_momentum(c->h); c->decay = host_cfg_decay(c->h);
    if (train_sgd_init(&c->sgd, c->h, c->momentum, c->decay)) {
        snprintf(err, DKMC_ERRLEN, "out of memory for %zu parameters", host_nparams(c->h));
        return -1;
    }
    c->sgd.global_batch = B;
    if (run_bn_swap_init(&c->bn, c->h, c->tr, j->bn_limit)) {
        snprintf(err, DKMC_ERRLEN, "out of memory for %zu BN statistics", host_nstats(c->h));
        return -1;
    }
    c->snapshots = c->s.kind == SCHED_FGE || c->s.kind == SCHED_SGDR;
    if (c->snapshots && j->no_test) {
        snprintf(err, DKMC_ERRLEN, "policy %s takes snapshots and evaluates them on the test set: drop -no_test", sched_name(c->s.kind));
        return -1;
    }
    c->hist_cap = (uint64_t)c->epochs * c->iters;
    c->nsnap = c->snapshots ? sched_count_snapshots(&c->s, c->hist_cap) : 0;
    c->w0 = malloc(c->sgd.n * sizeof(float));
    c->lr_hist = malloc(c->hist_cap * sizeof(double));
    c->dist_hist = malloc(c->hist_cap * sizeof(double));
    c->snap_it = malloc((c->nsnap + 1) * sizeof(double));
    c->snap_err = malloc((c->nsnap + 1) * sizeof(double));
    c->ens_err = malloc((c->nsnap + 1) * sizeof(double));
    if (!c->w0 || !c->lr_hist || !c->dist_hist || !c->snap_it || !c->snap_err || !c->ens_err) {
        snprintf(err, DKMC_ERRLEN, "out of memory");
        return -1;
    }
    memcpy(c->w0, c->sgd.w, c->sgd.n * sizeof(float));
    if (j->png && j->weights && !j->no_test && c->te->n) {   /* iteration 0 of the figure */
        eval_result r = run_eval_swap(&c->bn, c->te, NULL, "start", NULL);
        c->start_err = 100 - r.acc;
    }
    if (c->snapshots) {
        char prefix[2048];
        train_snapshot_prefix(prefix, sizeof prefix, j->out);
        if (fge_snapshots_init(&c->snaps, c->h, c->te, &c->bn, j->bn_update, prefix, err)) { c->snapshots = 0; return -1; }
    }
    if (j->csv && dist_is_root()) {
        if (ws_atomic_open(&c->csv, j->csv, err)) return -1;
        c->csv_open = 1;
        fprintf(c->csv.fp, "epoch,iteration,lr,tr_loss,tr_acc,te_nll,te_acc,snapshot,ens_nll,ens_acc,dist,seconds\n");
    }
    c->young = train_young_window(c->h, &c->s, c->iters, c->epochs, j->no_test, j->save_every, j->eval_every, c->te->n > 0,
                                  j->stop_after > 0 ? j->stop_after * c->iters : 0);
    return 0;
}

int train_session_run(train_session *c, const train_job *j, host_net *h, const dataset *tr, const dataset *te,
                      const train_report *rep, char *err) {
    static const train_report none = { 0 };
    memset(c, 0, sizeof *c);
    c->j = j; c->h = h; c->tr = tr; c->te = te; c->rep = rep ? rep : &none;
    c->start_err = NAN;
    if (session_open(c, err)) return -1;
    if (c->rep->start) c->rep->start(c->rep->ctx, c);
    int epoch = 0, B;
    uint64_t iteration = 0;
    rng_t rng;
    rng_seed(&rng, (uint64_t)j->seed);
    train_loop L = { tr, j->batch, c->epochs, &epoch, &iteration, &rng, (uint64_t)j->seed, &c->s, 1, "epoch", j->stop_after,
                     c, NULL, job_step, job_after_iter, job_epoch_end, 0, 0, NULL };
    dist_batch_split(host_batch(h), &B, &L.shard_off);
    L.shard_n = host_batch(h);
    char lerr[DKMC_ERRLEN];
    if (train_run(&L, lerr)) {
        snprintf(err, DKMC_ERRLEN, "%s: %s%s", j->cfg, lerr, strstr(lerr, "diverged") ? "; nothing saved after the last checkpoint" : "");
        return -1;
    }
    if (c->rep->finished) c->rep->finished(c->rep->ctx, c);
    if (c->csv_open) {   /* rank 0 writes the files */
        c->csv_open = 0;
        if (ws_atomic_commit(&c->csv, err)) return -1;
    }
    return 0;
}

void train_session_free(train_session *c) {
    if (c->csv_open) ws_atomic_abort(&c->csv);
    c->csv_open = 0;
    if (c->snapshots) fge_snapshots_free(&c->snaps);
    run_bn_swap_free(&c->bn);
    train_sgd_free(&c->sgd);
    free(c->w0); free(c->lr_hist); free(c->dist_hist); free(c->ev_it); free(c->ev_err);
    free(c->snap_it); free(c->snap_err); free(c->ens_err);
    c->w0 = NULL; c->lr_hist = c->dist_hist = c->ev_it = c->ev_err = c->snap_it = c->snap_err = c->ens_err = NULL;
}
