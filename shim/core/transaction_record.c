/* transaction_record.c - the statements of an open transaction and the
 * digests of their answers (transaction_record.h). */
#include "transaction_record.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"

/* How many records, process-wide, wait for the digest of a result set:
 * while none does, the adapters' result calls skip the lookup of their
 * handle (the statement path outside transactions stays as it was). A
 * relaxed counter: a stale read costs a lookup, or a digest missed, which
 * makes that transaction unreplayable, never wrong. */
static unsigned rows_awaited;

static void set_rows_pending(struct transaction_record *r, bool pending)
{
    if (r->rows_pending != pending)
        __atomic_add_fetch(&rows_awaited, pending ? 1u : (unsigned)-1, __ATOMIC_RELAXED);
    r->rows_pending = pending;
}

bool record_rows_awaited_anywhere(void)
{
    return __atomic_load_n(&rows_awaited, __ATOMIC_RELAXED) != 0;
}

/* Entries start on 8-byte boundaries, their text following the header. */
static size_t entry_size(size_t bytes)
{
    return (sizeof(struct record_entry) + bytes + 7) & ~(size_t)7;
}

void record_stop(struct transaction_record *r)
{
    r->state = RECORD_IDLE;
    r->why = BREAK_NONE;
    set_rows_pending(r, false);
    r->count = 0;
    r->len = 0;
}

void record_start(struct transaction_record *r)
{
    record_stop(r);
    r->state = RECORD_ON;
}

void record_break(struct transaction_record *r, enum record_break why)
{
    if (r->state == RECORD_BROKEN)
        return; /* the first reason is the one that counts */
    r->state = RECORD_BROKEN;
    r->why = why;
    set_rows_pending(r, false);
}

static bool append(struct transaction_record *r, const char *sql, size_t len, const unsigned char *params,
                   size_t params_len, bool prepared, const struct answer_summary *a, bool sets_insert_id, uint64_t max)
{
    if (r->state != RECORD_ON)
        return false;
    if (r->rows_pending) {
        /* The previous statement's result set was never stored whole. */
        record_break(r, BREAK_RESULT_NOT_STORED);
        return false;
    }
    size_t need = entry_size(len + params_len);
    if (len > UINT32_MAX || params_len > UINT32_MAX || need > max || r->len + need > max) {
        record_break(r, BREAK_TOO_BIG);
        return false;
    }
    if (r->len + need > r->cap) {
        size_t cap = r->cap != 0 ? r->cap : 4096;
        while (cap < r->len + need)
            cap *= 2;
        unsigned char *buf = realloc(r->buf, cap);
        if (buf == NULL) {
            record_break(r, BREAK_NO_MEMORY);
            return false;
        }
        r->buf = buf;
        r->cap = cap;
    }
    struct record_entry e = {
        .sql_len = (uint32_t)len,
        .params_len = (uint32_t)params_len,
        .prepared = prepared,
        .sets_insert_id = sets_insert_id && a->insert_id != 0,
        .rows_expected = a->field_count != 0 && a->error_code == 0,
        .insert_id = a->insert_id,
        .answer = record_answer_digest(a),
    };
    memcpy(r->buf + r->len, &e, sizeof e);
    memcpy(r->buf + r->len + sizeof e, sql, len);
    if (params_len != 0)
        memcpy(r->buf + r->len + sizeof e + len, params, params_len);
    r->last = r->len;
    r->len += need;
    r->count++;
    set_rows_pending(r, e.rows_expected);
    return true;
}

bool record_append(struct transaction_record *r, const char *sql, size_t len, const struct answer_summary *a,
                   bool sets_insert_id, uint64_t max)
{
    return append(r, sql, len, NULL, 0, false, a, sets_insert_id, max);
}

bool record_append_prepared(struct transaction_record *r, const char *sql, size_t len, const unsigned char *params,
                            size_t params_len, const struct answer_summary *a, bool sets_insert_id, uint64_t max)
{
    return append(r, sql, len, params, params_len, true, a, sets_insert_id, max);
}

void record_rows(struct transaction_record *r, uint64_t digest)
{
    if (r->state != RECORD_ON || !r->rows_pending)
        return;
    struct record_entry e;
    memcpy(&e, r->buf + r->last, sizeof e);
    e.rows = digest;
    e.rows_digested = true;
    memcpy(r->buf + r->last, &e, sizeof e);
    set_rows_pending(r, false);
}

void record_free(struct transaction_record *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
    record_stop(r);
}

const struct record_entry *record_next(const struct transaction_record *r, size_t *offset, const char **sql)
{
    if (*offset >= r->len)
        return NULL;
    /* Aligned: every entry starts on a multiple of 8 of a malloc'd buffer. */
    const struct record_entry *e = (const void *)(r->buf + *offset);
    *sql = (const char *)(r->buf + *offset + sizeof *e);
    *offset += entry_size((size_t)e->sql_len + e->params_len);
    return e;
}

const unsigned char *record_params(const struct record_entry *e, const char *sql)
{
    return (const unsigned char *)sql + e->sql_len;
}

uint64_t record_answer_digest(const struct answer_summary *a)
{
    uint64_t d = DIGEST_INIT;
    d = digest_u64(d, a->error_code);
    d = digest_u64(d, a->field_count);
    /* A result set's counts come with its rows (its warnings in the final
     * packet, which the adapter's digest of the rows covers); what the
     * handle holds before they are read is stale or a placeholder. */
    if (a->field_count == 0) {
        d = digest_u64(d, a->affected_rows);
        d = digest_u64(d, a->insert_id);
        d = digest_u64(d, a->warnings);
        d = digest_field(d, a->info, a->info_len);
    }
    return digest_finish(d);
}

const char *record_break_text(enum record_break why)
{
    switch (why) {
    case BREAK_NONE: return "nothing";
    case BREAK_TOO_BIG: return "it outgrew GONESHIM_REPLAY_MAX";
    case BREAK_NO_MEMORY: return "out of memory";
    case BREAK_UNBUFFERED: return "it read a result row by row (unbuffered)";
    case BREAK_PREPARED: return "it ran a server-side prepared statement";
    case BREAK_SESSION_CHANGED: return "it changed a session setting (SET or USE)";
    case BREAK_TEXT_NOT_KEPT: return "a statement was too long to keep";
    case BREAK_COMMAND: return "it ran a protocol command";
    case BREAK_PROCEDURE: return "it called a stored procedure";
    case BREAK_MULTI_RESULT: return "a statement gave several results";
    case BREAK_BEFORE_GONESHIM: return "it began before goneshim saw the connection";
    case BREAK_MULTI_ROW_IDS: return "a multi-row INSERT generated ids, which a replay cannot reproduce";
    case BREAK_RESULT_NOT_STORED: return "a result set was not stored whole";
    case BREAK_PARAMETERS: return "a parameter value cannot be kept (long data, arrays)";
    }
    return "unknown";
}
