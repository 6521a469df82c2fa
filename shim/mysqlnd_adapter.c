/* mysqlnd_adapter.c - PHP's mysqlnd (mysqli, PDO_MySQL), hooked.
 *
 * Stock PHP does not use libmysqlclient: mysqli and pdo_mysql sit on
 * mysqlnd, a client library inside PHP. mysqlnd has a plugin API: every
 * connection points at one global table of methods per class, which a
 * plugin may patch. goneshim interposes mysqlnd_connection_init (which
 * mysqli.so and pdo_mysql.so import through the PLT; the preload comes
 * first in the global scope) and, on its first call, after mysqlnd's own
 * start-up, patches the tables of connection_data and stmt.
 *
 * A thin adapter, like the libmysqlclient one: it translates mysqlnd's
 * view of a connection into struct connection_ops; the rules are
 * session_guard's, carried out by session_driver.
 *
 * The struct layouts are PHP's, from the headers this file was compiled
 * against (php-config --includes). The first connection checks the running
 * PHP's version against them and leaves everything alone, with one log
 * line, when it differs. No PHP symbol is referenced directly: the library
 * is preloaded into programs that are not PHP, so what it needs is looked
 * up with dlsym when PHP calls in.
 *
 * PHP warnings: frameworks turn warnings into exceptions, so the shim's own
 * calls on a connection it knows is dead (the confirming ping, the
 * reconnect, the replay) run with PHP's error reporting off. The
 * application's own statements report as PHP always does.
 */
#include <php.h>
#include <php_network.h>
#include <ext/mysqlnd/mysqlnd.h>
#include <ext/mysqlnd/mysqlnd_ext_plugin.h>
#include <ext/mysqlnd/mysqlnd_structs.h>
/* PHP's headers route these to PHP's own implementation: a reference to a
 * PHP symbol, which a program that is not PHP does not have. */
#undef snprintf
#undef vsnprintf

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "event_log.h"
#include "handle_registry.h"
#include "prepared_statement.h"
#include "session_driver.h"
#include "shim_runtime.h"
#include "sql_lexer.h"
#include "symbols.h"

#define EXPORT __attribute__((visibility("default")))

/* mysqlnd's own client error texts, so that an error the shim sets reads
 * like the ones mysqlnd sets. */
#define GONE_MESSAGE "MySQL server has gone away"
#define CR_SERVER_GONE 2006

/* What the application connected with, for reconnecting. */
struct connect_params {
    char *host, *user, *password, *db, *socket;
    size_t password_len;
    unsigned port, flags;
};

struct mysqlnd_session {
    struct managed_session core; /* first: the registry holds this */
    struct connect_params params;
    /* Restored after a reconnect: the character set mysqlnd escapes with
     * (SET NAMES itself is replayed) and the multi-statement option. */
    const MYSQLND_CHARSET *charset;
    int server_option; /* -1: never set */
    /* TLS settings, saved before mysqlnd's connect frees them. */
    char *ssl[6];
    enum mysqlnd_ssl_peer ssl_verify_peer;
};

/* ---- the methods as mysqlnd had them before the patch ---- */

static struct {
    func_mysqlnd_conn_data__connect connect;
    func_mysqlnd_conn_data__send_query send_query;
    func_mysqlnd_conn_data__reap_query reap_query;
    func_mysqlnd_conn_data__query query;
    func_mysqlnd_conn_data__ping ping;
    func_mysqlnd_conn_data__select_db select_db;
    func_mysqlnd_conn_data__set_server_option set_server_option;
    func_mysqlnd_conn_data__change_user change_user;
    func_mysqlnd_conn_data__set_autocommit set_autocommit;
    func_mysqlnd_conn_data__dtor dtor;
    func_mysqlnd_conn_data__get_updated_connect_flags get_updated_connect_flags;
    func_mysqlnd_conn_data__store_result store_result;
    func_mysqlnd_conn_data__next_result next_result;
    func_mysqlnd_stmt__prepare stmt_prepare;
    func_mysqlnd_stmt__execute stmt_execute;
    func_mysqlnd_stmt__dtor stmt_dtor;
    func_mysqlnd_stmt__free_stmt_result stmt_free_result;
} real;

