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
};

/* What a word followed by '(' is. */
enum fn_class {
    FN_STORED = 0,     /* not a builtin: a stored or loadable function, may write */
    FN_SYNTAX,         /* a keyword whose '(' is syntax: IN (, AS (, DECIMAL(10,2) */
    FN_PURE,           /* a builtin without side effects */
    FN_LAST_INSERT_ID, /* read with (), sets the session's value with (expr) */
    FN_GET_LOCK,       /* takes a named lock held by the session */
    FN_LOCK_INFO,      /* RELEASE_LOCK, IS_FREE_LOCK...: lock traffic, no new state */
};

struct word_entry {
    uint64_t key; /* length and first 7 bytes: see WORD_KEY */
    char name[27];
    unsigned char kw; /* enum keyword */
    unsigned char fn; /* enum fn_class */
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

#define K(n, kw, fn) {WORD_KEY(n), n, kw, fn}
#define F(n) {WORD_KEY(n), n, KW_NONE, FN_PURE}
#define S(n) {WORD_KEY(n), n, KW_NONE, FN_SYNTAX}
#define W(n, fn) {WORD_KEY(n), n, KW_NONE, fn}

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
    /* 3 */ K("AND", KW_AND, FN_SYNTAX), K("FOR", KW_FOR, FN_STORED), K("GET", KW_GET, FN_STORED),
            K("SET", KW_SET, FN_STORED), K("USE", KW_USE, FN_STORED),
    /* 4 */ K("CALL", KW_CALL, FN_STORED), K("DESC", KW_DESC, FN_STORED),
            K("DROP", KW_DROP, FN_STORED), K("HELP", KW_HELP, FN_STORED),
            K("INTO", KW_INTO, FN_STORED), K("LOAD", KW_LOAD, FN_STORED),
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
            K("RELEASE", KW_RELEASE, FN_STORED), K("REPLACE", KW_REPLACE, FN_PURE),
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
            F("LAG"), F("LOG"), F("MAX"), F("MD5"), F("MID"), F("MIN"), F("MOD"), S("NOT"),
            F("NOW"), F("OCT"), F("ORD"), F("POW"), S("ROW"), F("SHA"), F("SIN"), F("STD"),
            F("SUM"), F("TAN"), S("XOR"),
    /* 4 */ F("ACOS"), F("ASIN"), F("ATAN"), S("CASE"), F("CAST"), F("CEIL"), F("CHAR"), F("CONV"),
            F("DATE"), S("ELSE"), S("FROM"), F("HOUR"), S("JOIN"), F("LEAD"), F("LEFT"), S("LIKE"),
            F("LOG2"), F("LPAD"), S("OVER"), F("RAND"), F("RANK"), S("REAL"), F("RPAD"), F("SHA1"),
            F("SHA2"), F("SIGN"), S("SOME"), F("SQRT"), F("ST_X"), F("ST_Y"), S("THEN"), F("TIME"),
            F("TRIM"), F("USER"), F("UUID"), F("WEEK"), S("WHEN"), F("YEAR"),
    /* 5 */ F("ASCII"), F("ATAN2"), F("COUNT"), F("CRC32"), S("CROSS"), F("FIELD"), S("FIXED"),
            S("FLOAT"), F("FLOOR"), S("GROUP"), S("INDEX"), S("INNER"), F("INSTR"), F("LCASE"),
            F("LEAST"), F("LOG10"), F("LOWER"), F("LTRIM"), S("MATCH"), F("MONTH"), S("NCHAR"),
            F("NTILE"), S("ORDER"), S("OUTER"), F("POINT"), F("POWER"), F("QUOTE"), F("RIGHT"),
            S("RLIKE"), F("ROUND"), F("RTRIM"), F("SLEEP"), F("SPACE"), F("UCASE"), F("UNHEX"),
            S("UNION"), F("UPPER"), S("USING"), S("WHERE"),
    /* 6 */ S("BIGINT"), S("BINARY"), F("BIT_OR"), F("CONCAT"), F("CRC32C"), S("DOUBLE"),
            S("ESCAPE"), S("EXISTS"), F("FORMAT"), S("HAVING"), F("IFNULL"), F("ISNULL"),
            F("LENGTH"), F("LOCATE"), F("MINUTE"), F("NULLIF"), S("REGEXP"), F("REPEAT"),
            F("SCHEMA"), F("SECOND"), F("STDDEV"), F("STRCMP"), F("SUBSTR"),
    /* 7 */ F("ADDDATE"), F("ADDTIME"), S("AGAINST"), S("BETWEEN"), F("BIT_AND"), F("BIT_XOR"),
            F("CEILING"), F("CHARSET"), S("COLUMNS"), F("CONVERT"), F("CURDATE"), F("CURTIME"),
            F("DAYNAME"), S("DECIMAL"), F("DEFAULT"), F("DEGREES"), F("EXTRACT"), S("INTEGER"),
            F("IS_IPV4"), F("IS_IPV6"), F("IS_UUID"), S("NATURAL"), S("NUMERIC"), F("POLYGON"),
            F("QUARTER"), F("RADIANS"), F("REVERSE"), F("SOUNDEX"), F("ST_AREA"), F("ST_SRID"),
            F("SUBDATE"), F("SUBTIME"), F("SYSDATE"), S("TINYINT"), F("TO_DAYS"), S("VARCHAR"),
            F("VAR_POP"), F("VERSION"), F("WEEKDAY"),
    /* 8 */ F("COALESCE"), F("COMPRESS"), F("DATABASE"), F("DATEDIFF"), S("DATETIME"),
            F("DATE_ADD"), F("DATE_SUB"), S("DISTINCT"), W("GET_LOCK", FN_GET_LOCK), F("GREATEST"),
            F("GROUPING"), F("INTERVAL"), F("JSON_SET"), F("LAST_DAY"), F("MAKEDATE"),
            F("MAKETIME"), F("MAKE_SET"), S("NVARCHAR"), F("PASSWORD"), F("POSITION"),
            S("SMALLINT"), F("ST_ASWKB"), F("ST_ASWKT"), F("ST_UNION"), F("SYS_GUID"),
            F("TIMEDIFF"), F("TRUNCATE"), F("UTC_DATE"), F("UTC_TIME"), F("VARIANCE"),
            F("VAR_SAMP"), F("YEARWEEK"),
    /* 9 */ F("ANY_VALUE"), F("BENCHMARK"), F("BIT_COUNT"), F("COLLATION"), F("CONCAT_WS"),
            F("CUME_DIST"), F("DAYOFWEEK"), F("DAYOFYEAR"), F("FROM_DAYS"), F("INET_ATON"),
            F("INET_NTOA"), F("JSON_KEYS"), F("JSON_TYPE"), F("LOCALTIME"), F("MBRCOVERS"),
            F("MBREQUALS"), F("MBRWITHIN"), S("MEDIUMINT"), F("MONTHNAME"), F("NTH_VALUE"),
            S("PARTITION"), F("ROW_COUNT"), S("SEPARATOR"), F("ST_ASTEXT"), F("ST_BUFFER"),
            F("ST_EQUALS"), F("ST_LENGTH"), F("ST_POINTN"), F("ST_WITHIN"), F("SUBSTRING"),
            F("TIMESTAMP"), F("TO_BASE64"), F("UPDATEXML"), S("VARBINARY"),
    /* 10 */ F("BIT_LENGTH"), F("COLUMN_ADD"), F("COLUMN_GET"), F("CONVERT_TZ"), F("DAYOFMONTH"),
             F("DENSE_RANK"), F("EXPORT_SET"), F("FOUND_ROWS"), F("GET_FORMAT"), F("INET6_ATON"),
             F("INET6_NTOA"), F("JSON_ARRAY"), F("JSON_DEPTH"), F("JSON_LOOSE"), F("JSON_MERGE"),
             F("JSON_QUERY"), F("JSON_QUOTE"), F("JSON_TABLE"), F("JSON_VALID"), F("JSON_VALUE"),
             F("LAST_VALUE"), F("LINESTRING"), F("MBRTOUCHES"), F("MULTIPOINT"), F("NAME_CONST"),
             F("PERIOD_ADD"), F("ROW_NUMBER"), F("STDDEV_POP"), F("ST_CROSSES"), F("ST_ISEMPTY"),
             F("ST_ISVALID"), F("ST_TOUCHES"), F("TO_SECONDS"), F("UNCOMPRESS"), F("UUID_SHORT"),
             F("WEEKOFYEAR"),
    /* 11 */ F("AES_DECRYPT"), F("AES_ENCRYPT"), F("BIN_TO_UUID"), F("CHAR_LENGTH"),
             F("COLUMN_JSON"), F("COLUMN_LIST"), F("DATE_FORMAT"), S("DISTINCTROW"),
             F("FIND_IN_SET"), F("FIRST_VALUE"), F("FROM_BASE64"), F("GTID_SUBSET"),
             F("ICU_VERSION"), F("JSON_EQUALS"), F("JSON_EXISTS"), F("JSON_INSERT"),
             F("JSON_LENGTH"), F("JSON_OBJECT"), F("JSON_PRETTY"), F("JSON_REMOVE"),
             F("JSON_SEARCH"), F("MBRCONTAINS"), F("MBRDISJOINT"), F("MBROVERLAPS"),
             F("MICROSECOND"), F("PERIOD_DIFF"), F("REGEXP_LIKE"), F("SEC_TO_TIME"),
             F("STDDEV_SAMP"), F("STR_TO_DATE"), F("ST_ASBINARY"), F("ST_CENTROID"),
             F("ST_CONTAINS"), F("ST_DISJOINT"), F("ST_DISTANCE"), F("ST_ENDPOINT"),
             F("ST_ENVELOPE"), F("ST_ISCLOSED"), F("ST_ISSIMPLE"), F("ST_LATITUDE"),
             F("ST_OVERLAPS"), F("SYSTEM_USER"), F("TIME_FORMAT"), F("TIME_TO_SEC"),
             F("UUID_TO_BIN"),
    /* 12 */ F("COERCIBILITY"), F("COLUMN_CHECK"), F("CURRENT_DATE"), F("CURRENT_ROLE"),
             F("CURRENT_TIME"), F("CURRENT_USER"), F("EXTRACTVALUE"), F("FORMAT_BYTES"),
             F("GROUP_CONCAT"), W("IS_FREE_LOCK", FN_LOCK_INFO), W("IS_USED_LOCK", FN_LOCK_INFO),
             F("JSON_COMPACT"), F("JSON_EXTRACT"), F("JSON_REPLACE"), F("JSON_UNQUOTE"),
             F("MBRCOVEREDBY"), F("MULTIPOLYGON"), F("OCTET_LENGTH"), F("OLD_PASSWORD"),
             F("PERCENT_RANK"), F("PS_THREAD_ID"), F("RANDOM_BYTES"), F("REGEXP_INSTR"),
             W("RELEASE_LOCK", FN_LOCK_INFO), F("SESSION_USER"), F("ST_ASGEOJSON"),
             F("ST_DIMENSION"), F("ST_GEOMETRYN"), F("ST_LONGITUDE"), F("ST_NUMPOINTS"),
             F("TIMESTAMPADD"),
    /* 13 */ F("COLUMN_CREATE"), F("COLUMN_DELETE"), F("COLUMN_EXISTS"), F("CONNECTION_ID"),
             F("FROM_UNIXTIME"), F("GTID_SUBTRACT"), F("JSON_ARRAYAGG"), F("JSON_CONTAINS"),
             F("JSON_DETAILED"), F("JSON_OVERLAPS"), F("MBRINTERSECTS"), F("REGEXP_SUBSTR"),
             S("STRAIGHT_JOIN"), F("ST_CONVEXHULL"), F("ST_DIFFERENCE"), F("ST_INTERSECTS"),
             F("ST_STARTPOINT"), F("TIMESTAMPDIFF"), F("UTC_TIMESTAMP"), F("WEIGHT_STRING"),
    /* 14 */ F("IS_IPV4_COMPAT"), F("IS_IPV4_MAPPED"), F("JSON_KEY_VALUE"), F("JSON_NORMALIZE"),
             F("JSON_OBJECTAGG"), W("LAST_INSERT_ID", FN_LAST_INSERT_ID), F("LOCALTIMESTAMP"),
             F("REGEXP_REPLACE"), F("ST_GEOMFROMWKB"), F("UNIX_TIMESTAMP"),
    /* 15 */ F("MULTILINESTRING"), F("ST_EXTERIORRING"), F("ST_GEOMETRYTYPE"),
             F("ST_GEOMFROMTEXT"), F("ST_INTERSECTION"), F("ST_LINEFROMTEXT"),
             F("ST_POLYFROMTEXT"), F("SUBSTRING_INDEX"),
    /* 16 */ F("CHARACTER_LENGTH"), F("FORMAT_PICO_TIME"), F("JSON_MERGE_PATCH"),
             F("NATURAL_SORT_KEY"), F("STATEMENT_DIGEST"), F("ST_INTERIORRINGN"),
             F("ST_NUMGEOMETRIES"), F("ST_POINTFROMTEXT"), F("ST_SYMDIFFERENCE"),
    /* 17 */ F("CURRENT_TIMESTAMP"), F("JSON_ARRAY_APPEND"), F("JSON_ARRAY_INSERT"),
             F("JSON_SCHEMA_VALID"), F("JSON_STORAGE_FREE"), F("JSON_STORAGE_SIZE"),
             W("RELEASE_ALL_LOCKS", FN_LOCK_INFO),
    /* 18 */ F("GEOMETRYCOLLECTION"), F("JSON_CONTAINS_PATH"), F("ST_DISTANCE_SPHERE"),
             F("ST_GEOMFROMGEOJSON"),
    /* 19 */ F("JSON_MERGE_PRESERVE"), F("ST_NUMINTERIORRINGS"), F("UNCOMPRESSED_LENGTH"),
    /* 20 */ F("JSON_ARRAY_INTERSECT"), F("JSON_OBJECT_TO_ARRAY"), F("PS_CURRENT_THREAD_ID"),
    /* 21 */ F("STATEMENT_DIGEST_TEXT"),
    /* 23 */ F("JSON_OBJECT_FILTER_KEYS"),
    /* 26 */ F("VALIDATE_PASSWORD_STRENGTH"),
};

