/* sql_lexer.c - token boundaries of MySQL/MariaDB SQL (see sql_lexer.h).
 *
 * Follows the server's lexer (sql_lex.cc) where boundaries matter and is
 * deliberately loose elsewhere: it does not validate numbers, hex literals,
 * character set introducers or identifiers, because none of that moves a
 * statement boundary or hides a keyword.
 */
#include "sql_lexer.h"

enum {
    CC_SPACE = 1u << 0,
    CC_WORD = 1u << 1,  /* may continue an identifier */
    CC_DIGIT = 1u << 2,
    /* ASCII bytes that are not word characters but can be the second byte
     * of a GBK/SJIS/BIG5 character (0x40-0x7e): after a byte >= 0x81 they
     * make the multi-byte readings differ from the single-byte one. */
    CC_MB_TRAIL = 1u << 3,
    /* may start whitespace or a comment, or end an executable comment */
    CC_BLANK = 1u << 4,
};

static const unsigned char char_class[256] = {
    [' '] = CC_SPACE | CC_BLANK, ['\t'] = CC_SPACE | CC_BLANK, ['\n'] = CC_SPACE | CC_BLANK,
    ['\v'] = CC_SPACE | CC_BLANK, ['\f'] = CC_SPACE | CC_BLANK, ['\r'] = CC_SPACE | CC_BLANK,
    ['#'] = CC_BLANK, ['-'] = CC_BLANK, ['/'] = CC_BLANK, ['*'] = CC_BLANK,
    ['0' ... '9'] = CC_WORD | CC_DIGIT,
    ['A' ... 'Z'] = CC_WORD, ['a' ... 'z'] = CC_WORD,
    ['_'] = CC_WORD, ['$'] = CC_WORD,
    [0x80 ... 0xff] = CC_WORD,
    ['@'] = CC_MB_TRAIL, ['['] = CC_MB_TRAIL, ['\\'] = CC_MB_TRAIL, [']'] = CC_MB_TRAIL,
    ['^'] = CC_MB_TRAIL, ['`'] = CC_MB_TRAIL, ['{'] = CC_MB_TRAIL, ['|'] = CC_MB_TRAIL,
    ['}'] = CC_MB_TRAIL, ['~'] = CC_MB_TRAIL,
};

/* "/" "*!NNNNN" with a five-digit version below this runs on every server
 * goneshim supports (MySQL 5.7+, MariaDB 10+: MariaDB compares the number
 * with its own 10xxxx version), so it is plain code, not an ambiguity.
 * mysqldump writes 40101, 40103, 50503... */
#define EXEC_ALWAYS_BELOW 50700UL

static inline bool is_word_byte(unsigned char c)
{
    return (char_class[c] & CC_WORD) != 0;
}

static inline bool is_digit(unsigned char c)
{
    return (char_class[c] & CC_DIGIT) != 0;
}

/* Whether s[i] and s[i + 1] form one character in the multi-byte character
 * set selected by `options` (none selected: never). The ranges are those of
 * the server's charset definitions; GB18030's four-byte forms have digits
 * as second and fourth bytes and so never hide an ASCII delimiter. */
static bool mb_pair(unsigned options, const unsigned char *s, size_t i, size_t n)
{
    if (i + 1 >= n)
        return false;
    unsigned a = s[i], b = s[i + 1];
    if (options & SQL_LEX_MB_GBK)
        return a >= 0x81 && a <= 0xfe && ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe));
    if (options & SQL_LEX_MB_SJIS)
        return ((a >= 0x81 && a <= 0x9f) || (a >= 0xe0 && a <= 0xfc)) &&
               ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfc));
    if (options & SQL_LEX_MB_BIG5)
        return a >= 0xa1 && a <= 0xf9 && ((b >= 0x40 && b <= 0x7e) || (b >= 0xa1 && b <= 0xfe));
    return false;
}

/* s[i] (an ASCII delimiter the scan stopped at or acted on) right after a
 * byte that may lead a two-byte character: some multi-byte reading would
 * have swallowed it. */
static inline void note_mb(struct sql_lexer *lx, const unsigned char *s, size_t i)
{
    if (i > 0 && s[i - 1] >= 0x81 && (char_class[s[i]] & CC_MB_TRAIL))
        lx->ambiguous |= SQL_LEX_MB_ANY;
}

/* Index after the run of identifier bytes starting at i; `dots` also
 * accepts '.', as in @@session.sql_mode and @a.b. */
static size_t scan_word(struct sql_lexer *lx, const unsigned char *s, size_t i, size_t n, bool dots)
{
    unsigned mb = lx->options & SQL_LEX_MB_ANY;
    if (!mb && !dots) {
        while (i < n && is_word_byte(s[i]))
            i++;
    } else {
        while (i < n) {
            unsigned char c = s[i];
            if (c >= 0x80 && mb && mb_pair(mb, s, i, n)) {
                i += 2;
                continue;
            }
            if (!is_word_byte(c) && !(dots && c == '.'))
                break;
            i++;
        }
    }
    if (i < n)
        note_mb(lx, s, i);
    return i;
}