static struct real_symbol real_mysqlnd_connection_init = REAL_SYMBOL(mysqlnd_connection_init, NULL);
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static zend_executor_globals *php_globals; /* for quiet_begin; NTS PHP only */

/* ---- PHP warnings off, around the shim's own calls ---- */

struct quiet {
    int error_reporting;
    int user_handler_reporting;
};

static struct quiet quiet_begin(void)
{
    struct quiet q = {php_globals->error_reporting, php_globals->user_error_handler_error_reporting};
    php_globals->error_reporting = 0;
    php_globals->user_error_handler_error_reporting = 0;
    return q;
}

static void quiet_end(struct quiet q)
{
    php_globals->error_reporting = q.error_reporting;
    php_globals->user_error_handler_error_reporting = q.user_handler_reporting;
}

/* ---- observing a connection ---- */

static inline MYSQLND_CONN_DATA *CONN(void *conn)
{
    return conn;
}

static php_stream *stream_of(MYSQLND_CONN_DATA *c)
{
    return c->vio != NULL && c->vio->data != NULL ? c->vio->data->stream : NULL;
}

static bool op_link_dropped(void *conn)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    return c->state.state == CONN_QUIT_SENT || stream_of(c) == NULL;
}

static bool op_drained(void *conn)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    return c->state.state == CONN_READY && !(c->upsert_status->server_status & SERVER_MORE_RESULTS_EXISTS);
}

/* Every mysqlnd transport (tcp, unix, and TLS over them) is a PHP socket
 * stream, whose private data starts with php_netstream_data_t. */
static int op_socket_fd(void *conn)
{
    php_stream *stream = stream_of(CONN(conn));
    if (stream == NULL || stream->abstract == NULL)
        return -1;
    return ((php_netstream_data_t *)stream->abstract)->socket;
}

