/* classify_statement: table-driven cases, then hostile input.
 *
 * Every input is classified from a heap copy of exactly its length, so that
 * AddressSanitizer reports any read past `len`. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostile_input.h"
#include "set_statement.h"
#include "statement_class.h"

static const char *kind_name(enum statement_kind k)
{
    static const char *const names[] = {"UNKNOWN", "READ", "WRITE", "BEGIN", "COMMIT", "ROLLBACK", "SET", "USE",
                                        "XA_START", "XA_END", "XA_PREPARE", "XA_COMMIT", "XA_ROLLBACK"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static struct statement_class classify_n(const char *sql, size_t len)
{
    char *copy = malloc(len != 0 ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, sql, len);
    struct statement_class c;
    classify_statement(copy, len, &test_server, &c);
    free(copy);
    return c;
}

static struct statement_class classify(const char *sql)
{
    return classify_n(sql, strlen(sql));
}

struct class_case {
    const char *sql;
    enum statement_kind kind;
    unsigned creates;
    unsigned releases;
    bool retry_safe;
};

static void check_cases(const struct class_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct class_case *w = &cases[i];
        struct statement_class c = classify(w->sql);
        cr_expect_eq(c.kind, w->kind, "[%s]: kind %s, expected %s", w->sql, kind_name(c.kind),
                     kind_name(w->kind));
        cr_expect_eq(c.creates, w->creates, "[%s]: creates %#x, expected %#x", w->sql, c.creates,
                     w->creates);
        cr_expect_eq(c.releases, w->releases, "[%s]: releases %#x, expected %#x", w->sql,
                     c.releases, w->releases);
        cr_expect_eq(c.retry_safe, w->retry_safe, "[%s]: retry_safe %d, expected %d", w->sql,
                     c.retry_safe, w->retry_safe);
    }
}

#define CHECK(cases) check_cases(cases, sizeof cases / sizeof cases[0])

#define READ(s) {s, STMT_READ, 0, 0, true}
#define WRITE(s) {s, STMT_WRITE, 0, 0, false}
#define WRITE_C(s, c) {s, STMT_WRITE, c, 0, false}
#define UNKNOWN(s) {s, STMT_UNKNOWN, 0, 0, false}

enum {
    TEMP = STATE_TEMP_TABLES,
    UVAR = STATE_USER_VARS,
    NLOCK = STATE_NAMED_LOCKS,
    TLOCK = STATE_TABLE_LOCKS,
    PREP = STATE_SQL_PREPARE,
    NEXT_TXN = STATE_NEXT_TXN_SETTINGS,
};

Test(statement_class, reads)
{
    static const struct class_case cases[] = {
        READ("SELECT 1"),
        READ("select 1"),
        READ("SeLeCt 1"),
        READ("  \n\t\r\f\vSELECT 1  \n"),
        READ("SELECT 1;"),
        READ("SELECT 1 ; ;  ;"),
        READ("SELECT * FROM t WHERE a = 1"),
        READ("SELECT COUNT(*), SUM(a), MAX(b) FROM t GROUP BY c HAVING COUNT(*) > 1"),
        READ("SELECT concat ( a , b ) FROM t"),
        READ("SELECT CONCAT/* c */(a, b) FROM t"),
        READ("SELECT a FROM t WHERE b IN (SELECT c FROM u)"),
        READ("SELECT a FROM t WHERE b NOT IN (1, 2)"),
        READ("SELECT EXISTS (SELECT 1), NOT EXISTS(SELECT 2)"),
        READ("SELECT a FROM t WHERE a > ANY (SELECT 1) AND a < SOME (SELECT 2) OR a = ALL (SELECT 3)"),
        READ("SELECT * FROM (SELECT 1) AS d"),
        READ("SELECT * FROM (SELECT 1, 2) AS d (a, b)"),
        READ("SELECT * FROM t JOIN (u) USING (id)"),
        READ("SELECT * FROM t LEFT JOIN u ON (t.id = u.id) INNER JOIN (v) ON (1)"),
        READ("SELECT * FROM t WHERE (a = 1) AND (b = 2) OR NOT (c = 3) XOR (d)"),
        READ("SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) FROM t"),
        READ("SELECT a, RANK() OVER w FROM t WINDOW w AS (ORDER BY a)"),
        READ("SELECT LAG(a, 1) OVER (ORDER BY a), NTILE(4) OVER () FROM t"),
        READ("WITH c AS (SELECT 1) SELECT * FROM c"),
        READ("with c as (select 1) select * from c"),
        READ("WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT * FROM c"),
        READ("WITH a (x) AS (SELECT 1), b (y) AS (SELECT 2) SELECT * FROM a, b"),
        READ("WITH `a` (x) AS (SELECT 1) SELECT * FROM a"),
        READ("SELECT * FROM (WITH a (x) AS (SELECT 1) SELECT x FROM a) AS d"),
        READ("(SELECT 1) UNION (SELECT 2)"),
        READ("((SELECT 1)) UNION ALL (SELECT 2) ORDER BY 1"),
        READ("SELECT 1 INTERSECT SELECT 1"),
        READ("VALUES (1, 2), (3, 4)"),
        READ("VALUES ROW(1, 2), ROW(3, 4)"),
        READ("TABLE t"),
        READ("TABLE t ORDER BY a LIMIT 1"),
        READ("SHOW TABLES"),
        READ("show full processlist"),
        READ("SHOW CREATE TABLE t"),
        READ("SHOW GRANTS FOR CURRENT_USER()"),
        READ("SHOW GRANTS FOR 'u'@'h'"),
        READ("SHOW VARIABLES LIKE 'sql_mode'"),
        READ("SHOW STATUS WHERE Variable_name IN ('Uptime')"),
        READ("SHOW COUNT(*) WARNINGS"),
        READ("DESC t"),
        READ("DESCRIBE t a"),
        READ("EXPLAIN SELECT * FROM t"),
        READ("EXPLAIN FORMAT=JSON SELECT * FROM t"),
        READ("HELP 'contents'"),
        READ("SELECT REPLACE(a, 'x', 'y') FROM t"),
        READ("SELECT INSERT('abc', 1, 1, 'x')"),
        READ("SELECT LAST_INSERT_ID()"),
        READ("SELECT last_insert_id ( /* nothing */ )"),
        READ("SELECT CAST(a AS DECIMAL(10, 2)), CONVERT(b, CHAR(3)), CAST(c AS UNSIGNED) FROM t"),
        READ("SELECT CONVERT(b, DECIMAL(5, 1)), CAST(d AS DATETIME(6)) FROM t"),
        READ("SELECT CONVERT(b USING utf8mb4), CHAR(65 USING latin1)"),
        READ("SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (x INT PATH '$', y VARCHAR(10) PATH '$')) AS jt"),
        READ("SELECT SLEEP(1), BENCHMARK(10, MD5('a'))"),
        READ("SELECT IF(a, 1, 2), IFNULL(a, 0), NULLIF(a, 1), COALESCE(a, b) FROM t"),
        READ("SELECT CASE WHEN a THEN 1 ELSE 2 END, CASE (a) WHEN (1) THEN (2) ELSE (3) END FROM t"),
        READ("SELECT NOW(), CURDATE(), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(), UNIX_TIMESTAMP()"),
        READ("SELECT DATE_FORMAT(NOW(), '%Y'), DATE_ADD(d, INTERVAL 1 DAY), DATE_SUB(d, INTERVAL (1) DAY) FROM t"),
        READ("SELECT TIMESTAMPDIFF(SECOND, a, b), FROM_UNIXTIME(1), DATEDIFF(a, b) FROM t"),
        READ("SELECT JSON_EXTRACT(j, '$.a'), JSON_UNQUOTE(j->'$.a'), j->>'$.b' FROM t"),
        READ("SELECT JSON_OBJECT('a', 1), JSON_ARRAY(1, 2), JSON_ARRAYAGG(a), JSON_SET(j, '$.a', 1) FROM t"),
        READ("SELECT DATABASE(), SCHEMA(), USER(), CURRENT_USER(), VERSION(), CONNECTION_ID()"),
        READ("SELECT FOUND_ROWS(), ROW_COUNT()"),
        READ("SELECT a FROM t WHERE MATCH (a) AGAINST ('x' IN BOOLEAN MODE)"),
        READ("SELECT GROUP_CONCAT(a ORDER BY a SEPARATOR ',') FROM t"),
        READ("SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10"),
        READ("SELECT @x, @@sql_mode, @@session.autocommit, @@GLOBAL.max_connections"),
        READ("SELECT @x = 1"),
        READ("SELECT a FROM t FORCE INDEX (i) WHERE b = 1"),
        READ("SELECT a FROM t USE INDEX FOR JOIN (i) IGNORE KEY FOR ORDER BY (k)"),
        READ("SELECT a FROM t PARTITION (p0)"),
        READ("SELECT SUBSTRING(a FROM 2 FOR 3), TRIM(BOTH 'x' FROM a), POSITION('a' IN b) FROM t"),
        READ("SELECT EXTRACT(YEAR FROM d) FROM t"),
        READ("SELECT a FROM t FOR SYSTEM_TIME ALL"),
        READ("SELECT 1 FROM dual WHERE 1 BETWEEN (0) AND (2)"),
        READ("SELECT a DIV (2), a MOD (3), MOD(a, 4) FROM t"),
        READ("SELECT * FROM t WHERE a LIKE ('x%') AND b REGEXP ('y') AND c RLIKE ('z')"),
        READ("SELECT ROW(1, 2) = ROW(1, 2)"),
        READ("SELECT DISTINCT (a) FROM t ORDER BY (a)"),
        READ("SELECT a FROM t GROUP BY (a) WITH ROLLUP"),
        READ("SELECT 'a' 'b', x'0A', b'01', N'x', _utf8mb4'x', 0x1F, 1e5, 1.5e-3, .5"),
        READ("SELECT a FROM t WHERE a = 'x' COLLATE utf8mb4_bin"),
        READ("SELECT PREVIOUS VALUE FOR s"),
        READ("SELECT t.concat, concat FROM t"),
        READ("SELECT 1 AS `x`, 2 AS \"y\", 3 z"),
        READ("SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t"),
        READ("SELECT MIN(a), AVG(b), STDDEV(c), BIT_OR(d) FROM t"),
        READ("SELECT GREATEST(a, b), LEAST(a, b), ROUND(a, 2), RAND() FROM t"),
        READ("SELECT UUID(), MD5(a), SHA2(a, 256), HEX(a), UNHEX('41') FROM t"),
    };
    CHECK(cases);
}

