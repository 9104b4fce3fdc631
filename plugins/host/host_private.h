/* host_private.h: Darknet internals the host module needs beyond darknet.h. Functions that
 * libdarknet exports but does not declare, with our own prototypes matching the library's
 * signatures in Debian's source (git 61c9d02e; a name the library does not export fails the
 * link), and the host_net struct. */
#ifndef HOST_PRIVATE_H
#define HOST_PRIVATE_H
#include "darknet.h"
#include "host.h"

/* exported by libdarknet, not declared in darknet.h */
typedef struct { char *type; list *options; } dk_section;   /* parser.c's `section` */
void free_section(dk_section *s);
char *option_find(list *l, char *key);
float option_find_float(list *l, char *key, float def);
float option_find_float_quiet(list *l, char *key, float def);
void calc_network_cost(network *net);
float get_color(int c, int x, int max);
data load_data_detection(int n, char **paths, int m, int w, int h, int boxes, int classes, float jitter, float hue,
                         float saturation, float exposure);

struct host_net {
    network *net;
    hp_block *blocks;
    int nblocks;
    size_t nparams, nstats;
    layer **block_layer;     /* the (sub-)layer that owns each block */
    list *sections;          /* read_cfg() of the cfg, for [net] options */
    char cfg[1024];
    int full_batch;          /* batch the network was built with */
    int cfg_batch;           /* the cfg's batch per forward (batch / subdivisions), before any override */
    double bn_share;         /* share of the BN running statistics still initial (host_bn_initial_share) */
    int full_n;              /* layers Darknet built; net->n may stop before trailing [cost]s */
    int detector;            /* loaded by host_load_detector: ends with [yolo]/[region]/[detection] */
    int gpu;                 /* the GPU the network runs on, -1 for the CPU path */
    float **dvalue, **dgrad; /* GPU=1: each block's device arrays (NULL on the CPU path) */
};

#include "host_cfgcheck.h"

/* net.c: free_network plus what it forgets to free (for a network of parse_network_cfg) */
void host__free_network(network *net);

/* params.c */
int host__enumerate(host_net *h, char *err);

/* host_gpu.c: on a GPU the device arrays are the network's state and the host copies are
 * refreshed only when asked for. In CPU builds these are no-ops and host__gpu_check passes. */
int host__gpu_check(const char *cfg, char *err);   /* a usable device (GPU builds), before parsing */
void host__block_pull(const host_net *h, int i, float *dst);      /* block i's device values -> dst */
void host__block_push(host_net *h, int i, const float *src);      /* src -> block i's device values */
void host__pull_all(const host_net *h);    /* every block's device values into its host array */
void host__push_all(host_net *h);          /* every block's host array to the device */
void host__zero_grad_dev(host_net *h);
void host__pull_grad(const host_net *h, int i, float *dst);
/* the last batch's c means and (unbiased) variances into l->mean/variance; m: values per
 * channel in the batch (batch * spatial) */
void host__pull_bn_batch(layer *l, int c, double m);
/* host_detect.c: stdout to /dev/null (on != 0) and back, around the library's per-step lines */
typedef struct { int saved, null; } host__quiet;
host__quiet host__stdout_off(int on);
void host__stdout_on(host__quiet q);
/* host_detect.c: a detector's loss over the n images of the last train-mode forward of its
 * heads (host.h, host_det_loss); the sum over the images, not the mean */
double host__det_loss_sum(const host_net *h, int n);
/* forward_network's loop without clearing deltas, the heads ([yolo], [region], [detection])
 * with train = head_train and the other layers with body_train (a head in train mode needs
 * net->truth); the cost is not computed */
void host__forward_split(host_net *h, int body_train, int head_train);
#endif
