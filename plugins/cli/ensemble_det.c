/* ensemble_det.c: "darknet ensemble", "darknet ensemble detect" and "darknet swa" when the
 * cfg (or a member's) is a detector; cli/ensemble.c dispatches here. The work is done by
 * detector/ (det_ens_run, det_ens_detect_run, det_swa_run). */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "detector.h"

#define GLYPHS "/usr/share/darknet/data/labels"

const char *cli_help_ensemble_det =
    "Detectors (the cfg's last layer [yolo], [region] or [detection]):\n"
    "       darknet ensemble <data> <cfg> <member> [<member> ...] [options]\n"
    "Each member's detections on the .data's valid list (Darknet's inference, thresh .005,\n"
    "nms .45), merged by Weighted Boxes Fusion (iou 0.55) or NMS: one row per member, its\n"
    "mAP@0.5 and mAP@[.5:.95] and those of the ensemble of the members so far. Members may\n"
    "have their own cfgs (input sizes) but must detect the .data's classes.\n"
    "  -merge wbf|nms   how detections are merged (default wbf)\n"
    "  -nms_iou X       NMS's IoU threshold (0.5); -wbf_iou X: WBF's (0.55)\n"
    "  -limit N         the first N valid images\n"
    "  -letterbox       letterboxed inference\n"
    "  -csv FILE        also write the table as CSV\n";

static const char *help_detect =
    "usage: darknet ensemble detect <data> <cfg> <member> [<member> ...] <image> [options]\n"
    "The members' detections on one image merged (as darknet ensemble for detectors) and the\n"
    "boxes scoring at least -thresh drawn with the class names of the .data's names=, as\n"
    "Darknet's detector test draws them; the boxes are listed on stdout.\n"
    "  -out FILE        the picture, PNG (default predictions.png)\n"
    "  -thresh X        the score a drawn box needs (0.25)\n"
    "  -merge wbf|nms, -nms_iou X, -wbf_iou X, -letterbox   as for darknet ensemble\n"
    "  -glyphs DIR      Darknet's label glyphs (default " GLYPHS ")\n";

const char *cli_help_swa_det =
    "Detectors: the mean of the files, BN statistics recomputed exactly on the .data's train\n"
    "list (each image resized to the network as Darknet's inference does, no augmentation),\n"
    "saved; then its mAP@0.5 and mAP@[.5:.95] on the valid list.\n"
    "  -out FILE, -bn_limit N, -no_test   as above; -limit N: the first N valid images;\n"
    "  -letterbox       letterboxed images (BN pass and mAP)\n";

int cli_is_detector_args(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        const char *c = strstr(argv[i], ".cfg:");
        size_t l = c ? (size_t)(c - argv[i]) + 4 : strlen(argv[i]);
        if (l < 4 || strncmp(argv[i] + l - 4, ".cfg", 4)) continue;
        char cfg[4096];
        snprintf(cfg, sizeof cfg, "%.*s", (int)l, argv[i]);
        if (det_cfg_is_detector(cfg)) return 1;
    }
    return 0;
}

static int merge_opts(cli_args *a, det_merge *m) {
    const char *kind = cli_str(a, "merge", "wbf");
    double nms_iou = cli_float(a, "nms_iou", 0.5), wbf_iou = cli_float(a, "wbf_iou", DET_WBF_IOU_DEFAULT);
    if (strcmp(kind, "wbf") && strcmp(kind, "nms")) return cli_fail("-merge must be wbf or nms, got '%s'", kind);
    m->kind = strcmp(kind, "nms") ? DET_MERGE_WBF : DET_MERGE_NMS;
    m->iou = m->kind == DET_MERGE_NMS ? nms_iou : wbf_iou;
    if (!(m->iou > 0 && m->iou <= 1)) return cli_fail("-%s_iou must be in (0, 1], got %g", kind, m->iou);
    return 0;
}

/* ---- the table ---- */
typedef struct { int fw; det_merge_kind kind; int n; double sum50, best50; det_metrics last; } det_print;

static void det_start(void *ctx, int members, int images) {
    det_print *c = ctx;
    fprintf(stderr, "ensemble: %d detector%s, valid list of %d images, merged by %s\n", members, members == 1 ? "" : "s", images,
            c->kind == DET_MERGE_NMS ? "NMS" : "Weighted Boxes Fusion");
    printf("%3s %-*s %9s %11s %9s %12s\n", "#", c->fw, "file", "mAP50", "mAP50:95", "ens_mAP50", "ens_mAP50:95");
}
static void det_row(void *ctx, const det_ens_row *r) {
    det_print *c = ctx;
    printf("%3d %-*s %9.2f %11.2f %9.2f %12.2f\n", r->i, c->fw, r->file, 100 * r->member.map50, 100 * r->member.map5095,
           100 * r->ensemble.map50, 100 * r->ensemble.map5095);
    fflush(stdout);
    c->n = r->i;
    c->sum50 += r->member.map50;
    if (r->member.map50 > c->best50) c->best50 = r->member.map50;
    c->last = r->ensemble;
}

