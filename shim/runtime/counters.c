/* counters.c - per-process counters and their Prometheus text file
 * (counters.h). */
#include "counters.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "event_log.h"
#include "global_locks.h"

static uint64_t counts[COUNT_SLOTS];

/* One metric family per name; its slots carry one label, or none. */
struct slot_info {
    const char *family;
    const char *label;  /* NULL: none */
    const char *value;
};

static const struct slot_info slots[COUNT_SLOTS] = {
    [COUNT_HANDLES_LIBMARIADB] = {"goneshim_handles_managed_total", "library", "libmariadb"},
    [COUNT_HANDLES_LIBMYSQLCLIENT] = {"goneshim_handles_managed_total", "library", "libmysqlclient"},
    [COUNT_HANDLES_MYSQLND] = {"goneshim_handles_managed_total", "library", "mysqlnd"},
    [COUNT_RECONNECT_PEER_CLOSED] = {"goneshim_reconnects_total", "reason", "peer_closed"},
    [COUNT_RECONNECT_PING_FAILED] = {"goneshim_reconnects_total", "reason", "ping_failed"},
    [COUNT_RECONNECT_LIBRARY_DROPPED] = {"goneshim_reconnects_total", "reason", "library_dropped"},
    [COUNT_RECONNECT_AFTER_FAILURE] = {"goneshim_reconnects_total", "reason", "after_failure"},
    [COUNT_RECONNECT_TRANSACTION] = {"goneshim_reconnects_total", "reason", "transaction_replay"},
    [COUNT_RECONNECT_ROLLBACK] = {"goneshim_reconnects_total", "reason", "rollback_of_lost"},
    [COUNT_RECONNECT_OTHER] = {"goneshim_reconnects_total", "reason", "other"},
    [COUNT_RECONNECT_FAILURES] = {"goneshim_reconnect_failures_total", NULL, NULL},
    [COUNT_RECONNECT_MICROSECONDS] = {"goneshim_reconnect_seconds_total", NULL, NULL},
    [COUNT_SETTINGS_REPLAYED] = {"goneshim_settings_replayed_total", NULL, NULL},
    [COUNT_SENT_AGAIN] = {"goneshim_statements_sent_again_total", NULL, NULL},
    [COUNT_NOT_REPEATED] = {"goneshim_statements_not_repeated_total", NULL, NULL},
    [COUNT_TRANSACTIONS_LOST] = {"goneshim_transactions_lost_total", NULL, NULL},
    [COUNT_TRANSACTIONS_REPLAYED] = {"goneshim_transactions_replayed_total", NULL, NULL},
    [COUNT_REPLAYS_REFUSED] = {"goneshim_replays_refused_total", NULL, NULL},
    [COUNT_COMMIT_UNKNOWN] = {"goneshim_commit_outcome_unknown_total", NULL, NULL},
};

/* The families' help, in the order they are written (the README's table of
 * counters is checked against it by a unit test). */
static const struct {
    const char *name, *help;
} families[] = {
    {"goneshim_handles_managed_total", "connection handles goneshim managed, by client library"},
    {"goneshim_reconnects_total", "reconnects in place, by reason"},
    {"goneshim_reconnect_failures_total", "reconnects that failed (the statement got the connect error)"},
    {"goneshim_reconnect_seconds_total", "time spent reconnecting and restoring sessions"},
    {"goneshim_settings_replayed_total", "session settings replayed on fresh connections"},
    {"goneshim_statements_sent_again_total", "statements sent again after their connection died under them"},
    {"goneshim_statements_not_repeated_total",
     "statements that failed because their connection died after they were sent and they may have run"},
    {"goneshim_transactions_lost_total", "transactions lost with their connection (failed until ROLLBACK)"},
    {"goneshim_transactions_replayed_total", "transactions replayed on a fresh connection, and gone on"},
    {"goneshim_replays_refused_total", "transaction replays refused (not tried, or an answer differed)"},
    {"goneshim_commit_outcome_unknown_total", "COMMITs whose connection died while they were in flight"},
};

