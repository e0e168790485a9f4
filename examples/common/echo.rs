//! The echo service: every text and binary message goes back as the same kind. Used by the
//! echo server for each connection and by the Autobahn client for each test case.
//! permessage-deflate (RFC 7692) is accepted when the crate's `deflate` feature is on.
//!
//! The server side also answers what browsers and the peer tests need:
//! * a plain HTTP `GET /` gets [`PAGE`], a page that runs the browser flow against the server;
//! * the subprotocol is the first of [`SUBPROTOCOLS`] (the server's preference) the client
//!   offers, else the first one the client offers ([`SubprotocolPolicy::FirstOffered`]: an
//!   echo server has no protocol of its own, and a browser fails a connection whose offered
//!   protocols got no answer);
//! * a text message `close-me CODE REASON` ([`CLOSE_HOOK`]) makes the server start the
//!   closing handshake with that code and reason instead of echoing (a test hook: a browser
//!   cannot otherwise ask a server to close on it);
//! * pongs are counted ([`Outcome::pongs`]): browsers answer keepalive pings unseen by JS.

use super::driver::{Driver, WRITE_TIMEOUT};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use wsmachine::{CloseCode, Connection, Event, Options, Request, ServerConfig, SubprotocolPolicy};

/// Large enough for the Autobahn TestSuite, whose largest messages and frames are 16 MiB.
pub const MAX_MESSAGE: usize = 64 << 20;

/// How many inflated bytes all connections together may hold at once (a process-wide
/// [`wsmachine::InflateBudget`]): two messages of the limit, so that concurrent
/// decompression bombs cost the server about twice the limit instead of once per bomb;
/// a connection that finds it spent closes with 1013 (try again later).
pub const INFLATE_BUDGET: usize = 2 * MAX_MESSAGE + (1 << 20);

/// How long a closed connection waits for the peer's EOF before dropping the socket.
pub const LINGER: Duration = Duration::from_secs(2);

/// How often idle clients are pinged by default (and how long a pong may take).
pub const PING_INTERVAL: Duration = Duration::from_secs(20);

/// The subprotocols the server speaks, most preferred first.
pub const SUBPROTOCOLS: [&str; 2] = ["chat.v2", "chat.v1"];

/// The prefix of the text message that asks the server to close: `close-me CODE REASON`.
pub const CLOSE_HOOK: &str = "close-me ";

/// The page served at `/`: the browser flow, against the server that served it.
pub const PAGE: &str = include_str!("../page.html");

/// How a connection ended, as the engine reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the closing handshake completed.
    pub clean: bool,
    /// The peer's close code (1005 for none, 1006 when abnormal).
    pub code: CloseCode,
    /// The peer's close reason.
    pub reason: String,
    /// How many messages were echoed.
    pub echoed: u64,
    /// The failure the engine reported, if any.
    pub failure: Option<String>,
    /// The `Sec-WebSocket-Extensions` in force (empty when none).
    pub extensions: String,
    /// The subprotocol agreed on.
    pub subprotocol: Option<String>,
    /// How many pongs the peer sent (answers to keepalive pings, or unsolicited).
    pub pongs: u64,
    /// Whether a plain HTTP request was answered (with the page or a 404) instead.
    pub http: bool,
}

/// The options of the echo server: Autobahn-sized limits, keepalive pings for idle clients.
pub fn server_options() -> Options {
    server_options_pinging(PING_INTERVAL)
}

/// [`server_options`] with idle clients pinged every `interval` (and dropped when no pong
/// comes within `interval`).
pub fn server_options_pinging(interval: Duration) -> Options {
    Options::new()
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .keepalive(interval, interval)
}

/// The echo server's configuration: [`server_options`], permessage-deflate accepted, the
/// subprotocols [`SUBPROTOCOLS`] else the client's first, each request looked at by
/// [`answer_request`].
pub fn server_config(options: Options) -> ServerConfig {
    server_config_deflate(options, true)
}