static bool op_in_transaction(void *conn)
{
    return (CONN(conn)->upsert_status->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

static bool op_autocommit(void *conn)
{
    return (CONN(conn)->upsert_status->server_status & SERVER_STATUS_AUTOCOMMIT) != 0;
}

static unsigned long long op_thread_id(void *conn)
{
    return CONN(conn)->thread_id;
}

static void op_save_error(void *conn, struct error_snapshot *e)
{
    const MYSQLND_ERROR_INFO *info = CONN(conn)->error_info;
    e->code = info->error_no;
    snprintf(e->sqlstate, sizeof e->sqlstate, "%s", info->sqlstate);
    snprintf(e->message, sizeof e->message, "%.*s", (int)sizeof e->message - 1, info->error);
}

static void op_restore_error(void *conn, const struct error_snapshot *e)
{
    MYSQLND_ERROR_INFO *info = CONN(conn)->error_info;
    info->m->set_client_error(info, e->code, e->sqlstate, e->message);
}

static void op_set_gone_error(void *conn)
{
    static const struct error_snapshot gone = {CR_SERVER_GONE, "HY000", GONE_MESSAGE};
    op_restore_error(conn, &gone);
}

static void op_show_transaction(void *conn)
{
    CONN(conn)->upsert_status->server_status |= SERVER_STATUS_IN_TRANS;
}

/* ---- acting on it (the driver calls these inside the depth guard) ---- */

/* PHP streams wait for data with poll() and their own timeout (mysqlnd's
 * net_read_timeout, a day by default), not SO_RCVTIMEO: the bound goes
 * into the stream. */
static bool op_ping(void *conn, uint64_t timeout_ns)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    php_stream *stream = stream_of(c);
    php_netstream_data_t *sock = stream ? stream->abstract : NULL;
    struct timeval saved = {0, 0};
    if (sock != NULL) {
        saved = sock->timeout;
        sock->timeout.tv_sec = (time_t)(timeout_ns / NS_PER_S);
        sock->timeout.tv_usec = (suseconds_t)(timeout_ns % NS_PER_S / 1000);
    }
    struct quiet q = quiet_begin();
    bool ok = real.ping(c) == PASS;
    quiet_end(q);
    /* After a failure mysqlnd may have freed the stream. */
    if (ok && sock != NULL && stream_of(c) == stream)
        sock->timeout = saved;
    return ok;
}

static char *copy_or_null(const char *s, size_t len)
{
    if (s == NULL)
        return NULL;
    char *p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static bool replace_copy(char **slot, const char *s, size_t len)
{
    char *copy = copy_or_null(s, len);
    if (s != NULL && copy == NULL)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

static void forget_params(struct connect_params *p)
{
    free(p->host);
    free(p->user);
    if (p->password != NULL)
        explicit_bzero(p->password, p->password_len);
    free(p->password);
    free(p->db);
    free(p->socket);
    memset(p, 0, sizeof *p);
}

static void forget_tls(struct mysqlnd_session *s)
{
    for (size_t i = 0; i < sizeof s->ssl / sizeof s->ssl[0]; i++) {
        free(s->ssl[i]);
        s->ssl[i] = NULL;
    }
}

/* The reconnect under way on this thread: mysqlnd's connect frees the
 * TLS settings before it connects, so they are put back in the hook of
 * get_updated_connect_flags, which connect calls between the two. */
static __thread struct mysqlnd_session *reconnecting __attribute__((tls_model("initial-exec")));

static const enum mysqlnd_client_option tls_options[6] = {
    MYSQLND_OPT_SSL_KEY, MYSQLND_OPT_SSL_CERT, MYSQLND_OPT_SSL_CA,
    MYSQLND_OPT_SSL_CAPATH, MYSQLND_OPT_SSL_CIPHER, MYSQLND_OPT_SSL_PASSPHRASE,
};

static void save_tls(struct mysqlnd_session *s, MYSQLND_CONN_DATA *c)
{
    const MYSQLND_VIO_OPTIONS *o = &c->vio->data->options;
    const char *values[6] = {o->ssl_key, o->ssl_cert, o->ssl_ca, o->ssl_capath, o->ssl_cipher, o->ssl_passphrase};
    forget_tls(s);
    for (size_t i = 0; i < 6; i++)
        s->ssl[i] = values[i] ? strdup(values[i]) : NULL;
    s->ssl_verify_peer = o->ssl_verify_peer;
}

static unsigned hook_get_updated_connect_flags(MYSQLND_CONN_DATA *c, unsigned flags)
{
    struct mysqlnd_session *s = reconnecting;
    if (s != NULL && registry_lookup(c) == s) {
        MYSQLND_VIO *vio = c->vio;
        for (size_t i = 0; i < 6; i++)
            if (s->ssl[i] != NULL)
                vio->data->m.set_client_option(vio, tls_options[i], s->ssl[i]);
        vio->data->options.ssl_verify_peer = s->ssl_verify_peer;
    }
    return real.get_updated_connect_flags(c, flags);
}

/* mysqlnd's connect on a connected handle closes it and connects again in
 * place: the same MYSQLND_CONN_DATA, which the application's mysqli or PDO
 * object and its statements point to. What to connect with comes from the
 * shim's own copy, made at the application's connect: mysqlnd frees its
 * strings during a connect, and does not keep the password. The state is
 * set to "quit sent" so that it does not write a goodbye to a dead
 * socket. */
static bool op_reconnect_once(void *conn, struct managed_session *core, unsigned timeout_s)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    struct mysqlnd_session *s = (struct mysqlnd_session *)core;
    s->charset = c->charset;
    save_tls(s, c);
    unsigned app_timeout = c->vio->data->options.timeout_connect;
    if (app_timeout == 0 || app_timeout > timeout_s)
        c->vio->data->options.timeout_connect = timeout_s;
    if (c->state.state != CONN_ALLOCED)
        c->state.state = CONN_QUIT_SENT;

    const struct connect_params *p = &s->params;
    MYSQLND_CSTRING host = {p->host, p->host ? strlen(p->host) : 0};
    MYSQLND_CSTRING user = {p->user, p->user ? strlen(p->user) : 0};
    MYSQLND_CSTRING password = {p->password, p->password_len};
    MYSQLND_CSTRING db = {p->db, p->db ? strlen(p->db) : 0};
    MYSQLND_CSTRING socket_path = {p->socket, p->socket ? strlen(p->socket) : 0};
    struct quiet q = quiet_begin();
    reconnecting = s;
    bool ok = real.connect(c, host, user, password, db, p->port, socket_path, p->flags) == PASS;
    reconnecting = NULL;
    quiet_end(q);
    if (c->vio != NULL)
        c->vio->data->options.timeout_connect = app_timeout;
    return ok;
}

/* Runs one statement of the shim's own and discards any result. */
static bool run_quietly(MYSQLND_CONN_DATA *c, const char *sql, size_t len)
{
    struct quiet q = quiet_begin();
    bool ok = real.query(c, sql, len) == PASS && c->error_info->error_no == 0;
    while (ok && c->field_count != 0) {
        MYSQLND_RES *result = real.store_result(c);
        if (result != NULL)
            result->m.free_result(result, true);
        if (real.next_result(c) != PASS)
            break;
    }
    quiet_end(q);
    return ok;
}

static bool op_set_autocommit(void *conn, bool on)
{
    struct quiet q = quiet_begin();
    bool ok = real.set_autocommit(CONN(conn), on) == PASS;
    quiet_end(q);
    return ok;
}

static bool op_run_sql(void *conn, const char *sql, size_t len)
{
    return run_quietly(CONN(conn), sql, len);
}

static bool op_restore_extra(void *conn, struct managed_session *core)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    struct mysqlnd_session *s = (struct mysqlnd_session *)core;
    if (s->charset != NULL)
        c->charset = s->charset;
    if (s->server_option >= 0) {
        struct quiet q = quiet_begin();
        bool ok = real.set_server_option(c, (enum_mysqlnd_server_option)s->server_option) == PASS;
        quiet_end(q);
        return ok;
    }
    return true;
}

static bool op_send_sql(void *conn, const char *sql, size_t len)
{
    return real.send_query(CONN(conn), sql, len, NULL, NULL) == PASS;
}

static bool op_read_result(void *conn)
{
    return real.reap_query(CONN(conn)) == PASS;
}

static void op_drop_link(void *conn)
{
    int fd = op_socket_fd(conn);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

static const struct connection_ops mysqlnd_ops = {
    .link_dropped = op_link_dropped,
    .drained = op_drained,
    .socket_fd = op_socket_fd,
    .in_transaction = op_in_transaction,
    .autocommit = op_autocommit,
    .thread_id = op_thread_id,
    .save_error = op_save_error,
    .restore_error = op_restore_error,
    .set_gone_error = op_set_gone_error,
    .show_transaction = op_show_transaction,
    .ping = op_ping,
    .reconnect_once = op_reconnect_once,
    .set_autocommit = op_set_autocommit,
    .run_sql = op_run_sql,
    .restore_extra = op_restore_extra,
    .send_sql = op_send_sql,
    .read_result = op_read_result,
    .drop_link = op_drop_link,
    /* mysqlnd warns on a failed write ("Error while sending QUERY packet"). */
    .must_probe_before_send = true,
};

/* ---- the hooks ---- */

static inline struct mysqlnd_session *managed(MYSQLND_CONN_DATA *c)
{
    if (shim_in_real_call() || c == NULL)
        return NULL;
    return registry_lookup(c);
}

static enum_func_status hook_connect(MYSQLND_CONN_DATA *c, MYSQLND_CSTRING host, MYSQLND_CSTRING user,
                                     MYSQLND_CSTRING password, MYSQLND_CSTRING db, unsigned port,
                                     MYSQLND_CSTRING socket_path, unsigned flags)
{
    if (shim_in_real_call())
        return real.connect(c, host, user, password, db, port, socket_path, flags);
    enum_func_status rc = real.connect(c, host, user, password, db, port, socket_path, flags);
    if (rc != PASS)
        return rc;
    struct mysqlnd_session *s = registry_lookup(c);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL || !registry_insert(c, s)) {
            free(s);
            event_log("handle %p: out of memory; this connection is not protected", (void *)c);
            return rc;
        }
    }
    driver_session_start(&s->core, &mysqlnd_ops, c);
    struct connect_params *p = &s->params;
    forget_params(p);
    if (!replace_copy(&p->host, host.s, host.l) || !replace_copy(&p->user, user.s, user.l) ||
        !replace_copy(&p->password, password.s, password.l) || !replace_copy(&p->db, db.s, db.l) ||
        !replace_copy(&p->socket, socket_path.s, socket_path.l)) {
        registry_remove(c);
        forget_params(p);
        free(s);
        event_log("handle %p: out of memory; this connection is not protected", (void *)c);
        return rc;
    }
    p->password_len = password.s ? password.l : 0;
    p->port = port;
    p->flags = flags;
    s->server_option = -1;
    s->charset = NULL;
    return rc;
}

