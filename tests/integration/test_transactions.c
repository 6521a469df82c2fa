/* A transaction that lost its connection never continues outside it: the
 * statement fails, every following one fails, COMMIT fails, ROLLBACK
 * succeeds and leaves a healthy handle, and nothing of it persists. The
 * sequence of the Laravel report, explicit and with autocommit off. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

/* With replay off (GONESHIM_REPLAY=0): the rule for a transaction that
 * cannot be replayed (test_transaction_replay.c has the replay). */
static const char *const replay_off[] = {"GONESHIM_REPLAY=0", NULL};

static void lost_transaction_sequence(const char *table, bool explicit_begin)
{
    fresh_table(table);
    struct client *c = client_start(WITH_SHIM, replay_off);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    if (explicit_begin)
        cr_assert_str_eq(client_cmd(c, "START TRANSACTION"), "ok affected=0");
    else
        cr_assert_str_eq(client_cmd(c, ".autocommit 0"), "ok");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO %s VALUES (1, 1)", table), "ok affected=1");
    kill_and_wait(client_id(c));

    const char *a = client_cmd(c, "INSERT INTO %s VALUES (2, 2)", table);
    cr_assert(is_connection_error(a), "statement in the lost transaction: %s", a);
    a = client_cmd(c, "SELECT 1");
    cr_assert(is_connection_error(a), "next statement: %s", a);
    a = client_cmd(c, "START TRANSACTION");
    cr_assert(is_connection_error(a), "a new BEGIN would commit implicitly: %s", a);
    a = client_cmd(c, ".autocommit 1");
    cr_assert(is_connection_error(a), "autocommit=1 would commit implicitly: %s", a);
    a = client_cmd(c, "COMMIT");
    cr_assert(is_connection_error(a), "SQL COMMIT of the lost transaction: %s", a);
    a = client_cmd(c, ".commit");
    cr_assert(is_connection_error(a), "mysql_commit of the lost transaction: %s", a);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM %s", table), 0, "nothing persisted");

    cr_assert_str_eq(client_cmd(c, ".rollback"), "ok");
    /* Healthy again, in the mode the application chose. */
    cr_assert_str_eq(client_cmd(c, "SELECT @@autocommit"), explicit_begin ? "ok 1" : "ok 0");
    cr_assert_str_eq(client_cmd(c, "START TRANSACTION"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO %s VALUES (3, 3)", table), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, "COMMIT"), "ok affected=0");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM %s", table), 1);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM %s WHERE id = 3", table), 1);
    cr_assert_eq(client_finish(c, NULL), 0);
}

Test(transactions, explicit_transaction_lost, .timeout = 60)
{
    lost_transaction_sequence("t_explicit", true);
}

Test(transactions, autocommit_off_transaction_lost, .timeout = 60)
{
    lost_transaction_sequence("t_autocommit_off", false);
}

/* SQL ROLLBACK works like mysql_rollback. */
Test(transactions, sql_rollback_ends_lost_transaction, .timeout = 60)
{
    fresh_table("t_sql_rollback");
    struct client *c = client_start(WITH_SHIM, replay_off);
    cr_assert_str_eq(client_cmd(c, ".connect tcp"), "ok");
    cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_sql_rollback VALUES (1, 1)"), "ok affected=1");
    kill_and_wait(client_id(c));
    const char *a = client_cmd(c, "COMMIT");
    cr_assert(is_connection_error(a), "COMMIT: %s", a);
    cr_assert_str_eq(client_cmd(c, "ROLLBACK"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "SELECT COUNT(*) FROM t_sql_rollback"), "ok 0");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Without the shim the same kill really breaks the handle for good: the
 * statement after ROLLBACK fails too. */
Test(transactions, without_shim_the_handle_stays_dead, .timeout = 60)
{
    fresh_table("t_no_shim");
    struct client *c = client_start(WITHOUT_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "START TRANSACTION"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_no_shim VALUES (1, 1)"), "ok affected=1");
    kill_and_wait(client_id(c));
    const char *a = client_cmd(c, "INSERT INTO t_no_shim VALUES (2, 2)");
    cr_assert(is_connection_error(a), "%s", a);
    client_cmd(c, ".rollback");
    a = client_cmd(c, "SELECT 1");
    cr_assert(is_connection_error(a), "without the shim the handle stays dead: %s", a);
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Autocommit off but no work done yet: nothing to lose, so the reconnect
 * is invisible and autocommit stays off. */
Test(transactions, autocommit_off_without_work_reconnects, .timeout = 60)
{
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, ".autocommit 0"), "ok");
    cr_assert_str_eq(client_cmd(c, "COMMIT"), "ok affected=0");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT @@autocommit"), "ok 0");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Point 11 of the trust issue: after XA PREPARE the transaction outlives
 * its connection. goneshim reports the loss, and then does not pretend a
 * plain ROLLBACK ended it: that fails with the server's own XAER_RMFAIL;
 * XA COMMIT (or XA ROLLBACK) reaches the prepared transaction from the
 * fresh connection, as it would from any. */
Test(transactions, a_prepared_xa_transaction_outlives_its_connection, .timeout = 60)
{
    fresh_table("t_xa");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "XA START 'gs1'"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_xa VALUES (1, 1)"), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, "XA END 'gs1'"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "XA PREPARE 'gs1'"), "ok affected=0");
    kill_and_wait(client_id(c));
    const char *a = client_cmd(c, "SELECT 1");
    cr_assert(is_connection_error(a), "the loss is reported: %s", a);
    a = client_cmd(c, "ROLLBACK");
    cr_assert(starts_with(a, "err 1399 "), "a plain ROLLBACK must not pretend: %s", a);
    a = client_cmd(c, "XA RECOVER");
    cr_assert(strstr(a, "gs1") != NULL, "it waits in the server: %s", a);
    cr_assert_str_eq(client_cmd(c, "XA COMMIT 'gs1'"), "ok affected=0");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_xa"), 1, "committed from the fresh connection");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_xa VALUES (2, 2)"), "ok affected=1", "over: the handle works");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Before XA PREPARE the XA transaction dies with its connection, like any
 * other: its statements fail until it is rolled back, and nothing of it
 * persists. */
Test(transactions, an_xa_transaction_lost_before_prepare_is_gone, .timeout = 60)
{
    fresh_table("t_xa2");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "XA START 'gs2'"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_xa2 VALUES (1, 1)"), "ok affected=1");
    kill_and_wait(client_id(c));
    cr_assert(is_connection_error(client_cmd(c, "XA END 'gs2'")));
    cr_assert(is_connection_error(client_cmd(c, "XA PREPARE 'gs2'")));
    const char *a = client_cmd(c, "XA ROLLBACK 'gs2'");
    cr_assert(starts_with(a, "err 1397 "), "the server no longer knows it (XAER_NOTA): %s", a);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_xa2"), 0);
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1", "over: the handle works");
    cr_assert_eq(client_finish(c, NULL), 0);
}
