/* gen_corpus.c: writes the seed corpus of the fuzz harnesses, tests/fuzz/corpus/<harness>/:
 * small valid files of each format (written by our own writers where we have one: curve_save
 * for .curve; stb_image_write for the pictures) and a few near-valid ones (truncated, a bad
 * version, a label out of range). `make fuzz-corpus` rebuilds them; the output is committed.
 * Each seed starts with the harness's parameter bytes where it has some (see its comment). */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "curve.h"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <stb/stb_image_write.h>

static const char *g_root;

typedef struct { unsigned char *p; size_t n, cap; } buf;
static void add(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { perror("realloc"); exit(1); }
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void add_be32(buf *b, uint32_t v) {
    unsigned char c[4] = { v >> 24, v >> 16, v >> 8, v };
    add(b, c, 4);
}
static void seed(const char *harness, const char *name, const void *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_root, harness);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", g_root, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) { perror(path); exit(1); }
}
static void seed_str(const char *harness, const char *name, const char *s) { seed(harness, name, s, strlen(s)); }
static buf slurp(const char *path) {
    buf b = {0};
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    unsigned char c[4096];
    size_t r;
    while ((r = fread(c, 1, sizeof c, f)) > 0) add(&b, c, r);
    fclose(f);
    return b;
}
static buf gzip(const buf *in) {
    buf out = {0};
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) exit(1);
    out.cap = deflateBound(&z, in->n) + 32;
    out.p = malloc(out.cap);
    z.next_in = in->p; z.avail_in = (uInt)in->n; z.next_out = out.p; z.avail_out = (uInt)out.cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) exit(1);
    out.n = z.total_out;
    deflateEnd(&z);
    return out;
}

/* ---- .curve: through curve_save ---- */
static void curves(void) {
    struct { curve_type t; int k; size_t n, ns; uint32_t flags; const char *name; } C[] = {
        { CURVE_BEZIER, 2, 4, 0, 0, "bezier_k2.curve" },
        { CURVE_BEZIER, 3, 5, 2, CURVE_HAS_STATE | CURVE_FIX_START | CURVE_FIX_END, "bezier_k3_state.curve" },
        { CURVE_POLYCHAIN, 4, 3, 1, CURVE_HAS_STATE | CURVE_DECAY_ALL, "polychain_k4_free.curve" },
        { CURVE_POLYCHAIN, 3, 2, 0, CURVE_FIX_START, "polychain_k3.curve" },
    };
    char tmp[] = "/tmp/dkmc-gen-XXXXXX";
    if (!mkdtemp(tmp)) exit(1);
    char path[256], err[CURVE_ERRLEN];
    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        curve cv;
        if (curve_init(&cv, C[c].t, C[c].k, C[c].n, C[c].ns)) exit(1);
        cv.flags = C[c].flags;
        for (int j = 0; j < cv.k; j++) for (size_t i = 0; i < cv.n; i++) cv.bends[j][i] = 0.25f * j - 0.1f * i;
        for (size_t i = 0; i < cv.nstats; i++) { cv.stats[0][i] = 0.5f; cv.stats[1][i] = 1.5f; }
        if (cv.flags & CURVE_HAS_STATE)
            for (int j = 0; j < cv.k; j++)
                if (curve_is_free(&cv, j)) {
                    cv.momentum[j] = calloc(cv.n, sizeof(float));
                    cv.momentum[j][0] = 0.01f * (j + 1);
                }
        cv.iteration = 42; cv.epoch = 1; cv.epochs = 3; cv.seed = 7;
        snprintf(path, sizeof path, "%s/c.curve", tmp);
        if (curve_save(&cv, path, err)) { fprintf(stderr, "%s\n", err); exit(1); }
        curve_free(&cv);
        buf b = slurp(path);
        unlink(path);
        seed("curve", C[c].name, b.p, b.n);
        if (c == 0) {   /* near-valid: truncated; version 2; K=1; payload one float short */
            seed("curve", "truncated.curve", b.p, b.n - 7);
            buf v = {0}; add(&v, b.p, b.n); v.p[8] = 2; seed("curve", "version2.curve", v.p, v.n);
            v.p[8] = 1; v.p[16] = 1; seed("curve", "k1.curve", v.p, v.n);
            v.p[16] = 2; v.p[24] = 5; seed("curve", "n_too_big.curve", v.p, v.n);
            free(v.p);
        }
        free(b.p);
    }
    rmdir(tmp);
}

