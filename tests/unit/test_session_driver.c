/* The session driver against a scripted backend: the same code carries out
 * the rules for libmysqlclient and mysqlnd, so what it does is tested once,
 * here, with a fake connection whose "server" end is a real socket (the
 * liveness probe peeks at it exactly as it does at a MariaDB socket). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session_driver.h"
#include "shim_runtime.h"

struct fake_conn {
    int client_fd, server_fd; /* a socketpair: closing server_fd is the KILL */
    bool dropped, in_txn, autocommit;
    unsigned error;
    char message[512];
    unsigned long long thread;
    char log[1024]; /* what reached the "server", in order */
};

static void note(struct fake_conn *f, const char *fmt, const char *arg)
{
    size_t used = strlen(f->log);
    snprintf(f->log + used, sizeof f->log - used, fmt, arg);
}

static void fresh_link(struct fake_conn *f)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f->client_fd = sv[0];
    f->server_fd = sv[1];
    f->dropped = false;
    f->in_txn = false;
    f->autocommit = true; /* the server's default for a new session */
    f->thread++;
}

static struct managed_session session;

/* The server closes the connection in the gap between two statements of a
 * busy handle. */
static void server_kills_at_once(struct fake_conn *f)
{
    close(f->server_fd);
    f->server_fd = -1;
}

/* The field's case: the handle sat idle, and the server closed it. */
static void server_kills(struct fake_conn *f)
{
    session.guard.last_used_ns -= 2 * GUARD_BUSY_NS;
    server_kills_at_once(f);
}

static bool f_dropped(void *c) { return ((struct fake_conn *)c)->dropped; }
static bool f_drained(void *c) { (void)c; return true; }
static int f_fd(void *c) { return ((struct fake_conn *)c)->client_fd; }
static bool f_in_txn(void *c) { return ((struct fake_conn *)c)->in_txn; }
static bool f_autocommit(void *c) { return ((struct fake_conn *)c)->autocommit; }
static unsigned long long f_thread(void *c) { return ((struct fake_conn *)c)->thread; }

static void f_save_error(void *c, struct error_snapshot *e)
{
    struct fake_conn *f = c;
    e->code = f->error;
    snprintf(e->sqlstate, sizeof e->sqlstate, "HY000");
    snprintf(e->message, sizeof e->message, "%s", f->message);
}

static void f_restore_error(void *c, const struct error_snapshot *e)
{
    struct fake_conn *f = c;
    f->error = e->code;
    snprintf(f->message, sizeof f->message, "%s", e->message);
}

static void f_gone(void *c)
{
    struct error_snapshot e = {2006, "HY000", "gone"};
    f_restore_error(c, &e);
}

static void f_show_txn(void *c) { ((struct fake_conn *)c)->in_txn = true; }

static bool f_ping(void *c, uint64_t timeout_ns)
{
    (void)timeout_ns;
    struct fake_conn *f = c;
    note(f, "%s;", "ping");
    return f->server_fd >= 0;
}

static bool f_reconnect(void *c, struct managed_session *s, unsigned timeout_s)
{
    (void)s;
    (void)timeout_s;
    struct fake_conn *f = c;
    close(f->client_fd);
    if (f->server_fd >= 0)
        close(f->server_fd);
    fresh_link(f);
    note(f, "%s;", "reconnect");
    return true;
}

static bool f_set_autocommit(void *c, bool on)
{
    struct fake_conn *f = c;
    f->autocommit = on;
    note(f, "autocommit=%s;", on ? "1" : "0");
    return true;
}

static bool f_run_sql(void *c, const char *sql, size_t len)
{
    (void)len;
    note(c, "replay %s;", sql);
    return true;
}

static void f_drop(void *c) { ((struct fake_conn *)c)->dropped = true; }

/* What the fake server does with the next statement. */
enum fate { ANSWERS, DIES_AFTER_SEND };
static enum fate next_fate = ANSWERS;

static bool execute(struct fake_conn *f, const char *sql)
{
    note(f, "run %s;", sql);
    if (f->server_fd < 0 || f->dropped || next_fate == DIES_AFTER_SEND) {
        next_fate = ANSWERS;
        f->error = 2013;
        f->dropped = true; /* the library drops the link, like libmariadb */
        return false;
    }
    if (strncmp(sql, "BEGIN", 5) == 0)
        f->in_txn = true;
    if (strncmp(sql, "COMMIT", 6) == 0 || strncmp(sql, "ROLLBACK", 8) == 0)
        f->in_txn = false;
    f->error = 0;
    return true;
}

static const char *pending_sql;
static bool f_send(void *c, const char *sql, size_t len)
{
    (void)c;
    (void)len;
    pending_sql = sql;
    return true;
}
static bool f_read(void *c) { return execute(c, pending_sql); }

