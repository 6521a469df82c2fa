/* Point 8 of the trust issue: a flow dropped without a FIN (a NAT, a load
 * balancer, a firewall forgetting an idle connection) is found in bounded
 * time. Real: a throwaway server inside a network namespace of the test's
 * own, the client in it too, and a DROP rule on that namespace's loopback
 * for the one flow of the client's connection, so that its packets vanish
 * while new connections still work.
 *  - The idle ping, bounded by GONESHIM_PING_TIMEOUT, finds it (libmariadb
 *    polls with its own timeout: the bound must reach that layer).
 *  - With GONESHIM_TCP_KEEPALIVE the kernel finds it, and the next
 *    statement's peek sees the dead socket: no ping at all.
 * Without goneshim the statement hangs (TCP retransmits for minutes). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char ns[32], dir[64], socket_path[128], port[16];
static char env_socket[160], env_port[48], env_host[48];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        cr_assert_fail("failed: %s", cmd);
}

/* One line of output of a query on the namespace's server, as root. */
static void query(char *out, size_t size, const char *sql)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mariadb --no-defaults -S %s -u root -N -e \"%s\"", socket_path, sql);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (fgets(out, (int)size, p) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

static void setup(void)
{
    snprintf(ns, sizeof ns, "gs-drop-%d", getpid());
    snprintf(dir, sizeof dir, "/tmp/gs-drop-%d", getpid());
    snprintf(socket_path, sizeof socket_path, "%s/mysqld.sock", dir);
    sh("ip netns add %s && ip netns exec %s ip link set lo up", ns, ns);
    sh("ip netns exec %s %s start %s >/dev/null", ns, getenv("GONESHIM_TEST_SERVER_CTL"), dir);
    char path[128];
    snprintf(path, sizeof path, "%s/port", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    cr_assert_not_null(fgets(port, sizeof port, f));
    fclose(f);
    port[strcspn(port, "\n")] = '\0';
    snprintf(env_socket, sizeof env_socket, "GONESHIM_TEST_SOCKET=%s", socket_path);
    snprintf(env_port, sizeof env_port, "GONESHIM_TEST_PORT=%s", port);
    snprintf(env_host, sizeof env_host, "GONESHIM_TEST_HOST=127.0.0.1");
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ip netns exec %s %s stop %s >/dev/null 2>&1; rm -rf %s; ip netns del %s", ns,
             getenv("GONESHIM_TEST_SERVER_CTL"), dir, dir, ns);
    if (system(cmd) != 0)
        fprintf(stderr, "teardown failed: %s\n", cmd);
}

TestSuite(silent_drop, .init = setup, .fini = teardown);

static struct client *client_in_namespace(enum shim_mode mode, const char *const *extra)
{
    const char *env[8];
    size_t n = 0;
    env[n++] = env_socket;
    env[n++] = env_port;
    env[n++] = env_host;
    for (; extra != NULL && *extra != NULL && n < 7; extra++)
        env[n++] = *extra;
    env[n] = NULL;
    const char *prefix[] = {"ip", "netns", "exec", ns, NULL};
    return client_start_prefixed(prefix, mode, env);
}

/* Drops every packet of the connection of `c` (its client port), both
 * ways: the flow goes silent. Replaces the rule of an earlier client. */
static void drop_flow(struct client *c)
{
    char drop_old[128];
    snprintf(drop_old, sizeof drop_old, "ip netns exec %s nft delete table inet gsdrop 2>/dev/null", ns);
    if (system(drop_old) != 0) {
        /* there was none */
    }
    char host[128], sql[160];
    snprintf(sql, sizeof sql, "SELECT host FROM information_schema.processlist WHERE id = %lu", client_id(c));
    query(host, sizeof host, sql);
    const char *colon = strrchr(host, ':');
    cr_assert_not_null(colon, "no client port in [%s]", host);
    int client_port = atoi(colon + 1);
    sh("ip netns exec %s nft add table inet gsdrop", ns);
    sh("ip netns exec %s nft add chain inet gsdrop in '{ type filter hook input priority 0; policy accept; }'", ns);
    sh("ip netns exec %s nft add rule inet gsdrop in tcp sport %d drop", ns, client_port);
    sh("ip netns exec %s nft add rule inet gsdrop in tcp dport %d drop", ns, client_port);
}

/* A client in the namespace, connected over TCP and used once, whose flow
 * then goes silent. */
static struct client *silenced_client(enum shim_mode mode, const char *const *extra)
{
    struct client *c = client_in_namespace(mode, extra);
    cr_assert_str_eq(client_cmd(c, ".connect tcp"), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    drop_flow(c);
    return c;
}

Test(silent_drop, the_idle_ping_is_bounded, .timeout = 90)
{
    struct shim_log log;
    shim_log_open(&log);
    const char *env[] = {log.var, "GONESHIM_IDLE=1s", "GONESHIM_PING_TIMEOUT=1s", NULL};
    struct client *c = silenced_client(WITH_SHIM, env);
    sleep_ms(1500);
    client_send(c, "SELECT 2");
    const char *a = client_read_within(c, 20000);
    cr_assert_not_null(a, "the statement hung on the silent flow");
    cr_assert_str_eq(a, "ok 2");
    cr_assert_eq(shim_log_count(&log, "idle ping got no answer"), 1);
    cr_assert_eq(client_finish(c, NULL), 0);
    shim_log_remove(&log);

    /* Without goneshim: no answer. */
    c = silenced_client(WITHOUT_SHIM, NULL);
    sleep_ms(1500);
    client_send(c, "SELECT 2");
    cr_assert_null(client_read_within(c, 5000), "without goneshim the flow's death went unnoticed");
    client_kill(c);
}

Test(silent_drop, keepalive_finds_the_dead_flow_before_the_statement, .timeout = 90)
{
    struct shim_log log;
    shim_log_open(&log);
    /* No idle ping: only the kernel can tell. */
    const char *env[] = {log.var, "GONESHIM_IDLE=0", "GONESHIM_TCP_KEEPALIVE=1s", NULL};
    struct client *c = silenced_client(WITH_SHIM, env);
    sleep_ms(7000); /* 1 s of silence, then 3 probes a second apart, unanswered */
    client_send(c, "SELECT 2");
    const char *a = client_read_within(c, 20000);
    cr_assert_not_null(a, "the statement hung on the silent flow");
    cr_assert_str_eq(a, "ok 2");
    cr_assert_eq(shim_log_count(&log, "server closed the idle connection"), 1, "the peek saw the dead socket");
    cr_assert_eq(shim_log_count(&log, "ping"), 0);
    cr_assert_eq(client_finish(c, NULL), 0);
    shim_log_remove(&log);

    /* The same without keepalive: the peek sees nothing, the statement
     * goes into the silent flow and hangs. */
    const char *no_keepalive[] = {"GONESHIM_IDLE=0", NULL};
    c = silenced_client(WITH_SHIM, no_keepalive);
    sleep_ms(7000);
    client_send(c, "SELECT 2");
    cr_assert_null(client_read_within(c, 5000), "without keepalive the flow's death went unnoticed");
    client_kill(c);
}