const char *counters_family(size_t i)
{
    return i < sizeof families / sizeof families[0] ? families[i].name : NULL;
}

void counter_add(enum counter_slot slot, uint64_t n)
{
    __atomic_add_fetch(&counts[slot], n, __ATOMIC_RELAXED);
}

void counters_reset(void)
{
    for (unsigned i = 0; i < COUNT_SLOTS; i++)
        __atomic_store_n(&counts[i], 0, __ATOMIC_RELAXED);
}

size_t counters_render(char *buf, size_t size, long pid, unsigned long long start)
{
    size_t n = 0;
#define PUT(...)                                                                                 \
    do {                                                                                         \
        int m_ = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);                      \
        n += m_ > 0 ? (size_t)m_ : 0;                                                            \
    } while (0)
    PUT("# goneshim pid=%ld start=%llu\n", pid, start);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        PUT("# HELP %s %s\n# TYPE %s counter\n", families[f].name, families[f].help, families[f].name);
        for (unsigned i = 0; i < COUNT_SLOTS; i++) {
            if (strcmp(slots[i].family, families[f].name) != 0)
                continue;
            uint64_t v = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
            char value[32];
            if (i == COUNT_RECONNECT_MICROSECONDS)
                (void)snprintf(value, sizeof value, "%llu.%06llu", (unsigned long long)(v / 1000000),
                               (unsigned long long)(v % 1000000));
            else
                (void)snprintf(value, sizeof value, "%llu", (unsigned long long)v);
            if (slots[i].label != NULL)
                PUT("%s{pid=\"%ld\",%s=\"%s\"} %s\n", slots[i].family, pid, slots[i].label, slots[i].value, value);
            else
                PUT("%s{pid=\"%ld\"} %s\n", slots[i].family, pid, value);
        }
    }
#undef PUT
    if (size > 0 && n >= size)
        buf[size - 1] = '\0';
    return n < size ? n : (size > 0 ? size - 1 : 0);
}

/* ---- the file ---- */

static char stats_dir[4096]; /* "": no file */
static long published_pid;   /* the process the dir was checked for (atomic) */
static int stats_refused;    /* the directory was refused: no file (atomic) */
static unsigned long long start_ticks;
static int stale;            /* a count changed since the last write */
static int exit_hook;

/* The directory exists, is ours, and nobody else's to read. */
static int dir_is_private(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return 0;
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

/* The start time of a process (clock ticks since boot, field 22 of its
 * /proc stat file), or 0 when there is no such process. */
static unsigned long long start_time(const char *stat_path)
{
    FILE *f = fopen(stat_path, "re");
    if (f == NULL)
        return 0;
    char line[1024];
    unsigned long long start = 0;
    if (fgets(line, sizeof line, f) != NULL) {
        /* The command name (field 2) may hold spaces: count from its
         * closing parenthesis. */
        const char *p = strrchr(line, ')');
        for (int field = 2; p != NULL && field < 22; field++)
            p = strchr(p + 1, ' ');
        if (p != NULL)
            start = strtoull(p + 1, NULL, 10);
    }
    (void)fclose(f);
    return start;
}

/* Files of processes that exited more than this long ago are removed,
 * so that a directory that sees many short-lived processes (php-fpm
 * recycling its workers) stays bounded; an hour leaves time to look. */
#define STALE_FILE_SECONDS 3600

/* Does the file `name` of `dir` belong to a process that exited, and
 * lie untouched for STALE_FILE_SECONDS? A live process rewrites its file
 * on every event, and its first line names it (pid, start time). */
static int stale_file_of_exited_process(int dir_fd, const char *name, time_t now)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        now - st.st_mtime < STALE_FILE_SECONDS)
        return 0;
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char head[96] = "";
    ssize_t n = read(fd, head, sizeof head - 1);
    (void)close(fd);
    static const char pid_key[] = "# goneshim pid=", start_key[] = " start=";
    if (n <= 0 || strncmp(head, pid_key, sizeof pid_key - 1) != 0)
        return 0;
    head[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(head + sizeof pid_key - 1, &end, 10);
    if (errno != 0 || pid <= 0 || strncmp(end, start_key, sizeof start_key - 1) != 0)
        return 0;
    unsigned long long start = strtoull(end + sizeof start_key - 1, &end, 10);
    if (errno != 0 || *end != '\n')
        return 0;
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    unsigned long long now_start = start_time(path); /* 0: no such process */
    return now_start != start; /* the pid is another process's now */
}

