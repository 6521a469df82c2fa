/* A connection the server closed while idle is invisible under the shim:
 * KILL (the cron job of the Laravel report) over the unix socket and over
 * TCP, wait_timeout (the Phalcon worker), a server restart, and a server
 * that stays down (bounded failure). Each scenario also runs without the
 * shim, where it must fail: proof that the connection really died. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Connect, query, kill while idle, query again: the answer of the second. */
static char *query_after_kill(enum shim_mode mode, const char *transport)
{
    struct client *c = client_start(mode, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect %s", transport), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    unsigned long before = client_id(c);
    kill_and_wait(before);
    char *answer = strdup(client_cmd(c, "SELECT 2"));
    if (mode == WITH_SHIM)
        cr_assert_neq(client_id(c), before, "the answer came from a new connection");
    cr_assert_eq(client_finish(c, NULL), 0);
    return answer;
}

Test(idle_connection, kill_over_unix_socket, .timeout = 60)
{
    cr_assert_str_eq(query_after_kill(WITH_SHIM, "socket"), "ok 2");
    char *without = query_after_kill(WITHOUT_SHIM, "socket");
    cr_assert(is_connection_error(without), "without the shim: %s", without);
}

Test(idle_connection, kill_over_tcp, .timeout = 60)
{
    cr_assert_str_eq(query_after_kill(WITH_SHIM, "tcp"), "ok 2");
    char *without = query_after_kill(WITHOUT_SHIM, "tcp");
    cr_assert(is_connection_error(without), "without the shim: %s", without);
}

static char *query_after_wait_timeout(enum shim_mode mode)
{
    struct client *c = client_start(mode, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect tcp"), "ok");
    cr_assert_str_eq(client_cmd(c, "SET SESSION wait_timeout = 1"), "ok affected=0");
    sleep(3);
    char *answer = strdup(client_cmd(c, "SELECT 2"));
    cr_assert_eq(client_finish(c, NULL), 0);
    return answer;
}

Test(idle_connection, server_wait_timeout, .timeout = 60)
{
    cr_assert_str_eq(query_after_wait_timeout(WITH_SHIM), "ok 2");
    char *without = query_after_wait_timeout(WITHOUT_SHIM);
    cr_assert(is_connection_error(without), "without the shim: %s", without);
}

static char *query_after_restart(enum shim_mode mode)
{
    struct client *c = client_start(mode, NULL);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    server_ctl("restart");
    char *answer = strdup(client_cmd(c, "SELECT 2"));
    cr_assert_eq(client_finish(c, NULL), 0);
    return answer;
}

Test(idle_connection, server_restart, .timeout = 120)
{
    cr_assert_str_eq(query_after_restart(WITH_SHIM), "ok 2");
    char *without = query_after_restart(WITHOUT_SHIM);
    cr_assert(is_connection_error(without), "without the shim: %s", without);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Server down for good: attempts stop at GONESHIM_RECONNECT_TIMEOUT and the
 * statement fails with the library's own connect error, no hang. Then the
 * server comes back while a statement is waiting: it succeeds. */
Test(idle_connection, server_down_then_back, .timeout = 120)
{
    const char *const env[] = {"GONESHIM_RECONNECT_TIMEOUT=2s", NULL};
    struct client *c = client_start(WITH_SHIM, env);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    cr_assert_str_eq(client_cmd(c, "SELECT 1"), "ok 1");
    server_ctl("stop");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    const char *answer = client_cmd(c, "SELECT 2");
    double took = seconds_since(&start);
    cr_assert(starts_with(answer, "err 2002 "), "server down: %s", answer);
    /* Bounded: the limit plus one connect attempt, with a wide margin for a
     * loaded machine; an unbounded wait would hit the test timeout. */
    cr_assert(took >= 1.5 && took < 15, "gave up after %.2f s with a 2 s limit", took);
    cr_assert_eq(client_finish(c, NULL), 0);

    const char *const patient[] = {"GONESHIM_RECONNECT_TIMEOUT=60s", NULL};
    server_ctl("restart");
    c = client_start(WITH_SHIM, patient);
    cr_assert_str_eq(client_cmd(c, ".connect socket"), "ok");
    server_ctl("stop");
    client_send(c, "SELECT 3");
    sleep(1);
    server_ctl("restart");
    cr_assert_str_eq(client_read(c), "ok 3");
    cr_assert_eq(client_finish(c, NULL), 0);
}
