/* plane.c: "darknet plane": train loss and test error over a grid in a plane of weight
 * space (the plane of a curve's three bends, of any three networks, or of two random
 * filter-normalised directions around one network), with BN statistics recomputed at every
 * grid point; an aligned table, a CSV, two heat-map pictures, and resumable grids (-csv
 * FILE keeps FILE.partial while the grid runs; -resume continues it to the same CSV). The
 * work is the plane module's (plane_setup_make, plane_run, plane_draw); this file parses the
 * arguments and prints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "det_plane.h"
#include "dist.h"
#include "plane.h"
#include "plane_run.h"
#include "plot.h"

static const char *help =
    "usage: darknet plane <data> <cfg> -curve run.curve [options]\n"
    "       darknet plane <data> <cfg> <a.weights> <b.weights> <c.weights> [options]\n"
    "       darknet plane <data> <cfg> <w.weights> -random [-seed S] [options]\n"
    "Loss surface over a grid in a plane of weight space. At every grid point the network\n"
    "gets p = w0 + alpha dx u + beta dy v, its BN statistics are recomputed exactly on the\n"
    "training set, then train loss (NLL + 0.5 decay ||w||^2 over conv/connected weights, the\n"
    "same l2 term as 'curve eval'; the reference plane.py adds 0.5 wd sum of UN-squared norms\n"
    "of all parameters instead), train NLL, train error, test NLL and test error.\n"
    "Plane: -curve: through bends i, j, k of the curve (Gram-Schmidt: u along k - i, v the\n"
    "part of j - i orthogonal to u), with the whole curve projected onto it (exact for 3\n"
    "bends); three .weights files: through them, the same way; -random: two Gaussian\n"
    "directions around the network, filter-normalised (Li et al. 2018: each output filter\n"
    "scaled to the norm of the network's filter, 0 on biases and BN scales), not\n"
    "orthogonalised (as loss-landscape). Axes are distances in weight space.\n"
    "  -curve FILE       plane of a curve's bends\n"
    "  -bends i,j,k      which bends (default: first, middle K/2, last; 0,1,2 for 3 bends)\n"
    "  -curve_points N   points of the curve drawn in the plane (default 61)\n"
    "  -random           random directions around the one .weights file given\n"
    "  -seed S           seed of the random directions (default 1)\n"
    "  -grid G           G x G grid points (default 21)\n"
    "  -margin M         alpha in [-M, 1+M], beta likewise (default 0.2); with -random\n"
    "                    alpha, beta in [-1-M, 1+M] (default M = 0: [-1, 1] as loss-landscape)\n"
    "  -margin_left, -margin_right, -margin_bottom, -margin_top   one side each\n"
    "  -bn_limit N       BN statistics from the first N training images (default: all)\n"
    "  -train_limit N    train metrics on the first N training images (default: all)\n"
    "  -no_train         skip the train metrics (and the train-loss picture)\n"
    "  -test_limit N     test metrics on the first N test images\n"
    "  -decay X          wd of the l2 term (default: the curve's, else the cfg's decay)\n"
    "  -csv FILE         every grid value, the bends' and the curve's coordinates; while the\n"
    "                    grid runs, FILE.partial holds the finished points\n"
    "  -resume FILE.partial   continue an interrupted grid (same settings; -csv defaults to\n"
    "                    FILE without .partial)\n"
    "  -png PREFIX       pictures PREFIX_train_loss.png and PREFIX_test_error.png (a\n"
    "                    trailing .png is dropped from PREFIX)\n"
    "  -aspect equal     one distance unit as long on both axes (default auto: the axes fill\n"
    "                    the picture; a long thin plane then looks as thin as it is)\n"
    "A detector cfg (last layer [yolo]/[region]) takes a detection .data and a detector's\n"
    ".curve or .weights: at every point BN statistics recomputed on un-augmented training\n"
    "images, the training detection loss with the l2 term (tr_loss) and without (tr_det),\n"
    "mAP@0.5 and mAP@[.5:.95] on the valid list (-test_limit N: its first N images); the\n"
    "CSV's columns are tr_loss,tr_det,map50,map5095 and the second picture, PREFIX_map50.png,\n"
    "maps 100 - mAP@0.5 (%) in place of the test error (low is good on both).\n";

/* The command line: options as read, then the plane's kind, grid and output names. */
typedef struct {
    char *pos[5];
    int np, curve_points, random, seed, bn_limit, train_limit, no_train, test_limit, stop_after;
    int det;                 /* a detector cfg: detection loss and mAP (det_plane.h) */
    int equal_aspect;        /* -aspect equal */
    const char *curve, *bends, *csv, *png, *resume;
    double margin, ml, mr, mb, mt, decay;
    plane_mode mode;
    plane_grid grid;
    char csvbuf[4096], partial[4200], trpng[4200], tepng[4200];
} plane_args;

