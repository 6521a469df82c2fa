/* session_guard.c - the decision rules (see session_guard.h). */
#include "session_guard.h"

#include "config.h"
#include "protocol.h"

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

enum peek_verdict guard_peek_verdict(enum liveness_check check, enum peer_state peer)
{
    if (peer == PEER_CLOSED)
        return PEEK_DEAD;
    if (peer == PEER_SENT_DATA || check == CHECK_PEEK_AND_PING)
        return PEEK_PING;
    return PEEK_ALIVE;
}

void guard_text_not_kept(struct statement_class *c)
{
    c->retry_safe = false;
    if (c->kind == STMT_SET || c->kind == STMT_USE)
        c->creates |= STATE_UNREPLAYABLE_SETTINGS;
}

enum restore_verdict guard_after_restore(bool restored, bool link_lost)
{
    /* Never hand out a connection whose session differs from what the
     * application set up. */
    if (restored)
        return RESTORE_USE;
    return link_lost ? RESTORE_TRY_AGAIN : RESTORE_GIVE_UP;
}

static struct guard_decision decide(enum guard_action action, enum guard_reason reason)
{
    struct guard_decision d = {action, reason, false, false};
    return d;
}

static bool is_rollback(const struct statement_class *c)
{
    return c->kind == STMT_ROLLBACK || c->kind == STMT_XA_ROLLBACK;
}

/* The link died while the transaction was open: it is lost, and if it was
 * (or may have become) a prepared XA transaction, the server keeps it. */
static void lose_transaction(struct session_guard *g, const struct statement_class *c)
{
    g->lost_transaction = true;
    g->xa_survives = g->xa == XA_PREPARED || c->kind == STMT_XA_PREPARE;
}

/* A transaction is open on the session. The server's status says so, but
 * for one case: after XA PREPARE, Oracle MySQL detaches the prepared
 * transaction from the session and clears SERVER_STATUS_IN_TRANS (MariaDB
 * keeps it set until XA COMMIT or XA ROLLBACK). goneshim's own record of
 * the XA statements covers both. */
static bool transaction_open(const struct session_guard *g, unsigned server_status)
{
    return (server_status & GS_STATUS_IN_TRANS) != 0 || g->xa != XA_NONE;
}

static struct guard_decision before_lost_transaction(const struct session_guard *g, const struct statement_class *c,
                                                     enum guard_reason dead_reason)
{
    enum guard_action go = dead_reason == REASON_NONE ? GUARD_SEND : GUARD_RECONNECT_AND_SEND;
    if (g->xa_survives) {
        /* The prepared XA transaction waits in the server, on no
         * connection: XA COMMIT and XA ROLLBACK reach it from any, and XA
         * RECOVER lists it. Anything else gets the server's own answer for
         * a session with a prepared XA transaction, which is the truth: a
         * plain ROLLBACK or COMMIT "succeeding" on a fresh connection
         * would not be. */
        if (c->kind == STMT_XA_COMMIT || c->kind == STMT_XA_ROLLBACK || c->kind == STMT_READ)
            return decide(go, REASON_XA_PREPARED);
        return decide(GUARD_FAIL, REASON_XA_PREPARED);
    }
    /* Only a ROLLBACK ends a lost transaction. Anything else (COMMIT,
     * the next INSERT, SET autocommit=1, START TRANSACTION: all would
     * run outside the transaction they belong to) keeps failing. A live
     * connection here is a fresh one the driver already made (the old one
     * died with the transaction): the ROLLBACK can go. */
    if (is_rollback(c))
        return decide(go, REASON_ROLLBACK_OF_LOST);
    return decide(GUARD_FAIL, REASON_LOST_TRANSACTION);
}

struct guard_decision guard_before_statement(struct session_guard *g,
                                             const struct statement_class *c,
                                             enum guard_reason dead_reason, unsigned server_status)
{
    if (g->lost_transaction)
        return before_lost_transaction(g, c, dead_reason);
    if (g->insert_id_stale && (c->flags & CLASS_READS_INSERT_ID) && !g->state_loss_accepted) {
        /* An earlier reconnect lost LAST_INSERT_ID() and could not tell
         * its value; this statement would read 0. */
        g->insert_id_stale = false;
        return decide(GUARD_FAIL, REASON_INSERT_ID_LOST);
    }
    if (dead_reason == REASON_NONE)
        return decide(GUARD_SEND, REASON_NONE);

