/* GONESHIM_* parsing: strict, one line per bad value, defaults apply; and
 * the README documents every variable of the table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "readme_text.h"

static const char *const *fake_env;
static const char *lookup(const char *name)
{
    size_t len = strlen(name);
    for (const char *const *e = fake_env; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

static char complaints[4096];
static unsigned complaint_lines;
static void complain(const char *line)
{
    strncat(complaints, line, sizeof complaints - strlen(complaints) - 2);
    strcat(complaints, "\n");
    complaint_lines++;
}

static unsigned load(const char *const *env, struct goneshim_config *cfg)
{
    fake_env = env;
    complaints[0] = '\0';
    complaint_lines = 0;
    return config_load(cfg, lookup, complain);
}

Test(config, defaults)
{
    struct goneshim_config cfg;
    cr_assert_eq(load(NULL, &cfg), 0);
    cr_assert_not(cfg.disabled);
    cr_assert_eq(cfg.idle_ns, 60 * NS_PER_S);
    cr_assert_eq(cfg.ping_timeout_ns, 5 * NS_PER_S);
    cr_assert_eq(cfg.reconnect_timeout_ns, 30 * NS_PER_S);
    cr_assert(cfg.retry_reads);
    cr_assert_eq(cfg.log_kind, LOG_OFF);
    cr_assert_str_empty(complaints);
}

Test(config, durations)
{
    struct { const char *text; uint64_t ns; } good[] = {
        {"0", 0}, {"30", 30 * NS_PER_S}, {"250ms", 250 * NS_PER_MS}, {"1.5s", 1500 * NS_PER_MS},
        {"2m", 120 * NS_PER_S}, {"0.1", 100 * NS_PER_MS}, {"86400", 86400 * NS_PER_S}, {".5s", 500 * NS_PER_MS},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ns = 1;
        cr_assert(config_parse_duration(good[i].text, &ns), "%s", good[i].text);
        cr_assert_eq(ns, good[i].ns, "%s", good[i].text);
    }
    const char *bad[] = {"", "abc", "-1", "5 s", "5h", "1e3", "10sec", "86401", "99999999999999999999",
                         ".", "s", "0x10", " 5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ns = 7;
        cr_assert_not(config_parse_duration(bad[i], &ns), "\"%s\" accepted", bad[i]);
        cr_assert_eq(ns, 7, "untouched on failure");
    }
}

Test(config, booleans)
{
    const char *yes[] = {"1", "on", "YES", "true"}, *no[] = {"0", "Off", "no", "FALSE"};
    for (int i = 0; i < 4; i++) {
        bool v = false;
        cr_assert(config_parse_bool(yes[i], &v) && v, "%s", yes[i]);
        cr_assert(config_parse_bool(no[i], &v) && !v, "%s", no[i]);
    }
    bool v;
    cr_assert_not(config_parse_bool("2", &v));
    cr_assert_not(config_parse_bool("", &v));
    cr_assert_not(config_parse_bool("enabled", &v));
}

Test(config, values_apply)
{
    const char *env[] = {"GONESHIM_IDLE=0", "GONESHIM_PING_TIMEOUT=500ms", "GONESHIM_RECONNECT_TIMEOUT=2m",
                         "GONESHIM_RETRY_READS=off", "GONESHIM_DISABLE=yes", "GONESHIM_LOG=/tmp/x.log", NULL};
    struct goneshim_config cfg;
    cr_assert_eq(load(env, &cfg), 0);
    cr_assert_eq(cfg.idle_ns, 0);
    cr_assert_eq(cfg.ping_timeout_ns, 500 * NS_PER_MS);
    cr_assert_eq(cfg.reconnect_timeout_ns, 120 * NS_PER_S);
    cr_assert_not(cfg.retry_reads);
    cr_assert(cfg.disabled);
    cr_assert_eq(cfg.log_kind, LOG_FILE);
    cr_assert_str_eq(cfg.log_path, "/tmp/x.log");

    const char *to_stderr[] = {"GONESHIM_LOG=stderr", NULL};
    cr_assert_eq(load(to_stderr, &cfg), 0);
    cr_assert_eq(cfg.log_kind, LOG_STDERR);
}

Test(config, bad_values_one_line_each_and_defaults)
{
    const char *env[] = {"GONESHIM_IDLE=soon", "GONESHIM_PING_TIMEOUT=0", "GONESHIM_RETRY_READS=maybe", NULL};
    struct goneshim_config cfg;
    cr_assert_eq(load(env, &cfg), 3);
    cr_assert_eq(complaint_lines, 3);
    cr_assert_eq(cfg.idle_ns, 60 * NS_PER_S);
    cr_assert_eq(cfg.ping_timeout_ns, 5 * NS_PER_S, "0 is refused for the ping timeout");
    cr_assert(cfg.retry_reads);
    cr_assert(strstr(complaints, "GONESHIM_IDLE=\"soon\" is not valid (accepted: 0, or a duration") != NULL,
              "%s", complaints);
    cr_assert(strstr(complaints, "using the default 60s") != NULL, "%s", complaints);
    cr_assert(strstr(complaints, "GONESHIM_RETRY_READS=\"maybe\"") != NULL, "%s", complaints);
}

Test(config, readme_documents_every_variable)
{
    const char *readme = readme_text();
    for (size_t i = 0; i < config_variable_count; i++) {
        char row[256];
        snprintf(row, sizeof row, "| `%s` | `%s` |", config_variables[i].name, config_variables[i].default_text);
        cr_assert(strstr(readme, row) != NULL, "README.md lacks the table row starting %s", row);
    }
}

Test(config, every_default_parses_as_its_own_kind)
{
    /* The defaults are text, read by the same parser as the environment:
     * each must be a valid value of its variable. */
    for (size_t i = 0; i < config_variable_count; i++) {
        const char *env[2] = {NULL, NULL};
        char var[256];
        snprintf(var, sizeof var, "%s=%s", config_variables[i].name, config_variables[i].default_text);
        env[0] = var;
        struct goneshim_config from_env, defaults;
        cr_assert_eq(load(env, &from_env), 0, "the default of %s does not parse", config_variables[i].name);
        cr_assert_eq(load(NULL, &defaults), 0);
        cr_assert_eq(memcmp(&from_env, &defaults, sizeof defaults), 0, "%s", config_variables[i].name);
    }
}

