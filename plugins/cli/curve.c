/* curve.c: "darknet curve train | eval | line | export". */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "curve.h"
#include "curve_train.h"
#include "dist.h"
#include "run.h"
#include "wspace.h"

static const char *help =
    "usage: darknet curve <train|eval|line|export> ... (each prints its help with -h)\n"
    "  curve train  <data> <cfg> <start.weights> <end.weights> [options]\n"
    "  curve eval   <data> <cfg> <run.curve> [options]\n"
    "  curve line   <data> <cfg> <a.weights> <b.weights> [options]\n"
    "  curve export <data> <cfg> <run.curve> -t T -out point.weights\n"
    "A detector cfg (last layer [yolo]/[region]) takes a detection .data (train=/valid= lists):\n"
    "training on the library's detection batches (the cfg's augmentation), evaluation of the\n"
    "training detection loss and mAP@0.5, mAP@[.5:.95] on the valid list (-test_limit N).\n";

static const char *help_train =
    "usage: darknet curve train <data> <cfg> <start.weights> <end.weights> [options]\n"
    "Trains the middle bends of a curve between two networks of the same cfg so that the\n"
    "loss stays low along it: one t ~ U(0,1) per mini-batch, SGD with momentum per free bend.\n"
    "  -curve bezier|polychain   curve type (default bezier)\n"
    "  -bends K          bends including the end points (default 3)\n"
    "  -epochs N         epochs (default 5)\n"
    "  -lr X             base learning rate (default: the cfg's learning_rate)\n"
    "  -momentum X       (default: the cfg's momentum)\n"
    "  -decay X          weight decay on w(t) (default: the cfg's decay)\n"
    "  -decay_all        decay biases and BN scales too (the reference code's choice);\n"
    "                    default: conv/connected weights only, as Darknet decays\n"
    "  -schedule S       reference (default: constant to 50%, linear to 1% at 90%) or cfg\n"
    "  -free_start, -free_end   let the end points move too\n"
    "  -seed S           seed for t, shuffling and augmentation (default 1)\n"
    "  -limit N          train on the first N images only\n"
    "  -out FILE         curve file (default <backup>/curve.curve)\n"
    "  -save_every N     checkpoint every N epochs (default 1)\n"
    "  -resume FILE      continue a run from its checkpoint (same data and cfg)\n";

static const char *help_eval =
    "usage: darknet curve eval <data> <cfg> <run.curve> [options]\n"
    "At each of N points t in [0,1]: set w(t), recompute BN statistics on the training set,\n"
    "then train loss (with and without the l2 term), train error, test NLL, test error.\n"
    "  -points N         number of points (default 61)\n"
    "  -bn_limit N       BN statistics from the first N training images (default: all)\n"
    "  -train_limit N    train metrics on the first N training images (default: all; 0 = all)\n"
    "  -no_train         skip the train metrics\n"
    "  -test_limit N     test metrics on the first N test images\n"
    "  -decay X          wd of the reported train loss (default: the curve's)\n"
    "  -line             also evaluate the straight line between the end points\n"
    "  -csv FILE         write the table as CSV\n"
    "  -png FILE         plot test error and train loss against t\n";

static const char *help_line =
    "usage: darknet curve line <data> <cfg> <a.weights> <b.weights> [options]\n"
    "The same table as 'curve eval' along the straight segment (1-t) a + t b, with BN\n"
    "statistics recomputed at every point. Options as 'curve eval' (but -line).\n";

static const char *help_export =
    "usage: darknet curve export <data> <cfg> <run.curve> -t T -out point.weights [options]\n"
    "Writes w(T) as an ordinary Darknet .weights file, with BN statistics recomputed on the\n"
    "training set (-bn_limit N: its first N images).\n";

/* ---- shared pieces ---- */
static void print_resumed(void *ctx, const char *path, const curve *cv) {
    (void)ctx;
    fprintf(stderr, "curve: resuming %s at epoch %u of %u\n", path, cv->epoch, cv->epochs);
}

