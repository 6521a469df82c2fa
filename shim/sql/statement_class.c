/* statement_class.c - what a statement means for reconnect decisions (see
 * statement_class.h).
 *
 * One pass over the tokens (sql_lexer.h) per reading of the text. Each
 * statement's first few keywords decide its kind; a body scan over all its
 * tokens looks for what disqualifies a read (a locking clause, INTO, a data
 * change keyword, a user variable assignment, a call to anything but a known
 * side-effect-free builtin) and for what creates session state anywhere
 * (GET_LOCK, @x :=, INTO @x).
 *
 * Choices the header leaves open, all on the side of "not a read":
 *  - A call to a function that is not on the allow-list below is taken to
 *    be a stored function or a loadable (UDF) one, which may write: the
 *    statement is STMT_WRITE and never retried. So are qualified calls
 *    (db.f()) and calls by quoted name (`f`(), "f"() under ANSI_QUOTES).
 *  - The allow-list is the union of MySQL 5.7/8 and MariaDB builtins, minus
 *    generic names a program may well have defined as a stored function on
 *    the server family that lacks the builtin (MEDIAN, NVL, NVL2, DECODE,
 *    ENCODE, ENCRYPT, TO_CHAR, CHR, ADD_MONTHS, LASTVAL...). A stored
 *    function named like a builtin of the other family (say a MySQL 5.7
 *    "regexp_replace" polyfill) would still be taken for the builtin.
 *  - Stored routines (CALL p(), f() in any statement) can create any of the
 *    unrestorable states out of sight; only what the statement text shows is
 *    reported. CALL/LOAD/GET DIAGNOSTICS with a @variable in them create
 *    STATE_USER_VARS (OUT parameters, LOAD DATA's @col, GET ... @x = ...).
 *  - Compound statements (BEGIN NOT ATOMIC, IF, labels...) and every other
 *    statement the first keyword does not explain are searched anywhere for
 *    CREATE [OR REPLACE] TEMPORARY, PREPARE and "@x =".
 *  - FLUSH ... WITH READ LOCK / FOR EXPORT, LOCK INSTANCE and BACKUP STAGE /
 *    BACKUP LOCK hold session locks: they create STATE_TABLE_LOCKS.
 *  - The creates/releases of several statements are composed in order (a
 *    LOCK TABLES then UNLOCK TABLES releases), so that applying releases and
 *    creates in either order gives the same result.
 *  - A statement the server would reject unread (an unterminated string,
 *    quoted name or comment) runs nothing: it and what follows it are left
 *    out. Text where nothing would run is STMT_UNKNOWN.
 *  - Text whose tokens depend on server settings (see sql_lexer.h) is
 *    classified under each reading; the answers are combined: kinds must
 *    agree or the result is STMT_WRITE, creates are OR-ed, releases AND-ed,
 *    retry_safe AND-ed. Readings under which nothing would run are left
 *    out.
 */
#include "statement_class.h"

#include <stdint.h>
#include <string.h>

#include "set_statement.h"
#include "sql_lexer.h"

/* Keywords the classifier acts on. */
enum keyword {
    KW_NONE = 0,
    KW_SELECT,
    KW_WITH,
    KW_RECURSIVE,
    KW_VALUES,
    KW_TABLE,
    KW_SHOW,
    KW_DESC,
    KW_DESCRIBE,
    KW_EXPLAIN,
    KW_HELP,
    KW_BEGIN,
    KW_WORK,
    KW_START,
    KW_TRANSACTION,
    KW_COMMIT,
    KW_ROLLBACK,
    KW_AND,
    KW_NO,
    KW_CHAIN,
    KW_RELEASE,
    KW_SET,
    KW_USE,
    KW_CREATE,
    KW_OR,
    KW_REPLACE,
    KW_TEMPORARY,
    KW_LOCK,
    KW_UNLOCK,
    KW_TABLES,
    KW_PREPARE,
    KW_INSERT,
    KW_UPDATE,
    KW_DELETE,
    KW_INTO,
    KW_FOR,
    KW_SHARE,
    KW_NEXT,
    KW_VALUE,
    KW_AS,
    KW_STATEMENT,
    KW_FLUSH,
    KW_BACKUP,
    KW_EXPORT,
    KW_CALL,
    KW_LOAD,
    KW_GET,
    KW_XA,
    KW_DEALLOCATE,
    KW_DROP,
    KW_END,
    KW_RECOVER,
    KW_KILL,
    KW_FROM,
    KW_JOIN,
};

/* What a word followed by '(' is. */
enum fn_class {
    FN_STORED = 0,     /* not a builtin: a stored or loadable function, may write */
    FN_SYNTAX,         /* a keyword whose '(' is syntax: IN (, AS (, DECIMAL(10,2) */
    /* A word whose '(' is syntax after an operand (MATCH (a) AGAINST (...),
     * x LIKE 'a' ESCAPE ('!'), '$' COLUMNS (...)), but which calls a stored
     * function of that name at the start of an expression: MariaDB does not
     * reserve it. */
    FN_SYNTAX_AFTER_OPERAND,
    FN_TABLE,          /* a table function (JSON_TABLE): a builtin after FROM or JOIN only */
    FN_PURE,           /* a builtin without side effects */
    FN_PRIOR,          /* ... that reads what the previous statement left (FOUND_ROWS) */
    FN_LAST_INSERT_ID, /* read with (), sets the session's value with (expr) */
    FN_GET_LOCK,       /* takes a named lock held by the session */
    FN_LOCK_INFO,      /* RELEASE_LOCK, IS_FREE_LOCK...: lock traffic, no new state */
};

/* Availability, for FN_PURE, FN_PRIOR and FN_TABLE: the first version of
 * each server flavour where the name is that builtin (server_profile.h
 * numbering), 1 for every version goneshim supports (MariaDB 10, MySQL
 * 5.7 and later), 0 where it is not a builtin at all, so that the name
 * resolves to a stored function of the current database. Where the version
 * is not certain, the later one, or 0: a builtin taken for a stored
 * function only costs a read its resend.
 * Arity: the builtin takes min_args..max_args arguments; called with
 * another count the name resolves to a stored function (MariaDB's POINT,
 * with one argument). ANY_ARGS: no limit.
 * Removal: mysql_until, the first MySQL version where the builtin is gone
 * again (0: it is not). MySQL 9.7.4 has no MD5, SHA or SHA1 (measured:
 * "SELECT MD5('a')" looks for a stored function); 8.4 has them; the versions
 * between were not tried, so they count as without them. */
#define ANY_ARGS 255

struct word_entry {
    uint64_t key; /* length and first 7 bytes: see WORD_KEY */
    char name[27];
    unsigned char kw; /* enum keyword */
    unsigned char fn; /* enum fn_class */
    unsigned char min_args, max_args;
    unsigned mariadb_since, mysql_since, mysql_until;
};

/* The search key of a name: its length in the top byte, then its first 7
 * bytes (NUL-padded), so that keys order like (length, name) and most
 * probes of the search below are one integer comparison. Computed by the
 * compiler for the table. */
#define WORD_CH(n, i) ((uint64_t)((i) < sizeof(n) - 1 ? (unsigned char)(n)[(i) < sizeof(n) - 1 ? (i) : 0] : 0))
#define WORD_KEY(n)                                                                            \
    (((uint64_t)(sizeof(n) - 1) << 56) | (WORD_CH(n, 0) << 48) | (WORD_CH(n, 1) << 40) |       \
     (WORD_CH(n, 2) << 32) | (WORD_CH(n, 3) << 24) | (WORD_CH(n, 4) << 16) | (WORD_CH(n, 5) << 8) | \
     WORD_CH(n, 6))