static int read_options(plane_args *o, int argc, char **argv) {
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet plane");
    o->np = cli_positionals(&a, o->pos, 5);
    o->curve = cli_str(&a, "curve", NULL); o->bends = cli_str(&a, "bends", NULL);
    o->curve_points = cli_int(&a, "curve_points", 61);
    o->random = cli_flag(&a, "random"); o->seed = cli_int(&a, "seed", 1);
    o->grid.g = cli_int(&a, "grid", 21);
    o->margin = cli_float(&a, "margin", NAN);
    o->ml = cli_float(&a, "margin_left", NAN); o->mr = cli_float(&a, "margin_right", NAN);
    o->mb = cli_float(&a, "margin_bottom", NAN); o->mt = cli_float(&a, "margin_top", NAN);
    o->bn_limit = cli_int(&a, "bn_limit", 0); o->train_limit = cli_int(&a, "train_limit", 0);
    o->no_train = cli_flag(&a, "no_train"); o->test_limit = cli_int(&a, "test_limit", 0);
    o->decay = cli_float(&a, "decay", -1);
    o->csv = cli_str(&a, "csv", NULL); o->png = cli_str(&a, "png", NULL); o->resume = cli_str(&a, "resume", NULL);
    o->stop_after = cli_int(&a, "stop_after", 0);   /* for tests: simulate an interruption */
    const char *aspect = cli_str(&a, "aspect", NULL);
    if (cli_check_unused(&a)) return 2;
    return (o->equal_aspect = cli_aspect(aspect)) < 0 ? 2 : 0;
}

/* The plane's kind from the arguments, the file count it takes, the grid from the margins. */
static int check_plane(plane_args *o) {
    int mode = o->mode = o->curve ? PLANE_CURVE : o->random ? PLANE_RANDOM : PLANE_POINTS, np = o->np, G = o->grid.g;
    if (o->curve && o->random) return cli_fail("-curve and -random exclude each other");
    int need = mode == PLANE_CURVE ? 2 : mode == PLANE_RANDOM ? 3 : 5;
    if (np != need) {
        if (np == 0) { return cli_usage_error(help); }
        cli_fail("plane takes <data> <cfg> and %s; got %d file argument%s (see darknet plane -h)",
                 mode == PLANE_CURVE ? "-curve FILE, no .weights files" : mode == PLANE_RANDOM ? "one .weights file with -random"
                 : "three .weights files (or -curve FILE, or one .weights file with -random)", np - 2 < 0 ? 0 : np - 2, np - 2 == 1 ? "" : "s");
        return 2;
    }
    if (G < 2 || G > 1001) return cli_fail("-grid must be between 2 and 1001, got %d", G);
    if (o->curve_points < 2 || o->curve_points > 100001) return cli_fail("-curve_points must be at least 2, got %d", o->curve_points);
    plane_grid *g = &o->grid;
    *g = plane_grid_of(o->mode, G, o->margin, o->ml, o->mr, o->mb, o->mt);
    if (!(g->a0 < g->a1) || !(g->b0 < g->b1) || !isfinite(g->a0 + g->a1 + g->b0 + g->b1))
        return cli_fail("the margins leave an empty grid: alpha in [%g, %g], beta in [%g, %g]", g->a0, g->a1, g->b0, g->b1);
    return 0;
}

