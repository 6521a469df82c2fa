/* set_statement.c - the session assignments of a SET statement (see
 * set_statement.h).
 *
 * Choices the header leaves open:
 *  - Only the first statement of the text is described. Anything after its
 *    ';' makes the result SET_PARSE_UNRESTORABLE: what else ran is unknown.
 *  - GLOBAL, PERSIST, PERSIST_ONLY, SESSION and LOCAL as keywords carry over
 *    to the following assignments without a scope of their own; the
 *    @@global. / @@session. prefixes apply to their own assignment only (the
 *    server's grammar does the same). Bare @@x is the session variable.
 *  - A value that reads a session variable (@@sql_mode) is recorded as
 *    written: the replay evaluates it again, on a session where earlier
 *    assignments of the same key have been replaced. CONCAT(@@sql_mode,
 *    ',X') is replayed right only if it was the first sql_mode assignment.
 *  - SET ROLE, SET NAMES and SET CHARACTER SET / CHAR SET / CHARSET are
 *    REPLAY_SET with keys "role", "names", "character set". SET SESSION
 *    TRANSACTION ... is key "transaction": one key for isolation level and
 *    access mode, so a later SET SESSION TRANSACTION READ ONLY replaces an
 *    earlier ISOLATION LEVEL in the replay list. SET PASSWORD and SET
 *    DEFAULT ROLE are OK with n = 0. SET RESOURCE GROUP (a thread property)
 *    is UNRESTORABLE, bits 0, like SET STATEMENT ... FOR.
 *  - Values are not parsed, only delimited (a ',' outside parentheses ends
 *    one): what the server cannot parse it rejects, and the caller records
 *    only SETs that succeeded.
 *  - An assignment whose text would cut an executable comment in two (it
 *    starts or ends inside one that does not also end or start inside it)
 *    cannot be replayed as text: UNRESTORABLE, bits 0.
 *  - Text the server may tokenize in several ways (sql_lexer.h) is parsed
 *    under each reading. Readings under which the statement is not a
 *    complete SET (unterminated, or no SET left) are ignored: the server
 *    would have refused it, and a failed SET is never recorded. If the
 *    remaining readings do not give identical results, the result is
 *    UNRESTORABLE with the union of their bits.
 */
#include "set_statement.h"

#include <string.h>

#include "sql_lexer.h"
#include "statement_class.h"

struct set_parser {
    struct sql_lexer lx;
    struct sql_token cur;
    struct set_parse_result *out;
};

struct key_buf {
    char s[SET_KEY_MAX];
    size_t n;
    bool overflow;
};

static void advance(struct set_parser *p)
{
    sql_lexer_next(&p->lx, &p->cur);
}

static bool is_word(const struct set_parser *p, const char *upper)
{
    return sql_token_is_word(&p->lx, &p->cur, upper);
}

static bool is_punct(const struct set_parser *p, int op)
{
    return sql_token_is_punct(&p->cur, op);
}

/* Whether the token after the current one is the word `upper`. The lexer
 * is a few words of state: a copy looks ahead without disturbing it. */
static bool peek_word(const struct set_parser *p, const char *upper)
{
    struct sql_lexer copy = p->lx;
    struct sql_token t;
    sql_lexer_next(&copy, &t);
    return sql_token_is_word(&copy, &t, upper);
}

static bool at_statement_end(const struct set_parser *p)
{
    return p->cur.kind == SQL_TOK_END || is_punct(p, ';');
}

/* The statement is something a replay cannot reproduce. Returns false so
 * that callers can `return fail(...)`. */
static bool fail(struct set_parser *p, unsigned bits)
{
    p->out->status = SET_PARSE_UNRESTORABLE;
    p->out->unrestorable |= bits;
    p->out->n = 0;
    return false;
}

static void key_put(struct key_buf *k, unsigned char c)
{
    if (k->n + 1 >= sizeof k->s) {
        k->overflow = true;
        return;
    }
    if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c + ('a' - 'A'));
    k->s[k->n++] = (char)c;
}

