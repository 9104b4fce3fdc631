/* main.c: ./darknet, our subcommands plus pass-through. Unknown subcommands are handed to
 * the system darknet binary so that "./darknet detector ..." keeps working. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "dist.h"
#include "host.h"
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
        "  fge      <data> <cfg> <pretrained.weights>   Fast Geometric Ensembling: cycles, snapshots, ensemble\n"
        "  plot     <file.csv> -x COL -y COL -png out.png   line plot of any table this tool writes\n"
        "  ensemble <data> <cfg> <w1> <w2> ...        members and their ensemble (mean of probabilities;\n"
        "                                             detectors: mAP, boxes merged by WBF or NMS)\n"
        "  ensemble predict <data> <cfg> <w1> ... <image>   the ensemble's top classes for an image\n"
        "  ensemble detect <data> <cfg> <w1> ... <image> -out boxes.png   a detector ensemble's boxes drawn\n"
        "  swa      <data> <cfg> <w1> <w2> ... -out avg.weights   weight average, BN recomputed\n"
        "  detset   <out directory>                     a detection set made from Fashion-MNIST\n"
        "  detector train <data> <cfg> [weights]        Darknet's detector training; fge_cyclic/sgdr snapshots\n"
        "  detector map   <data> <cfg> <weights>        per-class AP, mAP@0.5, mAP@[.5:.95]\n"
        "  plane    <data> <cfg> (-curve run.curve | a b c .weights | w.weights -random)   loss surface in a plane\n"
        "\n"
        "Built with make MPI=1 (./darknet-mpi), under mpirun -np N: plane and curve eval/line spread\n"
        "their points over the ranks; train, fge and curve train are data-parallel (docs/scaling.md).\n"
        "\n"
        "-gpu i anywhere: run on GPU i (GPU=1 builds; GPU 0 by default), -nogpu: on the CPU\n"
        "Darknet's own commands (classifier, detector, ...) are passed to %s\n", SYSTEM_DARKNET);
}

/* Darknet's -gpu i and -nogpu, taken out of argv before a command of ours parses it (the
 * system binary gets them untouched). Returns the new argc, or -1 after a one-line error. */
