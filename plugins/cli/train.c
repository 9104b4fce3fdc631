/* train.c: "darknet train <data> <cfg> [weights]": ordinary training with Darknet's semantics
 * (the cfg's learning_rate/policy/momentum/decay, decay on weights only) on the one training
 * loop of plugins/train. A cfg with policy=fge_cyclic or policy=sgdr takes snapshots at the
 * policy's points and reports each snapshot's test numbers and those of the ensemble so far.
 * cli_run_training is shared with "darknet fge", which is the same run with the schedule
 * given on the command line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "dist.h"
#include "fge.h"
#include "plot.h"
#include "run.h"
#include "train.h"
#include "wspace.h"

static const char *help =
    "usage: darknet train <data> <cfg> [weights] [options]\n"
    "  -epochs N        epochs (default: the cfg's max_batches in epochs); sets max_batches,\n"
    "                   so that policies relative to it (poly, sigmoid) scale to the run\n"
    "  -seed S          seed for initialisation, shuffling and augmentation (default 1)\n"
    "  -out FILE        output .weights (default <backup>/<cfg name>.weights)\n"
    "  -save_every N    also save every N epochs (default 0: only at the end)\n"
    "  -schedule S      cfg (the cfg's policy, default) or reference (constant to 50%,\n"
    "                   linear to 1% at 90%, as the paper's code)\n"
    "  -lr X            override the cfg's learning_rate\n"
    "  -limit N         use only the first N training images\n"
    "  -test_limit N    evaluate on the first N test images\n"
    "  -no_test         skip the per-epoch test evaluation\n"
    "  -stop_after N    stop (and save) after N epochs, the schedule still spanning -epochs\n"
    "                   (a checkpoint part-way through a run, e.g. where FGE starts)\n"
    "  -csv FILE        the table as CSV\n"
    "Policies Darknet does not have, read from [net]:\n"
    "  policy=fge_cyclic  learning_rate (at cycle ends), learning_rate_min (mid-cycle),\n"
    "                     fge_cycle (iterations, even) or fge_cycle_epochs\n"
    "  policy=sgdr        learning_rate, learning_rate_min (default 1e-5), sgdr_cycle\n"
    "                     (iterations, default max_batches) or sgdr_cycle_epochs, sgdr_mult (2)\n"
    "  With these, a snapshot is written at each minimum (<out stem>_snapNN.weights) and the\n"
    "  table gains the ensemble's test NLL and accuracy (mean of the snapshots' softmax).\n"
    "  -bn_update       recompute exact BN statistics for each snapshot (default: keep\n"
    "                   training's running statistics, as the reference fge.py)\n"
    "  -bn_limit N      ... from the first N training images\n"
    "Darknet's BN running statistics start at zero and move 1 % per batch: until 95 % of\n"
    "them comes from training (299 batches from scratch), the test numbers, snapshots and\n"
    "saved weights use exact statistics instead (from -bn_limit N images, default all).\n"
    "Prints one row per epoch: epoch, lr, train loss, train acc, test nll, test acc, seconds.\n";

static void default_out(char *buf, size_t n, const data_cfg *dc, const char *cfg, const char *suffix) {
    const char *base = strrchr(cfg, '/');
    base = base ? base + 1 : cfg;
    char name[512];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot) *dot = 0;
    const char *dir = dc->backup[0] ? dc->backup : ".";
    size_t l = strlen(dir);
    snprintf(buf, n, "%s%s%s%s.weights", dir, (l && dir[l - 1] == '/') ? "" : "/", name, suffix);
}

/* ---- the run: the loop's hooks print rows, take snapshots and save ---- */
typedef struct {
    const train_job *j;
    host_net *h;
    train_sgd sgd;
    run_bn_swap bn;           /* exact BN statistics while the running ones are young */
    fge_snapshots snaps;
    int snapshots;            /* the schedule takes snapshots */
    const sched *s;
    const dataset *te;
    long iters;
    float *w0;                /* the start, for the distance */
    double *lr_hist, *dist_hist;   /* per iteration */
    uint64_t hist_n, hist_cap;
    double *ev_it, *ev_err;   /* test error at evaluation points */
    int ev_n, ev_cap;
    double *snap_it, *snap_err, *ens_err;
    FILE *csv;
    const char *out;
    double t_row;
    uint64_t last_snap_it;    /* iteration after which the last snapshot was taken, +1 */
} run_ctx;

