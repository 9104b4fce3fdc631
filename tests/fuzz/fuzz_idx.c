/* fuzz_idx.c: the idx (MNIST) reader, data_load_idx, plain or gzipped. Input layout:
 *   byte 0: classes - 1; byte 1: limit (0 = all); bytes 2-3: length L of the label file
 *   (little-endian); then L bytes of the label file, then the image file. */
#include "fuzz_util.h"
#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 4) return 0;
    int classes = d[0] + 1, limit = d[1];
    size_t l = (size_t)d[2] | (size_t)d[3] << 8;
    d += 4; n -= 4;
    if (l > n) l = n;
    const char *labels = fz_file(0, d, l), *images = fz_file(1, d + l, n - l);
    dataset ds;
    char err[DATA_ERRLEN] = "";
    if (data_load_idx(images, labels, classes, limit, &ds, err)) {
        fz_check_err(err, images, labels);
        FZ_ASSERT(!ds.X && !ds.labels && ds.n == 0);
        return 0;
    }
    FZ_ASSERT(ds.n > 0 && (limit == 0 || ds.n <= limit));
    FZ_ASSERT(ds.c == 1 && ds.w > 0 && ds.h > 0 && ds.classes == classes);
    /* the pixels are the bytes of the file scaled to [0,1]; labels in range */
    for (size_t i = 0; i < (size_t)ds.n * ds.w * ds.h; i++) FZ_ASSERT(ds.X[i] >= 0 && ds.X[i] <= 1);
    for (int i = 0; i < ds.n; i++) FZ_ASSERT(ds.labels[i] >= 0 && ds.labels[i] < classes);
    data_free(&ds);
    return 0;
}