Test(statement_class, not_reads)
{
    static const struct class_case cases[] = {
        WRITE("INSERT INTO t VALUES (1)"),
        WRITE("insert into t (a) select a from u"),
        WRITE("UPDATE t SET a = 1"),
        WRITE("DELETE FROM t"),
        WRITE("REPLACE INTO t VALUES (1)"),
        WRITE("CREATE TABLE t (a INT)"),
        WRITE("DROP TABLE t"),
        WRITE("DROP TEMPORARY TABLE t"),
        WRITE("ALTER TABLE t ADD b INT"),
        WRITE("TRUNCATE TABLE t"),
        WRITE("CALL p()"),
        WRITE("CALL p(1, 'a')"),
        WRITE("DO 1"),
        WRITE("DO RELEASE_LOCK('a')"),
        {"XA START 'x'", STMT_XA_START, 0, 0, false},
        {"xa begin 'x'", STMT_XA_START, 0, 0, false},
        {"XA END 'x'", STMT_XA_END, 0, 0, false},
        {"XA PREPARE 'x'", STMT_XA_PREPARE, 0, 0, false},
        {"XA COMMIT 'x' ONE PHASE", STMT_XA_COMMIT, 0, 0, false},
        {"XA ROLLBACK 'x'", STMT_XA_ROLLBACK, 0, 0, false},
        READ("XA RECOVER"),
        WRITE("HANDLER t OPEN"),
        WRITE("LOAD DATA INFILE 'f' INTO TABLE t"),
        WRITE("SAVEPOINT s"),
        WRITE("RELEASE SAVEPOINT s"),
        WRITE("GRANT SELECT ON db.* TO 'u'@'h'"),
        WRITE("ANALYZE TABLE t"),
        WRITE("ANALYZE SELECT 1"),
        WRITE("OPTIMIZE TABLE t"),
        WRITE("KILL 5"),
        WRITE("EXECUTE s"),
        WRITE("EXECUTE s USING @a"),
        WRITE("DEALLOCATE PREPARE s"),
        WRITE("DROP PREPARE s"),
        WRITE("START SLAVE"),
        WRITE("RENAME TABLE a TO b"),
        WRITE("FLUSH PRIVILEGES"),
        WRITE("FLUSH TABLES"),
        WRITE("BACKUP UNLOCK"),
        WRITE("UNLOCK INSTANCE"),
        WRITE("CHECKSUM TABLE t"),
        WRITE("SELECT * FROM t FOR UPDATE"),
        WRITE("SELECT * FROM t FOR UPDATE SKIP LOCKED"),
        WRITE("SELECT * FROM t FOR SHARE"),
        WRITE("select * from t for share nowait"),
        WRITE("SELECT * FROM t LOCK IN SHARE MODE"),
        WRITE("SELECT * FROM (SELECT a FROM t FOR UPDATE) d"),
        WRITE("SELECT a INTO OUTFILE '/tmp/x' FROM t"),
        WRITE("SELECT a FROM t INTO DUMPFILE '/tmp/x'"),
        WRITE("SELECT my_func(a) FROM t"),
        WRITE("SELECT my_func (a) FROM t"),
        WRITE("SELECT 1 FROM t WHERE f(a)"),
        WRITE("SELECT db.concat(a) FROM t"),
        WRITE("SELECT db . count(a) FROM t"),
        WRITE("SELECT `concat`(a) FROM t"),
        WRITE("SELECT \"concat\"(a) FROM t"),
        WRITE("SELECT 1abc(2)"),
        WRITE("SELECT NEXTVAL(s)"),
        WRITE("SELECT NEXT VALUE FOR s"),
        WRITE("SELECT SETVAL(s, 1)"),
        WRITE("SELECT LASTVAL(s)"),
        WRITE("SELECT LAST_INSERT_ID(5)"),
        WRITE("SELECT LAST_INSERT_ID(a + 1) FROM t"),
        WRITE("SELECT RELEASE_LOCK('a')"),
        WRITE("SELECT RELEASE_ALL_LOCKS()"),
        WRITE("SELECT IS_FREE_LOCK('a')"),
        WRITE("SELECT IS_USED_LOCK('a')"),
        WRITE("SELECT MEDIAN(a) OVER () FROM t"),
        WRITE("SELECT NVL(a, 0) FROM t"),
        WRITE("SELECT LOAD_FILE('/etc/passwd')"),
        WRITE("SELECT MASTER_POS_WAIT('f', 4)"),
        WRITE("SELECT 1 FROM t PROCEDURE ANALYSE()"),
        WRITE("SELECT * FROM t, LATERAL (SELECT 1) AS d"),
        WRITE("(SELECT 1) EXCEPT (SELECT 2)"),
        WRITE("SELECT 1 MEMBER OF ('[1]')"),
        WRITE("WITH c AS (SELECT 1) DELETE FROM t"),
        WRITE("WITH c AS (SELECT 1) UPDATE t SET a = 1"),
        WRITE("WITH c AS (SELECT 1) (SELECT 1), my_func(1)"),
        WRITE("WITH c AS (SELECT 1) SELECT c.x, my_func(1) FROM c"),
        WRITE("EXPLAIN DELETE FROM t"),
        WRITE("EXPLAIN ANALYZE SELECT my_func(1)"),
        WRITE("SHOW TABLES WHERE my_func(1)"),
        WRITE("(INSERT INTO t VALUES (1))"),
        WRITE("END"),
        WRITE("foo"),
        WRITE("1"),
        WRITE("@x"),
    };
    CHECK(cases);
}

