/* mysqlclient_adapter.c - the libmysqlclient C API, interposed, as MariaDB
 * Connector/C 3.x implements it or as Oracle's libmysqlclient 9.x does:
 * the file is compiled against the client headers the system has (the
 * Makefile picks them), and the few places where the two libraries differ
 * are the "dialect" blocks below (how to reach the socket, bound a ping,
 * reconnect in place, and the options only one of them has).
 *
 * A translation, nothing more: each interposed function becomes a call of
 * the driver (driver.h), and the driver's operations on a connection or a
 * statement (backend.h) become calls of the library and reads of its
 * structures. What to do is decided in shim/core.
 *
 * It reads and writes a few fields of MYSQL (the link, net.last_errno,
 * server_status, status, the reconnect flag, options.connect_timeout) and
 * of MYSQL_STMT, as the headers it was compiled with lay them out: the
 * frozen libmysqlclient_18 ABI of Connector/C 3.x, or Oracle's of one
 * major version. The first connect checks the loaded library's version
 * and passes everything through when it is not one goneshim knows.
 *
 * Both libraries call parts of their own API through the PLT (mysql_query
 * -> mysql_real_query, mysql_commit -> mysql_real_query, their reconnect ->
 * mysql_real_connect and mysql_close, ...). A thread-local depth counter
 * makes every call the shim makes, and every call nested in an application
 * call, pass straight through: no statement is handled twice.
 */
#include <mysql.h>
#if defined(MARIADB_PACKAGE_VERSION_ID)
#define CLIENT_LIBMARIADB 1
/* After mysql.h, which it needs: the virtual I/O layer's timeouts. */
#include <ma_pvio.h>
#elif defined(LIBMYSQL_VERSION_ID)
#define CLIENT_ORACLE 1
#include <errno.h>
#include <signal.h>
#include <time.h>
/* Oracle's API says bool where Connector/C says my_bool (a char): the same
 * one byte in the ABI. */
typedef bool my_bool;
#else
#error "mysql.h is neither MariaDB Connector/C's nor Oracle's libmysqlclient's"
#endif
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "clock.h"
#include "digest.h"
#include "driver.h"
#include "event_log.h"
#include "protocol.h"
#include "shim_runtime.h"
#include "symbols.h"
#include "text.h"

#define EXPORT __attribute__((visibility("default")))

#ifdef CLIENT_LIBMARIADB
/* Connector/C versions whose MYSQL layout this file was written against. */
#define KNOWN_CLIENT_VERSION_MIN 30100 /* 3.1.0 */
#define KNOWN_CLIENT_VERSION_END 30500 /* up to, not including, 3.5.0 */
#define KNOWN_CLIENT_NAME "MariaDB Connector/C 3.1 to 3.4"
#define LIBRARY_NAME "libmariadb"
/* The symbol versions of its exports. */
#define V18 "libmysqlclient_18"
#define V3 "libmariadb_3"
#else
/* Oracle's library: the major version it was compiled against (its MYSQL
 * layout), tested with 9.7.4. */
#define KNOWN_CLIENT_VERSION_MIN (LIBMYSQL_VERSION_ID / 10000 * 10000)
#define KNOWN_CLIENT_VERSION_END (KNOWN_CLIENT_VERSION_MIN + 10000)
#define KNOWN_CLIENT_NAME "the Oracle libmysqlclient goneshim was built for"
#define LIBRARY_NAME "libmysqlclient"
#define V18 "libmysqlclient_24.0"
#define V3 "libmysqlclient_24.0"
#endif

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static bool library_known = true; /* false: pass every call through */

static struct real_symbol real_mysql_real_connect = REAL_SYMBOL(mysql_real_connect, V18);
static struct real_symbol real_mysql_close = REAL_SYMBOL(mysql_close, V18);
#ifdef CLIENT_LIBMARIADB
static struct real_symbol real_mysql_optionsv = REAL_SYMBOL(mysql_optionsv, V3);
static struct real_symbol real_mysql_get_optionv = REAL_SYMBOL(mysql_get_optionv, V3);
static struct real_symbol real_mysql_get_socket = REAL_SYMBOL(mysql_get_socket, V18);
static struct real_symbol real_mariadb_reconnect = REAL_SYMBOL(mariadb_reconnect, V3);
#else
static struct real_symbol real_mysql_options = REAL_SYMBOL(mysql_options, V18);
static struct real_symbol real_mysql_get_option = REAL_SYMBOL(mysql_get_option, V18);
static struct real_symbol real_mysql_real_query_nonblocking = REAL_SYMBOL(mysql_real_query_nonblocking, V18);
static struct real_symbol real_mysql_send_query_nonblocking = REAL_SYMBOL(mysql_send_query_nonblocking, V18);
static struct real_symbol real_mysql_reset_connection_nonblocking =
    REAL_SYMBOL(mysql_reset_connection_nonblocking, V18);
#endif
static struct real_symbol real_mysql_store_result = REAL_SYMBOL(mysql_store_result, V18);
static struct real_symbol real_mysql_use_result = REAL_SYMBOL(mysql_use_result, V18);
static struct real_symbol real_mysql_data_seek = REAL_SYMBOL(mysql_data_seek, V18);
static struct real_symbol real_mysql_fetch_row = REAL_SYMBOL(mysql_fetch_row, V18);
static struct real_symbol real_mysql_fetch_lengths = REAL_SYMBOL(mysql_fetch_lengths, V18);
static struct real_symbol real_mysql_fetch_field_direct = REAL_SYMBOL(mysql_fetch_field_direct, V18);
static struct real_symbol real_mysql_free_result = REAL_SYMBOL(mysql_free_result, V18);
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
static struct real_symbol real_mysql_get_client_version = REAL_SYMBOL(mysql_get_client_version, V18);
static struct real_symbol real_mysql_stmt_prepare = REAL_SYMBOL(mysql_stmt_prepare, V18);
static struct real_symbol real_mysql_stmt_execute = REAL_SYMBOL(mysql_stmt_execute, V18);
static struct real_symbol real_mysql_stmt_bind_param = REAL_SYMBOL(mysql_stmt_bind_param, V18);
static struct real_symbol real_mysql_stmt_bind_result = REAL_SYMBOL(mysql_stmt_bind_result, V18);
static struct real_symbol real_mysql_stmt_attr_set = REAL_SYMBOL(mysql_stmt_attr_set, V18);
static struct real_symbol real_mysql_stmt_send_long_data = REAL_SYMBOL(mysql_stmt_send_long_data, V18);
static struct real_symbol real_mysql_stmt_close = REAL_SYMBOL(mysql_stmt_close, V18);
static struct real_symbol real_mysql_stmt_reset = REAL_SYMBOL(mysql_stmt_reset, V18);
static struct real_symbol real_mysql_stmt_init = REAL_SYMBOL(mysql_stmt_init, V18);
static struct real_symbol real_mysql_stmt_store_result = REAL_SYMBOL(mysql_stmt_store_result, V18);
static struct real_symbol real_mysql_stmt_affected_rows = REAL_SYMBOL(mysql_stmt_affected_rows, V18);
static struct real_symbol real_mysql_stmt_insert_id = REAL_SYMBOL(mysql_stmt_insert_id, V18);
static struct real_symbol real_mysql_stmt_errno = REAL_SYMBOL(mysql_stmt_errno, V18);

/* The real function, typed like ours. NULL only if no loaded object has it,
 * which cannot happen for a function the application just called through
 * a library that defines it; callers still check, once, in real_or_warn. */
#define REAL(fn) ((__typeof__(&(fn)))symbols_get(&real_##fn))

