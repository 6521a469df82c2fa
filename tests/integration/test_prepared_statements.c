/* Prepared statements survive a reconnect: prepared once, executed in a
 * loop while a killer KILLs the idle connection, results checked every
 * time. Without the shim the same loop fails. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The sanitized stmt_worker runs under the sanitized library: ASan, UBSan
 * and LeakSanitizer watch the shim's statement records. */
static const char *const *asan_shim(void)
{
    static char preload[PATH_MAX + 16];
    static const char *env[2];
    char path[PATH_MAX];
    cr_assert(realpath("build/asan/libgoneshim.so", path) != NULL);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", path);
    env[0] = preload;
    env[1] = NULL;
    return env;
}

static void stmt_loop(const char *tag_base, const char *option, const char *transport)
{
    char tag[64];
    snprintf(tag, sizeof tag, "%s-shim", tag_base);
    const char *with[] = {"build/tests/stmt_worker", "8", "400", tag, option, transport, NULL};
    worker_run(with, WITHOUT_SHIM, asan_shim(), PROTECTED, tag, 8, 400);
    snprintf(tag, sizeof tag, "%s-plain", tag_base);
    const char *without[] = {"build/tests/stmt_worker", "8", "400", tag, option, transport, NULL};
    worker_run(without, WITHOUT_SHIM, NULL, UNPROTECTED, tag, 8, 400);
}

Test(prepared, c_loop_same_bindings_socket, .timeout = 120) { stmt_loop("stmt-same", "--same", "--socket"); }
Test(prepared, c_loop_rebound_each_time_socket, .timeout = 120) { stmt_loop("stmt-rebind", "--rebind", "--socket"); }
Test(prepared, c_loop_rebound_each_time_tcp, .timeout = 120) { stmt_loop("stmt-rebind-tcp", "--rebind", "--tcp"); }

/* DBD::mysql with server-side prepares: statements prepared once by the
 * unmodified Perl worker, through the launcher. */
Test(prepared, perl_dbd_mysql_server_prepare, .timeout = 120)
{
    const char *with[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--", "tests/clients/worker.pl",
                          "--server-prepare", "--iterations", "8", "--idle-ms", "400", "--tag", "perl-ps-shim",
                          NULL};
    worker_run(with, WITHOUT_SHIM, NULL, PROTECTED, "perl-ps-shim", 8, 400);
    const char *without[] = {"tests/clients/worker.pl", "--server-prepare", "--iterations", "8", "--idle-ms",
                             "400", "--tag", "perl-ps-plain", NULL};
    worker_run(without, WITHOUT_SHIM, NULL, UNPROTECTED, "perl-ps-plain", 8, 400);
}

/* Closed statements release the shim's copy: LeakSanitizer fails the run
 * otherwise (the records are unreachable once removed). */
Test(prepared, prepare_execute_close_cycles_do_not_leak, .timeout = 120)
{
    char *out, *err;
    const char *argv[] = {"build/tests/stmt_worker", "--cycles", "3000", NULL};
    int status = run_program(argv, WITHOUT_SHIM, asan_shim(), &out, &err);
    cr_assert_eq(status, 0, "%s\nstderr:\n%s", out, err);
    cr_assert(strstr(err, "LeakSanitizer") == NULL, "%s", err);
    cr_assert(strstr(out, "cycles=3000") != NULL, "%s", out);
    free(out);
    free(err);
}

/* Long data cannot be carried over: a clear error, then it works again
 * once the application sends it again. */
