/* ensemble.h: prediction ensembles (Garipov et al. 2018, FGE; Huang et al. 2017, Snapshot
 * Ensembles): the ensemble's prediction is the mean of its members' softmax probabilities,
 * with equal weights (not the mean of logits, not the mean of weights). An accumulator holds
 * the running sum over the members for every test image, so the ensemble can be evaluated
 * after each member is added, as the reference's fge.py and eval_ensemble.py do. */
#ifndef ENSEMBLE_H
#define ENSEMBLE_H
#include "run.h"

typedef struct {
    int n, classes;    /* images, classes */
    int members;       /* members added so far */
    double *sum;       /* n * classes: sum of the members' probabilities */
} ens_acc;

/* 0, or -1 when out of memory. */
int  ens_init(ens_acc *e, int n, int classes);
void ens_free(ens_acc *e);
/* Add one member's softmax probabilities (n * classes, as run_eval's probs). */
void ens_add(ens_acc *e, const float *probs);
/* NLL (of the mean probability of the true class) and accuracy (argmax of the mean, %) of
 * the ensemble so far; labels has n entries. With no member, nll and acc are NaN. */
eval_result ens_eval(const ens_acc *e, const int *labels);
/* The same two numbers for one set of probabilities (a single model). */
eval_result probs_eval(const float *probs, int n, int classes, const int *labels);
#endif
