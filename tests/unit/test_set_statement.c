/* parse_set_statement: table-driven cases, then hostile input.
 *
 * Every input is parsed from a heap copy of exactly its length, so that
 * AddressSanitizer reports any read past `len`. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostile_input.h"
#include "set_statement.h"
#include "statement_class.h"

#define SESSION REPLAY_SET_SESSION
#define PLAIN REPLAY_SET

struct expected_assignment {
    const char *key;
    const char *text;
    enum set_replay_form form;
};

struct set_case {
    const char *sql;
    enum set_parse_status status;
    unsigned bits;
    unsigned n;
    struct expected_assignment a[4];
};

static const char *status_name(enum set_parse_status s)
{
    return s == SET_PARSE_OK ? "OK" : s == SET_PARSE_NOT_SET ? "NOT_SET" : "UNRESTORABLE";
}

static void check_case(const struct set_case *w, size_t len)
{
    char *copy = malloc(len != 0 ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, w->sql, len);
    struct set_parse_result r;
    memset(&r, 0x5a, sizeof r); /* nothing may be left uninitialized */
    parse_set_statement(copy, len, &r);

    cr_expect_eq(r.status, w->status, "[%s]: %s, expected %s", w->sql, status_name(r.status),
                 status_name(w->status));
    cr_expect_eq(r.unrestorable, w->bits, "[%s]: bits %#x, expected %#x", w->sql, r.unrestorable,
                 w->bits);
    cr_expect_eq(r.n, w->n, "[%s]: n %u, expected %u", w->sql, r.n, w->n);
    for (unsigned i = 0; i < r.n && i < w->n && i < 4; i++) {
        const struct set_assignment *a = &r.assignments[i];
        const struct expected_assignment *e = &w->a[i];
        cr_expect_str_eq(a->key, e->key, "[%s] #%u key", w->sql, i);
        cr_expect(a->text >= copy && a->text + a->text_len <= copy + len, "[%s] #%u text out of bounds",
                  w->sql, i);
        cr_expect(a->text_len == strlen(e->text) && memcmp(a->text, e->text, a->text_len) == 0,
                  "[%s] #%u text [%.*s], expected [%s]", w->sql, i, (int)a->text_len, a->text, e->text);
        cr_expect_eq(a->form, e->form, "[%s] #%u form", w->sql, i);
    }
    free(copy);
}

static void check_cases(const struct set_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_case(&cases[i], strlen(cases[i].sql));
}

#define CHECK(cases) check_cases(cases, sizeof cases / sizeof cases[0])
#define OK0(s) {s, SET_PARSE_OK, 0, 0, {{0}}}
#define UNRESTORABLE(s, b) {s, SET_PARSE_UNRESTORABLE, b, 0, {{0}}}
#define NOT_SET(s) {s, SET_PARSE_NOT_SET, 0, 0, {{0}}}

