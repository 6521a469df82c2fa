/* mysqlclient_adapter.c - the libmysqlclient C API (as MariaDB Connector/C
 * implements it), interposed.
 *
 * A thin adapter: it observes the handle (socket, server status, errors),
 * asks session_guard what to do, and carries it out with the library's own
 * functions. The rules themselves live in session_guard.c.
 *
 * It reads and writes a few fields of MYSQL (net.pvio, net.last_errno,
 * server_status, status, options.reconnect, options.connect_timeout). The
 * layout is the frozen libmysqlclient_18 ABI of Connector/C 3.x; the first
 * connect checks the library's version and passes everything through when
 * it is not one goneshim knows.
 *
 * libmariadb calls parts of its own API through the PLT (mysql_query ->
 * mysql_real_query, mysql_commit -> mysql_real_query, mariadb_reconnect ->
 * mysql_real_connect and mysql_close, ...). A thread-local depth counter
 * makes every call the shim makes, and every call nested in an application
 * call, pass straight through: no statement is handled twice.
 */
#include <errmsg.h>
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "event_log.h"
#include "global_locks.h"
#include "handle_registry.h"
#include "session_guard.h"
#include "session_replay.h"
#include "set_statement.h"
#include "socket_probe.h"
#include "statement_class.h"
#include "symbols.h"

#define EXPORT __attribute__((visibility("default")))

/* Statements longer than this, sent with mysql_send_query, are not kept
 * for a retry after a failure after send (they still get every other
 * protection). A fixed buffer keeps the hot path free of allocation. */
#define PENDING_SQL_MAX 2048

/* Connector/C versions whose MYSQL layout this file was written against. */
#define KNOWN_CLIENT_VERSION_MIN 30100 /* 3.1.0 */
#define KNOWN_CLIENT_VERSION_END 30500 /* up to, not including, 3.5.0 */

struct handle_state {
    struct session_guard guard;
    struct session_replay replay;
    /* The statement between mysql_send_query and mysql_read_query_result. */
    bool pending;
    bool pending_in_transaction;
    struct statement_class pending_class;
    unsigned long pending_len;
    char pending_sql[PENDING_SQL_MAX];
};

/* ---- process-wide state, set up lazily on the first interposed call ---- */

static struct goneshim_config config;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static bool initialized; /* written once, then only read */
static bool active;      /* false: pass everything through */

static __thread unsigned depth __attribute__((tls_model("initial-exec")));
static __thread uint32_t jitter_state __attribute__((tls_model("initial-exec")));

#define V18 "libmysqlclient_18"
#define V3 "libmariadb_3"
static struct real_symbol real_mysql_real_connect = REAL_SYMBOL(mysql_real_connect, V18);
static struct real_symbol real_mysql_close = REAL_SYMBOL(mysql_close, V18);
static struct real_symbol real_mysql_options = REAL_SYMBOL(mysql_options, V18);
static struct real_symbol real_mysql_real_query = REAL_SYMBOL(mysql_real_query, V18);
static struct real_symbol real_mysql_send_query = REAL_SYMBOL(mysql_send_query, V18);
static struct real_symbol real_mysql_read_query_result = REAL_SYMBOL(mysql_read_query_result, V18);
static struct real_symbol real_mysql_select_db = REAL_SYMBOL(mysql_select_db, V18);
static struct real_symbol real_mysql_set_character_set = REAL_SYMBOL(mysql_set_character_set, V18);
static struct real_symbol real_mysql_autocommit = REAL_SYMBOL(mysql_autocommit, V18);
static struct real_symbol real_mysql_commit = REAL_SYMBOL(mysql_commit, V18);
static struct real_symbol real_mysql_rollback = REAL_SYMBOL(mysql_rollback, V18);
static struct real_symbol real_mysql_ping = REAL_SYMBOL(mysql_ping, V18);
static struct real_symbol real_mysql_change_user = REAL_SYMBOL(mysql_change_user, V18);
static struct real_symbol real_mysql_reset_connection = REAL_SYMBOL(mysql_reset_connection, V3);
static struct real_symbol real_mysql_get_socket = REAL_SYMBOL(mysql_get_socket, V18);
static struct real_symbol real_mariadb_reconnect = REAL_SYMBOL(mariadb_reconnect, V3);
static struct real_symbol real_mysql_get_client_version = REAL_SYMBOL(mysql_get_client_version, V18);

