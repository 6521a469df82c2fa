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
 * A translation, like the libmysqlclient adapter: mysqlnd's methods become
 * calls of the driver (driver.h), and the driver's operations on a
 * connection or a statement (backend.h) become calls of mysqlnd's original
 * methods and reads of its structures. What to do is decided in shim/core.
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
#include "digest.h"
#include "driver.h"
#include "event_log.h"
#include "protocol.h"
#include "shim_runtime.h"
#include "symbols.h"
#include "text.h"

#define EXPORT __attribute__((visibility("default")))

/* What the application connected with, for reconnecting. */
struct connect_params {
    char *host, *user, *password, *db, *socket;
    size_t password_len;
    unsigned port, flags;
};

/* The adapter's part of the driver's record of a connection. */
struct mysqlnd_session {
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
    func_mysqlnd_conn_data__kill_connection kill_connection;
    func_mysqlnd_conn__close close;
    func_mysqlnd_conn_data__get_updated_connect_flags get_updated_connect_flags;
    func_mysqlnd_conn_data__store_result store_result;
    func_mysqlnd_conn_data__use_result use_result;
    func_mysqlnd_conn_data__next_result next_result;
    func_mysqlnd_stmt__prepare stmt_prepare;
    func_mysqlnd_stmt__execute statement_execute;
    func_mysqlnd_stmt__dtor stmt_dtor;
    func_mysqlnd_stmt__free_stmt_result stmt_free_result;
    func_mysqlnd_stmt__reset stmt_reset;
    func_mysqlnd_stmt__send_long_data stmt_send_long_data;
    func_mysqlnd_stmt__store_result stmt_store_result;
    func_mysqlnd_stmt__use_result stmt_use_result;
    func_mysqlnd_stmt__get_result stmt_get_result;
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

static unsigned op_server_status(void *conn)
{
    return CONN(conn)->upsert_status->server_status;
}

static unsigned long long op_thread_id(void *conn)
{
    return CONN(conn)->thread_id;
}

static const char *op_server_version(void *conn)
{
    return CONN(conn)->server_version;
}

static unsigned long long op_insert_id(void *conn)
{
    return CONN(conn)->upsert_status->last_insert_id;
}

static void op_set_insert_id(void *conn, unsigned long long id)
{
    CONN(conn)->upsert_status->last_insert_id = id;
}

static void op_save_error(void *conn, struct error_snapshot *e)
{
    const MYSQLND_ERROR_INFO *info = CONN(conn)->error_info;
    e->code = info->error_no;
    text_copy(e->sqlstate, sizeof e->sqlstate, info->sqlstate);
    text_copy(e->message, sizeof e->message, info->error);
}

/* The error texts of mysqlnd's own: an error the driver sets (2006 when it
 * refuses a statement) reads like the ones mysqlnd sets. */
static void op_set_error(void *conn, const struct error_snapshot *e)
{
    MYSQLND_ERROR_INFO *info = CONN(conn)->error_info;
    const char *message = e->code == GS_ER_SERVER_GONE && strcmp(e->message, "Server has gone away") == 0
                              ? "MySQL server has gone away"
                              : e->message;
    info->m->set_client_error(info, e->code, e->sqlstate, message);
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
static __thread MYSQLND_CONN_DATA *reconnecting_conn __attribute__((tls_model("initial-exec")));

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
    if (s != NULL && reconnecting_conn == c) {
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
static bool op_reconnect_once(void *conn, void *backend, const struct reconnect_request *r)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    struct mysqlnd_session *s = backend;
    s->charset = c->charset;
    save_tls(s, c);
    unsigned app_timeout = c->vio->data->options.timeout_connect;
    if (app_timeout == 0 || app_timeout > r->timeout_s)
        c->vio->data->options.timeout_connect = r->timeout_s;
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
    reconnecting_conn = c;
    bool ok = real.connect(c, host, user, password, db, p->port, socket_path, p->flags) == PASS;
    reconnecting = NULL;
    reconnecting_conn = NULL;
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

static bool op_restore_extra(void *conn, void *backend)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    struct mysqlnd_session *s = backend;
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

/* A SELECT of one value, leaving the connection as the application saw it
 * after its statement (affected rows, insert id, status, field count). */
static bool op_read_value(void *conn, const char *sql, size_t len, char *value, size_t size, bool *quote)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    if (c->upsert_status->warning_count != 0 || c->field_count != 0)
        return false;
    MYSQLND_UPSERT_STATUS saved = *c->upsert_status;
    struct quiet q = quiet_begin();
    bool ok = real.query(c, sql, len) == PASS && c->error_info->error_no == 0;
    MYSQLND_RES *result = ok ? real.store_result(c) : NULL;
    ok = false;
    if (result != NULL) {
        zval *row = NULL;
        bool fetched = false;
        const MYSQLND_FIELD *field = result->m.fetch_field_direct(result, 0);
        if (result->m.fetch_row(result, &row, 0, &fetched) == PASS && fetched && row != NULL) {
            result->free_row_data = 1; /* its zvals go with the result */
            if (Z_TYPE_P(row) == IS_STRING && Z_STRLEN_P(row) < size) {
                memcpy(value, Z_STRVAL_P(row), Z_STRLEN_P(row));
                value[Z_STRLEN_P(row)] = '\0';
                ok = true;
            } else if (Z_TYPE_P(row) == IS_LONG) {
                ok = (size_t)snprintf(value, size, ZEND_LONG_FMT, Z_LVAL_P(row)) < size;
            }
            *quote = field == NULL || !IS_NUM(field->type);
        }
        result->m.free_result(result, true);
    }
    quiet_end(q);
    *c->upsert_status = saved;
    c->field_count = 0;
    return ok;
}

static void op_answer(void *conn, struct answer_summary *a)
{
    const MYSQLND_CONN_DATA *c = CONN(conn);
    a->affected_rows = c->upsert_status->affected_rows;
    a->insert_id = c->upsert_status->last_insert_id;
    a->warnings = c->upsert_status->warning_count;
    a->field_count = c->field_count;
    a->error_code = c->error_info->error_no;
    a->info = c->last_message.s;
    a->info_len = c->last_message.s != NULL ? c->last_message.l : 0;
}

/* The digest of a stored result set, as the application can observe it:
 * each column's description, every row as the server sent it (mysqlnd
 * keeps the packets and decodes them as they are fetched, so they are
 * still as they came), and the final packet's warning count. */
static uint64_t result_digest(const MYSQLND_RES *res, unsigned warnings)
{
    unsigned n = res->field_count;
    uint64_t d = digest_u64(DIGEST_INIT, n);
    const MYSQLND_RES_BUFFERED *stored = res->stored_data;
    if (res->meta == NULL || stored == NULL)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        const MYSQLND_FIELD *f = &res->meta->fields[i];
        const struct column_description c = {
            f->name, f->org_name, f->table, f->org_table, f->db,
            f->name_length, f->org_name_length, f->table_length, f->org_table_length, f->db_length,
            (uint64_t)f->type, f->flags, f->decimals, f->charsetnr, f->length,
        };
        d = digest_column(d, &c);
    }
    for (uint64_t i = 0; i < stored->row_count; i++)
        d = digest_field(d, stored->row_buffers[i].ptr, stored->row_buffers[i].size);
    d = digest_u64(d, stored->row_count);
    d = digest_u64(d, warnings);
    return digest_finish(d);
}

static bool op_replay_sql(void *conn, const char *sql, size_t len, struct answer_summary *a, uint64_t *rows)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    *rows = 0;
    struct quiet q = quiet_begin();
    bool ok = real.query(c, sql, len) == PASS;
    op_answer(c, a);
    bool ran = ok || (!op_link_dropped(c) && a->error_code != 0 && a->error_code < GS_ER_CLIENT_FIRST);
    if (ok && c->field_count != 0) {
        MYSQLND_RES *result = real.store_result(c);
        ran = result != NULL;
        if (result != NULL) {
            *rows = result_digest(result, c->upsert_status->warning_count);
            result->m.free_result(result, true);
        }
    }
    quiet_end(q);
    return ran;
}