Test(set_statement, session_variables)
{
    static const struct set_case cases[] = {
        {"SET autocommit = 0", SET_PARSE_OK, 0, 1, {{"autocommit", "autocommit = 0", SESSION}}},
        {"set AUTOCOMMIT=1", SET_PARSE_OK, 0, 1, {{"autocommit", "AUTOCOMMIT=1", SESSION}}},
        {"SET sql_mode = ''", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = ''", SESSION}}},
        {"SET SESSION sql_mode = 'STRICT_ALL_TABLES'", SET_PARSE_OK, 0, 1,
         {{"sql_mode", "sql_mode = 'STRICT_ALL_TABLES'", SESSION}}},
        {"SET LOCAL sql_mode = ''", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = ''", SESSION}}},
        {"SET @@sql_mode = ''", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = ''", SESSION}}},
        {"SET @@session.sql_mode = ''", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = ''", SESSION}}},
        {"SET @@SESSION.SQL_MODE = ''", SET_PARSE_OK, 0, 1, {{"sql_mode", "SQL_MODE = ''", SESSION}}},
        {"SET @@local.wait_timeout = 10", SET_PARSE_OK, 0, 1,
         {{"wait_timeout", "wait_timeout = 10", SESSION}}},
        {"SET a := 1", SET_PARSE_OK, 0, 1, {{"a", "a := 1", SESSION}}},
        {"SET a = 1, b = 'x', c = DEFAULT", SET_PARSE_OK, 0, 3,
         {{"a", "a = 1", SESSION}, {"b", "b = 'x'", SESSION}, {"c", "c = DEFAULT", SESSION}}},
        {"SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')", SET_PARSE_OK, 0, 1,
         {{"sql_mode", "sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')", SESSION}}},
        {"SET sql_mode = REPLACE(@@sql_mode, 'ONLY_FULL_GROUP_BY', ''), wait_timeout = 28800",
         SET_PARSE_OK, 0, 2,
         {{"sql_mode", "sql_mode = REPLACE(@@sql_mode, 'ONLY_FULL_GROUP_BY', '')", SESSION},
          {"wait_timeout", "wait_timeout = 28800", SESSION}}},
        {"SET x = 'a,b', y = \"c,d\", z = `e,f`", SET_PARSE_OK, 0, 3,
         {{"x", "x = 'a,b'", SESSION}, {"y", "y = \"c,d\"", SESSION}, {"z", "z = `e,f`", SESSION}}},
        {"SET x = (SELECT 1, 2), y = 3", SET_PARSE_OK, 0, 2,
         {{"x", "x = (SELECT 1, 2)", SESSION}, {"y", "y = 3", SESSION}}},
        {"SET time_zone = '+00:00';", SET_PARSE_OK, 0, 1, {{"time_zone", "time_zone = '+00:00'", SESSION}}},
        {"SET time_zone = '+00:00' ;  -- done\n", SET_PARSE_OK, 0, 1,
         {{"time_zone", "time_zone = '+00:00'", SESSION}}},
        {"  SET sql_mode = 'A'  /* trailing */  \n", SET_PARSE_OK, 0, 1,
         {{"sql_mode", "sql_mode = 'A'", SESSION}}},
        {"SET sql_mode /* c */ = 'A'", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode /* c */ = 'A'", SESSION}}},
        {"SET\n\tsql_mode\n=\n''", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode\n=\n''", SESSION}}},
        {"SET `sql_mode` = ''", SET_PARSE_OK, 0, 1, {{"sql_mode", "`sql_mode` = ''", SESSION}}},
        {"SET SESSION `A``b` = 1", SET_PARSE_OK, 0, 1, {{"a`b", "`A``b` = 1", SESSION}}},
        {"SET a.b = 1", SET_PARSE_OK, 0, 1, {{"a.b", "a.b = 1", SESSION}}},
        {"SET sql_mode = @@global.sql_mode", SET_PARSE_OK, 0, 1,
         {{"sql_mode", "sql_mode = @@global.sql_mode", SESSION}}},
        {"SET time_zone = @@session.time_zone", SET_PARSE_OK, 0, 1,
         {{"time_zone", "time_zone = @@session.time_zone", SESSION}}},
        {"SET sql_mode = 'it\\'s'", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = 'it\\'s'", SESSION}}},
        {"SET sql_mode = 'caf\xc3\xa9'", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = 'caf\xc3\xa9'", SESSION}}},
        {"SET autocommit = 0 , autocommit = 1", SET_PARSE_OK, 0, 2,
         {{"autocommit", "autocommit = 0", SESSION}, {"autocommit", "autocommit = 1", SESSION}}},
    };
    CHECK(cases);
}

Test(set_statement, scopes)
{
    static const struct set_case cases[] = {
        OK0("SET @@global.max_connections = 10"),
        OK0("SET GLOBAL max_connections = 10"),
        OK0("set global max_connections = 10"),
        OK0("SET PERSIST max_connections = 10"),
        OK0("SET PERSIST_ONLY max_connections = 10"),
        OK0("SET @@persist.x = 1"),
        OK0("SET @@PERSIST_ONLY.x = 1"),
        OK0("SET GLOBAL a = 1, b = 2"),
        {"SET GLOBAL a = 1, SESSION b = 2, c = 3", SET_PARSE_OK, 0, 2,
         {{"b", "b = 2", SESSION}, {"c", "c = 3", SESSION}}},
        {"SET SESSION a = 1, GLOBAL b = 2, c = 3", SET_PARSE_OK, 0, 1, {{"a", "a = 1", SESSION}}},
        {"SET LOCAL a = 1, PERSIST b = 2, LOCAL c = 3", SET_PARSE_OK, 0, 2,
         {{"a", "a = 1", SESSION}, {"c", "c = 3", SESSION}}},
        /* @@ prefixes apply to their own assignment only. */
        {"SET @@global.a = 1, b = 2", SET_PARSE_OK, 0, 1, {{"b", "b = 2", SESSION}}},
        {"SET GLOBAL a = 1, @@b = 2", SET_PARSE_OK, 0, 1, {{"b", "b = 2", SESSION}}},
        {"SET GLOBAL a = 1, @@session.b = 2, c = 3", SET_PARSE_OK, 0, 1, {{"b", "b = 2", SESSION}}},
        {"SET SESSION a = 1, @@global.b = 2, c = 3", SET_PARSE_OK, 0, 2,
         {{"a", "a = 1", SESSION}, {"c", "c = 3", SESSION}}},
        /* A NAMES after GLOBAL is still the session's. */
        {"SET GLOBAL a = 1, NAMES utf8", SET_PARSE_OK, 0, 1, {{"names", "NAMES utf8", PLAIN}}},
    };
    CHECK(cases);
}

Test(set_statement, keyword_forms)
{
    static const struct set_case cases[] = {
        {"SET NAMES utf8mb4", SET_PARSE_OK, 0, 1, {{"names", "NAMES utf8mb4", PLAIN}}},
        {"set names utf8", SET_PARSE_OK, 0, 1, {{"names", "names utf8", PLAIN}}},
        {"SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'", SET_PARSE_OK, 0, 1,
         {{"names", "NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'", PLAIN}}},
        {"SET NAMES DEFAULT", SET_PARSE_OK, 0, 1, {{"names", "NAMES DEFAULT", PLAIN}}},
        {"SET NAMES utf8mb4, sql_mode = ''", SET_PARSE_OK, 0, 2,
         {{"names", "NAMES utf8mb4", PLAIN}, {"sql_mode", "sql_mode = ''", SESSION}}},
        {"SET sql_mode = '', NAMES utf8mb4 COLLATE x, @@global.y = 1, SESSION z := 3", SET_PARSE_OK, 0, 3,
         {{"sql_mode", "sql_mode = ''", SESSION},
          {"names", "NAMES utf8mb4 COLLATE x", PLAIN},
          {"z", "z := 3", SESSION}}},
        {"SET CHARACTER SET utf8", SET_PARSE_OK, 0, 1, {{"character set", "CHARACTER SET utf8", PLAIN}}},
        {"set character set 'latin1'", SET_PARSE_OK, 0, 1,
         {{"character set", "character set 'latin1'", PLAIN}}},
        {"SET CHARSET latin1", SET_PARSE_OK, 0, 1, {{"character set", "CHARSET latin1", PLAIN}}},
        {"SET CHAR SET latin1", SET_PARSE_OK, 0, 1, {{"character set", "CHAR SET latin1", PLAIN}}},
        {"SET character_set_client = utf8", SET_PARSE_OK, 0, 1,
         {{"character_set_client", "character_set_client = utf8", SESSION}}},
        {"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", SET_PARSE_OK, 0, 1,
         {{"transaction", "TRANSACTION ISOLATION LEVEL READ COMMITTED", SESSION}}},
        {"SET LOCAL TRANSACTION READ ONLY", SET_PARSE_OK, 0, 1,
         {{"transaction", "TRANSACTION READ ONLY", SESSION}}},
        {"set session transaction isolation level repeatable read, read write", SET_PARSE_OK, 0, 1,
         {{"transaction", "transaction isolation level repeatable read, read write", SESSION}}},
        OK0("SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
        OK0("SET GLOBAL TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE"),
        {"SET ROLE admin", SET_PARSE_OK, 0, 1, {{"role", "ROLE admin", PLAIN}}},
        {"SET ROLE 'r1'@'%', 'r2'", SET_PARSE_OK, 0, 1, {{"role", "ROLE 'r1'@'%', 'r2'", PLAIN}}},
        {"SET ROLE NONE", SET_PARSE_OK, 0, 1, {{"role", "ROLE NONE", PLAIN}}},
        {"SET ROLE ALL EXCEPT r1, r2;", SET_PARSE_OK, 0, 1, {{"role", "ROLE ALL EXCEPT r1, r2", PLAIN}}},
        OK0("SET PASSWORD = 'x'"),
        OK0("SET PASSWORD FOR 'u'@'h' = PASSWORD('x')"),
        OK0("set password for u@localhost = 'x'"),
        OK0("SET DEFAULT ROLE r TO 'u'@'h'"),
        OK0("SET DEFAULT ROLE ALL TO u1, u2"),
    };
    CHECK(cases);
}

Test(set_statement, unrestorable)
{
    static const struct set_case cases[] = {
        UNRESTORABLE("SET @x = 1", STATE_USER_VARS),
        UNRESTORABLE("SET @x := 1", STATE_USER_VARS),
        UNRESTORABLE("SET @`x` = 1", STATE_USER_VARS),
        UNRESTORABLE("SET @'x' = 1", STATE_USER_VARS),
        UNRESTORABLE("set @X=1", STATE_USER_VARS),
        UNRESTORABLE("SET sql_mode = @m", STATE_USER_VARS),
        UNRESTORABLE("SET a = 1, @x = 2", STATE_USER_VARS),
        UNRESTORABLE("SET @x = 1, a = 2", STATE_USER_VARS),
        UNRESTORABLE("SET a = (SELECT @x)", STATE_USER_VARS),
        UNRESTORABLE("SET a = @x := 1", STATE_USER_VARS),
        UNRESTORABLE("SET NAMES @cs", STATE_USER_VARS),
        UNRESTORABLE("SET GLOBAL a = @x", STATE_USER_VARS),
        UNRESTORABLE("/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;",
                     STATE_USER_VARS),
        UNRESTORABLE("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", STATE_NEXT_TXN_SETTINGS),
        UNRESTORABLE("set transaction read only", STATE_NEXT_TXN_SETTINGS),
        UNRESTORABLE("SET TRANSACTION READ WRITE, ISOLATION LEVEL SERIALIZABLE", STATE_NEXT_TXN_SETTINGS),
        UNRESTORABLE("SET STATEMENT max_statement_time = 1 FOR SELECT 1", 0),
        UNRESTORABLE("SET RESOURCE GROUP g", 0),
        UNRESTORABLE("SET", 0),
        UNRESTORABLE("SET ;", 0),
        UNRESTORABLE("SET a", 0),
        UNRESTORABLE("SET a =", 0),
        UNRESTORABLE("SET a = ;", 0),
        UNRESTORABLE("SET a = 1,", 0),
        UNRESTORABLE("SET = 1", 0),
        UNRESTORABLE("SET (a) = 1", 0),
        UNRESTORABLE("SET 'a' = 1", 0),
        UNRESTORABLE("SET 1 = 2", 0),
        UNRESTORABLE("SET a = )", 0),
        UNRESTORABLE("SET a = (1", 0),
        UNRESTORABLE("SET a = 1)", 0),
        UNRESTORABLE("SET a . = 1", 0),
        UNRESTORABLE("SET @@ = 1", 0),
        UNRESTORABLE("SET @@session. = 1", 0),
        UNRESTORABLE("SET @@session.`sql_mode` = 1", 0),
        UNRESTORABLE("SET `` = 1", 0),
        UNRESTORABLE("SET SESSION NAMES utf8", 0),
        UNRESTORABLE("SET NAMES", 0),
        UNRESTORABLE("SET ROLE", 0),
        UNRESTORABLE("SET SESSION TRANSACTION", 0),
        UNRESTORABLE("SET a = 1; SET b = 2", 0),
        UNRESTORABLE("SET a = 1; SELECT 1", 0),
        UNRESTORABLE("SET a = 'unterminated", 0),
        UNRESTORABLE("SET a = 1 /* unterminated", 0),
        UNRESTORABLE("SET `a = 1", 0),
        UNRESTORABLE("/*!40101 SET a = 1", 0),
        /* A server older than 5.8 would not run the second assignment. */
        UNRESTORABLE("SET sql_mode = 'a' /*!50800 , b = 1 */", 0),
        /* The text "sql_mode = /" "*!40101 'a'" would not replay. */
        UNRESTORABLE("SET sql_mode = /*!40101 'a' */", 0),
        /* Under NO_BACKSLASH_ESCAPES there are three statements. */
        UNRESTORABLE("SET x = 'a\\'; SET @y = 1; -- '", 0),
    };
    CHECK(cases);
}

Test(set_statement, executable_comments)
{
    static const struct set_case cases[] = {
        {"/*!40101 SET NAMES utf8 */", SET_PARSE_OK, 0, 1, {{"names", "NAMES utf8", PLAIN}}},
        {"/*!40101 SET NAMES utf8 */;", SET_PARSE_OK, 0, 1, {{"names", "NAMES utf8", PLAIN}}},
        {"/*!40103 SET TIME_ZONE='+00:00' */;", SET_PARSE_OK, 0, 1,
         {{"time_zone", "TIME_ZONE='+00:00'", SESSION}}},
        {"/*!SET a = 1*/", SET_PARSE_OK, 0, 1, {{"a", "a = 1", SESSION}}},
        {"SET /*!40101 sql_mode = 'A' */", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = 'A'", SESSION}}},
        {"SET x = /*!40101 1 */ + 2", SET_PARSE_OK, 0, 1, {{"x", "x = /*!40101 1 */ + 2", SESSION}}},
        {"/*!40101 SET a = 1, */ b = 2", SET_PARSE_OK, 0, 2, {{"a", "a = 1", SESSION}, {"b", "b = 2", SESSION}}},
        {"SET a = 1 /*!99999 , b = 2 */ -- x", SET_PARSE_UNRESTORABLE, 0, 0, {{0}}},
        {"/* SET x = 1 */ SET y = 2", SET_PARSE_OK, 0, 1, {{"y", "y = 2", SESSION}}},
        /* MySQL reads an empty statement and fails it: only MariaDB's
         * reading can succeed, and a failed SET is not recorded. */
        {"/*M!100000 SET sql_mode = 'a' */", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = 'a'", SESSION}}},
        {"/*!99999 SET sql_mode = 'a' */", SET_PARSE_OK, 0, 1, {{"sql_mode", "sql_mode = 'a'", SESSION}}},
    };
    CHECK(cases);
}

Test(set_statement, not_set)
{
    static const struct set_case cases[] = {
        NOT_SET(""),
        NOT_SET("   "),
        NOT_SET(";"),
        NOT_SET("SELECT 1"),
        NOT_SET("-- SET x = 1\nSELECT 1"),
        NOT_SET("/* SET */ SELECT 1"),
        NOT_SET("'SET a = 1'"),
        NOT_SET("`SET` = 1"),
        NOT_SET("SETX a = 1"),
        NOT_SET("RESET QUERY CACHE"),
        NOT_SET("UPDATE t SET a = 1"),
        NOT_SET("SELECT 1; SET a = 1"),
        NOT_SET("@x"),
    };
    CHECK(cases);

    struct set_parse_result r;
    parse_set_statement(NULL, 0, &r);
    cr_expect_eq(r.status, SET_PARSE_NOT_SET);
    cr_expect_eq(r.n, 0u);
}

Test(set_statement, limits)
{
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SET v0 = 0");
    for (int i = 1; i < SET_MAX_ASSIGNMENTS; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", v%d = %d", i, i);
    struct set_case full = {sql, SET_PARSE_OK, 0, SET_MAX_ASSIGNMENTS, {{"v0", "v0 = 0", SESSION},
                            {"v1", "v1 = 1", SESSION}, {"v2", "v2 = 2", SESSION}, {"v3", "v3 = 3", SESSION}}};
    check_case(&full, n);

    n += (size_t)snprintf(sql + n, sizeof sql - n, ", one_too_many = 1");
    struct set_case over = UNRESTORABLE(sql, 0);
    check_case(&over, n);

    /* GLOBAL assignments do not count. */
    n = (size_t)snprintf(sql, sizeof sql, "SET GLOBAL g = 1");
    for (int i = 0; i < SET_MAX_ASSIGNMENTS + 4; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", g%d = %d", i, i);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ", SESSION s = 1");
    struct set_case globals = {sql, SET_PARSE_OK, 0, 1, {{"s", "s = 1", SESSION}}};
    check_case(&globals, n);

    /* The longest key that fits, with its NUL, and one byte more. */
    char key[SET_KEY_MAX + 1];
    memset(key, 'k', sizeof key);
    key[SET_KEY_MAX - 1] = '\0';
    n = (size_t)snprintf(sql, sizeof sql, "SET %s = 1", key);
    char text[SET_KEY_MAX + 8];
    snprintf(text, sizeof text, "%s = 1", key);
    struct set_case longest = {sql, SET_PARSE_OK, 0, 1, {{key, text, SESSION}}};
    check_case(&longest, n);
    key[SET_KEY_MAX - 1] = 'k';
    key[SET_KEY_MAX] = '\0';
    n = (size_t)snprintf(sql, sizeof sql, "SET @@session.%s = 1", key);
    struct set_case too_long = UNRESTORABLE(sql, 0);
    check_case(&too_long, n);
}

Test(set_statement, length_is_respected)
{
    struct set_case c1 = {"SET a = 1, b = 2", SET_PARSE_OK, 0, 1, {{"a", "a = 1", SESSION}}};
    check_case(&c1, 9);
    struct set_case c2 = UNRESTORABLE("SET a = 1, b = 2", 0); /* "SET a = 1," */
    check_case(&c2, 10);
    struct set_case c3 = {"SET a = 'x' -- '", SET_PARSE_OK, 0, 1, {{"a", "a = 'x'", SESSION}}};
    check_case(&c3, strlen(c3.sql));
    struct set_case c4 = UNRESTORABLE("SET a = 'x'", 0);
    check_case(&c4, 10);
    struct set_case c5 = NOT_SET("SET a = 1");
    check_case(&c5, 2);
}

/* The classifier reports the SET's unrestorable state and retry safety. */
Test(set_statement, classifier_agrees)
{
    static const char *const retry_safe_sets[] = {
        "SET autocommit = 0", "SET NAMES utf8mb4", "SET SESSION TRANSACTION READ ONLY",
        "SET GLOBAL x = 1", "SET PASSWORD = 'x'", "SET ROLE r", "/*!40101 SET NAMES utf8 */",
    };
    for (size_t i = 0; i < sizeof retry_safe_sets / sizeof retry_safe_sets[0]; i++) {
        struct statement_class c;
        classify_statement(retry_safe_sets[i], strlen(retry_safe_sets[i]), &test_server, &c);
        cr_expect_eq(c.kind, STMT_SET, "%s", retry_safe_sets[i]);
        cr_expect(c.retry_safe, "%s", retry_safe_sets[i]);
        cr_expect_eq(c.creates, 0u, "%s", retry_safe_sets[i]);
    }
    static const struct {
        const char *sql;
        unsigned creates;
    } unrestorable[] = {
        {"SET @x = 1", STATE_USER_VARS},
        {"SET TRANSACTION READ ONLY", STATE_NEXT_TXN_SETTINGS},
        {"SET STATEMENT a = 1 FOR SELECT 1", 0},
        {"SET a = ", STATE_UNREPLAYABLE_SETTINGS}, /* unparseable: reported, never lost silently */
    };
    for (size_t i = 0; i < sizeof unrestorable / sizeof unrestorable[0]; i++) {
        struct statement_class c;
        classify_statement(unrestorable[i].sql, strlen(unrestorable[i].sql), &test_server, &c);
        cr_expect_eq(c.kind, STMT_SET, "%s", unrestorable[i].sql);
        cr_expect_not(c.retry_safe, "%s", unrestorable[i].sql);
        cr_expect_eq(c.creates, unrestorable[i].creates, "%s", unrestorable[i].sql);
    }
}

/* ---- hostile input ---- */

Test(set_statement, every_prefix_of_tricky_statements)
{
    static const char *const tricky[] = {
        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',X'), NAMES 'utf8mb4' COLLATE x, GLOBAL y = 1, z = 2",
        "SET @@session.a = 1, @@global.b = (SELECT 'x,y' FROM t), LOCAL `c``d` := DEFAULT;",
        "/*!40101 SET NAMES utf8 */; /*!40103 SET @OLD=@@TIME_ZONE */",
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE",
        "SET x = 'a\\'; SET @y = 1; -- ', \"b\\\"\", `c`",
        "SET a = /*!50800 1, b = */ 2 /*M! , c = 3 */",
        "SET ROLE 'r'@'%', DEFAULT",
        "SET CHARACTER SET utf8, CHARSET latin1, PASSWORD = 'x'",
        "SET a = '\x95\\', b = 1 -- '",
        "SET STATEMENT max_statement_time = 1 FOR SELECT 1",
        "SET @@",
        "SET @",
        "SET `",
    };
    check_every_prefix(tricky, sizeof tricky / sizeof tricky[0]);
}

Test(set_statement, random_bytes)
{
    static const char *const pieces[] = {
        "SET ", "SESSION ", "GLOBAL ", "LOCAL ", "@@", "@@session.", "@@global.", "@", "NAMES ",
        "CHARACTER SET ", "TRANSACTION ", "ROLE ", "PASSWORD ", "DEFAULT ", "STATEMENT ", "=", ":=",
        ",", ";", "(", ")", "'", "\"", "`", "\\", "/*!", "/*!50800", "/*M!", "*/", "--", "-- ", "#",
        "\n", "sql_mode", "a", "1", " ", "\x81", "\x95\\", ".",
    };
    struct random_sql spec = {pieces, sizeof pieces / sizeof pieces[0], "SET ", 4, 0xfeedbeefu, 4000};
    check_random_inputs(&spec);
}