/* The real function, typed like ours. NULL only if no loaded object has it,
 * which cannot happen for a function the application just called through
 * a library that defines it; callers still check, once, in real_or_warn. */
#define REAL(fn) ((__typeof__(&fn))symbols_get(&real_##fn))

static void *real_or_warn(struct real_symbol *s)
{
    void *p = symbols_get(s);
    static bool warned;
    if (p == NULL && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        event_warn("goneshim: cannot find the real %s in any loaded library; the call fails", s->name);
    return p;
}
#define REAL_CHECKED(fn) ((__typeof__(&fn))real_or_warn(&real_##fn))

/* A call on a handle goneshim does not manage, or made from inside the
 * library: straight to the real function (failure if there is none). */
#define PASS_THROUGH(fn, ...)                                \
    do {                                                     \
        __typeof__(&fn) real_ = REAL_CHECKED(fn);            \
        return real_ ? real_(__VA_ARGS__) : 1;               \
    } while (0)

static void warn_line(const char *line)
{
    event_warn("%s", line);
}

static const char *environment(const char *name)
{
    return getenv(name);
}

static void initialize(void)
{
    config_load(&config, environment, warn_line);
    event_log_configure(&config);
    global_locks_install_fork_handlers();
    active = !config.disabled;
    __atomic_store_n(&initialized, true, __ATOMIC_RELEASE);
}

static inline bool shim_active(void)
{
    if (__builtin_expect(!__atomic_load_n(&initialized, __ATOMIC_ACQUIRE), 0))
        pthread_once(&init_once, initialize);
    return active;
}

/* The launcher's check mode: parse every variable, report, and exit 2 if
 * any is bad, 0 otherwise, before the program runs: the launcher runs
 * `sh -c 'exit 3'` under it, so 3 means the library never loaded. Outside
 * that mode nothing happens in a constructor: no allocation, no lookup. */
__attribute__((constructor)) static void validate_mode(void)
{
    const char *v = getenv("GONESHIM_VALIDATE");
    if (v == NULL || *v == '\0')
        return;
    struct goneshim_config cfg;
    _exit(config_load(&cfg, environment, warn_line) != 0 ? 2 : 0);
}

/* Checked on the first connect, when the client library is surely loaded.
 * mysql_get_client_version() is the Connector/C package version (30320 for
 * 3.3.20); MARIADB_CLIENT_VERSION_ID would be the server tree's (101119 on
 * Debian, which builds the connector from the server sources). Oracle's
 * libmysqlclient answers 80xxx and is passed through. */
static void check_library(void)
{
    unsigned long (*client_version)(void) = symbols_get(&real_mysql_get_client_version);
    unsigned long version = client_version ? client_version() : 0;
    const char *problem = NULL;

    if (version < KNOWN_CLIENT_VERSION_MIN || version >= KNOWN_CLIENT_VERSION_END)
        problem = "is not MariaDB Connector/C 3.1 to 3.4, whose MYSQL layout goneshim knows";
    else if (symbols_get(&real_mariadb_reconnect) == NULL || symbols_get(&real_mysql_get_socket) == NULL)
        problem = "lacks mariadb_reconnect or mysql_get_socket";
    if (problem != NULL) {
        event_warn("goneshim: the loaded client library (version %lu) %s; passing every call through",
                   version, problem);
        active = false;
    }
}

static inline struct handle_state *managed(MYSQL *m)
{
    if (depth != 0 || m == NULL || !shim_active())
        return NULL;
    return registry_lookup(m);
}

/* ---- observing and steering the handle ---- */

static inline bool in_transaction(const MYSQL *m)
{
    return (m->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

static inline enum statement_outcome outcome_of(const MYSQL *m, int rc)
{
    if (rc == 0)
        return OUTCOME_OK;
    return guard_is_connection_lost(m->net.last_errno) ? OUTCOME_CONNECTION_LOST : OUTCOME_SERVER_ERROR;
}

/* The error the library itself gives for a dead connection, set without
 * sending anything. */
static void set_gone_error(MYSQL *m)
{
    m->net.last_errno = CR_SERVER_GONE_ERROR;
    snprintf(m->net.last_error, sizeof m->net.last_error, "%s", "Server has gone away");
    memcpy(m->net.sqlstate, "HY000", sizeof "HY000");
}

/* A ping that cannot hang: a flow a NAT dropped silently never answers. */
static bool bounded_ping(MYSQL *m, int fd)
{
    struct timeval limit = {
        .tv_sec = (time_t)(config.ping_timeout_ns / NS_PER_S),
        .tv_usec = (suseconds_t)(config.ping_timeout_ns % NS_PER_S / 1000),
    };
    struct timeval old_rcv, old_snd;
    socklen_t len = sizeof old_rcv;
    bool have_old = getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &old_rcv, &len) == 0 &&
                    (len = sizeof old_snd, getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old_snd, &len) == 0);
    if (have_old) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    }
    depth++;
    int rc = REAL(mysql_ping)(m);
    depth--;
    /* Restore only on success: after a failure the library has closed the
     * descriptor, and its number may already belong to someone else. */
    if (rc == 0 && have_old) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &old_rcv, sizeof old_rcv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old_snd, sizeof old_snd);
    }
    return rc == 0;
}

