//! A chat server: every text message from any client goes to every connected client, the
//! sender included, in the order the server received them.
//!
//! ```text
//! cargo run --release --example chat_server -- 127.0.0.1:9002 [--ping-interval-ms 20000] [--max-buffered BYTES] [--no-deflate]
//! ```
//!
//! Open http://127.0.0.1:9002/ in two or more browser tabs: the server answers that plain
//! `GET /` with `examples/chat.html`, whose table shows every frame the page sends and
//! receives the way DevTools' Network, WebSocket, Messages tab does (direction, data, length,
//! time). The same page works with the C broadcast server when opened as a file with
//! `?url=ws://HOST:PORT/`.
//!
//! * Messages are relayed byte for byte: text as text, binary as binary. The server's own
//!   notices are texts starting with `* `: `* ADDR joined (N online)` to everyone when a client
//!   opens, `* ADDR left (CODE, N online)` when one goes (CODE is the client's close code,
//!   1006 when none came); for a slow client, `* ADDR too slow: closing with 1008` at once,
//!   then `* ADDR dropped: too slow (1008, N online)` when it is gone.
//! * One total order: a message is queued on every connection while the room is locked, so
//!   every client sees the same sequence.
//! * Keepalive: idle clients are pinged every 20 s (`--ping-interval-ms`) and dropped when no
//!   pong comes within as long (the engine's `Options::keepalive`).
//! * Slow clients: a client whose unsent output (`buffered_amount`) passes 1 MiB
//!   (`--max-buffered`) when a message is to be queued is closed with 1008 instead, so it
//!   cannot make the server hold more than that bound plus one message (64 KiB at most); it
//!   is dropped at the end of the close timeout if it does not read its close frame either.
//!   The others carry on.
//! * Any subprotocol a page offers is taken (the first one): a browser fails a connection
//!   whose offered subprotocols got no answer.
//!
//! Each client has two threads over one `Connection` behind a mutex: a reader that feeds the
//! engine what arrives and handles its events, and a writer that writes the pending output
//! and drives the engine's timers (woken through a condition variable when output or a new
//! timer appears). Lock order: the room, then a client. It prints
//! `chat server listening on ws://ADDR/` on stderr once ready, then one line per join,
//! leave and slow client.

// Public: this binary is its only user, so its `pub` items are reachable (unreachable_pub).
pub mod common;

use common::clock::Clock;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant as StdInstant};
use wsmachine::{
    CloseCode, Connection, Event, Options, Request, ServerConfig, State, SubprotocolPolicy,
};

const USAGE: &str = "usage: chat_server [ADDR] [--ping-interval-ms MS] [--max-buffered BYTES] \
                     [--no-deflate]";

/// The page served at `/`.
const PAGE: &str = include_str!("chat.html");

/// Largest message accepted: chat lines, not files.
const MAX_MESSAGE: usize = 64 << 10;

/// Default bound on a client's unsent output before it is closed as too slow.
const MAX_BUFFERED: usize = 1 << 20;

/// How much of a connection's output one write takes (copied out so that the lock is not
/// held while the socket blocks).
const WRITE_CHUNK: usize = 64 << 10;

/// How long one blocking write may wait before the writer looks at its timers again.
const WRITE_SLICE: Duration = Duration::from_millis(200);

/// How long a closed connection's transport may take to drain and end.
const LINGER: Duration = Duration::from_secs(2);

/// The close code for a client that does not read what it is sent (policy violation: it
/// must read; 1013, try again later, would fit too).
const TOO_SLOW: CloseCode = CloseCode::POLICY_VIOLATION;

/// What the reader and the writer of one client share.
struct Shared {
    conn: Connection,
    /// In the room's list (between `Open` and `Closed`).
    joined: bool,
    /// The reader saw the transport end (EOF, reset or our own shutdown).
    reader_done: bool,
    /// Closed by the server for not reading.
    too_slow: bool,
}

/// One client: its connection and transport.
struct Client {
    peer: SocketAddr,
    shared: Mutex<Shared>,
    /// Signalled when the connection may have output or a new timer, or the reader is done.
    wake: Condvar,
}

impl Client {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panicking thread leaves the data consistent enough to close the connection.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everyone connected, in order of arrival.
struct Room {
    clients: Mutex<Vec<Arc<Client>>>,
    max_buffered: usize,
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Client>>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `message` on every open connection while the room is locked: one order for
    /// everyone. A client over the output bound is closed instead, and everyone hears of it.
    fn broadcast(&self, clients: &[Arc<Client>], message: Message<'_>) {
        let mut slow = self.queue(clients, message);
        while let Some(peer) = slow.pop() {
            let notice = format!("* {peer} too slow: closing with {TOO_SLOW}");
            slow.extend(self.queue(clients, Message::Text(&notice)));
        }
    }

