/* The decision rules, without a server: the same tests cover every
 * adapter, because every adapter's driver asks these functions. */
#include <criterion/criterion.h>

#include "config.h"
#include "protocol.h"
#include "session_guard.h"

static struct goneshim_config cfg = {.idle_ns = 60 * NS_PER_S, .retry_reads = true};

static const struct statement_class read_c = {STMT_READ, 0, 0, 0, true};
static const struct statement_class write_c = {STMT_WRITE, 0, 0, 0, false};
static const struct statement_class insert_c = {STMT_WRITE, 0, 0, CLASS_SETS_INSERT_ID, false};
static const struct statement_class call_c = {STMT_WRITE, 0, 0, CLASS_SETS_INSERT_ID | CLASS_CALLS_PROCEDURE, false};
static const struct statement_class reads_id_c = {STMT_READ, 0, 0, CLASS_READS_INSERT_ID, true};
static const struct statement_class prior_c = {STMT_READ, 0, 0, CLASS_READS_PRIOR, true};
static const struct statement_class commit_c = {STMT_COMMIT, 0, 0, 0, false};
static const struct statement_class rollback_c = {STMT_ROLLBACK, 0, 0, 0, true};
static const struct statement_class set_c = {STMT_SET, 0, 0, 0, true};
static const struct statement_class temp_c = {STMT_WRITE, STATE_TEMP_TABLES, 0, 0, false};
static const struct statement_class lock_c = {STMT_WRITE, STATE_TABLE_LOCKS, 0, 0, false};
static const struct statement_class unlock_c = {STMT_WRITE, 0, STATE_TABLE_LOCKS, 0, false};
static const struct statement_class xa_start_c = {STMT_XA_START, 0, 0, 0, false};
static const struct statement_class xa_prepare_c = {STMT_XA_PREPARE, 0, 0, 0, false};
static const struct statement_class xa_commit_c = {STMT_XA_COMMIT, 0, 0, 0, false};
static const struct statement_class xa_rollback_c = {STMT_XA_ROLLBACK, 0, 0, 0, false};

/* Server status: autocommit on, outside a transaction; inside one; with
 * autocommit off and no work done yet. */
#define IDLE_STATUS GS_STATUS_AUTOCOMMIT
#define IN_TRANS (GS_STATUS_AUTOCOMMIT | GS_STATUS_IN_TRANS)
#define AUTOCOMMIT_OFF 0u

static struct statement_result ok(void)
{
    struct statement_result r = {.outcome = OUTCOME_OK, .status_before = IDLE_STATUS};
    return r;
}

static struct statement_result ok_with_id(unsigned long long id, bool exact)
{
    struct statement_result r = ok();
    r.insert_id = id;
    r.insert_id_exact = exact;
    return r;
}

/* The link died while the statement was awaited, `elapsed` after it was
 * sent, with this server status when it was sent. */
static struct statement_result lost(unsigned status, uint64_t elapsed, bool retried)
{
    struct statement_result r = {.outcome = OUTCOME_LINK_LOST,
                                 .elapsed_ns = elapsed,
                                 .length = 20,
                                 .status_before = status,
                                 .retried = retried};
    return r;
}

static struct statement_result lost_while_sending(size_t length)
{
    struct statement_result r = lost(IDLE_STATUS, 0, false);
    r.while_sending = true;
    r.length = length;
    return r;
}

static struct guard_decision after(struct session_guard *g, const struct statement_class *c,
                                   struct statement_result r)
{
    return guard_after_statement(g, c, &r, &cfg, 5);
}

#define QUICK (1 * NS_PER_MS)

Test(guard, liveness_check_peeks_always_pings_after_idle)
{
    struct session_guard g = {.last_used_ns = 100 * NS_PER_S};
    cr_assert_eq(guard_liveness_check(&g, &cfg, 100 * NS_PER_S, true, false), CHECK_PEEK);
    cr_assert_eq(guard_liveness_check(&g, &cfg, 159 * NS_PER_S, true, true), CHECK_PEEK);
    cr_assert_eq(guard_liveness_check(&g, &cfg, 160 * NS_PER_S, true, true), CHECK_PEEK_AND_PING);
    cr_assert_eq(guard_liveness_check(&g, &cfg, 500 * NS_PER_S, false, false), CHECK_NONE, "results pending");
    struct goneshim_config never = cfg;
    never.idle_ns = 0;
    cr_assert_eq(guard_liveness_check(&g, &never, 1000 * NS_PER_S, true, false), CHECK_PEEK);
}

