/* run.h: data-set level loops on top of host.h: evaluation (mean NLL, accuracy, softmax
 * probabilities) and exact BN recompute over a data set or its first N images. */
#ifndef RUN_H
#define RUN_H
#include "host.h"
#include "data.h"

typedef struct { double nll; double acc; int n; } eval_result;   /* acc in % */

/* Eval mode over all of d (batches of the net's size, last one smaller). probs (optional)
 * receives d->n * classes softmax probabilities. progress: label for a stderr progress
 * line, or NULL for silence. */
eval_result run_eval(host_net *h, const dataset *d, float *probs, const char *progress);

/* Exact BN statistics over the first `limit` images of d (limit <= 0: all), in data order,
 * without augmentation. No-op for a network without BN. */
void run_bn_update(host_net *h, const dataset *d, int limit, const char *progress);

/* ---- BN statistics too young to trust ----
 * Darknet's BN running statistics start at zero and move 1 % per training batch (pjreddie's;
 * 10 % in AlexeyAB's convolutional layers: host_bn_keep), so after k batches 0.99^k of them is
 * still that zero (host_bn_initial_share). Measured on pjreddie's (docs/bn-young.md):
 * evaluated with them, a from-scratch Fashion-MNIST network scores 29 / 66 / 82 % after 8 /
 * 32 / 128 batches where exact statistics give 40 / 76 / 85 %, and the 256-image two-class
 * run of issue 19 50 % instead of 100 % after 32 batches; from about 5 % on (299 batches) the
 * difference is that of the lag of any running average (a few tenths of a point). An exact
 * pass costs a forward pass over the training set (or -bn_limit of it). */
#define RUN_BN_YOUNG 0.05
/* 1 if h has BN and more than RUN_BN_YOUNG of its statistics is still the initial value. */
int run_bn_young(const host_net *h);
/* Training batches until h's statistics are no longer young (0 if they are not). */
long run_bn_batches_to_grow(const host_net *h);
/* For a network loaded from `path` (host_load_weights) whose statistics are young: a
 * sentence (no newline; the caller adds how its command recomputes them) saying why numbers
 * computed with them are not to be trusted; returns 1. Otherwise 0 and buf is "". */
int run_bn_young_warning(const host_net *h, const char *path, char *buf, size_t n);

/* Exact statistics for a moment during training (an evaluation, a snapshot, a save), the
 * running ones put back afterwards: they never change the training itself (train-mode
 * forwards normalise with the batch's statistics), so training goes on exactly as Darknet's.
 * The exact statistics are kept, so a second swap-in for the same weights (the same `seen`:
 * during training the weights change only by steps, which advance it) costs nothing. */
typedef struct {
    host_net *h;
    const dataset *train;   /* the images of the exact statistics: its first bn_limit (0: all) */
    int bn_limit;
    float *running, *exact;
    double running_share;
    uint64_t exact_seen;
    int have_exact, in;
    long young_swaps;       /* swap-ins made because the statistics were young */
} run_bn_swap;
/* 0, or -1 when out of memory. */
int  run_bn_swap_init(run_bn_swap *s, host_net *h, const dataset *train, int bn_limit);
void run_bn_swap_free(run_bn_swap *s);
/* If force or run_bn_young(h): exact statistics into h (computed, or kept from the last
 * swap-in at the same weights), returns 1; otherwise h keeps its running ones, returns 0.
 * Each 1 must be followed by run_bn_swap_out. -1: the exact statistics are not finite (the
 * weights have diverged); h keeps its running ones. */
int  run_bn_swap_in(run_bn_swap *s, int force, const char *progress);
void run_bn_swap_out(run_bn_swap *s);
/* Images the exact statistics come from. */
int  run_bn_swap_images(const run_bn_swap *s);
/* run_eval and host_save_weights with exact statistics when the running ones are young
 * (between run_bn_swap_in and _out); *exact (may be NULL) tells whether they were used.
 * Exact statistics that are not finite: run_eval_swap gives NaN numbers, run_save_swap
 * writes nothing and returns -2 with the reason in err (the weights have diverged). */
eval_result run_eval_swap(run_bn_swap *s, const dataset *d, float *probs, const char *progress, int *exact);
int run_save_swap(run_bn_swap *s, const char *path, int *exact, char *err);

/* Progress on stderr: "\r<label> i/n" throttled; run_progress_done ends the line. */
void run_progress(const char *label, long i, long n);
void run_progress_done(const char *label);
#endif
