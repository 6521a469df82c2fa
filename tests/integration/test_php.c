/* PHP over mysqlnd (mysqli, PDO): the contract, through unmodified scripts
 * run under the launcher. The workers under a killer are in test_workers.c;
 * here, the transaction sequence and the session restore, each checked
 * against the server afterwards. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int run_php(const char *script, const char *const *args, char **out, char **err)
{
    const char *argv[24] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--", script};
    size_t n = 4;
    for (size_t i = 0; args[i] != NULL && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return run_program(argv, WITHOUT_SHIM, NULL, out, err);
}

static void worker_table(void)
{
    admin_exec("CREATE TABLE IF NOT EXISTS worker_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "tag VARCHAR(64) NOT NULL, n INT NOT NULL, KEY(tag)) ENGINE=InnoDB");
}

/* Killed between two statements of a transaction: 2006 until ROLLBACK, a
 * failing COMMIT, nothing persisted, and the next transaction works. The
 * script checks each step; the table must then hold only row 3. */
static void transaction_loss(const char *api, const char *mode)
{
    char tag[64], *out, *err;
    snprintf(tag, sizeof tag, "txn-%s-%s", api, mode);
    worker_table();
    admin_exec("DELETE FROM worker_log WHERE tag = '%s'", tag);
    const char *args[] = {"--api", api, "--mode", mode, "--tag", tag, NULL};
    int status = run_php("tests/clients/php/transaction_loss.php", args, &out, &err);
    cr_assert_eq(status, 0, "%s %s:\n%s\nstderr:\n%s", api, mode, out, err);
    cr_assert(strstr(out, "result=ok") != NULL, "%s", out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM worker_log WHERE tag = '%s' AND n IN (1, 2)", tag), 0,
                 "a statement of the lost transaction persisted:\n%s", out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM worker_log WHERE tag = '%s' AND n = 3", tag), 1,
                 "the next transaction did not persist:\n%s", out);
    free(out);
    free(err);
}

Test(php, pdo_emulated_explicit_transaction_lost, .timeout = 60) { transaction_loss("pdo", "explicit"); }
Test(php, pdo_emulated_autocommit_off_lost, .timeout = 60) { transaction_loss("pdo", "autocommit-off"); }
Test(php, pdo_native_explicit_transaction_lost, .timeout = 60) { transaction_loss("pdo-native", "explicit"); }
Test(php, pdo_native_autocommit_off_lost, .timeout = 60) { transaction_loss("pdo-native", "autocommit-off"); }
Test(php, mysqli_explicit_transaction_lost, .timeout = 60) { transaction_loss("mysqli", "explicit"); }
Test(php, mysqli_autocommit_off_lost, .timeout = 60) { transaction_loss("mysqli", "autocommit-off"); }

/* Without the shim the same script fails at the first statement after the
 * kill in a different way (no connection at all): the test above is not
 * passing by accident. */
Test(php, transaction_script_fails_without_the_shim, .timeout = 60)
{
    char *out, *err;
    worker_table();
    const char *argv[] = {"tests/clients/php/transaction_loss.php", "--api", "pdo", "--tag", "txn-plain", NULL};
    int status = run_program(argv, WITHOUT_SHIM, NULL, &out, &err);
    cr_assert_neq(status, 0, "%s", out);
    cr_assert(strstr(out, "MISMATCH") != NULL, "%s", out);
    free(out);
    free(err);
}

static void session_restore(const char *api, const char *transport)
{
    char *out, *err;
    const char *args[] = {"--api", api, "--transport", transport, NULL};
    int status = run_php("tests/clients/php/session_restore.php", args, &out, &err);
    cr_assert_eq(status, 0, "%s over %s:\n%s\nstderr:\n%s", api, transport, out, err);
    cr_assert(strstr(out, "reconnected=1") != NULL, "no reconnect happened:\n%s", out);
    free(out);
    free(err);
}

Test(php, mysqli_session_restored_socket, .timeout = 60) { session_restore("mysqli", "socket"); }
Test(php, mysqli_session_restored_tcp, .timeout = 60) { session_restore("mysqli", "tcp"); }
Test(php, pdo_session_restored_socket, .timeout = 60) { session_restore("pdo", "socket"); }
Test(php, pdo_session_restored_tcp, .timeout = 60) { session_restore("pdo", "tcp"); }

Test(php, session_script_fails_without_the_shim, .timeout = 60)
{
    char *out, *err;
    const char *argv[] = {"tests/clients/php/session_restore.php", "--api", "mysqli", NULL};
    cr_assert_neq(run_program(argv, WITHOUT_SHIM, NULL, &out, &err), 0, "%s", out);
    free(out);
    free(err);
}

/* A server restart between two statements: the same as a kill, for every
 * connection at once. */
