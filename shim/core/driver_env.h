/* driver_env.h - everything the driver takes from its surroundings besides
 * the connection itself: the configuration, the clocks, sleeping and
 * randomness. One structure, so that unit tests replace it and drive
 * backoff, deadlines and the busy-handle window deterministically.
 */
#ifndef GONESHIM_DRIVER_ENV_H
#define GONESHIM_DRIVER_ENV_H

#include <stdint.h>

#include "config.h"

struct driver_env {
    const struct goneshim_config *config;
    /* The statement path's clock: idle time. Coarse (a clock tick, 1 to
     * 4 ms) and cheap enough for every statement. */
    uint64_t (*coarse_ns)(void);
    /* Deadlines and the durations in the log. */
    uint64_t (*precise_ns)(void);
    void (*sleep_ns)(uint64_t ns);
    uint32_t (*random)(void); /* jitter of the reconnect backoff */
};

/* The environment in force: the process's own (GONESHIM_* variables, the
 * monotonic clocks, nanosleep) unless a test installed another. */
extern const struct driver_env *driver_env;

/* For tests: installs `env` (NULL: the process's own again). */
void driver_env_install(const struct driver_env *env);

#endif