/* ---- .weights for fuzz_weights's network: 125 floats of payload ---- */
static void weights(void) {
    const int len = 125;
    for (int variant = 0; variant < 5; variant++) {
        buf b = {0};
        int major = 0, minor = variant == 1 ? 1 : 2, rev = 0;
        if (variant == 2) { major = 1; minor = 0; }
        add(&b, &major, 4); add(&b, &minor, 4); add(&b, &rev, 4);
        if (variant == 1) { int seen = 640; add(&b, &seen, 4); }
        else { uint64_t seen = 64000; add(&b, &seen, 8); }
        int n = variant == 3 ? len - 1 : len;
        for (int i = 0; i < n; i++) {
            float v = variant == 4 && i == 60 ? NAN : 0.01f * (i % 17) - 0.05f;
            if (i >= 2 && i < 4) v = 1.0f;   /* BN scales */
            add(&b, &v, 4);
        }
        static const char *names[] = { "v0.2.weights", "v0.1.weights", "v1.0.weights", "short.weights", "nan.weights" };
        seed("weights", names[variant], b.p, b.n);
        free(b.p);
    }
}

/* ---- idx: classes-1, limit, label-file length (LE16), label file, image file ---- */
static void idx(void) {
    for (int variant = 0; variant < 5; variant++) {
        int n = 5, rows = 3, cols = 4;
        buf lab = {0}, img = {0};
        add_be32(&lab, variant == 4 ? 0x803 : 0x801); add_be32(&lab, n);
        for (int i = 0; i < n; i++) { unsigned char l = (unsigned char)(variant == 3 && i == 2 ? 12 : i); add(&lab, &l, 1); }
        add_be32(&img, 0x803); add_be32(&img, n); add_be32(&img, rows); add_be32(&img, cols);
        for (int i = 0; i < n * rows * cols; i++) { unsigned char p = (unsigned char)(i * 37); add(&img, &p, 1); }
        int gz = variant == 1 || variant == 2;
        buf L = gz ? gzip(&lab) : lab, I = gz ? gzip(&img) : img;
        if (variant == 2) I.n -= 9;   /* a truncated gzip stream */
        unsigned char pre[4] = { 9, variant == 1 ? 3 : 0, (unsigned char)L.n, (unsigned char)(L.n >> 8) };
        buf b = {0};
        add(&b, pre, 4); add(&b, L.p, L.n); add(&b, I.p, I.n);
        static const char *names[] = { "raw", "gz_limit3", "gz_truncated", "label_out_of_range", "labels_are_images" };
        seed("idx", names[variant], b.p, b.n);
        free(b.p);
        if (gz) { free(L.p); free(I.p); }
        free(lab.p); free(img.p);
    }
}

/* ---- CIFAR: classes-1, limit, flags (1 cifar100, 2 named twice), batch file ---- */
static void cifar(void) {
    for (int variant = 0; variant < 4; variant++) {
        int c100 = variant == 1, nrec = 2, rec = 3072 + (c100 ? 2 : 1);
        unsigned char pre[3] = { c100 ? 99 : 9, variant == 2 ? 3 : 0, (unsigned char)(c100 | (variant == 2 ? 2 : 0)) };
        buf b = {0};
        add(&b, pre, 3);
        for (int r = 0; r < nrec; r++) {
            unsigned char lab[2] = { (unsigned char)(3 + r), (unsigned char)(c100 ? 42 + r : 0) };
            add(&b, lab, c100 ? 2 : 1);
            for (int p = 0; p < 3072; p++) { unsigned char v = (unsigned char)(p * 7 + r); add(&b, &v, 1); }
        }
        if (variant == 3) b.n -= rec / 2;   /* truncated inside the second record */
        static const char *names[] = { "cifar10_2rec", "cifar100_2rec", "cifar10_twice_limit3", "cifar10_truncated" };
        seed("cifar", names[variant], b.p, b.n);
        free(b.p);
    }
}

