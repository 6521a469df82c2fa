/* Long-lived workers under the field's cron job (KILL sleeping
 * connections, every 100 ms, while they are well inside their idle period):
 * zero errors under the shim, errors without. Every acknowledged insert is
 * in the table exactly once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

Test(workers, eight_threads_under_a_killer, .timeout = 120)
{
    const char *with[] = {"build/tests/threaded_worker", "8", "10", "300", "threads-shim", NULL};
    worker_run(with, WITH_SHIM, NULL, PROTECTED, "threads-shim", 80, 300);
    const char *without[] = {"build/tests/threaded_worker", "8", "10", "300", "threads-plain", NULL};
    worker_run(without, WITHOUT_SHIM, NULL, UNPROTECTED, "threads-plain", 80, 300);
}

Test(workers, threads_and_fork_under_a_killer, .timeout = 120)
{
    const char *argv[] = {"build/tests/threaded_worker", "4", "10", "300", "fork-shim", "--fork", NULL};
    worker_run(argv, WITH_SHIM, NULL, PROTECTED, "fork-shim", 40, 300);
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
    worker_run(with, WITHOUT_SHIM, NULL, PROTECTED, tag, iterations, idle_ms);

    snprintf(tag, sizeof tag, "%s-%s-plain", base, transport);
    const char *without[] = {path, "--transport", transport, "--iterations", iter, "--idle-ms", idle,
                             "--tag", tag, NULL};
    worker_run(without, WITHOUT_SHIM, NULL, UNPROTECTED, tag, iterations, idle_ms);
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
    worker_run(argv, WITHOUT_SHIM, NULL, PROTECTED, "php-fork", 16, 400);
}
