/* fge.h: snapshots of a training run and the ensemble they grow into (Fast Geometric
 * Ensembling, Garipov et al. 2018; Snapshot Ensembles, Huang et al. 2017). At each snapshot
 * the network is written as an ordinary .weights file, evaluated on the test set, and its
 * softmax probabilities are added to the ensemble (mean of probabilities).
 *
 * BN statistics: by default a snapshot keeps the running statistics of training, as the
 * reference's fge.py does, unless they are young (run_bn_young: Darknet's running averages
 * start at zero and move 1 % per batch); with bn_update, or while they are young, they are
 * recomputed exactly on the training set (or its first bn_limit images: the run_bn_swap's)
 * for the snapshot, which is saved and evaluated with them, and then the training
 * statistics are put back so training continues unchanged. */
#ifndef FGE_H
#define FGE_H
#include "data.h"
#include "ensemble.h"
#include "host.h"

#include "errlen.h"
#define FGE_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

typedef struct {
    host_net *h;
    const dataset *test;
    run_bn_swap *bn;               /* exact statistics (the caller's, shared with its other evaluations) */
    int bn_update;                 /* exact statistics for every snapshot, not only young ones */
    int exact;                     /* the last snapshot has exact statistics */
    char prefix[2048];             /* snapshot k goes to <prefix>_snap<kk>.weights */
    ens_acc ens;
    float *probs;
    int count;
    eval_result single, ensemble;  /* of the last snapshot */
    char last_path[2100];
} fge_snapshots;

/* prefix: path stem of the snapshot files (NULL: do not write files). bn: the exact
 * statistics of the run (its network is h). */
int  fge_snapshots_init(fge_snapshots *s, host_net *h, const dataset *test, run_bn_swap *bn,
                        int bn_update, const char *prefix, char *err);
void fge_snapshots_free(fge_snapshots *s);
/* Take a snapshot of the network as it is now: write, evaluate, add to the ensemble. 0, -1
 * with err, or -2 when its exact BN statistics are not finite (err: the reason; the weights
 * have diverged). */
int  fge_snapshot_take(fge_snapshots *s, char *err);
#endif
