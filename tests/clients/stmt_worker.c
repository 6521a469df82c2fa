/* stmt_worker.c - a worker that prepares its statements once and executes
 * them in a loop for its whole life, idle between jobs: the pattern
 * libmariadb's own reconnect breaks for good (1243 "Unknown prepared
 * statement handler" on every execution afterwards).
 *
 * usage: stmt_worker ITERATIONS IDLE_MS TAG [--rebind] [--tcp]
 *        stmt_worker --cycles N       prepare/execute/close N times
 *        stmt_worker --long-data TAG  long data, then the connection lost
 * Each job: INSERT (tag, n) with a prepared INSERT, then reads it back with
 * a prepared SELECT bound to result buffers and checks the values. With
 * --rebind, the parameters are bound again (other MYSQL_BIND arrays)
 * before every execution; without, only the bound variables change.
 * Prints `acked=K errors=E iterations=N`; exit 0 iff E == 0.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "stmt_worker: %s is not set (run under scripts/with-test-server)\n", name);
        exit(2);
    }
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static MYSQL_STMT *prepare(MYSQL *m, const char *sql)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    if (st == NULL || mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        fprintf(stderr, "stmt_worker: prepare %s: %s\n", sql, st ? mysql_stmt_error(st) : "no memory");
        exit(1);
    }
    return st;
}

/* Parameters of both statements: (tag, n). */
struct params {
    char tag[64];
    unsigned long tag_len;
    int n;
    MYSQL_BIND bind[2];
};

static void bind_params(struct params *p)
{
    memset(p->bind, 0, sizeof p->bind);
    p->bind[0].buffer_type = MYSQL_TYPE_STRING;
    p->bind[0].buffer = p->tag;
    p->bind[0].buffer_length = sizeof p->tag;
    p->bind[0].length = &p->tag_len;
    p->bind[1].buffer_type = MYSQL_TYPE_LONG;
    p->bind[1].buffer = &p->n;
}

static MYSQL *connect_to(int tcp)
{
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, tcp ? env("GONESHIM_TEST_HOST") : "localhost", env("GONESHIM_TEST_USER"),
                            env("GONESHIM_TEST_PASSWORD"), env("GONESHIM_TEST_DB"),
                            tcp ? (unsigned)atoi(env("GONESHIM_TEST_PORT")) : 0,
                            tcp ? NULL : env("GONESHIM_TEST_SOCKET"), 0)) {
        fprintf(stderr, "stmt_worker: connect: %s\n", mysql_error(m));
        exit(1);
    }
    return m;
}

/* Statement handles the application closes release goneshim's copy:
 * under LeakSanitizer, a leak fails the exit status. */
static int cycles(long n)
{
    MYSQL *m = connect_to(0);
    for (long i = 0; i < n; i++) {
        MYSQL_STMT *st = prepare(m, "SELECT ? + 1");
        MYSQL_BIND b;
        int v = (int)i;
        memset(&b, 0, sizeof b);
        b.buffer_type = MYSQL_TYPE_LONG;
        b.buffer = &v;
        if (mysql_stmt_bind_param(st, &b) != 0 || mysql_stmt_execute(st) != 0) {
            fprintf(stderr, "stmt_worker: cycle %ld: %s\n", i, mysql_stmt_error(st));
            return 1;
        }
        mysql_stmt_close(st);
    }
    mysql_close(m);
    printf("cycles=%ld\n", n);
    return 0;
}

/* Long data sent, then the connection lost before the execute: goneshim
 * cannot send the data again, so the execute must fail with a clear
 * error; sent again, it works. */