/* Why this handle is known dead right now, or REASON_NONE. */
static enum guard_reason probe_connection(MYSQL *m, struct handle_state *h, uint64_t now)
{
    if (m->net.pvio == NULL)
        return REASON_LIBRARY_DROPPED;
    bool drained = m->status == MYSQL_STATUS_READY && !(m->server_status & SERVER_MORE_RESULTS_EXIST);
    enum liveness_check check = guard_liveness_check(&h->guard, &config, now, drained);
    if (check == CHECK_NONE)
        return REASON_NONE;

    int fd = REAL(mysql_get_socket)(m);
    enum peer_state peer = socket_peer_state(fd);
    if (peer == PEER_CLOSED)
        return REASON_PEER_CLOSED;
    /* Unsolicited bytes are a farewell error packet, or on TLS possibly a
     * record the TLS library has not consumed yet: a ping tells which. */
    if (peer == PEER_SENT_DATA || check == CHECK_PEEK_AND_PING)
        return bounded_ping(m, fd) ? REASON_NONE : REASON_PING_FAILED;
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
static bool restore_session(MYSQL *m, struct handle_state *h, bool autocommit)
{
    bool now_autocommit = (m->server_status & SERVER_STATUS_AUTOCOMMIT) != 0;
    depth++;
    bool ok = now_autocommit == autocommit || REAL(mysql_autocommit)(m, autocommit) == 0;
    for (struct replay_entry *e = h->replay.head; ok && e != NULL; e = e->next) {
        if (REAL(mysql_real_query)(m, e->sql, e->sql_len) != 0) {
            event_log("handle %p: replaying \"%.200s\" failed: %u %s", (void *)m, e->sql,
                      m->net.last_errno, m->net.last_error);
            ok = false;
        }
    }
    depth--;
    return ok;
}

/* Rebuilds the connection inside the application's MYSQL: same pointer,
 * same host, user, database, character set, flags, options and TLS (the
 * library's mariadb_reconnect), then autocommit and replayed settings.
 * Attempts back off with jitter until GONESHIM_RECONNECT_TIMEOUT. On failure
 * the handle carries the connect error, as a failed connect would. */
static bool reconnect_in_place(MYSQL *m, struct handle_state *h, enum guard_reason why,
                               uint64_t budget_ns, bool renew_session)
{
    my_bool (*reconnect)(MYSQL *) = REAL_CHECKED(mariadb_reconnect);
    uint64_t started = clock_precise_ns();
    uint64_t deadline = started + budget_ns;
    uint64_t idle_ns = clock_coarse_ns() - h->guard.last_used_ns;
    bool autocommit = (m->server_status & SERVER_STATUS_AUTOCOMMIT) != 0;
    unsigned long old_thread = m->thread_id;
    unsigned app_connect_timeout = m->options.connect_timeout;
    unsigned attempt = 0;

    if (reconnect == NULL)
        return false;
    for (;; attempt++) {
        uint64_t now = clock_precise_ns();
        uint64_t remaining_s = now < deadline ? (deadline - now + NS_PER_S - 1) / NS_PER_S : 1;
        if (app_connect_timeout == 0 || app_connect_timeout > remaining_s)
            m->options.connect_timeout = (unsigned)(remaining_s ? remaining_s : 1);
        /* The rules already judged this safe: let the library do it. */
        m->options.reconnect = 1;
        m->server_status &= ~SERVER_STATUS_IN_TRANS;
        depth++;
        my_bool failed = reconnect(m);
        depth--;
        m->options.reconnect = 0;
        m->options.connect_timeout = app_connect_timeout;
        if (!failed)
            break;
        unsigned error = m->net.last_errno;
        now = clock_precise_ns();
        if (!guard_is_transient_connect_error(error) || now >= deadline) {
            event_log("handle %p: reconnect failed (%s): error %u %s, after %u attempts in %.1f ms",
                      (void *)m, guard_reason_text(why), error, m->net.last_error, attempt + 1,
                      (double)(now - started) / 1e6);
            return false;
        }
        uint64_t pause = guard_backoff_ns(attempt, next_jitter());
        sleep_ns(pause < deadline - now ? pause : deadline - now);
    }

    if (!restore_session(m, h, autocommit)) {
        /* Never hand out a connection whose session differs from what the
         * application set up: close it, so the next statement tries again
         * (and fails the same way if the setting is now refused). */
        shutdown(REAL(mysql_get_socket)(m), SHUT_RDWR);
        return false;
    }
    if (renew_session)
        guard_session_renewed(&h->guard, clock_coarse_ns());
    event_log("handle %p: reconnected (%s), idle %.1f s, connection %lu -> %lu, %u attempt(s), "
              "%u setting(s) replayed, took %.1f ms",
              (void *)m, guard_reason_text(why), (double)idle_ns / 1e9, old_thread, m->thread_id,
              attempt + 1, h->replay.count, (double)(clock_precise_ns() - started) / 1e6);
    return true;
}

/* The statement failed because the connection died and the application
 * gets that error. The handle must still be healthy for its next call, and
 * some consumers (Ruby's mysql2) never call the library again once it has
 * dropped the connection: so reconnect now, with one attempt (a server
 * that is down must not delay the error), and hand back the original
 * error. A lost transaction stays lost: its statements keep failing until
 * ROLLBACK, which then runs on this fresh connection. */
static void repair_after_failure(MYSQL *m, struct handle_state *h, enum guard_reason why)
{
    unsigned error = m->net.last_errno;
    char message[sizeof m->net.last_error], sqlstate[sizeof m->net.sqlstate];
    memcpy(message, m->net.last_error, sizeof message);
    memcpy(sqlstate, m->net.sqlstate, sizeof sqlstate);
    reconnect_in_place(m, h, why, 0, false);
    m->net.last_errno = error;
    memcpy(m->net.last_error, message, sizeof message);
    memcpy(m->net.sqlstate, sqlstate, sizeof sqlstate);
}

static void log_decision(MYSQL *m, const struct guard_decision *d)
{
    if (d->reason != REASON_NONE && event_log_enabled())
        event_log("handle %p: statement fails with error %u: %s", (void *)m, m->net.last_errno,
                  guard_reason_text(d->reason));
}

/* ---- the statement path, shared by every interposed entry point ---- */

/* Before sending: check liveness and apply the rules. Returns 0 to go on,
 * 1 when the statement must fail (the error is set on the handle). */
static int statement_begin(MYSQL *m, struct handle_state *h, const struct statement_class *c,
                           enum guard_reason known_dead)
{
    m->options.reconnect = 0; /* the library's own reconnect splits transactions */
    enum guard_reason dead = known_dead != REASON_NONE ? known_dead
                                                       : probe_connection(m, h, clock_coarse_ns());
    struct guard_decision d = guard_before_statement(&h->guard, c, dead, in_transaction(m));
    switch (d.action) {
    case GUARD_FAIL_GONE:
        set_gone_error(m);
        log_decision(m, &d);
        return 1;
    case GUARD_RECONNECT_AND_SEND:
        return reconnect_in_place(m, h, d.reason, config.reconnect_timeout_ns, true) ? 0 : 1;
    default:
        return 0;
    }
}

/* After the answer (or its absence). Returns true when the statement must
 * be sent again on the fresh connection that was just made. */
static bool statement_end(MYSQL *m, struct handle_state *h, const struct statement_class *c, int rc,
                          bool was_in_transaction, bool retried)
{
    struct guard_decision d = guard_after_statement(&h->guard, c, outcome_of(m, rc), was_in_transaction,
                                                    retried, &config, clock_coarse_ns());
    if (d.action != GUARD_RECONNECT_AND_RETRY) {
        if (rc != 0)
            log_decision(m, &d);
        if (rc != 0 && m->net.pvio == NULL)
            repair_after_failure(m, h, d.reason);
        return false;
    }
    unsigned error = m->net.last_errno;
    if (!reconnect_in_place(m, h, d.reason, config.reconnect_timeout_ns, true))
        return false;
    event_log("handle %p: sending again a statement that is safe to repeat (it had failed with %u)",
              (void *)m, error);
    return true;
}

typedef int (*statement_call)(MYSQL *m, const void *arg);

static int run_statement(MYSQL *m, struct handle_state *h, const struct statement_class *c,
                         statement_call call, const void *arg)
{
    if (statement_begin(m, h, c, REASON_NONE) != 0)
        return 1;
    for (bool retried = false;; retried = true) {
        bool was_in_transaction = in_transaction(m);
        depth++;
        int rc = call(m, arg);
        depth--;
        if (!statement_end(m, h, c, rc, was_in_transaction, retried))
            return rc;
    }
}

/* A successful SET changes what a reconnect must replay. */
static void note_set(MYSQL *m, struct handle_state *h, const char *sql, size_t len)
{
    struct set_parse_result parsed;
    parse_set_statement(sql, len, &parsed);
    if (parsed.status != SET_PARSE_OK)
        return; /* the classifier already marked the session unrestorable */
    for (unsigned i = 0; i < parsed.n; i++) {
        if (!session_replay_record(&h->replay, &parsed.assignments[i])) {
            event_log("handle %p: too many session settings to replay; a lost connection will be reported",
                      (void *)m);
            h->guard.unrestorable |= STATE_USER_VARS;
            return;
        }
    }
}

/* ---- the interposed API ---- */

static const struct statement_class class_commit = {STMT_COMMIT, 0, 0, false};
static const struct statement_class class_rollback = {STMT_ROLLBACK, 0, 0, true};
static const struct statement_class class_session_setting = {STMT_SET, 0, 0, true};
static const struct statement_class class_use = {STMT_USE, 0, 0, true};
static const struct statement_class class_ping = {STMT_READ, 0, 0, true};
/* change_user and reset_connection end the session, and with it any
 * transaction, like a ROLLBACK: they are allowed on a lost transaction. */
static const struct statement_class class_session_reset = {STMT_ROLLBACK, 0, 0, true};

EXPORT MYSQL *mysql_real_connect(MYSQL *m, const char *host, const char *user, const char *passwd,
                                 const char *db, unsigned int port, const char *unix_socket,
                                 unsigned long clientflag)
{
    __typeof__(&mysql_real_connect) real = REAL_CHECKED(mysql_real_connect);
    if (real == NULL)
        return NULL;
    if (depth != 0 || !shim_active())
        return real(m, host, user, passwd, db, port, unix_socket, clientflag);

    MYSQL *result = real(m, host, user, passwd, db, port, unix_socket, clientflag);
    pthread_once(&library_once, check_library);
    if (result == NULL || !active)
        return result;

    struct handle_state *h = registry_lookup(m);
    if (h == NULL) {
        h = calloc(1, sizeof *h);
        if (h == NULL || !registry_insert(m, h)) {
            free(h);
            event_log("handle %p: out of memory; this handle is not protected", (void *)m);
            return result;
        }
    } else {
        session_replay_clear(&h->replay);
        h->pending = false;
    }
    guard_session_renewed(&h->guard, clock_coarse_ns());
    m->options.reconnect = 0;
    return result;
}

EXPORT void mysql_close(MYSQL *m)
{
    __typeof__(&mysql_close) real = REAL_CHECKED(mysql_close);
    /* At depth > 0 this is mariadb_reconnect closing the old connection of
     * a handle that lives on: its state must stay. */
    if (depth == 0 && m != NULL && initialized) {
        struct handle_state *h = registry_remove(m);
        if (h != NULL) {
            session_replay_clear(&h->replay);
            free(h);
        }
    }
    if (real != NULL)
        real(m);
}

EXPORT int mysql_options(MYSQL *m, enum mysql_option option, const void *arg)
{
    __typeof__(&mysql_options) real = REAL_CHECKED(mysql_options);
    if (real == NULL)
        return 1;
    if (option == MYSQL_OPT_RECONNECT && depth == 0 && shim_active()) {
        /* goneshim reconnects, safely; the library's own reconnect would
         * silently split transactions. Accept the call, keep it off. */
        static const my_bool off = 0;
        return real(m, option, &off);
    }
    return real(m, option, arg);
}

struct query_args {
    const char *sql;
    unsigned long len;
};

static int call_real_query(MYSQL *m, const void *arg)
{
    const struct query_args *q = arg;
    return REAL(mysql_real_query)(m, q->sql, q->len);
}

EXPORT int mysql_real_query(MYSQL *m, const char *sql, unsigned long len)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_real_query, m, sql, len);
    struct statement_class c;
    classify_statement(sql, len, &c);
    struct query_args q = {sql, len};
    int rc = run_statement(m, h, &c, call_real_query, &q);
    if (rc == 0 && c.kind == STMT_SET)
        note_set(m, h, sql, len);
    return rc;
}