#define ENTRY(n, kw, fn, lo, hi, ma, my) {WORD_KEY(n), n, kw, fn, lo, hi, ma, my, 0}
#define K(n, kw, fn) ENTRY(n, kw, fn, 0, ANY_ARGS, 1, 1)
/* A builtin of both flavours, every version. */
#define F(n) ENTRY(n, KW_NONE, FN_PURE, 0, ANY_ARGS, 1, 1)
/* A builtin since these versions of MariaDB and MySQL (0: not there). */
#define FV(n, ma, my) ENTRY(n, KW_NONE, FN_PURE, 0, ANY_ARGS, ma, my)
/* A builtin of both, but gone from MySQL since version `until`. */
#define F_MYSQL_UNTIL(n, until) {WORD_KEY(n), n, KW_NONE, FN_PURE, 0, ANY_ARGS, 1, 1, until}
/* A builtin of both, with this many arguments only. */
#define FA(n, lo, hi) ENTRY(n, KW_NONE, FN_PURE, lo, hi, 1, 1)
#define S(n) ENTRY(n, KW_NONE, FN_SYNTAX, 0, ANY_ARGS, 1, 1)
#define SO(n) ENTRY(n, KW_NONE, FN_SYNTAX_AFTER_OPERAND, 0, ANY_ARGS, 1, 1)
#define W(n, fn) ENTRY(n, KW_NONE, fn, 0, ANY_ARGS, 1, 1)
#define WV(n, fn, ma, my) ENTRY(n, KW_NONE, fn, 0, ANY_ARGS, ma, my)
/* MariaDB's window functions came in 10.2, MySQL's in 8.0.2. */
#define WINDOW(n) FV(n, 100200, 80002)
/* The JSON functions of MySQL 5.7.8 and MariaDB 10.2.3. */
#define JSON(n) FV(n, 100203, 50708)

/* Both tables are sorted by length, then by name (searched below); a word
 * is in one of them only.
 *
 * FN_SYNTAX is only given to words that are keywords in MySQL 5.7+ and
 * MariaDB 10+ alike, so that "word(" can never be a call of a stored
 * function of that name (the grammar only calls unquoted identifiers that
 * are not keywords). Keywords that only some supported servers have
 * (LATERAL, INTERSECT, EXCEPT, OF) stay FN_STORED: a query using them is
 * merely not retried. OVER, which MySQL 5.7 lacks, is the exception: window
 * functions are common in reads and a stored function named OVER is not. */

/* The keywords the classifier acts on (and what they are before '('). */
static const struct word_entry keywords[] = {
    /* 2 */ K("AS", KW_AS, FN_SYNTAX), K("NO", KW_NO, FN_STORED), K("OR", KW_OR, FN_SYNTAX),
            K("XA", KW_XA, FN_STORED),
    /* 3 */ K("AND", KW_AND, FN_SYNTAX), K("END", KW_END, FN_STORED), K("FOR", KW_FOR, FN_STORED),
            K("GET", KW_GET, FN_STORED),
            K("SET", KW_SET, FN_STORED), K("USE", KW_USE, FN_STORED),
    /* 4 */ K("CALL", KW_CALL, FN_STORED), K("DESC", KW_DESC, FN_STORED),
            K("DROP", KW_DROP, FN_STORED), K("FROM", KW_FROM, FN_SYNTAX), K("HELP", KW_HELP, FN_STORED),
            K("INTO", KW_INTO, FN_STORED), K("JOIN", KW_JOIN, FN_SYNTAX), K("KILL", KW_KILL, FN_STORED),
            K("LOAD", KW_LOAD, FN_STORED),
            K("LOCK", KW_LOCK, FN_STORED), K("NEXT", KW_NEXT, FN_STORED),
            K("SHOW", KW_SHOW, FN_STORED), K("WITH", KW_WITH, FN_SYNTAX),
            K("WORK", KW_WORK, FN_STORED),
    /* 5 */ K("BEGIN", KW_BEGIN, FN_STORED), K("CHAIN", KW_CHAIN, FN_STORED),
            K("FLUSH", KW_FLUSH, FN_STORED), K("SHARE", KW_SHARE, FN_STORED),
            K("START", KW_START, FN_STORED), K("TABLE", KW_TABLE, FN_STORED),
            K("VALUE", KW_VALUE, FN_STORED),
    /* 6 */ K("BACKUP", KW_BACKUP, FN_STORED), K("COMMIT", KW_COMMIT, FN_STORED),
            K("CREATE", KW_CREATE, FN_STORED), K("DELETE", KW_DELETE, FN_STORED),
            K("EXPORT", KW_EXPORT, FN_STORED), K("INSERT", KW_INSERT, FN_PURE),
            K("SELECT", KW_SELECT, FN_SYNTAX), K("TABLES", KW_TABLES, FN_STORED),
            K("UNLOCK", KW_UNLOCK, FN_STORED), K("UPDATE", KW_UPDATE, FN_STORED),
            K("VALUES", KW_VALUES, FN_SYNTAX),
    /* 7 */ K("EXPLAIN", KW_EXPLAIN, FN_STORED), K("PREPARE", KW_PREPARE, FN_STORED),
            K("RECOVER", KW_RECOVER, FN_STORED), K("RELEASE", KW_RELEASE, FN_STORED),
            K("REPLACE", KW_REPLACE, FN_PURE),
    /* 8 */ K("DESCRIBE", KW_DESCRIBE, FN_STORED), K("ROLLBACK", KW_ROLLBACK, FN_STORED),
    /* 9 */ K("RECURSIVE", KW_RECURSIVE, FN_STORED), K("STATEMENT", KW_STATEMENT, FN_STORED),
            K("TEMPORARY", KW_TEMPORARY, FN_STORED),
    /* 10 */ K("DEALLOCATE", KW_DEALLOCATE, FN_STORED),
    /* 11 */ K("TRANSACTION", KW_TRANSACTION, FN_STORED),
};

/* The side-effect-free builtin functions (F), keywords whose '(' is syntax
 * (S) and the named-lock and LAST_INSERT_ID functions (W). */
