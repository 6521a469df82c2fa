/* The shim never harms its host: programs that do not use MySQL behave
 * exactly as without it, a bad variable gives one line and the default,
 * only the interposed API is exported, and nothing is printed unless
 * logging is asked for (and then never a password). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void same_with_and_without(const char *const *argv)
{
    char *out1, *err1, *out2, *err2;
    int s1 = run_program(argv, WITHOUT_SHIM, NULL, &out1, &err1);
    int s2 = run_program(argv, WITH_SHIM, NULL, &out2, &err2);
    cr_assert_eq(s2, s1, "%s: exit status", argv[0]);
    cr_assert_str_eq(out2, out1, "%s: stdout", argv[0]);
    cr_assert_str_eq(err2, err1, "%s: stderr", argv[0]);
    free(out1), free(err1), free(out2), free(err2);
}

Test(host_safety, programs_without_mysql_are_unaffected)
{
    const char *ls[] = {"ls", "-l", "/usr/include/mariadb", NULL};
    const char *t[] = {"true", NULL};
    const char *py[] = {"python3", "-c", "pass", NULL};
    const char *py_import[] = {"python3", "-c", "import MySQLdb, sys; print(sys.version_info[0])", NULL};
    const char *fails[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
    same_with_and_without(ls);
    same_with_and_without(t);
    same_with_and_without(py);
    same_with_and_without(py_import);
    same_with_and_without(fails);
}

Test(host_safety, bad_variable_gives_one_line_and_the_default, .timeout = 60)
{
    const char *const env[] = {"GONESHIM_IDLE=soon", NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1", "the shim still works with the defaults");
    char *err;
    cr_assert_eq(client_finish(c, &err), 0);
    cr_assert(strstr(err, "GONESHIM_IDLE=\"soon\"") != NULL, "stderr: %s", err);
    cr_assert(strstr(err, "accepted:") != NULL, "names the accepted form: %s", err);
    char *newline = strchr(err, '\n');
    cr_assert(newline != NULL && newline[1] == '\0', "exactly one line: [%s]", err);
    free(err);
}

Test(host_safety, silent_unless_logging_is_asked_for, .timeout = 60)
{
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    char *err;
    cr_assert_eq(client_finish(c, &err), 0);
    cr_assert_str_eq(err, "", "nothing on stderr in normal operation");
    free(err);
}

Test(host_safety, log_file_has_events_and_no_password, .timeout = 60)
{
    struct shim_log log;
    shim_log_open(&log);
    fresh_table("t_log");
    struct client *c = client_start(WITH_SHIM, log.env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_log VALUES (1, 1)"), "ok affected=1");
    cr_assert(starts_with(client_cmd(c, "SELECT NOW(6)"), "ok "));
    kill_and_wait(client_id(c));
    cr_assert(is_connection_error(client_cmd(c, "SELECT 1")), "a replay reads another NOW(6)");
    cr_assert_eq(client_finish(c, NULL), 0);

    cr_assert_gt(shim_log_count(&log, "reconnected (server closed the idle connection)"), 0, "see %s", log.path);
    cr_assert_gt(shim_log_count(&log, "connection lost inside a transaction"), 0, "see %s", log.path);
    cr_assert_gt(shim_log_count(&log, "replay refused: statement 3 of 3 returned a different result"), 0, "see %s",
                 log.path);
    cr_assert_eq(shim_log_count(&log, getenv("GONESHIM_TEST_PASSWORD")), 0, "the password is in the log");
    shim_log_remove(&log);
}

Test(host_safety, disabled_means_pass_through, .timeout = 60)
{
    const char *const env[] = {"GONESHIM_DISABLE=1", NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert(is_connection_error(client_cmd(c, "SELECT 1")));
    cr_assert_eq(client_finish(c, NULL), 0);
}

Test(host_safety, exports_only_the_interposed_api)
{
    char *out;
    const char *nm[] = {"sh", "-c", "nm -D --defined-only build/libgoneshim.so | awk '{print $3}' | sort", NULL};
    cr_assert_eq(run_program(nm, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert_str_eq(out,
                     "mariadb_reconnect\nmysql_autocommit\nmysql_change_user\nmysql_close\nmysql_commit\n"
                     "mysql_get_optionv\nmysql_optionsv\n"
                     "mysql_ping\nmysql_query\nmysql_read_query_result\nmysql_real_connect\n"
                     "mysql_real_query\nmysql_reset_connection\nmysql_rollback\nmysql_select_db\n"
                     "mysql_send_query\nmysql_set_character_set\nmysql_stmt_attr_set\nmysql_stmt_bind_param\n"
                     "mysql_stmt_bind_result\nmysql_stmt_close\nmysql_stmt_execute\nmysql_stmt_prepare\n"
                     "mysql_stmt_reset\n"
                     "mysql_stmt_send_long_data\nmysql_stmt_store_result\nmysql_store_result\nmysql_use_result\n"
                     "mysqlnd_connection_init\n");
    free(out);
    const char *ldd[] = {"sh", "-c", "readelf -d build/libgoneshim.so | grep NEEDED", NULL};
    cr_assert_eq(run_program(ldd, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert(strstr(out, "mariadb") == NULL && strstr(out, "mysql") == NULL && strstr(out, "php") == NULL,
              "links against a client library: %s", out);
    free(out);
}

/* Point 12 of the trust issue: a log that cannot be written never blocks
 * the host. A FIFO nobody reads used to hang the first MySQL call in
 * open(). */
Test(host_safety, a_log_fifo_without_reader_does_not_block, .timeout = 30)
{
    char dir[] = "/tmp/goneshim-fifo.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char fifo[128], var[160];
    snprintf(fifo, sizeof fifo, "%s/log", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(var, sizeof var, "GONESHIM_LOG=%s", fifo);
    const char *const env[] = {var, NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok", "the first call must not wait for a reader");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1", "and goneshim still works");
    char *err;
    cr_assert_eq(client_finish(c, &err), 0);
    cr_assert(strstr(err, "cannot open GONESHIM_LOG") != NULL && strstr(err, "no reader") != NULL, "%s", err);
    free(err);
    unlink(fifo);
    rmdir(dir);
}

/* The log can hold SQL text: only its owner may read it, whatever the
 * umask. */
Test(host_safety, the_log_is_created_for_its_owner_only, .timeout = 30)
{
    char dir[] = "/tmp/goneshim-logmode.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], var[160];
    snprintf(path, sizeof path, "%s/goneshim.log", dir);
    snprintf(var, sizeof var, "GONESHIM_LOG=%s", path);
    const char *const env[] = {var, NULL};
    mode_t old = umask(022);
    struct client *c = client_start(WITH_SHIM, env);
    umask(old);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    cr_assert_eq(client_finish(c, NULL), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    unlink(path);
    rmdir(dir);
}
