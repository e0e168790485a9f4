/* See net.h. */
#define _POSIX_C_SOURCE 200809L

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static struct addrinfo *resolve(const char *host, const char *port, int passive) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    struct addrinfo *list = NULL;
    if (getaddrinfo(host, port, &hints, &list) != 0) {
        return NULL;
    }
    return list;
}

int listen_on(const char *host, const char *port) {
    struct addrinfo *list = resolve(host ? host : "127.0.0.1", port, 1);
    int fd = -1;
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0 ||
            set_nonblocking(fd) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    return fd;
}

int connect_to(const char *host, const char *port) {
    struct addrinfo *list = resolve(host, port, 0);
    int fd = -1;
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    if (list != NULL) {
        freeaddrinfo(list);
    }
    if (fd >= 0) {
        /* Small frames (the handshake, pongs, close frames) should not wait for Nagle. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

int flush_output(wsm_conn *conn, int fd) {
    for (;;) {
        const uint8_t *data;
        size_t len;
        if (wsm_conn_pending_output(conn, &data, &len) != WSM_OK) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
        }
        /* A partial write is normal: the rest stays pending for the next POLLOUT. */
        if (wsm_conn_consume_output(conn, (size_t)n) != WSM_OK) {
            return -1;
        }
    }
}

int timeout_until(const wsm_conn *conn, uint64_t now) {
    uint64_t deadline;
    if (wsm_conn_poll_timeout(conn, &deadline) != WSM_OK || deadline == WSM_NO_TIMEOUT) {
        return -1;
    }
    if (deadline <= now) {
        return 0;
    }
    uint64_t wait = deadline - now;
    return wait > 60000 ? 60000 : (int)wait;
}

/* The self-pipe: the handler writes a byte, the poll loop sees the read end readable. */
static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_flag = 0;

static void on_stop_signal(int sig) {
    (void)sig;
    int saved = errno;
    stop_flag = 1;
    ssize_t ignored = write(stop_pipe[1], "x", 1);
    (void)ignored;
    errno = saved;
}

int watch_stop_signals(void) {
    if (pipe(stop_pipe) != 0 || set_nonblocking(stop_pipe[0]) != 0 ||
        set_nonblocking(stop_pipe[1]) != 0) {
        return -1;
    }
    fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        return -1;
    }
    return stop_pipe[0];
}

int stop_requested(void) {
    return stop_flag != 0;
}