/* PREFIX_train_loss.png and PREFIX_test_error.png, a detector's PREFIX_map50.png (a trailing
 * .png dropped from PREFIX) */
static void png_names(const char *prefix, char *tr, char *te, size_t n, int det) {
    size_t l = strlen(prefix);
    int cut = l > 4 && !strcmp(prefix + l - 4, ".png") ? 4 : 0;
    snprintf(tr, n, "%.*s_train_loss.png", (int)(l - cut), prefix);
    snprintf(te, n, "%.*s_%s.png", (int)(l - cut), prefix, det ? "map50" : "test_error");
}

/* outputs: the CSV (and its .partial), the pictures; checked before the long work */
static int check_outputs(plane_args *o) {
    if (o->resume && !o->csv) {
        size_t l = strlen(o->resume);
        if (l <= 8 || strcmp(o->resume + l - 8, ".partial"))
            return cli_fail("%s: -resume takes the FILE.partial of an interrupted run with -csv FILE (or give -csv)", o->resume);
        snprintf(o->csvbuf, sizeof o->csvbuf, "%.*s", (int)(l - 8), o->resume);
        o->csv = o->csvbuf;
    }
    if (o->csv) snprintf(o->partial, sizeof o->partial, "%s.partial", o->csv);
    if (o->png) png_names(o->png, o->trpng, o->tepng, sizeof o->trpng, o->det);
    if (o->csv && (cli_check_writable(o->csv) || cli_check_writable(o->partial))) return 1;
    if (o->png && ((!o->no_train && cli_check_writable(o->trpng)) || cli_check_writable(o->tepng))) return 1;
    return 0;
}

/* ---- the table ---- */
typedef struct { const plane_args *o; const plane_setup *ps; } report;

static int on_row(void *ctx, int k, const plane_row *r, char *err) {
    const report *c = ctx;
    int g = c->o->grid.g;
    (void)err;
    if (c->o->det)
        printf("%4d %4d %10.4f %10.4f %10.4f %10.4f %8.2f %10.2f\n", k / g, k % g, r->x, r->y, r->tr_loss, r->tr_det,
               100 * r->map50, 100 * r->map5095);
    else
        printf("%4d %4d %10.4f %10.4f %10.4f %10.4f %8.2f %10.4f %8.2f\n", k / g, k % g, r->x, r->y,
               r->tr_loss, r->tr_nll, r->tr_err, r->te_nll, r->te_err);
    fflush(stdout);
    return 0;
}

