/* session_driver.c - the decisions of session_guard, carried out, the same
 * way for every client library (see driver.h): the lifecycle of connection
 * records, the liveness probe, reconnecting with back-off, restoring the
 * session, the one resend, the repair after a lost connection, recording
 * what the session holds. Everything about a particular library is behind
 * struct connection_ops; every decision is session_guard's. */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connection.h"
#include "counters.h"
#include "driver_env.h"
#include "event_log.h"
#include "protocol.h"
#include "registry.h"
#include "session_driver_internal.h"
#include "set_statement.h"
#include "shim_runtime.h"
#include "socket_probe.h"
#include "statement_parsers.h"

/* Classes of the commands that are not SQL text, the same for every
 * library. */
static const struct statement_class class_commit = {STMT_COMMIT, 0, 0, 0, false};
static const struct statement_class class_rollback = {STMT_ROLLBACK, 0, 0, 0, true};
static const struct statement_class class_session_setting = {STMT_SET, 0, 0, 0, true};
static const struct statement_class class_use = {STMT_USE, 0, 0, 0, true};
/* A ping, and a prepare: they run nothing, so they are safe to send
 * again; and like everything they are refused inside a lost transaction. */
const struct statement_class class_harmless = {STMT_READ, 0, 0, 0, true};
/* change_user and reset_connection end the session, and with it any
 * transaction, like a ROLLBACK: they are allowed on a lost transaction. */
static const struct statement_class class_session_reset = {STMT_ROLLBACK, 0, 0, 0, true};
/* KILL of another connection: a write. */
static const struct statement_class class_kill = {STMT_WRITE, 0, 0, CLASS_KILL, false};

static struct registry connections;

static void log_line(const void *handle, const struct log_fields *f, const char *fmt, va_list ap)
{
    char line[900];
    (void)vsnprintf(line, sizeof line, fmt, ap);
    event_log_handle(handle, f, line);
}

void driver_log(const void *handle, const char *fmt, ...)
{
    if (!event_log_enabled())
        return;
    static const struct log_fields note = {.event = "note", .idle_s = -1, .duration_ms = -1, .in_transaction = -1};
    va_list ap;
    va_start(ap, fmt);
    log_line(handle, &note, fmt, ap);
    va_end(ap);
}

/* driver_log for the events an operator acts on, with their fields. */
static void __attribute__((format(printf, 3, 4))) log_event(const void *handle, const struct log_fields *f,
                                                            const char *fmt, ...)
{
    if (!event_log_enabled())
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(handle, f, fmt, ap);
    va_end(ap);
}

/* ---- lifecycle ---- */

/* The connection in the handle is new: read what the driver needs of it. */
static void link_start(struct gs_connection *c, void *conn)
{
    c->fd = c->ops->socket_fd(conn);
    socket_enable_keepalive(c->fd, driver_env->config->keepalive_ns);
    struct server_profile server;
    server_profile_from_version(c->ops->server_version(conn), &server);
    if (server.flavour != c->server.flavour || server.version != c->server.version) {
        /* What is a builtin, so which statements are reads, changed. */
        c->server = server;
        memset(&c->classes, 0, sizeof c->classes);
    }
}

/* The application connected, or reset the session: nothing of an older
 * session carries over. */
static void session_start(struct gs_connection *c, void *conn)
{
    link_start(c, conn);
    session_replay_clear(&c->replay);
    record_stop(&c->record);
    c->pending = false;
    c->aside = 0;
    c->application_epoch++;
    guard_session_started(&c->guard, driver_env->coarse_ns());
    if (c->ops->take_over != NULL)
        c->ops->take_over(conn, c->backend);
    c->guard.state_loss_accepted = c->ops->library_reconnect != NULL && c->ops->library_reconnect(c->backend);
    if (c->ops->application_reads_answers != NULL && c->ops->application_reads_answers(conn))
        c->aside |= ASIDE_READS_ANSWERS;
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
    counter_add(strcmp(ops->library, "mysqlnd") == 0          ? COUNT_HANDLES_MYSQLND
                : strcmp(ops->library, "libmysqlclient") == 0 ? COUNT_HANDLES_LIBMYSQLCLIENT
                                                               : COUNT_HANDLES_LIBMARIADB,
                1);
    counters_publish(0);
    return c;
}

/* A handle the application closed or killed itself has a live connection
 * again: the library reconnected it on its own (the application's own
 * reconnect option), or the application connected it again. */
static bool connected_again(struct gs_connection *c, void *conn)
{
    return !c->ops->link_dropped(conn) && c->ops->thread_id(conn) != c->closed_thread;
}

/* driver_find for a handle goneshim stepped aside from. */
static __attribute__((noinline)) struct gs_connection *find_aside(struct gs_connection *c, void *conn)
{
    if ((c->aside & ASIDE_READS_ANSWERS) || !connected_again(c, conn))
        return NULL; /* the library does what it would without goneshim */
    session_start(c, conn);
    driver_log(conn, "connected again by the application's library; managed again");
    return c;
}

struct gs_connection *driver_find(void *conn)
{
    if (shim_in_real_call() || conn == NULL || !shim_active())
        return NULL;
    struct gs_connection *c = registry_lookup(&connections, conn);
    if (__builtin_expect(c != NULL && c->aside != 0, 0))
        return find_aside(c, conn);
    return c;
}

void driver_reconnect_option(struct gs_connection *c, bool on)
{
    c->guard.state_loss_accepted = on;
}

void driver_application_reads_answers(const void *conn, bool on)
{
    if (shim_in_real_call() || conn == NULL || !shim_is_initialized())
        return;
    struct gs_connection *c = registry_lookup(&connections, conn);
    if (c != NULL)
        c->aside = on ? c->aside | ASIDE_READS_ANSWERS : c->aside & ~ASIDE_READS_ANSWERS;
}

