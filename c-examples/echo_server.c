/*
 * echo_server: a WebSocket echo server in C over wsmachine, one thread, one poll() loop.
 *
 *   echo_server [--trace] [PORT [HOST [PING_MS]]]      (defaults: 9001, 127.0.0.1, 20000)
 *
 * Every text and binary message comes back as the same kind; permessage-deflate is accepted
 * when a client offers it. Idle clients get keepalive pings every PING_MS and are dropped
 * when no pong follows within PING_MS. Limits fit the Autobahn TestSuite (messages up to
 * 64 MiB). PORT 0 picks a free port.
 *
 * Like the Rust echo server, for browsers and the peer tests: the subprotocol is "chat.v2",
 * else "chat.v1", when the client offers it, else the first one the client offers (a
 * browser fails a connection whose offered subprotocols got no answer); the text message "close-me CODE REASON" makes
 * the server close with that code and reason instead of echoing it (a test hook); the exit
 * line counts the pongs clients sent. It prints
 * "listening on HOST:PORT" on stdout once ready; SIGINT or SIGTERM closes every client
 * with 1001 and exits 0 once they are gone (or after 3 s).
 *
 * --trace prints one line per frame each way on stderr (the engine's frame trace): the
 * client's address, the time since it was accepted, ↑ sent or ↓ received, opcode, FIN/RSV1,
 * payload length, masked or not, and a preview (text quoted, binary in hex, close frames as
 * code and reason), like the Rust echo server's --trace.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"
#include "server_loop.h"
#include "wsmachine.h"

#define MAX_MESSAGE ((size_t)64 << 20)
/* Inflated bytes all connections together may hold: two messages of the limit. */
#define INFLATE_BUDGET (2 * MAX_MESSAGE + ((size_t)1 << 20))

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

/* Echoes every message (unless the close hook takes it) and counts pongs. */
static void on_event(struct server *server, struct server_client *c, const wsm_event *ev) {
    (void)server;
    switch (ev->kind) {
    case WSM_EVENT_TEXT:
        if (close_hook(c->conn, (const char *)ev->data, ev->len)) {
            break;
        }
        /* ev->data stays valid through this call; WRONG_STATE after a close is fine. */
        wsm_conn_send_text(c->conn, (const char *)ev->data, ev->len);
        break;
    case WSM_EVENT_PONG:
        pongs++;
        break;
    case WSM_EVENT_BINARY:
        wsm_conn_send_binary(c->conn, ev->data, ev->len);
        break;
    default:
        break;
    }
}

static const char *opcode_name(uint8_t opcode) {
    switch (opcode) {
    case 0x0:
        return "CONT";
    case 0x1:
        return "TEXT";
    case 0x2:
        return "BINARY";
    case 0x8:
        return "CLOSE";
    case 0x9:
        return "PING";
    case 0xA:
        return "PONG";
    default:
        return "?";
    }
}

static void print_hex(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, i ? " %02x" : "%02x", p[i]);
    }
}

/* Text as a quoted string (quotes, backslashes and control bytes escaped). */
static void print_quoted(const uint8_t *p, size_t n) {
    fputc('"', stderr);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            fprintf(stderr, "\\%c", p[i]);
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            fprintf(stderr, "\\u{%x}", p[i]);
        } else {
            fputc(p[i], stderr);
        }
    }
    fputc('"', stderr);
}