static void key_put_str(struct key_buf *k, const char *s)
{
    while (*s != '\0')
        key_put(k, (unsigned char)*s++);
}

/* An assignment's text would cut an executable comment in two if it
 * starts and ends in different comment states, or leaves one comment and
 * enters another. */
static bool span_whole(const struct sql_token *first, const struct sql_token *last)
{
    return first->exec_seq == last->exec_seq || (!first->in_exec && !last->in_exec);
}

static bool add(struct set_parser *p, const struct key_buf *k, size_t text_start,
                const struct sql_token *first, const struct sql_token *last, enum set_replay_form form,
                bool value_literal)
{
    struct set_parse_result *out = p->out;
    if (k->overflow || k->n == 0 || !span_whole(first, last) || out->n >= SET_MAX_ASSIGNMENTS)
        return fail(p, 0);
    struct set_assignment *a = &out->assignments[out->n++];
    memset(a->key, 0, sizeof a->key);
    memcpy(a->key, k->s, k->n);
    a->text = p->lx.sql + text_start;
    a->text_len = last->start + last->len - text_start;
    a->form = form;
    a->value_literal = value_literal;
    return true;
}

/* A value of one token that stands for itself, or a signed number. */
static bool is_literal_value(const struct sql_token *first, const struct sql_token *last)
{
    if (first->start == last->start)
        return first->kind == SQL_TOK_STRING || first->kind == SQL_TOK_NUMBER || first->kind == SQL_TOK_WORD;
    return first->kind == SQL_TOK_PUNCT && (first->op == '-' || first->op == '+') &&
           last->kind == SQL_TOK_NUMBER && last->start == first->start + first->len;
}

/* Skips to the end of the statement (';' outside parentheses, or the end). */
static bool skip_statement(struct set_parser *p)
{
    unsigned depth = 0;
    while (p->cur.kind != SQL_TOK_END && !(depth == 0 && is_punct(p, ';'))) {
        if (is_punct(p, '('))
            depth++;
        else if (is_punct(p, ')') && depth > 0)
            depth--;
        advance(p);
    }
    return true;
}

/* Scans a value from the current token to the end of the assignment (a ','
 * outside parentheses when `comma_ends`) or of the statement; *last gets
 * its last token. A user variable read makes it unrestorable (its value is
 * gone after a reconnect) unless `vars_ok` ('u'@'host' role names). */
static bool scan_value(struct set_parser *p, bool comma_ends, bool vars_ok, struct sql_token *last)
{
    unsigned depth = 0;
    bool any = false;
    for (;;) {
        if (p->cur.kind == SQL_TOK_END)
            break;
        if (depth == 0 && (is_punct(p, ';') || (comma_ends && is_punct(p, ','))))
            break;
        if (is_punct(p, '(')) {
            depth++;
        } else if (is_punct(p, ')')) {
            if (depth == 0)
                return fail(p, 0);
            depth--;
        } else if (p->cur.kind == SQL_TOK_USER_VAR && !vars_ok) {
            return fail(p, STATE_USER_VARS);
        }
        *last = p->cur;
        any = true;
        advance(p);
    }
    return any && depth == 0 ? true : fail(p, 0);
}

/* "KEYWORD value": text from the keyword (the current token) on, after
 * skipping `words` keyword tokens. Up to the next ',' or, when !comma_ends,
 * to the end of the statement. */
static bool add_keyword_form(struct set_parser *p, const char *key, unsigned words, bool comma_ends,
                             bool vars_ok, enum set_replay_form form)
{
    struct sql_token first = p->cur, last;
    struct key_buf k = {.n = 0};
    for (unsigned i = 0; i < words; i++)
        advance(p);
    if (!scan_value(p, comma_ends, vars_ok, &last))
        return false;
    key_put_str(&k, key);
    return add(p, &k, first.start, &first, &last, form, true);
}

