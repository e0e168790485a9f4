/*
 * broadcast_server: every message from one client goes to all the others (a chat room),
 * one thread, one poll() loop over wsmachine.
 *
 *   broadcast_server [PORT [HOST [PING_MS]]]      (defaults: 9002, 127.0.0.1, 20000)
 *
 * Text stays text and binary stays binary; the sender does not get its own message back.
 * Idle clients get keepalive pings. A client with more than 1 MiB of messages it has not
 * read yet is closed with 1008 ("too slow"), as the Rust chat server does: it would otherwise
 * miss messages without knowing, or make the server hold unbounded memory. PORT 0 picks a free port; it prints
 * "listening on HOST:PORT" on stdout once ready; SIGINT or SIGTERM closes every client
 * with 1001 and exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "server_loop.h"
#include "wsmachine.h"

#define MAX_MESSAGE ((size_t)1 << 20)
/* Unsent output past which a client is closed as too slow. */
#define MAX_BUFFERED ((size_t)1 << 20)
#define TOO_SLOW 1008

/* Passes a message from client `from` on to every other open client. */
static void on_event(struct server *server, struct server_client *from, const wsm_event *ev) {
    if (ev->kind != WSM_EVENT_TEXT && ev->kind != WSM_EVENT_BINARY) {
        return;
    }
    for (size_t i = 0; i < server->client_count; i++) {
        struct server_client *to = &server->clients[i];
        if (to == from || wsm_conn_state(to->conn) != WSM_STATE_OPEN) {
            continue;
        }
        /* A client that does not read is closed rather than silently skipped; its close
           frame waits behind what it has not read, and the engine's close timeout drops it
           if it never reads that either. */
        size_t waiting = wsm_conn_buffered_amount(to->conn);
        if (waiting > MAX_BUFFERED) {
            fprintf(stderr, "client %d too slow: %zu bytes waiting, closing with %d\n", to->fd,
                    waiting, TOO_SLOW);
            wsm_conn_close(to->conn, TOO_SLOW, "too slow: not reading");
            continue;
        }
        if (ev->kind == WSM_EVENT_TEXT) {
            wsm_conn_send_text(to->conn, (const char *)ev->data, ev->len);
        } else {
            wsm_conn_send_binary(to->conn, ev->data, ev->len);
        }
    }
}

int main(int argc, char **argv) {
    const char *port = argc > 1 ? argv[1] : "9002";
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    uint64_t ping_ms = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000;

    wsm_options *options = NULL;
    wsm_server_config *config = NULL;
    if (wsm_options_new(&options) != WSM_OK || wsm_server_config_new(&config) != WSM_OK ||
        wsm_options_set_max_message_size(options, MAX_MESSAGE) != WSM_OK ||
        wsm_options_set_max_frame_size(options, MAX_MESSAGE) != WSM_OK ||
        wsm_options_set_keepalive(options, ping_ms, ping_ms) != WSM_OK ||
        wsm_server_config_set_options(config, options) != WSM_OK) {
        fprintf(stderr, "cannot configure the server\n");
        return 1;
    }
    wsm_options_free(options); /* the configuration keeps its own copy */

    struct server server = {.on_event = on_event};
    int status = serve(&server, host, port, config);
    wsm_server_config_free(config);
    if (status != 0) {
        return status;
    }
    fprintf(stderr, "broadcast server: served %lu connections\n", server.served);
    return 0;
}
