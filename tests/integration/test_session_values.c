/* Never a silently wrong value after a hidden reconnect: what the session
 * held is restored exactly (LAST_INSERT_ID(), a setting in force however
 * it was computed, what mysql_insert_id() said), and what cannot be (what
 * the previous statement left: FOUND_ROWS(), ROW_COUNT(), its warnings) is
 * reported once, at the statement that would read it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void auto_increment_tables(void)
{
    admin_exec("DROP TABLE IF EXISTS t_child");
    admin_exec("DROP TABLE IF EXISTS t_parent");
    admin_exec("CREATE TABLE t_parent (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB");
    admin_exec("CREATE TABLE t_child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL) ENGINE=InnoDB");
}

/* The field's case: a parent row, a moment of idleness, the child row
 * pointing at it with LAST_INSERT_ID(). */
Test(session_values, last_insert_id_survives_a_hidden_reconnect, .timeout = 60)
{
    auto_increment_tables();
    admin_exec("INSERT INTO t_parent (v) VALUES (0), (0), (0)"); /* ids do not start at 1 */
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_parent (v) VALUES (1)"), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, ".insert_id"), "ok 4");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    cr_assert_str_eq(client_cmd(c, ".insert_id"), "ok 4", "mysql_insert_id() still says what it said");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_child (parent_id) VALUES (LAST_INSERT_ID())"),
                     "ok affected=1");
    cr_assert_eq(admin_long("SELECT parent_id FROM t_child"), 4, "the child points at its parent");
    cr_assert_str_eq(client_cmd(c, "SELECT LAST_INSERT_ID()"), "ok 1", "the child's own id now");
    cr_assert_eq(client_finish(c, NULL), 0);

    /* Without goneshim the kill really broke the connection. */
    c = client_start(WITHOUT_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_parent (v) VALUES (1)"), "ok affected=1");
    kill_and_wait(client_id(c));
    cr_assert(is_connection_error(client_cmd(c, "INSERT INTO t_child (parent_id) VALUES (LAST_INSERT_ID())")));
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* An INSERT that gave the AUTO_INCREMENT column a value itself answers
 * with that value, but leaves LAST_INSERT_ID() alone: goneshim cannot know
 * the value to restore, so the statement that reads it hears of the loss,
 * once, rather than read a wrong one. */
Test(session_values, an_uncertain_last_insert_id_is_reported_not_guessed, .timeout = 60)
{
    auto_increment_tables();
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_parent (v) VALUES (1)"), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_parent VALUES (100, 2)"), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, "SELECT LAST_INSERT_ID()"), "ok 1", "the server's value");
    kill_and_wait(client_id(c));
    const char *a = client_cmd(c, "SELECT LAST_INSERT_ID()");
    cr_assert(is_connection_error(a), "a guess (100, or 0) instead of 1: %s", a);
    cr_assert_str_eq(client_cmd(c, "SELECT LAST_INSERT_ID()"), "ok 0", "once; then a fresh session's");

    /* Lost by a reconnect before a statement that does not read it: the
     * first one that does hears of it. */
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_parent VALUES (200, 2)"), "ok affected=1");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    a = client_cmd(c, "INSERT INTO t_child (parent_id) VALUES (LAST_INSERT_ID())");
    cr_assert(is_connection_error(a), "%s", a);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_child"), 0, "no child row with a wrong parent");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* What the previous statement left dies with the connection. */
Test(session_values, what_the_previous_statement_left_is_not_read_from_a_fresh_session, .timeout = 60)
{
    static const char *const readers[] = {
        "SELECT FOUND_ROWS()", "SELECT ROW_COUNT()", "SHOW WARNINGS", "SELECT @@warning_count",
    };
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        struct client *c = client_start(WITH_SHIM, NULL);
        cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
        cr_assert(starts_with(client_cmd(c, "SELECT SQL_CALC_FOUND_ROWS 1 / 0 FROM DUAL"), "ok"));
        kill_and_wait(client_id(c));
        const char *a = client_cmd(c, "%s", readers[i]);
        cr_assert(is_connection_error(a), "%s read the fresh session's: %s", readers[i], a);
        cr_assert(starts_with(client_cmd(c, "SELECT 1"), "ok 1"), "then the handle works");
        cr_assert_eq(client_finish(c, NULL), 0);
    }
}

/* Point 10: a setting computed from itself is replayed as the value it
 * had, not as the expression, which a fresh session would evaluate from
 * its own defaults. */
Test(session_values, a_setting_in_force_is_replayed_not_its_text, .timeout = 60)
{
    fresh_table("t_quotes");
    admin_exec("INSERT INTO t_quotes VALUES (5, 5)");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    /* Strict mode with the three modes MySQL wants with it: without them
     * MySQL warns (3135), and the value of a SET that left warnings is
     * not read back (the read would erase them): its loss is reported. */
    cr_assert_str_eq(client_cmd(c, "SET sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                                   "ERROR_FOR_DIVISION_BY_ZERO'"),
                     "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "SET SESSION max_join_size = @@max_join_size DIV 2"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, ".affected"), "ok 0", "reading the value back changed nothing visible");
    char before[1024];
    snprintf(before, sizeof before, "%s", client_cmd(c, "SELECT @@sql_mode, @@max_join_size"));
    cr_assert(strstr(before, "STRICT_TRANS_TABLES") && strstr(before, "ANSI_QUOTES") &&
                  strstr(before, "NO_BACKSLASH_ESCAPES"),
              "%s", before);
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT @@sql_mode, @@max_join_size"), before);
    /* The query of the field: double quotes are identifiers under
     * ANSI_QUOTES; with another sql_mode it would return a string. */
    cr_assert_str_eq(client_cmd(c, "SELECT \"id\" FROM t_quotes"), "ok 5", "a string 'id' without ANSI_QUOTES");
    cr_assert_eq(client_finish(c, NULL), 0);
}
