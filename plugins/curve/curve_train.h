/* curve_train.h: training the free bends of a curve and evaluating points along it. */
#ifndef CURVE_TRAIN_H
#define CURVE_TRAIN_H
#include <stdio.h>
#include "curve.h"
#include "data.h"
#include "host.h"
#include "train.h"

/* ---- training: minimise E_{t~U(0,1)} [ L(w(t)) + 0.5 decay ||w(t)||^2_masked ] ----
 * One t per mini-batch, shared by the batch; w(t) is set into the network, one forward/
 * backward gives g = dL/dw at w(t), and each free bend theta_k gets c_k(t) (g + decay w(t))
 * through its own momentum buffer (Darknet's SGD form). The curve's lr/mom/decay/seed/
 * epochs/schedule fields drive the run; cv->epoch/iteration/rng/momentum make it resumable:
 * a run resumed from a checkpoint gives the same bends as an uninterrupted one. */
typedef struct {
    int save_every;          /* checkpoint every N epochs (0: only at the end) */
    const char *out;         /* checkpoint path (NULL: none) */
    FILE *table;             /* per-epoch rows (NULL: none) */
    int progress;            /* progress line on stderr */
    int stop_after;          /* testing: stop (with a checkpoint) after this many epochs of this call */
    const train_source *src; /* NULL: the data set's images; else the batches (train.h), e.g. a
                              * detector's (x = images, y = truths), train->n images an epoch */
} curve_train_opts;

int curve_train(curve *cv, host_net *h, const dataset *train, const curve_train_opts *o, char *err);

/* The training step of the free bends, on whichever device the network runs. On the CPU the
 * bends are cv's own arrays. On a GPU (GPU=1 build, host_gpu(h) >= 0) curve_stepper_new
 * copies the bends, their momentum buffers and the decay mask to the device once; a step then
 * forms w(t) there (one fused kernel over the K bends), sets it into the network device to
 * device, runs Darknet's GPU forward/backward and updates the free bends and their momentum
 * there (a second fused kernel): no weights cross the bus, only the batch, the output and a
 * few bytes of results. curve_stepper_sync copies the device bends and momentum back into cv
 * (before a checkpoint and at the end). */
typedef struct curve_stepper curve_stepper;
curve_stepper *curve_stepper_new(curve *cv, host_net *h, char *err);
int curve_stepper_step(curve_stepper *s, double t, const float *x, const float *y, float lr, train_step_out *out);
int curve_stepper_sync(curve_stepper *s, char *err);
void curve_stepper_free(curve_stepper *s);

/* One batch at a fixed t: sets w = w(t) into the network, runs forward + backward on (x, y)
 * and leaves in g the gradient of the objective L(w) + 0.5 decay ||mask * w||^2 with respect
 * to w. The gradient for bend k is then c_k(t) * g. Returns the objective; *nll and *hits
 * (may be NULL) get the batch's mean NLL and argmax hits. w and g hold cv->n floats. */
double curve_batch_grad(const curve *cv, host_net *h, double t, const float *x, const float *y,
                        const unsigned char *mask, float *w, float *g, float *nll, int *hits);

/* The mask of decayed entries for a curve: Darknet's kinds (weights), or all with DECAY_ALL. */
void curve_decay_mask(const curve *cv, const host_net *h, unsigned char *mask);

/* ---- evaluation ---- */
typedef struct {
    double t, dl;            /* dl: ||w(t_i) - w(t_{i-1})||, 0 for the first point */
    double tr_loss, tr_nll, tr_err, te_nll, te_err;   /* tr_loss = tr_nll + 0.5 decay ||w||^2 */
} curve_eval_row;

typedef struct {
    int points;              /* number of t values, linspace(0,1) */
    int bn_limit;            /* BN statistics from the first N training images (0: all) */
    int train_limit;         /* train metrics on the first N training images (0: all, <0: none) */
    float decay;             /* for the l2 term of the reported train loss */
    int decay_all;
    int progress;
    void (*row)(void *ctx, const curve_eval_row *r);  /* called after each point */
    void *ctx;
} curve_eval_opts;

/* Evaluates w(t) at opts->points values; BN statistics are recomputed at every point.
 * 0, or -1 with err (CURVE_ERRLEN) filled. Under mpirun (dist.h) the points are spread over
 * the ranks; rows[] and the row callback are filled and called on rank 0 only, in order. */
int curve_evaluate(const curve *cv, host_net *h, const dataset *train, const dataset *test,
                   const curve_eval_opts *o, curve_eval_row *rows, char *err);

/* min, max, mean over points, and the arc-length weighted trapezoid mean (the reference's
 * "int"): sum_i (v_{i-1}+v_i)/2 dl_i / sum_i dl_i. */