static const struct word_entry functions[] = {
    /* 2 */ S("BY"), F("IF"), S("IN"), F("LN"), S("ON"), F("PI"),
    /* 3 */ F("ABS"), S("ALL"), S("ANY"), F("AVG"), F("BIN"), S("BIT"), F("COS"), F("COT"),
            F("DAY"), S("DEC"), S("DIV"), F("ELT"), F("EXP"), F("HEX"), S("INT"), S("KEY"),
            WINDOW("LAG"), F("LOG"), F("MAX"), F_MYSQL_UNTIL("MD5", 90000), F("MID"), F("MIN"), F("MOD"), S("NOT"),
            F("NOW"), F("OCT"), F("ORD"), F("POW"), S("ROW"), F_MYSQL_UNTIL("SHA", 90000), F("SIN"), F("STD"),
            F("SUM"), F("TAN"), S("XOR"),
    /* 4 */ F("ACOS"), F("ASIN"), F("ATAN"), S("CASE"), F("CAST"), F("CEIL"), F("CHAR"), F("CONV"),
            F("DATE"), S("ELSE"), F("HOUR"), WINDOW("LEAD"), F("LEFT"), S("LIKE"),
            F("LOG2"), F("LPAD"), S("OVER"), F("RAND"), WINDOW("RANK"), S("REAL"), F("RPAD"), F_MYSQL_UNTIL("SHA1", 90000),
            F("SHA2"), F("SIGN"), S("SOME"), F("SQRT"), F("ST_X"), F("ST_Y"), S("THEN"), F("TIME"),
            F("TRIM"), F("USER"), F("UUID"), F("WEEK"), S("WHEN"), F("YEAR"),
    /* 5 */ F("ASCII"), F("ATAN2"), F("COUNT"), F("CRC32"), S("CROSS"), F("FIELD"), S("FIXED"),
            S("FLOAT"), F("FLOOR"), S("GROUP"), S("INDEX"), S("INNER"), F("INSTR"), F("LCASE"),
            F("LEAST"), F("LOG10"), F("LOWER"), F("LTRIM"), S("MATCH"), F("MONTH"), S("NCHAR"),
            WINDOW("NTILE"), S("ORDER"), S("OUTER"), FA("POINT", 2, 2), F("POWER"), F("QUOTE"), F("RIGHT"),
            S("RLIKE"), F("ROUND"), F("RTRIM"), F("SLEEP"), F("SPACE"), F("UCASE"), F("UNHEX"),
            S("UNION"), F("UPPER"), S("USING"), S("WHERE"),
    /* 6 */ S("BIGINT"), S("BINARY"), F("BIT_OR"), F("CONCAT"), FV("CRC32C", 100800, 0), S("DOUBLE"),
            SO("ESCAPE"), S("EXISTS"), F("FORMAT"), S("HAVING"), F("IFNULL"), F("ISNULL"),
            F("LENGTH"), F("LOCATE"), F("MINUTE"), F("NULLIF"), S("REGEXP"), F("REPEAT"),
            F("SCHEMA"), F("SECOND"), F("STDDEV"), F("STRCMP"), F("SUBSTR"),
    /* 7 */ F("ADDDATE"), F("ADDTIME"), SO("AGAINST"), S("BETWEEN"), F("BIT_AND"), F("BIT_XOR"),
            F("CEILING"), F("CHARSET"), SO("COLUMNS"), F("CONVERT"), F("CURDATE"), F("CURTIME"),
            F("DAYNAME"), S("DECIMAL"), F("DEFAULT"), F("DEGREES"), F("EXTRACT"), S("INTEGER"),
            F("IS_IPV4"), F("IS_IPV6"), FV("IS_UUID", 0, 80000), S("NATURAL"), S("NUMERIC"), FA("POLYGON", 1, ANY_ARGS),
            F("QUARTER"), F("RADIANS"), F("REVERSE"), F("SOUNDEX"), F("ST_AREA"), F("ST_SRID"),
            F("SUBDATE"), F("SUBTIME"), F("SYSDATE"), S("TINYINT"), F("TO_DAYS"), S("VARCHAR"),
            F("VAR_POP"), F("VERSION"), F("WEEKDAY"),
    /* 8 */ F("COALESCE"), F("COMPRESS"), F("DATABASE"), F("DATEDIFF"), S("DATETIME"),
            F("DATE_ADD"), F("DATE_SUB"), S("DISTINCT"), W("GET_LOCK", FN_GET_LOCK), F("GREATEST"),
            FV("GROUPING", 0, 80001), F("INTERVAL"), JSON("JSON_SET"), F("LAST_DAY"), F("MAKEDATE"),
            F("MAKETIME"), F("MAKE_SET"), S("NVARCHAR"), FV("PASSWORD", 1, 0), F("POSITION"),
            S("SMALLINT"), F("ST_ASWKB"), F("ST_ASWKT"), F("ST_UNION"), FV("SYS_GUID", 100601, 0),
            F("TIMEDIFF"), F("TRUNCATE"), F("UTC_DATE"), F("UTC_TIME"), F("VARIANCE"),
            F("VAR_SAMP"), F("YEARWEEK"),
    /* 9 */ FV("ANY_VALUE", 0, 50705), F("BENCHMARK"), F("BIT_COUNT"), F("COLLATION"), F("CONCAT_WS"),
            WINDOW("CUME_DIST"), F("DAYOFWEEK"), F("DAYOFYEAR"), F("FROM_DAYS"), F("INET_ATON"),
            F("INET_NTOA"), JSON("JSON_KEYS"), JSON("JSON_TYPE"), F("LOCALTIME"), FV("MBRCOVERS", 0, 50706),
            F("MBREQUALS"), F("MBRWITHIN"), S("MEDIUMINT"), F("MONTHNAME"), WINDOW("NTH_VALUE"),
            S("PARTITION"), W("ROW_COUNT", FN_PRIOR), S("SEPARATOR"), F("ST_ASTEXT"), F("ST_BUFFER"),
            F("ST_EQUALS"), F("ST_LENGTH"), F("ST_POINTN"), F("ST_WITHIN"), F("SUBSTRING"),
            F("TIMESTAMP"), F("TO_BASE64"), F("UPDATEXML"), S("VARBINARY"),
    /* 10 */ F("BIT_LENGTH"), FV("COLUMN_ADD", 1, 0), FV("COLUMN_GET", 1, 0), F("CONVERT_TZ"), F("DAYOFMONTH"),
             WINDOW("DENSE_RANK"), F("EXPORT_SET"), W("FOUND_ROWS", FN_PRIOR), F("GET_FORMAT"), F("INET6_ATON"),
             F("INET6_NTOA"), JSON("JSON_ARRAY"), JSON("JSON_DEPTH"), FV("JSON_LOOSE", 100203, 0), FV("JSON_MERGE", 100203, 0),
             FV("JSON_QUERY", 100203, 0), JSON("JSON_QUOTE"), WV("JSON_TABLE", FN_TABLE, 100600, 80004), JSON("JSON_VALID"), FV("JSON_VALUE", 100203, 80021),
             WINDOW("LAST_VALUE"), FA("LINESTRING", 1, ANY_ARGS), F("MBRTOUCHES"), FA("MULTIPOINT", 1, ANY_ARGS), F("NAME_CONST"),
             F("PERIOD_ADD"), WINDOW("ROW_NUMBER"), F("STDDEV_POP"), F("ST_CROSSES"), F("ST_ISEMPTY"),
             FV("ST_ISVALID", 0, 50706), F("ST_TOUCHES"), F("TO_SECONDS"), F("UNCOMPRESS"), F("UUID_SHORT"),
             F("WEEKOFYEAR"),
    /* 11 */ F("AES_DECRYPT"), F("AES_ENCRYPT"), FV("BIN_TO_UUID", 0, 80000), F("CHAR_LENGTH"),
             FV("COLUMN_JSON", 1, 0), FV("COLUMN_LIST", 1, 0), F("DATE_FORMAT"), S("DISTINCTROW"),
             F("FIND_IN_SET"), WINDOW("FIRST_VALUE"), F("FROM_BASE64"), FV("GTID_SUBSET", 0, 50605),
             FV("ICU_VERSION", 0, 80004), FV("JSON_EQUALS", 100700, 0), FV("JSON_EXISTS", 100203, 0), JSON("JSON_INSERT"),
             JSON("JSON_LENGTH"), JSON("JSON_OBJECT"), FV("JSON_PRETTY", 101100, 50722), JSON("JSON_REMOVE"),
             JSON("JSON_SEARCH"), F("MBRCONTAINS"), F("MBRDISJOINT"), F("MBROVERLAPS"),
             F("MICROSECOND"), F("PERIOD_DIFF"), FV("REGEXP_LIKE", 0, 80004), F("SEC_TO_TIME"),
             F("STDDEV_SAMP"), F("STR_TO_DATE"), F("ST_ASBINARY"), F("ST_CENTROID"),
             F("ST_CONTAINS"), F("ST_DISJOINT"), F("ST_DISTANCE"), F("ST_ENDPOINT"),
             F("ST_ENVELOPE"), F("ST_ISCLOSED"), F("ST_ISSIMPLE"), FV("ST_LATITUDE", 0, 80012),
             F("ST_OVERLAPS"), F("SYSTEM_USER"), F("TIME_FORMAT"), F("TIME_TO_SEC"),
             FV("UUID_TO_BIN", 0, 80000),
    /* 12 */ F("COERCIBILITY"), FV("COLUMN_CHECK", 1, 0), F("CURRENT_DATE"), FV("CURRENT_ROLE", 100005, 80000),
             F("CURRENT_TIME"), F("CURRENT_USER"), F("EXTRACTVALUE"), FV("FORMAT_BYTES", 0, 80016),
             F("GROUP_CONCAT"), W("IS_FREE_LOCK", FN_LOCK_INFO), W("IS_USED_LOCK", FN_LOCK_INFO),
             FV("JSON_COMPACT", 100203, 0), JSON("JSON_EXTRACT"), JSON("JSON_REPLACE"), JSON("JSON_UNQUOTE"),
             FV("MBRCOVEREDBY", 0, 50706), FA("MULTIPOLYGON", 1, ANY_ARGS), F("OCTET_LENGTH"), FV("OLD_PASSWORD", 1, 0),
             WINDOW("PERCENT_RANK"), FV("PS_THREAD_ID", 0, 80016), FV("RANDOM_BYTES", 101000, 50617), FV("REGEXP_INSTR", 100005, 80004),
             W("RELEASE_LOCK", FN_LOCK_INFO), F("SESSION_USER"), FV("ST_ASGEOJSON", 100206, 50705),
             F("ST_DIMENSION"), F("ST_GEOMETRYN"), FV("ST_LONGITUDE", 0, 80012), F("ST_NUMPOINTS"),
             F("TIMESTAMPADD"),
    /* 13 */ FV("COLUMN_CREATE", 1, 0), FV("COLUMN_DELETE", 1, 0), FV("COLUMN_EXISTS", 1, 0), F("CONNECTION_ID"),
             F("FROM_UNIXTIME"), FV("GTID_SUBTRACT", 0, 50605), FV("JSON_ARRAYAGG", 100500, 50722), JSON("JSON_CONTAINS"),
             FV("JSON_DETAILED", 100203, 0), FV("JSON_OVERLAPS", 100900, 80017), F("MBRINTERSECTS"), FV("REGEXP_SUBSTR", 100005, 80004),
             S("STRAIGHT_JOIN"), F("ST_CONVEXHULL"), F("ST_DIFFERENCE"), F("ST_INTERSECTS"),
             F("ST_STARTPOINT"), F("TIMESTAMPDIFF"), F("UTC_TIMESTAMP"), F("WEIGHT_STRING"),
    /* 14 */ F("IS_IPV4_COMPAT"), F("IS_IPV4_MAPPED"), FV("JSON_KEY_VALUE", 110200, 0), FV("JSON_NORMALIZE", 100700, 0),
             FV("JSON_OBJECTAGG", 100500, 50722), W("LAST_INSERT_ID", FN_LAST_INSERT_ID), F("LOCALTIMESTAMP"),
             FV("REGEXP_REPLACE", 100005, 80004), F("ST_GEOMFROMWKB"), F("UNIX_TIMESTAMP"),
    /* 15 */ FA("MULTILINESTRING", 1, ANY_ARGS), F("ST_EXTERIORRING"), F("ST_GEOMETRYTYPE"),
             F("ST_GEOMFROMTEXT"), F("ST_INTERSECTION"), F("ST_LINEFROMTEXT"),
             F("ST_POLYFROMTEXT"), F("SUBSTRING_INDEX"),
    /* 16 */ F("CHARACTER_LENGTH"), FV("FORMAT_PICO_TIME", 0, 80016), FV("JSON_MERGE_PATCH", 100225, 50722),
             FV("NATURAL_SORT_KEY", 100700, 0), FV("STATEMENT_DIGEST", 0, 80004), F("ST_INTERIORRINGN"),
             F("ST_NUMGEOMETRIES"), F("ST_POINTFROMTEXT"), F("ST_SYMDIFFERENCE"),
    /* 17 */ F("CURRENT_TIMESTAMP"), FV("JSON_ARRAY_APPEND", 100203, 50708), FV("JSON_ARRAY_INSERT", 100203, 50708),
             FV("JSON_SCHEMA_VALID", 110101, 80017), FV("JSON_STORAGE_FREE", 0, 80013), FV("JSON_STORAGE_SIZE", 0, 50722),
             W("RELEASE_ALL_LOCKS", FN_LOCK_INFO),
    /* 18 */ FA("GEOMETRYCOLLECTION", 1, ANY_ARGS), JSON("JSON_CONTAINS_PATH"), FV("ST_DISTANCE_SPHERE", 100238, 50706),
             FV("ST_GEOMFROMGEOJSON", 100206, 50705),
    /* 19 */ FV("JSON_MERGE_PRESERVE", 100225, 50722), F("ST_NUMINTERIORRINGS"), F("UNCOMPRESSED_LENGTH"),
    /* 20 */ FV("JSON_ARRAY_INTERSECT", 110200, 0), FV("JSON_OBJECT_TO_ARRAY", 110200, 0), FV("PS_CURRENT_THREAD_ID", 0, 80016),
    /* 21 */ FV("STATEMENT_DIGEST_TEXT", 0, 80004),
    /* 23 */ FV("JSON_OBJECT_FILTER_KEYS", 110200, 0),
    /* 26 */ FV("VALIDATE_PASSWORD_STRENGTH", 0, 50606),
};

