/* See server_loop.h. */
#define _POSIX_C_SOURCE 200809L

#include "server_loop.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

#define READ_CHUNK 16384
#define SHUTDOWN_GRACE_MS 3000
/* How long a closed connection may take to drain its last output before it is dropped. */
#define LINGER_MS 2000

static int add_client(struct server *s, int fd, const wsm_server_config *config, uint64_t now) {
    if (s->client_count == s->client_cap) {
        size_t cap = s->client_cap ? s->client_cap * 2 : 64;
        struct server_client *grown = realloc(s->clients, cap * sizeof *grown);
        if (grown == NULL) {
            return -1;
        }
        s->clients = grown;
        struct pollfd *grown_pfds = realloc(s->pfds, (cap + 2) * sizeof *grown_pfds);
        if (grown_pfds == NULL) {
            return -1;
        }
        s->pfds = grown_pfds;
        s->client_cap = cap;
    }
    wsm_conn *conn = NULL;
    wsm_result r = wsm_conn_server_new(config, &conn);
    if (r != WSM_OK) {
        fprintf(stderr, "wsm_conn_server_new: %s\n", wsm_result_str(r));
        return -1;
    }
    /* Starts the handshake timer from now. */
    wsm_conn_handle_timeout(conn, now);
    s->clients[s->client_count++] = (struct server_client){
        .fd = fd, .conn = conn, .closed = 0, .linger_until = 0, .dead = 0, .accepted_ms = now};
    s->served++;
    return 0;
}

static void accept_clients(struct server *s, int listener, const wsm_server_config *config,
                           uint64_t now) {
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                perror("accept");
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (set_nonblocking(fd) != 0 || add_client(s, fd, config, now) != 0) {
            close(fd);
        }
    }
}

/* Drains the client's events: the loop notes the close, the server gets the rest. */
static void handle_events(struct server *s, struct server_client *c) {
    wsm_event ev;
    while (wsm_conn_poll_event(c->conn, &ev) == WSM_OK && ev.kind != WSM_EVENT_NONE) {
        if (ev.kind == WSM_EVENT_CLOSED) {
            c->closed = 1;
        } else {
            s->on_event(s, c, &ev);
        }
    }
}

/* Reads what the socket has (a bounded amount, for fairness) straight into the connection's
 * input buffer: no copy of our own. */
static void read_input(struct server *s, struct server_client *c) {
    for (int round = 0; round < 4; round++) {
        uint8_t *buf;
        size_t len;
        if (wsm_conn_receive_buffer(c->conn, READ_CHUNK, &buf, &len) != WSM_OK) {
            wsm_conn_receive_eof(c->conn);
            handle_events(s, c);
            return;
        }
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n > 0) {
            wsm_conn_commit_received(c->conn, (size_t)n);
            handle_events(s, c);
            if (wsm_conn_buffered_amount(c->conn) > SERVER_MAX_BUFFERED) {
                return;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return;
        }
        /* 0: the peer closed; < 0: the transport failed. Either way it ended. */
        wsm_conn_receive_eof(c->conn);
        handle_events(s, c);
        return;
    }
}

static void remove_dead(struct server *s) {
    size_t kept = 0;
    for (size_t i = 0; i < s->client_count; i++) {
        if (s->clients[i].dead) {
            close(s->clients[i].fd);
            wsm_conn_free(s->clients[i].conn);
        } else {
            s->clients[kept++] = s->clients[i];
        }
    }
    s->client_count = kept;
}

/* After a round of input and timers: writes what is pending, drops a finished client. */
static void flush_client(struct server *s, struct server_client *c, uint64_t now) {
    if (s->on_frame != NULL) {
        wsm_frame_info frame;
        while (wsm_conn_poll_frame(c->conn, &frame) == WSM_OK &&
               frame.direction != WSM_FRAME_NONE) {
            s->on_frame(s, c, &frame);
        }
    }
    if (flush_output(c->conn, c->fd) < 0) {
        c->dead = 1;
    } else if (c->closed && wsm_conn_buffered_amount(c->conn) == 0) {
        /* The server ends the TCP connection first (RFC 6455 §7.1.1). */
        c->dead = 1;
    } else if (c->closed) {
        /* A peer that stops reading must not hold the connection forever. */
        if (c->linger_until == 0) {
            c->linger_until = now + LINGER_MS;
        } else if (now >= c->linger_until) {
            c->dead = 1;
        }
    }
}

