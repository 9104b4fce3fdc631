/* host_policy.c of the second host: our learning-rate policies (fge_cyclic, sgdr) inside the
 * library. As in pjreddie's host, the executable defines get_policy and get_current_rate;
 * the library asks them through the PLT only when built with -fsemantic-interposition
 * (scripts/build_alexeyab.sh; its own Makefile's -Ofast turns interposition off). Here
 * get_current_rate takes the network by value, so a network is known by its `seen` pointer.
 * The library's own policy named sgdr is shadowed by ours (a cfg's sgdr means ours, as with
 * pjreddie's host). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include "host_private.h"

enum { POLICY_FGE = 100, POLICY_SGDR = 101 };
typedef learning_rate_policy (*policy_fn)(char *);
typedef float (*rate_fn)(network);

learning_rate_policy get_policy(char *s) {
    if (s && !strcmp(s, "fge_cyclic")) return (learning_rate_policy)POLICY_FGE;
    if (s && !strcmp(s, "sgdr")) return (learning_rate_policy)POLICY_SGDR;
    static policy_fn real;
    if (!real) real = (policy_fn)dlsym(RTLD_NEXT, "get_policy");
    return real ? real(s) : CONSTANT;
}

#define MAX_HOOKS 16
static struct { uint64_t *seen; host_rate_hook fn; void *ctx; } g_hooks[MAX_HOOKS];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

int host_set_rate_hook(host_net *h, host_rate_hook fn, void *ctx) {
    int ok = -1;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < MAX_HOOKS && ok < 0; i++)
        if (g_hooks[i].seen == h->net->seen || (!g_hooks[i].seen && fn)) {
            g_hooks[i].seen = fn ? h->net->seen : NULL;
            g_hooks[i].fn = fn;
            g_hooks[i].ctx = ctx;
            ok = 0;
        }
    pthread_mutex_unlock(&g_lock);
    return fn ? ok : 0;
}

int host_policy_is_ours(const host_net *h) {
    return (int)h->net->policy == POLICY_FGE || (int)h->net->policy == POLICY_SGDR;
}

float get_current_rate(network net) {
    if ((int)net.policy != POLICY_FGE && (int)net.policy != POLICY_SGDR) {
        static rate_fn real;
        if (!real) real = (rate_fn)dlsym(RTLD_NEXT, "get_current_rate");
        return real ? real(net) : net.learning_rate;
    }
    uint64_t batch = *net.seen / ((uint64_t)net.batch * net.subdivisions);
    if (batch < (uint64_t)net.burn_in) return net.learning_rate * pow((float)batch / net.burn_in, net.power);
    host_rate_hook fn = NULL;
    void *ctx = NULL;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < MAX_HOOKS; i++)
        if (g_hooks[i].seen == net.seen) { fn = g_hooks[i].fn; ctx = g_hooks[i].ctx; }
    pthread_mutex_unlock(&g_lock);
    return fn ? (float)fn(ctx, batch) : net.learning_rate;
}

float host_current_rate(host_net *h) { return get_current_rate(*h->net); }

void host_policy_set_fge(host_net *h) {
    h->net->policy = (learning_rate_policy)POLICY_FGE;
    h->net->burn_in = 0;
}
