/* socket_probe.c - the non-blocking peek. */
#include "socket_probe.h"

#include <errno.h>
#include <sys/socket.h>

enum peer_state socket_peer_state(int fd)
{
    if (fd < 0)
        return PEER_CLOSED;
    int saved = errno;
    char byte;
    ssize_t n;
    do
        n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    enum peer_state state = n > 0 ? PEER_SENT_DATA
                            : n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ? PEER_CLOSED
                                                                              : PEER_QUIET;
    errno = saved;
    return state;
}
