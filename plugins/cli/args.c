/* args.c: Darknet-style option parsing ("-epochs 5", "-free_start") with unknown-option
 * detection, and the shared loaders every subcommand uses. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cli.h"
#include "plot.h"
#include "dist.h"
#include "wspace.h"

void cli_args_init(cli_args *a, int argc, char **argv, const char *cmd) {
    a->argc = argc; a->argv = argv; a->cmd = cmd;
    memset(a->used, 0, sizeof a->used);
    if (argc >= (int)sizeof a->used) { fprintf(stderr, "%s: more than %d arguments\n", cmd, (int)sizeof a->used - 1); exit(2); }
}

int cli_has_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-help")) return 1;
    return 0;
}

static int is_option(const char *s) {
    if (s[0] != '-' || !s[1]) return 0;
    /* a negative number is a value, not an option */
    return !((s[1] >= '0' && s[1] <= '9') || s[1] == '.');
}

static int find(cli_args *a, const char *name) {
    for (int i = 1; i < a->argc; i++)
        if (is_option(a->argv[i]) && !strcmp(a->argv[i] + 1, name)) return i;
    return -1;
}

int cli_flag(cli_args *a, const char *name) {
    int i = find(a, name);
    if (i < 0) return 0;
    a->used[i] = 1;
    return 1;
}

const char *cli_str(cli_args *a, const char *name, const char *def) {
    int i = find(a, name);
    if (i < 0) return def;
    a->used[i] = 1;
    if (i + 1 >= a->argc) { fprintf(stderr, "%s: option -%s needs a value\n", a->cmd, name); exit(2); }
    a->used[i + 1] = 1;
    return a->argv[i + 1];
}

int cli_int(cli_args *a, const char *name, int def) {
    const char *s = cli_str(a, name, NULL);
    if (!s) return def;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s) { fprintf(stderr, "%s: option -%s expects an integer, got '%s'\n", a->cmd, name, s); exit(2); }
    return (int)v;
}

double cli_float(cli_args *a, const char *name, double def) {
    const char *s = cli_str(a, name, NULL);
    if (!s) return def;
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s) { fprintf(stderr, "%s: option -%s expects a number, got '%s'\n", a->cmd, name, s); exit(2); }
    /* strtod reads "nan" and "inf": no option means either, and a NaN would pass every
     * range check written as a comparison (and look like a NaN default) */
    if (!isfinite(v)) { fprintf(stderr, "%s: option -%s expects a finite number, got '%s'\n", a->cmd, name, s); exit(2); }
    return v;
}

int cli_positionals(cli_args *a, char **out, int max) {
    int n = 0;
    for (int i = 1; i < a->argc; i++) {
        if (is_option(a->argv[i])) break;
        if (n < max) { out[n++] = a->argv[i]; a->used[i] = 1; }
    }
    return n;
}

int cli_check_unused(cli_args *a) {
    for (int i = 1; i < a->argc; i++)
        if (!a->used[i]) {
            fprintf(stderr, "%s: unknown option or extra argument '%s' (see %s -h)\n", a->cmd, a->argv[i], a->cmd);
            return 1;
        }
    return 0;
}

int cli_usage_error(const char *help) {
    int n = (int)strcspn(help, "\n");
    fprintf(stderr, "darknet: missing arguments; %.*s (-h for the options)\n", n, help);
    return 2;
}

int cli_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    dist_error(msg);   /* "darknet: msg" on stderr; under mpirun, once for all ranks */
    va_end(ap);
    return 1;
}

int cli_load_split(const char *datafile, int split, int limit, dataset *d, data_cfg *cfg) {
    char err[DKMC_ERRLEN];
    if (data_cfg_load(datafile, cfg, err)) return cli_fail("%s", err);
    if (data_load(cfg, split, limit, d, err)) return cli_fail("%s", err);
    return 0;
}

host_net *cli_load_net(const char *cfgfile, const char *weights, const dataset *d, int batch) {
    char err[DKMC_ERRLEN];
    host_net *h = host_load(cfgfile, batch, err);
    if (!h) { cli_fail("%s", err); return NULL; }
    if (weights && host_load_weights(h, weights, err)) { cli_fail("%s", err); host_free(h); return NULL; }
    if (d) {
        int in = d->w * d->h * d->c;
        if (in != host_inputs(h) || d->classes != host_outputs(h)) {
            cli_fail("%s: network takes %dx%dx%d inputs and has %d outputs, the data has %dx%dx%d images and %d classes",
                     cfgfile, host_width(h), host_height(h), host_channels(h), host_outputs(h), d->w, d->h, d->c, d->classes);
            host_free(h);
            return NULL;
        }
    }
    return h;
}

host_net *cli_shard_net(host_net *h, const char *cfgfile, const char *weights, const dataset *d, int reseed, unsigned seed) {
    if (dist_size() == 1) return h;
    int B = host_batch(h), off, n;
    dist_shard_of(B, dist_rank(), dist_size(), &off, &n);
    host_free(h);
    if (n < 1) {
        cli_fail("%s: a batch of %d images cannot be shared by %d ranks (one image each at least)", cfgfile, B, dist_size());
        return NULL;
    }
    if (reseed) srand(seed);   /* the same initial weights as one process */
    return cli_load_net(cfgfile, weights, d, n);
}


int cli_check_writable(const char *path) {
    ws_atomic a;
    char err[DKMC_ERRLEN];
    if (ws_atomic_open(&a, path, err)) return cli_fail("%s", err);
    ws_atomic_abort(&a);
    return 0;
}

int cli_aspect(const char *word) {
    if (!word || !strcmp(word, "auto")) return 0;
    if (!strcmp(word, "equal")) return 1;
    cli_fail("-aspect must be 'equal' or 'auto', got '%s'", word);
    return -1;
}

int cli_check_picture(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash) || (strcasecmp(dot, ".png") && strcasecmp(dot, ".svg") && strcasecmp(dot, ".pdf")))
        return cli_fail("%s: unknown picture format '%s' (use .png, .svg or .pdf)", path, dot && (!slash || dot > slash) ? dot : "");
    if (plot_unavailable()) return cli_fail("%s: %s", path, plot_unavailable());
    return cli_check_writable(path);
}