Test(guard, busy_handle_skips_the_peek_only_for_what_is_sent_again)
{
    struct session_guard g = {.last_used_ns = 100 * NS_PER_S};
    uint64_t busy = 100 * NS_PER_S + GUARD_BUSY_NS - 1, idle = 100 * NS_PER_S + GUARD_BUSY_NS;
    cr_assert_eq(guard_liveness_check(&g, &cfg, busy, true, true), CHECK_NONE);
    cr_assert_eq(guard_liveness_check(&g, &cfg, idle, true, true), CHECK_PEEK, "idle: always peeked at");
    cr_assert_eq(guard_liveness_check(&g, &cfg, busy, true, false), CHECK_PEEK, "a write: always peeked at");
    struct goneshim_config no_retry = cfg;
    no_retry.retry_reads = false;
    cr_assert_eq(guard_liveness_check(&g, &no_retry, busy, true, true), CHECK_PEEK,
                 "without the retry, nothing would recover the read");
    struct goneshim_config ping_soon = cfg;
    ping_soon.idle_ns = GUARD_BUSY_NS / 2;
    cr_assert_eq(guard_liveness_check(&g, &ping_soon, busy, true, true), CHECK_PEEK_AND_PING,
                 "the idle ping comes first");
}

Test(guard, alive_handle_sends)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_NONE, IN_TRANS);
    cr_assert_eq(d.action, GUARD_SEND);
}

Test(guard, dead_idle_handle_outside_transaction_reconnects)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    cr_assert_eq(d.reason, REASON_PEER_CLOSED);
    d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, AUTOCOMMIT_OFF);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "autocommit off, no work done: nothing to lose");
}

Test(guard, lost_transaction_fails_everything_until_rollback)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.action, GUARD_FAIL);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(g.lost_transaction);
    /* The library cleared IN_TRANS on its own refused reconnect: still lost. */
    const struct statement_class *others[] = {&read_c, &write_c, &commit_c, &temp_c, &set_c, &xa_commit_c};
    for (int i = 0; i < 6; i++) {
        d = guard_before_statement(&g, others[i], REASON_LIBRARY_DROPPED, IDLE_STATUS);
        cr_assert_eq(d.action, GUARD_FAIL);
        cr_assert_eq(d.reason, REASON_LOST_TRANSACTION);
        d = guard_before_statement(&g, others[i], REASON_NONE, IDLE_STATUS);
        cr_assert_eq(d.action, GUARD_FAIL, "even if the handle looked alive");
    }
    d = guard_before_statement(&g, &rollback_c, REASON_LIBRARY_DROPPED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    cr_assert_eq(d.reason, REASON_ROLLBACK_OF_LOST);
    cr_assert(g.lost_transaction, "cleared only once the reconnect succeeded");
    guard_session_renewed(&g, 0);
    cr_assert_not(g.lost_transaction);
    d = guard_before_statement(&g, &write_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_SEND);
}

Test(guard, rollback_on_dead_transaction_reconnects_directly)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &rollback_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
}

Test(guard, failure_after_send_inside_transaction_loses_it)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &read_c, lost(IN_TRANS, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT, "a read inside a transaction is never sent again");
    cr_assert(g.lost_transaction);
    cr_assert_eq(g.last_used_ns, 5);
}

Test(guard, commit_lost_after_send_has_an_unknown_outcome)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &commit_c, lost(IN_TRANS, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_eq(d.reason, REASON_COMMIT_UNKNOWN);
    cr_assert(g.lost_transaction);
}

Test(guard, rollback_lost_after_send_is_sent_again_once)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &rollback_c, lost(IN_TRANS, QUICK, false));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY);
    d = after(&g, &rollback_c, lost(IN_TRANS, QUICK, true));
    cr_assert_eq(d.action, GUARD_REPORT);
}

