/* detset.c: "darknet detset <out>": the Fashion-MNIST detection set (data/detset.h). */
#include <stdlib.h>
#include "cli.h"
#include "detset.h"

static const char *help =
    "usage: darknet detset <out directory> [options]\n"
    "  a detection set in Darknet's layout made from Debian's Fashion-MNIST: grey canvases with\n"
    "  clothing items at random places and sizes, images/ + labels/, train.txt, valid.txt,\n"
    "  fashion-det.names and fashion-det.data (absolute paths); the same seed, the same files\n"
    "  -seed N         (1)\n"
    "  -train N        training images (4000), items from Fashion-MNIST's training set\n"
    "  -valid N        valid images (500), items from its test set\n"
    "  -size N         canvas side in pixels (128)\n"
    "  -items N        items per image: 1..N (4)\n"
    "  -min N, -max N  an item's side in pixels (24, 64)\n";

static void progress(void *ctx, int done, int total) {
    (void)ctx;
    if (done == total || done % 500 == 0) fprintf(stderr, "detset: %d/%d images\r%s", done, total, done == total ? "\n" : "");
}

int cmd_detset(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet detset");
    char *pos[1];
    int np = cli_positionals(&a, pos, 1);
    detset_opts o = detset_defaults();
    o.seed = (uint64_t)cli_int(&a, "seed", 1);
    o.ntrain = cli_int(&a, "train", o.ntrain);
    o.nvalid = cli_int(&a, "valid", o.nvalid);
    o.size = cli_int(&a, "size", o.size);
    o.max_items = cli_int(&a, "items", o.max_items);
    o.min_item = cli_int(&a, "min", o.min_item);
    o.max_item = cli_int(&a, "max", o.max_item);
    if (np < 1) return cli_usage_error(help);
    if (cli_check_unused(&a)) return 2;
    o.out = pos[0];
    o.progress = progress;
    char err[DKMC_ERRLEN];
    if (detset_make(&o, err)) return cli_fail("%s", err);
    printf("detset: %d train + %d valid images in %s (seed %llu); train with %s/fashion-det.data\n", o.ntrain, o.nvalid,
           o.out, (unsigned long long)o.seed, o.out);
    return 0;
}
