/* select_loop.c - the hot path: a tight loop of `SELECT 1` on one
 * connection, the cost every statement of a busy worker pays.
 *
 * usage: select_loop --transport socket|tcp [--check-first ping|select] [--in-transaction]
 *                    (--queries N | --relay IN_FD OUT_FD --turns T --per-turn K)
 *   --queries N   run exactly N statements (the instruction-count bench,
 *                 where two counts are subtracted to cancel start-up)
 *   --relay ...   the throughput bench: T turns of K statements, each turn
 *                 started when a byte arrives on IN_FD and ended by writing
 *                 one to OUT_FD. bench/run passes the byte around a ring of
 *                 processes (native, under goneshim, ...), so they take turns
 *                 a few milliseconds apart: this machine's throughput drifts
 *                 by 10% or more over seconds, and the drift hits every
 *                 variant alike. Only the turns are timed.
 *   --check-first the usual application fix for gone-away errors, which
 *                 goneshim replaces, before every statement: `ping` is
 *                 mysql_ping (COM_PING, the cheapest check; SQLAlchemy's
 *                 pre-ping with MySQLdb); `select` is a `SELECT 1`
 *                 validation query (PDO, which has no ping; pools' "test
 *                 queries")
 *   --in-transaction  the statements run inside one open transaction
 *                 (START TRANSACTION before, COMMIT after): what goneshim's
 *                 recording for the transaction replay costs per statement
 * Prints `queries=N seconds=S qps=Q` (S: the time spent in the statements).
 * Whether goneshim is preloaded is bench/run's choice; the program cannot
 * tell. */
#include <unistd.h>

#include "bench_util.h"

enum check { CHECK_NOTHING, CHECK_PING, CHECK_SELECT };

static void statement(MYSQL *m, enum check check)
{
    if (check == CHECK_PING && mysql_ping(m) != 0)
        die("ping: %s", mysql_error(m));
    if (check == CHECK_SELECT && !select_one(m))
        die("check SELECT 1: %s", mysql_error(m));
    if (!select_one(m))
        die("SELECT 1: %s", mysql_error(m));
}

static void pass_byte(int fd, bool in)
{
    char byte = 0;
    ssize_t n;
    do
        n = in ? read(fd, &byte, 1) : write(fd, &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        die("the relay pipe broke (%s)", n == 0 ? "closed" : strerror(errno));
}

int main(int argc, char **argv)
{
    bench_prog = "select_loop";
    const char *usage = "select_loop --transport socket|tcp [--check-first ping|select] [--in-transaction] "
                        "(--queries N | --relay IN_FD OUT_FD --turns T --per-turn K)";
    enum transport t = OVER_SOCKET;
    enum check check = CHECK_NOTHING;
    bool in_transaction = false;
    long queries = 0, in_fd = -1, out_fd = -1, turns = 0, per_turn = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value != NULL && strcmp(argv[i], "--check-first") == 0 && strcmp(value, "ping") == 0)
            check = CHECK_PING;
        else if (value != NULL && strcmp(argv[i], "--check-first") == 0 && strcmp(value, "select") == 0)
            check = CHECK_SELECT;
        else if (strcmp(argv[i], "--in-transaction") == 0) {
            in_transaction = true;
            continue;
        } else if (value != NULL && strcmp(argv[i], "--transport") == 0)
            t = parse_transport(value);
        else if (value != NULL && strcmp(argv[i], "--queries") == 0)
            queries = parse_long("--queries", value, 1, 1000000000L);
        else if (value != NULL && strcmp(argv[i], "--turns") == 0)
            turns = parse_long("--turns", value, 1, 1000000L);
        else if (value != NULL && strcmp(argv[i], "--per-turn") == 0)
            per_turn = parse_long("--per-turn", value, 1, 1000000L);
        else if (value != NULL && i + 2 < argc && strcmp(argv[i], "--relay") == 0) {
            in_fd = parse_long("--relay IN_FD", value, 0, 1023);
            out_fd = parse_long("--relay OUT_FD", argv[i + 2], 0, 1023);
            i++;
        } else {
            fprintf(stderr, "usage: %s\n", usage);
            return 2;
        }
        i++;
    }
    bool relay = in_fd >= 0;
    if ((queries != 0) == relay || (relay && (turns == 0 || per_turn == 0))) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }

    MYSQL *m = mysql_init(NULL);
    if (m == NULL || !connect_app(m, t))
        die("connect: %s", m ? mysql_error(m) : "out of memory");

    if (in_transaction && mysql_query(m, "START TRANSACTION") != 0)
        die("START TRANSACTION: %s", mysql_error(m));
    uint64_t busy = 0;
    long done = 0;
    if (!relay) {
        uint64_t start = now_ns();
        for (; done < queries; done++)
            statement(m, check);
        busy = now_ns() - start;
    } else {
        for (long turn = 0; turn < turns; turn++) {
            pass_byte((int)in_fd, true);
            uint64_t start = now_ns();
            for (long i = 0; i < per_turn; i++)
                statement(m, check);
            busy += now_ns() - start;
            done += per_turn;
            pass_byte((int)out_fd, false);
        }
    }
    if (in_transaction && mysql_query(m, "COMMIT") != 0)
        die("COMMIT: %s", mysql_error(m));
    double seconds = (double)busy / 1e9;
    printf("queries=%ld seconds=%.3f qps=%.0f\n", done, seconds, (double)done / seconds);
    mysql_close(m);
    return 0;
}
