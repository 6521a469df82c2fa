/* scale.c - many handles in one process, all killed at once: a threaded
 * service with a connection per thread when the server drops every
 * connection (a restart, a failover, `KILL USER`).
 *
 * usage: scale --handles N --transport socket|tcp
 * Every thread connects and runs SELECT 1; once all are connected, the
 * admin connection kills every application connection at once (KILL
 * USER), waits until the server has none left, resets the server's peak
 * counter (FLUSH STATUS), then all threads run SELECT 1 together. Under
 * goneshim each reconnects in place; without it each fails.
 * Prints:
 *   handles=N recovered=K failed=F wall_ms=.. p50_ms=.. p99_ms=.. peak_connections=..
 * wall_ms: from the release of the threads to the last one done.
 * peak_connections: the server's Max_used_connections over the recovery
 * (including the admin connection): it shows whether a reconnect ever
 * holds a second connection for a handle.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "bench_util.h"

struct worker {
    pthread_t thread;
    enum transport transport;
    bool connected;
    bool recovered;
    uint64_t done_ns;
    char error[128];
};

static pthread_barrier_t connected_barrier, release_barrier, finished_barrier;
static uint64_t release_ns;

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    MYSQL *m = mysql_init(NULL);
    w->connected = m != NULL && connect_app(m, w->transport) && select_one(m);
    if (!w->connected)
        snprintf(w->error, sizeof w->error, "%s", m ? mysql_error(m) : "out of memory");
    pthread_barrier_wait(&connected_barrier);
    pthread_barrier_wait(&release_barrier);
    if (w->connected) {
        w->recovered = select_one(m);
        w->done_ns = now_ns();
        if (!w->recovered)
            snprintf(w->error, sizeof w->error, "%s", mysql_error(m));
    }
    /* Every handle stays open until all are done: the peak counts them all. */
    pthread_barrier_wait(&finished_barrier);
    mysql_close(m);
    return NULL;
}

/* One descriptor per connection, and the process' own. */
static void raise_fd_limit(long handles)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)handles + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)handles + 64)
            die("only %lu file descriptors allowed (ulimit -n), %ld handles need more", (unsigned long)rl.rlim_cur,
                handles);
    }
}

int main(int argc, char **argv)
{
    bench_prog = "scale";
    enum transport t = OVER_SOCKET;
    long handles = 1000;
    const struct option_spec options[] = {{"--handles", &handles, 1, 2500}, {NULL, NULL, 0, 0}};
    parse_options(argc, argv, &t, options, "scale --handles N --transport socket|tcp");
    raise_fd_limit(handles);
    if (mysql_library_init(0, NULL, NULL) != 0)
        die("mysql_library_init failed");

    MYSQL *admin = connect_admin();
    struct worker *w = calloc((size_t)handles, sizeof *w);
    if (w == NULL)
        die("out of memory");
    pthread_barrier_init(&connected_barrier, NULL, (unsigned)handles + 1);
    pthread_barrier_init(&release_barrier, NULL, (unsigned)handles + 1);
    pthread_barrier_init(&finished_barrier, NULL, (unsigned)handles + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (long i = 0; i < handles; i++) {
        w[i].transport = t;
        if (pthread_create(&w[i].thread, &attr, run_worker, &w[i]) != 0)
            die("pthread_create failed at thread %ld", i);
    }
    pthread_barrier_wait(&connected_barrier);
    long connected = 0;
    for (long i = 0; i < handles; i++)
        connected += w[i].connected;
    if (connected != handles) {
        for (long i = 0; i < handles; i++)
            if (!w[i].connected)
                die("%ld of %ld handles could not connect; first error: %s", handles - connected, handles, w[i].error);
    }

    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.processlist WHERE user = '%s'",
             env_or_die("GONESHIM_TEST_USER"));
    if (query_number(admin, sql) != handles)
        die("the server does not show %ld application connections", handles);
    char kill[128];
    snprintf(kill, sizeof kill, "KILL CONNECTION USER '%s'", env_or_die("GONESHIM_TEST_USER"));
    if (mysql_query(admin, kill) != 0)
        die("%s: %s", kill, mysql_error(admin));
    /* The KILLs are asynchronous: wait until the server holds none. */
    uint64_t wait_until = now_ns() + 10 * 1000000000ull;
    while (query_number(admin, sql) != 0) {
        if (now_ns() > wait_until)
            die("the killed connections are still there after 10 s");
        sleep_ms(5);
    }
    sleep_ms(50); /* the FINs reach the clients' sockets */
    /* The peak counter starts again from the connections open now. */
    if (mysql_query(admin, "FLUSH STATUS") != 0)
        die("FLUSH STATUS: %s", mysql_error(admin));

    release_ns = now_ns();
    pthread_barrier_wait(&release_barrier);
    pthread_barrier_wait(&finished_barrier);
    long long peak = query_number(admin, "SHOW GLOBAL STATUS LIKE 'Max_used_connections'");
    for (long i = 0; i < handles; i++)
        pthread_join(w[i].thread, NULL);

    uint64_t *latency = calloc((size_t)handles, sizeof *latency);
    if (latency == NULL)
        die("out of memory");
    long recovered = 0;
    uint64_t last = release_ns;
    const char *first_error = NULL;
    for (long i = 0; i < handles; i++) {
        if (w[i].recovered) {
            latency[recovered++] = w[i].done_ns - release_ns;
            if (w[i].done_ns > last)
                last = w[i].done_ns;
        } else if (first_error == NULL) {
            first_error = w[i].error;
        }
    }
    printf("handles=%ld recovered=%ld failed=%ld wall_ms=%.1f p50_ms=%.1f p99_ms=%.1f peak_connections=%lld\n",
           handles, recovered, handles - recovered, (double)(last - release_ns) / 1e6,
           (double)quantile(latency, (size_t)recovered, 0.5) / 1e6,
           (double)quantile(latency, (size_t)recovered, 0.99) / 1e6, peak);
    if (first_error != NULL)
        fprintf(stderr, "scale: first error: %s\n", first_error);
    free(latency);
    free(w);
    mysql_close(admin);
    return 0;
}
