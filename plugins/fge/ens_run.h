/* ens_run.h: the runs of "darknet ensemble", "darknet ensemble predict" and "darknet swa" on
 * loaded data: the members opened and checked, evaluated one after the other into the
 * growing ensemble (and the CSV), or one image predicted, or the weight-space mean written
 * with BN statistics recomputed. The caller parses, loads the data sets and prints what the
 * callbacks hand it; every error is one line naming the file. */
#ifndef ENS_RUN_H
#define ENS_RUN_H
#include "data.h"
#include "ensemble.h"
#include "members.h"

/* ---- an ensemble's table: each member's test numbers and the ensemble's so far ---- */
typedef struct {
    const char *cfg;              /* the members' default cfg */
    char *const *members;         /* w.weights or model.cfg:model.weights */
    int n;
    int bn_update, bn_limit;      /* recompute each member's BN statistics on the first bn_limit (0: all) of train */
    const char *csv;              /* NULL: none; written atomically, nothing left on an error */
    const char *pairs;            /* NULL: none; else a CSV of every pair of members (ens_pair) */
} ens_job;
typedef struct {
    int i;                        /* 1-based */
    const char *file;
    eval_result member, ensemble;
} ens_row;
typedef struct {
    eval_result ensemble;         /* of all n */
    double mean_nll, mean_acc, best_acc;   /* over the members */
    int pairs;                    /* pairs measured (j->pairs and n >= 2), else 0 */
    double mean_disagree, mean_dist;       /* over the pairs (mean_dist NaN if any pair's cfgs differ) */
} ens_summary;
/* How different two members are, as the paper measures diversity: disagree = % of the test
 * images whose argmax differs; dist = ||w_a - w_b|| over the trainable parameters (NaN when
 * the two have different cfgs). */
typedef struct { int a, b; double disagree, dist; } ens_pair;
/* % of the n images on which the two class predictions differ */
double ens_disagreement(const int *pred_a, const int *pred_b, int n);
/* callbacks (may be NULL): start, once the members are open and the CSV is ready; row, after
 * each member; done, after the last, before the CSV is committed */
typedef struct {
    void (*start)(void *ctx, const ens_members *m);
    void (*row)(void *ctx, const ens_row *r);
    void (*done)(void *ctx, const ens_summary *s);
    void *ctx;
} ens_report;
/* te: the test set; tr: the training set (bn_update only). 0, or -1 with a one-line err. */
int ens_eval_run(const ens_job *j, const dataset *tr, const dataset *te, const ens_report *rep, char *err);

/* ---- one image's most probable classes ---- */
typedef struct {
    const char *cfg;
    char *const *members;
    int n;
    const char *image;
    int top;                      /* >= 1 */
    int classes;                  /* what every member must predict */
} ens_predict_job;
typedef struct {
    int k;                        /* classes in idx, most probable first */
    int *idx;
    float *p;                     /* the ensemble's probability of every class */
    int members, young;           /* members, and those with young stored BN statistics */
    char young_note[4096];        /* the first young member's warning */
    double seconds;               /* the prediction's */
} ens_prediction;
/* 0, or -1 with a one-line err; free r with ens_prediction_free whatever it returns. */
int ens_predict_run(const ens_predict_job *j, ens_prediction *r, char *err);
void ens_prediction_free(ens_prediction *r);

/* ---- stochastic weight averaging of .weights files of one cfg (swa.h) ---- */
typedef struct {
    const char *out;              /* the averaged network */
    char *const *files;
    int n;
    int members;                  /* also evaluate each file, its BN statistics recomputed */
    int no_test;
} swa_job;
/* row: "name" is the file or "swa"; saved: after out is written */
typedef struct {
    void (*start)(void *ctx);     /* every file checked (sizes), before the first evaluation */
    void (*row)(void *ctx, const char *name, eval_result r);
    void (*saved)(void *ctx, const char *out, int images);
    void *ctx;
} swa_report;
/* h: a network of the files' cfg; tr: the training set (BN statistics); te: the test set (not
 * read with no_test). Leaves h holding the average. 0, or -1 with a one-line err. */
int swa_run(const swa_job *j, host_net *h, const dataset *tr, const dataset *te, const swa_report *rep, char *err);
#endif
