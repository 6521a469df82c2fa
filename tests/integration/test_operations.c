/* What an operator sees (issue 14): the counters file of each process,
 * `goneshim stats` over them, and `goneshim check`. Against the real
 * server, under the field's killer; the counters checked against
 * goneshim's own log of the same run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* A fresh, private directory for the counters. */
static void stats_dir(char *dir, size_t size, char *var, size_t var_size)
{
    snprintf(dir, size, "/tmp/goneshim-stats.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(var, var_size, "GONESHIM_STATS=%s", dir);
}

static void remove_dir(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* The sum of a metric over every .prom file of `dir` (label filter `with`
 * may be ""), read by awk. */
static long long metric_sum(const char *dir, const char *metric, const char *with)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cat '%s'/*.prom | awk '$1 ~ /^%s\\{/ && index($1, \"%s\") { s += $2 } END { printf \"%%d\", s }'",
             dir, metric, with);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out;
    cr_assert_eq(run_program(argv, WITHOUT_SHIM, NULL, &out, NULL), 0);
    long long v = atoll(out);
    free(out);
    return v;
}

/* A worker under the killer: its file counts what its log says it did,
 * the file and its directory are its user's only, and goneshim stats adds
 * it up (as a table, and as JSON that parses) and knows it exited. */
Test(operations, counters_match_the_log_and_stats_reads_them, .timeout = 120)
{
    char dir[64], var[96];
    stats_dir(dir, sizeof dir, var, sizeof var);
    struct shim_log log;
    shim_log_open(&log);
    const char *env[] = {log.var, var, NULL};
    const char *argv[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "--", "tests/clients/worker.py",
                          "--iterations", "6", "--idle-ms", "450", "--tag", "ops-counters", NULL};
    worker_run(argv, WITHOUT_SHIM, env, PROTECTED, "ops-counters", 6, 450);

    long long reconnects = metric_sum(dir, "goneshim_reconnects_total", "");
    cr_assert_gt(reconnects, 0, "the killer's kills were not counted");
    cr_assert_eq((size_t)reconnects, shim_log_count(&log, ": reconnected ("), "see %s and %s", log.path, dir);
    cr_assert_eq(metric_sum(dir, "goneshim_reconnects_total", "peer_closed"), reconnects);
    cr_assert_eq(metric_sum(dir, "goneshim_handles_managed_total", "libmariadb"), 1);
    cr_assert_eq(metric_sum(dir, "goneshim_reconnect_failures_total", ""), 0);

    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700, "the directory is its user's only");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "stat -c %%a '%s'/*.prom", dir);
    const char *mode[] = {"sh", "-c", cmd, NULL};
    char *out;
    cr_assert_eq(run_program(mode, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert_str_eq(out, "600\n", "one file, its user's only");
    free(out);

    const char *stats[] = {"scripts/goneshim", "stats", "--dir", dir, NULL};
    cr_assert_eq(run_program(stats, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert(strstr(out, " exited ") != NULL, "the worker has exited:\n%s", out);
    char want[64];
    snprintf(want, sizeof want, "%10lld", reconnects);
    cr_assert(strstr(out, want) != NULL, "the reconnects (%lld) are not in:\n%s", reconnects, out);
    free(out);
    snprintf(cmd, sizeof cmd,
             "scripts/goneshim stats --json --dir '%s' | /usr/bin/python3 -c 'import json,sys; d = json.load(sys.stdin); "
             "print(d[\"total\"][\"reconnects\"], d[\"processes\"][0][\"alive\"])'",
             dir);
    const char *json[] = {"sh", "-c", cmd, NULL};
    cr_assert_eq(run_program(json, WITHOUT_SHIM, NULL, &out, NULL), 0);
    snprintf(want, sizeof want, "%lld False\n", reconnects);
    cr_assert_str_eq(out, want);
    free(out);
    shim_log_remove(&log);
    remove_dir(dir);
}

/* A process that lives is "alive"; --pid reads one process. */
Test(operations, stats_of_a_live_process, .timeout = 60)
{
    char dir[64], var[96];
    stats_dir(dir, sizeof dir, var, sizeof var);
    const char *env[] = {var, NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "pid=$(ls '%s' | sed -n 's/\\.prom$//p'); scripts/goneshim stats --dir '%s' --pid \"$pid\"",
             dir, dir);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out;
    cr_assert_eq(run_program(argv, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert(strstr(out, " alive ") != NULL, "%s", out);
    cr_assert_eq(metric_sum(dir, "goneshim_reconnects_total", ""), 1);
    free(out);
    cr_assert_eq(client_finish(c, NULL), 0);
    remove_dir(dir);
}

/* A directory others may enter is not used: another user could read or
 * replace the figures. */
Test(operations, a_shared_directory_is_refused, .timeout = 60)
{
    char dir[64], var[96];
    stats_dir(dir, sizeof dir, var, sizeof var);
    cr_assert_eq(chmod(dir, 0777), 0);
    const char *env[] = {var, NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    kill_and_wait(client_id(c));
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    char *err;
    cr_assert_eq(client_finish(c, &err), 0);
    cr_assert_str_eq(err, "", "nothing on stderr: %s", err);
    free(err);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out;
    cr_assert_eq(run_program(argv, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert_str_eq(out, "0\n", "a file was written in a shared directory");
    free(out);
    remove_dir(dir);
}

/* goneshim check: 0 and what it attached to when a connection was managed;
 * 1 and why not when none was. */
Test(operations, check_says_what_it_attached_to, .timeout = 60)
{
    char *out, *err;
    const char *c_worker[] = {"scripts/goneshim", "--library=build/libgoneshim.so", "check", "--",
                              "tests/clients/worker.py", "--iterations", "1", "--idle-ms", "10", NULL};
    cr_assert_eq(run_program(c_worker, WITHOUT_SHIM, NULL, &out, &err), 0, "check after the options:\n%s\n%s", out, err);
    free(out);
    free(err);
    const char *py[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--",
                        "tests/clients/worker.py", "--iterations", "1", "--idle-ms", "10", NULL};
    cr_assert_eq(run_program(py, WITHOUT_SHIM, NULL, &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "goneshim check: attached to libmariadb: 1 connection(s) managed") != NULL, "%s", out);
    free(out);
    free(err);
    const char *php[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--", "php", "-r",
                         "$p = new PDO('mysql:unix_socket=' . getenv('GONESHIM_TEST_SOCKET'), "
                         "getenv('GONESHIM_TEST_USER'), getenv('GONESHIM_TEST_PASSWORD')); $p->query('SELECT 1');",
                         NULL};
    cr_assert_eq(run_program(php, WITHOUT_SHIM, NULL, &out, &err), 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "attached to mysqlnd: 1 connection(s) managed") != NULL, "%s", out);
    free(out);
    free(err);
    const char *none[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--", "true", NULL};
    cr_assert_eq(run_program(none, WITHOUT_SHIM, NULL, &out, &err), 1);
    cr_assert(strstr(out, "no connection was managed") != NULL, "%s", out);
    free(out);
    free(err);
}

/* GONESHIM_LOG_FORMAT=json: every line one JSON object, the reconnect's
 * fields among them (read by Python's json, as a log shipper would). */
Test(operations, json_log_lines_parse_and_carry_the_fields, .timeout = 60)
{
    struct shim_log log;
    shim_log_open(&log);
    const char *env[] = {log.var, "GONESHIM_LOG_FORMAT=json", NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    unsigned long old_id = client_id(c);
    kill_and_wait(old_id);
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    unsigned long new_id = client_id(c);
    cr_assert_eq(client_finish(c, NULL), 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys\n"
             "lines = [json.loads(l) for l in open(sys.argv[1])]\n"
             "r = [l for l in lines if l[\"event\"] == \"reconnected\"][0]\n"
             "print(len(lines) > 0 and all(\"time\" in l and \"pid\" in l for l in lines), r[\"reason\"], "
             "r[\"old_connection_id\"], r[\"new_connection_id\"], r[\"in_transaction\"], \"idle_s\" in r, "
             "\"duration_ms\" in r)' %s",
             log.path);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out, *err;
    cr_assert_eq(run_program(argv, WITHOUT_SHIM, NULL, &out, &err), 0, "%s\n%s", out, err);
    char want[160];
    snprintf(want, sizeof want, "True server closed the idle connection %lu %lu False True True\n", old_id, new_id);
    cr_assert_str_eq(out, want, "see %s", log.path);
    free(out);
    free(err);
    shim_log_remove(&log);
}

/* The real supervisor: Debian's supervisord runs an unmodified PHP worker
 * (Laravel-style: PDO, a transaction per job) with the README's
 * [program:x] section, while the killer KILLs its sleeping connections;
 * the worker sees no error, and its counters show the reconnects. */
Test(operations, supervisord_runs_a_worker_under_the_killer, .timeout = 120)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/goneshim-supervisord.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char cwd[512];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    char conf[160];
    snprintf(conf, sizeof conf, "%s/supervisord.conf", dir);
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "[supervisord]\nnodaemon=true\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\n"
            "childlogdir=%s\n\n"
            "[program:worker]\n"
            "command=%s/scripts/goneshim --library=%s/build/libgoneshim.so --log=%s/worker.log -- "
            "%s/tests/clients/php/laravel_worker.php --iterations 8 --idle-ms 450 --tag supervised\n"
            "environment=GONESHIM_STATS=\"%s/stats\"\n"
            "autorestart=false\nstartsecs=0\nstdout_logfile=%s/worker.out\nstderr_logfile=%s/worker.err\n",
            dir, dir, dir, cwd, cwd, dir, cwd, dir, dir, dir);
    cr_assert_eq(fclose(f), 0);
    char stats[96];
    snprintf(stats, sizeof stats, "%s/stats", dir);
    cr_assert_eq(mkdir(stats, 0700), 0);

    admin_exec("CREATE TABLE IF NOT EXISTS worker_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "tag VARCHAR(64) NOT NULL, n INT NOT NULL, KEY(tag)) ENGINE=InnoDB");
    admin_exec("DELETE FROM worker_log WHERE tag = 'supervised'");
    killer_start(100, 225);
    const char *argv[] = {"supervisord", "-c", conf, NULL};
    struct program *p = program_start(argv, WITHOUT_SHIM, NULL);
    char out_path[160], cmd[512];
    snprintf(out_path, sizeof out_path, "%s/worker.out", dir);
    bool done = false;
    for (int i = 0; i < 600 && !done; i++) {
        sleep_ms(100);
        FILE *o = fopen(out_path, "r");
        char line[256] = "";
        if (o != NULL) {
            while (fgets(line, sizeof line, o) != NULL)
                done = done || strstr(line, "acked=") != NULL;
            fclose(o);
        }
    }
    int kills = killer_stop();
    snprintf(cmd, sizeof cmd, "kill $(cat '%s/supervisord.pid')", dir);
    cr_assert_eq(system(cmd), 0);
    char *out, *err;
    (void)program_finish(p, &out, &err);
    free(out);
    free(err);
    cr_assert(done, "the worker never finished under supervisord (see %s)", dir);
    cr_assert_gt(kills, 0, "the killer killed nothing");
    snprintf(cmd, sizeof cmd, "cat '%s/worker.out'", dir);
    const char *cat[] = {"sh", "-c", cmd, NULL};
    cr_assert_eq(run_program(cat, WITHOUT_SHIM, NULL, &out, NULL), 0);
    cr_assert(strstr(out, "acked=8 errors=0") != NULL, "the supervised worker saw errors: %s (see %s)", out, dir);
    free(out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM worker_log WHERE tag = 'supervised'"), 8);
    cr_assert_gt(metric_sum(stats, "goneshim_reconnects_total", ""), 0, "no reconnect counted (see %s)", dir);
    cr_assert_eq(metric_sum(stats, "goneshim_handles_managed_total", "mysqlnd"), 1);
    remove_dir(dir);
}

/* goneshim check on what it cannot reach: a static program (Debian's
 * ldconfig) and a setuid one. */
Test(operations, check_names_what_cannot_be_preloaded, .timeout = 60)
{
    char *out, *err;
    const char *stat_prog[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--", "/sbin/ldconfig",
                               "--version", NULL};
    cr_assert_eq(run_program(stat_prog, WITHOUT_SHIM, NULL, &out, &err), 1);
    cr_assert(strstr(out, "is statically linked") != NULL, "%s\n%s", out, err);
    free(out);
    free(err);
    char dir[64], prog[96], cmd[256];
    snprintf(dir, sizeof dir, "/tmp/goneshim-setuid.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(prog, sizeof prog, "%s/true", dir);
    snprintf(cmd, sizeof cmd, "cp /bin/true '%s' && chmod u+s '%s'", prog, prog);
    cr_assert_eq(system(cmd), 0);
    const char *suid[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--", prog, NULL};
    cr_assert_eq(run_program(suid, WITHOUT_SHIM, NULL, &out, &err), 1);
    cr_assert(strstr(out, "is setuid or setgid") != NULL, "%s\n%s", out, err);
    free(out);
    free(err);
    remove_dir(dir);
}

/* goneshim check on a PHP goneshim was not built for (a mysqlnd that
 * reports another version): the library's own line, and exit 1. */
Test(operations, check_reports_another_php, .timeout = 60)
{
    char fake[4096], preload[4200];
    cr_assert(realpath("build/tests/fake_mysqlnd_version.so", fake) != NULL);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", fake);
    const char *env[] = {preload, NULL};
    const char *argv[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--", "php", "-r",
                          "$p = new PDO('mysql:unix_socket=' . getenv('GONESHIM_TEST_SOCKET'), "
                          "getenv('GONESHIM_TEST_USER'), getenv('GONESHIM_TEST_PASSWORD')); $p->query('SELECT 1');",
                          NULL};
    char *out, *err;
    cr_assert_eq(run_program(argv, WITHOUT_SHIM, env, &out, &err), 1, "%s\n%s", out, err);
    cr_assert(strstr(out, "goneshim check: mysqlnd: PHP") != NULL && strstr(out, "passed through") != NULL,
              "no line about the PHP goneshim was not built for:\n%s", out);
    cr_assert(strstr(out, "no connection was managed") != NULL, "%s", out);
    free(out);
    free(err);
}

/* The directory stays bounded: a process's first write removes the files
 * of processes that exited over an hour ago, and keeps the others (a
 * recent one of an exited process, one of a process that lives). */
Test(operations, files_of_long_exited_processes_are_removed, .timeout = 60)
{
    char dir[64], var[96];
    stats_dir(dir, sizeof dir, var, sizeof var);
    /* An exited process's file, two hours old: pid 1 is init, whose start
     * time is not 12345; a recent one; and this test's own, live. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "printf '# goneshim pid=1 start=12345\\n' > '%s/1.prom' && touch -d '2 hours ago' '%s/1.prom' && "
             "printf '# goneshim pid=2 start=12345\\n' > '%s/2.prom' && "
             "s=$(awk '{print $22}' /proc/%ld/stat) && printf '# goneshim pid=%ld start=%%s\\n' \"$s\" > '%s/%ld.prom' && "
             "touch -d '2 hours ago' '%s/%ld.prom'",
             dir, dir, dir, (long)getpid(), (long)getpid(), dir, (long)getpid(), dir, (long)getpid());
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    const char *env[] = {var, NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_eq(client_finish(c, NULL), 0);
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '^1\\.prom$'; ls '%s' | grep -c '^2\\.prom$'; ls '%s' | grep -c '^%ld\\.prom$'",
             dir, dir, dir, (long)getpid());
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out;
    (void)run_program(argv, WITHOUT_SHIM, NULL, &out, NULL);
    cr_assert_str_eq(out, "0\n1\n1\n", "removed: the old file of an exited process, only");
    free(out);
    remove_dir(dir);
}

/* GONESHIM_LOG=syslog: the events reach /dev/log as syslog(3) messages
 * (facility user, level info, tagged goneshim[PID]), one per reconnect,
 * while the worker under the killer sees no error. /dev/log is a listener
 * of the test's own, in a mount namespace (tests/clients/with_fake_syslog):
 * the test machines run no syslog daemon. */
Test(operations, syslog_gets_one_message_per_event, .timeout = 120)
{
    char dir[64], path[96];
    snprintf(dir, sizeof dir, "/tmp/goneshim-syslog.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/messages", dir);
    const char *argv[] = {"tests/clients/with_fake_syslog", path, "--", "scripts/goneshim",
                          "--library=build/libgoneshim.so", "--log=syslog", "--", "tests/clients/worker.py",
                          "--iterations", "6", "--idle-ms", "400", "--tag", "syslog", NULL};
    worker_run(argv, WITHOUT_SHIM, NULL, PROTECTED, "syslog", 6, 400);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "grep -c '^<14>.* goneshim\\[[0-9]*\\]: handle [^ ]*: reconnected (server closed the idle connection)' '%s'; "
             "grep -vc '^<14>.* goneshim\\[[0-9]*\\]: ' '%s'",
             path, path);
    const char *sh[] = {"sh", "-c", cmd, NULL};
    char *out;
    (void)run_program(sh, WITHOUT_SHIM, NULL, &out, NULL);
    long reconnects = -1, others = -1;
    cr_assert_eq(sscanf(out, "%ld %ld", &reconnects, &others), 2, "%s", out);
    cr_assert_gt(reconnects, 0, "no reconnect message reached /dev/log (see %s)", path);
    cr_assert_eq(others, 0, "a message that is not goneshim's info line (see %s)", path);
    free(out);
    remove_dir(dir);
}

/* A client that speaks the protocol itself (PyMySQL) is not covered, and
 * goneshim check says so: the program works, check exits 1. */
Test(operations, check_says_a_protocol_speaking_client_is_not_covered, .timeout = 60)
{
    const char *argv[] = {"scripts/goneshim", "check", "--library=build/libgoneshim.so", "--", "/usr/bin/python3",
                          "-c",
                          "import os, pymysql\n"
                          "c = pymysql.connect(unix_socket=os.environ['GONESHIM_TEST_SOCKET'], "
                          "user=os.environ['GONESHIM_TEST_USER'], password=os.environ['GONESHIM_TEST_PASSWORD'])\n"
                          "cur = c.cursor(); cur.execute('SELECT 1'); print('pymysql', cur.fetchone()[0])\n",
                          NULL};
    char *out, *err;
    cr_assert_eq(run_program(argv, WITHOUT_SHIM, NULL, &out, &err), 1, "%s\n%s", out, err);
    cr_assert(strstr(out, "pymysql 1\n") != NULL, "the PyMySQL program did not run: %s\n%s", out, err);
    cr_assert(strstr(out, "no connection was managed") != NULL && strstr(out, "PyMySQL") != NULL, "%s", out);
    free(out);
    free(err);
}