static void push_eval(run_ctx *c, double it, double err) {
    if (c->ev_n == c->ev_cap) {
        c->ev_cap = c->ev_cap ? 2 * c->ev_cap : 64;
        c->ev_it = realloc(c->ev_it, c->ev_cap * sizeof(double));
        c->ev_err = realloc(c->ev_err, c->ev_cap * sizeof(double));
        if (!c->ev_it || !c->ev_err) { fprintf(stderr, "darknet: out of memory\n"); exit(1); }
    }
    c->ev_it[c->ev_n] = it; c->ev_err[c->ev_n] = err; c->ev_n++;
}

static void print_header(run_ctx *c) {
    if (c->snapshots)
        printf("%6s %10s %10s %9s %9s %9s %5s %9s %9s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_acc", "te_nll", "te_acc",
               "snap", "ens_nll", "ens_acc", "dist", "time");
    else
        printf("%5s %10s %10s %9s %9s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_acc", "te_nll", "te_acc", "time");
    if (c->csv) fprintf(c->csv, "epoch,iteration,lr,tr_loss,tr_acc,te_nll,te_acc,snapshot,ens_nll,ens_acc,dist,seconds\n");
    fflush(stdout);
}

/* one row; tr_* NaN for a snapshot inside an epoch; snap 0 for none */
static void print_row(run_ctx *c, double epoch, int whole, uint64_t it, double lr, double tr_loss, double tr_acc,
                      eval_result te, int snap, double secs) {
    double dist = ws_dist(c->sgd.n, train_sgd_weights(&c->sgd), c->w0);
    if (c->snapshots) {
        char ep[16], sn[8] = "-", en[16] = "-", ea[16] = "-", tl[16] = "-", ta[16] = "-";
        if (whole) snprintf(ep, sizeof ep, "%6d", (int)epoch); else snprintf(ep, sizeof ep, "%6.2f", epoch);
        if (snap) { snprintf(sn, sizeof sn, "%d", snap); snprintf(en, sizeof en, "%.4f", c->snaps.ensemble.nll); snprintf(ea, sizeof ea, "%.2f", c->snaps.ensemble.acc); }
        if (!isnan(tr_loss)) { snprintf(tl, sizeof tl, "%.4f", tr_loss); snprintf(ta, sizeof ta, "%.2f", tr_acc); }
        printf("%6s %10.6f %10s %9s %9.4f %9.2f %5s %9s %9s %9.4f %8.1f\n", ep, lr, tl, ta, te.nll, te.acc, sn, en, ea, dist, secs);
    } else
        printf("%5d %10.6f %10.4f %9.2f %9.4f %9.2f %8.1f\n", (int)epoch, lr, tr_loss, tr_acc, te.nll, te.acc, secs);
    fflush(stdout);
    if (c->csv)
        fprintf(c->csv, "%.4f,%llu,%.8g,%.6f,%.4f,%.6f,%.4f,%d,%.6f,%.4f,%.6f,%.2f\n", epoch, (unsigned long long)it + 1, lr,
                tr_loss, tr_acc, te.nll, te.acc, snap, snap ? c->snaps.ensemble.nll : NAN, snap ? c->snaps.ensemble.acc : NAN,
                dist, secs);
}

static int run_step(void *vc, const float *x, const float *y, float lr, train_step_out *out) {
    return train_sgd_step(&((run_ctx *)vc)->sgd, x, y, lr, out);
}

static int run_after_iter(void *vc, uint64_t it, float lr, char *err) {
    run_ctx *c = vc;
    if (c->j->png && c->hist_n < c->hist_cap) {   /* the figure's history: O(n) per step, so only for -png */
        c->lr_hist[c->hist_n] = lr;
        c->dist_hist[c->hist_n] = ws_dist(c->sgd.n, train_sgd_weights(&c->sgd), c->w0);
        c->hist_n++;
    }
    const train_job *j = c->j;
    if (c->snapshots && sched_snapshot_after(c->s, it)) {
        int sr = fge_snapshot_take(&c->snaps, err);
        if (sr) return sr == -2 ? TRAIN_DIVERGED : -1;
        c->last_snap_it = it + 1;
        double x = (double)(it + 1);
        push_eval(c, x, 100 - c->snaps.single.acc);
        c->snap_it[c->snaps.count - 1] = x;
        c->snap_err[c->snaps.count - 1] = 100 - c->snaps.single.acc;
        c->ens_err[c->snaps.count - 1] = 100 - c->snaps.ensemble.acc;
        if ((it + 1) % (uint64_t)c->iters) {   /* inside an epoch: a row of its own */
            print_row(c, (double)(it + 1) / c->iters, 0, it, lr, NAN, NAN, c->snaps.single, c->snaps.count, 0);
        }
    } else if (j->eval_every > 0 && (it + 1) % (uint64_t)j->eval_every == 0 && c->te->n) {
        eval_result r = run_eval_swap(&c->bn, c->te, NULL, NULL, NULL);
        push_eval(c, (double)(it + 1), 100 - r.acc);
    }
    return 0;
}

