/* Transaction replay (GONESHIM_REPLAY): the field's transaction, killed
 * while it idles, goes on when replaying it on a fresh connection gives
 * every answer it had; when anything differs it is lost as before (2006
 * until ROLLBACK, nothing of it persists). Through every client stack:
 * PHP (PDO emulated and native, mysqli text and prepared), C (text and
 * prepared), Python's MySQLdb, Perl's DBD::mysql and Ruby's mysql2; each
 * outcome checked against the tables. The clients are
 * tests/clients/ticket_transaction.{c,py,pl,rb} and
 * tests/clients/php/ticket_transaction.php, which print one line per step. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

enum stack { PDO, PDO_NATIVE, MYSQLI, MYSQLI_STMT, C_TEXT, C_PREPARED, MYSQLDB, DBD_MYSQL, MYSQL2 };

static const char *const stack_name[] = {"pdo",        "pdo-native", "mysqli",    "mysqli-stmt", "c-text",
                                         "c-prepared", "mysqldb",    "dbd-mysql", "mysql2"};

static void tables(void)
{
    admin_exec("CREATE TABLE IF NOT EXISTS tickets (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL, "
               "version INT NOT NULL, note TEXT) ENGINE=InnoDB");
    admin_exec("CREATE TABLE IF NOT EXISTS ticket_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "ticket_id INT NOT NULL, note VARCHAR(32) NOT NULL, parent_id BIGINT, KEY (ticket_id)) "
               "ENGINE=InnoDB");
}

/* A ticket of its own for each run, open, with no log. */
static int fresh_ticket(void)
{
    static int next = 1;
    int t = next++;
    tables();
    admin_exec("REPLACE INTO tickets VALUES (%d, 'open', 0, NULL)", t);
    admin_exec("DELETE FROM ticket_log WHERE ticket_id = %d", t);
    return t;
}

/* Runs the ticket transaction of `stack` on ticket `t` with `twist`,
 * with goneshim or not; returns what it printed (malloc'ed). */
static char *run_ticket(enum stack stack, int t, const char *twist, enum shim_mode mode, const char *const *env)
{
    char ticket[16];
    snprintf(ticket, sizeof ticket, "%d", t);
    const char *argv[16];
    size_t n = 0;
    enum shim_mode preload = mode;
    if (stack <= MYSQLI_STMT) {
        /* PHP as a user runs it: under the launcher. */
        if (mode == WITH_SHIM) {
            argv[n++] = "scripts/goneshim";
            argv[n++] = "--library=build/libgoneshim.so";
            argv[n++] = "--";
            preload = WITHOUT_SHIM;
        }
        argv[n++] = "php";
        argv[n++] = "tests/clients/php/ticket_transaction.php";
        argv[n++] = "--api";
        argv[n++] = stack_name[stack];
        argv[n++] = "--ticket";
        argv[n++] = ticket;
        argv[n++] = "--twist";
        argv[n++] = twist;
    } else if (stack >= MYSQLDB) {
        static const char *const script[] = {"tests/clients/ticket_transaction.py",
                                             "tests/clients/ticket_transaction.pl",
                                             "tests/clients/ticket_transaction.rb"};
        argv[n++] = script[stack - MYSQLDB];
        argv[n++] = ticket;
        argv[n++] = twist;
    } else {
        argv[n++] = "build/tests/ticket_transaction";
        argv[n++] = stack == C_TEXT ? "text" : "prepared";
        argv[n++] = ticket;
        argv[n++] = twist;
    }
    argv[n] = NULL;
    char *out, *err;
    int status = run_program(argv, preload, env, &out, &err);
    cr_assert_eq(status, 0, "%s %s exited %d:\n%s\nstderr:\n%s", stack_name[stack], twist, status, out, err);
    cr_assert_str_eq(err, "", "%s %s wrote to stderr:\n%s", stack_name[stack], twist, err);
    free(err);
    return out;
}

static long long log_rows(int t, const char *note)
{
    return admin_long("SELECT COUNT(*) FROM ticket_log WHERE ticket_id = %d AND note = '%s'", t, note);
}

