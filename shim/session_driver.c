/* session_driver.c - the decisions of session_guard, carried out (see
 * session_driver.h). Backend-neutral: everything about a particular client
 * library is behind struct connection_ops. */
#include "session_driver.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "event_log.h"
#include "set_statement.h"
#include "shim_runtime.h"
#include "socket_probe.h"

const struct statement_class class_commit = {STMT_COMMIT, 0, 0, false};
const struct statement_class class_rollback = {STMT_ROLLBACK, 0, 0, true};
const struct statement_class class_session_setting = {STMT_SET, 0, 0, true};
const struct statement_class class_use = {STMT_USE, 0, 0, true};
const struct statement_class class_ping = {STMT_READ, 0, 0, true};
/* change_user and reset_connection end the session, and with it any
 * transaction, like a ROLLBACK: they are allowed on a lost transaction. */
const struct statement_class class_session_reset = {STMT_ROLLBACK, 0, 0, true};

static __thread uint32_t jitter_state __attribute__((tls_model("initial-exec")));

void driver_session_start(struct managed_session *s, const struct connection_ops *ops, void *conn)
{
    s->ops = ops;
    s->fd = ops->socket_fd(conn);
    session_replay_clear(&s->replay);
    s->pending = false;
    s->guard.unrestorable = 0;
    s->guard.lost_transaction = false;
    guard_session_renewed(&s->guard, clock_coarse_ns());
}

void driver_session_end(struct managed_session *s)
{
    session_replay_clear(&s->replay);
}

void driver_session_reset(struct managed_session *s)
{
    session_replay_clear(&s->replay);
    guard_session_renewed(&s->guard, clock_coarse_ns());
}

bool driver_has_pending(const struct managed_session *s)
{
    return s->pending;
}

enum guard_reason driver_probe(struct managed_session *s, void *conn, bool repeatable)
{
    const struct connection_ops *ops = s->ops;
    if (ops->link_dropped(conn))
        return REASON_LIBRARY_DROPPED;
    enum liveness_check check = guard_liveness_check(&s->guard, &shim_config, clock_coarse_ns(),
                                                     ops->drained(conn),
                                                     repeatable && !ops->must_probe_before_send);
    if (check == CHECK_NONE)
        return REASON_NONE;

    enum peer_state peer = socket_peer_state(s->fd);
    if (peer == PEER_CLOSED)
        return REASON_PEER_CLOSED;
    /* Unsolicited bytes are a farewell error packet, or on TLS possibly a
     * record the TLS library has not consumed yet: a ping tells which. */
    if (peer == PEER_SENT_DATA || check == CHECK_PEEK_AND_PING) {
        bool alive = SHIM_REAL_CALL(ops->ping(conn, shim_config.ping_timeout_ns));
        return alive ? REASON_NONE : REASON_PING_FAILED;
    }
    return REASON_NONE;
}

