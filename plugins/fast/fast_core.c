/* fast_core.c: the switches (every DK* variable is read here, once), the thread count,
 * symbol resolution, status and per-thread scratch of the fast kernels. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include <omp.h>
#ifdef FAST_DNNL
#include <dnnl.h>
#endif
#include "fast.h"
#include "fast_internal.h"
#include "fast_protos.h"

void *fast_orig_tab[FI_COUNT];
volatile int fast_ready;
int fast_on = 1;
int fast_nthr = 1;
fast_switches fast_sw;

static int interposed_tab[FI_COUNT];
static int n_not_interposed;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define FAST_STR_(n) #n,
static const char *const names[FI_COUNT + 1] = { FAST_NAMES(FAST_STR_) NULL };
#undef FAST_STR_
#define FAST_ADDR_(n) (void *)n,
static void *const own[FI_COUNT] = { FAST_NAMES(FAST_ADDR_) };
#undef FAST_ADDR_

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > FAST_MAX_DEFAULT_THREADS) n = FAST_MAX_DEFAULT_THREADS;
    return (int)n;
}

/* The DK* switches, all read here. A value of "0", "off" or "no" turns a switch off. */
static int env_off(const char *name)
{
    const char *e = getenv(name);
    return e && (!strcmp(e, "0") || !strcmp(e, "off") || !strcmp(e, "no"));
}

/* DKDNNL: 0/off/no never, 1/on/all every convolution oneDNN can take, else by rule (2) */
static int env_dnnl(void)
{
#ifdef FAST_DNNL
    const char *e = getenv("DKDNNL");
    if (env_off("DKDNNL")) return 0;
    return e && (!strcmp(e, "1") || !strcmp(e, "on") || !strcmp(e, "all")) ? 1 : 2;
#else
    return 0;
#endif
}

/* DKBLOCK: 8, 16 or nhwc forces oneDNN's activation layout; anything else leaves it to oneDNN */
static int env_block(void)
{
    const char *e = getenv("DKBLOCK");
    if (!e) return 0;
    if (!strcmp(e, "8")) return 8;
    if (!strcmp(e, "16")) return 16;
    if (!strcmp(e, "nhwc")) return FAST_BLOCK_NHWC;
    return 0;
}

static void do_init(void)
{
    fast_on = !env_off("DKFAST");
    fast_sw.dnnl = env_dnnl();
    fast_sw.dense = !env_off("DKDENSE");
    fast_sw.chain = !env_off("DKCHAIN");
    fast_sw.block = env_block();
    const char *e = getenv("DKTHREADS");
    int t = e ? atoi(e) : 0;
    if (fast_nthr <= 1 && t < 1) t = default_threads();
    if (t >= 1) fast_nthr = t > FAST_MAX_THREADS ? FAST_MAX_THREADS : t;
    /* OpenBLAS stays single-threaded: we parallelise around it (see gemm). */
    openblas_set_num_threads(1);

    char missing_orig[512] = "", not_interp[512] = "";
    int n_missing = 0;
    n_not_interposed = 0;
    for (int i = 0; i < FI_COUNT; i++) {
        fast_orig_tab[i] = dlsym(RTLD_NEXT, names[i]);
        void *def = dlsym(RTLD_DEFAULT, names[i]);
        interposed_tab[i] = (def == own[i]);
        if (!fast_orig_tab[i]) {
            n_missing++;
            if (strlen(missing_orig) < 400) { strcat(missing_orig, " "); strcat(missing_orig, names[i]); }
        }
        if (!interposed_tab[i]) {
            n_not_interposed++;
            if (strlen(not_interp) < 400) { strcat(not_interp, " "); strcat(not_interp, names[i]); }
        }
    }
    if (n_not_interposed)
        fprintf(stderr, "fast: %d of %d kernels are not interposed in this process (the library "
                "uses its own):%s\n", n_not_interposed, FI_COUNT, not_interp);
    if (n_missing)
        fprintf(stderr, "fast: the library's own definition was not found (dlsym RTLD_NEXT) for %d "
                "of %d kernels, which always run the fast version:%s\n", n_missing, FI_COUNT,
                missing_orig);
    __atomic_store_n(&fast_ready, 1, __ATOMIC_RELEASE);
}

void fast_lazy_init(void) { pthread_once(&once, do_init); }

int fast_init(void)
{
    fast_lazy_init();
    return n_not_interposed;
}

void fast_set_enabled(int on)
{
    fast_lazy_init();
    fast_on = on != 0;
}

