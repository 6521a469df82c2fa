/* What the driver reads from single statements (statement_parsers.h), the
 * server profile, and the classifier's flags and server-dependent verdicts.
 * Every input is parsed from a heap copy of exactly its length. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hostile_input.h"
#include "server_profile.h"
#include "statement_class.h"
#include "statement_parsers.h"

static char *copy_of(const char *s)
{
    size_t n = strlen(s);
    char *c = malloc(n ? n : 1);
    cr_assert_not_null(c);
    memcpy(c, s, n);
    return c;
}

static bool certain(const char *sql, unsigned long long id)
{
    char *c = copy_of(sql);
    bool r = statement_insert_id_certain(c, strlen(sql), id);
    free(c);
    return r;
}

static struct statement_class classify_for(const char *sql, const struct server_profile *server)
{
    char *c = copy_of(sql);
    struct statement_class cls;
    classify_statement(c, strlen(sql), server, &cls);
    free(c);
    return cls;
}

static struct statement_class classify(const char *sql)
{
    return classify_for(sql, &test_server);
}

Test(server_profile, versions)
{
    struct server_profile p;
    server_profile_from_version("10.11.19-MariaDB-0+deb12u1", &p);
    cr_assert_eq(p.flavour, SERVER_MARIADB);
    cr_assert_eq(p.version, 101119);
    server_profile_from_version("5.5.5-10.6.12-MariaDB-log", &p);
    cr_assert_eq(p.flavour, SERVER_MARIADB);
    cr_assert_eq(p.version, 100612, "the replication prefix is not the version");
    server_profile_from_version("9.7.4", &p);
    cr_assert_eq(p.flavour, SERVER_MYSQL);
    cr_assert_eq(p.version, 90704);
    server_profile_from_version("8.0.36-0ubuntu0.22.04.1", &p);
    cr_assert_eq(p.version, 80036);
    const char *unknown[] = {NULL, "", "MariaDB", "x.y.z", "8.0", "100.1.1"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        server_profile_from_version(unknown[i], &p);
        cr_assert_eq(p.flavour, SERVER_UNKNOWN, "%s", unknown[i] ? unknown[i] : "NULL");
    }
}

Test(server_profile, builtins_follow_the_server)
{
    static const struct server_profile mysql80 = {SERVER_MYSQL, 80036}, mysql57 = {SERVER_MYSQL, 50744},
                                       mariadb105 = {SERVER_MARIADB, 100505}, unknown = {SERVER_UNKNOWN, 0};
    cr_assert_eq(classify("SELECT REGEXP_LIKE(a, 'x') FROM t").kind, STMT_WRITE,
                 "MariaDB 10.11: a stored function of that name");
    cr_assert_eq(classify_for("SELECT REGEXP_LIKE(a, 'x') FROM t", &mysql80).kind, STMT_READ);
    cr_assert_eq(classify_for("SELECT REGEXP_LIKE(a, 'x') FROM t", &mysql57).kind, STMT_WRITE, "before 8.0.4");
    cr_assert_eq(classify("SELECT COLUMN_GET(d, 1 AS INT) FROM t").kind, STMT_READ, "MariaDB's dynamic columns");
    cr_assert_eq(classify_for("SELECT COLUMN_GET(d, 1 AS INT) FROM t", &mysql80).kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT RANDOM_BYTES(8)").kind, STMT_READ, "MariaDB 10.10 and later");
    cr_assert_eq(classify_for("SELECT RANDOM_BYTES(8)", &mariadb105).kind, STMT_WRITE);
    cr_assert_eq(classify_for("SELECT ABS(a) FROM t", &unknown).kind, STMT_WRITE,
                 "an unknown server: no name is taken for a builtin");
    cr_assert_eq(classify_for("SELECT a FROM t", &unknown).kind, STMT_READ);
    static const struct server_profile mysql97 = {SERVER_MYSQL, 90704};
    cr_assert_eq(classify_for("SELECT MD5(a), SHA1(a) FROM t", &mysql80).kind, STMT_READ);
    cr_assert_eq(classify_for("SELECT MD5(a) FROM t", &mysql97).kind, STMT_WRITE,
                 "MySQL 9.7: MD5 is gone, the name reaches a stored function");
    cr_assert_eq(classify_for("SELECT SHA(a) FROM t", &mysql97).kind, STMT_WRITE);
    cr_assert_eq(classify_for("SELECT SHA2(a, 256) FROM t", &mysql97).kind, STMT_READ, "SHA2 stays");
    cr_assert_eq(classify("SELECT MD5(a) FROM t").kind, STMT_READ, "MariaDB keeps it");
}

Test(statement_class, argument_counts)
{
    cr_assert_eq(classify("SELECT POINT(1, 2)").kind, STMT_READ);
    cr_assert_eq(classify("SELECT POINT(1)").kind, STMT_WRITE, "MariaDB: a stored function");
    cr_assert_eq(classify("SELECT POINT(ABS(1), ROUND(2, 1))").kind, STMT_READ, "nested commas do not count");
    cr_assert_eq(classify("SELECT POINT((1), (2), 3)").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT POLYGON()").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT POLYGON(LINESTRING(POINT(0, 0), POINT(1, 1)))").kind, STMT_READ);
    cr_assert_eq(classify("SELECT ST_X(POINT(1))").kind, STMT_WRITE, "inside another call too");
}

Test(statement_class, names_that_are_builtins_in_some_places_only)
{
    cr_assert_eq(classify("SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) AS jt").kind,
                 STMT_READ, "a table function after FROM, COLUMNS after a path");
    cr_assert_eq(classify("SELECT JSON_TABLE(1)").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT * FROM t WHERE MATCH (a) AGAINST ('x')").kind, STMT_READ);
    cr_assert_eq(classify("SELECT AGAINST(1)").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT ESCAPE(1)").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT COUNT(*) FROM t").kind, STMT_READ);
    cr_assert_eq(classify("SELECT COUNT (*) FROM t").kind, STMT_WRITE, "a blank: a stored function count");
    cr_assert_eq(classify("SELECT COUNT/**/(*) FROM t").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT ABS (a) FROM t").kind, STMT_READ, "not a function keyword");
    cr_assert_eq(classify("SELECT s.nextval").kind, STMT_WRITE, "sql_mode=ORACLE advances the sequence");
    cr_assert_eq(classify("SELECT NEXT VALUE FOR s").kind, STMT_WRITE);
    cr_assert_eq(classify("SELECT t.nextvalue FROM t").kind, STMT_READ);
}

