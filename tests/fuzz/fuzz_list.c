/* fuzz_list.c: the Darknet image-list reader, data_load_list. The input is
 *   byte 0: width (0 = from the first image), byte 1: height, byte 2: channels (0, 1 or 3
 *   after % 4, 2 kept to test the refusal), byte 3: limit (0 = all); then the list's text.
 * The images it may name are a fixed set written at start-up into a private temporary
 * folder that is the working directory while the reader runs: a list with a '/' is skipped, so the reader
 * only ever opens those files (or fails to open a name that is not there). Class names:
 * cat, dog, bird. */
#include <fcntl.h>
#include <sys/stat.h>
#include "fuzz_util.h"
#include "data.h"

static char *g_names[3] = { "cat", "dog", "bird" };

static char g_dir[] = "/tmp/dkmc-fuzz-list-XXXXXX";
static int g_home = -1;   /* the working directory libFuzzer's relative paths are relative to */
static const char *FILES[] = { "cat1.pgm", "dog1.ppm", "bird1.pgm", "catdog.pgm", "dogbird.ppm", "cat.txt" };

static void cleanup(void) {
    if (chdir(g_dir)) return;   /* (the process is ending) */
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) unlink(FILES[i]);
    rmdir("dogs");
    if (!chdir("/")) rmdir(g_dir);
}

static void put(const char *name, const void *data, size_t n) {
    FILE *f = fopen(name, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f)) { perror(name); abort(); }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    g_home = open(".", O_RDONLY | O_DIRECTORY);
    if (g_home < 0 || !mkdtemp(g_dir) || chdir(g_dir)) { perror(g_dir); abort(); }
    atexit(cleanup);
    /* 3x2 grey and 2x2 colour PNM images, one truncated, one that is not an image */
    static const unsigned char grey[] = "P5\n3 2\n255\n\x00\x40\x80\xc0\xff\x10";
    static const unsigned char rgb[] = "P6\n2 2\n255\n\xff\x00\x00\x00\xff\x00\x00\x00\xff\x80\x80\x80";
    put("cat1.pgm", grey, sizeof grey - 1);
    put("dog1.ppm", rgb, sizeof rgb - 1);
    put("bird1.pgm", grey, sizeof grey - 1);
    put("catdog.pgm", grey, sizeof grey - 1);
    put("dogbird.ppm", rgb, 14);
    put("cat.txt", "not an image\n", 13);
    mkdir("dogs", 0700);
    if (fchdir(g_home)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 4) return 0;
    if (memchr(d, '/', n)) return 0;
    int w = d[0] % 40, h = d[1] % 40, c = d[2] % 4, limit = d[3];
    const char *p = fz_file(0, d + 4, n - 4);
    dataset ds;
    char err[DATA_ERRLEN] = "";
    if (chdir(g_dir)) abort();
    int rc = data_load_list(p, g_names, 3, w, h, c, limit, &ds, err);
    if (fchdir(g_home)) abort();
    if (rc) {
        /* the message names the list, or the image that failed (a name from the list) */
        FZ_ASSERT(err[0] && !strchr(err, '\n'));
        FZ_ASSERT(!ds.X && !ds.labels && ds.n == 0);
        return 0;
    }
    FZ_ASSERT(ds.n > 0 && (limit == 0 || ds.n <= limit));
    FZ_ASSERT(ds.w > 0 && ds.h > 0 && (ds.c == 1 || ds.c == 3));
    FZ_ASSERT((!w || ds.w == w) && (!h || ds.h == h) && (!c || ds.c == c));
    for (size_t i = 0; i < (size_t)ds.n * ds.w * ds.h * ds.c; i++) FZ_ASSERT(ds.X[i] >= 0 && ds.X[i] <= 1);
    for (int i = 0; i < ds.n; i++) FZ_ASSERT(ds.labels[i] >= 0 && ds.labels[i] < 3);
    data_free(&ds);
    return 0;
}
