/*
 * quickstart: the smallest complete use of the C API. A client and a server connection
 * talk in memory (no sockets): the bytes one produces are fed to the other, as a socket
 * would carry them. Prints the exchange and exits 0 when it went as expected.
 *
 *   cc -std=c11 quickstart.c $(pkg-config --cflags --libs wsmachine) -o quickstart
 */
#include <stdio.h>
#include <string.h>

#include "wsmachine.h"

/* Moves everything `from` has to write into `to`, as a socket would: into the buffer `to`
 * lends for reading (a real program passes it to recv); returns how many bytes moved. */
static size_t carry(wsm_conn *from, wsm_conn *to) {
    const uint8_t *data;
    size_t len;
    if (wsm_conn_pending_output(from, &data, &len) != WSM_OK || len == 0) {
        return 0;
    }
    uint8_t *room;
    size_t room_len;
    if (wsm_conn_receive_buffer(to, len, &room, &room_len) != WSM_OK) {
        return 0;
    }
    memcpy(room, data, len);
    wsm_conn_commit_received(to, len);
    wsm_conn_consume_output(from, len);
    return len;
}

/* Prints and returns the kind of every event waiting on `conn`; the server echoes text. */
static int drain(const char *who, wsm_conn *conn, int echo) {
    int seen_text = 0;
    wsm_event ev;
    while (wsm_conn_poll_event(conn, &ev) == WSM_OK && ev.kind != WSM_EVENT_NONE) {
        if (ev.kind == WSM_EVENT_TEXT) {
            printf("%s received: %.*s\n", who, (int)ev.len, (const char *)ev.data);
            seen_text = 1;
            if (echo) {
                wsm_conn_send_text(conn, (const char *)ev.data, ev.len);
            }
        } else if (ev.kind == WSM_EVENT_OPEN) {
            printf("%s: open\n", who);
        } else if (ev.kind == WSM_EVENT_CLOSED) {
            printf("%s: closed (clean=%d, code %u)\n", who, ev.clean, ev.code);
        }
    }
    return seen_text;
}

int main(void) {
    printf("wsmachine %s\n", wsm_version());
    wsm_client_config *cc = NULL;
    wsm_server_config *sc = NULL;
    wsm_conn *client = NULL, *server = NULL;
    wsm_result r = wsm_client_config_new("example.com", "/chat", &cc);
    if (r == WSM_OK) r = wsm_server_config_new(&sc);
    if (r == WSM_OK) r = wsm_conn_client_new(cc, &client);
    if (r == WSM_OK) r = wsm_conn_server_new(sc, &server);
    wsm_client_config_free(cc);
    wsm_server_config_free(sc);
    if (r != WSM_OK) {
        fprintf(stderr, "setup failed: %s\n", wsm_result_str(r));
        return 1;
    }

    int echoed = 0, sent = 0;
    for (int round = 0; round < 20; round++) {
        /* After every input: drain events, then write the output. */
        drain("server", server, 1);
        echoed |= drain("client", client, 0);
        if (!sent && wsm_conn_state(client) == WSM_STATE_OPEN) {
            const char *greeting = "Привет, сервер!";
            wsm_conn_send_text(client, greeting, strlen(greeting));
            sent = 1;
        }
        if (echoed && wsm_conn_state(client) == WSM_STATE_OPEN) {
            wsm_conn_close(client, 1000, "bye");
        }
        if (carry(client, server) + carry(server, client) == 0 &&
            wsm_conn_state(server) == WSM_STATE_CLOSED) {
            break;
        }
    }
    /* The server closed first; the client now sees the transport end. */
    wsm_conn_receive_eof(client);
    drain("client", client, 0);
    int ok = echoed && wsm_conn_state(client) == WSM_STATE_CLOSED;
    wsm_conn_free(client);
    wsm_conn_free(server);
    return ok ? 0 : 1;
}
