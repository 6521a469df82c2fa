/* event_log.c - the log sink. */
#include "event_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "global_locks.h"

static int log_fd = -1; /* written once under log_lock, read without it */

void event_log_configure(const struct goneshim_config *cfg)
{
    pthread_mutex_lock(&log_lock);
    if (cfg->log_kind == LOG_STDERR) {
        log_fd = STDERR_FILENO;
    } else if (cfg->log_kind == LOG_FILE) {
        /* Never block the host on its log: O_NONBLOCK makes opening a FIFO
         * that nobody reads fail at once (ENXIO) rather than wait forever,
         * and a write that would block is dropped. The log can hold SQL
         * text (the first 200 bytes of a setting that failed to replay):
         * only its owner may read it. */
        int fd = open(cfg->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
        if (fd < 0)
            event_warn("goneshim: cannot open GONESHIM_LOG file %s: %s; logging off", cfg->log_path,
                       errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
        log_fd = fd;
    }
    pthread_mutex_unlock(&log_lock);
}

bool event_log_enabled(void)
{
    return __atomic_load_n(&log_fd, __ATOMIC_RELAXED) >= 0;
}

static void write_line(int fd, const char *fmt, va_list ap, bool with_prefix)
{
    char line[1024];
    size_t n = 0;
    if (with_prefix) {
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        (void)gmtime_r(&tv.tv_sec, &tm); /* cannot fail for the time of day */
        n = (size_t)snprintf(line, sizeof line, "goneshim[%ld] %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ",
                             (long)getpid(), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                             tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
    }
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    if (m < 0)
        return;
    n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    line[n++] = '\n';
    int saved = errno; /* never disturb the application's errno */
    ssize_t ignored = write(fd, line, n);
    (void)ignored;
    errno = saved;
}

void event_log(const char *fmt, ...)
{
    int fd = __atomic_load_n(&log_fd, __ATOMIC_RELAXED);
    if (fd < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(fd, fmt, ap, true);
    va_end(ap);
}

void event_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(STDERR_FILENO, fmt, ap, false);
    va_end(ap);
}
