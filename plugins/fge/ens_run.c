/* ens_run.c: the runs of ensemble, ensemble predict and swa (see ens_run.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "ens_run.h"
#include "run.h"
#include "swa.h"
#include "wspace.h"

/* A CSV field: as is, or quoted (quotes doubled) when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) { if (*s == '"') fputc('"', f); fputc(*s, f); }
    fputc('"', f);
}

double ens_disagreement(const int *pred_a, const int *pred_b, int n) {
    long d = 0;
    for (int i = 0; i < n; i++) d += pred_a[i] != pred_b[i];
    return n > 0 ? 100.0 * (double)d / n : 0.0;
}

/* what the pairs need of each member: its predictions and (same cfg as member 0) its weights */
typedef struct {
    int n, images;
    int *pred;           /* n * images argmax */
    float **w;           /* per member: its trainable parameters, or NULL (another cfg) */
    size_t len;          /* of each w */
} pair_store;

static void pair_store_free(pair_store *p) {
    for (int i = 0; p->w && i < p->n; i++) free(p->w[i]);
    free(p->w); free(p->pred);
    memset(p, 0, sizeof *p);
}

static int pair_store_init(pair_store *p, const ens_members *m, int images, char *err) {
    p->n = m->n; p->images = images;
    p->len = host_nparams(m->nets[m->net_of[0]]);
    p->pred = malloc((size_t)m->n * images * sizeof *p->pred + 1);
    p->w = calloc((size_t)m->n, sizeof *p->w);
    int ok = p->pred && p->w;
    for (int i = 0; ok && i < m->n; i++)
        if (m->net_of[i] == m->net_of[0]) ok = (p->w[i] = malloc(p->len * sizeof(float) + 1)) != NULL;
    if (ok) return 0;
    snprintf(err, DKMC_ERRLEN, "out of memory for the pairs of %d members", m->n);
    pair_store_free(p);
    return -1;
}

static void pair_store_add(pair_store *p, int i, host_net *h, const float *probs, int classes) {
    for (int k = 0; k < p->images; k++) {
        const float *q = probs + (size_t)k * classes;
        int best = 0;
        for (int c = 1; c < classes; c++) if (q[c] > q[best]) best = c;
        p->pred[(size_t)i * p->images + k] = best;
    }
    if (p->w[i]) host_get_params(h, p->w[i]);
}

/* every pair a < b to the CSV; the means into s */
static void pair_store_write(const pair_store *p, char *const *files, FILE *f, ens_summary *s) {
    double sd = 0, sw = 0;
    int np = 0;
    fprintf(f, "a,b,file_a,file_b,disagree,dist\n");
    for (int a = 0; a < p->n; a++)
        for (int b = a + 1; b < p->n; b++) {
            ens_pair q = { a + 1, b + 1, ens_disagreement(p->pred + (size_t)a * p->images, p->pred + (size_t)b * p->images, p->images),
                           p->w[a] && p->w[b] ? ws_dist(p->len, p->w[a], p->w[b]) : NAN };
            fprintf(f, "%d,%d,", q.a, q.b);
            csv_field(f, files[a]); fputc(',', f); csv_field(f, files[b]);
            fprintf(f, ",%.4f,%.6g\n", q.disagree, q.dist);
            sd += q.disagree; sw += q.dist; np++;
        }
    s->pairs = np;
    s->mean_disagree = np ? sd / np : NAN;
    s->mean_dist = np ? sw / np : NAN;
}

/* the members one after the other into the accumulator; rows to the caller and the CSV */
static int eval_members(const ens_job *j, ens_members *m, const dataset *tr, const dataset *te, ens_acc *acc, float *probs,
                        FILE *csv, pair_store *ps, const ens_report *rep, ens_summary *s, char *err) {
    double best = -1, sum_acc = 0, sum_nll = 0;
    eval_result e = { 0, 0, 0 };
    for (int i = 0; i < j->n; i++) {
        host_net *h = ens_members_load(m, i, err);
        if (!h) return -1;
        if (j->bn_update) run_bn_update(h, tr, j->bn_limit, "bn");
        eval_result r = run_eval(h, te, probs, "test");
        if (ps) pair_store_add(ps, i, h, probs, te->classes);
        ens_add(acc, probs);
        e = ens_eval(acc, te->labels);
        ens_row row = { i + 1, j->members[i], r, e };
        if (rep->row) rep->row(rep->ctx, &row);
        if (csv) {
            fprintf(csv, "%d,", i + 1);
            csv_field(csv, j->members[i]);
            fprintf(csv, ",%.6f,%.4f,%.6f,%.4f\n", r.nll, r.acc, e.nll, e.acc);
        }
        if (r.acc > best) best = r.acc;
        sum_acc += r.acc; sum_nll += r.nll;
    }
    *s = (ens_summary){ e, sum_nll / j->n, sum_acc / j->n, best, 0, NAN, NAN };
    return 0;
}

