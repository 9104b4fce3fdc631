/* fuzz_datacfg.c: the .data file reader, data_cfg_load (key=value lines, comments, the
 * format inference). */
#include "fuzz_util.h"
#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *p = fz_file(0, d, n);
    data_cfg cfg;
    char err[DATA_ERRLEN] = "";
    if (data_cfg_load(p, &cfg, err)) { fz_check_err(err, p, NULL); return 0; }
    FZ_ASSERT(cfg.classes > 0 && cfg.train[0] && cfg.valid[0]);
    FZ_ASSERT(cfg.augment == 0 || cfg.augment == 1);
    FZ_ASSERT(cfg.crop_pad >= 0 && cfg.width >= 0 && cfg.height >= 0 && cfg.channels >= 0);
    const char *f = cfg.format;
    FZ_ASSERT(!strcmp(f, "idx") || !strcmp(f, "cifar10") || !strcmp(f, "cifar100") || !strcmp(f, "list"));
    if (!strcmp(f, "idx")) FZ_ASSERT(cfg.train_labels[0] && cfg.valid_labels[0]);
    if (!strcmp(f, "list")) FZ_ASSERT(cfg.labels[0]);
    FZ_ASSERT(memchr(cfg.train, 0, sizeof cfg.train) && memchr(cfg.path, 0, sizeof cfg.path));
    return 0;
}
