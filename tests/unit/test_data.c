/* test_data.c: the data module: .data parsing, idx (raw and gz), CIFAR-10/100, image lists,
 * every load error, batches, augmentation, shuffling, the real Fashion-MNIST, and (when built
 * against darknet.h) that the CIFAR model cfgs parse with 10 outputs. Builds standalone:
 *   gcc -std=gnu11 -Iplugins/data -Itests/unit tests/unit/test_data.c plugins/data/data*.c
 *       -lz -lcmocka -lm (add -isystem /usr/lib/darknet/include and -ldarknet for the cfg check) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>
#include "data.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* ---------- helpers ---------- */

static char *tmp_path(const char *suffix) {
    char *p = tu_temp_path(suffix);
    assert_non_null(p);
    return p;
}

static void write_file(const char *path, const void *data, size_t len, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
    }
}

static void be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* idx image file of n images rows x cols with pixel (i,k) = (7*i + 3*k + 1) % 256; its first
 * `keep` bytes only when keep > 0 (truncation) */
static char *make_idx_images(int n, int rows, int cols, int gz, size_t keep, uint32_t magic) {
    size_t len = 16 + (size_t)n * rows * cols;
    unsigned char *b = malloc(len);
    be32(b, magic); be32(b + 4, (uint32_t)n); be32(b + 8, (uint32_t)rows); be32(b + 12, (uint32_t)cols);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < rows * cols; k++) b[16 + (size_t)i * rows * cols + k] = (unsigned char)((7 * i + 3 * k + 1) % 256);
    char *p = tmp_path(gz ? "-idx3-ubyte.gz" : "-idx3-ubyte");
    write_file(p, b, keep ? keep : len, gz);
    free(b);
    return p;
}

/* idx label file: label i = lab[i] */
static char *make_idx_labels(int n, const unsigned char *lab, int gz, uint32_t magic) {
    unsigned char *b = malloc(8 + (size_t)n);
    be32(b, magic); be32(b + 4, (uint32_t)n);
    memcpy(b + 8, lab, (size_t)n);
    char *p = tmp_path(gz ? "-idx1-ubyte.gz" : "-idx1-ubyte");
    write_file(p, b, 8 + (size_t)n, gz);
    free(b);
    return p;
}

static float idx_pixel(int i, int k) { return (float)((7 * i + 3 * k + 1) % 256) / 255.0f; }

/* CIFAR file of n records; record r: labels (r + base) % 10 (CIFAR-10) or coarse 99-that,
 * fine (r + base) % 100 (CIFAR-100); pixel p = (r + base + 5*p) % 256 */
static char *make_cifar(int n, int base, int cifar100, size_t extra) {
    size_t rec = 3072 + (cifar100 ? 2 : 1), len = (size_t)n * rec + extra;
    unsigned char *b = calloc(1, len);
    for (int r = 0; r < n; r++) {
        unsigned char *q = b + (size_t)r * rec;
        if (cifar100) { q[0] = (unsigned char)(19 - (r + base) % 20); q[1] = (unsigned char)((r + base) % 100); q += 2; }
        else { q[0] = (unsigned char)((r + base) % 10); q += 1; }
        for (int p = 0; p < 3072; p++) q[p] = (unsigned char)((r + base + 5 * p) % 256);
    }
    char *path = tmp_path(".bin");
    write_file(path, b, len, 0);
    free(b);
    return path;
}

static float cifar_pixel(int r, int p) { return (float)((r + 5 * p) % 256) / 255.0f; }

static char *write_text(const char *suffix, const char *fmt, ...) {
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *p = tu_write_temp(suffix, buf);
    assert_non_null(p);
    return p;
}

/* the error of loading a .data text, or "" if it loads */
static void cfg_err(const char *text, char *err, data_cfg *cfg) {
    char *p = write_text(".data", "%s", text);
    err[0] = 0;
    if (data_cfg_load(p, cfg, err) == 0) assert_string_equal(err, "");
    else assert_true(strlen(err) > 0 && strlen(err) < DATA_ERRLEN && !strchr(err, '\n'));
    /* the message names the file */
    if (err[0]) assert_non_null(strstr(err, p));
    unlink(p);
    free(p);
}

static void expect_err(int rc, const char *err, const char *a, const char *b) {
    assert_int_not_equal(rc, 0);
    assert_null(strchr(err, '\n'));
    if (a && !strstr(err, a)) fail_msg("error '%s' lacks '%s'", err, a);
    if (b && !strstr(err, b)) fail_msg("error '%s' lacks '%s'", err, b);
}

/* ---------- .data files ---------- */