Test(guard, failure_after_send_outside_transaction)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &read_c, lost(IDLE_STATUS, QUICK, false));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY, "a read may be sent again");
    cr_assert_eq(d.reason, REASON_FAILED_AFTER_SEND);
    d = after(&g, &read_c, lost(IDLE_STATUS, QUICK, true));
    cr_assert_eq(d.action, GUARD_REPORT, "but only once");
    d = after(&g, &write_c, lost(IDLE_STATUS, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT, "a write never");
    cr_assert_eq(d.reason, REASON_NOT_RETRY_SAFE);
    cr_assert_not(g.lost_transaction);
    struct goneshim_config no_retry = cfg;
    no_retry.retry_reads = false;
    struct statement_result r = lost(IDLE_STATUS, QUICK, false);
    d = guard_after_statement(&g, &read_c, &r, &no_retry, 0);
    cr_assert_eq(d.action, GUARD_REPORT, "GONESHIM_RETRY_READS=0");
}

/* Point 5 of the trust issue: a read timeout, or an operator's KILL of a
 * long query, is not undone by running it again. */
Test(guard, a_read_that_ran_a_while_is_not_sent_again)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &read_c, lost(IDLE_STATUS, GUARD_RESEND_WINDOW_NS - 1, false));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY, "the link died as it was sent");
    d = after(&g, &read_c, lost(IDLE_STATUS, GUARD_RESEND_WINDOW_NS, false));
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_eq(d.reason, REASON_RAN_TOO_LONG);
    d = after(&g, &read_c, lost(IDLE_STATUS, 30 * NS_PER_S, false));
    cr_assert_eq(d.reason, REASON_RAN_TOO_LONG, "a client read timeout of 30 s");
}

/* The server answered with an error and closed the connection (a refusal
 * for its size, a KILL of the running statement): the statement is
 * settled; sent again it would be refused again. */
Test(guard, a_statement_refused_before_the_close_is_not_sent_again)
{
    struct session_guard g = {0};
    struct statement_result r = lost(IDLE_STATUS, QUICK, false);
    r.answered = true;
    struct guard_decision d = after(&g, &read_c, r);
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_eq(d.reason, REASON_REFUSED_THEN_CLOSED);
    r.status_before = IN_TRANS;
    d = after(&g, &read_c, r);
    cr_assert(g.lost_transaction, "the link is gone all the same");
}

/* A failed send: the server never got the whole statement, so whatever it
 * is may go again; a long one only if the server's max_allowed_packet
 * takes it (it may be the reason the server closed the connection). */
Test(guard, a_statement_that_died_while_sent_goes_again_if_it_fits)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &write_c, lost_while_sending(GUARD_RESEND_SIZE_UNCHECKED));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY, "never reached the server: a write too");
    cr_assert_eq(d.reason, REASON_SEND_FAILED);
    cr_assert_not(d.only_if_it_fits);
    d = after(&g, &read_c, lost_while_sending(GUARD_RESEND_SIZE_UNCHECKED + 1));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY);
    cr_assert(d.only_if_it_fits, "max_allowed_packet may have refused it");
    struct statement_result r = lost(IDLE_STATUS, QUICK, false);
    r.length = 100000;
    d = after(&g, &read_c, r);
    cr_assert(d.only_if_it_fits, "after the send too: the refusal can read as a reset");
    r = lost_while_sending(10);
    r.status_before = IN_TRANS;
    d = after(&g, &write_c, r);
    cr_assert_eq(d.action, GUARD_REPORT, "inside a transaction the transaction is lost either way");
    cr_assert(g.lost_transaction);
}

Test(guard, fits_packet)
{
    cr_assert(guard_fits_packet(1023, "1024"));
    cr_assert_not(guard_fits_packet(1024, "1024"), "the command byte counts");
    cr_assert(guard_fits_packet(200000, "16777216"));
    cr_assert_not(guard_fits_packet(10, NULL), "unknown: not sent again");
    cr_assert_not(guard_fits_packet(10, "lots"));
}

/* Point 3: with autocommit off the first statement opens the transaction. */
Test(guard, autocommit_off_first_statement_lost_in_flight_loses_the_transaction)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &insert_c, lost(AUTOCOMMIT_OFF, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(g.lost_transaction, "the statements after it must not commit on their own");
    d = guard_before_statement(&g, &insert_c, REASON_NONE, AUTOCOMMIT_OFF);
    cr_assert_eq(d.action, GUARD_FAIL);
    d = guard_before_statement(&g, &commit_c, REASON_NONE, AUTOCOMMIT_OFF);
    cr_assert_eq(d.action, GUARD_FAIL, "and its COMMIT fails");
}

