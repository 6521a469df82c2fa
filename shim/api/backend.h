/* backend.h - what an adapter gives the driver: how to observe and act on
 * one connection, and one prepared statement, of its client library.
 *
 * An adapter (shim/adapters/) translates a client library's calls and
 * structures into these operations and back. It decides nothing: the rules
 * (shim/core/session_guard.h) and the driver that carries them out
 * (driver.h) are the same for every library.
 *
 * One convention everywhere: a bool result, true on success. On failure the
 * library's own error is on its handle, where save_error reads it.
 * Operations marked "real call" call into the client library; the driver
 * makes them inside the depth guard (shim_runtime.h), so that calls the
 * library makes back through the PLT pass straight through.
 */
#ifndef GONESHIM_BACKEND_H
#define GONESHIM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An error as the application would read it; kept across the shim's own
 * calls so that the application sees the error of its statement. */
struct error_snapshot {
    unsigned code;
    char sqlstate[6];
    char message[512];
};

/* What the application could observe of a statement's answer, besides
 * its rows: what the transaction replay compares. `info` points into the
 * library's handle (NULL: none). */
struct answer_summary {
    unsigned long long affected_rows;
    unsigned long long insert_id;
    unsigned warnings;
    unsigned field_count;
    unsigned error_code; /* 0: success */
    const char *info;
    size_t info_len;
};

/* What a reconnect must bring back, besides what the library keeps. */
struct reconnect_request {
    unsigned timeout_s; /* bound for the connect; never longer than the app's own */
    /* The connection's server was Oracle MySQL (server_profile.h), where a
     * bare SET NAMES gives another collation than the handshake. */
    bool server_is_mysql;
};

struct connection_ops {
    const char *library; /* for the log: "libmariadb", "mysqlnd" */
    /* Bytes of per-connection adapter state the driver allocates with its
     * own (driver_backend); zeroed when the handle is first seen. */
    size_t backend_size;

    /* -- observing: no I/O -- */
    bool (*link_dropped)(void *conn); /* the library already closed the link */
    bool (*drained)(void *conn);      /* between statements: no result pending */
    int (*socket_fd)(void *conn);     /* -1: none */
    unsigned (*server_status)(void *conn); /* GS_STATUS_* bits of the last answer */
    unsigned long long (*thread_id)(void *conn);
    const char *(*server_version)(void *conn); /* the handshake's version string */
    /* The insert id the library reports to the application (the last OK
     * packet's), and a way to put it back after a reconnect. */
    unsigned long long (*insert_id)(void *conn);
    void (*set_insert_id)(void *conn, unsigned long long id);
    void (*save_error)(void *conn, struct error_snapshot *e);
    void (*set_error)(void *conn, const struct error_snapshot *e);
    /* Makes the handle report an open transaction: the lost one, which the
     * application still has to roll back (PDO refuses rollBack() when it
     * believes no transaction is open). */
    void (*show_transaction)(void *conn);

