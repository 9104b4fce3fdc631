/* swa.h: Stochastic Weight Averaging (Izmailov et al. 2018) from weight files: the
 * equal-weight mean of several networks of one cfg, in weight space. The BN statistics of the
 * mean are meaningless until recomputed on the training set (run_bn_update), which the
 * caller does; the members' statistics are averaged too, so that the mean of one file is that
 * file bit for bit and the result is well defined without a BN pass. */
#ifndef SWA_H
#define SWA_H
#include "host.h"

/* Load each of the n files into h (sizes checked by host_load_weights; an error names the
 * file) and leave h holding the mean of their parameters and BN statistics, summed in double
 * and divided by n, and seen = the largest of theirs. 0, or -1 with a one-line err. */
int swa_average(host_net *h, char *const *paths, int n, char *err);
#endif
