/* data.c: the .data file, dispatch to the loaders, batches, augmentation and shuffling. */
#include "data.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Formats a one-line error into err (DKMC_ERRLEN bytes) and returns -1; shared by the loaders. */
int data_fail(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, DKMC_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int parse_int(const char *v, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < INT_MIN || x > INT_MAX) return -1;
    *out = (int)x;
    return 0;
}

/* every comma-separated entry of s ends in suffix */
static int all_end_with(const char *s, const char *suffix) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    int any = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!ends_with(trim(t), suffix)) return 0;
        any = 1;
    }
    return any;
}

int data_cfg_load(const char *path, data_cfg *cfg, char *err) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    cfg->augment = -1;
    cfg->crop_pad = 4;
    FILE *f = fopen(path, "r");
    if (!f) return data_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0, have_classes = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) { rc = data_fail(err, "%s:%d: line too long", path, lineno); break; }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) { rc = data_fail(err, "%s:%d: expected key=value, got '%s'", path, lineno, s); break; }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        char *dst = NULL;
        size_t cap = 1024;
        int *ival = NULL;
        if (!strcmp(key, "train")) dst = cfg->train;
        else if (!strcmp(key, "valid")) dst = cfg->valid;
        else if (!strcmp(key, "train_labels")) dst = cfg->train_labels;
        else if (!strcmp(key, "valid_labels")) dst = cfg->valid_labels;
        else if (!strcmp(key, "labels") || !strcmp(key, "names")) dst = cfg->labels;
        else if (!strcmp(key, "backup")) dst = cfg->backup;
        else if (!strcmp(key, "format")) { dst = cfg->format; cap = sizeof cfg->format; }
        else if (!strcmp(key, "classes")) { ival = &cfg->classes; have_classes = 1; }
        else if (!strcmp(key, "augment")) ival = &cfg->augment;
        else if (!strcmp(key, "crop_pad")) ival = &cfg->crop_pad;
        else if (!strcmp(key, "holdout")) ival = &cfg->holdout;
        else if (!strcmp(key, "width")) ival = &cfg->width;
        else if (!strcmp(key, "height")) ival = &cfg->height;
        else if (!strcmp(key, "channels")) ival = &cfg->channels;
        else continue; /* other Darknet keys (top, eval, results, ...) */
        if (dst) {
            if (strlen(val) >= cap) { rc = data_fail(err, "%s:%d: value of '%s' is too long", path, lineno, key); break; }
            memcpy(dst, val, strlen(val) + 1);
        } else if (parse_int(val, ival) || *ival < 0) {
            rc = data_fail(err, "%s:%d: bad value for '%s': '%s'", path, lineno, key, val);
            break;
        }
    }
    if (!rc && ferror(f)) rc = data_fail(err, "%s: read error", path);
    fclose(f);
    if (rc) return rc;

    if (!have_classes) return data_fail(err, "%s: missing key 'classes'", path);
    if (cfg->classes <= 0) return data_fail(err, "%s: classes must be > 0", path);
    if (!cfg->train[0]) return data_fail(err, "%s: missing key 'train'", path);
    if (!cfg->valid[0]) return data_fail(err, "%s: missing key 'valid'", path);
    cfg->valid_is_holdout = !strcmp(cfg->valid, "holdout");
    if (cfg->valid_is_holdout && !cfg->holdout)
        return data_fail(err, "%s: valid=holdout needs holdout=N (the training images held out)", path);
    if (!cfg->format[0]) {
        if (ends_with(cfg->train, "idx3-ubyte") || ends_with(cfg->train, "idx3-ubyte.gz"))
            strcpy(cfg->format, "idx");
        else if (all_end_with(cfg->train, ".bin") && cfg->classes == 10)
            strcpy(cfg->format, "cifar10");
        else if (all_end_with(cfg->train, ".bin") && cfg->classes == 100)
            strcpy(cfg->format, "cifar100");
        else if (ends_with(cfg->train, ".txt") || ends_with(cfg->train, ".list"))
            strcpy(cfg->format, "list");
        else
            return data_fail(err, "%s: cannot tell the format of '%s'; add format=idx|cifar10|cifar100|list",
                        path, cfg->train);
    }
    int cifar = !strcmp(cfg->format, "cifar10") || !strcmp(cfg->format, "cifar100");
    if (!strcmp(cfg->format, "idx")) {
        if (!cfg->train_labels[0]) return data_fail(err, "%s: missing key 'train_labels'", path);
        if (!cfg->valid_labels[0] && !cfg->valid_is_holdout) return data_fail(err, "%s: missing key 'valid_labels'", path);
    } else if (!strcmp(cfg->format, "list")) {
        if (!cfg->labels[0]) return data_fail(err, "%s: missing key 'labels'", path);
    } else if (!cifar) {
        return data_fail(err, "%s: unknown format '%s' (idx, cifar10, cifar100 or list)", path, cfg->format);
    }
    if (cfg->augment < 0) cfg->augment = cifar;
    if (cfg->augment > 1) return data_fail(err, "%s: augment must be 0 or 1", path);
    return 0;
}

