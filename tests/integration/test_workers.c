/* Long-lived workers under the field's cron job (KILL sleeping
 * connections, every 100 ms, while they are well inside their idle period):
 * zero errors under the shim, errors without. Every acknowledged insert is
 * in the table exactly once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum expectation { PROTECTED, UNPROTECTED };

static void run_worker(const char *const *argv, enum shim_mode preload, enum expectation expect,
                       const char *tag, int expected_acked, int idle_ms)
{
    char *out, *err;
    admin_exec("CREATE TABLE IF NOT EXISTS worker_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "tag VARCHAR(64) NOT NULL, n INT NOT NULL, KEY(tag)) ENGINE=InnoDB");
    admin_exec("DELETE FROM worker_log WHERE tag LIKE '%s%%'", tag);
    killer_start(100, idle_ms / 2);
    int status = run_program(argv, preload, NULL, &out, &err);
    int kills = killer_stop();
    int acked = -1, errors = -1;
    const char *line = strstr(out, "acked=");
    cr_assert(line != NULL, "%s printed no summary: %s\nstderr:\n%s", argv[0], out, err);
    cr_assert_eq(sscanf(line, "acked=%d errors=%d", &acked, &errors), 2, "%s", line);
    cr_assert_gt(kills, 0, "the killer killed nothing");
    long long rows = admin_long("SELECT COUNT(*) FROM worker_log WHERE tag LIKE '%s%%'", tag);
    cr_assert_eq(rows, acked, "%s: %lld rows for %d acknowledged inserts", tag, rows, acked);
    if (expect == PROTECTED) {
        cr_assert_eq(status, 0, "%s under the shim: %s\nstderr:\n%s", argv[0], out, err);
        cr_assert_eq(errors, 0);
        cr_assert_eq(acked, expected_acked);
    } else {
        cr_assert_neq(status, 0, "%s without the shim saw no error: %s", argv[0], out);
        cr_assert_gt(errors, 0);
    }
    free(out);
    free(err);
}

Test(workers, eight_threads_under_a_killer, .timeout = 120)
{
    const char *with[] = {"build/tests/threaded_worker", "8", "10", "300", "threads-shim", NULL};
    run_worker(with, WITH_SHIM, PROTECTED, "threads-shim", 80, 300);
    const char *without[] = {"build/tests/threaded_worker", "8", "10", "300", "threads-plain", NULL};
    run_worker(without, WITHOUT_SHIM, UNPROTECTED, "threads-plain", 80, 300);
}

Test(workers, threads_and_fork_under_a_killer, .timeout = 120)
{
    const char *argv[] = {"build/tests/threaded_worker", "4", "10", "300", "fork-shim", "--fork", NULL};
    run_worker(argv, WITH_SHIM, PROTECTED, "fork-shim", 40, 300);
}

/* The unmodified scripts: through the launcher, as a user runs them, and
 * bare. */
static void script_worker(const char *script, const char *transport, int iterations, int idle_ms)
{
    char path[256], tag[64], iter[16], idle[16];
    snprintf(path, sizeof path, "tests/clients/%s", script);
    snprintf(iter, sizeof iter, "%d", iterations);
    snprintf(idle, sizeof idle, "%d", idle_ms);
    const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;

    snprintf(tag, sizeof tag, "%s-%s-shim", base, transport);
    const char *with[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--", path,
                          "--transport", transport, "--iterations", iter, "--idle-ms", idle,
                          "--tag", tag, NULL};
    run_worker(with, WITHOUT_SHIM, PROTECTED, tag, iterations, idle_ms);

    snprintf(tag, sizeof tag, "%s-%s-plain", base, transport);
    const char *without[] = {path, "--transport", transport, "--iterations", iter, "--idle-ms", idle,
                             "--tag", tag, NULL};
    run_worker(without, WITHOUT_SHIM, UNPROTECTED, tag, iterations, idle_ms);
}

static void language_worker(const char *script, const char *transport)
{
    script_worker(script, transport, 8, 450);
}

Test(workers, python_mysqldb_socket, .timeout = 120) { language_worker("worker.py", "socket"); }
Test(workers, python_mysqldb_tcp, .timeout = 120) { language_worker("worker.py", "tcp"); }
Test(workers, perl_dbd_mysql_socket, .timeout = 120) { language_worker("worker.pl", "socket"); }
Test(workers, perl_dbd_mysql_tcp, .timeout = 120) { language_worker("worker.pl", "tcp"); }
Test(workers, ruby_mysql2_socket, .timeout = 120) { language_worker("worker.rb", "socket"); }
Test(workers, ruby_mysql2_tcp, .timeout = 120) { language_worker("worker.rb", "tcp"); }

/* PHP (mysqlnd): every warning counts as an error in these scripts, as it
 * does in the frameworks they imitate. */
Test(workers, php_laravel_pdo_native_prepares_socket, .timeout = 120) { language_worker("php/laravel_worker.php", "socket"); }
Test(workers, php_laravel_pdo_native_prepares_tcp, .timeout = 120) { language_worker("php/laravel_worker.php", "tcp"); }
Test(workers, php_mysqli_socket, .timeout = 120) { language_worker("php/mysqli_worker.php", "socket"); }
Test(workers, php_mysqli_tcp, .timeout = 120) { language_worker("php/mysqli_worker.php", "tcp"); }
/* Idle past its own wait_timeout (1 s): the server closes the connection,
 * no killer needed (the killer runs, but spares connections idle for over
 * half the period). */
Test(workers, php_phalcon_pdo_past_wait_timeout, .timeout = 120) { script_worker("php/phalcon_worker.php", "socket", 3, 1500); }
Test(workers, php_forking_worker, .timeout = 120)
{
    const char *argv[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--",
                          "tests/clients/php/forking_worker.php", "--iterations", "4", "--idle-ms", "400",
                          "--tag", "php-fork", NULL};
    run_worker(argv, WITHOUT_SHIM, PROTECTED, "php-fork", 16, 400);
}
