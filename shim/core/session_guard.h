/* session_guard.h - the rules: is this handle alive, may this statement run,
 * reconnect, send again, or fail?
 *
 * Pure and backend-neutral: the driver (session_driver.c) turns what it
 * observes into these calls and carries out the answer, the same way for
 * every client library. Every decision goneshim takes about a connection is
 * taken here. No I/O, no allocation, no clock: time comes in as an argument
 * so the rules are unit-tested without a server.
 */
#ifndef GONESHIM_SESSION_GUARD_H
#define GONESHIM_SESSION_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socket_probe.h"
#include "statement_class.h"

struct goneshim_config;

/* Where an XA transaction of the handle is, as far as its answers tell. */
enum xa_state {
    XA_NONE,
    XA_ACTIVE,   /* XA START ... (and XA END): rolled back if the link dies */
    XA_PREPARED, /* XA PREPARE succeeded: it survives the link */
};

/* What the session's LAST_INSERT_ID() is, as far as the answers tell. */
enum insert_id_knowledge {
    INSERT_ID_NONE,      /* 0: nothing generated an id yet */
    INSERT_ID_EXACT,     /* `insert_id` is certainly the server's value */
    INSERT_ID_UNCERTAIN, /* `insert_id` (or an unknown value) may be it */
};

/* What the shim remembers about one connection handle. */
struct session_guard {
    /* The connection died inside a transaction. Every statement fails with
     * "gone away" until the application rolls back: nothing of the lost
     * transaction may run outside it, and its COMMIT must fail. */
    bool lost_transaction;
    /* ... and that transaction was a prepared XA transaction (or may have
     * been), which lives on in the server: only XA COMMIT or XA ROLLBACK
     * end it, and a plain ROLLBACK must not pretend otherwise. */
    bool xa_survives;
    enum xa_state xa;
    /* enum unrestorable_state bits the session holds (temporary tables,
     * user variables, ...): a lost connection is then reported once. */
    unsigned unrestorable;
    enum insert_id_knowledge insert_id_knowledge;
    unsigned long long insert_id;
    /* A reconnect could not restore LAST_INSERT_ID() exactly: the first
     * statement that reads it fails, once. */
    bool insert_id_stale;
    /* The application asked its client library for the library's own
     * reconnect (MYSQL_OPT_RECONNECT): it accepted that a reconnect loses
     * session state (user variables, temporary tables, what the previous
     * statement left), as the library's reconnect would, silently. goneshim
     * still reconnects its own way (and never splits a transaction), but
     * does not report those losses. */
    bool state_loss_accepted;
    /* Monotonic time the last statement was sent; drives the idle ping and
     * the busy-handle window. */
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
    REASON_COMMIT_UNKNOWN,    /* the link died under COMMIT: its outcome is unknown */
    REASON_XA_PREPARED,       /* a prepared XA transaction outlived its link */
    REASON_SESSION_STATE,     /* lost with unrestorable state: report once */
    REASON_PRIOR_RESULT,      /* reads what the previous statement left, lost with it */
    REASON_INSERT_ID_LOST,    /* reads LAST_INSERT_ID(), which a reconnect could not restore */
    REASON_NOT_RETRY_SAFE,    /* failed after send and may have run: report */
    REASON_RAN_TOO_LONG,      /* a read that died after running a while: not sent again */
    REASON_TOO_BIG_TO_RESEND, /* died while a big statement was sent: maybe refused for its size */
    REASON_REFUSED_THEN_CLOSED, /* the server answered with an error, then closed */
    REASON_ROLLBACK_OF_LOST,  /* ROLLBACK of a lost transaction: reconnect */
};

enum guard_action {
    GUARD_SEND,               /* send the statement as it is */
    GUARD_RECONNECT_AND_SEND, /* reconnect in place, restore, then send */
    GUARD_FAIL,               /* fail unsent: "server has gone away" (or, for a
                                 surviving XA transaction, the server's own
                                 XAER_RMFAIL) */
    GUARD_REPORT,             /* after a statement: return its result as is */
    GUARD_RECONNECT_AND_RETRY /* after a statement: reconnect, send again */
};

struct guard_decision {
    enum guard_action action;
    enum guard_reason reason;
    /* RECONNECT_AND_RETRY of a statement long enough that the server may
     * have refused it for its size: send it again only if the fresh
     * connection's max_allowed_packet takes it (guard_fits_packet). */
    bool only_if_it_fits;
    /* REASON_IN_TRANSACTION after a statement: nothing of it can have
     * outlived the link (it never reached the server, or it is a read), so
     * after a replay of its transaction it may be sent again. */
    bool resend_after_replay;
};