/* libmariadb follows USE through session tracking; mysqlnd does not: the
 * database a reconnect selects is the one the driver saw chosen last. */
static void op_note_database(void *backend, const char *db, size_t len)
{
    struct mysqlnd_session *s = backend;
    replace_copy(&s->params.db, db, len);
}

static void op_release(void *backend)
{
    struct mysqlnd_session *s = backend;
    forget_tls(s);
    forget_params(&s->params);
}

static bool op_replay_prepared(void *conn, const char *sql, size_t len, const unsigned char *params,
                               size_t params_len, struct answer_summary *a, uint64_t *rows);

static const struct connection_ops mysqlnd_ops = {
    .answer = op_answer,
    .replay_sql = op_replay_sql,
    .replay_prepared = op_replay_prepared,
    .library = "mysqlnd",
    .backend_size = sizeof(struct mysqlnd_session),
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
    .restore_extra = op_restore_extra,
    .send_sql = op_send_sql,
    .read_result = op_read_result,
    .drop_link = op_drop_link,
    .read_value = op_read_value,
    .note_database = op_note_database,
    .release = op_release,
    /* mysqlnd warns on a failed write ("Error while sending QUERY packet"). */
    .must_probe_before_send = true,
};

/* ---- the hooks ---- */

#define STATUS(ok) ((ok) ? PASS : FAIL)

