/* driver_env.c - the process's own environment for the driver. */
#include "driver_env.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "shim_runtime.h"

static __thread uint32_t jitter_state __attribute__((tls_model("initial-exec")));

/* xorshift32, seeded per thread from the clock, the stack and the pid: the
 * workers of one host must not draw the same backoff after a restart. */
static uint32_t process_random(void)
{
    uint32_t x = jitter_state;
    if (x == 0)
        x = (uint32_t)clock_precise_ns() ^ (uint32_t)(uintptr_t)&x ^ (uint32_t)getpid();
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    jitter_state = x ? x : 1;
    return x;
}

static void process_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const struct driver_env process_env = {
    .config = &shim_config,
    .coarse_ns = clock_coarse_ns,
    .precise_ns = clock_precise_ns,
    .sleep_ns = process_sleep_ns,
    .random = process_random,
};

const struct driver_env *driver_env = &process_env;

void driver_env_install(const struct driver_env *env)
{
    driver_env = env != NULL ? env : &process_env;
}
