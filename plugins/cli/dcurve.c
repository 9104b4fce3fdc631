/* dcurve.c: "darknet curve train | eval | line | export" with a detector cfg (last layer
 * [yolo], [region] or [detection]): the same options as for classifiers, the work in
 * detector/det_curve.c, the rows here. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "det_curve.h"
#include "plot.h"

static void print_resumed(void *ctx, const char *path, const curve *cv) {
    (void)ctx;
    fprintf(stderr, "curve: resuming %s at epoch %u of %u\n", path, cv->epoch, cv->epochs);
}

static void print_start(void *ctx, const curve *cv, const char *out, int images) {
    (void)ctx;
    fprintf(stderr, "curve: a detector's %s, %d bends, %zu parameters per bend, %d training images (the library's "
            "detection batches with the cfg's augmentation), %u epochs, lr %g (%s), momentum %g, decay %g; -> %s\n",
            curve_type_name(cv->type), cv->k, cv->n, images, cv->epochs, cv->lr, cv->schedule ? "cfg policy" : "reference schedule",
            cv->mom, cv->decay, out);
}

static int dcurve_train(int argc, char **argv) {
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet curve train");
    char *pos[4];
    int np = cli_positionals(&a, pos, 4);
    det_curve_train_job j = { 0 };
    curve_train_job *c = &j.c;
    const char *type_s = cli_str(&a, "curve", "bezier");
    c->bends = cli_int(&a, "bends", 3); c->epochs = cli_int(&a, "epochs", 0); c->seed = cli_int(&a, "seed", 1);
    c->lr = cli_float(&a, "lr", -1); c->mom = cli_float(&a, "momentum", -1); c->decay = cli_float(&a, "decay", -1);
    c->decay_all = cli_flag(&a, "decay_all");
    const char *sched = cli_str(&a, "schedule", "reference");
    c->free_start = cli_flag(&a, "free_start"); c->free_end = cli_flag(&a, "free_end");
    j.limit = cli_int(&a, "limit", 0);
    c->save_every = cli_int(&a, "save_every", 1);
    c->out = cli_str(&a, "out", NULL); c->resume = cli_str(&a, "resume", NULL);
    c->stop_after = cli_int(&a, "stop_after", 0);
    if (cli_check_unused(&a)) return 2;
    if (np < (c->resume ? 2 : 4)) return cli_usage_error("usage: darknet curve train <data> <cfg> <start.weights> <end.weights> [options]");
    if (curve_parse_type(type_s, &c->type)) return cli_fail("-curve must be bezier or polychain, got '%s'", type_s);
    if (c->bends < 2 || c->bends > CURVE_MAX_BENDS) return cli_fail("-bends must be between 2 and %d, got %d", CURVE_MAX_BENDS, c->bends);
    if (strcmp(sched, "reference") && strcmp(sched, "cfg")) return cli_fail("-schedule must be reference or cfg, got '%s'", sched);
    c->schedule_cfg = !strcmp(sched, "cfg");
    j.data = pos[0]; c->cfg = pos[1];
    if (!c->resume) { c->start = pos[2]; c->end = pos[3]; }
    c->table = stdout;
    curve_train_report rep = { print_resumed, print_start, NULL };
    char err[DKMC_ERRLEN];
    return det_curve_train_run(&j, &rep, err) ? cli_fail("%s", err) : 0;
}

/* ---- evaluation tables ---- */
static void print_row(void *ctx, const char *path, const det_curve_row *r) {
    int *header = ctx;
    if (!*header) printf("%-9s %6s %10s %10s %8s %10s\n", "path", "t", "tr_loss", "tr_det", "mAP50", "mAP50:95"), *header = 1;
    printf("%-9s %6.3f %10.4f %10.4f %8.2f %10.2f\n", path, r->t, r->tr_loss, r->tr_det, 100 * r->map50, 100 * r->map5095);
    fflush(stdout);
}

