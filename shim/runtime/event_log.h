/* event_log.h - GONESHIM_LOG: one line per event, nothing by default. */
#ifndef GONESHIM_EVENT_LOG_H
#define GONESHIM_EVENT_LOG_H

#include <stdbool.h>

struct goneshim_config;

void event_log_configure(const struct goneshim_config *cfg);
bool event_log_enabled(void);
/* printf-style; the line gets a "goneshim[pid] <UTC time> " prefix and a
 * newline, and is written with one write() so lines of several processes
 * appending to one file do not interleave. */
void event_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The fields of an event about a connection handle, for
 * GONESHIM_LOG_FORMAT=json (in text they are in the message already).
 * Unknown ones: NULL, 0, a negative number. */
struct log_fields {
    const char *event;  /* "reconnected", "reconnect_failed", "statement_failed", ... */
    const char *reason; /* why */
    unsigned long long old_id, new_id; /* connection ids */
    double idle_s, duration_ms;
    int in_transaction; /* 1, 0, or -1: not said */
};

/* One line about `handle`: in text, "handle 0x...: message"; in JSON,
 * {"time", "pid", "handle", "event", "message", and the fields known}. */
void event_log_handle(const void *handle, const struct log_fields *f, const char *message);
/* Always to stderr, whatever GONESHIM_LOG says: for the few conditions a
 * user must hear about (bad variable, unknown library). */
void event_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
