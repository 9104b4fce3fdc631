/* files.c: Darknet .weights files and atomic writes. Every file this project writes goes
 * through ws_atomic: a temp file beside the target, fsync, rename; on any failure the temp
 * file is removed, so no half-written output is ever left under the final name. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wspace.h"

/* ---- the temp files of writes in progress, removed at exit and on a fatal signal ---- */
#define MAX_OPEN_TMP 32
static char g_tmp[MAX_OPEN_TMP][sizeof ((ws_atomic *)0)->tmp];
static volatile sig_atomic_t g_tmp_used[MAX_OPEN_TMP];

static void remove_open_tmps(void) {
    for (int i = 0; i < MAX_OPEN_TMP; i++)
        if (g_tmp_used[i]) { unlink(g_tmp[i]); g_tmp_used[i] = 0; }
}
static void on_fatal_signal(int sig) {
    remove_open_tmps();             /* unlink is async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}
static void track_tmp(const char *tmp) {
    static int installed;
    if (!installed) {
        installed = 1;
        atexit(remove_open_tmps);
        int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGXFSZ };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
            struct sigaction old;
            /* leave a signal the caller ignores (SIG_IGN: nohup, a test's trap '' XFSZ) ignored */
            if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
            signal(sigs[i], on_fatal_signal);
        }
    }
    for (int i = 0; i < MAX_OPEN_TMP; i++)
        if (!g_tmp_used[i]) { snprintf(g_tmp[i], sizeof g_tmp[i], "%s", tmp); g_tmp_used[i] = 1; return; }
}
static void untrack_tmp(const char *tmp) {
    for (int i = 0; i < MAX_OPEN_TMP; i++)
        if (g_tmp_used[i] && !strcmp(g_tmp[i], tmp)) { g_tmp_used[i] = 0; return; }
}

void *ws_xmalloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "darknet: out of memory (%zu bytes for %s)\n", n, what); exit(1); }
    return p;
}
void *ws_xcalloc(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) { fprintf(stderr, "darknet: out of memory (%zu x %zu bytes for %s)\n", n, size, what); exit(1); }
    return p;
}

int ws_atomic_open(ws_atomic *a, const char *path, char *err) {
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.XXXXXX", path);
    a->fp = NULL;
    if (strlen(path) + 12 >= sizeof a->tmp) {
        snprintf(err, DKMC_ERRLEN, "%s: cannot write: the path is too long", path);
        return -1;
    }
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        snprintf(err, DKMC_ERRLEN, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    /* mkstemp creates 0600; what the tool writes gets what any tool gives under the umask */
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um)) { /* not fatal: the file is merely private */ }
    a->fp = fdopen(fd, "wb");
    if (!a->fp) {
        snprintf(err, DKMC_ERRLEN, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(a->tmp);
        return -1;
    }
    track_tmp(a->tmp);
    return 0;
}

/* After a rename, the folder's entry must reach the disk too, or a crash can lose the file. */
static void sync_dir(const char *path) {
    char buf[sizeof ((ws_atomic *)0)->path];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    if (fsync(fd)) { /* some file systems cannot sync a folder: the file itself is synced */ }
    close(fd);
}

int ws_atomic_commit(ws_atomic *a, char *err) {
    FILE *fp = a->fp;
    int bad = ferror(fp) || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    int e = errno;
    if (fclose(fp) != 0) bad = 1;
    a->fp = NULL;
    if (!bad && rename(a->tmp, a->path) == 0) { untrack_tmp(a->tmp); sync_dir(a->path); return 0; }
    if (!bad) e = errno;
    unlink(a->tmp);
    untrack_tmp(a->tmp);
    snprintf(err, DKMC_ERRLEN, "%s: write failed: %s", a->path, strerror(e));
    return -1;
}

void ws_atomic_abort(ws_atomic *a) {
    if (a->fp) fclose(a->fp);
    a->fp = NULL;
    unlink(a->tmp);
    untrack_tmp(a->tmp);
}

int ws_weights_read(const char *path, float *payload, size_t len, ws_weights_header *hdr, char *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(err, DKMC_ERRLEN, "%s: cannot open weights: %s", path, strerror(errno)); return -1; }
    int v[3];
    if (fread(v, sizeof(int), 3, fp) != 3) {
        snprintf(err, DKMC_ERRLEN, "%s: not a Darknet .weights file (shorter than its header)", path);
        fclose(fp); return -1;
    }
    hdr->major = v[0]; hdr->minor = v[1]; hdr->revision = v[2];
    if (v[0] < 0 || v[1] < 0 || v[0] > 1000 || v[1] > 1000) {
        snprintf(err, DKMC_ERRLEN, "%s: not a Darknet .weights file (version %d.%d)", path, v[0], v[1]);
        fclose(fp); return -1;
    }
    if (v[0] * 10 + v[1] >= 2) {
        uint64_t seen;
        if (fread(&seen, sizeof seen, 1, fp) != 1) { snprintf(err, DKMC_ERRLEN, "%s: truncated header", path); fclose(fp); return -1; }
        hdr->seen = seen;
    } else {
        int seen;
        if (fread(&seen, sizeof seen, 1, fp) != 1) { snprintf(err, DKMC_ERRLEN, "%s: truncated header", path); fclose(fp); return -1; }
        hdr->seen = (uint64_t)seen;
    }
    long start = ftell(fp);
    fseek(fp, 0, SEEK_END);
    long end = ftell(fp);
    fseek(fp, start, SEEK_SET);
    size_t have = (size_t)(end - start) / sizeof(float);
    if ((size_t)(end - start) != len * sizeof(float)) {
        snprintf(err, DKMC_ERRLEN, "%s: has %zu floats of payload%s, the network needs %zu", path, have,
                 (end - start) % sizeof(float) ? " (and a partial one)" : "", len);
        fclose(fp); return -1;
    }
    size_t got = fread(payload, sizeof(float), len, fp);
    fclose(fp);
    if (got != len) { snprintf(err, DKMC_ERRLEN, "%s: read error", path); return -1; }
    if (!ws_all_finite(len, payload)) { snprintf(err, DKMC_ERRLEN, "%s: contains NaN or infinite values", path); return -1; }
    return 0;
}

int ws_weights_write(const char *path, const float *payload, size_t len, uint64_t seen, char *err) {
    /* a diverged run must not leave a plausible-looking file behind */
    for (size_t i = 0; i < len; i++)
        if (!isfinite(payload[i])) {
            snprintf(err, DKMC_ERRLEN, "refusing to write %s: the network holds a non-finite value (%f at float %zu of %zu); the run diverged",
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
