/* A statement that may have run is never run again: a write whose
 * connection dies while it executes fails, once, and the handle is healthy
 * for the next statement. A read is sent again, once, on a fresh
 * connection, but only when its link died as it was sent: not after the
 * server had worked on it (a client read timeout, an operator's KILL of a
 * long query), not when the server refused it for its size. Whether the
 * link died is read from the link, whatever the error number (TLS). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

Test(statement_safety, write_killed_while_running_is_not_repeated, .timeout = 60)
{
    fresh_table("t_write_once");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    const char *a = kill_while_running(c, "INSERT INTO t_write_once SELECT 1, SLEEP(2)");
    cr_assert(is_connection_error(a), "the write must fail, not be sent again: %s", a);
    cr_assert_leq(admin_long("SELECT COUNT(*) FROM t_write_once"), 1);
    /* The handle is healthy for its next statement. */
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_write_once VALUES (2, 2)"), "ok affected=1");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_write_once WHERE id = 2"), 1);
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* An operator (a DBA, pt-kill) KILLs a query that has run for a while: it
 * is not started again from the beginning. */
Test(statement_safety, a_read_killed_after_running_a_while_is_not_sent_again, .timeout = 60)
{
    struct shim_log log;
    shim_log_open(&log);
    struct client *c = client_start(WITH_SHIM, log.env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    unsigned long id = client_id(c);
    client_send(c, "SELECT SLEEP(3), 42");
    wait_until_busy(id, "User sleep");
    sleep_ms(600);
    admin_exec("KILL %lu", id);
    const char *a = client_read(c);
    cr_assert(is_connection_error(a), "the killed query must fail, not start again: %s", a);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(3)%%'"),
                 0, "a second copy is running");
    cr_assert_eq(shim_log_count(&log, "sending again"), 0);
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1", "the handle is healthy again");
    cr_assert_eq(client_finish(c, NULL), 0);
    shim_log_remove(&log);
}

/* A client-side read timeout is the application's own limit: the query
 * fails after it, once, as without goneshim; no second copy is started
 * while the first still runs on the server. */
Test(statement_safety, a_read_timeout_is_not_a_dead_connection, .timeout = 60)
{
    for (int shim = 0; shim < 2; shim++) {
        struct client *c = client_start(shim ? WITH_SHIM : WITHOUT_SHIM, NULL);
        cr_assert_str_eq(client_cmd(c, ".option read_timeout 1"), "ok");
        cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
        const char *a = client_cmd(c, "SELECT SLEEP(4), 'timeout%d'", shim);
        cr_assert(is_connection_error(a), "shim=%d: %s", shim, a);
        cr_assert_leq(admin_long("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE "
                                 "'SELECT SLEEP(4), ''timeout%d''%%'", shim),
                      1, "shim=%d: the query was sent again while it still ran", shim);
        cr_assert_eq(client_finish(c, NULL), 0);
    }
}

/* A statement the server refuses for its size (and closes the connection
 * after) is not sent a second time. */
Test(statement_safety, a_statement_over_max_allowed_packet_is_sent_once, .timeout = 60)
{
    admin_exec("SET GLOBAL max_allowed_packet = 65536");
    for (int shim = 0; shim < 2; shim++) {
        struct shim_log log;
        shim_log_open(&log);
        struct client *c = client_start(shim ? WITH_SHIM : WITHOUT_SHIM, log.env);
        cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
        long long aborted = admin_status("Aborted_clients");
        const char *a = client_cmd(c, ".big 200000");
        cr_assert(starts_with(a, "err "), "shim=%d: %s", shim, a);
        a = client_cmd(c, "SELECT 1");
        if (shim)
            cr_assert_str_eq(a, "ok 1", "with goneshim the handle works again");
        long long refused = admin_status("Aborted_clients") - aborted;
        cr_assert_leq(refused, 1, "shim=%d: the server refused the statement %lld times", shim, refused);
        /* (The SELECT 1 after it may be: it found the connection closed.) */
        if (shim && shim_log_count(&log, "sending again a statement of 199") != 0) {
            char cmd[160];
            snprintf(cmd, sizeof cmd, "cat %s >&2", log.path);
            if (system(cmd) != 0)
                fprintf(stderr, "cannot show %s\n", log.path);
            cr_assert_fail("a statement the server refused for its size was sent again (log above)");
        }
        cr_assert_eq(client_finish(c, NULL), 0);
        shim_log_remove(&log);
    }
    admin_exec("SET GLOBAL max_allowed_packet = 16777216");
}

/* Point 2 of the trust issue: over TLS the death of a statement in flight
 * reads "TLS/SSL error" (2026), yet the link is gone: inside a transaction
 * that transaction is lost, not continued in autocommit mode. */