static void *real_or_warn(struct real_symbol *s)
{
    void *p = symbols_get(s);
    static bool warned;
    if (p == NULL && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        event_warn("goneshim: cannot find the real %s in any loaded library; the call fails", s->name);
    return p;
}
#define REAL_CHECKED(fn) ((__typeof__(&(fn)))real_or_warn(&real_##fn))

/* A call on a handle goneshim does not manage, or made from inside the
 * library: straight to the real function (failure if there is none).
 * Inside the depth guard, so that what the library does in it (its own
 * reconnect connects a temporary handle and closes the old connection)
 * passes straight through too. */
#define PASS_THROUGH(fn, ...)                                      \
    do {                                                           \
        __typeof__(&fn) real_ = REAL_CHECKED(fn);                  \
        return real_ ? SHIM_REAL_CALL(real_(__VA_ARGS__)) : 1;     \
    } while (0)

/* libmariadb takes a length of (unsigned long)-1 for "up to the NUL";
 * Oracle's library takes every length at its word. */
static inline unsigned long text_length(const char *sql, unsigned long len)
{
#ifdef CLIENT_LIBMARIADB
    return len == (unsigned long)-1 && sql != NULL ? (unsigned long)strlen(sql) : len;
#else
    (void)sql;
    return len;
#endif
}

/* The library's own convention for the driver's bool. */
#define RC(ok) ((ok) ? 0 : 1)

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
        problem = "is not " KNOWN_CLIENT_NAME ", whose MYSQL layout goneshim knows";
#ifdef CLIENT_LIBMARIADB
    else if (symbols_get(&real_mariadb_reconnect) == NULL || symbols_get(&real_mysql_get_socket) == NULL)
        problem = "lacks mariadb_reconnect or mysql_get_socket";
#endif
    if (problem != NULL) {
        event_warn("goneshim: the loaded client library (version %lu) %s; passing every call through",
                   version, problem);
        library_known = false;
    }
}


/* ---- the dialect: where the two libraries differ ---- */

#ifdef CLIENT_LIBMARIADB
/* The library's own reconnect flag (MYSQL_OPT_RECONNECT). */
#define LIBRARY_RECONNECT(m) ((m)->options.reconnect)
#define LINK(m) ((m)->net.pvio)

static int socket_of(MYSQL *m)
{
    return (int)REAL(mysql_get_socket)(m);
}
#else
/* Oracle keeps it in MYSQL itself; mysql_options(MYSQL_OPT_RECONNECT)
 * prints a deprecation warning, the field does not. */
#define LIBRARY_RECONNECT(m) ((m)->reconnect)
#define LINK(m) ((m)->net.vio)

static int socket_of(MYSQL *m)
{
    return m->net.vio != NULL ? (int)m->net.fd : -1;
}
#endif

/* ---- the connection operations the driver needs (backend.h) ---- */

/* The adapter's part of the driver's record of a MYSQL. */
struct connection_backend {
    /* MYSQL_OPT_RECONNECT as the application set it (mysql_options,
     * mysql_optionsv, or reconnect=1 in a my.cnf [client] group). The
     * library's own flag stays off while goneshim manages the handle: that
     * reconnect splits transactions. */
    my_bool app_reconnect;
    /* The application called mysql_set_character_set: the session's
     * collation is then the one its SET NAMES gave, which the library's
     * reconnect repeats, not the one the handshake chose. */
    bool charset_chosen_by_app;
};

static bool op_link_dropped(void *conn)
{
    return LINK((MYSQL *)conn) == NULL;
}

static bool op_drained(void *conn)
{
    const MYSQL *m = conn;
    return m->status == MYSQL_STATUS_READY && !(m->server_status & GS_STATUS_MORE_RESULTS);
}

static int op_socket_fd(void *conn)
{
    return socket_of(conn);
}

static unsigned op_server_status(void *conn)
{
    return ((MYSQL *)conn)->server_status;
}

static unsigned long long op_thread_id(void *conn)
{
    return ((MYSQL *)conn)->thread_id;
}

static const char *op_server_version(void *conn)
{
    return ((MYSQL *)conn)->server_version;
}

static unsigned long long op_insert_id(void *conn)
{
    return ((MYSQL *)conn)->insert_id;
}

static void op_set_insert_id(void *conn, unsigned long long id)
{
    ((MYSQL *)conn)->insert_id = id;
}

static void op_save_error(void *conn, struct error_snapshot *e)
{
    const MYSQL *m = conn;
    e->code = m->net.last_errno;
    text_copy(e->sqlstate, sizeof e->sqlstate, m->net.sqlstate);
    text_copy(e->message, sizeof e->message, m->net.last_error);
}

static void op_set_error(void *conn, const struct error_snapshot *e)
{
    MYSQL *m = conn;
    m->net.last_errno = e->code;
    text_copy(m->net.sqlstate, sizeof m->net.sqlstate, e->sqlstate);
    text_copy(m->net.last_error, sizeof m->net.last_error, e->message);
}

static void op_show_transaction(void *conn)
{
    ((MYSQL *)conn)->server_status |= SERVER_STATUS_IN_TRANS;
}

#ifdef CLIENT_LIBMARIADB
static int ping_limit_ms(uint64_t timeout_ns)
{
    uint64_t ms = timeout_ns / NS_PER_MS;
    return ms > 0 && ms < INT32_MAX ? (int)ms : 1;
}

/* A ping that cannot hang: a flow a NAT dropped silently never answers.
 * libmariadb reads without blocking and then polls with the timeout of
 * its virtual I/O layer (the MYSQL_OPT_READ/WRITE_TIMEOUT options, none by
 * default), so the bound goes there, in milliseconds, for this one call.
 * After a failure the layer is gone with the link. */
static bool op_ping(void *conn, uint64_t timeout_ns)
{
    MYSQL *m = conn;
    MARIADB_PVIO *pvio = m->net.pvio;
    if (pvio == NULL)
        return false;
    int limit_ms = ping_limit_ms(timeout_ns);
    int old_read = pvio->timeout[PVIO_READ_TIMEOUT], old_write = pvio->timeout[PVIO_WRITE_TIMEOUT];
    if (old_read <= 0 || old_read > limit_ms)
        pvio->timeout[PVIO_READ_TIMEOUT] = limit_ms;
    if (old_write <= 0 || old_write > limit_ms)
        pvio->timeout[PVIO_WRITE_TIMEOUT] = limit_ms;
    int rc = REAL(mysql_ping)(m);
    if (rc == 0) { /* on failure the layer went with the link */
        pvio->timeout[PVIO_READ_TIMEOUT] = old_read;
        pvio->timeout[PVIO_WRITE_TIMEOUT] = old_write;
    }
    return rc == 0;
}

/* libmariadb's own mariadb_reconnect keeps the pointer, host, user, db
 * (which follows USE), character set, flags, options, TLS and init
 * commands. Its reconnect is forced on only inside this call, which the
 * rules already judged safe; IN_TRANS is cleared because it refuses to
 * reconnect a handle that was in a transaction. */