static void hook_dtor(MYSQLND_CONN_DATA *c)
{
    struct mysqlnd_session *s = shim_in_real_call() ? NULL : registry_remove(c);
    if (s != NULL) {
        driver_session_end(&s->core);
        forget_tls(s);
        forget_params(&s->params);
        free(s);
    }
    real.dtor(c);
}

/* mysqli::query, real_query, multi_query, PDO::exec, PDO::query, emulated
 * prepares, and every transaction and autocommit call end in send_query
 * then reap_query (conn->m->query is the two in a row). */
static enum_func_status hook_send_query(MYSQLND_CONN_DATA *c, const char *sql, size_t len, zval *read_cb,
                                        zval *err_cb)
{
    struct mysqlnd_session *s = managed(c);
    if (s == NULL || read_cb != NULL || err_cb != NULL)
        return real.send_query(c, sql, len, read_cb, err_cb);
    return driver_send(&s->core, c, sql, len) == 0 ? PASS : FAIL;
}

/* libmariadb follows USE through session tracking; mysqlnd does not, so
 * the database a reconnect selects is read off the statement: `USE name`
 * or `USE \`name\``. Any other shape leaves the recorded one. */
static void note_use(struct mysqlnd_session *s, const char *sql, size_t len)
{
    struct sql_lexer lx;
    struct sql_token use, name, end;
    sql_lexer_init(&lx, sql, len, 0);
    sql_lexer_next(&lx, &use);
    sql_lexer_next(&lx, &name);
    sql_lexer_next(&lx, &end);
    if (!sql_token_is_word(&lx, &use, "USE") || lx.ambiguous != 0 ||
        !(end.kind == SQL_TOK_END || sql_token_is_punct(&end, ';')))
        return;
    if (name.kind == SQL_TOK_WORD) {
        replace_copy(&s->params.db, sql + name.start, name.len);
    } else if (name.kind == SQL_TOK_QUOTED_ID && name.len >= 2) {
        char db[256];
        size_t n = 0;
        for (size_t i = name.start + 1; i < name.start + name.len - 1 && n < sizeof db; i++) {
            db[n++] = sql[i];
            if (sql[i] == '`')
                i++; /* `` is one backquote */
        }
        if (n < sizeof db)
            replace_copy(&s->params.db, db, n);
    }
}

