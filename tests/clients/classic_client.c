/* classic_client - a client of the classic C API only (what Oracle's
 * libmysqlclient and MariaDB Connector/C both have), for the cells of the
 * test matrix whose client library is not libmariadb (tests/matrix).
 *
 * Connects over TCP with the GONESHIM_TEST_* variables, then one SQL
 * statement per line on stdin, one answer per line on stdout:
 *   ok <first column of the first row>   (or "ok affected=N")
 *   err <code> <message>
 * A line "~SQL" runs SQL through Oracle's non-blocking API
 * (mysql_real_query_nonblocking, polled to the end), where it exists.
 * Exits 0 at the end of its input, 1 if it cannot connect. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "classic_client: %s is not set\n", name);
        exit(2);
    }
    return v;
}

int main(void)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL ||
        mysql_real_connect(m, env("GONESHIM_TEST_HOST"), env("GONESHIM_TEST_USER"), env("GONESHIM_TEST_PASSWORD"),
                           env("GONESHIM_TEST_DB"), (unsigned)atoi(env("GONESHIM_TEST_PORT")), NULL, 0) == NULL) {
        printf("err %u %s\n", m ? mysql_errno(m) : 0, m ? mysql_error(m) : "out of memory");
        return 1;
    }
    printf("ok connected\n");
    fflush(stdout);
    char line[4096];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        int failed;
        if (line[0] == '~') {
#ifdef LIBMYSQL_VERSION_ID
            enum net_async_status st;
            while ((st = mysql_real_query_nonblocking(m, line + 1, (unsigned long)strlen(line + 1))) ==
                   NET_ASYNC_NOT_READY)
                ;
            failed = st == NET_ASYNC_ERROR;
#else
            printf("err 0 no non-blocking API in this library\n");
            fflush(stdout);
            continue;
#endif
        } else {
            failed = mysql_query(m, line) != 0;
        }
        if (failed) {
            printf("err %u %s\n", mysql_errno(m), mysql_error(m));
        } else {
            MYSQL_RES *res = mysql_store_result(m);
            MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
            if (res == NULL)
                printf("ok affected=%llu\n", (unsigned long long)mysql_affected_rows(m));
            else
                printf("ok %s\n", row != NULL && row[0] != NULL ? row[0] : "NULL");
            mysql_free_result(res);
        }
        fflush(stdout);
    }
    mysql_close(m);
    return 0;
}