int cmd_ensemble_det(int argc, char **argv) {
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet ensemble");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    det_ens_job j = { 0 };
    int bad = merge_opts(&a, &j.merge);
    j.limit = cli_int(&a, "limit", 0);
    j.letterbox = cli_flag(&a, "letterbox");
    j.csv = cli_str(&a, "csv", NULL);
    if (!bad && cli_check_unused(&a)) bad = 2;
    if (!bad && np < 3) bad = cli_usage_error("usage: darknet ensemble <data> <cfg> <member> [<member> ...] [options]");
    j.data = pos[0]; j.cfg = pos[1]; j.members = pos + 2; j.n = np - 2; j.progress = 1;
    int w = 4;
    for (int i = 0; i < j.n; i++) if ((int)strlen(j.members[i]) > w) w = (int)strlen(j.members[i]);
    det_print c = { w, j.merge.kind, 0, 0, 0, { 0, 0 } };
    det_ens_report rep = { det_start, det_row, &c };
    char err[DKMC_ERRLEN];
    if (!bad && det_ens_run(&j, &rep, err)) bad = cli_fail("%s", err);
    if (!bad)
        printf("\nensemble of %d: mAP@0.5 %.2f %%, mAP@[.5:.95] %.2f %% (members: mean mAP@0.5 %.2f %%, best %.2f %%)\n", c.n,
               100 * c.last.map50, 100 * c.last.map5095, 100 * c.sum50 / c.n, 100 * c.best50);
    if (!bad && j.csv) fprintf(stderr, "wrote %s\n", j.csv);
    free(pos);
    return bad;
}

int cmd_ensemble_detect(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_detect, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet ensemble detect");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    det_ens_detect_job j = { 0 };
    int bad = merge_opts(&a, &j.merge);
    j.out = cli_str(&a, "out", "predictions.png");
    j.thresh = (float)cli_float(&a, "thresh", 0.25);
    j.letterbox = cli_flag(&a, "letterbox");
    j.labels_dir = cli_str(&a, "glyphs", GLYPHS);
    if (!bad && cli_check_unused(&a)) bad = 2;
    if (!bad && np < 4) bad = cli_usage_error(help_detect);
    j.data = pos[0]; j.cfg = pos[1]; j.members = pos + 2; j.n = np - 3; j.image = pos[np > 0 ? np - 1 : 0];
    det_ens_detection r = { 0 };
    char err[DKMC_ERRLEN];
    if (!bad && det_ens_detect_run(&j, &r, err)) bad = cli_fail("%s", err);
    for (int i = 0; !bad && i < r.shown.n; i++) {
        const det_box *b = &r.shown.b[i];
        if (r.names) printf("%s: %.0f%%", r.names[b->cls], 100 * b->score);
        else printf("class %d: %.0f%%", b->cls, 100 * b->score);
        printf("   (x %.4f, y %.4f, w %.4f, h %.4f)\n", b->x, b->y, b->w, b->h);
    }
    if (!bad)
        fprintf(stderr, "%s: %d box%s from %d member%s, wrote %s%s\n", j.image, r.shown.n, r.shown.n == 1 ? "" : "es", j.n,
                j.n == 1 ? "" : "s", j.out, r.labeled ? "" : " (no class names: Darknet's glyphs not found; -glyphs DIR)");
    det_ens_detection_free(&r);
    free(pos);
    return bad;
}

static void swa_saved(void *ctx, const char *out, int images) {
    int *n = ctx;
    fprintf(stderr, "swa: the mean of %d network%s, BN statistics from %d training images, wrote %s\n", *n, *n == 1 ? "" : "s",
            images, out);
}
static void swa_row(void *ctx, const char *name, const det_metrics *m) {
    (void)ctx;
    printf("%-8s %9s %11s\n%-8s %9.2f %11.2f\n", "network", "mAP50", "mAP50:95", name, 100 * m->map50, 100 * m->map5095);
}

int cmd_swa_det(int argc, char **argv) {
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet swa");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc), bad = 0;
    det_swa_job j = { 0 };
    j.out = cli_str(&a, "out", NULL);
    j.bn_limit = cli_int(&a, "bn_limit", 0);
    j.limit = cli_int(&a, "limit", 0);
    j.no_test = cli_flag(&a, "no_test");
    j.letterbox = cli_flag(&a, "letterbox");
    if (cli_check_unused(&a)) bad = 2;
    if (!bad && np < 3) bad = cli_usage_error("usage: darknet swa <data> <cfg> <w1.weights> [<w2.weights> ...] -out avg.weights");
    if (!bad && !j.out) bad = cli_fail("swa needs -out FILE (where the averaged network goes)");
    for (int i = 2; !bad && i < np; i++)
        if (strstr(pos[i], ".cfg:")) bad = cli_fail("%s: swa averages networks of one cfg (%s): give plain weights files", pos[i], pos[1]);
    if (!bad && cli_check_writable(j.out)) bad = 1;
    j.data = pos[0]; j.cfg = pos[1]; j.files = pos + 2; j.n = np - 2; j.progress = 1;
    det_swa_report rep = { swa_saved, swa_row, &j.n };
    char err[DKMC_ERRLEN];
    if (!bad && det_swa_run(&j, &rep, err)) bad = cli_fail("%s", err);
    free(pos);
    return bad;
}
