/* schedule.h: learning-rate schedules of the one training loop, per iteration of a run.
 *
 *   SCHED_CFG        Darknet's own policy from the cfg (steps, poly, sigmoid, ...), through
 *                    the library's get_current_rate at iteration offset + it, times scale.
 *   SCHED_REFERENCE  the paper code's per-epoch schedule (the authors' train.py): lr for the
 *                    first half of the run, linear down to 1 % at 90 %, then 1 %.
 *   SCHED_FGE        Fast Geometric Ensembling's triangle wave (fge.py): with s = (it mod C)/C,
 *                    lr = lr1 (1 - 2s) + lr2 2s for s < 1/2, lr1 (2s - 1) + lr2 (2 - 2s) after:
 *                    lr1 at every cycle boundary, lr2 at mid-cycle. C (even) iterations per
 *                    cycle. A snapshot is taken after iteration it when (it + 1) mod C == C/2,
 *                    i.e. at the end of the iteration just before lr reaches lr2 (fge.py takes
 *                    it at the end of the epoch that finishes at mid-cycle).
 *   SCHED_SGDR       Snapshot Ensembles / SGDR (Loshchilov & Hutter 2017; AlexeyAB's Darknet
 *                    policy=sgdr): cosine annealing from lr to lr2 over cycles of C, C*mult,
 *                    C*mult^2 ... iterations, restarting at lr; with j the position inside a
 *                    cycle of length L, lr = lr2 + (lr - lr2)(1 + cos(pi j / L))/2. A snapshot
 *                    after the last iteration of each cycle.
 *   SCHED_CONSTANT   lr.
 *
 * The [net] keys (read by sched_from_cfg), next to Darknet's learning_rate:
 *   policy=fge_cyclic   learning_rate_min (lr2, required), and fge_cycle (iterations, even,
 *                       >= 2) or fge_cycle_epochs (epochs, even as in fge.py; one of the two)
 *   policy=sgdr         AlexeyAB's keys and defaults, so cfgs move between the forks:
 *                       learning_rate_min (default 0.00001), sgdr_cycle (iterations, default
 *                       max_batches, i.e. one cycle over the run) or our sgdr_cycle_epochs,
 *                       sgdr_mult (integer >= 1, default 2). AlexeyAB's loop reaches the
 *                       minimum one iteration later per cycle (its cycle test is strict);
 *                       ours is Loshchilov's: L iterations per cycle, the last one near lr2.
 * Iterations count from the start of the run (0-based), not from the weights' `seen`, so a
 * run from pretrained weights starts a fresh cycle. */
#ifndef SCHEDULE_H
#define SCHEDULE_H
#include <stddef.h>
#include <stdint.h>
#include "host.h"

typedef enum { SCHED_CFG, SCHED_REFERENCE, SCHED_FGE, SCHED_SGDR, SCHED_CONSTANT } sched_kind;

typedef struct {
    sched_kind kind;
    double lr, lr2;       /* base (FGE: lr1 at the boundaries; SGDR: the maximum), lr2 (min) */
    long cycle;           /* FGE, SGDR: (first) cycle length in iterations */
    long mult;            /* SGDR cycle multiplier */
    long iters;           /* iterations per epoch (REFERENCE) */
    int epochs;           /* epochs of the run (REFERENCE) */
    host_net *h;          /* CFG: the network whose policy is used */
    double scale;         /* CFG: multiplies Darknet's rate (a -lr override) */
    uint64_t offset;      /* CFG: iterations already done before this run (from seen) */
} sched;

#include "errlen.h"
#define SCHED_ERRLEN DKMC_ERRLEN   /* alias: the project has one error length */

double sched_rate(const sched *s, uint64_t it);
/* 1 if the policy takes a snapshot after iteration it (0-based), else 0. */
int sched_snapshot_after(const sched *s, uint64_t it);
/* Number of snapshots in iterations [0, total). */
long sched_count_snapshots(const sched *s, uint64_t total);
/* Closed forms, exposed for tests. */
double sched_reference_rate(double base, int epoch, int total);   /* epoch is 1-based */
const char *sched_name(sched_kind k);

/* The schedule a cfg asks for: fge_cyclic and sgdr from [net] (keys above), anything else is
 * Darknet's own policy. iters = iterations per epoch, epochs = epochs of this run. A missing
 * or invalid key is a one-line error naming the cfg and the key. */
int sched_from_cfg(sched *s, host_net *h, const char *cfgpath, long iters, int epochs, char *err);
/* 1 if the cfg's [net] policy is one Darknet does not know but we do (fge_cyclic, sgdr). */
int sched_cfg_is_ours(const host_net *h);
/* Describe the schedule in one line (for the run's header on stderr). */
void sched_describe(const sched *s, char *buf, size_t n);
#endif
