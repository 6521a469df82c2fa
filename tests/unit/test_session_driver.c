/* The session driver against a scripted backend: the same code carries out
 * the rules for libmysqlclient and mysqlnd, so what it does is tested once,
 * here, with a fake connection whose "server" end is a real socket (the
 * liveness probe peeks at it exactly as it does at a MariaDB socket). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver.h"
#include "driver_env.h"
#include "protocol.h"
#include "session_guard.h"
#include "shim_runtime.h"

/* The environment: a clock that moves only when a test moves it (or the
 * driver sleeps), and a fixed "random" draw. */
static uint64_t fake_now = 1000 * NS_PER_S;
static uint64_t slept_ns;
static unsigned sleeps;
static struct goneshim_config fake_config;
static uint64_t fake_clock(void) { return fake_now; }
static void fake_sleep(uint64_t ns)
{
    fake_now += ns;
    slept_ns += ns;
    sleeps++;
}
static uint32_t fake_random(void) { return 0; }
static const struct driver_env fake_env = {&fake_config, fake_clock, fake_clock, fake_sleep, fake_random};

struct fake_conn {
    int client_fd, server_fd; /* a socketpair: closing server_fd is the KILL */
    bool dropped, in_txn, autocommit;
    int refuse_connects;   /* the next N reconnects fail with connect_error */
    int replays_die;       /* the next N replays: the fresh link dies under them */
    int replays_refused;   /* the next N replays: the server refuses the setting */
    unsigned long long insert_id;
    unsigned connect_error;
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

static struct gs_connection *session;

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
    fake_now += 2 * GUARD_BUSY_NS;
    server_kills_at_once(f);
}

static bool f_dropped(void *c) { return ((struct fake_conn *)c)->dropped; }
static bool f_drained(void *c) { (void)c; return true; }
static int f_fd(void *c) { return ((struct fake_conn *)c)->client_fd; }
static unsigned f_status(void *c)
{
    const struct fake_conn *f = c;
    return (f->in_txn ? GS_STATUS_IN_TRANS : 0) | (f->autocommit ? GS_STATUS_AUTOCOMMIT : 0);
}
static unsigned long long f_thread(void *c) { return ((struct fake_conn *)c)->thread; }
static const char *f_version(void *c) { (void)c; return "10.11.19-MariaDB"; }
static unsigned long long f_insert_id(void *c) { return ((struct fake_conn *)c)->insert_id; }
static void f_set_insert_id(void *c, unsigned long long id) { ((struct fake_conn *)c)->insert_id = id; }

static void f_save_error(void *c, struct error_snapshot *e)
{
    struct fake_conn *f = c;
    e->code = f->error;
    snprintf(e->sqlstate, sizeof e->sqlstate, "HY000");
    snprintf(e->message, sizeof e->message, "%s", f->message);
}

static void f_set_error(void *c, const struct error_snapshot *e)
{
    struct fake_conn *f = c;
    f->error = e->code;
    snprintf(f->message, sizeof f->message, "%s", e->message);
}

static void f_show_txn(void *c) { ((struct fake_conn *)c)->in_txn = true; }

static bool f_ping(void *c, uint64_t timeout_ns)
{
    (void)timeout_ns;
    struct fake_conn *f = c;
    note(f, "%s;", "ping");
    return f->server_fd >= 0;
}

