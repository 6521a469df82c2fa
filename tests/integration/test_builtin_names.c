/* Point 4 of the trust issue: a read is sent again only if it is certainly
 * a read on this server. For every name the classifier knows, called with
 * 0 to 4 arguments, with and without a blank before '(', the server under
 * test is asked whether the call resolves to a stored function of the
 * current database (error 1305, or 1630, in an empty database: it looked
 * for one); if it does, the classifier must not take that call for a
 * read, since a stored function of that name may write. The answer comes
 * from the server, not from a list written here. */
#include <criterion/criterion.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "server_profile.h"
#include "statement_class.h"

#define ER_SP_DOES_NOT_EXIST 1305
#define ER_FUNC_INEXISTENT_NAME_COLLISION 1630

static MYSQL *probe_connection(void)
{
    admin_exec("DROP DATABASE IF EXISTS goneshim_probe");
    admin_exec("CREATE DATABASE goneshim_probe");
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, NULL, getenv("GONESHIM_TEST_ADMIN_USER"), getenv("GONESHIM_TEST_ADMIN_PASSWORD"),
                            "goneshim_probe", 0, getenv("GONESHIM_TEST_SOCKET"), 0))
        cr_assert_fail("connect: %s", mysql_error(m));
    return m;
}

/* Does `sql` call a stored function (none exists: the server says so)? */
static bool resolves_to_stored_function(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) == 0) {
        mysql_free_result(mysql_store_result(m));
        return false;
    }
    unsigned e = mysql_errno(m);
    return e == ER_SP_DOES_NOT_EXIST || e == ER_FUNC_INEXISTENT_NAME_COLLISION;
}

Test(builtin_names, no_call_taken_for_a_read_resolves_to_a_stored_function, .timeout = 120)
{
    MYSQL *m = probe_connection();
    struct server_profile server;
    server_profile_from_version(mysql_get_server_info(m), &server);
    cr_assert_neq(server.flavour, SERVER_UNKNOWN, "%s", mysql_get_server_info(m));
    cr_assert(resolves_to_stored_function(m, "SELECT goneshim_no_such_function(1)"),
              "the probe itself: an unknown name must resolve to a stored function");

    static char wrong[16384];
    size_t used = 0, probed = 0, stored = 0;
    const char *name;
    for (size_t i = 0; (name = statement_class_known_name(i)) != NULL; i++) {
        for (int args = 0; args <= 4; args++) {
            for (int spaced = 0; spaced < 2; spaced++) {
                char sql[128];
                int n = snprintf(sql, sizeof sql, "SELECT %s%s(", name, spaced ? " " : "");
                for (int a = 0; a < args; a++)
                    n += snprintf(sql + n, sizeof sql - (size_t)n, "%s1", a ? ", " : "");
                snprintf(sql + n, sizeof sql - (size_t)n, ")");
                probed++;
                if (!resolves_to_stored_function(m, sql))
                    continue;
                stored++;
                struct statement_class c;
                classify_statement(sql, strlen(sql), &server, &c);
                if (c.kind == STMT_READ && used + 200 < sizeof wrong)
                    used += (size_t)snprintf(wrong + used, sizeof wrong - used, "  %s\n", sql);
            }
        }
    }
    mysql_close(m);
    cr_assert_gt(stored, 0, "no call resolved to a stored function: is the probe blind?");
    cr_assert_eq(used, 0,
                 "%s (%u.%u.%u): these calls reach a stored function, yet the classifier takes them for "
                 "reads (%zu probed):\n%s",
                 server.flavour == SERVER_MARIADB ? "MariaDB" : "MySQL", server.version / 10000,
                 server.version / 100 % 100, server.version % 100, probed, wrong);
}
