/* eval.c: "darknet eval <data> <cfg> <weights>": test NLL and accuracy of one network, with
 * the stored BN statistics or (-bn_update) statistics recomputed exactly on the train set.
 * Stored statistics too young to trust (run_bn_young) get a one-line warning. */
#include <stdlib.h>
#include "cli.h"
#include "run.h"

static const char *help =
    "usage: darknet eval <data> <cfg> <weights> [options]\n"
    "  -bn_update       recompute BN statistics on the training set first\n"
    "  -bn_limit N      ... on its first N images only\n"
    "  -train           also evaluate on the training set\n"
    "  -train_limit N   ... on its first N images only\n"
    "  -test_limit N    evaluate on the first N test images\n"
    "Without -bn_update, a network that has seen fewer than 299 batches (29 on AlexeyAB's\n"
    "Darknet) gets a warning: its stored statistics may still be Darknet's young running\n"
    "averages (1 % per batch from 0; 10 % on AlexeyAB's).\n";

int cmd_eval(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet eval");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    int bn = cli_flag(&a, "bn_update"), bn_limit = cli_int(&a, "bn_limit", 0);
    int on_train = cli_flag(&a, "train"), test_limit = cli_int(&a, "test_limit", 0);
    int train_limit = cli_int(&a, "train_limit", 0);
    if (np < 3) { return cli_usage_error(help); }
    if (cli_check_unused(&a)) return 2;
    dataset tr = {0}, te = {0};
    data_cfg dc;
    if (cli_load_split(pos[0], 1, test_limit, &te, &dc)) return 1;
    if ((bn || on_train) && cli_load_split(pos[0], 0, 0, &tr, &dc)) { data_free(&te); return 1; }
    host_net *h = cli_load_net(pos[1], pos[2], &te, 0);
    if (!h) { data_free(&tr); data_free(&te); return 1; }
    char note[DKMC_ERRLEN + 2048];
    if (bn) run_bn_update(h, &tr, bn_limit, "bn");
    else if (run_bn_young_warning(h, pos[2], note, sizeof note)) fprintf(stderr, "eval: warning: %s; -bn_update recomputes them\n", note);
    printf("%-8s %10s %9s %7s\n", "split", "nll", "acc", "images");
    dataset trl = tr;
    if (train_limit > 0 && train_limit < trl.n) trl.n = train_limit;
    if (on_train) { eval_result r = run_eval(h, &trl, NULL, "train"); printf("%-8s %10.4f %9.2f %7d\n", "train", r.nll, r.acc, r.n); }
    eval_result r = run_eval(h, &te, NULL, "test");
    printf("%-8s %10.4f %9.2f %7d\n", "test", r.nll, r.acc, r.n);
    host_free(h); data_free(&tr); data_free(&te);
    return 0;
}
