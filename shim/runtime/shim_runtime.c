/* shim_runtime.c - lazy, once-only set-up shared by every adapter. */
#include "shim_runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "counters.h"
#include "event_log.h"
#include "global_locks.h"

struct goneshim_config shim_config;
bool shim_initialized_flag; /* written once, then only read */
bool shim_active_flag;      /* false: pass everything through */
__thread unsigned shim_depth __attribute__((tls_model("initial-exec")));

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void warn_line(const char *line)
{
    event_warn("%s", line);
}

static const char *environment(const char *name)
{
    return getenv(name);
}

static void initialize(void)
{
    config_load(&shim_config, environment, warn_line);
    event_log_configure(&shim_config);
    counters_configure(&shim_config);
    global_locks_install_fork_handlers();
    shim_active_flag = !shim_config.disabled;
    __atomic_store_n(&shim_initialized_flag, true, __ATOMIC_RELEASE);
}

bool shim_initialize_slow(void)
{
    pthread_once(&init_once, initialize);
    return shim_active_flag;
}

bool shim_is_initialized(void)
{
    return __atomic_load_n(&shim_initialized_flag, __ATOMIC_ACQUIRE);
}

/* The launcher's check mode: parse every variable, report, and exit 2 if
 * any is bad, 0 otherwise, before the program runs: the launcher runs
 * `sh -c 'exit 3'` under it, so 3 means the library never loaded. Outside
 * that mode nothing happens in a constructor: no allocation, no lookup. */
__attribute__((constructor)) static void validate_mode(void)
{
    const char *v = getenv("GONESHIM_VALIDATE");
    if (v == NULL || *v == '\0')
        return;
    struct goneshim_config cfg;
    _exit(config_load(&cfg, environment, warn_line) != 0 ? 2 : 0);
}