/* What the grid is, before its rows (every rank, as each prints its progress). */
static void on_start(void *ctx, const plane_run_info *i) {
    const report *c = ctx;
    const plane_args *o = c->o;
    const plane_setup *ps = c->ps;
    const plane_grid *g = &o->grid;
    if (o->resume && dist_is_root()) fprintf(stderr, "plane: resuming %s: %d of %d grid points done\n", o->resume, i->from_file, i->points);
    fprintf(stderr, "plane: %s\n", ps->desc);
    fprintf(stderr, "plane: %d x %d grid, alpha in [%g, %g] x dx = %.4g, beta in [%g, %g] x dy = %.4g (axes in weight-space distance)\n",
            g->g, g->g, g->a0, g->a1, ps->b.dx, g->b0, g->b1, ps->b.dy);
    if (o->det)
        fprintf(stderr, "plane: a detector: BN statistics from %s%d un-augmented training images, the detection loss on %d, "
                "mAP on %d valid images; train loss = detection loss per image + 0.5 x %g x ||w||^2 (squared, %s)\n",
                o->bn_limit > 0 ? "the first " : "all ", i->bn_images, i->train_images, i->test_images, i->decay,
                i->decay_all ? "all parameters, as the curve was trained" : "conv weights");
    else
        fprintf(stderr, "plane: BN statistics from %s%d training images, train metrics on %d, test on %d images; "
                "train loss = NLL + 0.5 x %g x ||w||^2 (squared, %s; plane.py: un-squared norms)\n",
                o->bn_limit > 0 ? "the first " : "all ", i->bn_images, i->train_images, i->test_images, i->decay,
                i->decay_all ? "all parameters, as the curve was trained" : "conv/connected weights");
    for (int q = 0; q < ps->nm; q++) {   /* e.g. the middle network of three far beyond the segment */
        double al, be;
        if (plane_mark_outside(ps, g, q, &al, &be))
            fprintf(stderr, "plane: %s %d%s%s lies outside the grid (alpha %.3f, beta %.3f); the margins widen the grid\n",
                    ps->marks[q].kind, ps->marks[q].index, ps->labels[q][0] ? ", " : "", ps->labels[q], al, be);
    }
    if (o->det) printf("%4s %4s %10s %10s %10s %10s %8s %10s\n", "i", "j", "x", "y", "tr_loss", "tr_det", "mAP50", "mAP50:95");
    else printf("%4s %4s %10s %10s %10s %10s %8s %10s %8s\n", "i", "j", "x", "y", "tr_loss", "tr_nll", "tr_err", "te_nll", "te_err");
}

static void print_summary(const plane_args *o, const plane_run_info *i) {
    static const char *label[5] = { "train loss (with l2)", "train nll", "train error (%)", "test nll", "test error (%)" };
    static const char *dlabel[4] = { "train loss (with l2)", "train detection loss", "mAP@0.5 (%)", "mAP@[.5:.95] (%)" };
    char ranks[48] = "";
    if (dist_size() > 1) snprintf(ranks, sizeof ranks, " (wall time, %d ranks)", dist_size());
    printf("\nplane: %d points (%d evaluated now, %d from %s) in %.1f s, %.3f s per point%s\n", i->points, i->evaluated,
           i->from_file, o->resume ? o->resume : "-", i->secs, i->evaluated ? i->secs / i->evaluated : 0, ranks);
    printf("%-22s %10s %10s\n", "", "min", "max");
    for (int q = 0; q < (o->det ? 4 : 5); q++) {
        double f = o->det && q >= 2 ? 100 : 1;   /* a detector's mAP in % */
        printf("%-22s %10.4f %10.4f\n", o->det ? dlabel[q] : label[q], f * i->range[q].min, f * i->range[q].max);
    }
    fflush(stdout);
}

/* The pictures (a NULL path: not drawn), "wrote" after each. */
static int draw(const plane_picture *p, const char *trpng, const char *tepng, int det) {
    const char *path[2] = { trpng, tepng };
    char err[DKMC_ERRLEN];
    for (int w = 0; w < 2; w++) {
        if (!path[w]) continue;
        if (plane_draw(p, w ? det ? PLANE_MAP50 : PLANE_TEST_ERROR : det ? PLANE_DET_LOSS : PLANE_TRAIN_LOSS, path[w], err)) return cli_fail("%s", err);
        fprintf(stderr, "wrote %s\n", path[w]);
    }
    return 0;
}

/* After the grid: rank 0 reports how far it got, the summary, the files. */
static int finish(const plane_args *o, const plane_setup *ps, const plane_run_info *i) {
    if (!dist_is_root()) return 0;
    if (!i->complete) {
        fprintf(stderr, "plane: stopped after %d points (%d of %d done)%s%s\n", i->evaluated, i->from_file + i->evaluated,
                i->points, o->csv ? "; continue with -resume " : "", o->csv ? o->partial : "");
        return 0;
    }
    print_summary(o, i);
    if (o->csv) fprintf(stderr, "wrote %s\n", o->csv);
    plane_picture p = { o->grid.g, i->rows, ps->marks, ps->labels, ps->nm, ps->cx, ps->cy, ps->ncurve, o->equal_aspect };
    return o->png ? draw(&p, o->no_train ? NULL : o->trpng, o->tepng, o->det) : 0;
}

