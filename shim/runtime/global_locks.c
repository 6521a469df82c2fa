/* global_locks.c - the lock list and its pthread_atfork wiring. */
#include "global_locks.h"

#include "counters.h"

pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

/* Always taken in this order, and released in reverse. */
static pthread_mutex_t *const all_locks[] = {&registry_lock, &log_lock, &stats_lock};
#define LOCK_COUNT (sizeof all_locks / sizeof all_locks[0])

static void before_fork(void)
{
    for (unsigned i = 0; i < LOCK_COUNT; i++)
        pthread_mutex_lock(all_locks[i]);
}

static void after_fork(void)
{
    for (unsigned i = LOCK_COUNT; i-- > 0;)
        pthread_mutex_unlock(all_locks[i]);
}

/* The child is another process: its counters start at 0, in its own
 * file. */
static void after_fork_in_child(void)
{
    after_fork();
    counters_after_fork_child();
}

static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;

static void install(void)
{
    pthread_atfork(before_fork, after_fork, after_fork_in_child);
}

void global_locks_install_fork_handlers(void)
{
    pthread_once(&fork_handlers_once, install);
}