static enum_func_status hook_connect(MYSQLND_CONN_DATA *c, MYSQLND_CSTRING host, MYSQLND_CSTRING user,
                                     MYSQLND_CSTRING password, MYSQLND_CSTRING db, unsigned port,
                                     MYSQLND_CSTRING socket_path, unsigned flags)
{
    enum_func_status rc = real.connect(c, host, user, password, db, port, socket_path, flags);
    if (rc != PASS)
        return rc;
    struct gs_connection *gc = driver_attach(c, &mysqlnd_ops);
    if (gc == NULL)
        return rc;
    struct mysqlnd_session *s = driver_backend(gc);
    struct connect_params *p = &s->params;
    forget_params(p);
    if (!replace_copy(&p->host, host.s, host.l) || !replace_copy(&p->user, user.s, user.l) ||
        !replace_copy(&p->password, password.s, password.l) || !replace_copy(&p->db, db.s, db.l) ||
        !replace_copy(&p->socket, socket_path.s, socket_path.l)) {
        driver_detach(c);
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
    driver_detach(c);
    real.dtor(c);
}

/* mysqli::query, real_query, multi_query, PDO::exec, PDO::query, emulated
 * prepares, and every transaction and autocommit call end in send_query
 * then reap_query (conn->m->query is the two in a row). */
static enum_func_status hook_send_query(MYSQLND_CONN_DATA *c, const char *sql, size_t len, zval *read_cb,
                                        zval *err_cb)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL || read_cb != NULL || err_cb != NULL)
        return real.send_query(c, sql, len, read_cb, err_cb);
    return STATUS(driver_send(gc, c, sql, len));
}

static enum_func_status hook_reap_query(MYSQLND_CONN_DATA *c)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL || !driver_has_pending(gc))
        return real.reap_query(c);
    return STATUS(driver_read(gc, c));
}

/* Results: in a transaction being recorded, the digest of what the
 * application stores, for its replay; one test otherwise. */
static MYSQLND_RES *hook_store_result(MYSQLND_CONN_DATA *const c)
{
    MYSQLND_RES *result = real.store_result(c);
    if (__builtin_expect(!driver_rows_awaited(), 1) || result == NULL)
        return result;
    struct gs_connection *gc = driver_find(c);
    if (gc != NULL && driver_wants_rows(gc))
        driver_result_rows(gc, result_digest(result, c->upsert_status->warning_count));
    return result;
}

static MYSQLND_RES *hook_use_result(MYSQLND_CONN_DATA *const c)
{
    struct gs_connection *gc = driver_rows_awaited() ? driver_find(c) : NULL;
    if (gc != NULL)
        driver_result_unbuffered(gc);
    return real.use_result(c);
}

static bool call_ping(void *c, void *unused)
{
    (void)unused;
    return real.ping(c) == PASS;
}

static enum_func_status hook_ping(MYSQLND_CONN_DATA *c)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.ping(c);
    struct driver_command cmd = {.kind = DRIVER_PING};
    return STATUS(driver_command(gc, c, &cmd, call_ping, NULL));
}

struct select_db_args {
    const char *db;
    size_t len;
};