#undef K
#undef F
#undef FV
#undef FA
#undef S
#undef SO
#undef W
#undef WV
#undef WINDOW
#undef JSON
#undef ENTRY
#undef WORD_CH
#undef WORD_KEY

#define WORD_MAX (sizeof keywords[0].name - 1)
#define COUNT(table) (sizeof(table) / sizeof((table)[0]))

static inline unsigned ascii_upper(unsigned c)
{
    return c - ((c - 'a' < 26u) << 5);
}

/* The search key (see WORD_KEY) of the upper-cased word s[0..n), which has
 * `avail` readable bytes from s on. False if no entry can match (too long,
 * or not ASCII). */
static bool word_key(const char *s, size_t n, size_t avail, uint64_t *key)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0 || n > WORD_MAX)
        return false;
    if (n <= 7 && avail >= 8) {
        /* All bytes at once: mask the word, check it is ASCII, then turn
         * exactly the bytes 'a'..'z' (bit 7 of byte + 0x1f set, of byte +
         * 0x05 clear) into upper case. No byte carries into the next. */
        uint64_t v;
        memcpy(&v, u, sizeof v);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v &= ((uint64_t)1 << (8 * n)) - 1;
#else
        v &= ~(((uint64_t)1 << (8 * (8 - n))) - 1);
#endif
        if (v & 0x8080808080808080ULL)
            return false;
        uint64_t lower = (v + 0x1f1f1f1f1f1f1f1fULL) & ~(v + 0x0505050505050505ULL) & 0x8080808080808080ULL;
        v -= lower >> 2;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        *key = (uint64_t)n << 56 | v >> 8;
        return true;
    }
    size_t head = n < 7 ? n : 7; /* n > 7 here, or fewer than 8 bytes readable */
    uint64_t k = 0;
    unsigned high = 0;
    // cppcheck-suppress knownConditionTrueFalse ; its value flow loses n > 0 here
    for (size_t i = 0; i < head; i++) {
        high |= u[i];
        k = k << 8 | ascii_upper(u[i]);
    }
    for (size_t i = head; i < n; i++)
        high |= u[i];
    if (high & 0x80)
        return false;
    *key = (uint64_t)n << 56 | k << (8 * (7 - head));
    return true;
}

/* The entry of `table` for the word s[0..n) with that key, or NULL. A
 * branch-free lower bound (a conditional move per halving), then, for
 * names longer than 7 bytes, a comparison of the rest. */
