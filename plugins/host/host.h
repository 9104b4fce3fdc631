/* host.h: the door to Darknet. The only module that knows Darknet's structs is host/;
 * everything else sees a host_net handle, flat float vectors and plain arrays.
 *
 * Flat vectors follow save_weights order exactly: the trainable "params" vector holds the
 * weights/biases/scales blocks of every parameterised layer in file order; the "stats"
 * vector holds the BN rolling_mean/rolling_variance blocks in file order. Interleaving the
 * two (host_pack_payload) gives the payload of a .weights file byte for byte. */
#ifndef HOST_H
#define HOST_H
#include <stddef.h>
#include <stdint.h>

typedef enum { HP_WEIGHTS, HP_BIASES, HP_SCALES, HP_ROLLING_MEAN, HP_ROLLING_VAR } hp_kind;

/* One contiguous array of the network, in save order. value/grad are Darknet's arrays. */
typedef struct {
    float *value;
    float *grad;      /* Darknet's *_updates accumulator (holds -sum of gradients); NULL for stats */
    size_t n;
    hp_kind kind;
    int layer;        /* index in the network */
    int sub;          /* -1, or sub-layer index inside rnn/gru/lstm/crnn */
    size_t offset;    /* offset in the params vector (trainable) or stats vector (rolling) */
    int bn_channels;  /* for stats blocks: channel count; 0 otherwise */
} hp_block;

typedef struct host_net host_net;

/* Error reporting: functions that can fail return NULL / nonzero and fill err (one line). */
#include <math.h>
#include "errlen.h"
#define HOST_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

/* Parse a cfg (Darknet's layer table is silenced) and build the parameter view.
 * batch > 0 overrides the cfg's batch. Refuses unsupported layers with an error naming
 * the layer index and type. Before Darknet's parser runs, the cfg's text is checked
 * (cfgcheck.c): a key this Darknet does not read or an activation it does not know is an
 * error naming file:line and key (env DKMC_ALLOW_UNUSED=1: go on with what Darknet builds);
 * what would make the parser exit or crash (policy=steps without steps=/scales=, [route]
 * without layers=, indices out of range, [rnn]/[lstm]/[gru], which crash or do not train
 * on the CPU, [crnn] unless linear without BN) is an error too; a parser abort the check cannot foresee is caught and reported
 * with the layer and its line. [cost] layers after the final [softmax] are accepted and
 * left out: loss and gradient are the softmax's cross-entropy (the library's [cost] there
 * would double the gradient). */
host_net *host_load(const char *cfg, int batch, char *err);
/* A detector (cfg ending with [yolo], [region] or [detection]): the same checks, all its
 * layers kept; what follows in "detectors" below works on such a network. */
host_net *host_load_detector(const char *cfg, int batch, char *err);
int host_is_detector(const host_net *h);
void host_free(host_net *h);

/* Load / save a Darknet .weights file through the view (own reader: size is checked, a
 * mismatch is an error naming the file). Save is atomic (temp + fsync + rename). */
int host_load_weights(host_net *h, const char *path, char *err);
int host_save_weights(host_net *h, const char *path, char *err);

size_t host_nparams(const host_net *h);   /* trainable floats */
size_t host_nstats(const host_net *h);    /* BN rolling floats */
int host_nblocks(const host_net *h);
const hp_block *host_blocks(const host_net *h);
int host_batch(const host_net *h);
int host_inputs(const host_net *h);       /* floats per image (w*h*c) */
int host_outputs(const host_net *h);      /* classes of the final softmax */
int host_width(const host_net *h), host_height(const host_net *h), host_channels(const host_net *h);
int host_has_bn(const host_net *h);

void host_get_params(const host_net *h, float *flat);
void host_set_params(host_net *h, const float *flat);
void host_get_stats(const host_net *h, float *flat);
void host_set_stats(host_net *h, const float *flat);
/* mask[i] = 1 where params[i] is a conv/connected/local weight (Darknet decays only those) */
void host_decay_mask(const host_net *h, unsigned char *mask);
/* The .weights payload (params and stats interleaved in file order). */
size_t host_payload_len(const host_net *h);
void host_pack_payload(const host_net *h, const float *params, const float *stats, float *payload);

