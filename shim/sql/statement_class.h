/* statement_class.h - what a SQL statement means for reconnect decisions.
 *
 * Pure: no I/O, no allocation, no global state. The classifier errs on the
 * safe side: whatever it cannot prove read-only is a write, and a write is
 * never sent twice.
 */
#ifndef GONESHIM_STATEMENT_CLASS_H
#define GONESHIM_STATEMENT_CLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "server_profile.h"

enum statement_kind {
    STMT_UNKNOWN = 0, /* empty or unparseable: treated like a write */
    STMT_READ,        /* proven free of side effects (SELECT, SHOW, ...) */
    STMT_WRITE,       /* anything that may change data or server state */
    STMT_BEGIN,       /* START TRANSACTION, BEGIN [WORK] */
    STMT_COMMIT,      /* COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE] */
    STMT_ROLLBACK,    /* ROLLBACK [WORK] ..., not ROLLBACK TO SAVEPOINT */
    STMT_SET,         /* SET ... (session settings, see set_statement.h) */
    STMT_USE,         /* USE db */
    STMT_XA_START,    /* XA START|BEGIN xid */
    STMT_XA_END,      /* XA END xid */
    STMT_XA_PREPARE,  /* XA PREPARE xid: the transaction now outlives its connection */
    STMT_XA_COMMIT,   /* XA COMMIT xid [ONE PHASE] */
    STMT_XA_ROLLBACK, /* XA ROLLBACK xid */
};

/* What else a statement does that the rules care about. */
enum statement_flag {
    /* Reads what the previous statement left in the session: FOUND_ROWS(),
     * ROW_COUNT(), SHOW WARNINGS / ERRORS / COUNT(*), @@warning_count,
     * @@error_count, GET DIAGNOSTICS. After a reconnect (or sent again) it
     * would read the fresh session's. */
    CLASS_READS_PRIOR = 1u << 0,
    /* Reads LAST_INSERT_ID() (or @@identity, @@last_insert_id). */
    CLASS_READS_INSERT_ID = 1u << 1,
    /* May change LAST_INSERT_ID(): INSERT, REPLACE, LOAD, CALL,
     * LAST_INSERT_ID(expr). */
    CLASS_SETS_INSERT_ID = 1u << 2,
    CLASS_CALLS_PROCEDURE = 1u << 3, /* CALL: what it does is out of sight */
    CLASS_KILL = 1u << 4,            /* KILL ... (parse_kill_statement) */
};

/* Session state that a reconnect cannot restore. Once a handle holds any of
 * it, a lost connection must not be hidden. */
enum unrestorable_state {
    STATE_TEMP_TABLES = 1u << 0,  /* CREATE TEMPORARY TABLE */
    STATE_USER_VARS = 1u << 1,    /* @var assigned: SET @x, @x :=, INTO @x */
    STATE_NAMED_LOCKS = 1u << 2,  /* GET_LOCK() */
    STATE_TABLE_LOCKS = 1u << 3,  /* LOCK TABLE[S] */
    STATE_SQL_PREPARE = 1u << 4,  /* PREPARE name FROM ... */
    STATE_NEXT_TXN_SETTINGS = 1u << 5, /* SET TRANSACTION without a scope */
    /* Session settings the replay list cannot hold: a SET the parser cannot
     * describe (too many assignments, syntax it does not follow), or a SET
     * inside a multi-statement string, which the adapter does not record. */
    STATE_UNREPLAYABLE_SETTINGS = 1u << 6,
};

struct statement_class {
    enum statement_kind kind;
    unsigned creates;  /* enum unrestorable_state bits the statement acquires */
    unsigned releases; /* bits it gives up (UNLOCK TABLES: STATE_TABLE_LOCKS) */
    unsigned flags;    /* enum statement_flag bits */
    /* May be sent again on a fresh connection after a failure that happened
     * after it was sent, outside a transaction: reads, USE, ROLLBACK, BEGIN
     * and SET of session variables (idempotent). */
    bool retry_safe;
};

/* Classifies `len` bytes of `sql` (not NUL-terminated; may hold several
 * statements separated by ';', comments, executable comments), as the
 * server `server` would run it: which names are side-effect-free builtins,
 * rather than stored functions of the same name, depends on the server's
 * flavour and version. */
void classify_statement(const char *sql, size_t len, const struct server_profile *server,
                        struct statement_class *out);

/* For tests: the i-th name the classifier knows (its keywords, builtins
 * and syntax words), NULL past the last. The integration tests ask the
 * server under test whether each, called, is really what the classifier
 * takes it for. */
const char *statement_class_known_name(size_t i);

/* A short, static, human name of a state bit set, for logs: "temporary
 * tables", "user variables", ... (the lowest set bit). */
const char *unrestorable_state_name(unsigned bits);

#endif
