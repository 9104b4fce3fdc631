/* files.c: Darknet .weights files and atomic writes. Every file this project writes goes
 * through ws_atomic: a temp file beside the target, fsync, rename; on any failure the temp
 * file is removed, so no half-written output is ever left under the final name. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wspace.h"

int ws_atomic_open(ws_atomic *a, const char *path, char *err) {
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        snprintf(err, 512, "%s: cannot write: %s", path, strerror(errno));
        a->fp = NULL;
        return -1;
    }
    a->fp = fdopen(fd, "wb");
    return 0;
}

int ws_atomic_commit(ws_atomic *a, char *err) {
    FILE *fp = a->fp;
    int bad = ferror(fp) || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    int e = errno;
    if (fclose(fp) != 0) bad = 1;
    a->fp = NULL;
    if (!bad && rename(a->tmp, a->path) == 0) return 0;
    if (!bad) e = errno;
    unlink(a->tmp);
    snprintf(err, 512, "%s: write failed: %s", a->path, strerror(e));
    return -1;
}

void ws_atomic_abort(ws_atomic *a) {
    if (a->fp) fclose(a->fp);
    a->fp = NULL;
    unlink(a->tmp);
}

int ws_weights_read(const char *path, float *payload, size_t len, ws_weights_header *hdr, char *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(err, 512, "%s: cannot open weights: %s", path, strerror(errno)); return -1; }
    int v[3];
    if (fread(v, sizeof(int), 3, fp) != 3) {
        snprintf(err, 512, "%s: not a Darknet .weights file (shorter than its header)", path);
        fclose(fp); return -1;
    }
    hdr->major = v[0]; hdr->minor = v[1]; hdr->revision = v[2];
    if (v[0] < 0 || v[1] < 0 || v[0] > 1000 || v[1] > 1000) {
        snprintf(err, 512, "%s: not a Darknet .weights file (version %d.%d)", path, v[0], v[1]);
        fclose(fp); return -1;
    }
    if (v[0] * 10 + v[1] >= 2) {
        uint64_t seen;
        if (fread(&seen, sizeof seen, 1, fp) != 1) { snprintf(err, 512, "%s: truncated header", path); fclose(fp); return -1; }
        hdr->seen = seen;
    } else {
        int seen;
        if (fread(&seen, sizeof seen, 1, fp) != 1) { snprintf(err, 512, "%s: truncated header", path); fclose(fp); return -1; }
        hdr->seen = (uint64_t)seen;
    }
    long start = ftell(fp);
    fseek(fp, 0, SEEK_END);
    long end = ftell(fp);
    fseek(fp, start, SEEK_SET);
    size_t have = (size_t)(end - start) / sizeof(float);
    if ((size_t)(end - start) != len * sizeof(float)) {
        snprintf(err, 512, "%s: has %zu floats of payload%s, the network needs %zu", path, have,
                 (end - start) % sizeof(float) ? " (and a partial one)" : "", len);
        fclose(fp); return -1;
    }
    size_t got = fread(payload, sizeof(float), len, fp);
    fclose(fp);
    if (got != len) { snprintf(err, 512, "%s: read error", path); return -1; }
    if (!ws_all_finite(len, payload)) { snprintf(err, 512, "%s: contains NaN or infinite values", path); return -1; }
    return 0;
}

int ws_weights_write(const char *path, const float *payload, size_t len, uint64_t seen, char *err) {
    /* a diverged run must not leave a plausible-looking file behind */
    for (size_t i = 0; i < len; i++)
        if (!isfinite(payload[i])) {
            snprintf(err, 512, "refusing to write %s: the network holds a non-finite value (%f at float %zu of %zu); the run diverged",
                     path, payload[i], i, len);
            return -1;
        }
    ws_atomic a;
    if (ws_atomic_open(&a, path, err)) return -1;
    int v[3] = { 0, 2, 0 };
    FILE *fp = a.fp;
    fwrite(v, sizeof(int), 3, fp);
    fwrite(&seen, sizeof seen, 1, fp);
    fwrite(payload, sizeof(float), len, fp);
    return ws_atomic_commit(&a, err);
}