static bool library_reconnect_in_place(MYSQL *m, bool server_is_mysql, bool charset_chosen_by_app)
{
    my_bool (*reconnect)(MYSQL *) = REAL_CHECKED(mariadb_reconnect);
    if (reconnect == NULL)
        return false;
    m->options.reconnect = 1;
    m->server_status &= ~SERVER_STATUS_IN_TRANS;
    my_bool failed = reconnect(m);
    m->options.reconnect = 0;
    if (failed)
        return false;
    /* Its reconnect ends with SET NAMES and the character set's name
     * alone. On MariaDB that gives what the handshake gave: both follow
     * @@character_set_collations (11.5 and later: utf8mb4_uca1400_ai_ci
     * for either) or the character set's default (earlier). On MySQL 8.0
     * and later they differ: the handshake keeps the collation the library
     * sent (utf8mb4_general_ci), SET NAMES gives the server's default
     * (utf8mb4_0900_ai_ci), so the session gets back the library's
     * collation for the handle. Not when the application had called
     * mysql_set_character_set: its SET NAMES is what the reconnect
     * repeated. A SET NAMES of the application's own is replayed after.
     * The server is the one the driver read from the old connection's
     * version (server_profile.h): a server that reports neither name gets
     * nothing added. */
    const MARIADB_CHARSET_INFO *cs = m->charset;
    if (!server_is_mysql || charset_chosen_by_app || cs == NULL || cs->csname == NULL || cs->name == NULL)
        return true;
    char sql[160];
    int n = snprintf(sql, sizeof sql, "SET NAMES '%s' COLLATE '%s'", cs->csname, cs->name);
    return n > 0 && (size_t)n < sizeof sql && REAL(mysql_real_query)(m, sql, (unsigned long)n) == 0;
}
#else
/* A ping that cannot hang. Oracle's library waits for the answer without
 * a bound unless the application set a read timeout before connecting
 * (its I/O layer retries a read the socket's own timeout interrupts, so
 * SO_RCVTIMEO does not help, and its timeouts are not reachable through
 * the API). So a watchdog thread shuts the socket down if the answer has
 * not come within the bound: the library's read then fails, it drops the
 * link, and goneshim reconnects. A thread per ping costs tens of
 * microseconds, and this ping only runs after GONESHIM_IDLE of inactivity;
 * it blocks every signal, so that the host's handlers run where they did.
 * Trade-off: if the ping fails and the library closes the socket just as
 * the deadline passes, the watchdog may shut down whatever descriptor
 * took that number in between; the window is the few instructions
 * between the ping's return and `done`. */
struct ping_watchdog {
    pthread_mutex_t lock;
    pthread_cond_t answered;
    bool done;
    int fd;
    struct timespec deadline; /* CLOCK_MONOTONIC */
};

