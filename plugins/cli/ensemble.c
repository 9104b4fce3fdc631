/* ensemble.c: "darknet ensemble" (test NLL and accuracy of each member and of the ensemble as
 * it grows, like the reference's eval_ensemble.py plus NLL), "darknet ensemble predict" (the
 * ensemble's top-k classes for one image, printed like Darknet's "classifier predict") and
 * "darknet swa" (the weight-space mean of networks of one cfg, BN recomputed, saved as an
 * ordinary .weights file). The work is done by fge/ (members.h, ensemble.h, swa.h); for a
 * detector cfg, ensemble, ensemble detect and swa go to cli/ensemble_det.c (detector/). */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ens_run.h"
#include "ensemble.h"
#include "members.h"
#include "run.h"
#include "swa.h"
#include "wspace.h"

static const char *help_ensemble =
    "usage: darknet ensemble <data> <cfg> <member> [<member> ...] [options]\n"
    "       darknet ensemble predict <data> <cfg> <member> [<member> ...] <image> [-top K]\n"
    "       darknet ensemble detect <data> <cfg> <member> [<member> ...] <image> [-out F.png]\n"
    "A member is w.weights (a network of <cfg>) or model.cfg:model.weights (its own cfg; every\n"
    "member must take the data's images and predict its classes). The ensemble's prediction is\n"
    "the mean of the members' softmax probabilities. One row per member, in the order given:\n"
    "its test NLL and accuracy, and those of the ensemble of the members so far.\n"
    "  -bn_update       recompute each member's BN statistics on the training set first\n"
    "                   (default: the stored statistics, as the reference's eval_ensemble.py)\n"
    "  -bn_limit N      ... on its first N training images (implies -bn_update)\n"
    "                   (without it, members that have seen fewer than 299 batches get a\n"
    "                   warning: their statistics may be Darknet's young running averages)\n"
    "  -test_limit N    evaluate on the first N test images\n"
    "  -csv FILE        also write the table as CSV\n"
    "  -pairs FILE      a CSV of every pair of members: the % of test images on which their\n"
    "                   predicted classes differ (disagree) and the distance ||w_a - w_b||\n"
    "                   of their parameters (dist; empty for members of different cfgs)\n";

static const char *help_predict =
    "usage: darknet ensemble predict <data> <cfg> <member> [<member> ...] <image> [-top K]\n"
    "The ensemble's K most probable classes for one image (png, jpg, bmp, pgm/ppm, ...; resized\n"
    "to the networks' input), with the class names of the .data file's labels=/names= file:\n"
    "the mean of the members' softmax probabilities, stored BN statistics. The image is the\n"
    "last argument that is not a member (w.weights or model.cfg:model.weights).\n"
    "  -top K           how many classes (default 5)\n";

static const char *help_swa =
    "usage: darknet swa <data> <cfg> <w1.weights> [<w2.weights> ...] -out avg.weights [options]\n"
    "Stochastic weight averaging: the equal-weight mean of the networks' parameters (all of\n"
    "<cfg>), BN statistics recomputed exactly on the training set, written as an ordinary\n"
    "Darknet .weights file; then the test NLL and accuracy of the average. Meant for\n"
    "snapshots of one run: the mean of independently trained networks is not a good network.\n"
    "  -out FILE        the averaged network (required)\n"
    "  -bn_limit N      BN statistics from the first N training images (default: all)\n"
    "  -members         also evaluate each input, its BN statistics recomputed the same way\n"
    "  -no_test         do not evaluate\n"
    "  -test_limit N    evaluate on the first N test images\n";

static int name_width(char *const *names, int n, int min) {
    int w = min;
    for (int i = 0; i < n; i++) if ((int)strlen(names[i]) > w) w = (int)strlen(names[i]);
    return w;
}

/* " (N more members alike)" after the first young member's warning, or "" */
static const char *young_more_n(int young) {
    static char buf[64];
    buf[0] = 0;
    if (young > 1) snprintf(buf, sizeof buf, " (%d more member%s alike)", young - 1, young == 2 ? "" : "s");
    return buf;
}

