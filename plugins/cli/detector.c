/* detector.c: "darknet detector train" when the cfg has policy=fge_cyclic or policy=sgdr
 * (Darknet's own detection loop with our rate and snapshots: detector/det_train.c), and
 * "darknet detector map" (Darknet has none); every other detector command, and training
 * with Darknet's own policies, goes to the system binary unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "detector.h"

static const char *train_help =
    "usage: darknet detector train <data> <cfg> [weights] [options]\n"
    "       darknet train <data> <detector cfg> [weights] [options]\n"
    "  Darknet's detector training (the library's loader, augmentation, train_network, burn_in,\n"
    "  random=1, backups in the .data's backup=) in this binary: 'detector train' for a cfg with\n"
    "  policy=fge_cyclic or sgdr (other policies go to Darknet's own binary), 'train' for any\n"
    "  policy (with our fast CPU kernels). A snapshot <backup>/<cfg>_snapNN.weights at each of the\n"
    "  policy's points, with its mAP@0.5 on the valid list and the mAP of the ensemble of the\n"
    "  snapshots so far (Weighted Boxes Fusion)\n"
    "  -seed N          the initial weights' random seed (default: the time, as Darknet)\n"
    "  -clear           start at iteration 0 (Darknet's -clear)\n"
    "  -valid_limit N   evaluate snapshots on the first N valid images\n"
    "  -threads N       the library's loader threads (8)\n"
    "  -stop_after N    stop after N iterations of this run\n"
    "  -letterbox       letterboxed inference for the mAP (Darknet's detector test does this)\n"
    "  -verbose         the library's per-layer lines on stdout (\"Region 16 Avg IOU ...\")\n";

static const char *map_help =
    "usage: darknet detector map <data> <cfg> <weights> [options]\n"
    "  per-class AP@IoU (all-point interpolated, as VOC2010+ and AlexeyAB's detector map), mAP,\n"
    "  COCO's mAP@[.5:.95], and precision/recall at -count_thresh, on the .data's valid list\n"
    "  -iou X           IoU threshold of the per-class AP (0.5)\n"
    "  -thresh X        keep detections above X (0.005)\n"
    "  -nms X           Darknet's do_nms_sort threshold (0.45)\n"
    "  -count_thresh X  score threshold of the TP/FP counts (0.25)\n"
    "  -letterbox       letterboxed inference\n"
    "  -limit N         the first N valid images\n";

static void snap_row(void *ctx, const det_snap_row *r) {
    int *header = ctx;
    if (!*header) {
        printf("%4s %9s %10s %9s %9s %11s %9s %12s\n", "snap", "iteration", "lr", "avg_loss", "mAP50", "mAP50:95", "ens_mAP50",
               "ens_mAP50:95");
        *header = 1;
    }
    printf("%4d %9llu %10.6f %9.4f %9.2f %11.2f %9.2f %12.2f\n", r->index, (unsigned long long)r->iteration, r->lr, r->avg_loss,
           100 * r->map50, 100 * r->map5095, 100 * r->ens_map50, 100 * r->ens_map5095);
    fflush(stdout);
}

static void progress(void *ctx, uint64_t b, uint64_t maxb, double loss, double avg, double lr) {
    (void)ctx;
    if (b % 10 == 0 || b == maxb)
        fprintf(stderr, "iteration %llu/%llu: loss %.4f, avg %.4f, rate %.6f\n", (unsigned long long)b, (unsigned long long)maxb,
                loss, avg, lr);
}

int cli_detector_train(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(train_help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet detector train");
    char *pos[3] = { 0 };
    int np = cli_positionals(&a, pos, 3), header = 0;
    det_train_job j = { 0 };
    j.clear = cli_flag(&a, "clear");
    j.valid_limit = cli_int(&a, "valid_limit", 0);
    j.threads = cli_int(&a, "threads", 8);
    j.stop_after = (uint64_t)cli_int(&a, "stop_after", 0);
    j.letterbox = cli_flag(&a, "letterbox");
    j.verbose = cli_flag(&a, "verbose");
    int seed = cli_int(&a, "seed", -1);
    if (np < 2) return cli_usage_error(train_help);
    if (cli_check_unused(&a)) return 2;
    j.data = pos[0]; j.cfg = pos[1]; j.weights = np > 2 ? pos[2] : NULL;
    srand(seed >= 0 ? (unsigned)seed : (unsigned)time(NULL));   /* initial weights; Darknet: time */
    (void)header;
    return cli_detector_run(&j);
}