static enum_func_status hook_reap_query(MYSQLND_CONN_DATA *c)
{
    struct mysqlnd_session *s = managed(c);
    if (s == NULL || !driver_has_pending(&s->core))
        return real.reap_query(c);
    int rc = driver_read(&s->core, c);
    if (rc == 0 && s->core.pending_class.kind == STMT_USE && s->core.pending_len != 0)
        note_use(s, s->core.pending_sql, s->core.pending_len);
    return rc == 0 ? PASS : FAIL;
}

static int call_ping(void *c, const void *unused)
{
    (void)unused;
    return real.ping(c) == PASS ? 0 : 1;
}

static enum_func_status hook_ping(MYSQLND_CONN_DATA *c)
{
    struct mysqlnd_session *s = managed(c);
    if (s == NULL)
        return real.ping(c);
    return driver_run(&s->core, c, &class_ping, call_ping, NULL) == 0 ? PASS : FAIL;
}

struct select_db_args {
    const char *db;
    size_t len;
};

static int call_select_db(void *c, const void *arg)
{
    const struct select_db_args *a = arg;
    return real.select_db(c, a->db, a->len) == PASS ? 0 : 1;
}

static enum_func_status hook_select_db(MYSQLND_CONN_DATA *c, const char *db, size_t len)
{
    struct mysqlnd_session *s = managed(c);
    if (s == NULL)
        return real.select_db(c, db, len);
    struct select_db_args a = {db, len};
    int rc = driver_run(&s->core, c, &class_use, call_select_db, &a);
    if (rc == 0)
        replace_copy(&s->params.db, db, len);
    return rc == 0 ? PASS : FAIL;
}