/// [`server_config`], with permessage-deflate accepted only if `deflate` (a server that
/// declines it must still answer a browser's offer correctly), within one
/// [`INFLATE_BUDGET`] shared by every connection served with clones of the configuration.
pub fn server_config_deflate(options: Options, deflate: bool) -> ServerConfig {
    let config = SUBPROTOCOLS
        .into_iter()
        .fold(ServerConfig::new(), ServerConfig::subprotocol)
        .subprotocol_policy(SubprotocolPolicy::FirstOffered)
        .options(options)
        .defer_accept(true);
    #[cfg(feature = "deflate")]
    let config = if deflate {
        let budget = wsmachine::InflateBudget::new(INFLATE_BUDGET);
        config.deflate(wsmachine::DeflateConfig::new().inflate_budget(budget))
    } else {
        config
    };
    #[cfg(not(feature = "deflate"))]
    let _ = deflate;
    config
}

/// Answers a request: a WebSocket upgrade is accepted with the subprotocol the configuration
/// chooses ([`server_config_deflate`], through `accept_default`); a plain
/// `GET /` gets [`PAGE`], any other plain request a 404. Whether it was a plain request.
pub fn answer_request(conn: &mut Connection, req: &Request) -> bool {
    // The answers only fail on a request already answered, which cannot happen here.
    if req.websocket {
        let _ = conn.accept_default();
        return false;
    }
    let path = req.path.split('?').next().unwrap_or("");
    let _ = if path == "/" {
        conn.respond(200, "text/html; charset=utf-8", PAGE.as_bytes())
    } else {
        conn.respond(404, "text/plain; charset=utf-8", b"not found\n")
    };
    true
}

/// The code and reason of a [`CLOSE_HOOK`] message (`close-me 4001 some reason`), if `text`
/// is one with a code a server may send.
pub fn close_request(text: &str) -> Option<(CloseCode, &str)> {
    let rest = text.strip_prefix(CLOSE_HOOK)?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let code: u16 = code.parse().ok()?;
    let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    (sendable && reason.len() <= 123).then_some((CloseCode(code), reason))
}

/// Echoes messages until the connection closes (the Autobahn client's loop: no hooks).
pub fn echo_until_closed(driver: &mut Driver) -> io::Result<Outcome> {
    run_echo(driver, false)
}

/// The server's loop: answers the request, echoes, and honours the [`CLOSE_HOOK`].
pub fn serve_until_closed(driver: &mut Driver) -> io::Result<Outcome> {
    run_echo(driver, true)
}

fn run_echo(driver: &mut Driver, server: bool) -> io::Result<Outcome> {
    let mut outcome = Outcome {
        clean: false,
        code: CloseCode::ABNORMAL,
        reason: String::new(),
        echoed: 0,
        failure: None,
        extensions: String::new(),
        subprotocol: None,
        pongs: 0,
        http: false,
    };
    while let Some(event) = driver.next_event()? {
        // A send fails only once our close frame is queued (the peer closed, or the engine
        // failed the connection); the message then has nowhere to go.
        let sent = match event {
            Event::Request(req) => {
                outcome.http = answer_request(driver.conn(), &req);
                false
            }
            Event::Text(text) => match close_request(&text).filter(|_| server) {
                Some((code, reason)) => {
                    let _ = driver.conn().close(code, reason);
                    false
                }
                None => driver.conn().send_text(&text).is_ok(),
            },
            Event::Binary(data) => driver.conn().send_binary(&data).is_ok(),
            Event::Pong(_) => {
                outcome.pongs += 1;
                false
            }
            Event::Open {
                extensions,
                subprotocol,
            } => {
                outcome.extensions = extensions;
                outcome.subprotocol = subprotocol;
                false
            }
            Event::Error(failure) => {
                outcome.failure = Some(failure.to_string());
                false
            }
            Event::Closed {
                clean,
                code,
                reason,
            } => {
                outcome.clean = clean;
                outcome.code = code;
                outcome.reason = reason;
                false
            }
            _ => false,
        };
        outcome.echoed += u64::from(sent);
    }
    Ok(outcome)
}

/// Serves one client: handshake, echo, close, then ends the transport.
pub fn serve_connection(stream: TcpStream) -> io::Result<Outcome> {
    serve_connection_with(stream, server_options())
}

/// [`serve_connection`] with other options (tests use short keepalive timers).
pub fn serve_connection_with(stream: TcpStream, options: Options) -> io::Result<Outcome> {
    serve_connection_config(stream, server_config(options))
}

/// [`serve_connection`] with another configuration.
pub fn serve_connection_config(stream: TcpStream, config: ServerConfig) -> io::Result<Outcome> {
    serve_connection_timed(stream, config, WRITE_TIMEOUT)
}