static bool f_reconnect(void *c, void *backend, const struct reconnect_request *r)
{
    (void)backend;
    (void)r;
    struct fake_conn *f = c;
    if (f->refuse_connects > 0) {
        f->refuse_connects--;
        f->error = f->connect_error;
        note(f, "%s;", "connect refused");
        return false;
    }
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
    struct fake_conn *f = c;
    note(f, "replay %s;", sql);
    if (f->replays_die > 0) {
        f->replays_die--;
        server_kills_at_once(f); /* a killer strikes the fresh connection */
        f->dropped = true;
        f->error = GS_ER_SERVER_LOST;
        return false;
    }
    if (f->replays_refused > 0) {
        f->replays_refused--;
        f->error = 1231; /* ER_WRONG_VALUE_FOR_VAR: the link lives */
        return false;
    }
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

static const char *getenv_none(const char *name)
{
    (void)name;
    return NULL;
}

static const char *pending_sql;
static bool out_of_sync; /* the library refuses the next send itself */
static bool f_send(void *c, const char *sql, size_t len)
{
    (void)len;
    if (out_of_sync) {
        out_of_sync = false;
        ((struct fake_conn *)c)->error = 2014; /* commands out of sync: nothing sent, the link intact */
        return false;
    }
    pending_sql = sql;
    return true;
}
static bool f_read(void *c) { return execute(c, pending_sql); }

static const struct connection_ops fake_ops = {
    .library = "fake", .link_dropped = f_dropped, .drained = f_drained, .socket_fd = f_fd,
    .server_status = f_status, .thread_id = f_thread, .server_version = f_version, .insert_id = f_insert_id,
    .set_insert_id = f_set_insert_id, .save_error = f_save_error, .set_error = f_set_error,
    .show_transaction = f_show_txn, .ping = f_ping, .reconnect_once = f_reconnect,
    .set_autocommit = f_set_autocommit, .run_sql = f_run_sql, .restore_extra = NULL, .send_sql = f_send,
    .read_result = f_read, .drop_link = f_drop,
};

static struct fake_conn conn;

static void setup(void)
{
    shim_active(); /* reads the (unset) variables */
    struct goneshim_config defaults;
    config_load(&defaults, getenv_none, NULL);
    fake_config = defaults;
    driver_env_install(&fake_env);
    slept_ns = 0;
    sleeps = 0;
    driver_detach(&conn);
    memset(&conn, 0, sizeof conn);
    fresh_link(&conn);
    session = driver_attach(&conn, &fake_ops);
    cr_assert_not_null(session);
    next_fate = ANSWERS;
}

static void teardown(void)
{
    driver_detach(&conn);
    driver_env_install(NULL);
}

/* 0 on success, 1 on failure, like the libraries' own calls. */
static int query(const char *sql)
{
    conn.log[0] = '\0';
    return driver_query(session, &conn, sql, strlen(sql)) ? 0 : 1;
}

TestSuite(driver, .init = setup, .fini = teardown);

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

Test(driver, a_fresh_connection_that_dies_during_the_restore_is_one_more_attempt)
{
    cr_assert_eq(query("SET SESSION sql_mode = 'ANSI'"), 0);
    conn.replays_die = 1;
    server_kills(&conn);
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 0, "error %u", conn.error);
    cr_assert_str_eq(conn.log, "reconnect;replay SET SESSION sql_mode = 'ANSI';"
                               "reconnect;replay SET SESSION sql_mode = 'ANSI';run INSERT INTO t VALUES (1);");
}

Test(driver, a_setting_the_fresh_server_refuses_fails_the_statement_unsent)
{
    cr_assert_eq(query("SET SESSION sql_mode = 'ANSI'"), 0);
    conn.replays_refused = 1;
    server_kills(&conn);
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 1);
    cr_assert_eq(conn.error, 1231, "the server's refusal, as the application would read it");
    cr_assert_str_eq(conn.log, "reconnect;replay SET SESSION sql_mode = 'ANSI';");
    cr_assert(conn.dropped, "the fresh connection is not handed out");
    cr_assert_eq(query("INSERT INTO t VALUES (1)"), 0, "the next statement tries again");
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

Test(driver, a_send_the_library_refuses_is_reported_the_link_untouched)
{
    out_of_sync = true;
    cr_assert_eq(query("SELECT 1"), 1);
    cr_assert_eq(conn.error, 2014);
    cr_assert_str_eq(conn.log, "", "no reconnect, nothing sent: %s", conn.log);
    cr_assert_eq(conn.thread, 1);
    cr_assert_eq(query("SELECT 1"), 0);
}

Test(driver, two_step_path_resends_a_read)
{
    const char *sql = "SELECT 2";
    conn.log[0] = '\0';
    cr_assert(driver_send(session, &conn, sql, strlen(sql)));
    next_fate = DIES_AFTER_SEND;
    cr_assert(driver_has_pending(session));
    cr_assert(driver_read(session, &conn));
    cr_assert_str_eq(conn.log, "run SELECT 2;reconnect;run SELECT 2;");
}

Test(driver, unsolicited_data_is_confirmed_by_a_ping)
{
    fake_now += 2 * GUARD_BUSY_NS; /* idle */
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
    session = driver_attach(&conn, &warning_ops);
    cr_assert_eq(query("SELECT 1"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 2"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run SELECT 2;");
}

Test(driver, busy_read_is_peeked_at_without_retries)
{
    fake_config.retry_reads = false;
    cr_assert_eq(query("SELECT 1"), 0);
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 2"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run SELECT 2;");
}

/* ---- time: backoff, deadlines, the busy-handle window ---- */

Test(driver, server_down_backs_off_within_the_budget_then_fails_with_the_connect_error)
{
    fake_config.reconnect_timeout_ns = 3 * NS_PER_S;
    conn.refuse_connects = 1000;
    conn.connect_error = GS_ER_CONNECTION_ERROR;
    server_kills(&conn);
    cr_assert_eq(query("SELECT 1"), 1);
    cr_assert_eq(conn.error, GS_ER_CONNECTION_ERROR, "the library's own connect error");
    /* 50, 100, 200, 400, 800 ms (with this draw, half of each step), then
     * 1 s steps until the 3 s are spent: never beyond the budget. */
    cr_assert_eq(slept_ns, 3 * NS_PER_S, "slept %llu ns", (unsigned long long)slept_ns);
    cr_assert(sleeps >= 5 && sleeps <= 12, "%u sleeps", sleeps);
    cr_assert(strstr(conn.log, "run") == NULL, "nothing was sent: %s", conn.log);
}