#undef K
#undef F
#undef S
#undef W
#undef WORD_CH
#undef WORD_KEY

#define WORD_MAX (sizeof keywords[0].name - 1)
#define COUNT(table) (sizeof table / sizeof table[0])

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
    size_t head = n < 7 ? n : 7;
    uint64_t k = 0;
    unsigned high = 0;
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
    P_LPAREN,
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
    unsigned creates;                /* found anywhere: named locks, user vars */
};

static void scan_init(struct stmt_scan *st)
{
    memset(st, 0, sizeof *st);
    st->body_ok = true;
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
            unsigned fn = e != NULL && !st->prev_dot ? e->fn : FN_STORED;
            call = fn != FN_SYNTAX && fn != FN_STORED;
            if (fn == FN_LAST_INSERT_ID)
                st->lii_pending = true;
            else if (fn == FN_GET_LOCK)
                st->creates |= STATE_NAMED_LOCKS;
            if (fn != FN_SYNTAX && fn != FN_PURE && fn != FN_LAST_INSERT_ID)
                st->body_ok = false;
        }
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
    case SQL_TOK_PUNCT:
        if (t->op == '(') {
            code = P_LPAREN;
            if (lii && !sql_token_is_punct(next, ')'))
                st->body_ok = false; /* LAST_INSERT_ID(expr) sets it */
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
    case KW_LOAD: /* LOAD DATA ... (@a, col) SET x = @a */
    case KW_GET:  /* GET DIAGNOSTICS @n = NUMBER */
        if (st->uv_any)
            c->creates |= STATE_USER_VARS;
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
static void classify_reading(const char *sql, size_t len, unsigned options,
                             struct statement_class *out, unsigned *nstmt, unsigned *ambiguous)
{
    struct sql_lexer lx;
    struct sql_token toks[2], *cur = &toks[0], *next = &toks[1], *swap;
    struct stmt_scan st;
    unsigned n = 0, creates = 0, releases = 0;
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
        scan_init(&st);
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
        acc->releases &= c->releases;
        acc->releases &= ~acc->creates;
        acc->retry_safe = acc->retry_safe && c->retry_safe;
    }
    finish_retry(acc);
}

