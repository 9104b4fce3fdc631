/* detset.c: the Fashion-MNIST detection set (detset.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data.h"
#include "detset.h"
#include "rng.h"


#define ITEM 28
#define MAX_ITEMS 32
static const char *NAMES[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

detset_opts detset_defaults(void) {
    detset_opts o = { 0 };
    o.seed = 1; o.ntrain = 4000; o.nvalid = 500; o.size = 128; o.max_items = 4; o.min_item = 24; o.max_item = 64;
    o.train_images = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    o.train_labels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
    o.valid_images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    o.valid_labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
    return o;
}

int detset_item_box(const float *item, float thr, int *x0, int *y0, int *x1, int *y1) {
    *x0 = *y0 = ITEM; *x1 = *y1 = 0;
    for (int y = 0; y < ITEM; y++)
        for (int x = 0; x < ITEM; x++)
            if (item[y * ITEM + x] > thr) {
                if (x < *x0) *x0 = x;
                if (y < *y0) *y0 = y;
                if (x + 1 > *x1) *x1 = x + 1;
                if (y + 1 > *y1) *y1 = y + 1;
            }
    return *x1 > *x0;
}

typedef struct { int cls; double x0, y0, x1, y1; } pbox;   /* canvas pixels, x1/y1 exclusive */

static double pbox_iou(const pbox *a, const pbox *b) {
    double w = fmin(a->x1, b->x1) - fmax(a->x0, b->x0), h = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
    if (w <= 0 || h <= 0) return 0;
    double i = w * h, u = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - i;
    return i / u;
}

/* The item scaled to s x s (bilinear, pixel centres) composited with max() at (px, py). */
static void paste(float *canvas, int size, const float *item, int s, int px, int py) {
    for (int v = 0; v < s; v++) {
        double sy = (v + 0.5) * ITEM / s - 0.5;
        if (sy < 0) sy = 0;
        if (sy > ITEM - 1) sy = ITEM - 1;
        int y0 = (int)sy, y1 = y0 + 1 < ITEM ? y0 + 1 : y0;
        double fy = sy - y0;
        for (int u = 0; u < s; u++) {
            double sx = (u + 0.5) * ITEM / s - 0.5;
            if (sx < 0) sx = 0;
            if (sx > ITEM - 1) sx = ITEM - 1;
            int x0 = (int)sx, x1 = x0 + 1 < ITEM ? x0 + 1 : x0;
            double fx = sx - x0;
            double val = (1 - fy) * ((1 - fx) * item[y0 * ITEM + x0] + fx * item[y0 * ITEM + x1]) +
                         fy * ((1 - fx) * item[y1 * ITEM + x0] + fx * item[y1 * ITEM + x1]);
            float *c = &canvas[(size_t)(py + v) * size + px + u];
            if (val > *c) *c = (float)val;
        }
    }
}

/* One canvas: boxes[] (returned count) and the pixels. */
static int make_canvas(const detset_opts *o, const dataset *src, rng_t *r, float *canvas, pbox *boxes) {
    for (int i = 0; i < o->size * o->size; i++) canvas[i] = (float)(0.08 * rng_uniform(r));
    int want = 1 + (int)rng_below(r, (uint32_t)o->max_items), n = 0;
    for (int k = 0; k < want; k++) {
        int idx = (int)rng_below(r, (uint32_t)src->n);
        const float *item = src->X + (size_t)idx * ITEM * ITEM;
        int bx0, by0, bx1, by1;
        if (!detset_item_box(item, 0.1f, &bx0, &by0, &bx1, &by1)) continue;
        for (int tries = 0; tries < 20; tries++) {
            int s = o->min_item + (int)rng_below(r, (uint32_t)(o->max_item - o->min_item + 1));
            int px = (int)rng_below(r, (uint32_t)(o->size - s + 1)), py = (int)rng_below(r, (uint32_t)(o->size - s + 1));
            double f = (double)s / ITEM;
            pbox b = { src->labels[idx], px + bx0 * f, py + by0 * f, px + bx1 * f, py + by1 * f };
            int ok = 1;
            for (int j = 0; j < n && ok; j++) ok = pbox_iou(&b, &boxes[j]) <= 0.2;
            if (!ok) continue;
            paste(canvas, o->size, item, s, px, py);
            boxes[n++] = b;
            break;
        }
    }
    return n;
}