static bool call_select_db(void *c, void *arg)
{
    const struct select_db_args *a = arg;
    return real.select_db(c, a->db, a->len) == PASS;
}

static enum_func_status hook_select_db(MYSQLND_CONN_DATA *c, const char *db, size_t len)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.select_db(c, db, len);
    struct select_db_args a = {db, len};
    struct driver_command cmd = {.kind = DRIVER_SELECT_DB, .text = db, .len = len};
    return STATUS(driver_command(gc, c, &cmd, call_select_db, &a));
}

static bool call_set_server_option(void *c, void *option)
{
    return real.set_server_option(c, *(enum_mysqlnd_server_option *)option) == PASS;
}

/* mysqli::multi_query turns multi-statements on before the query and off
 * after it: the last setting is what a reconnect restores. */
static enum_func_status hook_set_server_option(MYSQLND_CONN_DATA *c, enum_mysqlnd_server_option option)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.set_server_option(c, option);
    struct driver_command cmd = {.kind = DRIVER_SET_OPTION};
    if (!driver_command(gc, c, &cmd, call_set_server_option, &option))
        return FAIL;
    ((struct mysqlnd_session *)driver_backend(gc))->server_option = (int)option;
    return PASS;
}

struct kill_args {
    unsigned int pid;
};

static bool call_kill(void *c, void *arg)
{
    return real.kill_connection(c, ((struct kill_args *)arg)->pid) == PASS;
}

/* mysqli::kill. Of its own connection id: mysqlnd sends the command, reads
 * no answer and closes the socket; goneshim steps aside, so that the
 * connection stays killed, as the application meant. */
static enum_func_status hook_kill(MYSQLND_CONN_DATA *c, unsigned int pid)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.kill_connection(c, pid);
    struct kill_args a = {pid};
    struct driver_command cmd = {.kind = DRIVER_KILL, .number = pid};
    return STATUS(driver_command(gc, c, &cmd, call_kill, &a));
}

/* mysqli_close, PDO's destruction: the application's close. A prepared
 * statement can keep the connection's data alive after it; whatever it
 * does then must fail as without goneshim, not reconnect. */
static enum_func_status hook_close(MYSQLND *handle, enum_connection_close_type type)
{
    struct gs_connection *gc = handle != NULL ? driver_find(handle->data) : NULL;
    if (gc != NULL)
        driver_closed_by_application(gc, handle->data);
    return real.close(handle, type);
}

struct change_user_args {
    const char *user, *password, *db;
    bool silent;
    size_t password_len;
};

static bool call_change_user(void *c, void *arg)
{
    const struct change_user_args *a = arg;
    return real.change_user(c, a->user, a->password, a->db, a->silent, a->password_len) == PASS;
}