    /// Queues `message` on every open connection but those over the bound, which are closed;
    /// returns those.
    fn queue(&self, clients: &[Arc<Client>], message: Message<'_>) -> Vec<SocketAddr> {
        let mut slow = Vec::new();
        for client in clients {
            let mut shared = client.lock();
            let conn = &mut shared.conn;
            if conn.state() != State::Open {
                continue;
            }
            let waiting = conn.buffered_amount();
            if waiting > self.max_buffered {
                eprintln!(
                    "{} too slow: {waiting} bytes waiting, closing with {TOO_SLOW}",
                    client.peer
                );
                let _ = conn.close(TOO_SLOW, "too slow: not reading");
                shared.too_slow = true;
                slow.push(client.peer);
            } else {
                // Fails only once the connection is closing: nothing to deliver then.
                let _ = match message {
                    Message::Text(text) => conn.send_text(text),
                    Message::Binary(data) => conn.send_binary(data),
                };
            }
            drop(shared);
            client.wake.notify_all();
        }
        slow
    }

    /// `client` opened: it joins, and everyone hears of it.
    fn join(&self, client: &Arc<Client>) {
        let mut clients = self.lock();
        clients.push(client.clone());
        client.lock().joined = true;
        let notice = format!("* {} joined ({} online)", client.peer, clients.len());
        eprintln!("{}", &notice[2..]);
        self.broadcast(&clients, Message::Text(&notice));
    }