static void *ping_watchdog_main(void *arg)
{
    struct ping_watchdog *w = arg;
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    while (!w->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->answered, &w->lock, &w->deadline);
    if (!w->done)
        (void)shutdown(w->fd, SHUT_RDWR); /* no answer in time: fail the ping */
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static bool op_ping(void *conn, uint64_t timeout_ns)
{
    MYSQL *m = conn;
    int fd = socket_of(m);
    if (fd < 0)
        return false;
    struct ping_watchdog w = {.done = false, .fd = fd};
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool ready = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                 pthread_cond_init(&w.answered, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ready)
        return false; /* unbounded it could hang: take the link for dead */
    pthread_mutex_init(&w.lock, NULL);
    uint64_t deadline_ns = clock_precise_ns() + (timeout_ns != 0 ? timeout_ns : NS_PER_MS);
    w.deadline.tv_sec = (time_t)(deadline_ns / NS_PER_S);
    w.deadline.tv_nsec = (long)(deadline_ns % NS_PER_S);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t watchdog;
    bool started = pthread_create(&watchdog, NULL, ping_watchdog_main, &w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int rc = started ? REAL(mysql_ping)(m) : 1;
    if (started) {
        pthread_mutex_lock(&w.lock);
        w.done = true;
        pthread_cond_signal(&w.answered);
        pthread_mutex_unlock(&w.lock);
        pthread_join(watchdog, NULL);
    }
    pthread_cond_destroy(&w.answered);
    pthread_mutex_destroy(&w.lock);
    return rc == 0;
}

/* Oracle's library has no public reconnect; its own, inside a command on
 * a handle whose link is gone and whose MYSQL::reconnect is set, connects
 * a new link with the same host, user, password, database (which follows
 * USE), character set, options and TLS, and moves it into the same MYSQL.
 * So: the link is shut down (it is dead or condemned anyway), the flag set
 * for one mysql_ping, which fails on the old link and reconnects. The
 * library would detach the prepared statements from the handle (they
 * would fail for good); they are taken off its list meanwhile and put back
 * after, as statements of an older connection that goneshim prepares again
 * before their next use. IN_TRANS is cleared: the library refuses to
 * reconnect in a transaction. Its reconnect hands the character set to
 * the handshake alone, which keeps the session's collation. */
static bool library_reconnect_in_place(MYSQL *m, bool server_is_mysql, bool charset_chosen_by_app)
{
    (void)server_is_mysql;
    (void)charset_chosen_by_app;
    int fd = socket_of(m);
    if (fd >= 0)
        (void)shutdown(fd, SHUT_RDWR);
    LIST *statements = m->stmts;
    m->stmts = NULL;
    m->reconnect = true;
    m->server_status &= ~SERVER_STATUS_IN_TRANS;
    int rc = REAL(mysql_ping)(m);
    m->reconnect = false;
    /* The library's list is a plain doubly linked list of LIST nodes. */
    if (statements != NULL) {
        LIST *last = statements;
        while (last->next != NULL)
            last = last->next;
        last->next = m->stmts;
        if (m->stmts != NULL)
            m->stmts->prev = last;
        m->stmts = statements;
    }
    /* The old link was shut: a ping that succeeded ran on a new one. */
    return rc == 0 && m->net.vio != NULL;
}
#endif

static bool op_reconnect_once(void *conn, void *backend, const struct reconnect_request *r)
{
    MYSQL *m = conn;
    unsigned app_connect_timeout = m->options.connect_timeout;
    if (app_connect_timeout == 0 || app_connect_timeout > r->timeout_s)
        m->options.connect_timeout = r->timeout_s;
    bool ok = library_reconnect_in_place(m, r->server_is_mysql,
                                         ((const struct connection_backend *)backend)->charset_chosen_by_app);
    m->options.connect_timeout = app_connect_timeout;
    return ok;
}

static bool op_set_autocommit(void *conn, bool on)
{
    return REAL(mysql_autocommit)(conn, (my_bool)on) == 0;
}

static bool op_run_sql(void *conn, const char *sql, size_t len)
{
    return REAL(mysql_real_query)(conn, sql, len) == 0;
}

static bool op_send_sql(void *conn, const char *sql, size_t len)
{
    return REAL(mysql_send_query)(conn, sql, len) == 0;
}

static bool op_read_result(void *conn)
{
    return REAL(mysql_read_query_result)(conn) == 0;
}

static void op_drop_link(void *conn)
{
    shutdown(op_socket_fd(conn), SHUT_RDWR);
}

/* A SELECT of one value, leaving the handle as the application saw it
 * after its statement: affected rows, insert id, status, field count. */
static bool op_read_value(void *conn, const char *sql, size_t len, char *value, size_t size, bool *quote)
{
    MYSQL *m = conn;
    if (m->warning_count != 0 || m->info != NULL || m->field_count != 0)
        return false;
    unsigned long long affected = m->affected_rows, insert_id = m->insert_id;
    unsigned status = m->server_status;
    if (REAL(mysql_real_query)(m, sql, (unsigned long)len) != 0)
        return false;
    MYSQL_RES *res = REAL(mysql_store_result)(m);
    MYSQL_ROW row = res != NULL ? REAL(mysql_fetch_row)(res) : NULL;
    const unsigned long *lengths = row != NULL ? REAL(mysql_fetch_lengths)(res) : NULL;
    bool ok = row != NULL && row[0] != NULL && lengths != NULL && lengths[0] < size;
    if (ok) {
        memcpy(value, row[0], lengths[0]);
        value[lengths[0]] = '\0';
        const MYSQL_FIELD *f = REAL(mysql_fetch_field_direct)(res, 0);
        /* cppcheck 2.17 takes the lazily bound function for one that
         * returns NULL. */
        // cppcheck-suppress knownConditionTrueFalse
        *quote = f == NULL || !IS_NUM(f->type);
    }
    if (res != NULL)
        REAL(mysql_free_result)(res);
    m->affected_rows = affected;
    m->insert_id = insert_id;
    m->server_status = status;
    m->field_count = 0;
    m->warning_count = 0;
    return ok;
}

static void op_answer(void *conn, struct answer_summary *a)
{
    const MYSQL *m = conn;
    a->affected_rows = m->affected_rows;
    a->insert_id = m->insert_id;
    a->warnings = m->warning_count;
    a->field_count = m->field_count;
    a->error_code = m->net.last_errno;
    a->info = m->info;
    a->info_len = m->info != NULL ? strlen(m->info) : 0;
}

static uint64_t digest_mysql_field(uint64_t d, const MYSQL_FIELD *f)
{
    const struct column_description c = {
        f->name, f->org_name, f->table, f->org_table, f->db,
        f->name_length, f->org_name_length, f->table_length, f->org_table_length, f->db_length,
        (uint64_t)f->type, f->flags, f->decimals, f->charsetnr, f->length,
    };
    return digest_column(d, &c);
}

/* The digest of a stored result set, as the application can observe it:
 * each column's description, every row, and the warning count of its
 * final packet. Read through the library's own API, then rewound, so the
 * application fetches from the first row as if nothing had looked. */
static uint64_t result_digest(const MYSQL *m, MYSQL_RES *res)
{
    unsigned n = res->field_count;
    uint64_t d = digest_u64(DIGEST_INIT, n);
    for (unsigned i = 0; i < n; i++) {
        const MYSQL_FIELD *f = REAL(mysql_fetch_field_direct)(res, i);
        if (f == NULL)
            return 0;
        d = digest_mysql_field(d, f);
    }
    uint64_t rows = 0;
    for (MYSQL_ROW row; (row = REAL(mysql_fetch_row)(res)) != NULL; rows++) {
        const unsigned long *lengths = REAL(mysql_fetch_lengths)(res);
        for (unsigned i = 0; i < n; i++)
            d = digest_field(d, row[i], row[i] != NULL && lengths != NULL ? lengths[i] : 0);
    }
    REAL(mysql_data_seek)(res, 0);
    d = digest_u64(d, rows);
    d = digest_u64(d, m->warning_count);
    return digest_finish(d);
}

static bool op_replay_sql(void *conn, const char *sql, size_t len, struct answer_summary *a, uint64_t *rows)
{
    MYSQL *m = conn;
    *rows = 0;
    int rc = REAL(mysql_real_query)(m, sql, (unsigned long)len);
    op_answer(m, a);
    if (rc != 0)
        return !op_link_dropped(m) && a->error_code != 0 && a->error_code < GS_ER_CLIENT_FIRST;
    if (m->field_count == 0)
        return true;
    MYSQL_RES *res = REAL(mysql_store_result)(m);
    if (res == NULL)
        return false;
    *rows = result_digest(m, res);
    REAL(mysql_free_result)(res);
    return true;
}

static void op_take_over(void *conn, void *backend)
{
    MYSQL *m = conn;
    struct connection_backend *b = backend;
    b->app_reconnect = LIBRARY_RECONNECT(m);
    LIBRARY_RECONNECT(m) = 0;
}

static bool op_library_reconnect(void *backend)
{
    return ((struct connection_backend *)backend)->app_reconnect != 0;
}

static bool op_application_reads_answers(void *conn)
{
#ifdef CLIENT_LIBMARIADB
    my_bool skip = 0;
    return REAL(mysql_get_optionv)(conn, MARIADB_OPT_SKIP_READ_RESPONSE, &skip) == 0 && skip;
#else
    (void)conn; /* Oracle's library has no such option */
    return false;
#endif
}

static void op_step_aside(void *conn, void *backend)
{
    LIBRARY_RECONNECT((MYSQL *)conn) = ((struct connection_backend *)backend)->app_reconnect;
}

static bool op_replay_prepared(void *conn, const char *sql, size_t len, const unsigned char *params,
                               size_t params_len, struct answer_summary *a, uint64_t *rows);

static const struct connection_ops mysqlclient_ops = {
    .library = LIBRARY_NAME,
    .backend_size = sizeof(struct connection_backend),
    .link_dropped = op_link_dropped,
    .drained = op_drained,
    .socket_fd = op_socket_fd,
    .server_status = op_server_status,
    .thread_id = op_thread_id,
    .server_version = op_server_version,
    .insert_id = op_insert_id,
    .set_insert_id = op_set_insert_id,
    .save_error = op_save_error,
    .set_error = op_set_error,
    .show_transaction = op_show_transaction,
    .ping = op_ping,
    .reconnect_once = op_reconnect_once,
    .set_autocommit = op_set_autocommit,
    .run_sql = op_run_sql,
    .send_sql = op_send_sql,
    .read_result = op_read_result,
    .drop_link = op_drop_link,
    .read_value = op_read_value,
    .answer = op_answer,
    .replay_sql = op_replay_sql,
    .replay_prepared = op_replay_prepared,
    .take_over = op_take_over,
    .step_aside = op_step_aside,
    .library_reconnect = op_library_reconnect,
    .application_reads_answers = op_application_reads_answers,
};

/* The managed state of a handle, for a statement. The library's own
 * reconnect splits transactions: it is kept off before every statement (a
 * program may set the field directly). */
static inline struct gs_connection *managed(MYSQL *m)
{
    struct gs_connection *c = driver_find(m);
    if (c != NULL)
        LIBRARY_RECONNECT(m) = 0;
    return c;
}

/* ---- the interposed API ---- */

EXPORT MYSQL *mysql_real_connect(MYSQL *m, const char *host, const char *user, const char *passwd,
                                 const char *db, unsigned int port, const char *unix_socket,
                                 unsigned long clientflag)
{
    __typeof__(&mysql_real_connect) real = REAL_CHECKED(mysql_real_connect);
    if (real == NULL)
        return NULL;
    if (shim_in_real_call() || !shim_active())
        return real(m, host, user, passwd, db, port, unix_socket, clientflag);

    MYSQL *result = real(m, host, user, passwd, db, port, unix_socket, clientflag);
    pthread_once(&library_once, check_library);
    if (result == NULL || !library_known)
        return result;
    driver_attach(m, &mysqlclient_ops);
    return result;
}

EXPORT void mysql_close(MYSQL *m)
{
    __typeof__(&mysql_close) real = REAL_CHECKED(mysql_close);
    driver_detach(m);
    if (real != NULL)
        real(m);
}

/* The application's MYSQL_OPT_RECONNECT on a managed handle: goneshim
 * reconnects, safely; the library's own reconnect would split
 * transactions. The application's wish is kept (and shown back by
 * mysql_get_option, and given back to the library when goneshim steps
 * aside); the library's flag stays off. */
static void note_reconnect_option(struct gs_connection *c, bool on)
{
    ((struct connection_backend *)driver_backend(c))->app_reconnect = (my_bool)on;
    driver_reconnect_option(c, on);
}

static bool app_reconnect(struct gs_connection *c)
{
    return ((const struct connection_backend *)driver_backend(c))->app_reconnect;
}

#ifdef CLIENT_LIBMARIADB
/* mysql_options and mysql_options4 are the library's mysql_optionsv, which
 * they call through the PLT: one entry point for every way to set an
 * option. The variadic arguments are passed on as the pointers they are
 * (no option takes more than two). */
EXPORT int mysql_optionsv(MYSQL *m, enum mysql_option option, ...)
{
    va_list ap;
    va_start(ap, option);
    void *arg1 = va_arg(ap, void *);
    void *arg2 = va_arg(ap, void *);
    va_end(ap);
    struct gs_connection *c = option == MYSQL_OPT_RECONNECT ? driver_find(m) : NULL;
    if (c != NULL && arg1 != NULL) {
        note_reconnect_option(c, *(const my_bool *)arg1);
        return 0;
    }
    if (option == MARIADB_OPT_SKIP_READ_RESPONSE && arg1 != NULL)
        driver_application_reads_answers(m, *(const my_bool *)arg1);
    __typeof__(&mysql_optionsv) real = REAL_CHECKED(mysql_optionsv);
    return real ? SHIM_REAL_CALL(real(m, option, arg1, arg2)) : 1;
}

/* mysql_get_option is the library's mysql_get_optionv, through the PLT. */
EXPORT int mysql_get_optionv(MYSQL *m, enum mysql_option option, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    void *arg2 = va_arg(ap, void *);
    void *arg3 = va_arg(ap, void *);
    va_end(ap);
    struct gs_connection *c = option == MYSQL_OPT_RECONNECT ? driver_find(m) : NULL;
    if (c != NULL && arg != NULL) {
        *(my_bool *)arg = (my_bool)app_reconnect(c);
        return 0;
    }
    __typeof__(&mysql_get_optionv) real = REAL_CHECKED(mysql_get_optionv);
    return real ? SHIM_REAL_CALL(real(m, option, arg, arg2, arg3)) : 1;
}

/* The application reconnects the handle itself: as the library would,
 * with the reconnect option it set; the new connection is a new session,
 * as after a connect. */
EXPORT my_bool mariadb_reconnect(MYSQL *m)
{
    struct gs_connection *c = driver_find(m);
    if (c == NULL)
        PASS_THROUGH(mariadb_reconnect, m);
    m->options.reconnect = (my_bool)app_reconnect(c);
    my_bool failed = SHIM_REAL_CALL(REAL(mariadb_reconnect)(m));
    m->options.reconnect = 0;
    if (!failed)
        driver_connected_by_application(c, m);
    return failed;
}
#else
/* Oracle's mysql_options: the library prints a deprecation warning for
 * MYSQL_OPT_RECONNECT; on a managed handle the call is answered here, so
 * the warning comes only when the application's call reaches the library
 * (before it connected), as without goneshim. */
EXPORT int mysql_options(MYSQL *m, enum mysql_option option, const void *arg)
{
    struct gs_connection *c = option == MYSQL_OPT_RECONNECT && arg != NULL ? driver_find(m) : NULL;
    if (c != NULL) {
        note_reconnect_option(c, *(const bool *)arg);
        return 0;
    }
    PASS_THROUGH(mysql_options, m, option, arg);
}

EXPORT int mysql_get_option(MYSQL *m, enum mysql_option option, const void *arg)
{
    struct gs_connection *c = option == MYSQL_OPT_RECONNECT && arg != NULL ? driver_find(m) : NULL;
    if (c != NULL) {
        *(bool *)(uintptr_t)arg = app_reconnect(c); /* the library's API says const; it writes */
        return 0;
    }
    PASS_THROUGH(mysql_get_option, m, option, arg);
}

/* The non-blocking API: the application drives the protocol in its own
 * rhythm, between calls goneshim never sees complete. goneshim steps aside
 * for that handle from the first such call on (as for libmariadb's
 * SKIP_READ_RESPONSE): every call passes straight through, and the
 * application sees exactly what the library gives it. */
static void nonblocking_use(MYSQL *m)
{
    if (driver_find(m) != NULL) {
        driver_log(m, "the application uses the non-blocking API on this connection: goneshim steps aside");
        driver_application_reads_answers(m, true);
    }
}

EXPORT enum net_async_status mysql_real_query_nonblocking(MYSQL *m, const char *sql, unsigned long len)
{
    nonblocking_use(m);
    __typeof__(&mysql_real_query_nonblocking) real = REAL_CHECKED(mysql_real_query_nonblocking);
    return real ? SHIM_REAL_CALL(real(m, sql, len)) : NET_ASYNC_ERROR;
}

EXPORT enum net_async_status mysql_send_query_nonblocking(MYSQL *m, const char *sql, unsigned long len)
{
    nonblocking_use(m);
    __typeof__(&mysql_send_query_nonblocking) real = REAL_CHECKED(mysql_send_query_nonblocking);
    return real ? SHIM_REAL_CALL(real(m, sql, len)) : NET_ASYNC_ERROR;
}

EXPORT enum net_async_status mysql_reset_connection_nonblocking(MYSQL *m)
{
    nonblocking_use(m);
    __typeof__(&mysql_reset_connection_nonblocking) real = REAL_CHECKED(mysql_reset_connection_nonblocking);
    return real ? SHIM_REAL_CALL(real(m)) : NET_ASYNC_ERROR;
}
#endif

EXPORT int mysql_real_query(MYSQL *m, const char *sql, unsigned long len)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_real_query, m, sql, len);
    return RC(driver_query(c, m, sql, text_length(sql, len)));
}

