/*
 * client: connects to a WebSocket server, sends "Привет, сервер!", prints what arrives,
 * and closes cleanly once the greeting has come back.
 *
 *   client ws://HOST:PORT/PATH
 *
 * Exit status 0 only when the handshake succeeded, the greeting came back, and the closing
 * handshake completed (the server answered our close frame and ended the connection).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "wsmachine.h"

static const char GREETING[] = "Привет, сервер!";
/* The whole exchange must finish within this. */
#define DEADLINE_MS 15000

struct url {
    char host[256];
    char port[8];
    char path[1024];
};

/* Splits ws://host[:port][/path]; 0 on success. */
static int parse_url(const char *text, struct url *u) {
    const char *prefix = "ws://";
    if (strncmp(text, prefix, strlen(prefix)) != 0) {
        return -1;
    }
    const char *host = text + strlen(prefix);
    const char *path = strchr(host, '/');
    size_t authority_len = path ? (size_t)(path - host) : strlen(host);
    if (authority_len == 0 || authority_len >= sizeof u->host) {
        return -1;
    }
    char authority[256];
    memcpy(authority, host, authority_len);
    authority[authority_len] = '\0';
    char *colon = strrchr(authority, ':');
    if (colon != NULL) {
        *colon = '\0';
        snprintf(u->port, sizeof u->port, "%s", colon + 1);
    } else {
        snprintf(u->port, sizeof u->port, "80");
    }
    snprintf(u->host, sizeof u->host, "%s", authority);
    snprintf(u->path, sizeof u->path, "%s", path ? path : "/");
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s ws://host:port/path\n", argv[0]);
        return 2;
    }
    struct url url;
    if (parse_url(argv[1], &url) != 0) {
        fprintf(stderr, "not a ws:// URL: %s\n", argv[1]);
        return 2;
    }
    /* The Host header carries the port when it is not the default. */
    char host_header[300];
    if (strcmp(url.port, "80") == 0) {
        snprintf(host_header, sizeof host_header, "%s", url.host);
    } else {
        snprintf(host_header, sizeof host_header, "%s:%s", url.host, url.port);
    }

    wsm_client_config *config = NULL;
    wsm_conn *conn = NULL;
    wsm_result r = wsm_client_config_new(host_header, url.path, &config);
    if (r == WSM_OK) {
        r = wsm_conn_client_new(config, &conn);
    }
    wsm_client_config_free(config); /* the connection keeps its own copy */
    if (r != WSM_OK) {
        fprintf(stderr, "cannot start the client: %s\n", wsm_result_str(r));
        return 1;
    }
    int fd = connect_to(url.host, url.port);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s:%s: %s\n", url.host, url.port, strerror(errno));
        wsm_conn_free(conn);
        return 1;
    }

    int opened = 0, echoed = 0, clean = 0, done = 0;
    uint64_t start = now_ms();
    wsm_conn_handle_timeout(conn, start);
    while (!done) {
        /* Outputs first: events, then the bytes to write. */
        wsm_event ev;
        while (!done && wsm_conn_poll_event(conn, &ev) == WSM_OK && ev.kind != WSM_EVENT_NONE) {
            switch (ev.kind) {
            case WSM_EVENT_OPEN:
                opened = 1;
                printf("connected to %s%s\n", host_header, url.path);
                r = wsm_conn_send_text(conn, GREETING, strlen(GREETING));
                if (r != WSM_OK) {
                    fprintf(stderr, "send: %s\n", wsm_result_str(r));
                }
                printf("sent: %s\n", GREETING);
                break;
            case WSM_EVENT_TEXT:
                printf("received text: %.*s\n", (int)ev.len, (const char *)ev.data);
                if (!echoed && ev.len == strlen(GREETING) &&
                    memcmp(ev.data, GREETING, ev.len) == 0) {
                    echoed = 1;
                    wsm_conn_close(conn, 1000, "done");
                }
                break;
            case WSM_EVENT_BINARY:
                printf("received %zu bytes of binary\n", ev.len);
                break;
            case WSM_EVENT_PING:
                printf("received ping (%zu bytes)\n", ev.len);
                break;
            case WSM_EVENT_CLOSE:
                printf("server's close frame: code %u reason \"%.*s\"\n", ev.code, (int)ev.len,
                       (const char *)ev.data);
                break;
            case WSM_EVENT_ERROR:
                fprintf(stderr, "connection failed: %.*s\n", (int)ev.len, (const char *)ev.data);
                break;
            case WSM_EVENT_CLOSED:
                clean = ev.clean;
                printf("closed: clean=%d code=%u\n", ev.clean, ev.code);
                done = 1;
                break;
            default:
                break;
            }
        }
        /* Blocking socket: write everything pending (also the last close frame). */
        if (flush_output(conn, fd) < 0 || done) {
            break;
        }
        uint64_t now = now_ms();
        if (now - start > DEADLINE_MS) {
            fprintf(stderr, "timed out\n");
            break;
        }
        int timeout = timeout_until(conn, now);
        int left = (int)(DEADLINE_MS - (now - start));
        if (timeout < 0 || timeout > left) {
            timeout = left;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
        int ready = poll(&pfd, 1, timeout);
        if (ready < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        if (ready > 0) {
            /* Read straight into the connection's input buffer. */
            uint8_t *buf;
            size_t len;
            if (wsm_conn_receive_buffer(conn, 16384, &buf, &len) != WSM_OK) {
                break;
            }
            ssize_t n = recv(fd, buf, len, 0);
            if (n > 0) {
                wsm_conn_commit_received(conn, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                /* The server ended the connection: after our close, that completes it. */
                wsm_conn_receive_eof(conn);
            }
        }
        wsm_conn_handle_timeout(conn, now_ms());
    }
    close(fd);
    wsm_conn_free(conn);
    if (!opened) {
        fprintf(stderr, "the handshake did not complete\n");
    } else if (!echoed) {
        fprintf(stderr, "the greeting did not come back\n");
    } else if (!clean) {
        fprintf(stderr, "the close was not clean\n");
    }
    return opened && echoed && clean ? 0 : 1;
}
