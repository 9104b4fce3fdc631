/* dist.c: ranks, reductions, broadcasts and the point map of dist.h; MPI calls with
 * -DDKMC_MPI (make MPI=1), the one-process case without. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dist.h"
#include "clock.h"
#ifdef DKMC_MPI
#include <limits.h>
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_local = 0;
static double g_sum_secs;   /* wall time inside dist_sum_*: transfer plus waiting for the others */
static uint64_t g_sum_bytes;

#ifdef DKMC_MPI
static FILE *g_errfp;   /* rank > 0: its real stderr (its stdout and stderr go to /dev/null) */
#include <time.h>
#endif
double dist_sum_seconds(void) { return g_sum_secs; }
uint64_t dist_sum_bytes(void) { return g_sum_bytes; }

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
int dist_local_rank(void) { return g_local; }
#ifdef DKMC_MPI
int dist_compiled(void) { return 1; }
#else
int dist_compiled(void) { return 0; }
#endif

int dist_gpu_for_rank(int explicit_gpu, int ngpus) {
    if (explicit_gpu >= 0) return explicit_gpu;
    if (ngpus < 1) return -1;
    return g_local % ngpus;
}


void dist_init(int *argc, char ***argv) {
#ifdef DKMC_MPI
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (lr) g_local = atoi(lr);
    else {   /* another launcher: the rank among the processes that share this node's memory */
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
        MPI_Comm_rank(node, &g_local);
        MPI_Comm_free(&node);
    }
    if (g_rank > 0) {   /* one table and one progress line: rank 0's */
        int keep = dup(2);
        if (keep >= 0) g_errfp = fdopen(keep, "w");
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) { fflush(stdout); fflush(stderr); dup2(nul, 1); dup2(nul, 2); close(nul); }
    }
#else
    (void)argc; (void)argv;
#endif
}

/* Errors of ranks > 0 wait in here until dist_finish: most errors (bad input) happen alike
 * on every rank, and rank 0 reports them; a rank's own failure still gets printed. */
static char g_deferred[4096];

void dist_error(const char *msg) {
    if (g_rank == 0) { fprintf(stderr, "darknet: %s\n", msg); fflush(stderr); return; }
    size_t l = strlen(g_deferred);
    snprintf(g_deferred + l, sizeof g_deferred - l, "darknet (rank %d): %s\n", g_rank, msg);
}

int dist_solo(void) {
    int was = g_size;
    g_size = 1;   /* every collective above is now the one-process case */
    return was;
}

int dist_finish(int rc) {
    fflush(stdout);
    fflush(stderr);
#ifdef DKMC_MPI
    if (rc && g_size > 1) {
        /* Others may wait in a collective. A rank that ends without MPI_Finalize and with a
         * non-zero code makes mpirun kill the job and name that rank and code in a clear
         * message (MPI_Abort's own message gets lost in Open MPI 4.1 containers). */
        if (g_rank > 0) {
            sleep(2);         /* rank 0 failing alike ends the job (and this rank) first */
            if (g_errfp && g_deferred[0]) { fputs(g_deferred, g_errfp); fflush(g_errfp); }
        }
        _exit(rc);
    }
    MPI_Finalize();
#endif
    return rc;
}

#ifdef DKMC_MPI
/* MPI counts are ints: big vectors go in pieces */
#define CHUNK ((size_t)1 << 28)
#endif

#ifdef DKMC_MPI
/* an in-place sum over the ranks of n elements of elem bytes, in pieces of CHUNK */
static void sum_in_place(void *buf, size_t n, size_t elem, MPI_Datatype type) {
    if (g_size == 1) return;
    double t0 = dkmc_now();
    for (size_t o = 0; o < n; o += CHUNK) {
        size_t m = n - o < CHUNK ? n - o : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + o * elem, (int)m, type, MPI_SUM, MPI_COMM_WORLD);
    }
    g_sum_secs += dkmc_now() - t0;
    g_sum_bytes += n * elem;
}
#endif

void dist_sum_f(float *buf, size_t n) {
#ifdef DKMC_MPI
    sum_in_place(buf, n, sizeof *buf, MPI_FLOAT);
#else
    (void)buf; (void)n;
#endif
}

void dist_sum_d(double *buf, size_t n) {
#ifdef DKMC_MPI
    sum_in_place(buf, n, sizeof *buf, MPI_DOUBLE);
#else
    (void)buf; (void)n;
#endif
}

