/* soak_worker.c - the C stack of the chaos soak (tests/soak/run-soak): a
 * plain libmysqlclient worker, as an application would write it, run for a
 * fixed time while a killer KILLs sleeping connections.
 *
 * The same workload and output protocol as soak_worker.py and
 * soak_worker.php, so that the driver can compare goneshim (--mode shim),
 * the library's own MYSQL_OPT_RECONNECT (--mode reconnect) and a worker
 * restarted by its supervisor after each lost connection (--mode none) on
 * equal terms: what was acknowledged against what the table holds.
 *
 * usage: soak_worker --mode shim|reconnect|none --worker N
 *          --transport socket|tcp --seconds D --idle-ms I --txn-idle-ms T
 *          [--seed S]
 * Pauses are uniform in [X/2, 3X/2] of their option.
 * Jobs by seq % 3: 1 a two-row transaction with an idle pause and a
 * tolerated optional SELECT inside, 2 an autocommit INSERT, 0 a COUNT(*).
 * stdout, one flushed line per event: `ack T|I <seq>`, `read <seq>`,
 * `tolerated <code>`, `error in|out <code> <msg>`, `rollback-failed <code>`,
 * `done <seq>`. Exit 0 when the time is up (errors are the data), 1 if it
 * never connected, 2 on a usage error.
 */
#include <errmsg.h>
#include <errno.h>
#include <limits.h>
#include <mysql.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "soak_worker"
#define STACK "c"

enum mode { MODE_SHIM, MODE_RECONNECT, MODE_NONE };
static const char *const mode_names[] = {"shim", "reconnect", "none"};

struct worker {
    enum mode mode;
    long id;
    int tcp;
    long seconds, idle_ms, txn_idle_ms;
    unsigned long long rng;
    double deadline; /* monotonic seconds */
    const char *host, *socket, *db, *user, *password;
    unsigned port;
    MYSQL *m; /* NULL only when reconnecting ran out of time */
};

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(2);
}

/* Digits only (no sign, no blanks: strtol would accept both), in range. */
static long parse_number(const char *what, const char *s, long min, long max)
{
    char *end = (char *)s;
    long v = 0;
    errno = 0;
    if (s[0] >= '0' && s[0] <= '9')
        v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
        usage_error("bad value for %s: '%s' (an integer from %ld to %ld)", what, s, min, max);
    return v;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL)
        usage_error("%s is not set (run under scripts/with-test-server)", name);
    return v;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* splitmix64: seeded, so a worker's pauses repeat with its seed. */