EXPORT int mysql_query(MYSQL *m, const char *sql)
{
    /* Not the library's mysql_query: one path, one decision per statement. */
    return mysql_real_query(m, sql, (unsigned long)strlen(sql));
}

EXPORT int mysql_send_query(MYSQL *m, const char *sql, unsigned long len)
{
    struct gs_connection *c = managed(m);
    /* Connector/C 3.3's mysql_send_query, unlike mysql_real_query, takes
     * (unsigned long)-1 at its word (and fails): it does as it does. */
    if (c == NULL || len == (unsigned long)-1)
        PASS_THROUGH(mysql_send_query, m, sql, len);
    return RC(driver_send(c, m, sql, len));
}

EXPORT my_bool mysql_read_query_result(MYSQL *m)
{
    struct gs_connection *c = managed(m);
    if (c == NULL || !driver_has_pending(c))
        PASS_THROUGH(mysql_read_query_result, m);
    return (my_bool)RC(driver_read(c, m));
}

static bool call_select_db(void *m, void *db)
{
    return REAL(mysql_select_db)(m, db) == 0;
}

/* Results: in a transaction being recorded, the digest of what the
 * application stores, for its replay; one test otherwise. */
EXPORT MYSQL_RES *mysql_store_result(MYSQL *m)
{
    /* On every SELECT's path: the inline lookup, checked out of line. */
    __typeof__(&mysql_store_result) real = REAL(mysql_store_result);
    if (__builtin_expect(real == NULL, 0)) {
        real = REAL_CHECKED(mysql_store_result);
        if (real == NULL)
            return NULL;
    }
    MYSQL_RES *res = SHIM_REAL_CALL(real(m));
    if (__builtin_expect(!driver_rows_awaited(), 1) || res == NULL)
        return res;
    struct gs_connection *c = driver_find(m);
    if (c != NULL && driver_wants_rows(c)) {
        uint64_t digest = SHIM_REAL_CALL(result_digest(m, res));
        driver_result_rows(c, digest);
    }
    return res;
}

EXPORT MYSQL_RES *mysql_use_result(MYSQL *m)
{
    __typeof__(&mysql_use_result) real = REAL_CHECKED(mysql_use_result);
    if (real == NULL)
        return NULL;
    struct gs_connection *c = driver_rows_awaited() ? driver_find(m) : NULL;
    if (c != NULL)
        driver_result_unbuffered(c);
    return SHIM_REAL_CALL(real(m));
}

EXPORT int mysql_select_db(MYSQL *m, const char *db)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_select_db, m, db);
    struct driver_command cmd = {.kind = DRIVER_SELECT_DB, .text = db, .len = db ? strlen(db) : 0};
    return RC(driver_command(c, m, &cmd, call_select_db, (void *)db));
}

