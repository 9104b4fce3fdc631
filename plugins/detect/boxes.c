/* boxes.c: the box array, IoU, the ranking and the checks the detect module shares. */
#include "detect_private.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int det__fail(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, DKMC_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int det_boxes_push(det_boxes *s, const det_box *b, char *err) {
    if (s->n == s->cap) {
        if (s->cap > (1 << 28)) return det__fail(err, "detect: too many boxes (%d)", s->n);
        int cap = s->cap ? 2 * s->cap : 64;
        det_box *nb = realloc(s->b, (size_t)cap * sizeof *nb);
        if (!nb) return det__fail(err, "detect: out of memory (%d boxes)", cap);
        s->b = nb;
        s->cap = cap;
    }
    s->b[s->n++] = *b;
    return 0;
}

void det_boxes_free(det_boxes *s) {
    free(s->b);
    s->b = NULL;
    s->n = s->cap = 0;
}

double det__iou_corners(const double a[4], const double b[4]) {
    double iw = fmin(a[2], b[2]) - fmax(a[0], b[0]);
    double ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    double inter = iw * ih;
    double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return uni > 0 ? inter / uni : 0;
}

double det_iou(const det_box *a, const det_box *b) {
    double ca[4], cb[4];
    det__corners(a, ca);
    det__corners(b, cb);
    return det__iou_corners(ca, cb);
}

int det__check(const det_box *b, int n, int classes, int scores, const char *what, char *err) {
    if (n < 0 || (n > 0 && !b)) return det__fail(err, "detect: %s: no boxes (n = %d)", what, n);
    for (int i = 0; i < n; i++) {
        const det_box *p = &b[i];
        if (!isfinite(p->x) || !isfinite(p->y) || !isfinite(p->w) || !isfinite(p->h))
            return det__fail(err, "detect: %s %d: a coordinate is not finite", what, i);
        if (p->w < 0 || p->h < 0)
            return det__fail(err, "detect: %s %d: negative width or height", what, i);
        if (p->cls < 0 || (classes > 0 && p->cls >= classes))
            return det__fail(err, "detect: %s %d: class %d outside [0,%d)", what, i, p->cls, classes);
        if (p->image < 0) return det__fail(err, "detect: %s %d: image index %d < 0", what, i, p->image);
        if (scores && !isfinite(p->score))
            return det__fail(err, "detect: %s %d: score is not finite", what, i);
    }
    return 0;
}

typedef struct { double score; int image, pos; } rank_key;

static int rank_cmp(const void *pa, const void *pb) {
    const rank_key *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->image != b->image) return a->image < b->image ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

int det__rank(const det_box *b, int n, int cls, int **idx, char *err) {
    *idx = NULL;
    rank_key *k = malloc((size_t)(n ? n : 1) * sizeof *k);
    int *o = malloc((size_t)(n ? n : 1) * sizeof *o);
    if (!k || !o) { free(k); free(o); return det__fail(err, "detect: out of memory (%d boxes)", n); }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (cls < 0 || b[i].cls == cls) k[m++] = (rank_key){ b[i].score, b[i].image, i };
    qsort(k, (size_t)m, sizeof *k, rank_cmp);
    for (int i = 0; i < m; i++) o[i] = k[i].pos;
    free(k);
    *idx = o;
    return m;
}