Test(config, keepalive)
{
    struct goneshim_config cfg;
    cr_assert_eq(load(NULL, &cfg), 0);
    cr_assert_eq(cfg.keepalive_ns, 0, "off by default: the sockets are the application's");
    const char *on[] = {"GONESHIM_TCP_KEEPALIVE=30s", NULL};
    cr_assert_eq(load(on, &cfg), 0);
    cr_assert_eq(cfg.keepalive_ns, 30 * NS_PER_S);
    const char *off[] = {"GONESHIM_TCP_KEEPALIVE=off", NULL};
    cr_assert_eq(load(off, &cfg), 0);
    cr_assert_eq(cfg.keepalive_ns, 0);
    const char *too_short[] = {"GONESHIM_TCP_KEEPALIVE=500ms", NULL};
    cr_assert_eq(load(too_short, &cfg), 1, "the kernel counts keepalive in seconds");
    cr_assert_eq(cfg.keepalive_ns, 0);
}

Test(config, sizes)
{
    uint64_t n;
    cr_assert(config_parse_size("0", &n) && n == 0);
    cr_assert(config_parse_size("4096", &n) && n == 4096);
    cr_assert(config_parse_size("64k", &n) && n == 65536);
    cr_assert(config_parse_size("1M", &n) && n == 1048576);
    cr_assert(config_parse_size("1G", &n) && n == 1073741824);
    const char *bad[] = {"", "k", "-1", "1.5M", "2G", "1T", "64 k", "1Mb", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(config_parse_size(bad[i], &n), "\"%s\" accepted", bad[i]);
}

Test(config, replay_defaults_and_values)
{
    struct goneshim_config cfg;
    cr_assert_eq(load(NULL, &cfg), 0);
    cr_assert(cfg.replay, "replay is on by default");
    cr_assert_eq(cfg.replay_max, 1048576);
    const char *env[] = {"GONESHIM_REPLAY=off", "GONESHIM_REPLAY_MAX=64k", NULL};
    cr_assert_eq(load(env, &cfg), 0);
    cr_assert_not(cfg.replay);
    cr_assert_eq(cfg.replay_max, 65536);
    const char *bad[] = {"GONESHIM_REPLAY_MAX=lots", NULL};
    cr_assert_eq(load(bad, &cfg), 1);
    cr_assert(strstr(complaints, "GONESHIM_REPLAY_MAX") != NULL, "%s", complaints);
    cr_assert_eq(cfg.replay_max, 1048576, "the default applies");
}
