/* sql_lexer.h - a small tokenizer for MySQL/MariaDB SQL, shared by the
 * statement classifier and the SET parser.
 *
 * It only has to find token boundaries the way the server does: where a
 * string ends, what is a comment, where a statement ends. It never builds a
 * parse tree. Pure: no I/O, no allocation, no global state; the input is a
 * (pointer, length) pair, not NUL-terminated, and is never read past its end.
 * Every call consumes at least one byte or returns SQL_TOK_END, so scanning
 * any input takes O(length).
 *
 * Where the server's tokenization depends on settings the shim cannot see
 * (sql_mode NO_BACKSLASH_ESCAPES or ANSI_QUOTES, the server version in a
 * version-conditional comment, a multi-byte connection character set whose
 * second bytes may be '\' or '`'), the lexer follows one reading, selected
 * by `options`, and records in `ambiguous` which other readings would have
 * cut the input differently. Callers run every such reading and combine the
 * answers conservatively (sql_lex_next_variant). Text without those
 * constructs is lexed once; hostile text at most 32 times (2 x 2 x 2
 * backslash/comment readings, times 4 character-set readings).
 */
#ifndef GONESHIM_SQL_LEXER_H
#define GONESHIM_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>

/* Reading options, and the bits of sql_lexer.ambiguous. */
enum sql_lex_option {
    /* '\' does not escape in '...' strings (sql_mode NO_BACKSLASH_ESCAPES) */
    SQL_LEX_SQ_NO_BACKSLASH = 1u << 0,
    /* '\' does not escape in "..." (NO_BACKSLASH_ESCAPES, or ANSI_QUOTES,
     * which makes "..." an identifier) */
    SQL_LEX_DQ_NO_BACKSLASH = 1u << 1,
    /* the server skips version-conditional executable comments: a server
     * older than NNNNN in "/" "*!NNNNN ...", or MySQL reading MariaDB's
     * "/" "*M! ..." (written split here: C comments do not nest) */
    SQL_LEX_SKIP_CONDITIONAL = 1u << 2,
    /* two-byte characters of a connection character set whose second byte
     * can be an ASCII '\', '`', '@'...: GBK/GB18030, SJIS/CP932, BIG5 */
    SQL_LEX_MB_GBK = 1u << 3,
    SQL_LEX_MB_SJIS = 1u << 4,
    SQL_LEX_MB_BIG5 = 1u << 5,
};
#define SQL_LEX_MB_ANY (SQL_LEX_MB_GBK | SQL_LEX_MB_SJIS | SQL_LEX_MB_BIG5)

enum sql_token_kind {
    SQL_TOK_END = 0,   /* no more input */
    SQL_TOK_WORD,      /* identifier or keyword: letters, digits, _, $, bytes >= 0x80 */
    SQL_TOK_QUOTED_ID, /* `identifier` (`` escapes a backquote) */
    SQL_TOK_STRING,    /* '...' or "..." */
    SQL_TOK_NUMBER,    /* 123, 1.5, 1.5e-3 (digits followed by letters are a WORD) */
    SQL_TOK_USER_VAR,  /* @name, @'name', @"name", @`name`; a lone '@' too */
    SQL_TOK_SYS_VAR,   /* @@name, @@session.name, @@global.name, ... */
    SQL_TOK_PUNCT,     /* one byte (any byte that starts nothing else), or ":=" */
};

#define SQL_OP_ASSIGN 0x100 /* sql_token.op of ":=" */

struct sql_token {
    enum sql_token_kind kind;
    int op;            /* SQL_TOK_PUNCT: the byte, or SQL_OP_ASSIGN */
    size_t start;      /* offset of the first byte in the input */
    size_t len;        /* bytes, quotes and '@' prefixes included */
    unsigned exec_seq; /* executable-comment openings and closings before it */
    bool in_exec;      /* it lies inside an executable comment */
};

struct sql_lexer {
    const char *sql;
    size_t len;
    size_t pos;
    unsigned options;   /* enum sql_lex_option: the reading followed */
    unsigned ambiguous; /* enum sql_lex_option: readings that would differ */
    unsigned exec_seq;  /* executable-comment boundaries passed so far */
    bool in_exec;       /* inside an executable comment, whose closing star-slash
                           is whitespace */
    /* An unterminated string, quoted identifier or comment ran to the end of
     * the input. The server rejects such a statement (syntax error) before
     * running any of it. */
    bool unterminated;
};

void sql_lexer_init(struct sql_lexer *lx, const char *sql, size_t len, unsigned options);

/* The next token; SQL_TOK_END (again and again) at the end of the input. */
void sql_lexer_next(struct sql_lexer *lx, struct sql_token *tok);

/* True if tok is a WORD equal, ignoring ASCII case, to `upper` (an
 * upper-case NUL-terminated literal). */
bool sql_token_is_word(const struct sql_lexer *lx, const struct sql_token *tok, const char *upper);

static inline bool sql_token_is_punct(const struct sql_token *tok, int op)
{
    return tok->kind == SQL_TOK_PUNCT && tok->op == op;
}

/* Iterates the alternative readings worth running once `seen` (the OR of
 * the ambiguous bits of the readings run so far) is known: every
 * combination of seen options with at most one multi-byte character set.
 * `*done` is a set of already-run option masks; start it at 1 (the default
 * reading, mask 0, ran first). Stores the next mask in *options and returns
 * true, or returns false when every reading has run. */
bool sql_lex_next_variant(unsigned seen, unsigned long long *done, unsigned *options);

#endif
