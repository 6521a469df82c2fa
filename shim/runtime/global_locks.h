/* global_locks.h - every global lock of the shim, in one list, held across
 * fork() so that a child never inherits one locked by a thread that does
 * not exist in it (the socket_wrapper pattern). None is taken on the
 * statement hot path. */
#ifndef GONESHIM_GLOBAL_LOCKS_H
#define GONESHIM_GLOBAL_LOCKS_H

#include <pthread.h>

extern pthread_mutex_t registry_lock; /* handle_registry: insert, remove, grow */
extern pthread_mutex_t log_lock;      /* event_log: opening the log file */
extern pthread_mutex_t stats_lock;    /* counters: writing the counters file */

/* Registers the fork handlers; idempotent, called from the lazy init. */
void global_locks_install_fork_handlers(void);

#endif