void driver_detach(const void *conn)
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
    record_free(&c->record);
    free(c->params);
    free(c->long_sql);
    free(c);
}

/* Not const: it hands out the adapter's part of c, which the adapter writes. */
// cppcheck-suppress constParameterPointer
void *driver_backend(struct gs_connection *c)
{
    return c->backend;
}

bool driver_has_pending(const struct gs_connection *c)
{
    return c->pending;
}

void driver_closed_by_application(struct gs_connection *c, void *conn)
{
    if (c->aside & ASIDE_CLOSED)
        return;
    c->aside |= ASIDE_CLOSED;
    c->closed_thread = c->ops->thread_id(conn);
    c->pending = false;
    if (c->ops->step_aside != NULL)
        c->ops->step_aside(conn, c->backend);
    driver_log(conn, "the application closed or killed its own connection %llu: it is not reconnected",
               c->closed_thread);
}

void driver_connected_by_application(struct gs_connection *c, void *conn)
{
    c->generation++;
    session_start(c, conn);
}

/* ---- liveness ---- */

/* What one statement needs from its start to its end. */
struct statement_run {
    struct statement_class cls;
    enum run_origin origin;
    const char *sql; /* its text, or NULL (a command; the text not kept) */
    size_t len;
    unsigned status_before;
    uint64_t sent_ns; /* coarse clock, when the probe looked */
    /* ORIGIN_PREPARED: the statement, and whether a replay could send its
     * execution again (NULL: a statement goneshim has no record of). */
    void *stmt;
    const struct statement_ops *stmt_ops;
    bool replayable;
};

/* The probe's socket peek, and the ping it may call for: out of line,
 * since most statements of a busy handle skip it. */
static __attribute__((noinline)) enum guard_reason look_at_peer(struct gs_connection *c, void *conn,
                                                                enum liveness_check check)
{
    switch (guard_peek_verdict(check, socket_peer_state(c->fd))) {
    case PEEK_DEAD:
        return REASON_PEER_CLOSED;
    case PEEK_PING:
        return SHIM_REAL_CALL(c->ops->ping(conn, driver_env->config->ping_timeout_ns)) ? REASON_NONE
                                                                                         : REASON_PING_FAILED;
    case PEEK_ALIVE:
        break;
    }
    return REASON_NONE;
}

/* Why a handle is known dead right now, or REASON_NONE. `repeatable`:
 * the statement about to be sent would be sent again after a failure
 * after send (see guard_liveness_check). */
static inline enum guard_reason probe(struct gs_connection *c, void *conn, bool repeatable, uint64_t now)
{
    const struct connection_ops *ops = c->ops;
    if (ops->link_dropped(conn))
        return REASON_LIBRARY_DROPPED;
    enum liveness_check check = guard_liveness_check(&c->guard, driver_env->config, now, ops->drained(conn),
                                                     repeatable && !ops->must_probe_before_send);
    if (check == CHECK_NONE)
        return REASON_NONE;
    return look_at_peer(c, conn, check);
}

/* ---- reconnecting ---- */

/* Runs "SET last_insert_id = N" on the fresh connection. */
static bool restore_insert_id(struct gs_connection *c, void *conn)
{
    unsigned long long id = guard_insert_id_to_restore(&c->guard);
    if (id == 0)
        return true;
    char sql[64];
    int n = snprintf(sql, sizeof sql, "SET last_insert_id = %llu", id);
    return c->ops->run_sql(conn, sql, (size_t)n);
}

/* Session settings the library's reconnect does not carry over. */
static bool restore_session(struct gs_connection *c, void *conn, bool autocommit)
{
    const struct connection_ops *ops = c->ops;
    shim_depth++;
    bool ok = ((ops->server_status(conn) & GS_STATUS_AUTOCOMMIT) != 0) == autocommit ||
              ops->set_autocommit(conn, autocommit);
    for (struct replay_entry *e = c->replay.head; ok && e != NULL; e = e->next) {
        if (!ops->run_sql(conn, e->sql, e->sql_len)) {
            struct error_snapshot err;
            ops->save_error(conn, &err);
            driver_log(conn, "replaying \"%.200s\" failed: %u %s", e->sql, err.code, err.message);
            ok = false;
        }
    }
    if (ok)
        ok = restore_insert_id(c, conn);
    if (ok && ops->restore_extra != NULL)
        ok = ops->restore_extra(conn, c->backend);
    shim_depth--;
    return ok;
}

static bool link_lost(struct gs_connection *c, void *conn);

/* The counter of a reconnect made for `why`. */
static enum counter_slot reconnect_counter(enum guard_reason why)
{
    switch (why) {
    case REASON_PEER_CLOSED:
        return COUNT_RECONNECT_PEER_CLOSED;
    case REASON_PING_FAILED:
        return COUNT_RECONNECT_PING_FAILED;
    case REASON_LIBRARY_DROPPED:
        return COUNT_RECONNECT_LIBRARY_DROPPED;
    case REASON_IN_TRANSACTION:
    case REASON_COMMIT_UNKNOWN:
        return COUNT_RECONNECT_TRANSACTION;
    case REASON_ROLLBACK_OF_LOST:
        return COUNT_RECONNECT_ROLLBACK;
    case REASON_FAILED_AFTER_SEND:
    case REASON_SEND_FAILED:
    case REASON_NOT_RETRY_SAFE:
    case REASON_RAN_TOO_LONG:
    case REASON_TOO_BIG_TO_RESEND:
    case REASON_REFUSED_THEN_CLOSED:
        return COUNT_RECONNECT_AFTER_FAILURE;
    default:
        return COUNT_RECONNECT_OTHER;
    }
}