Test(statement_class, transactions)
{
    static const struct class_case cases[] = {
        {"BEGIN", STMT_BEGIN, 0, 0, true},
        {"begin work", STMT_BEGIN, 0, 0, true},
        {"BEGIN;", STMT_BEGIN, 0, 0, true},
        {"START TRANSACTION", STMT_BEGIN, 0, 0, true},
        {"start transaction read only", STMT_BEGIN, 0, 0, true},
        {"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE", STMT_BEGIN, 0, 0, true},
        {"/*!40101 BEGIN */", STMT_BEGIN, 0, 0, true},
        {"COMMIT", STMT_COMMIT, 0, 0, false},
        {"commit;", STMT_COMMIT, 0, 0, false},
        {"COMMIT WORK", STMT_COMMIT, 0, 0, false},
        {"COMMIT AND CHAIN", STMT_COMMIT, 0, 0, false},
        {"COMMIT AND NO CHAIN RELEASE", STMT_COMMIT, 0, 0, false},
        {"COMMIT WORK AND NO CHAIN NO RELEASE", STMT_COMMIT, 0, 0, false},
        {"COMMIT RELEASE", STMT_COMMIT, 0, 0, false},
        {"ROLLBACK", STMT_ROLLBACK, 0, 0, true},
        {"rollback work", STMT_ROLLBACK, 0, 0, true},
        {"ROLLBACK WORK AND NO CHAIN", STMT_ROLLBACK, 0, 0, true},
        {"ROLLBACK AND CHAIN NO RELEASE", STMT_ROLLBACK, 0, 0, true},
        {"ROLLBACK NO RELEASE", STMT_ROLLBACK, 0, 0, true},
        WRITE("COMMIT AND"),
        WRITE("COMMIT NO"),
        WRITE("COMMIT AND NO"),
        WRITE("COMMIT foo"),
        WRITE("COMMIT RELEASE WORK"),
        WRITE("ROLLBACK TO s"),
        WRITE("ROLLBACK TO SAVEPOINT s"),
        WRITE("ROLLBACK WORK TO SAVEPOINT s"),
        WRITE("BEGIN NOT ATOMIC SELECT 1; END"),
        WRITE("BEGIN foo"),
        WRITE("START SLAVE"),
        WRITE("START"),
    };
    CHECK(cases);
}

