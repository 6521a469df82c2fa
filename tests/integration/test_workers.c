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
static void language_worker(const char *script, const char *transport)
{
    char path[256], tag[64];
    snprintf(path, sizeof path, "tests/clients/%s", script);

    snprintf(tag, sizeof tag, "%s-%s-shim", script, transport);
    const char *with[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--", path,
                          "--transport", transport, "--iterations", "8", "--idle-ms", "450",
                          "--tag", tag, NULL};
    run_worker(with, WITHOUT_SHIM, PROTECTED, tag, 8, 450);

    snprintf(tag, sizeof tag, "%s-%s-plain", script, transport);
    const char *without[] = {path, "--transport", transport, "--iterations", "8", "--idle-ms", "450",
                             "--tag", tag, NULL};
    run_worker(without, WITHOUT_SHIM, UNPROTECTED, tag, 8, 450);
}

Test(workers, python_mysqldb_socket, .timeout = 120) { language_worker("worker.py", "socket"); }
Test(workers, python_mysqldb_tcp, .timeout = 120) { language_worker("worker.py", "tcp"); }
Test(workers, perl_dbd_mysql_socket, .timeout = 120) { language_worker("worker.pl", "socket"); }
Test(workers, perl_dbd_mysql_tcp, .timeout = 120) { language_worker("worker.pl", "tcp"); }
Test(workers, ruby_mysql2_socket, .timeout = 120) { language_worker("worker.rb", "socket"); }
Test(workers, ruby_mysql2_tcp, .timeout = 120) { language_worker("worker.rb", "tcp"); }