static const struct word_entry *search(const struct word_entry *table, size_t count, uint64_t key,
                                       const char *s, size_t n)
{
    const struct word_entry *base = table, *end = table + count;
    while (count > 1) {
        size_t half = count / 2;
        base = base[half - 1].key < key ? base + half : base;
        count -= half;
    }
    for (; base < end && base->key == key; base++) {
        size_t i = 7;
        while (i < n && (unsigned char)base->name[i] == ascii_upper((unsigned char)s[i]))
            i++;
        if (i >= n)
            return base;
    }
    return NULL;
}

/* ---- one statement ---- */

/* Codes of the first tokens of a statement: enum keyword for keywords,
 * else these. */
enum {
    P_OTHER = 0, /* not a word, not '(' (KW_NONE is never stored) */
    P_WORD = 250, /* a word that is not one of enum keyword */
    P_LPAREN = 251,
};

#define PREFIX_MAX 8

/* Where a WITH clause is, so that a CTE's column list `cte (a, b)` is not
 * taken for a call of a function "cte". */
enum with_state {
    W_NONE,
    W_NAME,       /* after WITH, RECURSIVE or ',': a CTE name comes */
    W_AFTER_NAME, /* '(' columns or AS */
    W_COLS,       /* inside the column list */
    W_AFTER_COLS, /* AS */
    W_AS,         /* '(' */
    W_BODY,       /* inside the CTE's query */
    W_AFTER_BODY, /* ',' for another CTE, or the main query */
};

struct stmt_scan {
    size_t start, end;               /* first token's start, last token's end */
    unsigned ntok;                   /* tokens seen, from the inner statement on
                                        after SET STATEMENT ... FOR */
    unsigned char pre[PREFIX_MAX];   /* codes of the first tokens */
    unsigned depth;                  /* parentheses */
    unsigned with_depth;             /* depth of the WITH being followed */
    enum with_state with;
    unsigned char create_seq;        /* CREATE [OR REPLACE] TEMPORARY progress */
    unsigned char prev_kw;           /* keyword of the previous token */
    bool prev_dot;                   /* the previous token was '.' */
    bool lii_pending;                /* LAST_INSERT_ID seen, '(' next */
    bool body_ok;                    /* nothing seen that a read cannot have */
    bool set_for;                    /* SET STATEMENT ... FOR: pre[] is the inner one */
    bool any_temp, any_prepare;      /* CREATE TEMPORARY / PREPARE anywhere */
    bool uv_eq, uv_any;              /* "@x =" / any @x */
    bool saw_lock, saw_export;       /* LOCK / EXPORT anywhere (FLUSH ...) */
    bool prev_operand;               /* the previous token ends an operand: a
                                        literal, a quoted name, a variable, ')' */
    unsigned creates;                /* found anywhere: named locks, user vars */
    unsigned flags;                  /* enum statement_flag bits found anywhere */
    /* Calls of builtins that take only some argument counts, being
     * counted: innermost last. */
    struct {
        unsigned depth;              /* st.depth outside the call's '(' */
        unsigned args;               /* ',' seen at its top level */
        bool nonempty;
        unsigned char min_args, max_args;
    } calls[8];
    unsigned ncalls;
    const struct server_profile *server;
};

static void scan_init(struct stmt_scan *st, const struct server_profile *server)
{
    memset(st, 0, sizeof *st);
    st->body_ok = true;
    st->server = server;
}

/* The names MariaDB and MySQL recognise as builtins only when '(' follows
 * at once: their "function keywords" (lex.h), which with a blank before
 * '(' are plain names and call a stored function of that name. The union
 * of both servers' lists, sorted. */
static const char *const space_sensitive_names[] = {
    "ADDDATE", "BIT_AND", "BIT_OR", "BIT_XOR", "CAST", "COUNT", "CUME_DIST", "CURDATE", "CURTIME",
    "DATE_ADD", "DATE_SUB", "DENSE_RANK", "EXTRACT", "FIRST_VALUE", "GROUP_CONCAT", "JSON_ARRAYAGG",
    "JSON_OBJECTAGG", "LAG", "LAST_VALUE", "LEAD", "MAX", "MEDIAN", "MID", "MIN", "NOW", "NTH_VALUE",
    "NTILE", "PERCENT_RANK", "POSITION", "RANK", "ROW_NUMBER", "SESSION_USER", "STD", "STDDEV",
    "STDDEV_POP", "STDDEV_SAMP", "ST_COLLECT", "SUBDATE", "SUBSTR", "SUBSTRING", "SUM", "SYSDATE",
    "SYSTEM_USER", "TRIM", "VARIANCE", "VAR_POP", "VAR_SAMP",
};

static bool space_sensitive(const char *name)
{
    size_t lo = 0, hi = COUNT(space_sensitive_names);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(space_sensitive_names[mid], name);
        if (cmp == 0)
            return true;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Is the builtin of entry e there on this server? */
static bool available(const struct word_entry *e, const struct server_profile *server)
{
    unsigned since = server->flavour == SERVER_MARIADB ? e->mariadb_since
                     : server->flavour == SERVER_MYSQL ? e->mysql_since
                                                       : 0;
    if (server->flavour == SERVER_MYSQL && e->mysql_until != 0 && server->version >= e->mysql_until)
        return false;
    return since != 0 && server->version >= since;
}

/* What `name(` is, for the entry e of a word followed by '(' (NULL: a
 * word on no list). `spaced`: something (blank, comment) stands between
 * the name and '('. */
static unsigned call_class(const struct stmt_scan *st, const struct word_entry *e, bool spaced)
{
    if (e == NULL || st->prev_dot)
        return FN_STORED; /* db.f(): a stored function, whatever its name */
    switch (e->fn) {
    case FN_SYNTAX_AFTER_OPERAND:
        return st->prev_operand ? FN_SYNTAX : FN_STORED;
    case FN_TABLE:
        if (!available(e, st->server))
            return FN_STORED;
        return st->prev_kw == KW_FROM || st->prev_kw == KW_JOIN ? FN_SYNTAX : FN_STORED;
    case FN_PURE:
    case FN_PRIOR:
        if (!available(e, st->server))
            return FN_STORED;
        break;
    default:
        break;
    }
    /* A blank before '(' makes the function keywords plain names. */
    if (spaced && (e->fn == FN_PURE || e->fn == FN_PRIOR || e->fn == FN_LAST_INSERT_ID) &&
        space_sensitive(e->name))
        return FN_STORED;
    return e->fn;
}

/* Tracks the argument counts of the calls being counted. */
static void count_arguments(struct stmt_scan *st, const struct sql_token *t)
{
    if (st->ncalls == 0)
        return;
    unsigned top = st->ncalls - 1;
    if (sql_token_is_punct(t, ')') && st->depth == st->calls[top].depth + 1) {
        unsigned n = st->calls[top].nonempty ? st->calls[top].args + 1 : 0;
        if (n < st->calls[top].min_args || n > st->calls[top].max_args)
            st->body_ok = false; /* this count resolves to a stored function */
        st->ncalls--;
    } else if (st->depth == st->calls[top].depth + 1) {
        if (sql_token_is_punct(t, ','))
            st->calls[top].args++;
        else
            st->calls[top].nonempty = true;
    }
}

/* The name of a @@variable, without its scope: "warning_count". */
static bool sys_var_is(const char *sql, const struct sql_token *t, const char *lower)
{
    const char *start = sql + t->start + 2, *end = sql + t->start + t->len;
    for (const char *p = start; p < end; p++)
        if (*p == '.')
            start = p + 1;
    size_t n = strlen(lower);
    if ((size_t)(end - start) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        if (c != (unsigned char)lower[i])
            return false;
    }
    return true;
}

/* A word followed by '(' that is a name, not a call: a CTE name before its
 * column list, or whatever follows AS (an alias with a column list, a CAST
 * type: "AS name(" is never a call in the grammar). */
static bool names_not_call(const struct stmt_scan *st)
{
    return st->with == W_NAME || st->prev_kw == KW_AS;
}

/* Quoted token (backquotes or double quotes) whose content is `upper`. */
static bool quoted_is(const char *sql, const struct sql_token *t, const char *upper)
{
    size_t n = strlen(upper);
    if (t->len != n + 2 || sql[t->start + t->len - 1] != sql[t->start])
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)sql[t->start + 1 + i];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - ('a' - 'A'));
        if (c != (unsigned char)upper[i])
            return false;
    }
    return true;
}