    /* -- acting: real calls -- */
    /* Bounded: a silently dropped flow must not hang it. */
    bool (*ping)(void *conn, uint64_t timeout_ns);
    /* One attempt to connect again inside the same handle: same host,
     * user, database, character set, options and TLS. */
    bool (*reconnect_once)(void *conn, void *backend, const struct reconnect_request *r);
    bool (*set_autocommit)(void *conn, bool on);
    bool (*run_sql)(void *conn, const char *sql, size_t len); /* result discarded */
    /* What else of the session the library does not restore (may be NULL). */
    bool (*restore_extra)(void *conn, void *backend);
    /* The two halves of a statement. */
    bool (*send_sql)(void *conn, const char *sql, size_t len);
    bool (*read_result)(void *conn);
    /* Closes the link without a goodbye, so that the next statement
     * reconnects: used when a fresh session could not be restored. */
    void (*drop_link)(void *conn);
    /* Runs `sql`, a SELECT of one value, and gives that value as text
     * (`quote`: it is a string, not a number). The handle must then look
     * to the application as it did before (affected rows, insert id,
     * status, field count): when the last statement left warnings or
     * results, which this would erase, it runs nothing and fails. May be
     * NULL. */
    bool (*read_value)(void *conn, const char *sql, size_t len, char *value, size_t size, bool *quote);
    /* The answer of the statement that just ran, as the application sees
     * it. NULL: the library's transactions are not replayed. */
    void (*answer)(void *conn, struct answer_summary *a);
    /* Runs `sql` again for a transaction replay and gives its answer and
     * the digest of its rows, computed as for the application's own
     * results (driver_result_stored; 0: no result set). The handle need
     * not look as before afterwards. False only when it could not run at
     * all (the link). Real call. */
    bool (*replay_sql)(void *conn, const char *sql, size_t len, struct answer_summary *a, uint64_t *rows);
    /* The same for a prepared statement: prepares `sql` anew (a statement
     * of the adapter's own, closed after), binds the parameter values its
     * statement_ops.params wrote, executes it, digests its rows as for
     * driver_result_rows. May be NULL. Real call. */
    bool (*replay_prepared)(void *conn, const char *sql, size_t len, const unsigned char *params, size_t params_len,
                            struct answer_summary *a, uint64_t *rows);
    /* The session's database changed (USE, select_db): for a library whose
     * reconnect does not follow it by itself (may be NULL). */
    void (*note_database)(void *backend, const char *db, size_t len);

    /* -- the handle changes hands (may be NULL) -- */
    /* goneshim starts managing a connection the application made: keep
     * what the application asked of the library that would interfere (its
     * own reconnect), and switch that off. */
    void (*take_over)(void *conn, void *backend);
    /* goneshim stops managing it (the application closed or killed it
     * itself): give the library back what the application asked. */
    void (*step_aside)(void *conn, void *backend);
    /* What the application asked of its library, read when goneshim takes
     * a connection over: its own reconnect (MYSQL_OPT_RECONNECT), and
     * reading the server's answers itself (MARIADB_OPT_SKIP_READ_RESPONSE). */
    bool (*library_reconnect)(void *backend);
    bool (*application_reads_answers)(void *conn);
    /* The handle is forgotten: free what the adapter keeps in its backend
     * state. */
    void (*release)(void *backend);

    /* The library reports a failed send to the application beyond the
     * error code (PHP's mysqlnd raises a warning, which frameworks turn
     * into an exception): every statement must then be checked before it
     * is sent, never recovered after the failure. */
    bool must_probe_before_send;
};

struct statement_ops {
    size_t backend_size; /* per-statement adapter state (driver_stmt_backend) */
    /* The application's own prepare, again, on the handle's new
     * connection: the adapter puts the bindings the application made aside
     * first (the library forgets them when it prepares). */
    bool (*prepare_again)(void *stmt, void *backend, const char *sql, size_t len);
    /* Parameter and column counts, as the library has them now. */
    void (*shape)(void *stmt, unsigned *params, unsigned *fields);
    /* The statement has its old shape: bind again what was put aside. */
    bool (*restore_bindings)(void *stmt, void *backend);
    bool (*execute)(void *stmt);
    void (*set_error)(void *stmt, unsigned code, const char *message);
    unsigned (*error_code)(void *stmt);
    void (*release)(void *backend); /* may be NULL */
    /* For the transaction replay (both may be NULL: executions are then
     * not replayable). The answer of the execution that just ran; and its
     * parameter values as they were sent, written into `buf` in the
     * adapter's own format (read back only by its replay_prepared): the
     * bytes needed (at most `size` were written; call again with more),
     * or STATEMENT_PARAMS_UNKEPT when a value cannot be kept. */
    void (*answer)(void *stmt, struct answer_summary *a);
    size_t (*params)(void *stmt, unsigned char *buf, size_t size);
};

#define STATEMENT_PARAMS_UNKEPT ((size_t)-1)

#endif