Test(statement_class, set_and_use)
{
    static const struct class_case cases[] = {
        {"SET autocommit = 0", STMT_SET, 0, 0, true},
        {"SET NAMES utf8mb4", STMT_SET, 0, 0, true},
        {"set session sql_mode = ''", STMT_SET, 0, 0, true},
        {"SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')", STMT_SET, 0, 0, true},
        {"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", STMT_SET, 0, 0, true},
        {"SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED", STMT_SET, 0, 0, true},
        {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", STMT_SET, NEXT_TXN, 0, false},
        {"set transaction read only", STMT_SET, NEXT_TXN, 0, false},
        {"SET PASSWORD = 'x'", STMT_SET, 0, 0, true},
        {"SET sql_mode = my_func()", STMT_SET, 0, 0, false},
        {"SET x = (SELECT a FROM t FOR UPDATE)", STMT_SET, 0, 0, false},
        {"SET @x = 1", STMT_SET, UVAR, 0, false},
        {"SET @x := 1", STMT_SET, UVAR, 0, false},
        {"SET sql_mode = @m", STMT_SET, UVAR, 0, false},
        {"SET @r = GET_LOCK('a', 1)", STMT_SET, UVAR | NLOCK, 0, false},
        {"SET STATEMENT max_statement_time = 1 FOR SELECT 1", STMT_SET, 0, 0, false},
        {"SET STATEMENT x = 1 FOR CREATE TEMPORARY TABLE t (a INT)", STMT_SET, TEMP, 0, false},
        {"SET STATEMENT x = 1 FOR SELECT GET_LOCK('a', 1)", STMT_SET, NLOCK, 0, false},
        {"SET STATEMENT x = (1) FOR LOCK TABLES t READ", STMT_SET, TLOCK, 0, false},
        {"SET a = 1, b", STMT_SET, STATE_UNREPLAYABLE_SETTINGS, 0, false}, /* unparseable: reported once if lost */
        {"/*!40101 SET NAMES utf8 */", STMT_SET, 0, 0, true},
        {"/*!40101 SET NAMES utf8 */;", STMT_SET, 0, 0, true},
        {"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;", STMT_SET, UVAR, 0, false},
        {"USE db", STMT_USE, 0, 0, true},
        {"use `my db`", STMT_USE, 0, 0, true},
        {"USE db;", STMT_USE, 0, 0, true},
        WRITE("USE db extra"),
        WRITE("USE"),
    };
    CHECK(cases);
}

Test(statement_class, unrestorable_state)
{
    static const struct class_case cases[] = {
        WRITE_C("SELECT GET_LOCK('a', 10)", NLOCK),
        WRITE_C("select get_lock('a', 10)", NLOCK),
        WRITE_C("SELECT get_lock ('a', 10)", NLOCK),
        WRITE_C("SELECT `GET_LOCK`('a', 1)", NLOCK),
        WRITE_C("SELECT \"get_lock\"('a', 1)", NLOCK),
        WRITE_C("DO GET_LOCK('a', 1)", NLOCK),
        WRITE_C("INSERT INTO t VALUES (GET_LOCK('a', 1))", NLOCK),
        READ("SELECT 'GET_LOCK(1)', `get_lock`, get_lock FROM t"),
        WRITE("SELECT db.get_lock('a', 1)"),
        WRITE_C("SELECT @x := 1", UVAR),
        WRITE_C("SELECT @x:=1", UVAR),
        WRITE_C("SELECT @`x` := 1, @'y' := 2", UVAR),
        WRITE_C("SELECT a INTO @x FROM t", UVAR),
        WRITE_C("SELECT a FROM t INTO @x, @y", UVAR),
        WRITE_C("SELECT a FROM t WHERE (@n := @n + 1) > 0", UVAR),
        WRITE_C("UPDATE t SET a = (@n := @n + 1)", UVAR),
        WRITE_C("DO @x := 1", UVAR),
        WRITE_C("CALL p(@out)", UVAR),
        WRITE_C("LOAD DATA INFILE 'f' INTO TABLE t (@a) SET b = @a", UVAR),
        WRITE_C("GET DIAGNOSTICS @n = NUMBER", UVAR),
        WRITE_C("BEGIN NOT ATOMIC SET @x = 1; END", UVAR),
        WRITE_C("IF 1 THEN SET @x = 1; END IF", UVAR),
        WRITE_C("CREATE TEMPORARY TABLE t (a INT)", TEMP),
        WRITE_C("create temporary table if not exists t select 1", TEMP),
        WRITE_C("CREATE OR REPLACE TEMPORARY TABLE t (a INT)", TEMP),
        WRITE_C("CREATE /*!32312 TEMPORARY */ TABLE t (a INT)", TEMP),
        WRITE_C("CREATE TEMPORARY SEQUENCE s", TEMP),
        WRITE_C("BEGIN NOT ATOMIC CREATE TEMPORARY TABLE t (a INT); END", TEMP),
        WRITE("CREATE OR REPLACE TABLE t (a INT)"),
        WRITE("CREATE PROCEDURE p() CREATE TEMPORARY TABLE t (a INT)"),
        WRITE_C("LOCK TABLES t READ", TLOCK),
        WRITE_C("LOCK TABLE t WRITE", TLOCK),
        WRITE_C("lock tables t read local, u write", TLOCK),
        WRITE_C("LOCK INSTANCE FOR BACKUP", TLOCK),
        WRITE_C("FLUSH TABLES WITH READ LOCK", TLOCK),
        WRITE_C("FLUSH TABLES t FOR EXPORT", TLOCK),
        WRITE_C("BACKUP STAGE START", TLOCK),
        WRITE_C("BACKUP LOCK t", TLOCK),
        {"UNLOCK TABLES", STMT_WRITE, 0, TLOCK, false},
        {"unlock table", STMT_WRITE, 0, TLOCK, false},
        {"UNLOCK TABLES;", STMT_WRITE, 0, TLOCK, false},
        WRITE_C("PREPARE s FROM 'SELECT 1'", PREP),
        WRITE_C("prepare s from @sql", PREP),
        WRITE_C("BEGIN NOT ATOMIC PREPARE s FROM 'SELECT 1'; EXECUTE s; END", PREP),
        {"XA PREPARE 'x'", STMT_XA_PREPARE, 0, 0, false},
    };
    CHECK(cases);
}

Test(statement_class, multi_statements)
{
    static const struct class_case cases[] = {
        READ("SELECT 1; SELECT 2"),
        READ("SELECT 1;SELECT 2;"),
        READ("SELECT 1 ; ; SELECT 2 ;"),
        READ("SELECT ';'; SELECT \";\"; SELECT `;`"),
        READ("SELECT (1; 2)"),
        READ("SHOW TABLES; DESC t; SELECT 1"),
        READ("SELECT 1; -- the end\n"),
        WRITE("SELECT 1; INSERT INTO t VALUES (1)"),
        WRITE("BEGIN; SELECT 1; COMMIT"),
        WRITE("BEGIN; SELECT 1"),
        WRITE_C("SET a = 1; SET b = 2", STATE_UNREPLAYABLE_SETTINGS), /* not recorded: reported */
        WRITE("USE db; SELECT 1"),
        WRITE_C("SELECT 1; SELECT GET_LOCK('a', 1)", NLOCK),
        WRITE_C("CREATE TEMPORARY TABLE t (a INT); SELECT 1", TEMP),
        WRITE_C("SELECT @a := 1; LOCK TABLES t READ", UVAR | TLOCK),
        {"LOCK TABLES t READ; UNLOCK TABLES", STMT_WRITE, 0, TLOCK, false},
        {"UNLOCK TABLES; LOCK TABLES t READ", STMT_WRITE, TLOCK, 0, false},
        {"UNLOCK TABLES; SELECT 1", STMT_WRITE, 0, TLOCK, false},
        /* The server runs the statements before an unterminated one. */
        READ("SELECT 1; SELECT 'abc"),
        READ("SELECT 1; /* x"),
        WRITE("INSERT INTO t VALUES (1); SELECT 'abc"),
        WRITE_C("SELECT GET_LOCK('a', 1); SELECT 'abc", NLOCK),
    };
    CHECK(cases);
}

Test(statement_class, comments_and_executable_comments)
{
    static const struct class_case cases[] = {
        READ("/* c */ SELECT 1"),
        READ("-- c\nSELECT 1"),
        READ("--\tc\nSELECT 1"),
        READ("# c\nSELECT 1"),
        READ("SELECT 1 -- FOR UPDATE"),
        READ("SELECT 1 -- FOR UPDATE\n"),
        READ("SELECT 1 # INSERT"),
        READ("SELECT /* INSERT */ 1"),
        READ("SELECT 1 /* FOR UPDATE */"),
        READ("SELECT 1 /* /* nested? */"),
        READ("SELECT 1 --"),
        READ("SELECT 1 --\n"),
        WRITE("SELECT 1 --FOR UPDATE"),
        WRITE("SELECT 1 #\nFOR UPDATE"),
        WRITE("SELECT 1 /* c */ FOR UPDATE"),
        WRITE("SELECT 1 /* c * / */ FOR UPDATE"),
        READ("SELECT /*!40001 SQL_NO_CACHE */ * FROM t"),
        READ("/*!SELECT 1*/"),
        READ("/*!40101 SELECT 1 */"),
        READ("SELECT/*!*/1"),
        READ("SELECT 1/*!,2*/"),
        READ("SELECT 1 /*!, 2 */ , 3"),
        WRITE("SELECT 1 /*! FOR UPDATE */"),
        WRITE("SELECT 1 /*!50100 FOR UPDATE */"),
        WRITE("SELECT 1 /*!99999 FOR UPDATE */"),
        WRITE("SELECT 1 /*M! FOR UPDATE */"),
        WRITE("SELECT 1 /*M!100101 FOR UPDATE */"),
        WRITE_C("SELECT 1 /*!99999 , GET_LOCK('a', 1) */", NLOCK),
        READ("/*!99999 SELECT 1 */"),
        READ("SELECT 1 /*!99999 , 2 */"),
        /* A server that skips the comment sees "SELECT 1, f(2)", one that
         * runs it sees a string: either may be right. */
        WRITE("SELECT 1 /*!99999 , ' */, my_func(2) -- ' */"),
        WRITE("SELECT 1 /*M! , ' */, my_func(2) -- ' */"),
        /* A '#' comment in an executable comment runs to the end of the
         * line, past the star-slash (as in the server). */
        READ("SELECT 1 /*! # */ , my_func(1)\n*/"),
        WRITE("SELECT 1 /*! # c\n , my_func(1) */"),
        UNKNOWN("SELECT 1 /*! # */ FOR UPDATE"),
    };
    CHECK(cases);
}

Test(statement_class, quotes)
{
    static const struct class_case cases[] = {
        READ("SELECT 'a;b', \"c;d\", `e;f` FROM t"),
        READ("SELECT 'it''s; DELETE FROM t'"),
        READ("SELECT \"say \"\"INSERT\"\"\""),
        READ("SELECT 'it\\'s'"),
        READ("SELECT '\\\\'; SELECT 1"),
        /* Under NO_BACKSLASH_ESCAPES the DELETE is unterminated: refused. */
        READ("SELECT 'a\\'; DELETE FROM t'"),
        /* Complete only under NO_BACKSLASH_ESCAPES, where it is a read. */
        READ("SELECT 'abc\\'"),
        READ("SELECT `a``b`"),
        READ("SELECT `a``; DELETE FROM t; -- `"),
        READ("SELECT 'GET_LOCK(', \"INTO @x\", '@x := 1', 'FOR UPDATE'"),
        READ("SELECT @'x', @\"y\", @`z`"),
        READ("SELECT `insert`, `update` FROM `delete`"),
        READ("SELECT '/*', '*/', '--', '#'"),
        /* With NO_BACKSLASH_ESCAPES (or ANSI_QUOTES for "), the DELETE runs. */
        WRITE("SELECT 'a\\'; DELETE FROM t; -- '"),
        WRITE("SELECT \"a\\\"; DELETE FROM t; -- \""),
        WRITE("SELECT 'a\\'; SELECT my_func(1); -- '"),
        WRITE_C("SELECT 'a\\'; SELECT GET_LOCK('x', 1); -- '", NLOCK),
    };
    CHECK(cases);
}

Test(statement_class, multibyte_character_sets)
{
    static const struct class_case cases[] = {
        READ("SELECT 'caf\xc3\xa9'"),
        READ("SELECT 'Caf\xc3\xa9\\'s'"),
        READ("SELECT `\xe8\xa1\xa8`, '\xe8\xa1\xa8' FROM `\xe8\xa1\xa8`"),
        /* SJIS 0x95 0x5c is one character: the string ends at the quote. */
        WRITE("SELECT '\x95\\'; DELETE FROM t; -- '"),
        /* GBK 0x81 0x60: the backquote is part of the character. */
        WRITE_C("SELECT \x81`, GET_LOCK('x', 1) -- `", NLOCK),
    };
    CHECK(cases);
}

Test(statement_class, unterminated_and_empty)
{
    static const struct class_case cases[] = {
        UNKNOWN(""),
        UNKNOWN("   \n"),
        UNKNOWN(";"),
        UNKNOWN("; ;"),
        UNKNOWN("-- c"),
        UNKNOWN("# c"),
        UNKNOWN("/* c */"),
        UNKNOWN("/*!*/"),
        UNKNOWN("/*!40101 */ ;"),
        UNKNOWN("SELECT 'abc"),
        UNKNOWN("SELECT \"abc"),
        UNKNOWN("SELECT `abc"),
        UNKNOWN("SELECT 1 /* abc"),
        UNKNOWN("SELECT 1 /*"),
        UNKNOWN("SELECT 1 /*/"),
        UNKNOWN("/*!40101 SET NAMES utf8"),
        UNKNOWN("INSERT INTO t VALUES ('abc"),
        UNKNOWN("'"),
        UNKNOWN("`"),
        UNKNOWN("@'"),
        UNKNOWN("SELECT GET_LOCK('a', 1), 'x"),
    };
    CHECK(cases);

    struct statement_class c;
    classify_statement(NULL, 0, &test_server, &c);
    cr_expect_eq(c.kind, STMT_UNKNOWN);
    cr_expect_not(c.retry_safe);
    /* Refused unread: the GET_LOCK never runs. */
    c = classify("SELECT GET_LOCK('a', 1), 'x");
    cr_expect_eq(c.creates, 0u);
}

Test(statement_class, length_is_respected)
{
    struct statement_class c = classify_n("SELECT 1; DELETE FROM t", 8);
    cr_expect_eq(c.kind, STMT_READ);
    c = classify_n("SELECT 1 FOR UPDATE", 8);
    cr_expect_eq(c.kind, STMT_READ);
    c = classify_n("SELECT 'abc' FROM t", 10);
    cr_expect_eq(c.kind, STMT_UNKNOWN);
    c = classify_n("BEGIN WORK", 5);
    cr_expect_eq(c.kind, STMT_BEGIN);
    c = classify_n("SELECT GET_LOCK('a', 1)", 15);
    cr_expect_eq(c.kind, STMT_READ, "GET_LOCK without its '(' is a column");
    c = classify_n("SELECT 1 -", 10);
    cr_expect_eq(c.kind, STMT_READ);
    /* A NUL is a byte like any other. */
    c = classify_n("SELECT 1\0; DELETE FROM t", 24);
    cr_expect_eq(c.kind, STMT_WRITE);
    c = classify_n("SELECT '\0'", 10);
    cr_expect_eq(c.kind, STMT_READ);
}

/* Every allow-listed builtin, as a call, keeps a SELECT a read; case and
 * spacing do not matter; a near miss is a stored function. */
static const char *const builtins[] = {
    "ABS", "ACOS", "ADDDATE", "ADDTIME", "AES_DECRYPT", "AES_ENCRYPT", "ANY_VALUE", "ASCII",
    "ASIN", "ATAN", "ATAN2", "AVG", "BENCHMARK", "BIN", "BIN_TO_UUID", "BIT_AND", "BIT_COUNT",
    "BIT_LENGTH", "BIT_OR", "BIT_XOR", "CAST", "CEIL", "CEILING", "CHAR", "CHARACTER_LENGTH",
    "CHARSET", "CHAR_LENGTH", "COALESCE", "COERCIBILITY", "COLLATION", "COLUMN_ADD",
    "COLUMN_CHECK", "COLUMN_CREATE", "COLUMN_DELETE", "COLUMN_EXISTS", "COLUMN_GET",
    "COLUMN_JSON", "COLUMN_LIST", "COMPRESS", "CONCAT", "CONCAT_WS", "CONNECTION_ID", "CONV",
    "CONVERT", "CONVERT_TZ", "COS", "COT", "COUNT", "CRC32", "CRC32C", "CUME_DIST", "CURDATE",
    "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER",
    "CURTIME", "DATABASE", "DATE", "DATEDIFF", "DATE_ADD", "DATE_FORMAT", "DATE_SUB", "DAY",
    "DAYNAME", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR", "DEFAULT", "DEGREES", "DENSE_RANK", "ELT",
    "EXP", "EXPORT_SET", "EXTRACT", "EXTRACTVALUE", "FIELD", "FIND_IN_SET", "FIRST_VALUE",
    "FLOOR", "FORMAT", "FORMAT_BYTES", "FORMAT_PICO_TIME", "FOUND_ROWS", "FROM_BASE64",
    "FROM_DAYS", "FROM_UNIXTIME", "GEOMETRYCOLLECTION", "GET_FORMAT", "GREATEST", "GROUPING",
    "GROUP_CONCAT", "GTID_SUBSET", "GTID_SUBTRACT", "HEX", "HOUR", "ICU_VERSION", "IF", "IFNULL",
    "INET6_ATON", "INET6_NTOA", "INET_ATON", "INET_NTOA", "INSERT", "INSTR", "INTERVAL",
    "ISNULL", "IS_IPV4", "IS_IPV4_COMPAT", "IS_IPV4_MAPPED", "IS_IPV6", "IS_UUID", "JSON_ARRAY",
    "JSON_ARRAYAGG", "JSON_ARRAY_APPEND", "JSON_ARRAY_INSERT", "JSON_ARRAY_INTERSECT",
    "JSON_COMPACT", "JSON_CONTAINS", "JSON_CONTAINS_PATH", "JSON_DEPTH", "JSON_DETAILED",
    "JSON_EQUALS", "JSON_EXISTS", "JSON_EXTRACT", "JSON_INSERT", "JSON_KEYS", "JSON_KEY_VALUE",
    "JSON_LENGTH", "JSON_LOOSE", "JSON_MERGE", "JSON_MERGE_PATCH", "JSON_MERGE_PRESERVE",
    "JSON_NORMALIZE", "JSON_OBJECT", "JSON_OBJECTAGG", "JSON_OBJECT_FILTER_KEYS",
    "JSON_OBJECT_TO_ARRAY", "JSON_OVERLAPS", "JSON_PRETTY", "JSON_QUERY", "JSON_QUOTE",
    "JSON_REMOVE", "JSON_REPLACE", "JSON_SCHEMA_VALID", "JSON_SEARCH", "JSON_SET",
    "JSON_STORAGE_FREE", "JSON_STORAGE_SIZE", "JSON_TABLE", "JSON_TYPE", "JSON_UNQUOTE",
    "JSON_VALID", "JSON_VALUE", "LAG", "LAST_DAY", "LAST_VALUE", "LCASE", "LEAD", "LEAST",
    "LEFT", "LENGTH", "LINESTRING", "LN", "LOCALTIME", "LOCALTIMESTAMP", "LOCATE", "LOG",
    "LOG10", "LOG2", "LOWER", "LPAD", "LTRIM", "MAKEDATE", "MAKETIME", "MAKE_SET", "MAX",
    "MBRCONTAINS", "MBRCOVEREDBY", "MBRCOVERS", "MBRDISJOINT", "MBREQUALS", "MBRINTERSECTS",
    "MBROVERLAPS", "MBRTOUCHES", "MBRWITHIN", "MD5", "MICROSECOND", "MID", "MIN", "MINUTE",
    "MOD", "MONTH", "MONTHNAME", "MULTILINESTRING", "MULTIPOINT", "MULTIPOLYGON", "NAME_CONST",
    "NATURAL_SORT_KEY", "NOW", "NTH_VALUE", "NTILE", "NULLIF", "OCT", "OCTET_LENGTH",
    "OLD_PASSWORD", "ORD", "PASSWORD", "PERCENT_RANK", "PERIOD_ADD", "PERIOD_DIFF", "PI",
    "POINT", "POLYGON", "POSITION", "POW", "POWER", "PS_CURRENT_THREAD_ID", "PS_THREAD_ID",
    "QUARTER", "QUOTE", "RADIANS", "RAND", "RANDOM_BYTES", "RANK", "REGEXP_INSTR", "REGEXP_LIKE",
    "REGEXP_REPLACE", "REGEXP_SUBSTR", "REPEAT", "REPLACE", "REVERSE", "RIGHT", "ROUND",
    "ROW_COUNT", "ROW_NUMBER", "RPAD", "RTRIM", "SCHEMA", "SECOND", "SEC_TO_TIME",
    "SESSION_USER", "SHA", "SHA1", "SHA2", "SIGN", "SIN", "SLEEP", "SOUNDEX", "SPACE", "SQRT",
    "STATEMENT_DIGEST", "STATEMENT_DIGEST_TEXT", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP",
    "STRCMP", "STR_TO_DATE", "ST_AREA", "ST_ASBINARY", "ST_ASGEOJSON", "ST_ASTEXT", "ST_ASWKB",
    "ST_ASWKT", "ST_BUFFER", "ST_CENTROID", "ST_CONTAINS", "ST_CONVEXHULL", "ST_CROSSES",
    "ST_DIFFERENCE", "ST_DIMENSION", "ST_DISJOINT", "ST_DISTANCE", "ST_DISTANCE_SPHERE",
    "ST_ENDPOINT", "ST_ENVELOPE", "ST_EQUALS", "ST_EXTERIORRING", "ST_GEOMETRYN",
    "ST_GEOMETRYTYPE", "ST_GEOMFROMGEOJSON", "ST_GEOMFROMTEXT", "ST_GEOMFROMWKB",
    "ST_INTERIORRINGN", "ST_INTERSECTION", "ST_INTERSECTS", "ST_ISCLOSED", "ST_ISEMPTY",
    "ST_ISSIMPLE", "ST_ISVALID", "ST_LATITUDE", "ST_LENGTH", "ST_LINEFROMTEXT", "ST_LONGITUDE",
    "ST_NUMGEOMETRIES", "ST_NUMINTERIORRINGS", "ST_NUMPOINTS", "ST_OVERLAPS", "ST_POINTFROMTEXT",
    "ST_POINTN", "ST_POLYFROMTEXT", "ST_SRID", "ST_STARTPOINT", "ST_SYMDIFFERENCE", "ST_TOUCHES",
    "ST_UNION", "ST_WITHIN", "ST_X", "ST_Y", "SUBDATE", "SUBSTR", "SUBSTRING", "SUBSTRING_INDEX",
    "SUBTIME", "SUM", "SYSDATE", "SYSTEM_USER", "SYS_GUID", "TAN", "TIME", "TIMEDIFF",
    "TIMESTAMP", "TIMESTAMPADD", "TIMESTAMPDIFF", "TIME_FORMAT", "TIME_TO_SEC", "TO_BASE64",
    "TO_DAYS", "TO_SECONDS", "TRIM", "TRUNCATE", "UCASE", "UNCOMPRESS", "UNCOMPRESSED_LENGTH",
    "UNHEX", "UNIX_TIMESTAMP", "UPDATEXML", "UPPER", "USER", "UTC_DATE", "UTC_TIME",
    "UTC_TIMESTAMP", "UUID", "UUID_SHORT", "UUID_TO_BIN", "VALIDATE_PASSWORD_STRENGTH",
    "VARIANCE", "VAR_POP", "VAR_SAMP", "VERSION", "WEEK", "WEEKDAY", "WEEKOFYEAR",
    "WEIGHT_STRING", "YEAR", "YEARWEEK",
};

/* Words whose '(' is syntax after an operand only: MariaDB does not
 * reserve them, so at the start of an expression they call a stored
 * function of that name. */
static const char *const syntax_after_operand[] = {"AGAINST", "COLUMNS", "ESCAPE"};

/* Keywords whose '(' is syntax, never a call. */
static const char *const syntax_keywords[] = {
    "AGAINST", "ALL", "AND", "ANY", "AS", "BETWEEN", "BIGINT", "BINARY", "BIT", "BY", "CASE",
    "COLUMNS", "CROSS", "DATETIME", "DEC", "DECIMAL", "DISTINCT", "DISTINCTROW", "DIV", "DOUBLE",
    "ELSE", "ESCAPE", "EXISTS", "FIXED", "FLOAT", "FROM", "GROUP", "HAVING", "IN", "INDEX",
    "INNER", "INT", "INTEGER", "JOIN", "KEY", "LIKE", "MATCH", "MEDIUMINT", "NATURAL", "NCHAR",
    "NOT", "NUMERIC", "NVARCHAR", "ON", "OR", "ORDER", "OUTER", "OVER", "PARTITION", "REAL",
    "REGEXP", "RLIKE", "ROW", "SELECT", "SEPARATOR", "SMALLINT", "SOME", "STRAIGHT_JOIN", "THEN",
    "TINYINT", "UNION", "USING", "VALUES", "VARBINARY", "VARCHAR", "WHEN", "WHERE", "WITH",
    "XOR",
};

static bool listed(const char *const *list, size_t n, const char *name, size_t len)
{
    for (size_t j = 0; j < n; j++) {
        if (strlen(list[j]) == len && strncmp(list[j], name, len) == 0)
            return true;
    }
    return false;
}

/* Builtins of MySQL only (or of newer MariaDB than CI's 10.11): on MariaDB
 * 10.11 these names resolve to a stored function of the current database
 * (probed by tests/integration/test_builtin_names.c). */
static const char *const not_on_mariadb_10_11[] = {
    "ANY_VALUE", "BIN_TO_UUID", "FORMAT_BYTES", "FORMAT_PICO_TIME", "GROUPING", "GTID_SUBSET",
    "GTID_SUBTRACT", "ICU_VERSION", "IS_UUID", "JSON_ARRAY_INTERSECT", "JSON_KEY_VALUE",
    "JSON_OBJECT_FILTER_KEYS", "JSON_OBJECT_TO_ARRAY", "JSON_SCHEMA_VALID", "JSON_STORAGE_FREE",
    "JSON_STORAGE_SIZE", "JSON_TABLE", "MBRCOVEREDBY", "MBRCOVERS", "PS_CURRENT_THREAD_ID", "PS_THREAD_ID",
    "REGEXP_LIKE", "STATEMENT_DIGEST", "STATEMENT_DIGEST_TEXT", "ST_ISVALID", "ST_LATITUDE",
    "ST_LONGITUDE", "UUID_TO_BIN", "VALIDATE_PASSWORD_STRENGTH",
};

/* Builtins only when '(' follows at once (the servers' function keywords). */
static const char *const space_sensitive[] = {
    "ADDDATE", "BIT_AND", "BIT_OR", "BIT_XOR", "CAST", "COUNT", "CUME_DIST", "CURDATE", "CURTIME",
    "DATE_ADD", "DATE_SUB", "DENSE_RANK", "EXTRACT", "FIRST_VALUE", "GROUP_CONCAT", "JSON_ARRAYAGG",
    "JSON_OBJECTAGG", "LAG", "LAST_VALUE", "LEAD", "MAX", "MID", "MIN", "NOW", "NTH_VALUE", "NTILE",
    "PERCENT_RANK", "POSITION", "RANK", "ROW_NUMBER", "SESSION_USER", "STD", "STDDEV", "STDDEV_POP",
    "STDDEV_SAMP", "SUBDATE", "SUBSTR", "SUBSTRING", "SUM", "SYSDATE", "SYSTEM_USER", "TRIM", "VARIANCE",
    "VAR_POP", "VAR_SAMP",
};

/* Builtins whose one-argument call is something else on MariaDB. */
static const char *const not_with_one_argument[] = {"POINT"};

static bool in(const char *const *list, size_t n, const char *name)
{
    return listed(list, n, name, strlen(name));
}
#define IN(list, name) in(list, sizeof list / sizeof list[0], name)

Test(statement_class, builtin_allow_list)
{
    char sql[128], lower[64];
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        const char *name = builtins[i];
        size_t n = strlen(name);
        cr_assert_lt(n, sizeof lower);
        for (size_t k = 0; k <= n; k++)
            lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + ('a' - 'A') : name[k]);
        bool here = !IN(not_on_mariadb_10_11, name);
        bool one_arg = !IN(not_with_one_argument, name);

        snprintf(sql, sizeof sql, "SELECT %s(1)", name);
        cr_expect_eq(classify(sql).kind, here && one_arg ? STMT_READ : STMT_WRITE, "%s", sql);
        snprintf(sql, sizeof sql, "select %s (a, 'b') from t", lower);
        cr_expect_eq(classify(sql).kind, here && !IN(space_sensitive, name) ? STMT_READ : STMT_WRITE, "%s", sql);
        snprintf(sql, sizeof sql, "SELECT %sX(1)", name);
        cr_expect_eq(classify(sql).kind, STMT_WRITE, "%s", sql);
        snprintf(sql, sizeof sql, "SELECT X%s(1)", name);
        cr_expect_eq(classify(sql).kind, STMT_WRITE, "%s", sql);
        if (n > 1) {
            snprintf(sql, sizeof sql, "SELECT %.*s(1)", (int)(n - 1), name);
            /* Some names are prefixes of others: SHA of SHA1, OR of ORD. */
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%.*s", (int)(n - 1), name);
            bool allowed = (IN(builtins, prefix) && !IN(not_on_mariadb_10_11, prefix) &&
                            !IN(not_with_one_argument, prefix)) ||
                           (IN(syntax_keywords, prefix) && !IN(syntax_after_operand, prefix));
            cr_expect_eq(classify(sql).kind, allowed ? STMT_READ : STMT_WRITE, "%s", sql);
        }
        snprintf(sql, sizeof sql, "SELECT db.%s(1)", name);
        cr_expect_eq(classify(sql).kind, STMT_WRITE, "%s", sql);
    }
    cr_expect_gt(sizeof builtins / sizeof builtins[0], 300);

    static const char *const not_builtins[] = {
        "my_func", "MEDIAN", "NVL", "NVL2", "DECODE", "TO_CHAR", "NEXTVAL", "SETVAL",
        "LASTVAL", "LOAD_FILE", "MASTER_POS_WAIT", "SOURCE_POS_WAIT", "WAIT_FOR_EXECUTED_GTID_SET",
        "LATERAL", "OF", "X", "a_very_long_function_name_longer_than_any_builtin",
        "\xc3\xa9t\xc3\xa9", "$f", "_", "UPDATE", "DELETE", "SET", "FOR", "TABLE",
    };
    for (size_t i = 0; i < sizeof not_builtins / sizeof not_builtins[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT %s(1)", not_builtins[i]);
        cr_expect_eq(classify(sql).kind, STMT_WRITE, "%s", sql);
    }
}

