/* detect_private.h: what the detect module's files share and its callers do not need. */
#ifndef DETECT_PRIVATE_H
#define DETECT_PRIVATE_H
#include "detect.h"

/* vsnprintf into err (DKMC_ERRLEN); returns -1 */
int det__fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 0 when every box is finite, w, h >= 0, image >= 0 and 0 <= cls < classes (classes <= 0:
 * any cls >= 0), and with scores, every score finite; else -1 with "detect: <what> <i>: ..." */
int det__check(const det_box *b, int n, int classes, int scores, const char *what, char *err);

/* The ranking of detect.h: *idx gets the positions of the boxes of class cls (cls < 0: all)
 * ordered by score (highest first), then image, then position. Returns how many; -1 when
 * out of memory (err set). *idx is malloc'd (free it). */
int det__rank(const det_box *b, int n, int cls, int **idx, char *err);

/* corners */
static inline void det__corners(const det_box *b, double c[4]) {
    c[0] = b->x - b->w / 2; c[1] = b->y - b->h / 2;
    c[2] = b->x + b->w / 2; c[3] = b->y + b->h / 2;
}
double det__iou_corners(const double a[4], const double b[4]);
#endif
