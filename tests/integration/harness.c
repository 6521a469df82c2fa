/* harness.c - see harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL)
        cr_assert_fail("%s is not set: run the tests with scripts/with-test-server", name);
    return v;
}

static MYSQL *admin_connect(void)
{
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, NULL, env("GONESHIM_TEST_ADMIN_USER"), env("GONESHIM_TEST_ADMIN_PASSWORD"),
                            env("GONESHIM_TEST_DB"), 0, env("GONESHIM_TEST_SOCKET"), 0))
        cr_assert_fail("admin connect: %s", mysql_error(m));
    return m;
}

static MYSQL *admin(void)
{
    static MYSQL *m;
    if (m == NULL || mysql_ping(m) != 0) {
        if (m)
            mysql_close(m);
        m = admin_connect();
    }
    return m;
}

static void vquery(MYSQL *m, const char *fmt, va_list ap)
{
    char sql[4096];
    vsnprintf(sql, sizeof sql, fmt, ap);
    if (mysql_query(m, sql) != 0)
        cr_assert_fail("admin: %s: %s", sql, mysql_error(m));
}

void admin_exec(const char *fmt, ...)
{
    MYSQL *m = admin();
    va_list ap;
    va_start(ap, fmt);
    vquery(m, fmt, ap);
    va_end(ap);
    mysql_free_result(mysql_store_result(m));
}

long long admin_long(const char *fmt, ...)
{
    MYSQL *m = admin();
    va_list ap;
    va_start(ap, fmt);
    vquery(m, fmt, ap);
    va_end(ap);
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    long long v = row && row[0] ? atoll(row[0]) : -1;
    mysql_free_result(res);
    return v;
}

long long admin_status(const char *name)
{
    MYSQL *m = admin();
    char sql[160];
    snprintf(sql, sizeof sql, "SHOW GLOBAL STATUS LIKE '%s'", name);
    if (mysql_query(m, sql) != 0)
        cr_assert_fail("admin: %s: %s", sql, mysql_error(m));
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    long long v = row && row[1] ? atoll(row[1]) : -1;
    mysql_free_result(res);
    cr_assert_geq(v, 0, "no status counter %s", name);
    return v;
}

bool server_is_mysql(void)
{
    const char *f = getenv("GONESHIM_TEST_SERVER_FLAVOR");
    return f != NULL && strcmp(f, "mysql") == 0;
}

static pid_t load_pids[16];
static int load_count;

void load_start(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 0; i < cores && load_count < 16; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (volatile unsigned long n = 0;; n++)
                ;
        }
        if (pid > 0)
            load_pids[load_count++] = pid;
    }
}

void load_stop(void)
{
    for (int i = 0; i < load_count; i++) {
        kill(load_pids[i], SIGKILL);
        waitpid(load_pids[i], NULL, 0);
    }
    load_count = 0;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void kill_and_wait(unsigned long id)
{
    admin_exec("KILL %lu", id);
    for (int i = 0; i < 500; i++) {
        if (admin_long("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %lu", id) == 0) {
            /* The field's case is an idle connection: make sure the client
             * has been idle longer than a busy moment (GUARD_BUSY_NS, one
             * tick of the coarse clock), in which a read skips the peek. */
            sleep_ms(10);
            return;
        }
        sleep_ms(10);
    }
    cr_assert_fail("connection %lu still there 5 s after KILL", id);
}

void wait_until_busy(unsigned long id, const char *state)
{
    for (int i = 0; i < 500; i++) {
        if (admin_long("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %lu AND "
                       "command = 'Query' AND state LIKE '%s'", id, state) > 0)
            return;
        sleep_ms(10);
    }
    cr_assert_fail("connection %lu never reached state %s", id, state);
}

const char *kill_while_running(struct client *c, const char *statement)
{
    unsigned long id = client_id(c);
    client_send(c, "%s", statement);
    wait_until_busy(id, "User sleep");
    admin_exec("KILL %lu", id);
    return client_read(c);
}

void server_ctl(const char *action)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s' >/dev/null", env("GONESHIM_TEST_SERVER_CTL"), action,
             env("GONESHIM_TEST_SERVER_DIR"));
    if (system(cmd) != 0)
        cr_assert_fail("%s failed", cmd);
}

