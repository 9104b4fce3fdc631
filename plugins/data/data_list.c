/* data_list.c: Darknet image-list classification data. The list is a text file with one image
 * path per line (blank lines skipped); an image's class is the class name that occurs in its
 * path, Darknet's rule. Where several names occur in the path, the one that occurs in the file
 * name (the part after the last '/') wins if it is the only one there; otherwise it is an error.
 * Images are decoded with stb_image (Debian's libstb-dev) instead of libdarknet's loaders, so
 * that this module stays free of Darknet's structs; they are converted to c channels (grey or
 * RGB) and resized with bilinear interpolation (pixel centres aligned) to w x h. */
#include "data.h"
#include <errno.h>
#include <limits.h>
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
/* the formats of image data sets; stb's GIF, PSD, PIC and HDR decoders are left out (less
 * code that reads hostile input) */
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
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

/* stb_image 2.27 computes NULL + 0 (undefined behaviour) for a PNG whose first IDAT chunk is
 * empty (found by tests/fuzz/fuzz_image, kept in tests/fuzz/regress/image). Such a file is
 * legal but no encoder writes one: refuse it before stb sees it. */
static int png_first_idat_ok(const unsigned char *p, size_t n) {
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A };
    if (n < 8 || memcmp(p, sig, 8)) return 1;
    for (size_t i = 8; i + 8 <= n;) {
        size_t len = (size_t)p[i] << 24 | (size_t)p[i + 1] << 16 | (size_t)p[i + 2] << 8 | p[i + 3];
        if (!memcmp(p + i + 4, "IDAT", 4)) return len != 0;
        if (len > n - i - 8) break;   /* truncated: stb reports it */
        i += len + 12;
    }
    return 1;
}

/* stb_image 2.27 (Debian 12's libstb-dev) writes past a Huffman table when a JPEG's DHT
 * segment declares more than 256 codes (CVE-2021-28021, fixed in stb 2.28; found again by
 * tests/fuzz/fuzz_image). Such a file is corrupt: walk its markers as stb does (segment
 * lengths, entropy-coded data up to the next marker) and refuse it before stb sees it. */
static int jpeg_huffman_ok(const unsigned char *p, size_t n) {
    /* stb takes any run of 0xFF fill bytes before the SOI marker (found by the fuzz check) */
    if (n < 2 || p[0] != 0xFF) return 1;
    size_t i = 1;
    while (i < n && p[i] == 0xFF) i++;
    if (i >= n || p[i] != 0xD8) return 1;
    i++;
    while (i + 1 < n) {
        if (p[i] != 0xFF || p[i + 1] == 0xFF || p[i + 1] == 0x00) { i++; continue; }
        unsigned m = p[i + 1];
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD9)) { i += 2; continue; }   /* no length */
        if (i + 4 > n) break;
        long len = (long)p[i + 2] << 8 | p[i + 3];
        if (m == 0xC4) {
            size_t q = i + 4;
            for (long left = len - 2; left > 0;) {   /* stb's loop over the tables */
                if (q >= n || (p[q] >> 4) > 1 || (p[q] & 15) > 3) break;   /* stb refuses it */
                long codes = 0;
                for (size_t k = 1; k <= 16; k++) codes += q + k < n ? p[q + k] : 0;
                if (codes > 256) return 0;
                q += 17 + (size_t)codes;
                left -= 17 + codes;
            }
        }
        i += 2 + (size_t)len;
    }
    return 1;
}

#ifndef IMAGE_MAX_PIXELS   /* (the fuzz build lowers it, for speed) */
#define IMAGE_MAX_PIXELS (1 << 25)   /* 32 Mpixel: 8K UHD, a 33-megapixel photo */
#endif

/* stb's reason for a failure, printable: for an unknown PNG chunk it quotes the chunk's four
 * bytes, which may be a newline (found by tests/fuzz/fuzz_image) */
static const char *stb_reason(void) {
    static _Thread_local char r[128];
    const char *s = stbi_failure_reason();
    size_t i = 0;
    for (; s && s[i] && i + 1 < sizeof r; i++) r[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    r[i] = 0;
    return r;
}

/* stb 2.27 reads a PNM header's numbers into an int without a bound (signed overflow on a
 * 10-digit width; found by tests/fuzz/fuzz_image): check the three numbers of a P5/P6 header
 * as stb reads them (blanks and # comments between) have at most 9 digits. */
static int pnm_header_ok(const unsigned char *p, size_t n) {
    if (n < 2 || p[0] != 'P' || (p[1] != '5' && p[1] != '6')) return 1;
    size_t i = 2;
    for (int k = 0; k < 3; k++) {
        for (;;) {
            while (i < n && strchr(" \t\n\v\f\r", p[i]) && p[i]) i++;
            if (i >= n || p[i] != '#') break;
            while (i < n && p[i] != '\n' && p[i] != '\r') i++;
        }
        size_t d = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') { i++; d++; }
        if (d > 9) return 0;
    }
    return 1;
}

/* Put "list:line: " in front of an image's error, so that it names the list's line too. */
static int at_line(char *err, const char *list, int line) {
    char e[DATA_ERRLEN];
    snprintf(e, sizeof e, "%s", err);
    snprintf(err, DATA_ERRLEN, "%s:%d: %s", list, line, e);
    return -1;
}

/* The bytes of an image file, checked as above (NULL and err set on failure). */
static unsigned char *read_image_file(const char *path, size_t *len, char *err) {
    FILE *f = fopen(path, "rb");
    if (!f) { data_fail(err, "%s: cannot read image: %s", path, strerror(errno)); return NULL; }
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            unsigned char *t = cap < ((size_t)1 << 31) ? realloc(b, cap = cap ? 2 * cap : 65536) : NULL;
            if (!t) { free(b); fclose(f); data_fail(err, "%s: cannot read image: too large", path); return NULL; }
            b = t;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(b); data_fail(err, "%s: cannot read image: read error", path); return NULL; }
    if (!pnm_header_ok(b, n)) { free(b); data_fail(err, "%s: cannot read image: corrupt PNM header (a number of 10 digits or more)", path); return NULL; }
    if (!jpeg_huffman_ok(b, n)) { free(b); data_fail(err, "%s: cannot read image: corrupt JPEG (bad Huffman table)", path); return NULL; }
    if (!png_first_idat_ok(b, n)) { free(b); data_fail(err, "%s: cannot read image: PNG with an empty first IDAT chunk (not supported)", path); return NULL; }
    *len = n;
    return b;
}

