/* fuzz_image.c: one image file as the list reader loads it, data_load_image: stb_image's
 * decoders (compiled into our data module), the conversion to 1 or 3 channels and our
 * bilinear resize to CHW floats. Input: byte 0: width - 1 (% 48), byte 1: height - 1 (% 48),
 * byte 2: bit 0 set = 3 channels; then the image file. */
#include "fuzz_util.h"
#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 3) return 0;
    int w = d[0] % 48 + 1, h = d[1] % 48 + 1, c = (d[2] & 1) ? 3 : 1;
    const char *p = fz_file(0, d + 3, n - 3);
    size_t len = (size_t)w * h * c;
    float *out = malloc(len * sizeof *out);
    FZ_ASSERT(out);
    for (size_t i = 0; i < len; i++) out[i] = -1;
    char err[DATA_ERRLEN] = "";
    if (data_load_image(p, w, h, c, out, err)) fz_check_err(err, p, NULL);
    else for (size_t i = 0; i < len; i++) FZ_ASSERT(out[i] >= 0 && out[i] <= 1);
    free(out);
    return 0;
}