static void datacfg(void) {
    seed_str("datacfg", "fashion.data",
             "# Fashion-MNIST\nclasses=10\ntrain=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz\n"
             "train_labels=/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz\n"
             "valid=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz\n"
             "valid_labels=/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz\nnames=cfg/fashion.names\nbackup=backup/\n");
    seed_str("datacfg", "cifar10.data",
             "classes = 10\ntrain = c/data_batch_1.bin, c/data_batch_2.bin\nvalid=c/test_batch.bin\naugment=1\ncrop_pad=4\n");
    seed_str("datacfg", "cifar100.data", "classes=100\nformat=cifar100\ntrain=c/train.bin\nvalid=c/test.bin\nwidth=32\nheight=32\nchannels=3\n");
    seed_str("datacfg", "list.data", "classes=2\ntrain=data/train.list\nvalid=data/valid.txt\nlabels=data/labels.txt\nwidth=28\nheight=28\nchannels=1\ntop=2\n");
    seed_str("datacfg", "missing_valid.data", "classes=10\ntrain=a.bin\n");
    seed_str("datacfg", "bad_format.data", "classes=3\nformat=csv\ntrain=a\nvalid=b\n");
}

static void cfgcheck(void) {
    seed_str("cfgcheck", "conv_bn.cfg",
             "[net]\nbatch=8\nsubdivisions=1\nwidth=28\nheight=28\nchannels=1\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n"
             "policy=steps\nsteps=100,200\nscales=.1,.1\nmax_batches=300\n\n"
             "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
             "[maxpool]\nsize=2\nstride=2\n\n[dropout]\nprobability=.5\n\n[connected]\noutput=10\nactivation=linear\n\n"
             "[softmax]\ngroups=1\n\n[cost]\ntype=sse\n");
    seed_str("cfgcheck", "resnet.cfg",
             "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=3\npolicy=fge_cyclic\nfge_cycle=4\nlearning_rate_min=0.001\n"
             "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=relu\n"
             "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=linear\n"
             "[shortcut]\nfrom=-2\nactivation=relu\n"
             "[route]\nlayers=-1,0\n[avgpool]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n");
    seed_str("cfgcheck", "crnn.cfg",
             "[net]\ninputs=16\nbatch=2\ntime_steps=1\nadam=1\nB1=.9\nB2=.999\neps=1e-7\npolicy=sgdr\nsgdr_cycle=2\nsgdr_mult=2\n"
             "[crnn]\noutput_filters=2\nhidden_filters=2\nactivation=linear\n[local]\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
             "[batchnorm]\n[connected]\noutput=2\nactivation=logistic\n[softmax]\ntemperature=1\n");
    seed_str("cfgcheck", "bad_route.cfg", "[net]\nbatch=1\nwidth=4\nheight=4\nchannels=1\n[route]\nlayers=3\n[softmax]\n");
    seed_str("cfgcheck", "unknown_key.cfg",
             "[net]\nbatch=1\nwidth=4\nheight=4\nchannels=1\npolicy=poly\npower=4\nstep=10\n[conv]\nfilters=1\nsize=1\nactivation=swish\nweird=1\n[soft]\n");
}

