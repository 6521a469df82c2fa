/* harness.h - what the integration tests share: a real MariaDB (started by
 * scripts/with-test-server, described by GONESHIM_TEST_* variables), an
 * admin connection that is never under the shim, client programs run with
 * or without it, and the ways connections die in the field: KILL, a killer
 * cron, wait_timeout, a restart. */
#ifndef GONESHIM_TEST_HARNESS_H
#define GONESHIM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

/* ---- the admin side (plain libmariadb, in the test process) ---- */
void admin_exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long long admin_long(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A global status counter (SHOW GLOBAL STATUS: the same on both servers,
 * where information_schema.global_status is MariaDB's only). */
long long admin_status(const char *name);
/* The test server is Oracle MySQL (scripts/test-server with
 * GONESHIM_TEST_MYSQL_ROOT), not MariaDB. */
bool server_is_mysql(void);
/* KILL a connection, wait until the server has really closed it, and
 * leave its client idle for a moment more (the field's idle connection). */
void kill_and_wait(unsigned long id);
/* Wait until connection `id` is running a statement whose state matches. */
void wait_until_busy(unsigned long id, const char *state);
/* Sends `statement` (one that calls SLEEP) and KILLs the connection while
 * it sleeps on the server; returns the answer. */
struct client;
const char *kill_while_running(struct client *c, const char *statement);
/* scripts/test-server ACTION on the test server: "restart", "stop". */
void server_ctl(const char *action);
/* A fresh table `name` (id INT PRIMARY KEY, v INT), InnoDB. */
void fresh_table(const char *name);

/* The field's cron job: KILL every sleeping goneshim_app connection every
 * interval_ms, in a thread, until killer_stop (which returns the count).
 * Only connections idle for at most max_idle_ms are killed: one killed a
 * moment after it woke up would die with a statement in flight, which may
 * have run and is then rightly reported (statement_safety tests that); here
 * the point is the idle connection, so the KILL must land while it sleeps. */
void killer_start(int interval_ms, int max_idle_ms);
int killer_stop(void);

/* ---- client programs ---- */
enum shim_mode { WITHOUT_SHIM, WITH_SHIM };

/* tests/clients/sqlpipe under (or not under) build/asan/libgoneshim.so.
 * extra_env: NULL-terminated "NAME=value" list, or NULL. */
struct client *client_start(enum shim_mode mode, const char *const *extra_env);
/* The same client, started by the command `prefix` (NULL-terminated, e.g.
 * {"ip", "netns", "exec", NS, NULL}) in front of it. */
struct client *client_start_prefixed(const char *const *prefix, enum shim_mode mode, const char *const *extra_env);
/* The answer line, or NULL if none came within `ms`. */
const char *client_read_within(struct client *c, int ms);
/* Kills a client that hangs; returns nothing it said. */
void client_kill(struct client *c);
/* Sends one line and returns the answer line (valid until the next call). */
const char *client_cmd(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void client_send(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *client_read(struct client *c);
unsigned long client_id(struct client *c);
/* Quits, waits; returns the exit status and, if stderr_out, what it wrote
 * to stderr (malloc'ed). */
int client_finish(struct client *c, char **stderr_out);

/* Runs argv to completion (stdin /dev/null), with the shim preloaded by
 * LD_PRELOAD (WITH_SHIM) or not; captures stdout and stderr (malloc'ed).
 * Returns the exit status, or 128+signal. */
int run_program(const char *const *argv, enum shim_mode mode, const char *const *extra_env,
                char **out, char **err);

/* The same in two steps, for a test that acts while the program runs. */
struct program;
struct program *program_start(const char *const *argv, enum shim_mode mode, const char *const *extra_env);
int program_finish(struct program *p, char **out, char **err);

void sleep_ms(int ms);

/* Busy loops on every core, as on a production machine: races are tested
 * under load, not only on an idle machine. */
void load_start(void);
void load_stop(void);

/* goneshim's log in a fresh temporary file, for a client started with
 * `env` (NULL-terminated, ready for client_start's extra_env). */
struct shim_log {
    char path[64];
    char var[96]; /* GONESHIM_LOG=path */
    const char *env[2];
};
void shim_log_open(struct shim_log *log);
/* How many lines of the log contain `needle`. */
size_t shim_log_count(const struct shim_log *log, const char *needle);
void shim_log_remove(struct shim_log *log);

/* Runs a worker (which prints `acked=K errors=E ...`) under a killer that
 * KILLs its connections while they are well inside their idle period, and
 * checks it against the table worker_log: PROTECTED, zero errors and
 * `expected_acked` rows; UNPROTECTED, errors. Either way every acknowledged
 * insert is there exactly once. */
enum expectation { PROTECTED, UNPROTECTED };
void worker_run(const char *const *argv, enum shim_mode preload, const char *const *extra_env,
                enum expectation expect, const char *tag, int expected_acked, int idle_ms);

/* Path of a repository file, from the repo root (tests run from there). */
const char *shim_library(void); /* the non-sanitized build/libgoneshim.so */

bool starts_with(const char *s, const char *prefix);
/* "err 2006 ..." or "err 2013 ..." or another connection-lost code. */
bool is_connection_error(const char *answer);

#endif
