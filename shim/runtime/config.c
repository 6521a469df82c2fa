/* config.c - the GONESHIM_* variables: table, defaults, strict parsing. */
#include "config.h"

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
 *   enough that a worker facing a dead server fails in bounded time. */
const struct config_variable config_variables[] = {
    {"GONESHIM_DISABLE", "0", "0 or 1 (also on/off, yes/no, true/false)",
     "1 loads the library but passes every call straight through"},
    {"GONESHIM_IDLE", "60s", "0, or a duration: 250ms, 30s, 5m (a number alone is seconds)",
     "ping a handle before a statement once it has been idle this long (0: never ping, peek only)"},
    {"GONESHIM_PING_TIMEOUT", "5s", "a duration above 0: 500ms, 5s (a number alone is seconds)",
     "how long that ping may wait for an answer before the connection counts as lost"},
    {"GONESHIM_RECONNECT_TIMEOUT", "30s", "0, or a duration: 500ms, 30s, 2m (a number alone is seconds)",
     "how long reconnect attempts go on, with backoff and jitter, before the statement fails (0: one attempt)"},
    {"GONESHIM_RETRY_READS", "1", "0 or 1 (also on/off, yes/no, true/false)",
     "send a statement that is safe to repeat (read-only, USE, SET, BEGIN) again after it failed because the connection died"},
    {"GONESHIM_LOG", "off", "off, stderr, or a file path",
     "one line per event (reconnect, refused reconnect, failure); never a password"},
};
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
    if (value > 24 * 3600 * NS_PER_S)
        return false;
    *ns = value;
    return true;
}

static void complain_about(config_complain_fn complain, const struct config_variable *v,
                           const char *value)
{
    char line[512];
    snprintf(line, sizeof line, "goneshim: %s=\"%.80s\" is not valid (accepted: %s); using the default %s",
             v->name, value, v->accepted, v->default_text);
    complain(line);
}

static const struct config_variable *variable_named(const char *name)
{
    for (size_t i = 0; i < config_variable_count; i++)
        if (strcmp(config_variables[i].name, name) == 0)
            return &config_variables[i];
    return NULL;
}

/* Parses one variable with `parse`; on a bad value complains, keeps the
 * default already in *out, and counts it. */
static unsigned load_duration(const char *name, uint64_t *out, bool allow_zero,
                              config_lookup_fn lookup, config_complain_fn complain)
{
    const char *text = lookup(name);
    uint64_t ns;
    if (text == NULL || *text == '\0')
        return 0;
    if (config_parse_duration(text, &ns) && (allow_zero || ns > 0)) {
        *out = ns;
        return 0;
    }
    complain_about(complain, variable_named(name), text);
    return 1;
}

static unsigned load_bool(const char *name, bool *out, config_lookup_fn lookup,
                          config_complain_fn complain)
{
    const char *text = lookup(name);
    bool value;
    if (text == NULL || *text == '\0')
        return 0;
    if (config_parse_bool(text, &value)) {
        *out = value;
        return 0;
    }
    complain_about(complain, variable_named(name), text);
    return 1;
}

unsigned config_load(struct goneshim_config *cfg, config_lookup_fn lookup,
                     config_complain_fn complain)
{
    unsigned bad = 0;

    memset(cfg, 0, sizeof *cfg);
    cfg->idle_ns = 60 * NS_PER_S;
    cfg->ping_timeout_ns = 5 * NS_PER_S;
    cfg->reconnect_timeout_ns = 30 * NS_PER_S;
    cfg->retry_reads = true;
    cfg->log_kind = LOG_OFF;

    bad += load_bool("GONESHIM_DISABLE", &cfg->disabled, lookup, complain);
    bad += load_duration("GONESHIM_IDLE", &cfg->idle_ns, true, lookup, complain);
    bad += load_duration("GONESHIM_PING_TIMEOUT", &cfg->ping_timeout_ns, false, lookup, complain);
    bad += load_duration("GONESHIM_RECONNECT_TIMEOUT", &cfg->reconnect_timeout_ns, true, lookup,
                         complain);
    bad += load_bool("GONESHIM_RETRY_READS", &cfg->retry_reads, lookup, complain);

    const char *log = lookup("GONESHIM_LOG");
    if (log == NULL || *log == '\0' || strcasecmp(log, "off") == 0 || strcmp(log, "0") == 0) {
        cfg->log_kind = LOG_OFF;
    } else if (strcasecmp(log, "stderr") == 0) {
        cfg->log_kind = LOG_STDERR;
    } else if (strlen(log) < sizeof cfg->log_path) {
        cfg->log_kind = LOG_FILE;
        memcpy(cfg->log_path, log, strlen(log) + 1);
    } else {
        complain_about(complain, variable_named("GONESHIM_LOG"), log);
        bad++;
    }
    return bad;
}