/* The transaction went on: no error, one committed transaction. */
static void assert_committed(enum stack stack, int t, const char *out)
{
    cr_assert(strstr(out, "outcome=committed") != NULL, "%s:\n%s", stack_name[stack], out);
    cr_assert(strstr(out, "error") == NULL, "%s:\n%s", stack_name[stack], out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM tickets WHERE id = %d AND status = 'done' AND version = 1", t), 1,
                 "%s: the ticket is not as one transaction left it:\n%s", stack_name[stack], out);
    cr_assert_eq(log_rows(t, "taken"), 1, "%s: the log row is not there exactly once:\n%s", stack_name[stack], out);
    cr_assert_eq(log_rows(t, "after"), 0, "%s", out);
}

/* The transaction was lost as before: 2006 at the statement after the
 * kill, ROLLBACK works, nothing of it persisted, the next one commits. */
static void assert_lost(enum stack stack, int t, const char *out, int version)
{
    cr_assert(strstr(out, "update 2: error 2006") != NULL || strstr(out, "update 2: error 2013") != NULL,
              "%s:\n%s", stack_name[stack], out);
    /* mysql2 gives its client up after a "gone away" (it marks the socket
     * -1 and answers "MySQL client is not connected" from then on, with
     * goneshim or without): its application connects again. */
    if (stack == MYSQL2) {
        cr_assert(strstr(out, "rollback: error") != NULL, "mysql2 kept its client:\n%s", out);
        cr_assert_eq(log_rows(t, "taken"), 0, "its log row persisted:\n%s", out);
        return;
    }
    cr_assert(strstr(out, "rollback: ok") != NULL, "%s:\n%s", stack_name[stack], out);
    cr_assert(strstr(out, "next transaction: ok") != NULL, "%s:\n%s", stack_name[stack], out);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM tickets WHERE id = %d AND status = 'open' AND version = %d", t,
                            version),
                 1, "%s: something of the lost transaction persisted:\n%s", stack_name[stack], out);
    cr_assert_eq(log_rows(t, "taken"), 0, "%s: its log row persisted:\n%s", stack_name[stack], out);
    cr_assert_eq(log_rows(t, "after"), 1, "%s: the next transaction did not commit:\n%s", stack_name[stack], out);
}

static void field_transaction(enum stack stack)
{
    struct shim_log log;
    shim_log_open(&log);
    int t = fresh_ticket();
    char *out = run_ticket(stack, t, "none", WITH_SHIM, log.env);
    assert_committed(stack, t, out);
    cr_assert_eq(shim_log_count(&log, "transaction replayed: 4 statements"), 1, "%s: see %s", stack_name[stack],
                 log.path);
    free(out);
    shim_log_remove(&log);

    /* Without goneshim the same kill fails the transaction. */
    t = fresh_ticket();
    out = run_ticket(stack, t, "none", WITHOUT_SHIM, NULL);
    cr_assert(strstr(out, "outcome=failed-at:update 2") != NULL, "%s without goneshim:\n%s", stack_name[stack], out);
    cr_assert_eq(log_rows(t, "taken"), 0, "%s", out);
    free(out);
}

Test(transaction_replay, pdo_emulated, .timeout = 60) { field_transaction(PDO); }
Test(transaction_replay, pdo_native_laravel_default, .timeout = 60) { field_transaction(PDO_NATIVE); }
Test(transaction_replay, mysqli_text, .timeout = 60) { field_transaction(MYSQLI); }
Test(transaction_replay, mysqli_prepared, .timeout = 60) { field_transaction(MYSQLI_STMT); }
Test(transaction_replay, c_text, .timeout = 60) { field_transaction(C_TEXT); }
Test(transaction_replay, c_prepared, .timeout = 60) { field_transaction(C_PREPARED); }
Test(transaction_replay, python_mysqldb, .timeout = 60) { field_transaction(MYSQLDB); }
Test(transaction_replay, perl_dbd_mysql, .timeout = 60) { field_transaction(DBD_MYSQL); }
Test(transaction_replay, ruby_mysql2, .timeout = 60) { field_transaction(MYSQL2); }

/* A row the transaction read changed before the replay: refused, lost as
 * before, and the other connection's change is what the table holds. */