Test(statement_class, flags)
{
    cr_assert(classify("SELECT FOUND_ROWS()").flags & CLASS_READS_PRIOR);
    cr_assert(classify("SELECT ROW_COUNT()").flags & CLASS_READS_PRIOR);
    cr_assert(classify("SHOW WARNINGS").flags & CLASS_READS_PRIOR);
    cr_assert(classify("show errors limit 1").flags & CLASS_READS_PRIOR);
    cr_assert(classify("SHOW COUNT(*) WARNINGS").flags & CLASS_READS_PRIOR);
    cr_assert(classify("SELECT @@warning_count").flags & CLASS_READS_PRIOR);
    cr_assert(classify("SELECT @@session.error_count").flags & CLASS_READS_PRIOR);
    cr_assert(classify("GET DIAGNOSTICS @n = NUMBER").flags & CLASS_READS_PRIOR);
    cr_assert_eq(classify("SHOW TABLES").flags, 0u);
    cr_assert_eq(classify("SELECT 1").flags, 0u);

    cr_assert(classify("SELECT LAST_INSERT_ID()").flags & CLASS_READS_INSERT_ID);
    cr_assert(classify("INSERT INTO c (p) VALUES (LAST_INSERT_ID())").flags & CLASS_READS_INSERT_ID);
    cr_assert(classify("SELECT @@identity").flags & CLASS_READS_INSERT_ID);
    cr_assert(classify("SELECT @@last_insert_id").flags & CLASS_READS_INSERT_ID);
    unsigned f = classify("UPDATE seq SET id = LAST_INSERT_ID(id + 1)").flags;
    cr_assert((f & CLASS_SETS_INSERT_ID) && !(f & CLASS_READS_INSERT_ID));

    cr_assert(classify("INSERT INTO t (v) VALUES (1)").flags & CLASS_SETS_INSERT_ID);
    cr_assert(classify("REPLACE t SET v = 1").flags & CLASS_SETS_INSERT_ID);
    cr_assert(classify("LOAD DATA INFILE 'f' INTO TABLE t").flags & CLASS_SETS_INSERT_ID);
    f = classify("CALL p()").flags;
    cr_assert((f & CLASS_SETS_INSERT_ID) && (f & CLASS_CALLS_PROCEDURE));
    cr_assert(classify("SELECT 1; INSERT INTO t VALUES (1)").flags & CLASS_SETS_INSERT_ID);
    cr_assert_eq(classify("UPDATE t SET v = 1").flags & CLASS_SETS_INSERT_ID, 0u);

    cr_assert(classify("KILL 12").flags & CLASS_KILL);
    cr_assert(classify("kill query 12").flags & CLASS_KILL);
    cr_assert_eq(classify("KILL 12").kind, STMT_WRITE);
}

