/* recovery.c - how long the first statement after a killed idle
 * connection takes, against what the application would otherwise pay: a
 * fresh connect and the same statement.
 *
 * usage: recovery --transport socket|tcp --rounds N [--transaction K]
 * With --transaction K, the killed connection was inside a transaction of
 * START TRANSACTION and K statements (SELECT 1): under goneshim the timed
 * statement is its replay and the statement itself; the transaction's own
 * time (START TRANSACTION to its K-th statement) is timed too
 * (txn_p50_us), and the transaction is committed after.
 * Each round, alternating the two so that drift hits both alike:
 *  - recovered: a worker handle runs SELECT 1; an admin connection KILLs
 *    it; the worker waits until the FIN is in its socket (poll, which reads
 *    nothing) and 10 ms more, then the timed SELECT 1. Under goneshim it succeeds on a new
 *    connection; without, it fails (reported, not timed).
 *  - fresh: after the same 10 ms pause, mysql_init + mysql_real_connect +
 *    SELECT 1, timed; the close is not.
 * Prints per-round microseconds quantiles and the ratio of medians:
 *   recovered_ok=N recovered_p50_us=.. recovered_p90_us=.. fresh_p50_us=.. fresh_p90_us=.. ratio=..
 */
#include <poll.h>

#include "bench_util.h"

/* Waits until the server's close of `m`'s connection has reached its
 * socket: the recovery measured starts from a connection known dead, as it
 * is in the field after an idle period. */
static void wait_for_close(MYSQL *m)
{
    struct pollfd p = {.fd = (int)mysql_get_socket(m), .events = POLLIN | POLLRDHUP};
    if (p.fd < 0)
        return;
    if (poll(&p, 1, 5000) != 1)
        die("the killed connection's socket never saw the close");
}

int main(int argc, char **argv)
{
    bench_prog = "recovery";
    enum transport t = OVER_SOCKET;
    long rounds = 50, transaction = 0;
    const struct option_spec options[] = {
        {"--rounds", &rounds, 1, 100000}, {"--transaction", &transaction, 0, 10000}, {NULL, NULL, 0, 0}};
    parse_options(argc, argv, &t, options, "recovery --transport socket|tcp --rounds N [--transaction K]");

    MYSQL *admin = connect_admin();
    MYSQL *worker = mysql_init(NULL);
    if (worker == NULL || !connect_app(worker, t))
        die("connect: %s", worker ? mysql_error(worker) : "out of memory");

    uint64_t *recovered = calloc((size_t)rounds, sizeof *recovered);
    uint64_t *fresh = calloc((size_t)rounds, sizeof *fresh);
    uint64_t *own = calloc((size_t)rounds, sizeof *own);
    if (recovered == NULL || fresh == NULL || own == NULL)
        die("out of memory");
    size_t n_recovered = 0;
    unsigned failed = 0;

    for (long r = 0; r < rounds; r++) {
        if (!select_one(worker)) {
            /* Without goneshim the handle is dead for good: start the
             * next round on a new one (not timed). */
            mysql_close(worker);
            worker = mysql_init(NULL);
            if (worker == NULL || !connect_app(worker, t) || !select_one(worker))
                die("reconnect by hand: %s", worker ? mysql_error(worker) : "out of memory");
        }
        if (transaction > 0) {
            uint64_t begun = now_ns();
            if (mysql_query(worker, "START TRANSACTION") != 0)
                die("START TRANSACTION: %s", mysql_error(worker));
            for (long k = 0; k < transaction; k++)
                if (!select_one(worker))
                    die("SELECT 1 in the transaction: %s", mysql_error(worker));
            own[r] = now_ns() - begun;
        }
        char kill[64];
        snprintf(kill, sizeof kill, "KILL %lu", mysql_thread_id(worker));
        if (mysql_query(admin, kill) != 0)
            die("%s: %s", kill, mysql_error(admin));
        wait_for_close(worker);
        /* Idle a moment more, as in the field: a statement within the same
         * clock tick as the previous one is a busy handle's, which goneshim
         * treats differently (README, "Liveness"). */
        sleep_ms(10);

        uint64_t t0 = now_ns();
        bool ok = select_one(worker);
        uint64_t t1 = now_ns();
        if (ok)
            recovered[n_recovered++] = t1 - t0;
        else
            failed++;
        if (transaction > 0 && ok && mysql_query(worker, "COMMIT") != 0)
            die("COMMIT of the replayed transaction: %s", mysql_error(worker));
        if (transaction > 0 && !ok)
            (void)mysql_query(worker, "ROLLBACK");

        sleep_ms(10); /* the same idle moment before it, for fairness */
        t0 = now_ns();
        MYSQL *f = mysql_init(NULL);
        if (f == NULL || !connect_app(f, t) || !select_one(f))
            die("fresh connect: %s", f ? mysql_error(f) : "out of memory");
        fresh[r] = now_ns() - t0;
        mysql_close(f);
    }

    double r50 = (double)quantile(recovered, n_recovered, 0.5) / 1000.0;
    double r90 = (double)quantile(recovered, n_recovered, 0.9) / 1000.0;
    double f50 = (double)quantile(fresh, (size_t)rounds, 0.5) / 1000.0;
    double f90 = (double)quantile(fresh, (size_t)rounds, 0.9) / 1000.0;
    printf("recovered_ok=%zu recovered_failed=%u recovered_p50_us=%.1f recovered_p90_us=%.1f "
           "fresh_p50_us=%.1f fresh_p90_us=%.1f ratio=%.3f txn_p50_us=%.1f\n",
           n_recovered, failed, r50, r90, f50, f90, n_recovered ? r50 / f50 : 0.0,
           (double)quantile(own, (size_t)rounds, 0.5) / 1000.0);
    free(own);
    free(recovered);
    free(fresh);
    mysql_close(worker);
    mysql_close(admin);
    return 0;
}