/* How the liveness of an idle, drained handle is checked before a
 * statement. The peek costs one non-blocking syscall and no round trip; the
 * ping, one round trip, only after GONESHIM_IDLE of inactivity. */
enum liveness_check { CHECK_NONE, CHECK_PEEK, CHECK_PEEK_AND_PING };

/* A handle whose previous statement was sent less than this long ago is
 * busy, not idle. Times come from the coarse clock, so in practice this
 * means "within the same clock tick" (1 to 4 ms, depending on the kernel). */
#define GUARD_BUSY_NS UINT64_C(1000000)

/* A statement whose link died later than this after it was sent is not sent
 * again, even a read: the server had been working on it (a client-side read
 * timeout fires after a second at the least; an operator's KILL of a
 * running query must not be undone by running it again). The death of an
 * idle link races a statement by microseconds, or by one network round
 * trip. */
#define GUARD_RESEND_WINDOW_NS (250 * UINT64_C(1000000))

/* The server refuses a statement longer than its max_allowed_packet (at
 * least 1 KiB) and closes the connection, which then looks like any other
 * death. A statement up to this long cannot have been refused for its
 * size; a longer one is sent again only after the fresh connection's
 * max_allowed_packet is known to take it (read then, on that rare path,
 * never on the statement path). */
#define GUARD_RESEND_SIZE_UNCHECKED 1023

/* `repeatable`: should this statement fail after it was sent because the
 * connection had died, the driver would send it again, unchanged, on a
 * fresh connection (it is retry-safe, the driver kept its text, and the
 * client library fails quietly; GONESHIM_RETRY_READS is checked here). */
enum liveness_check guard_liveness_check(const struct session_guard *g,
                                         const struct goneshim_config *cfg, uint64_t now_ns,
                                         bool drained, bool repeatable);

/* What a peek at an idle handle's socket means (`check` was not
 * CHECK_NONE). Unsolicited bytes are a farewell error packet, or on TLS
 * possibly a record the TLS library has not consumed yet: a ping tells
 * which, rather than condemn a healthy connection. */
enum peek_verdict { PEEK_ALIVE, PEEK_DEAD, PEEK_PING };
enum peek_verdict guard_peek_verdict(enum liveness_check check, enum peer_state peer);

/* A statement sent in two steps whose text is not kept (too long for the
 * fixed buffer): it cannot be sent again, and a SET or USE cannot be
 * recorded for the replay, so its session is then unrestorable. */
void guard_text_not_kept(struct statement_class *c);

/* A reconnect succeeded and the session was restored on it, or not.
 * The fresh connection is handed out only with the session the application
 * set up (autocommit, settings, LAST_INSERT_ID). A restore that failed
 * because the fresh link died under it (`link_lost`: a killer, a restart)
 * is one more failed attempt; one the server refused is final. */
enum restore_verdict {
    RESTORE_USE,       /* hand out the fresh connection */
    RESTORE_TRY_AGAIN, /* drop it; another attempt, within the budget */
    RESTORE_GIVE_UP,   /* drop it; the statement fails (the next tries again) */
};
enum restore_verdict guard_after_restore(bool restored, bool link_lost);

/* Before a statement. `dead_reason` is REASON_NONE when the handle looks
 * alive, else why it is known dead. `server_status`: the GS_STATUS_* bits
 * of the last answer. */
struct guard_decision guard_before_statement(struct session_guard *g,
                                             const struct statement_class *c,
                                             enum guard_reason dead_reason, unsigned server_status);

enum statement_outcome {
    OUTCOME_OK,           /* the server answered: success */
    OUTCOME_SERVER_ERROR, /* an error (the server's, or the library's own:
                             commands out of sync), the link lives */
    OUTCOME_LINK_LOST,    /* the link is gone (the library dropped it, or the
                             server closed it): the answer may be missing */
};

/* What happened to a statement, as the driver observed it. */
struct statement_result {
    enum statement_outcome outcome;
    bool while_sending;          /* LINK_LOST during the send itself */
    /* LINK_LOST after the server answered with an error (its last word
     * before it closed: a refusal, a KILL): the statement is settled. */
    bool answered;
    uint64_t elapsed_ns;         /* LINK_LOST: from the send to the failure */
    size_t length;               /* bytes of SQL text (0: a command) */
    unsigned status_before;      /* GS_STATUS_* when it was sent */
    bool retried;                /* this was already the one resend */
    /* OK: the insert id of the answer, and whether it is certainly the
     * server's new LAST_INSERT_ID() (statement_insert_id_certain). */
    unsigned long long insert_id;
    bool insert_id_exact;
};

