/* cli.h: the command line. main.c dispatches subcommands with a flat strcmp chain, as
 * Darknet's examples/darknet.c does; each subcommand lives in its own file. Only cli/ turns
 * an error into a message and an exit code. */
#ifndef CLI_H
#define CLI_H
#include "clock.h"
#include <stdio.h>
#include "data.h"
#include "host.h"
#include "detector.h"
#include "train_job.h"

/* Options: "-name value" pairs and "-flag" switches after the positional arguments. Every
 * option an invocation uses must be known, so that a typo is an error, not a silent default. */
typedef struct {
    int argc;
    char **argv;
    unsigned char used[1024];   /* argv entries consumed; longer command lines are refused */
    const char *cmd;         /* for messages: "darknet train" */
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv, const char *cmd);
int cli_has_help(int argc, char **argv);
/* Positional arguments: those before the first -option (or after, if not options). */
int cli_positionals(cli_args *a, char **out, int max);
int cli_flag(cli_args *a, const char *name);
int cli_int(cli_args *a, const char *name, int def);
/* A finite number ("nan", "inf" and non-numbers are refused with a one-line error, exit 2). */
double cli_float(cli_args *a, const char *name, double def);
const char *cli_str(cli_args *a, const char *name, const char *def);
/* After reading every option: returns nonzero (and prints an error) for unknown options. */
int cli_check_unused(cli_args *a);

/* Missing positional arguments: one line on stderr, "darknet: missing arguments; <the help's
 * first line> (-h for the options)", and the exit code 2. */
int cli_usage_error(const char *help);
/* Print "darknet: <message>" to stderr and return 1 (the exit code). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load the .data file and a split; the error names the file. */
int cli_load_split(const char *datafile, int split, int limit, dataset *d, data_cfg *cfg);
/* Load cfg (+ weights if not NULL) and check the data set fits the network. */
host_net *cli_load_net(const char *cfgfile, const char *weights, const dataset *d, int batch);

/* Under mpirun (data-parallel training): h reloaded with this rank's balanced shard of its
 * batch (the global batch stays the cfg's; reseed: srand(seed) first, for the same random
 * initial weights). One process: h itself. NULL with an error (h is freed). */
host_net *cli_shard_net(host_net *h, const char *cfgfile, const char *weights, const dataset *d, int reseed, unsigned seed);

/* Fails early (before hours of training) if path cannot be written; creates nothing. */
int cli_check_writable(const char *path);
/* The same for a picture, whose extension must be .png, .svg or .pdf. */
int cli_check_picture(const char *path);
/* -aspect: NULL or "auto" 0, "equal" 1; another word: the one-line error, -1. */
int cli_aspect(const char *word);

/* A training run of "darknet train" or "darknet fge" (cli/train.c): loads the job's data and
 * network, names its output, runs it (train_job.h) and prints the table. */
int cli_run_training(const train_job *j);
/* A line cli_run_training prints on stderr once every check has passed and the run starts
 * (so that a refused run still ends with one line); NULL: none. */
extern const char *cli_train_note;

int cmd_train(int argc, char **argv);
int cmd_fge(int argc, char **argv);
int cmd_plot(int argc, char **argv);
/* "classifier train" with a cfg of ours: runs cmd_train and returns its code; -1: pass through */
int cli_classifier_intercept(int argc, char **argv);
int cmd_curve(int argc, char **argv);
/* "curve train|eval|line|export" with a detector cfg (cli/dcurve.c); argv[0] is the subcommand */
int cli_dcurve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_ensemble(int argc, char **argv);
/* ensemble_det.c: the detector variants of ensemble and swa, and "ensemble detect";
 * cli_is_detector_args: whether an argument names a detector cfg (alone or as cfg:weights) */
int cli_is_detector_args(int argc, char **argv);
int cmd_ensemble_det(int argc, char **argv);
int cmd_ensemble_detect(int argc, char **argv);
int cmd_swa_det(int argc, char **argv);
extern const char *cli_help_ensemble_det, *cli_help_swa_det;
int cmd_swa(int argc, char **argv);
int cmd_plane(int argc, char **argv);
int cmd_detset(int argc, char **argv);
/* The policy= value of a cfg's [net] section ("" if none); -1 if the file cannot be read. */
int cli_net_policy(const char *cfg, char *out, size_t n);
/* "detector train" with policy=fge_cyclic/sgdr and "detector map" run here (cli/detector.c):
 * cli_detector_is_ours says whether argv (detector <sub> ...) is one of them, and
 * cli_detector_intercept runs it; anything else goes to the system binary. */
int cli_detector_is_ours(int argc, char **argv);
int cli_detector_intercept(int argc, char **argv);
/* "train <data> <cfg> [weights] [options]" of a detector: our loop with any policy. */
int cli_detector_train(int argc, char **argv);
/* A detector's training run with the table printed (cli/detector.c). */
int cli_detector_run(det_train_job *j);
/* The two heat maps of a plane CSV, PREFIX_train_loss.png (when it has train losses) and
 * PREFIX_test_error.png, drawn as "darknet plane" draws them (cli/plane.c). */
int cli_plane_pictures(const char *csv, const char *prefix, int equal_aspect);
#endif
