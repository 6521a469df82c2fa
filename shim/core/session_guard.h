/* session_guard.h - the rules: is this handle alive, may this statement run,
 * reconnect or fail?
 *
 * Pure and backend-neutral: every adapter (libmysqlclient, mysqlnd) turns
 * what it observes into these calls and carries out the answer. No rule
 * lives anywhere else. No I/O, no allocation, no clock: time comes in as an
 * argument so the rules are unit-tested without a server.
 */
#ifndef GONESHIM_SESSION_GUARD_H
#define GONESHIM_SESSION_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "statement_class.h"

struct goneshim_config;

/* What the shim remembers about one connection handle. */
struct session_guard {
    /* The connection died inside a transaction. Every statement fails with
     * "gone away" until the application rolls back: nothing of the lost
     * transaction may run outside it, and its COMMIT must fail. */
    bool lost_transaction;
    /* enum unrestorable_state bits the session holds (temporary tables,
     * user variables, ...): a lost connection is then reported once. */
    unsigned unrestorable;
    /* Monotonic time the last statement ended; drives the idle ping. */
    uint64_t last_used_ns;
};

/* Why a decision was taken: for the log line, and for tests. */
enum guard_reason {
    REASON_NONE = 0,
    REASON_PEER_CLOSED,       /* the peek saw FIN or an unsolicited packet */
    REASON_PING_FAILED,       /* idle ping got no answer */
    REASON_LIBRARY_DROPPED,   /* the client library already closed it */
    REASON_FAILED_AFTER_SEND, /* the statement was sent, then the link died */
    REASON_SEND_FAILED,       /* the link died while the statement was sent */
    REASON_IN_TRANSACTION,    /* lost inside a transaction: refuse */
    REASON_LOST_TRANSACTION,  /* still refusing until ROLLBACK */
    REASON_SESSION_STATE,     /* lost with unrestorable state: report once */
    REASON_NOT_RETRY_SAFE,    /* failed after send and may have run: report */
    REASON_ROLLBACK_OF_LOST,  /* ROLLBACK of a lost transaction: reconnect */
};

enum guard_action {
    GUARD_SEND,               /* send the statement as it is */
    GUARD_RECONNECT_AND_SEND, /* reconnect in place, restore, then send */
    GUARD_FAIL_GONE,          /* fail with "server has gone away", unsent */
    GUARD_REPORT,             /* after a statement: return its result as is */
    GUARD_RECONNECT_AND_RETRY /* after a statement: reconnect, send again */
};

struct guard_decision {
    enum guard_action action;
    enum guard_reason reason;
};

/* How the liveness of an idle, drained handle is checked before a
 * statement. The peek costs one non-blocking syscall and no round trip; the
 * ping, one round trip, only after GONESHIM_IDLE of inactivity. */
enum liveness_check { CHECK_NONE, CHECK_PEEK, CHECK_PEEK_AND_PING };

/* A handle whose previous statement ended less than this long ago is busy,
 * not idle. Times come from the coarse clock, so in practice this means
 * "within the same clock tick" (1 to 4 ms, depending on the kernel). */
#define GUARD_BUSY_NS UINT64_C(1000000)

/* `repeatable`: should this statement fail after it was sent because the
 * connection had died, the driver would send it again, unchanged, on a
 * fresh connection (it is retry-safe, the driver kept its text, and the
 * client library fails quietly; GONESHIM_RETRY_READS is checked here). */
enum liveness_check guard_liveness_check(const struct session_guard *g,
                                         const struct goneshim_config *cfg, uint64_t now_ns,
                                         bool drained, bool repeatable);

/* Before a statement. `dead_reason` is REASON_NONE when the handle looks
 * alive, else why it is known dead. `in_transaction` is the client
 * library's view (server status IN_TRANS) at this moment. */
struct guard_decision guard_before_statement(struct session_guard *g,
                                             const struct statement_class *c,
                                             enum guard_reason dead_reason, bool in_transaction);

enum statement_outcome {
    OUTCOME_OK,              /* the server answered: success */
    OUTCOME_SERVER_ERROR,    /* the server answered: an error */
    OUTCOME_CONNECTION_LOST, /* no answer: the connection died after send */
};

/* After the statement ran. `was_in_transaction`: at the time it was sent.
 * `retried`: this was already the one retry. */
struct guard_decision guard_after_statement(struct session_guard *g,
                                            const struct statement_class *c,
                                            enum statement_outcome outcome,
                                            bool was_in_transaction, bool retried,
                                            const struct goneshim_config *cfg, uint64_t now_ns);

/* A reconnect succeeded (or the application reset the session itself with
 * change_user/reset_connection): the new session holds nothing. Not called
 * for the repair after a failure inside a transaction: that transaction
 * stays lost until the application's ROLLBACK. */
void guard_session_renewed(struct session_guard *g, uint64_t now_ns);

/* Is this server or client error code "this connection is dead"? */
bool guard_is_connection_lost(unsigned error_code);

/* Is this connect failure worth another attempt (server down, restarting,
 * too many connections) rather than final (access denied, unknown db)? */
bool guard_is_transient_connect_error(unsigned error_code);

/* Delay before reconnect attempt `attempt` (0-based): exponential from
 * 50 ms, capped at 2 s, with jitter in [half, full] taken from `random`. */
uint64_t guard_backoff_ns(unsigned attempt, uint32_t random);

const char *guard_reason_text(enum guard_reason reason);

#endif