static const struct connection_ops fake_ops = {
    .link_dropped = f_dropped, .drained = f_drained, .socket_fd = f_fd, .in_transaction = f_in_txn,
    .autocommit = f_autocommit, .thread_id = f_thread, .save_error = f_save_error,
    .restore_error = f_restore_error, .set_gone_error = f_gone, .show_transaction = f_show_txn,
    .ping = f_ping, .reconnect_once = f_reconnect, .set_autocommit = f_set_autocommit,
    .run_sql = f_run_sql, .restore_extra = NULL, .send_sql = f_send, .read_result = f_read,
    .drop_link = f_drop,
};

static int call_sql(void *c, const void *sql)
{
    return execute(c, sql) ? 0 : 1;
}

static struct fake_conn conn;

static void setup(void)
{
    shim_active(); /* reads the (unset) variables: the defaults */
    memset(&conn, 0, sizeof conn);
    fresh_link(&conn);
    memset(&session, 0, sizeof session);
    driver_session_start(&session, &fake_ops, &conn);
    next_fate = ANSWERS;
}

static int query(const char *sql)
{
    conn.log[0] = '\0';
    return driver_query(&session, &conn, sql, strlen(sql), call_sql, sql);
}

TestSuite(driver, .init = setup);

Test(driver, live_connection_sends_without_a_round_trip)
{
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "run SELECT 1;");
}

Test(driver, killed_idle_connection_is_reconnected_before_sending)
{
    server_kills(&conn);
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run INSERT INTO t VALUES (1);");
    cr_assert_eq(conn.thread, 2);
}

Test(driver, reconnect_restores_autocommit_and_replays_settings)
{
    cr_assert_eq(query("SET SESSION sql_mode = 'ANSI'"), 0);
    conn.autocommit = false; /* as mysql_autocommit(0) leaves it */
    server_kills(&conn);
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "reconnect;autocommit=0;replay SET SESSION sql_mode = 'ANSI';run SELECT 1;");
}

Test(driver, lost_transaction_fails_until_rollback_then_works)
{
    cr_assert_eq(query("BEGIN"), 0);
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 0);
    server_kills(&conn);
    cr_assert_eq(query("INSERT INTO t VALUES (2)"), 1);
    cr_assert_eq(conn.error, 2006);
    cr_assert_str_eq(conn.log, "", "a statement of the lost transaction ran: %s", conn.log);
    cr_assert(conn.in_txn, "the application must still see its transaction");
    cr_assert_eq(query("COMMIT"), 1);
    cr_assert_eq(conn.error, 2006);
    cr_assert_str_eq(conn.log, "");
    cr_assert_eq(query("ROLLBACK"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run ROLLBACK;");
    cr_assert_eq(query("INSERT INTO t VALUES (3)"), 0);
    cr_assert_str_eq(conn.log, "run INSERT INTO t VALUES (3);");
}

Test(driver, read_lost_after_send_is_sent_again_once)
{
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(query("SELECT * FROM t"), 0);
    cr_assert_str_eq(conn.log, "run SELECT * FROM t;reconnect;run SELECT * FROM t;");
}

Test(driver, write_lost_after_send_is_reported_never_repeated)
{
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 1);
    cr_assert_eq(conn.error, 2013, "the application gets the original error");
    /* Repaired for the next call (one attempt), the write not sent again. */
    cr_assert_str_eq(conn.log, "run INSERT INTO t VALUES (1);reconnect;");
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "run SELECT 1;");
}

Test(driver, two_step_path_resends_a_read)
{
    const char *sql = "SELECT 2";
    conn.log[0] = '\0';
    cr_assert_eq(driver_send(&session, &conn, sql, strlen(sql)), 0);
    next_fate = DIES_AFTER_SEND;
    cr_assert(driver_has_pending(&session));
    cr_assert_eq(driver_read(&session, &conn), 0);
    cr_assert_str_eq(conn.log, "run SELECT 2;reconnect;run SELECT 2;");
}

Test(driver, unsolicited_data_is_confirmed_by_a_ping)
{
    session.guard.last_used_ns -= 2 * GUARD_BUSY_NS; /* idle */
    cr_assert_eq(write(conn.server_fd, "x", 1), 1); /* a farewell packet, or TLS */
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "ping;run SELECT 1;", "a live connection must not be condemned");
}