static void changed_row(enum stack stack)
{
    struct shim_log log;
    shim_log_open(&log);
    int t = fresh_ticket();
    char *out = run_ticket(stack, t, "changed", WITH_SHIM, log.env);
    assert_lost(stack, t, out, 10);
    cr_assert_eq(shim_log_count(&log, "replay refused: statement 2 of 4 returned a different result"), 1,
                 "%s: see %s", stack_name[stack], log.path);
    free(out);
    shim_log_remove(&log);
}

Test(transaction_replay, refused_when_a_read_row_changed_pdo_native, .timeout = 60) { changed_row(PDO_NATIVE); }
Test(transaction_replay, refused_when_a_read_row_changed_c_prepared, .timeout = 60) { changed_row(C_PREPARED); }
Test(transaction_replay, refused_when_a_read_row_changed_mysqldb, .timeout = 60) { changed_row(MYSQLDB); }
Test(transaction_replay, refused_when_a_read_row_changed_dbd_mysql, .timeout = 60) { changed_row(DBD_MYSQL); }
Test(transaction_replay, refused_when_a_read_row_changed_mysql2, .timeout = 60) { changed_row(MYSQL2); }

/* NOW(6), read inside the transaction, is another value on the replay. */
Test(transaction_replay, refused_when_now_was_read, .timeout = 60)
{
    for (enum stack s = PDO; s <= C_PREPARED; s += 2) {
        int t = fresh_ticket();
        char *out = run_ticket(s, t, "now", WITH_SHIM, NULL);
        assert_lost(s, t, out, 0);
        free(out);
    }
}

/* The log row's id, read and used by the next insert: the replay gives
 * the row the same id (SET insert_id), and the child points at it. */
Test(transaction_replay, insert_id_read_and_used, .timeout = 60)
{
    for (enum stack s = PDO; s <= MYSQL2; s++) {
        int t = fresh_ticket();
        char *out = run_ticket(s, t, "insert-id", WITH_SHIM, NULL);
        assert_committed(s, t, out);
        long long id = admin_long("SELECT id FROM ticket_log WHERE ticket_id = %d AND note = 'taken'", t);
        char said[64];
        snprintf(said, sizeof said, "log id: %lld\n", id);
        cr_assert(strstr(out, said) != NULL, "%s: the row's id is not the one the application read:\n%s",
                  stack_name[s], out);
        cr_assert_eq(admin_long("SELECT COUNT(*) FROM ticket_log WHERE ticket_id = %d AND note = 'child' AND "
                                "parent_id = %lld", t, id),
                     1, "%s:\n%s", stack_name[s], out);
        free(out);
    }
}

/* A transaction larger than GONESHIM_REPLAY_MAX is not replayable. */
Test(transaction_replay, over_the_size_bound_is_lost, .timeout = 60)
{
    struct shim_log log;
    shim_log_open(&log);
    const char *env[] = {log.var, "GONESHIM_REPLAY_MAX=4k", NULL};
    int t = fresh_ticket();
    char *out = run_ticket(PDO, t, "big", WITH_SHIM, env);
    assert_lost(PDO, t, out, 0);
    cr_assert_eq(shim_log_count(&log, "replay refused: it outgrew GONESHIM_REPLAY_MAX"), 1, "see %s", log.path);
    free(out);
    /* The same under the default bound goes on. */
    t = fresh_ticket();
    out = run_ticket(PDO, t, "big", WITH_SHIM, NULL);
    cr_assert(strstr(out, "outcome=committed") != NULL, "%s", out);
    free(out);
    shim_log_remove(&log);
}

/* GONESHIM_REPLAY=0: the rule before replay existed. */
Test(transaction_replay, replay_off_loses_the_transaction, .timeout = 60)
{
    const char *env[] = {"GONESHIM_REPLAY=0", NULL};
    for (enum stack s = PDO_NATIVE; s <= C_TEXT; s += 3) {
        int t = fresh_ticket();
        char *out = run_ticket(s, t, "none", WITH_SHIM, env);
        assert_lost(s, t, out, 0);
        free(out);
    }
}

/* A table whose writes no rollback undoes exists: a replay could write
 * twice, so it is refused. */
