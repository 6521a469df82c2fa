/* prepared_statement.h - server-side prepared statements across a
 * reconnect, for every client library.
 *
 * A reconnect loses every statement the server had prepared. goneshim keeps
 * the text of each statement prepared on a managed connection and, before
 * it executes one that was prepared under an older connection, prepares it
 * again and lets the adapter re-apply what the application had bound. The
 * execute itself goes through driver_run with the class of the statement's
 * text: refused inside a lost transaction, sent again after a loss only if
 * it is read-only.
 *
 * What cannot be carried over fails with a clear error on the statement:
 * long data sent (mysql_stmt_send_long_data) before the loss, since the
 * shim does not keep it. An open cursor is lost with its connection; its
 * next fetch fails in the library (never wrong rows), and the next execute
 * prepares again.
 *
 * Keeping the text allocates, at prepare time only (never per execute).
 */
#ifndef GONESHIM_PREPARED_STATEMENT_H
#define GONESHIM_PREPARED_STATEMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "session_driver.h"
#include "statement_class.h"

struct prepared_statement {
    char *sql;
    size_t len, capacity;
    struct statement_class class;
    unsigned generation;  /* managed_session.generation it was prepared under */
    bool long_data_sent;  /* since the last execute */
};

/* What the driver needs from an adapter, for one statement handle. */
struct statement_ops {
    /* Prepares `sql` again on the handle's (new) connection and re-applies
     * the application's bindings and attributes. */
    bool (*prepare_again)(void *stmt, const char *sql, size_t len);
    bool (*execute)(void *stmt);
    /* Sets a client error on the statement handle. */
    void (*set_error)(void *stmt, unsigned code, const char *message);
    /* The statement's own error code (0: none). */
    unsigned (*error_code)(void *stmt);
};

/* Remembers what was prepared (after the real prepare succeeded). False
 * when out of memory: the statement then runs unprotected. */
bool prepared_statement_record(struct prepared_statement *p, const struct managed_session *s, const char *sql,
                               size_t len);
void prepared_statement_forget(struct prepared_statement *p);

/* Is the statement prepared under an older connection of this handle? */
static inline bool prepared_statement_stale(const struct prepared_statement *p, const struct managed_session *s)
{
    return p->generation != s->generation;
}

/* Executes a recorded statement under the rules; returns 0 on success. A
 * failure found before anything was sent leaves the connection's error on
 * the statement too, where the application reads it. */
int driver_execute_prepared(struct managed_session *s, void *conn, struct prepared_statement *p,
                            const struct statement_ops *ops, void *stmt);

#endif