static void print_train_start(void *ctx, const curve *cv, const char *out, int images) {
    (void)ctx; (void)out;
    fprintf(stderr, "curve: %s, %d bends (%s%s), %zu parameters per bend, %d images, %u epochs, lr %g (%s), momentum %g, decay %g (%s)\n",
            curve_type_name(cv->type), cv->k, (cv->flags & CURVE_FIX_START) ? "start fixed" : "start free",
            (cv->flags & CURVE_FIX_END) ? ", end fixed" : ", end free", cv->n, images, cv->epochs, cv->lr,
            cv->schedule ? "cfg policy" : "reference schedule", cv->mom, cv->decay,
            (cv->flags & CURVE_DECAY_ALL) ? "all parameters" : "weights only");
}

static int cmd_curve_train(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_train, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet curve train");
    char *pos[4];
    int np = cli_positionals(&a, pos, 4);
    curve_train_job j = { 0 };
    const char *type_s = cli_str(&a, "curve", "bezier");
    j.bends = cli_int(&a, "bends", 3); j.epochs = cli_int(&a, "epochs", 0); j.seed = cli_int(&a, "seed", 1);
    j.lr = cli_float(&a, "lr", -1); j.mom = cli_float(&a, "momentum", -1); j.decay = cli_float(&a, "decay", -1);
    j.decay_all = cli_flag(&a, "decay_all");
    const char *sched = cli_str(&a, "schedule", "reference");
    j.free_start = cli_flag(&a, "free_start"); j.free_end = cli_flag(&a, "free_end");
    int limit = cli_int(&a, "limit", 0);
    j.save_every = cli_int(&a, "save_every", 1);
    j.out = cli_str(&a, "out", NULL); j.resume = cli_str(&a, "resume", NULL);
    j.stop_after = cli_int(&a, "stop_after", 0);   /* for tests: simulate an interruption */
    if (cli_check_unused(&a)) return 2;
    if (np < (j.resume ? 2 : 4)) { return cli_usage_error(help_train); }
    if (curve_parse_type(type_s, &j.type)) return cli_fail("-curve must be bezier or polychain, got '%s'", type_s);
    if (j.bends < 2 || j.bends > CURVE_MAX_BENDS) return cli_fail("-bends must be between 2 and %d, got %d", CURVE_MAX_BENDS, j.bends);
    if (strcmp(sched, "reference") && strcmp(sched, "cfg")) return cli_fail("-schedule must be reference or cfg, got '%s'", sched);
    j.schedule_cfg = !strcmp(sched, "cfg");
    j.cfg = pos[1];
    if (!j.resume) { j.start = pos[2]; j.end = pos[3]; }
    j.table = stdout;

    dataset tr = {0};
    data_cfg dc;
    if (cli_load_split(pos[0], 0, limit, &tr, &dc)) return 1;
    j.backup = dc.backup;
    host_net *h = cli_shard_net(cli_load_net(pos[1], NULL, &tr, 0), pos[1], NULL, &tr, 0, 0);
    if (!h) { data_free(&tr); return 1; }
    if (host_cfg_adam(h))
        fprintf(stderr, "darknet curve train: %s has adam=1; curve training uses the reference's SGD with momentum (adam is ignored)\n", pos[1]);
    char err[DKMC_ERRLEN];
    curve_train_report rep = { print_resumed, print_train_start, NULL };
    int rc = curve_train_run(&j, h, &tr, &rep, err) ? cli_fail("%s", err) : 0;
    host_free(h);
    data_free(&tr);
    return rc;
}

/* ---- evaluation tables ---- */

static void print_header(void) {
    printf("%-8s %6s %10s %10s %9s %10s %9s\n", "path", "t", "tr_loss", "tr_nll", "tr_err", "te_nll", "te_err");
}
static void print_row(void *ctx, const char *path, const curve_eval_row *r) {
    (void)ctx;
    printf("%-8s %6.3f %10.4f %10.4f %9.2f %10.4f %9.2f\n", path, r->t, r->tr_loss, r->tr_nll, r->tr_err, r->te_nll, r->te_err);
    fflush(stdout);
}

