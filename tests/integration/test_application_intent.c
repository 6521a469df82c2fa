/* The application's own intent wins: a connection it kills itself stays
 * killed, the options it set read back as it set them, a reconnect it asks
 * the library for happens as without goneshim. And what the library
 * accepts, goneshim accepts: a length of (unsigned long)-1 means "up to
 * the NUL". Each scenario is checked against the library without goneshim:
 * with goneshim it must answer the same. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Runs the same lines with and without goneshim; the answers must match,
 * line for line. */
static void same_answers(const char *const *lines, size_t n, const char *const *env)
{
    struct client *with = client_start(WITH_SHIM, env), *without = client_start(WITHOUT_SHIM, env);
    char mismatch[8192] = "";
    for (size_t i = 0; i < n && mismatch[0] == '\0'; i++) {
        char a[4096];
        snprintf(a, sizeof a, "%s", client_cmd(without, "%s", lines[i]));
        const char *b = client_cmd(with, "%s", lines[i]);
        /* Errors must be the same error (a lost connection reads 2006 or
         * 2013 depending on when the close arrived); texts may differ. */
        bool same = starts_with(a, "err ") ? starts_with(b, "err ") && (strncmp(a, b, 8) == 0 ||
                                                                        (is_connection_error(a) && is_connection_error(b)))
                                           : strcmp(a, b) == 0;
        if (!same)
            snprintf(mismatch, sizeof mismatch, "%s: without goneshim [%s], with [%s]", lines[i], a, b);
    }
    char *with_err, *without_err;
    cr_assert_eq(client_finish(with, &with_err), 0, "with goneshim: %s", with_err);
    cr_assert_eq(client_finish(without, &without_err), 0, "without: %s", without_err);
    cr_assert(mismatch[0] == '\0', "%s\nstderr without goneshim: %s\nwith: %s", mismatch, without_err, with_err);
    free(with_err);
    free(without_err);
}
#define SAME(lines, env) same_answers(lines, sizeof lines / sizeof lines[0], env)

/* Point 1: libmariadb takes (unsigned long)-1 for strlen in
 * mysql_real_query and mysql_stmt_prepare; goneshim used to copy that many
 * bytes and crash. mysql_send_query of Connector/C 3.3 does not (it fails
 * the send): goneshim does as it does. */
Test(application_intent, length_minus_one_means_up_to_the_nul, .timeout = 60)
{
    static const char *const lines[] = {
        ".connect socket", ".strlen SELECT 1, 'a'", ".prepare_strlen SELECT 3 UNION SELECT 4",
        ".strlen SET @@session.sql_mode = 'ANSI'", ".strlen SELECT @@sql_mode", ".send_strlen SELECT 2",
    };
    SAME(lines, NULL);
    /* And across a reconnect. */
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".strlen SELECT 5"), "ok 5");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".prepare_strlen SELECT 6"), "ok 1");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Point 6: SQL KILL of the own connection, and mysql_kill (which sends the
 * same SQL). The next statement fails as it does without goneshim. */
Test(application_intent, killing_the_own_connection_stays_killed, .timeout = 60)
{
    static const char *const sql_kill[] = {
        ".connect socket", "SELECT 1", ".kill self", "SELECT 2", "SELECT 3",
    };
    SAME(sql_kill, NULL);
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect tcp"), "ok");
    const char *a = client_cmd(c, "KILL %lu", client_id(c));
    /* MySQL answers its own KILL with "interrupted" before it closes. */
    cr_assert(is_connection_error(a) || (server_is_mysql() && starts_with(a, "err 1317 ")),
              "KILL of the own connection: %s", a);
    a = client_cmd(c, "SELECT 2");
    cr_assert(is_connection_error(a), "goneshim reconnected a connection the application killed: %s", a);
    cr_assert_eq(client_finish(c, NULL), 0);
}

Test(application_intent, killing_another_connection_is_a_plain_write, .timeout = 60)
{
    struct client *victim = client_start(WITHOUT_SHIM, NULL);
    cr_assert_str_eq(client_cmd(victim, ".connect socket"), "ok");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, ".kill %lu", client_id(victim)), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1", "its own connection is untouched");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 2"), "ok 2", "and still managed");
    cr_assert(is_connection_error(client_cmd(victim, "SELECT 1")));
    cr_assert_eq(client_finish(c, NULL), 0);
    cr_assert_eq(client_finish(victim, NULL), 0);
}

/* With the library's own reconnect on, killing the own connection is
 * followed by the library's reconnect, exactly as without goneshim; then
 * goneshim manages the new connection. */
Test(application_intent, the_library_s_own_reconnect_after_a_self_kill, .timeout = 60)
{
    static const char *const lines[] = {
        ".option reconnect 1", ".connect socket", ".kill self", "SELECT 2", "SELECT @@autocommit",
    };
    SAME(lines, NULL);
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".option reconnect 1"), "ok");
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    client_cmd(c, ".kill self");
    cr_assert_str_eq(client_cmd(c, "SELECT 2"), "ok 2");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "START TRANSACTION"), "ok affected=0", "managed again: hidden");
    cr_assert_str_eq(client_cmd(c, ".get_option reconnect"), "ok 1");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Point 7: the reconnect option reads back as set, however it was set. */
Test(application_intent, the_reconnect_option_reads_back_as_set, .timeout = 60)
{
    static const char *const lines[] = {
        ".get_option reconnect", ".option reconnect 1", ".get_option reconnect", ".connect socket",
        ".get_option reconnect", ".option reconnect 0", ".get_option reconnect", ".optionv reconnect 1",
        ".get_option reconnect",
    };
    SAME(lines, NULL);
}

Test(application_intent, reconnect_from_my_cnf_reads_back, .timeout = 60)
{
    char path[] = "/tmp/goneshim-mycnf.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char text[] = "[client]\nreconnect=1\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    char option[128];
    snprintf(option, sizeof option, ".option defaults_file %s", path);
    const char *const lines[] = {option, ".connect socket", ".get_option reconnect"};
    SAME(lines, NULL);
    /* ... while goneshim, not the library, does the reconnecting: a lost
     * transaction is not split by it. */
    fresh_table("t_mycnf");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, "%s", option), "ok");
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_mycnf VALUES (1, 1)"), "ok affected=1");
    kill_and_wait(client_id(c));
    cr_assert(is_connection_error(client_cmd(c, "INSERT INTO t_mycnf VALUES (2, 2)")));
    cr_assert(is_connection_error(client_cmd(c, "COMMIT")));
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_mycnf"), 0);
    cr_assert_eq(client_finish(c, NULL), 0);
    unlink(path);
}

/* The application calls mariadb_reconnect itself: on a healthy connection
 * it reconnects when the option is on and refuses when it is off, as the
 * library does; goneshim then manages the new connection. */
Test(application_intent, mariadb_reconnect_called_by_the_application, .timeout = 60)
{
    static const char *const off[] = {".connect socket", ".reconnect", "SELECT 1"};
    SAME(off, NULL);
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".option reconnect 1"), "ok");
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    unsigned long before = client_id(c);
    cr_assert_str_eq(client_cmd(c, ".reconnect"), "ok", "a healthy connection, the option on");
    unsigned long after = client_id(c);
    cr_assert_neq(after, before, "a new connection");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %lu", before), 0,
                 "the old one is closed");
    kill_and_wait(after);
    cr_assert_str_eq(client_cmd(c, "SELECT 7"), "ok 7", "the handle is still goneshim's");
    cr_assert_eq(client_finish(c, NULL), 0);
}