/* What a keyword that is not a call means anywhere in a statement. */
static void keyword_effects(struct stmt_scan *st, const struct sql_lexer *lx, unsigned kw,
                            const struct sql_token *next)
{
    switch (kw) {
    case KW_INSERT:
    case KW_UPDATE: /* also SELECT ... FOR UPDATE */
    case KW_DELETE:
    case KW_REPLACE:
        st->body_ok = false;
        break;
    case KW_INTO: /* INTO OUTFILE/DUMPFILE/@x: writes a file or a variable */
        st->body_ok = false;
        if (next->kind == SQL_TOK_USER_VAR)
            st->creates |= STATE_USER_VARS;
        break;
    case KW_LOCK: /* LOCK IN SHARE MODE; LOCK is reserved: nothing else */
        st->body_ok = false;
        st->saw_lock = true;
        break;
    case KW_FOR: /* FOR SHARE (FOR UPDATE is caught by UPDATE) */
        if (sql_token_is_word(lx, next, "SHARE"))
            st->body_ok = false;
        break;
    case KW_NEXT: /* NEXT VALUE FOR seq advances a sequence */
        if (sql_token_is_word(lx, next, "VALUE"))
            st->body_ok = false;
        break;
    case KW_EXPORT:
        st->saw_export = true;
        break;
    case KW_PREPARE: /* not XA PREPARE, DEALLOCATE / DROP PREPARE */
        if (st->prev_kw != KW_XA && st->prev_kw != KW_DEALLOCATE && st->prev_kw != KW_DROP)
            st->any_prepare = true;
        break;
    default:
        break;
    }
}

static void with_step(struct stmt_scan *st, const struct sql_token *t, unsigned kw)
{
    bool open = sql_token_is_punct(t, '(');
    bool closed_to_with = sql_token_is_punct(t, ')') && st->depth == st->with_depth;
    switch (st->with) {
    case W_NONE:
        if (kw == KW_WITH) {
            st->with = W_NAME;
            st->with_depth = st->depth;
        }
        break;
    case W_NAME:
        if (kw != KW_RECURSIVE)
            st->with = t->kind == SQL_TOK_WORD || t->kind == SQL_TOK_QUOTED_ID ? W_AFTER_NAME : W_NONE;
        break;
    case W_AFTER_NAME:
        st->with = open ? W_COLS : kw == KW_AS ? W_AS : W_NONE;
        break;
    case W_COLS:
        if (closed_to_with)
            st->with = W_AFTER_COLS;
        break;
    case W_AFTER_COLS:
        st->with = kw == KW_AS ? W_AS : W_NONE;
        break;
    case W_AS:
        st->with = open ? W_BODY : W_NONE;
        break;
    case W_BODY: /* a WITH nested in here is not followed: conservative */
        if (closed_to_with)
            st->with = W_AFTER_BODY;
        break;
    case W_AFTER_BODY:
        st->with = sql_token_is_punct(t, ',') ? W_NAME : W_NONE;
        break;
    }
}

/* Feeds one token of a statement; `next` is the token after it. */
static void scan_token(struct stmt_scan *st, const struct sql_lexer *lx, const struct sql_token *t,
                       const struct sql_token *next)
{
    const char *sql = lx->sql;
    bool next_paren = sql_token_is_punct(next, '(');
    bool lii = st->lii_pending;
    unsigned kw = KW_NONE;
    unsigned char code = P_OTHER;

    st->lii_pending = false;
    if (st->ntok == 0 && !st->set_for)
        st->start = t->start;
    st->end = t->start + t->len;
    count_arguments(st, t);

    switch (t->kind) {
    case SQL_TOK_WORD: {
        const char *w = sql + t->start;
        uint64_t key = 0;
        bool known = word_key(w, t->len, lx->len - t->start, &key);
        const struct word_entry *e = known ? search(keywords, COUNT(keywords), key, w, t->len) : NULL;
        bool call = false;
        kw = e != NULL ? e->kw : KW_NONE;
        code = kw != KW_NONE ? (unsigned char)kw : P_WORD;
        if (next_paren && !names_not_call(st)) {
            if (e == NULL && known)
                e = search(functions, COUNT(functions), key, w, t->len);
            bool spaced = next->start != t->start + t->len;
            unsigned fn = call_class(st, e, spaced);
            call = fn != FN_SYNTAX && fn != FN_STORED;
            /* What these builtins do to the session is done whatever the
             * spelling; a blank before '(' only makes the statement a write
             * besides. */
            if (e != NULL && !st->prev_dot) {
                if (e->fn == FN_LAST_INSERT_ID)
                    st->lii_pending = true;
                else if (e->fn == FN_GET_LOCK)
                    st->creates |= STATE_NAMED_LOCKS;
                else if (e->fn == FN_PRIOR)
                    st->flags |= CLASS_READS_PRIOR;
            }
            if (fn != FN_SYNTAX && fn != FN_PURE && fn != FN_PRIOR && fn != FN_LAST_INSERT_ID)
                st->body_ok = false;
            if (call && e != NULL && (e->min_args != 0 || e->max_args != ANY_ARGS)) {
                if (st->ncalls < COUNT(st->calls)) {
                    st->calls[st->ncalls].depth = st->depth;
                    st->calls[st->ncalls].args = 0;
                    st->calls[st->ncalls].nonempty = false;
                    st->calls[st->ncalls].min_args = e->min_args;
                    st->calls[st->ncalls].max_args = e->max_args;
                    st->ncalls++;
                } else {
                    st->body_ok = false; /* too deep to count: not proven a read */
                }
            }
        } else if (st->prev_dot && sql_token_is_word(lx, t, "NEXTVAL")) {
            st->body_ok = false; /* seq.nextval (sql_mode=ORACLE) advances a sequence */
        }
        /* SHOW WARNINGS, SHOW ERRORS, SHOW COUNT(*) WARNINGS */
        if (st->ntok == 1 && st->pre[0] == KW_SHOW &&
            (sql_token_is_word(lx, t, "WARNINGS") || sql_token_is_word(lx, t, "ERRORS") ||
             sql_token_is_word(lx, t, "COUNT")))
            st->flags |= CLASS_READS_PRIOR;
        /* INSERT( and REPLACE( are string functions, not statements; a
         * keyword before any other '(' still counts as one. */
        if (!call)
            keyword_effects(st, lx, kw, next);
        break;
    }
    case SQL_TOK_QUOTED_ID:
    case SQL_TOK_STRING:
        /* `f`() calls f even if f names a builtin; so does "f"() under
         * ANSI_QUOTES. Unresolvable here: never a read. */
        if (next_paren && (t->kind == SQL_TOK_QUOTED_ID || sql[t->start] == '"') && !names_not_call(st)) {
            st->body_ok = false;
            if (quoted_is(sql, t, "GET_LOCK"))
                st->creates |= STATE_NAMED_LOCKS;
        }
        break;
    case SQL_TOK_USER_VAR:
        st->uv_any = true;
        if (sql_token_is_punct(next, SQL_OP_ASSIGN)) {
            st->creates |= STATE_USER_VARS;
            st->body_ok = false;
        } else if (sql_token_is_punct(next, '=')) {
            st->uv_eq = true;
        }
        break;
    case SQL_TOK_SYS_VAR:
        if (sys_var_is(sql, t, "warning_count") || sys_var_is(sql, t, "error_count"))
            st->flags |= CLASS_READS_PRIOR;
        else if (sys_var_is(sql, t, "identity") || sys_var_is(sql, t, "last_insert_id"))
            st->flags |= CLASS_READS_INSERT_ID;
        break;
    case SQL_TOK_PUNCT:
        if (t->op == '(') {
            code = P_LPAREN;
            if (lii && !sql_token_is_punct(next, ')')) {
                st->body_ok = false; /* LAST_INSERT_ID(expr) sets it */
                st->flags |= CLASS_SETS_INSERT_ID;
            } else if (lii) {
                st->flags |= CLASS_READS_INSERT_ID;
            }
            st->depth++;
        } else if (t->op == ')' && st->depth > 0) {
            st->depth--;
        }
        break;
    default:
        break;
    }

    if (st->with != W_NONE || kw == KW_WITH)
        with_step(st, t, kw);

    if (kw != KW_NONE || st->create_seq != 0) {
        switch (kw) {
        case KW_CREATE:
            st->create_seq = 1;
            break;
        case KW_OR:
            st->create_seq = st->create_seq == 1 ? 2 : 0;
            break;
        case KW_REPLACE:
            st->create_seq = st->create_seq == 2 ? 3 : 0;
            break;
        case KW_TEMPORARY:
            if (st->create_seq == 1 || st->create_seq == 3)
                st->any_temp = true;
            st->create_seq = 0;
            break;
        default:
            st->create_seq = 0;
            break;
        }
    }

    if (st->ntok < PREFIX_MAX)
        st->pre[st->ntok] = code;
    st->ntok++;
    st->prev_kw = (unsigned char)kw;
    st->prev_dot = sql_token_is_punct(t, '.');
    st->prev_operand = t->kind == SQL_TOK_STRING || t->kind == SQL_TOK_NUMBER || t->kind == SQL_TOK_QUOTED_ID ||
                       t->kind == SQL_TOK_USER_VAR || t->kind == SQL_TOK_SYS_VAR || sql_token_is_punct(t, ')');

    /* SET STATEMENT var = value [, ...] FOR statement: from here on the
     * prefix is the inner statement's, which decides what it does. */
    if (kw == KW_FOR && st->depth == 0 && !st->set_for && st->ntok > 2 && st->pre[0] == KW_SET &&
        st->pre[1] == KW_STATEMENT) {
        st->set_for = true;
        st->ntok = 0;
    }
}