/* An event the operator counts: add, and publish. */
static void count_event(enum counter_slot slot)
{
    counter_add(slot, 1);
    counters_publish(1);
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
    bool autocommit = (ops->server_status(conn) & GS_STATUS_AUTOCOMMIT) != 0;
    int in_transaction_before = (ops->server_status(conn) & GS_STATUS_IN_TRANS) != 0 || c->guard.lost_transaction;
    unsigned long long old_thread = ops->thread_id(conn);
    unsigned long long client_insert_id = ops->insert_id(conn);
    unsigned attempt = 0;

    for (;; attempt++) {
        uint64_t now = env->precise_ns();
        uint64_t remaining_s = now < deadline ? (deadline - now + NS_PER_S - 1) / NS_PER_S : 1;
        struct reconnect_request request = {(unsigned)(remaining_s ? remaining_s : 1),
                                            c->server.flavour == SERVER_MYSQL};
        bool transient;
        struct error_snapshot err;
        if (SHIM_REAL_CALL(ops->reconnect_once(conn, c->backend, &request))) {
            c->generation++; /* server-side prepared statements are gone */
            link_start(c, conn);
            bool restored = restore_session(c, conn, autocommit);
            guard_link_replaced(&c->guard);
            enum restore_verdict verdict = guard_after_restore(restored, !restored && link_lost(c, conn));
            if (verdict == RESTORE_USE)
                break;
            /* Closed, so that the next statement tries again (and fails
             * the same way if the setting is now refused). */
            ops->save_error(conn, &err);
            ops->drop_link(conn);
            driver_log(conn, "reconnected, but restoring the session failed: error %u %s%s", err.code, err.message,
                       verdict == RESTORE_TRY_AGAIN ? " (the fresh connection died)" : "");
            ops->set_error(conn, &err);
            transient = verdict == RESTORE_TRY_AGAIN;
        } else {
            ops->save_error(conn, &err);
            transient = guard_is_transient_connect_error(err.code);
        }
        now = env->precise_ns();
        if (!transient || now >= deadline) {
            struct log_fields f = {"reconnect_failed", guard_reason_text(why), old_thread, 0, (double)idle_ns / 1e9,
                                   (double)(now - started) / 1e6, in_transaction_before};
            log_event(conn, &f, "reconnect failed (%s): error %u %s, after %u attempts in %.1f ms",
                      guard_reason_text(why), err.code, err.message, attempt + 1, (double)(now - started) / 1e6);
            counter_add(COUNT_RECONNECT_MICROSECONDS, (now - started) / 1000);
            count_event(COUNT_RECONNECT_FAILURES);
            return false;
        }
        uint64_t pause = guard_backoff_ns(attempt, env->random());
        env->sleep_ns(pause < deadline - now ? pause : deadline - now);
    }

    /* What mysql_insert_id() said before is what it still says. */
    ops->set_insert_id(conn, client_insert_id);
    if (renew_session)
        guard_session_renewed(&c->guard, env->coarse_ns());
    struct log_fields f = {"reconnected", guard_reason_text(why), old_thread, ops->thread_id(conn),
                           (double)idle_ns / 1e9, (double)(env->precise_ns() - started) / 1e6,
                           in_transaction_before};
    log_event(conn, &f,
              "reconnected (%s), idle %.1f s, connection %llu -> %llu, %u attempt(s), "
              "%u setting(s) replayed, took %.1f ms",
              guard_reason_text(why), (double)idle_ns / 1e9, old_thread, ops->thread_id(conn), attempt + 1,
              c->replay.count, f.duration_ms);
    counter_add(COUNT_RECONNECT_MICROSECONDS, (env->precise_ns() - started) / 1000);
    counter_add(COUNT_SETTINGS_REPLAYED, c->replay.count);
    count_event(reconnect_counter(why));
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

/* The error of a statement the rules refuse unsent. */
static void set_refusal_error(struct gs_connection *c, void *conn, enum guard_reason why)
{
    static const struct error_snapshot gone = {GS_ER_SERVER_GONE, GS_SQLSTATE_UNKNOWN, "Server has gone away"};
    /* The server's own answer in a session whose XA transaction is
     * prepared, with the reason. */
    static const struct error_snapshot xa = {
        GS_ER_XAER_RMFAIL, GS_SQLSTATE_XA,
        "XAER_RMFAIL: The command cannot be executed when global transaction is in the  PREPARED state "
        "(goneshim: the connection was lost; the prepared XA transaction waits in the server for XA COMMIT or "
        "XA ROLLBACK)"};
    c->ops->set_error(conn, why == REASON_XA_PREPARED ? &xa : &gone);
}

static void log_decision(struct gs_connection *c, void *conn, const struct guard_decision *d)
{
    if (d->reason != REASON_NONE && event_log_enabled()) {
        struct error_snapshot err;
        c->ops->save_error(conn, &err);
        struct log_fields f = {"statement_failed", guard_reason_text(d->reason), c->ops->thread_id(conn), 0, -1, -1,
                               c->guard.lost_transaction};
        log_event(conn, &f, "statement fails with error %u: %s", err.code, guard_reason_text(d->reason));
    }
}

/* A failed statement of a lost transaction: the application must still
 * see the transaction it has to roll back. */
static void after_failure(struct gs_connection *c, void *conn)
{
    if (c->guard.lost_transaction)
        c->ops->show_transaction(conn);
}

/* ---- transaction replay ---- */

/* Are there tables whose writes no rollback undoes (MyISAM, Aria, MEMORY,
 * ...) in the schemas this user can see? A transaction that wrote to one
 * left that write behind when its connection died, and its replay would
 * write it again. Which tables a transaction wrote is not known without
 * parsing every statement; asked on this rare path only, the server's
 * catalogue answers for all of them at once (a conservative answer: a
 * transaction that never touched such a table is refused too). */
static bool only_transactional_tables(struct gs_connection *c, void *conn)
{
    static const char sql[] = "SELECT COUNT(*) FROM information_schema.TABLES WHERE ENGINE IS NOT NULL "
                              "AND ENGINE <> 'InnoDB' AND TABLE_SCHEMA NOT IN "
                              "('mysql', 'information_schema', 'performance_schema', 'sys')";
    char value[32];
    bool quote;
    if (c->ops->read_value == NULL || !c->ops->read_value(conn, sql, sizeof sql - 1, value, sizeof value, &quote))
        return false;
    return strcmp(value, "0") == 0;
}

/* Makes sure the old session is gone (a silent drop leaves it alive, with
 * the transaction's locks): KILL it, when its id is still its own. */
static bool old_session_gone(struct gs_connection *c, void *conn, unsigned long long old_thread)
{
    if (!guard_kill_old_session(old_thread, c->ops->thread_id(conn)))
        return true;
    char sql[48];
    int n = snprintf(sql, sizeof sql, "KILL CONNECTION %llu", old_thread);
    if (c->ops->run_sql(conn, sql, (size_t)n))
        return true;
    struct error_snapshot err;
    c->ops->save_error(conn, &err);
    return err.code == GS_ER_NO_SUCH_THREAD;
}

/* Runs the recorded statements on the fresh connection and compares every
 * answer. 0 when all are identical, else the 1-based number of the first
 * that differs (or could not run); `forced_id_left`: that one was an
 * INSERT given a forced id (SET insert_id), which it may not have used up,
 * so that the session would hand it to the application's next INSERT. */
static unsigned replay_statements(struct gs_connection *c, void *conn, bool *forced_id_left)
{
    const struct connection_ops *ops = c->ops;
    size_t offset = 0;
    const char *sql;
    unsigned k = 0;
    for (const struct record_entry *e; (e = record_next(&c->record, &offset, &sql)) != NULL;) {
        k++;
        *forced_id_left = e->sets_insert_id;
        if (e->sets_insert_id) {
            /* The id the server gave is never handed out again, even after
             * the rollback: the row gets it back only if asked for it. */
            char set_id[64];
            int n = snprintf(set_id, sizeof set_id, "SET insert_id = %llu", e->insert_id);
            if (!ops->run_sql(conn, set_id, (size_t)n))
                return k;
        }
        struct answer_summary a;
        uint64_t rows = 0;
        /* An identical answer (the same id) means the INSERT used the
         * forced id up. */
        bool ran = !e->prepared ? ops->replay_sql(conn, sql, e->sql_len, &a, &rows)
                   : ops->replay_prepared != NULL &&
                         ops->replay_prepared(conn, sql, e->sql_len, record_params(e, sql), e->params_len, &a, &rows);
        if (!ran || record_answer_digest(&a) != e->answer || (e->rows_expected && rows != e->rows))
            return k;
    }
    return 0;
}

/* The transaction just lost (REASON_IN_TRANSACTION): replays it on a fresh
 * connection if the rules allow it and every answer comes back the same.
 * True: it goes on, and the handle is connected with the transaction open.
 * False: it stays lost (the handle carries the original error, and is
 * connected if a fresh connection could be made). `in_flight`: the
 * statement that found the death had been sent. */
static __attribute__((noinline)) bool replay_transaction(struct gs_connection *c, void *conn,
                                                         const struct guard_decision *d, bool in_flight)
{
    const struct connection_ops *ops = c->ops;
    const struct driver_env *env = driver_env;
    struct replay_facts facts = {
        .enabled = env->config->replay && ops->replay_sql != NULL && ops->answer != NULL,
        .recorded = c->record.state == RECORD_ON,
        .rows_pending = c->record.rows_pending,
        .in_flight = in_flight,
        .resend_after_replay = d->resend_after_replay,
    };
    enum replay_refusal refusal = guard_replay_refusal(&c->guard, &facts);
    if (refusal != REPLAY_GO) {
        const char *reason = refusal == REFUSE_NOT_RECORDED ? record_break_text(c->record.why)
                                                             : guard_replay_refusal_text(refusal);
        struct log_fields f = {"replay_refused", reason, ops->thread_id(conn), 0, -1, -1, 1};
        if (refusal != REFUSE_OFF) {
            log_event(conn, &f, "replay refused: %s", reason);
            count_event(COUNT_REPLAYS_REFUSED);
        }
        record_stop(&c->record);
        return false;
    }
    struct error_snapshot lost;
    ops->save_error(conn, &lost);
    uint64_t started = env->precise_ns();
    unsigned long long old_thread = ops->thread_id(conn), insert_id = ops->insert_id(conn);
    unsigned count = c->record.count;
    if (!reconnect_in_place(c, conn, d->reason, env->config->reconnect_timeout_ns, false)) {
        ops->set_error(conn, &lost);
        record_stop(&c->record);
        return false;
    }
    const char *why = NULL;
    unsigned differs = 0;
    bool forced_id_left = false;
    shim_depth++;
    if (!old_session_gone(c, conn, old_thread))
        why = "the old session could not be killed";
    else if (!only_transactional_tables(c, conn))
        why = "a non-transactional table exists (or the catalogue could not be read)";
    else
        differs = replay_statements(c, conn, &forced_id_left);
    if (why == NULL && differs != 0)
        why = "a statement returned a different result";
    if (why != NULL)
        (void)ops->run_sql(conn, "ROLLBACK", 8);
    shim_depth--;
    if (why != NULL && forced_id_left) {
        /* No statement clears a forced id on every server (SET insert_id
         * = 0 forces 0 on MySQL): a session that may still hold one is
         * replaced. */
        ops->drop_link(conn);
        (void)reconnect_in_place(c, conn, d->reason, 0, false);
    }
    ops->set_insert_id(conn, insert_id);
    if (why != NULL) {
        struct log_fields f = {"replay_refused", differs != 0 ? "a statement returned a different result" : why,
                               old_thread, ops->thread_id(conn), -1, -1, 1};
        if (differs != 0)
            log_event(conn, &f, "replay refused: statement %u of %u returned a different result", differs, count);
        else
            log_event(conn, &f, "replay refused: %s", why);
        ops->set_error(conn, &lost);
        record_stop(&c->record);
        count_event(COUNT_REPLAYS_REFUSED);
        return false;
    }
    guard_transaction_replayed(&c->guard);
    count_event(COUNT_TRANSACTIONS_REPLAYED);
    struct log_fields f = {"transaction_replayed", NULL, old_thread, ops->thread_id(conn), -1,
                           (double)(env->precise_ns() - started) / 1e6, 1};
    log_event(conn, &f, "transaction replayed: %u statements, %.1f ms", count, f.duration_ms);
    return true;
}

/* The rare outcomes of statement_begin: a refusal, or a reconnect first.
 * Out of line, so that the common path stays a handful of instructions. */
static __attribute__((noinline)) bool statement_begin_rare(struct gs_connection *c, void *conn,
                                                           struct statement_run *run,
                                                           const struct guard_decision *d)
{
    if (d->action == GUARD_FAIL && d->reason == REASON_IN_TRANSACTION && replay_transaction(c, conn, d, false)) {
        run->sent_ns = driver_env->coarse_ns();
        run->status_before = c->ops->server_status(conn);
        return true;
    }
    if (d->action == GUARD_FAIL) {
        if (d->reason == REASON_IN_TRANSACTION)
            count_event(COUNT_TRANSACTIONS_LOST);
        set_refusal_error(c, conn, d->reason);
        log_decision(c, conn, d);
        after_failure(c, conn);
        return false;
    }
    if (!reconnect_in_place(c, conn, d->reason, driver_env->config->reconnect_timeout_ns, true))
        return false;
    run->sent_ns = driver_env->coarse_ns();
    run->status_before = c->ops->server_status(conn);
    return true;
}

/* Before sending: check liveness and apply the rules. False when the
 * statement must fail (the error is set on the handle). `repeatable`: the
 * caller keeps what it needs to send it again. Leaves in `run` the send
 * time and the server status the statement is sent under. */
static inline __attribute__((always_inline)) bool statement_begin(struct gs_connection *c, void *conn,
                                                                  struct statement_run *run, bool repeatable)
{
    run->sent_ns = driver_env->coarse_ns();
    run->status_before = c->ops->server_status(conn);
    enum guard_reason dead = probe(c, conn, repeatable && run->cls.retry_safe, run->sent_ns);
    struct guard_decision d = guard_before_statement(&c->guard, &run->cls, dead, run->status_before);
    if (__builtin_expect(d.action == GUARD_SEND, 1))
        return true;
    return statement_begin_rare(c, conn, run, &d);
}

/* Was it the link that failed, rather than the statement? The library
 * dropped it, or the server closed it (an error packet can be its last
 * word: KILL, shutdown). Read from the link, not from a list of error
 * numbers: over TLS the same death reads "unexpected eof" (2026). */
static bool link_lost(struct gs_connection *c, void *conn)
{
    return c->ops->link_dropped(conn) || socket_peer_state(c->fd) == PEER_CLOSED;
}

/* A KILL the application sent: did it close its own connection? */
static bool killed_itself(struct gs_connection *c, void *conn, const struct statement_run *run)
{
    bool known = false, query_only = false;
    unsigned long long target = 0;
    if (run->sql != NULL)
        parse_kill_statement(run->sql, run->len, &known, &target, &query_only);
    return guard_kill_closes_own(known, target, query_only, c->ops->thread_id(conn), link_lost(c, conn));
}

/* The value of session variable `name` (lower case, as the SET parser
 * gives it), read with SELECT @@SESSION.name; false when it cannot be. */
static bool read_variable(struct gs_connection *c, void *conn, const char *name, char *value, size_t size,
                          bool *quote)
{
    size_t n = strlen(name);
    if (c->ops->read_value == NULL || n > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_$") != n)
        return false;
    char sql[96];
    int len = snprintf(sql, sizeof sql, "SELECT @@SESSION.%s", name);
    return SHIM_REAL_CALL(c->ops->read_value(conn, sql, (size_t)len, value, size, quote));
}

/* Does a statement of `len` bytes fit in the (fresh) connection's
 * max_allowed_packet? Asked of the server, on this rare path only. */
static bool fits_packet(struct gs_connection *c, void *conn, size_t len)
{
    char value[32];
    bool quote;
    bool read = read_variable(c, conn, "max_allowed_packet", value, sizeof value, &quote);
    return guard_fits_packet(len, read ? value : NULL);
}

enum after { DONE, SEND_AGAIN };

/* Is the statement part of a transaction (open before it, or opened by
 * it)? One test of what statement_begin read anyway: no cost outside. */
static inline bool in_transaction(const struct statement_run *run)
{
    return (run->status_before & (GS_STATUS_IN_TRANS | GS_STATUS_AUTOCOMMIT)) != GS_STATUS_AUTOCOMMIT ||
           run->cls.kind == STMT_BEGIN;
}

/* The parameter values of the execution that just ran, in c->params:
 * their length, or STATEMENT_PARAMS_UNKEPT. */
static size_t execution_params(struct gs_connection *c, const struct statement_run *run)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t n = run->stmt_ops->params(run->stmt, c->params, c->params_cap);
        if (n == STATEMENT_PARAMS_UNKEPT || n <= c->params_cap)
            return n;
        if (n > driver_env->config->replay_max)
            return n; /* record_append_prepared says it is too big */
        unsigned char *p = realloc(c->params, n);
        if (p == NULL)
            return STATEMENT_PARAMS_UNKEPT;
        c->params = p;
        c->params_cap = n;
    }
    return STATEMENT_PARAMS_UNKEPT;
}