Test(statement_class, syntax_keywords_are_not_calls)
{
    char sql[96];
    for (size_t i = 0; i < sizeof syntax_keywords / sizeof syntax_keywords[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT 1 %s (1)", syntax_keywords[i]);
        struct statement_class c = classify(sql);
        cr_expect_eq(c.kind, STMT_READ, "%s", sql);
        if (IN(syntax_after_operand, syntax_keywords[i])) {
            snprintf(sql, sizeof sql, "SELECT %s(1)", syntax_keywords[i]);
            cr_expect_eq(classify(sql).kind, STMT_WRITE, "%s: a stored function at an expression's start", sql);
        }
        snprintf(sql, sizeof sql, "SELECT 1 FROM t WHERE db.%s(1)", syntax_keywords[i]);
        cr_expect_eq(classify(sql).kind, STMT_WRITE, "%s", sql);
    }
}

Test(statement_class, state_names)
{
    cr_expect_str_eq(unrestorable_state_name(0), "none");
    cr_expect_str_eq(unrestorable_state_name(STATE_TEMP_TABLES), "temporary tables");
    cr_expect_str_eq(unrestorable_state_name(STATE_USER_VARS), "user variables");
    cr_expect_str_eq(unrestorable_state_name(STATE_NAMED_LOCKS), "named locks (GET_LOCK)");
    cr_expect_str_eq(unrestorable_state_name(STATE_TABLE_LOCKS), "table locks (LOCK TABLES)");
    cr_expect_str_eq(unrestorable_state_name(STATE_SQL_PREPARE), "SQL-level prepared statements");
    cr_expect_str_eq(unrestorable_state_name(STATE_NEXT_TXN_SETTINGS), "pending SET TRANSACTION");
    cr_expect_str_eq(unrestorable_state_name(STATE_NAMED_LOCKS | STATE_SQL_PREPARE),
                     "named locks (GET_LOCK)");
    cr_expect_str_eq(unrestorable_state_name(STATE_USER_VARS | STATE_TEMP_TABLES), "temporary tables");
    cr_expect_not_null(unrestorable_state_name(1u << 20));
}

/* ---- hostile input ---- */

static const char *const tricky[] = {
    "SELECT 'a\\'b', \"c\\\"d\", `e``f` FROM t WHERE x = 'y''z' -- c\n; SELECT 2",
    "/*!40101 SET @OLD=@@SQL_MODE, SQL_MODE='X' */; /*M!100101 SELECT 1 */ # x\n",
    "SET SESSION sql_mode = CONCAT(@@sql_mode, ','), NAMES utf8mb4 COLLATE utf8mb4_bin, @@global.x = 1",
    "WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT GET_LOCK('a', 1) FROM c",
    "SELECT @x := LAST_INSERT_ID(), @`y` := 1 INTO @z FROM t FOR UPDATE; UNLOCK TABLES",
    "CREATE OR REPLACE TEMPORARY TABLE t (a INT); LOCK TABLES t READ; PREPARE s FROM 'x'",
    "SELECT 1 /*!99999 , ' */, f(2) -- ' */ ; /* unterminated",
    "SET STATEMENT a = 1 FOR SELECT '\x95\\'; DELETE FROM t; -- ', \x81`",
    "SELECT '\\",
    "@@session.",
    "@'",
    "/*!",
    "/*M!1",
    "--",
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE; COMMIT AND NO CHAIN NO RELEASE",
};

Test(statement_class, every_prefix_of_tricky_statements)
{
    check_every_prefix(tricky, sizeof tricky / sizeof tricky[0]);
}

Test(statement_class, random_bytes)
{
    static const char *const pieces[] = {
        "SELECT ", "SET ", "INSERT", " FOR UPDATE", "'", "\"", "`", "\\", "/*", "*/", "/*!",
        "/*!50700", "/*M!", "--", "-- ", "#", "\n", "@", "@@", "@@session.", ":=", "=", "(", ")",
        ";", ",", ".", "GET_LOCK(", "LAST_INSERT_ID(", "INTO @x", "WITH c (a) AS (", "\x81",
        "\x95\\", "\xc3\xa9", "BEGIN", "COMMIT AND CHAIN", "LOCK TABLES", "NAMES ", "GLOBAL ",
        "TRANSACTION ", "0x", "1e", "a", " ", "\0",
    };
    struct random_sql spec = {pieces, sizeof pieces / sizeof pieces[0], NULL, 2, 0x5eed1234u, 4000};
    check_random_inputs(&spec);
}

/* A session setting the adapter cannot record must not be lost silently. */
Test(statement_class, unreplayable_settings_are_marked)
{
    struct statement_class c = classify("SET sql_mode = 'A'; SELECT 1");
    cr_assert(c.creates & STATE_UNREPLAYABLE_SETTINGS, "a SET inside a multi-statement string");
    c = classify("SET a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,q=1");
    cr_assert_eq(c.kind, STMT_SET);
    cr_assert(c.creates & STATE_UNREPLAYABLE_SETTINGS, "more assignments than the parser holds");
    c = classify("SET sql_mode = 'A'");
    cr_assert_eq(c.creates, 0, "a lone, parsed SET is replayed, not reported");
    c = classify("SELECT 1; SELECT 2");
    cr_assert_eq(c.creates, 0);
    cr_assert_str_eq(unrestorable_state_name(STATE_UNREPLAYABLE_SETTINGS),
                     "session settings that cannot be replayed");
}
