/* dist.h: the seams for running one command on several processes (Open MPI). Built with
 * `make MPI=1` (mpicc, -DDKMC_MPI) these are MPI calls; in the ordinary build they are the
 * one-process case (rank 0 of 1; reductions, broadcasts and gathers copy or do nothing), so
 * the modules call them unconditionally and the ordinary build behaves as before.
 *
 * Two kinds of work are spread over ranks:
 *  - points (plane grids, curve evaluation): dist_map hands the k-th item of a round to rank
 *    k and gathers every item's result on rank 0 in item order after each round; rank 0
 *    alone prints, writes tables, partial files and pictures.
 *  - data-parallel training: each rank's network holds its shard of the global batch
 *    (dist_batch_split); the step all-reduces the gradient (dist_sum_f) once per step, so
 *    every rank applies the same update and holds the same weights; rank 0 writes files.
 *
 * Ranks other than 0 have stdout and stderr sent to /dev/null by dist_init (no doubled tables
 * or progress lines); their one-line errors go to their real stderr (dist_error). */
#ifndef DIST_H
#define DIST_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Called first in main; reads the rank and size (MPI_Init in the MPI build). */
void dist_init(int *argc, char ***argv);
/* Called last in main with the command's exit code: MPI_Finalize on success; on failure
 * with more than one rank the process ends at once without MPI_Finalize, so that mpirun
 * ends the ranks waiting in a collective and exits non-zero, naming the rank and code.
 * Returns the code to exit with. */
int dist_finish(int rc);

/* For a command that does not spread its work: from now on this rank acts as one process
 * (size 1; main lets ranks > 0 end at once). Returns the size before. */
int dist_solo(void);

int dist_rank(void);
int dist_size(void);
static inline int dist_is_root(void) { return dist_rank() == 0; }
/* The rank among those on this node (OMPI_COMM_WORLD_LOCAL_RANK; 0 without MPI). */
int dist_local_rank(void);
/* The GPU a rank uses on a node with ngpus devices: explicit (>= 0) wins, else the local
 * rank modulo ngpus (one rank per GPU); -1 when ngpus < 1. */
int dist_gpu_for_rank(int explicit_gpu, int ngpus);
/* A one-line error: "darknet: msg" on stderr at once on rank 0; on ranks > 0 kept until
 * dist_finish, which prints it (named by rank) only if rank 0 has not ended the job by then,
 * so an error every rank meets (bad input) is printed once. */
void dist_error(const char *msg);
/* 1 in a build with MPI. */
int dist_compiled(void);

/* In-place sums over ranks; every rank gets the same bits. */
void dist_sum_f(float *buf, size_t n);
void dist_sum_d(double *buf, size_t n);
/* Wall seconds spent in dist_sum_* so far (the transfer and the wait for slower ranks) and
 * the bytes summed (this rank's vector sizes); 0 with one process. */
double dist_sum_seconds(void);
uint64_t dist_sum_bytes(void);
/* Rank root's bytes to every rank. */
void dist_bcast(void *buf, size_t bytes, int root);
/* 0 when every rank holds the same bytes (a 64-bit hash of them compared), else 1. */
int dist_differs(const void *buf, size_t bytes);

/* The shard of `total` items that rank `rank` of `size` gets: balanced, the first
 * total % size ranks one more. *off: its first item, *n: how many. Pure, for tests. */
void dist_shard_of(int total, int rank, int size, int *off, int *n);
/* Global batch as the sum of the ranks' local batches and this rank's offset in it. */
void dist_batch_split(int local, int *global, int *offset);

/* Points over ranks: items 0..total-1; in round q rank r computes item q*size + r with
 * eval(ctx, item, out) filling `width` doubles (non-zero return: an error, message in err
 * of DIST_ERRLEN); after each round rank 0 calls deliver(ctx, item, values, err) for every
 * item of the round in order (also its own). An error anywhere stops every rank after that
 * round; the failing rank's message reaches rank 0's err. Returns 0 or -1. */
#define DIST_ERRLEN 512
int dist_map(int total, int width, void *ctx,
             int (*eval)(void *ctx, int item, double *out, char *err),
             int (*deliver)(void *ctx, int item, const double *v, char *err), char *err);

/* For tests of a dying rank: env DKMC_DIST_DIE=R:K makes rank R kill itself (SIGKILL)
 * before its K-th item (1-based) of a dist_map. Checked in dist_map only. */
#endif
