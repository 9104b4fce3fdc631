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
#include "ens_run.h"
#include "fge.h"
#include "run.h"
#include "train_job.h"
#include "wspace.h"

static const char *help =
    "usage: darknet train <data> <cfg> [weights] [options]\n"
    "  (a detector cfg, ending with [yolo] or [region]: darknet train <data> <cfg> -h)\n"
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
    "Darknet's BN running statistics start at zero and move 1 % per batch (pjreddie's; 10 %\n"
    "in AlexeyAB's): until 95 % of them comes from training (299 batches from scratch; 29),\n"
    "the test numbers, snapshots and saved weights use exact statistics instead (from\n"
    "-bn_limit N images, default all).\n"
    "Prints one row per epoch: epoch, lr, train loss, train acc, test nll, test acc, seconds.\n";

/* ---- printing what the run reports ---- */
static void print_start(void *ctx, const train_session *c) {
    const train_job *j = c->j;
    (void)ctx;
    char desc[256];
    sched_describe(&c->s, desc, sizeof desc);
    if (cli_train_note) fprintf(stderr, "%s\n", cli_train_note);
    fprintf(stderr, "%s: %s on %s: %d images, batch %d, %ld iterations/epoch, %d epochs, %s, momentum %g, decay %g\n",
            j->cmd, j->cfg, j->data, c->tr->n, j->batch, c->iters, c->epochs, desc, c->momentum, c->decay);
    if (c->snapshots) fprintf(stderr, "%s: %ld snapshots (%s_snapNN.weights), BN statistics %s\n", j->cmd, c->nsnap, c->snaps.prefix,
                              j->bn_update ? "recomputed for each snapshot"
                              : c->young > 0 ? "of training (running averages) once these are no longer young (below)"
                              : "of training (running averages)");
    if (c->young > 0)
        fprintf(stderr, "%s: Darknet's BN running statistics start at zero and move %g %% per batch, so for the next %ld batches "
                "(through epoch %ld) the test numbers, snapshots and saved weights use exact statistics from %d training "
                "images instead\n", j->cmd, 100 * (1 - host_bn_keep(c->h)), c->young, (c->young + c->iters - 1) / c->iters,
                run_bn_swap_images(&c->bn));
    if (c->snapshots)
        printf("%6s %10s %10s %9s %9s %9s %5s %9s %9s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_acc", "te_nll", "te_acc",
               "snap", "ens_nll", "ens_acc", "dist", "time");
    else
        printf("%5s %10s %10s %9s %9s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_acc", "te_nll", "te_acc", "time");
    fflush(stdout);
}

static void print_row(void *ctx, const train_session *c, const train_row *r) {
    (void)ctx;
    if (c->snapshots) {
        char ep[16], sn[8] = "-", en[16] = "-", ea[16] = "-", tl[16] = "-", ta[16] = "-";
        if (r->whole) snprintf(ep, sizeof ep, "%6d", (int)r->epoch); else snprintf(ep, sizeof ep, "%6.2f", r->epoch);
        if (r->snap) { snprintf(sn, sizeof sn, "%d", r->snap); snprintf(en, sizeof en, "%.4f", r->ens.nll); snprintf(ea, sizeof ea, "%.2f", r->ens.acc); }
        if (!isnan(r->tr_loss)) { snprintf(tl, sizeof tl, "%.4f", r->tr_loss); snprintf(ta, sizeof ta, "%.2f", r->tr_acc); }
        printf("%6s %10.6f %10s %9s %9.4f %9.2f %5s %9s %9s %9.4f %8.1f\n", ep, r->lr, tl, ta, r->te.nll, r->te.acc, sn, en, ea,
               r->dist, r->secs);
    } else
        printf("%5d %10.6f %10.4f %9.2f %9.4f %9.2f %8.1f\n", (int)r->epoch, r->lr, r->tr_loss, r->tr_acc, r->te.nll, r->te.acc, r->secs);
    fflush(stdout);
}

static void print_saved(void *ctx, const char *path, int exact, int images) {
    (void)ctx;
    if (exact) fprintf(stderr, "saved %s (BN statistics recomputed on %d training images: the running ones are young)\n", path, images);
    else fprintf(stderr, "saved %s\n", path);
}

static void print_summary(void *ctx, const train_session *c) {
    (void)ctx;
    if (!c->snapshots) return;
    printf("\n%d snapshots: last snapshot test nll %.4f acc %.2f; ensemble of all %d: nll %.4f acc %.2f\n", c->snaps.count,
           c->snaps.single.nll, c->snaps.single.acc, c->snaps.count, c->snaps.ensemble.nll, c->snaps.ensemble.acc);
    fflush(stdout);
}

const char *cli_train_note;