Test(statement_safety, a_tls_link_lost_in_flight_loses_the_transaction, .timeout = 60)
{
    fresh_table("t_tls_txn");
    for (int shim = 0; shim < 2; shim++) {
        admin_exec("DELETE FROM t_tls_txn");
        struct client *c = client_start(shim ? WITH_SHIM : WITHOUT_SHIM, NULL);
        cr_assert_str_eq(client_cmd(c, ".connect tls"), "ok");
        cr_assert(starts_with(client_cmd(c, "SHOW STATUS LIKE 'Ssl_cipher'"), "ok Ssl_cipher,T"), "not TLS");
        cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
        cr_assert_str_eq(client_cmd(c, "INSERT INTO t_tls_txn VALUES (1, 1)"), "ok affected=1");
        const char *a = kill_while_running(c, "INSERT INTO t_tls_txn SELECT 2, SLEEP(2)");
        cr_assert(starts_with(a, "err "), "%s", a);
        a = client_cmd(c, "INSERT INTO t_tls_txn VALUES (3, 3)");
        cr_assert(starts_with(a, "err "), "shim=%d: the rest of a lost transaction ran: %s", shim, a);
        a = client_cmd(c, "COMMIT");
        cr_assert(starts_with(a, "err "), "shim=%d: its COMMIT succeeded: %s", shim, a);
        cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_tls_txn"), 0, "shim=%d: half a transaction", shim);
        if (shim) {
            cr_assert_str_eq(client_cmd(c, ".rollback"), "ok");
            cr_assert_str_eq(client_cmd(c, "INSERT INTO t_tls_txn VALUES (4, 4)"), "ok affected=1");
            cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_tls_txn"), 1);
        }
        cr_assert_eq(client_finish(c, NULL), 0);
    }
}

/* Point 3: with autocommit off, the first statement of a transaction opens
 * it. Killed in flight, it takes that transaction with it: the statements
 * after it fail, and so does COMMIT, until ROLLBACK. */
Test(statement_safety, autocommit_off_first_statement_killed_in_flight, .timeout = 60)
{
    fresh_table("t_implicit");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, ".autocommit 0"), "ok");
    const char *a = kill_while_running(c, "INSERT INTO t_implicit SELECT 1, SLEEP(2)");
    cr_assert(is_connection_error(a), "%s", a);
    a = client_cmd(c, "INSERT INTO t_implicit VALUES (2, 2)");
    cr_assert(is_connection_error(a), "the second half of the transaction ran alone: %s", a);
    a = client_cmd(c, ".commit");
    cr_assert(is_connection_error(a), "its COMMIT: %s", a);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_implicit"), 0);
    cr_assert_str_eq(client_cmd(c, ".rollback"), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT @@autocommit"), "ok 0", "the application's mode");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_implicit VALUES (3, 3)"), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, ".commit"), "ok");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_implicit"), 1);
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* mysql_send_query + mysql_read_query_result (MySQLdb, mysql2) follow the
 * same rules as mysql_real_query. */
Test(statement_safety, send_and_read_split, .timeout = 60)
{
    fresh_table("t_split");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect tcp"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".send SELECT 5"), "ok 5");
    unsigned long id = client_id(c);
    client_send(c, ".send SELECT SLEEP(3), 6");
    wait_until_busy(id, "User sleep");
    sleep_ms(600);
    admin_exec("KILL %lu", id);
    const char *a = client_read(c);
    cr_assert(is_connection_error(a), "a read that ran a while is not sent again: %s", a);
    a = kill_while_running(c, ".send INSERT INTO t_split SELECT 1, SLEEP(2)");
    cr_assert(is_connection_error(a), "%s", a);
    cr_assert_str_eq(client_cmd(c, ".send SET SESSION sql_mode = 'ANSI_QUOTES'"), "ok affected=0");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".send SELECT @@sql_mode"), "ok ANSI_QUOTES");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* mysql_ping on a killed idle handle reconnects and answers "alive". */
Test(statement_safety, ping_reconnects, .timeout = 60)
{
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".ping"), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT 8"), "ok 8");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* A busy worker's connection killed in the gap between two statements:
 * a read goes out without the peek (guard_liveness_check), fails, and is
 * sent again on a fresh connection; a write is always peeked at, so it is
 * never sent into the dead connection. Either way the application sees
 * nothing. */

Test(statement_safety, busy_handle_killed_between_statements, .timeout = 120)
{
    struct shim_log log;
    shim_log_open(&log);
    fresh_table("t_busy");
    struct client *c = client_start(WITH_SHIM, log.env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");

    /* The read after the KILL lands in the same clock tick as the statement
     * before it most of the time, not always: try until it has once. Over
     * the unix socket the send itself fails (the peer is gone: EPIPE). */
#define WENT_OUT_UNPEEKED                                                                                    \
    (shim_log_count(&log, "connection died after the statement was sent") +                                \
     shim_log_count(&log, "connection found dead as the statement was sent"))
    int tries = 0;
    while (WENT_OUT_UNPEEKED == 0 && tries < 50) {
        cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
        cr_assert_str_eq(client_cmd(c, ".killed-then SELECT 7"), "ok 7", "try %d", tries);
        tries++;
    }
    cr_assert_gt(WENT_OUT_UNPEEKED, 0, "in %d tries, no read went out without the peek", tries);

    for (int i = 1; i <= 10; i++) {
        cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
        cr_assert_str_eq(client_cmd(c, ".killed-then INSERT INTO t_busy VALUES (%d, %d)", i, i), "ok affected=1",
                         "insert %d", i);
    }
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_busy"), 10, "every insert once");
    cr_assert_eq(shim_log_count(&log, "may have run; not repeated"), 0, "a write was sent into a dead connection");
    cr_assert_eq(client_finish(c, NULL), 0);
    shim_log_remove(&log);

    c = client_start(WITHOUT_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    const char *a = client_cmd(c, ".killed-then SELECT 7");
    cr_assert(is_connection_error(a), "without the shim: %s", a);
    cr_assert_eq(client_finish(c, NULL), 0);
}