static bool call_set_character_set(void *m, void *csname)
{
    return REAL(mysql_set_character_set)(m, csname) == 0;
}

EXPORT int mysql_set_character_set(MYSQL *m, const char *csname)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_set_character_set, m, csname);
    struct driver_command cmd = {.kind = DRIVER_SET_CHARSET};
    int rc = RC(driver_command(c, m, &cmd, call_set_character_set, (void *)csname));
    if (rc == 0)
        ((struct connection_backend *)driver_backend(c))->charset_chosen_by_app = true;
    return rc;
}

static bool call_autocommit(void *m, void *mode)
{
    return REAL(mysql_autocommit)(m, *(my_bool *)mode) == 0;
}

EXPORT my_bool mysql_autocommit(MYSQL *m, my_bool mode)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_autocommit, m, mode);
    struct driver_command cmd = {.kind = DRIVER_AUTOCOMMIT};
    return (my_bool)RC(driver_command(c, m, &cmd, call_autocommit, &mode));
}

static bool call_commit(void *m, void *unused)
{
    (void)unused;
    return REAL(mysql_commit)(m) == 0;
}

EXPORT my_bool mysql_commit(MYSQL *m)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_commit, m);
    struct driver_command cmd = {.kind = DRIVER_COMMIT};
    return (my_bool)RC(driver_command(c, m, &cmd, call_commit, NULL));
}

static bool call_rollback(void *m, void *unused)
{
    (void)unused;
    return REAL(mysql_rollback)(m) == 0;
}

EXPORT my_bool mysql_rollback(MYSQL *m)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_rollback, m);
    struct driver_command cmd = {.kind = DRIVER_ROLLBACK};
    return (my_bool)RC(driver_command(c, m, &cmd, call_rollback, NULL));
}

static bool call_ping(void *m, void *unused)
{
    (void)unused;
    return REAL(mysql_ping)(m) == 0;
}

EXPORT int mysql_ping(MYSQL *m)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_ping, m);
    struct driver_command cmd = {.kind = DRIVER_PING};
    return RC(driver_command(c, m, &cmd, call_ping, NULL));
}

struct change_user_args {
    const char *user, *passwd, *db;
};

static bool call_change_user(void *m, void *arg)
{
    const struct change_user_args *a = arg;
    return REAL(mysql_change_user)(m, a->user, a->passwd, a->db) == 0;
}

EXPORT my_bool mysql_change_user(MYSQL *m, const char *user, const char *passwd, const char *db)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_change_user, m, user, passwd, db);
    struct change_user_args a = {user, passwd, db};
    struct driver_command cmd = {.kind = DRIVER_CHANGE_USER};
    int rc = RC(driver_command(c, m, &cmd, call_change_user, &a));
    /* The new session took the handle's character set from the command,
     * as a handshake does. */
    if (rc == 0)
        ((struct connection_backend *)driver_backend(c))->charset_chosen_by_app = false;
    return (my_bool)rc;
}

static bool call_reset_connection(void *m, void *unused)
{
    (void)unused;
    return REAL(mysql_reset_connection)(m) == 0;
}

EXPORT int mysql_reset_connection(MYSQL *m)
{
    struct gs_connection *c = managed(m);
    if (c == NULL)
        PASS_THROUGH(mysql_reset_connection, m);
    struct driver_command cmd = {.kind = DRIVER_RESET_CONNECTION};
    return RC(driver_command(c, m, &cmd, call_reset_connection, NULL));
}

/* ---- prepared statements (mysql_stmt_*) ---- */

/* An attribute the application set, re-applied after a new prepare. Its
 * value is copied as the bytes mysql_stmt_attr_set read (attribute_size):
 * a my_bool, an unsigned int or long, a size_t or a pointer. */
struct statement_attribute {
    enum enum_stmt_attr_type type;
    _Alignas(max_align_t) unsigned char value[sizeof(void *) > sizeof(size_t) ? sizeof(void *) : sizeof(size_t)];
};

#define MAX_STATEMENT_ATTRIBUTES 10

/* A copy of bindings (MYSQL_BIND structs; the buffers they point to stay
 * the application's). */
struct bind_copy {
    MYSQL_BIND *v;
    unsigned n, capacity;
    /* Bound by the application while the statement was stale: newer than
     * what the library holds. */
    bool newer_than_library;
};

/* The adapter's part of the driver's record of a MYSQL_STMT. */
struct statement_backend {
    struct bind_copy params, results;
    struct statement_attribute attributes[MAX_STATEMENT_ATTRIBUTES];
    unsigned n_attributes;
};

/* A pointer into one bind array, moved to the same place in another. The
 * library points length, is_null and error at fields of its own copy when
 * the application left them NULL. */
static void *moved(void *p, const MYSQL_BIND *from, unsigned from_n, MYSQL_BIND *to)
{
    if (from == NULL)
        return p;
    const char *start = (const char *)from, *end = (const char *)(from + from_n);
    if ((const char *)p >= start && (const char *)p < end)
        return (char *)to + ((const char *)p - start);
    return p;
}

static bool keep_binds(struct bind_copy *c, const MYSQL_BIND *src, unsigned n)
{
    if (src == NULL || n == 0) {
        c->n = 0;
        return true;
    }
    MYSQL_BIND *old = c->v, *dst = old;
    unsigned old_n = c->n;
    if (n > c->capacity) {
        dst = malloc(n * sizeof *dst);
        if (dst == NULL)
            return false;
        c->capacity = n;
    }
    memcpy(dst, src, n * sizeof *dst);
    for (unsigned i = 0; i < n; i++) {
        MYSQL_BIND *b = &dst[i];
        b->length = moved(moved(b->length, src, n, dst), old, old_n, dst);
        b->is_null = moved(moved(b->is_null, src, n, dst), old, old_n, dst);
        b->error = moved(moved(b->error, src, n, dst), old, old_n, dst);
    }
    if (dst != old)
        free(old);
    c->v = dst;
    c->n = n;
    return true;
}

static size_t attribute_size(enum enum_stmt_attr_type type)
{
    switch (type) {
    case STMT_ATTR_UPDATE_MAX_LENGTH:
        return sizeof(my_bool);
    case STMT_ATTR_CURSOR_TYPE:
    case STMT_ATTR_PREFETCH_ROWS:
        return sizeof(unsigned long);
#ifdef CLIENT_LIBMARIADB
    case STMT_ATTR_PREBIND_PARAMS:
    case STMT_ATTR_ARRAY_SIZE:
        return sizeof(unsigned int);
    case STMT_ATTR_ROW_SIZE:
        return sizeof(size_t);
    case STMT_ATTR_CB_USER_DATA:
    case STMT_ATTR_CB_PARAM:
    case STMT_ATTR_CB_RESULT:
        return sizeof(void *);
#endif
    default:
        return 0; /* read-only (STATE) or unknown: nothing to re-apply */
    }
}

static void keep_attribute(struct statement_backend *b, enum enum_stmt_attr_type type, const void *value)
{
    size_t size = attribute_size(type);
    if (size == 0 || value == NULL)
        return;
    unsigned i = 0;
    while (i < b->n_attributes && b->attributes[i].type != type)
        i++;
    if (i == MAX_STATEMENT_ATTRIBUTES)
        return; /* more kinds than exist */
    b->attributes[i].type = type;
    memcpy(b->attributes[i].value, value, size);
    if (i == b->n_attributes)
        b->n_attributes++;
}

/* Preparing again clears the library's bindings: they are taken first
 * from the library's own copy, which is the truth (DBD::mysql, for one,
 * changes buffers in it between executions without binding again), unless
 * the application bound while the statement was stale. */