int fast_enabled(void)
{
    fast_lazy_init();
    return fast_on;
}

void fast_set_threads(int n)
{
    fast_lazy_init();
    if (n < 1) {
        const char *e = getenv("DKTHREADS");
        n = (e && atoi(e) > 0) ? atoi(e) : default_threads();
    }
    fast_nthr = n > FAST_MAX_THREADS ? FAST_MAX_THREADS : n;
}

const char *fast_status(void)
{
    static char buf[512];
    fast_lazy_init();
    const char *core = openblas_get_corename();
    /* OPENBLAS_CORETYPE=Haswell (set by some sandbox/CI images) keeps an AVX-512 CPU on the
     * AVX2 sgemm kernels; OpenBLAS's own detection is about 1.4x faster here */
    const char *env = getenv("OPENBLAS_CORETYPE");
    int hint = env && core && (!strcmp(core, "Haswell") || !strcmp(core, "Zen")) &&
               __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    snprintf(buf, sizeof buf, "fast kernels %s, %d thread%s (OpenMP), OpenBLAS %s core, %s, "
             "%d/%d interposed%s", fast_on ? "on" : "off (library's own)", fast_nthr,
             fast_nthr == 1 ? "" : "s", core ? core : "?", fast_dnnl_status(),
             FI_COUNT - n_not_interposed, FI_COUNT,
             hint ? " (set by OPENBLAS_CORETYPE; this CPU has AVX-512: unset it for faster sgemm)" : "");
    return buf;
}

const char *const *fast_interposed_names(void) { return names; }

static int find(const char *name)
{
    for (int i = 0; i < FI_COUNT; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

void *fast_orig(const char *name)
{
    fast_lazy_init();
    int i = find(name);
    return i < 0 ? NULL : fast_orig_tab[i];
}

int fast_is_interposed(const char *name)
{
    fast_lazy_init();
    int i = find(name);
    return i < 0 ? 0 : interposed_tab[i];
}

/* ---- per-thread scratch ---- */
#define NSLOTS 7   /* 0 im2col workspace, 2 weight-gradient partials, 3 and 4 layout conversions,
                      5 and 6 blocked BN (per-image sums, their totals) */
static float *scr[NSLOTS][FAST_MAX_THREADS];
static size_t scr_cap[NSLOTS][FAST_MAX_THREADS];

float *fast_scratch(int slot, int tid, size_t n)
{
    if (n > scr_cap[slot][tid]) {
        free(scr[slot][tid]);
        size_t cap = n + n / 4 + 64;
        void *p = NULL;
        if (posix_memalign(&p, 64, cap * sizeof(float))) {
            fprintf(stderr, "fast: out of memory (%zu floats)\n", cap);
            abort();
        }
        scr[slot][tid] = p;
        scr_cap[slot][tid] = cap;
    }
    return scr[slot][tid];
}

void fast_exec_passive_wait(char **argv)
{
    if (!argv || getenv("OMP_WAIT_POLICY") || getenv("DKFAST_NOEXEC")) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OMP_WAIT_POLICY");   /* exec failed: carry on as we are */
}

/* The setters: a negative value goes back to the environment's. */
void fast_set_dnnl(int mode)
{
    fast_lazy_init();
#ifdef FAST_DNNL
    fast_sw.dnnl = mode < 0 ? env_dnnl() : mode > 2 ? 2 : mode;
#else
    (void)mode;
#endif
}

int fast_dnnl_mode(void)
{
    fast_lazy_init();
    return fast_sw.dnnl;
}

void fast_set_dense(int on)
{
    fast_lazy_init();
    fast_sw.dense = on < 0 ? !env_off("DKDENSE") : !!on;
}

void fast_set_chain(int on)
{
    fast_lazy_init();
    fast_sw.chain = on < 0 ? !env_off("DKCHAIN") : !!on;
}

int fast_chain_enabled(void)
{
    fast_lazy_init();
    return fast_sw.chain;
}

void fast_set_block(int block)
{
    fast_lazy_init();
    fast_sw.block = block < 0 ? env_block() : (block == 8 || block == 16 || block == FAST_BLOCK_NHWC) ? block : 0;
}

const char *fast_dnnl_status(void)
{
#ifdef FAST_DNNL
    static char buf[128];
    const dnnl_version_t *v = dnnl_version();
    int m = fast_dnnl_mode();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d convolutions %s", v->major, v->minor, v->patch,
             m == 0 ? "off" : m == 1 ? "on every layer" : "on by rule");
    return buf;
#else
    return "no oneDNN in this build";
#endif
}