/* note_transaction for the execution of a prepared statement. */
static void note_execution(struct gs_connection *c, const struct statement_run *run, bool ok)
{
    struct transaction_record *rec = &c->record;
    const struct statement_ops *sops = run->stmt_ops;
    if (run->stmt == NULL || sops == NULL || sops->answer == NULL || sops->params == NULL ||
        c->ops->replay_prepared == NULL || run->sql == NULL) {
        record_break(rec, BREAK_PREPARED);
        return;
    }
    size_t n = run->replayable ? execution_params(c, run) : STATEMENT_PARAMS_UNKEPT;
    if (n == STATEMENT_PARAMS_UNKEPT) {
        record_break(rec, BREAK_PARAMETERS);
        return;
    }
    struct answer_summary a;
    sops->answer(run->stmt, &a);
    if (!ok && a.error_code == 0)
        a.error_code = ~0u;
    bool ids = (run->cls.flags & CLASS_SETS_INSERT_ID) != 0;
    if (ids && a.insert_id != 0 && a.affected_rows > 1)
        record_break(rec, BREAK_MULTI_ROW_IDS);
    else if (n > c->params_cap)
        record_break(rec, BREAK_TOO_BIG);
    else
        (void)record_append_prepared(rec, run->sql, run->len, c->params, n, &a, ids, driver_env->config->replay_max);
}

