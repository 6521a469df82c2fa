/* The record of an open transaction: what it keeps, in order, its bound,
 * and the digest of answers, without a server. */
#include <criterion/criterion.h>
#include <string.h>

#include "digest.h"
#include "transaction_record.h"

static struct answer_summary ok_answer(unsigned long long affected, unsigned long long insert_id)
{
    struct answer_summary a = {.affected_rows = affected, .insert_id = insert_id};
    return a;
}

Test(transaction_record, keeps_the_statements_in_order_with_their_answers)
{
    struct transaction_record r = {0};
    record_start(&r);
    struct answer_summary rows = {.field_count = 3};
    cr_assert(record_append(&r, "BEGIN", 5, &(struct answer_summary){0}, false, 1 << 20));
    cr_assert(record_append(&r, "SELECT a, b, c FROM t", 21, &rows, false, 1 << 20));
    cr_assert(r.rows_pending, "a result set waits for its rows");
    record_rows(&r, 0x1234);
    cr_assert_not(r.rows_pending);
    struct answer_summary ins = ok_answer(1, 77);
    cr_assert(record_append(&r, "INSERT INTO t VALUES ()", 23, &ins, true, 1 << 20));
    const unsigned char params[] = {1, 2, 3, 4, 5};
    cr_assert(record_append_prepared(&r, "UPDATE t SET a = ?", 18, params, sizeof params, &ins, false, 1 << 20));
    cr_assert_eq(r.count, 4);

    size_t offset = 0;
    const char *sql;
    const struct record_entry *e = record_next(&r, &offset, &sql);
    cr_assert(e != NULL && e->sql_len == 5 && memcmp(sql, "BEGIN", 5) == 0);
    e = record_next(&r, &offset, &sql);
    cr_assert(e->rows_expected && e->rows_digested && e->rows == 0x1234);
    e = record_next(&r, &offset, &sql);
    cr_assert(e->sets_insert_id && e->insert_id == 77);
    cr_assert_eq(e->answer, record_answer_digest(&ins));
    e = record_next(&r, &offset, &sql);
    cr_assert(e->prepared && e->params_len == sizeof params);
    cr_assert_eq(memcmp(record_params(e, sql), params, sizeof params), 0);
    cr_assert_null(record_next(&r, &offset, &sql));
    record_free(&r);
}

Test(transaction_record, a_transaction_over_the_bound_breaks_and_stays_broken)
{
    struct transaction_record r = {0};
    record_start(&r);
    struct answer_summary a = {0};
    char big[300];
    memset(big, 'x', sizeof big);
    cr_assert(record_append(&r, big, 100, &a, false, 256));
    cr_assert_not(record_append(&r, big, 200, &a, false, 256));
    cr_assert_eq(r.state, RECORD_BROKEN);
    cr_assert_eq(r.why, BREAK_TOO_BIG);
    cr_assert_not(record_append(&r, "SELECT 1", 8, &a, false, 256), "broken until the next transaction");
    record_break(&r, BREAK_PREPARED);
    cr_assert_eq(r.why, BREAK_TOO_BIG, "the first reason is the one reported");
    record_start(&r);
    cr_assert(record_append(&r, "SELECT 1", 8, &a, false, 256));
    record_stop(&r);
    cr_assert_eq(r.state, RECORD_IDLE);
    record_free(&r);
}

/* A result set the application never stored whole: the next statement
 * finds it and the transaction is not replayable. */
Test(transaction_record, a_result_not_stored_breaks_the_record)
{
    struct transaction_record r = {0};
    record_start(&r);
    struct answer_summary rows = {.field_count = 1};
    cr_assert(record_append(&r, "SELECT 1", 8, &rows, false, 4096));
    cr_assert_not(record_append(&r, "SELECT 2", 8, &rows, false, 4096));
    cr_assert_eq(r.why, BREAK_RESULT_NOT_STORED);
    record_free(&r);
}

/* Everything the application could observe of an OK counts; of a result
 * set, only what its rows' digest does not cover. */
Test(transaction_record, answer_digest_sees_every_observable_difference)
{
    struct answer_summary base = {.affected_rows = 1, .insert_id = 5, .warnings = 0, .info = "Rows matched: 1",
                                  .info_len = 15};
    uint64_t d = record_answer_digest(&base);
    struct answer_summary other = base;
    other.affected_rows = 2;
    cr_assert_neq(record_answer_digest(&other), d);
    other = base;
    other.insert_id = 6;
    cr_assert_neq(record_answer_digest(&other), d);
    other = base;
    other.warnings = 1;
    cr_assert_neq(record_answer_digest(&other), d);
    other = base;
    other.info = "Rows matched: 2";
    cr_assert_neq(record_answer_digest(&other), d);
    other = base;
    other.error_code = 1062;
    cr_assert_neq(record_answer_digest(&other), d);
    /* A result set's placeholders before its rows are read do not count. */
    struct answer_summary set1 = {.field_count = 2, .affected_rows = ~0ull, .insert_id = 3};
    struct answer_summary set2 = {.field_count = 2, .affected_rows = 0, .insert_id = 0};
    cr_assert_eq(record_answer_digest(&set1), record_answer_digest(&set2));
    for (int w = BREAK_NONE; w <= BREAK_PARAMETERS; w++)
        cr_assert_str_neq(record_break_text((enum record_break)w), "unknown");
}

Test(digest, null_empty_and_boundaries_differ)
{
    uint64_t null_field = digest_finish(digest_field(DIGEST_INIT, NULL, 0));
    uint64_t empty_field = digest_finish(digest_field(DIGEST_INIT, "", 0));
    cr_assert_neq(null_field, empty_field);
    uint64_t ab_c = digest_finish(digest_field(digest_field(DIGEST_INIT, "ab", 2), "c", 1));
    uint64_t a_bc = digest_finish(digest_field(digest_field(DIGEST_INIT, "a", 1), "bc", 2));
    cr_assert_neq(ab_c, a_bc);
}
