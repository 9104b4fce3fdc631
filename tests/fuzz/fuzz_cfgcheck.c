/* fuzz_cfgcheck.c: our pre-validation of a cfg's text (plugins/host/cfgcheck.c), the pass
 * that runs before Darknet's parser sees the file. Only our code is fuzzed: Darknet's parser
 * is never called (it exits or crashes on some input, which is why this pass exists). Each
 * input is checked twice, with and without DKMC_ALLOW_UNUSED (the unused-key report). */
#include "fuzz_util.h"
#include "host_private.h"

static void one(const char *p, int allow) {
    if (allow) setenv("DKMC_ALLOW_UNUSED", "1", 1);
    else unsetenv("DKMC_ALLOW_UNUSED");
    host_cfg_info info = {0};
    char err[HOST_ERRLEN] = "";
    if (host__validate_cfg(p, &info, err)) { fz_check_err(err, p, NULL); return; }
    FZ_ASSERT(info.nlayers >= 1 && info.line && info.name);
    for (int i = 0; i < info.nlayers; i++) {
        FZ_ASSERT(info.line[i] >= 2 && info.name[i][0] == '[');
        FZ_ASSERT(i == 0 || info.line[i] > info.line[i - 1]);
    }
    host__cfg_info_free(&info);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *p = fz_file(0, d, n);
    one(p, 0);
    one(p, 1);
    return 0;
}
