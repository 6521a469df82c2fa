/* protocol.h - the numbers of the MySQL client/server protocol that goneshim
 * reasons about, spelled once.
 *
 * They are the protocol's, not a library's: libmariadb, mysqlnd and Oracle's
 * libmysqlclient report the same server status bits and error codes. The
 * names carry a GS_ prefix so that they never clash with the libraries' own
 * headers, which adapters include next to this one.
 */
#ifndef GONESHIM_PROTOCOL_H
#define GONESHIM_PROTOCOL_H

/* Server status flags, as every OK and EOF packet carries them. */
#define GS_STATUS_IN_TRANS 0x0001u      /* a transaction is open (work was done) */
#define GS_STATUS_AUTOCOMMIT 0x0002u
#define GS_STATUS_MORE_RESULTS 0x0008u  /* another result of a multi-statement follows */

/* Client-side error codes (errmsg.h): 2000 to 2999. Every other code is the
 * server's answer. */
#define GS_ER_CLIENT_FIRST 2000u
#define GS_ER_CLIENT_LAST 2999u
#define GS_ER_CONNECTION_ERROR 2002u /* socket refused or missing */
#define GS_ER_CONN_HOST_ERROR 2003u  /* TCP refused or timed out */
#define GS_ER_SERVER_GONE 2006u      /* "server has gone away" */
#define GS_ER_SERVER_LOST 2013u      /* "lost connection to server during query" */
#define GS_ER_SERVER_LOST_EXTENDED 2055u

/* Server error codes (mysqld_error.h). */
#define GS_ER_CON_COUNT 1040u          /* too many connections */
#define GS_ER_SERVER_SHUTDOWN 1053u
#define GS_ER_CONNECTION_KILLED 1927u  /* MariaDB */
#define GS_ER_NO_SUCH_THREAD 1094u     /* KILL of a connection that is gone */
#define GS_ER_XAER_RMFAIL 1399u        /* a command refused in the XA transaction's state */
#define GS_ER_CLIENT_INTERACTION_TIMEOUT 4031u /* MySQL 8.0.24+, before closing an idle connection */

/* The SQLSTATE of client errors, and of XAER_RMFAIL. */
#define GS_SQLSTATE_UNKNOWN "HY000"
#define GS_SQLSTATE_XA "XAE07"

#endif