static void list(void) {
    const char *L[][2] = {
        { "\0\0\0\0cat1.pgm\ndog1.ppm\n  bird1.pgm \n\n", "from_first_image" },
        { "\x08\x06\x03\x02" "dog1.ppm\r\ncat1.pgm\r\nbird1.pgm\r\n", "rgb_8x6_limit2" },
        { "\x05\x05\x01\x00" "catdog.pgm\ncat1.pgm\n", "two_names" },
        { "\x04\x04\x01\x00" "dogbird.ppm\n", "truncated_image" },
        { "\x04\x04\x01\x00" "cat.txt\n", "not_an_image" },
        { "\x04\x04\x01\x00" "fish.pgm\n", "no_class" },
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        size_t n = 4 + strlen(L[i][0] + 4);
        seed("list", L[i][1], L[i][0], n);
    }
}

static buf g_img;
static void to_buf(void *ctx, void *data, int size) { (void)ctx; add(&g_img, data, (size_t)size); }
static void image_seed(const char *name, unsigned char w, unsigned char h, int rgb, int (*fn)(int, int, int, const unsigned char *)) {
    unsigned char px[5 * 4 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (unsigned char)(i * 23);
    g_img.n = 0;
    unsigned char pre[3] = { w, h, (unsigned char)rgb };
    add(&g_img, pre, 3);
    fn(5, 4, rgb ? 3 : 1, px);
    seed("image", name, g_img.p, g_img.n);
}
static int w_png(int w, int h, int c, const unsigned char *p) { return stbi_write_png_to_func(to_buf, NULL, w, h, c, p, w * c); }
static int w_jpg(int w, int h, int c, const unsigned char *p) { return stbi_write_jpg_to_func(to_buf, NULL, w, h, c, p, 90); }
static int w_bmp(int w, int h, int c, const unsigned char *p) { return stbi_write_bmp_to_func(to_buf, NULL, w, h, c, p); }
static int w_tga(int w, int h, int c, const unsigned char *p) { return stbi_write_tga_to_func(to_buf, NULL, w, h, c, p); }
static int w_pnm(int w, int h, int c, const unsigned char *p) {
    char hdr[32];
    int n = snprintf(hdr, sizeof hdr, "P%d\n%d %d\n255\n", c == 3 ? 6 : 5, w, h);
    add(&g_img, hdr, (size_t)n); add(&g_img, p, (size_t)w * h * c);
    return 1;
}

static void images(void) {
    image_seed("png_grey", 4, 3, 0, w_png);
    image_seed("png_rgb_upscale", 9, 7, 1, w_png);
    image_seed("jpg_rgb", 4, 3, 1, w_jpg);
    image_seed("jpg_grey_to_rgb", 2, 2, 1, w_jpg);
    image_seed("bmp_rgb", 4, 3, 1, w_bmp);
    image_seed("tga_grey", 4, 3, 0, w_tga);
    image_seed("pgm", 4, 3, 0, w_pnm);
    image_seed("ppm", 4, 3, 1, w_pnm);
    free(g_img.p);
}

/* byte 0: classes - 1, then a label file (also read as an image list) */
static void labels(void) {
    const char *L[][2] = {
        { "\x02" "0 0.5 0.5 0.2 0.4\n\n2 0.1 0.9 0.2 0.2\r\n", "good_3_classes" },
        { "\x00" "0 0.0505 0.5 0.102 0.2\n0 1 0 0.0015 0.001", "edges_in_tolerance" },
        { "\x00" "0 0.05 0.5 0.2 0.2\n", "edge_outside" },
        { "\x01" "2 0.5 0.5 0.2 0.2\n", "class_out_of_range" },
        { "\x00" "0 nan 0.5 0.2 0.2\n0 0.5 0.5 0.2\n", "nan_and_short" },
        { "\x00" "data/images/a.jpg\n  VOC/JPEGImages/b.JPEG \nc.png\nd.bmp\n", "image_list" },
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) seed("labels", L[i][1], L[i][0], 1 + strlen(L[i][0] + 1));
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: gen_corpus <corpus folder>\n"); return 2; }
    g_root = argv[1];
    mkdir(g_root, 0755);
    curves(); weights(); idx(); cifar(); datacfg(); cfgcheck(); list(); images(); labels();
    return 0;
}
