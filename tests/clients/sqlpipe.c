/* sqlpipe - an ordinary libmysqlclient program, steered line by line.
 *
 * The integration tests run it with and without goneshim and decide what
 * happens between its statements (KILL, restart, idle). One command per
 * line on stdin, one answer per line on stdout:
 *   .connect [socket|tcp|tls]  connect with the GONESHIM_TEST_* variables
 *                           (tls: TCP, TLS verified against GONESHIM_TEST_TLS_CA)
 *   .option NAME VALUE      mysql_options before or after connecting:
 *                           reconnect 0|1, read_timeout SECONDS,
 *                           defaults_file PATH, defaults_group NAME
 *   .optionv reconnect 0|1  the same through mysql_optionsv
 *   .get_option reconnect   mysql_get_option: "ok 0" or "ok 1"
 *   .reconnect              mariadb_reconnect, called by the application
 *   .kill ID|self           mysql_kill
 *   .insert_id              mysql_insert_id
 *   .warnings               mysql_warning_count
 *   .affected               mysql_affected_rows
 *   .strlen SQL             mysql_real_query with the length (unsigned long)-1
 *   .send_strlen SQL        the same with mysql_send_query
 *   .prepare_strlen SQL     mysql_stmt_prepare with that length, execute, fetch all
 *   .big N                  a SELECT of N bytes (for max_allowed_packet)
 *   .stmt_prepare SQL       prepare the kept statement (mysql_stmt_prepare)
 *   .stmt_execute           execute it, fetch every row: "ok ROWS"
 *   .stmt_reset  .stmt_close  mysql_stmt_reset, mysql_stmt_close of it
 *   .stmt2_prepare SQL  .stmt2_execute  the same for a second statement
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
static MYSQL_STMT *kept[2];

static void stmt_prepare(int i, const char *sql)
{
    if (kept[i] == NULL)
        kept[i] = mysql_stmt_init(m);
    if (mysql_stmt_prepare(kept[i], sql, (unsigned long)strlen(sql)) != 0)
        printf("err %u %s\n", mysql_stmt_errno(kept[i]), mysql_stmt_error(kept[i]));
    else
        printf("ok\n");
}

static void stmt_execute(int i)
{
    MYSQL_STMT *st = kept[i];
    unsigned rows = 0;
    if (st == NULL || mysql_stmt_execute(st) != 0 || mysql_stmt_store_result(st) != 0) {
        printf("err %u %s\n", st ? mysql_stmt_errno(st) : 0, st ? mysql_stmt_error(st) : "");
    } else {
        while (mysql_stmt_fetch(st) == 0)
            rows++;
        printf("ok %u\n", rows);
    }
}

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

/* A prepared statement, executed once, every row fetched: "ok ROWS". */
static void prepare_strlen(const char *sql)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    if (mysql_stmt_prepare(st, sql, (unsigned long)-1) != 0 || mysql_stmt_execute(st) != 0) {
        printf("err %u %s\n", mysql_stmt_errno(st), mysql_stmt_error(st));
    } else {
        unsigned rows = 0;
        if (mysql_stmt_store_result(st) == 0)
            while (mysql_stmt_fetch(st) == 0)
                rows++;
        printf("ok %u\n", rows);
    }
    mysql_stmt_close(st);
}