Test(prepared, long_data_lost_with_the_connection_fails_clearly, .timeout = 60)
{
    char *out, *err;
    admin_exec("DELETE FROM worker_log WHERE tag = 'long-data'");
    const char *argv[] = {"build/tests/stmt_worker", "--long-data", "long-data", NULL};
    int status = run_program(argv, WITHOUT_SHIM, asan_shim(), &out, &err);
    cr_assert_eq(status, 0, "%s\nstderr:\n%s", out, err);
    cr_assert(strstr(out, "cannot be sent again") != NULL, "%s", out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM worker_log WHERE tag = 'long-data'"), 1);
    free(out);
    free(err);
}

/* PHP: PDO with native prepares and mysqli_stmt, prepared once by an
 * unmodified script run through the launcher. */
static void php_stmt_loop(const char *api, const char *transport)
{
    char tag[64];
    snprintf(tag, sizeof tag, "php-stmt-%s-%s-shim", api, transport);
    const char *with[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--",
                          "tests/clients/php/stmt_worker.php", "--api", api, "--transport", transport,
                          "--iterations", "8", "--idle-ms", "400", "--tag", tag, NULL};
    worker_run(with, WITHOUT_SHIM, NULL, PROTECTED, tag, 8, 400);
    snprintf(tag, sizeof tag, "php-stmt-%s-%s-plain", api, transport);
    const char *without[] = {"tests/clients/php/stmt_worker.php", "--api", api, "--transport", transport,
                             "--iterations", "8", "--idle-ms", "400", "--tag", tag, NULL};
    worker_run(without, WITHOUT_SHIM, NULL, UNPROTECTED, tag, 8, 400);
}

Test(prepared, php_pdo_native_socket, .timeout = 120) { php_stmt_loop("pdo", "socket"); }
Test(prepared, php_pdo_native_tcp, .timeout = 120) { php_stmt_loop("pdo", "tcp"); }
Test(prepared, php_mysqli_stmt_socket, .timeout = 120) { php_stmt_loop("mysqli", "socket"); }
Test(prepared, php_mysqli_stmt_tcp, .timeout = 120) { php_stmt_loop("mysqli", "tcp"); }

/* Point 14 of the trust issue: one rule for every client library. A
 * statement whose columns changed across a reconnect (SELECT * after an
 * ALTER TABLE) fails clearly, in libmysqlclient as in mysqlnd, rather than
 * run with bindings of another shape; prepared again, it works. */
Test(prepared, a_statement_whose_columns_changed_fails_clearly, .timeout = 60)
{
    fresh_table("t_shape");
    admin_exec("INSERT INTO t_shape VALUES (1, 1)");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, ".stmt_prepare SELECT * FROM t_shape"), "ok");
    cr_assert_str_eq(client_cmd(c, ".stmt_execute"), "ok 1");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".stmt_execute"), "ok 1", "the same shape: prepared again, hidden");
    admin_exec("ALTER TABLE t_shape ADD COLUMN w INT");
    kill_and_wait(client_id(c));
    const char *a = client_cmd(c, ".stmt_execute");
    cr_assert(starts_with(a, "err ") && strstr(a, "prepare it again") != NULL, "%s", a);
    cr_assert_str_eq(client_cmd(c, ".stmt_prepare SELECT * FROM t_shape"), "ok");
    cr_assert_str_eq(client_cmd(c, ".stmt_execute"), "ok 1");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* Statements of the killed connection, reset or closed on the new one:
 * never by their old number, which names nothing there (MariaDB numbers
 * statements server-wide) or the statement just prepared there (Oracle
 * MySQL numbers them per connection from 1: the matrix's mysql-server cell
 * runs this against it). Without goneshim the handle is simply dead. */
Test(prepared, statements_of_the_killed_connection_keep_to_themselves, .timeout = 60)
{
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, ".stmt_prepare SELECT 1"), "ok");
    cr_assert_str_eq(client_cmd(c, ".stmt_execute"), "ok 1");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".stmt2_prepare SELECT 2 UNION SELECT 3"), "ok", "the fresh connection's first");
    cr_assert_str_eq(client_cmd(c, ".stmt_close"), "ok", "closing the old one");
    cr_assert_str_eq(client_cmd(c, ".stmt2_execute"), "ok 2", "did not close the fresh one");
    cr_assert_str_eq(client_cmd(c, ".stmt_prepare SELECT 1"), "ok");
    cr_assert_str_eq(client_cmd(c, ".stmt_execute"), "ok 1");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, ".stmt_reset"), "ok", "reset: prepared again, then reset");
    cr_assert_str_eq(client_cmd(c, ".stmt_execute"), "ok 1");
    cr_assert_eq(client_finish(c, NULL), 0);

    struct client *plain = client_start(WITHOUT_SHIM, NULL);
    cr_assert_str_eq(client_cmd(plain, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(plain, ".stmt_prepare SELECT 1"), "ok");
    kill_and_wait(client_id(plain));
    cr_assert(starts_with(client_cmd(plain, ".stmt_reset"), "err "), "without goneshim the link is dead");
    cr_assert_eq(client_finish(plain, NULL), 0);
}
