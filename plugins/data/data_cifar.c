/* data_cifar.c: CIFAR-10/100 binary batches. A CIFAR-10 record is 1 label byte + 3072 pixel
 * bytes (R, G, B planes of 32x32, i.e. CHW, Darknet's layout); a CIFAR-100 record is a coarse
 * and a fine label byte + 3072 pixel bytes, and the fine label is the class. `files` is one
 * file or a comma-separated list of files (blanks around names ignored), read in order. */
#include "data.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_PIXELS 3072


/* Split a comma-separated list in place; returns the number of names, -1 if more than max. */
static int split_list(char *s, char **names, int max) {
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        size_t len = strlen(t);
        while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\n' || t[len - 1] == '\r'))
            t[--len] = 0;
        if (!*t) continue;
        if (n == max) return -1;
        names[n++] = t;
    }
    return n;
}

int data_load_cifar(const char *files, const char *cifar_format, int classes, int limit, dataset *out,
                    char *err) {
    memset(out, 0, sizeof *out);
    int nlab;
    if (!strcmp(cifar_format, "cifar10")) nlab = 1;
    else if (!strcmp(cifar_format, "cifar100")) nlab = 2;
    else return data_fail(err, "%s: unknown CIFAR format '%s'", files, cifar_format);
    size_t rec = (size_t)nlab + CIFAR_PIXELS;

    enum { MAXF = 64 };
    char *copy = strdup(files), *names[MAXF];
    if (!copy) return data_fail(err, "%s: out of memory", files);
    int nf = split_list(copy, names, MAXF);
    long long recs[MAXF], total = 0;
    int rc = 0;
    FILE *f = NULL;
    unsigned char *buf = NULL;
    if (nf <= 0) {
        rc = nf ? data_fail(err, "'%s': more than %d CIFAR files", files, MAXF)
                : data_fail(err, "'%s': no CIFAR files named", files);
        goto done;
    }
    for (int i = 0; i < nf; i++) {
        struct stat st;
        if (stat(names[i], &st)) { rc = data_fail(err, "%s: cannot open: %s", names[i], strerror(errno)); goto done; }
        if (!S_ISREG(st.st_mode)) { rc = data_fail(err, "%s: not a regular file", names[i]); goto done; }
        if (st.st_size == 0 || (size_t)st.st_size % rec) {
            rc = data_fail(err, "%s: size %lld is not a multiple of the %zu-byte %s record (truncated or wrong format?)",
                      names[i], (long long)st.st_size, rec, nlab == 1 ? "CIFAR-10" : "CIFAR-100");
            goto done;
        }
        recs[i] = (long long)((size_t)st.st_size / rec);
        total += recs[i];
    }
    if (total > INT_MAX) { rc = data_fail(err, "%s: too many records", files); goto done; }
    int count = (limit > 0 && limit < total) ? limit : (int)total;
    out->n = count;
    out->w = out->h = 32;
    out->c = 3;
    out->classes = classes;
    out->X = malloc((size_t)count * CIFAR_PIXELS * sizeof *out->X);
    out->labels = malloc((size_t)count * sizeof *out->labels);
    buf = malloc(rec);
    if (!out->X || !out->labels || !buf) { rc = data_fail(err, "%s: out of memory for %d images", files, count); goto done; }
    int k = 0;
    for (int i = 0; i < nf && k < count; i++) {
        if (!(f = fopen(names[i], "rb"))) { rc = data_fail(err, "%s: cannot open: %s", names[i], strerror(errno)); goto done; }
        for (long long r = 0; r < recs[i] && k < count; r++, k++) {
            if (fread(buf, 1, rec, f) != rec) {
                rc = data_fail(err, "%s: read error at record %lld", names[i], r);
                goto done;
            }
            int label = buf[nlab - 1];
            if (label >= classes) {
                rc = data_fail(err, "%s: label %d of record %lld is out of range (classes=%d)", names[i], label, r,
                          classes);
                goto done;
            }
            out->labels[k] = label;
            float *x = out->X + (size_t)k * CIFAR_PIXELS;
            for (int p = 0; p < CIFAR_PIXELS; p++) x[p] = buf[nlab + p] / 255.0f;
        }
        fclose(f);
        f = NULL;
    }
done:
    if (f) fclose(f);
    free(buf);
    free(copy);
    if (rc) data_free(out);
    return rc;
}
