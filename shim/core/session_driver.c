/* session_driver.c - the decisions of session_guard, carried out, the same
 * way for every client library (see driver.h): the lifecycle of connection
 * records, the liveness probe, reconnecting with back-off, restoring the
 * session, the one retry, the repair after a lost connection, recording
 * SET statements. Everything about a particular library is behind struct
 * connection_ops. */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connection.h"
#include "driver_env.h"
#include "event_log.h"
#include "protocol.h"
#include "registry.h"
#include "session_driver_internal.h"
#include "set_statement.h"
#include "shim_runtime.h"
#include "socket_probe.h"

/* Classes of the commands that are not SQL text, the same for every
 * library. */
static const struct statement_class class_commit = {STMT_COMMIT, 0, 0, false};
static const struct statement_class class_rollback = {STMT_ROLLBACK, 0, 0, true};
static const struct statement_class class_session_setting = {STMT_SET, 0, 0, true};
static const struct statement_class class_use = {STMT_USE, 0, 0, true};
/* A ping, and a prepare: they run nothing, so they are safe to send
 * again; and like everything they are refused inside a lost transaction. */
const struct statement_class class_harmless = {STMT_READ, 0, 0, true};
/* change_user and reset_connection end the session, and with it any
 * transaction, like a ROLLBACK: they are allowed on a lost transaction. */
static const struct statement_class class_session_reset = {STMT_ROLLBACK, 0, 0, true};

static struct registry connections;