Test(guard, autocommit_off_first_read_lost_in_flight_is_sent_again)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &read_c, lost(AUTOCOMMIT_OFF, QUICK, false));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY, "nothing ran before it in its transaction");
    cr_assert_not(g.lost_transaction);
    d = after(&g, &read_c, lost(AUTOCOMMIT_OFF, GUARD_RESEND_WINDOW_NS, false));
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert(g.lost_transaction, "not sent again: its transaction is lost");
}

Test(guard, autocommit_off_commit_lost_in_flight_opens_nothing)
{
    struct session_guard g = {0};
    struct guard_decision d = after(&g, &commit_c, lost(AUTOCOMMIT_OFF, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_eq(d.reason, REASON_NOT_RETRY_SAFE);
    cr_assert_not(g.lost_transaction, "no work was done: no transaction to lose");
    d = after(&g, &set_c, lost(AUTOCOMMIT_OFF, QUICK, false));
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY);
}

Test(guard, server_errors_are_not_connection_failures)
{
    struct session_guard g = {0};
    struct statement_result r = {.outcome = OUTCOME_SERVER_ERROR, .status_before = IN_TRANS};
    struct guard_decision d = after(&g, &temp_c, r);
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_not(g.lost_transaction);
    cr_assert_eq(g.unrestorable, 0, "a failed CREATE TEMPORARY TABLE created nothing");
}

Test(guard, unrestorable_state_is_reported_once)
{
    struct session_guard g = {0};
    after(&g, &temp_c, ok());
    cr_assert_eq(g.unrestorable, STATE_TEMP_TABLES);
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL);
    cr_assert_eq(d.reason, REASON_SESSION_STATE);
    d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "then the handle works again");

    after(&g, &temp_c, ok());
    d = after(&g, &read_c, lost(IDLE_STATUS, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT, "a read is not sent again when state was lost");
    cr_assert_eq(d.reason, REASON_SESSION_STATE);
    cr_assert_eq(g.unrestorable, 0);
}

/* With MYSQL_OPT_RECONNECT the application accepted that a reconnect
 * loses session state: what the library would lose silently is not
 * reported; a transaction is still never continued outside itself. */
Test(guard, an_application_that_asked_for_the_library_s_reconnect_accepted_state_loss)
{
    struct session_guard g = {.state_loss_accepted = true};
    after(&g, &temp_c, ok());
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    d = guard_before_statement(&g, &prior_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.action, GUARD_FAIL, "but a transaction is never split");
}

Test(guard, released_state_no_longer_blocks)
{
    struct session_guard g = {0};
    after(&g, &lock_c, ok());
    cr_assert_eq(g.unrestorable, STATE_TABLE_LOCKS);
    after(&g, &unlock_c, ok());
    cr_assert_eq(g.unrestorable, 0);
}

Test(guard, transaction_outranks_session_state)
{
    struct session_guard g = {.unrestorable = STATE_USER_VARS};
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(g.lost_transaction);
}

/* Point 9: never a silently wrong value. */
Test(guard, a_statement_reading_the_previous_statement_is_not_hidden)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &prior_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL, "FOUND_ROWS() of a fresh session would be wrong");
    cr_assert_eq(d.reason, REASON_PRIOR_RESULT);
    d = after(&g, &prior_c, lost(IDLE_STATUS, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT, "nor sent again");
}

Test(guard, an_exact_insert_id_is_restored_an_uncertain_one_reported_once)
{
    struct session_guard g = {0};
    after(&g, &insert_c, ok_with_id(41, true));
    cr_assert_eq(guard_insert_id_to_restore(&g), 41);
    struct guard_decision d = guard_before_statement(&g, &reads_id_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "restored by the driver: hidden");

    after(&g, &insert_c, ok_with_id(100, false)); /* maybe a value the INSERT gave itself */
    cr_assert_eq(guard_insert_id_to_restore(&g), 0, "never restore a guess");
    d = guard_before_statement(&g, &reads_id_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL);
    cr_assert_eq(d.reason, REASON_INSERT_ID_LOST);
    d = guard_before_statement(&g, &reads_id_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "once");
}

