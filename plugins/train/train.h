/* train.h: the one training loop. Epochs of shuffled mini-batches (with the data set's
 * augmentation), the learning rate of a schedule (schedule.h) at every iteration, a step that
 * the caller supplies (plain SGD on the network, or a curve's bends), a check for a
 * non-finite loss, progress on stderr, and hooks after every iteration (snapshots) and every
 * epoch (evaluation, rows, checkpoints). `darknet train`, `darknet fge` and `darknet curve
 * train` all run on it; what differs between them is the step and the hooks.
 *
 * Randomness, in this order: at each epoch srand(seed * 7919 + epoch) (Darknet's dropout
 * uses rand()), then the data order is shuffled with *rng; per iteration, before_batch
 * (the curve draws its t there), then the batch's augmentation draws from *rng. Everything
 * that decides the run's future is in *rng, *epoch and *iteration, so a caller that saves
 * them with its own state can resume bit for bit. */
#ifndef TRAIN_H
#define TRAIN_H
#include <stdint.h>
#include "data.h"
#include "host.h"
#include "rng.h"
#include "schedule.h"

#include "errlen.h"
#define TRAIN_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

/* What a step reports for one mini-batch. */
typedef struct {
    double obj;       /* the objective minimised (loss + any l2 term); must be finite */
    double nll;       /* mean NLL of the batch */
    int hits;         /* argmax hits */
    char note[64];    /* context for a divergence message, e.g. "t = 0.31" (may be empty) */
} train_step_out;

#define TRAIN_DIVERGED (-2)

typedef struct {
    int epoch;        /* 1-based, counting from the start of the run (resumed runs included) */
    double lr;        /* lr of the epoch's last iteration */
    double loss, nll, acc;   /* means over the epoch's batches; acc in % */
    double seconds;
} train_epoch_info;

/* Where a loop's batches come from when they are not the data set's images: fill writes
 * the batch of iteration `iteration` (the run's clock) of the run with seed `seed` (the
 * loop's: a resumed run draws the same batches) as batch rows of in floats into x and of
 * ydim floats into y; 0, or -1 with err.
 * Used for detectors (images and truths from the library's detection loader). */
typedef struct {
    int in, ydim;
    int (*fill)(void *ctx, uint64_t seed, uint64_t iteration, float *x, float *y, char *err);
    void *ctx;
} train_source;

typedef struct {
    const dataset *data;      /* with src: only its n (images per epoch) is used */
    int batch;
    int epochs;               /* epochs of the whole run */
    int *epoch;               /* in/out: epochs done */
    uint64_t *iteration;      /* in/out: iterations done (the schedule's clock) */
    rng_t *rng;               /* in/out */
    uint64_t seed;
    const sched *sched;
    int progress;             /* progress line on stderr */
    const char *label;        /* "epoch" / "curve epoch" */
    int stop_after;           /* stop after this many epochs of this call (0: never; for tests) */
    void *ctx;
    void (*before_batch)(void *ctx);                                   /* optional */
    int (*step)(void *ctx, const float *x, const float *y, float lr, train_step_out *out);
    /* hooks return 0, -1 with a one-line err, or TRAIN_DIVERGED with the reason in err (the
     * loop reports it as the run's divergence at this iteration, as it does a loss) */
    int (*after_iter)(void *ctx, uint64_t it, float lr, char *err);    /* optional; it 0-based */
    int (*epoch_end)(void *ctx, const train_epoch_info *e, int last, char *err);  /* optional */
    /* data-parallel (dist.h): every rank draws the whole batch of `batch` images (so the
     * random state stays the same on every rank) and steps on images shard_off ..
     * shard_off + shard_n - 1 of it; the step all-reduces. shard_n 0: the whole batch. */
    int shard_off, shard_n;
    const train_source *src;  /* NULL: data's images with its augmentation */
} train_loop;

/* Runs epochs *epoch+1 .. epochs. 0, or -1 with a one-line err (a hook's error, or the loss
 * turning non-finite: "training diverged at epoch E, iteration I: loss nan (lr X, note)";
 * a hook's TRAIN_DIVERGED: "training diverged at epoch E, iteration I: <its reason>"). */
int train_run(train_loop *L, char *err);

/* ---- a run's length and schedule, from what the command line asked ----
 * kind SCHED_CFG: the cfg's own policy (sched_from_cfg), -lr scaling it (or setting the rate
 * of one of ours); SCHED_REFERENCE: the authors' schedule at -lr (else the cfg's rate);
 * SCHED_FGE: FGE's cyclic rate from -lr to -lr2 over cycles of cycle_epochs, which must be an
 * even whole number of iterations. epochs <= 0: up to the cfg's max_batches counted from the
 * iterations the weights have seen, as Darknet trains (FGE: 20 epochs); else that many more
 * epochs, and max_batches is set to where this run ends. */
typedef struct {
    sched_kind kind;
    const char *cfg;          /* the cfg file, for SCHED_CFG */
    float lr, lr2;            /* 0: not given */
    double cycle_epochs;
    int epochs;
} train_plan_req;
/* *epochs and *s for a run of iters iterations per epoch at the global batch B on h; 0, or -1
 * with a one-line err. */
int train_plan(const train_plan_req *q, host_net *h, long iters, int B, int *epochs, sched *s, char *err);
/* The number of training batches, from the start of a run, over which it evaluates, takes a
 * snapshot or saves while h's BN running statistics are still young (run_bn_young): 0 when
 * it does none of these before they grow up, else the batches until they do (the run then
 * uses exact statistics over them). eval_every, save_every: 0 for none; no_test: no test rows;
 * stop: the iteration the run stops after (0: the end). */
long train_young_window(const host_net *h, const sched *s, long iters, int epochs, int no_test, int save_every,
                        int eval_every, int have_test, long stop);

/* ---- plain SGD on the network: Darknet's update_network in normal form ----
 * v = momentum v + (g + decay mask w), w -= lr v, with the mask of Darknet's decayed
 * kinds (conv/connected/local weights); seen advances by the batch. */
typedef struct {
    host_net *h;
    size_t n;
    float *w, *g, *v;         /* on a GPU: w is refreshed by train_sgd_weights only */
    unsigned char *mask;
    float momentum, decay;
    int global_batch;         /* images per step over all ranks (init: the network's batch) */
    float *stats;             /* BN rolling statistics, averaged over ranks (several ranks only) */
    /* GPU=1 builds, network on a GPU: weights, gradient, momentum and mask on the device;
     * a step moves no weights between host and device (NULL: the step runs on the host) */
    host_dev_sgd *dev;
} train_sgd;

/* Takes the network's current parameters as the start; 0 or -1 (out of memory). */
int  train_sgd_init(train_sgd *s, host_net *h, float momentum, float decay);
void train_sgd_free(train_sgd *s);
/* A step function for train_loop (ctx = train_sgd *). Under mpirun each rank's network
 * holds its shard of the global batch: the mean gradient over the global batch is the sum
 * of the ranks' shard means weighted by shard/global (one all-reduce of n floats per step),
 * so every rank applies the same update; the BN rolling statistics are averaged the same
 * way (each rank's batch statistics come from its shard: see docs/scaling.md). */
int  train_sgd_step(void *ctx, const float *x, const float *y, float lr, train_step_out *out);
/* The current weights in s->w (copied back from the device on a GPU). */
const float *train_sgd_weights(train_sgd *s);
#endif