Test(driver, server_back_within_the_budget_is_reconnected)
{
    conn.refuse_connects = 3;
    conn.connect_error = GS_ER_CONNECTION_ERROR;
    server_kills(&conn);
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "connect refused;connect refused;connect refused;reconnect;run SELECT 1;");
    /* Equal jitter with a zero draw: half of 50, 100 and 200 ms. */
    cr_assert_eq(slept_ns, 175 * NS_PER_MS);
}

Test(driver, a_final_connect_error_is_not_retried)
{
    conn.refuse_connects = 1000;
    conn.connect_error = 1045; /* access denied: waiting will not help */
    server_kills(&conn);
    cr_assert_eq(query("SELECT 1"), 1);
    cr_assert_eq(conn.error, 1045);
    cr_assert_eq(sleeps, 0);
}

Test(driver, a_zero_budget_makes_one_attempt)
{
    fake_config.reconnect_timeout_ns = 0;
    conn.refuse_connects = 1;
    conn.connect_error = GS_ER_CONNECTION_ERROR;
    server_kills(&conn);
    cr_assert_eq(query("SELECT 1"), 1);
    cr_assert_eq(sleeps, 0);
    cr_assert_eq(query("SELECT 1"), 0, "and the next statement tries again");
}

Test(driver, idle_beyond_the_idle_limit_pings_first)
{
    fake_config.idle_ns = 60 * NS_PER_S;
    cr_assert_eq(query("SELECT 1"), 0);
    fake_now += 59 * NS_PER_S;
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "run SELECT 1;", "59 s idle: the peek alone");
    fake_now += 60 * NS_PER_S;
    cr_assert_eq(query("SELECT 1"), 0);
    cr_assert_str_eq(conn.log, "ping;run SELECT 1;");
}

Test(driver, the_busy_window_is_one_clock_tick)
{
    cr_assert_eq(query("SELECT 1"), 0);
    fake_now += GUARD_BUSY_NS - 1;
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 2"), 0);
    cr_assert_str_eq(conn.log, "run SELECT 2;reconnect;run SELECT 2;", "still busy: sent, then again");
    fake_now += GUARD_BUSY_NS;
    server_kills_at_once(&conn);
    cr_assert_eq(query("SELECT 3"), 0);
    cr_assert_str_eq(conn.log, "reconnect;run SELECT 3;", "idle for a tick: peeked at");
}

/* ---- prepared statements (statement_driver.c) over the same fake ---- */

struct fake_stmt {
    const char *sql;
    unsigned error;
    char message[512];
    int prepares;
    unsigned params, fields;
};

static struct fake_stmt fstmt;

static bool s_prepare_again(void *stmt, void *backend, const char *sql, size_t len)
{
    (void)len;
    (void)backend;
    struct fake_stmt *f = stmt;
    f->prepares++;
    note(&conn, "prepare %s;", sql);
    return conn.server_fd >= 0;
}

static void s_shape(void *stmt, unsigned *params, unsigned *fields)
{
    const struct fake_stmt *f = stmt;
    *params = f->params;
    *fields = f->fields;
}

static bool s_restore_bindings(void *stmt, void *backend)
{
    (void)stmt;
    (void)backend;
    note(&conn, "%s;", "bind");
    return true;
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
    .prepare_again = s_prepare_again, .shape = s_shape, .restore_bindings = s_restore_bindings,
    .execute = s_execute, .set_error = s_set_error, .error_code = s_error_code,
};

static bool real_prepare(void *c, void *arg)
{
    note(c, "prepare %s;", ((struct fake_stmt *)arg)->sql);
    return ((struct fake_conn *)c)->server_fd >= 0;
}

static bool real_execute(void *c, void *arg)
{
    (void)c;
    return s_execute(arg);
}

static void prepare_fake(const char *sql)
{
    memset(&fstmt, 0, sizeof fstmt);
    fstmt.sql = sql;
    fstmt.params = 1;
    cr_assert(driver_stmt_prepare(session, &conn, &fstmt, &fake_statement_ops, sql, strlen(sql), real_prepare,
                                  &fstmt));
}

static int execute_fake(void)
{
    conn.log[0] = '\0';
    return driver_stmt_execute(session, &conn, &fstmt, real_execute, &fstmt) ? 0 : 1;
}