char **data_read_names(const char *path, int classes, char *err) {
    FILE *f = fopen(path, "r");
    if (!f) { data_fail(err, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    char **names = calloc((size_t)classes, sizeof *names);
    if (!names) { fclose(f); data_fail(err, "%s: out of memory", path); return NULL; }
    char line[4096];
    int n = 0;
    while (n < classes && fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s) continue;
        if (!(names[n] = strdup(s))) break;
        n++;
    }
    fclose(f);
    if (n < classes) {
        for (int i = 0; i < n; i++) free(names[i]);
        free(names);
        data_fail(err, "%s: has %d labels but classes=%d", path, n, classes);
        return NULL;
    }
    return names;
}

/* Keep images [from, from + count) of d, in place. */
static void keep_range(dataset *d, int from, int count) {
    size_t sz = (size_t)d->w * d->h * d->c;
    memmove(d->X, d->X + (size_t)from * sz, (size_t)count * sz * sizeof *d->X);
    memmove(d->labels, d->labels + from, (size_t)count * sizeof *d->labels);
    d->n = count;
}

static int load_split(const data_cfg *cfg, int split, int limit, dataset *out, char *err);

int data_load(const data_cfg *cfg, int split, int limit, dataset *out, char *err) {
    memset(out, 0, sizeof *out);
    if (split != 0 && split != 1) return data_fail(err, "%s: bad split %d", cfg->path, split);
    if (cfg->holdout <= 0 || (split == 1 && !cfg->valid_is_holdout)) return load_split(cfg, split, limit, out, err);
    /* holdout: both parts come from the whole training split */
    if (load_split(cfg, 0, 0, out, err)) return -1;
    if (cfg->holdout >= out->n) {
        data_fail(err, "%s: holdout=%d leaves no training image (the training split has %d)", cfg->path,
                  cfg->holdout, out->n);
        data_free(out);
        return -1;
    }
    int rest = out->n - cfg->holdout;
    int from = split ? rest : 0, count = split ? cfg->holdout : rest;
    if (limit > 0 && limit < count) count = limit;
    keep_range(out, from, count);
    return 0;
}

static int load_split(const data_cfg *cfg, int split, int limit, dataset *out, char *err) {
    const char *files = split ? cfg->valid : cfg->train;
    int rc;
    if (!strcmp(cfg->format, "idx")) {
        rc = data_load_idx(files, split ? cfg->valid_labels : cfg->train_labels, cfg->classes, limit,
                           out, err);
    } else if (!strcmp(cfg->format, "cifar10") || !strcmp(cfg->format, "cifar100")) {
        rc = data_load_cifar(files, cfg->format, cfg->classes, limit, out, err);
    } else if (!strcmp(cfg->format, "list")) {
        char **names = data_read_names(cfg->labels, cfg->classes, err);
        if (!names) return -1;
        rc = data_load_list(files, names, cfg->classes, cfg->width, cfg->height, cfg->channels, limit,
                            out, err);
        data_free_names(names, cfg->classes);
    } else {
        return data_fail(err, "%s: unknown format '%s'", cfg->path, cfg->format);
    }
    if (rc) return rc;
    /* (list images were resized to the requested geometry, so this only catches idx/cifar) */
    if ((cfg->width && cfg->width != out->w) || (cfg->height && cfg->height != out->h) ||
        (cfg->channels && cfg->channels != out->c)) {
        data_fail(err, "%s: images are %dx%dx%d but %dx%dx%d were asked for", files, out->w, out->h, out->c,
             cfg->width ? cfg->width : out->w, cfg->height ? cfg->height : out->h,
             cfg->channels ? cfg->channels : out->c);
        data_free(out);
        return -1;
    }
    if (cfg->augment) {
        out->crop_pad = cfg->crop_pad;
        out->flip = 1;
    }
    return 0;
}

void data_free_names(char **names, int classes) {
    if (!names) return;
    for (int i = 0; i < classes; i++) free(names[i]);
    free(names);
}

void data_free(dataset *d) {
    if (!d) return;
    free(d->X);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

void data_transform(const float *src, float *dst, int w, int h, int c, int pad, int dx, int dy,
                    int flip) {
    for (int k = 0; k < c; k++) {
        const float *s = src + (size_t)k * w * h;
        float *o = dst + (size_t)k * w * h;
        for (int i = 0; i < h; i++) {
            int si = i + dy - pad;
            for (int j = 0; j < w; j++) {
                int sj = (flip ? w - 1 - j : j) + dx - pad;
                o[i * w + j] = (si >= 0 && si < h && sj >= 0 && sj < w) ? s[si * w + sj] : 0.0f;
            }
        }
    }
}

void data_batch(const dataset *d, const int *order, int start, int count, float *x, float *y,
                int augment, rng_t *r) {
    size_t sz = (size_t)d->w * d->h * d->c;
    memset(y, 0, (size_t)count * d->classes * sizeof *y);
    for (int b = 0; b < count; b++) {
        int idx = order ? order[start + b] : start + b;
        const float *src = d->X + (size_t)idx * sz;
        float *dst = x + (size_t)b * sz;
        y[(size_t)b * d->classes + d->labels[idx]] = 1.0f;
        if (augment && (d->crop_pad > 0 || d->flip)) {
            int pad = d->crop_pad > 0 ? d->crop_pad : 0, dx = pad, dy = pad, flip = 0;
            if (pad > 0) {
                dx = (int)rng_below(r, (uint32_t)(2 * pad + 1));
                dy = (int)rng_below(r, (uint32_t)(2 * pad + 1));
            }
            if (d->flip) flip = (int)rng_below(r, 2);
            data_transform(src, dst, d->w, d->h, d->c, pad, dx, dy, flip);
        } else {
            memcpy(dst, src, sz * sizeof *dst);
        }
    }
}

void data_identity(int *order, int n) {
    for (int i = 0; i < n; i++) order[i] = i;
}

void data_shuffle(int *order, int n, rng_t *r) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}
