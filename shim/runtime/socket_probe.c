/* socket_probe.c - the non-blocking peek. */
#include "socket_probe.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

void socket_enable_keepalive(int fd, uint64_t idle_ns)
{
    if (fd < 0 || idle_ns == 0)
        return;
    int saved = errno;
    struct sockaddr_storage addr = {0};
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0 &&
        (addr.ss_family == AF_INET || addr.ss_family == AF_INET6)) {
        int on = 1;
        int idle = (int)(idle_ns / 1000000000u);
        int interval = idle / 3 > 0 ? idle / 3 : 1;
        int count = 3;
        unsigned user_timeout_ms = (unsigned)(idle + count * interval) * 1000u;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
    }
    errno = saved;
}