static int run_epoch_end(void *vc, const train_epoch_info *e, int last, char *err) {
    run_ctx *c = vc;
    const train_job *j = c->j;
    uint64_t it = (uint64_t)(e->epoch) * c->iters;   /* iterations of this run so far */
    eval_result r = { NAN, NAN, 0 };
    int snap = 0;
    if (c->snapshots && c->last_snap_it == it) { r = c->snaps.single; snap = c->snaps.count; }
    else if (!j->no_test) {
        r = run_eval_swap(&c->bn, c->te, NULL, "test", NULL);
        push_eval(c, (double)it, 100 - r.acc);
    }
    print_row(c, e->epoch, 1, it - 1, e->lr, e->loss, e->acc, r, snap, e->seconds);
    if (dist_size() > 1 && dist_differs(c->sgd.w, c->sgd.n * sizeof(float))) {
        snprintf(err, 512, "the ranks hold different weights after epoch %d", e->epoch);
        return -1;
    }
    if (dist_is_root() && ((j->save_every > 0 && e->epoch % j->save_every == 0) || last)) {
        int exact = 0, sr = run_save_swap(&c->bn, c->out, &exact, err);
        if (sr) return sr == -2 ? TRAIN_DIVERGED : -1;
        if (exact) fprintf(stderr, "saved %s (BN statistics recomputed on %d training images: the running ones are young)\n", c->out, run_bn_swap_images(&c->bn));
        else fprintf(stderr, "saved %s\n", c->out);
    }
    return 0;
}

static int write_fge_plot(run_ctx *c, const char *png) {
    double *x = malloc((c->hist_n + 1) * sizeof(double));
    if (!x) return cli_fail("%s: out of memory", png);
    for (uint64_t i = 0; i < c->hist_n; i++) x[i] = (double)(i + 1);
    plot_series lr = { NULL, x, c->lr_hist, c->hist_n, plot_palette(0), PLOT_SOLID, PLOT_NO_MARKER };
    plot_series dist = { NULL, x, c->dist_hist, c->hist_n, plot_palette(2), PLOT_SOLID, PLOT_NO_MARKER };
    plot_series err_s[3] = {
        { "network", c->ev_it, c->ev_err, c->ev_n, plot_palette(1), PLOT_SOLID, c->ev_n <= 60 ? PLOT_CIRCLE : PLOT_NO_MARKER },
        { "snapshots", c->snap_it, c->snap_err, c->snaps.count, plot_palette(3), PLOT_NO_LINE, PLOT_DIAMOND },
        { "ensemble of the snapshots so far", c->snap_it, c->ens_err, c->snaps.count, plot_palette(0), PLOT_DASHED, PLOT_SQUARE },
    };
    int ne = 0;
    plot_series es[3];
    if (c->ev_n) es[ne++] = err_s[0];
    if (c->snaps.count) es[ne++] = err_s[1], es[ne++] = err_s[2];
    double xmax = (double)c->hist_n;
    plot_panel p[3] = {
        { .title = "learning rate", .ylabel = "lr", .series = &lr, .nseries = 1, .xmin = 0, .xmax = xmax },
        { .title = "test error", .ylabel = "test error (%)", .series = es, .nseries = ne, .xmin = 0, .xmax = xmax },
        { .title = "distance from the start in weight space", .xlabel = "iteration", .ylabel = "||w - w0||",
          .series = &dist, .nseries = 1, .xmin = 0, .xmax = xmax },
    };
    plot_lines f = { .width = 900, .height = 1000, .rows = 3, .cols = 1, .panels = p };
    char err[DKMC_ERRLEN];
    int rc = plot_lines_save(&f, png, err);
    if (rc) cli_fail("%s", err); else fprintf(stderr, "wrote %s\n", png);
    free(x);
    return rc ? 1 : 0;
}

const char *cli_train_note;

