/* event_log.c - the log sink. */
#include "event_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "global_locks.h"

static int log_fd = -1; /* written once under log_lock, read without it */
static int log_json;    /* GONESHIM_LOG_FORMAT=json */
static int log_syslog;  /* GONESHIM_LOG=syslog: log_fd is a placeholder */

void event_log_configure(const struct goneshim_config *cfg)
{
    pthread_mutex_lock(&log_lock);
    log_json = cfg->log_json;
    if (cfg->log_kind == LOG_TO_SYSLOG) {
        /* The journal, through syslog(3): no pid or time of our own. */
        openlog("goneshim", LOG_PID | LOG_NDELAY, LOG_USER);
        log_syslog = 1;
        log_fd = STDERR_FILENO;
    } else if (cfg->log_kind == LOG_STDERR) {
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

/* The line's start: the process and the time, as text or as the first
 * JSON members. Nothing for syslog, which adds both itself. */
static size_t prefix(char *line, size_t size)
{
    if (log_syslog)
        return 0;
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    (void)gmtime_r(&tv.tv_sec, &tm); /* cannot fail for the time of day */
    int n;
    if (log_json)
        n = snprintf(line, size, "{\"time\": \"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\", \"pid\": %ld, ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), (long)getpid());
    else
        n = snprintf(line, size, "goneshim[%ld] %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", (long)getpid(),
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000));
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Writes the line (n bytes, with room for one more) at once: one write()
 * (lines of processes appending to one file do not interleave), or one
 * syslog(3) message. */
static void emit(int fd, char *line, size_t n)
{
    int saved = errno; /* never disturb the application's errno */
    if (log_syslog) {
        line[n] = '\0';
        syslog(LOG_INFO, "%s", line);
    } else {
        line[n++] = '\n';
        ssize_t ignored = write(fd, line, n);
        (void)ignored;
    }
    errno = saved;
}

static void write_line(int fd, const char *fmt, va_list ap, bool with_prefix)
{
    char line[1024];
    size_t n = with_prefix ? prefix(line, sizeof line) : 0;
    char message[900];
    int m = vsnprintf(message, sizeof message, fmt, ap);
    if (m < 0)
        return;
    if (with_prefix && log_json) {
        struct log_fields none = {.event = "note", .idle_s = -1, .duration_ms = -1, .in_transaction = -1};
        event_log_handle(NULL, &none, message);
        return;
    }
    size_t room = sizeof line - n - 1;
    size_t len = (size_t)m < sizeof message ? (size_t)m : sizeof message - 1; /* vsnprintf cut it there */
    if (len > room - 1)
        len = room - 1;
    memcpy(line + n, message, len);
    n += len;
    if (!with_prefix) {
        /* event_warn: always stderr, plain */
        line[n++] = '\n';
        int saved = errno;
        ssize_t ignored = write(fd, line, n);
        (void)ignored;
        errno = saved;
        return;
    }
    emit(fd, line, n);
}

/* Appends `text` as a JSON string (quoted, escaped), within `size`. */
static size_t json_string(char *out, size_t size, size_t n, const char *text)
{
    if (n + 2 >= size)
        return n;
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && n + 8 < size; p++) {
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(out + n, size - n, "\\u%04x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    return n;
}

void event_log_handle(const void *handle, const struct log_fields *f, const char *message)
{
    int fd = __atomic_load_n(&log_fd, __ATOMIC_RELAXED);
    if (fd < 0)
        return;
    char line[1536];
    size_t n = prefix(line, sizeof line);
    if (!log_json) {
        int m = handle != NULL ? snprintf(line + n, sizeof line - n - 1, "handle %p: %s", handle, message)
                               : snprintf(line + n, sizeof line - n - 1, "%s", message);
        if (m < 0)
            return;
        n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
        emit(fd, line, n);
        return;
    }
    if (log_syslog)
        n += (size_t)snprintf(line + n, sizeof line - n, "{");
#define ADD(...)                                                                  \
    do {                                                                          \
        int m_ = snprintf(line + n, n < sizeof line ? sizeof line - n : 0, __VA_ARGS__); \
        n += m_ > 0 ? (size_t)m_ : 0;                                             \
    } while (0)
    if (handle != NULL)
        ADD("\"handle\": \"%p\", ", handle);
    ADD("\"event\": ");
    n = json_string(line, sizeof line, n, f->event);
    if (f->reason != NULL) {
        ADD(", \"reason\": ");
        n = json_string(line, sizeof line, n, f->reason);
    }
    if (f->old_id != 0)
        ADD(", \"old_connection_id\": %llu", f->old_id);
    if (f->new_id != 0)
        ADD(", \"new_connection_id\": %llu", f->new_id);
    if (f->idle_s >= 0)
        ADD(", \"idle_s\": %.3f", f->idle_s);
    if (f->duration_ms >= 0)
        ADD(", \"duration_ms\": %.3f", f->duration_ms);
    if (f->in_transaction >= 0)
        ADD(", \"in_transaction\": %s", f->in_transaction ? "true" : "false");
    ADD(", \"message\": ");
#undef ADD
    if (n + 16 >= sizeof line)
        n = sizeof line - 16;
    n = json_string(line, sizeof line - 2, n, message);
    line[n++] = '}';
    emit(fd, line, n);
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