void fresh_table(const char *name)
{
    admin_exec("DROP TABLE IF EXISTS %s", name);
    admin_exec("CREATE TABLE %s (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", name);
}

/* ---- the killer ---- */

/* A connection is "Sleep" for a moment between any two statements, for
 * instance between the shim's reconnect and the statement it then sends:
 * killing it there kills the statement in flight, which is reported by
 * contract (statement_safety tests that case on its own). The cron of the
 * field reports kills connections idle for a while; so does this one. */
#define KILLER_MIN_IDLE_MS 30

static pthread_t killer_thread;
static volatile int killer_running;
static int killer_interval_ms, killer_max_idle_ms, killer_kills;

static void *killer_loop(void *unused)
{
    (void)unused;
    MYSQL *m = admin_connect();
    while (killer_running) {
        unsigned long ids[512];
        int n = 0;
        char list[768];
        if (server_is_mysql())
            /* MySQL's processlist counts idle time in whole seconds; its
             * performance schema has the end of each connection's last
             * statement, and the start of this one, in picoseconds. */
            snprintf(list, sizeof list,
                     "SELECT t.processlist_id FROM performance_schema.threads t "
                     "JOIN performance_schema.events_statements_current e ON e.thread_id = t.thread_id "
                     "WHERE t.processlist_user = 'goneshim_app' AND t.processlist_command = 'Sleep' "
                     "AND e.timer_end IS NOT NULL AND ((SELECT timer_start FROM "
                     "performance_schema.events_statements_current WHERE thread_id = PS_CURRENT_THREAD_ID()) "
                     "- e.timer_end) BETWEEN %d * 1000000000 AND %d * 1000000000",
                     KILLER_MIN_IDLE_MS, killer_max_idle_ms);
        else
            snprintf(list, sizeof list,
                     "SELECT id FROM information_schema.processlist WHERE user = 'goneshim_app' "
                     "AND command = 'Sleep' AND time_ms BETWEEN %d AND %d", KILLER_MIN_IDLE_MS,
                     killer_max_idle_ms);
        if (mysql_query(m, list) == 0) {
            MYSQL_RES *res = mysql_store_result(m);
            MYSQL_ROW row;
            while (res && (row = mysql_fetch_row(res)) && n < 512)
                ids[n++] = strtoul(row[0], NULL, 10);
            mysql_free_result(res);
        }
        for (int i = 0; i < n; i++) {
            char sql[64];
            snprintf(sql, sizeof sql, "KILL %lu", ids[i]);
            if (mysql_query(m, sql) == 0)
                killer_kills++;
        }
        sleep_ms(killer_interval_ms);
    }
    mysql_close(m);
    return NULL;
}

void killer_start(int interval_ms, int max_idle_ms)
{
    killer_interval_ms = interval_ms;
    killer_max_idle_ms = max_idle_ms;
    killer_kills = 0;
    killer_running = 1;
    pthread_create(&killer_thread, NULL, killer_loop, NULL);
}

int killer_stop(void)
{
    killer_running = 0;
    pthread_join(killer_thread, NULL);
    return killer_kills;
}

/* ---- client programs ---- */

const char *shim_library(void)
{
    return "build/libgoneshim.so";
}

/* environ plus the shim (or without any inherited LD_PRELOAD) plus extras. */
static char **child_environment(enum shim_mode mode, const char *preload, const char *const *extra)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    size_t extras = 0;
    while (extra && extra[extras])
        extras++;
    char **envp = calloc(n + extras + 3, sizeof *envp);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0 || strncmp(environ[i], "ASAN_OPTIONS=", 13) == 0)
            continue;
        /* An extra of the same name replaces it. */
        bool replaced = false;
        size_t name_len = strcspn(environ[i], "=");
        for (size_t e = 0; e < extras && !replaced; e++)
            replaced = strncmp(extra[e], environ[i], name_len + 1) == 0;
        if (!replaced)
            envp[k++] = environ[i];
    }
    /* The sanitized clients carry their own ASan runtime; a preloaded
     * library comes before it in the load order, which ASan accepts only
     * with this option. Leaks are checked at exit. */
    envp[k++] = (char *)"ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=0";
    if (mode == WITH_SHIM) {
        static char buf[4096];
        snprintf(buf, sizeof buf, "LD_PRELOAD=%s", preload);
        envp[k++] = buf;
    }
    for (size_t i = 0; i < extras; i++)
        envp[k++] = (char *)extra[i];
    envp[k] = NULL;
    return envp;
}