static unsigned long long next_random(struct worker *w)
{
    unsigned long long z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [ms/2, 3ms/2]: pauses that drift against the killer's period. */
static long jittered(struct worker *w, long ms)
{
    long lo = ms / 2, hi = ms + ms / 2;
    return lo + (long)(next_random(w) % (unsigned long long)(hi - lo + 1));
}

/* One line per event, flushed at once: the driver reads the file even
 * after killing the worker. */
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* `error in|out <code> <message>`, the message kept on one line. */
static void emit_error(const char *where, unsigned code, const char *message)
{
    char one_line[512];
    snprintf(one_line, sizeof one_line, "%s", message);
    for (char *p = one_line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    emit("error %s %u %s", where, code, one_line);
}

static int is_lost(unsigned code)
{
    switch (code) {
    case 2006: case 2013: case 2055: case 1927: case 4031: case 1053: case 2002: case 2003:
        return 1;
    default:
        return 0;
    }
}

/* One connection attempt; NULL (after `error out`) on failure. */
static MYSQL *connect_once(struct worker *w)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL) {
        emit_error("out", CR_OUT_OF_MEMORY, "mysql_init failed");
        return NULL;
    }
    if (w->mode == MODE_RECONNECT) {
        /* The library's own reconnect, the one that splits transactions. */
        my_bool on = 1;
        mysql_options(m, MYSQL_OPT_RECONNECT, &on);
    }
    if (!mysql_real_connect(m, w->tcp ? w->host : "localhost", w->user, w->password, w->db, w->tcp ? w->port : 0,
                            w->tcp ? NULL : w->socket, 0)) {
        emit_error("out", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* Every 100 ms until connected or the time is up. */
static MYSQL *connect_until_deadline(struct worker *w)
{
    for (;;) {
        MYSQL *m = connect_once(w);
        if (m != NULL || now() >= w->deadline)
            return m;
        sleep_ms(100);
    }
}

/* Mode none only: what a supervisor restarting a crashed worker amounts
 * to. In the other modes the worker keeps its one handle for life: that
 * is what the soak measures. */
static void recover(struct worker *w)
{
    if (w->mode != MODE_NONE)
        return;
    mysql_close(w->m);
    w->m = connect_until_deadline(w);
}

/* One statement, its result stored and freed; the first column of the
 * first row copied into value (if given). 0, or -1 with the error on the
 * handle. */
static int run(MYSQL *m, const char *sql, char *value, size_t size)
{
    if (value != NULL)
        value[0] = '\0';
    if (mysql_real_query(m, sql, strlen(sql)) != 0)
        return -1;
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL)
        return mysql_field_count(m) != 0 ? -1 : 0;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (value != NULL && row != NULL && row[0] != NULL)
        snprintf(value, size, "%s", row[0]);
    mysql_free_result(res);
    return 0;
}

static void format_insert(const struct worker *w, char *sql, size_t size, char kind, long seq, int part)
{
    snprintf(sql, size,
             "INSERT INTO soak_rows (mode, stack, worker, kind, seq, part) VALUES ('%s', '" STACK
             "', %ld, '%c', %ld, %d)",
             mode_names[w->mode], w->id, kind, seq, part);
}

static void transaction_job(struct worker *w, long seq)
{
    char sql[512];
    if (run(w->m, "START TRANSACTION", NULL, 0) != 0)
        goto failed;
    format_insert(w, sql, sizeof sql, 'T', seq, 1);
    if (run(w->m, sql, NULL, 0) != 0)
        goto failed;
    /* Idle inside the transaction, for T/2 to 3T/2: where the killer
     * often strikes, but not always. */
    sleep_ms(jittered(w, w->txn_idle_ms));
    /* A best-effort lookup: the application carries on without it. */
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM soak_rows WHERE mode='%s' AND stack='" STACK "' AND worker=%ld AND seq=%ld",
             mode_names[w->mode], w->id, seq);
    if (run(w->m, sql, NULL, 0) != 0)
        emit("tolerated %u", mysql_errno(w->m));
    format_insert(w, sql, sizeof sql, 'T', seq, 2);
    if (run(w->m, sql, NULL, 0) != 0)
        goto failed;
    if (run(w->m, "COMMIT", NULL, 0) != 0)
        goto failed;
    emit("ack T %ld", seq);
    return;

failed:;
    unsigned code = mysql_errno(w->m);
    int lost = is_lost(code);
    emit_error("in", code, mysql_error(w->m));
    if (run(w->m, "ROLLBACK", NULL, 0) != 0) {
        unsigned rollback_code = mysql_errno(w->m);
        emit("rollback-failed %u", rollback_code);
        lost |= is_lost(rollback_code);
    }
    if (lost)
        recover(w);
}

static void insert_job(struct worker *w, long seq)
{
    char sql[512];
    format_insert(w, sql, sizeof sql, 'I', seq, 0);
    if (run(w->m, sql, NULL, 0) == 0) {
        emit("ack I %ld", seq);
        return;
    }
    unsigned code = mysql_errno(w->m);
    emit_error("out", code, mysql_error(w->m));
    if (is_lost(code))
        recover(w);
}

static void read_job(struct worker *w, long seq)
{
    char sql[512], value[64];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM soak_rows WHERE mode='%s' AND stack='" STACK "' AND worker=%ld AND kind='I'",
             mode_names[w->mode], w->id);
    if (run(w->m, sql, value, sizeof value) != 0) {
        unsigned code = mysql_errno(w->m);
        emit_error("out", code, mysql_error(w->m));
        if (is_lost(code))
            recover(w);
        return;
    }
    size_t digits = strspn(value, "0123456789");
    if (digits == 0 || value[digits] != '\0') {
        emit_error("out", 0, "bad read result");
        return;
    }
    emit("read %ld", seq);
}

