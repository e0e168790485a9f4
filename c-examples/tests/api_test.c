/*
 * api_test: drives the wsmachine C API directly, with both roles in memory.
 *
 * Covers every event kind, partial output writes, permessage-deflate, the peer's protocol errors (each with its
 * close code), handshake failures, NULL pointers and wrong-state calls (each with its
 * wsm_result), timers on a fake clock, and freeing handles in every state. Run it under
 * AddressSanitizer or valgrind to check memory as well.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wsmachine.h"

/* ----- helpers ----- */

/* A deterministic random source, counting its calls. */
struct fake_random {
    uint32_t state;
    int calls;
};

static void fake_fill(void *userdata, uint8_t *buf, size_t len) {
    struct fake_random *r = userdata;
    r->calls++;
    for (size_t i = 0; i < len; i++) {
        r->state = r->state * 1103515245u + 12345u;
        buf[i] = (uint8_t)(r->state >> 16);
    }
}

static struct fake_random rng = {1, 0};

/* Moves `from`'s pending output into `to`, `chunk` bytes at a time (partial writes). */
static size_t transfer(wsm_conn *from, wsm_conn *to, size_t chunk) {
    size_t moved = 0;
    for (;;) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_EQ(wsm_conn_pending_output(from, &data, &len), WSM_OK);
        if (len == 0) {
            return moved;
        }
        size_t n = len < chunk ? len : chunk;
        CHECK_EQ(wsm_conn_receive(to, data, n), WSM_OK);
        CHECK_EQ(wsm_conn_consume_output(from, n), WSM_OK);
        moved += n;
    }
}

/* Shuttles bytes both ways until both sides are quiet. */
static void shuttle(wsm_conn *a, wsm_conn *b, size_t chunk) {
    while (transfer(a, b, chunk) + transfer(b, a, chunk) > 0) {
    }
}

static wsm_event next(wsm_conn *conn) {
    wsm_event ev;
    memset(&ev, 0xAB, sizeof ev); /* the library must write the whole struct */
    CHECK_EQ(wsm_conn_poll_event(conn, &ev), WSM_OK);
    /* The header's promise: never NULL, an empty string when len is 0. */
    CHECK(ev.data != NULL);
    if (ev.data != NULL && ev.len == 0) {
        CHECK_EQ(ev.data[0], 0);
    }
    return ev;
}

/* Takes the next event and checks its kind. */
static wsm_event expect(wsm_conn *conn, wsm_event_kind kind) {
    wsm_event ev = next(conn);
    if (ev.kind != kind) {
        fprintf(stderr, "  expected event kind %d, got %d\n", (int)kind, (int)ev.kind);
    }
    CHECK_EQ(ev.kind, kind);
    return ev;
}

/* Discards `conn`'s pending output. */
static void drop_output(wsm_conn *conn) {
    CHECK_EQ(wsm_conn_consume_output(conn, wsm_conn_buffered_amount(conn)), WSM_OK);
}

static wsm_client_config *client_config(const wsm_options *options) {
    wsm_client_config *config = NULL;
    CHECK_EQ(wsm_client_config_new("example.com", "/chat", &config), WSM_OK);
    CHECK_EQ(wsm_client_config_add_subprotocol(config, "chat"), WSM_OK);
    CHECK_EQ(wsm_client_config_set_random(config, fake_fill, &rng), WSM_OK);
    if (options != NULL) {
        CHECK_EQ(wsm_client_config_set_options(config, options), WSM_OK);
    }
    return config;
}

static wsm_server_config *server_config(const wsm_options *options, bool defer) {
    wsm_server_config *config = NULL;
    CHECK_EQ(wsm_server_config_new(&config), WSM_OK);
    CHECK_EQ(wsm_server_config_add_subprotocol(config, "chat"), WSM_OK);
    CHECK_EQ(wsm_server_config_add_header(config, "X-Server", "wsmachine-test"), WSM_OK);
    CHECK_EQ(wsm_server_config_set_defer_accept(config, defer), WSM_OK);
    if (options != NULL) {
        CHECK_EQ(wsm_server_config_set_options(config, options), WSM_OK);
    }
    return config;
}

struct pair {
    wsm_conn *client;
    wsm_conn *server;
};

/* A client and a server, not yet connected. */
static struct pair new_pair(const wsm_options *client_opts, const wsm_options *server_opts) {
    struct pair p = {NULL, NULL};
    wsm_client_config *cc = client_config(client_opts);
    wsm_server_config *sc = server_config(server_opts, false);
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    /* Connections keep their own copies of the configurations. */
    wsm_client_config_free(cc);
    wsm_server_config_free(sc);
    return p;
}

/* A pair through the opening handshake, OPEN events taken. */
static struct pair open_pair(const wsm_options *client_opts, const wsm_options *server_opts) {
    struct pair p = new_pair(client_opts, server_opts);
    shuttle(p.client, p.server, 7);
    wsm_event ev = expect(p.server, WSM_EVENT_OPEN);
    CHECK_BYTES(ev.data, ev.len, "chat");
    ev = expect(p.client, WSM_EVENT_OPEN);
    CHECK_BYTES(ev.data, ev.len, "chat");
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_OPEN);
    CHECK_EQ(wsm_conn_state(p.server), WSM_STATE_OPEN);
    return p;
}

static void free_pair(struct pair p) {
    wsm_conn_free(p.client);
    wsm_conn_free(p.server);
}

/* Writes a frame: first byte b0, then the length, the mask (if masked) and the payload. */
static size_t frame(uint8_t *out, uint8_t b0, bool masked, const uint8_t *payload, size_t len) {
    size_t n = 0;
    out[n++] = b0;
    uint8_t mask_bit = masked ? 0x80 : 0;
    if (len < 126) {
        out[n++] = mask_bit | (uint8_t)len;
    } else {
        out[n++] = mask_bit | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    }
    const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) {
        memcpy(out + n, key, 4);
        n += 4;
    }
    for (size_t i = 0; i < len; i++) {
        out[n + i] = masked ? payload[i] ^ key[i % 4] : payload[i];
    }
    return n + len;
}

/* The close code of the close frame at the start of `conn`'s output (server: unmasked). */
static int output_close_code(const wsm_conn *conn) {
    const uint8_t *data;
    size_t len;
    CHECK_EQ(wsm_conn_pending_output(conn, &data, &len), WSM_OK);
    if (len < 4 || data[0] != 0x88) {
        return -1;
    }
    return (data[2] << 8) | data[3];
}

/* Whether `conn`'s output starts with `prefix`. */
static bool output_starts_with(const wsm_conn *conn, const char *prefix) {
    const uint8_t *data;
    size_t len;
    CHECK_EQ(wsm_conn_pending_output(conn, &data, &len), WSM_OK);
    return len >= strlen(prefix) && memcmp(data, prefix, strlen(prefix)) == 0;
}

/* Jumps the clock to `conn`'s next deadline and fires it; false when no timer runs. */
static bool advance(wsm_conn *conn, uint64_t *now) {
    uint64_t deadline = 0;
    CHECK_EQ(wsm_conn_poll_timeout(conn, &deadline), WSM_OK);
    if (deadline == WSM_NO_TIMEOUT) {
        return false;
    }
    if (deadline > *now) {
        *now = deadline;
    }
    CHECK_EQ(wsm_conn_handle_timeout(conn, *now), WSM_OK);
    return true;
}

/* ----- tests ----- */

static void test_version_and_result_strings(void) {
    const char *v = wsm_version();
    CHECK(v != NULL && v[0] >= '0' && v[0] <= '9' && strchr(v, '.') != NULL);
    const unsigned codes[] = {WSM_OK,
                              WSM_ERR_NULL_PARAMETER,
                              WSM_ERR_PANIC,
                              WSM_ERR_INVALID_UTF8,
                              WSM_ERR_INVALID_ARGUMENT,
                              WSM_ERR_NOT_FOUND,
                              WSM_ERR_WRONG_STATE,
                              WSM_ERR_CONTROL_PAYLOAD_TOO_LONG,
                              WSM_ERR_INVALID_CLOSE_CODE,
                              WSM_ERR_FRAGMENT_MISMATCH,
                              WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS,
                              WSM_ERR_INVALID_HEADER,
                              WSM_ERR_NO_PENDING_REQUEST,
                              WSM_ERR_SUBPROTOCOL_NOT_OFFERED,
                              WSM_ERR_NO_RANDOM_SOURCE,
                              WSM_ERR_INVALID_STATUS,
                              WSM_ERR_NOT_WEBSOCKET};
    const char *unknown = wsm_result_str(99999);
    CHECK(unknown != NULL && strstr(unknown, "unknown") != NULL);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = wsm_result_str(codes[i]);
        CHECK(s != NULL && strlen(s) > 3 && strcmp(s, unknown) != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(s, wsm_result_str(codes[j])) != 0);
        }
    }
    CHECK(strcmp(wsm_result_str(WSM_OK), "success") == 0);
}

