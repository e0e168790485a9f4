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
 * else "chat.v1", when the client offers it, else the first one the client offers (a
 * browser fails a connection whose offered subprotocols got no answer); the text message "close-me CODE REASON" makes
 * the server close with that code and reason instead of echoing it (a test hook); the exit
 * line counts the pongs clients sent. It prints
 * "listening on HOST:PORT" on stdout once ready; SIGINT or SIGTERM closes every client
 * with 1001 and exits 0 once they are gone (or after 3 s).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_loop.h"
#include "wsmachine.h"

#define MAX_MESSAGE ((size_t)64 << 20)

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

int main(int argc, char **argv) {
    const char *port = argc > 1 ? argv[1] : "9001";
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    uint64_t ping_ms = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000;

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

    struct server server = {.on_event = on_event};
    int status = serve(&server, host, port, config);
    wsm_server_config_free(config);
    if (status != 0) {
        return status;
    }
    fprintf(stderr, "echo server: served %lu connections, %lu pongs\n", server.served, pongs);
    return 0;
}