static void print_summary(const char *name, const curve_eval_row *rows, int n) {
    double len = 0;
    for (int i = 1; i < n; i++) len += rows[i].dl;
    printf("\n%s: length %.4f (sum of ||w(t_i) - w(t_i-1)||)\n", name, len);
    printf("%-22s %9s %9s %9s %9s %9s %9s\n", "", "start", "end", "min", "max", "avg", "int");
    struct { const char *label; size_t off; } f[] = {
        { "train loss (with l2)", offsetof(curve_eval_row, tr_loss) },
        { "train nll", offsetof(curve_eval_row, tr_nll) },
        { "train error (%)", offsetof(curve_eval_row, tr_err) },
        { "test nll", offsetof(curve_eval_row, te_nll) },
        { "test error (%)", offsetof(curve_eval_row, te_err) },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        curve_stat s = curve_stats(rows, n, f[i].off);
        printf("%-22s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", f[i].label, s.start, s.end, s.min, s.max, s.avg, s.integral);
    }
    fflush(stdout);
}

typedef struct {
    int points, bn_limit, train_limit, no_train, test_limit, line;
    double decay;
    const char *csv, *png;
} eval_flags;

static void read_eval_flags(cli_args *a, eval_flags *e, int allow_line) {
    e->points = cli_int(a, "points", 61);
    e->bn_limit = cli_int(a, "bn_limit", 0);
    e->train_limit = cli_int(a, "train_limit", 0);
    e->no_train = cli_flag(a, "no_train");
    e->test_limit = cli_int(a, "test_limit", 0);
    e->decay = cli_float(a, "decay", -1);
    e->line = allow_line ? cli_flag(a, "line") : 0;
    e->csv = cli_str(a, "csv", NULL);
    e->png = cli_str(a, "png", NULL);
}

/* Evaluate a curve (and optionally the line between its end points), print, write files. */
static int evaluate_and_report(curve *cv, const char *cname, host_net *h, const dataset *tr, const dataset *te, const eval_flags *e) {
    if (e->points < 2 || e->points > 100001) return cli_fail("-points must be at least 2, got %d", e->points);
    if (e->png && cli_check_picture(e->png)) return 1;
    if (e->csv && cli_check_writable(e->csv)) return 1;
    curve_eval_row *rows = calloc(e->points, sizeof *rows), *lrows = e->line ? calloc(e->points, sizeof *lrows) : NULL;
    if (!rows || (e->line && !lrows)) { free(rows); free(lrows); return cli_fail("out of memory for %d points", e->points); }
    curve_run_opts o = { { e->points, e->bn_limit, e->no_train ? -1 : e->train_limit, e->decay >= 0 ? (float)e->decay : cv->decay,
                           0, 1, NULL, NULL }, e->line, cname, e->csv, print_row, NULL };
    char bn_desc[64], err[DKMC_ERRLEN];
    if (e->bn_limit > 0 && e->bn_limit <= tr->n) snprintf(bn_desc, sizeof bn_desc, "the first %d", e->bn_limit);
    else snprintf(bn_desc, sizeof bn_desc, "all %d", tr->n);
    fprintf(stderr, "eval: %d points, BN statistics from %s training images, train metrics on %d, test on %d images\n",
            e->points, bn_desc, e->no_train ? 0 : (e->train_limit > 0 && e->train_limit < tr->n ? e->train_limit : tr->n), te->n);
    print_header();
    int rc = 0;
    if (curve_eval_run(cv, h, tr, te, &o, rows, lrows, err)) { rc = cli_fail("%s", err); goto out; }
    if (!dist_is_root()) goto out;   /* under mpirun: rank 0 has every row and writes the files */
    print_summary(cname, rows, e->points);
    if (lrows) print_summary("line", lrows, e->points);
    if (e->csv) fprintf(stderr, "wrote %s\n", e->csv);
    if (e->png && curve_draw(e->png, rows, cname, lrows, e->points, err)) rc = cli_fail("%s", err);
    else if (e->png) fprintf(stderr, "wrote %s\n", e->png);
out:
    free(rows); free(lrows);
    return rc;
}

static int load_eval_data(const char *datafile, const eval_flags *e, dataset *tr, dataset *te) {
    data_cfg dc;
    int need = e->bn_limit > 0 && e->no_train ? e->bn_limit : 0;
    if (e->bn_limit > 0 && e->train_limit > 0 && !e->no_train) need = e->bn_limit > e->train_limit ? e->bn_limit : e->train_limit;
    if (cli_load_split(datafile, 0, need, tr, &dc)) return 1;
    if (cli_load_split(datafile, 1, e->test_limit, te, &dc)) { data_free(tr); return 1; }
    return 0;
}