Test(guard, an_uncertain_insert_id_lost_by_a_reconnect_fails_its_first_reader)
{
    struct session_guard g = {0};
    after(&g, &insert_c, ok_with_id(100, false));
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "a statement that does not read it is hidden");
    guard_link_replaced(&g);
    guard_session_renewed(&g, 0);
    d = guard_before_statement(&g, &read_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_SEND);
    d = guard_before_statement(&g, &reads_id_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL, "the first that reads it learns of the loss");
    cr_assert_eq(d.reason, REASON_INSERT_ID_LOST);
    d = guard_before_statement(&g, &reads_id_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_SEND, "once");
}

Test(guard, a_procedure_leaves_the_insert_id_uncertain)
{
    struct session_guard g = {0};
    after(&g, &insert_c, ok_with_id(7, true));
    after(&g, &call_c, ok());
    cr_assert_eq(guard_insert_id_to_restore(&g), 0, "what CALL did is out of sight");
}

/* Point 11: a prepared XA transaction outlives its connection. */
Test(guard, a_lost_prepared_xa_transaction_is_not_rolled_back_by_pretending)
{
    struct session_guard g = {0};
    after(&g, &xa_start_c, ok());
    after(&g, &xa_prepare_c, ok());
    cr_assert_eq(g.xa, XA_PREPARED);
    struct guard_decision d = guard_before_statement(&g, &rollback_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.action, GUARD_FAIL, "the loss is reported");
    cr_assert(g.lost_transaction && g.xa_survives);
    d = guard_before_statement(&g, &rollback_c, REASON_LIBRARY_DROPPED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL, "a plain ROLLBACK would succeed on a fresh connection: a lie");
    cr_assert_eq(d.reason, REASON_XA_PREPARED);
    d = guard_before_statement(&g, &commit_c, REASON_LIBRARY_DROPPED, IDLE_STATUS);
    cr_assert_eq(d.reason, REASON_XA_PREPARED);
    d = guard_before_statement(&g, &read_c, REASON_LIBRARY_DROPPED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "XA RECOVER may look");
    d = guard_before_statement(&g, &xa_commit_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_SEND, "XA COMMIT reaches it from any connection");
    struct statement_result r = {.outcome = OUTCOME_SERVER_ERROR, .status_before = IDLE_STATUS};
    after(&g, &xa_commit_c, r);
    cr_assert(g.lost_transaction, "refused (another xid): it still waits");
    after(&g, &xa_commit_c, ok());
    cr_assert_not(g.lost_transaction, "committed: over");
    cr_assert_not(g.xa_survives);
}

/* Oracle MySQL clears SERVER_STATUS_IN_TRANS after XA PREPARE: the
 * prepared transaction is still the session's, and its loss is reported
 * (found by the integration tests against MySQL 9.7). */
Test(guard, a_prepared_xa_transaction_is_open_when_the_server_status_says_not)
{
    struct session_guard g = {0};
    after(&g, &xa_start_c, ok());
    after(&g, &xa_prepare_c, ok());
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL, "the loss is reported");
    cr_assert(g.lost_transaction && g.xa_survives);
    struct session_guard h = {0};
    after(&h, &xa_start_c, ok());
    after(&h, &xa_prepare_c, ok());
    d = after(&h, &read_c, lost(IDLE_STATUS, QUICK, false));
    cr_assert_eq(d.action, GUARD_REPORT, "in flight: reported, never sent again");
    cr_assert(h.lost_transaction && h.xa_survives);
}

Test(guard, an_xa_transaction_lost_before_prepare_is_gone_with_its_connection)
{
    struct session_guard g = {0};
    after(&g, &xa_start_c, ok());
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.action, GUARD_FAIL);
    cr_assert_not(g.xa_survives);
    d = guard_before_statement(&g, &xa_rollback_c, REASON_LIBRARY_DROPPED, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    struct statement_result r = {.outcome = OUTCOME_SERVER_ERROR, .status_before = IDLE_STATUS};
    after(&g, &xa_rollback_c, r); /* XAER_NOTA: the server does not know it any more */
    cr_assert_not(g.lost_transaction, "rolled back with the connection: over");
}

