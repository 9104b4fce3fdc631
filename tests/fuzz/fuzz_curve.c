/* fuzz_curve.c: the .curve reader (curve_load). Each input is tried twice: as it is, and with
 * its last four bytes replaced by the right CRC-32 of the rest, so that mutations reach the
 * header and payload checks behind the checksum. */
#include <math.h>
#include <zlib.h>
#include "fuzz_util.h"
#include "curve.h"

static void one(const uint8_t *d, size_t n) {
    const char *p = fz_file(0, d, n);
    curve cv;
    char err[CURVE_ERRLEN] = "";
    if (curve_load(&cv, p, err)) { fz_check_err(err, p, NULL); return; }
    FZ_ASSERT(cv.k >= 2 && cv.k <= 64 && cv.n > 0);
    FZ_ASSERT(cv.type == CURVE_BEZIER || cv.type == CURVE_POLYCHAIN);
    /* the payload accounts for every byte between the header and the CRC */
    size_t nfree = 0;
    for (int j = 0; j < cv.k; j++) nfree += (size_t)curve_is_free(&cv, j);
    size_t ns = cv.stats[0] ? cv.nstats : 0;
    size_t want = 112 + 4 * ((size_t)cv.k * cv.n + 2 * ns + ((cv.flags & CURVE_HAS_STATE) ? nfree * cv.n : 0)) + 4;
    FZ_ASSERT(want == n);
    for (int j = 0; j < cv.k; j++)
        for (size_t i = 0; i < cv.n; i++) FZ_ASSERT(isfinite(cv.bends[j][i]));
    /* a point on the curve is computable (touches every bend) */
    float *w = malloc(cv.n * sizeof *w);
    FZ_ASSERT(w);
    curve_point(&cv, 0.5, w);
    free(w);
    curve_free(&cv);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    one(d, n);
    if (n >= 4) {
        uint8_t *c = malloc(n);
        FZ_ASSERT(c);
        memcpy(c, d, n);
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), c, (uInt)(n - 4));
        memcpy(c + n - 4, &crc, 4);
        one(c, n);
        free(c);
    }
    return 0;
}