Test(php, survives_a_server_restart, .timeout = 60)
{
    char *out, *err;
    worker_table();
    admin_exec("DELETE FROM worker_log WHERE tag = 'restart-php'");
    const char *argv[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--",
                          "tests/clients/php/laravel_worker.php", "--iterations", "4", "--idle-ms",
                          "6000", "--tag", "restart-php", NULL};
    struct program *p = program_start(argv, WITHOUT_SHIM, NULL);
    /* The whole restart lands while the worker idles between jobs (a
     * restart during a job's transaction loses it, by contract:
     * statement_safety and transactions test that). MySQL 9.7 takes about
     * 4 s to restart, and goes on serving an idle connection for a while
     * after its shutdown began: a job that starts then has its
     * transaction cut. So: right after a job, and an idle period longer
     * than the restart. */
    for (int i = 0; i < 300 && admin_long("SELECT COUNT(*) FROM worker_log WHERE tag = 'restart-php'") < 2; i++)
        sleep_ms(10);
    sleep_ms(100);
    server_ctl("restart");
    int status = program_finish(p, &out, &err);
    cr_assert_eq(status, 0, "%s\nstderr:\n%s", out, err);
    cr_assert(strstr(out, "acked=4 errors=0") != NULL, "%s", out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM worker_log WHERE tag = 'restart-php'"), 4);
    free(out);
    free(err);
}

/* TLS (verified against the test server's CA) survives the reconnect:
 * mysqlnd's connect frees the TLS settings, which the shim puts back. */
static void tls_reconnect(const char *api)
{
    char *out, *err;
    const char *args[] = {"--api", api, NULL};
    int status = run_php("tests/clients/php/tls_reconnect.php", args, &out, &err);
    cr_assert_eq(status, 0, "%s:\n%s\nstderr:\n%s", api, out, err);
    free(out);
    free(err);
}

Test(php, pdo_tls_kept_across_reconnect, .timeout = 60) { tls_reconnect("pdo"); }
Test(php, mysqli_tls_kept_across_reconnect, .timeout = 60) { tls_reconnect("mysqli"); }

/* A PHP whose mysqlnd is not the one goneshim was built for (faked by a
 * library preloaded ahead of it that answers another version): one log
 * line, then PHP behaves exactly as without goneshim. */
Test(php, unknown_php_version_is_left_alone, .timeout = 60)
{
    char *out, *err;
    char preload[8300];
    char fake[4096], lib[4096];
    cr_assert(realpath("build/tests/fake_mysqlnd_version.so", fake) != NULL);
    cr_assert(realpath(shim_library(), lib) != NULL);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s:%s", fake, lib);
    const char *env[] = {preload, "GONESHIM_LOG=stderr", NULL};
    const char *argv[] = {"tests/clients/php/session_restore.php", "--api", "mysqli", NULL};
    int status = run_program(argv, WITHOUT_SHIM, env, &out, &err);
    cr_assert_neq(status, 0, "goneshim acted on a PHP it was not built for:\n%s", out);
    cr_assert(strstr(err, "is not the PHP") != NULL, "no log line:\n%s", err);
    cr_assert(strstr(err, "reconnected") == NULL, "%s", err);
    free(out);
    free(err);
}

/* Point 6 of the trust issue: a script that kills its own connection
 * (mysqli::kill, SQL KILL) or closes it while a statement still holds it
 * sees exactly what it sees without goneshim: the step-by-step output of
 * the script must be the same. */
Test(php, the_script_s_own_kill_and_close_behave_as_without_goneshim, .timeout = 60)
{
    char *with, *without, *err;
    const char *script[] = {"php", "tests/clients/php/application_intent.php", NULL};
    cr_assert_eq(run_program(script, WITHOUT_SHIM, NULL, &without, &err), 0, "%s", err);
    free(err);
    cr_assert_eq(run_php("tests/clients/php/application_intent.php", (const char *[]){NULL}, &with, &err), 0, "%s",
                 err);
    cr_assert(strstr(without, "query after kill: false") != NULL, "the kill did not kill:\n%s", without);
    cr_assert_str_eq(with, without, "with goneshim:\n%s\nwithout:\n%s", with, without);
    free(with);
    free(without);
    free(err);
}

/* Point 13: native prepares (Laravel's PDO) after a KILL, 40 rounds, with
 * both cores busy. */
static void prepare_after_kill(const char *transport)
{
    char *out, *err;
    const char *args[] = {"--transport", transport, "--rounds", "40", NULL};
    load_start();
    int status = run_php("tests/clients/php/prepare_after_kill.php", args, &out, &err);
    load_stop();
    cr_assert_eq(status, 0, "%s:\n%s\nstderr:\n%s", transport, out, err);
    cr_assert(strstr(out, "ok=40 failed=0") != NULL, "%s", out);
    free(out);
    free(err);
}

Test(php, native_prepares_after_a_kill_under_load_socket, .timeout = 120) { prepare_after_kill("socket"); }
Test(php, native_prepares_after_a_kill_under_load_tcp, .timeout = 120) { prepare_after_kill("tcp"); }

/* A mysqli statement of the killed connection, closed, reset or given long
 * data on the new one: never by its old number (which is another
 * statement's on MySQL). Without goneshim the handle itself is dead. */
Test(php, statements_of_the_killed_connection_keep_to_themselves, .timeout = 60)
{
    for (int shim = 0; shim < 2; shim++) {
        char *out, *err;
        const char *argv[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--",
                              "tests/clients/php/stale_statement.php", NULL};
        int status = run_program(shim ? argv : argv + 3, WITHOUT_SHIM, NULL, &out, &err);
        if (shim)
            cr_assert_eq(status, 0, "%s\nstderr:\n%s", out, err);
        else
            cr_assert_neq(status, 0, "without goneshim the killed handle worked: %s", out);
        free(out);
        free(err);
    }
}

Test(php, native_prepares_after_a_kill_fail_without_the_shim, .timeout = 60)
{
    char *out, *err;
    const char *argv[] = {"php", "tests/clients/php/prepare_after_kill.php", "--rounds", "3", NULL};
    cr_assert_neq(run_program(argv, WITHOUT_SHIM, NULL, &out, &err), 0, "%s", out);
    cr_assert(strstr(out, "ok=0 failed=3") != NULL, "%s", out);
    free(out);
    free(err);
}
