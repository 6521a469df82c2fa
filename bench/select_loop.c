/* select_loop.c - the hot path: a tight loop of `SELECT 1` on one
 * connection, the cost every statement of a busy worker pays.
 *
 * usage: select_loop --transport socket|tcp (--seconds S | --queries N) [--ping-first]
 *   --seconds S   run for S seconds (queries per second: the throughput bench)
 *   --queries N   run exactly N statements (the instruction-count bench, where
 *                 two counts are subtracted to cancel start-up)
 *   --ping-first  mysql_ping before every statement: the usual application
 *                 fix for gone-away errors, which goneshim replaces
 * Prints `queries=N seconds=S qps=Q`. Whether goneshim is preloaded is
 * bench/run's choice; the program cannot tell. */
#include "bench_util.h"

int main(int argc, char **argv)
{
    bench_prog = "select_loop";
    enum transport t = OVER_SOCKET;
    long seconds = 0, queries = 0;
    bool ping_first = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ping-first") == 0)
            ping_first = true;
        else if (i + 1 < argc && strcmp(argv[i], "--transport") == 0)
            t = parse_transport(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
            seconds = parse_long("--seconds", argv[++i], 1, 3600);
        else if (i + 1 < argc && strcmp(argv[i], "--queries") == 0)
            queries = parse_long("--queries", argv[++i], 1, 1000000000L);
        else {
            fprintf(stderr, "usage: select_loop --transport socket|tcp (--seconds S | --queries N) [--ping-first]\n");
            return 2;
        }
    }
    if ((seconds == 0) == (queries == 0)) {
        fprintf(stderr, "select_loop: give exactly one of --seconds and --queries\n");
        return 2;
    }

    MYSQL *m = mysql_init(NULL);
    if (m == NULL || !connect_app(m, t))
        die("connect: %s", m ? mysql_error(m) : "out of memory");

    uint64_t start = now_ns(), deadline = start + (uint64_t)seconds * 1000000000u;
    long done = 0;
    for (;;) {
        if (queries != 0 && done == queries)
            break;
        /* Look at the clock every 256 statements: a clock read per
         * statement would be part of what is measured. */
        if (queries == 0 && (done & 255) == 0 && now_ns() >= deadline)
            break;
        if (ping_first && mysql_ping(m) != 0)
            die("ping: %s", mysql_error(m));
        if (!select_one(m))
            die("SELECT 1: %s", mysql_error(m));
        done++;
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    printf("queries=%ld seconds=%.3f qps=%.0f\n", done, elapsed, (double)done / elapsed);
    mysql_close(m);
    return 0;
}
