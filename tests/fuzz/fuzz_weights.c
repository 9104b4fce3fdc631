/* fuzz_weights.c: our reader of Darknet .weights files (host_load_weights: ws_weights_read's
 * header and size checks, then the copy into the network's arrays) for one small cfg with
 * convolutional, batch-norm and connected layers. This harness calls into libdarknet, once:
 * host_load parses tests/fuzz/weights.cfg at start-up (Darknet's parser, not fuzzed); every
 * input then goes through our code only. */
#include <math.h>
#include "fuzz_util.h"
#include "host.h"

static host_net *g_net;

static const char CFG[] =
    "[net]\nbatch=2\nwidth=4\nheight=4\nchannels=1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[connected]\noutput=3\nactivation=linear\n"
    "[softmax]\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *cfg = fz_file(FZ_SLOTS - 1, CFG, sizeof CFG - 1);
    char err[HOST_ERRLEN];
    g_net = host_load(cfg, 0, err);
    if (!g_net) { fprintf(stderr, "fuzz_weights: %s\n", err); abort(); }
    fprintf(stderr, "fuzz_weights: payload %zu floats (%zu params, %zu BN stats)\n",
            host_payload_len(g_net), host_nparams(g_net), host_nstats(g_net));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *p = fz_file(0, d, n);
    char err[HOST_ERRLEN] = "";
    if (host_load_weights(g_net, p, err)) { fz_check_err(err, p, NULL); return 0; }
    /* accepted: the payload fills the file exactly after a 16- or 20-byte header */
    size_t len = host_payload_len(g_net);
    FZ_ASSERT(n == 16 + 4 * len || n == 20 + 4 * len);
    float *params = malloc(host_nparams(g_net) * sizeof(float) + 1);
    FZ_ASSERT(params);
    host_get_params(g_net, params);
    for (size_t i = 0; i < host_nparams(g_net); i++) FZ_ASSERT(isfinite(params[i]));
    /* the last float of the file is the last float of the network (file order) */
    float last;
    memcpy(&last, d + n - 4, 4);
    float *payload = malloc(len * sizeof(float));
    FZ_ASSERT(payload);
    host_pack_payload(g_net, NULL, NULL, payload);
    FZ_ASSERT(memcmp(&payload[len - 1], &last, 4) == 0);
    free(payload);
    free(params);
    return 0;
}
