/* transaction_record.h - what an open transaction did, kept so that it can
 * be replayed on a fresh connection when its own died (see
 * session_guard.h, guard_replay_refusal).
 *
 * Per statement: its text and what the application could observe of the
 * answer, as two digests (the OK/error part, and the rows when it had a
 * result set), never the values themselves. The entries live in one
 * buffer, kept from one transaction to the next (a transaction of a
 * handful of statements allocates nothing once the buffer has grown), and
 * bounded by GONESHIM_REPLAY_MAX: a transaction that outgrows it stops
 * being recorded and is lost as before.
 *
 * No I/O, no clock; the only side effect is the buffer's own memory.
 */
#ifndef GONESHIM_TRANSACTION_RECORD_H
#define GONESHIM_TRANSACTION_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

enum record_state {
    RECORD_IDLE,   /* no transaction is being recorded */
    RECORD_ON,     /* every statement of the open transaction is in it */
    RECORD_BROKEN, /* the open transaction cannot be replayed (why) */
};

/* Why an open transaction is not replayable, as far as the record knows. */
enum record_break {
    BREAK_NONE = 0,
    BREAK_TOO_BIG,         /* outgrew GONESHIM_REPLAY_MAX */
    BREAK_NO_MEMORY,
    BREAK_UNBUFFERED,      /* a result read row by row (mysql_use_result) */
    BREAK_PREPARED,        /* a server-side prepared statement ran */
    BREAK_SESSION_CHANGED, /* SET or USE inside the transaction */
    BREAK_TEXT_NOT_KEPT,   /* a statement too long to keep on the two-step path */
    BREAK_COMMAND,         /* a command of the protocol that is not SQL text */
    BREAK_PROCEDURE,       /* CALL: results and effects out of sight */
    BREAK_MULTI_RESULT,    /* several results for one statement */
    BREAK_BEFORE_GONESHIM, /* the transaction began before goneshim saw it */
    BREAK_MULTI_ROW_IDS,   /* ids of a multi-row INSERT: only the first can be set */
    BREAK_RESULT_NOT_STORED, /* a result set the application did not store whole */
    BREAK_PARAMETERS,      /* parameter values that cannot be kept (long data, arrays) */
};

/* One recorded statement; its text follows it in the buffer, and the
 * parameter values of a prepared statement's execution (as its adapter
 * wrote them, statement_ops.params) follow the text. */
struct record_entry {
    uint32_t sql_len;
    uint32_t params_len;
    bool prepared;            /* the execution of a prepared statement */
    bool sets_insert_id;      /* an INSERT (or the like): replay it with SET insert_id */
    bool rows_expected;       /* it answered with a result set */
    bool rows_digested;       /* ... whose digest is `rows` */
    unsigned long long insert_id;
    uint64_t answer;          /* record_answer_digest of its answer */
    uint64_t rows;
};

struct transaction_record {
    enum record_state state;
    enum record_break why;   /* RECORD_BROKEN */
    bool rows_pending;       /* the last entry waits for the digest of its rows */
    unsigned count;
    size_t len, cap, last;   /* bytes used, allocated; offset of the last entry */
    unsigned char *buf;
};

/* A transaction begins: what was recorded before is forgotten. */
void record_start(struct transaction_record *r);
/* It ended (COMMIT, ROLLBACK, an implicit commit): nothing to replay. */
void record_stop(struct transaction_record *r);
/* It can no longer be replayed. */
void record_break(struct transaction_record *r, enum record_break why);
/* Appends a statement that ran in the open transaction. False (and the
 * record broken) when it would exceed `max` bytes or memory is short. */
bool record_append(struct transaction_record *r, const char *sql, size_t len, const struct answer_summary *a,
                   bool sets_insert_id, uint64_t max);
/* The same for the execution of a prepared statement with `params`. */
bool record_append_prepared(struct transaction_record *r, const char *sql, size_t len, const unsigned char *params,
                            size_t params_len, const struct answer_summary *a, bool sets_insert_id, uint64_t max);
/* The rows of the last statement's result set, as the application got
 * them (the adapter's digest). */
void record_rows(struct transaction_record *r, uint64_t digest);
/* Frees the buffer. */
void record_free(struct transaction_record *r);

/* The entries in order: start with *offset = 0; NULL after the last. */
const struct record_entry *record_next(const struct transaction_record *r, size_t *offset, const char **sql);
/* The parameter values of entry `e` (its params_len bytes). */
const unsigned char *record_params(const struct record_entry *e, const char *sql);

/* The digest of an answer's OK or error part: affected rows, insert id,
 * warnings, field count, error code, info string. */
uint64_t record_answer_digest(const struct answer_summary *a);

const char *record_break_text(enum record_break why);

/* Does any record of the process wait for a result's digest now? */
bool record_rows_awaited_anywhere(void);

#endif
