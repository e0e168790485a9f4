/*
 * The single-threaded poll() loop both C servers run: accepting clients, reading and writing
 * their sockets with backpressure, driving their timers, dropping them once closed, and
 * shutting down on SIGINT or SIGTERM. What a server does with its clients' messages is its
 * own: the loop hands every event to the server's callback.
 */
#ifndef WSM_EXAMPLES_SERVER_LOOP_H
#define WSM_EXAMPLES_SERVER_LOOP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "wsmachine.h"

/* A client whose unsent output passes this is not read from (backpressure). */
#define SERVER_MAX_BUFFERED ((size_t)8 << 20)

struct server_client {
    int fd;
    wsm_conn *conn;
    int closed;            /* the engine reported WSM_EVENT_CLOSED: flush, then drop */
    uint64_t linger_until; /* once closed: drop by then even if output is left */
    int dead;              /* to be removed at the end of this round */
    uint64_t accepted_ms;  /* when it was accepted (now_ms()), for a frame trace's times */
};

struct server {
    /*
     * Set by the program: called for every event a client's connection reports except
     * WSM_EVENT_NONE and WSM_EVENT_CLOSED (which the loop handles). ev->data is valid
     * through the call.
     */
    void (*on_event)(struct server *server, struct server_client *client, const wsm_event *ev);
    /*
     * Optional (NULL: none): called for every frame record of a client whose options trace
     * frames (wsm_options_set_trace_frames), oldest first, before its output is written.
     */
    void (*on_frame)(struct server *server, struct server_client *client,
                     const wsm_frame_info *frame);

    /* Kept by the loop, for the callback and the exit line. */
    struct server_client *clients; /* connected now */
    size_t client_count;
    unsigned long served; /* connections accepted in all */

    /* The loop's own. */
    size_t client_cap;
    struct pollfd *pfds;
};

/*
 * Listens on host:port (port "0" picks a free one), prints
 * "listening on HOST:PORT (wsmachine VERSION)" on stdout once ready, and serves every client
 * with config. SIGINT or SIGTERM stops accepting and closes every client with 1001; serve
 * returns 0 once they are gone (or after 3 s), or on a poll() failure. Returns 1, with the
 * reason on stderr, when it cannot start. config stays the caller's.
 */
int serve(struct server *server, const char *host, const char *port,
          const wsm_server_config *config);

#endif
