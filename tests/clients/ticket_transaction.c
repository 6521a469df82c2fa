/* ticket_transaction.c - the field's transaction from C: begin; SELECT ...
 * FOR UPDATE a ticket; update it; log it; killed while idle; update it
 * again; commit. As tests/clients/php/ticket_transaction.php, whose step
 * lines and outcome it prints, so that one test checks both.
 *
 * usage: ticket_transaction text|prepared TICKET [none|changed|now|insert-id]
 * Text: mysql_real_query and mysql_store_result. Prepared: every statement
 * a prepared statement with bound parameters, results stored and fetched
 * into bound buffers. The kill comes from an administrator's connection.
 */
#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "ticket_transaction: %s is not set (run under scripts/with-test-server)\n", name);
        exit(2);
    }
    return v;
}

static MYSQL *connect_as(const char *user_var, const char *password_var)
{
    MYSQL *m = mysql_init(NULL);
    if (mysql_real_connect(m, NULL, env(user_var), env(password_var), env("GONESHIM_TEST_DB"), 0,
                           env("GONESHIM_TEST_SOCKET"), 0) == NULL) {
        fprintf(stderr, "ticket_transaction: connect: %s\n", mysql_error(m));
        exit(2);
    }
    return m;
}

static void admin(const char *sql)
{
    MYSQL *a = connect_as("GONESHIM_TEST_ADMIN_USER", "GONESHIM_TEST_ADMIN_PASSWORD");
    if (mysql_query(a, sql) != 0) {
        fprintf(stderr, "ticket_transaction: %s: %s\n", sql, mysql_error(a));
        exit(2);
    }
    mysql_close(a);
}

/* KILL, then wait until the server has closed the connection. */
static void kill_connection(unsigned long id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "KILL %lu", id);
    admin(sql);
    MYSQL *a = connect_as("GONESHIM_TEST_ADMIN_USER", "GONESHIM_TEST_ADMIN_PASSWORD");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %lu", id);
    for (int i = 0; i < 200; i++) {
        mysql_query(a, sql);
        MYSQL_RES *r = mysql_store_result(a);
        MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
        bool gone = row != NULL && strcmp(row[0], "0") == 0;
        mysql_free_result(r);
        if (gone)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    mysql_close(a);
}

static MYSQL *m;
static bool prepared;
static const char *failed_at;

/* Runs `sql` with integer parameters `ints` (n of them, for the ? marks in
 * order), stores and reads its result: 0, or the error code. */
static unsigned run(const char *sql, const long long *ints, unsigned n)
{
    /* Transaction control is text even for an application that prepares
     * the rest: MySQL cannot prepare START TRANSACTION (1295). */
    bool control = strcmp(sql, "START TRANSACTION") == 0 || strcmp(sql, "COMMIT") == 0;
    if (!prepared || control) {
        char text[512];
        size_t at = 0;
        unsigned k = 0;
        for (const char *p = sql; *p != '\0' && at < sizeof text - 24; p++) {
            if (*p == '?' && k < n)
                at += (size_t)snprintf(text + at, sizeof text - at, "%lld", ints[k++]);
            else
                text[at++] = *p;
        }
        text[at] = '\0';
        if (mysql_real_query(m, text, at) != 0)
            return mysql_errno(m);
        MYSQL_RES *r = mysql_store_result(m);
        if (r != NULL) {
            while (mysql_fetch_row(r) != NULL)
                ;
            mysql_free_result(r);
        }
        return mysql_errno(m);
    }
    MYSQL_STMT *st = mysql_stmt_init(m);
    MYSQL_BIND params[4];
    memset(params, 0, sizeof params);
    for (unsigned i = 0; i < n && i < 4; i++) {
        params[i].buffer_type = MYSQL_TYPE_LONGLONG;
        params[i].buffer = (void *)&ints[i];
    }
    bool ok = mysql_stmt_prepare(st, sql, strlen(sql)) == 0 &&
              (n == 0 || mysql_stmt_bind_param(st, params) == 0) && mysql_stmt_execute(st) == 0;
    if (ok && mysql_stmt_field_count(st) > 0) {
        char cell[4][64];
        unsigned long lengths[4];
        MYSQL_BIND out[4];
        memset(out, 0, sizeof out);
        for (unsigned i = 0; i < 4; i++) {
            out[i].buffer_type = MYSQL_TYPE_STRING;
            out[i].buffer = cell[i];
            out[i].buffer_length = sizeof cell[i];
            out[i].length = &lengths[i];
        }
        ok = mysql_stmt_field_count(st) <= 4 && mysql_stmt_bind_result(st, out) == 0 &&
             mysql_stmt_store_result(st) == 0;
        while (ok && mysql_stmt_fetch(st) == 0)
            ;
    }
    unsigned code = ok ? 0 : (mysql_stmt_errno(st) != 0 ? mysql_stmt_errno(st) : mysql_errno(m));
    if (!ok && code == 0)
        code = 1;
    mysql_stmt_close(st);
    return code;
}

