/* ensemble.c: "darknet ensemble" (test NLL and accuracy of each member and of the ensemble as
 * it grows, like the reference's eval_ensemble.py plus NLL), "darknet ensemble predict" (the
 * ensemble's top-k classes for one image, printed like Darknet's "classifier predict") and
 * "darknet swa" (the weight-space mean of networks of one cfg, BN recomputed, saved as an
 * ordinary .weights file). The work is done by fge/ (members.h, ensemble.h, swa.h). */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ensemble.h"
#include "members.h"
#include "run.h"
#include "swa.h"
#include "wspace.h"

static const char *help_ensemble =
    "usage: darknet ensemble <data> <cfg> <member> [<member> ...] [options]\n"
    "       darknet ensemble predict <data> <cfg> <member> [<member> ...] <image> [-top K]\n"
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
    "  -csv FILE        also write the table as CSV\n";

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

/* A CSV field: as is, or quoted (quotes doubled) when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) { if (*s == '"') fputc('"', f); fputc(*s, f); }
    fputc('"', f);
}

/* " (N more members alike)" after the first young member's warning, or "" */
static const char *young_more(const ens_members *m) {
    static char buf[64];
    buf[0] = 0;
    if (m->young > 1) snprintf(buf, sizeof buf, " (%d more member%s alike)", m->young - 1, m->young == 2 ? "" : "s");
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
    const char *datafile = pos[0], *cfg = pos[1], *image = pos[img];
    for (int i = 2; i < np; i++) if (i != img) pos[nm++] = pos[i];   /* members, in order */
    if (top < 1) { free(pos); return cli_fail("-top must be at least 1, got %d", top); }
    char err[DKMC_ERRLEN];
    data_cfg dc;
    if (data_cfg_load(datafile, &dc, err)) { free(pos); return cli_fail("%s", err); }
    int rc = 1;
    char **names = dc.labels[0] ? data_read_names(dc.labels, dc.classes, err) : NULL;
    float *x = NULL, *p = NULL;
    int *idx = NULL;
    ens_members m = { 0 };
    if (dc.labels[0] && !names) { cli_fail("%s", err); goto done; }
    if (nm < 1) { cli_fail("no members given before the image %s", image); goto done; }
    if (ens_members_open(&m, cfg, pos, nm, 1, 0, 0, 0, dc.classes, err)) { cli_fail("%s", err); goto done; }

    x = malloc((size_t)m.w * m.h * m.c * sizeof *x);
    p = malloc((size_t)m.classes * sizeof *p);
    idx = malloc((size_t)m.classes * sizeof *idx);
    if (!x || !p || !idx) { cli_fail("out of memory"); goto done; }
    if (data_load_image(image, m.w, m.h, m.c, x, err)) { cli_fail("%s", err); goto done; }
    double t0 = dkmc_now();
    if (ens_members_predict(&m, x, p, err)) { cli_fail("%s", err); goto done; }
    fprintf(stderr, "%s: predicted by %d member%s in %.3f seconds\n", image, m.n, m.n == 1 ? "" : "s", dkmc_now() - t0);
    if (m.young)
        fprintf(stderr, "ensemble predict: warning: %s%s; 'darknet swa <data> <cfg> <w.weights> -out <copy.weights>' writes "
                "a copy with exact ones\n", m.young_note, young_more(&m));
    int k = ens_top_k(p, m.classes, top, idx);
    for (int i = 0; i < k; i++) {
        if (names) printf("%5.2f%%: %s\n", 100.0 * p[idx[i]], names[idx[i]]);
        else printf("%5.2f%%: class %d\n", 100.0 * p[idx[i]], idx[i]);
    }
    rc = 0;
done:
    ens_members_free(&m);
    data_free_names(names, dc.classes);
    free(x); free(p); free(idx); free(pos);
    return rc;
}