static int cmd_ensemble_predict(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_predict, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet ensemble predict");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    int top = cli_int(&a, "top", 5);
    if (cli_check_unused(&a)) { free(pos); return 2; }
    if (np < 4) { free(pos); return cli_usage_error(help_predict); }
    /* the image: the last positional that is not a member; the others are the members */
    int img = -1, nm = 0;
    for (int i = np - 1; i >= 2 && img < 0; i--) if (!ens_is_member_arg(pos[i])) img = i;
    if (img < 0) { free(pos); return cli_fail("no image given: every argument after the cfg is a member (.weights or cfg:weights)"); }
    const char *datafile = pos[0], *image = pos[img];
    ens_predict_job j = { pos[1], pos, 0, image, top, 0 };
    for (int i = 2; i < np; i++) if (i != img) pos[nm++] = pos[i];   /* members, in order */
    if (top < 1) { free(pos); return cli_fail("-top must be at least 1, got %d", top); }
    char err[DKMC_ERRLEN];
    data_cfg dc;
    if (data_cfg_load(datafile, &dc, err)) { free(pos); return cli_fail("%s", err); }
    int rc = 1;
    char **names = dc.labels[0] ? data_read_names(dc.labels, dc.classes, err) : NULL;
    ens_prediction r = { 0 };
    j.n = nm; j.classes = dc.classes;
    if (dc.labels[0] && !names) { cli_fail("%s", err); goto done; }
    if (nm < 1) { cli_fail("no members given before the image %s", image); goto done; }
    if (ens_predict_run(&j, &r, err)) { cli_fail("%s", err); goto done; }
    fprintf(stderr, "%s: predicted by %d member%s in %.3f seconds\n", image, r.members, r.members == 1 ? "" : "s", r.seconds);
    if (r.young)
        fprintf(stderr, "ensemble predict: warning: %s%s; 'darknet swa <data> <cfg> <w.weights> -out <copy.weights>' writes "
                "a copy with exact ones\n", r.young_note, young_more_n(r.young));
    for (int i = 0; i < r.k; i++) {
        if (names) printf("%5.2f%%: %s\n", 100.0 * r.p[r.idx[i]], names[r.idx[i]]);
        else printf("%5.2f%%: class %d\n", 100.0 * r.p[r.idx[i]], r.idx[i]);
    }
    rc = 0;
done:
    ens_prediction_free(&r);
    data_free_names(names, dc.classes);
    free(pos);
    return rc;
}

/* ---- printing the ensemble's table ---- */
typedef struct { int n, fw, bn; const dataset *te; } ens_print;

static void ens_print_start(void *ctx, const ens_members *m) {
    ens_print *c = ctx;
    fprintf(stderr, "ensemble: %d member%s, test on %d images, BN statistics %s\n", c->n, c->n == 1 ? "" : "s", c->te->n,
            c->bn ? "recomputed on the training set" : "as stored");
    if (!c->bn && m->young)
        fprintf(stderr, "ensemble: warning: %s%s; -bn_update recomputes them\n", m->young_note, young_more_n(m->young));
    printf("%3s %-*s %10s %9s %10s %9s\n", "#", c->fw, "file", "nll", "acc", "ens_nll", "ens_acc");
}
static void ens_print_row(void *ctx, const ens_row *r) {
    ens_print *c = ctx;
    printf("%3d %-*s %10.4f %9.2f %10.4f %9.2f\n", r->i, c->fw, r->file, r->member.nll, r->member.acc, r->ensemble.nll, r->ensemble.acc);
    fflush(stdout);
}
static void ens_print_done(void *ctx, const ens_summary *s) {
    ens_print *c = ctx;
    printf("\nensemble of %d: test nll %.4f, acc %.2f %% (members: mean nll %.4f, mean acc %.2f %%, best acc %.2f %%)\n",
           c->n, s->ensemble.nll, s->ensemble.acc, s->mean_nll, s->mean_acc, s->best_acc);
    if (s->pairs)
        printf("pairs: %d, mean disagreement %.2f %% of the test images, mean distance %.4g\n", s->pairs, s->mean_disagree,
               s->mean_dist);
}

