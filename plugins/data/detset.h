/* detset.h: a detection data set anyone has, made from Fashion-MNIST (Debian's
 * dataset-fashion-mnist): each canvas is a grey image with 1..max_items clothing items pasted
 * at random positions and sizes (bilinear scaling, composited with max() so that overlaps
 * look like overlapping objects, over a faint noise background); each item's box is the
 * tight box of its pixels brighter than 10 % of white. Items overlap little (IoU <= 0.2
 * between boxes; a place is tried 20 times, then the canvas keeps fewer items).
 * Training canvases take items from the 60,000 training images, valid canvases from the
 * 10,000 test images, so no item is in both.
 *
 * Darknet's layout, under the directory out:
 *   images/{train,valid}/NNNNNN.png   grey PNGs, size x size
 *   labels/{train,valid}/NNNNNN.txt   one line per item: class cx cy w h (relative)
 *   train.txt, valid.txt              the images' absolute paths, one per line
 *   fashion-det.names                 the ten class names
 *   fashion-det.data                  classes, train, valid, names, backup (absolute paths)
 *   backup/                           empty, for the backups and snapshots of training
 * The same seed and options give the same files, byte for byte. out must not exist: the set
 * is built in a sibling directory and renamed at the end, so an error leaves nothing. */
#ifndef DETSET_H
#define DETSET_H
#include <stdint.h>
#include "errlen.h"

typedef struct {
    const char *out;
    uint64_t seed;
    int ntrain, nvalid;          /* canvases per split */
    int size;                    /* canvas side in pixels */
    int max_items;               /* items per canvas: uniform in 1..max_items */
    int min_item, max_item;      /* an item's side in pixels (the 28x28 image scaled) */
    const char *train_images, *train_labels, *valid_images, *valid_labels;   /* idx files */
    void (*progress)(void *ctx, int done, int total);   /* may be NULL */
    void *ctx;
} detset_opts;

/* The defaults: 4000 + 500 canvases of 128 px, 1..4 items of 24..64 px, Debian's files. */
detset_opts detset_defaults(void);
/* Checks the options, makes the set; 0, or -1 with err (DKMC_ERRLEN) filled and nothing left. */
int detset_make(const detset_opts *o, char *err);

/* The tight box of the pixels of a 28x28 item brighter than thr: x0, y0 inclusive, x1, y1
 * exclusive; 0 if no pixel is (the box is then empty). */
int detset_item_box(const float *item, float thr, int *x0, int *y0, int *x1, int *y1);
#endif
