/* curve_train.c: curve training and evaluation on top of host/ and wspace/. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "curve_train.h"
#include "dist.h"
#include "run.h"
#include "train.h"
#include "wspace.h"
#include "clock.h"


void curve_decay_mask(const curve *cv, const host_net *h, unsigned char *mask) {
    if (cv->flags & CURVE_DECAY_ALL) memset(mask, 1, cv->n);
    else host_decay_mask(h, mask);
}

/* ---- the step (see curve_train.h) ---- */
struct curve_stepper {
    curve *cv;
    host_net *h;
    float *w, *g;
    unsigned char *mask;
    float share;              /* under mpirun: this rank's part of the global batch (else 1) */
    host_dev_curve *dev;      /* the bends on the network's GPU (NULL: on the host) */
};

void curve_stepper_free(curve_stepper *s) {
    if (!s) return;
    free(s->w); free(s->g); free(s->mask);
    host_dev_curve_free(s->dev);
    free(s);
}

curve_stepper *curve_stepper_new(curve *cv, host_net *h, char *err) {
    size_t n = cv->n;
    curve_stepper *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, CURVE_ERRLEN, "out of memory"); return NULL; }
    s->cv = cv; s->h = h;
    int B, off;   /* the global batch: the sum of the ranks' batches (collective under mpirun) */
    dist_batch_split(host_batch(h), &B, &off);
    s->share = (float)host_batch(h) / (float)B;
    s->w = malloc(n * sizeof(float)); s->g = malloc(n * sizeof(float)); s->mask = malloc(n);
    if (!s->w || !s->g || !s->mask) { snprintf(err, CURVE_ERRLEN, "out of memory for %zu parameters", n); goto fail; }
    curve_decay_mask(cv, h, s->mask);
    for (int j = 0; j < cv->k; j++)
        if (curve_is_free(cv, j) && !cv->momentum[j]) {
            cv->momentum[j] = calloc(n, sizeof(float));
            if (!cv->momentum[j]) { snprintf(err, CURVE_ERRLEN, "out of memory for a momentum buffer of %zu floats", n); goto fail; }
        }
    if (dist_size() == 1) {   /* under mpirun: the host step, which sums over ranks */
        char why[HOST_ERRLEN];
        s->dev = host_dev_curve_new(h, n, cv->k, cv->bends, cv->momentum, s->mask, why);
        if (!s->dev && why[0]) { snprintf(err, CURVE_ERRLEN, "%s", why); goto fail; }
    }
    return s;
fail:
    curve_stepper_free(s);
    return NULL;
}

int curve_stepper_sync(curve_stepper *s, char *err) {
    if (!s->dev) return 0;
    char why[HOST_ERRLEN];
    if (host_dev_curve_pull(s->dev, s->cv->bends, s->cv->momentum, why)) {
        snprintf(err, CURVE_ERRLEN, "%s", why);
        return -1;
    }
    return 0;
}

/* The step on the network's GPU (host_dev_curve_step), its outcome in the loop's terms. */
static int step_dev(curve_stepper *s, double t, const float *x, const float *y, float lr, const float *coef,
                    train_step_out *out) {
    curve *cv = s->cv;
    float nll;
    double l2;
    int bad;
    char why[HOST_ERRLEN];
    int r = host_dev_curve_step(s->dev, coef, x, y, lr, cv->decay, cv->mom, &nll, &out->hits, &l2, &bad, why);
    out->nll = nll;
    out->obj = r == HOST_STEP_LOSS ? nll : nll + 0.5 * cv->decay * l2;
    if (r == HOST_STEP_DEVICE) snprintf(out->note, sizeof out->note, "t = %.3f, %s", t, why);
    if (r == HOST_STEP_STATE) snprintf(out->note, sizeof out->note, "t = %.3f, bend %d became non-finite", t, bad);
    if (r == HOST_STEP_DEVICE || r == HOST_STEP_STATE) out->obj = NAN;
    return r ? -1 : 0;
}

