/* config.c - the GONESHIM_* variables: table, defaults, strict parsing. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Defaults, and why:
 * IDLE 60s: the peek already catches every close the server announces (KILL,
 *   wait_timeout, restart); a ping only matters for silent drops by NAT or
 *   load balancers, whose idle limits are minutes (AWS NLB 350 s, Azure 4
 *   min). One round trip per minute of idleness costs nothing.
 * PING_TIMEOUT 5s: a healthy server answers a ping in well under a second;
 *   a silently dropped flow never answers, so this bounds the stall.
 * RECONNECT_TIMEOUT 30s: long enough to ride out a server restart, short
 *   enough that a worker facing a dead server fails in bounded time.
 * TCP_KEEPALIVE off: the application's sockets are left as it made them
 *   unless the operator asks; the idle ping covers silent drops anyway.
 * REPLAY on: a replay only ever goes on when every answer the application
 *   saw comes back identical, and users preload goneshim not to see these
 *   errors. REPLAY_MAX 1M: MaxScale's transaction_replay_max_size default;
 *   a worker's transaction is a handful of statements, and what is kept
 *   per statement is its text, its parameters and 48 bytes of answer. */
#define FIELD(f) offsetof(struct goneshim_config, f)
const struct config_variable config_variables[] = {
    {"GONESHIM_DISABLE", CONFIG_BOOL, "0", "0 or 1 (also on/off, yes/no, true/false)",
     "1 loads the library but passes every call straight through", FIELD(disabled)},
    {"GONESHIM_IDLE", CONFIG_DURATION, "60s", "0, or a duration: 250ms, 30s, 5m (a number alone is seconds)",
     "ping a handle before a statement once it has been idle this long (0: never ping, peek only)", FIELD(idle_ns)},
    {"GONESHIM_PING_TIMEOUT", CONFIG_POSITIVE_DURATION, "5s",
     "a duration above 0: 500ms, 5s (a number alone is seconds)",
     "how long that ping may wait for an answer before the connection counts as lost", FIELD(ping_timeout_ns)},
    {"GONESHIM_RECONNECT_TIMEOUT", CONFIG_DURATION, "30s",
     "0, or a duration: 500ms, 30s, 2m (a number alone is seconds)",
     "how long reconnect attempts go on, with backoff and jitter, before the statement fails (0: one attempt)",
     FIELD(reconnect_timeout_ns)},
    {"GONESHIM_RETRY_READS", CONFIG_BOOL, "1", "0 or 1 (also on/off, yes/no, true/false)",
     "send a statement that is safe to repeat (read-only, USE, SET, BEGIN) again after it failed because the "
     "connection died",
     FIELD(retry_reads)},
    {"GONESHIM_TCP_KEEPALIVE", CONFIG_DURATION_OR_OFF, "off", "off, or a duration of 1s or more: 30s, 2m",
     "TCP keepalive on the connections' sockets, first probe after this much idleness: a dropped flow is found "
     "(and a NAT's idle timer reset) before the application needs it",
     FIELD(keepalive_ns)},
    {"GONESHIM_REPLAY", CONFIG_BOOL, "1", "0 or 1 (also on/off, yes/no, true/false)",
     "a transaction whose connection died goes on after replaying it on a fresh connection, when every answer it "
     "had (rows, counts, ids, warnings) comes back identical (0: it is lost, and fails until ROLLBACK)",
     FIELD(replay)},
    {"GONESHIM_REPLAY_MAX", CONFIG_SIZE, "1M", "0, or a size in bytes: 65536, 64k, 1M (at most 1G)",
     "how much of an open transaction (statements and parameters) is kept for its replay; a larger one is not "
     "replayable",
     FIELD(replay_max)},
    {"GONESHIM_LOG", CONFIG_LOG_TARGET, "off", "off, stderr, syslog, or a file path",
     "one line per event (reconnect, refused reconnect, failure); never a password", FIELD(log_kind)},
    {"GONESHIM_LOG_FORMAT", CONFIG_LOG_FORMAT, "text", "text or json",
     "the log's lines: text, or one JSON object per line (time, pid, handle, event, reason, connection ids, idle "
     "time, duration, in a transaction or not, message)",
     FIELD(log_json)},
    {"GONESHIM_STATS", CONFIG_STATS_TARGET, "auto", "auto, off, or a directory",
     "where each process keeps its counters, one Prometheus text file per process (PID.prom), for goneshim stats "
     "and node_exporter's textfile collector; auto: $XDG_RUNTIME_DIR/goneshim, else /tmp/goneshim-UID",
     FIELD(stats_kind)},
};
#undef FIELD
const size_t config_variable_count = sizeof config_variables / sizeof config_variables[0];

bool config_parse_bool(const char *text, bool *value)
{
    static const char *const yes[] = {"1", "on", "yes", "true"};
    static const char *const no[] = {"0", "off", "no", "false"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *value = true;
            return true;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *value = false;
            return true;
        }
    }
    return false;
}

