/* The decision rules, without a server: the same tests cover every
 * adapter, because every adapter asks these functions. */
#include <criterion/criterion.h>

#include "config.h"
#include "session_guard.h"

static struct goneshim_config cfg = {.idle_ns = 60 * NS_PER_S, .retry_reads = true};

static const struct statement_class read_c = {STMT_READ, 0, 0, true};
static const struct statement_class write_c = {STMT_WRITE, 0, 0, false};
static const struct statement_class commit_c = {STMT_COMMIT, 0, 0, false};
static const struct statement_class rollback_c = {STMT_ROLLBACK, 0, 0, true};
static const struct statement_class temp_c = {STMT_WRITE, STATE_TEMP_TABLES, 0, false};
static const struct statement_class lock_c = {STMT_WRITE, STATE_TABLE_LOCKS, 0, false};
static const struct statement_class unlock_c = {STMT_WRITE, 0, STATE_TABLE_LOCKS, false};

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
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_NONE, true);
    cr_assert_eq(d.action, GUARD_SEND);
}

Test(guard, dead_idle_handle_outside_transaction_reconnects)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, false);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    cr_assert_eq(d.reason, REASON_PEER_CLOSED);
}

Test(guard, lost_transaction_fails_everything_until_rollback)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_PEER_CLOSED, true);
    cr_assert_eq(d.action, GUARD_FAIL_GONE);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(g.lost_transaction);
    /* The library cleared IN_TRANS on its own refused reconnect: still lost. */
    const struct statement_class *others[] = {&read_c, &write_c, &commit_c, &temp_c};
    for (int i = 0; i < 4; i++) {
        d = guard_before_statement(&g, others[i], REASON_LIBRARY_DROPPED, false);
        cr_assert_eq(d.action, GUARD_FAIL_GONE);
        cr_assert_eq(d.reason, REASON_LOST_TRANSACTION);
        d = guard_before_statement(&g, others[i], REASON_NONE, false);
        cr_assert_eq(d.action, GUARD_FAIL_GONE, "even if the handle looked alive");
    }
    d = guard_before_statement(&g, &rollback_c, REASON_LIBRARY_DROPPED, false);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
    cr_assert_eq(d.reason, REASON_ROLLBACK_OF_LOST);
    cr_assert(g.lost_transaction, "cleared only once the reconnect succeeded");
    guard_session_renewed(&g, 0);
    cr_assert_not(g.lost_transaction);
    d = guard_before_statement(&g, &write_c, REASON_NONE, false);
    cr_assert_eq(d.action, GUARD_SEND);
}

Test(guard, rollback_on_dead_transaction_reconnects_directly)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_before_statement(&g, &rollback_c, REASON_PEER_CLOSED, true);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND);
}

Test(guard, failure_after_send_inside_transaction_loses_it)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_after_statement(&g, &read_c, OUTCOME_CONNECTION_LOST, true, false, &cfg, 5);
    cr_assert_eq(d.action, GUARD_REPORT, "a read inside a transaction is never retried");
    cr_assert(g.lost_transaction);
    cr_assert_eq(g.last_used_ns, 5);
}

Test(guard, commit_lost_after_send_is_reported_and_loses_transaction)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_after_statement(&g, &commit_c, OUTCOME_CONNECTION_LOST, true, false, &cfg, 0);
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert(g.lost_transaction);
}

Test(guard, rollback_lost_after_send_is_retried_once)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_after_statement(&g, &rollback_c, OUTCOME_CONNECTION_LOST, true, false, &cfg, 0);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY);
    d = guard_after_statement(&g, &rollback_c, OUTCOME_CONNECTION_LOST, true, true, &cfg, 0);
    cr_assert_eq(d.action, GUARD_REPORT);
}