typedef struct { double start, end, min, max, avg, integral; } curve_stat;
curve_stat curve_stats(const curve_eval_row *rows, int n, size_t field_offset);
/* ---- an evaluation run: the curve, the straight line between its end points, the CSV ----
 * curve_eval_run evaluates cv and, with line set, the 2-bend PolyChain between its end points
 * (curve_line_of: the same l2 term), at the same points; row (may be NULL) is called after
 * each point with the path's name ("line" for the line); the CSV (path,t,dl,tr_loss,...),
 * when csv is given, is written atomically on rank 0 after both paths are done, and nothing
 * is left of it on an error. rows and lrows (line only) get o.points rows each on rank 0. */
typedef struct {
    curve_eval_opts o;        /* its row and ctx are not used: row below */
    int line;
    const char *name;         /* the curve's name in the rows and the CSV */
    const char *csv;          /* NULL: none */
    void (*row)(void *ctx, const char *path, const curve_eval_row *r);
    void *ctx;
} curve_run_opts;
int curve_line_of(const curve *cv, curve *line);
int curve_eval_run(const curve *cv, host_net *h, const dataset *train, const dataset *test, const curve_run_opts *o,
                   curve_eval_row *rows, curve_eval_row *lrows, char *err);
/* ---- curves and network files (curve_export.c) ----
 * curve_check_fits: 0 when the curve is of h's kind (a detector's curve, flag CURVE_DETECTOR,
 * with a detector cfg, a classifier's with a classifier's) and its bends have h's parameter
 * count, else -1 with "<curve_path>: a detector's curve, but <cfg> is a classifier cfg" (or
 * the reverse) or "<curve_path>: bends have N parameters, <cfg> has M". curve_line_between: the straight line
 * between the networks a and b of h's cfg, a 2-bend PolyChain with the cfg's decay (a and b
 * are loaded into h in turn); 0, or -1 with the weights file's error or "out of memory for N
 * parameters" (line is then freed). curve_export_run: w(t) of cv, with BN statistics
 * recomputed on all of train, written to out as an ordinary Darknet .weights file; 0, or -1
 * with the fit's, the memory's or the file's error. */
int curve_check_fits(const curve *cv, const host_net *h, const char *curve_path, const char *cfg, char *err);
int curve_line_between(curve *line, host_net *h, const char *a, const char *b, char *err);
typedef struct {
    const char *curve_path, *cfg;   /* for messages */
    double t;                       /* in [0, 1] */
    const char *out;
} curve_export_job;
int curve_export_run(const curve *cv, host_net *h, const curve_export_job *j, const dataset *train, char *err);

/* The figure of a run (curve_draw.c, on plot/): test error and train loss against t, side by
 * side, for the curve (name: "bezier", "polychain" or as given) and, when lrows is not NULL,
 * the straight line; n rows each. Written to path (.png, .svg or .pdf). 0, or -1 with err. */
int curve_draw(const char *path, const curve_eval_row *rows, const char *name, const curve_eval_row *lrows, int n, char *err);

/* ---- a training run: the curve from its end points or its checkpoint, trained and saved ----
 * A new curve: the end points' weights (and BN statistics) loaded into h as bends 0 and K-1,
 * the middle bends on the segment between them (curve_init_linear), the run's settings from
 * the job or else the cfg; resume: the checkpoint's curve, which must fit h, its settings
 * kept (epochs: the job's when > 0). Then the output is checked writable and curve_train
 * runs, checkpointing to out every save_every epochs and at the end. */
typedef struct {
    const char *cfg;              /* the network's cfg, for messages */
    const char *start, *end;      /* the end points' .weights (a new curve) */
    const char *resume;           /* a .curve checkpoint to continue; NULL: a new curve */
    const char *out;              /* NULL: resume's file, or <backup>/curve.curve (folder made) */
    const char *backup;           /* the .data file's backup folder ("" or NULL: ".") */
    curve_type type;
    int bends;                    /* K, 2 .. CURVE_MAX_BENDS */
    int epochs;                   /* 0: 5 (new), the checkpoint's (resume) */
    int seed;
    double lr, mom, decay;        /* lr <= 0, mom < 0, decay < 0: the cfg's */
    int decay_all, schedule_cfg, free_start, free_end;
    int save_every, stop_after;   /* as curve_train_opts */
    FILE *table;                  /* per-epoch rows (NULL: none) */
    const train_source *src;      /* as curve_train_opts (NULL: the data set's images) */
} curve_train_job;
/* What the run reports (callbacks may be NULL): resumed, after a checkpoint is read; start,
 * once every check has passed, with the curve as it will train and the output's path. */
typedef struct {
    void (*resumed)(void *ctx, const char *path, const curve *cv);
    void (*start)(void *ctx, const curve *cv, const char *out, int images);
    void *ctx;
} curve_train_report;
/* <dir>/curve.curve, dir the backup folder (or "."). */
void curve_default_out(char *buf, size_t n, const char *backup);
/* 0, or -1 with a one-line err: an unreadable or unfitting checkpoint or end point (naming
 * the file), a curve with nothing to train or with two free ends and two bends, out of
 * memory, an unwritable output, or curve_train's error (prefixed with the cfg unless it names
 * the output already). */
int curve_train_run(const curve_train_job *j, host_net *h, const dataset *train, const curve_train_report *rep, char *err);
#endif