void dist_bcast(void *buf, size_t bytes, int root) {
#ifdef DKMC_MPI
    if (g_size == 1) return;
    for (size_t o = 0; o < bytes; o += CHUNK) {
        size_t m = bytes - o < CHUNK ? bytes - o : CHUNK;
        MPI_Bcast((char *)buf + o, (int)m, MPI_BYTE, root, MPI_COMM_WORLD);
    }
#else
    (void)buf; (void)bytes; (void)root;
#endif
}

int dist_differs(const void *buf, size_t bytes) {
#ifdef DKMC_MPI
    if (g_size == 1) return 0;
    const unsigned char *p = buf;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < bytes; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    uint64_t v[2] = { h, ~h };   /* max of h and of ~h: the max and (negated) the min */
    MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return v[0] != ~v[1];
#else
    (void)buf; (void)bytes;
    return 0;
#endif
}

void dist_shard_of(int total, int rank, int size, int *off, int *n) {
    int q = total / size, r = total % size;
    *n = q + (rank < r);
    *off = rank * q + (rank < r ? rank : r);
}

void dist_batch_split(int local, int *global, int *offset) {
    *global = local;
    *offset = 0;
#ifdef DKMC_MPI
    if (g_size == 1) return;
    MPI_Allreduce(&local, global, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Exscan(&local, offset, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0) *offset = 0;   /* Exscan leaves rank 0's undefined */
#endif
}

/* DKMC_DIST_DIE=R:K: rank R dies before its K-th item (tests of a rank that dies) */
static void maybe_die(int mine) {
    const char *e = getenv("DKMC_DIST_DIE");
    int r, k;
    if (e && sscanf(e, "%d:%d", &r, &k) == 2 && r == g_rank && mine + 1 == k) {
        fflush(stdout); fflush(stderr);
        raise(SIGKILL);
    }
}

int dist_map(int total, int width, void *ctx,
             int (*eval)(void *ctx, int item, double *out, char *err),
             int (*deliver)(void *ctx, int item, const double *v, char *err), char *err) {
    int W = width + 1, S = g_size, rc = 0, mine = 0;
    double *v = malloc((size_t)W * sizeof(double));
    double *all = g_rank == 0 ? malloc((size_t)W * S * sizeof(double)) : NULL;
    char *msgs = g_rank == 0 ? malloc((size_t)DIST_ERRLEN * S) : NULL;
    char msg[DIST_ERRLEN];
    if (!v || (g_rank == 0 && (!all || !msgs))) {
        snprintf(err, DIST_ERRLEN, "out of memory for the results of %d ranks", S);
        rc = -1;   /* every rank allocates the same: the others fail alike (or are aborted) */
    }
    for (int q = 0; !rc && q * S < total; q++) {
        int item = q * S + g_rank;
        msg[0] = 0;
        v[0] = 0;                               /* status: 0 done, 1 failed, -1 no item */
        if (item < total) {
            maybe_die(mine++);
            if (eval(ctx, item, v + 1, msg)) v[0] = 1;
        } else v[0] = -1;
#ifdef DKMC_MPI
        if (S > 1) {
            MPI_Gather(v, W, MPI_DOUBLE, all, W, MPI_DOUBLE, 0, MPI_COMM_WORLD);
            MPI_Gather(msg, DIST_ERRLEN, MPI_CHAR, msgs, DIST_ERRLEN, MPI_CHAR, 0, MPI_COMM_WORLD);
        } else
#endif
        {
            memcpy(all, v, (size_t)W * sizeof(double));
            memcpy(msgs, msg, DIST_ERRLEN);
        }
        if (g_rank == 0) {
            for (int r = 0; r < S && !rc; r++) {
                double *x = all + (size_t)r * W;
                if (x[0] < 0) continue;
                if (x[0] > 0) {
                    snprintf(err, DIST_ERRLEN, "%.*s", DIST_ERRLEN - 1, msgs + (size_t)r * DIST_ERRLEN);
                    rc = -1;
                } else if (deliver(ctx, q * S + r, x + 1, err)) rc = -1;
            }
        }
#ifdef DKMC_MPI
        if (S > 1) {
            MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (rc) MPI_Bcast(err, DIST_ERRLEN, MPI_CHAR, 0, MPI_COMM_WORLD);
        }
#endif
    }
    free(v); free(all); free(msgs);
    return rc;
}