static void test_handshake_messages_and_close(void) {
    rng.calls = 0;
    struct pair p = new_pair(NULL, NULL);
    CHECK(rng.calls > 0); /* the key came from our random source */
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_CONNECTING);
    CHECK(output_starts_with(p.client, "GET /chat HTTP/1.1\r\n"));
    CHECK_EQ(next(p.client).kind, WSM_EVENT_NONE);
    /* One byte at a time: every partial write is resumed. */
    shuttle(p.client, p.server, 1);
    expect(p.server, WSM_EVENT_OPEN);
    expect(p.client, WSM_EVENT_OPEN);
    const char *proto;
    size_t proto_len;
    CHECK_EQ(wsm_conn_subprotocol(p.client, &proto, &proto_len), WSM_OK);
    CHECK_BYTES(proto, proto_len, "chat");
    CHECK_EQ(wsm_conn_extensions(p.server, &proto, &proto_len), WSM_OK);
    CHECK_EQ(proto_len, 0); /* no extension was offered */

    const char *hello = "Привет, сервер!";
    CHECK_EQ(wsm_conn_send_text(p.client, hello, strlen(hello)), WSM_OK);
    CHECK(wsm_conn_buffered_amount(p.client) > strlen(hello));
    const uint8_t blob[] = {0, 1, 2, 255};
    CHECK_EQ(wsm_conn_send_binary(p.client, blob, sizeof blob), WSM_OK);
    CHECK_EQ(wsm_conn_send_binary(p.client, NULL, 0), WSM_OK);
    CHECK_EQ(wsm_conn_send_ping(p.client, (const uint8_t *)"p1", 2), WSM_OK);
    CHECK_EQ(wsm_conn_send_pong(p.client, (const uint8_t *)"u", 1), WSM_OK);
    shuttle(p.client, p.server, 5);
    wsm_event ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK_BYTES(ev.data, ev.len, hello);
    ev = expect(p.server, WSM_EVENT_BINARY);
    CHECK(ev.len == sizeof blob && memcmp(ev.data, blob, sizeof blob) == 0);
    ev = expect(p.server, WSM_EVENT_BINARY);
    CHECK(ev.len == 0 && ev.data != NULL);
    ev = expect(p.server, WSM_EVENT_PING);
    CHECK_BYTES(ev.data, ev.len, "p1");
    ev = expect(p.server, WSM_EVENT_PONG);
    CHECK_BYTES(ev.data, ev.len, "u");
    CHECK_EQ(next(p.server).kind, WSM_EVENT_NONE);
    /* Polling the ping queued the automatic pong. */
    shuttle(p.client, p.server, 5);
    ev = expect(p.client, WSM_EVENT_PONG);
    CHECK_BYTES(ev.data, ev.len, "p1");

    /* Echo from the server, passing the event's data straight back. */
    CHECK_EQ(wsm_conn_send_text(p.server, hello, strlen(hello)), WSM_OK);
    shuttle(p.client, p.server, 64);
    ev = expect(p.client, WSM_EVENT_TEXT);
    CHECK_EQ(wsm_conn_send_text(p.client, (const char *)ev.data, ev.len), WSM_OK);
    shuttle(p.client, p.server, 64);
    ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK_BYTES(ev.data, ev.len, hello);

    /* The closing handshake: the server closes TCP first, the client then sees EOF. */
    CHECK_EQ(wsm_conn_close(p.client, 1000, "bye"), WSM_OK);
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_CLOSING);
    shuttle(p.client, p.server, 3);
    ev = expect(p.server, WSM_EVENT_CLOSE);
    CHECK_EQ(ev.code, 1000);
    CHECK_BYTES(ev.data, ev.len, "bye");
    ev = expect(p.server, WSM_EVENT_CLOSED);
    CHECK(ev.clean);
    CHECK_EQ(ev.code, 1000);
    CHECK_EQ(wsm_conn_state(p.server), WSM_STATE_CLOSED);
    /* The server's answer was queued as it took the close frame. */
    shuttle(p.client, p.server, 3);
    ev = expect(p.client, WSM_EVENT_CLOSE);
    CHECK_EQ(ev.code, 1000);
    CHECK_BYTES(ev.data, ev.len, "bye"); /* the answer echoes the reason too */
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_CLOSING);
    CHECK_EQ(wsm_conn_receive_eof(p.client), WSM_OK);
    ev = expect(p.client, WSM_EVENT_CLOSED);
    CHECK(ev.clean);
    CHECK_EQ(ev.code, 1000);
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_CLOSED);
    uint64_t deadline = 0;
    CHECK_EQ(wsm_conn_poll_timeout(p.client, &deadline), WSM_OK);
    CHECK(deadline == WSM_NO_TIMEOUT);
    free_pair(p);
}

/* FIRST_OFFERED: a server with no protocol of its own takes the client's first offer;
   echo_close_reason off: the close answer carries the code alone. */
static void test_subprotocol_policy_and_close_reason(void) {
    wsm_server_config *sc = NULL;
    CHECK_EQ(wsm_server_config_new(&sc), WSM_OK);
    CHECK_EQ(wsm_server_config_set_subprotocol_policy(sc, 2), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_server_config_set_subprotocol_policy(sc, WSM_SUBPROTOCOL_LISTED), WSM_OK);
    CHECK_EQ(wsm_server_config_set_subprotocol_policy(sc, WSM_SUBPROTOCOL_FIRST_OFFERED), WSM_OK);
    wsm_options *o = NULL;
    CHECK_EQ(wsm_options_new(&o), WSM_OK);
    CHECK_EQ(wsm_options_set_echo_close_reason(o, false), WSM_OK);
    CHECK_EQ(wsm_server_config_set_options(sc, o), WSM_OK);
    wsm_client_config *cc = client_config(NULL); /* offers "chat" */
    struct pair p = {NULL, NULL};
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    wsm_client_config_free(cc);
    wsm_server_config_free(sc);
    wsm_options_free(o);
    shuttle(p.client, p.server, 64);
    wsm_event ev = expect(p.server, WSM_EVENT_OPEN);
    CHECK_BYTES(ev.data, ev.len, "chat");
    ev = expect(p.client, WSM_EVENT_OPEN);
    CHECK_BYTES(ev.data, ev.len, "chat");

    CHECK_EQ(wsm_conn_close(p.client, 4000, "bye"), WSM_OK);
    shuttle(p.client, p.server, 64);
    ev = expect(p.server, WSM_EVENT_CLOSE);
    CHECK_BYTES(ev.data, ev.len, "bye");
    const uint8_t *out;
    size_t len;
    CHECK_EQ(wsm_conn_pending_output(p.server, &out, &len), WSM_OK);
    const uint8_t answer[] = {0x88, 0x02, 0x0f, 0xa0}; /* 4000, no reason */
    CHECK(len == sizeof answer && memcmp(out, answer, sizeof answer) == 0);
    free_pair(p);
}

static void test_fragments(void) {
    struct pair p = open_pair(NULL, NULL);
    /* "Привет" split inside a two-byte code point, with a ping between fragments. */
    const char *word = "Привет";
    CHECK_EQ(wsm_conn_send_fragment(p.client, true, (const uint8_t *)word, 3, false), WSM_OK);
    CHECK_EQ(wsm_conn_send_ping(p.client, NULL, 0), WSM_OK);
    CHECK_EQ(wsm_conn_send_fragment(p.client, true, (const uint8_t *)word + 3, strlen(word) - 3,
                                    true),
             WSM_OK);
    CHECK_EQ(wsm_conn_send_fragment(p.client, false, (const uint8_t *)"ab", 2, false), WSM_OK);
    CHECK_EQ(wsm_conn_send_fragment(p.client, false, (const uint8_t *)"c", 1, true), WSM_OK);
    shuttle(p.client, p.server, 4);
    expect(p.server, WSM_EVENT_PING);
    wsm_event ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK_BYTES(ev.data, ev.len, word);
    ev = expect(p.server, WSM_EVENT_BINARY);
    CHECK_BYTES(ev.data, ev.len, "abc");
    free_pair(p);

    /* Streamed: each frame is its own event. */
    wsm_options *streaming = NULL;
    CHECK_EQ(wsm_options_new(&streaming), WSM_OK);
    CHECK_EQ(wsm_options_set_stream_fragments(streaming, true), WSM_OK);
    p = open_pair(NULL, streaming);
    wsm_options_free(streaming);
    CHECK_EQ(wsm_conn_send_fragment(p.client, true, (const uint8_t *)"he", 2, false), WSM_OK);
    CHECK_EQ(wsm_conn_send_fragment(p.client, true, (const uint8_t *)"llo", 3, true), WSM_OK);
    CHECK_EQ(wsm_conn_send_binary(p.client, (const uint8_t *)"xyz", 3), WSM_OK);
    shuttle(p.client, p.server, 100);
    ev = expect(p.server, WSM_EVENT_FRAGMENT);
    CHECK(ev.text && !ev.fin);
    CHECK_BYTES(ev.data, ev.len, "he");
    ev = expect(p.server, WSM_EVENT_FRAGMENT);
    CHECK(ev.text && ev.fin);
    CHECK_BYTES(ev.data, ev.len, "llo");
    ev = expect(p.server, WSM_EVENT_FRAGMENT);
    CHECK(!ev.text && ev.fin);
    CHECK_BYTES(ev.data, ev.len, "xyz");
    free_pair(p);
}