/* A statement of a transaction was answered (`ok`: success, else the
 * server's error, the link intact): the record of the open transaction
 * takes it, starts, stops, or learns that it cannot be replayed. */
static __attribute__((noinline)) void note_transaction(struct gs_connection *c, void *conn,
                                                       const struct statement_run *run, bool ok)
{
    const struct connection_ops *ops = c->ops;
    struct transaction_record *rec = &c->record;
    if (!driver_env->config->replay || ops->answer == NULL)
        return;
    unsigned after = ops->server_status(conn);
    if (!(after & GS_STATUS_IN_TRANS)) {
        record_stop(rec); /* ended (COMMIT, ROLLBACK, implicit), or none opened */
        return;
    }
    if (run->cls.kind == STMT_BEGIN || !(run->status_before & GS_STATUS_IN_TRANS)) {
        record_start(rec); /* the transaction begins with this statement */
    } else if (rec->state == RECORD_IDLE) {
        record_start(rec);
        record_break(rec, BREAK_BEFORE_GONESHIM);
    }
    if (rec->state != RECORD_ON)
        return;
    const struct statement_class *cls = &run->cls;
    if (run->origin == ORIGIN_PREPARED) {
        note_execution(c, run, ok);
    } else if (run->origin == ORIGIN_COMMAND) {
        if (cls->kind != STMT_READ) /* a ping or a prepare changes nothing */
            record_break(rec, cls->kind == STMT_SET || cls->kind == STMT_USE ? BREAK_SESSION_CHANGED : BREAK_COMMAND);
    } else if (run->sql == NULL) {
        record_break(rec, BREAK_TEXT_NOT_KEPT);
    } else if (cls->kind == STMT_SET || cls->kind == STMT_USE) {
        record_break(rec, BREAK_SESSION_CHANGED);
    } else if (cls->flags & CLASS_CALLS_PROCEDURE) {
        record_break(rec, BREAK_PROCEDURE);
    } else if (after & GS_STATUS_MORE_RESULTS) {
        record_break(rec, BREAK_MULTI_RESULT);
    } else {
        struct answer_summary a;
        ops->answer(conn, &a);
        if (!ok && a.error_code == 0)
            a.error_code = ~0u; /* an error the library does not number: never matched */
        bool ids = (cls->flags & CLASS_SETS_INSERT_ID) != 0;
        if (ids && a.insert_id != 0 && a.affected_rows > 1)
            record_break(rec, BREAK_MULTI_ROW_IDS);
        else
            (void)record_append(rec, run->sql, run->len, &a, ids, driver_env->config->replay_max);
    }
}

