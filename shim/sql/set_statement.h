/* set_statement.h - the session assignments of a SET statement.
 *
 * Pure: parses, never allocates. The replay store (session_replay.h) keeps
 * what a reconnect must apply again; this only says what a SET changed.
 */
#ifndef GONESHIM_SET_STATEMENT_H
#define GONESHIM_SET_STATEMENT_H

#include <stdbool.h>
#include <stddef.h>

#define SET_MAX_ASSIGNMENTS 16
#define SET_KEY_MAX 64

/* How an assignment is replayed on a fresh connection. */
enum set_replay_form {
    REPLAY_SET_SESSION, /* "SET SESSION " + text, e.g. text "sql_mode = ''" */
    REPLAY_SET,         /* "SET " + text, e.g. text "NAMES utf8mb4 COLLATE x" */
};

struct set_assignment {
    /* What the assignment sets, lower case, without scope: "sql_mode",
     * "names", "character set", "transaction", "role", "password"... Two
     * assignments with the same key replace each other. */
    char key[SET_KEY_MAX];
    const char *text; /* points into the statement: the assignment itself
                         without its scope prefix (SESSION, LOCAL, @@, ...) */
    size_t text_len;
    enum set_replay_form form;
    /* The value is one literal (a number, a string, a word such as ON or
     * DEFAULT): replaying the text sets the same value. Otherwise it is an
     * expression (CONCAT(@@sql_mode, ',X'), a subquery), whose replay
     * would be evaluated again in another session: the value it produced
     * must be read back and replayed instead. */
    bool value_literal;
};

enum set_parse_status {
    SET_PARSE_OK,           /* assignments[] holds the session assignments
                               (n may be 0: e.g. only GLOBAL ones) */
    SET_PARSE_NOT_SET,      /* not a SET statement */
    SET_PARSE_UNRESTORABLE, /* touches state a replay cannot restore: a user
                               variable (SET @x, a value reading @x), SET
                               TRANSACTION without scope, SET STATEMENT ...
                               FOR, too many assignments, unparseable */
};

struct set_parse_result {
    enum set_parse_status status;
    unsigned unrestorable; /* enum unrestorable_state bits, when UNRESTORABLE */
    unsigned n;
    struct set_assignment assignments[SET_MAX_ASSIGNMENTS];
};

void parse_set_statement(const char *sql, size_t len, struct set_parse_result *out);

#endif