Test(guard, failure_after_send_outside_transaction)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_after_statement(&g, &read_c, OUTCOME_CONNECTION_LOST, false, false, &cfg, 0);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_RETRY, "a read may be sent again");
    d = guard_after_statement(&g, &read_c, OUTCOME_CONNECTION_LOST, false, true, &cfg, 0);
    cr_assert_eq(d.action, GUARD_REPORT, "but only once");
    d = guard_after_statement(&g, &write_c, OUTCOME_CONNECTION_LOST, false, false, &cfg, 0);
    cr_assert_eq(d.action, GUARD_REPORT, "a write never");
    cr_assert_eq(d.reason, REASON_NOT_RETRY_SAFE);
    cr_assert_not(g.lost_transaction);
    struct goneshim_config no_retry = cfg;
    no_retry.retry_reads = false;
    d = guard_after_statement(&g, &read_c, OUTCOME_CONNECTION_LOST, false, false, &no_retry, 0);
    cr_assert_eq(d.action, GUARD_REPORT, "GONESHIM_RETRY_READS=0");
}

Test(guard, server_errors_are_not_connection_failures)
{
    struct session_guard g = {0};
    struct guard_decision d = guard_after_statement(&g, &temp_c, OUTCOME_SERVER_ERROR, true, false, &cfg, 0);
    cr_assert_eq(d.action, GUARD_REPORT);
    cr_assert_not(g.lost_transaction);
    cr_assert_eq(g.unrestorable, 0, "a failed CREATE TEMPORARY TABLE created nothing");
}

Test(guard, unrestorable_state_is_reported_once)
{
    struct session_guard g = {0};
    guard_after_statement(&g, &temp_c, OUTCOME_OK, false, false, &cfg, 0);
    cr_assert_eq(g.unrestorable, STATE_TEMP_TABLES);
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, false);
    cr_assert_eq(d.action, GUARD_FAIL_GONE);
    cr_assert_eq(d.reason, REASON_SESSION_STATE);
    d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, false);
    cr_assert_eq(d.action, GUARD_RECONNECT_AND_SEND, "then the handle works again");

    guard_after_statement(&g, &temp_c, OUTCOME_OK, false, false, &cfg, 0);
    d = guard_after_statement(&g, &read_c, OUTCOME_CONNECTION_LOST, false, false, &cfg, 0);
    cr_assert_eq(d.action, GUARD_REPORT, "a read is not retried when state was lost");
    cr_assert_eq(d.reason, REASON_SESSION_STATE);
    cr_assert_eq(g.unrestorable, 0);
}

Test(guard, released_state_no_longer_blocks)
{
    struct session_guard g = {0};
    guard_after_statement(&g, &lock_c, OUTCOME_OK, false, false, &cfg, 0);
    cr_assert_eq(g.unrestorable, STATE_TABLE_LOCKS);
    guard_after_statement(&g, &unlock_c, OUTCOME_OK, false, false, &cfg, 0);
    cr_assert_eq(g.unrestorable, 0);
}

Test(guard, transaction_outranks_session_state)
{
    struct session_guard g = {.unrestorable = STATE_USER_VARS};
    struct guard_decision d = guard_before_statement(&g, &read_c, REASON_PEER_CLOSED, true);
    cr_assert_eq(d.reason, REASON_IN_TRANSACTION);
    cr_assert(g.lost_transaction);
}

Test(guard, error_codes)
{
    unsigned lost[] = {1053, 1927, 2006, 2013, 2055, 4031};
    for (int i = 0; i < 6; i++)
        cr_assert(guard_is_connection_lost(lost[i]), "%u", lost[i]);
    unsigned not_lost[] = {0, 1045, 1062, 1064, 1146, 1205, 1213, 2014, 2002};
    for (int i = 0; i < 9; i++)
        cr_assert_not(guard_is_connection_lost(not_lost[i]), "%u", not_lost[i]);
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
    guard_after_statement(&g, &write_c, OUTCOME_CONNECTION_LOST, true, false, &cfg, 0);
    cr_assert(g.lost_transaction);
    /* The adapter repaired the connection at once: it looks alive now. */
    struct guard_decision d = guard_before_statement(&g, &write_c, REASON_NONE, false);
    cr_assert_eq(d.action, GUARD_FAIL_GONE, "still lost for anything but ROLLBACK");
    d = guard_before_statement(&g, &rollback_c, REASON_NONE, false);
    cr_assert_eq(d.action, GUARD_SEND);
    guard_after_statement(&g, &rollback_c, OUTCOME_OK, false, false, &cfg, 0);
    cr_assert_not(g.lost_transaction, "the ROLLBACK ended it");
}
