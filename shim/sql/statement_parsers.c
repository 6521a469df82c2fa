/* statement_parsers.c - see statement_parsers.h. */
#include "statement_parsers.h"

#include <string.h>

#include "sql_lexer.h"

/* The tokens of the default reading; false when the text reads
 * differently under another server setting (then nothing is certain). */
struct token_reader {
    struct sql_lexer lx;
    struct sql_token t;
};

static void reader_init(struct token_reader *r, const char *sql, size_t len)
{
    sql_lexer_init(&r->lx, sql, len, 0);
    sql_lexer_next(&r->lx, &r->t);
}

static void advance(struct token_reader *r)
{
    sql_lexer_next(&r->lx, &r->t);
}

static bool at_word(const struct token_reader *r, const char *upper)
{
    return sql_token_is_word(&r->lx, &r->t, upper);
}

static bool at_end(const struct token_reader *r)
{
    return r->t.kind == SQL_TOK_END || sql_token_is_punct(&r->t, ';');
}

/* The rest of the text is nothing, or only ';'s: a single statement. */
static bool only_end_left(struct token_reader *r)
{
    while (sql_token_is_punct(&r->t, ';'))
        advance(r);
    return r->t.kind == SQL_TOK_END && r->lx.ambiguous == 0 && !r->lx.unterminated;
}

bool parse_use_statement(const char *sql, size_t len, char *out, size_t out_size, size_t *out_len)
{
    struct token_reader r;
    reader_init(&r, sql, len);
    if (!at_word(&r, "USE"))
        return false;
    advance(&r);
    struct sql_token name = r.t;
    advance(&r);
    if (r.lx.ambiguous != 0 || !at_end(&r))
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

/* A plain decimal integer token: its value; false otherwise (or too big). */
static bool integer_value(const char *sql, const struct sql_token *t, unsigned long long *value)
{
    if (t->kind != SQL_TOK_NUMBER)
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < t->len; i++) {
        char ch = sql[t->start + i];
        if (ch < '0' || ch > '9' || v > (~0ULL - 9) / 10)
            return false;
        v = v * 10 + (unsigned)(ch - '0');
    }
    *value = v;
    return true;
}

bool parse_kill_statement(const char *sql, size_t len, bool *target_known, unsigned long long *target,
                          bool *query_only)
{
    struct token_reader r;
    reader_init(&r, sql, len);
    if (!at_word(&r, "KILL"))
        return false;
    advance(&r);
    *target_known = false;
    *target = 0;
    *query_only = false;
    if (at_word(&r, "HARD") || at_word(&r, "SOFT"))
        advance(&r);
    if (at_word(&r, "CONNECTION")) {
        advance(&r);
    } else if (at_word(&r, "QUERY")) {
        *query_only = true;
        return true;
    }
    unsigned long long id;
    if (integer_value(sql, &r.t, &id)) {
        advance(&r);
        if (at_end(&r) && r.lx.ambiguous == 0) {
            *target_known = true;
            *target = id;
        }
    }
    return true;
}

/* Could this literal give an AUTO_INCREMENT column the value `id`? A
 * plain integer can if it is `id`; a string can if its digits say `id`
 * (with blanks, a sign, a fraction that rounds, an exponent: any digits at
 * all, to be sure); a number with a fraction or an exponent can round to
 * it. A string without digits cannot. */
static bool literal_may_be(const char *sql, const struct sql_token *t, unsigned long long id)
{
    size_t i = t->start, end = t->start + t->len;
    unsigned long long v = 0;
    if (t->kind == SQL_TOK_STRING) {
        bool digits = false, plain = true;
        for (size_t k = i + 1; k + 1 < end; k++) {
            char ch = sql[k];
            if (ch >= '0' && ch <= '9') {
                digits = true;
                if (v <= (~0ULL - 9) / 10)
                    v = v * 10 + (unsigned)(ch - '0');
                else
                    plain = false;
            } else {
                plain = false;
            }
        }
        return digits && (!plain || v == id);
    }
    for (; i < end; i++) {
        char ch = sql[i];
        if (ch < '0' || ch > '9' || v > (~0ULL - 9) / 10)
            return true; /* a fraction, an exponent, a huge number */
        v = v * 10 + (unsigned)(ch - '0');
    }
    return v == id;
}