int main(int argc, char **argv)
{
    struct worker w;
    memset(&w, 0, sizeof w);
    const char *mode = NULL, *transport = NULL;
    long worker = -1, seconds = -1, idle_ms = -1, txn_idle_ms = -1, seed = -1;

    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(name, "--mode") && strcmp(name, "--worker") && strcmp(name, "--transport") &&
            strcmp(name, "--seconds") && strcmp(name, "--idle-ms") && strcmp(name, "--txn-idle-ms") &&
            strcmp(name, "--seed"))
            usage_error("unknown option '%s'", name);
        if (value == NULL)
            usage_error("%s needs a value", name);
        if (!strcmp(name, "--mode"))
            mode = value;
        else if (!strcmp(name, "--transport"))
            transport = value;
        else if (!strcmp(name, "--worker"))
            worker = parse_number(name, value, 0, INT_MAX);
        else if (!strcmp(name, "--seconds"))
            seconds = parse_number(name, value, 1, 1000000);
        else if (!strcmp(name, "--idle-ms"))
            idle_ms = parse_number(name, value, 0, 3600000);
        else if (!strcmp(name, "--txn-idle-ms"))
            txn_idle_ms = parse_number(name, value, 0, 3600000);
        else
            seed = parse_number(name, value, 0, 4294967295L);
    }
    if (mode == NULL)
        usage_error("missing --mode");
    if (!strcmp(mode, "shim"))
        w.mode = MODE_SHIM;
    else if (!strcmp(mode, "reconnect"))
        w.mode = MODE_RECONNECT;
    else if (!strcmp(mode, "none"))
        w.mode = MODE_NONE;
    else
        usage_error("bad value for --mode: '%s' (shim, reconnect or none)", mode);
    if (worker < 0)
        usage_error("missing --worker");
    if (transport == NULL)
        usage_error("missing --transport");
    if (strcmp(transport, "socket") && strcmp(transport, "tcp"))
        usage_error("bad value for --transport: '%s' (socket or tcp)", transport);
    if (seconds < 0)
        usage_error("missing --seconds");
    if (idle_ms < 0)
        usage_error("missing --idle-ms");
    if (txn_idle_ms < 0)
        usage_error("missing --txn-idle-ms");
    w.id = worker;
    w.tcp = !strcmp(transport, "tcp");
    w.seconds = seconds;
    w.idle_ms = idle_ms;
    w.txn_idle_ms = txn_idle_ms;
    w.rng = seed >= 0 ? (unsigned long long)seed : (unsigned long long)getpid();

    if (w.tcp) {
        w.host = env("GONESHIM_TEST_HOST");
        w.port = (unsigned)parse_number("GONESHIM_TEST_PORT", env("GONESHIM_TEST_PORT"), 1, 65535);
    } else {
        w.socket = env("GONESHIM_TEST_SOCKET");
    }
    w.db = env("GONESHIM_TEST_DB");
    w.user = env("GONESHIM_TEST_USER");
    w.password = env("GONESHIM_TEST_PASSWORD");

    double start = now();
    w.deadline = start + (double)w.seconds;
    w.m = connect_until_deadline(&w);
    if (w.m == NULL) {
        fprintf(stderr, PROG ": never connected in %ld s\n", w.seconds);
        mysql_library_end();
        return 1;
    }

    long seq = 0;
    while (w.m != NULL) {
        long pause = jittered(&w, w.idle_ms);
        double left = w.deadline - now();
        /* Never sleep past the end: the driver waits for `done`. */
        if (left > 0)
            sleep_ms(pause < left * 1000 ? pause : (long)(left * 1000) + 1);
        if (now() >= w.deadline)
            break;
        seq++;
        switch (seq % 3) {
        case 1: transaction_job(&w, seq); break;
        case 2: insert_job(&w, seq); break;
        default: read_job(&w, seq); break;
        }
    }
    emit("done %ld", seq);
    if (w.m != NULL)
        mysql_close(w.m);
    mysql_library_end();
    return 0;
}