static int call_set_server_option(void *c, const void *option)
{
    return real.set_server_option(c, *(const enum_mysqlnd_server_option *)option) == PASS ? 0 : 1;
}

/* mysqli::multi_query turns multi-statements on before the query and off
 * after it: the last setting is what a reconnect restores. */
static enum_func_status hook_set_server_option(MYSQLND_CONN_DATA *c, enum_mysqlnd_server_option option)
{
    struct mysqlnd_session *s = managed(c);
    if (s == NULL)
        return real.set_server_option(c, option);
    int rc = driver_run(&s->core, c, &class_session_setting, call_set_server_option, &option);
    if (rc == 0)
        s->server_option = (int)option;
    return rc == 0 ? PASS : FAIL;
}

struct change_user_args {
    const char *user, *password, *db;
    bool silent;
    size_t password_len;
};

static int call_change_user(void *c, const void *arg)
{
    const struct change_user_args *a = arg;
    return real.change_user(c, a->user, a->password, a->db, a->silent, a->password_len) == PASS ? 0 : 1;
}

static enum_func_status hook_change_user(MYSQLND_CONN_DATA *c, const char *user, const char *password,
                                         const char *db, bool silent, size_t password_len)
{
    struct mysqlnd_session *s = managed(c);
    if (s == NULL)
        return real.change_user(c, user, password, db, silent, password_len);
    struct change_user_args a = {user, password, db, silent, password_len};
    int rc = driver_run(&s->core, c, &class_session_reset, call_change_user, &a);
    if (rc == 0) {
        driver_session_reset(&s->core);
        s->server_option = -1;
        struct connect_params *p = &s->params;
        replace_copy(&p->user, user, user ? strlen(user) : 0);
        replace_copy(&p->db, db, db ? strlen(db) : 0);
        if (replace_copy(&p->password, password, password ? password_len : 0))
            p->password_len = password ? password_len : 0;
    }
    return rc == 0 ? PASS : FAIL;
}

/* ---- prepared statements: PDO with native prepares, mysqli_stmt ---- */

static MYSQLND_CONN_DATA *stmt_conn(MYSQLND_STMT *stmt)
{
    return stmt != NULL && stmt->data != NULL ? stmt->data->conn : NULL;
}

struct prepare_args {
    MYSQLND_STMT *stmt;
    const char *sql;
    size_t len;
};

static int call_prepare(void *c, const void *arg)
{
    (void)c;
    const struct prepare_args *a = arg;
    return real.stmt_prepare(a->stmt, a->sql, a->len) == PASS ? 0 : 1;
}

/* Copies the error of the connection to the statement, where PDO and
 * mysqli_stmt read it when the shim refused or could not reconnect. */
static void stmt_take_connection_error(MYSQLND_STMT *stmt, MYSQLND_CONN_DATA *c)
{
    MYSQLND_ERROR_INFO *info = stmt->data->error_info;
    if (c->error_info->error_no != 0 && info->error_no == 0)
        info->m->set_client_error(info, c->error_info->error_no, c->error_info->sqlstate, c->error_info->error);
}

/* What goneshim keeps per prepared statement (PDO native, mysqli_stmt). */
struct mysqlnd_statement {
    struct prepared_statement core;
};

