/* curve_train.c: curve training and evaluation on top of host/ and wspace/. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "curve_train.h"
#include "run.h"
#include "schedule.h"
#include "wspace.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

void curve_decay_mask(const curve *cv, const host_net *h, unsigned char *mask) {
    if (cv->flags & CURVE_DECAY_ALL) memset(mask, 1, cv->n);
    else host_decay_mask(h, mask);
}

int curve_train(curve *cv, host_net *h, const dataset *tr, const curve_train_opts *o, char *err) {
    size_t n = cv->n;
    int B = host_batch(h), k = host_outputs(h), in = host_inputs(h);
    int iters = tr->n / B;
    if (iters < 1) { snprintf(err, CURVE_ERRLEN, "%d training images are fewer than one batch of %d", tr->n, B); return -1; }
    float *w = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
    unsigned char *mask = malloc(n);
    float *x = malloc((size_t)B * in * sizeof(float)), *y = malloc((size_t)B * k * sizeof(float));
    int *order = malloc((size_t)tr->n * sizeof(int));
    curve_decay_mask(cv, h, mask);
    for (int j = 0; j < cv->k; j++)
        if (curve_is_free(cv, j) && !cv->momentum[j]) cv->momentum[j] = calloc(n, sizeof(float));
    cv->flags |= CURVE_HAS_STATE;
    if (cv->epoch == 0 && cv->iteration == 0) rng_seed(&cv->rng, cv->seed);
    const float mom = cv->mom;
    if (cv->schedule == 1) host_set_max_batches(h, (int)cv->epochs * iters);   /* as "darknet train -epochs" */
    int rc = 0, done_here = 0;
    char label[64];
    if (o->table) {
        fprintf(o->table, "%5s %10s %10s %10s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_nll", "tr_acc", "time");
        fflush(o->table);
    }
    while (cv->epoch < cv->epochs && !rc) {
        int e = (int)cv->epoch + 1;
        double t0 = now();
        srand((unsigned)(cv->seed * 7919u + (uint64_t)e));   /* Darknet's dropout uses rand() */
        data_identity(order, tr->n);
        data_shuffle(order, tr->n, &cv->rng);
        double loss_sum = 0, nll_sum = 0;
        long correct = 0;
        float lr = 0;
        snprintf(label, sizeof label, "curve epoch %d", e);
        for (int it = 0; it < iters; it++) {
            lr = cv->schedule == 0 ? (float)sched_reference(cv->lr, e, cv->epochs)
                                   : host_policy_rate(h, cv->iteration) * (cv->lr / host_cfg_learning_rate(h));
            double t = rng_uniform(&cv->rng);
            data_batch(tr, order, it * B, B, x, y, 1, &cv->rng);
            float c[64], nll;
            int hits = 0;
            curve_coeffs(cv->type, cv->k, t, c);
            double obj = curve_batch_grad(cv, h, t, x, y, mask, w, g, &nll, &hits);
            if (!isfinite(obj)) {
                snprintf(err, CURVE_ERRLEN, "training loss became %f at epoch %d, iteration %d (t = %.3f, lr %g)", obj, e, it, t, lr);
                rc = -1;
                break;
            }
            for (int j = 0; j < cv->k; j++) {
                if (!curve_is_free(cv, j)) continue;
                float *v = cv->momentum[j], *th = cv->bends[j], cj = c[j];
                for (size_t i = 0; i < n; i++) {
                    v[i] = mom * v[i] + cj * g[i];
                    th[i] -= lr * v[i];
                }
            }
            cv->iteration++;
            nll_sum += nll;
            loss_sum += obj;
            correct += hits;
            if (o->progress) run_progress(label, it + 1, iters);
        }
        if (o->progress) run_progress_done(label);
        if (rc) break;
        cv->epoch++;
        done_here++;
        if (o->table) {
            fprintf(o->table, "%5d %10.6f %10.4f %10.4f %9.2f %8.1f\n", e, lr, loss_sum / iters, nll_sum / iters,
                    100.0 * correct / ((double)iters * B), now() - t0);
            fflush(o->table);
        }
        int last = cv->epoch == cv->epochs || (o->stop_after && done_here >= o->stop_after);
        if (o->out && (last || (o->save_every > 0 && cv->epoch % o->save_every == 0))) {
            if (curve_save(cv, o->out, err)) { rc = -1; break; }
            if (o->progress) fprintf(stderr, "saved %s (epoch %u)\n", o->out, cv->epoch);
        }
        if (o->stop_after && done_here >= o->stop_after) break;
    }
    free(w); free(g); free(mask); free(x); free(y); free(order);
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

int curve_evaluate(const curve *cv, host_net *h, const dataset *tr, const dataset *te,
                   const curve_eval_opts *o, curve_eval_row *rows) {
    size_t n = cv->n;
    float *w = malloc(n * sizeof(float)), *prev = malloc(n * sizeof(float));
    unsigned char *mask = malloc(n);
    curve_decay_mask(cv, h, mask);
    if (o->decay_all) memset(mask, 1, n);
    dataset trl = *tr;
    if (o->train_limit > 0 && o->train_limit < trl.n) trl.n = o->train_limit;
    if (o->train_limit < 0) trl.n = 0;
    char label[64];
    for (int i = 0; i < o->points; i++) {
        double t = o->points > 1 ? (double)i / (o->points - 1) : 0;
        curve_point(cv, t, w);
        curve_eval_row *r = &rows[i];
        r->t = t;
        r->dl = i ? ws_dist(n, w, prev) : 0;
        memcpy(prev, w, n * sizeof(float));
        host_set_params(h, w);
        snprintf(label, sizeof label, "t=%.3f bn", t);
        run_bn_update(h, tr, o->bn_limit, o->progress ? label : NULL);
        double l2 = 0;
        for (size_t j = 0; j < n; j++) if (mask[j]) l2 += (double)w[j] * w[j];
        if (trl.n > 0) {
            snprintf(label, sizeof label, "t=%.3f train", t);
            eval_result a = run_eval(h, &trl, NULL, o->progress ? label : NULL);
            r->tr_nll = a.nll; r->tr_err = 100 - a.acc;
            r->tr_loss = a.nll + 0.5 * o->decay * l2;
        } else r->tr_nll = r->tr_err = r->tr_loss = NAN;
        snprintf(label, sizeof label, "t=%.3f test", t);
        eval_result b = run_eval(h, te, NULL, o->progress ? label : NULL);
        r->te_nll = b.nll; r->te_err = 100 - b.acc;
        if (o->row) o->row(o->ctx, r);
    }
    free(w); free(prev); free(mask);
    return 0;
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
