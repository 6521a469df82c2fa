/* statement_driver.c - server-side prepared statements across a reconnect,
 * for every client library (see driver.h).
 *
 * A reconnect loses every statement the server had prepared. The driver
 * keeps the text of each statement prepared on a managed connection and,
 * before it executes one that was prepared under an older connection,
 * prepares it again and lets the adapter bind again what the application
 * had bound. The execute itself goes through driver_run with the class of
 * the statement's text: refused inside a lost transaction, sent again
 * after a loss only if it is read-only.
 *
 * What cannot be carried over fails with a clear error on the statement:
 * long data sent (mysql_stmt_send_long_data) before the loss, since the
 * shim does not keep it; a statement whose parameters or columns are not
 * the same any more after preparing it again (SELECT * after an ALTER
 * TABLE). An open cursor is lost with its connection; its next fetch fails
 * in the library (never wrong rows), and the next execute prepares again.
 *
 * Keeping the text allocates, at prepare time only (never per execute).
 */
#include <stdlib.h>
#include <string.h>

#include "connection.h"
#include "driver.h"
#include "protocol.h"
#include "registry.h"
#include "session_driver_internal.h"
#include "shim_runtime.h"

static struct registry statements;

static struct gs_statement *record_of(const void *stmt)
{
    if (shim_in_real_call() || stmt == NULL || !shim_is_initialized())
        return NULL;
    return registry_lookup(&statements, stmt);
}

static void statement_free(struct gs_statement *st)
{
    if (st->ops->release != NULL)
        st->ops->release(st->backend);
    free(st->sql);
    free(st);
}

/* The record of `stmt`, created if needed; NULL when out of memory (the
 * statement then runs unprotected, as a write). */
static struct gs_statement *record_for(const void *stmt, const struct statement_ops *ops)
{
    struct gs_statement *st = registry_lookup(&statements, stmt);
    if (st != NULL && st->ops == ops)
        return st;
    if (st != NULL)
        statement_free(registry_remove(&statements, stmt));
    st = calloc(1, sizeof *st + ops->backend_size);
    if (st == NULL || !registry_insert(&statements, stmt, st)) {
        free(st);
        return NULL;
    }
    st->ops = ops;
    return st;
}

bool driver_stmt_prepare(struct gs_connection *c, void *conn, void *stmt, const struct statement_ops *ops,
                         const char *sql, size_t len, real_call real, void *arg)
{
    /* Preparing runs nothing: safe to send again, like a ping; refused,
     * like everything, inside a lost transaction. */
    if (!driver_run(c, conn, &class_harmless, ORIGIN_COMMAND, NULL, 0, real, arg))
        return false;
    struct gs_statement *st = record_for(stmt, ops);
    char *copy = st != NULL ? malloc(len + 1) : NULL;
    if (copy == NULL) {
        if (st != NULL)
            statement_free(registry_remove(&statements, stmt));
        driver_log(stmt, "out of memory; this prepared statement runs as a write");
        return true;
    }
    memcpy(copy, sql, len);
    copy[len] = '\0';
    free(st->sql);
    st->sql = copy;
    st->len = len;
    classify_cached(&c->classes, sql, len, &c->server, &st->class);
    st->generation = c->generation;
    st->application_epoch = c->application_epoch;
    st->long_data_sent = false;
    ops->shape(stmt, &st->params, &st->fields);
    return true;
}

/* Prepares a statement of an older connection again; false with the error
 * on the statement. */
static bool prepare_again(struct gs_connection *c, struct gs_statement *st, void *stmt)
{
    if (!st->ops->prepare_again(stmt, st->backend, st->sql, st->len))
        return false;
    unsigned params, fields;
    st->ops->shape(stmt, &params, &fields);
    if (params != st->params || fields != st->fields) {
        /* Not the same statement any more (SELECT * after an ALTER): the
         * application's bindings cannot apply. */
        st->ops->set_error(stmt, GS_ER_SERVER_GONE,
                           "goneshim: the statement has other parameters or columns after the reconnect; "
                           "prepare it again");
        return false;
    }
    if (!st->ops->restore_bindings(stmt, st->backend))
        return false;
    st->generation = c->generation;
    /* The server may be another one (a failover): what is a read is
     * decided again. */
    classify_statement(st->sql, st->len, &c->server, &st->class);
    driver_log(stmt, "prepared again on the new connection: \"%.100s\"", st->sql);
    return true;
}

struct execute_call {
    struct gs_connection *c;
    struct gs_statement *st;
    void *stmt;
    bool reached_library; /* the statement itself carries the error */
};

/* The real call driver_run makes, and makes again for a retry: a statement
 * of an older connection is prepared again first. */