int ens_eval_run(const ens_job *j, const dataset *tr, const dataset *te, const ens_report *rep, char *err) {
    static const ens_report none = { 0 };
    if (!rep) rep = &none;
    ens_members m = { 0 };
    ens_acc acc = { 0 };
    ws_atomic csv = { 0 }, pcsv = { 0 };
    pair_store ps = { 0 };
    float *probs = NULL;
    int rc = -1;
    if (ens_members_open(&m, j->cfg, j->members, j->n, 0, te->w, te->h, te->c, te->classes, err)) goto done;
    probs = malloc((size_t)te->n * te->classes * sizeof *probs + 1);
    if (!probs || ens_init(&acc, te->n, te->classes)) {
        snprintf(err, DKMC_ERRLEN, "out of memory for %d x %d probabilities", te->n, te->classes);
        goto done;
    }
    if (j->csv) {
        if (ws_atomic_open(&csv, j->csv, err)) goto done;
        fprintf(csv.fp, "member,file,nll,acc,ens_nll,ens_acc\n");
    }
    if (j->pairs && (pair_store_init(&ps, &m, te->n, err) || ws_atomic_open(&pcsv, j->pairs, err))) goto done;
    if (rep->start) rep->start(rep->ctx, &m);
    ens_summary s;
    if (eval_members(j, &m, tr, te, &acc, probs, csv.fp, j->pairs ? &ps : NULL, rep, &s, err)) goto done;
    if (j->pairs) pair_store_write(&ps, j->members, pcsv.fp, &s);
    if (rep->done) rep->done(rep->ctx, &s);
    if (csv.fp && ws_atomic_commit(&csv, err)) goto done;
    if (pcsv.fp && ws_atomic_commit(&pcsv, err)) goto done;
    rc = 0;
done:
    if (csv.fp) ws_atomic_abort(&csv);
    if (pcsv.fp) ws_atomic_abort(&pcsv);
    pair_store_free(&ps);
    ens_free(&acc);
    free(probs);
    ens_members_free(&m);
    return rc;
}

int ens_predict_run(const ens_predict_job *j, ens_prediction *r, char *err) {
    memset(r, 0, sizeof *r);
    ens_members m = { 0 };
    float *x = NULL;
    int rc = -1;
    if (ens_members_open(&m, j->cfg, j->members, j->n, 1, 0, 0, 0, j->classes, err)) goto done;
    x = malloc((size_t)m.w * m.h * m.c * sizeof *x);
    r->p = malloc((size_t)m.classes * sizeof *r->p);
    r->idx = malloc((size_t)m.classes * sizeof *r->idx);
    if (!x || !r->p || !r->idx) { snprintf(err, DKMC_ERRLEN, "out of memory"); goto done; }
    if (data_load_image(j->image, m.w, m.h, m.c, x, err)) goto done;
    double t0 = dkmc_now();
    if (ens_members_predict(&m, x, r->p, err)) goto done;
    r->seconds = dkmc_now() - t0;
    r->members = m.n; r->young = m.young;
    snprintf(r->young_note, sizeof r->young_note, "%s", m.young_note);
    r->k = ens_top_k(r->p, m.classes, j->top, r->idx);
    rc = 0;
done:
    ens_members_free(&m);
    free(x);
    return rc;
}

void ens_prediction_free(ens_prediction *r) {
    free(r->idx); free(r->p);
    r->idx = NULL; r->p = NULL;
}

int swa_run(const swa_job *j, host_net *h, const dataset *tr, const dataset *te, const swa_report *rep, char *err) {
    static const swa_report none = { 0 };
    if (!rep) rep = &none;
    /* every file's size first, so that a bad one fails before any BN pass */
    for (int i = 0; i < j->n; i++)
        if (host_load_weights(h, j->files[i], err)) return -1;
    if (rep->start) rep->start(rep->ctx);
    for (int i = 0; j->members && !j->no_test && i < j->n; i++) {
        if (host_load_weights(h, j->files[i], err)) return -1;
        run_bn_update(h, tr, 0, "bn");
        eval_result r = run_eval(h, te, NULL, "test");
        if (rep->row) rep->row(rep->ctx, j->files[i], r);
    }
    if (swa_average(h, j->files, j->n, err)) return -1;
    run_bn_update(h, tr, 0, "bn");   /* the mean's statistics are meaningless until recomputed */
    if (host_save_weights(h, j->out, err)) return -1;
    if (rep->saved) rep->saved(rep->ctx, j->out, tr->n);
    if (!j->no_test) {
        eval_result r = run_eval(h, te, NULL, "test");
        if (rep->row) rep->row(rep->ctx, "swa", r);
    }
    return 0;
}