/* Training-mode batch step: zero the accumulators, load x (batch*inputs) and y (batch*classes
 * one-hot) into net->input/truth, forward + backward with train=1. Returns the mean loss over
 * the batch; *correct (if not NULL) gets the count of argmax hits. BN rolling stats are
 * updated by Darknet's EMA as in ordinary training (host_bn_initial_share shrinks by
 * host_bn_keep).
 * Read the gradient with host_get_grad. */
float host_step(host_net *h, const float *x, const float *y, int *correct);
/* One image's share of the metrics every evaluation reports: -log(scale * p[lab]) with the
 * probability clamped at 1e-30 (a NaN probability gives NaN: a diverged network is not
 * scored as merely wrong), and in *hit whether the first maximum of p[0..k) is lab. scale is
 * 1, or 1/members for an ensemble's summed probabilities (kept in double: host_nll_hit_d).
 * One definition for both element types. */
#define HOST_NLL_HIT(name, T)                                                              \
    static inline double name(const T *p, int k, int lab, double scale, int *hit) {       \
        int best = 0;                                                                      \
        for (int c = 1; c < k; c++) if (p[c] > p[best]) best = c;                          \
        *hit = best == lab;                                                                \
        double pt = scale * p[lab];                                                        \
        return isnan(pt) ? NAN : -log(pt > 1e-30 ? pt : 1e-30);                            \
    }
HOST_NLL_HIT(host_nll_hit, float)
HOST_NLL_HIT(host_nll_hit_d, double)
#undef HOST_NLL_HIT
/* d(mean loss)/dθ of the last step, in params order. */
void host_get_grad(const host_net *h, float *flat);
void host_zero_grad(host_net *h);

/* Eval-mode forward of n <= batch images (rest of the batch is padding); writes n*classes
 * softmax probabilities to probs. */
void host_predict(host_net *h, const float *x, int n, float *probs);

/* Exact BN recompute: forward in train mode over the given images (in batches of the net's
 * batch size, the last one smaller), pooling each BN layer's per-channel batch mean and
 * E[x^2]; writes the pooled mean and (population) variance into rolling_mean/variance
 * (and host_bn_initial_share becomes 0).
 * The callback supplies batch i's images: fill x with up to `batch` images, return count.
 * A detector's heads ([yolo], [region], [detection]: no BN follows them, and the library's
 * would read a truth in train mode) run as in inference during the pass. */
typedef int (*host_batch_fn)(void *ctx, int batch_index, float *x, int max);
void host_bn_recompute(host_net *h, host_batch_fn fn, void *ctx, int nbatches);

/* How much of the BN running statistics is still Darknet's initial value. Darknet builds
 * rolling_mean and rolling_variance as zeros and moves them by a fixed share per train-mode
 * forward: keep = host_bn_keep (pjreddie's: 0.99 old + 0.01 batch), so after k training
 * batches keep^k of them is that zero (pjreddie's: 72 % after 32 batches). host_load: 1 (0
 * without BN); host_step: times keep; host_bn_recompute:
 * 0. host_load_weights: keep^(seen / the cfg's batch per forward) for a file whose network
 * has seen images, an estimate that assumes its statistics are the running averages of
 * that training (a file does not say whether they were recomputed since); for a file with
 * seen 0, 1 if every rolling variance is 0 (never trained) and 0 otherwise (statistics set
 * by a tool, e.g. curve export). host_set_stats leaves the share as it is: put a saved one
 * back with host_set_bn_initial_share. */
double host_bn_initial_share(const host_net *h);
/* The share of the old running statistics one train-mode forward keeps: 0.99 in pjreddie's
 * Darknet; in AlexeyAB's 0.9 in a convolutional layer and 0.95 in a connected one, the larger
 * of those the network has (its slowest statistics); 0 without BN. */
