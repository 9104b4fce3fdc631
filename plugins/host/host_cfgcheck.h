/* host_cfgcheck.h: the pre-validation of a cfg's text (cfgcheck.c), which knows no Darknet
 * type, so that every host shares it. What it checks against is the host's: the sections its
 * parser knows and the keys each reads, the [net] keys, the activation names its
 * get_activation() knows, and a few structural facts (host__cfg; pjreddie's host:
 * host/cfgkeys.c, AlexeyAB's: host_alexeyab/cfgkeys.c). */
#ifndef HOST_CFGCHECK_H
#define HOST_CFGCHECK_H
#include "host.h"

/* cfgcheck.c: the pre-validation of a cfg's text (see there). info (may be NULL) gets each
 * layer's section line and name, for messages about a layer index. */
typedef struct { int nlayers; int *line; char (*name)[40]; } host_cfg_info;
int host__validate_cfg(const char *path, host_cfg_info *info, char *err);
void host__cfg_info_free(host_cfg_info *info);

/* One section type of the parser: its names (lower case, " [conv] [convolutional] "), the
 * keys its parse function reads (" filters size ... "; NULL: not checked, the detector heads),
 * whether it reads activation=. The first entry is [net]. */
typedef struct { const char *names; const char *keys; int activation; } host_cfg_section;
/* A key that names earlier layers by index (relative if negative): list = a comma list */
typedef struct { const char *section; const char *key; int list; } host_cfg_index;
typedef struct {
    const host_cfg_section *sections;
    int nsections;
    const char *common_keys;     /* read for every layer section */
    const char *net_keys;        /* [net] keys read whatever the other keys say */
    const char *steps_keys;      /* [net] keys read only with policy=steps */
    const char *activations;     /* the names get_activation() knows */
    const host_cfg_index *indices;
    int nindices;
    /* [rnn], [lstm], [gru] refused and [crnn] only linear without BN: pjreddie's CPU layers
     * (see cfgcheck.c); a host without this leaves them to its parameter view */
    int refuse_recurrent;
    /* sections the host cannot train (NULL: none), refused with the reason unsupported_why */
    const char *unsupported;
    const char *unsupported_why;
} host_cfg_dialect;
extern const host_cfg_dialect host__cfg;
#endif