static enum_func_status hook_change_user(MYSQLND_CONN_DATA *c, const char *user, const char *password,
                                         const char *db, bool silent, size_t password_len)
{
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.change_user(c, user, password, db, silent, password_len);
    struct change_user_args a = {user, password, db, silent, password_len};
    struct driver_command cmd = {.kind = DRIVER_CHANGE_USER};
    if (!driver_command(gc, c, &cmd, call_change_user, &a))
        return FAIL;
    /* What to connect with from now on. */
    struct mysqlnd_session *s = driver_backend(gc);
    s->server_option = -1;
    struct connect_params *p = &s->params;
    replace_copy(&p->user, user, user ? strlen(user) : 0);
    replace_copy(&p->db, db, db ? strlen(db) : 0);
    if (replace_copy(&p->password, password, password ? password_len : 0))
        p->password_len = password ? password_len : 0;
    return PASS;
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

static bool call_prepare(void *c, void *arg)
{
    (void)c;
    const struct prepare_args *a = arg;
    return real.stmt_prepare(a->stmt, a->sql, a->len) == PASS;
}

/* Copies the error of the connection to the statement, where PDO and
 * mysqli_stmt read it when the shim refused or could not reconnect. */
static void stmt_take_connection_error(MYSQLND_STMT *stmt, MYSQLND_CONN_DATA *c)
{
    MYSQLND_ERROR_INFO *info = stmt->data->error_info;
    if (c->error_info->error_no != 0 && info->error_no == 0)
        info->m->set_client_error(info, c->error_info->error_no, c->error_info->sqlstate, c->error_info->error);
}

/* The adapter's part of the driver's record of a statement: the bindings,
 * while a new server-side statement is prepared. */
struct statement_backend {
    MYSQLND_PARAM_BIND *params;
    MYSQLND_RESULT_BIND *results;
};

static void statement_set_error(void *stmt, unsigned code, const char *message)
{
    MYSQLND_ERROR_INFO *info = ((MYSQLND_STMT *)stmt)->data->error_info;
    info->m->set_client_error(info, code, GS_SQLSTATE_UNKNOWN, message);
}

/* mysqlnd prepares an already prepared statement into a new object and
 * swaps it in, freeing the old one with the parameters PDO or mysqli bound
 * and the variables of mysqli_stmt::bind_result. Those are taken out of
 * the old object first, to be put into the new one. */
static bool statement_prepare_again(void *stmt, void *backend, const char *sql, size_t len)
{
    MYSQLND_STMT *st = stmt;
    struct statement_backend *b = backend;
    b->params = st->data->param_bind;
    b->results = st->data->result_bind;
    st->data->param_bind = NULL;
    st->data->result_bind = NULL;
    struct quiet q = quiet_begin();
    bool ok = real.stmt_prepare(st, sql, len) == PASS;
    quiet_end(q);
    return ok;
}

static void statement_shape(void *stmt, unsigned *params, unsigned *fields)
{
    const MYSQLND_STMT_DATA *d = ((MYSQLND_STMT *)stmt)->data;
    *params = d->param_count;
    *fields = d->field_count;
}

/* The parameter types are sent again with the next execute, as a new
 * server-side statement needs. Bindings of a statement whose shape changed
 * are never put back (they would be read past their end): they are kept
 * out of mysqlnd's way, a small leak, rather than freed with the counts of
 * the new statement. */
static bool statement_restore_bindings(void *stmt, void *backend)
{
    MYSQLND_STMT_DATA *d = ((MYSQLND_STMT *)stmt)->data;
    struct statement_backend *b = backend;
    if (d->param_bind == NULL)
        d->param_bind = b->params;
    if (d->result_bind == NULL)
        d->result_bind = b->results;
    b->params = NULL;
    b->results = NULL;
    d->send_types_to_server = 1;
    return true;
}

static bool statement_execute(void *stmt)
{
    return real.statement_execute(stmt) == PASS;
}

static unsigned statement_error_code(void *stmt)
{
    return ((MYSQLND_STMT *)stmt)->data->error_info->error_no;
}

/* ---- prepared statements in a replayed transaction ---- */

static void statement_answer(void *stmt, struct answer_summary *a)
{
    const MYSQLND_STMT_DATA *d = ((MYSQLND_STMT *)stmt)->data;
    a->affected_rows = d->upsert_status->affected_rows;
    a->insert_id = d->upsert_status->last_insert_id;
    a->warnings = d->upsert_status->warning_count;
    a->field_count = d->field_count;
    a->error_code = d->error_info->error_no;
    a->info = NULL;
    a->info_len = 0;
}

/* The parameter values, as mysqlnd sent them: per parameter its type byte,
 * then a tag (0 NULL, 1 integer, 2 double, 3 string) and the value (8
 * bytes, or a 4-byte length and the bytes). Booleans are the integers
 * mysqlnd converts them to; anything else (an array, an object, long
 * data) is not kept. */
enum { PARAM_NULL, PARAM_LONG, PARAM_DOUBLE, PARAM_STRING };

static size_t put(unsigned char *buf, size_t size, size_t at, const void *data, size_t n)
{
    if (at + n <= size)
        memcpy(buf + at, data, n);
    return at + n;
}

static size_t statement_params(void *stmt, unsigned char *buf, size_t size)
{
    const MYSQLND_STMT_DATA *d = ((MYSQLND_STMT *)stmt)->data;
    size_t at = 0;
    if (d->param_count != 0 && d->param_bind == NULL)
        return STATEMENT_PARAMS_UNKEPT;
    for (unsigned i = 0; i < d->param_count; i++) {
        const MYSQLND_PARAM_BIND *p = &d->param_bind[i];
        if (p->flags & MYSQLND_PARAM_BIND_BLOB_USED)
            return STATEMENT_PARAMS_UNKEPT;
        const zval *zv = &p->zv;
        ZVAL_DEREF(zv);
        unsigned char head[2] = {p->type, 0};
        int64_t number = 0;
        double real_number = 0;
        switch (Z_TYPE_P(zv)) {
        case IS_NULL:
        case IS_UNDEF:
            head[1] = PARAM_NULL;
            break;
        case IS_FALSE:
        case IS_TRUE:
        case IS_LONG:
            head[1] = PARAM_LONG;
            number = Z_TYPE_P(zv) == IS_LONG ? (int64_t)Z_LVAL_P(zv) : Z_TYPE_P(zv) == IS_TRUE;
            break;
        case IS_DOUBLE:
            head[1] = PARAM_DOUBLE;
            real_number = Z_DVAL_P(zv);
            break;
        case IS_STRING:
            head[1] = PARAM_STRING;
            break;
        default:
            return STATEMENT_PARAMS_UNKEPT;
        }
        at = put(buf, size, at, head, sizeof head);
        if (head[1] == PARAM_LONG) {
            at = put(buf, size, at, &number, sizeof number);
        } else if (head[1] == PARAM_DOUBLE) {
            at = put(buf, size, at, &real_number, sizeof real_number);
        } else if (head[1] == PARAM_STRING) {
            uint32_t n = (uint32_t)Z_STRLEN_P(zv);
            if (Z_STRLEN_P(zv) > UINT32_MAX)
                return STATEMENT_PARAMS_UNKEPT;
            at = put(buf, size, at, &n, sizeof n);
            at = put(buf, size, at, Z_STRVAL_P(zv), n);
        }
    }
    return at;
}

/* A string of ours that PHP takes for an interned one: it never counts
 * references to it nor frees it, and no PHP symbol is needed to make it. */
static zend_string *unmanaged_string(const unsigned char *data, size_t len)
{
    zend_string *s = calloc(1, _ZSTR_STRUCT_SIZE(len));
    if (s == NULL)
        return NULL;
    GC_SET_REFCOUNT(s, 1);
    GC_TYPE_INFO(s) = GC_STRING | ((IS_STR_INTERNED | IS_STR_PERSISTENT) << GC_FLAGS_SHIFT);
    ZSTR_LEN(s) = len;
    memcpy(ZSTR_VAL(s), data, len);
    ZSTR_VAL(s)[len] = '\0';
    return s;
}

/* Binds the parameters statement_params wrote; `strings` collects what
 * to free once the statement is gone. False when they do not fit. */
static bool bind_recorded_params(MYSQLND_STMT *st, const unsigned char *p, size_t len, zend_string **strings)
{
    const unsigned char *end = p + len;
    unsigned count = st->data->param_count;
    for (unsigned i = 0; i < count; i++) {
        if (end - p < 2)
            return false;
        zend_uchar type = p[0];
        unsigned char tag = p[1];
        p += 2;
        zval zv;
        if (tag == PARAM_NULL) {
            ZVAL_NULL(&zv);
        } else if (tag == PARAM_LONG || tag == PARAM_DOUBLE) {
            if (end - p < 8)
                return false;
            int64_t number;
            double real_number;
            memcpy(&number, p, 8);
            memcpy(&real_number, p, 8);
            if (tag == PARAM_LONG)
                ZVAL_LONG(&zv, (zend_long)number);
            else
                ZVAL_DOUBLE(&zv, real_number);
            p += 8;
        } else if (tag == PARAM_STRING) {
            uint32_t n;
            if (end - p < 4)
                return false;
            memcpy(&n, p, 4);
            p += 4;
            if ((size_t)(end - p) < n)
                return false;
            strings[i] = unmanaged_string(p, n);
            if (strings[i] == NULL)
                return false;
            ZVAL_INTERNED_STR(&zv, strings[i]);
            p += n;
        } else {
            return false;
        }
        if (st->m->bind_one_parameter(st, i, &zv, type) != PASS)
            return false;
    }
    return p == end;
}

static bool op_replay_prepared(void *conn, const char *sql, size_t len, const unsigned char *params,
                               size_t params_len, struct answer_summary *a, uint64_t *rows)
{
    MYSQLND_CONN_DATA *c = CONN(conn);
    *rows = 0;
    struct quiet q = quiet_begin();
    MYSQLND_STMT *st = c->m->stmt_init(c);
    bool ran = false;
    zend_string **strings = NULL;
    unsigned count = 0;
    if (st != NULL && real.stmt_prepare(st, sql, len) == PASS) {
        count = st->data->param_count;
        /* An array of pointers: room for one per parameter. */
        strings = (zend_string **)calloc(count != 0 ? count : 1, sizeof(void *));
        if (strings != NULL && bind_recorded_params(st, params, params_len, strings)) {
            bool ok = real.statement_execute(st) == PASS;
            statement_answer(st, a);
            ran = ok || (!op_link_dropped(c) && a->error_code != 0 && a->error_code < GS_ER_CLIENT_FIRST);
            if (ok && st->data->field_count != 0) {
                const MYSQLND_RES *result = real.stmt_store_result(st);
                ran = result != NULL;
                if (result != NULL)
                    *rows = result_digest(result, st->data->upsert_status->warning_count);
            }
        }
    }
    if (st != NULL)
        real.stmt_dtor(st, true);
    if (strings != NULL) {
        /* The statement is gone, and with it every reference to them. */
        for (unsigned i = 0; i < count; i++)
            free(strings[i]);
        free((void *)strings);
    }
    quiet_end(q);
    return ran;
}

static const struct statement_ops mysqlnd_statement_ops = {
    .answer = statement_answer,
    .params = statement_params,
    .backend_size = sizeof(struct statement_backend),
    .prepare_again = statement_prepare_again,
    .shape = statement_shape,
    .restore_bindings = statement_restore_bindings,
    .execute = statement_execute,
    .set_error = statement_set_error,
    .error_code = statement_error_code,
};

static enum_func_status hook_stmt_prepare(MYSQLND_STMT *stmt, const char *sql, size_t len)
{
    MYSQLND_CONN_DATA *c = stmt_conn(stmt);
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.stmt_prepare(stmt, sql, len);
    struct prepare_args a = {stmt, sql, len};
    if (!driver_stmt_prepare(gc, c, stmt, &mysqlnd_statement_ops, sql, len, call_prepare, &a)) {
        stmt_take_connection_error(stmt, c);
        return FAIL;
    }
    return PASS;
}

static bool call_execute(void *c, void *stmt)
{
    (void)c;
    return real.statement_execute(stmt) == PASS;
}

static enum_func_status hook_stmt_execute(MYSQLND_STMT *stmt)
{
    MYSQLND_CONN_DATA *c = stmt_conn(stmt);
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL)
        return real.statement_execute(stmt);
    bool ok = driver_stmt_execute(gc, c, stmt, call_execute, stmt);
    if (!ok)
        stmt_take_connection_error(stmt, c);
    return STATUS(ok);
}

