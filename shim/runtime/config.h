/* config.h - every GONESHIM_* variable, in one table, and their parsers.
 *
 * The table in config.c is the single source of truth: each row holds the
 * variable's name, its kind, its default (once, as text, parsed by the same
 * parser as a value from the environment), the accepted form and its
 * meaning. The library reads it, the launcher validates through it
 * (GONESHIM_VALIDATE), and a unit test checks that the README documents
 * every row. Parsing is strict (no atoi): a bad value gives one line naming
 * the variable and the accepted form, and the default applies.
 */
#ifndef GONESHIM_CONFIG_H
#define GONESHIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)

enum log_target_kind { LOG_OFF, LOG_STDERR, LOG_FILE, LOG_TO_SYSLOG };
enum stats_target_kind { STATS_AUTO, STATS_OFF, STATS_DIR };

struct goneshim_config {
    bool disabled;                 /* GONESHIM_DISABLE */
    uint64_t idle_ns;              /* GONESHIM_IDLE; 0 = never ping */
    uint64_t ping_timeout_ns;      /* GONESHIM_PING_TIMEOUT */
    uint64_t reconnect_timeout_ns; /* GONESHIM_RECONNECT_TIMEOUT */
    bool retry_reads;              /* GONESHIM_RETRY_READS */
    uint64_t keepalive_ns;         /* GONESHIM_TCP_KEEPALIVE; 0 = leave the socket alone */
    bool replay;                   /* GONESHIM_REPLAY */
    uint64_t replay_max;           /* GONESHIM_REPLAY_MAX, bytes; 0 = no transaction is recorded */
    enum log_target_kind log_kind; /* GONESHIM_LOG */
    bool log_json;                 /* GONESHIM_LOG_FORMAT=json */
    char log_path[4096];
    enum stats_target_kind stats_kind; /* GONESHIM_STATS */
    char stats_path[4096];
};

enum config_kind {
    CONFIG_BOOL,              /* 1/0, on/off, yes/no, true/false */
    CONFIG_DURATION,          /* 0 or a duration */
    CONFIG_POSITIVE_DURATION, /* a duration above 0 */
    CONFIG_DURATION_OR_OFF,   /* off (or 0), or a duration of at least 1 s */
    CONFIG_SIZE,              /* 0 or a size in bytes: 512, 64k, 1M (at most 1G) */
    CONFIG_LOG_TARGET,        /* off, stderr, or a path */
    CONFIG_STATS_TARGET,      /* auto, off, or a directory */
    CONFIG_LOG_FORMAT,        /* text or json */
};

struct config_variable {
    const char *name;         /* GONESHIM_... */
    enum config_kind kind;
    const char *default_text; /* parsed like a value: the default */
    const char *accepted;     /* the accepted form, as printed on a bad value */
    const char *meaning;      /* one line, for --help and the README */
    size_t offset;            /* of the field in struct goneshim_config */
};

extern const struct config_variable config_variables[];
extern const size_t config_variable_count;

/* Fills `cfg` from `lookup` (getenv in production, a table in tests).
 * Each bad value is reported through `complain` (may be NULL) as one
 * complete line (no newline) and its default applies. Returns the number
 * of bad values. */
typedef const char *(*config_lookup_fn)(const char *name);
typedef void (*config_complain_fn)(const char *line);
unsigned config_load(struct goneshim_config *cfg, config_lookup_fn lookup, config_complain_fn complain);

/* "250ms", "1.5s", "2m", "30" (seconds); 0 allowed. At most 24 hours. */
bool config_parse_duration(const char *text, uint64_t *ns);
/* "4096", "64k", "1M", "1G" (powers of 1024); 0 allowed. At most 1 GiB. */
bool config_parse_size(const char *text, uint64_t *bytes);
/* 1/0, on/off, yes/no, true/false, case-insensitive. */
bool config_parse_bool(const char *text, bool *value);

#endif