int curve_stepper_step(curve_stepper *s, double t, const float *x, const float *y, float lr, train_step_out *out) {
    curve *cv = s->cv;
    float coef[64], nll;
    curve_coeffs(cv->type, cv->k, t, coef);
    snprintf(out->note, sizeof out->note, "t = %.3f", t);
    if (s->dev) return step_dev(s, t, x, y, lr, coef, out);
    out->obj = curve_batch_grad(cv, s->h, t, x, y, s->mask, s->w, s->g, &nll, &out->hits);
    out->nll = nll;
    if (dist_size() > 1) {   /* data-parallel: the global batch's gradient, one all-reduce per step */
        double red[3] = { s->share * out->obj, s->share * (double)nll, out->hits };
        dist_sum_d(red, 3);
        out->obj = red[0]; out->nll = red[1]; out->hits = (int)red[2];
        ws_scale(cv->n, s->share, s->g);
        dist_sum_f(s->g, cv->n);
    }
    if (!isfinite(out->obj)) return -1;
    const float mom = cv->mom;
    const float *g = s->g;
    for (int j = 0; j < cv->k; j++) {
        if (!curve_is_free(cv, j)) continue;
        float *v = cv->momentum[j], *th = cv->bends[j], cj = coef[j];
        for (size_t i = 0; i < cv->n; i++) {
            v[i] = mom * v[i] + cj * g[i];
            th[i] -= lr * v[i];
        }
        if (!ws_all_finite(cv->n, th)) {   /* the loss may still be finite when a bend is not */
            snprintf(out->note, sizeof out->note, "t = %.3f, bend %d became non-finite", t, j);
            out->obj = NAN;
            return -1;
        }
    }
    return 0;
}

/* The curve's side of the training loop: t before the batch, the bends' step, the rows and
 * checkpoints at the end of an epoch. */
typedef struct {
    curve *cv;
    const curve_train_opts *o;
    curve_stepper *s;
    double t;
} curve_ctx;

static void curve_draw_t(void *vc) {
    curve_ctx *c = vc;
    c->t = rng_uniform(&c->cv->rng);
}

static int curve_step(void *vc, const float *x, const float *y, float lr, train_step_out *out) {
    curve_ctx *c = vc;
    return curve_stepper_step(c->s, c->t, x, y, lr, out);
}

static int curve_epoch_end(void *vc, const train_epoch_info *e, int last, char *err) {
    curve_ctx *c = vc;
    const curve_train_opts *o = c->o;
    curve *cv = c->cv;
    cv->epoch = (uint32_t)e->epoch;
    if (curve_stepper_sync(c->s, err)) return -1;   /* the bends back from a GPU (a no-op on the CPU) */
    if (o->table) {
        fprintf(o->table, "%5d %10.6f %10.4f %10.4f %9.2f %8.1f\n", e->epoch, e->lr, e->loss, e->nll, e->acc, e->seconds);
        fflush(o->table);
    }
    if (dist_size() > 1) {   /* the same updates on every rank: check that the bends agree */
        int differ = 0;
        for (int j = 0; j < cv->k; j++) differ |= dist_differs(cv->bends[j], cv->n * sizeof(float));
        if (differ) { snprintf(err, CURVE_ERRLEN, "the ranks hold different bends after epoch %u", cv->epoch); return -1; }
    }
    if (o->out && dist_is_root() && (last || (o->save_every > 0 && cv->epoch % o->save_every == 0))) {
        if (curve_save(cv, o->out, err)) return -1;
        if (o->progress) fprintf(stderr, "saved %s (epoch %u)\n", o->out, cv->epoch);
    }
    return 0;
}