/* A variable name: identifiers or `quoted identifiers` joined by '.'. */
static bool parse_name(struct set_parser *p, struct key_buf *k)
{
    const char *sql = p->lx.sql;
    for (;;) {
        const struct sql_token *t = &p->cur;
        if (t->kind == SQL_TOK_WORD) {
            for (size_t i = 0; i < t->len; i++)
                key_put(k, (unsigned char)sql[t->start + i]);
        } else if (t->kind == SQL_TOK_QUOTED_ID && t->len >= 2) {
            /* `a``b` is a`b; an unterminated one fails at the end. */
            for (size_t i = 1; i + 1 < t->len; i++) {
                key_put(k, (unsigned char)sql[t->start + i]);
                if (sql[t->start + i] == '`')
                    i++;
            }
        } else {
            return false;
        }
        advance(p);
        if (!is_punct(p, '.'))
            return true;
        key_put(k, '.');
        advance(p);
    }
}

static bool prefix_is(const char *s, size_t n, const char *upper)
{
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - ('a' - 'A'));
        if (upper[i] == '\0' || (unsigned char)upper[i] != c)
            return false;
    }
    return upper[i] == '\0';
}

/* @@[scope.]name: the key, whether it is global, and where the name starts. */
static bool parse_sys_var(struct set_parser *p, struct key_buf *k, bool *global, size_t *name_start)
{
    const char *s = p->lx.sql + p->cur.start + 2;
    size_t n = p->cur.len - 2, skip = 0;
    const char *dot = memchr(s, '.', n);
    *global = false;
    if (dot != NULL) {
        size_t plen = (size_t)(dot - s);
        if (prefix_is(s, plen, "GLOBAL") || prefix_is(s, plen, "PERSIST") ||
            prefix_is(s, plen, "PERSIST_ONLY")) {
            *global = true;
            skip = plen + 1;
        } else if (prefix_is(s, plen, "SESSION") || prefix_is(s, plen, "LOCAL")) {
            skip = plen + 1;
        }
    }
    for (size_t i = skip; i < n; i++)
        key_put(k, (unsigned char)s[i]);
    *name_start = p->cur.start + 2 + skip;
    advance(p);
    return true;
}

/* One "name = value" (or NAMES / CHARACTER SET) assignment. */
static bool parse_assignment(struct set_parser *p, bool scoped, bool global_carry)
{
    struct sql_token first = p->cur, last;
    struct key_buf k = {.n = 0};
    bool global = global_carry;
    size_t text_start = first.start;

    /* These ignore scope; after a scope keyword they would be variables. */
    if (!scoped) {
        if (is_word(p, "NAMES"))
            return add_keyword_form(p, "names", 1, true, false, REPLAY_SET);
        if (is_word(p, "CHARSET"))
            return add_keyword_form(p, "character set", 1, true, false, REPLAY_SET);
        if ((is_word(p, "CHARACTER") || is_word(p, "CHAR")) && peek_word(p, "SET"))
            return add_keyword_form(p, "character set", 2, true, false, REPLAY_SET);
    }

    if (first.kind == SQL_TOK_SYS_VAR) {
        parse_sys_var(p, &k, &global, &text_start);
    } else if (first.kind == SQL_TOK_USER_VAR) {
        return fail(p, STATE_USER_VARS);
    } else if (!parse_name(p, &k)) {
        return fail(p, 0);
    }
    if (!is_punct(p, '=') && !is_punct(p, SQL_OP_ASSIGN))
        return fail(p, 0);
    advance(p);
    struct sql_token value_first = p->cur;
    if (!scan_value(p, true, false, &last))
        return false;
    if (global)
        return true; /* not session state */
    return add(p, &k, text_start, &first, &last, REPLAY_SET_SESSION, is_literal_value(&value_first, &last));
}

