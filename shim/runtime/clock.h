/* clock.h - monotonic time for idle tracking and deadlines. */
#ifndef GONESHIM_CLOCK_H
#define GONESHIM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC_COARSE is a vDSO read of a tick-resolution (~4 ms) clock:
 * cheap enough for every statement, precise enough for idle limits in
 * seconds. Deadlines and durations in logs use the precise clock. */
static inline uint64_t clock_coarse_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* cannot fail for these clocks */
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_precise_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