/* Prints the readiness line the tests and scripts wait for. */
static void announce(int listener, const char *host) {
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &addr_len);
    unsigned bound_port = addr.ss_family == AF_INET6
                              ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                              : ntohs(((struct sockaddr_in *)&addr)->sin_port);
    printf("listening on %s:%u (wsmachine %s)\n", host, bound_port, wsm_version());
    fflush(stdout);
}

int serve(struct server *s, const char *host, const char *port,
          const wsm_server_config *config) {
    signal(SIGPIPE, SIG_IGN);
    int stop_fd = watch_stop_signals();
    if (stop_fd < 0) {
        perror("watch_stop_signals");
        return 1;
    }
    int listener = listen_on(host, port);
    if (listener < 0) {
        fprintf(stderr, "cannot listen on %s:%s\n", host, port);
        return 1;
    }
    announce(listener, host);

    s->pfds = malloc(2 * sizeof *s->pfds);
    uint64_t stop_deadline = 0;
    for (;;) {
        uint64_t now = now_ms();
        if (stop_requested() && listener >= 0) {
            /* Shutting down: stop accepting, close every client with 1001. */
            close(listener);
            listener = -1;
            stop_deadline = now + SHUTDOWN_GRACE_MS;
            for (size_t i = 0; i < s->client_count; i++) {
                wsm_conn_close(s->clients[i].conn, 1001, "server shutting down");
                handle_events(s, &s->clients[i]);
            }
        }
        if (listener < 0 && (s->client_count == 0 || now >= stop_deadline)) {
            break;
        }

        /* pfds[0]: the stop signals; pfds[1]: the listener; pfds[2 + i]: client i. */
        /* Once a stop was requested the pipe stays readable: stop watching it. */
        int watched = stop_requested() ? -1 : stop_fd;
        s->pfds[0] = (struct pollfd){.fd = watched, .events = POLLIN, .revents = 0};
        s->pfds[1] = (struct pollfd){.fd = listener, .events = POLLIN, .revents = 0};
        int timeout = listener < 0 ? 100 : -1;
        for (size_t i = 0; i < s->client_count; i++) {
            struct server_client *c = &s->clients[i];
            size_t buffered = wsm_conn_buffered_amount(c->conn);
            short events = 0;
            if (!c->closed && buffered <= SERVER_MAX_BUFFERED) {
                events |= POLLIN;
            }
            if (buffered > 0) {
                events |= POLLOUT;
            }
            s->pfds[2 + i] = (struct pollfd){.fd = c->fd, .events = events, .revents = 0};
            int t = c->linger_until ? (c->linger_until > now ? (int)(c->linger_until - now) : 0)
                                    : timeout_until(c->conn, now);
            if (t >= 0 && (timeout < 0 || t < timeout)) {
                timeout = t;
            }
        }
        size_t polled = s->client_count;
        if (poll(s->pfds, (nfds_t)(polled + 2), timeout) < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        now = now_ms();
        for (size_t i = 0; i < polled; i++) {
            struct server_client *c = &s->clients[i];
            if (s->pfds[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
                read_input(s, c);
            }
            wsm_conn_handle_timeout(c->conn, now);
            handle_events(s, c);
            flush_client(s, c, now);
        }
        remove_dead(s);
        if (listener >= 0 && (s->pfds[1].revents & POLLIN)) {
            accept_clients(s, listener, config, now);
        }
    }

    for (size_t i = 0; i < s->client_count; i++) {
        s->clients[i].dead = 1;
    }
    remove_dead(s);
    free(s->clients);
    free(s->pfds);
    s->clients = NULL;
    s->pfds = NULL;
    s->client_cap = 0;
    if (listener >= 0) {
        close(listener);
    }
    return 0;
}
