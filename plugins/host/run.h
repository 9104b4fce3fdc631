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

/* Progress on stderr: "\r<label> i/n" throttled; run_progress_done ends the line. */
void run_progress(const char *label, long i, long n);
void run_progress_done(const char *label);
#endif