Test(statement_parsers, kill)
{
    bool known, query;
    unsigned long long target;
    cr_assert(parse_kill_statement("KILL 42", 7, &known, &target, &query));
    cr_assert(known && target == 42 && !query);
    const char *s = "KILL CONNECTION 42";
    cr_assert(parse_kill_statement(s, strlen(s), &known, &target, &query));
    cr_assert(known && target == 42 && !query);
    s = "kill hard connection 7;";
    cr_assert(parse_kill_statement(s, strlen(s), &known, &target, &query));
    cr_assert(known && target == 7);
    s = "KILL QUERY 42";
    cr_assert(parse_kill_statement(s, strlen(s), &known, &target, &query));
    cr_assert(query);
    s = "KILL USER app";
    cr_assert(parse_kill_statement(s, strlen(s), &known, &target, &query));
    cr_assert(!known && !query);
    s = "KILL CONNECTION_ID()";
    cr_assert(parse_kill_statement(s, strlen(s), &known, &target, &query));
    cr_assert(!known, "an expression: not a known target");
    s = "KILL 42 + 1";
    cr_assert(parse_kill_statement(s, strlen(s), &known, &target, &query));
    cr_assert(!known);
    s = "SELECT 1";
    cr_assert_not(parse_kill_statement(s, strlen(s), &known, &target, &query));
}

Test(statement_parsers, use)
{
    char db[16];
    size_t n;
    cr_assert(parse_use_statement("USE shop", 8, db, sizeof db, &n));
    cr_assert_str_eq(db, "shop");
    cr_assert(parse_use_statement("use `a``b`;", 11, db, sizeof db, &n));
    cr_assert_str_eq(db, "a`b");
    cr_assert_not(parse_use_statement("USE a b", 7, db, sizeof db, &n));
    cr_assert_not(parse_use_statement("USE averyveryverylongname", 25, db, sizeof db, &n), "does not fit");
}

/* The insert id an INSERT answers with is LAST_INSERT_ID() only when the
 * server generated it; a value the statement gave leaves it alone. */
Test(statement_parsers, insert_id_certainty)
{
    cr_assert(certain("INSERT INTO t (v) VALUES (1)", 5), "generated: 5 is not in the text");
    cr_assert(certain("insert into `db`.`t` (a, b) values ('x', NULL), (DEFAULT, 'y');", 9));
    cr_assert(certain("INSERT IGNORE INTO t VALUES (NULL, 'abc')", 3));
    cr_assert(certain("INSERT INTO t VALUES (NULL, 2)", 3));
    cr_assert_not(certain("INSERT INTO t VALUES (100, 2)", 100), "the statement gave 100 itself");
    cr_assert_not(certain("INSERT INTO t VALUES ('100', 2)", 100), "as a string too");
    cr_assert_not(certain("INSERT INTO t VALUES (99.6, 2)", 100), "a fraction rounds");
    cr_assert_not(certain("INSERT INTO t VALUES (1e2, 2)", 100));
    cr_assert_not(certain("INSERT INTO t VALUES (TRUE)", 1));
    cr_assert_not(certain("INSERT INTO t VALUES (0x64)", 100), "a hex literal");
    cr_assert_not(certain("INSERT INTO t VALUES (?, ?)", 4), "a parameter may be anything");
    cr_assert_not(certain("INSERT INTO t VALUES (99 + 1)", 100), "an expression");
    cr_assert_not(certain("INSERT INTO t (v) VALUES (NOW())", 4), "a function");
    cr_assert_not(certain("INSERT INTO t SELECT * FROM u", 4), "copied from another table");
    cr_assert_not(certain("INSERT INTO t SET id = 4", 4));
    cr_assert_not(certain("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE v = 2", 4));
    cr_assert_not(certain("INSERT INTO t VALUES (1); INSERT INTO u VALUES (2)", 4), "two statements");
    cr_assert_not(certain("INSERT INTO t VALUES (@x)", 4));
    cr_assert(certain("UPDATE seq SET id = LAST_INSERT_ID(id + 1)", 8), "the value given is the id");
    cr_assert_not(certain("UPDATE t SET v = 1", 8));
    cr_assert_not(certain("CALL p()", 8));
}

/* Any input, truncated anywhere: never a read past the end, no crash. */
Test(statement_parsers, hostile_input)
{
    static const char *const inputs[] = {
        "KILL", "KILL CONNECTION", "KILL 99999999999999999999999", "INSERT INTO", "INSERT INTO t (",
        "INSERT INTO t VALUES (", "INSERT INTO t VALUES ('", "INSERT INTO t VALUES (1,", "USE `",
        "UPDATE t SET a = LAST_INSERT_ID(", "INSERT /*!99999 IGNORE */ INTO t VALUES (1)",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t len = strlen(inputs[i]);
        for (size_t cut = 0; cut <= len; cut++) {
            char *c = malloc(cut ? cut : 1);
            memcpy(c, inputs[i], cut);
            bool known, query;
            unsigned long long target;
            char db[8];
            size_t n;
            parse_kill_statement(c, cut, &known, &target, &query);
            parse_use_statement(c, cut, db, sizeof db, &n);
            statement_insert_id_certain(c, cut, 1);
            free(c);
        }
    }
    cr_assert(certain("INSERT /*!50000 INTO */ t VALUES (1)", 2), "every supported server reads it");
    cr_assert_not(certain("INSERT /*!99999 IGNORE */ INTO t VALUES (1)", 2),
                  "read differently by other servers: not certain");
}
