/* threaded_worker - N threads, each with its own handle (as MySQLdb does
 * with one connection per thread), each looping {read, autocommit insert,
 * idle}. Any error is printed and counted; exit 0 only if there were none.
 * With --fork, the main thread also forks children that connect and query
 * while the other threads connect, query and close: the shim's locks and
 * state must survive fork at any moment.
 *
 * usage: threaded_worker THREADS ITERATIONS IDLE_MS TAG [--fork]
 */
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int iterations, idle_ms;
static const char *tag;
static int errors, acked;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop_forking;

static MYSQL *connect_one(void)
{
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, NULL, getenv("GONESHIM_TEST_USER"), getenv("GONESHIM_TEST_PASSWORD"),
                            getenv("GONESHIM_TEST_DB"), 0, getenv("GONESHIM_TEST_SOCKET"), 0)) {
        fprintf(stderr, "threaded_worker: connect: %u %s\n", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

static int run(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "threaded_worker: %s: %u %s\n", sql, mysql_errno(m), mysql_error(m));
        return -1;
    }
    mysql_free_result(mysql_store_result(m));
    return 0;
}

static void count(int *counter)
{
    pthread_mutex_lock(&count_lock);
    (*counter)++;
    pthread_mutex_unlock(&count_lock);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char sql[256];
    MYSQL *m = connect_one();
    if (m == NULL) {
        count(&errors);
        return NULL;
    }
    for (int i = 0; i < iterations; i++) {
        if (run(m, "SELECT CONNECTION_ID()") != 0)
            count(&errors);
        snprintf(sql, sizeof sql, "INSERT INTO worker_log (tag, n) VALUES ('%s-%ld', %d)", tag, id, i);
        if (run(m, sql) != 0)
            count(&errors);
        else
            count(&acked);
        usleep((useconds_t)idle_ms * 1000);
    }
    mysql_close(m);
    return NULL;
}

static void *forker(void *unused)
{
    (void)unused;
    while (!stop_forking) {
        pid_t pid = fork();
        if (pid == 0) {
            MYSQL *m = connect_one();
            int rc = m == NULL || run(m, "SELECT 1") != 0;
            if (m)
                mysql_close(m);
            _exit(rc);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "threaded_worker: forked child failed (status %d)\n", status);
            count(&errors);
        }
        usleep(20000);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: threaded_worker THREADS ITERATIONS IDLE_MS TAG [--fork]\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    iterations = atoi(argv[2]);
    idle_ms = atoi(argv[3]);
    tag = argv[4];
    int with_fork = argc > 5 && strcmp(argv[5], "--fork") == 0;

    mysql_library_init(0, NULL, NULL);
    MYSQL *setup = connect_one();
    if (setup == NULL || run(setup, "CREATE TABLE IF NOT EXISTS worker_log (id BIGINT AUTO_INCREMENT "
                                    "PRIMARY KEY, tag VARCHAR(64) NOT NULL, n INT NOT NULL, KEY(tag)) "
                                    "ENGINE=InnoDB") != 0)
        return 1;
    mysql_close(setup);

    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    pthread_t fork_tid;
    for (long i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, worker, (void *)i);
    if (with_fork)
        pthread_create(&fork_tid, NULL, forker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    stop_forking = 1;
    if (with_fork)
        pthread_join(fork_tid, NULL);
    free(tids);
    printf("acked=%d errors=%d iterations=%d\n", acked, errors, threads * iterations);
    mysql_library_end();
    return errors == 0 ? 0 : 1;
}
