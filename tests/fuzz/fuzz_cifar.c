/* fuzz_cifar.c: the CIFAR-10/100 binary reader, data_load_cifar. Input layout:
 *   byte 0: classes - 1; byte 1: limit (0 = all); byte 2: bit 0 cifar100, bit 1 name the file
 *   twice ("f, f": the comma-separated list of batches); then the batch file. */
#include "fuzz_util.h"
#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 3) return 0;
    int classes = d[0] + 1, limit = d[1], c100 = d[2] & 1, twice = d[2] & 2;
    const char *p = fz_file(0, d + 3, n - 3);
    char files[200];
    snprintf(files, sizeof files, twice ? "%s, %s" : "%s", p, p);
    dataset ds;
    char err[DATA_ERRLEN] = "";
    if (data_load_cifar(files, c100 ? "cifar100" : "cifar10", classes, limit, &ds, err)) {
        fz_check_err(err, p, NULL);
        FZ_ASSERT(!ds.X && !ds.labels && ds.n == 0);
        return 0;
    }
    size_t rec = 3072 + (c100 ? 2 : 1), nrec = (n - 3) / rec * (twice ? 2 : 1);
    FZ_ASSERT((n - 3) % rec == 0);
    FZ_ASSERT(ds.n == (limit && (size_t)limit < nrec ? limit : (int)nrec));
    FZ_ASSERT(ds.w == 32 && ds.h == 32 && ds.c == 3);
    for (int i = 0; i < ds.n; i++) {
        const uint8_t *r = d + 3 + (i % (int)((n - 3) / rec)) * rec;
        FZ_ASSERT(ds.labels[i] == r[c100 ? 1 : 0] && ds.labels[i] < classes);
        FZ_ASSERT(ds.X[(size_t)i * 3072 + 5] == r[(c100 ? 2 : 1) + 5] / 255.0f);
    }
    data_free(&ds);
    return 0;
}
