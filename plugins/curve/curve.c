/* curve.c: coefficients, points and the .curve file (layout in curve.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "curve.h"
#include "wspace.h"

static const char MAGIC[8] = { 'D', 'K', 'C', 'U', 'R', 'V', 'E', 0 };
#define CURVE_VERSION 1u
#define CURVE_HEADER 112

const char *curve_type_name(curve_type t) { return t == CURVE_BEZIER ? "bezier" : "polychain"; }
int curve_parse_type(const char *s, curve_type *t) {
    if (!strcmp(s, "bezier") || !strcmp(s, "Bezier")) { *t = CURVE_BEZIER; return 0; }
    if (!strcmp(s, "polychain") || !strcmp(s, "PolyChain")) { *t = CURVE_POLYCHAIN; return 0; }
    return -1;
}

void curve_coeffs(curve_type type, int k, double t, float *c) {
    int d = k - 1;
    if (type == CURVE_BEZIER) {
        double binom = 1;   /* C(d, j), built incrementally */
        for (int j = 0; j <= d; j++) {
            c[j] = (float)(binom * pow(t, j) * pow(1 - t, d - j));
            binom = binom * (d - j) / (j + 1);
        }
    } else {
        for (int j = 0; j <= d; j++) {
            double v = 1 - fabs(t * d - j);
            c[j] = (float)(v > 0 ? v : 0);
        }
    }
}

int curve_init(curve *cv, curve_type type, int k, size_t n, size_t nstats) {
    memset(cv, 0, sizeof *cv);
    if (k < 2 || k > CURVE_MAX_BENDS) return -1;
    cv->type = type; cv->k = k; cv->n = n; cv->nstats = nstats;
    cv->bends = calloc(k, sizeof(float *));
    cv->momentum = calloc(k, sizeof(float *));
    int bad = !cv->bends || !cv->momentum;
    for (int j = 0; !bad && j < k; j++) bad = !(cv->bends[j] = calloc(n ? n : 1, sizeof(float)));
    if (!bad && nstats) {
        cv->stats[0] = calloc(nstats, sizeof(float));
        cv->stats[1] = calloc(nstats, sizeof(float));
        bad = !cv->stats[0] || !cv->stats[1];
    }
    if (bad) { curve_free(cv); return -1; }
    cv->lr = 0.05f; cv->mom = 0.9f; cv->decay = 5e-4f; cv->seed = 1;
    return 0;
}

void curve_free(curve *cv) {
    if (cv->bends) for (int j = 0; j < cv->k; j++) free(cv->bends[j]);
    if (cv->momentum) for (int j = 0; j < cv->k; j++) free(cv->momentum[j]);
    free(cv->bends); free(cv->momentum);
    free(cv->stats[0]); free(cv->stats[1]);
    memset(cv, 0, sizeof *cv);
}

void curve_init_linear(curve *cv) {
    int d = cv->k - 1;
    for (int j = 1; j < d; j++) {
        float a = (float)j / d;
        float *b = cv->bends[j], *s = cv->bends[0], *e = cv->bends[d];
        for (size_t i = 0; i < cv->n; i++) b[i] = (1 - a) * s[i] + a * e[i];
    }
}

void curve_point(const curve *cv, double t, float *w) {
    float c[CURVE_MAX_BENDS];
    curve_coeffs(cv->type, cv->k, t, c);
    ws_combine(cv->n, cv->k, c, (const float *const *)cv->bends, w);
}

int curve_is_free(const curve *cv, int j) {
    if (j == 0) return !(cv->flags & CURVE_FIX_START);
    if (j == cv->k - 1) return !(cv->flags & CURVE_FIX_END);
    return 1;
}

/* ---- file I/O: a crc32 runs over everything written ---- */
typedef struct { FILE *fp; uLong crc; int bad; } wr;   /* bad: the errno of the first failed write */
static void put(wr *w, const void *p, size_t n) {
    if (!n) return;
    if (fwrite(p, 1, n, w->fp) != n && !w->bad) w->bad = errno ? errno : EIO;
    w->crc = crc32(w->crc, p, (uInt)n);
}
static void put_big(wr *w, const float *p, size_t n) {   /* crc32 takes uInt lengths */
    const char *c = (const char *)p;
    size_t bytes = n * sizeof(float);
    while (bytes) { size_t m = bytes > (1u << 30) ? (1u << 30) : bytes; put(w, c, m); c += m; bytes -= m; }
}