/* ----- the peer's protocol errors ----- */

struct bad_input {
    const char *name;
    uint8_t bytes[300];
    size_t len;
    int close_code;
};

static struct bad_input bad(const char *name, uint8_t b0, bool masked, const char *payload,
                            size_t len, int code) {
    struct bad_input b;
    b.name = name;
    b.len = frame(b.bytes, b0, masked, (const uint8_t *)payload, len);
    b.close_code = code;
    return b;
}

/* Feeds `bytes` to the side `victim` of an open pair and checks it fails with `code`. */
static void check_protocol_error(const char *name, bool victim_is_client, const uint8_t *bytes,
                                 size_t len, int code, const wsm_options *server_opts) {
    struct pair p = open_pair(NULL, server_opts);
    wsm_conn *victim = victim_is_client ? p.client : p.server;
    drop_output(victim);
    CHECK_EQ(wsm_conn_receive(victim, bytes, len), WSM_OK);
    wsm_event ev = next(victim);
    if (ev.kind != WSM_EVENT_ERROR || ev.code != code) {
        fprintf(stderr, "  case \"%s\": kind %d code %d, expected ERROR with %d\n", name,
                (int)ev.kind, (int)ev.code, code);
    }
    CHECK_EQ(ev.kind, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_PROTOCOL);
    CHECK_EQ(ev.code, code);
    CHECK(ev.len > 0); /* a description */
    ev = expect(victim, WSM_EVENT_CLOSED);
    CHECK(!ev.clean);
    CHECK_EQ(ev.code, code);
    CHECK_EQ(wsm_conn_state(victim), WSM_STATE_CLOSED);
    if (!victim_is_client) {
        /* The close frame with the error's code is queued for the peer. */
        CHECK_EQ(output_close_code(victim), code);
    }
    /* Sending after the failure is a wrong-state call. */
    CHECK_EQ(wsm_conn_send_text(victim, "x", 1), WSM_ERR_WRONG_STATE);
    free_pair(p);
}

