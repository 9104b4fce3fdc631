/* plane.c: "darknet plane": train loss and test error over a grid in a plane of weight
 * space (the plane of a curve's three bends, of any three networks, or of two random
 * filter-normalised directions around one network), with BN statistics recomputed at every
 * grid point; an aligned table, a CSV, two heat-map pictures, and resumable grids.
 *
 * Resuming: with -csv FILE, FILE.partial is rewritten atomically after every grid point. It
 * holds a settings line (basis and data fingerprints, grid, limits, decay) and one row per
 * finished point with the values printed exactly (%.17g). -resume FILE.partial reloads the
 * finished points and evaluates only the others; the final CSV is printed from the same
 * doubles, so it equals that of an uninterrupted run byte for byte. A partial file of other
 * settings is refused. The .partial file is removed when the CSV is written. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "curve.h"
#include "dist.h"
#include "plane.h"
#include "plot.h"
#include "run.h"
#include "wspace.h"

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
    "                    trailing .png is dropped from PREFIX)\n";

enum { MODE_CURVE, MODE_POINTS, MODE_RANDOM };
static const char *mode_name[] = { "curve", "points", "random" };

/* A marked point of the plane: a bend, one of the three networks, or the centre. */
typedef struct { const char *kind; int index; double x, y; plot_marker shape; char label[64]; } mark;

/* ---- the table ---- */
static void print_header(void) {
    printf("%4s %4s %10s %10s %10s %10s %8s %10s %8s\n", "i", "j", "x", "y", "tr_loss", "tr_nll", "tr_err", "te_nll", "te_err");
}
static void print_row(int g, int k, const plane_row *r) {
    printf("%4d %4d %10.4f %10.4f %10.4f %10.4f %8.2f %10.4f %8.2f\n", k / g, k % g, r->x, r->y,
           r->tr_loss, r->tr_nll, r->tr_err, r->te_nll, r->te_err);
    fflush(stdout);
}

static int on_row(void *ctx, int k, const plane_row *r, char *err) {
    plane_state *s = ctx;
    print_row(s->g, k, r);
    return plane_state_done(s, k, r, err);
}

/* ---- the pictures ---- */
static int write_png(const char *path, const char *title, const char *cbar, const plane_state *s, int which,
                     double vmax, double log_alpha, int mode, const mark *m, int nm,
                     const double *cx, const double *cy, int ncurve) {
    int g = s->g;
    double *xs = malloc(g * sizeof(double)), *ys = malloc(g * sizeof(double)), *v = malloc((size_t)g * g * sizeof(double));
    int rc = 0;
    if (!xs || !ys || !v) { rc = cli_fail("%s: out of memory for the picture", path); goto out; }
    for (int i = 0; i < g; i++) { xs[i] = s->rows[i * g].x; ys[i] = s->rows[i].y; }
    for (int k = 0; k < g * g; k++) v[k] = which ? s->rows[k].te_err : s->rows[k].tr_loss;
    double sx[2] = { 0, 0 }, sy[2] = { 0, 0 }; /* the straight segment between the curve's ends */
    if (ncurve > 0) { sx[0] = cx[0]; sx[1] = cx[ncurve - 1]; sy[0] = cy[0]; sy[1] = cy[ncurve - 1]; }
    plot_path paths[2] = { { cx, cy, (size_t)ncurve, PLOT_SOLID }, { sx, sy, 2, PLOT_DASHED } };
    plot_point pts[CURVE_MAX_BENDS];
    for (int q = 0; q < nm; q++)
        pts[q] = (plot_point){ m[q].x, m[q].y, m[q].shape, m[q].label[0] ? m[q].label : NULL };
    plot_surface f = {
        .width = 900, .height = 720, .title = title,
        .xlabel = mode == MODE_RANDOM ? "distance along direction 1" : "distance along u (w0 -> w2)",
        .ylabel = mode == MODE_RANDOM ? "distance along direction 2" : "distance along v (orthogonal to u)",
        .xs = xs, .ys = ys, .v = v, .nx = g, .ny = g, .heat = plot_heatmap_defaults(),
        .paths = paths, .npaths = mode == MODE_CURVE && ncurve > 0 ? 2 : 0, .points = pts, .npoints = nm,
    };
    f.heat.vmax = vmax; f.heat.log_alpha = log_alpha; f.heat.label = cbar;
    char err[DKMC_ERRLEN];
    if (plot_surface_save(&f, path, err)) rc = cli_fail("%s", err);
    else fprintf(stderr, "wrote %s\n", path);
out:
    free(xs); free(ys); free(v);
    return rc;
}

