/* bench_util.h - what the benchmark programs share: the test server's
 * connection settings (GONESHIM_TEST_*, from scripts/with-test-server),
 * strict option parsing, a monotonic clock, and sorting for medians.
 *
 * The programs are plain libmysqlclient clients: they never know whether
 * goneshim is preloaded (bench/run decides that), exactly like the
 * applications it is meant for. */
#ifndef GONESHIM_BENCH_UTIL_H
#define GONESHIM_BENCH_UTIL_H

#include <errno.h>
#include <limits.h>
#include <mysql.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *bench_prog = "bench";

__attribute__((noreturn, format(printf, 1, 2))) static inline void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", bench_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static inline const char *env_or_die(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "%s: %s is not set (run under scripts/with-test-server)\n", bench_prog, name);
        exit(2);
    }
    return v;
}

/* A whole number in [min, max], or exit 2 naming the option. */
static inline long parse_long(const char *what, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: %s: '%s' is not a whole number from %ld to %ld\n", bench_prog, what, text, min,
                max);
        exit(2);
    }
    return v;
}

enum transport { OVER_SOCKET, OVER_TCP };

static inline enum transport parse_transport(const char *text)
{
    if (strcmp(text, "socket") == 0)
        return OVER_SOCKET;
    if (strcmp(text, "tcp") == 0)
        return OVER_TCP;
    fprintf(stderr, "%s: --transport: '%s' is neither socket nor tcp\n", bench_prog, text);
    exit(2);
}

/* `--name value` options: each name of `specs` (ended by a NULL name)
 * fills its value through parse_long, and `--transport` fills *transport
 * (when not NULL). Anything else prints `usage` and exits 2. */
struct option_spec {
    const char *name;
    long *value;
    long min, max;
};

static inline void parse_options(int argc, char **argv, enum transport *transport, const struct option_spec *specs,
                                 const char *usage)
{
    for (int i = 1; i < argc; i += 2) {
        const struct option_spec *o = specs;
        while (o->name != NULL && strcmp(argv[i], o->name) != 0)
            o++;
        bool is_transport = transport != NULL && strcmp(argv[i], "--transport") == 0;
        if (i + 1 >= argc || (o->name == NULL && !is_transport)) {
            fprintf(stderr, "usage: %s\n", usage);
            exit(2);
        }
        if (is_transport)
            *transport = parse_transport(argv[i + 1]);
        else
            *o->value = parse_long(o->name, argv[i + 1], o->min, o->max);
    }
}

/* Connects `m` (from mysql_init) as the application user; NULL on failure,
 * with the error on the handle. */
static inline MYSQL *connect_app(MYSQL *m, enum transport t)
{
    if (t == OVER_TCP) {
        unsigned port = (unsigned)parse_long("GONESHIM_TEST_PORT", env_or_die("GONESHIM_TEST_PORT"), 1, 65535);
        return mysql_real_connect(m, env_or_die("GONESHIM_TEST_HOST"), env_or_die("GONESHIM_TEST_USER"),
                                  env_or_die("GONESHIM_TEST_PASSWORD"), env_or_die("GONESHIM_TEST_DB"), port,
                                  NULL, 0);
    }
    return mysql_real_connect(m, "localhost", env_or_die("GONESHIM_TEST_USER"), env_or_die("GONESHIM_TEST_PASSWORD"),
                              env_or_die("GONESHIM_TEST_DB"), 0, env_or_die("GONESHIM_TEST_SOCKET"), 0);
}

/* The admin account, over the socket (for KILL and status counters). */
static inline MYSQL *connect_admin(void)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL ||
        !mysql_real_connect(m, "localhost", env_or_die("GONESHIM_TEST_ADMIN_USER"),
                            env_or_die("GONESHIM_TEST_ADMIN_PASSWORD"), NULL, 0, env_or_die("GONESHIM_TEST_SOCKET"), 0))
        die("admin connect: %s", m ? mysql_error(m) : "out of memory");
    return m;
}

/* Runs `sql` and returns the first column of the first row as a number
 * (0 when there is no row); a failure is fatal. */
static inline long long query_number(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0)
        die("%s: %s", sql, mysql_error(m));
    MYSQL_RES *r = mysql_store_result(m);
    long long v = 0;
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    if (row != NULL && row[0] != NULL) {
        int last = mysql_num_fields(r) - 1; /* SHOW STATUS: the value is the last column */
        v = strtoll(row[last], NULL, 10);
    }
    mysql_free_result(r);
    return v;
}

/* The statement every benchmark runs: SELECT 1, result read and freed.
 * Returns false (error on the handle) on failure. */
static inline bool select_one(MYSQL *m)
{
    if (mysql_real_query(m, "SELECT 1", 8) != 0)
        return false;
    MYSQL_RES *r = mysql_store_result(m);
    if (r == NULL)
        return false;
    MYSQL_ROW row = mysql_fetch_row(r);
    bool ok = row != NULL && row[0] != NULL && row[0][0] == '1';
    mysql_free_result(r);
    return ok;
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n values, which it sorts. */
static inline uint64_t quantile(uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, compare_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

#endif