static void test_protocol_errors_yield_their_close_codes(void) {
    char big[200];
    memset(big, 'a', sizeof big);
    struct bad_input cases[] = {
        bad("reserved opcode", 0x83, true, "", 0, 1002),
        bad("unmasked client frame", 0x81, false, "hi", 2, 1002),
        bad("RSV1 without an extension", 0xC1, true, "hi", 2, 1002),
        bad("invalid UTF-8 in text", 0x81, true, "\xff\xfe", 2, 1007),
        bad("control frame over 125 bytes", 0x89, true, big, 126, 1002),
        bad("fragmented control frame", 0x09, true, "", 0, 1002),
        bad("continuation without a message", 0x80, true, "x", 1, 1002),
        bad("close payload of one byte", 0x88, true, "\x03", 1, 1002),
        bad("close code 1005 on the wire", 0x88, true, "\x03\xed", 2, 1002),
        bad("close code 999", 0x88, true, "\x03\xe7", 2, 1002),
        bad("close reason not UTF-8", 0x88, true, "\x03\xe8\xff", 3, 1007),
        bad("frame over max_frame_size", 0x82, true, big, 200, 1009),
    };
    wsm_options *small = NULL;
    CHECK_EQ(wsm_options_new(&small), WSM_OK);
    CHECK_EQ(wsm_options_set_max_frame_size(small, 100), WSM_OK);
    CHECK_EQ(wsm_options_set_max_message_size(small, 150), WSM_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_protocol_error(cases[i].name, false, cases[i].bytes, cases[i].len,
                             cases[i].close_code, small);
    }

    /* A new message inside a fragmented one. */
    uint8_t bytes[256];
    size_t n = frame(bytes, 0x01, true, (const uint8_t *)"a", 1);
    n += frame(bytes + n, 0x81, true, (const uint8_t *)"b", 1);
    check_protocol_error("new message inside a fragmented one", false, bytes, n, 1002, NULL);

    /* Fragments that add up past max_message_size. */
    n = frame(bytes, 0x02, true, (const uint8_t *)big, 90);
    uint8_t more[128];
    size_t m = frame(more, 0x80, true, (const uint8_t *)big, 90);
    uint8_t both[512];
    memcpy(both, bytes, n);
    memcpy(both + n, more, m);
    check_protocol_error("message over max_message_size", false, both, n + m, 1009, small);
    wsm_options_free(small);

    /* A 64-bit length with the most significant bit set. */
    const uint8_t huge[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
    check_protocol_error("64-bit length with MSB set", false, huge, sizeof huge, 1002, NULL);

    /* A server must not mask. */
    n = frame(bytes, 0x81, true, (const uint8_t *)"hi", 2);
    check_protocol_error("masked server frame", true, bytes, n, 1002, NULL);

    /* Invalid UTF-8 split across fragments is caught by the second one. */
    n = frame(bytes, 0x01, true, (const uint8_t *)"\xd0", 1);
    n += frame(bytes + n, 0x80, true, (const uint8_t *)"A", 1);
    check_protocol_error("UTF-8 broken across fragments", false, bytes, n, 1007, NULL);
}

static void test_handshake_failures(void) {
    struct {
        const char *request;
        int status;
    } cases[] = {
        {"POST /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
         405},
        {"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
         426},
        {"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pair p = new_pair(NULL, NULL);
        const char *req = cases[i].request;
        CHECK_EQ(wsm_conn_receive(p.server, (const uint8_t *)req, strlen(req)), WSM_OK);
        wsm_event ev = expect(p.server, WSM_EVENT_ERROR);
        CHECK_EQ(ev.error, WSM_ERROR_HANDSHAKE);
        CHECK_EQ(ev.status, cases[i].status);
        expect(p.server, WSM_EVENT_CLOSED);
        char status_line[32];
        snprintf(status_line, sizeof status_line, "HTTP/1.1 %d", cases[i].status);
        CHECK(output_starts_with(p.server, status_line));
        free_pair(p);
    }

    /* A client answered with anything but 101 fails with that status. */
    struct pair p = new_pair(NULL, NULL);
    const char *answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ(wsm_conn_receive(p.client, (const uint8_t *)answer, strlen(answer)), WSM_OK);
    wsm_event ev = expect(p.client, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_HANDSHAKE);
    CHECK_EQ(ev.status, 404);
    ev = expect(p.client, WSM_EVENT_CLOSED);
    CHECK(!ev.clean);
    CHECK_EQ(ev.code, 1006);
    free_pair(p);

    /* The transport ending mid-handshake. */
    p = new_pair(NULL, NULL);
    CHECK_EQ(wsm_conn_receive_eof(p.client), WSM_OK);
    ev = expect(p.client, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_HANDSHAKE);
    expect(p.client, WSM_EVENT_CLOSED);
    free_pair(p);
}

static void test_deferred_accept(void) {
    wsm_client_config *cc = client_config(NULL);
    CHECK_EQ(wsm_client_config_add_header(cc, "X-Token", "42"), WSM_OK);
    CHECK_EQ(wsm_client_config_set_origin(cc, "https://example.com"), WSM_OK);
    wsm_server_config *sc = server_config(NULL, true);
    struct pair p = {NULL, NULL};
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    shuttle(p.client, p.server, 16);
    wsm_event ev = expect(p.server, WSM_EVENT_REQUEST);
    CHECK(ev.websocket);
    CHECK_BYTES(ev.data, ev.len, "/chat");
    const char *value;
    size_t len;
    CHECK_EQ(wsm_conn_request_header(p.server, "x-token", &value, &len), WSM_OK);
    CHECK_BYTES(value, len, "42");
    CHECK_EQ(wsm_conn_request_header(p.server, "Origin", &value, &len), WSM_OK);
    CHECK_BYTES(value, len, "https://example.com");
    CHECK_EQ(wsm_conn_request_header(p.server, "X-Missing", &value, &len), WSM_ERR_NOT_FOUND);
    CHECK_EQ(wsm_conn_accept(p.server, "other"), WSM_ERR_SUBPROTOCOL_NOT_OFFERED);
    CHECK_EQ(wsm_conn_reject(p.server, 200, NULL), WSM_ERR_INVALID_STATUS);
    CHECK_EQ(wsm_conn_accept(p.server, "chat"), WSM_OK);
    CHECK_EQ(wsm_conn_accept(p.server, "chat"), WSM_ERR_NO_PENDING_REQUEST);
    CHECK_EQ(wsm_conn_request_header(p.server, "x-token", &value, &len), WSM_ERR_NOT_FOUND);
    shuttle(p.client, p.server, 16);
    expect(p.server, WSM_EVENT_OPEN);
    ev = expect(p.client, WSM_EVENT_OPEN);
    CHECK_BYTES(ev.data, ev.len, "chat");
    free_pair(p);

    /* Rejected: the client sees the status. */
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    shuttle(p.client, p.server, 16);
    expect(p.server, WSM_EVENT_REQUEST);
    CHECK_EQ(wsm_conn_reject(p.server, 403, "go away"), WSM_OK);
    CHECK(output_starts_with(p.server, "HTTP/1.1 403"));
    shuttle(p.client, p.server, 16);
    ev = expect(p.client, WSM_EVENT_ERROR);
    CHECK_EQ(ev.status, 403);
    free_pair(p);

    /* Accepted with headers chosen for this request; bad ones leave the request waiting. */
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    shuttle(p.client, p.server, 16);
    expect(p.server, WSM_EVENT_REQUEST);
    const char *bad_names[] = {"Set-Cookie", "X-Split"};
    const char *bad_values[] = {"a=1", "x\r\nX-Injected: 1"};
    CHECK_EQ(wsm_conn_accept_with_headers(p.server, "chat", bad_names, bad_values, 2),
             WSM_ERR_INVALID_HEADER);
    const char *bad_name[] = {"Bad Name"};
    CHECK_EQ(wsm_conn_accept_with_headers(p.server, "chat", bad_name, bad_values, 1),
             WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_conn_accept_with_headers(p.server, "chat", NULL, bad_values, 1),
             WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_conn_buffered_amount(p.server), 0);
    const char *names[] = {"Set-Cookie", "X-Room"};
    const char *values[] = {"session=7; HttpOnly", "lobby"};
    CHECK_EQ(wsm_conn_accept_with_headers(p.server, "chat", names, values, 2), WSM_OK);
    CHECK_EQ(wsm_conn_accept_with_headers(p.server, NULL, NULL, NULL, 0),
             WSM_ERR_NO_PENDING_REQUEST);
    shuttle(p.client, p.server, 16);
    expect(p.server, WSM_EVENT_OPEN);
    expect(p.client, WSM_EVENT_OPEN);
    CHECK_EQ(wsm_conn_response_header(p.client, "set-cookie", &value, &len), WSM_OK);
    CHECK_BYTES(value, len, "session=7; HttpOnly");
    CHECK_EQ(wsm_conn_response_header(p.client, "x-room", &value, &len), WSM_OK);
    CHECK_BYTES(value, len, "lobby");
    CHECK_EQ(wsm_conn_response_header(p.client, "x-split", &value, &len), WSM_ERR_NOT_FOUND);
    free_pair(p);

    /* A plain GET can only be answered with a response. */
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    const char *get = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    CHECK_EQ(wsm_conn_receive(p.server, (const uint8_t *)get, strlen(get)), WSM_OK);
    ev = expect(p.server, WSM_EVENT_REQUEST);
    CHECK(!ev.websocket);
    CHECK_BYTES(ev.data, ev.len, "/index.html");
    CHECK_EQ(wsm_conn_accept(p.server, NULL), WSM_ERR_NOT_WEBSOCKET);
    CHECK_EQ(wsm_conn_respond(p.server, 204, "text/plain", NULL, 0), WSM_ERR_INVALID_STATUS);
    CHECK_EQ(wsm_conn_respond(p.server, 200, "text/plain", (const uint8_t *)"hi", 2), WSM_OK);
    CHECK(output_starts_with(p.server, "HTTP/1.1 200"));
    CHECK_EQ(wsm_conn_state(p.server), WSM_STATE_CLOSED);
    wsm_conn_free(p.server);

    wsm_client_config_free(cc);
    wsm_server_config_free(sc);
}

static void test_permessage_deflate(void) {
    wsm_deflate *d = NULL;
    CHECK_EQ(wsm_deflate_new(NULL), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_new(&d), WSM_OK);
    CHECK_EQ(wsm_deflate_set_level(d, 10), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_deflate_set_level(d, 9), WSM_OK);
    CHECK_EQ(wsm_deflate_set_server_max_window_bits(d, 7), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_deflate_set_client_max_window_bits(d, 16), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_deflate_set_client_max_window_bits(d, 12), WSM_OK);
    CHECK_EQ(wsm_deflate_set_server_no_context_takeover(d, true), WSM_OK);
    CHECK_EQ(wsm_deflate_set_client_no_context_takeover(d, false), WSM_OK);
    CHECK_EQ(wsm_deflate_set_min_size(d, 16), WSM_OK);
    CHECK_EQ(wsm_deflate_set_level(NULL, 1), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_set_min_size(NULL, 1), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_set_server_max_window_bits(NULL, 9), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_set_client_max_window_bits(NULL, 9), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_set_server_no_context_takeover(NULL, true), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_set_client_no_context_takeover(NULL, true), WSM_ERR_NULL_PARAMETER);

    wsm_client_config *cc = client_config(NULL);
    wsm_server_config *sc = server_config(NULL, false);
    CHECK_EQ(wsm_client_config_set_deflate(NULL, d), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_client_config_set_deflate(cc, NULL), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_server_config_set_deflate(NULL, d), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_server_config_set_deflate(sc, NULL), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_client_config_set_deflate(cc, d), WSM_OK);
    CHECK_EQ(wsm_server_config_set_deflate(sc, d), WSM_OK);
    wsm_deflate_free(d); /* the configurations keep their copies */
    wsm_deflate_free(NULL);
    struct pair p = {NULL, NULL};
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    wsm_client_config_free(cc);
    wsm_server_config_free(sc);
    shuttle(p.client, p.server, 9);
    expect(p.server, WSM_EVENT_OPEN);
    expect(p.client, WSM_EVENT_OPEN);
    const char *ext;
    size_t ext_len;
    CHECK_EQ(wsm_conn_extensions(p.client, &ext, &ext_len), WSM_OK);
    CHECK(ext_len >= 18 && memcmp(ext, "permessage-deflate", 18) == 0);

    /* A compressible message goes out compressed: RSV1 set, far fewer bytes. */
    char text[1000];
    memset(text, 'a', sizeof text);
    CHECK_EQ(wsm_conn_send_text(p.client, text, sizeof text), WSM_OK);
    const uint8_t *wire;
    size_t wire_len;
    CHECK_EQ(wsm_conn_pending_output(p.client, &wire, &wire_len), WSM_OK);
    CHECK(wire_len > 0 && wire_len < 100);
    CHECK_EQ(wire[0], 0xC1); /* FIN, RSV1, text */
    shuttle(p.client, p.server, 9);
    wsm_event ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK(ev.len == sizeof text && memcmp(ev.data, text, sizeof text) == 0);
    /* Echo it back, passing the event's data straight to the send. */
    CHECK_EQ(wsm_conn_send_text(p.server, (const char *)ev.data, ev.len), WSM_OK);
    shuttle(p.client, p.server, 9);
    ev = expect(p.client, WSM_EVENT_TEXT);
    CHECK(ev.len == sizeof text && memcmp(ev.data, text, sizeof text) == 0);
    /* Both ways again: context carried over (client) or reset (server) must both work. */
    CHECK_EQ(wsm_conn_send_text(p.client, text, sizeof text), WSM_OK);
    CHECK_EQ(wsm_conn_send_text(p.server, text, 500), WSM_OK);
    shuttle(p.client, p.server, 9);
    ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK_EQ(ev.len, sizeof text);
    ev = expect(p.client, WSM_EVENT_TEXT);
    CHECK_EQ(ev.len, 500);
    free_pair(p);
}

/* ----- handshakes done elsewhere ----- */

static void test_from_upgraded(void) {
    /* The accept key of RFC 6455 §1.3, and the key checks. */
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char accept[WSM_ACCEPT_KEY_LEN + 1];
    size_t n = 0;
    CHECK_EQ(wsm_accept_key((const uint8_t *)key, strlen(key), accept, sizeof accept, &n), WSM_OK);
    CHECK_EQ(n, WSM_ACCEPT_KEY_LEN);
    CHECK(strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK_EQ(wsm_accept_key((const uint8_t *)"dGhlIHNhbXBsZQ==", 16, accept, sizeof accept, &n),
             WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_accept_key((const uint8_t *)key, strlen(key), accept, WSM_ACCEPT_KEY_LEN, &n),
             WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_accept_key(NULL, 24, accept, sizeof accept, &n), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_accept_key((const uint8_t *)key, strlen(key), NULL, sizeof accept, &n),
             WSM_ERR_NULL_PARAMETER);

    /* The server answers a deflate offer; both ends start from what was negotiated. */
    wsm_deflate *d = NULL;
    CHECK_EQ(wsm_deflate_new(&d), WSM_OK);
    CHECK_EQ(wsm_deflate_set_server_max_window_bits(d, 10), WSM_OK);
    char answer[256];
    CHECK_EQ(wsm_deflate_answer(d, "x-unknown, permessage-deflate; client_max_window_bits", answer,
                                sizeof answer, &n),
             WSM_OK);
    CHECK(strcmp(answer, "permessage-deflate; server_max_window_bits=10") == 0);
    CHECK_EQ(n, strlen(answer));
    CHECK_EQ(wsm_deflate_answer(d, "x-unknown", answer, sizeof answer, &n), WSM_ERR_NOT_FOUND);
    CHECK_EQ(wsm_deflate_answer(d, "a; b=\"1", answer, sizeof answer, &n), WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_deflate_answer(d, "permessage-deflate", answer, 5, &n), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_deflate_answer(NULL, "permessage-deflate", answer, sizeof answer, &n),
             WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_deflate_answer(d, "permessage-deflate; server_max_window_bits=12", answer,
                                sizeof answer, &n),
             WSM_OK);

    struct pair p = {NULL, NULL};
    CHECK_EQ(wsm_conn_from_upgraded(WSM_ROLE_SERVER, NULL, "chat", answer, d, &p.server), WSM_OK);
    CHECK_EQ(wsm_conn_from_upgraded(WSM_ROLE_CLIENT, NULL, "chat", answer, NULL, &p.client), WSM_OK);
    wsm_deflate_free(d);
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_OPEN);
    wsm_event ev = expect(p.server, WSM_EVENT_OPEN);
    CHECK_BYTES(ev.data, ev.len, "chat");
    expect(p.client, WSM_EVENT_OPEN);
    const char *ext;
    size_t ext_len;
    CHECK_EQ(wsm_conn_extensions(p.server, &ext, &ext_len), WSM_OK);
    CHECK_BYTES(ext, ext_len, "permessage-deflate; server_max_window_bits=10");

    /* Messages cross both ways, compressed. */
    char text[600];
    memset(text, 'w', sizeof text);
    CHECK_EQ(wsm_conn_send_text(p.client, text, sizeof text), WSM_OK);
    const uint8_t *wire;
    size_t wire_len;
    CHECK_EQ(wsm_conn_pending_output(p.client, &wire, &wire_len), WSM_OK);
    CHECK(wire_len > 0 && wire_len < 100);
    CHECK_EQ(wire[0], 0xC1); /* FIN, RSV1, text */
    shuttle(p.client, p.server, 13);
    ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK(ev.len == sizeof text && memcmp(ev.data, text, sizeof text) == 0);
    CHECK_EQ(wsm_conn_send_binary(p.server, (const uint8_t *)"abc", 3), WSM_OK);
    shuttle(p.client, p.server, 13);
    ev = expect(p.client, WSM_EVENT_BINARY);
    CHECK_BYTES(ev.data, ev.len, "abc");
    free_pair(p);

    /* Without extensions or a subprotocol, with options. */
    wsm_options *o = NULL;
    CHECK_EQ(wsm_options_new(&o), WSM_OK);
    wsm_conn *c = NULL;
    CHECK_EQ(wsm_conn_from_upgraded(WSM_ROLE_SERVER, o, NULL, "", NULL, &c), WSM_OK);
    ev = expect(c, WSM_EVENT_OPEN);
    CHECK_EQ(ev.len, 0);
    wsm_conn_free(c);
    wsm_options_free(o);

    /* Bad arguments. */
    c = NULL;
    CHECK_EQ(wsm_conn_from_upgraded(7, NULL, NULL, NULL, NULL, &c), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_conn_from_upgraded(WSM_ROLE_CLIENT, NULL, NULL, "x-unknown", NULL, &c),
             WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_conn_from_upgraded(WSM_ROLE_CLIENT, NULL, NULL, "permessage-deflate; bogus", NULL,
                                    &c),
             WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_conn_from_upgraded(WSM_ROLE_SERVER, NULL, NULL, NULL, NULL, NULL),
             WSM_ERR_NULL_PARAMETER);
    CHECK(c == NULL);
}

/* ----- timers on a fake clock ----- */

static void test_keepalive_and_pong_timeout(void) {
    wsm_options *opts = NULL;
    CHECK_EQ(wsm_options_new(&opts), WSM_OK);
    CHECK_EQ(wsm_options_set_keepalive(opts, 1000, 500), WSM_OK);
    struct pair p = open_pair(NULL, opts);
    wsm_options_free(opts);
    uint64_t now = 0;
    /* Run the server's timers until it pings. */
    int guard = 0;
    while (wsm_conn_buffered_amount(p.server) == 0 && guard++ < 10) {
        CHECK(advance(p.server, &now));
    }
    CHECK(now >= 1000);
    shuttle(p.client, p.server, 64);
    wsm_event ev = expect(p.client, WSM_EVENT_PING);
    shuttle(p.client, p.server, 64);
    CHECK_EQ(next(p.server).kind, WSM_EVENT_PONG); /* the client answered */

    /* Now the client stops answering: the pong timeout fails the connection. */
    guard = 0;
    while (wsm_conn_buffered_amount(p.server) == 0 && guard++ < 10) {
        CHECK(advance(p.server, &now));
    }
    drop_output(p.server); /* the ping is lost */
    CHECK(advance(p.server, &now));
    ev = expect(p.server, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_PONG_TIMEOUT);
    CHECK_EQ(ev.code, 1011);
    ev = expect(p.server, WSM_EVENT_CLOSED);
    CHECK(!ev.clean);
    CHECK_EQ(output_close_code(p.server), 1011);
    free_pair(p);
}

static void test_close_and_handshake_timeouts(void) {
    wsm_options *opts = NULL;
    CHECK_EQ(wsm_options_new(&opts), WSM_OK);
    CHECK_EQ(wsm_options_set_close_timeout(opts, 300), WSM_OK);
    CHECK_EQ(wsm_options_set_handshake_timeout(opts, 200), WSM_OK);
    struct pair p = open_pair(opts, NULL);
    uint64_t now = 0;
    CHECK_EQ(wsm_conn_close(p.client, 1001, NULL), WSM_OK);
    /* The server never answers. */
    CHECK(advance(p.client, &now));
    CHECK(advance(p.client, &now));
    CHECK_EQ(now, 300);
    wsm_event ev = expect(p.client, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_CLOSE_TIMEOUT);
    ev = expect(p.client, WSM_EVENT_CLOSED);
    CHECK(!ev.clean);
    CHECK(!advance(p.client, &now));
    free_pair(p);

    /* A server that gets no request within the handshake timeout answers 408. */
    wsm_server_config *sc = server_config(opts, false);
    wsm_conn *server = NULL;
    CHECK_EQ(wsm_conn_server_new(sc, &server), WSM_OK);
    now = 5000;
    CHECK(advance(server, &now));
    CHECK(advance(server, &now));
    CHECK_EQ(now, 5200);
    ev = expect(server, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_HANDSHAKE);
    CHECK_EQ(ev.status, 408);
    expect(server, WSM_EVENT_CLOSED);
    CHECK(output_starts_with(server, "HTTP/1.1 408"));
    wsm_conn_free(server);
    wsm_server_config_free(sc);
    wsm_options_free(opts);
}

/* ----- the caller's mistakes ----- */

static void test_null_pointers(void) {
    const wsm_result NUL = WSM_ERR_NULL_PARAMETER;
    wsm_options *o = NULL;
    CHECK_EQ(wsm_options_new(NULL), NUL);
    CHECK_EQ(wsm_options_new(&o), WSM_OK);
    CHECK_EQ(wsm_options_set_max_frame_size(NULL, 1), NUL);
    CHECK_EQ(wsm_options_set_max_message_size(NULL, 1), NUL);
    CHECK_EQ(wsm_options_set_max_handshake_size(NULL, 1), NUL);
    CHECK_EQ(wsm_options_set_max_headers(NULL, 1), NUL);
    CHECK_EQ(wsm_options_set_keepalive(NULL, 1, 1), NUL);
    CHECK_EQ(wsm_options_set_close_timeout(NULL, 1), NUL);
    CHECK_EQ(wsm_options_set_handshake_timeout(NULL, 1), NUL);
    CHECK_EQ(wsm_options_set_auto_pong(NULL, true), NUL);
    CHECK_EQ(wsm_options_set_stream_fragments(NULL, true), NUL);
    CHECK_EQ(wsm_options_set_echo_close_reason(NULL, true), NUL);

    /* Outputs are left alone on failure. */
    wsm_client_config *cc = (wsm_client_config *)&rng;
    CHECK_EQ(wsm_client_config_new(NULL, "/", &cc), NUL);
    CHECK_EQ(wsm_client_config_new("h", NULL, &cc), NUL);
    CHECK(cc == (wsm_client_config *)&rng);
    CHECK_EQ(wsm_client_config_new("h", "/", NULL), NUL);
    CHECK_EQ(wsm_client_config_new("h", "/", &cc), WSM_OK);
    CHECK_EQ(wsm_client_config_set_origin(NULL, "o"), NUL);
    CHECK_EQ(wsm_client_config_set_origin(cc, NULL), NUL);
    CHECK_EQ(wsm_client_config_add_subprotocol(NULL, "p"), NUL);
    CHECK_EQ(wsm_client_config_add_subprotocol(cc, NULL), NUL);
    CHECK_EQ(wsm_client_config_add_header(NULL, "a", "b"), NUL);
    CHECK_EQ(wsm_client_config_add_header(cc, NULL, "b"), NUL);
    CHECK_EQ(wsm_client_config_add_header(cc, "a", NULL), NUL);
    CHECK_EQ(wsm_client_config_set_options(NULL, o), NUL);
    CHECK_EQ(wsm_client_config_set_options(cc, NULL), NUL);
    CHECK_EQ(wsm_client_config_set_random(NULL, fake_fill, NULL), NUL);
    CHECK_EQ(wsm_client_config_set_random(cc, NULL, NULL), WSM_OK); /* the OS's source */

    wsm_server_config *sc = NULL;
    CHECK_EQ(wsm_server_config_new(NULL), NUL);
    CHECK_EQ(wsm_server_config_new(&sc), WSM_OK);
    CHECK_EQ(wsm_server_config_add_subprotocol(NULL, "p"), NUL);
    CHECK_EQ(wsm_server_config_add_subprotocol(sc, NULL), NUL);
    CHECK_EQ(wsm_server_config_add_header(NULL, "a", "b"), NUL);
    CHECK_EQ(wsm_server_config_add_header(sc, NULL, "b"), NUL);
    CHECK_EQ(wsm_server_config_add_header(sc, "a", NULL), NUL);
    CHECK_EQ(wsm_server_config_set_options(NULL, o), NUL);
    CHECK_EQ(wsm_server_config_set_options(sc, NULL), NUL);
    CHECK_EQ(wsm_server_config_set_defer_accept(NULL, true), NUL);
    CHECK_EQ(wsm_server_config_set_subprotocol_policy(NULL, WSM_SUBPROTOCOL_LISTED), NUL);

    wsm_conn *c = NULL;
    CHECK_EQ(wsm_conn_client_new(NULL, &c), NUL);
    CHECK_EQ(wsm_conn_client_new(cc, NULL), NUL);
    CHECK_EQ(wsm_conn_server_new(NULL, &c), NUL);
    CHECK_EQ(wsm_conn_server_new(sc, NULL), NUL);
    CHECK(c == NULL);
    CHECK_EQ(wsm_conn_client_new(cc, &c), WSM_OK);

    uint8_t byte = 0;
    const uint8_t *data;
    size_t len;
    uint64_t t;
    wsm_event ev;
    const char *str;
    CHECK_EQ(wsm_conn_receive(NULL, &byte, 1), NUL);
    CHECK_EQ(wsm_conn_receive(c, NULL, 1), NUL);
    CHECK_EQ(wsm_conn_receive(c, NULL, 0), WSM_OK);
    CHECK_EQ(wsm_conn_receive_eof(NULL), NUL);
    CHECK_EQ(wsm_conn_handle_timeout(NULL, 0), NUL);
    CHECK_EQ(wsm_conn_poll_timeout(NULL, &t), NUL);
    CHECK_EQ(wsm_conn_poll_timeout(c, NULL), NUL);
    CHECK_EQ(wsm_conn_poll_event(NULL, &ev), NUL);
    CHECK_EQ(wsm_conn_poll_event(c, NULL), NUL);
    CHECK_EQ(wsm_conn_pending_output(NULL, &data, &len), NUL);
    CHECK_EQ(wsm_conn_pending_output(c, NULL, &len), NUL);
    CHECK_EQ(wsm_conn_pending_output(c, &data, NULL), NUL);
    CHECK_EQ(wsm_conn_consume_output(NULL, 0), NUL);
    CHECK_EQ(wsm_conn_buffered_amount(NULL), 0);
    CHECK_EQ(wsm_conn_state(NULL), WSM_STATE_CLOSED);
    CHECK_EQ(wsm_conn_send_text(NULL, "a", 1), NUL);
    CHECK_EQ(wsm_conn_send_text(c, NULL, 1), NUL);
    CHECK_EQ(wsm_conn_send_binary(NULL, &byte, 1), NUL);
    CHECK_EQ(wsm_conn_send_binary(c, NULL, 1), NUL);
    CHECK_EQ(wsm_conn_send_fragment(NULL, true, &byte, 1, true), NUL);
    CHECK_EQ(wsm_conn_send_fragment(c, true, NULL, 1, true), NUL);
    CHECK_EQ(wsm_conn_send_ping(NULL, &byte, 1), NUL);
    CHECK_EQ(wsm_conn_send_ping(c, NULL, 1), NUL);
    CHECK_EQ(wsm_conn_send_pong(NULL, &byte, 1), NUL);
    CHECK_EQ(wsm_conn_send_pong(c, NULL, 1), NUL);
    CHECK_EQ(wsm_conn_close(NULL, 1000, NULL), NUL);
    CHECK_EQ(wsm_conn_accept(NULL, NULL), NUL);
    CHECK_EQ(wsm_conn_reject(NULL, 400, NULL), NUL);
    CHECK_EQ(wsm_conn_respond(NULL, 200, "text/plain", NULL, 0), NUL);
    CHECK_EQ(wsm_conn_respond(c, 200, NULL, NULL, 0), NUL);
    CHECK_EQ(wsm_conn_respond(c, 200, "text/plain", NULL, 1), NUL);
    CHECK_EQ(wsm_conn_request_header(NULL, "Host", &str, &len), NUL);
    CHECK_EQ(wsm_conn_request_header(c, NULL, &str, &len), NUL);
    CHECK_EQ(wsm_conn_request_header(c, "Host", NULL, &len), NUL);
    CHECK_EQ(wsm_conn_request_header(c, "Host", &str, NULL), NUL);
    CHECK_EQ(wsm_conn_subprotocol(NULL, &str, &len), NUL);
    CHECK_EQ(wsm_conn_subprotocol(c, NULL, &len), NUL);
    CHECK_EQ(wsm_conn_subprotocol(c, &str, NULL), NUL);
    CHECK_EQ(wsm_conn_subprotocol(c, &str, &len), WSM_ERR_NOT_FOUND); /* not open yet */
    CHECK_EQ(wsm_conn_extensions(NULL, &str, &len), NUL);
    CHECK_EQ(wsm_conn_extensions(c, NULL, &len), NUL);
    CHECK_EQ(wsm_conn_extensions(c, &str, NULL), NUL);
    CHECK(wsm_result_str(NUL) != NULL);

    /* Freeing NULL does nothing. */
    wsm_options_free(NULL);
    wsm_client_config_free(NULL);
    wsm_server_config_free(NULL);
    wsm_conn_free(NULL);

    wsm_conn_free(c);
    wsm_client_config_free(cc);
    wsm_server_config_free(sc);
    wsm_options_free(o);
}

static void test_wrong_state_and_bad_arguments(void) {
    /* Not UTF-8, or characters HTTP forbids. */
    wsm_client_config *cc = NULL;
    CHECK_EQ(wsm_client_config_new("\xff", "/", &cc), WSM_ERR_INVALID_UTF8);
    CHECK_EQ(wsm_client_config_new("example.com", "/", &cc), WSM_OK);
    CHECK_EQ(wsm_client_config_add_header(cc, "Bad Name", "v"), WSM_OK);
    wsm_conn *c = NULL;
    CHECK_EQ(wsm_conn_client_new(cc, &c), WSM_ERR_INVALID_HEADER);
    CHECK(c == NULL);
    wsm_client_config_free(cc);
    /* A server's extra headers are checked as they are added: no response splitting. */
    wsm_server_config *sc = NULL;
    CHECK_EQ(wsm_server_config_new(&sc), WSM_OK);
    CHECK_EQ(wsm_server_config_add_header(sc, "X-Ok", "a\tb c"), WSM_OK);
    CHECK_EQ(wsm_server_config_add_header(sc, "X-Evil", "a\r\nInjected: 1"), WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_server_config_add_header(sc, "X-Evil", "a\nb"), WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_server_config_add_header(sc, "Bad Name", "v"), WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_server_config_add_header(sc, "X:Y", "v"), WSM_ERR_INVALID_HEADER);
    CHECK_EQ(wsm_server_config_add_header(sc, "", "v"), WSM_ERR_INVALID_HEADER);
    wsm_client_config *good = client_config(NULL);
    wsm_conn *srv = NULL;
    CHECK_EQ(wsm_conn_client_new(good, &c), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &srv), WSM_OK);
    transfer(c, srv, 64);
    const uint8_t *answer = NULL;
    size_t answer_len = 0;
    CHECK_EQ(wsm_conn_pending_output(srv, &answer, &answer_len), WSM_OK);
    char head[1024] = {0};
    memcpy(head, answer, answer_len < sizeof head - 1 ? answer_len : sizeof head - 1);
    CHECK(strstr(head, "\r\nX-Ok: a\tb c\r\n") != NULL);
    CHECK(strstr(head, "Injected") == NULL);
    shuttle(c, srv, 64);
    CHECK_EQ(next(srv).kind, WSM_EVENT_OPEN);
    CHECK_EQ(next(c).kind, WSM_EVENT_OPEN);
    wsm_conn_free(c);
    wsm_conn_free(srv);
    wsm_client_config_free(good);
    wsm_server_config_free(sc);
    c = NULL;

    struct pair p = new_pair(NULL, NULL);
    /* Before the handshake completes nothing may be sent. */
    CHECK_EQ(wsm_conn_send_text(p.client, "a", 1), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_send_binary(p.client, NULL, 0), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_send_ping(p.client, NULL, 0), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_close(p.client, 1000, NULL), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_accept(p.server, NULL), WSM_ERR_NO_PENDING_REQUEST);
    CHECK_EQ(wsm_conn_reject(p.server, 400, NULL), WSM_ERR_NO_PENDING_REQUEST);
    CHECK_EQ(wsm_conn_accept(p.client, NULL), WSM_ERR_NO_PENDING_REQUEST);
    /* Consuming more than is pending consumes nothing. */
    size_t pending = wsm_conn_buffered_amount(p.client);
    CHECK(pending > 0);
    CHECK_EQ(wsm_conn_consume_output(p.client, pending + 1), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_conn_buffered_amount(p.client), pending);
    shuttle(p.client, p.server, 32);
    expect(p.server, WSM_EVENT_OPEN);
    expect(p.client, WSM_EVENT_OPEN);

    uint8_t big[126];
    memset(big, 'x', sizeof big);
    CHECK_EQ(wsm_conn_send_text(p.client, "\xc3\x28", 2), WSM_ERR_INVALID_UTF8);
    CHECK_EQ(wsm_conn_send_ping(p.client, big, 126), WSM_ERR_CONTROL_PAYLOAD_TOO_LONG);
    CHECK_EQ(wsm_conn_send_pong(p.client, big, 126), WSM_ERR_CONTROL_PAYLOAD_TOO_LONG);
    CHECK_EQ(wsm_conn_send_ping(p.client, big, 125), WSM_OK);
    CHECK_EQ(wsm_conn_close(p.client, 1005, "reason"), WSM_ERR_INVALID_CLOSE_CODE);
    CHECK_EQ(wsm_conn_close(p.client, 1006, NULL), WSM_ERR_INVALID_CLOSE_CODE);
    CHECK_EQ(wsm_conn_close(p.client, 5000, NULL), WSM_ERR_INVALID_CLOSE_CODE);
    char long_reason[130];
    memset(long_reason, 'r', 124);
    long_reason[124] = '\0';
    CHECK_EQ(wsm_conn_close(p.client, 1000, long_reason), WSM_ERR_CONTROL_PAYLOAD_TOO_LONG);
    CHECK_EQ(wsm_conn_close(p.client, 1000, "\xff"), WSM_ERR_INVALID_UTF8);
    CHECK_EQ(wsm_conn_send_fragment(p.client, true, (const uint8_t *)"a", 1, false), WSM_OK);
    CHECK_EQ(wsm_conn_send_fragment(p.client, false, (const uint8_t *)"b", 1, true),
             WSM_ERR_FRAGMENT_MISMATCH);
    CHECK_EQ(wsm_conn_send_text(p.client, "c", 1), WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS);
    CHECK_EQ(wsm_conn_send_fragment(p.client, true, (const uint8_t *)"d", 1, true), WSM_OK);
    CHECK_EQ(wsm_conn_close(p.client, 4000, "app"), WSM_OK);
    /* After our close nothing more may be sent, not even a second close. */
    CHECK_EQ(wsm_conn_send_text(p.client, "e", 1), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_send_pong(p.client, NULL, 0), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_close(p.client, 1000, NULL), WSM_ERR_WRONG_STATE);
    shuttle(p.client, p.server, 32);
    expect(p.server, WSM_EVENT_PING);
    wsm_event ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK_BYTES(ev.data, ev.len, "ad");
    ev = expect(p.server, WSM_EVENT_CLOSE);
    CHECK_EQ(ev.code, 4000);
    CHECK_BYTES(ev.data, ev.len, "app");
    ev = expect(p.server, WSM_EVENT_CLOSED);
    CHECK(ev.clean);
    CHECK_EQ(wsm_conn_send_text(p.server, "f", 1), WSM_ERR_WRONG_STATE);
    CHECK_EQ(wsm_conn_close(p.server, 1000, NULL), WSM_ERR_WRONG_STATE);
    /* Input after the end is ignored. */
    CHECK_EQ(wsm_conn_receive(p.server, (const uint8_t *)"junk", 4), WSM_OK);
    CHECK_EQ(next(p.server).kind, WSM_EVENT_NONE);
    free_pair(p);
}

/* ----- ownership ----- */

static void test_free_in_every_state(void) {
    /* Connecting: the request unsent, a request half received. */
    struct pair p = new_pair(NULL, NULL);
    const uint8_t *req;
    size_t req_len;
    CHECK_EQ(wsm_conn_pending_output(p.client, &req, &req_len), WSM_OK);
    CHECK_EQ(wsm_conn_receive(p.server, req, req_len / 2), WSM_OK);
    free_pair(p);

    /* Deferred accept with a request waiting for an answer. */
    wsm_client_config *cc = client_config(NULL);
    wsm_server_config *sc = server_config(NULL, true);
    CHECK_EQ(wsm_conn_client_new(cc, &p.client), WSM_OK);
    CHECK_EQ(wsm_conn_server_new(sc, &p.server), WSM_OK);
    shuttle(p.client, p.server, 64);
    expect(p.server, WSM_EVENT_REQUEST);
    free_pair(p);
    wsm_client_config_free(cc);
    wsm_server_config_free(sc);

    /* Open, with events and output not taken, a fragmented message half received, and an
       event's data still borrowed. */
    p = open_pair(NULL, NULL);
    CHECK_EQ(wsm_conn_send_text(p.client, "one", 3), WSM_OK);
    CHECK_EQ(wsm_conn_send_text(p.client, "two", 3), WSM_OK);
    CHECK_EQ(wsm_conn_send_fragment(p.client, false, (const uint8_t *)"half", 4, false), WSM_OK);
    transfer(p.client, p.server, 1000);
    expect(p.server, WSM_EVENT_TEXT);
    CHECK_EQ(wsm_conn_send_binary(p.server, (const uint8_t *)"unsent", 6), WSM_OK);
    free_pair(p);

    /* Closing. */
    p = open_pair(NULL, NULL);
    CHECK_EQ(wsm_conn_close(p.client, 1000, "closing"), WSM_OK);
    CHECK_EQ(wsm_conn_state(p.client), WSM_STATE_CLOSING);
    free_pair(p);

    /* Closed, after a failure, with the error event taken. */
    p = open_pair(NULL, NULL);
    const uint8_t junk[] = {0x83, 0x80, 1, 2, 3, 4};
    CHECK_EQ(wsm_conn_receive(p.server, junk, sizeof junk), WSM_OK);
    wsm_event ev = expect(p.server, WSM_EVENT_ERROR);
    CHECK(ev.len > 0);
    CHECK_EQ(wsm_conn_state(p.server), WSM_STATE_CLOSED);
    free_pair(p);

    /* Options and configurations freed while connections made from them live on. */
    wsm_options *o = NULL;
    CHECK_EQ(wsm_options_new(&o), WSM_OK);
    CHECK_EQ(wsm_options_set_max_headers(o, 10), WSM_OK);
    CHECK_EQ(wsm_options_set_max_handshake_size(o, 4096), WSM_OK);
    CHECK_EQ(wsm_options_set_auto_pong(o, false), WSM_OK);
    p = new_pair(o, o);
    wsm_options_free(o);
    shuttle(p.client, p.server, 64);
    expect(p.server, WSM_EVENT_OPEN);
    expect(p.client, WSM_EVENT_OPEN);
    /* auto_pong off: the ping is reported and nothing is answered. */
    CHECK_EQ(wsm_conn_send_ping(p.client, (const uint8_t *)"?", 1), WSM_OK);
    transfer(p.client, p.server, 64);
    expect(p.server, WSM_EVENT_PING);
    CHECK_EQ(wsm_conn_buffered_amount(p.server), 0);
    free_pair(p);
}

/* The one-copy input: bytes written into the buffer wsm_conn_receive_buffer lends and
 * committed arrive as by wsm_conn_receive, in pieces of any size; a commit larger than the
 * buffer, or after another call, takes nothing. */
static void test_receive_buffer(void) {
    struct pair p = open_pair(NULL, NULL);
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)(i * 13);
    }
    CHECK_EQ(wsm_conn_send_binary(p.client, big, sizeof big), WSM_OK);
    CHECK_EQ(wsm_conn_send_text(p.client, "after", 5), WSM_OK);
    const uint8_t *out;
    size_t out_len;
    CHECK_EQ(wsm_conn_pending_output(p.client, &out, &out_len), WSM_OK);
    size_t at = 0, reads = 0;
    while (at < out_len) {
        uint8_t *room = NULL;
        size_t room_len = 0;
        CHECK_EQ(wsm_conn_receive_buffer(p.server, 1000, &room, &room_len), WSM_OK);
        CHECK(room != NULL && room_len >= 1000);
        size_t n = out_len - at < room_len ? out_len - at : room_len;
        memcpy(room, out + at, n);
        CHECK_EQ(wsm_conn_commit_received(p.server, n), WSM_OK);
        at += n;
        reads++;
    }
    CHECK_EQ(wsm_conn_consume_output(p.client, out_len), WSM_OK);
    /* The buffer grew with the frame: far fewer reads than 1000-byte pieces would take. */
    CHECK(reads < 40);
    wsm_event ev = expect(p.server, WSM_EVENT_BINARY);
    CHECK(ev.len == sizeof big && memcmp(ev.data, big, sizeof big) == 0);
    ev = expect(p.server, WSM_EVENT_TEXT);
    CHECK_BYTES(ev.data, ev.len, "after");

    uint8_t *room = NULL;
    size_t room_len = 0;
    CHECK_EQ(wsm_conn_receive_buffer(p.server, 16, &room, &room_len), WSM_OK);
    CHECK_EQ(wsm_conn_commit_received(p.server, room_len + 1), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_conn_receive_buffer(p.server, 16, &room, &room_len), WSM_OK);
    CHECK_EQ(wsm_conn_receive(p.server, NULL, 0), WSM_OK);
    CHECK_EQ(wsm_conn_commit_received(p.server, 1), WSM_ERR_INVALID_ARGUMENT);
    CHECK_EQ(wsm_conn_receive_buffer(NULL, 16, &room, &room_len), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_conn_receive_buffer(p.server, 16, NULL, &room_len), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_conn_commit_received(NULL, 0), WSM_ERR_NULL_PARAMETER);
    wsm_event none;
    CHECK_EQ(wsm_conn_poll_event(p.server, &none), WSM_OK);
    CHECK_EQ(none.kind, WSM_EVENT_NONE);
    free_pair(p);
}