static int long_data(const char *tag)
{
    MYSQL *m = connect_to(0);
    MYSQL_STMT *st = prepare(m, "INSERT INTO worker_log (tag, n) VALUES (?, 1)");
    MYSQL_BIND b;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_STRING;
    mysql_stmt_bind_param(st, &b);
    mysql_stmt_send_long_data(st, 0, tag, strlen(tag));

    MYSQL *admin = mysql_init(NULL);
    if (!mysql_real_connect(admin, env("GONESHIM_TEST_HOST"), env("GONESHIM_TEST_ADMIN_USER"),
                            env("GONESHIM_TEST_ADMIN_PASSWORD"), NULL, (unsigned)atoi(env("GONESHIM_TEST_PORT")),
                            NULL, 0)) {
        fprintf(stderr, "stmt_worker: admin connect: %s\n", mysql_error(admin));
        return 1;
    }
    char kill[64];
    snprintf(kill, sizeof kill, "KILL %lu", mysql_thread_id(m));
    mysql_query(admin, kill);
    mysql_close(admin);
    sleep_ms(200);

    int failed = mysql_stmt_execute(st) != 0;
    printf("after the loss: %s: %u %s\n", failed ? "failed" : "succeeded", mysql_stmt_errno(st),
           mysql_stmt_error(st));
    mysql_stmt_send_long_data(st, 0, tag, strlen(tag));
    int again = mysql_stmt_execute(st) == 0;
    printf("sent again: %s %s\n", again ? "ok" : "failed", again ? "" : mysql_stmt_error(st));
    mysql_stmt_close(st);
    mysql_close(m);
    return failed && again ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--cycles") == 0)
        return cycles(atol(argv[2]));
    if (argc == 3 && strcmp(argv[1], "--long-data") == 0)
        return long_data(argv[2]);
    if (argc < 4) {
        fprintf(stderr, "usage: stmt_worker ITERATIONS IDLE_MS TAG [--rebind] [--tcp]\n");
        return 2;
    }
    int iterations = atoi(argv[1]), idle_ms = atoi(argv[2]);
    const char *tag = argv[3];
    int rebind = 0, tcp = 0;
    for (int i = 4; i < argc; i++) { /* --same and --socket are the defaults */
        rebind |= strcmp(argv[i], "--rebind") == 0;
        tcp |= strcmp(argv[i], "--tcp") == 0;
    }

    MYSQL *m = connect_to(tcp);
    MYSQL_STMT *insert = prepare(m, "INSERT INTO worker_log (tag, n) VALUES (?, ?)");
    MYSQL_STMT *select = prepare(m, "SELECT n * 2, tag FROM worker_log WHERE tag = ? AND n = ?");

    /* Two sets of parameter memory: --rebind alternates between them. */
    struct params sets[2];
    for (int i = 0; i < 2; i++) {
        bind_params(&sets[i]);
        snprintf(sets[i].tag, sizeof sets[i].tag, "%s", tag);
        sets[i].tag_len = strlen(tag);
    }
    mysql_stmt_bind_param(insert, sets[0].bind);
    mysql_stmt_bind_param(select, sets[0].bind);

    long long doubled = 0;
    char got_tag[64];
    unsigned long got_tag_len = 0;
    MYSQL_BIND result[2];
    memset(result, 0, sizeof result);
    result[0].buffer_type = MYSQL_TYPE_LONGLONG;
    result[0].buffer = &doubled;
    result[1].buffer_type = MYSQL_TYPE_STRING;
    result[1].buffer = got_tag;
    result[1].buffer_length = sizeof got_tag;
    result[1].length = &got_tag_len;
    mysql_stmt_bind_result(select, result);

    int acked = 0, errors = 0;
    for (int n = 1; n <= iterations; n++) {
        sleep_ms(idle_ms);
        struct params *p = &sets[rebind ? n % 2 : 0];
        p->n = n;
        if (rebind) {
            bind_params(p);
            mysql_stmt_bind_param(insert, p->bind);
            mysql_stmt_bind_param(select, p->bind);
        }
        if (mysql_stmt_execute(insert) != 0) {
            fprintf(stderr, "stmt_worker: job %d: insert: %u %s\n", n, mysql_stmt_errno(insert),
                    mysql_stmt_error(insert));
            errors++;
            continue;
        }
        doubled = 0;
        got_tag[0] = '\0';
        int rc = mysql_stmt_execute(select);
        if (rc == 0)
            rc = mysql_stmt_store_result(select);
        if (rc == 0)
            rc = mysql_stmt_fetch(select);
        if (rc != 0) {
            fprintf(stderr, "stmt_worker: job %d: select: %d %u %s\n", n, rc, mysql_stmt_errno(select),
                    mysql_stmt_error(select));
            errors++;
        } else if (doubled != 2LL * n || got_tag_len != strlen(tag) || memcmp(got_tag, tag, got_tag_len) != 0) {
            fprintf(stderr, "stmt_worker: job %d: WRONG RESULT %lld '%.*s'\n", n, doubled, (int)got_tag_len,
                    got_tag);
            errors++;
        } else {
            acked++;
        }
        mysql_stmt_free_result(select);
    }
    printf("acked=%d errors=%d iterations=%d\n", acked, errors, iterations);
    mysql_stmt_close(insert);
    mysql_stmt_close(select);
    mysql_close(m);
    return errors == 0 ? 0 : 1;
}