static void statement_set_error(void *stmt, unsigned code, const char *message)
{
    MYSQLND_ERROR_INFO *info = ((MYSQLND_STMT *)stmt)->data->error_info;
    info->m->set_client_error(info, code, "HY000", message);
}

/* mysqlnd prepares an already prepared statement into a new object and
 * swaps it in, freeing the old one with the parameters PDO or mysqli bound
 * and the variables of mysqli_stmt::bind_result. Those are taken out of
 * the old object first and put into the new one, and the parameter types
 * are sent again with the next execute, as a new server-side statement
 * needs. */
static bool statement_prepare_again(void *stmt, const char *sql, size_t len)
{
    MYSQLND_STMT *st = stmt;
    MYSQLND_STMT_DATA *d = st->data;
    MYSQLND_PARAM_BIND *params = d->param_bind;
    MYSQLND_RESULT_BIND *results = d->result_bind;
    unsigned param_count = d->param_count, field_count = d->field_count;
    d->param_bind = NULL;
    d->result_bind = NULL;
    struct quiet q = quiet_begin();
    bool ok = real.stmt_prepare(st, sql, len) == PASS;
    quiet_end(q);
    d = st->data; /* the new object, or the old one if it failed */
    if (ok && (d->param_count != param_count || d->field_count != field_count)) {
        /* Not the same statement any more (SELECT * after an ALTER): the
         * bindings cannot apply. Kept out of mysqlnd's way (a small leak)
         * rather than read past their end. */
        statement_set_error(st, 2006, "goneshim: the statement has other columns after the reconnect; "
                                      "prepare it again");
        return false;
    }
    if (d->param_bind == NULL)
        d->param_bind = params;
    if (d->result_bind == NULL)
        d->result_bind = results;
    d->send_types_to_server = 1;
    return ok;
}

static bool statement_execute(void *stmt)
{
    return real.stmt_execute(stmt) == PASS;
}

static unsigned statement_error_code(void *stmt)
{
    return ((MYSQLND_STMT *)stmt)->data->error_info->error_no;
}

static const struct statement_ops mysqlnd_statement_ops = {
    .prepare_again = statement_prepare_again,
    .execute = statement_execute,
    .set_error = statement_set_error,
    .error_code = statement_error_code,
};

static enum_func_status hook_stmt_prepare(MYSQLND_STMT *stmt, const char *sql, size_t len)
{
    MYSQLND_CONN_DATA *c = stmt_conn(stmt);
    struct mysqlnd_session *s = managed(c);
    if (s == NULL)
        return real.stmt_prepare(stmt, sql, len);
    /* Preparing runs nothing: safe to send again, like a ping; refused,
     * like everything, inside a lost transaction. */
    struct prepare_args a = {stmt, sql, len};
    int rc = driver_run(&s->core, c, &class_ping, call_prepare, &a);
    if (rc != 0) {
        stmt_take_connection_error(stmt, c);
        return FAIL;
    }
    struct mysqlnd_statement *r = registry_lookup(stmt);
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL || !registry_insert(stmt, r)) {
            free(r);
            return PASS; /* out of memory: this statement is not protected */
        }
    }
    if (!prepared_statement_record(&r->core, &s->core, sql, len)) {
        registry_remove(stmt);
        prepared_statement_forget(&r->core);
        free(r);
    }
    return PASS;
}

static int call_execute(void *c, const void *stmt)
{
    (void)c;
    return real.stmt_execute((MYSQLND_STMT *)stmt) == PASS ? 0 : 1;
}

static enum_func_status hook_stmt_execute(MYSQLND_STMT *stmt)
{
    MYSQLND_CONN_DATA *c = stmt_conn(stmt);
    struct mysqlnd_session *s = managed(c);
    struct mysqlnd_statement *r = s != NULL ? registry_lookup(stmt) : NULL;
    if (r != NULL)
        return driver_execute_prepared(&s->core, c, &r->core, &mysqlnd_statement_ops, stmt) == 0 ? PASS : FAIL;
    if (s == NULL)
        return real.stmt_execute(stmt);
    /* Prepared before goneshim knew the connection: without its text the
     * shim cannot tell a read from a write, so it is never sent twice. */
    static const struct statement_class class_execute = {STMT_WRITE, 0, 0, false};
    int rc = driver_run(&s->core, c, &class_execute, call_execute, stmt);
    if (rc != 0)
        stmt_take_connection_error(stmt, c);
    return rc == 0 ? PASS : FAIL;
}

