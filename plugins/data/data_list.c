/* data_list.c: Darknet image-list classification data. The list is a text file with one image
 * path per line (blank lines skipped); an image's class is the class name that occurs in its
 * path, Darknet's rule. Where several names occur in the path, the one that occurs in the file
 * name (the part after the last '/') wins if it is the only one there; otherwise it is an error.
 * Images are decoded with stb_image (Debian's libstb-dev) instead of libdarknet's loaders, so
 * that this module stays free of Darknet's structs; they are converted to c channels (grey or
 * RGB) and resized with bilinear interpolation (pixel centres aligned) to w x h. */
#include "data.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* stb_image as private static functions: no clash with the copy inside libdarknet.so or any
 * other module that uses it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wtype-limits"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop
/* reported at the end of the file: stb declares some static functions it never defines */
#pragma GCC diagnostic ignored "-Wunused-function"


/* class of path, or -1 with err set */
static int label_of(const char *path, char **names, int classes, const char *list, int lineno, char *err) {
    int found = -1, nfound = 0;
    for (int i = 0; i < classes; i++)
        if (strstr(path, names[i])) { found = i; nfound++; }
    if (nfound == 1) return found;
    if (nfound == 0) {
        data_fail(err, "%s:%d: no class name occurs in '%s'", list, lineno, path);
        return -1;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    found = -1, nfound = 0;
    for (int i = 0; i < classes; i++)
        if (strstr(base, names[i])) { found = i; nfound++; }
    if (nfound == 1) return found;
    data_fail(err, "%s:%d: several class names occur in '%s'", list, lineno, path);
    return -1;
}

/* src: sw x sh x c interleaved bytes; dst: c planes of w x h floats in [0,1] */
static void resize_to_chw(const unsigned char *src, int sw, int sh, int c, float *dst, int w, int h) {
    if (sw == w && sh == h) {
        for (int k = 0; k < c; k++)
            for (int i = 0; i < h * w; i++) dst[(size_t)k * w * h + i] = src[(size_t)i * c + k] / 255.0f;
        return;
    }
    float sx = (float)sw / w, sy = (float)sh / h;
    for (int i = 0; i < h; i++) {
        float fy = (i + 0.5f) * sy - 0.5f;
        if (fy < 0) fy = 0;
        int y0 = (int)fy, y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        float ay = fy - y0;
        for (int j = 0; j < w; j++) {
            float fx = (j + 0.5f) * sx - 0.5f;
            if (fx < 0) fx = 0;
            int x0 = (int)fx, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            float ax = fx - x0;
            for (int k = 0; k < c; k++) {
                float a = src[((size_t)y0 * sw + x0) * c + k], b = src[((size_t)y0 * sw + x1) * c + k];
                float d = src[((size_t)y1 * sw + x0) * c + k], e = src[((size_t)y1 * sw + x1) * c + k];
                float v = (1 - ay) * ((1 - ax) * a + ax * b) + ay * ((1 - ax) * d + ax * e);
                dst[(size_t)k * w * h + (size_t)i * w + j] = v / 255.0f;
            }
        }
    }
}

int data_load_image(const char *path, int w, int h, int c, float *out, char *err) {
    if (w <= 0 || h <= 0 || (c != 1 && c != 3))
        return data_fail(err, "%s: unsupported image geometry %dx%dx%d (channels must be 1 or 3)", path, w, h, c);
    int iw, ih, ic;
    unsigned char *img = stbi_load(path, &iw, &ih, &ic, c);
    if (!img) return data_fail(err, "%s: cannot read image: %s", path, stbi_failure_reason());
    resize_to_chw(img, iw, ih, c, out, w, h);
    stbi_image_free(img);
    return 0;
}

int data_load_list(const char *list, char **names, int classes, int w, int h, int c, int limit,
                   dataset *out, char *err) {
    memset(out, 0, sizeof *out);
    if (w < 0 || h < 0 || (c != 0 && c != 1 && c != 3))
        return data_fail(err, "%s: unsupported image geometry %dx%dx%d (channels must be 1 or 3)", list, w, h, c);
    FILE *f = fopen(list, "r");
    if (!f) return data_fail(err, "%s: cannot open: %s", list, strerror(errno));
    char **paths = NULL, *line = NULL;
    int *lines = NULL, n = 0, cap = 0, lineno = 0, rc = 0;
    size_t lcap = 0;
    ssize_t len;
    while ((limit <= 0 || n < limit) && (len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **np = realloc(paths, (size_t)cap * sizeof *paths);
            if (np) paths = np;
            int *nl = realloc(lines, (size_t)cap * sizeof *lines);
            if (nl) lines = nl;
            if (!np || !nl) { rc = data_fail(err, "%s: out of memory", list); break; }
        }
        if (!(paths[n] = strdup(s))) { rc = data_fail(err, "%s: out of memory", list); break; }
        lines[n++] = lineno;
    }
    free(line);
    fclose(f);
    if (!rc && n == 0) rc = data_fail(err, "%s: no image paths in the list", list);
    if (!rc && (w == 0 || h == 0 || c == 0)) {
        int iw, ih, ic;
        if (!stbi_info(paths[0], &iw, &ih, &ic)) {
            rc = data_fail(err, "%s:%d: cannot read image %s: %s", list, lines[0], paths[0], stbi_failure_reason());
        } else {
            if (!w) w = iw;
            if (!h) h = ih;
            if (!c) c = ic >= 3 ? 3 : 1;
        }
    }
    if (!rc) {
        size_t sz = (size_t)w * h * c;
        out->n = n;
        out->w = w;
        out->h = h;
        out->c = c;
        out->classes = classes;
        out->X = malloc((size_t)n * sz * sizeof *out->X);
        out->labels = malloc((size_t)n * sizeof *out->labels);
        if (!out->X || !out->labels) rc = data_fail(err, "%s: out of memory for %d images", list, n);
        for (int i = 0; !rc && i < n; i++) {
            int lab = label_of(paths[i], names, classes, list, lines[i], err);
            if (lab < 0) { rc = -1; break; }
            out->labels[i] = lab;
            int iw, ih, ic;
            unsigned char *img = stbi_load(paths[i], &iw, &ih, &ic, c);
            if (!img) { rc = data_fail(err, "%s:%d: cannot read image %s: %s", list, lines[i], paths[i], stbi_failure_reason()); break; }
            resize_to_chw(img, iw, ih, c, out->X + (size_t)i * sz, w, h);
            stbi_image_free(img);
        }
    }
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(lines);
    if (rc) data_free(out);
    return rc;
}
