/* fge.c: snapshots and their ensemble during training (see fge.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "fge.h"
#include "run.h"

int fge_snapshots_init(fge_snapshots *s, host_net *h, const dataset *test, const dataset *train,
                       int bn_update, int bn_limit, const char *prefix, char *err) {
    memset(s, 0, sizeof *s);
    s->h = h; s->test = test; s->train = train; s->bn_update = bn_update; s->bn_limit = bn_limit;
    if (prefix) snprintf(s->prefix, sizeof s->prefix, "%s", prefix);
    int k = host_outputs(h);
    s->probs = malloc((size_t)(test->n ? test->n : 1) * k * sizeof(float));
    s->stats = malloc((host_nstats(h) ? host_nstats(h) : 1) * sizeof(float));
    if (!s->probs || !s->stats || ens_init(&s->ens, test->n, k)) {
        fge_snapshots_free(s);
        snprintf(err, DKMC_ERRLEN, "out of memory for the ensemble of %d test images", test->n);
        return -1;
    }
    return 0;
}

void fge_snapshots_free(fge_snapshots *s) {
    ens_free(&s->ens);
    free(s->probs); free(s->stats);
    s->probs = s->stats = NULL;
}

int fge_snapshot_take(fge_snapshots *s, char *err) {
    if (s->bn_update) {
        host_get_stats(s->h, s->stats);
        run_bn_update(s->h, s->train, s->bn_limit, "snapshot bn");
    }
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
    if (s->bn_update) host_set_stats(s->h, s->stats);
    return rc;
}