static enum_func_status hook_stmt_dtor(MYSQLND_STMT *stmt, bool implicit)
{
    struct mysqlnd_statement *r = shim_in_real_call() ? NULL : registry_remove(stmt);
    if (r != NULL) {
        prepared_statement_forget(&r->core);
        free(r);
    }
    return real.stmt_dtor(stmt, implicit);
}

/* ---- installing the hooks ---- */

static void install_hooks(void)
{
    if (!shim_active())
        return;
    unsigned long (*client_version)(void) = dlsym(RTLD_DEFAULT, "mysqlnd_get_client_version");
    struct st_mysqlnd_plugin_methods_xetters *xetters = dlsym(RTLD_DEFAULT, "mysqlnd_plugin_methods_xetters");
    php_globals = dlsym(RTLD_DEFAULT, "executor_globals");
    unsigned long version = client_version ? client_version() : 0;
    if (version / 100 != PHP_VERSION_ID / 100 || xetters == NULL || php_globals == NULL) {
        event_log("mysqlnd: PHP %lu.%lu (%s) is not the PHP %d.%d (non-thread-safe) goneshim was built "
                  "for; PHP connections are passed through",
                  version / 10000, version / 100 % 100,
                  php_globals == NULL ? "thread-safe or unknown" : "non-thread-safe", PHP_MAJOR_VERSION,
                  PHP_MINOR_VERSION);
        return;
    }
    MYSQLND_CLASS_METHODS_TYPE(mysqlnd_conn_data) *conn = xetters->connection_data.get();
    MYSQLND_CLASS_METHODS_TYPE(mysqlnd_stmt) *stmt = xetters->statement.get();
    if (conn == NULL || stmt == NULL)
        return;
    real.connect = conn->connect;
    real.send_query = conn->send_query;
    real.reap_query = conn->reap_query;
    real.query = conn->query;
    real.ping = conn->ping;
    real.select_db = conn->select_db;
    real.set_server_option = conn->set_server_option;
    real.change_user = conn->change_user;
    real.set_autocommit = conn->set_autocommit;
    real.dtor = conn->dtor;
    real.get_updated_connect_flags = conn->get_updated_connect_flags;
    real.store_result = conn->store_result;
    real.next_result = conn->next_result;
    real.stmt_prepare = stmt->prepare;
    real.stmt_execute = stmt->execute;
    real.stmt_dtor = stmt->dtor;
    real.stmt_free_result = stmt->free_stmt_result;

    /* The tables are global and every object points to them: patching
     * them in place covers connections that already exist. */
    conn->connect = hook_connect;
    conn->send_query = hook_send_query;
    conn->reap_query = hook_reap_query;
    conn->ping = hook_ping;
    conn->select_db = hook_select_db;
    conn->set_server_option = hook_set_server_option;
    conn->change_user = hook_change_user;
    conn->dtor = hook_dtor;
    conn->get_updated_connect_flags = hook_get_updated_connect_flags;
    stmt->prepare = hook_stmt_prepare;
    stmt->execute = hook_stmt_execute;
    stmt->dtor = hook_stmt_dtor;
}

EXPORT MYSQLND *mysqlnd_connection_init(const size_t client_flags, const bool persistent,
                                        MYSQLND_CLASS_METHODS_TYPE(mysqlnd_object_factory) *object_factory)
{
    __typeof__(&mysqlnd_connection_init) init = symbols_get(&real_mysqlnd_connection_init);
    if (init == NULL)
        return NULL;
    pthread_once(&hooks_once, install_hooks);
    return init(client_flags, persistent, object_factory);
}
