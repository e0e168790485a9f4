/*
 * echo_server: a WebSocket echo server in C over wsmachine, one thread, one poll() loop.
 *
 *   echo_server [PORT [HOST [PING_MS]]]      (defaults: 9001, 127.0.0.1, 20000)
 *
 * Every text and binary message comes back as the same kind; permessage-deflate is accepted
 * when a client offers it. Idle clients get keepalive pings every PING_MS and are dropped
 * when no pong follows within PING_MS. Limits fit the Autobahn TestSuite (messages up to
 * 64 MiB). PORT 0 picks a free port.
 *
 * Like the Rust echo server, for browsers and the peer tests: the subprotocol is "chat.v2",
 * else "chat.v1", when the client offers it; the text message "close-me CODE REASON" makes
 * the server close with that code and reason instead of echoing it (a test hook); the exit
 * line counts the pongs clients sent. It prints
 * "listening on HOST:PORT" on stdout once ready; SIGINT or SIGTERM closes every client
 * with 1001 and exits 0 once they are gone (or after 3 s).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "wsmachine.h"

#define MAX_MESSAGE ((size_t)64 << 20)
/* Stop reading from a client whose unsent output passes this: backpressure. */
#define MAX_BUFFERED ((size_t)8 << 20)
#define READ_CHUNK 65536
#define SHUTDOWN_GRACE_MS 3000
/* How long a closed connection may take to drain its last output before it is dropped. */
#define LINGER_MS 2000

struct client {
    int fd;
    wsm_conn *conn;
    int closed;         /* the engine reported WSM_EVENT_CLOSED: flush, then drop */
    uint64_t linger_until; /* once closed: drop by then even if output is left */
    int dead;           /* to be removed at the end of this round */
};

static struct client *clients = NULL;
static size_t client_count = 0, client_cap = 0;
static struct pollfd *pfds = NULL;
static unsigned long served = 0;
static unsigned long pongs = 0;

#define CLOSE_HOOK "close-me "

/* A text message "close-me CODE REASON" with a code a server may send: closes with it. */
static int close_hook(wsm_conn *conn, const char *text, size_t len) {
    size_t prefix = strlen(CLOSE_HOOK);
    char buf[160];
    if (len <= prefix || len >= sizeof buf || memcmp(text, CLOSE_HOOK, prefix) != 0) {
        return 0;
    }
    memcpy(buf, text + prefix, len - prefix);
    buf[len - prefix] = '\0';
    char *end = NULL;
    unsigned long code = strtoul(buf, &end, 10);
    if (end == buf || (*end != ' ' && *end != '\0')) {
        return 0;
    }
    const char *reason = *end == ' ' ? end + 1 : end;
    return wsm_conn_close(conn, (uint16_t)(code > 0xffff ? 0 : code), reason) == WSM_OK;
}

static int add_client(int fd, const wsm_server_config *config, uint64_t now) {
    if (client_count == client_cap) {
        size_t cap = client_cap ? client_cap * 2 : 64;
        struct client *grown = realloc(clients, cap * sizeof *grown);
        if (grown == NULL) {
            return -1;
        }
        clients = grown;
        struct pollfd *grown_pfds = realloc(pfds, (cap + 2) * sizeof *grown_pfds);
        if (grown_pfds == NULL) {
            return -1;
        }
        pfds = grown_pfds;
        client_cap = cap;
    }
    wsm_conn *conn = NULL;
    wsm_result r = wsm_conn_server_new(config, &conn);
    if (r != WSM_OK) {
        fprintf(stderr, "wsm_conn_server_new: %s\n", wsm_result_str(r));
        return -1;
    }
    /* Starts the handshake timer from now. */
    wsm_conn_handle_timeout(conn, now);
    clients[client_count++] =
        (struct client){.fd = fd, .conn = conn, .closed = 0, .linger_until = 0, .dead = 0};
    served++;
    return 0;
}

static void accept_clients(int listener, const wsm_server_config *config, uint64_t now) {
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
        if (set_nonblocking(fd) != 0 || add_client(fd, config, now) != 0) {
            close(fd);
        }
    }
}

/* Drains the client's events, echoing every message. */
static void handle_events(struct client *c) {
    wsm_event ev;
    while (wsm_conn_next_event(c->conn, &ev) == WSM_OK && ev.kind != WSM_EVENT_NONE) {
        switch (ev.kind) {
        case WSM_EVENT_TEXT:
            if (close_hook(c->conn, (const char *)ev.data, ev.len)) {
                break;
            }
            /* ev.data stays valid through this call; WRONG_STATE after a close is fine. */
            wsm_conn_send_text(c->conn, (const char *)ev.data, ev.len);
            break;
        case WSM_EVENT_PONG:
            pongs++;
            break;
        case WSM_EVENT_BINARY:
            wsm_conn_send_binary(c->conn, ev.data, ev.len);
            break;
        case WSM_EVENT_CLOSED:
            c->closed = 1;
            break;
        default:
            break;
        }
    }
}

/* Reads what the socket has (a bounded amount, for fairness) into the connection. */
static void read_input(struct client *c) {
    static uint8_t buf[READ_CHUNK];
    for (int round = 0; round < 4; round++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            wsm_conn_receive(c->conn, buf, (size_t)n);
            handle_events(c);
            if (wsm_conn_buffered_amount(c->conn) > MAX_BUFFERED) {
                return;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return;
        }
        /* 0: the peer closed; < 0: the transport failed. Either way it ended. */
        wsm_conn_receive_eof(c->conn);
        handle_events(c);
        return;
    }
}

