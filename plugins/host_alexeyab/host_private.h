/* host_private.h of the second host: AlexeyAB's Darknet (third_party/alexeyab, 59596d78).
 * Its include/darknet.h declares the structs but not the training calls; those live in its
 * src/ headers, which we do not include (its src/data.h takes our data.h's include guard). The
 * prototypes below are ours, matching the library's definitions (a name it does not export
 * fails the link; a signature we got wrong is what test_host catches). docs/hosts.md says
 * what differs from pjreddie's library. */
#ifndef HOST_PRIVATE_H
#define HOST_PRIVATE_H
#include "darknet.h"
#include "host.h"
#include "host_cfgcheck.h"

/* its src/list.h (darknet.h has these two commented out) */
typedef struct node { void *val; struct node *next; struct node *prev; } node;
typedef struct list { int size; node *front; node *back; } list;

/* exported by libdarknet, declared only in its src/ headers */
network parse_network_cfg(char *filename);                        /* parser.h */
void forward_network(network net, network_state state);           /* network.h */
void backward_network(network net, network_state state);
float get_current_rate(network net);
learning_rate_policy get_policy(char *s);                         /* parser.c */
list *read_cfg(char *filename);                                   /* parser.h */
typedef struct { char *type; list *options; } dk_section;         /* parser.c's `section` */
void free_section(dk_section *s);
char *option_find(list *l, char *key);                            /* option_list.h */
void free_list(list *l);                                          /* list.h */

struct host_net {
    network *net;            /* the parser's network, by value, kept here */
    float *input, *truth;    /* ours: this library's parser allocates neither */
    hp_block *blocks;
    int nblocks;
    size_t nparams, nstats;
    layer **block_layer;
    list *sections;
    char cfg[1024];
    int full_batch, cfg_batch;
    double bn_share;
    double bn_keep;          /* the share of the old statistics one train-mode forward keeps (0.9 / 0.95) */
    int full_n;
    int gpu;
    int detector;            /* loaded by host_load_detector: ends with [yolo] */
};

/* exported by libdarknet, declared only in its src/ headers (network.h, data.h, image.h) */
float train_network(network net, data d);
int resize_network(network *net, int w, int h);
data load_data_detection(int n, char **paths, int m, int w, int h, int c, int boxes, int truth_size, int classes,
                         int use_flip, int gaussian_noise, int use_blur, int use_mixup, float jitter, float resize, float hue,
                         float saturation, float exposure, int mini_batch, int track, int augment_speed, int letter_box,
                         int mosaic_bound, int contrastive, int contrastive_jit_flip, int contrastive_color, int show_imgs);
float get_color(int c, int x, int max);
void draw_box_width(image a, int x1, int y1, int x2, int y2, int w, float r, float g, float b);
image get_label(image **characters, char *string, int size);
void draw_label(image a, int r, int c, image label, const float *rgb);
float box_iou(box a, box b);                                     /* box.h */

/* host_detect.c: the library's per-step lines (stdout and, from its [yolo] layer, stderr) to
 * /dev/null while on != 0, and back */
typedef struct { int saved[2], null; } host__quiet;
host__quiet host__quiet_on(int on);
void host__quiet_off(host__quiet q);
/* host_detect.c: the detection loss of the n images whose truths are truth (host_det_truths
 * floats each), after a train-mode forward of the [yolo] layers; the sum, not the mean */
double host__det_loss_sum(const host_net *h, const float *truth, int n);
/* net.c: Darknet's iteration counter (cur_iteration) kept at seen / (batch * subdivisions) */
void host__sync_iteration(host_net *h);

/* the parameter view (params.c); info: the cfg's section names, for messages */
int host__enumerate(host_net *h, const host_cfg_info *info, char *err);
#endif