Test(transaction_replay, refused_with_a_non_transactional_table, .timeout = 60)
{
    struct shim_log log;
    shim_log_open(&log);
    admin_exec("CREATE TABLE IF NOT EXISTS t_counter_myisam (n INT) ENGINE=MyISAM");
    int t = fresh_ticket();
    char *out = run_ticket(C_TEXT, t, "none", WITH_SHIM, log.env);
    admin_exec("DROP TABLE t_counter_myisam");
    assert_lost(C_TEXT, t, out, 0);
    cr_assert_eq(shim_log_count(&log, "replay refused: a non-transactional table exists"), 1, "see %s", log.path);
    free(out);
    shim_log_remove(&log);
}

/* COMMIT in flight when the connection dies: it may have committed, so it
 * is never replayed. The COMMIT waits behind an administrator's global
 * read lock, and the connection is killed while it waits. */
Test(transaction_replay, commit_in_flight_is_never_replayed, .timeout = 60)
{
    struct shim_log log;
    shim_log_open(&log);
    fresh_table("t_commit_flight");
    struct client *c = client_start(WITH_SHIM, log.env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_commit_flight VALUES (1, 1)"), "ok affected=1");
    unsigned long id = client_id(c);
    admin_exec("FLUSH TABLES WITH READ LOCK");
    client_send(c, "COMMIT");
    wait_until_busy(id, server_is_mysql() ? "Waiting for commit lock" : "Waiting for backup lock");
    admin_exec("KILL %lu", id);
    admin_exec("UNLOCK TABLES");
    const char *a = client_read(c);
    cr_assert(is_connection_error(a) || starts_with(a, "err 1927"), "%s", a);
    cr_assert_gt(shim_log_count(&log, "COMMIT outcome unknown"), 0, "see %s", log.path);
    cr_assert_eq(shim_log_count(&log, "transaction replayed"), 0, "see %s", log.path);
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_commit_flight"), 0, "the killed COMMIT did not commit");
    cr_assert(is_connection_error(client_cmd(c, "COMMIT")), "a COMMIT after the lost one");
    cr_assert_str_eq(client_cmd(c, ".rollback"), "ok");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_commit_flight VALUES (2, 2)"), "ok affected=1");
    cr_assert_eq(client_finish(c, NULL), 0);
    shim_log_remove(&log);
}

/* Found dead before it is sent, a read (or anything) goes on after the
 * replay; a write killed while it ran may have run, and is never sent
 * twice: the transaction is lost. */
Test(transaction_replay, dead_before_send_goes_on_write_killed_running_is_lost, .timeout = 60)
{
    fresh_table("t_flight");
    struct client *c = client_start(WITH_SHIM, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_flight VALUES (1, 1)"), "ok affected=1");
    cr_assert_str_eq(client_cmd(c, ".killed-then SELECT COUNT(*) FROM t_flight"), "ok 1");
    cr_assert_str_eq(client_cmd(c, "COMMIT"), "ok affected=0");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_flight"), 1);

    cr_assert_str_eq(client_cmd(c, "BEGIN"), "ok affected=0");
    cr_assert_str_eq(client_cmd(c, "INSERT INTO t_flight VALUES (2, 2)"), "ok affected=1");
    const char *a = kill_while_running(c, "INSERT INTO t_flight SELECT 3, SLEEP(2)");
    cr_assert(starts_with(a, "err "), "a write killed while it ran: %s", a);
    cr_assert(is_connection_error(client_cmd(c, "COMMIT")));
    cr_assert_str_eq(client_cmd(c, ".rollback"), "ok");
    cr_assert_eq(admin_long("SELECT COUNT(*) FROM t_flight"), 1, "nothing of the lost transaction persisted");
    cr_assert_eq(client_finish(c, NULL), 0);
}

/* The field's transaction on a loaded machine: busy loops on both cores. */
Test(transaction_replay, under_load, .timeout = 120)
{
    load_start();
    for (int i = 0; i < 5; i++) {
        int t = fresh_ticket();
        char *out = run_ticket(i % 2 ? C_PREPARED : PDO_NATIVE, t, "none", WITH_SHIM, NULL);
        assert_committed(i % 2 ? C_PREPARED : PDO_NATIVE, t, out);
        free(out);
    }
    load_stop();
}