/* A statement prepared on a connection that has died since died with it
 * on the server: its number means nothing on the new connection, or names
 * another statement there (Oracle MySQL numbers statements per connection
 * from 1, MariaDB server-wide). mysqlnd sends no COM_STMT_CLOSE for a
 * statement numbered 0. Without this, PDO's freeing of a statement
 * prepared before a KILL closed the one just prepared on the fresh
 * connection: "1243 Unknown prepared statement handler (1)". */
/* A prepared statement's result set, as for the connection's. */
/* A prepared statement's rows, stored one way or the other: their digest,
 * when a record waits for it. */
static MYSQLND_RES *statement_rows(MYSQLND_STMT *stmt, MYSQLND_RES *result)
{
    if (__builtin_expect(!driver_rows_awaited(), 1) || result == NULL)
        return result;
    struct gs_connection *gc = driver_find(stmt_conn(stmt));
    if (gc != NULL && driver_wants_rows(gc))
        driver_result_rows(gc, result_digest(result, stmt->data->upsert_status->warning_count));
    return result;
}

static MYSQLND_RES *hook_stmt_store_result(MYSQLND_STMT *const stmt)
{
    return statement_rows(stmt, real.stmt_store_result(stmt));
}

/* mysqli_stmt::get_result: the rows read into a result of their own,
 * the same packets as store_result keeps. */