int cli_detector_run(det_train_job *j) {
    int header = 0;
    j->snap = snap_row; j->progress = progress; j->ctx = &header;
    char err[DKMC_ERRLEN];
    if (det_train_run(j, err)) return cli_fail("%s", err);
    return 0;
}

static int print_map(const det_valset *v, const det_boxes *dt, double iou, double count_thr, char **names, char *err) {
    double *ap = calloc(v->classes, sizeof *ap);
    det_count *cnt = calloc(v->classes + 1, sizeof *cnt);
    det_metrics m;
    int rc = !ap || !cnt;
    if (!rc) rc = det_evaluate(v, dt, count_thr, &m, NULL, cnt, err);
    if (!rc) rc = det_ap_voc(v->gt.b, v->gt.n, dt->b, dt->n, v->classes, iou, ap, NULL, &m.map50, err);
    if (!rc) {
        printf("%-5s %-16s %8s %6s %6s %6s %9s %7s\n", "class", "name", "AP", "gt", "tp", "fp", "precision", "recall");
        for (int c = 0; c < v->classes; c++)
            printf("%-5d %-16.16s %8.2f %6d %6d %6d %9.3f %7.3f\n", c, names ? names[c] : "", isnan(ap[c]) ? NAN : 100 * ap[c],
                   cnt[c].npos, cnt[c].tp, cnt[c].fp, cnt[c].precision, cnt[c].recall);
        printf("mAP@%.2f = %.2f %%   mAP@[.5:.95] = %.2f %%   (%d images, %d boxes, %d detections; counts at score >= %g)\n",
               iou, 100 * m.map50, 100 * m.map5095, v->n, v->gt.n, dt->n, count_thr);
    }
    free(ap); free(cnt);
    return rc ? -1 : 0;
}

static int cmd_detector_map(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(map_help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet detector map");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    det_infer_opts io = det_infer_defaults();
    double iou = cli_float(&a, "iou", 0.5), count_thr = cli_float(&a, "count_thresh", 0.25);
    io.thresh = (float)cli_float(&a, "thresh", io.thresh);
    io.nms = (float)cli_float(&a, "nms", io.nms);
    io.letterbox = cli_flag(&a, "letterbox");
    int limit = cli_int(&a, "limit", 0);
    if (np < 3) return cli_usage_error(map_help);
    if (cli_check_unused(&a)) return 2;
    if (iou <= 0 || iou > 1) return cli_fail("-iou must be in (0, 1], got %g", iou);
    io.progress = 1;
    char err[DKMC_ERRLEN];
    data_cfg dc;
    det_valset v = { 0 };
    det_boxes dt = { 0 };
    char **names = NULL;
    host_net *h = NULL;
    int rc = data_cfg_load(pos[0], &dc, err) || det_valset_load(dc.valid, dc.classes, limit, &v, err);
    if (!rc) rc = !(h = host_load_detector(pos[1], 1, err)) || host_load_weights(h, pos[2], err);
    if (!rc && host_det_classes(h) != dc.classes)
        rc = snprintf(err, sizeof err, "%s: classes=%d, but the last layer of %s has classes=%d", pos[0], dc.classes, pos[1],
                      host_det_classes(h)) > 0;
    if (!rc && dc.labels[0]) names = data_read_names(dc.labels, dc.classes, err), rc = !names;
    if (!rc) rc = det_predict_set(h, &v, &io, &dt, err) || print_map(&v, &dt, iou, count_thr, names, err);
    if (names) data_free_names(names, dc.classes);
    host_free(h); det_boxes_free(&dt); det_valset_free(&v);
    return rc ? cli_fail("%s", err) : 0;
}

int cli_detector_is_ours(int argc, char **argv) {
    /* argv: detector <sub> ... */
    if (argc >= 2 && !strcmp(argv[1], "map")) return 1;
    if (argc < 2 || strcmp(argv[1], "train")) return 0;
    if (argc >= 3 && cli_has_help(argc - 1, argv + 1)) return 1;
    char policy[64];
    return argc >= 4 && !cli_net_policy(argv[3], policy, sizeof policy) && (!strcmp(policy, "fge_cyclic") || !strcmp(policy, "sgdr"));
}

int cli_detector_intercept(int argc, char **argv) {
    if (!strcmp(argv[1], "map")) return cmd_detector_map(argc - 1, argv + 1);
    return cli_detector_train(argc - 1, argv + 1);
}