static bool statement_prepare_again(void *stmt, void *backend, const char *sql, size_t len)
{
    MYSQL_STMT *st = stmt;
    struct statement_backend *b = backend;
    if (!b->params.newer_than_library)
        keep_binds(&b->params, st->bind_param_done ? st->params : NULL, st->param_count);
    if (!b->results.newer_than_library)
        keep_binds(&b->results, st->bind_result_done ? st->bind : NULL, st->field_count);
    b->params.newer_than_library = b->results.newer_than_library = false;
    if (REAL(mysql_stmt_prepare)(st, sql, len) != 0)
        return false;
    for (unsigned i = 0; i < b->n_attributes; i++)
        REAL(mysql_stmt_attr_set)(st, b->attributes[i].type, b->attributes[i].value);
    return true;
}

static void statement_shape(void *stmt, unsigned *params, unsigned *fields)
{
    const MYSQL_STMT *st = stmt;
    *params = (unsigned)st->param_count;
    *fields = st->field_count;
}

static bool statement_restore_bindings(void *stmt, void *backend)
{
    MYSQL_STMT *st = stmt;
    struct statement_backend *b = backend;
    if (b->params.n != 0 && REAL(mysql_stmt_bind_param)(st, b->params.v) != 0)
        return false;
    if (b->results.n != 0 && REAL(mysql_stmt_bind_result)(st, b->results.v) != 0)
        return false;
    return true;
}

static bool statement_execute(void *stmt)
{
    return REAL(mysql_stmt_execute)(stmt) == 0;
}

static void statement_set_error(void *stmt, unsigned code, const char *message)
{
    MYSQL_STMT *st = stmt;
    st->last_errno = code;
    text_copy(st->last_error, sizeof st->last_error, message);
    text_copy(st->sqlstate, sizeof st->sqlstate, GS_SQLSTATE_UNKNOWN);
}

static unsigned statement_error_code(void *stmt)
{
    return ((MYSQL_STMT *)stmt)->last_errno;
}

static void statement_release(void *backend)
{
    struct statement_backend *b = backend;
    free(b->params.v);
    free(b->results.v);
}

/* ---- prepared statements in a replayed transaction ---- */

static void statement_answer(void *stmt, struct answer_summary *a)
{
    MYSQL_STMT *st = stmt;
    a->affected_rows = REAL(mysql_stmt_affected_rows)(st);
    a->insert_id = REAL(mysql_stmt_insert_id)(st);
    a->warnings = st->mysql != NULL ? st->mysql->warning_count : 0;
    a->field_count = st->field_count;
    a->error_code = REAL(mysql_stmt_errno)(st);
    a->info = NULL;
    a->info_len = 0;
}

/* The digest of a stored result set of a prepared statement: the columns,
 * and every row as the server sent it (the binary protocol's bytes, which
 * the library converts into the application's buffers as it fetches). */
static uint64_t statement_rows_digest(const MYSQL_STMT *st)
{
    unsigned n = st->field_count;
    uint64_t d = digest_u64(DIGEST_INIT, n);
    for (unsigned i = 0; st->fields != NULL && i < n; i++) {
        d = digest_mysql_field(d, &st->fields[i]);
    }
    uint64_t rows = 0;
    /* A binary row is one buffer, whatever the MYSQL_ROW type says. */
    for (const MYSQL_ROWS *r = st->result.data; r != NULL; r = r->next, rows++)
        d = digest_field(d, (const void *)r->data, r->length);
    d = digest_u64(d, rows);
    d = digest_u64(d, st->mysql != NULL ? st->mysql->warning_count : 0);
    return digest_finish(d);
}

/* Bytes of a parameter of a fixed-size type; 0 for the others. */
static size_t fixed_size(enum enum_field_types type)
{
    switch (type) {
    case MYSQL_TYPE_TINY: return 1;
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_YEAR: return 2;
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_FLOAT: return 4;
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_DOUBLE: return 8;
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP: return sizeof(MYSQL_TIME);
    default: return 0;
    }
}

/* The parameter values as the library will send them: per parameter its
 * buffer type, unsigned flag, NULL flag, a 4-byte length and the bytes
 * (read from the application's buffers, as the execute just did). Bulk
 * executions (arrays) are not kept. */
static size_t statement_params(void *stmt, unsigned char *buf, size_t size)
{
    const MYSQL_STMT *st = stmt;
#ifdef CLIENT_LIBMARIADB
    if (st->array_size > 0)
        return STATEMENT_PARAMS_UNKEPT;
#endif
    if (st->param_count != 0 && (!st->bind_param_done || st->params == NULL))
        return STATEMENT_PARAMS_UNKEPT;
    size_t at = 0;
    for (unsigned i = 0; i < st->param_count; i++) {
        const MYSQL_BIND *p = &st->params[i];
        bool is_null = p->buffer_type == MYSQL_TYPE_NULL || (p->is_null != NULL && *p->is_null) ||
                       (p->buffer == NULL && fixed_size(p->buffer_type) != 0);
        size_t n = is_null ? 0 : fixed_size(p->buffer_type);
        if (!is_null && n == 0)
            n = p->length != NULL ? *p->length : p->buffer_length;
        if (n > UINT32_MAX || (n != 0 && p->buffer == NULL))
            return STATEMENT_PARAMS_UNKEPT;
        unsigned char head[3] = {(unsigned char)p->buffer_type, p->is_unsigned != 0, is_null};
        uint32_t len = (uint32_t)n;
        if (at + sizeof head + sizeof len + n <= size) {
            memcpy(buf + at, head, sizeof head);
            memcpy(buf + at + sizeof head, &len, sizeof len);
            if (n != 0)
                memcpy(buf + at + sizeof head + sizeof len, p->buffer, n);
        }
        at += sizeof head + sizeof len + n;
    }
    return at;
}

/* Binds what statement_params wrote to `st`, each value copied into
 * aligned room of `room` (params_len + 16 bytes per parameter). */
static bool bind_recorded_params(MYSQL_STMT *st, const unsigned char *p, size_t len, MYSQL_BIND *binds,
                                 my_bool *nulls, unsigned long *lengths, unsigned char *room)
{
    const unsigned char *end = p + len;
    size_t used = 0;
    for (unsigned i = 0; i < st->param_count; i++) {
        uint32_t n;
        if (end - p < 7)
            return false;
        memcpy(&n, p + 3, sizeof n);
        if ((size_t)(end - p - 7) < n)
            return false;
        used = (used + 15) & ~(size_t)15;
        memcpy(room + used, p + 7, n);
        binds[i].buffer_type = (enum enum_field_types)p[0];
        binds[i].is_unsigned = (my_bool)(p[1] != 0);
        nulls[i] = (my_bool)(p[2] != 0);
        lengths[i] = n;
        binds[i].buffer = room + used;
        binds[i].buffer_length = n;
        binds[i].length = &lengths[i];
        binds[i].is_null = &nulls[i];
        used += n;
        p += 7 + n;
    }
    return p == end && REAL(mysql_stmt_bind_param)(st, binds) == 0;
}