static void test_cfg_idx(void **state) {
    (void)state;
    data_cfg c;
    char err[DATA_ERRLEN];
    char *p = write_text(".data",
        "# Fashion-MNIST\n"
        "  classes = 10   # ten\n"
        "train=/d/train-images-idx3-ubyte.gz\n"
        "\n"
        "valid =  /d/t10k-images-idx3-ubyte.gz\n"
        "train_labels=/d/train-labels-idx1-ubyte.gz\n"
        "valid_labels=/d/t10k-labels-idx1-ubyte.gz\n"
        "labels=data/fashion.names\n"
        "backup=backup/\n"
        "top=5\n");
    assert_int_equal(data_cfg_load(p, &c, err), 0);
    assert_string_equal(c.path, p);
    assert_int_equal(c.classes, 10);
    assert_string_equal(c.format, "idx");
    assert_string_equal(c.train, "/d/train-images-idx3-ubyte.gz");
    assert_string_equal(c.valid, "/d/t10k-images-idx3-ubyte.gz");
    assert_string_equal(c.train_labels, "/d/train-labels-idx1-ubyte.gz");
    assert_string_equal(c.valid_labels, "/d/t10k-labels-idx1-ubyte.gz");
    assert_string_equal(c.labels, "data/fashion.names");
    assert_string_equal(c.backup, "backup/");
    assert_int_equal(c.augment, 0);
    assert_int_equal(c.crop_pad, 4);
    assert_int_equal(c.width, 0);
    unlink(p);
    free(p);

    cfg_err("classes=10\ntrain=a/data_batch_1.bin, a/data_batch_2.bin\nvalid=a/test_batch.bin\n", err, &c);
    assert_string_equal(err, "");
    assert_string_equal(c.format, "cifar10");
    assert_int_equal(c.augment, 1);
    cfg_err("classes=100\ntrain=train.bin\nvalid=test.bin\ncrop_pad=2\naugment=0\n", err, &c);
    assert_string_equal(c.format, "cifar100");
    assert_int_equal(c.augment, 0);
    assert_int_equal(c.crop_pad, 2);
    cfg_err("classes=3\ntrain=data/train.list\nvalid=data/valid.txt\nlabels=l.txt\nwidth=8\nheight=6\nchannels=1\n",
            err, &c);
    assert_string_equal(c.format, "list");
    assert_int_equal(c.width, 8);
    assert_int_equal(c.height, 6);
    assert_int_equal(c.channels, 1);
    cfg_err("classes=2\nformat=idx\ntrain=x\nvalid=y\ntrain_labels=a\nvalid_labels=b\naugment=1\n", err, &c);
    assert_string_equal(err, "");
    assert_int_equal(c.augment, 1);
}

static void test_cfg_errors(void **state) {
    (void)state;
    data_cfg c;
    char err[DATA_ERRLEN], want[DATA_ERRLEN];
    struct { const char *text, *need; } cases[] = {
        {"train=x-idx3-ubyte\nvalid=y\ntrain_labels=a\nvalid_labels=b\n", "missing key 'classes'"},
        {"classes=10\nvalid=y\nformat=idx\ntrain_labels=a\nvalid_labels=b\n", "missing key 'train'"},
        {"classes=10\ntrain=x-idx3-ubyte\ntrain_labels=a\nvalid_labels=b\n", "missing key 'valid'"},
        {"classes=10\ntrain=x-idx3-ubyte.gz\nvalid=y\nvalid_labels=b\n", "missing key 'train_labels'"},
        {"classes=10\ntrain=x-idx3-ubyte.gz\nvalid=y\ntrain_labels=a\n", "missing key 'valid_labels'"},
        {"classes=10\ntrain=x.txt\nvalid=y.txt\n", "missing key 'labels'"},
        {"classes=10\ntrain=x.dat\nvalid=y.dat\n", "format="},
        {"classes=7\ntrain=x.bin\nvalid=y.bin\n", "format="},
        {"classes=10\ntrain=x\nvalid=y\nformat=png\n", "unknown format 'png'"},
        {"classes=ten\ntrain=x\nvalid=y\nformat=cifar10\n", "bad value for 'classes'"},
        {"classes=0\ntrain=x\nvalid=y\nformat=cifar10\n", "classes"},
        {"classes=10\ntrain=x\nvalid=y\nformat=cifar10\naugment=2\n", "augment"},
        {"classes=10\ntrain x\nvalid=y\nformat=cifar10\n", ":2: expected key=value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg_err(cases[i].text, err, &c);
        if (!strstr(err, cases[i].need)) fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].need);
    }
    /* exact form of the missing-key message */
    char *p = write_text(".data", "classes=10\nvalid=y\nformat=cifar10\n");
    assert_int_not_equal(data_cfg_load(p, &c, err), 0);
    snprintf(want, sizeof want, "%s: missing key 'train'", p);
    assert_string_equal(err, want);
    unlink(p);
    assert_int_not_equal(data_cfg_load(p, &c, err), 0);
    expect_err(1, err, p, "cannot open");
    free(p);
}

/* ---------- idx ---------- */

static void check_idx(const dataset *d, int n, int rows, int cols, const unsigned char *lab) {
    assert_int_equal(d->n, n);
    assert_int_equal(d->w, cols);
    assert_int_equal(d->h, rows);
    assert_int_equal(d->c, 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(d->labels[i], lab[i]);
        for (int k = 0; k < rows * cols; k++)
            if (d->X[(size_t)i * rows * cols + k] != idx_pixel(i, k)) fail_msg("image %d pixel %d", i, k);
    }
}