void driver_log(const void *handle, const char *fmt, ...)
{
    if (!event_log_enabled())
        return;
    char line[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    event_log("handle %p: %s", handle, line);
}

/* ---- lifecycle ---- */

static void session_start(struct gs_connection *c, void *conn)
{
    c->fd = c->ops->socket_fd(conn);
    session_replay_clear(&c->replay);
    c->pending = false;
    guard_session_renewed(&c->guard, driver_env->coarse_ns());
}

struct gs_connection *driver_attach(void *conn, const struct connection_ops *ops)
{
    if (shim_in_real_call() || conn == NULL || !shim_active())
        return NULL;
    struct gs_connection *c = registry_lookup(&connections, conn);
    if (c == NULL) {
        c = calloc(1, sizeof *c + ops->backend_size);
        if (c == NULL || !registry_insert(&connections, conn, c)) {
            free(c);
            driver_log(conn, "out of memory; this connection is not protected");
            return NULL;
        }
    }
    c->ops = ops;
    session_start(c, conn);
    return c;
}

struct gs_connection *driver_find(void *conn)
{
    if (shim_in_real_call() || conn == NULL || !shim_active())
        return NULL;
    return registry_lookup(&connections, conn);
}

void driver_detach(void *conn)
{
    /* Inside a real call this is the library closing the old connection of
     * a handle it reconnects in place: its record must stay. */
    if (shim_in_real_call() || conn == NULL || !shim_is_initialized())
        return;
    struct gs_connection *c = registry_remove(&connections, conn);
    if (c == NULL)
        return;
    if (c->ops->release != NULL)
        c->ops->release(c->backend);
    session_replay_clear(&c->replay);
    free(c);
}

void *driver_backend(struct gs_connection *c)
{
    return c->backend;
}

bool driver_has_pending(const struct gs_connection *c)
{
    return c->pending;
}

/* ---- liveness ---- */

static bool in_transaction(const struct gs_connection *c, void *conn)
{
    return (c->ops->server_status(conn) & GS_STATUS_IN_TRANS) != 0;
}

static bool autocommit_on(const struct gs_connection *c, void *conn)
{
    return (c->ops->server_status(conn) & GS_STATUS_AUTOCOMMIT) != 0;
}

/* Why a handle is known dead right now, or REASON_NONE. `repeatable`:
 * the statement about to be sent would be sent again after a failure
 * after send (see guard_liveness_check). */
static enum guard_reason probe(struct gs_connection *c, void *conn, bool repeatable)
{
    const struct connection_ops *ops = c->ops;
    const struct goneshim_config *cfg = driver_env->config;
    if (ops->link_dropped(conn))
        return REASON_LIBRARY_DROPPED;
    enum liveness_check check = guard_liveness_check(&c->guard, cfg, driver_env->coarse_ns(), ops->drained(conn),
                                                     repeatable && !ops->must_probe_before_send);
    if (check == CHECK_NONE)
        return REASON_NONE;

    enum peer_state peer = socket_peer_state(c->fd);
    if (peer == PEER_CLOSED)
        return REASON_PEER_CLOSED;
    /* Unsolicited bytes are a farewell error packet, or on TLS possibly a
     * record the TLS library has not consumed yet: a ping tells which. */
    if (peer == PEER_SENT_DATA || check == CHECK_PEEK_AND_PING) {
        bool alive = SHIM_REAL_CALL(ops->ping(conn, cfg->ping_timeout_ns));
        return alive ? REASON_NONE : REASON_PING_FAILED;
    }
    return REASON_NONE;
}

/* ---- reconnecting ---- */

/* Session settings the library's reconnect does not carry over. */
static bool restore_session(struct gs_connection *c, void *conn, bool autocommit)
{
    const struct connection_ops *ops = c->ops;
    shim_depth++;
    bool ok = autocommit_on(c, conn) == autocommit || ops->set_autocommit(conn, autocommit);
    for (struct replay_entry *e = c->replay.head; ok && e != NULL; e = e->next) {
        if (!ops->run_sql(conn, e->sql, e->sql_len)) {
            struct error_snapshot err;
            ops->save_error(conn, &err);
            driver_log(conn, "replaying \"%.200s\" failed: %u %s", e->sql, err.code, err.message);
            ok = false;
        }
    }
    if (ok && ops->restore_extra != NULL)
        ok = ops->restore_extra(conn, c->backend);
    shim_depth--;
    return ok;
}

/* Rebuilds the connection inside the application's handle, then restores
 * autocommit and the replayed settings. Attempts back off with jitter
 * until `budget_ns` is spent (a budget of 0: one attempt). On failure the
 * handle carries the connect error, as a failed connect would. */
static bool reconnect_in_place(struct gs_connection *c, void *conn, enum guard_reason why, uint64_t budget_ns,
                               bool renew_session)
{
    const struct connection_ops *ops = c->ops;
    const struct driver_env *env = driver_env;
    uint64_t started = env->precise_ns();
    uint64_t deadline = started + budget_ns;
    uint64_t idle_ns = env->coarse_ns() - c->guard.last_used_ns;
    bool autocommit = autocommit_on(c, conn);
    unsigned long long old_thread = ops->thread_id(conn);
    unsigned attempt = 0;

    for (;; attempt++) {
        uint64_t now = env->precise_ns();
        uint64_t remaining_s = now < deadline ? (deadline - now + NS_PER_S - 1) / NS_PER_S : 1;
        struct reconnect_request request = {(unsigned)(remaining_s ? remaining_s : 1)};
        if (SHIM_REAL_CALL(ops->reconnect_once(conn, c->backend, &request)))
            break;
        struct error_snapshot err;
        ops->save_error(conn, &err);
        now = env->precise_ns();
        if (!guard_is_transient_connect_error(err.code) || now >= deadline) {
            driver_log(conn, "reconnect failed (%s): error %u %s, after %u attempts in %.1f ms",
                       guard_reason_text(why), err.code, err.message, attempt + 1,
                       (double)(now - started) / 1e6);
            return false;
        }
        uint64_t pause = guard_backoff_ns(attempt, env->random());
        env->sleep_ns(pause < deadline - now ? pause : deadline - now);
    }

    c->generation++; /* server-side prepared statements are gone */
    c->fd = ops->socket_fd(conn);
    if (!restore_session(c, conn, autocommit)) {
        /* Never hand out a connection whose session differs from what the
         * application set up: close it, so the next statement tries again
         * (and fails the same way if the setting is now refused). */
        ops->drop_link(conn);
        return false;
    }
    if (renew_session)
        guard_session_renewed(&c->guard, env->coarse_ns());
    driver_log(conn,
               "reconnected (%s), idle %.1f s, connection %llu -> %llu, %u attempt(s), "
               "%u setting(s) replayed, took %.1f ms",
               guard_reason_text(why), (double)idle_ns / 1e9, old_thread, ops->thread_id(conn), attempt + 1,
               c->replay.count, (double)(env->precise_ns() - started) / 1e6);
    return true;
}

/* The statement failed because the connection died and the application
 * gets that error. The handle must still be healthy for its next call, and
 * some consumers (Ruby's mysql2) never call the library again once it has
 * dropped the connection: so reconnect now, with one attempt (a server
 * that is down must not delay the error), and hand back the original
 * error. A lost transaction stays lost: its statements keep failing until
 * ROLLBACK, which then runs on this fresh connection. */
static void repair_after_failure(struct gs_connection *c, void *conn, enum guard_reason why)
{
    struct error_snapshot err;
    c->ops->save_error(conn, &err);
    reconnect_in_place(c, conn, why, 0, false);
    c->ops->set_error(conn, &err);
}

/* ---- one statement ---- */

static void set_gone_error(struct gs_connection *c, void *conn)
{
    static const struct error_snapshot gone = {GS_ER_SERVER_GONE, GS_SQLSTATE_UNKNOWN, "Server has gone away"};
    c->ops->set_error(conn, &gone);
}

static void log_decision(struct gs_connection *c, void *conn, const struct guard_decision *d)
{
    if (d->reason != REASON_NONE && event_log_enabled()) {
        struct error_snapshot err;
        c->ops->save_error(conn, &err);
        driver_log(conn, "statement fails with error %u: %s", err.code, guard_reason_text(d->reason));
    }
}

/* A failed statement of a lost transaction: the application must still
 * see the transaction it has to roll back. */
static void after_failure(struct gs_connection *c, void *conn)
{
    if (c->guard.lost_transaction)
        c->ops->show_transaction(conn);
}

/* Before sending: check liveness and apply the rules. False when the
 * statement must fail (the error is set on the handle). `repeatable`: the
 * caller keeps what it needs to send it again. */
static bool statement_begin(struct gs_connection *c, void *conn, const struct statement_class *cls,
                            enum guard_reason known_dead, bool repeatable)
{
    enum guard_reason dead =
        known_dead != REASON_NONE ? known_dead : probe(c, conn, repeatable && cls->retry_safe);
    struct guard_decision d = guard_before_statement(&c->guard, cls, dead, in_transaction(c, conn));
    switch (d.action) {
    case GUARD_FAIL_GONE:
        set_gone_error(c, conn);
        log_decision(c, conn, &d);
        after_failure(c, conn);
        return false;
    case GUARD_RECONNECT_AND_SEND:
        return reconnect_in_place(c, conn, d.reason, driver_env->config->reconnect_timeout_ns, true);
    default:
        return true;
    }
}

static enum statement_outcome outcome_of(struct gs_connection *c, void *conn, bool ok)
{
    if (ok)
        return OUTCOME_OK;
    struct error_snapshot err;
    c->ops->save_error(conn, &err);
    return guard_is_connection_lost(err.code) ? OUTCOME_CONNECTION_LOST : OUTCOME_SERVER_ERROR;
}

/* After the answer (or its absence). True when the statement must be sent
 * again on the fresh connection that was just made. */
static bool statement_end(struct gs_connection *c, void *conn, const struct statement_class *cls, bool ok,
                          bool was_in_transaction, bool retried)
{
    const struct driver_env *env = driver_env;
    struct guard_decision d = guard_after_statement(&c->guard, cls, outcome_of(c, conn, ok), was_in_transaction,
                                                    retried, env->config, env->coarse_ns());
    if (d.action != GUARD_RECONNECT_AND_RETRY) {
        if (!ok) {
            log_decision(c, conn, &d);
            if (c->ops->link_dropped(conn))
                repair_after_failure(c, conn, d.reason);
            after_failure(c, conn);
        }
        return false;
    }
    struct error_snapshot err;
    c->ops->save_error(conn, &err);
    if (!reconnect_in_place(c, conn, d.reason, env->config->reconnect_timeout_ns, true))
        return false;
    driver_log(conn, "sending again a statement that is safe to repeat (it had failed with %u)", err.code);
    return true;
}

bool driver_run(struct gs_connection *c, void *conn, const struct statement_class *cls, real_call real, void *arg)
{
    if (!statement_begin(c, conn, cls, REASON_NONE, true))
        return false;
    for (bool retried = false;; retried = true) {
        bool was_in_transaction = in_transaction(c, conn);
        bool ok = SHIM_REAL_CALL(real(conn, arg));
        if (!statement_end(c, conn, cls, ok, was_in_transaction, retried))
            return ok;
    }
}

/* A successful SET changes what a reconnect must replay. */
static void note_set(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    struct set_parse_result parsed;
    parse_set_statement(sql, len, &parsed);
    if (parsed.status != SET_PARSE_OK)
        return; /* the classifier already marked the session unrestorable */
    for (unsigned i = 0; i < parsed.n; i++) {
        if (!session_replay_record(&c->replay, &parsed.assignments[i])) {
            driver_log(conn, "too many session settings to replay; a lost connection will be reported");
            c->guard.unrestorable |= STATE_UNREPLAYABLE_SETTINGS;
            return;
        }
    }
}

/* What a statement that succeeded changed in the session. */
static void note_success(struct gs_connection *c, void *conn, const struct statement_class *cls, const char *sql,
                         size_t len)
{
    if (cls->kind == STMT_SET) {
        note_set(c, conn, sql, len);
    } else if (cls->kind == STMT_USE && c->ops->note_database != NULL) {
        char db[256];
        size_t n;
        if (parse_use_statement(sql, len, db, sizeof db, &n))
            c->ops->note_database(c->backend, db, n);
    }
}

/* Sends a statement of `len` bytes; the caller keeps `sql` valid until
 * it is answered. True when sent (c->pending set). */
static bool send_statement(struct gs_connection *c, void *conn, const struct statement_class *cls, const char *sql,
                           size_t len, bool repeatable)
{
    c->pending = false;
    if (!statement_begin(c, conn, cls, REASON_NONE, repeatable))
        return false;
    for (bool resent = false;; resent = true) {
        c->pending_in_transaction = in_transaction(c, conn);
        if (SHIM_REAL_CALL(c->ops->send_sql(conn, sql, len))) {
            c->pending = true;
            c->pending_class = *cls;
            return true;
        }
        /* A failed send means the server never got the whole statement:
         * like a connection found dead before sending, whatever it is. */
        if (resent || outcome_of(c, conn, false) != OUTCOME_CONNECTION_LOST ||
            !statement_begin(c, conn, cls, REASON_SEND_FAILED, false)) {
            after_failure(c, conn);
            return false;
        }
    }
}

/* Reads the answer of the pending statement; `sql` is its text to send
 * again, or NULL if it was not kept. */
static bool read_answer(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    c->pending = false;
    for (bool retried = false;; retried = true) {
        bool ok = SHIM_REAL_CALL(c->ops->read_result(conn));
        if (!statement_end(c, conn, &c->pending_class, ok, c->pending_in_transaction, retried)) {
            if (ok && sql != NULL)
                note_success(c, conn, &c->pending_class, sql, len);
            return ok;
        }
        c->pending_in_transaction = in_transaction(c, conn);
        if (!SHIM_REAL_CALL(c->ops->send_sql(conn, sql, len)))
            return false;
    }
}

bool driver_query(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    struct statement_class cls;
    classify_cached(&c->classes, sql, len, &cls);
    if (!send_statement(c, conn, &cls, sql, len, true))
        return false;
    return read_answer(c, conn, sql, len);
}

bool driver_send(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    struct statement_class cls;
    classify_cached(&c->classes, sql, len, &cls);
    bool keep = len <= PENDING_SQL_MAX;
    if (!send_statement(c, conn, &cls, sql, len, keep))
        return false;
    c->pending_len = keep ? len : 0;
    if (keep) {
        memcpy(c->pending_sql, sql, len);
    } else {
        c->pending_class.retry_safe = false;
        /* Not kept, so not recordable: a lost session is reported. */
        if (cls.kind == STMT_SET || cls.kind == STMT_USE)
            c->pending_class.creates |= STATE_UNREPLAYABLE_SETTINGS;
    }
    return true;
}

bool driver_read(struct gs_connection *c, void *conn)
{
    return read_answer(c, conn, c->pending_len != 0 ? c->pending_sql : NULL, c->pending_len);
}

/* ---- commands that are not SQL text ---- */

static const struct statement_class *command_class(enum driver_command_kind kind)
{
    switch (kind) {
    case DRIVER_SELECT_DB:
        return &class_use;
    case DRIVER_SET_CHARSET:
    case DRIVER_AUTOCOMMIT:
    case DRIVER_SET_OPTION:
        /* autocommit=1 commits an open transaction: on a lost one it must
         * fail like a COMMIT, which the rules do since it is not a
         * ROLLBACK. The mode itself needs no record: the server status
         * carries it. */
        return &class_session_setting;
    case DRIVER_COMMIT:
        return &class_commit;
    case DRIVER_ROLLBACK:
        return &class_rollback;
    case DRIVER_CHANGE_USER:
    case DRIVER_RESET_CONNECTION:
        return &class_session_reset;
    case DRIVER_PING:
        break;
    }
    return &class_harmless;
}

bool driver_command(struct gs_connection *c, void *conn, const struct driver_command *cmd, real_call real, void *arg)
{
    if (!driver_run(c, conn, command_class(cmd->kind), real, arg))
        return false;
    switch (cmd->kind) {
    case DRIVER_SELECT_DB:
        if (c->ops->note_database != NULL)
            c->ops->note_database(c->backend, cmd->text, cmd->len);
        break;
    case DRIVER_SET_CHARSET:
        /* The library's reconnect restores this character set itself; an
         * older SET NAMES must not be replayed over it. */
        session_replay_forget(&c->replay, "names");
        session_replay_forget(&c->replay, "character set");
        break;
    case DRIVER_CHANGE_USER:
    case DRIVER_RESET_CONNECTION:
        /* The application reset the session itself: nothing of the old
         * one is to be restored. */
        session_replay_clear(&c->replay);
        guard_session_renewed(&c->guard, driver_env->coarse_ns());
        break;
    default:
        break;
    }
    return true;
}
