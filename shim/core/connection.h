/* connection.h - the driver's record of one connection handle and of one
 * prepared statement. Private to shim/core: adapters hold a struct
 * gs_connection * (driver.h) and never see inside it.
 */
#ifndef GONESHIM_CONNECTION_H
#define GONESHIM_CONNECTION_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "class_cache.h"
#include "server_profile.h"
#include "session_guard.h"
#include "session_replay.h"
#include "statement_class.h"
#include "transaction_record.h"

/* Statements longer than this, sent in two steps (send, then read the
 * result, as the application calls them), are not kept for a retry after a
 * failure after send (they still get every other protection). A fixed
 * buffer keeps the hot path free of allocation. */
#define PENDING_SQL_MAX 2048

/* gs_connection.aside */
enum {
    ASIDE_CLOSED = 1,        /* the application closed or killed it itself */
    ASIDE_READS_ANSWERS = 2, /* the application reads the answers itself */
};

struct gs_connection {
    const struct connection_ops *ops;
    struct session_guard guard;
    struct session_replay replay;
    /* The open transaction's statements, for its replay, and room for the
     * parameter values of one execution (grown inside transactions only). */
    struct transaction_record record;
    unsigned char *params;
    size_t params_cap;
    /* A statement longer than pending_sql, sent in two steps inside a
     * transaction: kept here for the record (and so for a resend too). */
    char *long_sql;
    size_t long_sql_cap;
    struct class_cache classes;
    struct server_profile server; /* what the classes are computed for */
    /* The connection's socket, read once per connection: the probe peeks
     * at it before every statement. */
    int fd;
    /* Why calls on the handle pass straight through (ASIDE_* bits; 0:
     * managed), in one byte so that driver_find tests it once. */
    uint8_t aside;
    /* ASIDE_CLOSED: until a connection other than this one is there. */
    unsigned long long closed_thread;
    /* Counts the sessions the application started on the handle (connect,
     * its own reconnect): statements of an older one are not goneshim's to
     * prepare again. */
    unsigned application_epoch;
    /* Counts the connections this handle has had: a prepared statement
     * made under an older one must be prepared again before it runs. */
    unsigned generation;
    /* The statement between send and read, on the two-step path. */
    bool pending;
    unsigned pending_status;
    uint64_t pending_sent_ns;
    struct statement_class pending_class;
    size_t pending_len; /* 0: the text was not kept */
    const char *pending_text; /* pending_sql, or long_sql */
    char pending_sql[PENDING_SQL_MAX];
    /* The adapter's state (connection_ops.backend_size bytes). */
    alignas(max_align_t) unsigned char backend[];
};

/* What the driver keeps of a prepared statement. */
struct gs_statement {
    const struct statement_ops *ops;
    char *sql;
    size_t len;
    struct statement_class class;
    unsigned generation;      /* gs_connection.generation it was prepared under */
    unsigned application_epoch; /* gs_connection.application_epoch, likewise */
    unsigned params, fields;  /* its shape when the application prepared it */
    bool long_data_sent;      /* since the last execute */
    alignas(max_align_t) unsigned char backend[];
};

#endif