/* stbi_load of a checked file, and an error for an image without pixels: stb 2.27 returns a
 * PNM image whose header says 0 rows or columns (found by tests/fuzz/fuzz_image) */
static unsigned char *load_image(const char *path, int *iw, int *ih, int c, char *err) {
    int ic;
    size_t len;
    unsigned char *file = read_image_file(path, &len, err);
    if (!file) return NULL;
    /* stb decodes what the header declares even when the file ends long before (a 44-byte TGA
     * of 65535 x 10000 pixels took minutes: tests/fuzz/regress/image); no data set needs more
     * than IMAGE_MAX_PIXELS per image, so a larger one is refused before decoding */
    if (len > INT_MAX || !stbi_info_from_memory(file, (int)len, iw, ih, &ic)) {
        /* (stb's TGA loader takes some headers its info function refuses: refuse them too) */
        free(file);
        data_fail(err, "%s: cannot read image: %s", path, len > INT_MAX ? "too large" : stb_reason());
        return NULL;
    }
    /* stb 2.27 converts the channels of a 16-bit PNM as if it were 8-bit and then reads twice
     * the bytes it wrote (heap overflow; found by tests/fuzz/fuzz_image): refuse them */
    if (len >= 2 && file[0] == 'P' && (file[1] == '5' || file[1] == '6') &&
        stbi_is_16_bit_from_memory(file, (int)len)) {
        free(file);
        data_fail(err, "%s: cannot read image: 16-bit PNM (maxval over 255) is not supported", path);
        return NULL;
    }
    if ((double)*iw * *ih > IMAGE_MAX_PIXELS) {
        free(file);
        data_fail(err, "%s: cannot read image: %dx%d pixels, more than this tool reads (%d)", path, *iw, *ih,
                  IMAGE_MAX_PIXELS);
        return NULL;
    }
    unsigned char *img = len <= INT_MAX ? stbi_load_from_memory(file, (int)len, iw, ih, &ic, c) : NULL;
    free(file);
    if (!img) { data_fail(err, "%s: cannot read image: %s", path, len <= INT_MAX ? stb_reason() : "too large"); return NULL; }
    if (*iw <= 0 || *ih <= 0) {
        stbi_image_free(img);
        data_fail(err, "%s: cannot read image: it is %dx%d pixels", path, *iw, *ih);
        return NULL;
    }
    return img;
}

int data_load_image(const char *path, int w, int h, int c, float *out, char *err) {
    if (w <= 0 || h <= 0 || (c != 1 && c != 3))
        return data_fail(err, "%s: unsupported image geometry %dx%dx%d (channels must be 1 or 3)", path, w, h, c);
    int iw, ih;
    unsigned char *img = load_image(path, &iw, &ih, c, err);
    if (!img) return -1;
    resize_to_chw(img, iw, ih, c, out, w, h);
    stbi_image_free(img);
    return 0;
}

static void png_to_file(void *ctx, void *data, int size) { fwrite(data, 1, (size_t)size, ctx); }

int data_png_write(FILE *f, int w, int h, int c, const unsigned char *pix) {
    return !stbi_write_png_to_func(png_to_file, f, w, h, c, pix, w * c) || ferror(f) ? -1 : 0;
}

float *data_read_image(const char *path, int c, int *w, int *h, char *err) {
    if (c != 1 && c != 3) { data_fail(err, "%s: channels must be 1 or 3, got %d", path, c); return NULL; }
    unsigned char *img = load_image(path, w, h, c, err);
    if (!img) return NULL;
    size_t plane = (size_t)*w * *h;
    float *out = malloc(plane * c * sizeof(float));
    if (!out) data_fail(err, "%s: out of memory for a %dx%d image", path, *w, *h);
    for (size_t p = 0; out && p < plane; p++)
        for (int k = 0; k < c; k++) out[k * plane + p] = img[p * c + k] / 255.0f;
    stbi_image_free(img);
    return out;
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
        int iw = 0, ih = 0, ic = 0;
        size_t flen;
        unsigned char *file = read_image_file(paths[0], &flen, err);
        if (!file) {
            rc = at_line(err, list, lines[0]);
        } else if (flen > INT_MAX || !stbi_info_from_memory(file, (int)flen, &iw, &ih, &ic)) {
            rc = data_fail(err, "%s: cannot read image: %s", paths[0], flen > INT_MAX ? "too large" : stb_reason());
            at_line(err, list, lines[0]);
        } else if (iw <= 0 || ih <= 0) {
            rc = data_fail(err, "%s: cannot read image: it is %dx%d pixels", paths[0], iw, ih);
            at_line(err, list, lines[0]);
        } else {
            if (!w) w = iw;
            if (!h) h = ih;
            if (!c) c = ic >= 3 ? 3 : 1;
        }
        free(file);
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
            int iw, ih;
            unsigned char *img = load_image(paths[i], &iw, &ih, c, err);
            if (!img) { rc = at_line(err, list, lines[i]); break; }
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
