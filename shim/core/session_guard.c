/* session_guard.c - the decision rules (see session_guard.h). */
#include "session_guard.h"

#include "config.h"

enum liveness_check guard_liveness_check(const struct session_guard *g,
                                         const struct goneshim_config *cfg, uint64_t now_ns,
                                         bool drained, bool repeatable)
{
    /* With results still pending the socket legitimately holds bytes and
     * the library may have read ahead: a peek would lie. The statement will
     * fail with "commands out of sync" on its own. */
    if (!drained)
        return CHECK_NONE;
    uint64_t idle_ns = now_ns - g->last_used_ns;
    if (cfg->idle_ns != 0 && idle_ns >= cfg->idle_ns)
        return CHECK_PEEK_AND_PING;
    /* A busy handle running a statement that is sent again after a
     * failure after send: the peek would only find out earlier what the
     * failure finds out anyway, with the same result (outside a
     * transaction: reconnected and sent again; inside: the transaction is
     * lost either way; with session state: reported once either way). Its
     * syscall is a quarter of a microsecond, over 1% of a local `SELECT 1`
     * round trip, paid by every statement of a busy worker for a death that
     * almost never falls in the gap between two of them. Everything else
     * (writes, statements too long to keep, every statement after an idle
     * moment) is always peeked at. */
    if (repeatable && cfg->retry_reads && idle_ns < GUARD_BUSY_NS)
        return CHECK_NONE;
    return CHECK_PEEK;
}

static struct guard_decision decide(enum guard_action action, enum guard_reason reason)
{
    struct guard_decision d = {action, reason};
    return d;
}

struct guard_decision guard_before_statement(struct session_guard *g,
                                             const struct statement_class *c,
                                             enum guard_reason dead_reason, bool in_transaction)
{
    if (g->lost_transaction) {
        /* Only a ROLLBACK ends a lost transaction. Anything else (COMMIT,
         * the next INSERT, SET autocommit=1, START TRANSACTION: all would
         * run outside the transaction they belong to) keeps failing. */
        if (c->kind != STMT_ROLLBACK)
            return decide(GUARD_FAIL_GONE, REASON_LOST_TRANSACTION);
        /* A live connection here is a fresh one the adapter already made
         * (the old one died with the transaction): the ROLLBACK can go. */
        return decide(dead_reason == REASON_NONE ? GUARD_SEND : GUARD_RECONNECT_AND_SEND,
                      REASON_ROLLBACK_OF_LOST);
    }
    if (dead_reason == REASON_NONE)
        return decide(GUARD_SEND, REASON_NONE);

    if (in_transaction) {
        /* The server rolled the transaction back when the connection went.
         * A ROLLBACK now has nothing left to undo: give a fresh connection. */
        if (c->kind == STMT_ROLLBACK)
            return decide(GUARD_RECONNECT_AND_SEND, REASON_ROLLBACK_OF_LOST);
        g->lost_transaction = true;
        return decide(GUARD_FAIL_GONE, REASON_IN_TRANSACTION);
    }
    if (g->unrestorable != 0) {
        /* The state died with the connection; say so once. The next
         * statement finds the handle still dead and, with nothing left to
         * lose, reconnects. */
        g->unrestorable = 0;
        return decide(GUARD_FAIL_GONE, REASON_SESSION_STATE);
    }
    return decide(GUARD_RECONNECT_AND_SEND, dead_reason);
}

struct guard_decision guard_after_statement(struct session_guard *g,
                                            const struct statement_class *c,
                                            enum statement_outcome outcome,
                                            bool was_in_transaction, bool retried,
                                            const struct goneshim_config *cfg, uint64_t now_ns)
{
    g->last_used_ns = now_ns;

    if (outcome == OUTCOME_OK) {
        g->unrestorable = (g->unrestorable & ~c->releases) | c->creates;
        if (c->kind == STMT_ROLLBACK)
            g->lost_transaction = false;
        return decide(GUARD_REPORT, REASON_NONE);
    }
    if (outcome == OUTCOME_SERVER_ERROR)
        return decide(GUARD_REPORT, REASON_NONE);

    if (was_in_transaction) {
        if (c->kind == STMT_ROLLBACK && !retried)
            return decide(GUARD_RECONNECT_AND_RETRY, REASON_ROLLBACK_OF_LOST);
        g->lost_transaction = true;
        return decide(GUARD_REPORT, REASON_IN_TRANSACTION);
    }
    if (g->unrestorable != 0) {
        g->unrestorable = 0;
        return decide(GUARD_REPORT, REASON_SESSION_STATE);
    }
    /* The server may or may not have run it. Only what is harmless to run
     * twice goes again, and only once. */
    if (c->retry_safe && cfg->retry_reads && !retried)
        return decide(GUARD_RECONNECT_AND_RETRY, REASON_FAILED_AFTER_SEND);
    return decide(GUARD_REPORT, REASON_NOT_RETRY_SAFE);
}

void guard_session_renewed(struct session_guard *g, uint64_t now_ns)
{
    g->lost_transaction = false;
    g->unrestorable = 0;
    g->last_used_ns = now_ns;
}

bool guard_is_connection_lost(unsigned error_code)
{
    switch (error_code) {
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
    case 2006: /* CR_SERVER_GONE_ERROR */
    case 2013: /* CR_SERVER_LOST */
    case 2055: /* CR_SERVER_LOST_EXTENDED */
    case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24+) */
        return true;
    default:
        return false;
    }
}

bool guard_is_transient_connect_error(unsigned error_code)
{
    switch (error_code) {
    case 1040: /* ER_CON_COUNT_ERROR: too many connections */
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1927: /* ER_CONNECTION_KILLED */
    case 2002: /* CR_CONNECTION_ERROR: socket refused or missing */
    case 2003: /* CR_CONN_HOST_ERROR: TCP refused or timed out */
    case 2006:
    case 2013: /* lost during the handshake: server shutting down */
    case 2055:
        return true;
    default:
        return false;
    }
}

uint64_t guard_backoff_ns(unsigned attempt, uint32_t random)
{
    uint64_t cap = 2 * NS_PER_S;
    uint64_t base = 50 * NS_PER_MS;
    while (attempt-- > 0 && base < cap)
        base *= 2;
    if (base > cap)
        base = cap;
    /* "Equal jitter": never less than half the step, so attempts cannot
     * bunch up at zero, yet spread so that a thousand workers cut off by
     * one restart do not reconnect in lockstep. */
    return base / 2 + (uint64_t)random % (base / 2 + 1);
}

const char *guard_reason_text(enum guard_reason reason)
{
    switch (reason) {
    case REASON_NONE: return "none";
    case REASON_PEER_CLOSED: return "server closed the idle connection";
    case REASON_PING_FAILED: return "idle ping got no answer";
    case REASON_LIBRARY_DROPPED: return "client library had dropped the connection";
    case REASON_FAILED_AFTER_SEND: return "connection died after the statement was sent";
    case REASON_SEND_FAILED: return "connection found dead as the statement was sent";
    case REASON_IN_TRANSACTION: return "connection lost inside a transaction";
    case REASON_LOST_TRANSACTION: return "transaction was lost; waiting for ROLLBACK";
    case REASON_SESSION_STATE: return "connection lost with session state that cannot be restored";
    case REASON_NOT_RETRY_SAFE: return "connection died after a statement that may have run; not repeated";
    case REASON_ROLLBACK_OF_LOST: return "ROLLBACK of a lost transaction";
    }
    return "unknown";
}