    if (transaction_open(g, server_status)) {
        /* The server rolled the transaction back when the connection went.
         * A ROLLBACK now has nothing left to undo: give a fresh connection
         * (unless a prepared XA transaction lives on: the rule above). */
        if (is_rollback(c) && g->xa != XA_PREPARED)
            return decide(GUARD_RECONNECT_AND_SEND, REASON_ROLLBACK_OF_LOST);
        lose_transaction(g, c);
        return decide(GUARD_FAIL, REASON_IN_TRANSACTION);
    }
    if (g->state_loss_accepted) {
        g->unrestorable = 0;
        return decide(GUARD_RECONNECT_AND_SEND, dead_reason);
    }
    if (g->unrestorable != 0) {
        /* The state died with the connection; say so once. The next
         * statement finds the handle still dead and, with nothing left to
         * lose, reconnects. */
        g->unrestorable = 0;
        return decide(GUARD_FAIL, REASON_SESSION_STATE);
    }
    if (c->flags & CLASS_READS_PRIOR)
        return decide(GUARD_FAIL, REASON_PRIOR_RESULT);
    if ((c->flags & CLASS_READS_INSERT_ID) && g->insert_id_knowledge == INSERT_ID_UNCERTAIN) {
        /* Reported now; the fresh session's value (0) is then the truth
         * of a new session. */
        g->insert_id_knowledge = INSERT_ID_NONE;
        return decide(GUARD_FAIL, REASON_INSERT_ID_LOST);
    }
    return decide(GUARD_RECONNECT_AND_SEND, dead_reason);
}

void guard_after_success(struct session_guard *g, const struct statement_class *c,
                         unsigned long long insert_id, bool insert_id_exact, uint64_t now_ns)
{
    g->last_used_ns = now_ns;
    g->unrestorable = (g->unrestorable & ~c->releases) | c->creates;
    switch (c->kind) {
    case STMT_ROLLBACK:
        g->lost_transaction = false;
        break;
    case STMT_XA_START:
        g->xa = XA_ACTIVE;
        break;
    case STMT_XA_PREPARE:
        g->xa = XA_PREPARED;
        break;
    case STMT_XA_COMMIT:
    case STMT_XA_ROLLBACK:
        g->xa = XA_NONE;
        g->lost_transaction = false;
        g->xa_survives = false;
        break;
    default:
        break;
    }
    if (c->flags & CLASS_SETS_INSERT_ID) {
        if (insert_id != 0) {
            g->insert_id = insert_id;
            g->insert_id_knowledge = insert_id_exact ? INSERT_ID_EXACT : INSERT_ID_UNCERTAIN;
            if (insert_id_exact)
                g->insert_id_stale = false;
        } else if (c->flags & CLASS_CALLS_PROCEDURE) {
            /* What a procedure sets stays set after it, out of sight. */
            g->insert_id_knowledge = INSERT_ID_UNCERTAIN;
        }
    }
}

/* The answer was an error: the statement did not run, but it can still
 * end a lost transaction's wait. */
static void note_server_error(struct session_guard *g, const struct statement_class *c)
{
    /* XA ROLLBACK of an XA transaction lost before PREPARE: the server
     * rolled it back with the connection and now says it does not know it
     * (XAER_NOTA). It is over either way. */
    if (g->lost_transaction && !g->xa_survives && c->kind == STMT_XA_ROLLBACK) {
        g->lost_transaction = false;
        g->xa = XA_NONE;
    }
}

/* With autocommit off, a statement that works on tables starts a
 * transaction (COMMIT, ROLLBACK, SET, USE, BEGIN do not). */
static bool opens_transaction(const struct statement_class *c)
{
    return c->kind == STMT_READ || c->kind == STMT_WRITE || c->kind == STMT_UNKNOWN;
}

/* May a statement whose link died be sent again on a fresh connection? */
static enum guard_reason resend_verdict(const struct statement_class *c, const struct statement_result *r,
                                        const struct goneshim_config *cfg)
{
    if (r->retried)
        return REASON_NOT_RETRY_SAFE;
    if (r->answered)
        return REASON_REFUSED_THEN_CLOSED; /* sent again, it would be refused again */
    if (r->while_sending) {
        /* The server never got the whole statement: nothing of it ran,
         * whatever it is (unless its size was the reason: see below). */
        return REASON_SEND_FAILED;
    }
    /* The server may or may not have run it. Only what is harmless to run
     * twice goes again, once, and only if the link died before the server
     * could have worked on it for long. */
    if (!c->retry_safe || !cfg->retry_reads || (c->flags & CLASS_READS_PRIOR))
        return REASON_NOT_RETRY_SAFE;
    if (r->elapsed_ns >= GUARD_RESEND_WINDOW_NS)
        return REASON_RAN_TOO_LONG;
    return REASON_FAILED_AFTER_SEND;
}