int curve_train(curve *cv, host_net *h, const dataset *tr, const curve_train_opts *o, char *err) {
    int B, shard_off;   /* under mpirun each rank's network holds its shard of the batch B */
    dist_batch_split(host_batch(h), &B, &shard_off);
    int iters = tr->n / B;
    if (iters < 1) { snprintf(err, CURVE_ERRLEN, "%d training images are fewer than one batch of %d", tr->n, B); return -1; }
    curve_ctx c = { cv, o, NULL, 0 };
    int rc = -1;
    c.s = curve_stepper_new(cv, h, err);
    if (!c.s) return -1;
    cv->flags |= CURVE_HAS_STATE;
    if (cv->epoch == 0 && cv->iteration == 0) rng_seed(&cv->rng, cv->seed);
    sched s = { 0 };
    s.lr = cv->lr; s.iters = iters; s.epochs = (int)cv->epochs;
    if (cv->schedule == 1) {   /* the cfg's policy, scaled to the curve's lr, over the whole run */
        host_set_max_batches(h, (int)cv->epochs * iters);
        s.kind = SCHED_CFG; s.h = h; s.scale = cv->lr / host_cfg_learning_rate(h);
    } else s.kind = SCHED_REFERENCE;
    if (o->table) {
        fprintf(o->table, "%5s %10s %10s %10s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_nll", "tr_acc", "time");
        fflush(o->table);
    }
    int epoch = (int)cv->epoch;
    train_loop L = { tr, B, (int)cv->epochs, &epoch, &cv->iteration, &cv->rng, cv->seed, &s, o->progress,
                     "curve epoch", o->stop_after, &c, curve_draw_t, curve_step, NULL, curve_epoch_end,
                     shard_off, host_batch(h), o->src };
    double t0 = dist_size() > 1 ? dkmc_now() : 0, c0 = dist_sum_seconds();
    uint64_t b0 = dist_sum_bytes(), i0 = cv->iteration;
    rc = train_run(&L, err);
    if (!rc && dist_size() > 1 && o->progress && cv->iteration > i0) {
        double wall = dkmc_now() - t0, comm = dist_sum_seconds() - c0;
        fprintf(stderr, "curve: %d ranks, batch %d = %d here; all-reduce %.0f KB per step, %.2f s of %.2f s (%.1f %%, waits for slower ranks included)\n",
                dist_size(), B, host_batch(h), (double)(dist_sum_bytes() - b0) / (cv->iteration - i0) / 1024, comm, wall, 100 * comm / wall);
    }
    char e2[CURVE_ERRLEN];
    if (rc) curve_stepper_sync(c.s, e2);   /* cv as the run left it; err keeps the run's error */
    curve_stepper_free(c.s);
    return rc;
}

double curve_batch_grad(const curve *cv, host_net *h, double t, const float *x, const float *y,
                        const unsigned char *mask, float *w, float *g, float *nll, int *hits) {
    size_t n = cv->n;
    const float decay = cv->decay;
    curve_point(cv, t, w);
    host_set_params(h, w);
    float l = host_step(h, x, y, hits);
    host_get_grad(h, g);
    double l2 = 0;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) { l2 += (double)w[i] * w[i]; g[i] += decay * w[i]; }
    if (nll) *nll = l;
    return l + 0.5 * decay * l2;
}

/* One point of the curve at a time, spread over the ranks by dist_map. */
typedef struct {
    const curve *cv;
    host_net *h;
    const dataset *tr, *te, *trl;
    const curve_eval_opts *o;
    curve_eval_row *rows;
    float *w, *prev;
    unsigned char *mask;
} eval_job;

static int eval_point(void *vj, int i, double *out, char *err) {
    eval_job *J = vj;
    const curve_eval_opts *o = J->o;
    size_t n = J->cv->n;
    char label[64];
    (void)err;
    curve_eval_row r;
    double t = o->points > 1 ? (double)i / (o->points - 1) : 0;
    curve_point(J->cv, t, J->w);
    r.t = t;
    r.dl = 0;
    if (i) {   /* the previous point again: whichever rank evaluated it, the same floats */
        curve_point(J->cv, o->points > 1 ? (double)(i - 1) / (o->points - 1) : 0, J->prev);
        r.dl = ws_dist(n, J->w, J->prev);
    }
    host_set_params(J->h, J->w);
    snprintf(label, sizeof label, "t=%.3f bn", t);
    run_bn_update(J->h, J->tr, o->bn_limit, o->progress ? label : NULL);
    double l2 = 0;
    for (size_t j = 0; j < n; j++) if (J->mask[j]) l2 += (double)J->w[j] * J->w[j];
    if (J->trl->n > 0) {
        snprintf(label, sizeof label, "t=%.3f train", t);
        eval_result a = run_eval(J->h, J->trl, NULL, o->progress ? label : NULL);
        r.tr_nll = a.nll; r.tr_err = 100 - a.acc;
        r.tr_loss = a.nll + 0.5 * o->decay * l2;
    } else r.tr_nll = r.tr_err = r.tr_loss = NAN;
    snprintf(label, sizeof label, "t=%.3f test", t);
    eval_result b = run_eval(J->h, J->te, NULL, o->progress ? label : NULL);
    r.te_nll = b.nll; r.te_err = 100 - b.acc;
    double v[7] = { r.t, r.dl, r.tr_loss, r.tr_nll, r.tr_err, r.te_nll, r.te_err };
    memcpy(out, v, sizeof v);
    return 0;
}