/* After the statement ran. */
struct guard_decision guard_after_statement(struct session_guard *g,
                                            const struct statement_class *c,
                                            const struct statement_result *r,
                                            const struct goneshim_config *cfg, uint64_t now_ns);

/* After a statement that succeeded: guard_after_statement's OUTCOME_OK,
 * without the statement_result (the driver's hot path). */
void guard_after_success(struct session_guard *g, const struct statement_class *c,
                         unsigned long long insert_id, bool insert_id_exact, uint64_t now_ns);

/* A new connection replaced the old one in the handle (any reconnect, the
 * repair after a failure too). LAST_INSERT_ID() is carried over only when
 * it is known exactly (the driver restores it); otherwise the first
 * statement that reads it is failed once. */
void guard_link_replaced(struct session_guard *g);

/* A hidden reconnect succeeded: the new session holds nothing. Not called
 * for the repair after a failure inside a transaction: that transaction
 * stays lost until the application's ROLLBACK. */
void guard_session_renewed(struct session_guard *g, uint64_t now_ns);

/* The application started a new session on the handle itself (connect,
 * change_user, reset_connection): nothing of the old one carries over. */
void guard_session_started(struct session_guard *g, uint64_t now_ns);

/* The LAST_INSERT_ID() a reconnect must restore, or 0. */
unsigned long long guard_insert_id_to_restore(const struct session_guard *g);

/* ---- transaction replay ---- */

/* What the driver knows when a transaction has just been lost
 * (REASON_IN_TRANSACTION), for guard_replay_refusal. */
struct replay_facts {
    bool enabled;           /* GONESHIM_REPLAY, and the library can replay */
    bool recorded;          /* every statement of the transaction is recorded */
    bool rows_pending;      /* the last one's result set was not read (yet) */
    bool in_flight;         /* the statement that found the death was sent */
    bool resend_after_replay; /* guard_decision.resend_after_replay */
};

enum replay_refusal {
    REPLAY_GO = 0,
    REFUSE_OFF,             /* GONESHIM_REPLAY=0, or a library without replay */
    REFUSE_NOT_RECORDED,    /* the record says why (record_break_text) */
    REFUSE_XA,              /* an XA transaction */
    REFUSE_SESSION_STATE,   /* temporary tables, user variables, locks ... */
    REFUSE_STATE_ACCEPTED,  /* the application's own reconnect option is on */
    REFUSE_RESULT_UNREAD,   /* a result set the application had not read */
    REFUSE_MAY_HAVE_RUN,    /* the statement in flight may have run */
};

/* May the transaction just lost be replayed on a fresh connection? The
 * safety of the replay itself (every answer identical) is checked as it
 * runs; this is what rules it out beforehand. */
enum replay_refusal guard_replay_refusal(const struct session_guard *g, const struct replay_facts *f);

/* Before the replay: must the old session be killed? After a silent drop
 * it may still be alive and hold the transaction's locks. Connection ids
 * grow within a server's lifetime; a fresh one that is not larger means
 * the server restarted (the old session died with it), and the old id may
 * now name somebody else's connection. */
bool guard_kill_old_session(unsigned long long old_id, unsigned long long new_id);

/* The replay succeeded: the transaction goes on, on the fresh connection. */
void guard_transaction_replayed(struct session_guard *g);

const char *guard_replay_refusal_text(enum replay_refusal r);

/* Does a KILL statement (or the kill command) close the application's own
 * connection? `target_known`: the target is a connection id (`target`),
 * not a user or an expression; `query_only`: KILL QUERY; `link_gone`: the
 * link is closed now that the KILL returned. */
bool guard_kill_closes_own(bool target_known, unsigned long long target, bool query_only,
                           unsigned long long own_id, bool link_gone);

/* Does a statement of `length` bytes fit in a server's max_allowed_packet
 * (`max_packet`, its value as text; NULL when it could not be read)? */
bool guard_fits_packet(size_t length, const char *max_packet);

/* Is this connect failure worth another attempt (server down, restarting,
 * too many connections) rather than final (access denied, unknown db)? */
bool guard_is_transient_connect_error(unsigned error_code);

/* Delay before reconnect attempt `attempt` (0-based): exponential from
 * 50 ms, capped at 2 s, with jitter in [half, full] taken from `random`. */
uint64_t guard_backoff_ns(unsigned attempt, uint32_t random);

const char *guard_reason_text(enum guard_reason reason);

#endif
