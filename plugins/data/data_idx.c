/* data_idx.c: MNIST/Fashion-MNIST idx files through zlib (gzread reads plain files too).
 * Layout: big-endian u32 magic (0x00000803 images: n, rows, cols; 0x00000801 labels: n), then
 * one unsigned byte per pixel / label. With limit > 0 only the first `limit` records are read,
 * so a file truncated beyond them is not noticed. */
#include "data.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u


static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* gzerror's message without the "<path>: " zlib puts in front of it */
static const char *gz_message(gzFile f, int *code) {
    const char *msg = gzerror(f, code);
    const char *sep = strstr(msg, ": ");
    return sep ? sep + 2 : msg;
}

/* Read exactly len bytes found at file offset base; what = what they are, and need the file
 * size they call for (both for the message). */
static int read_exact(gzFile f, const char *path, void *buf, size_t len, size_t base, const char *what,
                      size_t need, char *err) {
    size_t got = 0;
    while (got < len) {
        size_t want = len - got > (1u << 30) ? (1u << 30) : len - got;
        int r = gzread(f, (char *)buf + got, (unsigned)want);
        int code = Z_OK;
        const char *msg = r <= 0 ? gz_message(f, &code) : "";
        if (r < 0 || (r == 0 && code != Z_OK))
            return data_fail(err, "%s: truncated or corrupt while reading %s (%s)", path, what, msg);
        if (r == 0) break;
        got += (size_t)r;
    }
    if (got < len)
        return data_fail(err, "%s: truncated: %s need %zu bytes, the file has %zu", path, what, need,
                    base + got);
    return 0;
}

/* After the last record of a file read in full: a gzip stream must also end cleanly, its
 * trailer (CRC and length) read and checked; gzread reports a missing or wrong trailer only
 * on the read after the data. */
static int check_end(gzFile f, const char *path, char *err) {
    unsigned char extra;
    int code = Z_OK;
    int r = gzread(f, &extra, 1);
    const char *msg = gz_message(f, &code);
    if (r < 0 || code != Z_OK) return data_fail(err, "%s: truncated or corrupt (%s)", path, msg);
    return 0;
}

static gzFile open_idx(const char *path, uint32_t magic, unsigned char *hdr, size_t hdrlen, char *err) {
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        data_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    if (read_exact(f, path, hdr, 4, 0, "the idx magic number", 4, err)) { gzclose(f); return NULL; }
    uint32_t m = be32(hdr);
    if (m != magic) {
        const char *kind = magic == IDX_IMAGES ? "image" : "label";
        const char *hint = m == IDX_IMAGES ? " (an image file given as labels?)"
                         : m == IDX_LABELS ? " (a label file given as images?)" : "";
        data_fail(err, "%s: not an idx %s file: magic 0x%08x, expected 0x%08x%s", path, kind, (unsigned)m,
             (unsigned)magic, hint);
        gzclose(f);
        return NULL;
    }
    if (read_exact(f, path, hdr + 4, hdrlen - 4, 4, "the idx header", hdrlen, err)) { gzclose(f); return NULL; }
    return f;
}

int data_load_idx(const char *images, const char *labels, int classes, int limit, dataset *out,
                  char *err) {
    memset(out, 0, sizeof *out);
    unsigned char hi[16], hl[8];
    gzFile fi = open_idx(images, IDX_IMAGES, hi, sizeof hi, err);
    if (!fi) return -1;
    gzFile fl = open_idx(labels, IDX_LABELS, hl, sizeof hl, err);
    if (!fl) { gzclose(fi); return -1; }
    int rc = 0;
    unsigned char *buf = NULL, *lab = NULL;
    uint32_t n = be32(hi + 4), rows = be32(hi + 8), cols = be32(hi + 12), nl = be32(hl + 4);
    if (n == 0 || n > INT_MAX || rows == 0 || cols == 0 || rows > 65536 || cols > 65536 ||
        (uint64_t)rows * cols > (1u << 26)) {
        rc = data_fail(err, "%s: implausible idx header: %u images of %ux%u", images, (unsigned)n,
                  (unsigned)rows, (unsigned)cols);
        goto done;
    }
    if (nl != n) {
        rc = data_fail(err, "%s: has %u labels but %s has %u images", labels, (unsigned)nl, images,
                  (unsigned)n);
        goto done;
    }
    int count = (limit > 0 && (uint32_t)limit < n) ? limit : (int)n;
    size_t sz = (size_t)rows * cols;
    out->n = count;
    out->w = (int)cols;
    out->h = (int)rows;
    out->c = 1;
    out->classes = classes;
    /* Memory grows with what was read, chunk by chunk: a header that claims more records than
     * the file holds is "truncated", not an allocation the size of its claim (a 140-byte file
     * asked for 6.5 GB: tests/fuzz/regress/idx). */
    size_t chunk = sz >= (1u << 24) ? sz : (1u << 24) / sz * sz;   /* whole images, ~16 MB */
    size_t total = (size_t)count * sz;
    buf = malloc(chunk > total ? total : chunk);
    lab = malloc(count < (1 << 20) ? (size_t)count : (size_t)1 << 20);
    if (!buf || !lab) {
        rc = data_fail(err, "%s: out of memory for %d images", images, count);
        goto done;
    }
    /* labels first: they are small and a bad one is a cheap early error */
    char what[64];
    snprintf(what, sizeof what, "%d labels", count);
    for (int i0 = 0; i0 < count;) {
        int len = count - i0 < (1 << 20) ? count - i0 : (1 << 20);
        int *nl_ = realloc(out->labels, (size_t)(i0 + len) * sizeof *out->labels);
        if (!nl_) { rc = data_fail(err, "%s: out of memory for %d labels", labels, count); goto done; }
        out->labels = nl_;
        if ((rc = read_exact(fl, labels, lab, (size_t)len, sizeof hl + i0, what, sizeof hl + (size_t)count, err)))
            goto done;
        for (int i = 0; i < len; i++) {
            if (lab[i] >= classes) {
                rc = data_fail(err, "%s: label %d of record %d is out of range (classes=%d)", labels, lab[i],
                          i0 + i, classes);
                goto done;
            }
            out->labels[i0 + i] = lab[i];
        }
        i0 += len;
    }
    snprintf(what, sizeof what, "%d images of %ux%u", count, (unsigned)rows, (unsigned)cols);
    for (size_t done_px = 0, cap = 0; done_px < total;) {
        size_t len = total - done_px < chunk ? total - done_px : chunk;
        if (done_px + len > cap) {   /* doubling: the copies add up to at most the total */
            cap = 2 * cap > done_px + len ? 2 * cap : done_px + len;
            if (cap > total) cap = total;
            float *nx = realloc(out->X, cap * sizeof *out->X);
            if (!nx) { rc = data_fail(err, "%s: out of memory for %d images", images, count); goto done; }
            out->X = nx;
        }
        if ((rc = read_exact(fi, images, buf, len, sizeof hi + done_px, what, sizeof hi + total, err))) goto done;
        for (size_t k = 0; k < len; k++) out->X[done_px + k] = buf[k] / 255.0f;
        done_px += len;
    }
    if ((uint32_t)count == n && ((rc = check_end(fl, labels, err)) || (rc = check_end(fi, images, err)))) goto done;
done:
    free(buf);
    free(lab);
    gzclose(fi);
    gzclose(fl);
    if (rc) data_free(out);
    return rc;
}