EXPORT int mysql_query(MYSQL *m, const char *sql)
{
    /* Not the library's mysql_query: one path, one decision per statement. */
    return mysql_real_query(m, sql, (unsigned long)strlen(sql));
}

EXPORT int mysql_send_query(MYSQL *m, const char *sql, unsigned long len)
{
    __typeof__(&mysql_send_query) real = REAL_CHECKED(mysql_send_query);
    if (real == NULL)
        return 1;
    struct handle_state *h = managed(m);
    if (h == NULL)
        return real(m, sql, len);

    struct statement_class c;
    classify_statement(sql, len, &c);
    h->pending = false;
    if (statement_begin(m, h, &c, REASON_NONE) != 0)
        return 1;
    for (bool resent = false;; resent = true) {
        h->pending_in_transaction = in_transaction(m);
        depth++;
        int rc = real(m, sql, len);
        depth--;
        if (rc == 0) {
            h->pending = true;
            h->pending_class = c;
            h->pending_len = len <= PENDING_SQL_MAX ? len : 0;
            if (h->pending_len != 0)
                memcpy(h->pending_sql, sql, len);
            else
                h->pending_class.retry_safe = false;
            return 0;
        }
        /* A failed send means the server never got the whole statement:
         * like a connection found dead before sending, whatever it is. */
        if (resent || outcome_of(m, rc) != OUTCOME_CONNECTION_LOST ||
            statement_begin(m, h, &c, REASON_LIBRARY_DROPPED) != 0)
            return rc;
    }
}

