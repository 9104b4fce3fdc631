/* train.c: "darknet train <data> <cfg> [weights]": ordinary training with Darknet's semantics
 * (the cfg's learning_rate/policy/momentum/decay, decay on weights only), driven by the
 * plugin's batch step and SGD so the same primitives serve the curve trainer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "run.h"
#include "schedule.h"
#include "wspace.h"

static const char *help =
    "usage: darknet train <data> <cfg> [weights] [options]\n"
    "  -epochs N        epochs (default: the cfg's max_batches in epochs); sets max_batches,\n"
    "                   so that policies relative to it (poly, sigmoid) scale to the run\n"
    "  -seed S          seed for initialisation, shuffling and augmentation (default 1)\n"
    "  -out FILE        output .weights (default <backup>/<cfg name>.weights)\n"
    "  -save_every N    also save every N epochs (default 0: only at the end)\n"
    "  -schedule S      cfg (Darknet's policy from the cfg, default) or reference\n"
    "                   (constant to 50%, linear to 1% at 90%, as the paper's code)\n"
    "  -lr X            override the cfg's learning_rate\n"
    "  -limit N         use only the first N training images\n"
    "  -test_limit N    evaluate on the first N test images\n"
    "  -no_test         skip the per-epoch test evaluation\n"
    "Prints one row per epoch: epoch, lr, train loss, train acc, test nll, test acc, seconds.\n";

static void default_out(char *buf, size_t n, const data_cfg *dc, const char *cfg) {
    const char *base = strrchr(cfg, '/');
    base = base ? base + 1 : cfg;
    char name[512];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot) *dot = 0;
    const char *dir = dc->backup[0] ? dc->backup : ".";
    size_t l = strlen(dir);
    snprintf(buf, n, "%s%s%s.weights", dir, (l && dir[l - 1] == '/') ? "" : "/", name);
}

int cmd_train(int argc, char **argv) {
    if (cli_has_help(argc, argv)) { fputs(help, stdout); return 0; }
    cli_args a;
    cli_args_init(&a, argc, argv, "darknet train");
    char *pos[3];
    int np = cli_positionals(&a, pos, 3);
    int epochs = cli_int(&a, "epochs", 0);
    int seed = cli_int(&a, "seed", 1);
    const char *out = cli_str(&a, "out", NULL);
    int save_every = cli_int(&a, "save_every", 0);
    const char *sched = cli_str(&a, "schedule", "cfg");
    double lr_override = cli_float(&a, "lr", -1);
    int limit = cli_int(&a, "limit", 0);
    int test_limit = cli_int(&a, "test_limit", 0);
    int no_test = cli_flag(&a, "no_test");
    if (np < 2) { fputs(help, stderr); return 2; }
    if (cli_check_unused(&a)) return 2;
    int reference = !strcmp(sched, "reference");
    if (!reference && strcmp(sched, "cfg")) return cli_fail("-schedule must be cfg or reference, got '%s'", sched);

    dataset tr = {0}, te = {0};
    data_cfg dc;
    if (cli_load_split(pos[0], 0, limit, &tr, &dc)) return 1;
    if (!no_test && cli_load_split(pos[0], 1, test_limit, &te, &dc)) { data_free(&tr); return 1; }
    srand(seed);                                   /* Darknet initialises weights with rand() */
    host_net *h = cli_load_net(pos[1], np > 2 ? pos[2] : NULL, &tr, 0);
    if (!h) { data_free(&tr); data_free(&te); return 1; }
    char outbuf[2048];
    if (!out) { default_out(outbuf, sizeof outbuf, &dc, pos[1]); out = outbuf; mkdir(dc.backup[0] ? dc.backup : ".", 0777); }
    if (cli_check_writable(out)) { host_free(h); data_free(&tr); data_free(&te); return 1; }

    int B = host_batch(h), k = host_outputs(h), in = host_inputs(h);
    int iters = tr.n / B;
    if (iters < 1) { host_free(h); data_free(&tr); data_free(&te);
        return cli_fail("%s: %d training images are fewer than one batch of %d", pos[0], tr.n, B); }
    int start = (int)(host_seen(h) / (uint64_t)B);      /* iterations already done */
    if (epochs <= 0) {   /* up to the cfg's max_batches, as Darknet trains */
        int left = host_cfg_max_batches(h) - start;
        epochs = left > 0 ? (left + iters - 1) / iters : 1;
    } else               /* -epochs N more epochs: max_batches is where this run ends */
        host_set_max_batches(h, start + epochs * iters);
    double base_lr = lr_override > 0 ? lr_override : host_cfg_learning_rate(h);
    float momentum = host_cfg_momentum(h), decay = host_cfg_decay(h);
    size_t np_ = host_nparams(h);
    float *w = malloc(np_ * sizeof(float)), *g = malloc(np_ * sizeof(float)), *v = calloc(np_, sizeof(float));
    unsigned char *mask = malloc(np_);
    float *x = malloc((size_t)B * in * sizeof(float)), *y = malloc((size_t)B * k * sizeof(float));
    int *order = malloc((size_t)tr.n * sizeof(int));
    host_get_params(h, w);
    host_decay_mask(h, mask);
    rng_t rng;
    rng_seed(&rng, (uint64_t)seed);
    data_identity(order, tr.n);

    fprintf(stderr, "train: %s on %s: %d images, batch %d, %d iterations/epoch, %d epochs, lr %g (%s), momentum %g, decay %g\n",
            pos[1], pos[0], tr.n, B, iters, epochs, base_lr, reference ? "reference schedule" : "cfg policy", momentum, decay);
    printf("%5s %10s %10s %9s %9s %9s %8s\n", "epoch", "lr", "tr_loss", "tr_acc", "te_nll", "te_acc", "time");
    fflush(stdout);
    int rc = 0;
    /* like Darknet, a run that starts from a .weights file continues its policy from `seen` */
    size_t global = (size_t)start;
    char err[512], label[64];
    for (int e = 1; e <= epochs && !rc; e++) {
        double t0 = cli_now();
        data_shuffle(order, tr.n, &rng);
        double loss_sum = 0; long correct = 0;
        float lr = 0;
        snprintf(label, sizeof label, "epoch %d", e);
        for (int it = 0; it < iters; it++, global++) {
            if (reference) lr = (float)sched_reference(base_lr, e, epochs);
            else { lr = host_policy_rate(h, global); if (lr_override > 0) lr *= (float)(lr_override / host_cfg_learning_rate(h)); }
            data_batch(&tr, order, it * B, B, x, y, 1, &rng);
            int c = 0;
            float loss = host_step(h, x, y, &c);
            if (!isfinite(loss)) {
                rc = cli_fail("%s: training loss became %f at epoch %d, iteration %d (lr %g): nothing saved", pos[1], loss, e, it, lr);
                break;
            }
            loss_sum += loss; correct += c;
            host_get_grad(h, g);
            ws_sgd_step(np_, w, g, v, lr, momentum, decay, mask);
            host_set_params(h, w);
            host_set_seen(h, host_seen(h) + B);
            run_progress(label, it + 1, iters);
        }
        run_progress_done(label);
        if (rc) break;
        eval_result r = { NAN, NAN, 0 };
        if (!no_test) r = run_eval(h, &te, NULL, "test");
        printf("%5d %10.6f %10.4f %9.2f %9.4f %9.2f %8.1f\n", e, lr, loss_sum / iters, 100.0 * correct / ((double)iters * B),
               r.nll, r.acc, cli_now() - t0);
        fflush(stdout);
        if ((save_every > 0 && e % save_every == 0) || e == epochs) {
            if (host_save_weights(h, out, err)) { rc = cli_fail("%s", err); break; }
            fprintf(stderr, "saved %s\n", out);
        }
    }
    free(w); free(g); free(v); free(mask); free(x); free(y); free(order);
    host_free(h); data_free(&tr); data_free(&te);
    return rc;
}