static int fail(char *err, const char *path, const char *what) {
    snprintf(err, DKMC_ERRLEN, "%s: %s%s%s", path, what, errno ? ": " : "", errno ? strerror(errno) : "");
    return -1;
}

static int write_canvas(const char *png, const char *txt, const detset_opts *o, const float *canvas,
                        const pbox *b, int n, unsigned char *pix, char *err) {
    for (int i = 0; i < o->size * o->size; i++) {
        float v = canvas[i] < 0 ? 0 : canvas[i] > 1 ? 1 : canvas[i];
        pix[i] = (unsigned char)lrintf(v * 255);
    }
    errno = 0;
    FILE *pf = fopen(png, "wb");
    if (!pf) return fail(err, png, "cannot create");
    int bad = data_png_write(pf, o->size, o->size, 1, pix);
    if (fclose(pf) || bad) return fail(err, png, "cannot write the image");
    FILE *f = fopen(txt, "w");
    if (!f) return fail(err, txt, "cannot create");
    double S = o->size;
    for (int j = 0; j < n; j++)
        fprintf(f, "%d %.6f %.6f %.6f %.6f\n", b[j].cls, (b[j].x0 + b[j].x1) / 2 / S, (b[j].y0 + b[j].y1) / 2 / S,
                (b[j].x1 - b[j].x0) / S, (b[j].y1 - b[j].y0) / S);
    if (fclose(f)) return fail(err, txt, "cannot write");
    return 0;
}

/* One split: canvases, labels and the list of final (absolute) image paths. */
static int make_split(const detset_opts *o, const dataset *src, int split, const char *tmp, const char *final,
                      int *done, int total, char *err) {
    const char *name = split ? "valid" : "train";
    int count = split ? o->nvalid : o->ntrain;
    rng_t r;
    rng_seed(&r, o->seed * 2 + (uint64_t)split);   /* each split its own stream: valid does not move with ntrain */
    char list[4096], png[4096], txt[4096];
    snprintf(list, sizeof list, "%s/%s.txt", tmp, name);
    FILE *lf = fopen(list, "w");
    if (!lf) return fail(err, list, "cannot create");
    float *canvas = malloc(sizeof(float) * o->size * o->size);
    unsigned char *pix = malloc((size_t)o->size * o->size);
    pbox boxes[MAX_ITEMS];
    int bad = !canvas || !pix;
    if (bad) snprintf(err, DKMC_ERRLEN, "%s: out of memory", o->out);
    for (int i = 0; i < count && !bad; i++) {
        int n = make_canvas(o, src, &r, canvas, boxes);
        snprintf(png, sizeof png, "%s/images/%s/%06d.png", tmp, name, i);
        snprintf(txt, sizeof txt, "%s/labels/%s/%06d.txt", tmp, name, i);
        bad = write_canvas(png, txt, o, canvas, boxes, n, pix, err);
        fprintf(lf, "%s/images/%s/%06d.png\n", final, name, i);
        if (o->progress) o->progress(o->ctx, ++*done, total);
    }
    free(canvas); free(pix);
    if (fclose(lf) && !bad) { errno = 0; bad = fail(err, list, "cannot write"); }
    return bad ? -1 : 0;
}

static int rm_entry(const char *p, const struct stat *s, int flag, struct FTW *f) {
    (void)s; (void)flag; (void)f;
    return remove(p);
}