/* Scans a quoted string or identifier whose opening quote q is at s[i - 1].
 * Returns the index after the closing quote, or n if there is none. A
 * doubled quote stands for itself; with `backslash`, '\' escapes the next
 * byte. *saw_backslash tells whether the other reading could differ. */
static size_t scan_quoted(struct sql_lexer *lx, const unsigned char *s, size_t i, size_t n,
                          unsigned char q, bool backslash, bool *closed, bool *saw_backslash)
{
    unsigned mb = lx->options & SQL_LEX_MB_ANY;
    while (i < n) {
        unsigned char c = s[i];
        if (c == q) {
            if (q == '`')
                note_mb(lx, s, i);
            if (i + 1 < n && s[i + 1] == q) {
                i += 2;
                continue;
            }
            *closed = true;
            return i + 1;
        }
        if (c == '\\') {
            note_mb(lx, s, i);
            *saw_backslash = true;
            if (backslash) {
                i += 2; /* may step to n + 1: the loop ends, n is returned */
                continue;
            }
        } else if (c >= 0x80 && mb && mb_pair(mb, s, i, n)) {
            i += 2;
            continue;
        }
        i++;
    }
    *closed = false;
    return n;
}

/* The quoted thing opening at s[i] (quote q): index after it. Records an
 * ambiguity if the other backslash reading would end it elsewhere. */
static size_t lex_quoted(struct sql_lexer *lx, const unsigned char *s, size_t i, size_t n, unsigned char q)
{
    unsigned flag = q == '\'' ? SQL_LEX_SQ_NO_BACKSLASH : q == '"' ? SQL_LEX_DQ_NO_BACKSLASH : 0;
    bool backslash = flag != 0 && !(lx->options & flag);
    bool closed = false, saw_backslash = false;
    size_t end = scan_quoted(lx, s, i + 1, n, q, backslash, &closed, &saw_backslash);
    if (flag != 0 && saw_backslash && !(lx->ambiguous & flag)) {
        bool other_closed = false, ignored = false;
        size_t other = scan_quoted(lx, s, i + 1, n, q, !backslash, &other_closed, &ignored);
        if (other != end || other_closed != closed)
            lx->ambiguous |= flag;
    }
    if (!closed)
        lx->unterminated = true;
    return end;
}

static size_t skip_line(const unsigned char *s, size_t i, size_t n)
{
    while (i < n && s[i] != '\n')
        i++;
    return i;
}

/* A comment starting "/" "*" at s[i]. Returns where lexing resumes: after
 * the comment, or just inside an executable comment whose content is code. */
static size_t lex_comment(struct sql_lexer *lx, const unsigned char *s, size_t i, size_t n)
{
    size_t j = i + 2;
    bool exec = false, conditional = false;
    if (j < n && s[j] == '!') {
        exec = true;
        j++;
    } else if (j + 1 < n && s[j] == 'M' && s[j + 1] == '!') {
        /* MariaDB's: MySQL reads it as an ordinary comment. */
        exec = conditional = true;
        j += 2;
    }
    if (exec) {
        size_t d = j;
        unsigned long version = 0;
        while (d < n && is_digit(s[d])) {
            if (version < 1000000UL)
                version = version * 10 + (unsigned long)(s[d] - '0');
            d++;
        }
        /* Servers read five (MySQL, MariaDB) or six (MariaDB's M!, newer
         * MySQL) digits. All digits are skipped here: a stray number at the
         * start of the content changes nothing this lexer is used for. */
        if (d != j && !(d - j == 5 && version < EXEC_ALWAYS_BELOW))
            conditional = true;
        if (conditional)
            lx->ambiguous |= SQL_LEX_SKIP_CONDITIONAL;
        if (!(conditional && (lx->options & SQL_LEX_SKIP_CONDITIONAL))) {
            lx->in_exec = true;
            lx->exec_seq++;
            return d;
        }
    }
    /* Comments do not nest: the first star-slash ends it. */
    for (size_t k = i + 2; k + 1 < n; k++) {
        if (s[k] == '*' && s[k + 1] == '/')
            return k + 2;
    }
    lx->unterminated = true;
    return n;
}

static void skip_blank(struct sql_lexer *lx)
{
    const unsigned char *s = (const unsigned char *)lx->sql;
    size_t n = lx->len, i = lx->pos;
    while (i < n) {
        unsigned char c = s[i];
        if (char_class[c] & CC_SPACE) {
            i++;
        } else if (c == '#' || (c == '-' && i + 1 < n && s[i + 1] == '-' &&
                                (i + 2 >= n || s[i + 2] <= ' ' || s[i + 2] == 0x7f))) {
            /* A line comment. "--" needs a space or control character
             * after it (end of input counts: the server reads a NUL
             * there). */
            i = skip_line(s, i, n);
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            i = lex_comment(lx, s, i, n);
        } else if (c == '*' && lx->in_exec && i + 1 < n && s[i + 1] == '/') {
            lx->in_exec = false;
            lx->exec_seq++;
            i += 2;
        } else {
            break;
        }
    }
    lx->pos = i;
}

