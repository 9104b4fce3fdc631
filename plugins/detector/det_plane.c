/* det_plane.c: a detector's plane (det_plane.h): det_point_eval at every grid point. */
#include <math.h>
#include <string.h>
#include "det_plane.h"

static int eval_point(void *ctx, const float *w, const unsigned char *mask, double decay, plane_row *r, char *err) {
    det_point p;
    if (det_point_eval(ctx, w, mask, decay, &p, err)) return -1;
    r->tr_loss = p.tr_loss; r->tr_det = p.tr_det; r->map50 = p.map50; r->map5095 = p.map5095;
    r->det_unused = NAN;
    return 0;
}

int det_plane_run(const det_plane_job *j, plane_setup *ps, plane_run_info *info, char *err) {
    memset(ps, 0, sizeof *ps);
    memset(info, 0, sizeof *info);
    const plane_job *pj = &j->job;
    det_point_env *e = det_point_open(j->data, j->cfg, pj->bn_limit, pj->no_train ? -1 : pj->train_limit, j->test_limit, err);
    if (!e) return -1;
    host_net *h = det_point_net(e);
    int rc = plane_setup_make(ps, &j->req, h, err);
    if (!rc) {
        plane_point_eval pe = { eval_point, e, 1, 0, 0, 0, det_point_fingerprint(e) };
        det_point_sizes(e, &pe.bn_images, &pe.train_images, &pe.test_images);
        plane_job run = *pj;
        run.plane = ps;
        run.point = &pe;
        rc = plane_run(&run, h, NULL, NULL, info, err);
        if (rc) plane_setup_free(ps);
    }
    det_point_close(e);
    return rc;
}