/* The assignment list after SET. */
static bool parse_list(struct set_parser *p)
{
    bool global_carry = false;
    for (bool first = true;; first = false) {
        if (first) {
            if (is_word(p, "PASSWORD") || (is_word(p, "DEFAULT") && peek_word(p, "ROLE")))
                return skip_statement(p); /* account properties, not the session's */
            if (is_word(p, "ROLE"))
                return add_keyword_form(p, "role", 1, false, true, REPLAY_SET);
            if (is_word(p, "TRANSACTION"))
                return fail(p, STATE_NEXT_TXN_SETTINGS);
            if (is_word(p, "STATEMENT") || is_word(p, "RESOURCE"))
                return fail(p, 0);
        }
        bool scoped = true;
        if (is_word(p, "GLOBAL") || is_word(p, "PERSIST") || is_word(p, "PERSIST_ONLY"))
            global_carry = true;
        else if (is_word(p, "SESSION") || is_word(p, "LOCAL"))
            global_carry = false;
        else
            scoped = false;
        if (scoped)
            advance(p);
        if (scoped && first && is_word(p, "TRANSACTION")) {
            if (global_carry)
                return skip_statement(p);
            return add_keyword_form(p, "transaction", 1, false, false, REPLAY_SET_SESSION);
        }
        if (!parse_assignment(p, scoped, global_carry))
            return false;
        if (!is_punct(p, ','))
            return true;
        advance(p);
    }
}

/* Parses under one lexer reading. *viable: the server could run it as a
 * complete SET statement under this reading. */
static void parse_reading(const char *sql, size_t len, unsigned options, struct set_parse_result *out,
                          unsigned *ambiguous, bool *viable)
{
    struct set_parser p = {.out = out};
    out->status = SET_PARSE_NOT_SET;
    out->unrestorable = 0;
    out->n = 0;
    sql_lexer_init(&p.lx, sql, len, options);
    advance(&p);
    if (is_word(&p, "SET")) {
        out->status = SET_PARSE_OK;
        advance(&p);
        if (parse_list(&p) && !at_statement_end(&p))
            fail(&p, 0);
        /* parse_list may have set out->status through p.out: cppcheck
         * 2.22 does not follow the alias. */
        // cppcheck-suppress knownConditionTrueFalse
        else if (out->status == SET_PARSE_OK && is_punct(&p, ';')) {
            advance(&p);
            if (p.cur.kind != SQL_TOK_END)
                fail(&p, 0); /* more statements: their effect is unknown */
        }
    }
    /* Lex to the end: ambiguities and unterminated tokens anywhere count. */
    while (p.cur.kind != SQL_TOK_END)
        advance(&p);
    if (p.lx.unterminated && out->status != SET_PARSE_NOT_SET)
        fail(&p, 0);
    *ambiguous = p.lx.ambiguous;
    *viable = out->status != SET_PARSE_NOT_SET && !p.lx.unterminated;
}

static bool same_result(const struct set_parse_result *a, const struct set_parse_result *b)
{
    if (a->status != b->status || a->unrestorable != b->unrestorable || a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++) {
        const struct set_assignment *x = &a->assignments[i], *y = &b->assignments[i];
        if (x->text != y->text || x->text_len != y->text_len || x->form != y->form ||
            strcmp(x->key, y->key) != 0)
            return false;
    }
    return true;
}

void parse_set_statement(const char *sql, size_t len, struct set_parse_result *out)
{
    unsigned seen;
    bool viable;
    parse_reading(sql, len, 0, out, &seen, &viable);
    if (seen == 0 || out->status == SET_PARSE_NOT_SET)
        return;

    struct set_parse_result alt;
    unsigned long long done = 1;
    unsigned options, bits = out->unrestorable;
    bool have = viable, agree = true;
    while (sql_lex_next_variant(seen, &done, &options)) {
        unsigned more;
        bool alt_viable;
        parse_reading(sql, len, options, &alt, &more, &alt_viable);
        seen |= more;
        bits |= alt.unrestorable;
        if (!alt_viable)
            continue;
        if (!have) {
            *out = alt;
            have = true;
        } else if (!same_result(out, &alt)) {
            agree = false;
        }
    }
    if (!agree || !have) {
        out->status = SET_PARSE_UNRESTORABLE;
        out->n = 0;
    }
    if (out->status == SET_PARSE_UNRESTORABLE)
        out->unrestorable |= bits;
}
