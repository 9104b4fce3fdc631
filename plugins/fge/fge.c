/* fge.c: snapshots and their ensemble during training (see fge.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "fge.h"
#include "run.h"

int fge_snapshots_init(fge_snapshots *s, host_net *h, const dataset *test, run_bn_swap *bn,
                       int bn_update, const char *prefix, char *err) {
    memset(s, 0, sizeof *s);
    s->h = h; s->test = test; s->bn = bn; s->bn_update = bn_update;
    if (prefix) snprintf(s->prefix, sizeof s->prefix, "%s", prefix);
    int k = host_outputs(h);
    s->probs = malloc((size_t)(test->n ? test->n : 1) * k * sizeof(float));
    if (!s->probs || ens_init(&s->ens, test->n, k)) {
        fge_snapshots_free(s);
        snprintf(err, DKMC_ERRLEN, "out of memory for the ensemble of %d test images", test->n);
        return -1;
    }
    return 0;
}

void fge_snapshots_free(fge_snapshots *s) {
    ens_free(&s->ens);
    free(s->probs);
    s->probs = NULL;
}

int fge_snapshot_take(fge_snapshots *s, char *err) {
    int in = run_bn_swap_in(s->bn, s->bn_update, "snapshot bn");
    if (in < 0) {
        snprintf(err, DKMC_ERRLEN, "the BN statistics recomputed for snapshot %d are not finite", s->count + 1);
        return -2;
    }
    s->exact = in;
    int rc = 0;
    s->count++;
    if (s->prefix[0] && dist_is_root()) {   /* under mpirun rank 0 writes the snapshots */
        snprintf(s->last_path, sizeof s->last_path, "%s_snap%02d.weights", s->prefix, s->count);
        rc = host_save_weights(s->h, s->last_path, err);
    }
    if (!rc) {
        s->single = run_eval(s->h, s->test, s->probs, "snapshot test");
        ens_add(&s->ens, s->probs);
        s->ensemble = ens_eval(&s->ens, s->test->labels);
    }
    run_bn_swap_out(s->bn);
    return rc;
}