static void test_idx_load(void **state) {
    (void)state;
    unsigned char lab[5] = {3, 0, 2, 1, 3};
    char err[DATA_ERRLEN];
    for (int gz = 0; gz < 2; gz++) {
        char *im = make_idx_images(5, 3, 4, gz, 0, 0x803), *lb = make_idx_labels(5, lab, gz, 0x801);
        dataset d;
        assert_int_equal(data_load_idx(im, lb, 4, 0, &d, err), 0);
        check_idx(&d, 5, 3, 4, lab);
        assert_int_equal(d.classes, 4);
        data_free(&d);
        data_free(&d); /* idempotent */
        assert_int_equal(data_load_idx(im, lb, 4, 2, &d, err), 0);
        check_idx(&d, 2, 3, 4, lab);
        data_free(&d);
        assert_int_equal(data_load_idx(im, lb, 4, 99, &d, err), 0);
        assert_int_equal(d.n, 5);
        data_free(&d);
        /* through a .data file, split 1, and geometry checks */
        char *p = write_text(".data", "classes=4\ntrain=%s\nvalid=%s\ntrain_labels=%s\nvalid_labels=%s\n", im, im, lb, lb);
        data_cfg c;
        assert_int_equal(data_cfg_load(p, &c, err), 0);
        assert_string_equal(c.format, "idx");
        assert_int_equal(data_load(&c, 1, 3, &d, err), 0);
        check_idx(&d, 3, 3, 4, lab);
        assert_int_equal(d.crop_pad, 0);
        assert_int_equal(d.flip, 0);
        data_free(&d);
        c.width = 4; c.height = 3; c.channels = 1;
        assert_int_equal(data_load(&c, 0, 0, &d, err), 0);
        data_free(&d);
        c.width = 28;
        expect_err(data_load(&c, 0, 0, &d, err), err, "4x3x1", "28x3x1");
        assert_null(d.X);
        assert_int_equal(d.n, 0);
        unlink(p); free(p);
        /* holdout=2, valid=holdout: training is images 0..2, validation 3..4 */
        p = write_text(".data", "classes=4\ntrain=%s\nvalid=holdout\ntrain_labels=%s\nholdout=2\n", im, lb);
        assert_int_equal(data_cfg_load(p, &c, err), 0);
        assert_int_equal(data_load(&c, 0, 0, &d, err), 0);
        check_idx(&d, 3, 3, 4, lab);
        data_free(&d);
        assert_int_equal(data_load(&c, 1, 0, &d, err), 0);
        assert_int_equal(d.n, 2);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(d.labels[i], lab[3 + i]);
            for (int k = 0; k < 12; k++) assert_float_equal(d.X[i * 12 + k], idx_pixel(3 + i, k), 0);
        }
        data_free(&d);
        assert_int_equal(data_load(&c, 1, 1, &d, err), 0);   /* a limit keeps the first held-out image */
        assert_int_equal(d.n, 1);
        assert_int_equal(d.labels[0], lab[3]);
        data_free(&d);
        assert_int_equal(data_load(&c, 0, 2, &d, err), 0);
        check_idx(&d, 2, 3, 4, lab);
        data_free(&d);
        c.holdout = 5;
        expect_err(data_load(&c, 0, 0, &d, err), err, p, "holdout=5");
        assert_null(d.X);
        unlink(p); free(p);
        /* holdout with the usual valid files: the test split is untouched */
        p = write_text(".data", "classes=4\ntrain=%s\nvalid=%s\ntrain_labels=%s\nvalid_labels=%s\nholdout=1\n", im, im, lb, lb);
        assert_int_equal(data_cfg_load(p, &c, err), 0);
        assert_int_equal(data_load(&c, 1, 0, &d, err), 0);
        check_idx(&d, 5, 3, 4, lab);
        data_free(&d);
        assert_int_equal(data_load(&c, 0, 0, &d, err), 0);
        check_idx(&d, 4, 3, 4, lab);
        data_free(&d);
        unlink(p); free(p);
        /* valid=holdout without holdout= */
        p = write_text(".data", "classes=4\ntrain=%s\nvalid=holdout\ntrain_labels=%s\n", im, lb);
        expect_err(data_cfg_load(p, &c, err), err, p, "holdout=N");
        unlink(p); free(p);
        unlink(im); unlink(lb); free(im); free(lb);
    }
}

static void test_idx_errors(void **state) {
    (void)state;
    unsigned char lab[4] = {0, 1, 2, 1}, bad[4] = {0, 1, 3, 1};
    char err[DATA_ERRLEN];
    dataset d;
    for (int gz = 0; gz < 2; gz++) {
        char *im = make_idx_images(4, 2, 2, gz, 0, 0x803), *lb = make_idx_labels(4, lab, gz, 0x801);
        /* missing files */
        expect_err(data_load_idx("/nonexistent/x-idx3-ubyte.gz", lb, 3, 0, &d, err), err,
                   "/nonexistent/x-idx3-ubyte.gz", "cannot open");
        expect_err(data_load_idx(im, "/nonexistent/l", 3, 0, &d, err), err, "/nonexistent/l", "cannot open");
        /* truncated pixels, truncated header, empty file */
        char *tr = make_idx_images(4, 2, 2, gz, 16 + 4 * 4 - 3, 0x803);
        expect_err(data_load_idx(tr, lb, 3, 0, &d, err), err, tr, "truncated");
        assert_int_equal(data_load_idx(tr, lb, 3, 3, &d, err), 0); /* the first 3 are whole */
        data_free(&d);
        char *th = make_idx_images(4, 2, 2, gz, 10, 0x803);
        expect_err(data_load_idx(th, lb, 3, 0, &d, err), err, th, "truncated");
        /* wrong magic: swapped files, and garbage */
        expect_err(data_load_idx(lb, im, 3, 0, &d, err), err, lb, "magic 0x00000801");
        char *gm = make_idx_images(4, 2, 2, gz, 0, 0x12345678);
        expect_err(data_load_idx(gm, lb, 3, 0, &d, err), err, gm, "magic 0x12345678");
        /* label out of range */
        char *lo = make_idx_labels(4, bad, gz, 0x801);
        expect_err(data_load_idx(im, lo, 3, 0, &d, err), err, lo, "out of range");
        assert_int_equal(data_load_idx(im, lo, 4, 0, &d, err), 0);
        data_free(&d);
        /* count mismatch */
        char *l3 = make_idx_labels(3, lab, gz, 0x801);
        expect_err(data_load_idx(im, l3, 3, 0, &d, err), err, l3, im);
        assert_null(d.X);
        assert_null(d.labels);
        char *all[] = {im, lb, tr, th, gm, lo, l3};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) { unlink(all[i]); free(all[i]); }
    }
    /* a gz file cut in the middle of its compressed stream */
    char *im = make_idx_images(50, 28, 28, 1, 0, 0x803);
    unsigned char lab50[50] = {0};
    char *lb = make_idx_labels(50, lab50, 0, 0x801);
    struct stat st;
    assert_int_equal(stat(im, &st), 0);
    assert_int_equal(truncate(im, st.st_size / 2), 0);
    expect_err(data_load_idx(im, lb, 10, 0, &d, err), err, im, "truncated");
    unlink(im); unlink(lb); free(im); free(lb);
}