int curve_save(const curve *cv, const char *path, char *err) {
    for (int j = 0; j < cv->k; j++)   /* a diverged run keeps its last good checkpoint */
        if (!ws_all_finite(cv->n, cv->bends[j])) {
            snprintf(err, DKMC_ERRLEN, "refusing to write %s: bend %d holds a non-finite value; the run diverged", path, j);
            return -1;
        }
    ws_atomic a;
    if (ws_atomic_open(&a, path, err)) return -1;
    wr w = { a.fp, crc32(0, NULL, 0), 0 };
    uint32_t u[4] = { CURVE_VERSION, (uint32_t)cv->type, (uint32_t)cv->k, cv->flags };
    uint64_t n = cv->n, ns = cv->nstats;
    int has_stats = cv->stats[0] && cv->stats[1];
    if (!has_stats) ns = 0;
    put(&w, MAGIC, 8); put(&w, u, sizeof u); put(&w, &n, 8); put(&w, &ns, 8);
    put(&w, &cv->iteration, 8);
    uint32_t ep[2] = { cv->epoch, cv->epochs };
    put(&w, ep, 8);
    float hp[3] = { cv->lr, cv->mom, cv->decay };
    put(&w, hp, 12); put(&w, &cv->schedule, 4);
    put(&w, &cv->seed, 8); put(&w, cv->rng.s, 32);
    for (int j = 0; j < cv->k; j++) put_big(&w, cv->bends[j], cv->n);
    if (ns) { put_big(&w, cv->stats[0], ns); put_big(&w, cv->stats[1], ns); }
    if (cv->flags & CURVE_HAS_STATE)
        for (int j = 0; j < cv->k; j++)
            if (curve_is_free(cv, j)) {
                if (cv->momentum[j]) put_big(&w, cv->momentum[j], cv->n);
                else { float z = 0; for (size_t i = 0; i < cv->n; i++) put(&w, &z, 4); }
            }
    uint32_t crc = (uint32_t)w.crc;
    if (fwrite(&crc, 4, 1, a.fp) != 1 && !w.bad) w.bad = errno ? errno : EIO;
    if (w.bad) { ws_atomic_abort(&a); snprintf(err, DKMC_ERRLEN, "%s: write failed: %s", path, strerror(w.bad)); return -1; }
    return ws_atomic_commit(&a, err);
}

/* crc32 over any length: zlib takes uInt (32-bit) lengths, and a curve file may pass 4 GiB */
static uLong crc_big(uLong crc, const unsigned char *p, size_t n) {
    while (n) {
        size_t m = n > (1u << 30) ? (1u << 30) : n;
        crc = crc32(crc, p, (uInt)m);
        p += m; n -= m;
    }
    return crc;
}

typedef struct { const unsigned char *p; size_t left; } rd;
static int get(rd *r, void *dst, size_t n) {
    if (r->left < n) return -1;
    memcpy(dst, r->p, n); r->p += n; r->left -= n;
    return 0;
}