int cmd_ensemble(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "predict")) return cmd_ensemble_predict(argc - 1, argv + 1);
    if (cli_has_help(argc, argv)) { fputs(help_ensemble, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet ensemble");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    int bn = cli_flag(&a, "bn_update"), bn_limit = cli_int(&a, "bn_limit", 0);
    int test_limit = cli_int(&a, "test_limit", 0);
    const char *csv_path = cli_str(&a, "csv", NULL);
    if (cli_check_unused(&a)) { free(pos); return 2; }
    if (np < 3) { free(pos); return cli_usage_error(help_ensemble); }
    if (bn_limit > 0) bn = 1;
    int n = np - 2;
    char **args = pos + 2;
    char err[DKMC_ERRLEN];
    dataset tr = { 0 }, te = { 0 };
    data_cfg dc;
    ens_members m = { 0 };
    ens_acc acc = { 0 };
    ws_atomic csv = { 0 };
    float *probs = NULL;
    int rc = 1;
    if (cli_load_split(pos[0], 1, test_limit, &te, &dc)) goto done;
    if (bn && cli_load_split(pos[0], 0, bn_limit, &tr, &dc)) goto done;
    if (ens_members_open(&m, pos[1], args, n, 0, te.w, te.h, te.c, te.classes, err)) { cli_fail("%s", err); goto done; }
    probs = malloc((size_t)te.n * te.classes * sizeof *probs + 1);
    if (!probs || ens_init(&acc, te.n, te.classes)) { cli_fail("out of memory for %d x %d probabilities", te.n, te.classes); goto done; }
    if (csv_path) {
        if (ws_atomic_open(&csv, csv_path, err)) { cli_fail("%s", err); goto done; }
        fprintf(csv.fp, "member,file,nll,acc,ens_nll,ens_acc\n");
    }
    fprintf(stderr, "ensemble: %d member%s, test on %d images, BN statistics %s\n", n, n == 1 ? "" : "s", te.n,
            bn ? "recomputed on the training set" : "as stored");

    if (!bn && m.young)
        fprintf(stderr, "ensemble: warning: %s%s; -bn_update recomputes them\n", m.young_note, young_more(&m));
    int fw = name_width(args, n, 4);
    printf("%3s %-*s %10s %9s %10s %9s\n", "#", fw, "file", "nll", "acc", "ens_nll", "ens_acc");
    double best = -1, sum_acc = 0, sum_nll = 0;
    eval_result e = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        host_net *h = ens_members_load(&m, i, err);
        if (!h) { cli_fail("%s", err); goto done; }
        if (bn) run_bn_update(h, &tr, bn_limit, "bn");
        eval_result r = run_eval(h, &te, probs, "test");
        ens_add(&acc, probs);
        e = ens_eval(&acc, te.labels);
        printf("%3d %-*s %10.4f %9.2f %10.4f %9.2f\n", i + 1, fw, args[i], r.nll, r.acc, e.nll, e.acc);
        fflush(stdout);
        if (csv.fp) {
            fprintf(csv.fp, "%d,", i + 1);
            csv_field(csv.fp, args[i]);
            fprintf(csv.fp, ",%.6f,%.4f,%.6f,%.4f\n", r.nll, r.acc, e.nll, e.acc);
        }
        if (r.acc > best) best = r.acc;
        sum_acc += r.acc; sum_nll += r.nll;
    }
    printf("\nensemble of %d: test nll %.4f, acc %.2f %% (members: mean nll %.4f, mean acc %.2f %%, best acc %.2f %%)\n",
           n, e.nll, e.acc, sum_nll / n, sum_acc / n, best);
    if (csv.fp) {
        if (ws_atomic_commit(&csv, err)) { cli_fail("%s", err); goto done; }
        fprintf(stderr, "wrote %s\n", csv_path);
    }
    rc = 0;
done:
    if (csv.fp) ws_atomic_abort(&csv);
    ens_free(&acc);
    free(probs);
    ens_members_free(&m);
    data_free(&tr); data_free(&te);
    free(pos);
    return rc;
}

int cmd_swa(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_swa, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet swa");
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return cli_fail("out of memory");
    int np = cli_positionals(&a, pos, argc);
    const char *out = cli_str(&a, "out", NULL);
    int bn_limit = cli_int(&a, "bn_limit", 0), no_test = cli_flag(&a, "no_test");
    int test_limit = cli_int(&a, "test_limit", 0), members = cli_flag(&a, "members");
    if (cli_check_unused(&a)) { free(pos); return 2; }
    if (np < 3) { free(pos); return cli_usage_error(help_swa); }
    int n = np - 2;
    char **args = pos + 2;
    dataset tr = { 0 }, te = { 0 };
    data_cfg dc;
    host_net *h = NULL;
    char err[DKMC_ERRLEN];
    int rc = 1;
    if (!out) { cli_fail("swa needs -out FILE (where the averaged network goes)"); goto done; }
    for (int i = 0; i < n; i++)
        if (strstr(args[i], ".cfg:")) { cli_fail("%s: swa averages networks of one cfg (%s): give plain weights files", args[i], pos[1]); goto done; }
    if (cli_check_writable(out)) goto done;
    if (cli_load_split(pos[0], 0, bn_limit, &tr, &dc)) goto done;
    if (!no_test && cli_load_split(pos[0], 1, test_limit, &te, &dc)) goto done;
    if (!(h = cli_load_net(pos[1], NULL, &tr, 0))) goto done;
    /* every file's size first, so that a bad one fails before any BN pass */
    for (int i = 0; i < n; i++)
        if (host_load_weights(h, args[i], err)) { cli_fail("%s", err); goto done; }
    int fw = name_width(args, n, 4);
    if (!no_test) printf("%-*s %10s %9s\n", fw, "network", "nll", "acc");
    for (int i = 0; members && !no_test && i < n; i++) {
        if (host_load_weights(h, args[i], err)) { cli_fail("%s", err); goto done; }
        run_bn_update(h, &tr, 0, "bn");
        eval_result r = run_eval(h, &te, NULL, "test");
        printf("%-*s %10.4f %9.2f\n", fw, args[i], r.nll, r.acc);
        fflush(stdout);
    }
    if (swa_average(h, args, n, err)) { cli_fail("%s", err); goto done; }
    run_bn_update(h, &tr, 0, "bn");
    if (host_save_weights(h, out, err)) { cli_fail("%s", err); goto done; }
    fprintf(stderr, "swa: the mean of %d network%s, BN statistics from %d training images, wrote %s\n", n, n == 1 ? "" : "s", tr.n, out);
    if (!no_test) {
        eval_result r = run_eval(h, &te, NULL, "test");
        printf("%-*s %10.4f %9.2f\n", fw, "swa", r.nll, r.acc);
    }
    rc = 0;
done:
    host_free(h);
    data_free(&tr); data_free(&te);
    free(pos);
    return rc;
}
