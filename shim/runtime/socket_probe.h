/* socket_probe.h - has the server closed this idle connection? */
#ifndef GONESHIM_SOCKET_PROBE_H
#define GONESHIM_SOCKET_PROBE_H

#include <stdbool.h>
#include <stdint.h>

/* Between commands the protocol never sends unsolicited bytes, so on an
 * idle, drained connection a non-blocking MSG_PEEK that returns 0 (FIN)
 * means the server is gone, and EAGAIN that nothing has arrived. Data is
 * most likely a farewell error packet, but over TLS it may be a record the
 * TLS library has not consumed (a session ticket): the caller confirms
 * with a ping rather than condemn a healthy connection. No round
 * trip, and nothing is consumed. A flow dropped silently (NAT) looks alive
 * here: that is what the idle ping is for. */
enum peer_state {
    PEER_QUIET,     /* nothing arrived: looks alive */
    PEER_CLOSED,    /* FIN, reset, or no socket */
    PEER_SENT_DATA, /* unsolicited bytes: a farewell error packet, or (TLS) a
                       record the TLS library has not read yet */
};

enum peer_state socket_peer_state(int fd);

/* Turns TCP keepalive on for a TCP socket, first probe after `idle_ns` of
 * silence, then three more a third of that apart, and bounds unanswered
 * data by the same total (TCP_USER_TIMEOUT): a flow that was dropped
 * silently is then found dead by the kernel, and the next peek sees it.
 * Leaves alone what is not TCP. Client libraries turn keepalive on with
 * the kernel's timings (two hours of silence): the operator's variable
 * asked for these instead. */
void socket_enable_keepalive(int fd, uint64_t idle_ns);

#endif