/* ---------- CIFAR ---------- */

static void test_cifar(void **state) {
    (void)state;
    char err[DATA_ERRLEN];
    dataset d;
    char *a = make_cifar(3, 0, 0, 0), *b = make_cifar(2, 3, 0, 0);
    char files[4096];
    snprintf(files, sizeof files, "%s, %s", a, b);
    assert_int_equal(data_load_cifar(files, "cifar10", 10, 0, &d, err), 0);
    assert_int_equal(d.n, 5);
    assert_int_equal(d.w, 32);
    assert_int_equal(d.h, 32);
    assert_int_equal(d.c, 3);
    for (int r = 0; r < 5; r++) {
        assert_int_equal(d.labels[r], r % 10);
        for (int p = 0; p < 3072; p++)
            if (d.X[(size_t)r * 3072 + p] != cifar_pixel(r, p)) fail_msg("record %d pixel %d", r, p);
    }
    data_free(&d);
    assert_int_equal(data_load_cifar(files, "cifar10", 10, 4, &d, err), 0);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.labels[3], 3);
    assert_true(d.X[3 * 3072 + 10] == cifar_pixel(3, 10));
    data_free(&d);

    /* via .data: augmentation settings and format inference */
    char *p = write_text(".data", "classes=10\ntrain=%s\nvalid=%s\ncrop_pad=2\n", files, b);
    data_cfg c;
    assert_int_equal(data_cfg_load(p, &c, err), 0);
    assert_string_equal(c.format, "cifar10");
    assert_int_equal(data_load(&c, 1, 0, &d, err), 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.labels[0], 3);
    assert_int_equal(d.crop_pad, 2);
    assert_int_equal(d.flip, 1);
    data_free(&d);
    c.channels = 1;
    expect_err(data_load(&c, 0, 0, &d, err), err, "32x32x3", "32x32x1");
    unlink(p); free(p);

    /* CIFAR-100: the fine label */
    char *h = make_cifar(4, 97, 1, 0);
    assert_int_equal(data_load_cifar(h, "cifar100", 100, 0, &d, err), 0);
    assert_int_equal(d.n, 4);
    int want[4] = {97, 98, 99, 0};
    for (int r = 0; r < 4; r++) assert_int_equal(d.labels[r], want[r]);
    assert_true(d.X[2 * 3072 + 7] == (float)((2 + 97 + 35) % 256) / 255.0f);
    data_free(&d);

    /* errors */
    expect_err(data_load_cifar(h, "cifar10", 10, 0, &d, err), err, h, "not a multiple of the 3073-byte");
    expect_err(data_load_cifar(a, "cifar100", 100, 0, &d, err), err, a, "3074");
    char *t = make_cifar(2, 0, 0, 100);
    expect_err(data_load_cifar(t, "cifar10", 10, 0, &d, err), err, t, "not a multiple");
    snprintf(files, sizeof files, "%s,/nonexistent/data_batch_9.bin", a);
    expect_err(data_load_cifar(files, "cifar10", 10, 0, &d, err), err, "/nonexistent/data_batch_9.bin", "cannot open");
    expect_err(data_load_cifar(a, "cifar10", 2, 0, &d, err), err, a, "out of range");
    char *e = make_cifar(0, 0, 0, 0);
    expect_err(data_load_cifar(e, "cifar10", 10, 0, &d, err), err, e, "size 0");
    assert_null(d.X);
    char *all[] = {a, b, h, t, e};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) { unlink(all[i]); free(all[i]); }
}

/* ---------- image lists ---------- */

/* write a binary PNM (P5 grey or P6 RGB) image; pixel (y,x,k) = f */
static void write_pnm(const char *path, int w, int h, int c, int seed) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "P%d\n%d %d\n255\n", c == 1 ? 5 : 6, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) fputc((seed + 40 * y + 10 * x + 3 * k) % 256, f);
    fclose(f);
}

