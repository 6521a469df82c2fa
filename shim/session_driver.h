/* session_driver.h - carrying out session_guard's decisions on one
 * connection, whatever the client library.
 *
 * session_guard says what to do (send, reconnect, fail, retry); this file
 * does it the same way for every backend: the liveness probe, reconnecting
 * with back-off, restoring the session, the one retry, the repair after a
 * lost connection, recording SET statements. What differs between client
 * libraries (how to read the transaction state, how to ping, how to
 * reconnect inside the application's handle) is a table of operations each
 * adapter provides: the adapters translate, this file and session_guard
 * decide.
 */
#ifndef GONESHIM_SESSION_DRIVER_H
#define GONESHIM_SESSION_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "class_cache.h"
#include "event_log.h"
#include "session_guard.h"
#include "session_replay.h"
#include "statement_class.h"

/* Statements longer than this, sent in two steps (send, then read the
 * result), are not kept for a retry after a failure after send (they still
 * get every other protection). A fixed buffer keeps the hot path free of
 * allocation. */
#define PENDING_SQL_MAX 2048

/* An error as the application would read it: kept across the shim's own
 * calls so that the application sees the error of its statement. */
struct error_snapshot {
    unsigned code;
    char sqlstate[6];
    char message[512];
};

struct managed_session;

/* What the driver needs from a client library, for one connection `conn`
 * (the library's own handle). The `ping`, `reconnect_once`, `run_sql`,
 * `send_sql` and `read_result` operations are real library calls; the
 * driver makes them inside the depth guard. Every operation returns true on
 * success; on failure the error is on the handle. */
struct connection_ops {
    /* -- observing: no I/O -- */
    bool (*link_dropped)(void *conn); /* the library already closed it */
    bool (*drained)(void *conn);      /* between statements: no result pending */
    int (*socket_fd)(void *conn);
    bool (*in_transaction)(void *conn); /* server status IN_TRANS */
    bool (*autocommit)(void *conn);     /* server status AUTOCOMMIT */
    unsigned long long (*thread_id)(void *conn);
    void (*save_error)(void *conn, struct error_snapshot *e);
    void (*restore_error)(void *conn, const struct error_snapshot *e);
    /* Sets "server has gone away" (2006) without sending anything. */
    void (*set_gone_error)(void *conn);
    /* Makes the handle report an open transaction: the lost one, which the
     * application still has to roll back (PDO refuses rollBack() when it
     * believes no transaction is open). */
    void (*show_transaction)(void *conn);

    /* -- acting: real calls -- */
    bool (*ping)(void *conn, uint64_t timeout_ns); /* bounded: a silent peer must not hang it */
    /* One attempt to reconnect inside the same handle: same host, user,
     * database, character set, options and TLS, the connect bounded by
     * `timeout_s`. */
    bool (*reconnect_once)(void *conn, struct managed_session *s, unsigned timeout_s);
    bool (*set_autocommit)(void *conn, bool on);
    bool (*run_sql)(void *conn, const char *sql, size_t len); /* result discarded */
    /* What else of the session the library does not restore (may be NULL). */
    bool (*restore_extra)(void *conn, struct managed_session *s);
    /* The two halves of a statement, for the send-then-read path. */
    bool (*send_sql)(void *conn, const char *sql, size_t len);
    bool (*read_result)(void *conn);
    /* Closes the link without a goodbye, so that the next statement
     * reconnects: used when a fresh session could not be restored. */
    void (*drop_link)(void *conn);

    /* The library reports a failed send to the application beyond the
     * error code (PHP's mysqlnd raises a warning, which frameworks turn
     * into an exception): every statement must then be checked before it
     * is sent, never recovered after the failure. */
    bool must_probe_before_send;
};

/* What the shim keeps for one connection handle. Adapters embed it first
 * in their own per-handle state. */
struct managed_session {
    const struct connection_ops *ops;
    struct session_guard guard;
    struct session_replay replay;
    struct class_cache classes;
    /* The connection's socket, read once per connection: the probe peeks
     * at it before every statement. */
    int fd;
    /* Counts the connections this handle has had: a prepared statement
     * made under an older one must be prepared again before it runs. */
    unsigned generation;
    /* The statement between send and read, on the two-step path. */
    bool pending;
    bool pending_in_transaction;
    struct statement_class pending_class;
    size_t pending_len;
    char pending_sql[PENDING_SQL_MAX];
};

/* Classes of the commands that are not SQL text, the same for every
 * library. */
extern const struct statement_class class_commit, class_rollback, class_session_setting, class_use,
    class_ping, class_session_reset;

/* A real call the driver makes for a statement; returns 0 on success. */
typedef int (*real_statement_call)(void *conn, const void *arg);

/* Starts (or restarts, after the application connected again) a session. */
void driver_session_start(struct managed_session *s, const struct connection_ops *ops, void *conn);
/* Frees what the session holds (the handle is going away). */
void driver_session_end(struct managed_session *s);
/* The application reset the session itself (change_user, reset): nothing
 * of the old session is to be restored. */
void driver_session_reset(struct managed_session *s);

/* A command that is not SQL text (ping, select_db, commit...), with its
 * class. Returns the real call's result, or 1 when the statement failed
 * without being sent (the error is on the handle). */
int driver_run(struct managed_session *s, void *conn, const struct statement_class *c,
               real_statement_call call, const void *arg);

/* An SQL statement run in one call. Also records a successful SET for
 * replay. */
int driver_query(struct managed_session *s, void *conn, const char *sql, size_t len,
                 real_statement_call call, const void *arg);

/* The send-then-read path: send returns 0 when sent; read returns the
 * read's result and handles a retry. */
int driver_send(struct managed_session *s, void *conn, const char *sql, size_t len);
int driver_read(struct managed_session *s, void *conn);
bool driver_has_pending(const struct managed_session *s);

/* Why a handle is known dead right now, or REASON_NONE. `repeatable`:
 * the statement about to be sent would be sent again after a failure
 * after send (see guard_liveness_check). */
enum guard_reason driver_probe(struct managed_session *s, void *conn, bool repeatable);

/* Logs a line about a handle, when GONESHIM_LOG is on. */
#define driver_log(conn, fmt, ...) event_log("handle %p: " fmt, (conn), __VA_ARGS__)

#endif