static uint32_t next_jitter(void)
{
    uint32_t x = jitter_state;
    if (x == 0)
        x = (uint32_t)clock_precise_ns() ^ (uint32_t)(uintptr_t)&x ^ (uint32_t)getpid();
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    jitter_state = x ? x : 1;
    return x;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Session settings the library's reconnect does not carry over. */
static bool restore_session(struct managed_session *s, void *conn, bool autocommit)
{
    const struct connection_ops *ops = s->ops;
    shim_depth++;
    bool ok = ops->autocommit(conn) == autocommit || ops->set_autocommit(conn, autocommit);
    for (struct replay_entry *e = s->replay.head; ok && e != NULL; e = e->next) {
        if (!ops->run_sql(conn, e->sql, e->sql_len)) {
            struct error_snapshot err;
            ops->save_error(conn, &err);
            driver_log(conn, "replaying \"%.200s\" failed: %u %s", e->sql, err.code, err.message);
            ok = false;
        }
    }
    if (ok && ops->restore_extra != NULL)
        ok = ops->restore_extra(conn, s);
    shim_depth--;
    return ok;
}

/* Rebuilds the connection inside the application's handle, then restores
 * autocommit and the replayed settings. Attempts back off with jitter
 * until `budget_ns` is spent (a budget of 0: one attempt). On failure the
 * handle carries the connect error, as a failed connect would. */
static bool reconnect_in_place(struct managed_session *s, void *conn, enum guard_reason why,
                               uint64_t budget_ns, bool renew_session)
{
    const struct connection_ops *ops = s->ops;
    uint64_t started = clock_precise_ns();
    uint64_t deadline = started + budget_ns;
    uint64_t idle_ns = clock_coarse_ns() - s->guard.last_used_ns;
    bool autocommit = ops->autocommit(conn);
    unsigned long long old_thread = ops->thread_id(conn);
    unsigned attempt = 0;

    for (;; attempt++) {
        uint64_t now = clock_precise_ns();
        uint64_t remaining_s = now < deadline ? (deadline - now + NS_PER_S - 1) / NS_PER_S : 1;
        if (SHIM_REAL_CALL(ops->reconnect_once(conn, s, (unsigned)(remaining_s ? remaining_s : 1))))
            break;
        struct error_snapshot err;
        ops->save_error(conn, &err);
        now = clock_precise_ns();
        if (!guard_is_transient_connect_error(err.code) || now >= deadline) {
            driver_log(conn, "reconnect failed (%s): error %u %s, after %u attempts in %.1f ms",
                       guard_reason_text(why), err.code, err.message, attempt + 1,
                       (double)(now - started) / 1e6);
            return false;
        }
        uint64_t pause = guard_backoff_ns(attempt, next_jitter());
        sleep_ns(pause < deadline - now ? pause : deadline - now);
    }

    s->generation++; /* server-side prepared statements are gone */
    s->fd = ops->socket_fd(conn);
    if (!restore_session(s, conn, autocommit)) {
        /* Never hand out a connection whose session differs from what the
         * application set up: close it, so the next statement tries again
         * (and fails the same way if the setting is now refused). */
        ops->drop_link(conn);
        return false;
    }
    if (renew_session)
        guard_session_renewed(&s->guard, clock_coarse_ns());
    driver_log(conn,
               "reconnected (%s), idle %.1f s, connection %llu -> %llu, %u attempt(s), "
               "%u setting(s) replayed, took %.1f ms",
               guard_reason_text(why), (double)idle_ns / 1e9, old_thread, ops->thread_id(conn),
               attempt + 1, s->replay.count, (double)(clock_precise_ns() - started) / 1e6);
    return true;
}

/* The statement failed because the connection died and the application
 * gets that error. The handle must still be healthy for its next call, and
 * some consumers (Ruby's mysql2) never call the library again once it has
 * dropped the connection: so reconnect now, with one attempt (a server
 * that is down must not delay the error), and hand back the original
 * error. A lost transaction stays lost: its statements keep failing until
 * ROLLBACK, which then runs on this fresh connection. */
static void repair_after_failure(struct managed_session *s, void *conn, enum guard_reason why)
{
    struct error_snapshot err;
    s->ops->save_error(conn, &err);
    reconnect_in_place(s, conn, why, 0, false);
    s->ops->restore_error(conn, &err);
}

static void log_decision(void *conn, const struct managed_session *s, const struct guard_decision *d)
{
    if (d->reason != REASON_NONE && event_log_enabled()) {
        struct error_snapshot err;
        s->ops->save_error(conn, &err);
        driver_log(conn, "statement fails with error %u: %s", err.code, guard_reason_text(d->reason));
    }
}

/* A failed statement of a lost transaction: the application must still
 * see the transaction it has to roll back. */
static void after_failure(struct managed_session *s, void *conn)
{
    if (s->guard.lost_transaction)
        s->ops->show_transaction(conn);
}

/* Before sending: check liveness and apply the rules. Returns 0 to go on,
 * 1 when the statement must fail (the error is set on the handle).
 * `repeatable`: the caller keeps what it needs to send it again. */
static int statement_begin(struct managed_session *s, void *conn, const struct statement_class *c,
                           enum guard_reason known_dead, bool repeatable)
{
    enum guard_reason dead =
        known_dead != REASON_NONE ? known_dead : driver_probe(s, conn, repeatable && c->retry_safe);
    struct guard_decision d = guard_before_statement(&s->guard, c, dead, s->ops->in_transaction(conn));
    switch (d.action) {
    case GUARD_FAIL_GONE:
        s->ops->set_gone_error(conn);
        log_decision(conn, s, &d);
        after_failure(s, conn);
        return 1;
    case GUARD_RECONNECT_AND_SEND:
        return reconnect_in_place(s, conn, d.reason, shim_config.reconnect_timeout_ns, true) ? 0 : 1;
    default:
        return 0;
    }
}

static enum statement_outcome outcome_of(struct managed_session *s, void *conn, int rc)
{
    if (rc == 0)
        return OUTCOME_OK;
    struct error_snapshot err;
    s->ops->save_error(conn, &err);
    return guard_is_connection_lost(err.code) ? OUTCOME_CONNECTION_LOST : OUTCOME_SERVER_ERROR;
}

/* After the answer (or its absence). Returns true when the statement must
 * be sent again on the fresh connection that was just made. */
static bool statement_end(struct managed_session *s, void *conn, const struct statement_class *c, int rc,
                          bool was_in_transaction, bool retried)
{
    struct guard_decision d = guard_after_statement(&s->guard, c, outcome_of(s, conn, rc), was_in_transaction,
                                                    retried, &shim_config, clock_coarse_ns());
    if (d.action != GUARD_RECONNECT_AND_RETRY) {
        if (rc != 0) {
            log_decision(conn, s, &d);
            if (s->ops->link_dropped(conn))
                repair_after_failure(s, conn, d.reason);
            after_failure(s, conn);
        }
        return false;
    }
    struct error_snapshot err;
    s->ops->save_error(conn, &err);
    if (!reconnect_in_place(s, conn, d.reason, shim_config.reconnect_timeout_ns, true))
        return false;
    driver_log(conn, "sending again a statement that is safe to repeat (it had failed with %u)", err.code);
    return true;
}

int driver_run(struct managed_session *s, void *conn, const struct statement_class *c,
               real_statement_call call, const void *arg)
{
    if (statement_begin(s, conn, c, REASON_NONE, true) != 0)
        return 1;
    for (bool retried = false;; retried = true) {
        bool was_in_transaction = s->ops->in_transaction(conn);
        int rc = SHIM_REAL_CALL(call(conn, arg));
        if (!statement_end(s, conn, c, rc, was_in_transaction, retried))
            return rc;
    }
}

/* A successful SET changes what a reconnect must replay. */
static void note_set(struct managed_session *s, void *conn, const char *sql, size_t len)
{
    struct set_parse_result parsed;
    parse_set_statement(sql, len, &parsed);
    if (parsed.status != SET_PARSE_OK)
        return; /* the classifier already marked the session unrestorable */
    for (unsigned i = 0; i < parsed.n; i++) {
        if (!session_replay_record(&s->replay, &parsed.assignments[i])) {
            driver_log(conn, "%s", "too many session settings to replay; a lost connection will be reported");
            s->guard.unrestorable |= STATE_USER_VARS;
            return;
        }
    }
}

int driver_query(struct managed_session *s, void *conn, const char *sql, size_t len,
                 real_statement_call call, const void *arg)
{
    struct statement_class c;
    classify_cached(&s->classes, sql, len, &c);
    int rc = driver_run(s, conn, &c, call, arg);
    if (rc == 0 && c.kind == STMT_SET)
        note_set(s, conn, sql, len);
    return rc;
}

int driver_send(struct managed_session *s, void *conn, const char *sql, size_t len)
{
    struct statement_class c;
    classify_cached(&s->classes, sql, len, &c);
    s->pending = false;
    if (statement_begin(s, conn, &c, REASON_NONE, len <= PENDING_SQL_MAX) != 0)
        return 1;
    for (bool resent = false;; resent = true) {
        s->pending_in_transaction = s->ops->in_transaction(conn);
        if (SHIM_REAL_CALL(s->ops->send_sql(conn, sql, len))) {
            s->pending = true;
            s->pending_class = c;
            s->pending_len = len <= PENDING_SQL_MAX ? len : 0;
            if (s->pending_len != 0) {
                memcpy(s->pending_sql, sql, len);
            } else {
                s->pending_class.retry_safe = false;
                /* Not kept, so not recordable: a lost session is reported. */
                if (c.kind == STMT_SET)
                    s->pending_class.creates |= STATE_UNREPLAYABLE_SETTINGS;
            }
            return 0;
        }
        /* A failed send means the server never got the whole statement:
         * like a connection found dead before sending, whatever it is. */
        if (resent || outcome_of(s, conn, 1) != OUTCOME_CONNECTION_LOST ||
            statement_begin(s, conn, &c, REASON_LIBRARY_DROPPED, false) != 0) {
            after_failure(s, conn);
            return 1;
        }
    }
}

int driver_read(struct managed_session *s, void *conn)
{
    s->pending = false;
    for (bool retried = false;; retried = true) {
        int rc = SHIM_REAL_CALL(s->ops->read_result(conn)) ? 0 : 1;
        if (!statement_end(s, conn, &s->pending_class, rc, s->pending_in_transaction, retried)) {
            if (rc == 0 && s->pending_class.kind == STMT_SET && s->pending_len != 0)
                note_set(s, conn, s->pending_sql, s->pending_len);
            return rc;
        }
        s->pending_in_transaction = s->ops->in_transaction(conn);
        if (!SHIM_REAL_CALL(s->ops->send_sql(conn, s->pending_sql, s->pending_len)))
            return 1;
    }
}