Test(guard, xa_prepare_lost_in_flight_may_have_prepared)
{
    struct session_guard g = {0};
    after(&g, &xa_start_c, ok());
    after(&g, &xa_prepare_c, lost(IN_TRANS, QUICK, false));
    cr_assert(g.lost_transaction);
    cr_assert(g.xa_survives, "the server may hold it prepared");
}

/* Point 6: a KILL of the application's own connection. */
Test(guard, a_kill_of_the_own_connection_is_the_application_s_intent)
{
    cr_assert(guard_kill_closes_own(true, 42, false, 42, false));
    cr_assert_not(guard_kill_closes_own(true, 41, false, 42, true), "another connection");
    cr_assert_not(guard_kill_closes_own(true, 42, true, 42, false), "KILL QUERY ends a statement only");
    cr_assert(guard_kill_closes_own(false, 0, false, 42, true), "KILL USER that took this connection too");
    cr_assert_not(guard_kill_closes_own(false, 0, false, 42, false));
}

Test(guard, connect_errors)
{
    cr_assert(guard_is_transient_connect_error(2002));
    cr_assert(guard_is_transient_connect_error(2003));
    cr_assert(guard_is_transient_connect_error(1040));
    cr_assert_not(guard_is_transient_connect_error(1045), "access denied is final");
    cr_assert_not(guard_is_transient_connect_error(1049), "unknown database is final");
}

Test(guard, backoff_grows_with_jitter_and_caps)
{
    cr_assert_eq(guard_backoff_ns(0, 0), 25 * NS_PER_MS);
    cr_assert_leq(guard_backoff_ns(0, UINT32_MAX), 50 * NS_PER_MS);
    cr_assert_eq(guard_backoff_ns(1, 0), 50 * NS_PER_MS);
    cr_assert_eq(guard_backoff_ns(3, 0), 200 * NS_PER_MS);
    for (unsigned attempt = 6; attempt < 100; attempt += 13) {
        uint64_t d = guard_backoff_ns(attempt, 123456789u);
        cr_assert(d >= 1 * NS_PER_S && d <= 2 * NS_PER_S, "attempt %u: %llu", attempt, (unsigned long long)d);
    }
    cr_assert_neq(guard_backoff_ns(4, 1), guard_backoff_ns(4, 99999), "jitter spreads attempts");
}

Test(guard, every_reason_has_text)
{
    for (int r = REASON_NONE; r <= REASON_ROLLBACK_OF_LOST; r++)
        cr_assert_str_neq(guard_reason_text((enum guard_reason)r), "unknown");
}

Test(guard, rollback_on_repaired_connection_is_just_sent)
{
    struct session_guard g = {0};
    after(&g, &write_c, lost(IN_TRANS, QUICK, false));
    cr_assert(g.lost_transaction);
    /* The driver repaired the connection at once: it looks alive now. */
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_FAIL, "still lost for anything but ROLLBACK");
    d = guard_before_statement(&g, &rollback_c, REASON_NONE, IDLE_STATUS);
    cr_assert_eq(d.action, GUARD_SEND);
    after(&g, &rollback_c, ok());
    cr_assert_not(g.lost_transaction, "the ROLLBACK ended it");
}

Test(guard, what_a_peek_means)
{
    cr_assert_eq(guard_peek_verdict(CHECK_PEEK, PEER_QUIET), PEEK_ALIVE);
    cr_assert_eq(guard_peek_verdict(CHECK_PEEK, PEER_CLOSED), PEEK_DEAD);
    cr_assert_eq(guard_peek_verdict(CHECK_PEEK, PEER_SENT_DATA), PEEK_PING, "TLS may have a record unread");
    cr_assert_eq(guard_peek_verdict(CHECK_PEEK_AND_PING, PEER_QUIET), PEEK_PING, "idle: silent drops");
    cr_assert_eq(guard_peek_verdict(CHECK_PEEK_AND_PING, PEER_CLOSED), PEEK_DEAD, "no ping needed");
}

Test(guard, a_statement_whose_text_is_not_kept)
{
    struct statement_class c = read_c;
    guard_text_not_kept(&c);
    cr_assert_not(c.retry_safe, "cannot be sent again");
    cr_assert_eq(c.creates, 0u);
    c = set_c;
    guard_text_not_kept(&c);
    cr_assert_eq(c.creates, STATE_UNREPLAYABLE_SETTINGS, "a SET not recorded: its loss is reported");
}