static void print_summary(const char *name, const det_curve_row *rows, int n) {
    double len = 0;
    for (int i = 1; i < n; i++) len += rows[i].dl;
    printf("\n%s: length %.4f (sum of ||w(t_i) - w(t_i-1)||)\n%-24s %9s %9s %9s %9s %9s\n", name, len, "", "start", "end", "min", "max", "mean");
    struct { const char *label; size_t off; double scale; } f[] = {
        { "train loss (with l2)", offsetof(det_curve_row, tr_loss), 1 }, { "train detection loss", offsetof(det_curve_row, tr_det), 1 },
        { "mAP@0.5 (%)", offsetof(det_curve_row, map50), 100 }, { "mAP@[.5:.95] (%)", offsetof(det_curve_row, map5095), 100 } };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        double v[4] = { 0, 0, 1e300, -1e300 }, mean = 0;
        for (int k = 0; k < n; k++) {
            double x = f[i].scale * *(const double *)((const char *)&rows[k] + f[i].off);
            if (x < v[2]) v[2] = x;
            if (x > v[3]) v[3] = x;
            mean += x / n;
        }
        v[0] = f[i].scale * *(const double *)((const char *)&rows[0] + f[i].off);
        v[1] = f[i].scale * *(const double *)((const char *)&rows[n - 1] + f[i].off);
        printf("%-24s %9.4f %9.4f %9.4f %9.4f %9.4f\n", f[i].label, v[0], v[1], v[2], v[3], mean);
    }
    fflush(stdout);
}

/* mAP@0.5 and the training loss against t, the curve solid and the line dashed */
static int write_plot(const char *png, const det_curve_row *cr, const char *cname, const det_curve_row *lr, int n) {
    double *buf = malloc(6 * (size_t)n * sizeof(double));
    if (!buf) return cli_fail("%s: out of memory", png);
    plot_series s[2][2];
    for (int which = 0; which < 2; which++) {
        const det_curve_row *r = which ? lr : cr;
        double *t = buf + 3 * which * n, *m = t + n, *l = m + n;
        for (int i = 0; i < n && r; i++) { t[i] = r[i].t; m[i] = 100 * r[i].map50; l[i] = r[i].tr_loss; }
        for (int p = 0; p < 2; p++)
            s[p][which] = (plot_series){ which ? "straight line" : cname, t, p ? l : m, n, plot_palette(which ? 3 : 0),
                                         which ? PLOT_DASHED : PLOT_SOLID, n <= 21 ? PLOT_CIRCLE : PLOT_NO_MARKER };
    }
    plot_panel p[2] = {
        { .title = "mAP@0.5 on the valid list", .xlabel = "t", .ylabel = "mAP@0.5 (%)", .series = s[0], .nseries = lr ? 2 : 1 },
        { .title = "training loss", .xlabel = "t", .ylabel = "detection loss + l2 per image", .series = s[1], .nseries = lr ? 2 : 1 },
    };
    plot_lines f = { .width = 1200, .height = 480, .cols = 2, .panels = p };
    char err[DKMC_ERRLEN];
    int rc = plot_lines_save(&f, png, err);
    if (rc) cli_fail("%s", err);
    else fprintf(stderr, "wrote %s\n", png);
    free(buf);
    return rc ? 1 : 0;
}

static void read_eval_flags(cli_args *a, det_curve_eval_opts *o, const char **png, int allow_line) {
    memset(o, 0, sizeof *o);
    o->points = cli_int(a, "points", 61);
    o->bn_limit = cli_int(a, "bn_limit", 0);
    o->train_limit = cli_int(a, "train_limit", 0);
    if (cli_flag(a, "no_train")) o->train_limit = -1;
    o->test_limit = cli_int(a, "test_limit", 0);
    o->decay = cli_float(a, "decay", -1);
    o->line = allow_line ? cli_flag(a, "line") : 0;
    o->csv = cli_str(a, "csv", NULL);
    *png = cli_str(a, "png", NULL);
}

