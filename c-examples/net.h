/*
 * Small POSIX helpers shared by the C examples: a monotonic clock in milliseconds (the only
 * clock wsmachine needs), listening and connecting sockets, and writing a connection's
 * pending output to a socket without blocking.
 */
#ifndef WSM_EXAMPLES_NET_H
#define WSM_EXAMPLES_NET_H

#include <stdint.h>

#include "wsmachine.h"

/* Milliseconds on CLOCK_MONOTONIC: the time wsmachine's timers are told. */
uint64_t now_ms(void);

/* A non-blocking socket listening on host:port (host NULL = 127.0.0.1), or -1. */
int listen_on(const char *host, const char *port);

/* A blocking socket connected to host:port, or -1. */
int connect_to(const char *host, const char *port);

/* Makes fd non-blocking; 0 or -1. */
int set_nonblocking(int fd);

/*
 * Writes as much of conn's pending output to fd as the socket takes now, and consumes what
 * was written. Returns 1 when output is left (wait for POLLOUT), 0 when all was written,
 * -1 when the socket failed.
 */
int flush_output(wsm_conn *conn, int fd);

/*
 * Makes SIGINT and SIGTERM request a stop: returns a descriptor that becomes readable
 * when one arrives (poll it with the sockets, so a signal between checks cannot be
 * missed), or -1. stop_requested() tells whether one arrived.
 */
int watch_stop_signals(void);
int stop_requested(void);

/* The poll() timeout until conn's next timer, given the current time; -1 for none. */
int timeout_until(const wsm_conn *conn, uint64_t now);

#endif
