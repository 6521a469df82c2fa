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
/* Always to stderr, whatever GONESHIM_LOG says: for the few conditions a
 * user must hear about (bad variable, unknown library). */
void event_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