int cli_run_training(const train_job *j) {
    dataset tr = {0}, te = {0};
    data_cfg dc;
    if (cli_load_split(j->data, 0, j->limit, &tr, &dc)) return 1;
    if (!j->no_test && cli_load_split(j->data, 1, j->test_limit, &te, &dc)) { data_free(&tr); return 1; }
    srand(j->seed);                                /* Darknet initialises weights with rand() */
    host_net *h = cli_load_net(j->cfg, j->weights, &tr, 0);
    int B = h ? host_batch(h) : 0;                 /* the global batch; under mpirun each rank has a shard */
    if (h) h = cli_shard_net(h, j->cfg, j->weights, &tr, 1, (unsigned)j->seed);
    if (!h) { data_free(&tr); data_free(&te); return 1; }
    char aerr[DKMC_ERRLEN];
    if (host_adam_error(h, j->kind == SCHED_FGE ? "darknet fge" : "darknet train", aerr)) {
        cli_fail("%s", aerr);
        host_free(h); data_free(&tr); data_free(&te);
        return 1;
    }
    char outbuf[2048], err[DKMC_ERRLEN];
    const char *out = j->out;
    if (!out) {
        default_out(outbuf, sizeof outbuf, &dc, j->cfg, j->kind == SCHED_FGE ? "_fge" : "");
        out = outbuf;
        mkdir(dc.backup[0] ? dc.backup : ".", 0777);
    }
    run_ctx c = { 0 };
    sched s = { 0 };
    int rc = 0;
    ws_atomic csv = { 0 };
    if (cli_check_writable(out) || (j->png && cli_check_picture(j->png))) { rc = 1; goto done; }

    long iters = tr.n / B;
    if (iters < 1) { rc = cli_fail("%s: %d training images are fewer than one batch of %d", j->data, tr.n, B); goto done; }
    int epochs;
    train_plan_req q = { j->kind, j->cfg, j->lr, j->lr2, j->cycle_epochs, j->epochs };
    if (train_plan(&q, h, iters, B, &epochs, &s, err)) { rc = cli_fail("%s", err); goto done; }
    float momentum = host_cfg_momentum(h), decay = host_cfg_decay(h);
    if (train_sgd_init(&c.sgd, h, momentum, decay)) { rc = cli_fail("out of memory for %zu parameters", host_nparams(h)); goto done; }
    c.sgd.global_batch = B;
    if (run_bn_swap_init(&c.bn, h, &tr, j->bn_limit)) { rc = cli_fail("out of memory for %zu BN statistics", host_nstats(h)); goto done; }
    c.j = j; c.h = h; c.s = &s; c.te = &te; c.iters = iters; c.out = out;
    c.snapshots = s.kind == SCHED_FGE || s.kind == SCHED_SGDR;
    if (c.snapshots && j->no_test) { rc = cli_fail("policy %s takes snapshots and evaluates them on the test set: drop -no_test", sched_name(s.kind)); goto done; }
    c.w0 = malloc(c.sgd.n * sizeof(float));
    c.hist_cap = (uint64_t)epochs * iters;
    c.lr_hist = malloc(c.hist_cap * sizeof(double));
    c.dist_hist = malloc(c.hist_cap * sizeof(double));
    long nsnap = c.snapshots ? sched_count_snapshots(&s, c.hist_cap) : 0;
    c.snap_it = malloc((nsnap + 1) * sizeof(double));
    c.snap_err = malloc((nsnap + 1) * sizeof(double));
    c.ens_err = malloc((nsnap + 1) * sizeof(double));
    if (!c.w0 || !c.lr_hist || !c.dist_hist || !c.snap_it || !c.snap_err || !c.ens_err) { rc = cli_fail("out of memory"); goto done; }
    memcpy(c.w0, c.sgd.w, c.sgd.n * sizeof(float));
    if (c.snapshots) {
        char prefix[2048];
        snprintf(prefix, sizeof prefix, "%s", out);
        size_t l = strlen(prefix);
        if (l > 8 && !strcmp(prefix + l - 8, ".weights")) prefix[l - 8] = 0;
        if (fge_snapshots_init(&c.snaps, h, &te, &c.bn, j->bn_update, prefix, err)) { rc = cli_fail("%s", err); goto done; }
    }
    if (j->csv && dist_is_root()) {
        if (ws_atomic_open(&csv, j->csv, err)) { rc = cli_fail("%s", err); goto done; }
        c.csv = csv.fp;
    }
    char desc[256];
    sched_describe(&s, desc, sizeof desc);
    if (cli_train_note) fprintf(stderr, "%s\n", cli_train_note);
    fprintf(stderr, "%s: %s on %s: %d images, batch %d, %ld iterations/epoch, %d epochs, %s, momentum %g, decay %g\n",
            j->cmd, j->cfg, j->data, tr.n, B, iters, epochs, desc, momentum, decay);
    /* the batches while the running statistics are young, if the run reports or saves anything then */
    long young = train_young_window(h, &s, iters, epochs, j->no_test, j->save_every, j->eval_every, te.n > 0,
                                    j->stop_after > 0 ? j->stop_after * iters : 0);
    if (c.snapshots) fprintf(stderr, "%s: %ld snapshots (%s_snapNN.weights), BN statistics %s\n", j->cmd, nsnap, c.snaps.prefix,
                             j->bn_update ? "recomputed for each snapshot"
                             : young > 0 ? "of training (running averages) once these are no longer young (below)"
                             : "of training (running averages)");
    if (young > 0)
        fprintf(stderr, "%s: Darknet's BN running statistics start at zero and move 1 %% per batch, so for the next %ld batches "
                "(through epoch %ld) the test numbers, snapshots and saved weights use exact statistics from %d training "
                "images instead\n", j->cmd, young, (young + iters - 1) / iters, run_bn_swap_images(&c.bn));
    print_header(&c);
    int epoch = 0;
    uint64_t iteration = 0;
    rng_t rng;
    rng_seed(&rng, (uint64_t)j->seed);
    train_loop L = { &tr, B, epochs, &epoch, &iteration, &rng, (uint64_t)j->seed, &s, 1, "epoch", j->stop_after,
                     &c, NULL, run_step, run_after_iter, run_epoch_end, 0, 0 };
    dist_batch_split(host_batch(h), &B, &L.shard_off);
    L.shard_n = host_batch(h);
    if (train_run(&L, err)) {
        rc = cli_fail("%s: %s%s", j->cfg, err, strstr(err, "diverged") ? "; nothing saved after the last checkpoint" : "");
        goto done;
    }
    if (c.snapshots) {
        printf("\n%d snapshots: last snapshot test nll %.4f acc %.2f; ensemble of all %d: nll %.4f acc %.2f\n", c.snaps.count,
               c.snaps.single.nll, c.snaps.single.acc, c.snaps.count, c.snaps.ensemble.nll, c.snaps.ensemble.acc);
        fflush(stdout);
    }
    if (!dist_is_root()) goto done;   /* rank 0 writes the files */
    if (j->csv) {
        if (ws_atomic_commit(&csv, err)) { rc = cli_fail("%s", err); goto done; }
        c.csv = NULL;
        fprintf(stderr, "wrote %s\n", j->csv);
    }
    if (j->png) rc = write_fge_plot(&c, j->png);
done:
    if (c.csv) ws_atomic_abort(&csv);
    if (c.snapshots) fge_snapshots_free(&c.snaps);
    run_bn_swap_free(&c.bn);
    train_sgd_free(&c.sgd);
    free(c.w0); free(c.lr_hist); free(c.dist_hist); free(c.ev_it); free(c.ev_err); free(c.snap_it); free(c.snap_err); free(c.ens_err);
    host_free(h); data_free(&tr); data_free(&te);
    return rc;
}