Test(driver, prepared_statement_of_a_lost_connection_is_prepared_again)
{
    prepare_fake("INSERT INTO t VALUES (?)");
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run INSERT INTO t VALUES (?);");
    server_kills(&conn);
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "reconnect;prepare INSERT INTO t VALUES (?);bind;run INSERT INTO t VALUES (?);");
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run INSERT INTO t VALUES (?);", "prepared once per connection");
    driver_stmt_close(session, &fstmt);
}

Test(driver, prepared_read_lost_after_send_is_prepared_and_sent_again)
{
    prepare_fake("SELECT * FROM t WHERE id = ?");
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run SELECT * FROM t WHERE id = ?;reconnect;prepare SELECT * FROM t WHERE id = ?;"
                               "bind;run SELECT * FROM t WHERE id = ?;");
    driver_stmt_close(session, &fstmt);
}

Test(driver, prepared_write_lost_after_send_is_not_repeated)
{
    prepare_fake("UPDATE t SET v = v + 1");
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(execute_fake(), 1);
    cr_assert_eq(fstmt.error, 2013);
    cr_assert_str_eq(conn.log, "run UPDATE t SET v = v + 1;reconnect;");
    driver_stmt_close(session, &fstmt);
}

Test(driver, prepared_statement_in_a_lost_transaction_fails_unsent)
{
    cr_assert_eq(query("BEGIN"), 0);
    prepare_fake("INSERT INTO t VALUES (?)");
    server_kills(&conn);
    cr_assert_eq(execute_fake(), 1);
    cr_assert_eq(fstmt.error, 2006, "the statement carries the error");
    cr_assert_str_eq(conn.log, "");
    driver_stmt_close(session, &fstmt);
}

Test(driver, long_data_is_not_carried_over)
{
    prepare_fake("INSERT INTO t VALUES (?)");
    driver_stmt_note_long_data(&fstmt);
    server_kills(&conn);
    cr_assert_eq(execute_fake(), 1);
    cr_assert(strstr(fstmt.message, "long data") != NULL, "%s", fstmt.message);
    cr_assert_eq(fstmt.prepares, 0);
    driver_stmt_close(session, &fstmt);
}

/* Before a reset or long data (which name the statement on the server,
 * outside the driver): a killed link is found as before a statement, the
 * handle reconnected and the statement prepared on the new connection. */
Test(driver, a_refresh_finds_the_dead_link_and_prepares_on_the_new_one)
{
    prepare_fake("SELECT * FROM t WHERE id = ?");
    conn.log[0] = '\0';
    cr_assert(driver_stmt_refresh(session, &conn, &fstmt));
    cr_assert_str_eq(conn.log, "", "alive and current: nothing sent");
    server_kills(&conn);
    cr_assert(driver_stmt_refresh(session, &conn, &fstmt));
    cr_assert_str_eq(conn.log, "reconnect;prepare SELECT * FROM t WHERE id = ?;bind;");
    cr_assert_not(driver_stmt_stale(session, &fstmt));
    conn.log[0] = '\0';
    cr_assert_eq(execute_fake(), 0);
    cr_assert_str_eq(conn.log, "run SELECT * FROM t WHERE id = ?;", "not prepared twice");
    driver_stmt_close(session, &fstmt);
}

/* A statement of a connection that died is closed without its number:
 * the driver says so, the adapter keeps the library from sending it. */
Test(driver, closing_a_statement_of_a_dead_connection_says_it_is_gone)
{
    prepare_fake("SELECT 1");
    cr_assert(driver_stmt_close(session, &fstmt), "current: the library closes it on the server");
    prepare_fake("SELECT 1");
    server_kills(&conn);
    cr_assert_eq(query("SELECT 2"), 0, "reconnected");
    cr_assert_not(driver_stmt_close(session, &fstmt), "stale: its number names nothing, or another statement");
}

Test(driver, a_statement_whose_shape_changed_fails_clearly)
{
    prepare_fake("SELECT * FROM t");
    server_kills(&conn);
    fstmt.fields = 3; /* an ALTER TABLE added columns meanwhile */
    cr_assert_eq(execute_fake(), 1);
    cr_assert(strstr(fstmt.message, "prepare it again") != NULL, "%s", fstmt.message);
    cr_assert(strstr(conn.log, "bind") == NULL && strstr(conn.log, "run") == NULL, "%s", conn.log);
    driver_stmt_close(session, &fstmt);
}

Test(driver, a_statement_without_a_record_runs_as_a_write)
{
    memset(&fstmt, 0, sizeof fstmt);
    fstmt.sql = "SELECT 1";
    next_fate = DIES_AFTER_SEND;
    cr_assert_eq(execute_fake(), 1, "not sent again: its text is unknown");
    cr_assert_str_eq(conn.log, "run SELECT 1;reconnect;");
}