double host_bn_keep(const host_net *h);
void host_set_bn_initial_share(host_net *h, double share);
/* The cfg's batch per forward (batch / subdivisions), whatever batch the network was
 * loaded with: the images of one of Darknet's running-average updates in its training. */
int host_cfg_batch(const host_net *h);

/* policy=fge_cyclic and policy=sgdr inside Darknet's own loop (host_policy.c): the library's
 * train_network asks get_current_rate, which the executable defines. For a network whose cfg
 * has one of these policies (host_policy_is_ours), the rate at Darknet's batch number
 * (seen / (batch * subdivisions), after the increment of the step being taken) is, after the
 * cfg's burn_in, hook(ctx, batch). host_set_rate_hook(h, NULL, NULL) removes it (do so before
 * host_free); at most 16 networks at once: -1 when full. Without a hook: learning_rate. */
typedef double (*host_rate_hook)(void *ctx, uint64_t batch);
int host_set_rate_hook(host_net *h, host_rate_hook fn, void *ctx);
int host_policy_is_ours(const host_net *h);
/* The network's policy made ours (fge_cyclic, no burn-in), whatever its cfg says: the rate
 * then comes from the hook ("darknet fge" on a detector). */
void host_policy_set_fge(host_net *h);
/* get_current_rate at the network's seen: after a step, the rate that step used */
float host_current_rate(host_net *h);
/* Darknet's own learning-rate policy at an iteration (0-based), as get_current_rate gives it. */
float host_policy_rate(host_net *h, size_t iteration);
/* Images seen (written into .weights headers). */
uint64_t host_seen(const host_net *h);
void host_set_seen(host_net *h, uint64_t seen);
/* [net] adam=1. Our training steps are SGD with momentum; host_adam_error fills err with a
 * one-line refusal naming the cfg and `command` and returns -1 when the cfg asks for Adam
 * (0 otherwise). */
int host_cfg_adam(const host_net *h);
int host_adam_error(const host_net *h, const char *command, char *err);
float host_cfg_learning_rate(const host_net *h);
float host_cfg_momentum(const host_net *h);
float host_cfg_decay(const host_net *h);
int host_cfg_max_batches(const host_net *h);
int host_cfg_burn_in(const host_net *h);
/* Sets max_batches, so that policies relative to it (poly, sigmoid) fit a run of -epochs. */
void host_set_max_batches(host_net *h, int n);
/* A [net] option from the cfg (NULL if absent). The returned string lives as long as h. */
const char *host_net_option(const host_net *h, const char *key);

/* ---- devices (host_gpu.c) ----
 * The device of the networks loaded next, as Darknet's -gpu i / -nogpu: index >= 0 a GPU,
 * -1 the CPU path of the library. A GPU build (GPU=1) runs on GPU 0 unless told otherwise
 * and needs a CUDA device even for -nogpu (the library allocates device memory for some
 * layers regardless); a CPU build refuses index >= 0 with a one-line err. */
int host_select_gpu(int index, char *err);
int host_gpu(const host_net *h);          /* the GPU h runs on, -1 for the CPU */
int host_gpu_count(void);                 /* CUDA devices usable (0 in a CPU build) */
#ifdef GPU
/* For a network on a GPU: its trainable parameters to/from a device vector of host_nparams
 * floats in params order, and its gradient accumulators (Darknet's -sum over the batch of
 * the last host_step; times -1/batch is the mean gradient) into one. Device to device. */
void host_dev_get_params(const host_net *h, float *d);
void host_dev_set_params(host_net *h, const float *d);
void host_dev_get_grad_sum(const host_net *h, float *d);
#endif

/* ---- optimiser state where the network runs ----
 * On a GPU (GPU=1 build, host_gpu(h) >= 0) a training step moves no weights between host and
 * device: a curve's bends and their momentum, or SGD's weights and momentum, are kept on the
 * device with the decay mask; a step forms the point there (one fused kernel over the K
 * bends), sets it into the network, runs Darknet's forward/backward and updates the state in
 * place (plugins/gpu). The *_new calls return NULL with err empty where the network runs on
 * the CPU (the caller steps on the host), and NULL with err filled on a failure.
 * Step results: 0; HOST_STEP_LOSS (the loss is not finite); HOST_STEP_STATE (a bend or
 * weight became non-finite: *bad gets the bend, -1 for SGD); HOST_STEP_DEVICE (a CUDA error,
 * said in why, HOST_ERRLEN). */
