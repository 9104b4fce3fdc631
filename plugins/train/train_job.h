/* train_job.h: a whole run of "darknet train" or "darknet fge" on the one training loop
 * (train.h): its length and schedule (train_plan), plain SGD with Darknet's semantics,
 * exact BN statistics while the running ones are young, a test row per epoch, checkpoints,
 * and for a schedule that takes snapshots (fge_cyclic, sgdr, FGE) the snapshot files and
 * the ensemble they grow into (fge.h). The caller loads the data and the network, names the
 * output, and prints what the report callbacks hand it; the run writes the weights, the
 * snapshots and the CSV (rank 0 under mpirun) and checks after every epoch that the ranks
 * still hold the same weights. */
#ifndef TRAIN_JOB_H
#define TRAIN_JOB_H
#include <stdint.h>
#include "fge.h"
#include "train.h"
#include "wspace.h"

/* What the command line asked. kind: SCHED_CFG (the cfg's policy, including fge_cyclic/sgdr
 * from [net]), SCHED_REFERENCE, or SCHED_FGE with lr/lr2/cycle_epochs. data and cfg name the
 * files in messages; weights, limit and test_limit are for the caller's loading; png: keep the
 * per-iteration history (train_session's *_hist) for a figure. */
typedef struct {
    const char *cmd, *data, *cfg, *weights, *out, *csv, *png;
    int kind, epochs, seed, save_every, limit, test_limit, no_test, bn_update, bn_limit, eval_every, stop_after;
    double lr, lr2, cycle_epochs;
    int batch;                /* the global batch (the cfg's); under mpirun h holds this rank's shard */
    /* the figure (png): its title (NULL: none), what the evaluated split is ("test" when NULL,
     * "validation" for a split held out of training), and a baseline's error (%) drawn as a
     * dotted line across the error panel with baseline_label (NaN or 0 label: none) */
    const char *title, *te_label, *baseline_label;
    double baseline_err;
    const char *baseline;     /* the command line's -baseline (comma-separated .weights): the caller evaluates them */
} train_job;

/* One row of the table: at the end of an epoch (whole), or at a snapshot inside one (tr_*
 * NaN). snap: the snapshot's number, 0 for none; ens: the ensemble so far (snap rows). */
typedef struct {
    double epoch;
    int whole;
    uint64_t it;              /* the row's last iteration, 0-based */
    double lr, tr_loss, tr_acc;
    eval_result te;           /* the network's (the snapshot's on a snap row); NaN with -no_test */
    int snap;
    eval_result ens;
    double dist;              /* ||w - w0|| */
    double secs;
} train_row;

struct train_session;
/* What the run reports (every callback may be NULL). start: every check has passed and the
 * loop begins (the session's plan is filled in); row: after each row is decided (the CSV has
 * it too); saved: path written, exact: with the exact BN statistics of `images` training
 * images; finished: the loop is over, before the CSV is committed. */
typedef struct {
    void (*start)(void *ctx, const struct train_session *s);
    void (*row)(void *ctx, const struct train_session *s, const train_row *r);
    void (*saved)(void *ctx, const char *path, int exact, int images);
    void (*finished)(void *ctx, const struct train_session *s);
    void *ctx;
} train_report;

/* The state of a run, the caller's to read after it (the figure's history). */
typedef struct train_session {
    const train_job *j;
    host_net *h;
    const dataset *tr, *te;
    const train_report *rep;
    long iters;               /* per epoch */
    int epochs;
    float momentum, decay;
    sched s;
    long nsnap;               /* snapshots the schedule takes over the run */
    long young;               /* batches on exact BN statistics (train_young_window) */
    int snapshots;            /* the schedule takes snapshots */
    train_sgd sgd;
    run_bn_swap bn;           /* exact BN statistics while the running ones are young */
    fge_snapshots snaps;
    float *w0;                /* the start, for the distance */
    double *lr_hist, *dist_hist;   /* per iteration (with png) */
    uint64_t hist_n, hist_cap;
    double *ev_it, *ev_err;   /* test error at evaluation points */
    double start_err;         /* with png and a weights file: the start's test error (iteration 0), else NaN */
    int ev_n, ev_cap;
    double *snap_it, *snap_err, *ens_err;   /* per snapshot: iteration, its error, the ensemble's */
    ws_atomic csv;
    int csv_open;
    uint64_t last_snap_it;    /* iteration after which the last snapshot was taken, +1 */
} train_session;

/* Runs j on h (j->out resolved, writable) with the training set tr and the test set te (n 0
 * with no_test). 0, or -1 with a one-line err: the data set smaller than a batch, the plan's
 * refusals (train_plan), a snapshot schedule with no_test, out of memory, a file that cannot
 * be written, ranks that disagree, or the loop's error prefixed with the cfg (a divergence
 * adds that nothing was saved after the last checkpoint). Free s with train_session_free
 * whatever it returns. */
int train_session_run(train_session *s, const train_job *j, host_net *h, const dataset *tr, const dataset *te,
                      const train_report *rep, char *err);
void train_session_free(train_session *s);
/* The figure of a run made with j->png (train_draw.c, on plot/): the learning rate, the test
 * error (the network's, the snapshots' and their ensemble's; the start network's at iteration
 * 0 when the run began from a weights file; the baseline's as a dotted line) and the distance
 * from the start, stacked over the iterations, under j->title. Written to path (.png, .svg or
 * .pdf). 0, or -1 with err. */
int train_session_draw(const train_session *s, const char *path, char *err);

/* <dir>/<cfg's name without extension><suffix>.weights, dir the .data file's backup (or "."). */
void train_default_out(char *buf, size_t n, const char *backup, const char *cfg, const char *suffix);
/* The snapshots' path stem: out without its ".weights" (snapshot k: <stem>_snapKK.weights). */
void train_snapshot_prefix(char *buf, size_t n, const char *out);
#endif
