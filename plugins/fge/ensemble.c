/* ensemble.c: the mean-of-probabilities accumulator (see ensemble.h). */
#include <math.h>
#include <stdlib.h>
#include "ensemble.h"

int ens_init(ens_acc *e, int n, int classes) {
    e->n = n; e->classes = classes; e->members = 0;
    size_t m = (size_t)n * classes;
    e->sum = calloc(m ? m : 1, sizeof(double));
    return e->sum ? 0 : -1;
}

void ens_free(ens_acc *e) { free(e->sum); e->sum = NULL; e->members = 0; }

void ens_add(ens_acc *e, const float *probs) {
    size_t m = (size_t)e->n * e->classes;
    for (size_t i = 0; i < m; i++) e->sum[i] += probs[i];
    e->members++;
}

/* mean NLL and accuracy of rows p[i*k .. i*k+k) scaled by s (1/members) */
#define EVAL_ROWS(P)                                                                  \
    do {                                                                              \
        for (int i = 0; i < n; i++) {                                                 \
            int best = 0;                                                             \
            for (int c = 1; c < k; c++) if ((P)[(size_t)i * k + c] > (P)[(size_t)i * k + best]) best = c; \
            correct += best == labels[i];                                             \
            double pt = s * (P)[(size_t)i * k + labels[i]];                           \
            nll -= log(pt > 1e-30 ? pt : 1e-30);                                      \
        }                                                                             \
    } while (0)

eval_result ens_eval(const ens_acc *e, const int *labels) {
    eval_result r = { NAN, NAN, e->n };
    if (!e->members || !e->n) return r;
    int n = e->n, k = e->classes;
    double s = 1.0 / e->members, nll = 0;
    long correct = 0;
    EVAL_ROWS(e->sum);
    r.nll = nll / n; r.acc = 100.0 * correct / n;
    return r;
}

eval_result probs_eval(const float *probs, int n, int classes, const int *labels) {
    eval_result r = { NAN, NAN, n };
    if (!n) return r;
    int k = classes;
    double s = 1.0, nll = 0;
    long correct = 0;
    EVAL_ROWS(probs);
    r.nll = nll / n; r.acc = 100.0 * correct / n;
    return r;
}