static int eval_deliver(void *vj, int i, const double *v, char *err) {
    eval_job *J = vj;
    curve_eval_row *r = &J->rows[i];
    (void)err;
    r->t = v[0]; r->dl = v[1]; r->tr_loss = v[2]; r->tr_nll = v[3]; r->tr_err = v[4]; r->te_nll = v[5]; r->te_err = v[6];
    if (J->o->row) J->o->row(J->o->ctx, r);
    return 0;
}

int curve_evaluate(const curve *cv, host_net *h, const dataset *tr, const dataset *te,
                   const curve_eval_opts *o, curve_eval_row *rows, char *err) {
    size_t n = cv->n;
    float *w = malloc(n * sizeof(float)), *prev = malloc(n * sizeof(float));
    unsigned char *mask = malloc(n);
    if (!w || !prev || !mask) {
        free(w); free(prev); free(mask);
        snprintf(err, CURVE_ERRLEN, "out of memory for %zu parameters", n);
        return -1;
    }
    curve_decay_mask(cv, h, mask);
    if (o->decay_all) memset(mask, 1, n);
    dataset trl = *tr;
    if (o->train_limit > 0 && o->train_limit < trl.n) trl.n = o->train_limit;
    if (o->train_limit < 0) trl.n = 0;
    eval_job J = { cv, h, tr, te, &trl, o, rows, w, prev, mask };
    int rc = dist_map(o->points, 7, &J, eval_point, eval_deliver, err);
    free(w); free(prev); free(mask);
    return rc;
}

curve_stat curve_stats(const curve_eval_row *rows, int n, size_t off) {
#define V(i) (*(const double *)((const char *)&rows[i] + off))
    curve_stat s = { V(0), V(n - 1), V(0), V(0), 0, 0 };
    double len = 0, acc = 0;
    for (int i = 0; i < n; i++) {
        double v = V(i);
        if (v < s.min) s.min = v;
        if (v > s.max) s.max = v;
        s.avg += v / n;
        if (i) { acc += 0.5 * (V(i - 1) + v) * rows[i].dl; len += rows[i].dl; }
    }
    s.integral = len > 0 ? acc / len : s.avg;
    return s;
#undef V
}

int curve_line_of(const curve *cv, curve *line) {
    if (curve_init(line, CURVE_POLYCHAIN, 2, cv->n, 0)) return -1;
    memcpy(line->bends[0], cv->bends[0], cv->n * sizeof(float));
    memcpy(line->bends[1], cv->bends[cv->k - 1], cv->n * sizeof(float));
    line->flags = cv->flags & (CURVE_DECAY_ALL | CURVE_DETECTOR);
    line->decay = cv->decay;
    return 0;
}

typedef struct { const curve_run_opts *o; const char *name; } run_row_ctx;
static void run_row(void *vc, const curve_eval_row *r) {
    run_row_ctx *c = vc;
    if (c->o->row) c->o->row(c->o->ctx, c->name, r);
}

static void csv_rows(FILE *f, const char *name, const curve_eval_row *rows, int n) {
    for (int i = 0; i < n; i++) {
        const curve_eval_row *r = &rows[i];
        fprintf(f, "%s,%.6f,%.6f,%.6f,%.6f,%.4f,%.6f,%.4f\n", name, r->t, r->dl, r->tr_loss, r->tr_nll, r->tr_err, r->te_nll,
                r->te_err);
    }
}

int curve_eval_run(const curve *cv, host_net *h, const dataset *tr, const dataset *te, const curve_run_opts *o,
                   curve_eval_row *rows, curve_eval_row *lrows, char *err) {
    curve_eval_opts eo = o->o;
    run_row_ctx rc = { o, o->name };
    eo.row = run_row;
    eo.ctx = &rc;
    if (curve_evaluate(cv, h, tr, te, &eo, rows, err)) return -1;
    if (o->line) {
        curve line;
        if (curve_line_of(cv, &line)) { snprintf(err, CURVE_ERRLEN, "out of memory for the line of %zu parameters", cv->n); return -1; }
        rc.name = "line";
        int bad = curve_evaluate(&line, h, tr, te, &eo, lrows, err);
        curve_free(&line);
        if (bad) return -1;
    }
    if (!o->csv || !dist_is_root()) return 0;
    ws_atomic a;
    if (ws_atomic_open(&a, o->csv, err)) return -1;
    fprintf(a.fp, "path,t,dl,tr_loss,tr_nll,tr_err,te_nll,te_err\n");
    csv_rows(a.fp, o->name, rows, o->o.points);
    if (o->line) csv_rows(a.fp, "line", lrows, o->o.points);
    return ws_atomic_commit(&a, err);
}

