/* clock.h: the plugins' one clock: monotonic seconds, for timings and progress lines. */
#ifndef DKMC_CLOCK_H
#define DKMC_CLOCK_H
#include <time.h>
static inline double dkmc_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
#endif