Test(driver, busy_read_is_not_peeked_and_is_sent_again_if_the_link_died)
{
    cr_assert_eq(query("SELECT 1"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 2"), 0, "a read of a busy handle must still succeed");
    cr_assert_str_eq(conn.log, "run SELECT 2;reconnect;run SELECT 2;");
}

Test(driver, busy_write_is_peeked_at)
{
    cr_assert_eq(query("SELECT 1"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run INSERT INTO t VALUES (1);", "a write may only go to a live link");
}

Test(driver, busy_read_in_a_transaction_is_lost_with_it_either_way)
{
    cr_assert_eq(query("BEGIN"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 1"), 1);
    cr_assert(conn.error == 2013 || conn.error == 2006);
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 1, "nothing of the lost transaction may run");
    cr_assert_str_eq(conn.log, "");
    cr_assert_eq(query("COMMIT"), 1);
    cr_assert_eq(query("ROLLBACK"), 0);
}

Test(driver, busy_read_is_peeked_at_when_the_library_warns_on_a_failed_send)
{
    static struct connection_ops warning_ops;
    warning_ops = fake_ops;
    warning_ops.must_probe_before_send = true; /* as mysqlnd */
    driver_session_start(&session, &warning_ops, &conn);
    cr_assert_eq(query("SELECT 1"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 2"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run SELECT 2;");
}

Test(driver, busy_read_is_peeked_at_without_retries)
{
    shim_config.retry_reads = false;
    cr_assert_eq(query("SELECT 1"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 2"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run SELECT 2;");
    shim_config.retry_reads = true;
}

/* ---- prepared statements (prepared_statement.c) over the same fake ---- */

#include "prepared_statement.h"

struct fake_stmt {
    const char *sql;
    unsigned error;
    char message[512];
    int prepares;
};

static struct fake_stmt fstmt;

static bool s_prepare_again(void *stmt, const char *sql, size_t len)
{
    (void)len;
    struct fake_stmt *f = stmt;
    f->prepares++;
    note(&conn, "prepare %s;", sql);
    return conn.server_fd >= 0;
}

static bool s_execute(void *stmt)
{
    struct fake_stmt *f = stmt;
    bool ok = execute(&conn, f->sql);
    f->error = ok ? 0 : conn.error;
    return ok;
}

static void s_set_error(void *stmt, unsigned code, const char *message)
{
    struct fake_stmt *f = stmt;
    f->error = code;
    snprintf(f->message, sizeof f->message, "%s", message);
}

static unsigned s_error_code(void *stmt) { return ((struct fake_stmt *)stmt)->error; }

static const struct statement_ops fake_statement_ops = {
    .prepare_again = s_prepare_again, .execute = s_execute, .set_error = s_set_error, .error_code = s_error_code,
};

static struct prepared_statement prepared;

static void prepare_fake(const char *sql)
{
    memset(&fstmt, 0, sizeof fstmt);
    fstmt.sql = sql;
    cr_assert(prepared_statement_record(&prepared, &session, sql, strlen(sql)));
}

static int execute_fake(void)
{
    conn.log[0] = '\0';
    return driver_execute_prepared(&session, &conn, &prepared, &fake_statement_ops, &fstmt);
}

Test(driver, prepared_statement_of_a_lost_connection_is_prepared_again)
{
    prepare_fake("INSERT INTO t VALUES (?)");
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run INSERT INTO t VALUES (?);");
    server_kills(&conn);
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "reconnect;prepare INSERT INTO t VALUES (?);run INSERT INTO t VALUES (?);");
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run INSERT INTO t VALUES (?);", "prepared once per connection");
    prepared_statement_forget(&prepared);
}

Test(driver, prepared_read_lost_after_send_is_prepared_and_sent_again)
{
    prepare_fake("SELECT * FROM t WHERE id = ?");
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run SELECT * FROM t WHERE id = ?;reconnect;prepare SELECT * FROM t WHERE id = ?;"
                               "run SELECT * FROM t WHERE id = ?;");
    prepared_statement_forget(&prepared);
}

Test(driver, prepared_write_lost_after_send_is_not_repeated)
{
    prepare_fake("UPDATE t SET v = v + 1");
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(execute_fake(), 1);
    cr_assert_eq(fstmt.error, 2013);
    cr_assert_str_eq(conn.log, "run UPDATE t SET v = v + 1;reconnect;");
    prepared_statement_forget(&prepared);
}

Test(driver, prepared_statement_in_a_lost_transaction_fails_unsent)
{
    cr_assert_eq(query("BEGIN"), 0);
    prepare_fake("INSERT INTO t VALUES (?)");
    server_kills(&conn);
    cr_assert_eq(execute_fake(), 1);
    cr_assert_eq(fstmt.error, 2006, "the statement carries the error");
    cr_assert_str_eq(conn.log, "");
    prepared_statement_forget(&prepared);
}

Test(driver, long_data_is_not_carried_over)
{
    prepare_fake("INSERT INTO t VALUES (?)");
    prepared.long_data_sent = true;
    server_kills(&conn);
    cr_assert_eq(execute_fake(), 1);
    cr_assert(strstr(fstmt.message, "long data") != NULL, "%s", fstmt.message);
    cr_assert_eq(fstmt.prepares, 0);
    prepared_statement_forget(&prepared);
}