/* Loads what the job names, resolves its output and runs it (train_session_run), printing. */
static void baseline_done(void *ctx, const ens_summary *s) { *(double *)ctx = 100 - s->ensemble.acc; }

static const char *base_name(const char *p) { const char *s = strrchr(p, '/'); return s ? s + 1 : p; }

/* The figure's extras: its title, the evaluated split's name, the baseline's test error (the
 * ensemble of the -baseline files, the run's cfg). 0, or -1 after a one-line error. */
static int figure_extras(train_job *j, const data_cfg *dc, const dataset *tr, const dataset *te, char *title, size_t tn,
                         char *label, size_t ln) {
    snprintf(title, tn, "%s: %s on %s%s%s", j->cmd, base_name(j->cfg), base_name(j->data), j->weights ? ", from " : "",
             j->weights ? base_name(j->weights) : "");
    j->title = title;
    j->te_label = dc->valid_is_holdout ? "validation" : "test";
    j->baseline_err = NAN;
    if (!j->baseline) return 0;
    if (j->no_test) return cli_fail("-baseline needs the test set: drop -no_test"), -1;
    char *list = strdup(j->baseline), *members[64];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save)) members[n++] = t;
    char err[DKMC_ERRLEN];
    ens_job b = { j->cfg, members, n, 0, 0, NULL, NULL };
    ens_report rep = { NULL, NULL, baseline_done, &j->baseline_err };
    int rc = n ? ens_eval_run(&b, tr, te, &rep, err) : (snprintf(err, sizeof err, "-baseline names no file"), -1);
    if (!rc) fprintf(stderr, "%s: baseline %s: %s error %.2f %%\n", j->cmd, j->baseline, j->te_label, j->baseline_err);
    if (!rc && !j->baseline_label) {
        if (n == 1) snprintf(label, ln, "baseline: %s", base_name(members[0]));
        else snprintf(label, ln, "baseline: the ensemble of %d networks", n);
        j->baseline_label = label;
    }
    free(list);
    if (rc) return cli_fail("%s", err), -1;
    return 0;
}

int cli_run_training(const train_job *job) {
    train_job j = *job;
    dataset tr = {0}, te = {0};
    data_cfg dc;
    if (cli_load_split(j.data, 0, j.limit, &tr, &dc)) return 1;
    if (!j.no_test && cli_load_split(j.data, 1, j.test_limit, &te, &dc)) { data_free(&tr); return 1; }
    srand(j.seed);                                 /* Darknet initialises weights with rand() */
    host_net *h = cli_load_net(j.cfg, j.weights, &tr, 0);
    j.batch = h ? host_batch(h) : 0;               /* the global batch; under mpirun each rank has a shard */
    if (h) h = cli_shard_net(h, j.cfg, j.weights, &tr, 1, (unsigned)j.seed);
    if (!h) { data_free(&tr); data_free(&te); return 1; }
    char outbuf[2048], err[DKMC_ERRLEN];
    train_session c = { 0 };
    int rc = 1;
    if (host_adam_error(h, j.kind == SCHED_FGE ? "darknet fge" : "darknet train", err)) { cli_fail("%s", err); goto done; }
    if (!j.out) {
        train_default_out(outbuf, sizeof outbuf, dc.backup, j.cfg, j.kind == SCHED_FGE ? "_fge" : "");
        j.out = outbuf;
        mkdir(dc.backup[0] ? dc.backup : ".", 0777);
    }
    if (cli_check_writable(j.out) || (j.png && cli_check_picture(j.png))) goto done;
    char title[512], blabel[256];
    if (j.png && figure_extras(&j, &dc, &tr, &te, title, sizeof title, blabel, sizeof blabel)) goto done;
    train_report rep = { print_start, print_row, print_saved, print_summary, NULL };
    if (train_session_run(&c, &j, h, &tr, &te, &rep, err)) { cli_fail("%s", err); goto done; }
    rc = 0;
    if (!dist_is_root()) goto done;   /* rank 0 writes the files */
    if (j.csv) fprintf(stderr, "wrote %s\n", j.csv);
    if (j.png && isfinite(c.start_err)) fprintf(stderr, "%s: iteration 0 (%s): %s error %.2f %%\n", j.cmd, j.weights, j.te_label, c.start_err);
    if (j.png && train_session_draw(&c, j.png, err)) rc = cli_fail("%s", err);
    else if (j.png) fprintf(stderr, "wrote %s\n", j.png);
done:
    train_session_free(&c);
    host_free(h); data_free(&tr); data_free(&te);
    return rc;
}

int cmd_train(int argc, char **argv) {
    if (argc > 2 && argv[2][0] != '-' && det_cfg_is_detector(argv[2])) return cli_detector_train(argc, argv);
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