int cmd_train(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet train");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    train_job j = { 0 };
    j.cmd = "train";
    j.epochs = cli_int(&a, "epochs", 0);
    j.seed = cli_int(&a, "seed", 1);
    j.out = cli_str(&a, "out", NULL);
    j.save_every = cli_int(&a, "save_every", 0);
    const char *sched_s = cli_str(&a, "schedule", "cfg");
    j.lr = cli_float(&a, "lr", -1);
    j.limit = cli_int(&a, "limit", 0);
    j.test_limit = cli_int(&a, "test_limit", 0);
    j.no_test = cli_flag(&a, "no_test");
    j.csv = cli_str(&a, "csv", NULL);
    j.png = cli_str(&a, "png", NULL);
    j.bn_update = cli_flag(&a, "bn_update");
    j.bn_limit = cli_int(&a, "bn_limit", 0);
    j.eval_every = cli_int(&a, "eval_every", 0);
    j.stop_after = cli_int(&a, "stop_after", 0);
    if (np < 2) { return cli_usage_error(help); }
    if (cli_check_unused(&a)) return 2;
    if (!strcmp(sched_s, "reference")) j.kind = SCHED_REFERENCE;
    else if (!strcmp(sched_s, "cfg")) j.kind = SCHED_CFG;
    else return cli_fail("-schedule must be cfg or reference, got '%s'", sched_s);
    j.data = pos[0]; j.cfg = pos[1]; j.weights = np > 2 ? pos[2] : NULL;
    return cli_run_training(&j);
}