static bool resend_allowed(enum guard_reason verdict)
{
    return verdict == REASON_SEND_FAILED || verdict == REASON_FAILED_AFTER_SEND;
}

/* Send again, on a fresh connection; a long statement only if it fits. */
static struct guard_decision resend(enum guard_reason verdict, const struct statement_result *r)
{
    struct guard_decision d = decide(GUARD_RECONNECT_AND_RETRY, verdict);
    d.only_if_it_fits = r->length > GUARD_RESEND_SIZE_UNCHECKED;
    return d;
}

bool guard_fits_packet(size_t length, const char *max_packet)
{
    if (max_packet == NULL)
        return false;
    unsigned long long max = 0;
    for (const char *p = max_packet; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || max > (~0ULL - 9) / 10)
            return false;
        max = max * 10 + (unsigned)(*p - '0');
    }
    /* The packet is the command byte and the statement. */
    return (unsigned long long)length + 1 <= max;
}

struct guard_decision guard_after_statement(struct session_guard *g,
                                            const struct statement_class *c,
                                            const struct statement_result *r,
                                            const struct goneshim_config *cfg, uint64_t now_ns)
{
    if (r->outcome == OUTCOME_OK) {
        guard_after_success(g, c, r->insert_id, r->insert_id_exact, now_ns);
        return decide(GUARD_REPORT, REASON_NONE);
    }
    g->last_used_ns = now_ns;
    if (r->outcome == OUTCOME_SERVER_ERROR) {
        note_server_error(g, c);
        return decide(GUARD_REPORT, REASON_NONE);
    }

    enum guard_reason verdict = resend_verdict(c, r, cfg);
    if (g->lost_transaction) {
        /* A statement sent on the fresh connection of a lost transaction
         * (its ROLLBACK, an XA COMMIT) lost that one too. */
        if (is_rollback(c) && !g->xa_survives && resend_allowed(verdict))
            return resend(REASON_ROLLBACK_OF_LOST, r);
        if (g->xa_survives && c->kind == STMT_XA_COMMIT)
            return decide(GUARD_REPORT, REASON_COMMIT_UNKNOWN);
        return decide(GUARD_REPORT, REASON_LOST_TRANSACTION);
    }
    if (transaction_open(g, r->status_before)) {
        if (is_rollback(c) && g->xa != XA_PREPARED && !r->retried)
            return decide(GUARD_RECONNECT_AND_RETRY, REASON_ROLLBACK_OF_LOST);
        lose_transaction(g, c);
        /* Under COMMIT (or XA COMMIT) the server may have committed before
         * the link died: nobody can tell, and the application must hear it
         * as the loss of its transaction (never replayed). */
        bool commit = c->kind == STMT_COMMIT || c->kind == STMT_XA_COMMIT;
        struct guard_decision d = decide(GUARD_REPORT, commit ? REASON_COMMIT_UNKNOWN : REASON_IN_TRANSACTION);
        d.resend_after_replay = !commit && resend_allowed(verdict);
        return d;
    }
    if (!(r->status_before & GS_STATUS_AUTOCOMMIT) && opens_transaction(c)) {
        /* Autocommit off: this statement opened the transaction. Nothing
         * ran before it, so it may go again where a statement outside a
         * transaction may; otherwise the transaction it began is lost. */
        if (resend_allowed(verdict))
            return resend(verdict, r);
        lose_transaction(g, c);
        return decide(GUARD_REPORT, REASON_IN_TRANSACTION);
    }
    if (g->unrestorable != 0) {
        g->unrestorable = 0;
        return decide(GUARD_REPORT, REASON_SESSION_STATE);
    }
    if (resend_allowed(verdict))
        return resend(verdict, r);
    return decide(GUARD_REPORT, verdict);
}

enum replay_refusal guard_replay_refusal(const struct session_guard *g, const struct replay_facts *f)
{
    if (!f->enabled)
        return REFUSE_OFF;
    if (g->xa != XA_NONE || g->xa_survives)
        return REFUSE_XA;
    /* A write in flight may have run: the server rolled it back with the
     * transaction if its tables are transactional, but it may also have
     * done what no rollback undoes. It is never sent twice. */
    if (f->in_flight && !f->resend_after_replay)
        return REFUSE_MAY_HAVE_RUN;
    if (!f->recorded)
        return REFUSE_NOT_RECORDED;
    /* The application took the library's reconnect, and with it the loss
     * of session state: goneshim does not build a replay on a session
     * whose state it was told not to watch. */
    if (g->state_loss_accepted)
        return REFUSE_STATE_ACCEPTED;
    /* A fresh session has none of it, and the transaction's statements may
     * depend on it (a temporary table, @x, a named or table lock, a
     * one-shot SET TRANSACTION). */
    if (g->unrestorable != 0)
        return REFUSE_SESSION_STATE;
    /* The application may still be reading it (row by row, or not yet):
     * what it will see cannot be compared. */
    if (f->rows_pending)
        return REFUSE_RESULT_UNREAD;
    return REPLAY_GO;
}