static bool op_replay_prepared(void *conn, const char *sql, size_t len, const unsigned char *params,
                               size_t params_len, struct answer_summary *a, uint64_t *rows)
{
    MYSQL *m = conn;
    *rows = 0;
    MYSQL_STMT *st = REAL(mysql_stmt_init)(m);
    if (st == NULL)
        return false;
    bool ran = false;
    if (REAL(mysql_stmt_prepare)(st, sql, (unsigned long)len) == 0) {
        unsigned n = (unsigned)st->param_count;
        MYSQL_BIND *binds = calloc(n ? n : 1, sizeof *binds);
        my_bool *nulls = calloc(n ? n : 1, sizeof *nulls);
        unsigned long *lengths = calloc(n ? n : 1, sizeof *lengths);
        unsigned char *room = malloc(params_len + 16 * (size_t)(n + 1));
        if (binds != NULL && nulls != NULL && lengths != NULL && room != NULL &&
            bind_recorded_params(st, params, params_len, binds, nulls, lengths, room)) {
            int rc = REAL(mysql_stmt_execute)(st);
            statement_answer(st, a);
            ran = rc == 0 || (!op_link_dropped(m) && a->error_code != 0 && a->error_code < GS_ER_CLIENT_FIRST);
            if (rc == 0 && st->field_count != 0) {
                ran = REAL(mysql_stmt_store_result)(st) == 0;
                *rows = statement_rows_digest(st);
            }
        }
        free(binds);
        free(nulls);
        free(lengths);
        free(room);
    }
    REAL(mysql_stmt_close)(st);
    return ran;
}

static const struct statement_ops mysqlclient_statement_ops = {
    .answer = statement_answer,
    .params = statement_params,
    .backend_size = sizeof(struct statement_backend),
    .prepare_again = statement_prepare_again,
    .shape = statement_shape,
    .restore_bindings = statement_restore_bindings,
    .execute = statement_execute,
    .set_error = statement_set_error,
    .error_code = statement_error_code,
    .release = statement_release,
};

/* The managed connection of a statement, or NULL. */
static struct gs_connection *managed_stmt(MYSQL_STMT *st)
{
    return st != NULL && st->mysql != NULL ? managed(st->mysql) : NULL;
}

struct stmt_prepare_args {
    MYSQL_STMT *stmt;
    const char *sql;
    unsigned long len;
};

static bool call_stmt_prepare(void *m, void *arg)
{
    (void)m;
    const struct stmt_prepare_args *a = arg;
    return REAL(mysql_stmt_prepare)(a->stmt, a->sql, a->len) == 0;
}

EXPORT int mysql_stmt_prepare(MYSQL_STMT *st, const char *sql, unsigned long len)
{
    struct gs_connection *c = managed_stmt(st);
    if (c == NULL)
        PASS_THROUGH(mysql_stmt_prepare, st, sql, len);
    len = text_length(sql, len);
    struct stmt_prepare_args a = {st, sql, len};
    if (!driver_stmt_prepare(c, st->mysql, st, &mysqlclient_statement_ops, sql, len, call_stmt_prepare, &a)) {
        if (st->last_errno == 0)
            statement_set_error(st, st->mysql->net.last_errno, st->mysql->net.last_error);
        return 1;
    }
    /* A new prepare forgets the bindings, in the library as here. */
    struct statement_backend *b = driver_stmt_backend(st);
    if (b != NULL)
        b->params.n = b->results.n = 0;
    return 0;
}

static bool call_stmt_execute(void *m, void *stmt)
{
    (void)m;
    return REAL(mysql_stmt_execute)(stmt) == 0;
}

EXPORT int mysql_stmt_execute(MYSQL_STMT *st)
{
    struct gs_connection *c = managed_stmt(st);
    if (c == NULL)
        PASS_THROUGH(mysql_stmt_execute, st);
    return RC(driver_stmt_execute(c, st->mysql, st, call_stmt_execute, st));
}

/* On a statement of an older connection (the library reset it and would
 * refuse), bindings are only recorded: the next execute prepares again and
 * applies them. Otherwise they go to the library, which keeps them. */
static bool bind_while_stale(MYSQL_STMT *st, bool results, const MYSQL_BIND *bind, unsigned n)
{
    const struct gs_connection *c = managed_stmt(st);
    struct statement_backend *b = c != NULL ? driver_stmt_backend(st) : NULL;
    if (b == NULL || !driver_stmt_stale(c, st))
        return false;
    struct bind_copy *copy = results ? &b->results : &b->params;
    if (!keep_binds(copy, bind, n))
        return false;
    copy->newer_than_library = true;
    return true;
}

EXPORT my_bool mysql_stmt_bind_param(MYSQL_STMT *st, MYSQL_BIND *bind)
{
    if (st != NULL && bind_while_stale(st, false, bind, st->param_count))
        return 0;
    PASS_THROUGH(mysql_stmt_bind_param, st, bind);
}

EXPORT my_bool mysql_stmt_bind_result(MYSQL_STMT *st, MYSQL_BIND *bind)
{
    if (st != NULL && bind_while_stale(st, true, bind, st->field_count))
        return 0;
    PASS_THROUGH(mysql_stmt_bind_result, st, bind);
}

EXPORT my_bool mysql_stmt_attr_set(MYSQL_STMT *st, enum enum_stmt_attr_type type, const void *value)
{
    struct statement_backend *b = managed_stmt(st) != NULL ? driver_stmt_backend(st) : NULL;
    if (b != NULL)
        keep_attribute(b, type, value);
    PASS_THROUGH(mysql_stmt_attr_set, st, type, value);
}

EXPORT my_bool mysql_stmt_send_long_data(MYSQL_STMT *st, unsigned int param, const char *data,
                                         unsigned long len)
{
    struct gs_connection *c = managed_stmt(st);
    if (c != NULL) {
        /* Sent again after a loss (as the error said): the statement must
         * exist on the new connection to receive it. */
        if (!driver_stmt_refresh(c, st->mysql, st))
            return 1;
        driver_stmt_note_long_data(st);
    }
    PASS_THROUGH(mysql_stmt_send_long_data, st, param, data, len);
}

#ifdef CLIENT_LIBMARIADB
#define STATEMENT_UNPREPARED MYSQL_STMT_INITTED
#else
#define STATEMENT_UNPREPARED MYSQL_STMT_INIT_DONE
#endif

/* A statement of an older connection died with it on the server: its
 * number names nothing on the new connection, or another statement there
 * (Oracle MySQL numbers statements per connection from 1). The library
 * sends no COM_STMT_CLOSE for a statement it takes for unprepared: state
 * unprepared for Oracle's; number 0 for libmariadb's, whose close first
 * resets the state from the number (found against MySQL 9.7: the state
 * alone was put back to prepared, and the fresh statement closed). */
/* A prepared statement's result set, as for the connection's. Executions
 * whose rows the application fetches one by one, unstored, leave the
 * record waiting for a digest that never comes: their transaction is not
 * replayable. */
EXPORT int mysql_stmt_store_result(MYSQL_STMT *st)
{
    __typeof__(&mysql_stmt_store_result) real = REAL_CHECKED(mysql_stmt_store_result);
    if (real == NULL)
        return 1;
    int rc = SHIM_REAL_CALL(real(st));
    if (__builtin_expect(!driver_rows_awaited(), 1) || rc != 0 || st == NULL || st->mysql == NULL)
        return rc;
    struct gs_connection *c = driver_find(st->mysql);
    if (c != NULL && driver_wants_rows(c))
        driver_result_rows(c, statement_rows_digest(st));
    return rc;
}

EXPORT my_bool mysql_stmt_close(MYSQL_STMT *st)
{
    if (!driver_stmt_close(managed_stmt(st), st)) {
        st->stmt_id = 0;
        st->state = STATEMENT_UNPREPARED;
    }
    PASS_THROUGH(mysql_stmt_close, st);
}

/* COM_STMT_RESET names the statement by its number too: a stale one is
 * prepared again first, on the new connection. */
EXPORT my_bool mysql_stmt_reset(MYSQL_STMT *st)
{
    struct gs_connection *c = managed_stmt(st);
    if (c != NULL && !driver_stmt_refresh(c, st->mysql, st))
        return 1;
    PASS_THROUGH(mysql_stmt_reset, st);
}