static int take_device_flags(int argc, char **argv) {
    int index = 0, set = 0, out = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-nogpu")) { index = -1; set = 1; continue; }
        if (!strcmp(argv[i], "-gpu") || !strcmp(argv[i], "-gpus")) {   /* -gpus: Darknet's detector flag, first GPU */
            char *end = NULL;
            if (i + 1 >= argc || (index = (int)strtol(argv[i + 1], &end, 10), !*argv[i + 1] || *end || index < 0)) {
                fprintf(stderr, "darknet: -gpu needs a device number (0, 1, ...)\n");
                return -1;
            }
            set = 1; i++;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    if (!set && dist_size() > 1) {   /* under mpirun in a GPU build: one GPU per rank on a node */
        int g = dist_gpu_for_rank(-1, host_gpu_count());
        if (g >= 0) { index = g; set = 1; }
    }
    char err[HOST_ERRLEN];
    if (set && host_select_gpu(index, err)) { fprintf(stderr, "darknet: %s\n", err); return -1; }
    return out;
}

/* The commands of the system binary (pjreddie's examples/darknet.c). Only these are passed
 * through: anything else would reach it, print "Not an option" and exit 0, so a typo in a
 * script would go unnoticed. */
static const char *system_commands[] = {
    "average", "yolo", "super", "lsd", "detector", "detect", "cifar", "go", "rnn", "vid", "coco",
    "classify", "classifier", "regressor", "isegmenter", "segmenter", "art", "tag", "3d", "test",
    "nightmare", "rgbgr", "reset", "denormalize", "statistics", "normalize", "rescale", "ops",
    "speed", "oneoff", "oneoff2", "print", "partial", "visualize", "mkimg", "imtest", NULL };

static int run_command(int argc, char **argv);

/* Under mpirun (make MPI=1) every rank runs the same command; dist_finish ends MPI and turns
 * a failure into mpirun's failure. */
/* OpenMP threads sleep, not spin, between parallel regions. fast_exec_passive_wait (fast.h)
 * in a FAST build; the same re-exec here otherwise, for FAST=0 builds and above all for the
 * second host, whose libdarknet (AlexeyAB's, OPENMP=1) runs small parallel loops in every
 * layer: with the default spin policy, on 2 cores shared with other jobs, a training epoch of
 * tests/lib/fashion-mish.cfg on 1024 images took 18 s instead of 0.7 s. */
static void passive_wait(char **argv) {
#ifdef FAST
    fast_exec_passive_wait(argv);
#else
    if (!argv || getenv("OMP_WAIT_POLICY") || getenv("DKFAST_NOEXEC")) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OMP_WAIT_POLICY");   /* exec failed: carry on as we are */
#endif
}

int main(int argc, char **argv) {
    passive_wait(argv);   /* re-execs: before MPI_Init */
    dist_init(&argc, &argv);
    if (dist_size() > 1) {
        /* plane, curve eval/line/train, train and fge spread their work over the ranks;
         * any other command runs on rank 0 alone */
        const char *c = argc > 1 ? argv[1] : "";
        int spread = !strcmp(c, "plane") || !strcmp(c, "train") || !strcmp(c, "fge") ||
                     (!strcmp(c, "curve") && argc > 2 && strcmp(argv[2], "export"));
        if (!spread) {
            if (dist_rank() > 0) return dist_finish(0);
            fprintf(stderr, "darknet: '%s%s%s' does not use several ranks: rank 0 runs it alone (%d idle)\n", c,
                    argc > 2 && !strcmp(c, "curve") ? " " : "", argc > 2 && !strcmp(c, "curve") ? argv[2] : "", dist_solo() - 1);
        }
    }
    return dist_finish(run_command(argc, argv));
}

static int run_command(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train") || !strcmp(cmd, "eval") || !strcmp(cmd, "curve") || !strcmp(cmd, "plane")
        || !strcmp(cmd, "ensemble") || !strcmp(cmd, "swa") || !strcmp(cmd, "fge")) {
        argc = take_device_flags(argc, argv);
        if (argc < 0) return 2;
    }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "curve")) return cmd_curve(argc - 1, argv + 1);
    if (!strcmp(cmd, "plane")) return cmd_plane(argc - 1, argv + 1);
    if (!strcmp(cmd, "ensemble")) return cmd_ensemble(argc - 1, argv + 1);
    if (!strcmp(cmd, "swa")) return cmd_swa(argc - 1, argv + 1);
    if (!strcmp(cmd, "fge")) return cmd_fge(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 1, argv + 1);
    if (!strcmp(cmd, "detset")) return cmd_detset(argc - 1, argv + 1);
    if (!strcmp(cmd, "detector") && cli_detector_is_ours(argc - 1, argv + 1)) {
        argc = take_device_flags(argc, argv);
        if (argc < 0) return 2;
        return cli_detector_intercept(argc - 1, argv + 1);
    }
    if (!strcmp(cmd, "classifier")) {
        int rc = cli_classifier_intercept(argc - 1, argv + 1);
        if (rc >= 0) return rc;
    }
    int known = 0;
    for (int i = 0; system_commands[i]; i++) known |= !strcmp(cmd, system_commands[i]);
    if (!known) {
        fprintf(stderr, "darknet: unknown command '%s' (darknet -h lists the commands)\n", cmd);
        return 2;
    }
    argv[0] = (char *)SYSTEM_DARKNET;
    execv(SYSTEM_DARKNET, argv);
    fprintf(stderr, "darknet: unknown command '%s', and %s could not be run to handle it\n", cmd, SYSTEM_DARKNET);
    return 2;
}