/* Removes the stale files of exited processes (once per process, at its
 * first write: a rare path). */
static void prune_directory(void)
{
    DIR *d = opendir(stats_dir);
    if (d == NULL)
        return;
    time_t now = time(NULL);
    int fd = dirfd(d);
    for (const struct dirent *e; fd >= 0 && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".prom") == 0 && stale_file_of_exited_process(fd, e->d_name, now))
            (void)unlinkat(fd, e->d_name, 0);
    }
    (void)closedir(d);
}

void counters_configure(const struct goneshim_config *cfg)
{
    stats_dir[0] = '\0';
    if (cfg->stats_kind == STATS_OFF)
        return;
    if (cfg->stats_kind == STATS_DIR) {
        (void)snprintf(stats_dir, sizeof stats_dir, "%s", cfg->stats_path);
        return;
    }
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime != NULL && runtime[0] == '/' && strlen(runtime) < sizeof stats_dir - 32)
        (void)snprintf(stats_dir, sizeof stats_dir, "%s/goneshim", runtime);
    else
        (void)snprintf(stats_dir, sizeof stats_dir, "/tmp/goneshim-%lu", (unsigned long)geteuid());
}

/* A process's first write (a forked child's too: its counts were reset at
 * the fork): its directory checked, its start time read, the stale files
 * removed. Outside the lock, since it reads files: two threads doing it at
 * once do it twice, harmlessly. False when the directory is refused. */
static int prepare_process(long pid)
{
    if (!dir_is_private(stats_dir)) {
        event_log("counters: %s is not a directory of this user's only; no counters file", stats_dir);
        return 0;
    }
    __atomic_store_n(&start_ticks, start_time("/proc/self/stat"), __ATOMIC_RELAXED);
    prune_directory();
    __atomic_store_n(&published_pid, pid, __ATOMIC_RELEASE);
    return 1;
}

/* Under stats_lock. */
static void write_file(long pid)
{
    char text[8192], tmp[4160], path[4160];
    size_t n = counters_render(text, sizeof text, pid, __atomic_load_n(&start_ticks, __ATOMIC_RELAXED));
    (void)snprintf(tmp, sizeof tmp, "%s/.%ld.prom.tmp", stats_dir, pid);
    (void)snprintf(path, sizeof path, "%s/%ld.prom", stats_dir, pid);
    int saved = errno;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd >= 0) {
        int ok = write(fd, text, n) == (ssize_t)n;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            (void)unlink(tmp);
    }
    errno = saved;
    stale = 0;
}

static void publish_at_exit(void)
{
    long pid = (long)getpid();
    pthread_mutex_lock(&stats_lock);
    if (stale && __atomic_load_n(&published_pid, __ATOMIC_ACQUIRE) == pid)
        write_file(pid);
    pthread_mutex_unlock(&stats_lock);
}

void counters_publish(int now)
{
    if (stats_dir[0] == '\0' || __atomic_load_n(&stats_refused, __ATOMIC_RELAXED))
        return;
    long pid = (long)getpid();
    /* A connect only marks the file stale, but for the process's first:
     * its file exists from its first connect on. */
    int first = __atomic_load_n(&published_pid, __ATOMIC_ACQUIRE) != pid;
    if (first && !prepare_process(pid)) {
        __atomic_store_n(&stats_refused, 1, __ATOMIC_RELAXED);
        return;
    }
    pthread_mutex_lock(&stats_lock);
    if (!exit_hook)
        exit_hook = atexit(publish_at_exit) == 0;
    stale = 1;
    if (now || first)
        write_file(pid);
    pthread_mutex_unlock(&stats_lock);
}

/* A forked child counts its own. */
void counters_after_fork_child(void)
{
    counters_reset();
    stale = 0;
}