static void test_list(void **state) {
    (void)state;
    char dir[] = "/tmp/dkmc_list_XXXXXX", err[DATA_ERRLEN];
    assert_non_null(mkdtemp(dir));
    char path[4][1200];
    const char *names[4] = {"airplane_1.ppm", "cat_2.ppm", "bird_3.ppm", "cat_4.ppm"};
    for (int i = 0; i < 4; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
        write_pnm(path[i], 4, 4, 3, 17 * i);
    }
    char *labels = write_text(".names", "airplane\nbird\n\ncat\n");
    char *list = write_text(".list", "%s\n%s\n\n%s\n%s\n", path[0], path[1], path[2], path[3]);
    char *p = write_text(".data", "classes=3\ntrain=%s\nvalid=%s\nlabels=%s\n", list, list, labels);
    data_cfg c;
    dataset d;
    assert_int_equal(data_cfg_load(p, &c, err), 0);
    assert_string_equal(c.format, "list");
    c.augment = 1;
    assert_int_equal(data_load(&c, 0, 0, &d, err), 0);
    assert_int_equal(d.crop_pad, 4);
    assert_int_equal(d.flip, 1);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.w, 4);
    assert_int_equal(d.h, 4);
    assert_int_equal(d.c, 3);
    int want[4] = {0, 2, 1, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(d.labels[i], want[i]);
        for (int k = 0; k < 3; k++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    assert_true(d.X[(size_t)i * 48 + k * 16 + y * 4 + x] ==
                                (float)((17 * i + 40 * y + 10 * x + 3 * k) % 256) / 255.0f);
    }
    data_free(&d);
    /* limit; resize to 2x2 grey: a 2x downscale averages 2x2 blocks (bilinear at centres) */
    c.width = 2; c.height = 2; c.channels = 1;
    assert_int_equal(data_load(&c, 1, 1, &d, err), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.c, 1);
    assert_int_equal(d.w, 2);
    /* grey: stb converts RGB with (77r + 150g + 29b) >> 8 */
    float g[4][4];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int r = (40 * y + 10 * x) % 256, gg = (40 * y + 10 * x + 3) % 256, b = (40 * y + 10 * x + 6) % 256;
            g[y][x] = (float)((77 * r + 150 * gg + 29 * b) >> 8);
        }
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++) {
            float m = (g[2 * y][2 * x] + g[2 * y][2 * x + 1] + g[2 * y + 1][2 * x] + g[2 * y + 1][2 * x + 1]) / 4;
            assert_float_equal(d.X[y * 2 + x], m / 255.0f, 1e-5);
        }
    data_free(&d);
    /* upscale of a grey image to 8x8 stays within the source range */
    char gp[1200];
    snprintf(gp, sizeof gp, "%s/bird_grey.pgm", dir);
    write_pnm(gp, 3, 3, 1, 5);
    char *gl = write_text(".list", "%s\n", gp);
    char *nm[3] = {"airplane", "bird", "cat"};
    assert_int_equal(data_load_list(gl, nm, 3, 8, 8, 0, 0, &d, err), 0);
    assert_int_equal(d.c, 1);
    assert_int_equal(d.labels[0], 1);
    for (int i = 0; i < 64; i++) assert_true(d.X[i] >= 5 / 255.0f - 1e-6 && d.X[i] <= 105 / 255.0f + 1e-6);
    assert_true(d.X[0] == 5 / 255.0f);  /* corners are the source corners */
    assert_true(d.X[63] == 105 / 255.0f);
    data_free(&d);

    /* errors: no class in the path, ambiguous, unreadable image, missing list, too few labels */
    char *l2 = write_text(".list", "%s\n%s/dog_1.ppm\n", path[0], dir);
    expect_err(data_load_list(l2, nm, 3, 0, 0, 0, 0, &d, err), err, ":2:", "no class name");
    char *l3 = write_text(".list", "%s/cat/bird_1.ppm\n", dir);
    char bp[1200];
    snprintf(bp, sizeof bp, "%s/cat", dir);
    mkdir(bp, 0700);
    snprintf(bp, sizeof bp, "%s/cat/bird_1.ppm", dir);
    write_pnm(bp, 4, 4, 3, 0);
    assert_int_equal(data_load_list(l3, nm, 3, 0, 0, 0, 0, &d, err), 0); /* file name decides */
    assert_int_equal(d.labels[0], 1);
    data_free(&d);
    char cb[1200];
    snprintf(cb, sizeof cb, "%s/cat_bird.ppm", dir);
    write_pnm(cb, 4, 4, 3, 0);
    char *l4 = write_text(".list", "%s\n", cb);
    expect_err(data_load_list(l4, nm, 3, 0, 0, 0, 0, &d, err), err, l4, "several");
    char *l5 = write_text(".list", "%s\n%s/cat_missing.png\n", path[0], dir);
    expect_err(data_load_list(l5, nm, 3, 0, 0, 0, 0, &d, err), err, "cat_missing.png", "cannot read image");
    char junk[1200];
    snprintf(junk, sizeof junk, "%s/cat_junk.png", dir);
    write_file(junk, "not a png", 9, 0);
    char *l6 = write_text(".list", "%s\n", junk);
    expect_err(data_load_list(l6, nm, 3, 0, 0, 0, 0, &d, err), err, junk, "cannot read image");
    expect_err(data_load_list("/nonexistent/x.list", nm, 3, 0, 0, 0, 0, &d, err), err, "/nonexistent/x.list", "cannot open");
    assert_null(d.X);
    char *p2 = write_text(".data", "classes=4\ntrain=%s\nvalid=%s\nlabels=%s\n", list, list, labels);
    assert_int_equal(data_cfg_load(p2, &c, err), 0);
    expect_err(data_load(&c, 0, 0, &d, err), err, labels, "has 3 labels but classes=4");

    char *rm[] = {labels, list, p, gl, l2, l3, l4, l5, l6, p2};
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) { unlink(rm[i]); free(rm[i]); }
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---------- batches, augmentation, shuffling ---------- */

