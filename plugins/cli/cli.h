/* cli.h: the command line. main.c dispatches subcommands with a flat strcmp chain, as
 * Darknet's examples/darknet.c does; each subcommand lives in its own file. Only cli/ turns
 * an error into a message and an exit code. */
#ifndef CLI_H
#define CLI_H
#include <stdio.h>
#include "data.h"
#include "host.h"

/* Options: "-name value" pairs and "-flag" switches after the positional arguments. Every
 * option an invocation uses must be known, so that a typo is an error, not a silent default. */
typedef struct {
    int argc;
    char **argv;
    unsigned char *used;
    const char *cmd;         /* for messages: "darknet train" */
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv, const char *cmd);
int cli_has_help(int argc, char **argv);
/* Positional arguments: those before the first -option (or after, if not options). */
int cli_positionals(cli_args *a, char **out, int max);
int cli_flag(cli_args *a, const char *name);
int cli_int(cli_args *a, const char *name, int def);
double cli_float(cli_args *a, const char *name, double def);
const char *cli_str(cli_args *a, const char *name, const char *def);
/* After reading every option: returns nonzero (and prints an error) for unknown options. */
int cli_check_unused(cli_args *a);

/* Print "darknet: <message>" to stderr and return 1 (the exit code). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load the .data file and a split; the error names the file. */
int cli_load_split(const char *datafile, int split, int limit, dataset *d, data_cfg *cfg);
/* Load cfg (+ weights if not NULL) and check the data set fits the network. */
host_net *cli_load_net(const char *cfgfile, const char *weights, const dataset *d, int batch);

double cli_now(void);
/* Fails early (before hours of training) if path cannot be written; creates nothing. */
int cli_check_writable(const char *path);

int cmd_train(int argc, char **argv);
int cmd_curve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_plane(int argc, char **argv);
#endif
