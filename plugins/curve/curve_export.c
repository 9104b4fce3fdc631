/* curve_export.c: curves and networks as files meet here (curve_train.h): whether a curve
 * file fits a cfg, the straight line between two .weights files, and a point of a curve
 * written as an ordinary Darknet .weights file ("darknet curve line | export"). */
#include <stdio.h>
#include <stdlib.h>
#include "curve_train.h"
#include "run.h"

int curve_check_fits(const curve *cv, const host_net *h, const char *curve_path, const char *cfg, char *err) {
    int det = (cv->flags & CURVE_DETECTOR) != 0;
    if (det != host_is_detector(h)) {
        snprintf(err, CURVE_ERRLEN, "%s: a %s's curve, but %s is a %s cfg", curve_path, det ? "detector" : "classifier", cfg,
                 det ? "classifier" : "detector");
        return -1;
    }
    if (cv->n == host_nparams(h)) return 0;
    snprintf(err, CURVE_ERRLEN, "%s: bends have %zu parameters, %s has %zu", curve_path, cv->n, cfg, host_nparams(h));
    return -1;
}

int curve_line_between(curve *line, host_net *h, const char *a, const char *b, char *err) {
    if (curve_init(line, CURVE_POLYCHAIN, 2, host_nparams(h), 0)) {
        snprintf(err, CURVE_ERRLEN, "out of memory for %zu parameters", host_nparams(h));
        return -1;
    }
    line->decay = host_cfg_decay(h);
    for (int k = 0; k < 2; k++) {
        if (host_load_weights(h, k ? b : a, err)) { curve_free(line); return -1; }
        host_get_params(h, line->bends[k]);
    }
    return 0;
}

int curve_export_run(const curve *cv, host_net *h, const curve_export_job *j, const dataset *train, char *err) {
    if (curve_check_fits(cv, h, j->curve_path, j->cfg, err)) return -1;
    float *w = malloc(cv->n * sizeof(float));
    if (!w) { snprintf(err, CURVE_ERRLEN, "out of memory for %zu parameters", cv->n); return -1; }
    curve_point(cv, j->t, w);
    host_set_params(h, w);
    run_bn_update(h, train, 0, "bn");
    int rc = host_save_weights(h, j->out, err) ? -1 : 0;
    free(w);
    return rc;
}