int cmd_ensemble(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "predict")) return cmd_ensemble_predict(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "detect")) return cmd_ensemble_detect(argc - 1, argv + 1);
    if (cli_has_help(argc, argv)) { fputs(help_ensemble, stdout); fputs(cli_help_ensemble_det, stdout); return 0; }
    if (cli_is_detector_args(argc, argv)) return cmd_ensemble_det(argc, argv);
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet ensemble");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    int bn = cli_flag(&a, "bn_update"), bn_limit = cli_int(&a, "bn_limit", 0);
    int test_limit = cli_int(&a, "test_limit", 0);
    const char *csv_path = cli_str(&a, "csv", NULL), *pairs_path = cli_str(&a, "pairs", NULL);
    if (cli_check_unused(&a)) { free(pos); return 2; }
    if (np < 3) { free(pos); return cli_usage_error(help_ensemble); }
    if (bn_limit > 0) bn = 1;
    ens_job j = { pos[1], pos + 2, np - 2, bn, bn_limit, csv_path, pairs_path };
    char err[DKMC_ERRLEN];
    dataset tr = { 0 }, te = { 0 };
    data_cfg dc;
    int rc = 1;
    if (cli_load_split(pos[0], 1, test_limit, &te, &dc)) goto done;
    if (bn && cli_load_split(pos[0], 0, bn_limit, &tr, &dc)) goto done;
    ens_print c = { j.n, name_width(j.members, j.n, 4), bn, &te };
    ens_report rep = { ens_print_start, ens_print_row, ens_print_done, &c };
    if (ens_eval_run(&j, &tr, &te, &rep, err)) { cli_fail("%s", err); goto done; }
    if (csv_path) fprintf(stderr, "wrote %s\n", csv_path);
    if (pairs_path) fprintf(stderr, "wrote %s\n", pairs_path);
    rc = 0;
done:
    data_free(&tr); data_free(&te);
    free(pos);
    return rc;
}

/* ---- printing swa's table ---- */
typedef struct { int fw, no_test, n; } swa_print;

static void swa_print_start(void *ctx) {
    swa_print *c = ctx;
    if (!c->no_test) printf("%-*s %10s %9s\n", c->fw, "network", "nll", "acc");
}
static void swa_print_row(void *ctx, const char *name, eval_result r) {
    swa_print *c = ctx;
    printf("%-*s %10.4f %9.2f\n", c->fw, name, r.nll, r.acc);
    fflush(stdout);
}
static void swa_print_saved(void *ctx, const char *out, int images) {
    swa_print *c = ctx;
    fprintf(stderr, "swa: the mean of %d network%s, BN statistics from %d training images, wrote %s\n", c->n, c->n == 1 ? "" : "s", images, out);
}

int cmd_swa(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_swa, stdout); fputs(cli_help_swa_det, stdout); return 0; }
    if (cli_is_detector_args(argc, argv)) return cmd_swa_det(argc, argv);
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet swa");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    swa_job j = { 0 };
    j.out = cli_str(&a, "out", NULL);
    int bn_limit = cli_int(&a, "bn_limit", 0);
    j.no_test = cli_flag(&a, "no_test");
    int test_limit = cli_int(&a, "test_limit", 0);
    j.members = cli_flag(&a, "members");
    if (cli_check_unused(&a)) { free(pos); return 2; }
    if (np < 3) { free(pos); return cli_usage_error(help_swa); }
    j.n = np - 2;
    j.files = pos + 2;
    dataset tr = { 0 }, te = { 0 };
    data_cfg dc;
    host_net *h = NULL;
    char err[DKMC_ERRLEN];
    int rc = 1;
    if (!j.out) { cli_fail("swa needs -out FILE (where the averaged network goes)"); goto done; }
    for (int i = 0; i < j.n; i++)
        if (strstr(j.files[i], ".cfg:")) { cli_fail("%s: swa averages networks of one cfg (%s): give plain weights files", j.files[i], pos[1]); goto done; }
    if (cli_check_writable(j.out)) goto done;
    if (cli_load_split(pos[0], 0, bn_limit, &tr, &dc)) goto done;
    if (!j.no_test && cli_load_split(pos[0], 1, test_limit, &te, &dc)) goto done;
    if (!(h = cli_load_net(pos[1], NULL, &tr, 0))) goto done;
    swa_print c = { name_width(j.files, j.n, 4), j.no_test, j.n };
    swa_report rep = { swa_print_start, swa_print_row, swa_print_saved, &c };
    if (swa_run(&j, h, &tr, &te, &rep, err)) { cli_fail("%s", err); goto done; }
    rc = 0;
done:
    host_free(h);
    data_free(&tr); data_free(&te);
    free(pos);
    return rc;
}