static int evaluate_and_report(const curve *cv, const char *cpath, const char *data, const char *cfg, det_curve_eval_opts *o,
                               const char *png) {
    if (o->points < 2 || o->points > 100001) return cli_fail("-points must be at least 2, got %d", o->points);
    if ((png && cli_check_picture(png)) || (o->csv && cli_check_writable(o->csv))) return 1;
    det_curve_row *rows = calloc(o->points, sizeof *rows), *lrows = o->line ? calloc(o->points, sizeof *lrows) : NULL;
    if (!rows || (o->line && !lrows)) { free(rows); free(lrows); return cli_fail("out of memory for %d points", o->points); }
    int header = 0, rc = 0;
    o->row = print_row; o->ctx = &header; o->progress = 0;
    char err[DKMC_ERRLEN];
    if (det_curve_eval_run(cv, cpath, data, cfg, o, rows, lrows, err)) rc = cli_fail("%s", err);
    else {
        print_summary(o->name, rows, o->points);
        if (lrows) print_summary("line", lrows, o->points);
        if (o->csv) fprintf(stderr, "wrote %s\n", o->csv);
        if (png) rc = write_plot(png, rows, o->name, lrows, o->points);
    }
    free(rows); free(lrows);
    return rc;
}

static int dcurve_eval(int argc, char **argv, int line) {
    cli_args a;
    cli_args_init(&a, argc, argv, line ? "darknet curve line" : "darknet curve eval");
    char *pos[4];
    int np = cli_positionals(&a, pos, 4);
    det_curve_eval_opts o;
    const char *png;
    read_eval_flags(&a, &o, &png, !line);
    if (cli_check_unused(&a)) return 2;
    if (np < (line ? 4 : 3))
        return cli_usage_error(line ? "usage: darknet curve line <data> <cfg> <a.weights> <b.weights> [options]"
                                    : "usage: darknet curve eval <data> <cfg> <run.curve> [options]");
    curve cv;
    char err[DKMC_ERRLEN];
    if (line ? det_curve_line(pos[1], pos[2], pos[3], &cv, err) : curve_load(&cv, pos[2], err)) return cli_fail("%s", err);
    o.name = line ? "line" : curve_type_name(cv.type);
    int rc = evaluate_and_report(&cv, pos[2], pos[0], pos[1], &o, png);
    curve_free(&cv);
    return rc;
}

static int dcurve_export(int argc, char **argv) {
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet curve export");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    int has_t = cli_str(&a, "t", NULL) != NULL;
    double t = cli_float(&a, "t", 0);
    const char *out = cli_str(&a, "out", NULL);
    int bn_limit = cli_int(&a, "bn_limit", 0);
    if (cli_check_unused(&a)) return 2;
    if (np < 3 || !out || !has_t) return cli_usage_error("usage: darknet curve export <data> <cfg> <run.curve> -t T -out point.weights [options]");
    if (!(t >= 0 && t <= 1)) return cli_fail("-t must be in [0, 1], got %g", t);
    if (cli_check_writable(out)) return 1;
    curve cv;
    char err[DKMC_ERRLEN];
    if (curve_load(&cv, pos[2], err)) return cli_fail("%s", err);
    int rc = det_curve_export(&cv, pos[2], pos[0], pos[1], t, bn_limit, out, err) ? cli_fail("%s", err) : 0;
    if (!rc) fprintf(stderr, "wrote w(%g) to %s\n", t, out);
    curve_free(&cv);
    return rc;
}

int cli_dcurve(int argc, char **argv) {
    const char *sub = argv[0];
    if (!strcmp(sub, "train")) return dcurve_train(argc, argv);
    if (!strcmp(sub, "eval")) return dcurve_eval(argc, argv, 0);
    if (!strcmp(sub, "line")) return dcurve_eval(argc, argv, 1);
    return dcurve_export(argc, argv);
}