/* --trace: one line per frame. */
static void on_frame(struct server *server, struct server_client *c, const wsm_frame_info *f) {
    (void)server;
    char peer[INET6_ADDRSTRLEN + 8] = "?";
    struct sockaddr_storage sa;
    socklen_t sa_len = sizeof sa;
    if (getpeername(c->fd, (struct sockaddr *)&sa, &sa_len) == 0 && sa.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(peer, sizeof peer, "%s:%u", ip, ntohs(in->sin_port));
    }
    uint64_t ms = now_ms() - c->accepted_ms;
    int rsv1 = (f->rsv & 4) != 0;
    const char *flags = f->fin ? (rsv1 ? "FIN RSV1" : "FIN") : (rsv1 ? "RSV1" : "-");
    fprintf(stderr, "%s %4llu.%03llus %s %-6s %-8s %6llu B %-8s ", peer,
            (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
            f->direction == WSM_FRAME_SENT ? "\xe2\x86\x91" : "\xe2\x86\x93",
            opcode_name(f->opcode), flags, (unsigned long long)f->payload_len,
            f->masked ? "masked" : "unmasked");
    const char *cut = f->payload_len > f->preview_len ? "\xe2\x80\xa6" : "";
    if (rsv1) {
        fputs("(compressed) ", stderr);
        print_hex(f->preview, f->preview_len);
    } else if (f->opcode == 0x8 && f->preview_len >= 2) {
        fprintf(stderr, "%u ", (unsigned)(f->preview[0] << 8 | f->preview[1]));
        print_quoted(f->preview + 2, f->preview_len - 2);
    } else if (f->opcode == 0x2) {
        print_hex(f->preview, f->preview_len);
    } else if (f->preview_len > 0 && f->opcode != 0x8) {
        print_quoted(f->preview, f->preview_len);
    }
    fprintf(stderr, "%s\n", cut);
}

int main(int argc, char **argv) {
    int trace = 0;
    /* --trace may come anywhere; the rest are positional. */
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trace") == 0) {
            trace = 1;
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        }
    }
    const char *port = pos[0] ? pos[0] : "9001";
    const char *host = pos[1] ? pos[1] : "127.0.0.1";
    uint64_t ping_ms = pos[2] ? strtoull(pos[2], NULL, 10) : 20000;

    wsm_options *options = NULL;
    wsm_deflate *deflate = NULL;
    wsm_inflate_budget *budget = NULL;
    wsm_server_config *config = NULL;
    if (wsm_options_new(&options) != WSM_OK || wsm_server_config_new(&config) != WSM_OK ||
        wsm_deflate_new(&deflate) != WSM_OK ||
        wsm_inflate_budget_new(INFLATE_BUDGET, &budget) != WSM_OK ||
        /* One budget for every connection: concurrent decompression bombs cost about
         * twice the limit, not once per bomb (a connection past it closes with 1013). */
        wsm_deflate_set_inflate_budget(deflate, budget) != WSM_OK ||
        wsm_options_set_max_message_size(options, MAX_MESSAGE) != WSM_OK ||
        wsm_options_set_max_frame_size(options, MAX_MESSAGE) != WSM_OK ||
        wsm_options_set_keepalive(options, ping_ms, ping_ms) != WSM_OK ||
        wsm_options_set_trace_frames(options, trace) != WSM_OK ||
        wsm_server_config_add_subprotocol(config, "chat.v2") != WSM_OK ||
        wsm_server_config_add_subprotocol(config, "chat.v1") != WSM_OK ||
        /* An echo server has no protocol of its own: it takes whatever a page offers. */
        wsm_server_config_set_subprotocol_policy(config, WSM_SUBPROTOCOL_FIRST_OFFERED) != WSM_OK ||
        wsm_server_config_set_options(config, options) != WSM_OK ||
        /* permessage-deflate is accepted when a client offers it (default parameters). */
        wsm_server_config_set_deflate(config, deflate) != WSM_OK) {
        fprintf(stderr, "cannot configure the server\n");
        return 1;
    }
    /* The configuration keeps its own copies. */
    wsm_options_free(options);
    wsm_deflate_free(deflate);
    wsm_inflate_budget_free(budget);

    struct server server = {.on_event = on_event, .on_frame = trace ? on_frame : NULL};
    int status = serve(&server, host, port, config);
    wsm_server_config_free(config);
    if (status != 0) {
        return status;
    }
    fprintf(stderr, "echo server: served %lu connections, %lu pongs\n", server.served, pongs);
    return 0;
}