static dataset make_ds(int n, int w, int h, int c, int classes) {
    dataset d = {0};
    d.n = n; d.w = w; d.h = h; d.c = c; d.classes = classes;
    d.X = malloc((size_t)n * w * h * c * sizeof *d.X);
    d.labels = malloc((size_t)n * sizeof *d.labels);
    tu_fill_random(d.X, (size_t)n * w * h * c, 1.0f, 42);
    for (int i = 0; i < n; i++) {
        d.labels[i] = (i * 7) % classes;
        for (int k = 0; k < w * h * c; k++) d.X[(size_t)i * w * h * c + k] += 2.0f; /* all nonzero */
    }
    return d;
}

static void test_batch_plain(void **state) {
    (void)state;
    dataset d = make_ds(10, 5, 4, 2, 3);
    d.crop_pad = 2; d.flip = 1;  /* ignored when augment=0 */
    int order[10];
    data_identity(order, 10);
    for (int i = 0; i < 10; i++) assert_int_equal(order[i], i);
    order[3] = 8; order[8] = 3;
    size_t sz = 5 * 4 * 2;
    float x[4 * 40], y[4 * 3];
    memset(y, 0x7f, sizeof y);
    data_batch(&d, order, 2, 4, x, y, 0, NULL);
    for (int b = 0; b < 4; b++) {
        int idx = order[2 + b];
        assert_memory_equal(x + b * sz, d.X + idx * sz, sz * sizeof(float));
        for (int k = 0; k < 3; k++) assert_true(y[b * 3 + k] == (k == d.labels[idx] ? 1.0f : 0.0f));
    }
    data_batch(&d, NULL, 6, 2, x, y, 0, NULL);
    assert_memory_equal(x, d.X + 6 * sz, 2 * sz * sizeof(float));
    /* augment requested but the data set has none: a plain copy, no rng draws */
    dataset e = d;
    e.crop_pad = 0; e.flip = 0;
    rng_t r, r0;
    rng_seed(&r, 1); r0 = r;
    data_batch(&e, order, 0, 4, x, y, 1, &r);
    assert_memory_equal(x, d.X, sz * sizeof(float));
    assert_memory_equal(&r, &r0, sizeof r);
    data_free(&d);
}

static void test_transform(void **state) {
    (void)state;
    int w = 6, h = 5, c = 3;
    size_t sz = (size_t)w * h * c;
    float src[90], a[90], b[90];
    tu_fill_random(src, sz, 1.0f, 3);
    /* identity window, flip twice */
    data_transform(src, a, w, h, c, 0, 0, 0, 0);
    assert_memory_equal(a, src, sizeof src);
    data_transform(src, a, w, h, c, 3, 3, 3, 0);
    assert_memory_equal(a, src, sizeof src);
    data_transform(src, a, w, h, c, 0, 0, 0, 1);
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) assert_true(a[k * w * h + i * w + j] == src[k * w * h + i * w + w - 1 - j]);
    data_transform(a, b, w, h, c, 0, 0, 0, 1);
    assert_memory_equal(b, src, sizeof src);
    /* crop: a shifted window of the zero-padded image */
    int pad = 2;
    for (int dy = 0; dy <= 2 * pad; dy++)
        for (int dx = 0; dx <= 2 * pad; dx++) {
            data_transform(src, a, w, h, c, pad, dx, dy, 0);
            for (int k = 0; k < c; k++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++) {
                        int si = i + dy - pad, sj = j + dx - pad;
                        float want = (si >= 0 && si < h && sj >= 0 && sj < w) ? src[k * w * h + si * w + sj] : 0.0f;
                        assert_true(a[k * w * h + i * w + j] == want);
                    }
        }
}

/* which (dx,dy,flip) produced out from src, or -1 */
static int find_transform(const float *src, const float *out, int w, int h, int c, int pad) {
    float *t = malloc((size_t)w * h * c * sizeof *t);
    int found = -1;
    for (int f = 0; f < 2 && found < 0; f++)
        for (int dy = 0; dy <= 2 * pad && found < 0; dy++)
            for (int dx = 0; dx <= 2 * pad && found < 0; dx++) {
                data_transform(src, t, w, h, c, pad, dx, dy, f);
                if (!memcmp(t, out, (size_t)w * h * c * sizeof *t)) found = (f * (2 * pad + 1) + dy) * (2 * pad + 1) + dx;
            }
    free(t);
    return found;
}

static void test_batch_augment(void **state) {
    (void)state;
    dataset d = make_ds(8, 7, 7, 3, 4);
    size_t sz = 7 * 7 * 3;
    int order[8];
    data_identity(order, 8);
    float *x = malloc(8 * sz * sizeof *x), *x2 = malloc(8 * sz * sizeof *x), y[8 * 4];
    /* flip only (crop_pad = 0): each image is itself or its mirror; both occur */
    d.crop_pad = 0; d.flip = 1;
    rng_t r;
    rng_seed(&r, 5);
    int seen[2] = {0, 0};
    for (int rep = 0; rep < 8; rep++) {
        data_batch(&d, order, 0, 8, x, y, 1, &r);
        for (int b = 0; b < 8; b++) {
            int t = find_transform(d.X + b * sz, x + b * sz, 7, 7, 3, 0);
            assert_true(t == 0 || t == 1);
            seen[t]++;
        }
    }
    assert_true(seen[0] > 10 && seen[1] > 10);
    /* crop + flip: every output is some window of the padded image, the one-hot rows are
     * unchanged, and the same seed gives the same batch */
    d.crop_pad = 2;
    rng_seed(&r, 9);
    data_batch(&d, order, 0, 8, x, y, 1, &r);
    rng_t r2;
    rng_seed(&r2, 9);
    data_batch(&d, order, 0, 8, x2, y, 1, &r2);
    assert_memory_equal(x, x2, 8 * sz * sizeof *x);
    int distinct = 0, seenv[50] = {0};
    for (int rep = 0; rep < 10; rep++) {
        data_batch(&d, order, 0, 8, x, y, 1, &r);
        for (int b = 0; b < 8; b++) {
            int t = find_transform(d.X + b * sz, x + b * sz, 7, 7, 3, 2);
            assert_true(t >= 0);
            if (!seenv[t]++) distinct++;
            for (int k = 0; k < 4; k++) assert_true(y[b * 4 + k] == (k == d.labels[b] ? 1.0f : 0.0f));
        }
    }
    assert_true(distinct > 20); /* of 50 possible windows x flips */
    free(x); free(x2);
    data_free(&d);
}