int curve_load(curve *cv, const char *path, char *err) {
    memset(cv, 0, sizeof *cv);
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(err, DKMC_ERRLEN, "%s: cannot open curve: %s", path, strerror(errno)); return -1; }
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    if (size < CURVE_HEADER + 4) {
        fclose(fp);
        snprintf(err, DKMC_ERRLEN, "%s: not a curve file (%ld bytes, shorter than the header)", path, size);
        return -1;
    }
    unsigned char *buf = (uint64_t)size <= SIZE_MAX ? malloc((size_t)size) : NULL;
    if (!buf) {
        fclose(fp);
        snprintf(err, DKMC_ERRLEN, "%s: out of memory reading a curve file of %ld bytes", path, size);
        return -1;
    }
    size_t got = fread(buf, 1, size, fp);
    fclose(fp);
    if (got != (size_t)size) { free(buf); snprintf(err, DKMC_ERRLEN, "%s: read error", path); return -1; }
    rd r = { buf, (size_t)size - 4 };
    char magic[8];
    uint32_t u[4] = {0}, ep[2] = {0}, sched = 0;
    uint64_t n = 0, ns = 0, iter = 0, seed = 0, rs[4] = {0};
    float hp[3] = {0};
    get(&r, magic, 8);
    if (memcmp(magic, MAGIC, 8)) { free(buf); snprintf(err, DKMC_ERRLEN, "%s: not a curve file (bad magic)", path); return -1; }
    get(&r, u, 16); get(&r, &n, 8); get(&r, &ns, 8); get(&r, &iter, 8); get(&r, ep, 8);
    get(&r, hp, 12); get(&r, &sched, 4); get(&r, &seed, 8); get(&r, rs, 32);
    if (u[0] != CURVE_VERSION) { free(buf); snprintf(err, DKMC_ERRLEN, "%s: curve file version %u, this build reads %u", path, u[0], CURVE_VERSION); return -1; }
    if (u[1] > 1 || u[2] < 2 || u[2] > CURVE_MAX_BENDS || n == 0 || n > ((uint64_t)1 << 36) || ns > ((uint64_t)1 << 32)) {
        free(buf); snprintf(err, DKMC_ERRLEN, "%s: corrupt curve header", path); return -1;
    }
    uint32_t crc_file;
    memcpy(&crc_file, buf + size - 4, 4);
    if ((uint32_t)crc_big(crc32(0, NULL, 0), buf, (size_t)size - 4) != crc_file) {
        free(buf); snprintf(err, DKMC_ERRLEN, "%s: curve file is corrupt or truncated (checksum mismatch)", path); return -1;
    }
    int k = (int)u[2];
    /* the header's sizes must match the file before anything is allocated from them */
    int nfree = k - !!(u[3] & CURVE_FIX_START) - !!(u[3] & CURVE_FIX_END);
    size_t need = (size_t)k * n * 4 + 2 * ns * 4 + ((u[3] & CURVE_HAS_STATE) ? (size_t)nfree * n * 4 : 0);
    if (r.left != need) {
        free(buf);
        snprintf(err, DKMC_ERRLEN, "%s: curve file has %zu payload bytes, its header says %zu", path, r.left, need);
        return -1;
    }
    curve tmp;
    if (curve_init(&tmp, (curve_type)u[1], k, n, ns)) {
        free(buf);
        snprintf(err, DKMC_ERRLEN, "%s: out of memory for %d bends of %llu floats", path, k, (unsigned long long)n);
        return -1;
    }
    tmp.flags = u[3];
    for (int j = 0; j < k; j++) get(&r, tmp.bends[j], n * 4);
    if (ns) { get(&r, tmp.stats[0], ns * 4); get(&r, tmp.stats[1], ns * 4); }
    if (u[3] & CURVE_HAS_STATE)
        for (int j = 0; j < k; j++)
            if (curve_is_free(&tmp, j)) {
                if (!(tmp.momentum[j] = malloc(n * 4))) {
                    curve_free(&tmp); free(buf);
                    snprintf(err, DKMC_ERRLEN, "%s: out of memory for the momentum of bend %d", path, j);
                    return -1;
                }
                get(&r, tmp.momentum[j], n * 4);
            }
    free(buf);
    tmp.iteration = iter; tmp.epoch = ep[0]; tmp.epochs = ep[1];
    tmp.lr = hp[0]; tmp.mom = hp[1]; tmp.decay = hp[2]; tmp.schedule = sched; tmp.seed = seed;
    memcpy(tmp.rng.s, rs, 32);
    for (int j = 0; j < k; j++)
        if (!ws_all_finite(n, tmp.bends[j])) {
            curve_free(&tmp);
            snprintf(err, DKMC_ERRLEN, "%s: bend %d contains NaN or infinite values", path, j);
            return -1;
        }
    *cv = tmp;
    return 0;
}