    /// `client` closed (`code` is the peer's, or 1006 when none came): it leaves, and
    /// everyone still here hears of it.
    fn leave(&self, client: &Arc<Client>, code: CloseCode, clean: bool, too_slow: bool) {
        let mut clients = self.lock();
        clients.retain(|c| !Arc::ptr_eq(c, client));
        let online = clients.len();
        let notice = if too_slow {
            format!(
                "* {} dropped: too slow ({TOO_SLOW}, {online} online)",
                client.peer
            )
        } else {
            format!("* {} left ({code}, {online} online)", client.peer)
        };
        eprintln!("{} clean={clean}", &notice[2..]);
        self.broadcast(&clients, Message::Text(&notice));
    }
}

#[derive(Clone, Copy)]
enum Message<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// Answers a request: an Upgrade is accepted (subprotocol as configured), `GET /` gets the
/// page, anything else a 404.
fn answer(conn: &mut Connection, req: &Request) {
    // These only fail on a request already answered, which cannot happen here.
    let _ = if req.websocket {
        conn.accept_default()
    } else if req.path.split('?').next() == Some("/") {
        conn.respond(200, "text/html; charset=utf-8", PAGE.as_bytes())
    } else {
        conn.respond(404, "text/plain; charset=utf-8", b"not found\n")
    };
}

/// The reader: feeds the engine what arrives and handles each event as it is decoded, until
/// the transport ends.
fn read_loop(room: &Room, client: &Arc<Client>, mut stream: TcpStream) {
    let mut buf = vec![0; 16 << 10];
    loop {
        drain_events(room, client);
        client.wake.notify_all();
        let input = stream.read(&mut buf);
        let mut shared = client.lock();
        match input {
            Ok(n) if n > 0 => shared.conn.receive(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // EOF, a reset, or the writer's shutdown: the engine reports 1006 if the
            // closing handshake had not completed.
            _ => {
                shared.conn.receive_eof();
                shared.reader_done = true;
                drop(shared);
                drain_events(room, client);
                client.wake.notify_all();
                return;
            }
        }
    }
}

/// Handles the client's events one at a time, its lock released while each is handled
/// (broadcasting takes the room's lock, then every client's, this one included).
fn drain_events(room: &Room, client: &Arc<Client>) {
    loop {
        let event = client.lock().conn.poll_event();
        let Some(event) = event else { return };
        handle(room, client, event);
    }
}

fn handle(room: &Room, client: &Arc<Client>, event: Event) {
    match event {
        Event::Request(req) => answer(&mut client.lock().conn, &req),
        Event::Open { .. } => room.join(client),
        Event::Text(text) => room.broadcast(&room.lock(), Message::Text(&text)),
        Event::Binary(data) => room.broadcast(&room.lock(), Message::Binary(&data)),
        Event::Error(e) => eprintln!("{}: {e}", client.peer),
        Event::Closed { code, clean, .. } => {
            let mut shared = client.lock();
            let (joined, too_slow) = (
                std::mem::replace(&mut shared.joined, false),
                shared.too_slow,
            );
            drop(shared);
            if joined {
                room.leave(client, code, clean, too_slow);
            }
        }
        _ => {}
    }
}

/// The writer: writes what the engine produced and fires its timers; once the connection is
/// closed, ends the transport.
fn write_loop(client: &Client, mut stream: TcpStream) {
    let clock = Clock::new();
    let mut chunk = vec![0; WRITE_CHUNK];
    let mut closed_at = None;
    let mut shared = client.lock();
    let flushed = loop {
        let now = clock.now();
        if shared.conn.poll_timeout().is_some_and(|t| t <= now) {
            shared.conn.handle_timeout(now);
            // Timer events (a failed keepalive, a close timeout) are the reader's to
            // handle: it polls them once the transport ends below.
        }
        if shared.conn.is_closed() && closed_at.is_none() {
            closed_at = Some(StdInstant::now());
        }
        let lingered = closed_at.is_some_and(|t| t.elapsed() > LINGER);
        let pending = shared.conn.pending_output();
        if !pending.is_empty() && !lingered && !shared.reader_done {
            let n = pending.len().min(WRITE_CHUNK);
            chunk[..n].copy_from_slice(&pending[..n]);
            drop(shared);
            let written = write_some(&mut stream, &chunk[..n]);
            shared = client.lock();
            match written {
                Ok(k) => shared.conn.consume_output(k),
                Err(e) if e.kind() == ErrorKind::TimedOut => {}
                Err(_) => break false,
            }
            continue;
        }
        if shared.conn.is_closed() || shared.reader_done {
            break pending.is_empty();
        }
        let wait = shared
            .conn
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now));
        shared = match wait {
            Some(wait) => client
                .wake
                .wait_timeout(shared, wait)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0),
            None => client.wake.wait(shared).unwrap_or_else(|e| e.into_inner()),
        };
    };
    // The end: after a complete flush, FIN, then let the peer end its side (the reader
    // reads to EOF) for at most LINGER; a peer that does not, or a broken transport, is cut.
    if flushed {
        let _ = stream.shutdown(Shutdown::Write);
        let until = StdInstant::now() + LINGER;
        while !shared.reader_done {
            let left = until.saturating_duration_since(StdInstant::now());
            if left.is_zero() {
                break;
            }
            shared = client
                .wake
                .wait_timeout(shared, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
    drop(shared);
    let _ = stream.shutdown(Shutdown::Both);
}

/// One write, waiting at most [`WRITE_SLICE`] (`TimedOut` then, so that timers can fire).
fn write_some(stream: &mut TcpStream, data: &[u8]) -> io::Result<usize> {
    stream.set_write_timeout(Some(WRITE_SLICE))?;
    match stream.write(data) {
        Ok(0) => Err(ErrorKind::WriteZero.into()),
        Ok(n) => Ok(n),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
            Err(ErrorKind::TimedOut.into())
        }
        Err(e) => Err(e),
    }
}

/// Starts the reader and writer of a new client.
fn serve_client(room: &Arc<Room>, config: &ServerConfig, stream: TcpStream, peer: SocketAddr) {
    let streams = stream
        .set_nodelay(true)
        .and_then(|()| Ok((stream.try_clone()?, stream)));
    let (read_half, write_half) = match streams {
        Ok(halves) => halves,
        Err(e) => return eprintln!("{peer}: {e}"),
    };
    let client = Arc::new(Client {
        peer,
        shared: Mutex::new(Shared {
            conn: Connection::server(config.clone()),
            joined: false,
            reader_done: false,
            too_slow: false,
        }),
        wake: Condvar::new(),
    });
    let (reader_room, reader_client) = (room.clone(), client.clone());
    let reader = thread::Builder::new()
        .name(format!("read {peer}"))
        .spawn(move || read_loop(&reader_room, &reader_client, read_half));
    let writer = thread::Builder::new()
        .name(format!("write {peer}"))
        .spawn(move || write_loop(&client, write_half));
    // Out of threads: this client is dropped (its transport closes with the halves).
    if let Err(e) = reader.and(writer) {
        eprintln!("{peer}: no thread for the connection: {e}");
    }
}

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9002".to_string();
    let mut ping_interval = Duration::from_secs(20);
    let mut max_buffered = MAX_BUFFERED;
    let mut deflate = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let number = |value: Option<String>| value.and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--ping-interval-ms" => match number(args.next()) {
                Some(ms) if ms > 0 => ping_interval = Duration::from_millis(ms),
                _ => {
                    eprintln!("--ping-interval-ms needs a positive number\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            "--max-buffered" => match number(args.next()).and_then(|n| usize::try_from(n).ok()) {
                Some(bytes) => max_buffered = bytes,
                None => {
                    eprintln!("--max-buffered needs a number of bytes\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            "--no-deflate" => deflate = false,
            a if a.starts_with('-') => {
                eprintln!("unknown option {a}\n{USAGE}");
                return ExitCode::FAILURE;
            }
            a => addr = a.to_string(),
        }
    }
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = Options::new()
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .keepalive(ping_interval, ping_interval);
    let config = ServerConfig::new()
        .options(options)
        .subprotocol_policy(SubprotocolPolicy::FirstOffered)
        .defer_accept(true);
    #[cfg(feature = "deflate")]
    let config = if deflate {
        config.deflate(wsmachine::DeflateConfig::new())
    } else {
        config
    };
    #[cfg(not(feature = "deflate"))]
    let _ = deflate;
    let room = Arc::new(Room {
        clients: Mutex::new(Vec::new()),
        max_buffered,
    });
    let local = listener.local_addr().map_or(addr, |a| a.to_string());
    eprintln!("chat server listening on ws://{local}/ (page: http://{local}/)");
    loop {
        match listener.accept() {
            Ok((stream, peer)) => serve_client(&room, &config, stream, peer),
            // Out of descriptors, or a client that reset before accept: not fatal.
            Err(e) => {
                eprintln!("accept failed: {e}");
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}