/* The two heat maps of a plane CSV (plane_write_csv's layout), as "darknet plane" draws them:
 * "darknet plot plane.csv -plane -png PREFIX". The networks' file names are not in the
 * CSV, so their markers go unlabelled. */
int cli_plane_pictures(const char *path, const char *prefix, int equal_aspect) {
    char trpng[4200], tepng[4200], err[DKMC_ERRLEN];
    plane_csv c;
    if (plane_read_csv(path, &c, err)) return cli_fail("%s", err);
    png_names(prefix, trpng, tepng, sizeof trpng, c.detector);
    if (cli_check_writable(trpng) || cli_check_writable(tepng)) { plane_csv_free(&c); return 1; }
    plane_picture p = { c.g, c.rows, c.marks, NULL, c.nm, c.cx, c.cy, c.ncurve, equal_aspect };
    int rc = draw(&p, c.has_train ? trpng : NULL, tepng, c.detector);
    plane_csv_free(&c);
    return rc;
}

/* A detector cfg: the work is det_plane_run's (it loads the images, makes the plane, runs the grid). */
static int run_detector(const plane_args *o) {
    det_plane_job j = { o->pos[0], o->pos[1],
                        { o->mode, o->pos[1], o->curve, o->bends, o->curve_points, { o->pos[2], o->pos[3], o->pos[4] }, (uint64_t)o->seed },
                        { NULL, o->grid, o->bn_limit, o->train_limit, o->no_train, o->decay, o->csv, o->resume, o->stop_after, 1,
                          on_start, on_row, NULL, NULL },
                        o->test_limit };
    plane_setup ps;
    plane_run_info info;
    report r = { o, &ps };
    j.job.ctx = &r;
    char err[DKMC_ERRLEN];
    if (det_plane_run(&j, &ps, &info, err)) return cli_fail("%s", err);
    int rc = finish(o, &ps, &info);
    free(info.rows);
    plane_setup_free(&ps);
    return rc;
}

int cmd_plane(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    plane_args o = { 0 };
    int rc = read_options(&o, argc, argv);
    if (rc || (rc = check_plane(&o))) return rc;
    o.det = det_cfg_is_detector(o.pos[1]);
    if ((rc = check_outputs(&o))) return rc;
    if (o.det) return run_detector(&o);
    dataset tr = {0}, te = {0};
    data_cfg dc;
    if (cli_load_split(o.pos[0], 0, plane_train_images(o.bn_limit, o.train_limit, o.no_train), &tr, &dc)) return 1;
    if (cli_load_split(o.pos[0], 1, o.test_limit, &te, &dc)) { data_free(&tr); return 1; }
    host_net *h = cli_load_net(o.pos[1], NULL, &te, 0);
    if (!h) { data_free(&tr); data_free(&te); return 1; }
    plane_setup ps;
    plane_run_info info = { 0 };
    char err[DKMC_ERRLEN];
    plane_setup_req q = { o.mode, o.pos[1], o.curve, o.bends, o.curve_points, { o.pos[2], o.pos[3], o.pos[4] }, (uint64_t)o.seed };
    rc = 1;
    if (plane_setup_make(&ps, &q, h, err)) { cli_fail("%s", err); goto out; }
    report r = { &o, &ps };
    plane_job j = { &ps, o.grid, o.bn_limit, o.train_limit, o.no_train, o.decay, o.csv, o.resume, o.stop_after, 1,
                    on_start, on_row, &r, NULL };
    if (plane_run(&j, h, &tr, &te, &info, err)) cli_fail("%s", err);
    else rc = finish(&o, &ps, &info);
    free(info.rows);
    plane_setup_free(&ps);
out:
    host_free(h); data_free(&tr); data_free(&te);
    return rc;
}