/* PREFIX_train_loss.png and PREFIX_test_error.png (a trailing .png dropped from PREFIX) */
static void png_names(const char *prefix, char *tr, char *te, size_t n) {
    size_t l = strlen(prefix);
    int cut = l > 4 && !strcmp(prefix + l - 4, ".png") ? 4 : 0;
    snprintf(tr, n, "%.*s_train_loss.png", (int)(l - cut), prefix);
    snprintf(te, n, "%.*s_test_error.png", (int)(l - cut), prefix);
}

/* The two pictures of a plane CSV (plane_write_csv's layout), as "darknet plane" draws them:
 * "darknet plot plane.csv -plane -png PREFIX". The networks' file names are not in the
 * CSV, so their markers go unlabelled. */
int cli_plane_pictures(const char *path, const char *prefix) {
    char trpng[4200], tepng[4200], err[DKMC_ERRLEN];
    png_names(prefix, trpng, tepng, sizeof trpng);
    plane_csv c;
    if (plane_read_csv(path, &c, err)) return cli_fail("%s", err);
    if (cli_check_writable(trpng) || cli_check_writable(tepng)) { plane_csv_free(&c); return 1; }
    int mode = MODE_POINTS, nm = c.nm;
    mark m[PLANE_MAX_MARKS];
    for (int q = 0; q < nm; q++) {
        const plane_mark *pm = &c.marks[q];
        mode = pm->kind[0] == 'b' ? MODE_CURVE : pm->kind[0] == 'c' ? MODE_RANDOM : MODE_POINTS;
        m[q] = (mark){ .kind = mode_name[mode], .index = pm->index, .x = pm->x, .y = pm->y,
                       .shape = mode == MODE_POINTS && pm->index == 1 ? PLOT_DIAMOND : PLOT_CIRCLE };
    }
    for (int q = 0; q < nm && mode == MODE_CURVE; q++)   /* end points: circles; middle bends: diamonds */
        m[q].shape = q == 0 || q == nm - 1 ? PLOT_CIRCLE : PLOT_DIAMOND;
    plane_state s = { .g = c.g, .rows = c.rows };
    int rc = 0, has_train = 0;
    for (int k = 0; k < c.g * c.g; k++) has_train |= isfinite(c.rows[k].tr_loss);
    if (has_train) rc = write_png(trpng, "train loss", "train loss", &s, 0, 5.0, -5, mode, m, nm, c.cx, c.cy, c.ncurve);
    if (!rc) rc = write_png(tepng, "test error (%)", "test error (%)", &s, 1, 40, -1, mode, m, nm, c.cx, c.cy, c.ncurve);
    plane_csv_free(&c);
    return rc;
}

/* ---- inputs ---- */
static uint64_t hash_data(uint64_t hv, const dataset *d, int n) {
    size_t in = (size_t)d->w * d->h * d->c;
    hv = plane_hash(hv, &n, sizeof n);
    hv = plane_hash(hv, d->X, (size_t)n * in * sizeof(float));
    return plane_hash(hv, d->labels, (size_t)n * sizeof(int));
}

typedef struct { double min, max; } minmax;
static minmax range_of(const plane_row *rows, int n, size_t off) {
    minmax m = { NAN, NAN };
    for (int k = 0; k < n; k++) {
        double v = *(const double *)((const char *)&rows[k] + off);
        if (isnan(v)) continue;
        if (isnan(m.min) || v < m.min) m.min = v;
        if (isnan(m.max) || v > m.max) m.max = v;
    }
    return m;
}