EXPORT my_bool mysql_read_query_result(MYSQL *m)
{
    __typeof__(&mysql_read_query_result) real = REAL_CHECKED(mysql_read_query_result);
    if (real == NULL)
        return 1;
    struct handle_state *h = managed(m);
    if (h == NULL || !h->pending)
        return real(m);
    h->pending = false;

    for (bool retried = false;; retried = true) {
        depth++;
        my_bool rc = real(m);
        depth--;
        if (!statement_end(m, h, &h->pending_class, rc, h->pending_in_transaction, retried)) {
            if (rc == 0 && h->pending_class.kind == STMT_SET)
                note_set(m, h, h->pending_sql, h->pending_len);
            return rc;
        }
        h->pending_in_transaction = in_transaction(m);
        depth++;
        int sent = REAL(mysql_send_query)(m, h->pending_sql, h->pending_len);
        depth--;
        if (sent != 0)
            return 1;
    }
}

static int call_select_db(MYSQL *m, const void *db)
{
    return REAL(mysql_select_db)(m, db);
}

EXPORT int mysql_select_db(MYSQL *m, const char *db)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_select_db, m, db);
    return run_statement(m, h, &class_use, call_select_db, db);
}

static int call_set_character_set(MYSQL *m, const void *csname)
{
    return REAL(mysql_set_character_set)(m, csname);
}