void classify_statement(const char *sql, size_t len, struct statement_class *out)
{
    struct statement_class c;
    unsigned n, seen;
    bool have = false;

    classify_reading(sql, len, 0, &c, &n, &seen);
    if (n != 0)
        fold_reading(out, &have, &c);
    if (seen != 0) {
        unsigned long long done = 1;
        unsigned options, more;
        while (sql_lex_next_variant(seen, &done, &options)) {
            classify_reading(sql, len, options, &c, &n, &more);
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
        out->retry_safe = false;
    }
}

bool parse_use_statement(const char *sql, size_t len, char *out, size_t out_size, size_t *out_len)
{
    struct sql_lexer lx;
    struct sql_token use, name, end;
    sql_lexer_init(&lx, sql, len, 0);
    sql_lexer_next(&lx, &use);
    sql_lexer_next(&lx, &name);
    sql_lexer_next(&lx, &end);
    if (!sql_token_is_word(&lx, &use, "USE") || lx.ambiguous != 0 ||
        !(end.kind == SQL_TOK_END || sql_token_is_punct(&end, ';')))
        return false;
    size_t n = 0;
    if (name.kind == SQL_TOK_WORD) {
        if (name.len >= out_size)
            return false;
        memcpy(out, sql + name.start, name.len);
        n = name.len;
    } else if (name.kind == SQL_TOK_QUOTED_ID && name.len >= 2) {
        for (size_t i = name.start + 1; i < name.start + name.len - 1; i++) {
            if (n + 1 >= out_size)
                return false;
            out[n++] = sql[i];
            if (sql[i] == '`')
                i++; /* `` is one backquote */
        }
    } else {
        return false;
    }
    out[n] = '\0';
    *out_len = n;
    return true;
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