static void remove_dead(void) {
    size_t kept = 0;
    for (size_t i = 0; i < client_count; i++) {
        if (clients[i].dead) {
            close(clients[i].fd);
            wsm_conn_free(clients[i].conn);
        } else {
            clients[kept++] = clients[i];
        }
    }
    client_count = kept;
}

int main(int argc, char **argv) {
    const char *port = argc > 1 ? argv[1] : "9001";
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    uint64_t ping_ms = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000;

    signal(SIGPIPE, SIG_IGN);
    int stop_fd = watch_stop_signals();
    if (stop_fd < 0) {
        perror("watch_stop_signals");
        return 1;
    }

    wsm_options *options = NULL;
    wsm_deflate *deflate = NULL;
    wsm_server_config *config = NULL;
    if (wsm_options_new(&options) != WSM_OK || wsm_server_config_new(&config) != WSM_OK ||
        wsm_deflate_new(&deflate) != WSM_OK ||
        wsm_options_set_max_message_size(options, MAX_MESSAGE) != WSM_OK ||
        wsm_options_set_max_frame_size(options, MAX_MESSAGE) != WSM_OK ||
        wsm_options_set_keepalive(options, ping_ms, ping_ms) != WSM_OK ||
        wsm_server_config_add_subprotocol(config, "chat.v2") != WSM_OK ||
        wsm_server_config_add_subprotocol(config, "chat.v1") != WSM_OK ||
        wsm_server_config_set_options(config, options) != WSM_OK ||
        /* permessage-deflate is accepted when a client offers it (default parameters). */
        wsm_server_config_set_deflate(config, deflate) != WSM_OK) {
        fprintf(stderr, "cannot configure the server\n");
        return 1;
    }
    /* The configuration keeps its own copies. */
    wsm_options_free(options);
    wsm_deflate_free(deflate);

    int listener = listen_on(host, port);
    if (listener < 0) {
        fprintf(stderr, "cannot listen on %s:%s\n", host, port);
        wsm_server_config_free(config);
        return 1;
    }
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &addr_len);
    unsigned bound_port = addr.ss_family == AF_INET6
                              ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                              : ntohs(((struct sockaddr_in *)&addr)->sin_port);
    printf("listening on %s:%u (wsmachine %s)\n", host, bound_port, wsm_version());
    fflush(stdout);

    pfds = malloc(2 * sizeof *pfds);
    uint64_t stop_deadline = 0;
    for (;;) {
        uint64_t now = now_ms();
        if (stop_requested() && listener >= 0) {
            /* Shutting down: stop accepting, close every client with 1001. */
            close(listener);
            listener = -1;
            stop_deadline = now + SHUTDOWN_GRACE_MS;
            for (size_t i = 0; i < client_count; i++) {
                wsm_conn_close(clients[i].conn, 1001, "server shutting down");
                handle_events(&clients[i]);
            }
        }
        if (listener < 0 && (client_count == 0 || now >= stop_deadline)) {
            break;
        }

        /* pfds[0]: the stop signals; pfds[1]: the listener; pfds[2 + i]: client i. */
        /* Once a stop was requested the pipe stays readable: stop watching it. */
        int watched = stop_requested() ? -1 : stop_fd;
        pfds[0] = (struct pollfd){.fd = watched, .events = POLLIN, .revents = 0};
        pfds[1] = (struct pollfd){.fd = listener, .events = POLLIN, .revents = 0};
        int timeout = listener < 0 ? 100 : -1;
        for (size_t i = 0; i < client_count; i++) {
            struct client *c = &clients[i];
            size_t buffered = wsm_conn_buffered_amount(c->conn);
            short events = 0;
            if (!c->closed && buffered <= MAX_BUFFERED) {
                events |= POLLIN;
            }
            if (buffered > 0) {
                events |= POLLOUT;
            }
            pfds[2 + i] = (struct pollfd){.fd = c->fd, .events = events, .revents = 0};
            int t = c->linger_until ? (c->linger_until > now ? (int)(c->linger_until - now) : 0)
                                    : timeout_until(c->conn, now);
            if (t >= 0 && (timeout < 0 || t < timeout)) {
                timeout = t;
            }
        }
        size_t polled = client_count;
        if (poll(pfds, (nfds_t)(polled + 2), timeout) < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        now = now_ms();
        for (size_t i = 0; i < polled; i++) {
            struct client *c = &clients[i];
            if (pfds[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
                read_input(c);
            }
            wsm_conn_handle_timeout(c->conn, now);
            handle_events(c);
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
        remove_dead();
        if (listener >= 0 && (pfds[1].revents & POLLIN)) {
            accept_clients(listener, config, now);
        }
    }

    for (size_t i = 0; i < client_count; i++) {
        clients[i].dead = 1;
    }
    remove_dead();
    free(clients);
    free(pfds);
    if (listener >= 0) {
        close(listener);
    }
    wsm_server_config_free(config);
    fprintf(stderr, "echo server: served %lu connections, %lu pongs\n", served, pongs);
    return 0;
}