enum { HOST_STEP_LOSS = 1, HOST_STEP_STATE, HOST_STEP_DEVICE };
typedef struct host_dev_curve host_dev_curve;
/* k bends of n floats; mom[j] NULL: bend j is fixed (not stepped) */
host_dev_curve *host_dev_curve_new(host_net *h, size_t n, int k, float *const *bends, float *const *mom,
                                   const unsigned char *mask, char *err);
/* The point sum_j c[j] bends[j] into the network, a forward/backward on (x, y), then the free
 * bends' momentum step: g = mean gradient + decay mask w, mom = momentum mom + c[j] g,
 * bend -= lr mom. *nll and *hits of the batch, *l2 = sum over mask of w^2 before the step. */
int host_dev_curve_step(host_dev_curve *d, const float *c, const float *x, const float *y, float lr, float decay,
                        float momentum, float *nll, int *hits, double *l2, int *bad, char *why);
/* The device bends and momentum copied into the caller's arrays (mom[j] NULL: skipped). */
int host_dev_curve_pull(host_dev_curve *d, float *const *bends, float *const *mom, char *err);
void host_dev_curve_free(host_dev_curve *d);

typedef struct host_dev_sgd host_dev_sgd;
/* The network's current weights as the start, momentum zero. */
host_dev_sgd *host_dev_sgd_new(host_net *h, size_t n, const unsigned char *mask, char *err);
/* Darknet's update in normal form on the device; seen advances by the batch. */
int host_dev_sgd_step(host_dev_sgd *d, const float *x, const float *y, float lr, float momentum, float decay,
                      float *loss, int *hits, char *why);
/* The current weights into w (n floats). */
int host_dev_sgd_pull(host_dev_sgd *d, float *w);
void host_dev_sgd_free(host_dev_sgd *d);

/* ---- detectors (host_detect.c), on Darknet's own detection pipeline ---- */
int host_det_classes(const host_net *h);          /* the last layer's classes */
int host_det_random(const host_net *h);           /* the last layer's random= (multi-scale) */
uint64_t host_det_batch_num(const host_net *h);   /* Darknet's iteration: seen / (batch * subdivisions) */
int host_det_images_per_step(const host_net *h);  /* batch * subdivisions */
/* Training batches: the library's load_data with DETECTION_DATA in its background thread,
 * batch * subdivisions images per step drawn at random from paths (which must outlive the
 * loader), with the cfg's augmentation; threads: the library's loader threads. Every image's
 * label file must exist and be well formed before (the library exits on a missing one). */
typedef struct host_det_loader host_det_loader;
host_det_loader *host_det_loader_new(host_net *h, char **paths, int n, int threads, char *err);
void host_det_loader_free(host_det_loader *L);
/* quiet: the library's per-step lines on stdout ("Region 16 Avg IOU: ...") go to /dev/null */
void host_det_loader_quiet(host_det_loader *L, int quiet);
/* One step of the library's train_network on the next batch (forward, backward, update at
 * get_current_rate); the batch after it starts loading. Returns Darknet's loss. */
float host_det_train_step(host_net *h, host_det_loader *L);
/* The same step on given images: n (a multiple of batch) rows of inputs floats in x and of
 * host_det_truths floats (Darknet's truth: max_boxes x (x, y, w, h, class)) in truth. */
float host_det_train_batch(host_net *h, float *x, float *truth, int n);
int host_det_truths(const host_net *h);
/* floats per box in a truth: 5 (x, y, w, h, class) in pjreddie's Darknet, 6 in AlexeyAB's
 * (a track id after the class) */