bool guard_kill_old_session(unsigned long long old_id, unsigned long long new_id)
{
    return old_id != 0 && new_id > old_id;
}

void guard_transaction_replayed(struct session_guard *g)
{
    g->lost_transaction = false;
    g->xa_survives = false;
}

const char *guard_replay_refusal_text(enum replay_refusal r)
{
    switch (r) {
    case REPLAY_GO: return "none";
    case REFUSE_OFF: return "replay is off";
    case REFUSE_NOT_RECORDED: return "the transaction was not recorded";
    case REFUSE_XA: return "an XA transaction";
    case REFUSE_SESSION_STATE: return "the session holds state a fresh one would not have";
    case REFUSE_STATE_ACCEPTED: return "the application's own reconnect option is on";
    case REFUSE_RESULT_UNREAD: return "a result set had not been read";
    case REFUSE_MAY_HAVE_RUN: return "the statement in flight may have run";
    }
    return "unknown";
}

void guard_link_replaced(struct session_guard *g)
{
    g->xa = XA_NONE;
    if (g->insert_id_knowledge == INSERT_ID_UNCERTAIN) {
        g->insert_id_stale = true;
        g->insert_id_knowledge = INSERT_ID_NONE;
    }
}

void guard_session_renewed(struct session_guard *g, uint64_t now_ns)
{
    g->lost_transaction = false;
    g->xa_survives = false;
    g->unrestorable = 0;
    g->last_used_ns = now_ns;
}

void guard_session_started(struct session_guard *g, uint64_t now_ns)
{
    guard_session_renewed(g, now_ns);
    g->xa = XA_NONE;
    g->insert_id_knowledge = INSERT_ID_NONE;
    g->insert_id = 0;
    g->insert_id_stale = false;
}

unsigned long long guard_insert_id_to_restore(const struct session_guard *g)
{
    return g->insert_id_knowledge == INSERT_ID_EXACT ? g->insert_id : 0;
}

bool guard_kill_closes_own(bool target_known, unsigned long long target, bool query_only,
                           unsigned long long own_id, bool link_gone)
{
    if (query_only)
        return false; /* KILL QUERY ends a statement, not the connection */
    if (target_known)
        return target == own_id;
    /* KILL USER, or an expression: it closed this connection if the link
     * is gone now. */
    return link_gone;
}

bool guard_is_transient_connect_error(unsigned error_code)
{
    switch (error_code) {
    case GS_ER_CON_COUNT:
    case GS_ER_SERVER_SHUTDOWN:
    case GS_ER_CONNECTION_KILLED:
    case GS_ER_CONNECTION_ERROR:
    case GS_ER_CONN_HOST_ERROR:
    case GS_ER_SERVER_GONE:
    case GS_ER_SERVER_LOST: /* lost during the handshake: server shutting down */
    case GS_ER_SERVER_LOST_EXTENDED:
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
    case REASON_COMMIT_UNKNOWN: return "connection lost under COMMIT: COMMIT outcome unknown";
    case REASON_XA_PREPARED:
        return "a prepared XA transaction outlived its connection; it waits in the server for XA COMMIT or XA "
               "ROLLBACK";
    case REASON_SESSION_STATE: return "connection lost with session state that cannot be restored";
    case REASON_PRIOR_RESULT:
        return "connection lost; the statement reads what the previous statement left (FOUND_ROWS, ROW_COUNT, "
               "warnings), which died with it";
    case REASON_INSERT_ID_LOST: return "connection lost; LAST_INSERT_ID() could not be restored exactly";
    case REASON_NOT_RETRY_SAFE: return "connection died after a statement that may have run; not repeated";
    case REASON_RAN_TOO_LONG:
        return "connection died after the statement had been running (a read timeout, or a KILL of the query); "
               "not repeated";
    case REASON_TOO_BIG_TO_RESEND:
        return "connection died after a statement longer than the server's max_allowed_packet, which refused it; "
               "not repeated";
    case REASON_REFUSED_THEN_CLOSED:
        return "the server answered the statement with an error, then closed the connection; not repeated";
    case REASON_ROLLBACK_OF_LOST: return "ROLLBACK of a lost transaction";
    }
    return "unknown";
}
