/* fuzz_util.h: what every libFuzzer harness here shares. The readers under test take a path,
 * so the input goes into a memfd (no disk traffic; /proc/self/fd/N opens it afresh with its
 * own offset, and stat() sees a regular file). Every failure must be one line that names the
 * file, as the project promises; a harness aborts (a finding) when a reader breaks that. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memfd_create; the Makefile passes it too, for harnesses that include libc first */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FZ_SLOTS 4

/* The path of a memfd holding exactly data[0..n); slot picks one of FZ_SLOTS files. */
static inline const char *fz_file(int slot, const void *data, size_t n) {
    static int fd[FZ_SLOTS] = { -1, -1, -1, -1 };
    static char path[FZ_SLOTS][64];
    if (fd[slot] < 0) {
        fd[slot] = memfd_create("dkmc-fuzz", 0);
        if (fd[slot] < 0) { perror("memfd_create"); abort(); }
        snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
    }
    if (ftruncate(fd[slot], 0)) { perror("ftruncate"); abort(); }
    const char *p = data;
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd[slot], p + done, n - done, (off_t)done);
        if (w <= 0) { perror("pwrite"); abort(); }
        done += (size_t)w;
    }
    return path[slot];
}

/* A reader's error: non-empty, one line, and naming `path` (or, with alt, that instead). */
static inline void fz_check_err(const char *err, const char *path, const char *alt) {
    if (!err[0]) { fprintf(stderr, "fuzz: failure with an empty message\n"); abort(); }
    if (strchr(err, '\n')) { fprintf(stderr, "fuzz: message of more than one line: %s\n", err); abort(); }
    if (!strstr(err, path) && !(alt && strstr(err, alt))) {
        fprintf(stderr, "fuzz: message does not name %s: %s\n", path, err);
        abort();
    }
}

#define FZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)
#endif