static void test_shuffle(void **state) {
    (void)state;
    enum { N = 1000 };
    int a[N], b[N], cnt[N];
    rng_t r;
    rng_seed(&r, 123);
    data_identity(a, N);
    data_shuffle(a, N, &r);
    memset(cnt, 0, sizeof cnt);
    int fixed = 0;
    for (int i = 0; i < N; i++) { assert_true(a[i] >= 0 && a[i] < N); cnt[a[i]]++; fixed += a[i] == i; }
    for (int i = 0; i < N; i++) assert_int_equal(cnt[i], 1);
    assert_true(fixed < 10);
    rng_seed(&r, 123);
    data_identity(b, N);
    data_shuffle(b, N, &r);
    assert_memory_equal(a, b, sizeof a);
    rng_seed(&r, 124);
    data_identity(b, N);
    data_shuffle(b, N, &r);
    assert_memory_not_equal(a, b, sizeof a);
    /* trivial sizes */
    int one[1] = {0};
    data_shuffle(one, 1, &r);
    assert_int_equal(one[0], 0);
    data_shuffle(one, 0, &r);
    /* small case: all 6 permutations of 3 occur */
    int perms[6] = {0};
    for (int t = 0; t < 600; t++) {
        int o[3];
        data_identity(o, 3);
        data_shuffle(o, 3, &r);
        perms[o[0] * 2 + (o[1] > o[2])]++;
    }
    for (int i = 0; i < 6; i++) assert_true(perms[i] > 50);
}

/* ---------- the real Fashion-MNIST ---------- */

static void test_fashion_mnist(void **state) {
    (void)state;
    if (access(FMNIST "train-images-idx3-ubyte.gz", R_OK)) { skip(); return; }
    char err[DATA_ERRLEN];
    char *p = write_text(".data",
        "classes=10\ntrain=" FMNIST "train-images-idx3-ubyte.gz\nvalid=" FMNIST "t10k-images-idx3-ubyte.gz\n"
        "train_labels=" FMNIST "train-labels-idx1-ubyte.gz\nvalid_labels=" FMNIST "t10k-labels-idx1-ubyte.gz\n");
    data_cfg c;
    dataset d;
    assert_int_equal(data_cfg_load(p, &c, err), 0);
    assert_int_equal(data_load(&c, 0, 1000, &d, err), 0);
    assert_int_equal(d.n, 1000);
    assert_int_equal(d.w, 28);
    assert_int_equal(d.h, 28);
    assert_int_equal(d.c, 1);
    /* an independent read of the same bytes */
    unsigned char hdr[16], *px = malloc(1000 * 784), lab[1008];
    gzFile f = gzopen(FMNIST "train-images-idx3-ubyte.gz", "rb");
    assert_int_equal(gzread(f, hdr, 16), 16);
    assert_int_equal((hdr[4] << 24) | (hdr[5] << 16) | (hdr[6] << 8) | hdr[7], 60000);
    assert_int_equal(gzread(f, px, 1000 * 784), 1000 * 784);
    gzclose(f);
    f = gzopen(FMNIST "train-labels-idx1-ubyte.gz", "rb");
    assert_int_equal(gzread(f, lab, 1008), 1008);
    gzclose(f);
    double sum = 0;
    float mx = 0;
    int classes[10] = {0};
    for (int i = 0; i < 1000 * 784; i++) {
        if (d.X[i] != px[i] / 255.0f) fail_msg("pixel %d", i);
        sum += d.X[i];
        if (d.X[i] > mx) mx = d.X[i];
    }
    for (int i = 0; i < 1000; i++) { assert_int_equal(d.labels[i], lab[8 + i]); classes[d.labels[i]]++; }
    assert_int_equal(d.labels[0], 9); /* the first training image is an ankle boot */
    for (int k = 0; k < 10; k++) assert_true(classes[k] > 50 && classes[k] < 150);
    double mean = sum / (1000 * 784);
    assert_true(mean > 0.25 && mean < 0.32); /* Fashion-MNIST's mean is about 0.286 */
    assert_true(mx == 1.0f);
    free(px);
    data_free(&d);
    assert_int_equal(data_load(&c, 1, 0, &d, err), 0);
    assert_int_equal(d.n, 10000);
    assert_int_equal(d.labels[0], 9);
    data_free(&d);
    unlink(p); free(p);
}

/* ---------- the CIFAR model cfgs parse (only when built against darknet.h) ---------- */

