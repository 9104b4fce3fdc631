/* host_cfgcheck.h: the pre-validation of a cfg's text (cfgcheck.c), which knows no Darknet
 * type, so that every host shares it; the one thing of the library it needs, the names its
 * get_activation() knows, each host defines (pjreddie's host: params.c). */
#ifndef HOST_CFGCHECK_H
#define HOST_CFGCHECK_H
#include "host.h"

/* cfgcheck.c: the pre-validation of a cfg's text (see there). info (may be NULL) gets each
 * layer's section line and name, for messages about a layer index. */
typedef struct { int nlayers; int *line; char (*name)[40]; } host_cfg_info;
int host__validate_cfg(const char *path, host_cfg_info *info, char *err);
void host__cfg_info_free(host_cfg_info *info);
/* the activation names the library's get_activation() knows, " a b c " */
extern const char host__activations[];
#endif