/// [`serve_connection_config`] with another deadline for writing out pending output.
pub fn serve_connection_timed(
    stream: TcpStream,
    config: ServerConfig,
    write_timeout: Duration,
) -> io::Result<Outcome> {
    let conn = Connection::server(config);
    let mut driver = Driver::new(stream, conn)?.with_write_timeout(write_timeout);
    let outcome = serve_until_closed(&mut driver);
    driver.finish(LINGER);
    outcome
}

/// What [`serve`] tells about each connection.
#[derive(Debug)]
pub enum Report {
    /// A client connected.
    Open(SocketAddr),
    /// Its connection ended (an `Err` is a transport failure).
    Closed(SocketAddr, io::Result<Outcome>),
}

/// Accepts clients forever, one thread each; `report` hears of each connection's start and end.
pub fn serve<R>(listener: &TcpListener, report: R) -> !
where
    R: Fn(Report) + Clone + Send + 'static,
{
    serve_with(listener, server_config(server_options()), report)
}

/// [`serve`] with another configuration (the echo server's `--ping-interval-ms` and
/// `--no-deflate`).
pub fn serve_with<R>(listener: &TcpListener, config: ServerConfig, report: R) -> !
where
    R: Fn(Report) + Clone + Send + 'static,
{
    serve_with_write_timeout(listener, config, WRITE_TIMEOUT, report)
}

/// [`serve_with`] with another deadline for writing out each batch of pending output (the
/// echo server's `--write-timeout-ms`).
pub fn serve_with_write_timeout<R>(
    listener: &TcpListener,
    config: ServerConfig,
    write_timeout: Duration,
    report: R,
) -> !
where
    R: Fn(Report) + Clone + Send + 'static,
{
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // Running out of descriptors or a client resetting before accept is not fatal.
            Err(e) => {
                eprintln!("accept failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let report = report.clone();
        let config = config.clone();
        let spawned = thread::Builder::new()
            .name(format!("ws {peer}"))
            .spawn(move || {
                report(Report::Open(peer));
                report(Report::Closed(
                    peer,
                    serve_connection_timed(stream, config, write_timeout),
                ));
            });
        // Out of threads: this client is dropped, the others go on.
        if let Err(e) = spawned {
            eprintln!("{peer}: no thread for the connection: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_hook_needs_the_exact_prefix_and_a_sendable_code() {
        assert_eq!(
            close_request("close-me 4001 server says bye"),
            Some((CloseCode(4001), "server says bye"))
        );
        assert_eq!(close_request("close-me 1000"), Some((CloseCode(1000), "")));
        // Codes a server may not send, junk, and other texts are echoed instead.
        assert_eq!(close_request("close-me 1005 x"), None);
        assert_eq!(close_request("close-me 70000 x"), None);
        assert_eq!(close_request("close-me bye"), None);
        assert_eq!(close_request("Close-me 4001 x"), None);
        assert_eq!(close_request("please close-me 4001 x"), None);
        assert_eq!(
            close_request(&format!("close-me 4001 {}", "x".repeat(124))),
            None
        );
    }

    /// The subprotocol the echo server's configuration answers an offer of `offered` with.
    fn chosen(offered: &[&str]) -> Option<String> {
        let mut conn = Connection::server(server_config(server_options()));
        let mut request = String::from(
            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
        );
        if !offered.is_empty() {
            request += &format!("Sec-WebSocket-Protocol: {}\r\n", offered.join(", "));
        }
        conn.receive(format!("{request}\r\n").as_bytes());
        let Some(Event::Request(req)) = conn.poll_event() else {
            panic!("expected the request")
        };
        assert!(!answer_request(&mut conn, &req));
        conn.subprotocol().map(String::from)
    }

    #[test]
    fn subprotocol_is_the_servers_preference_else_the_clients_first() {
        assert_eq!(chosen(&["chat.v1", "chat.v2"]).as_deref(), Some("chat.v2"));
        assert_eq!(chosen(&["x", "chat.v1"]).as_deref(), Some("chat.v1"));
        // What a browser page offering protocols the server does not know needs.
        assert_eq!(chosen(&["chat", "superchat"]).as_deref(), Some("chat"));
        assert_eq!(chosen(&[]), None);
    }
}