static void set_option(const char *name, const char *value, int variadic)
{
    int rc = 1;
    if (strcmp(name, "reconnect") == 0) {
        my_bool v = (my_bool)atoi(value);
        rc = variadic ? mysql_optionsv(m, MYSQL_OPT_RECONNECT, &v) : mysql_options(m, MYSQL_OPT_RECONNECT, &v);
    } else if (strcmp(name, "read_timeout") == 0) {
        unsigned v = (unsigned)atoi(value);
        rc = mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &v);
    } else if (strcmp(name, "defaults_file") == 0) {
        rc = mysql_options(m, MYSQL_READ_DEFAULT_FILE, value);
    } else if (strcmp(name, "defaults_group") == 0) {
        rc = mysql_options(m, MYSQL_READ_DEFAULT_GROUP, value);
    }
    printf(rc == 0 ? "ok\n" : "err option %s\n", name);
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
            int tls = strstr(line, "tls") != NULL;
            int tcp = tls || strstr(line, "tcp") != NULL;
            if (tls) {
                my_bool verify = 1;
                mysql_options(m, MYSQL_OPT_SSL_CA, env("GONESHIM_TEST_TLS_CA"));
                mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
            }
            MYSQL *ok = mysql_real_connect(m, tcp ? env("GONESHIM_TEST_HOST") : NULL,
                                           env("GONESHIM_TEST_USER"), env("GONESHIM_TEST_PASSWORD"),
                                           env("GONESHIM_TEST_DB"),
                                           tcp ? (unsigned)atoi(env("GONESHIM_TEST_PORT")) : 0,
                                           tcp ? NULL : env("GONESHIM_TEST_SOCKET"),
                                           CLIENT_MULTI_STATEMENTS);
            status(ok == NULL);
        } else if (strcmp(line, ".id") == 0) {
            printf("ok %lu\n", mysql_thread_id(m));
        } else if (strncmp(line, ".option ", 8) == 0 || strncmp(line, ".optionv ", 9) == 0) {
            int variadic = line[7] == 'v';
            char *name = line + (variadic ? 9 : 8), *value = strchr(name, ' ');
            if (value == NULL) {
                printf("err usage\n");
                continue;
            }
            *value++ = '\0';
            set_option(name, value, variadic);
        } else if (strcmp(line, ".get_option reconnect") == 0) {
            my_bool v = 9;
            if (mysql_get_option(m, MYSQL_OPT_RECONNECT, &v) != 0)
                printf("err get_option\n");
            else
                printf("ok %d\n", (int)v);
        } else if (strcmp(line, ".reconnect") == 0) {
            status(mariadb_reconnect(m));
        } else if (strncmp(line, ".kill ", 6) == 0) {
            unsigned long id = strcmp(line + 6, "self") == 0 ? mysql_thread_id(m) : strtoul(line + 6, NULL, 10);
            status(mysql_kill(m, id));
        } else if (strcmp(line, ".insert_id") == 0) {
            printf("ok %llu\n", (unsigned long long)mysql_insert_id(m));
        } else if (strcmp(line, ".affected") == 0) {
            printf("ok %lld\n", (long long)mysql_affected_rows(m));
        } else if (strcmp(line, ".warnings") == 0) {
            printf("ok %u\n", mysql_warning_count(m));
        } else if (strncmp(line, ".strlen ", 8) == 0) {
            if (mysql_real_query(m, line + 8, (unsigned long)-1) != 0)
                answer_error();
            else
                answer_result();
        } else if (strncmp(line, ".send_strlen ", 13) == 0) {
            if (mysql_send_query(m, line + 13, (unsigned long)-1) != 0 || mysql_read_query_result(m) != 0)
                answer_error();
            else
                answer_result();
        } else if (strncmp(line, ".prepare_strlen ", 16) == 0) {
            prepare_strlen(line + 16);
        } else if (strncmp(line, ".stmt_prepare ", 14) == 0) {
            stmt_prepare(0, line + 14);
        } else if (strncmp(line, ".stmt2_prepare ", 15) == 0) {
            stmt_prepare(1, line + 15);
        } else if (strcmp(line, ".stmt_execute") == 0) {
            stmt_execute(0);
        } else if (strcmp(line, ".stmt2_execute") == 0) {
            stmt_execute(1);
        } else if (strcmp(line, ".stmt_reset") == 0) {
            if (kept[0] == NULL || mysql_stmt_reset(kept[0]) != 0)
                printf("err %u %s\n", kept[0] ? mysql_stmt_errno(kept[0]) : 0, kept[0] ? mysql_stmt_error(kept[0]) : "");
            else
                printf("ok\n");
        } else if (strcmp(line, ".stmt_close") == 0) {
            my_bool failed = kept[0] != NULL ? mysql_stmt_close(kept[0]) : 1;
            kept[0] = NULL;
            printf(failed ? "err close\n" : "ok\n");
        } else if (strncmp(line, ".big ", 5) == 0) {
            size_t n = strtoul(line + 5, NULL, 10);
            char *sql = malloc(n + 32);
            int head = snprintf(sql, n + 32, "SELECT LENGTH('");
            memset(sql + head, 'x', n > (size_t)head + 3 ? n - (size_t)head - 3 : 0);
            size_t at = n > (size_t)head + 3 ? n - 3 : (size_t)head;
            memcpy(sql + at, "')", 3);
            if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0)
                answer_error();
            else
                answer_result();
            free(sql);
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
    for (int i = 0; i < 2; i++)
        if (kept[i] != NULL)
            mysql_stmt_close(kept[i]);
    mysql_close(m);
    mysql_library_end();
    return 0;
}
