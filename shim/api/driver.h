/* driver.h - what an adapter calls: the lifecycle of connections and
 * prepared statements, and every statement, carried out under the rules.
 *
 * The driver owns all of goneshim's state for a handle. An adapter turns a
 * call of its client library into one of these functions and turns the
 * result back into its library's convention; the driver probes the link,
 * asks the rules, reconnects, restores, retries, and keeps the records.
 * Every function returns true on success; on failure the error is on the
 * library's handle (or statement), as the library would have left it.
 *
 * `conn` is always the library's own handle (MYSQL *, MYSQLND_CONN_DATA *),
 * and `real` the library's own way of doing the same thing, for the cases
 * where goneshim must step aside (the application closed or killed its
 * connection itself: it then gets exactly what the library gives it).
 */
#ifndef GONESHIM_DRIVER_H
#define GONESHIM_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* goneshim's state for one connection handle (opaque). */
struct gs_connection;

/* A call into the client library, true on success. */
typedef bool (*real_call)(void *conn, void *arg);

/* ---- lifecycle ---- */

/* The application connected `conn` (again). Starts managing it, or starts
 * a new session on a handle already managed. NULL when goneshim does not
 * manage it (out of memory: logged; the shim is disabled). */
struct gs_connection *driver_attach(void *conn, const struct connection_ops *ops);
/* The statement path's lookup: the state of a managed handle, or NULL to
 * pass the call straight through (unmanaged, a call made from inside the
 * library, the shim disabled). Lock-free; allocates nothing. */
struct gs_connection *driver_find(void *conn);
/* The application closes the handle: forget it. */
void driver_detach(const void *conn);
/* The adapter's part of the state (connection_ops.backend_size bytes). */
void *driver_backend(struct gs_connection *c);
/* The application closed or killed its own connection (mysqli::kill of
 * its own id, mysqli_close while a statement still holds the connection):
 * goneshim steps aside, and every call behaves as without it, until the
 * application (or its library, by its own reconnect option) connects
 * again. */
void driver_closed_by_application(struct gs_connection *c, void *conn);
/* The application reconnected the handle itself (mariadb_reconnect): a new
 * session, as after a connect; its statements are the library's business. */
void driver_connected_by_application(struct gs_connection *c, void *conn);
/* The application's own reconnect option (MYSQL_OPT_RECONNECT), as it set
 * it: with it on, it accepted that a reconnect loses session state. */
void driver_reconnect_option(struct gs_connection *c, bool on);
/* The application reads the server's answers itself (libmariadb's
 * MARIADB_OPT_SKIP_READ_RESPONSE): while it does, every call on `conn`
 * passes straight through. */
void driver_application_reads_answers(const void *conn, bool on);

/* ---- statements ---- */

/* SQL text, sent and answered in one call. */
bool driver_query(struct gs_connection *c, void *conn, const char *sql, size_t len);
/* The same in two calls (mysql_send_query, then mysql_read_query_result). */
bool driver_send(struct gs_connection *c, void *conn, const char *sql, size_t len);
bool driver_read(struct gs_connection *c, void *conn);
/* A statement sent by driver_send waits for driver_read. */
bool driver_has_pending(const struct gs_connection *c);

/* Commands that are not SQL text. */
enum driver_command_kind {
    DRIVER_PING,
    DRIVER_SELECT_DB,   /* text: the database */
    DRIVER_SET_CHARSET, /* the library restores it itself on reconnect */
    DRIVER_AUTOCOMMIT,
    DRIVER_COMMIT,
    DRIVER_ROLLBACK,
    DRIVER_CHANGE_USER, /* ends the session, like a ROLLBACK */
    DRIVER_RESET_CONNECTION,
    DRIVER_SET_OPTION,  /* a protocol option (multi-statements) */
    DRIVER_KILL,        /* number: the connection id */
};

struct driver_command {
    enum driver_command_kind kind;
    const char *text;
    size_t len;
    unsigned long long number;
};

bool driver_command(struct gs_connection *c, void *conn, const struct driver_command *cmd, real_call real,
                    void *arg);

/* ---- results, for the transaction replay ---- */

/* The result set of the last statement (or prepared statement's
 * execution) is being recorded: the adapter gives the digest of what the
 * application stored (its columns, rows and final warning count, computed
 * as its replay_sql or replay_prepared computes it). Cheap: a
 * load and a test; false outside a recorded transaction. */
bool driver_wants_rows(const struct gs_connection *c);
/* Does any handle of the process want one now? While none does (no
 * transaction recording), the adapter need not look its handle up. */
bool driver_rows_awaited(void);
void driver_result_rows(struct gs_connection *c, uint64_t digest);
/* The application reads the result set row by row (unbuffered): what it
 * sees cannot be digested up front, so its transaction is not replayable. */
void driver_result_unbuffered(struct gs_connection *c);

/* ---- prepared statements ---- */

/* The application prepares `stmt` on `conn`: `real` prepares it; the driver
 * runs it under the rules and keeps the text, so that the statement can be
 * prepared again after a reconnect. */
bool driver_stmt_prepare(struct gs_connection *c, void *conn, void *stmt, const struct statement_ops *ops,
                         const char *sql, size_t len, real_call real, void *arg);
/* Executes `stmt`, prepared again first if it belongs to an older
 * connection. A statement the driver has no record of (prepared before
 * goneshim saw its connection, or out of memory) runs as a write: never
 * sent twice. `real` executes it. */
bool driver_stmt_execute(struct gs_connection *c, void *conn, void *stmt, real_call real, void *arg);
/* The statement is prepared under an older connection of `c`. */
bool driver_stmt_stale(const struct gs_connection *c, const void *stmt);
/* Before a call that names the statement on the server (a reset, long
 * data): checks the link as before a statement (reconnecting a dead one)
 * and prepares the statement again if it belongs to an older connection. */
bool driver_stmt_refresh(struct gs_connection *c, void *conn, void *stmt);
/* Long data was sent for the next execute: it cannot be sent again. */
void driver_stmt_note_long_data(const void *stmt);
/* The adapter's part of a statement's record, or NULL if it has none. */
void *driver_stmt_backend(const void *stmt);
/* The application closes the statement (`c`: its connection's state, or
 * NULL). False when its server-side statement died with an older
 * connection: its number names nothing on the new one, or another
 * statement (Oracle MySQL numbers them per connection), and the adapter
 * keeps the library from sending its close. */
bool driver_stmt_close(const struct gs_connection *c, const void *stmt);

/* ---- the log ---- */

/* One line about a handle, when GONESHIM_LOG is on. */
void driver_log(const void *handle, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