static int check_opts(const detset_opts *o, char *err) {
    const char *why = NULL;
    if (!o->out || !o->out[0]) why = "the output directory is empty";
    else if (o->size < 32 || o->size > 4096) why = "the canvas size must be in 32..4096";
    else if (o->ntrain < 1 || o->nvalid < 1 || o->ntrain > 10000000 || o->nvalid > 10000000) why = "the numbers of images must be in 1..10000000";
    else if (o->max_items < 1 || o->max_items > MAX_ITEMS) why = "the items per image must be in 1..32";
    else if (o->min_item < 8 || o->max_item < o->min_item || o->max_item > o->size) why = "the item sizes must satisfy 8 <= min <= max <= the canvas size";
    if (why) { snprintf(err, DKMC_ERRLEN, "%s: %s", o->out ? o->out : "detset", why); return -1; }
    struct stat st;
    if (!stat(o->out, &st)) { snprintf(err, DKMC_ERRLEN, "%s: exists; give a new directory", o->out); return -1; }
    return 0;
}

static int write_meta(const char *tmp, const char *final, char *err) {
    char p[4096];
    snprintf(p, sizeof p, "%s/fashion-det.names", tmp);
    FILE *f = fopen(p, "w");
    if (!f) return fail(err, p, "cannot create");
    for (int i = 0; i < 10; i++) fprintf(f, "%s\n", NAMES[i]);
    if (fclose(f)) return fail(err, p, "cannot write");
    snprintf(p, sizeof p, "%s/fashion-det.data", tmp);
    if (!(f = fopen(p, "w"))) return fail(err, p, "cannot create");
    fprintf(f, "# Fashion-MNIST items on canvases (darknet detset): Darknet's detection .data\n"
               "classes=10\ntrain=%s/train.txt\nvalid=%s/valid.txt\nnames=%s/fashion-det.names\nbackup=%s/backup\n",
            final, final, final, final);
    if (fclose(f)) return fail(err, p, "cannot write");
    return 0;
}

static int make_dirs(const char *tmp, char *err) {
    const char *sub[] = { "", "/images", "/images/train", "/images/valid", "/labels", "/labels/train", "/labels/valid", "/backup" };
    char p[4096];
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof p, "%s%s", tmp, sub[i]);
        errno = 0;
        if (mkdir(p, 0777)) return fail(err, p, "cannot create the directory");
    }
    return 0;
}

int detset_make(const detset_opts *o, char *err) {
    if (check_opts(o, err)) return -1;
    char final[4096], tmp[4200], cwd[2048];
    if (o->out[0] == '/') snprintf(final, sizeof final, "%s", o->out);
    else if (getcwd(cwd, sizeof cwd)) snprintf(final, sizeof final, "%s/%s", cwd, o->out);
    else { errno = 0; return fail(err, o->out, "cannot find the current directory"); }
    for (size_t n = strlen(final); n > 1 && final[n - 1] == '/'; n--) final[n - 1] = 0;
    snprintf(tmp, sizeof tmp, "%s.partial-%d", final, (int)getpid());
    dataset src[2] = { { 0 }, { 0 } };
    if (data_load_idx(o->train_images, o->train_labels, 10, 0, &src[0], err) ||
        data_load_idx(o->valid_images, o->valid_labels, 10, 0, &src[1], err)) { data_free(&src[0]); return -1; }
    int bad = 0, done = 0;
    if (src[0].w != ITEM || src[0].h != ITEM || src[1].w != ITEM || src[1].h != ITEM) {
        snprintf(err, DKMC_ERRLEN, "%s: the items must be 28 x 28 images (Fashion-MNIST)", o->train_images);
        bad = -1;
    }
    if (!bad) bad = make_dirs(tmp, err);
    for (int s = 0; s < 2 && !bad; s++) bad = make_split(o, &src[s], s, tmp, final, &done, o->ntrain + o->nvalid, err);
    if (!bad) bad = write_meta(tmp, final, err);
    if (!bad && rename(tmp, final)) bad = fail(err, o->out, "cannot rename the finished set into place");
    if (bad) nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    data_free(&src[0]); data_free(&src[1]);
    return bad ? -1 : 0;
}