bool driver_rows_awaited(void)
{
    return record_rows_awaited_anywhere();
}

bool driver_wants_rows(const struct gs_connection *c)
{
    return c->record.rows_pending;
}

void driver_result_rows(struct gs_connection *c, uint64_t digest)
{
    record_rows(&c->record, digest);
}

void driver_result_unbuffered(struct gs_connection *c)
{
    if (c->record.rows_pending)
        record_break(&c->record, BREAK_UNBUFFERED);
}

/* statement_end for all but a plain success. */
static __attribute__((noinline)) enum after statement_end_rare(struct gs_connection *c, void *conn,
                                                               const struct statement_run *run, bool ok,
                                                               bool while_sending, bool retried)
{
    const struct driver_env *env = driver_env;
    if (__builtin_expect((run->cls.flags & CLASS_KILL) != 0, 0) && killed_itself(c, conn, run)) {
        driver_closed_by_application(c, conn);
        return DONE;
    }
    struct statement_result r = {
        .outcome = OUTCOME_OK, .length = run->len, .status_before = run->status_before, .retried = retried};
    if (ok) {
        if (run->cls.flags & CLASS_SETS_INSERT_ID) {
            r.insert_id = c->ops->insert_id(conn);
            r.insert_id_exact = r.insert_id != 0 && run->sql != NULL &&
                                statement_insert_id_certain(run->sql, run->len, r.insert_id);
        }
    } else {
        /* A send can fail on the client's side, the link intact: commands
         * out of sync (results still pending), a packet the library itself
         * refuses. Only a link that is gone is a lost connection. */
        r.outcome = link_lost(c, conn) ? OUTCOME_LINK_LOST : OUTCOME_SERVER_ERROR;
        r.while_sending = while_sending;
        r.elapsed_ns = env->coarse_ns() - run->sent_ns;
        struct error_snapshot err;
        c->ops->save_error(conn, &err);
        r.answered = err.code != 0 && (err.code < GS_ER_CLIENT_FIRST || err.code > GS_ER_CLIENT_LAST);
    }
    struct guard_decision d = guard_after_statement(&c->guard, &run->cls, &r, env->config, run->sent_ns);
    if (d.action == GUARD_REPORT && r.outcome != OUTCOME_LINK_LOST && in_transaction(run))
        note_transaction(c, conn, run, ok);
    if (!ok && d.reason == REASON_IN_TRANSACTION && replay_transaction(c, conn, &d, true)) {
        driver_log(conn, "sending again, in the replayed transaction, a statement of %zu bytes", run->len);
        count_event(COUNT_SENT_AGAIN);
        return SEND_AGAIN;
    }
    if (d.action != GUARD_RECONNECT_AND_RETRY) {
        if (!ok) {
            if (d.reason == REASON_IN_TRANSACTION || d.reason == REASON_COMMIT_UNKNOWN)
                counter_add(COUNT_TRANSACTIONS_LOST, 1);
            if (d.reason == REASON_COMMIT_UNKNOWN)
                counter_add(COUNT_COMMIT_UNKNOWN, 1);
            if (d.reason == REASON_NOT_RETRY_SAFE)
                counter_add(COUNT_NOT_REPEATED, 1);
            counters_publish(1);
            log_decision(c, conn, &d);
            if (c->ops->link_dropped(conn))
                repair_after_failure(c, conn, d.reason);
            after_failure(c, conn);
        }
        return DONE;
    }
    struct error_snapshot err;
    c->ops->save_error(conn, &err);
    if (!reconnect_in_place(c, conn, d.reason, env->config->reconnect_timeout_ns, true))
        return DONE;
    if (d.only_if_it_fits && !fits_packet(c, conn, run->len)) {
        /* Healthy again, but this statement stays refused. */
        c->ops->set_error(conn, &err);
        driver_log(conn, "statement fails with error %u: %s", err.code, guard_reason_text(REASON_TOO_BIG_TO_RESEND));
        return DONE;
    }
    driver_log(conn, "sending again a statement of %zu bytes (it had failed with %u: %s)", run->len, err.code,
               guard_reason_text(d.reason));
    count_event(COUNT_SENT_AGAIN);
    return SEND_AGAIN;
}

