/* swa.c: the mean of several .weights files of one network (see swa.h). The sum is kept in
 * double, so the mean does not depend on the order of the files beyond the last rounding,
 * and the mean of one file, or of two equal ones, is exact. */
#include <stdio.h>
#include <stdlib.h>
#include "swa.h"

int swa_average(host_net *h, char *const *paths, int n, char *err) {
    if (n < 1) { snprintf(err, DKMC_ERRLEN, "no weights files to average"); return -1; }
    size_t np = host_nparams(h), ns = host_nstats(h);
    float *p = malloc((np + 1) * sizeof *p), *s = malloc((ns + 1) * sizeof *s);
    double *sp = calloc(np + 1, sizeof *sp), *ss = calloc(ns + 1, sizeof *ss);
    int rc = 0;
    if (!p || !s || !sp || !ss) { snprintf(err, DKMC_ERRLEN, "out of memory for %zu parameters", np); rc = -1; }
    uint64_t seen = 0;
    for (int i = 0; !rc && i < n; i++) {
        if (host_load_weights(h, paths[i], err)) { rc = -1; break; }
        host_get_params(h, p);
        host_get_stats(h, s);
        for (size_t j = 0; j < np; j++) sp[j] += p[j];
        for (size_t j = 0; j < ns; j++) ss[j] += s[j];
        if (host_seen(h) > seen) seen = host_seen(h);
    }
    if (!rc) {
        for (size_t j = 0; j < np; j++) p[j] = (float)(sp[j] / n);
        for (size_t j = 0; j < ns; j++) s[j] = (float)(ss[j] / n);
        host_set_params(h, p);
        host_set_stats(h, s);
        host_set_seen(h, seen);
    }
    free(p); free(s); free(sp); free(ss);
    return rc;
}