/* [WORK] [AND [NO] CHAIN] [[NO] RELEASE] after COMMIT or ROLLBACK. */
static bool txn_tail_ok(const unsigned char *p, unsigned n)
{
    unsigned i = 1;
    if (n > PREFIX_MAX)
        return false;
    if (i < n && p[i] == KW_WORK)
        i++;
    if (i < n && p[i] == KW_AND) {
        i++;
        if (i < n && p[i] == KW_NO)
            i++;
        if (i >= n || p[i] != KW_CHAIN)
            return false;
        i++;
    }
    if (i < n && p[i] == KW_NO) {
        i++;
        if (i >= n || p[i] != KW_RELEASE)
            return false;
        i++;
    } else if (i < n && p[i] == KW_RELEASE) {
        i++;
    }
    return i == n;
}

/* The statement's class from its first keywords and what the scan found.
 * SET statements (which need the text) are done by the caller. */
static void decide_plain(const struct stmt_scan *st, struct statement_class *c)
{
    const unsigned char *p = st->pre;
    unsigned n = st->ntok;
    unsigned p1 = n > 1 ? p[1] : P_OTHER;

    c->kind = STMT_WRITE;
    c->creates = st->creates;
    c->releases = 0;
    c->flags = st->flags;
    c->retry_safe = false;

    switch (n > 0 ? p[0] : P_OTHER) {
    case KW_SELECT:
    case KW_WITH:
    case KW_VALUES:
    case P_LPAREN:
    case KW_TABLE:
    case KW_SHOW:
    case KW_DESC:
    case KW_DESCRIBE:
    case KW_EXPLAIN: /* EXPLAIN ANALYZE runs the statement */
    case KW_HELP:
        if (st->body_ok) {
            c->kind = STMT_READ;
            c->retry_safe = true;
        }
        return;
    case KW_BEGIN:
        if (n == 1 || (n == 2 && p1 == KW_WORK)) {
            c->kind = STMT_BEGIN;
            c->retry_safe = true;
            return;
        }
        break; /* BEGIN NOT ATOMIC ... END, a compound statement */
    case KW_START:
        if (p1 == KW_TRANSACTION) {
            c->kind = STMT_BEGIN;
            c->retry_safe = true;
        }
        return;
    case KW_COMMIT:
        if (txn_tail_ok(p, n))
            c->kind = STMT_COMMIT;
        return;
    case KW_ROLLBACK: /* ROLLBACK [WORK] TO [SAVEPOINT] x fails the tail: a write */
        if (txn_tail_ok(p, n)) {
            c->kind = STMT_ROLLBACK;
            c->retry_safe = true;
        }
        return;
    case KW_USE:
        if (n == 2) {
            c->kind = STMT_USE;
            c->retry_safe = true;
        }
        return;
    case KW_CREATE:
        if (p1 == KW_TEMPORARY ||
            (n > 3 && p1 == KW_OR && p[2] == KW_REPLACE && p[3] == KW_TEMPORARY))
            c->creates |= STATE_TEMP_TABLES;
        return;
    case KW_LOCK: /* LOCK TABLE[S], LOCK INSTANCE FOR BACKUP */
        c->creates |= STATE_TABLE_LOCKS;
        return;
    case KW_UNLOCK:
        if (p1 == KW_TABLE || p1 == KW_TABLES)
            c->releases |= STATE_TABLE_LOCKS;
        return;
    case KW_PREPARE:
        c->creates |= STATE_SQL_PREPARE;
        return;
    case KW_FLUSH: /* FLUSH TABLES ... WITH READ LOCK / FOR EXPORT */
        if (st->saw_lock || st->saw_export)
            c->creates |= STATE_TABLE_LOCKS;
        return;
    case KW_BACKUP: /* BACKUP STAGE, BACKUP LOCK; not BACKUP UNLOCK */
        if (p1 != KW_UNLOCK)
            c->creates |= STATE_TABLE_LOCKS;
        return;
    case KW_CALL: /* OUT parameters */
        c->flags |= CLASS_SETS_INSERT_ID | CLASS_CALLS_PROCEDURE;
        if (st->uv_any)
            c->creates |= STATE_USER_VARS;
        return;
    case KW_LOAD: /* LOAD DATA ... (@a, col) SET x = @a */
        c->flags |= CLASS_SETS_INSERT_ID;
        if (st->uv_any)
            c->creates |= STATE_USER_VARS;
        return;
    case KW_GET:  /* GET DIAGNOSTICS @n = NUMBER */
        c->flags |= CLASS_READS_PRIOR;
        if (st->uv_any)
            c->creates |= STATE_USER_VARS;
        return;
    case KW_INSERT:
    case KW_REPLACE:
        c->flags |= CLASS_SETS_INSERT_ID;
        break; /* and whatever else it holds, below */
    case KW_KILL:
        c->flags |= CLASS_KILL;
        return;
    case KW_XA:
        switch (p1) {
        case KW_START:
        case KW_BEGIN:
            c->kind = STMT_XA_START;
            break;
        case KW_END:
            c->kind = STMT_XA_END;
            break;
        case KW_PREPARE:
            c->kind = STMT_XA_PREPARE;
            break;
        case KW_COMMIT:
            c->kind = STMT_XA_COMMIT;
            break;
        case KW_ROLLBACK:
            c->kind = STMT_XA_ROLLBACK;
            break;
        case KW_RECOVER:
            c->kind = STMT_READ;
            c->retry_safe = true;
            break;
        default:
            break;
        }
        return;
    default:
        break;
    }
    /* Anything else, compound statements included: look everywhere. */
    if (st->any_temp)
        c->creates |= STATE_TEMP_TABLES;
    if (st->any_prepare)
        c->creates |= STATE_SQL_PREPARE;
    if (st->uv_eq)
        c->creates |= STATE_USER_VARS;
}