Test(guard, a_reconnected_session_that_differs_is_not_handed_out)
{
    cr_assert_eq(guard_after_restore(true, false), RESTORE_USE);
    cr_assert_eq(guard_after_restore(false, false), RESTORE_GIVE_UP, "a refused setting is final");
    cr_assert_eq(guard_after_restore(false, true), RESTORE_TRY_AGAIN, "the fresh link died under the restore");
}

/* ---- transaction replay ---- */

static struct replay_facts replayable(void)
{
    struct replay_facts f = {.enabled = true, .recorded = true};
    return f;
}

Test(replay_rules, a_recorded_transaction_found_dead_before_send_is_replayed)
{
    struct session_guard g = {0};
    struct replay_facts f = replayable();
    cr_assert_eq(guard_replay_refusal(&g, &f), REPLAY_GO);
}

Test(replay_rules, each_refusal_and_its_reason)
{
    struct session_guard g = {0};
    struct replay_facts f = replayable();
    f.enabled = false;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_OFF);
    f = replayable();
    f.recorded = false;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_NOT_RECORDED);
    f = replayable();
    f.rows_pending = true;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_RESULT_UNREAD);
    f = replayable();
    g.unrestorable = STATE_USER_VARS;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_SESSION_STATE);
    g.unrestorable = 0;
    g.state_loss_accepted = true;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_STATE_ACCEPTED);
    g.state_loss_accepted = false;
    g.xa = XA_ACTIVE;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_XA);
    g.xa = XA_NONE;
    for (int r = REPLAY_GO; r <= REFUSE_MAY_HAVE_RUN; r++)
        cr_assert_str_neq(guard_replay_refusal_text((enum replay_refusal)r), "unknown");
}

/* The statement in flight: a read may go again after the replay, a write
 * that may have run never; COMMIT in flight is never replayed at all. */
Test(replay_rules, in_flight_only_what_may_be_sent_again)
{
    struct session_guard g = {0};
    struct statement_result r = lost(IN_TRANS, 1000, false);
    struct guard_decision d = guard_after_statement(&g, &read_c, &r, &cfg, 0);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(d.resend_after_replay, "a read that died at once may go again");
    struct replay_facts f = replayable();
    f.in_flight = true;
    f.resend_after_replay = d.resend_after_replay;
    cr_assert_eq(guard_replay_refusal(&g, &f), REPLAY_GO);

    g = (struct session_guard){0};
    d = guard_after_statement(&g, &write_c, &r, &cfg, 0);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert_not(d.resend_after_replay, "a write in flight may have run");
    f.resend_after_replay = d.resend_after_replay;
    cr_assert_eq(guard_replay_refusal(&g, &f), REFUSE_MAY_HAVE_RUN);

    /* Never sent whole: nothing of it ran, even a write. */
    g = (struct session_guard){0};
    struct statement_result sent = lost_while_sending(20);
    sent.status_before = IN_TRANS;
    d = guard_after_statement(&g, &write_c, &sent, &cfg, 0);
    cr_assert(d.resend_after_replay);

    g = (struct session_guard){0};
    d = guard_after_statement(&g, &commit_c, &r, &cfg, 0);
    cr_assert_eq(d.reason, REASON_COMMIT_UNKNOWN, "COMMIT in flight: outcome unknown");
    cr_assert_not(d.resend_after_replay);
}

Test(replay_rules, a_replayed_transaction_is_no_longer_lost)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, IN_TRANS);
    cr_assert_eq(d.action, GUARD_FAIL);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(g.lost_transaction);
    guard_transaction_replayed(&g);
    cr_assert_not(g.lost_transaction);
    d = guard_before_statement(&g, &commit_c, REASON_NONE, IN_TRANS);
    cr_assert_eq(d.action, GUARD_SEND, "its COMMIT goes");
}

/* The old session is killed only when its id cannot name another's. */
Test(replay_rules, old_session_killed_only_on_the_same_server_lifetime)
{
    cr_assert(guard_kill_old_session(41, 57));
    cr_assert_not(guard_kill_old_session(41, 41), "the same id: a restarted server handed it out again");
    cr_assert_not(guard_kill_old_session(41, 3), "a smaller id: the server restarted");
    cr_assert_not(guard_kill_old_session(0, 3));
}
