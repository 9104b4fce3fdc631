/* data.h: data sets in memory. A Darknet-style .data file names the splits; the loaders read
 * MNIST/Fashion-MNIST idx files (gzipped or not), CIFAR-10/100 binary batches and Darknet
 * image-list classification data. Images are float CHW in [0,1], labels are class indices.
 *
 * The .data file (key=value per line, '#' starts a comment, blanks trimmed, paths used as
 * written, i.e. relative to the current directory as in Darknet; unknown keys are ignored):
 *   classes=10                       required, > 0
 *   train=..., valid=...             required; what they name depends on format:
 *   format=idx       train/valid are idx3-ubyte image files (.gz or raw), and
 *                    train_labels/valid_labels (required) the idx1-ubyte label files
 *   format=cifar10   train/valid are CIFAR-10 binary batches (3073-byte records: label, 3072
 *   format=cifar100  bytes CHW); CIFAR-100 records are 3074 bytes (coarse, fine label; the
 *                    fine label is used). Several batches: a comma-separated list of files,
 *                    e.g. train=a/data_batch_1.bin,a/data_batch_2.bin (read in that order)
 *   format=list      Darknet classification lists: train/valid are text files with one image
 *                    path per line; labels= (required) names one class per line and an
 *                    image's class is the label that occurs in its path (Darknet's rule; if
 *                    several do, the one that occurs in the file name, else an error).
 *                    Images are read with stb_image (png, jpg, bmp, pnm, ...) rather than
 *                    libdarknet's loaders, and resized (bilinear) to width x height x channels
 *   format omitted:  idx if train ends in idx3-ubyte(.gz); cifar10/cifar100 if every train
 *                    file ends in .bin and classes is 10/100; list if train ends in .txt or
 *                    .list; otherwise an error asking for format=
 *   labels=, names=  class names (one per line); backup= as in Darknet
 *   augment=0|1      crop+flip for training batches; default 1 for cifar, 0 otherwise
 *   crop_pad=4       padding of the random crop when augmenting
 *   holdout=N        the last N training images are held out: split 0 is the others; with
 *                    valid=holdout, split 1 is those N (a validation set taken out of the
 *                    training set, to choose settings without the test set), otherwise valid
 *                    is read as usual. Limits apply after the split (-limit: the first images
 *                    of the rest). N must leave at least one training image.
 *   width=, height=, channels=   optional image geometry: 0/absent = take it from the data;
 *                    list images are resized to it; for idx/cifar a value that differs from
 *                    the data is an error. The caller may set these (e.g. from the net).
 * Every error is one line "<file>: <problem>" in err (DATA_ERRLEN) and a nonzero return;
 * nothing in this module exits or prints. */
#ifndef DATA_H
#define DATA_H
#include <stddef.h>
#include <stdio.h>
#include "rng.h"

#include "errlen.h"
#define DATA_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

typedef struct {
    int n, w, h, c, classes;
    float *X;          /* n * (w*h*c), CHW per image */
    int *labels;       /* n */
    int crop_pad;      /* >0: random crop with this padding when augmenting */
    int flip;          /* 1: random horizontal flip when augmenting */
} dataset;

typedef struct {
    char path[1024];   /* the .data file itself, for messages */
    char format[32];   /* idx | cifar10 | cifar100 | list */
    int classes;
    char train[1024], valid[1024];               /* image files / lists / batch lists */
    char train_labels[1024], valid_labels[1024]; /* idx label files */
    char labels[1024], backup[1024];
    int augment;       /* augment=1: crop+flip on training batches (CIFAR default) */
    int crop_pad;      /* default 4 */
    int width, height, channels; /* 0 = from the data; see above */
    int holdout;       /* the last holdout training images are not trained on; see above */
    int valid_is_holdout; /* valid=holdout: split 1 is those images */
} data_cfg;

/* Parse a .data file; a missing required key is an error naming the file and the key. */
int  data_cfg_load(const char *path, data_cfg *cfg, char *err);
/* Load split 0 (train) or 1 (valid). limit > 0 keeps only the first `limit` images. */
int  data_load(const data_cfg *cfg, int split, int limit, dataset *out, char *err);
void data_free(dataset *d);

/* The loaders behind data_load (out is zeroed on error; limit as above; classes bounds the
 * labels). cifar_format is "cifar10" or "cifar100"; files is a comma-separated list. */
int  data_load_idx(const char *images, const char *labels, int classes, int limit,
                   dataset *out, char *err);
int  data_load_cifar(const char *files, const char *cifar_format, int classes, int limit,
                     dataset *out, char *err);
/* list: text file of image paths; names: `classes` class names; w,h,c: 0 = from first image */
int  data_load_list(const char *list, char **names, int classes, int w, int h, int c,
                    int limit, dataset *out, char *err);

/* One image file (stb_image: png, jpg, bmp, pnm, ...) converted to c channels (1 or 3) and
 * resized (bilinear) to w x h, as the list loader does: out gets w*h*c floats, CHW in [0,1]. */
int  data_load_image(const char *path, int w, int h, int c, float *out, char *err);
/* A PNG of w x h pixels of c bytes each (1: grey, 3: RGB, row-major) written to f (stb's
 * writer); 0, or -1 if it could not be written. */
int data_png_write(FILE *f, int w, int h, int c, const unsigned char *pix);
/* The same image at its own size: malloc'd w*h*c floats, CHW in [0,1] (byte / 255, as
 * Darknet's loader), *w and *h set; NULL with err on failure. */
float *data_read_image(const char *path, int c, int *w, int *h, char *err);
/* The class names of a labels=/names= file: its first `classes` non-empty lines (an error if
 * it has fewer). Free with data_free_names. */
char **data_read_names(const char *path, int classes, char *err);
void data_free_names(char **names, int classes);

/* Fill x (count images) and y (count one-hot rows of d->classes) from images order[start..].
 * augment: apply crop/flip per d->crop_pad / d->flip using r (per image, in this order:
 * dx = rng_below(2*pad+1), dy = rng_below(2*pad+1) if crop_pad > 0, then flip = rng_below(2)
 * if d->flip). data_load sets crop_pad/flip only when the .data file's augment is on, so a
 * caller can pass augment=1 for every training batch. order may be NULL (= identity). */
void data_batch(const dataset *d, const int *order, int start, int count, float *x, float *y,
                int augment, rng_t *r);
/* One image: dst = crop of src zero-padded by pad on each side, window at (dx,dy) in the
 * padded image (0 <= dx,dy <= 2*pad; dx=dy=pad is the identity), then mirrored
 * left-right if flip. src and dst are w*h*c CHW and must not overlap. */
void data_transform(const float *src, float *dst, int w, int h, int c, int pad, int dx, int dy,
                    int flip);
/* order = 0..n-1 */
void data_identity(int *order, int n);
/* Fisher-Yates shuffle driven by r */
void data_shuffle(int *order, int n, rng_t *r);

/* Internal to the loaders: format err, return -1. */
int data_fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