/* The frame trace: one record per frame each way, unmasked previews, nothing when off. */
static void test_frame_trace(void) {
    wsm_options *o = NULL;
    CHECK_EQ(wsm_options_new(&o), WSM_OK);
    CHECK_EQ(wsm_options_set_trace_frames(o, true), WSM_OK);
    struct pair p = open_pair(o, o);
    wsm_options_free(o);
    wsm_frame_info f;
    CHECK_EQ(wsm_conn_poll_frame(p.client, &f), WSM_OK);
    CHECK_EQ(f.direction, WSM_FRAME_NONE); /* the handshake is no frame */

    CHECK_EQ(wsm_conn_send_text(p.client, "hello", 5), WSM_OK);
    CHECK_EQ(wsm_conn_poll_frame(p.client, &f), WSM_OK);
    CHECK_EQ(f.direction, WSM_FRAME_SENT);
    CHECK_EQ(f.opcode, 0x1);
    CHECK(f.fin && f.masked && f.rsv == 0);
    CHECK_EQ(f.payload_len, 5);
    CHECK_BYTES(f.preview, f.preview_len, "hello");
    transfer(p.client, p.server, 64);
    expect(p.server, WSM_EVENT_TEXT);
    CHECK_EQ(wsm_conn_poll_frame(p.server, &f), WSM_OK);
    CHECK_EQ(f.direction, WSM_FRAME_RECEIVED);
    CHECK(f.masked);
    CHECK_BYTES(f.preview, f.preview_len, "hello"); /* unmasked */

    /* A long payload: 32 bytes of preview, the whole length. */
    uint8_t big[300];
    memset(big, 'x', sizeof big);
    CHECK_EQ(wsm_conn_send_binary(p.server, big, sizeof big), WSM_OK);
    CHECK_EQ(wsm_conn_poll_frame(p.server, &f), WSM_OK);
    CHECK_EQ(f.direction, WSM_FRAME_SENT);
    CHECK_EQ(f.opcode, 0x2);
    CHECK(!f.masked);
    CHECK_EQ(f.payload_len, 300);
    CHECK_EQ(f.preview_len, WSM_FRAME_PREVIEW_MAX);
    CHECK_EQ(wsm_conn_poll_frame(p.server, &f), WSM_OK);
    CHECK_EQ(f.direction, WSM_FRAME_NONE);
    CHECK_EQ(wsm_conn_frames_dropped(p.server), 0);
    CHECK_EQ(wsm_conn_frames_dropped(NULL), 0);
    CHECK_EQ(wsm_conn_poll_frame(NULL, &f), WSM_ERR_NULL_PARAMETER);
    CHECK_EQ(wsm_conn_poll_frame(p.server, NULL), WSM_ERR_NULL_PARAMETER);
    free_pair(p);

    /* Off by default: nothing is recorded. */
    p = open_pair(NULL, NULL);
    CHECK_EQ(wsm_conn_send_text(p.client, "hello", 5), WSM_OK);
    CHECK_EQ(wsm_conn_poll_frame(p.client, &f), WSM_OK);
    CHECK_EQ(f.direction, WSM_FRAME_NONE);
    free_pair(p);
}

