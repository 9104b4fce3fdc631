/* fuzz_labels.c: the detect module's text readers: Darknet label files (det_labels_read) and
 * image lists (det_list_read), and the image -> label path mapping (det_label_path) on every
 * path of a list that reads. Input: byte 0: classes - 1; then the file. */
#include <math.h>
#include "fuzz_util.h"
#include "detect.h"

static void labels(const char *p, int classes) {
    det_boxes s = { 0 };
    det_box first = { 0.5, 0.5, 0.1, 0.1, 0, 1, 99 };
    FZ_ASSERT(det_boxes_push(&s, &first, NULL) == 0);
    char err[DKMC_ERRLEN] = "";
    if (det_labels_read(p, classes, 3, &s, err)) {
        fz_check_err(err, p, NULL);
        FZ_ASSERT(s.n == 1);   /* a failure leaves what was there */
    }
    for (int i = 1; i < s.n; i++) {
        const det_box *b = &s.b[i];
        FZ_ASSERT(b->image == 3 && b->score == 1 && b->cls >= 0 && b->cls < classes);
        FZ_ASSERT(isfinite(b->x) && isfinite(b->y) && b->x >= 0 && b->x <= 1 && b->y >= 0 && b->y <= 1);
        FZ_ASSERT(b->w > 0 && b->w <= 1 && b->h > 0 && b->h <= 1);
        FZ_ASSERT(b->x - b->w / 2 >= -DET_LABEL_TOL && b->x + b->w / 2 <= 1 + DET_LABEL_TOL);
        FZ_ASSERT(b->y - b->h / 2 >= -DET_LABEL_TOL && b->y + b->h / 2 <= 1 + DET_LABEL_TOL);
    }
    det_boxes_free(&s);
}

static void list(const char *p) {
    char **v, err[DKMC_ERRLEN] = "";
    int n;
    if (det_list_read(p, &v, &n, err)) {
        fz_check_err(err, p, NULL);
        FZ_ASSERT(!v && n == 0);
        return;
    }
    FZ_ASSERT(n > 0);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        FZ_ASSERT(len > 0 && len < 4096 && !strchr(v[i], '\n'));
        FZ_ASSERT(v[i][0] != ' ' && v[i][len - 1] != ' ' && v[i][len - 1] != '\r');
        char out[64], e2[DKMC_ERRLEN] = "";
        if (det_label_path(v[i], out, sizeof out, e2)) {
            FZ_ASSERT(e2[0] && !strchr(e2, '\n') && !strncmp(e2, v[i], strlen(e2) < len ? strlen(e2) : len));
            continue;
        }
        size_t m = strlen(out);
        FZ_ASSERT(m >= 4 && m < sizeof out && !strcmp(out + m - 4, ".txt") && strcmp(out, v[i]));
    }
    det_list_free(v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 1) return 0;
    const char *p = fz_file(0, d + 1, n - 1);
    labels(p, d[0] + 1);
    list(p);
    return 0;
}
