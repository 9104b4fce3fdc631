/* testutil.h: shared helpers for the cmocka unit tests (include after cmocka.h). */
#ifndef TESTUTIL_H
#define TESTUTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

/* Write text to a fresh temp file and return its path (static buffer per call site is not
 * shared: the caller gets a malloc'd string to free). */
static inline char *tu_write_temp(const char *suffix, const char *text) {
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/dkmc_test_XXXXXX%s", suffix ? suffix : "");
    int fd = mkstemps(tmpl, suffix ? (int)strlen(suffix) : 0);
    if (fd < 0) return NULL;
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) { close(fd); return NULL; }
    close(fd);
    return strdup(tmpl);
}

static inline char *tu_temp_path(const char *suffix) {
    char *p = tu_write_temp(suffix, "");
    if (p) unlink(p);
    return p;
}

/* Deterministic pseudo-random floats in [-a, a] */
static inline void tu_fill_random(float *x, size_t n, float a, unsigned seed) {
    unsigned long long s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = a * (2.0f * (float)((s >> 40) & 0xffffff) / 16777216.0f - 1.0f);
    }
}

static inline double tu_rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) { double d = (double)a[i] - b[i]; num += d * d; den += (double)b[i] * b[i]; }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static inline double tu_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) { double d = fabs((double)a[i] - b[i]); if (d > m) m = d; }
    return m;
}
#endif
