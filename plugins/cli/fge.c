/* fge.c: "darknet fge <data> <cfg> <pretrained.weights>": Fast Geometric Ensembling with the
 * reference's recipe from the command line (fge.py): from a trained network, SGD with the
 * triangle learning rate lr1 -> lr2 -> lr1 per cycle, a snapshot at every minimum, and the
 * ensemble of the snapshots (mean of softmax probabilities) evaluated as it grows. It is
 * "darknet train" with the cfg's policy replaced by fge_cyclic. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "schedule.h"

static const char *help =
    "usage: darknet fge <data> <cfg> <pretrained.weights> [options]\n"
    "Fast Geometric Ensembling (Garipov et al. 2018): cycles of a triangle learning rate\n"
    "from a trained network, a snapshot at each minimum, the ensemble of the snapshots.\n"
    "  -epochs N        FGE epochs (default 20)\n"
    "  -cycle E         cycle length in epochs; an even number of iterations (default 4)\n"
    "  -lr1 X           learning rate at the cycle boundaries (default 0.05)\n"
    "  -lr2 Y           learning rate at mid-cycle, where snapshots are taken (default 0.0001)\n"
    "  -seed S          seed for shuffling and augmentation (default 1)\n"
    "  -out FILE        the final network (default <backup>/<cfg name>_fge.weights); snapshot\n"
    "                   k goes to <out stem>_snapKK.weights\n"
    "  -bn_update       exact BN statistics for each snapshot (default: training's running\n"
    "                   statistics, as fge.py, once fewer than 5 % of them is Darknet's\n"
    "                   initial zero; before, exact ones: see darknet train -h)\n"
    "  -bn_limit N      ... from the first N training images\n"
    "  -limit N, -test_limit N   first N training / test images\n"
    "  -csv FILE        the table as CSV\n"
    "  -png FILE        figure: learning rate, test error and distance from the start against\n"
    "                   the iteration, snapshots marked (.png, .svg or .pdf)\n"
    "  -eval_every N    also measure the test error every N iterations (for the figure)\n"
    "  -baseline W[,W...]  the figure also shows these networks' test error (their ensemble's,\n"
    "                   several): a dotted line, e.g. independently trained networks (Ind)\n"
    "  -baseline_label T   its legend entry\n"
    "Momentum and weight decay are the cfg's (decay on weights only, as Darknet).\n"
    "A detector cfg ([yolo], [region]): Darknet's detection loop as 'darknet detector train' with\n"
    "this triangle (an epoch: the training list once), snapshots in the .data's backup= with\n"
    "their mAP and the ensemble's; -test_limit: the valid images evaluated.\n"
    "Rows: epoch (fractional for a snapshot inside an epoch), lr, train loss/acc, test NLL/acc\n"
    "of the network, snapshot number, ensemble NLL/acc, distance ||w - w0||, seconds.\n";

/* A detector: Darknet's detection loop (darknet detector train) with the triangle from the
 * command line; snapshots, the final weights and the table as there. */
static int fge_detector(const train_job *t) {
    if (t->out || t->csv || t->png || t->bn_update || t->limit || t->eval_every || t->baseline)
        return cli_fail("%s: a detector: fge takes -epochs, -cycle, -lr1, -lr2, -seed and -test_limit (the valid images "
                        "of each snapshot's mAP); snapshots go to the .data's backup= as in 'darknet detector train'", t->cfg);
    srand((unsigned)t->seed);
    det_train_job j = { 0 };
    j.data = t->data; j.cfg = t->cfg; j.weights = t->weights;
    j.valid_limit = t->test_limit;
    j.fge_epochs = t->epochs; j.fge_cycle_epochs = t->cycle_epochs; j.fge_lr1 = t->lr; j.fge_lr2 = t->lr2;
    return cli_detector_run(&j);
}

int cmd_fge(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet fge");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    train_job j = { 0 };
    j.cmd = "fge";
    j.kind = SCHED_FGE;
    j.epochs = cli_int(&a, "epochs", 20);
    j.cycle_epochs = cli_float(&a, "cycle", 4);
    j.lr = cli_float(&a, "lr1", 0.05);
    j.lr2 = cli_float(&a, "lr2", 0.0001);
    j.seed = cli_int(&a, "seed", 1);
    j.out = cli_str(&a, "out", NULL);
    j.bn_update = cli_flag(&a, "bn_update");
    j.bn_limit = cli_int(&a, "bn_limit", 0);
    j.limit = cli_int(&a, "limit", 0);
    j.test_limit = cli_int(&a, "test_limit", 0);
    j.csv = cli_str(&a, "csv", NULL);
    j.png = cli_str(&a, "png", NULL);
    j.eval_every = cli_int(&a, "eval_every", 0);
    j.baseline = cli_str(&a, "baseline", NULL);
    j.baseline_label = cli_str(&a, "baseline_label", NULL);
    if (cli_check_unused(&a)) return 2;
    if (np < 3) { return cli_usage_error(help); }
    if (j.epochs < 1) return cli_fail("-epochs must be at least 1, got %d", j.epochs);
    if (!(j.lr > 0) || !(j.lr2 > 0)) return cli_fail("-lr1 and -lr2 must be positive, got %g and %g", j.lr, j.lr2);
    j.data = pos[0]; j.cfg = pos[1]; j.weights = pos[2];
    if (cli_is_detector_args(2, pos)) return fge_detector(&j);
    return cli_run_training(&j);
}