static void step(const char *name, const char *sql, const long long *ints, unsigned n)
{
    if (failed_at != NULL)
        return;
    unsigned code = run(sql, ints, n);
    if (code == 0) {
        printf("%s: ok\n", name);
    } else {
        printf("%s: error %u\n", name, code);
        failed_at = name;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "text") != 0 && strcmp(argv[1], "prepared") != 0)) {
        fprintf(stderr, "usage: ticket_transaction text|prepared TICKET [none|changed|now|insert-id]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    prepared = strcmp(argv[1], "prepared") == 0;
    long long ticket = atoll(argv[2]);
    const char *twist = argc > 3 ? argv[3] : "none";
    m = connect_as("GONESHIM_TEST_USER", "GONESHIM_TEST_PASSWORD");
    unsigned long id = mysql_thread_id(m);

    step("begin", "START TRANSACTION", NULL, 0);
    step("select for update", "SELECT id, status, version FROM tickets WHERE id = ? FOR UPDATE", &ticket, 1);
    step("update 1", "UPDATE tickets SET status = 'taken', version = version + 1 WHERE id = ?", &ticket, 1);
    step("log", "INSERT INTO ticket_log (ticket_id, note) VALUES (?, 'taken')", &ticket, 1);
    if (strcmp(twist, "insert-id") == 0) {
        long long child[2] = {ticket, (long long)mysql_insert_id(m)};
        printf("log id: %lld\n", child[1]);
        step("log child", "INSERT INTO ticket_log (ticket_id, note, parent_id) VALUES (?, 'child', ?)", child, 2);
    }
    if (strcmp(twist, "now") == 0) {
        step("read now", "SELECT NOW(6)", NULL, 0);
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    kill_connection(id);
    if (strcmp(twist, "changed") == 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE %s.tickets SET version = version + 10 WHERE id = %lld",
                 env("GONESHIM_TEST_DB"), ticket);
        admin(sql);
    }
    step("update 2", "UPDATE tickets SET status = 'done' WHERE id = ?", &ticket, 1);
    step("commit", "COMMIT", NULL, 0);
    if (failed_at != NULL) {
        printf(mysql_rollback(m) == 0 ? "rollback: ok\n" : "rollback: error %u\n", mysql_errno(m));
        const char *saved = failed_at;
        failed_at = NULL;
        step("next begin", "START TRANSACTION", NULL, 0);
        step("next insert", "INSERT INTO ticket_log (ticket_id, note) VALUES (?, 'after')", &ticket, 1);
        step("next commit", "COMMIT", NULL, 0);
        printf(failed_at == NULL ? "next transaction: ok\n" : "next transaction: error\n");
        failed_at = saved;
    }
    printf("outcome=%s%s\n", failed_at == NULL ? "committed" : "failed-at:", failed_at == NULL ? "" : failed_at);
    mysql_close(m);
    return 0;
}