/* `exact`: parse SET statements (first reading only). parse_set_statement
 * already weighs every reading of the statement's text; under the other
 * readings a SET is only judged by its tokens, conservatively, so that the
 * work stays bounded by (readings x length) rather than its square. */
static void decide(const struct stmt_scan *st, const char *sql, bool exact, struct statement_class *c)
{
    if (st->set_for) {
        /* Per-statement settings vanish with the statement: the inner
         * statement's effects are the whole story, but it is not retried. */
        decide_plain(st, c);
        c->kind = STMT_SET;
        c->retry_safe = false;
    } else if (st->ntok > 0 && st->pre[0] == KW_SET) {
        c->kind = STMT_SET;
        c->creates = st->creates;
        c->releases = 0;
        c->flags = st->flags;
        c->retry_safe = false;
        if (!exact) {
            if (st->uv_any)
                c->creates |= STATE_USER_VARS;
            if (st->ntok > 1 && st->pre[1] == KW_TRANSACTION)
                c->creates |= STATE_NEXT_TXN_SETTINGS;
            return;
        }
        struct set_parse_result r;
        parse_set_statement(sql + st->start, st->end - st->start, &r);
        /* Session SETs are idempotent, unless a value calls a stored
         * function or reads with a lock. */
        c->retry_safe = r.status == SET_PARSE_OK && st->body_ok;
        if (r.status == SET_PARSE_UNRESTORABLE)
            c->creates |= r.unrestorable ? r.unrestorable : STATE_UNREPLAYABLE_SETTINGS;
        else if (r.status == SET_PARSE_NOT_SET)
            c->kind = STMT_WRITE; /* cannot happen: it starts with SET */
    } else {
        decide_plain(st, c);
    }
}

/* ---- the statements of one reading ---- */

/* Classifies under one lexer reading the statements that would run: a
 * statement the server rejects as unterminated (only the last one can be)
 * runs nothing, nor does anything after it. *nstmt counts the statements
 * that run. */
static void classify_reading(const char *sql, size_t len, unsigned options, const struct server_profile *server,
                             struct statement_class *out, unsigned *nstmt, unsigned *ambiguous)
{
    struct sql_lexer lx;
    struct sql_token toks[2], *cur = &toks[0], *next = &toks[1], *swap;
    struct stmt_scan st;
    unsigned n = 0, creates = 0, releases = 0, flags = 0;
    bool all_read = true, retry = true, any_set = false;
    enum statement_kind single = STMT_UNKNOWN;

    sql_lexer_init(&lx, sql, len, options);
    sql_lexer_next(&lx, cur);
    while (cur->kind != SQL_TOK_END) {
        if (sql_token_is_punct(cur, ';')) { /* an empty statement */
            sql_lexer_next(&lx, cur);
            continue;
        }
        /* A ';' inside parentheses is a syntax error, not a boundary: the
         * server stops there, so one statement is as good. */
        scan_init(&st, server);
        do {
            sql_lexer_next(&lx, next);
            scan_token(&st, &lx, cur, next);
            swap = cur;
            cur = next;
            next = swap;
        } while (cur->kind != SQL_TOK_END && !(st.depth == 0 && sql_token_is_punct(cur, ';')));
        if (lx.unterminated)
            break;

        struct statement_class s;
        decide(&st, sql, options == 0, &s);
        n++;
        single = s.kind;
        any_set = any_set || s.kind == STMT_SET;
        all_read = all_read && s.kind == STMT_READ;
        retry = retry && s.retry_safe;
        creates = (creates & ~s.releases) | s.creates;
        releases |= s.releases;
        flags |= s.flags;
    }
    /* Lex to the end: an ambiguity there may change what runs before it. */
    while (cur->kind != SQL_TOK_END)
        sql_lexer_next(&lx, cur);

    *nstmt = n;
    *ambiguous = lx.ambiguous;
    out->kind = n == 0 ? STMT_UNKNOWN : n == 1 ? single : all_read ? STMT_READ : STMT_WRITE;
    /* Only a lone SET is recorded for replay (the adapter parses the whole
     * string as one SET); one among several must not be lost silently. */
    if (n > 1 && any_set)
        creates |= STATE_UNREPLAYABLE_SETTINGS;
    out->creates = creates;
    out->releases = releases & ~creates;
    out->flags = flags;
    out->retry_safe = n != 0 && retry;
}

static void finish_retry(struct statement_class *c)
{
    if (c->kind == STMT_WRITE || c->kind == STMT_UNKNOWN || c->kind == STMT_COMMIT)
        c->retry_safe = false;
}

/* Folds the class under another reading into *acc (which holds the
 * readings folded so far, if *have). */
static void fold_reading(struct statement_class *acc, bool *have, const struct statement_class *c)
{
    if (!*have) {
        *acc = *c;
        *have = true;
    } else {
        if (acc->kind != c->kind)
            acc->kind = STMT_WRITE;
        acc->creates |= c->creates;
        acc->flags |= c->flags;
        acc->releases &= c->releases;
        acc->releases &= ~acc->creates;
        acc->retry_safe = acc->retry_safe && c->retry_safe;
    }
    finish_retry(acc);
}

void classify_statement(const char *sql, size_t len, const struct server_profile *server,
                        struct statement_class *out)
{
    struct statement_class c;
    unsigned n, seen;
    bool have = false;

    classify_reading(sql, len, 0, server, &c, &n, &seen);
    if (n != 0)
        fold_reading(out, &have, &c);
    if (seen != 0) {
        unsigned long long done = 1;
        unsigned options, more;
        while (sql_lex_next_variant(seen, &done, &options)) {
            classify_reading(sql, len, options, server, &c, &n, &more);
            seen |= more;
            if (n != 0)
                fold_reading(out, &have, &c);
        }
    }
    if (!have) {
        /* Empty, or rejected unread under every reading. */
        out->kind = STMT_UNKNOWN;
        out->creates = 0;
        out->releases = 0;
        out->flags = 0;
        out->retry_safe = false;
    }
}

const char *statement_class_known_name(size_t i)
{
    if (i < COUNT(keywords))
        return keywords[i].name;
    i -= COUNT(keywords);
    return i < COUNT(functions) ? functions[i].name : NULL;
}

const char *unrestorable_state_name(unsigned bits)
{
    if (bits & STATE_TEMP_TABLES)
        return "temporary tables";
    if (bits & STATE_USER_VARS)
        return "user variables";
    if (bits & STATE_NAMED_LOCKS)
        return "named locks (GET_LOCK)";
    if (bits & STATE_TABLE_LOCKS)
        return "table locks (LOCK TABLES)";
    if (bits & STATE_SQL_PREPARE)
        return "SQL-level prepared statements";
    if (bits & STATE_NEXT_TXN_SETTINGS)
        return "pending SET TRANSACTION";
    if (bits & STATE_UNREPLAYABLE_SETTINGS)
        return "session settings that cannot be replayed";
    return bits != 0 ? "unknown session state" : "none";
}