static int cmd_curve_eval(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_eval, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet curve eval");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    eval_flags e;
    read_eval_flags(&a, &e, 1);
    if (cli_check_unused(&a)) return 2;
    if (np < 3) { return cli_usage_error(help_eval); }
    curve cv;
    char err[DKMC_ERRLEN];
    if (curve_load(&cv, pos[2], err)) return cli_fail("%s", err);
    dataset tr = {0}, te = {0};
    if (load_eval_data(pos[0], &e, &tr, &te)) { curve_free(&cv); return 1; }
    host_net *h = cli_load_net(pos[1], NULL, &te, 0);
    int rc = 1;
    if (h && curve_check_fits(&cv, h, pos[2], pos[1], err)) cli_fail("%s", err);
    else if (h) {
        char name[32];
        snprintf(name, sizeof name, "%s", curve_type_name(cv.type));
        rc = evaluate_and_report(&cv, name, h, &tr, &te, &e);
    }
    host_free(h); curve_free(&cv); data_free(&tr); data_free(&te);
    return rc;
}

static int cmd_curve_line(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_line, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet curve line");
    char *pos[4];
    int np = cli_positionals(&a, pos, 4);
    eval_flags e;
    read_eval_flags(&a, &e, 0);
    if (cli_check_unused(&a)) return 2;
    if (np < 4) { return cli_usage_error(help_line); }
    dataset tr = {0}, te = {0};
    if (load_eval_data(pos[0], &e, &tr, &te)) return 1;
    host_net *h = cli_load_net(pos[1], NULL, &te, 0);
    int rc = 1;
    curve line;
    char err[DKMC_ERRLEN];
    if (h && curve_line_between(&line, h, pos[2], pos[3], err)) cli_fail("%s", err);
    else if (h) {
        rc = evaluate_and_report(&line, "line", h, &tr, &te, &e);
        curve_free(&line);
    }
    host_free(h); data_free(&tr); data_free(&te);
    return rc;
}

static int cmd_curve_export(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help_export, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet curve export");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    int has_t = cli_str(&a, "t", NULL) != NULL;   /* given at all (any value is checked below) */
    double t = cli_float(&a, "t", 0);
    const char *out = cli_str(&a, "out", NULL);
    int bn_limit = cli_int(&a, "bn_limit", 0);
    if (cli_check_unused(&a)) return 2;
    if (np < 3 || !out || !has_t) { return cli_usage_error(help_export); }
    if (!(t >= 0 && t <= 1)) return cli_fail("-t must be in [0, 1], got %g", t);
    if (cli_check_writable(out)) return 1;
    curve cv;
    char err[DKMC_ERRLEN];
    if (curve_load(&cv, pos[2], err)) return cli_fail("%s", err);
    dataset tr = {0};
    data_cfg dc;
    if (cli_load_split(pos[0], 0, bn_limit, &tr, &dc)) { curve_free(&cv); return 1; }
    host_net *h = cli_load_net(pos[1], NULL, &tr, 0);
    curve_export_job j = { pos[2], pos[1], t, out };
    int rc = 1;
    if (h && curve_export_run(&cv, h, &j, &tr, err)) cli_fail("%s", err);
    else if (h) { fprintf(stderr, "wrote w(%g) to %s\n", t, out); rc = 0; }
    host_free(h); curve_free(&cv); data_free(&tr);
    return rc;
}

int cmd_curve(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { if (argc < 2) return cli_usage_error(help); fputs(help, stdout); return 0; }
    const char *sub = argv[1];
    int known = !strcmp(sub, "train") || !strcmp(sub, "eval") || !strcmp(sub, "line") || !strcmp(sub, "export");
    if (known && argc >= 4 && !cli_has_help(argc - 1, argv + 1) && det_cfg_is_detector(argv[3])) return cli_dcurve(argc - 1, argv + 1);
    if (!strcmp(sub, "train")) return cmd_curve_train(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return cmd_curve_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "line")) return cmd_curve_line(argc - 1, argv + 1);
    if (!strcmp(sub, "export")) return cmd_curve_export(argc - 1, argv + 1);
    fprintf(stderr, "darknet curve: unknown subcommand '%s' (train, eval, line or export)\n", sub);
    return 2;
}
