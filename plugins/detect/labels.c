/* labels.c: Darknet's label files ("class cx cy w h" per line), the image -> label path
 * mapping, and image lists. */
#include "detect_private.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 4096

/* one number token at *s; 0 on success, *s after it; -1 when there is none */
static int next_double(char **s, double *v) {
    while (isspace((unsigned char)**s)) (*s)++;
    if (!**s) return -1;
    char *end;
    errno = 0;
    *v = strtod(*s, &end);
    if (end == *s || (*end && !isspace((unsigned char)*end))) return -1;
    *s = end;
    return 0;
}

static int next_int(char **s, long *v) {
    while (isspace((unsigned char)**s)) (*s)++;
    if (!**s) return -1;
    char *end;
    errno = 0;
    *v = strtol(*s, &end, 10);
    if (end == *s || (*end && !isspace((unsigned char)*end)) || errno == ERANGE) return -1;
    *s = end;
    return 0;
}

static int blank(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    return !*s;
}

/* the box's bounds; NULL when it is inside them, else what is wrong */
static const char *box_problem(const det_box *b) {
    const double t = DET_LABEL_TOL;
    if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(b->w) || !isfinite(b->h))
        return "a number is not finite";
    if (b->x < 0 || b->x > 1 || b->y < 0 || b->y > 1) return "box centre outside [0,1]";
    if (!(b->w > 0 && b->w <= 1 && b->h > 0 && b->h <= 1)) return "box width or height outside (0,1]";
    if (b->x - b->w / 2 < -t || b->x + b->w / 2 > 1 + t || b->y - b->h / 2 < -t || b->y + b->h / 2 > 1 + t)
        return "box edge outside [0,1] (tolerance 1e-3)";
    return NULL;
}

/* parses one non-blank line into *b; -1 with err naming path:lineno */
static int parse_line(char *s, const char *path, int lineno, int classes, det_box *b, char *err) {
    long cls;
    double v[4];
    int bad = next_int(&s, &cls);
    for (int i = 0; i < 4 && !bad; i++) bad = next_double(&s, &v[i]);
    if (bad || !blank(s))
        return det__fail(err, "%s:%d: expected 'class x y w h' (an integer and four numbers)", path, lineno);
    *b = (det_box){ v[0], v[1], v[2], v[3], 0, 1.0, 0 };
    const char *why = box_problem(b);
    if (why) return det__fail(err, "%s:%d: %s", path, lineno, why);
    if (cls < 0 || cls >= classes)
        return det__fail(err, "%s:%d: class %ld outside [0,%d)", path, lineno, cls, classes);
    b->cls = (int)cls;
    return 0;
}

/* the next line of f into *line (getline's buffer): 1, 0 at the end, -1 with err set */
static int read_line(FILE *f, char **line, size_t *cap, const char *path, int lineno, char *err) {
    ssize_t len = getline(line, cap, f);
    if (len < 0) return ferror(f) ? det__fail(err, "%s: read error", path) : 0;
    if (len >= LINE_MAX_BYTES) return det__fail(err, "%s:%d: line too long", path, lineno);
    if (memchr(*line, 0, (size_t)len)) return det__fail(err, "%s:%d: NUL byte in a text line", path, lineno);
    return 1;
}

int det_labels_read(const char *path, int classes, int image, det_boxes *out, char *err) {
    if (classes <= 0) return det__fail(err, "%s: classes must be > 0 (got %d)", path, classes);
    FILE *f = fopen(path, "r");
    if (!f) return det__fail(err, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, n0 = out->n, rc;
    while ((rc = read_line(f, &line, &cap, path, lineno + 1, err)) == 1) {
        lineno++;
        if (blank(line)) continue;
        det_box b;
        if (parse_line(line, path, lineno, classes, &b, err)) { rc = -1; break; }
        b.image = image;
        if (det_boxes_push(out, &b, err)) { rc = -1; break; }
    }
    free(line);
    fclose(f);
    if (rc) out->n = n0;
    return rc ? -1 : 0;
}

/* replaces the first occurrence of from in s (capacity cap) by to; -1 when it would not fit */
static int replace_first(char *s, size_t cap, const char *from, const char *to) {
    char *p = strstr(s, from);
    if (!p) return 0;
    size_t lf = strlen(from), lt = strlen(to), rest = strlen(p + lf);
    if ((size_t)(p - s) + lt + rest + 1 > cap) return -1;
    memmove(p + lt, p + lf, rest + 1);
    memcpy(p, to, lt);
    return 0;
}

int det_label_path(const char *image_path, char *out, size_t outlen, char *err) {
    static const char *const rules[][2] = {
        { "images", "labels" }, { "JPEGImages", "labels" },
        { ".jpg", ".txt" }, { ".png", ".txt" }, { ".JPG", ".txt" }, { ".JPEG", ".txt" },
    };
    size_t n = strlen(image_path);
    if (n + 1 > outlen) return det__fail(err, "%s: path too long", image_path);
    memcpy(out, image_path, n + 1);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (replace_first(out, outlen, rules[i][0], rules[i][1]))
            return det__fail(err, "%s: label path too long", image_path);
    n = strlen(out);
    if (n < 4 || strcmp(out + n - 4, ".txt") || !strcmp(out, image_path))
        return det__fail(err, "%s: no label path: Darknet maps names ending .jpg .png .JPG .JPEG to .txt", image_path);
    return 0;
}

void det_list_free(char **paths, int n) {
    if (!paths) return;
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

/* s trimmed in place */
static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

static int list_push(char ***v, int *n, int *cap, const char *s, const char *path, char *err) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        char **nv = c < (1 << 28) ? realloc(*v, (size_t)c * sizeof *nv) : NULL;
        if (!nv) return det__fail(err, "%s: out of memory (%d paths)", path, c);
        *v = nv;
        *cap = c;
    }
    if (!((*v)[*n] = strdup(s))) return det__fail(err, "%s: out of memory", path);
    (*n)++;
    return 0;
}

int det_list_read(const char *path, char ***paths, int *n, char *err) {
    *paths = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return det__fail(err, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL, **v = NULL;
    size_t lcap = 0;
    int lineno = 0, m = 0, cap = 0, rc;
    while ((rc = read_line(f, &line, &lcap, path, lineno + 1, err)) == 1) {
        lineno++;
        char *s = trim(line);
        if (*s && list_push(&v, &m, &cap, s, path, err)) { rc = -1; break; }
    }
    free(line);
    fclose(f);
    if (!rc && m == 0) rc = det__fail(err, "%s: the list names no image", path);
    if (rc) { det_list_free(v, m); return -1; }
    *paths = v;
    *n = m;
    return 0;
}