void sql_lexer_init(struct sql_lexer *lx, const char *sql, size_t len, unsigned options)
{
    lx->sql = sql;
    lx->len = sql != NULL ? len : 0;
    lx->pos = 0;
    lx->options = options;
    lx->ambiguous = 0;
    lx->exec_seq = 0;
    lx->in_exec = false;
    lx->unterminated = false;
}

void sql_lexer_next(struct sql_lexer *lx, struct sql_token *tok)
{
    if (lx->pos < lx->len && (char_class[(unsigned char)lx->sql[lx->pos]] & CC_BLANK))
        skip_blank(lx);
    const unsigned char *s = (const unsigned char *)lx->sql;
    size_t n = lx->len, i = lx->pos, end;

    tok->start = i;
    tok->op = 0;
    tok->exec_seq = lx->exec_seq;
    tok->in_exec = lx->in_exec;
    if (i >= n) {
        /* An executable comment never closed: a syntax error, like an
         * unterminated ordinary comment. */
        if (lx->in_exec)
            lx->unterminated = true;
        tok->kind = SQL_TOK_END;
        tok->len = 0;
        return;
    }

    unsigned char c = s[i];
    if (is_digit(c)) {
        end = i;
        while (end < n && is_digit(s[end]))
            end++;
        if (end < n && is_word_byte(s[end])) {
            /* 1abc is an identifier; 0x1F, 1e5 are literals, but a word is
             * as good: neither is a keyword. */
            tok->kind = SQL_TOK_WORD;
            end = scan_word(lx, s, end, n, false);
        } else {
            tok->kind = SQL_TOK_NUMBER;
            if (end < n && s[end] == '.') {
                end++;
                while (end < n && is_digit(s[end]))
                    end++;
            }
            if (end + 1 < n && (s[end] == 'e' || s[end] == 'E')) {
                size_t e = end + 1;
                if (e + 1 < n && (s[e] == '+' || s[e] == '-'))
                    e++;
                if (e < n && is_digit(s[e])) {
                    end = e;
                    while (end < n && is_digit(s[end]))
                        end++;
                }
            }
        }
    } else if (is_word_byte(c)) {
        tok->kind = SQL_TOK_WORD;
        if (!(lx->options & SQL_LEX_MB_ANY)) {
            /* The common case, inline. */
            end = i + 1;
            while (end < n && is_word_byte(s[end]))
                end++;
            if (end < n && s[end - 1] >= 0x81)
                note_mb(lx, s, end);
        } else {
            end = scan_word(lx, s, i, n, false);
        }
    } else if (c == '\'' || c == '"') {
        tok->kind = SQL_TOK_STRING;
        end = lex_quoted(lx, s, i, n, c);
    } else if (c == '`') {
        tok->kind = SQL_TOK_QUOTED_ID;
        end = lex_quoted(lx, s, i, n, c);
    } else if (c == '@') {
        if (i + 1 < n && s[i + 1] == '@') {
            tok->kind = SQL_TOK_SYS_VAR;
            end = scan_word(lx, s, i + 2, n, true);
        } else {
            tok->kind = SQL_TOK_USER_VAR;
            if (i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '"' || s[i + 1] == '`'))
                end = lex_quoted(lx, s, i + 1, n, s[i + 1]);
            else
                end = scan_word(lx, s, i + 1, n, true);
        }
    } else if (c == ':' && i + 1 < n && s[i + 1] == '=') {
        tok->kind = SQL_TOK_PUNCT;
        tok->op = SQL_OP_ASSIGN;
        end = i + 2;
    } else {
        tok->kind = SQL_TOK_PUNCT;
        tok->op = c;
        end = i + 1;
    }
    tok->len = end - i;
    lx->pos = end;
}

bool sql_token_is_word(const struct sql_lexer *lx, const struct sql_token *tok, const char *upper)
{
    if (tok->kind != SQL_TOK_WORD)
        return false;
    const unsigned char *s = (const unsigned char *)lx->sql + tok->start;
    size_t k = 0;
    for (; k < tok->len; k++) {
        unsigned char c = s[k];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - ('a' - 'A'));
        if (upper[k] == '\0' || (unsigned char)upper[k] != c)
            return false;
    }
    return upper[k] == '\0';
}

bool sql_lex_next_variant(unsigned seen, unsigned long long *done, unsigned *options)
{
    for (unsigned m = 1; m < 64; m++) {
        unsigned mb = m & SQL_LEX_MB_ANY;
        if ((*done >> m) & 1u)
            continue;
        if ((m & ~seen) != 0 || (mb & (mb - 1)) != 0)
            continue;
        *done |= 1ULL << m;
        *options = m;
        return true;
    }
    return false;
}
