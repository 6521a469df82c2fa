/* After an invisible reconnect the session is the one the application set
 * up: database (connect, USE, mysql_select_db), character set (option,
 * mysql_set_character_set, SET NAMES), autocommit, SET SESSION variables.
 * Session state that cannot be restored is reported once instead. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void grant_second_database(void)
{
    admin_exec("CREATE DATABASE IF NOT EXISTS goneshim_other");
    admin_exec("GRANT ALL ON goneshim_other.* TO 'goneshim_app'@'localhost'");
    admin_exec("GRANT ALL ON goneshim_other.* TO 'goneshim_app'@'127.0.0.1'");
}

static const char *const probe_sql =
    "SELECT DATABASE(), @@character_set_client, @@collation_connection, @@autocommit, "
    "@@sql_mode, @@time_zone, @@session.wait_timeout";

static void set_up_session(struct client *c, bool use_api)
{
    if (use_api) {
        cr_assert_str_eq(client_cmd(c, ".select_db goneshim_other"), "ok");
        cr_assert_str_eq(client_cmd(c, ".charset latin1"), "ok");
        cr_assert_str_eq(client_cmd(c, ".autocommit 0"), "ok");
    } else {
        cr_assert_str_eq(client_cmd(c, "USE goneshim_other"), "ok affected=0");
        cr_assert_str_eq(client_cmd(c, "SET NAMES utf8mb4 COLLATE utf8mb4_bin"), "ok affected=0");
        cr_assert_str_eq(client_cmd(c, "SET autocommit = 0"), "ok affected=0");
    }
    cr_assert_str_eq(client_cmd(c, "SET SESSION sql_mode = 'ANSI_QUOTES,NO_ZERO_DATE'"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "SET @@session.time_zone = '+05:00', wait_timeout = 1234"),
                     "ok affected=0");
    /* Later settings replace earlier ones, in replay too. */
    cr_assert_str_eq(client_cmd(c, "SET sql_mode = 'ANSI_QUOTES,NO_ZERO_DATE,STRICT_ALL_TABLES'"),
                     "ok affected=0");
}

static void session_survives(bool use_api)
{
    grant_second_database();
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    set_up_session(c, use_api);
    char before[1024];
    strcpy(before, client_cmd(c, "%s", probe_sql));
    cr_assert(starts_with(before, "ok goneshim_other,"), "%s", before);
    cr_assert(strstr(before, "STRICT_ALL_TABLES") && strstr(before, "+05:00,1234"), "%s", before);
    cr_assert_str_eq(client_cmd(c, "COMMIT"), "ok affected=0"); /* autocommit=0: end the read's txn */

    unsigned long id = client_id(c);
    kill_and_wait(id);
    const char *after = client_cmd(c, "%s", probe_sql);
    cr_assert_str_eq(after, before, "session after the reconnect");
    cr_assert_neq(client_id(c), id);
    cr_assert_eq(client_finish(c, NULL), 0);

    c = client_start(WITHOUT_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    set_up_session(c, use_api);
    kill_and_wait(client_id(c));
    after = client_cmd(c, "%s", probe_sql);
    cr_assert(is_connection_error(after), "without the shim: %s", after);
    cr_assert_eq(client_finish(c, NULL), 0);
}

Test(session_restore, settings_made_with_sql, .timeout = 60)
{
    session_survives(false);
}

Test(session_restore, settings_made_with_the_api, .timeout = 60)
{
    session_survives(true);
}

/* Temporary tables, user variables, named locks: the reconnect cannot
 * bring them back, so the loss is reported once, then the handle works. */
static void unrestorable(const char *statement, const char *check)
{
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    const char *a = client_cmd(c, "%s", statement);
    cr_assert(starts_with(a, "ok"), "%s: %s", statement, a);
    kill_and_wait(client_id(c));
    a = client_cmd(c, "%s", check);
    cr_assert(is_connection_error(a), "after losing \"%s\": %s", statement, a);
    cr_assert_str_eq(client_cmd(c, "SELECT 7"), "ok 7", "the handle works again");
    cr_assert_eq(client_finish(c, NULL), 0);
}

Test(session_restore, temporary_table_loss_reported_once, .timeout = 60)
{
    unrestorable("CREATE TEMPORARY TABLE scratch (x INT)", "SELECT COUNT(*) FROM scratch");
}

Test(session_restore, user_variable_loss_reported_once, .timeout = 60)
{
    unrestorable("SET @batch = 42", "SELECT @batch");
}

Test(session_restore, named_lock_loss_reported_once, .timeout = 60)
{
    unrestorable("SELECT GET_LOCK('goneshim-test', 1)", "SELECT RELEASE_LOCK('goneshim-test')");
}

/* Releasing table locks makes the session restorable again. */
Test(session_restore, unlock_tables_makes_session_restorable, .timeout = 60)
{
    fresh_table("t_locks");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "LOCK TABLES t_locks WRITE"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "UNLOCK TABLES"), "ok affected=0");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT COUNT(*) FROM t_locks"), "ok 0");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* The collation of the connection is the one it had, also after a
 * reconnect: the handshake's, or, after mysql_set_character_set, the one
 * its SET NAMES gave. libmariadb's own reconnect ends with a bare SET
 * NAMES, which on MySQL 8.0+ gives the server's default collation instead
 * of the handshake's (utf8mb4_0900_ai_ci for utf8mb4_general_ci), and on
 * MariaDB 11.5+ the same as the handshake (utf8mb4_uca1400_ai_ci); the
 * second round tells a fix that forces the handshake's collation after an
 * application's SET NAMES on MySQL. Found by the transaction replay, whose
 * result digests cover the columns' collations. Without the shim the
 * handle is dead. */
Test(session_restore, collation_survives_a_reconnect, .timeout = 60)
{
    for (int api = 0; api < 2; api++) {
        struct client *c = client_start(WITH_SHIM, NULL);
        cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
        if (api)
            cr_assert_str_eq(client_cmd(c, ".charset utf8mb4"), "ok");
        char before[128];
        snprintf(before, sizeof before, "%s", client_cmd(c, "SELECT @@collation_connection, @@character_set_results"));
        cr_assert(starts_with(before, "ok "), "%s", before);
        kill_and_wait(client_id(c));
        cr_assert_str_eq(client_cmd(c, "SELECT @@collation_connection, @@character_set_results"), before);
        cr_assert_eq(client_finish(c, NULL), 0);
    }
}