#if defined(__has_include)
#if __has_include(<darknet.h>)
#define HAVE_DARKNET 1
#endif
#endif

#ifdef HAVE_DARKNET
#include <darknet.h>
#include "host_private.h"   /* host__free_network: free_network and what it forgets */
static void test_cfgs_parse(void **state) {
    (void)state;
    const char *cfgs[] = {"cfg/vgg16.cfg", "cfg/vgg16-bn.cfg", "cfg/resnet20.cfg"};
    for (int i = 0; i < 3; i++) {
        if (access(cfgs[i], R_OK)) { skip(); return; } /* not run from the repository root */
        /* a copy with batch=1 so that parsing allocates little */
        FILE *in = fopen(cfgs[i], "r");
        char *out = tmp_path(".cfg");
        FILE *o = fopen(out, "w");
        char line[1024];
        while (fgets(line, sizeof line, in)) fputs(strncmp(line, "batch=", 6) ? line : "batch=1\n", o);
        fclose(in); fclose(o);
        int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2); /* parse_network_cfg prints the layer table */
        network *net = parse_network_cfg(out);
        dup2(saved, 2); close(saved); close(devnull);
        assert_non_null(net);
        assert_int_equal(net->inputs, 32 * 32 * 3);
        assert_int_equal(net->layers[net->n - 1].type, SOFTMAX);
        assert_int_equal(net->layers[net->n - 1].outputs, 10);
        assert_int_equal(net->layers[net->n - 2].type, CONNECTED);
        int convs = 0, bn = 0, shortcuts = 0;
        for (int k = 0; k < net->n; k++) {
            if (net->layers[k].type == CONVOLUTIONAL) { convs++; bn += net->layers[k].batch_normalize; }
            if (net->layers[k].type == SHORTCUT) shortcuts++;
        }
        int want_convs[] = {13, 13, 19}, want_bn[] = {0, 13, 19}, want_sc[] = {0, 0, 9};   /* resnet20: option-A shortcuts */
        assert_int_equal(convs, want_convs[i]);
        assert_int_equal(bn, want_bn[i]);
        assert_int_equal(shortcuts, want_sc[i]);
        host__free_network(net);
        unlink(out); free(out);
    }
}
#endif

/* Images that crashed or misled the decoder (inputs found by tests/fuzz/fuzz_image): a PNM
 * with 0 rows, a JPEG whose Huffman table declares more than 256 codes (stb 2.27 writes past
 * the table), a PNG whose unknown chunk's name holds a newline (stb quotes it). Each is one
 * error line naming the file. */
static void test_image_hostile(void **state) {
    (void)state;
    char err[DATA_ERRLEN];
    float out[4 * 4 * 3];
    char *pnm = tu_temp_path(".pgm"), *jpg = tu_temp_path(".jpg"), *png = tu_temp_path(".png");
    write_file(pnm, "P5\n3 0\n255\n", 11, 0);
    expect_err(data_load_image(pnm, 4, 4, 1, out, err), err, pnm, "0 pixels");
    unsigned char j[] = { 0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                          0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0xFF, 0xD9 };
    write_file(jpg, j, sizeof j, 0);
    expect_err(data_load_image(jpg, 4, 4, 3, out, err), err, jpg, "Huffman");
    static const unsigned char g[] = "\x89PNG\r\n\x1a\n"
        "\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0\0\0\0\0"
        "\0\0\0\0G\n\rX\0\0\0\0";
    write_file(png, g, sizeof g - 1, 0);
    expect_err(data_load_image(png, 4, 4, 1, out, err), err, png, "cannot read image");
    assert_non_null(strstr(err, "G??X"));
    /* a header that declares more pixels than IMAGE_MAX_PIXELS (stb would decode them all from
     * a file of a few bytes): an 18-byte TGA header of 8000 x 8000 grey pixels */
    char *tga = tu_temp_path(".tga");
    unsigned char t[24] = { 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x1f, 0x40, 0x1f, 8, 0 };
    write_file(tga, t, sizeof t, 0);
    expect_err(data_load_image(tga, 4, 4, 1, out, err), err, tga, "8000x8000 pixels, more than");
    unlink(tga); free(tga);
    /* a 16-bit PNM converted to 3 channels: stb 2.27 overflows its buffer (refused) */
    char *p16 = tu_temp_path(".pgm");
    write_file(p16, "P5\n2 2\n65535\n\1\2\3\4\5\6\7\10", 22, 0);
    expect_err(data_load_image(p16, 4, 4, 3, out, err), err, p16, "16-bit PNM");
    unlink(p16); free(p16);
    /* the list reader takes its geometry from the first image: the same refusal */
    char *nm[1] = { "dkmc" };
    char *l = write_text(".list", "%s\n", pnm);
    dataset d;
    expect_err(data_load_list(l, nm, 1, 0, 0, 0, 0, &d, err), err, pnm, "0 pixels");
    char *rm[] = { pnm, jpg, png, l };
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) { unlink(rm[i]); free(rm[i]); }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_idx),
        cmocka_unit_test(test_cfg_errors),
        cmocka_unit_test(test_idx_load),
        cmocka_unit_test(test_idx_errors),
        cmocka_unit_test(test_cifar),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_image_hostile),
        cmocka_unit_test(test_batch_plain),
        cmocka_unit_test(test_transform),
        cmocka_unit_test(test_batch_augment),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_fashion_mnist),
#ifdef HAVE_DARKNET
        cmocka_unit_test(test_cfgs_parse),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
