/* session_driver_internal.h - what the two halves of the driver share:
 * session_driver.c (connections, statements as text, commands) and
 * statement_driver.c (prepared statements). Not for adapters. */
#ifndef GONESHIM_SESSION_DRIVER_INTERNAL_H
#define GONESHIM_SESSION_DRIVER_INTERNAL_H

#include <stdbool.h>

#include "connection.h"
#include "driver.h"
#include "statement_class.h"

/* A ping or a prepare: runs nothing, so safe to send again. */
extern const struct statement_class class_harmless;

/* What a statement run through the driver is, for the transaction
 * record. */
enum run_origin {
    ORIGIN_TEXT,     /* SQL text (sql NULL: too long to keep) */
    ORIGIN_COMMAND,  /* a protocol command: ping, prepare, commit, ... */
    ORIGIN_PREPARED, /* the execution of a prepared statement */
};

/* Runs one real call of class `cls` (SQL text `sql`, or NULL) under the
 * rules: probe, reconnect or refuse before it, send again or repair after
 * it. */
bool driver_run(struct gs_connection *c, void *conn, const struct statement_class *cls, enum run_origin origin,
                const char *sql, size_t len, real_call real, void *arg);
/* driver_run for the execution of the prepared statement `stmt` (text
 * `sql`), which the transaction record keeps with its parameters.
 * `replayable`: nothing was sent for it that a replay could not send
 * again (long data). */
bool driver_run_execute(struct gs_connection *c, void *conn, const struct statement_class *cls, const char *sql,
                        size_t len, void *stmt, const struct statement_ops *ops, bool replayable, real_call real,
                        void *arg);

#endif