/* Skips a table name: name, `name`, db.name. */
static bool skip_table_name(struct token_reader *r)
{
    for (int part = 0; part < 2; part++) {
        if (r->t.kind != SQL_TOK_WORD && r->t.kind != SQL_TOK_QUOTED_ID)
            return false;
        advance(r);
        if (!sql_token_is_punct(&r->t, '.'))
            return true;
        advance(r);
    }
    return false;
}

/* ( literal, ... ) with none equal to id. */
static bool literal_row_without(const char *sql, struct token_reader *r, unsigned long long id)
{
    if (!sql_token_is_punct(&r->t, '('))
        return false;
    advance(r);
    for (;;) {
        if (sql_token_is_punct(&r->t, '-') || sql_token_is_punct(&r->t, '+'))
            advance(r);
        bool word_literal = at_word(r, "NULL") || at_word(r, "DEFAULT") || at_word(r, "TRUE") ||
                            at_word(r, "FALSE");
        if (r->t.kind == SQL_TOK_NUMBER || r->t.kind == SQL_TOK_STRING) {
            if (literal_may_be(sql, &r->t, id))
                return false;
        } else if (!word_literal || (at_word(r, "TRUE") && id == 1)) {
            return false; /* an expression, a parameter, a variable... */
        }
        advance(r);
        if (sql_token_is_punct(&r->t, ')')) {
            advance(r);
            return true;
        }
        if (!sql_token_is_punct(&r->t, ','))
            return false;
        advance(r);
    }
}

static bool insert_values_certain(const char *sql, struct token_reader *r, unsigned long long id)
{
    advance(r); /* INSERT / REPLACE */
    while (at_word(r, "LOW_PRIORITY") || at_word(r, "DELAYED") || at_word(r, "HIGH_PRIORITY") ||
           at_word(r, "IGNORE"))
        advance(r);
    if (at_word(r, "INTO"))
        advance(r);
    if (!skip_table_name(r))
        return false;
    if (sql_token_is_punct(&r->t, '(')) {
        /* The column list: names and commas. */
        advance(r);
        while (r->t.kind == SQL_TOK_WORD || r->t.kind == SQL_TOK_QUOTED_ID || sql_token_is_punct(&r->t, ','))
            advance(r);
        if (!sql_token_is_punct(&r->t, ')'))
            return false;
        advance(r);
    }
    if (!at_word(r, "VALUES") && !at_word(r, "VALUE"))
        return false;
    advance(r);
    for (;;) {
        if (!literal_row_without(sql, r, id))
            return false;
        if (!sql_token_is_punct(&r->t, ','))
            break;
        advance(r);
    }
    return only_end_left(r);
}

bool statement_insert_id_certain(const char *sql, size_t len, unsigned long long id)
{
    struct token_reader r;
    reader_init(&r, sql, len);
    if (at_word(&r, "INSERT") || at_word(&r, "REPLACE"))
        return insert_values_certain(sql, &r, id);
    if (!at_word(&r, "UPDATE") && !at_word(&r, "SELECT") && !at_word(&r, "SET"))
        return false;
    /* UPDATE t SET id = LAST_INSERT_ID(id + 1): the answer carries the value
     * given, which is then LAST_INSERT_ID(). One statement, and nothing
     * else in it that inserts. */
    bool seen = false;
    while (r.t.kind != SQL_TOK_END) {
        if (sql_token_is_punct(&r.t, ';'))
            return only_end_left(&r) && seen;
        if (at_word(&r, "LAST_INSERT_ID"))
            seen = true;
        advance(&r);
    }
    return seen && r.lx.ambiguous == 0 && !r.lx.unterminated;
}
