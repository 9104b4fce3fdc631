/* members.h: the networks of an ensemble, as the command line names them. A member is
 * "w.weights" (the default cfg) or "model.cfg:model.weights" (its own cfg), so members may
 * be different architectures as long as each takes the same images and predicts the same
 * classes. Opening the set checks every member before any work is done (each cfg parses and
 * fits the data, each weights file has its cfg's size), so that a bad member is a one-line
 * error naming it, not a failure halfway through a long evaluation. One network is built
 * per distinct cfg and the members' weights are loaded into it in turn. */
#ifndef MEMBERS_H
#define MEMBERS_H
#include "host.h"

typedef struct {
    int n;              /* members */
    char **cfg;         /* per member: its cfg path (the default cfg or the one it names) */
    char **weights;     /* per member: its weights path */
    int *net_of;        /* per member: index into nets */
    int nnets;
    host_net **nets;    /* one per distinct cfg */
    int w, h, c, classes;   /* the input geometry and classes every member has */
    int young;              /* members whose stored BN statistics are young (run_bn_young) */
    char young_note[4096];  /* run_bn_young_warning of the first of them ("" if none) */
} ens_members;

/* 1 if arg names a member: it ends in ".weights", or is "x.cfg:y" (a cfg, a colon, a file). */
int ens_is_member_arg(const char *arg);
/* Split "x.cfg:y" at the colon after ".cfg"; otherwise cfg = default_cfg, weights = arg.
 * Writes into the caller's buffers; -1 (err) if a part does not fit or is empty. */
int ens_member_split(const char *arg, const char *default_cfg, char *cfg, size_t cfg_len,
                     char *weights, size_t weights_len, char *err);
/* Parse and check n member arguments. w, h, c, classes: what every member must take and
 * predict (w = h = c = 0: the first member's input geometry). batch > 0 overrides the cfgs'
 * batch (1 for single images). Counts the members whose stored BN statistics are too young
 * to trust (young, young_note). 0, or -1 with a one-line error naming the file. */
int ens_members_open(ens_members *m, const char *default_cfg, char *const *args, int n, int batch,
                     int w, int h, int c, int classes, char *err);
/* Load member i's weights into its network and return the network (owned by m), or NULL. */
host_net *ens_members_load(ens_members *m, int i, char *err);
void ens_members_free(ens_members *m);

/* The ensemble's prediction for one image x (w*h*c floats, CHW): the mean over the members of
 * their softmax probabilities (eval mode, stored BN statistics), written to probs (classes
 * floats). 0, or -1 with err. */
int ens_members_predict(ens_members *m, const float *x, float *probs, char *err);

/* Indices of the k largest of p[0..n) in decreasing order (ties: the lower index first);
 * k is clipped to n. Returns the number written. */
int ens_top_k(const float *p, int n, int k, int *idx);
#endif