struct client {
    pid_t pid;
    FILE *to, *from;
    int stderr_fd; /* an unlinked temporary file: nothing is left behind */
    char answer[65536];
};

struct client *client_start(enum shim_mode mode, const char *const *extra_env)
{
    return client_start_prefixed(NULL, mode, extra_env);
}

/* A temporary file for a child's output, already unlinked: a test that
 * fails half-way leaves nothing behind in /tmp. */
static int capture_file(const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/goneshim-%s.%d.XXXXXX", what, getpid());
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        cr_assert_fail("mkostemp: %s", strerror(errno));
    unlink(path);
    return fd;
}

struct client *client_start_prefixed(const char *const *prefix, enum shim_mode mode, const char *const *extra_env)
{
    struct client *c = calloc(1, sizeof *c);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        cr_assert_fail("pipe: %s", strerror(errno));
    int err = capture_file("client");

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    char *argv[16];
    size_t k = 0;
    for (const char *const *p = prefix; p != NULL && *p != NULL && k < 14; p++)
        argv[k++] = (char *)*p;
    argv[k++] = (char *)"build/tests/sqlpipe";
    argv[k] = NULL;
    char abs_lib[4096];
    if (realpath("build/asan/libgoneshim.so", abs_lib) == NULL)
        cr_assert_fail("build/asan/libgoneshim.so: %s", strerror(errno));
    char **envp = child_environment(mode, abs_lib, extra_env);
    if (posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, envp) != 0)
        cr_assert_fail("spawn %s: %s", argv[0], strerror(errno));
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    c->stderr_fd = err;
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
    setvbuf(c->to, NULL, _IOLBF, 0);
    return c;
}

static void vsend(struct client *c, const char *fmt, va_list ap)
{
    vfprintf(c->to, fmt, ap);
    fputc('\n', c->to);
    fflush(c->to);
}

void client_send(struct client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsend(c, fmt, ap);
    va_end(ap);
}

const char *client_read(struct client *c)
{
    if (fgets(c->answer, sizeof c->answer, c->from) == NULL) {
        char *err = NULL;
        client_finish(c, &err);
        cr_assert_fail("sqlpipe died; its stderr:\n%s", err ? err : "");
    }
    c->answer[strcspn(c->answer, "\n")] = '\0';
    return c->answer;
}

const char *client_cmd(struct client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsend(c, fmt, ap);
    va_end(ap);
    return client_read(c);
}