static MYSQLND_RES *hook_stmt_get_result(MYSQLND_STMT *const stmt)
{
    return statement_rows(stmt, real.stmt_get_result(stmt));
}

static MYSQLND_RES *hook_stmt_use_result(MYSQLND_STMT *const stmt)
{
    struct gs_connection *gc = driver_rows_awaited() ? driver_find(stmt_conn(stmt)) : NULL;
    if (gc != NULL)
        driver_result_unbuffered(gc);
    return real.stmt_use_result(stmt);
}

static enum_func_status hook_stmt_dtor(MYSQLND_STMT *stmt, bool implicit)
{
    if (!driver_stmt_close(driver_find(stmt_conn(stmt)), stmt))
        stmt->data->stmt_id = 0;
    return real.stmt_dtor(stmt, implicit);
}

/* COM_STMT_RESET and COM_STMT_SEND_LONG_DATA name the statement by its
 * number too: a stale one is prepared again first, on the fresh
 * connection, so that they reach the application's statement. Long data
 * cannot be sent twice: the execute that follows it is never resent. */
static bool refresh_stale(MYSQLND_STMT *stmt)
{
    MYSQLND_CONN_DATA *c = stmt_conn(stmt);
    struct gs_connection *gc = driver_find(c);
    if (gc == NULL || driver_stmt_refresh(gc, c, stmt))
        return true;
    stmt_take_connection_error(stmt, c);
    return false;
}