/* A client's view of the server's answer: the 101's status and headers after the opening,
 * a refusal's after the handshake failed; nothing for a server. */
static void test_response_headers(void) {
    struct pair p = open_pair(NULL, NULL);
    CHECK_EQ(wsm_conn_response_status(p.client), 101);
    CHECK_EQ(wsm_conn_response_status(p.server), 0);
    CHECK_EQ(wsm_conn_response_status(NULL), 0);
    const char *value = NULL;
    size_t len = 0;
    CHECK_EQ(wsm_conn_response_header(p.client, "x-server", &value, &len), WSM_OK);
    CHECK_BYTES(value, len, "wsmachine-test");
    CHECK_EQ(wsm_conn_response_header(p.client, "x-absent", &value, &len), WSM_ERR_NOT_FOUND);
    CHECK_EQ(wsm_conn_response_header(p.server, "upgrade", &value, &len), WSM_ERR_NOT_FOUND);
    CHECK_EQ(wsm_conn_response_header(p.client, NULL, &value, &len), WSM_ERR_NULL_PARAMETER);
    free_pair(p);

    p = new_pair(NULL, NULL);
    drop_output(p.client);
    const char *refusal = "HTTP/1.1 403 Forbidden\r\nX-Why: not today\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ(wsm_conn_receive(p.client, (const uint8_t *)refusal, strlen(refusal)), WSM_OK);
    expect(p.client, WSM_EVENT_ERROR);
    CHECK_EQ(wsm_conn_response_status(p.client), 403);
    CHECK_EQ(wsm_conn_response_header(p.client, "X-WHY", &value, &len), WSM_OK);
    CHECK_BYTES(value, len, "not today");
    const uint8_t *body = NULL;
    CHECK_EQ(wsm_conn_response_body(p.client, &body, &len), WSM_OK);
    CHECK_EQ(len, 0);
    free_pair(p);

    /* A refusal's body is read (here chunked) before the handshake fails. */
    p = new_pair(NULL, NULL);
    drop_output(p.client);
    const char *head = "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nlog in\r\n";
    CHECK_EQ(wsm_conn_receive(p.client, (const uint8_t *)head, strlen(head)), WSM_OK);
    CHECK_EQ(next(p.client).kind, WSM_EVENT_NONE);
    CHECK_EQ(wsm_conn_response_body(p.client, &body, &len), WSM_ERR_NOT_FOUND);
    const char *rest = "7\r\n, first\r\n0\r\n\r\n";
    CHECK_EQ(wsm_conn_receive(p.client, (const uint8_t *)rest, strlen(rest)), WSM_OK);
    wsm_event ev = expect(p.client, WSM_EVENT_ERROR);
    CHECK_EQ(ev.error, WSM_ERROR_HANDSHAKE);
    CHECK_EQ(wsm_conn_response_status(p.client), 401);
    CHECK_EQ(wsm_conn_response_body(p.client, &body, &len), WSM_OK);
    CHECK_BYTES(body, len, "log in, first");
    CHECK_EQ(wsm_conn_response_body(p.server, &body, &len), WSM_ERR_NOT_FOUND);
    CHECK_EQ(wsm_conn_response_body(p.client, NULL, &len), WSM_ERR_NULL_PARAMETER);
    free_pair(p);

    /* The limit: 3 bytes of a body without framing, no need to wait for its end. */
    wsm_client_config *cc = client_config(NULL);
    CHECK_EQ(wsm_client_config_set_max_response_body(cc, 3), WSM_OK);
    CHECK_EQ(wsm_client_config_set_max_response_body(NULL, 3), WSM_ERR_NULL_PARAMETER);
    wsm_conn *client = NULL;
    CHECK_EQ(wsm_conn_client_new(cc, &client), WSM_OK);
    wsm_client_config_free(cc);
    drop_output(client);
    const char *unframed = "HTTP/1.1 500 Internal Server Error\r\n\r\noops";
    CHECK_EQ(wsm_conn_receive(client, (const uint8_t *)unframed, strlen(unframed)), WSM_OK);
    expect(client, WSM_EVENT_ERROR);
    CHECK_EQ(wsm_conn_response_body(client, &body, &len), WSM_OK);
    CHECK_BYTES(body, len, "oop");
    wsm_conn_free(client);
}

int main(void) {
    const struct test tests[] = {
        {"frame_trace", test_frame_trace},
        {"version_and_result_strings", test_version_and_result_strings},
        {"handshake_messages_and_close", test_handshake_messages_and_close},
        {"subprotocol_policy_and_close_reason", test_subprotocol_policy_and_close_reason},
        {"fragments", test_fragments},
        {"protocol_errors_yield_their_close_codes", test_protocol_errors_yield_their_close_codes},
        {"handshake_failures", test_handshake_failures},
        {"deferred_accept", test_deferred_accept},
        {"permessage_deflate", test_permessage_deflate},
        {"keepalive_and_pong_timeout", test_keepalive_and_pong_timeout},
        {"close_and_handshake_timeouts", test_close_and_handshake_timeouts},
        {"null_pointers", test_null_pointers},
        {"wrong_state_and_bad_arguments", test_wrong_state_and_bad_arguments},
        {"free_in_every_state", test_free_in_every_state},
        {"receive_buffer", test_receive_buffer},
        {"response_headers", test_response_headers},
        {"from_upgraded", test_from_upgraded},
    };
    return run_tests(tests, sizeof tests / sizeof tests[0]);
}