EXPORT int mysql_set_character_set(MYSQL *m, const char *csname)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_set_character_set, m, csname);
    int rc = run_statement(m, h, &class_session_setting, call_set_character_set, csname);
    if (rc == 0) {
        /* The library's reconnect restores this character set itself; an
         * older SET NAMES must not be replayed over it. */
        session_replay_forget(&h->replay, "names");
        session_replay_forget(&h->replay, "character set");
    }
    return rc;
}

static int call_autocommit(MYSQL *m, const void *mode)
{
    return REAL(mysql_autocommit)(m, *(const my_bool *)mode);
}

EXPORT my_bool mysql_autocommit(MYSQL *m, my_bool mode)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_autocommit, m, mode);
    /* autocommit=1 commits an open transaction: on a lost one it must fail
     * like a COMMIT, which the rules do since it is not a ROLLBACK. The
     * mode itself needs no record: the server status carries it. */
    return (my_bool)run_statement(m, h, &class_session_setting, call_autocommit, &mode);
}

static int call_commit(MYSQL *m, const void *unused)
{
    (void)unused;
    return REAL(mysql_commit)(m);
}

EXPORT my_bool mysql_commit(MYSQL *m)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_commit, m);
    return (my_bool)run_statement(m, h, &class_commit, call_commit, NULL);
}