static bool execute_call(void *conn, void *arg)
{
    (void)conn;
    struct execute_call *x = arg;
    x->reached_library = true;
    if (x->st->generation != x->c->generation) {
        if (x->st->long_data_sent) {
            x->st->ops->set_error(x->stmt, GS_ER_SERVER_GONE,
                                  "goneshim: the connection was lost after mysql_stmt_send_long_data; the long "
                                  "data cannot be sent again: send it again, then execute");
            x->st->long_data_sent = false;
            return false;
        }
        if (!prepare_again(x->c, x->st, x->stmt))
            return false;
    }
    return x->st->ops->execute(x->stmt);
}

bool driver_stmt_execute(struct gs_connection *c, void *conn, void *stmt, real_call real, void *arg)
{
    struct gs_statement *st = record_of(stmt);
    if (st == NULL || st->application_epoch != c->application_epoch) {
        /* Prepared before goneshim knew the connection, or out of memory:
         * without its text the shim cannot tell a read from a write, so it
         * is never sent twice. Or prepared in a session the application
         * ended itself: the library's own rules apply to it. */
        static const struct statement_class class_unknown = {STMT_WRITE, 0, 0, 0, false};
        return driver_run(c, conn, &class_unknown, ORIGIN_PREPARED, NULL, 0, real, arg);
    }
    struct execute_call x = {c, st, stmt, false};
    bool ok = driver_run_execute(c, conn, &st->class, st->sql, st->len, stmt, st->ops, !st->long_data_sent,
                                 execute_call, &x);
    if (ok) {
        st->long_data_sent = false;
    } else if (!x.reached_library || st->ops->error_code(stmt) == 0) {
        /* Refused, or the reconnect failed: the connection's error, on the
         * statement, where the application reads it. */
        struct error_snapshot err;
        c->ops->save_error(conn, &err);
        st->ops->set_error(stmt, err.code, err.message);
    }
    return ok;
}

/* The statement is goneshim's to prepare again: recorded in the
 * application's current session, under an older connection. */
static bool is_stale(const struct gs_connection *c, const struct gs_statement *st)
{
    return st != NULL && st->application_epoch == c->application_epoch && st->generation != c->generation;
}

bool driver_stmt_stale(const struct gs_connection *c, const void *stmt)
{
    return is_stale(c, record_of(stmt));
}

/* The real call of a refresh: nothing, or the prepare again of a statement
 * the reconnect (if any) made stale. */
static bool refresh_call(void *conn, void *arg)
{
    (void)conn;
    struct execute_call *x = arg;
    x->reached_library = true;
    if (x->st->generation == x->c->generation)
        return true;
    return prepare_again(x->c, x->st, x->stmt);
}

bool driver_stmt_refresh(struct gs_connection *c, void *conn, void *stmt)
{
    struct gs_statement *st = record_of(stmt);
    if (st == NULL || st->application_epoch != c->application_epoch)
        return true; /* not goneshim's to prepare: the library's own rules */
    /* Run like a statement (a reset or long data comes next, which names
     * the statement on the server): a link found dead is reconnected
     * first, as before any statement, and the statement then prepared on
     * the new one. Not taken for repeatable, so that the link is always
     * peeked at: what follows (the reset, the long data) goes outside the
     * driver, and would find a dead link too late. */
    static const struct statement_class class_refresh = {STMT_READ, 0, 0, 0, false};
    struct execute_call x = {c, st, stmt, false};
    bool ok = driver_run(c, conn, &class_refresh, ORIGIN_COMMAND, NULL, 0, refresh_call, &x);
    if (!ok && (!x.reached_library || st->ops->error_code(stmt) == 0)) {
        struct error_snapshot err;
        c->ops->save_error(conn, &err);
        st->ops->set_error(stmt, err.code, err.message);
    }
    return ok;
}

void driver_stmt_note_long_data(const void *stmt)
{
    struct gs_statement *st = record_of(stmt);
    if (st != NULL)
        st->long_data_sent = true;
}

void *driver_stmt_backend(const void *stmt)
{
    /* Not const: it hands out the adapter's part, which the adapter writes. */
    // cppcheck-suppress constVariablePointer
    struct gs_statement *st = record_of(stmt);
    return st != NULL ? st->backend : NULL;
}

bool driver_stmt_close(const struct gs_connection *c, const void *stmt)
{
    if (shim_in_real_call() || stmt == NULL || !shim_is_initialized())
        return true;
    struct gs_statement *st = registry_remove(&statements, stmt);
    if (st == NULL)
        return true;
    bool current = c == NULL || !is_stale(c, st);
    statement_free(st);
    return current;
}
