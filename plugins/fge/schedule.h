/* schedule.h: learning-rate schedules that Darknet's get_current_rate does not have.
 * sched_reference: the reference code's per-epoch schedule (ALGORITHMS.md §2.3): constant
 * for the first half of the run, linear down to 1 % at 90 %, then 1 %. epoch is 1-based. */
#ifndef SCHEDULE_H
#define SCHEDULE_H
static inline double sched_reference(double base, int epoch, int total) {
    double a = (double)epoch / total;
    double f = a <= 0.5 ? 1.0 : a <= 0.9 ? 1.0 - 0.99 * (a - 0.5) / 0.4 : 0.01;
    return base * f;
}
#endif