static int call_rollback(MYSQL *m, const void *unused)
{
    (void)unused;
    return REAL(mysql_rollback)(m);
}

EXPORT my_bool mysql_rollback(MYSQL *m)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_rollback, m);
    return (my_bool)run_statement(m, h, &class_rollback, call_rollback, NULL);
}

static int call_ping(MYSQL *m, const void *unused)
{
    (void)unused;
    return REAL(mysql_ping)(m);
}

EXPORT int mysql_ping(MYSQL *m)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_ping, m);
    return run_statement(m, h, &class_ping, call_ping, NULL);
}

struct change_user_args {
    const char *user, *passwd, *db;
};

static int call_change_user(MYSQL *m, const void *arg)
{
    const struct change_user_args *a = arg;
    return REAL(mysql_change_user)(m, a->user, a->passwd, a->db);
}

EXPORT my_bool mysql_change_user(MYSQL *m, const char *user, const char *passwd, const char *db)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_change_user, m, user, passwd, db);
    struct change_user_args a = {user, passwd, db};
    int rc = run_statement(m, h, &class_session_reset, call_change_user, &a);
    if (rc == 0) {
        session_replay_clear(&h->replay);
        guard_session_renewed(&h->guard, clock_coarse_ns());
    }
    return (my_bool)rc;
}

static int call_reset_connection(MYSQL *m, const void *unused)
{
    (void)unused;
    return REAL(mysql_reset_connection)(m);
}

EXPORT int mysql_reset_connection(MYSQL *m)
{
    struct handle_state *h = managed(m);
    if (h == NULL)
        PASS_THROUGH(mysql_reset_connection, m);
    int rc = run_statement(m, h, &class_session_reset, call_reset_connection, NULL);
    if (rc == 0) {
        session_replay_clear(&h->replay);
        guard_session_renewed(&h->guard, clock_coarse_ns());
    }
    return rc;
}
