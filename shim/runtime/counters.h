/* counters.h - what goneshim did, per process, for operators: reconnects
 * by reason, failures, time spent reconnecting, transactions lost,
 * replayed and refused, statements not repeated, ...
 *
 * Each counter is a slot of relaxed atomic adds, made on the rare paths
 * only (a reconnect, a refusal; a connect): never per statement. The
 * process publishes them as one Prometheus text file, PID.prom, in
 * GONESHIM_STATS (auto: $XDG_RUNTIME_DIR/goneshim, else /tmp/goneshim-UID),
 * a directory of its user's only (0700; a directory of another owner, or
 * open to others, is refused), written to a temporary file and renamed, so
 * a reader (goneshim stats, node_exporter's textfile collector) never sees
 * half a file. The file says which process wrote it and when it started,
 * so that a reader tells a process that died from one that lives. It is
 * written after each event (a connect only marks it stale), and at exit.
 */
#ifndef GONESHIM_COUNTERS_H
#define GONESHIM_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

struct goneshim_config;

enum counter_slot {
    COUNT_HANDLES_LIBMARIADB,
    COUNT_HANDLES_LIBMYSQLCLIENT,
    COUNT_HANDLES_MYSQLND,
    COUNT_RECONNECT_PEER_CLOSED,
    COUNT_RECONNECT_PING_FAILED,
    COUNT_RECONNECT_LIBRARY_DROPPED,
    COUNT_RECONNECT_AFTER_FAILURE,
    COUNT_RECONNECT_TRANSACTION,
    COUNT_RECONNECT_ROLLBACK,
    COUNT_RECONNECT_OTHER,
    COUNT_RECONNECT_FAILURES,
    COUNT_RECONNECT_MICROSECONDS,
    COUNT_SETTINGS_REPLAYED,
    COUNT_SENT_AGAIN,
    COUNT_NOT_REPEATED,
    COUNT_TRANSACTIONS_LOST,
    COUNT_TRANSACTIONS_REPLAYED,
    COUNT_REPLAYS_REFUSED,
    COUNT_COMMIT_UNKNOWN,
    COUNT_SLOTS
};

/* Where the file goes (GONESHIM_STATS); once, at start-up. */
void counters_configure(const struct goneshim_config *cfg);
/* Adds n to a slot. */
void counter_add(enum counter_slot slot, uint64_t n);
/* Writes the file now (after an event), or only marks it stale (a
 * connect: written with the next event, or at exit). */
void counters_publish(int now);

/* The Prometheus text of the current counts, for process `pid` started at
 * `start` (its /proc start time, in clock ticks): the bytes written (at
 * most size - 1, NUL-terminated). */
size_t counters_render(char *buf, size_t size, long pid, unsigned long long start);
/* The i-th metric family's name, NULL past the last (for the test that
 * the README's table lists them all). */
const char *counters_family(size_t i);
/* For tests: every slot back to 0. */
void counters_reset(void);
/* In a forked child (global_locks.c): its own counts, from 0. */
void counters_after_fork_child(void);

#endif
