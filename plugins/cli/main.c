/* main.c: ./darknet, our subcommands plus pass-through. Unknown subcommands are handed to
 * the system darknet binary so that "./darknet detector ..." keeps working. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#ifdef FAST
#include "fast.h"
#endif

#ifndef SYSTEM_DARKNET
#define SYSTEM_DARKNET "/usr/bin/darknet"
#endif

static void usage(FILE *f) {
    fprintf(f,
        "usage: darknet <command> [args] (each command prints its help with -h)\n"
        "\n"
        "mode connectivity and fast ensembling for Darknet:\n"
        "  train    <data> <cfg> [weights]              train a network (Darknet semantics)\n"
        "  eval     <data> <cfg> <weights>              test NLL and accuracy (optionally with exact BN)\n"
        "  curve train  <data> <cfg> <a.weights> <b.weights>   train a Bezier/PolyChain curve\n"
        "  curve eval   <data> <cfg> <run.curve>        loss and error along a curve\n"
        "  curve line   <data> <cfg> <a.weights> <b.weights>   ... along the straight line\n"
        "  curve export <data> <cfg> <run.curve> -t T -out w.weights\n"
        "  plane    <data> <cfg> (-curve run.curve | a b c .weights | w.weights -random)   loss surface in a plane\n"
        "\n"
        "any other command is passed to %s (classifier, detector, ...)\n", SYSTEM_DARKNET);
}

int main(int argc, char **argv) {
#ifdef FAST
    fast_exec_passive_wait(argv);   /* OpenMP threads sleep, not spin, between regions */
#endif
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "curve")) return cmd_curve(argc - 1, argv + 1);
    if (!strcmp(cmd, "plane")) return cmd_plane(argc - 1, argv + 1);
    argv[0] = (char *)SYSTEM_DARKNET;
    execv(SYSTEM_DARKNET, argv);
    fprintf(stderr, "darknet: unknown command '%s', and %s could not be run to handle it\n", cmd, SYSTEM_DARKNET);
    return 2;
}