/* After the answer (or its absence). SEND_AGAIN when the statement must be
 * sent again on the fresh connection that was just made (and `run` then
 * holds the new send time and status). */
static inline enum after statement_end(struct gs_connection *c, void *conn, struct statement_run *run, bool ok,
                                       bool while_sending, bool retried)
{
    /* The send time, not the end: idle and busy are measured from it
     * (one clock read per statement). */
    if (__builtin_expect(ok && !(run->cls.flags & (CLASS_KILL | CLASS_SETS_INSERT_ID)), 1)) {
        guard_after_success(&c->guard, &run->cls, 0, false, run->sent_ns);
        if (__builtin_expect(in_transaction(run), 0))
            note_transaction(c, conn, run, true);
        return DONE;
    }
    if (statement_end_rare(c, conn, run, ok, while_sending, retried) == DONE)
        return DONE;
    run->sent_ns = driver_env->coarse_ns();
    run->status_before = c->ops->server_status(conn);
    return SEND_AGAIN;
}

static bool run_call(struct gs_connection *c, void *conn, struct statement_run *run, real_call real, void *arg)
{
    if (!statement_begin(c, conn, run, true))
        return false;
    for (bool retried = false;; retried = true) {
        bool ok = SHIM_REAL_CALL(real(conn, arg));
        if (statement_end(c, conn, run, ok, false, retried) == DONE)
            return ok;
    }
}

bool driver_run(struct gs_connection *c, void *conn, const struct statement_class *cls, enum run_origin origin,
                const char *sql, size_t len, real_call real, void *arg)
{
    struct statement_run run = {.cls = *cls, .origin = origin, .sql = sql, .len = len};
    return run_call(c, conn, &run, real, arg);
}

bool driver_run_execute(struct gs_connection *c, void *conn, const struct statement_class *cls, const char *sql,
                        size_t len, void *stmt, const struct statement_ops *ops, bool replayable, real_call real,
                        void *arg)
{
    struct statement_run run = {.cls = *cls, .origin = ORIGIN_PREPARED, .sql = sql, .len = len,
                                .stmt = stmt, .stmt_ops = ops, .replayable = replayable};
    return run_call(c, conn, &run, real, arg);
}

/* ---- what a successful statement changed ---- */

/* A SET whose value is an expression: the value it produced, read back,
 * as the text to replay (`name = 'value'`). False when it cannot be. */
static bool setting_in_force(struct gs_connection *c, void *conn, const struct set_assignment *a, char *text,
                             size_t size, size_t *text_len)
{
    char value[1024];
    bool quote = true;
    if (!read_variable(c, conn, a->key, value, sizeof value, &quote))
        return false;
    size_t n = (size_t)snprintf(text, size, "%s = %s", a->key, quote ? "'" : "");
    for (const char *v = value; *v != '\0' && n + 3 < size; v++) {
        if (quote && (*v == '\'' || *v == '\\'))
            text[n++] = '\\';
        text[n++] = *v;
    }
    if (n + 2 >= size)
        return false;
    if (quote)
        text[n++] = '\'';
    text[n] = '\0';
    *text_len = n;
    return true;
}