static enum_func_status hook_stmt_reset(MYSQLND_STMT *const stmt)
{
    if (!refresh_stale(stmt))
        return FAIL;
    return real.stmt_reset(stmt);
}

static enum_func_status hook_stmt_send_long_data(MYSQLND_STMT *const stmt, unsigned int param, const char *const data,
                                                 zend_ulong length)
{
    if (!refresh_stale(stmt))
        return FAIL;
    if (driver_find(stmt_conn(stmt)) != NULL)
        driver_stmt_note_long_data(stmt);
    return real.stmt_send_long_data(stmt, param, data, length);
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
    MYSQLND_CLASS_METHODS_TYPE(mysqlnd_conn) *handle = xetters->connection.get();
    MYSQLND_CLASS_METHODS_TYPE(mysqlnd_conn_data) *conn = xetters->connection_data.get();
    MYSQLND_CLASS_METHODS_TYPE(mysqlnd_stmt) *stmt = xetters->statement.get();
    if (handle == NULL || conn == NULL || stmt == NULL)
        return;
    real.close = handle->close;
    real.kill_connection = conn->kill_connection;
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
    real.use_result = conn->use_result;
    real.next_result = conn->next_result;
    real.stmt_prepare = stmt->prepare;
    real.statement_execute = stmt->execute;
    real.stmt_dtor = stmt->dtor;
    real.stmt_free_result = stmt->free_stmt_result;
    real.stmt_reset = stmt->reset;
    real.stmt_send_long_data = stmt->send_long_data;
    real.stmt_store_result = stmt->store_result;
    real.stmt_use_result = stmt->use_result;
    real.stmt_get_result = stmt->get_result;

    /* The tables are global and every object points to them: patching
     * them in place covers connections that already exist. */
    handle->close = hook_close;
    conn->kill_connection = hook_kill;
    conn->connect = hook_connect;
    conn->send_query = hook_send_query;
    conn->reap_query = hook_reap_query;
    conn->store_result = hook_store_result;
    conn->use_result = hook_use_result;
    conn->ping = hook_ping;
    conn->select_db = hook_select_db;
    conn->set_server_option = hook_set_server_option;
    conn->change_user = hook_change_user;
    conn->dtor = hook_dtor;
    conn->get_updated_connect_flags = hook_get_updated_connect_flags;
    stmt->prepare = hook_stmt_prepare;
    stmt->execute = hook_stmt_execute;
    stmt->dtor = hook_stmt_dtor;
    stmt->reset = hook_stmt_reset;
    stmt->send_long_data = hook_stmt_send_long_data;
    stmt->store_result = hook_stmt_store_result;
    stmt->use_result = hook_stmt_use_result;
    stmt->get_result = hook_stmt_get_result;
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