int cmd_plane(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet plane");
    char *pos[5];
    int np = cli_positionals(&a, pos, 5);
    const char *curve_path = cli_str(&a, "curve", NULL), *bends_s = cli_str(&a, "bends", NULL);
    int curve_points = cli_int(&a, "curve_points", 61);
    int random = cli_flag(&a, "random"), seed = cli_int(&a, "seed", 1);
    int G = cli_int(&a, "grid", 21);
    double margin = cli_float(&a, "margin", NAN);
    double ml = cli_float(&a, "margin_left", NAN), mr = cli_float(&a, "margin_right", NAN);
    double mb = cli_float(&a, "margin_bottom", NAN), mt = cli_float(&a, "margin_top", NAN);
    int bn_limit = cli_int(&a, "bn_limit", 0), train_limit = cli_int(&a, "train_limit", 0);
    int no_train = cli_flag(&a, "no_train"), test_limit = cli_int(&a, "test_limit", 0);
    double decay = cli_float(&a, "decay", -1);
    const char *csv = cli_str(&a, "csv", NULL), *png = cli_str(&a, "png", NULL), *resume = cli_str(&a, "resume", NULL);
    int stop_after = cli_int(&a, "stop_after", 0);   /* for tests: simulate an interruption */
    int unused = cli_check_unused(&a);
    if (unused) return 2;
    int mode = curve_path ? MODE_CURVE : random ? MODE_RANDOM : MODE_POINTS;
    if (curve_path && random) return cli_fail("-curve and -random exclude each other");
    int need = mode == MODE_CURVE ? 2 : mode == MODE_RANDOM ? 3 : 5;
    if (np != need) {
        if (np == 0) { return cli_usage_error(help); }
        cli_fail("plane takes <data> <cfg> and %s; got %d file argument%s (see darknet plane -h)",
                 mode == MODE_CURVE ? "-curve FILE, no .weights files" : mode == MODE_RANDOM ? "one .weights file with -random"
                 : "three .weights files (or -curve FILE, or one .weights file with -random)", np - 2 < 0 ? 0 : np - 2, np - 2 == 1 ? "" : "s");
        return 2;
    }
    if (G < 2 || G > 1001) return cli_fail("-grid must be between 2 and 1001, got %d", G);
    if (curve_points < 2 || curve_points > 100001) return cli_fail("-curve_points must be at least 2, got %d", curve_points);
    double mdef = isnan(margin) ? (mode == MODE_RANDOM ? 0 : 0.2) : margin;
    if (isnan(ml)) ml = mdef;
    if (isnan(mr)) mr = mdef;
    if (isnan(mb)) mb = mdef;
    if (isnan(mt)) mt = mdef;
    double lo = mode == MODE_RANDOM ? -1 : 0;
    plane_grid grid = { G, lo - ml, 1 + mr, lo - mb, 1 + mt };
    if (!(grid.a0 < grid.a1) || !(grid.b0 < grid.b1) || !isfinite(grid.a0 + grid.a1 + grid.b0 + grid.b1))
        return cli_fail("the margins leave an empty grid: alpha in [%g, %g], beta in [%g, %g]", grid.a0, grid.a1, grid.b0, grid.b1);

    /* outputs: the CSV (and its .partial), the pictures; checked before the long work */
    char csvbuf[4096], partial[4200], trpng[4200], tepng[4200];
    if (resume && !csv) {
        size_t l = strlen(resume);
        if (l <= 8 || strcmp(resume + l - 8, ".partial"))
            return cli_fail("%s: -resume takes the FILE.partial of an interrupted run with -csv FILE (or give -csv)", resume);
        snprintf(csvbuf, sizeof csvbuf, "%.*s", (int)(l - 8), resume);
        csv = csvbuf;
    }
    if (csv) snprintf(partial, sizeof partial, "%s.partial", csv);
    if (png) png_names(png, trpng, tepng, sizeof trpng);
    if (csv && (cli_check_writable(csv) || cli_check_writable(partial))) return 1;
    if (png && ((!no_train && cli_check_writable(trpng)) || cli_check_writable(tepng))) return 1;

    /* data: enough training images for BN and the train metrics */
    dataset tr = {0}, te = {0};
    data_cfg dc;
    int trneed = 0;
    if (bn_limit > 0 && (no_train || train_limit > 0)) trneed = no_train || bn_limit > train_limit ? bn_limit : train_limit;
    if (cli_load_split(pos[0], 0, trneed, &tr, &dc)) return 1;
    if (cli_load_split(pos[0], 1, test_limit, &te, &dc)) { data_free(&tr); return 1; }
    host_net *h = cli_load_net(pos[1], NULL, &te, 0);
    if (!h) { data_free(&tr); data_free(&te); return 1; }

    size_t n = host_nparams(h);
    int rc = 1, nm = 0;
    plane_setup ps = { 0 };
    mark m[PLANE_MAX_MARKS];
    plane_state s = { 0 };
    char err[DKMC_ERRLEN], settings[1024];
    int decay_given = decay >= 0;
    if (!decay_given) decay = host_cfg_decay(h);
    plane_setup_req q = { (plane_mode)mode, pos[1], curve_path, bends_s, curve_points, { pos[2], pos[3], pos[4] }, (uint64_t)seed };
    if (plane_setup_make(&ps, &q, h, err)) { cli_fail("%s", err); goto done; }
    if (!decay_given && ps.has_decay) decay = ps.decay;
    int decay_all = ps.decay_all;
    plane_basis b = ps.b;
    const char *desc = ps.desc;
    double *ct = ps.ct, *cx = ps.cx, *cy = ps.cy;
    int ncurve = ps.ncurve;
    for (nm = 0; nm < ps.nm; nm++) {   /* the pictures' marks: end points circles, middle bends and w1 diamonds */
        const plane_mark *pm = &ps.marks[nm];
        int diamond = mode == MODE_CURVE ? nm > 0 && nm < ps.nm - 1 : mode == MODE_POINTS && nm == 1;
        m[nm] = (mark){ .kind = pm->kind, .index = pm->index, .x = pm->x, .y = pm->y, .shape = diamond ? PLOT_DIAMOND : PLOT_CIRCLE };
        snprintf(m[nm].label, sizeof m[nm].label, "%s", ps.labels[nm]);
    }

    /* settings fingerprint: what makes two grids the same computation */
    int bn_n = bn_limit > 0 && bn_limit < tr.n ? bn_limit : tr.n;
    int tr_n = no_train ? 0 : (train_limit > 0 && train_limit < tr.n ? train_limit : tr.n);
    uint64_t hb = plane_hash(PLANE_HASH_INIT, b.origin, n * sizeof(float));
    hb = plane_hash(hb, b.u, n * sizeof(float));
    hb = plane_hash(hb, b.v, n * sizeof(float));
    hb = plane_hash(hb, &b.dx, sizeof b.dx);
    hb = plane_hash(hb, &b.dy, sizeof b.dy);
    uint64_t hd = hash_data(hash_data(PLANE_HASH_INIT, &tr, bn_n > tr_n ? bn_n : tr_n), &te, te.n);
    snprintf(settings, sizeof settings,
             "mode=%s params=%zu basis=%016llx grid=%d alpha=%.17g:%.17g beta=%.17g:%.17g bn_images=%d train_images=%d "
             "test_images=%d decay=%.9g%s data=%016llx batch=%d",
             mode_name[mode], n, (unsigned long long)hb, G, grid.a0, grid.a1, grid.b0, grid.b1, bn_n, tr_n, te.n, decay, decay_all ? ":all" : "",
             (unsigned long long)hd, host_batch(h));
    if (plane_state_init(&s, G, csv ? partial : NULL, settings, err)) { cli_fail("%s", err); goto done; }
    if (resume) {   /* rank 0 reads the partial file; every rank learns which points are done */
        int count = 0, bad = dist_is_root() ? plane_state_resume(&s, resume, &count, err) : 0;
        if (bad) cli_fail("%s", err);
        else if (dist_is_root()) fprintf(stderr, "plane: resuming %s: %d of %d grid points done\n", resume, count, G * G);
        dist_bcast(&bad, sizeof bad, 0);
        if (bad) goto done;
        dist_bcast(s.done, (size_t)G * G, 0);
    }

    fprintf(stderr, "plane: %s\n", desc);
    fprintf(stderr, "plane: %d x %d grid, alpha in [%g, %g] x dx = %.4g, beta in [%g, %g] x dy = %.4g (axes in weight-space distance)\n",
            G, G, grid.a0, grid.a1, b.dx, grid.b0, grid.b1, b.dy);
    fprintf(stderr, "plane: BN statistics from %s%d training images, train metrics on %d, test on %d images; "
            "train loss = NLL + 0.5 x %g x ||w||^2 (squared, %s; plane.py: un-squared norms)\n",
            bn_limit > 0 ? "the first " : "all ", bn_n, tr_n, te.n, decay,
            decay_all ? "all parameters, as the curve was trained" : "conv/connected weights");
    for (int q = 0; q < nm; q++) {   /* e.g. the middle network of three far beyond the segment */
        double al = m[q].x / b.dx, be = m[q].y / b.dy;
        if (al < grid.a0 - 1e-9 || al > grid.a1 + 1e-9 || be < grid.b0 - 1e-9 || be > grid.b1 + 1e-9)
            fprintf(stderr, "plane: %s %d%s%s lies outside the grid (alpha %.3f, beta %.3f); the margins widen the grid\n",
                    m[q].kind, m[q].index, m[q].label[0] ? ", " : "", m[q].label, al, be);
    }
    print_header();
    int from_file = 0;
    for (int k = 0; k < G * G; k++) if (s.done[k]) { print_row(G, k, &s.rows[k]); from_file++; }

    plane_eval_opts o = { bn_limit, no_train ? -1 : train_limit, (float)decay, decay_all, 1, s.done, stop_after, on_row, &s };
    double t0 = dkmc_now();
    int evaluated = plane_evaluate(&b, &grid, h, &tr, &te, &o, s.rows, err);
    if (evaluated < 0) { cli_fail("%s", err); goto done; }
    double secs = dkmc_now() - t0;
    if (!dist_is_root()) { rc = 0; goto done; }   /* rank 0 has the rows and writes the files */
    if (from_file + evaluated < G * G) {
        fprintf(stderr, "plane: stopped after %d points (%d of %d done)%s%s\n", evaluated, from_file + evaluated, G * G,
                csv ? "; continue with -resume " : "", csv ? partial : "");
        rc = 0;
        goto done;
    }
    const struct { const char *label; size_t off; } f[] = {
        { "train loss (with l2)", offsetof(plane_row, tr_loss) }, { "train nll", offsetof(plane_row, tr_nll) },
        { "train error (%)", offsetof(plane_row, tr_err) }, { "test nll", offsetof(plane_row, te_nll) },
        { "test error (%)", offsetof(plane_row, te_err) },
    };
    char ranks[48] = "";
    if (dist_size() > 1) snprintf(ranks, sizeof ranks, " (wall time, %d ranks)", dist_size());
    printf("\nplane: %d points (%d evaluated now, %d from %s) in %.1f s, %.3f s per point%s\n", G * G, evaluated, from_file,
           resume ? resume : "-", secs, evaluated ? secs / evaluated : 0, ranks);
    printf("%-22s %10s %10s\n", "", "min", "max");
    for (size_t q = 0; q < sizeof f / sizeof f[0]; q++) {
        minmax r = range_of(s.rows, G * G, f[q].off);
        printf("%-22s %10.4f %10.4f\n", f[q].label, r.min, r.max);
    }
    fflush(stdout);
    rc = 0;
    if (csv) {
        if (plane_write_csv(csv, &s, &b, ps.marks, ps.nm, ct, cx, cy, ncurve, err)) rc = cli_fail("%s", err);
        else { fprintf(stderr, "wrote %s\n", csv); unlink(partial); }
    }
    if (!rc && png && !no_train)
        rc = write_png(trpng, "train loss", "train loss", &s, 0, 5.0, -5, mode, m, nm, cx, cy, ncurve);
    if (!rc && png)
        rc = write_png(tepng, "test error (%)", "test error (%)", &s, 1, 40, -1, mode, m, nm, cx, cy, ncurve);
done:
    plane_state_free(&s);
    plane_setup_free(&ps);
    host_free(h); data_free(&tr); data_free(&te);
    return rc;
}