int host_det_truth_size(const host_net *h);
/* The detection loss of a detector: what host_step returns for one (the mean over the batch;
 * *correct 0), with y the truths (host_det_truths floats per image), and what host_det_loss
 * gives in evaluation. For a [yolo] head it is the function whose gradient the layer's
 * backward passes down (its delta is minus that gradient), summed over the outputs that get
 * a delta: the logistic cross-entropy -log p or -log(1-p) of objectness and classes (the
 * outputs Darknet ignores, IoU > ignore_thresh, have none), and for the box of each truth's
 * cell and anchor (the last truth of a cell wins, as in the library) the scaled terms
 * s KL(t || sigmoid) for x, y and s/2 (t - raw)^2 for w, h, s = 2 - w h. It is not the cost
 * Darknet prints (the sum of the squared deltas, which is not the function its gradient
 * belongs to); with truth_thresh < 1 the library's extra box terms are left out. A
 * [region] or [detection] head adds the library's cost. */
/* Eval-mode forward of n <= batch images (BN with its running statistics; the heads see
 * train = 1 so that they compare with truth); the loss summed over the n images. */
double host_det_loss(host_net *h, const float *x, const float *truth, int n);
/* 0 where this host has host_det_loss and a detector's host_step for h's heads (pjreddie's:
 * always); -1 with a one-line err naming the cfg, `command` and the setting where it does
 * not (AlexeyAB's: a [yolo] other than iou_loss=mse with the default settings). */
int host_det_loss_check(const host_net *h, const char *command, char *err);
/* One training batch (the network's batch) from the library's own load_data_detection, the
 * function its DETECTION_DATA loader thread calls, with the cfg's augmentation (the last
 * layer's jitter, [net] hue/saturation/exposure, flips) and its random choice of images
 * among paths[0..m), after srand(seed): the same seed gives the same batch (a resumable run
 * draws it in the calling thread). x: batch * inputs floats, truth: batch * host_det_truths.
 * The label files must have been checked (the library exits on a missing one). */
int host_det_load_batch(host_net *h, char **paths, int m, unsigned seed, float *x, float *truth, char *err);
void host_set_learning_rate(host_net *h, float lr);   /* [net] learning_rate */
/* Darknet's resize_network (random=1 multi-scale); the loader (may be NULL) follows. */
int host_det_resize(host_net *h, host_det_loader *L, int w, int hgt);
/* Inference on one image as Darknet's detector test: decoded, resized (or letterboxed) by
 * the library to the network's size, network_predict, get_network_boxes (relative to the
 * image), do_nms_sort at nms (0: none); one box per class whose probability > thresh.
 * The network must have batch 1 (host_load_detector(cfg, 1, ...)). *out is malloc'd. */
typedef struct { float x, y, w, h, score; int cls; } host_det;
int host_det_predict(host_net *h, const char *image, float thresh, float nms, int letterbox, host_det **out, int *n,
                     char *err);
/* The network's input for one image as host_det_predict makes it (decoded, resized or
 * letterboxed by the library to the network's size, 3 channels): host_inputs(h) floats. */
int host_det_input(const host_net *h, const char *image, int letterbox, float *x, char *err);
/* Boxes drawn on an image as Darknet's detector test draws them (the library's
 * draw_box_width and, where labels_dir holds Darknet's glyphs "<char>_<size>.png", get_label
 * and draw_label): for each box, a frame of max(1, 0.006 x image height) pixels in the class's
 * colour (host_det_color), clipped to the image, and the class name (names[cls], or
 * "class N" where names is NULL) on the colour at its top-left corner. *pix (malloc'd) gets
 * the drawn image, 3 channels CHW in [0,1], *w x *h; *labeled whether the names were drawn
 * (0 where labels_dir lacks a glyph). */
int host_det_draw(const char *image, const host_det *d, int n, int classes, char *const *names, const char *labels_dir,
                  float **pix, int *w, int *h, int *labeled, char *err);
/* Darknet's colour of a class among classes (draw_detections: get_color of class * 123457 %
 * classes): rgb[3] in [0,1]. */
void host_det_color(int cls, int classes, float rgb[3]);
#endif
