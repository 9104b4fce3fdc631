/* schedule.c: the learning-rate schedules of schedule.h and the reading of their [net] keys. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "schedule.h"

double sched_reference_rate(double base, int epoch, int total) {
    double a = (double)epoch / total;
    double f = a <= 0.5 ? 1.0 : a <= 0.9 ? 1.0 - 0.99 * (a - 0.5) / 0.4 : 0.01;
    return base * f;
}

/* SGDR: the cycle that holds iteration it: its start and length */
static void sgdr_cycle_of(const sched *s, uint64_t it, uint64_t *start, uint64_t *len) {
    uint64_t st = 0, L = (uint64_t)s->cycle;
    while (it >= st + L) { st += L; L *= (uint64_t)s->mult; }
    *start = st; *len = L;
}

double sched_rate(const sched *s, uint64_t it) {
    switch (s->kind) {
    case SCHED_CFG:
        return host_policy_rate(s->h, (size_t)(s->offset + it)) * s->scale;
    case SCHED_REFERENCE:
        return sched_reference_rate(s->lr, (int)(it / (uint64_t)s->iters) + 1, s->epochs);
    case SCHED_FGE: {
        double x = (double)(it % (uint64_t)s->cycle) / (double)s->cycle;
        return x < 0.5 ? s->lr * (1 - 2 * x) + s->lr2 * 2 * x
                       : s->lr * (2 * x - 1) + s->lr2 * (2 - 2 * x);
    }
    case SCHED_SGDR: {
        uint64_t st, L;
        sgdr_cycle_of(s, it, &st, &L);
        return s->lr2 + (s->lr - s->lr2) * 0.5 * (1 + cos(M_PI * (double)(it - st) / (double)L));
    }
    case SCHED_CONSTANT: default:
        return s->lr;
    }
}

int sched_snapshot_after(const sched *s, uint64_t it) {
    if (s->kind == SCHED_FGE) return (it + 1) % (uint64_t)s->cycle == (uint64_t)s->cycle / 2;
    if (s->kind == SCHED_SGDR) {
        uint64_t st, L;
        sgdr_cycle_of(s, it, &st, &L);
        return it + 1 == st + L;
    }
    return 0;
}

long sched_count_snapshots(const sched *s, uint64_t total) {
    long n = 0;
    for (uint64_t i = 0; i < total; i++) n += sched_snapshot_after(s, i);
    return n;
}

const char *sched_name(sched_kind k) {
    switch (k) {
    case SCHED_CFG: return "cfg";
    case SCHED_REFERENCE: return "reference";
    case SCHED_FGE: return "fge_cyclic";
    case SCHED_SGDR: return "sgdr";
    default: return "constant";
    }
}

int sched_cfg_is_ours(const host_net *h) {
    const char *p = host_net_option(h, "policy");
    return p && (!strcmp(p, "fge_cyclic") || !strcmp(p, "sgdr"));
}

/* A [net] number: absent -> *found = 0; present but not a number -> error */
static int opt_num(const host_net *h, const char *cfg, const char *key, double *v, int *found, char *err) {
    const char *s = host_net_option(h, key);
    *found = 0;
    if (!s) return 0;
    char *end;
    double x = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end == s || *end || !isfinite(x)) {
        snprintf(err, DKMC_ERRLEN, "%s: [net] %s=%s is not a number", cfg, key, s);
        return -1;
    }
    *v = x; *found = 1;
    return 0;
}

