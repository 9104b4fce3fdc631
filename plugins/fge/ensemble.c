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

/* mean NLL and accuracy of the n rows of k probabilities at p (float f, or double d), scaled
 * by s (1/members) */
static eval_result eval_rows(const float *f, const double *d, int n, int k, double s, const int *labels) {
    double nll = 0;
    long correct = 0;
    for (int i = 0; i < n; i++) {
        int hit;
        nll += f ? host_nll_hit(f + (size_t)i * k, k, labels[i], s, &hit)
                 : host_nll_hit_d(d + (size_t)i * k, k, labels[i], s, &hit);
        correct += hit;
    }
    return (eval_result){ nll / n, 100.0 * correct / n, n };
}

eval_result ens_eval(const ens_acc *e, const int *labels) {
    eval_result r = { NAN, NAN, e->n };
    if (!e->members || !e->n) return r;
    return eval_rows(NULL, e->sum, e->n, e->classes, 1.0 / e->members, labels);
}

eval_result probs_eval(const float *probs, int n, int classes, const int *labels) {
    eval_result r = { NAN, NAN, n };
    if (!n) return r;
    return eval_rows(probs, NULL, n, classes, 1.0, labels);
}
