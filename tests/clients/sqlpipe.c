/* sqlpipe - an ordinary libmysqlclient program, steered line by line.
 *
 * The integration tests run it with and without goneshim and decide what
 * happens between its statements (KILL, restart, idle). One command per
 * line on stdin, one answer per line on stdout:
 *   .connect [socket|tcp]   connect with the GONESHIM_TEST_* variables
 *   .id                     the connection id the client library reports
 *   .autocommit 0|1  .commit  .rollback  .ping  .close  .quit
 *   .select_db NAME  .charset NAME
 *   .send SQL               mysql_send_query + mysql_read_query_result
 *   .killed-then SQL        KILL this connection from a second one, wait
 *                           until the close reaches the socket, then at
 *                           once SQL (mysql_real_query): a death in the
 *                           gap between two statements of a busy worker
 *   SQL                     mysql_real_query
 * Answers: "ok" [rows as a,b;c,d] | "ok affected=N" | "err ERRNO MESSAGE".
 */
#include <mysql.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static MYSQL *m;

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "sqlpipe: %s is not set\n", name);
        exit(2);
    }
    return v;
}

static void answer_error(void)
{
    printf("err %u %s\n", mysql_errno(m), mysql_error(m));
}

static void answer_result(void)
{
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL) {
        if (mysql_field_count(m) != 0)
            answer_error();
        else
            printf("ok affected=%llu\n", (unsigned long long)mysql_affected_rows(m));
    } else {
        unsigned fields = mysql_num_fields(res);
        MYSQL_ROW row;
        int first_row = 1;
        printf("ok ");
        while ((row = mysql_fetch_row(res)) != NULL) {
            printf("%s", first_row ? "" : ";");
            first_row = 0;
            for (unsigned i = 0; i < fields; i++)
                printf("%s%s", i ? "," : "", row[i] ? row[i] : "NULL");
        }
        printf("\n");
        mysql_free_result(res);
    }
    while (mysql_more_results(m) && mysql_next_result(m) == 0) {
        MYSQL_RES *more = mysql_store_result(m);
        mysql_free_result(more);
    }
}

/* The second connection, opened once: the statement after the KILL must
 * follow it within moments, not after a connect. */
static void kill_self(void)
{
    static MYSQL *killer;
    if (killer == NULL) {
        killer = mysql_init(NULL);
        if (!mysql_real_connect(killer, NULL, env("GONESHIM_TEST_ADMIN_USER"), env("GONESHIM_TEST_ADMIN_PASSWORD"),
                                NULL, 0, env("GONESHIM_TEST_SOCKET"), 0)) {
            fprintf(stderr, "sqlpipe: killer connect: %s\n", mysql_error(killer));
            exit(1);
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "KILL %lu", mysql_thread_id(m));
    if (mysql_query(killer, sql) != 0) {
        fprintf(stderr, "sqlpipe: %s: %s\n", sql, mysql_error(killer));
        exit(1);
    }
    struct pollfd p = {.fd = (int)mysql_get_socket(m), .events = POLLIN};
    if (p.fd >= 0 && poll(&p, 1, 5000) != 1) {
        fprintf(stderr, "sqlpipe: the KILL never reached the socket\n");
        exit(1);
    }
}

static void status(int rc)
{
    if (rc != 0)
        answer_error();
    else
        printf("ok\n");
}

int main(void)
{
    char line[65536];
    setvbuf(stdout, NULL, _IOLBF, 0);
    m = mysql_init(NULL);
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, ".connect", 8) == 0) {
            int tcp = strstr(line, "tcp") != NULL;
            MYSQL *ok = mysql_real_connect(m, tcp ? env("GONESHIM_TEST_HOST") : NULL,
                                           env("GONESHIM_TEST_USER"), env("GONESHIM_TEST_PASSWORD"),
                                           env("GONESHIM_TEST_DB"),
                                           tcp ? (unsigned)atoi(env("GONESHIM_TEST_PORT")) : 0,
                                           tcp ? NULL : env("GONESHIM_TEST_SOCKET"),
                                           CLIENT_MULTI_STATEMENTS);
            status(ok == NULL);
        } else if (strcmp(line, ".id") == 0) {
            printf("ok %lu\n", mysql_thread_id(m));
        } else if (strncmp(line, ".autocommit ", 12) == 0) {
            status(mysql_autocommit(m, (my_bool)atoi(line + 12)));
        } else if (strcmp(line, ".commit") == 0) {
            status(mysql_commit(m));
        } else if (strcmp(line, ".rollback") == 0) {
            status(mysql_rollback(m));
        } else if (strcmp(line, ".ping") == 0) {
            status(mysql_ping(m));
        } else if (strncmp(line, ".select_db ", 11) == 0) {
            status(mysql_select_db(m, line + 11));
        } else if (strncmp(line, ".charset ", 9) == 0) {
            status(mysql_set_character_set(m, line + 9));
        } else if (strcmp(line, ".close") == 0) {
            mysql_close(m);
            m = mysql_init(NULL);
            printf("ok\n");
        } else if (strcmp(line, ".quit") == 0) {
            break;
        } else if (strncmp(line, ".send ", 6) == 0) {
            if (mysql_send_query(m, line + 6, (unsigned long)strlen(line + 6)) != 0 ||
                mysql_read_query_result(m) != 0)
                answer_error();
            else
                answer_result();
        } else if (strncmp(line, ".killed-then ", 13) == 0) {
            kill_self();
            if (mysql_real_query(m, line + 13, (unsigned long)strlen(line + 13)) != 0)
                answer_error();
            else
                answer_result();
        } else if (mysql_real_query(m, line, (unsigned long)strlen(line)) != 0) {
            answer_error();
        } else {
            answer_result();
        }
    }
    mysql_close(m);
    mysql_library_end();
    return 0;
}
