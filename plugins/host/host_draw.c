/* host_draw.c: boxes and class names drawn on an image with the library's own drawing
 * (draw_box_width, get_label, draw_label, get_color: the same in pjreddie's and AlexeyAB's
 * Darknet, but for the scale of get_label's size argument, host__label_size_scale in each
 * host's host_detect.c), so a picture of ours looks like the library's draw_detections.
 * Shared by both hosts: it needs nothing but darknet.h's image and those four calls. */
#include <stdio.h>
#include <stdlib.h>
#include "darknet.h"
#include "data.h"
#include "host.h"

/* declared by pjreddie's darknet.h, only in AlexeyAB's src/image.h (same signatures) */
float get_color(int c, int x, int max);
void draw_box_width(image a, int x1, int y1, int x2, int y2, int w, float r, float g, float b);
image get_label(image **characters, char *string, int size);
void draw_label(image a, int r, int c, image label, const float *rgb);
extern const int host__label_size_scale;

/* the colour draw_detections gives a class: get_color of class * 123457 % classes */
void host_det_color(int cls, int classes, float rgb[3]) {
    int offset = cls * 123457 % classes;
    rgb[0] = get_color(2, offset, classes);
    rgb[1] = get_color(1, offset, classes);
    rgb[2] = get_color(0, offset, classes);
}

/* Darknet's glyphs of one size (get_label's index size / 10, at most 7) from labels_dir, in
 * the layout get_label reads (alphabet[size][char]); NULL where one is missing. */
static image **glyphs(const char *dir, int size) {
    if (!dir) return NULL;
    image **a = calloc(8, sizeof *a);
    if (!a || !(a[size] = calloc(128, sizeof **a))) { free(a); return NULL; }
    char path[4096], err[DKMC_ERRLEN];
    for (int c = 32; c < 127; c++) {
        snprintf(path, sizeof path, "%s/%d_%d.png", dir, c, size);
        int w, hgt;
        float *pix = data_read_image(path, 3, &w, &hgt, err);
        if (!pix) {
            for (int k = 32; k < c; k++) free_image(a[size][k]);
            free(a[size]); free(a);
            return NULL;
        }
        a[size][c] = (image){ w, hgt, 3, pix };
    }
    return a;
}

static void glyphs_free(image **a, int size) {
    if (!a) return;
    for (int c = 32; c < 127; c++) free_image(a[size][c]);
    free(a[size]); free(a);
}

static int clip_px(double v, int n) { return v > n - 1 ? n - 1 : v > 0 ? (int)v : 0; }   /* NaN: 0 */

static void draw_one(image im, const host_det *d, int classes, char *const *names, image **alpha, int size) {
    float rgb[3];
    host_det_color(d->cls, classes, rgb);
    int width = im.h * .006 < 1 ? 1 : (int)(im.h * .006);
    /* Darknet's int() then clip to the image, clipped first here: a box far outside the image
     * (a young network's exp(w)) must not overflow the int */
    int left = clip_px((d->x - d->w / 2.) * im.w, im.w), right = clip_px((d->x + d->w / 2.) * im.w, im.w);
    int top = clip_px((d->y - d->h / 2.) * im.h, im.h), bot = clip_px((d->y + d->h / 2.) * im.h, im.h);
    draw_box_width(im, left, top, right, bot, width, rgb[0], rgb[1], rgb[2]);
    if (!alpha) return;
    char text[256];
    if (names) snprintf(text, sizeof text, "%s", names[d->cls]);
    else snprintf(text, sizeof text, "class %d", d->cls);
    for (char *t = text; *t; t++) if (*t < 32 || *t > 126) *t = '?';   /* glyphs exist for ASCII only */
    image label = get_label(alpha, text, size * host__label_size_scale);
    draw_label(im, top + width, left, label, rgb);
    free_image(label);
}

int host_det_draw(const char *path, const host_det *d, int n, int classes, char *const *names, const char *labels_dir,
                  float **pix, int *w, int *h, int *labeled, char *err) {
    *pix = data_read_image(path, 3, w, h, err);
    if (!*pix) return -1;
    for (int i = 0; i < n; i++)
        if (d[i].cls < 0 || d[i].cls >= classes) {
            snprintf(err, HOST_ERRLEN, "%s: box %d has class %d, not in 0..%d", path, i, d[i].cls, classes - 1);
            free(*pix); *pix = NULL;
            return -1;
        }
    image im = { *w, *h, 3, *pix };
    int size = (int)(im.h * .03) / 10;   /* get_label's glyph size for Darknet's im.h * .03 */
    if (size > 7) size = 7;
    image **alpha = glyphs(labels_dir, size);
    for (int i = 0; i < n; i++) draw_one(im, &d[i], classes, names, alpha, size);
    *labeled = alpha != NULL;
    glyphs_free(alpha, size);
    return 0;
}