/* A successful SET changes what a reconnect must replay. */
static void note_set(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    struct set_parse_result parsed;
    parse_set_statement(sql, len, &parsed);
    if (parsed.status != SET_PARSE_OK)
        return; /* the classifier already marked the session unrestorable */
    for (unsigned i = 0; i < parsed.n; i++) {
        struct set_assignment a = parsed.assignments[i];
        char text[1200];
        if (!a.value_literal) {
            /* Replay the value in force, not the expression: CONCAT(@@sql_mode,
             * ',X') evaluated again on a fresh session gives another mode. */
            if (!setting_in_force(c, conn, &a, text, sizeof text, &a.text_len)) {
                driver_log(conn, "cannot read back the value of %s; a lost connection will be reported", a.key);
                c->guard.unrestorable |= STATE_UNREPLAYABLE_SETTINGS;
                continue;
            }
            a.text = text;
        }
        if (!session_replay_record(&c->replay, &a)) {
            driver_log(conn, "too many session settings to replay; a lost connection will be reported");
            c->guard.unrestorable |= STATE_UNREPLAYABLE_SETTINGS;
            return;
        }
    }
}

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

/* ---- statements as text ---- */

/* Sends, reads, and sends again when the rules say so. `pending`: the
 * two-step path, which stops after a successful send. */
static inline __attribute__((always_inline)) bool run_text(struct gs_connection *c, void *conn,
                                                           struct statement_run *run, bool retried)
{
    for (;; retried = true) {
        if (!SHIM_REAL_CALL(c->ops->send_sql(conn, run->sql, run->len))) {
            if (statement_end(c, conn, run, false, true, retried) == DONE)
                return false;
            continue;
        }
        bool ok = SHIM_REAL_CALL(c->ops->read_result(conn));
        if (statement_end(c, conn, run, ok, false, retried) == DONE) {
            if (ok && (run->cls.kind == STMT_SET || run->cls.kind == STMT_USE))
                note_success(c, conn, &run->cls, run->sql, run->len);
            return ok;
        }
    }
}

bool driver_query(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    struct statement_run run = {.sql = sql, .len = len};
    classify_cached(&c->classes, sql, len, &c->server, &run.cls);
    if (!statement_begin(c, conn, &run, true))
        return false;
    return run_text(c, conn, &run, false);
}

/* Where the text of a statement sent in two steps is kept until its
 * answer is read: the fixed buffer, or (a longer one, inside a transaction
 * that is recorded) a buffer grown for it, up to GONESHIM_REPLAY_MAX. NULL:
 * not kept. */
static char *room_for_pending(struct gs_connection *c, const struct statement_run *run)
{
    if (run->len <= PENDING_SQL_MAX)
        return c->pending_sql;
    if (!in_transaction(run) || !driver_env->config->replay || run->len > driver_env->config->replay_max)
        return NULL;
    if (run->len > c->long_sql_cap) {
        char *p = realloc(c->long_sql, run->len);
        if (p == NULL)
            return NULL;
        c->long_sql = p;
        c->long_sql_cap = run->len;
    }
    return c->long_sql;
}

bool driver_send(struct gs_connection *c, void *conn, const char *sql, size_t len)
{
    struct statement_run run = {.sql = sql, .len = len};
    classify_cached(&c->classes, sql, len, &c->server, &run.cls);
    c->pending = false;
    run.status_before = c->ops->server_status(conn);
    char *room = room_for_pending(c, &run);
    bool keep = room != NULL;
    if (!statement_begin(c, conn, &run, keep))
        return false;
    for (bool retried = false;; retried = true) {
        if (SHIM_REAL_CALL(c->ops->send_sql(conn, sql, len)))
            break;
        if (statement_end(c, conn, &run, false, true, retried) == DONE)
            return false;
    }
    /* Sent: the application reads the answer later, when `sql` may be
     * gone. What a resend or the record needs is kept. */
    c->pending = true;
    c->pending_class = run.cls;
    c->pending_status = run.status_before;
    c->pending_sent_ns = run.sent_ns;
    c->pending_len = keep ? len : 0;
    c->pending_text = room;
    if (keep) {
        memcpy(room, sql, len);
    } else {
        guard_text_not_kept(&c->pending_class);
        if (in_transaction(&run))
            record_break(&c->record, len > driver_env->config->replay_max ? BREAK_TOO_BIG : BREAK_TEXT_NOT_KEPT);
    }
    return true;
}

bool driver_read(struct gs_connection *c, void *conn)
{
    c->pending = false;
    struct statement_run run = {.cls = c->pending_class,
                                .sql = c->pending_len != 0 ? c->pending_text : NULL,
                                .len = c->pending_len,
                                .status_before = c->pending_status,
                                .sent_ns = c->pending_sent_ns};
    bool ok = SHIM_REAL_CALL(c->ops->read_result(conn));
    if (statement_end(c, conn, &run, ok, false, false) == DONE) {
        if (ok && run.sql != NULL && (run.cls.kind == STMT_SET || run.cls.kind == STMT_USE))
            note_success(c, conn, &run.cls, run.sql, run.len);
        return ok;
    }
    return run_text(c, conn, &run, true);
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
    case DRIVER_KILL:
        return &class_kill;
    case DRIVER_PING:
        break;
    }
    return &class_harmless;
}

bool driver_command(struct gs_connection *c, void *conn, const struct driver_command *cmd, real_call real, void *arg)
{
    if (cmd->kind == DRIVER_KILL &&
        guard_kill_closes_own(true, cmd->number, false, c->ops->thread_id(conn), false)) {
        /* The application kills its own connection: exactly what the
         * library does, and goneshim steps aside. */
        bool ok = SHIM_REAL_CALL(real(conn, arg));
        driver_closed_by_application(c, conn);
        return ok;
    }
    if (!driver_run(c, conn, command_class(cmd->kind), ORIGIN_COMMAND, NULL, 0, real, arg))
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
        guard_session_started(&c->guard, driver_env->coarse_ns());
        break;
    default:
        break;
    }
    return true;
}