bool config_parse_duration(const char *text, uint64_t *ns)
{
    /* Fixed point by hand rather than strtod: no locale, no exponents, no
     * "inf", and an exact answer for "0.1s". */
    const char *p = text;
    uint64_t whole = 0, frac = 0, frac_scale = 1;
    bool digits = false;

    while (*p >= '0' && *p <= '9') {
        if (whole > UINT64_C(100000000))
            return false;
        whole = whole * 10 + (uint64_t)(*p++ - '0');
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (frac_scale < UINT64_C(1000000000)) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;

    uint64_t unit;
    if (*p == '\0' || strcmp(p, "s") == 0)
        unit = NS_PER_S;
    else if (strcmp(p, "ms") == 0)
        unit = NS_PER_MS;
    else if (strcmp(p, "m") == 0)
        unit = 60 * NS_PER_S;
    else
        return false;

    uint64_t value = whole * unit + frac * unit / frac_scale;
    if (value > (uint64_t)24 * 3600 * NS_PER_S)
        return false;
    *ns = value;
    return true;
}

bool config_parse_size(const char *text, uint64_t *bytes)
{
    const char *p = text;
    uint64_t n = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        if (n > (UINT64_C(1) << 31))
            return false;
        n = n * 10 + (uint64_t)(*p++ - '0');
    }
    unsigned shift = 0;
    if (*p == 'k' || *p == 'K')
        shift = 10;
    else if (*p == 'm' || *p == 'M')
        shift = 20;
    else if (*p == 'g' || *p == 'G')
        shift = 30;
    if (shift != 0)
        p++;
    if (*p != '\0' || n > (UINT64_C(1) << 30) >> shift)
        return false;
    *bytes = n << shift;
    return true;
}

static void complain_about(config_complain_fn complain, const struct config_variable *v, const char *value)
{
    if (complain == NULL)
        return;
    char line[512];
    (void)snprintf(line, sizeof line, "goneshim: %s=\"%.80s\" is not valid (accepted: %s); using the default %s",
             v->name, value, v->accepted, v->default_text);
    complain(line);
}

static bool is_off(const char *text)
{
    return strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0;
}

/* Parses `text` as variable v's kind into its field of cfg; false (cfg
 * untouched) when it is not valid. */
static bool parse_into(const struct config_variable *v, const char *text, struct goneshim_config *cfg)
{
    void *field = (char *)cfg + v->offset;
    uint64_t ns;
    switch (v->kind) {
    case CONFIG_BOOL:
        return config_parse_bool(text, field);
    case CONFIG_DURATION:
    case CONFIG_POSITIVE_DURATION:
        if (!config_parse_duration(text, &ns) || (v->kind == CONFIG_POSITIVE_DURATION && ns == 0))
            return false;
        *(uint64_t *)field = ns;
        return true;
    case CONFIG_DURATION_OR_OFF:
        if (is_off(text)) {
            *(uint64_t *)field = 0;
            return true;
        }
        if (!config_parse_duration(text, &ns) || ns < NS_PER_S)
            return false;
        *(uint64_t *)field = ns;
        return true;
    case CONFIG_SIZE:
        return config_parse_size(text, field);
    case CONFIG_STATS_TARGET:
        if (is_off(text)) {
            cfg->stats_kind = STATS_OFF;
        } else if (strcasecmp(text, "auto") == 0) {
            cfg->stats_kind = STATS_AUTO;
        } else if (text[0] == '/' && strlen(text) < sizeof cfg->stats_path - 32) {
            cfg->stats_kind = STATS_DIR;
            memcpy(cfg->stats_path, text, strlen(text) + 1);
        } else {
            return false; /* a relative directory would follow the working directory */
        }
        return true;
    case CONFIG_LOG_FORMAT:
        if (strcasecmp(text, "text") == 0 || strcasecmp(text, "json") == 0) {
            cfg->log_json = strcasecmp(text, "json") == 0;
            return true;
        }
        return false;
    case CONFIG_LOG_TARGET:
        if (is_off(text)) {
            cfg->log_kind = LOG_OFF;
        } else if (strcasecmp(text, "syslog") == 0) {
            cfg->log_kind = LOG_TO_SYSLOG;
        } else if (strcasecmp(text, "stderr") == 0) {
            cfg->log_kind = LOG_STDERR;
        } else if (strlen(text) < sizeof cfg->log_path) {
            cfg->log_kind = LOG_FILE;
            memcpy(cfg->log_path, text, strlen(text) + 1);
        } else {
            return false;
        }
        return true;
    }
    return false;
}

unsigned config_load(struct goneshim_config *cfg, config_lookup_fn lookup, config_complain_fn complain)
{
    unsigned bad = 0;
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < config_variable_count; i++) {
        const struct config_variable *v = &config_variables[i];
        parse_into(v, v->default_text, cfg); /* the defaults parse: a unit test says so */
        const char *text = lookup(v->name);
        if (text == NULL || *text == '\0')
            continue;
        if (!parse_into(v, text, cfg)) {
            complain_about(complain, v, text);
            bad++;
        }
    }
    return bad;
}