/* ---- a training run (see curve_train.h) ---- */
void curve_default_out(char *buf, size_t n, const char *backup) {
    const char *dir = backup && backup[0] ? backup : ".";
    size_t l = strlen(dir);
    snprintf(buf, n, "%s%scurve.curve", dir, (l && dir[l - 1] == '/') ? "" : "/");
}

static int load_endpoint(host_net *h, const char *path, float *params, float *stats, char *err) {
    if (host_load_weights(h, path, err)) return -1;
    host_get_params(h, params);
    if (stats) host_get_stats(h, stats);
    return 0;
}

/* A new curve from the job's end points and settings (*cv zeroed: safe to curve_free after). */
static int curve_from_ends(curve *cv, const curve_train_job *j, host_net *h, char *err) {
    int k = j->bends;
    if (j->free_start && j->free_end && k == 2) {
        snprintf(err, CURVE_ERRLEN, "a 2-bend curve with both ends free is just two networks: use -bends 3 or more");
        return -1;
    }
    if (curve_init(cv, j->type, k, host_nparams(h), host_nstats(h))) {
        snprintf(err, CURVE_ERRLEN, "%s: out of memory for %d bends of %zu parameters", j->cfg, k, host_nparams(h));
        return -1;
    }
    if (load_endpoint(h, j->start, cv->bends[0], cv->stats[0], err) || load_endpoint(h, j->end, cv->bends[k - 1], cv->stats[1], err))
        return -1;
    if (k == 2 && !j->free_start && !j->free_end) {
        snprintf(err, CURVE_ERRLEN, "a 2-bend curve with fixed ends has nothing to train (use -bends 3)");
        return -1;
    }
    curve_init_linear(cv);
    cv->flags = (j->free_start ? 0 : CURVE_FIX_START) | (j->free_end ? 0 : CURVE_FIX_END) | (j->decay_all ? CURVE_DECAY_ALL : 0) |
                (host_is_detector(h) ? CURVE_DETECTOR : 0);
    cv->epochs = j->epochs > 0 ? (uint32_t)j->epochs : 5;
    cv->lr = j->lr > 0 ? (float)j->lr : host_cfg_learning_rate(h);
    cv->mom = j->mom >= 0 ? (float)j->mom : host_cfg_momentum(h);
    cv->decay = j->decay >= 0 ? (float)j->decay : host_cfg_decay(h);
    cv->schedule = j->schedule_cfg != 0;
    cv->seed = (uint64_t)j->seed;
    return 0;
}

int curve_train_run(const curve_train_job *j, host_net *h, const dataset *tr, const curve_train_report *rep, char *err) {
    static const curve_train_report none = { 0 };
    if (!rep) rep = &none;
    curve cv = { 0 };   /* curve_load and curve_init leave it safe to curve_free */
    int rc = -1;
    char outbuf[2048];
    const char *out = j->out;
    if (j->resume) {
        if (curve_load(&cv, j->resume, err)) return -1;
        if (curve_check_fits(&cv, h, j->resume, j->cfg, err)) goto done;   /* a curve file belongs to one cfg */
        if (j->epochs > 0) cv.epochs = (uint32_t)j->epochs;
        if (!out) out = j->resume;
        if (rep->resumed) rep->resumed(rep->ctx, j->resume, &cv);
    } else {
        if (curve_from_ends(&cv, j, h, err)) goto done;
        if (!out) {
            curve_default_out(outbuf, sizeof outbuf, j->backup);
            out = outbuf;
            mkdir(j->backup && j->backup[0] ? j->backup : ".", 0777);
        }
    }
    ws_atomic probe;   /* fail now, not after hours of training, if out cannot be written */
    if (ws_atomic_open(&probe, out, err)) goto done;
    ws_atomic_abort(&probe);
    if (rep->start) rep->start(rep->ctx, &cv, out, tr->n);
    curve_train_opts o = { j->save_every, out, j->table, 1, j->stop_after, j->src };
    char terr[CURVE_ERRLEN];
    if (curve_train(&cv, h, tr, &o, terr)) {   /* an error about the curve file names it already */
        if (strstr(terr, out)) snprintf(err, CURVE_ERRLEN, "%s", terr);
        else snprintf(err, CURVE_ERRLEN, "%s: %s", j->cfg, terr);
        goto done;
    }
    rc = 0;
done:
    curve_free(&cv);
    return rc;
}