const char *client_read_within(struct client *c, int ms)
{
    struct pollfd p = {.fd = fileno(c->from), .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return NULL;
    return client_read(c);
}

void client_kill(struct client *c)
{
    kill(c->pid, SIGKILL);
    fclose(c->to);
    fclose(c->from);
    waitpid(c->pid, NULL, 0);
    close(c->stderr_fd);
    free(c);
}

unsigned long client_id(struct client *c)
{
    const char *a = client_cmd(c, ".id");
    if (!starts_with(a, "ok "))
        cr_assert_fail(".id: %s", a);
    return strtoul(a + 3, NULL, 10);
}

/* Everything written to fd, from its start. */
static char *slurp_fd(int fd)
{
    int copy = dup(fd);
    FILE *f = copy >= 0 ? fdopen(copy, "r") : NULL;
    if (f == NULL) {
        if (copy >= 0)
            close(copy);
        return strdup("");
    }
    rewind(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(mem);
    fclose(f);
    return buf;
}

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int client_finish(struct client *c, char **stderr_out)
{
    fprintf(c->to, ".quit\n");
    fclose(c->to);
    fclose(c->from);
    int status = 0;
    waitpid(c->pid, &status, 0);
    char *err = slurp_fd(c->stderr_fd);
    close(c->stderr_fd);
    if (stderr_out)
        *stderr_out = err;
    else
        free(err);
    free(c);
    return exit_code(status);
}

struct program {
    pid_t pid;
    int out_fd, err_fd; /* unlinked temporary files */
};

struct program *program_start(const char *const *argv, enum shim_mode mode, const char *const *extra_env)
{
    struct program *p = calloc(1, sizeof *p);
    cr_assert(p != NULL);
    int o = capture_file("run-out"), e = capture_file("run-err");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, o, 1);
    posix_spawn_file_actions_adddup2(&fa, e, 2);
    char abs_lib[4096];
    if (realpath(shim_library(), abs_lib) == NULL)
        cr_assert_fail("%s: %s", shim_library(), strerror(errno));
    char **envp = child_environment(mode, abs_lib, extra_env);
    if (posix_spawnp(&p->pid, argv[0], &fa, NULL, (char *const *)argv, envp) != 0)
        cr_assert_fail("spawn %s: %s", argv[0], strerror(errno));
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    p->out_fd = o;
    p->err_fd = e;
    return p;
}

int program_finish(struct program *p, char **out, char **err)
{
    int status = 0;
    waitpid(p->pid, &status, 0);
    char *o_text = slurp_fd(p->out_fd), *e_text = slurp_fd(p->err_fd);
    close(p->out_fd);
    close(p->err_fd);
    free(p);
    if (out)
        *out = o_text;
    else
        free(o_text);
    if (err)
        *err = e_text;
    else
        free(e_text);
    return exit_code(status);
}

int run_program(const char *const *argv, enum shim_mode mode, const char *const *extra_env,
                char **out, char **err)
{
    return program_finish(program_start(argv, mode, extra_env), out, err);
}

bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool is_connection_error(const char *answer)
{
    static const char *const codes[] = {"err 2006 ", "err 2013 ", "err 1927 ", "err 2055 ", "err 4031 ",
                                        "err 1053 "};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (starts_with(answer, codes[i]))
            return true;
    return false;
}

/* ---- workers under the killer ---- */


void worker_run(const char *const *argv, enum shim_mode preload, const char *const *extra_env,
                enum expectation expect, const char *tag, int expected_acked, int idle_ms)
{
    char *out, *err;
    admin_exec("CREATE TABLE IF NOT EXISTS worker_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "tag VARCHAR(64) NOT NULL, n INT NOT NULL, KEY(tag)) ENGINE=InnoDB");
    admin_exec("DELETE FROM worker_log WHERE tag LIKE '%s%%'", tag);
    killer_start(100, idle_ms / 2);
    int status = run_program(argv, preload, extra_env, &out, &err);
    int kills = killer_stop();
    int acked = -1, errors = -1;
    const char *line = strstr(out, "acked=");
    cr_assert(line != NULL, "%s printed no summary: %s\nstderr:\n%s", argv[0], out, err);
    cr_assert_eq(sscanf(line, "acked=%d errors=%d", &acked, &errors), 2, "%s", line);
    cr_assert_gt(kills, 0, "the killer killed nothing");
    long long rows = admin_long("SELECT COUNT(*) FROM worker_log WHERE tag LIKE '%s%%'", tag);
    cr_assert_eq(rows, acked, "%s: %lld rows for %d acknowledged inserts\n%s\nstderr:\n%s", tag, rows, acked, out, err);
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

void shim_log_open(struct shim_log *log)
{
    snprintf(log->path, sizeof log->path, "/tmp/goneshim-log.XXXXXX");
    int fd = mkstemp(log->path);
    cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
    close(fd);
    snprintf(log->var, sizeof log->var, "GONESHIM_LOG=%s", log->path);
    log->env[0] = log->var;
    log->env[1] = NULL;
}

size_t shim_log_count(const struct shim_log *log, const char *needle)
{
    FILE *f = fopen(log->path, "r");
    cr_assert_not_null(f, "%s: %s", log->path, strerror(errno));
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

void shim_log_remove(struct shim_log *log)
{
    unlink(log->path);
}