/* cycle length in iterations from KEY (iterations) or KEY_epochs */
static int read_cycle(const host_net *h, const char *cfg, const char *key, long iters, long *cycle, int *found, char *err) {
    char ekey[64];
    snprintf(ekey, sizeof ekey, "%s_epochs", key);
    double a = 0, b = 0;
    int fa, fb;
    if (opt_num(h, cfg, key, &a, &fa, err) || opt_num(h, cfg, ekey, &b, &fb, err)) return -1;
    if (fa && fb) { snprintf(err, DKMC_ERRLEN, "%s: [net] has both %s and %s; give one", cfg, key, ekey); return -1; }
    *found = fa || fb;
    if (fa) {
        if (a < 1 || a != floor(a)) { snprintf(err, DKMC_ERRLEN, "%s: [net] %s=%g must be a positive whole number of iterations", cfg, key, a); return -1; }
        *cycle = (long)a;
    } else if (fb) {
        if (b <= 0 || b * iters != floor(b * iters) ) {
            snprintf(err, DKMC_ERRLEN, "%s: [net] %s=%g must be positive and a whole number of iterations (%ld per epoch)", cfg, ekey, b, iters);
            return -1;
        }
        *cycle = (long)(b * iters);
    }
    return 0;
}

int sched_from_cfg(sched *s, host_net *h, const char *cfg, long iters, int epochs, char *err) {
    memset(s, 0, sizeof *s);
    s->h = h; s->scale = 1; s->iters = iters; s->epochs = epochs;
    s->lr = host_cfg_learning_rate(h);
    const char *p = host_net_option(h, "policy");
    if (!p || (strcmp(p, "fge_cyclic") && strcmp(p, "sgdr"))) { s->kind = SCHED_CFG; return 0; }
    double lr2 = 0;
    int found;
    if (opt_num(h, cfg, "learning_rate_min", &lr2, &found, err)) return -1;
    if (!strcmp(p, "fge_cyclic")) {
        s->kind = SCHED_FGE;
        if (!found) { snprintf(err, DKMC_ERRLEN, "%s: policy=fge_cyclic needs learning_rate_min= (the learning rate at mid-cycle, where snapshots are taken)", cfg); return -1; }
        if (read_cycle(h, cfg, "fge_cycle", iters, &s->cycle, &found, err)) return -1;
        if (!found) { snprintf(err, DKMC_ERRLEN, "%s: policy=fge_cyclic needs fge_cycle= (iterations) or fge_cycle_epochs= (epochs)", cfg); return -1; }
        if (s->cycle < 2 || s->cycle % 2) { snprintf(err, DKMC_ERRLEN, "%s: the fge cycle must be an even number of iterations >= 2, got %ld", cfg, s->cycle); return -1; }
    } else {
        s->kind = SCHED_SGDR;
        if (!found) lr2 = 0.00001;
        if (read_cycle(h, cfg, "sgdr_cycle", iters, &s->cycle, &found, err)) return -1;
        if (!found) s->cycle = (long)host_cfg_max_batches(h);
        if (s->cycle < 1) { snprintf(err, DKMC_ERRLEN, "%s: policy=sgdr needs sgdr_cycle= (iterations) or sgdr_cycle_epochs=, or max_batches", cfg); return -1; }
        double m = 2;
        if (opt_num(h, cfg, "sgdr_mult", &m, &found, err)) return -1;
        if (m < 1 || m != floor(m)) { snprintf(err, DKMC_ERRLEN, "%s: [net] sgdr_mult=%g must be a whole number >= 1", cfg, m); return -1; }
        s->mult = (long)m;
    }
    if (lr2 < 0) { snprintf(err, DKMC_ERRLEN, "%s: [net] learning_rate_min=%g must not be negative", cfg, lr2); return -1; }
    s->lr2 = lr2;
    return 0;
}

void sched_describe(const sched *s, char *buf, size_t n) {
    switch (s->kind) {
    case SCHED_CFG: snprintf(buf, n, "cfg policy, lr %g", s->lr * s->scale); break;
    case SCHED_REFERENCE: snprintf(buf, n, "reference schedule, lr %g", s->lr); break;
    case SCHED_FGE: snprintf(buf, n, "fge_cyclic, lr %g -> %g -> %g, cycle %ld iterations, snapshot at each minimum", s->lr, s->lr2, s->lr, s->cycle); break;
    case SCHED_SGDR: snprintf(buf, n, "sgdr, cosine lr %g -> %g, cycle %ld iterations x%ld, snapshot at each cycle end", s->lr, s->lr2, s->cycle, s->mult); break;
    default: snprintf(buf, n, "constant lr %g", s->lr);
    }
}
