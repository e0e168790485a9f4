//! The echo service: every text and binary message goes back as the same kind. Used by the
//! echo server for each connection and by the Autobahn client for each test case.
//! permessage-deflate (RFC 7692) is accepted when the crate's `deflate` feature is on.

use super::driver::Driver;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use wsmachine::{CloseCode, Connection, Event, Options, ServerConfig};

/// Large enough for the Autobahn TestSuite, whose largest messages and frames are 16 MiB.
pub const MAX_MESSAGE: usize = 64 << 20;

/// How long a closed connection waits for the peer's EOF before dropping the socket.
pub const LINGER: Duration = Duration::from_secs(2);

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
}

/// The options of the echo server: Autobahn-sized limits, keepalive pings for idle clients.
pub fn server_options() -> Options {
    Options::new()
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .keepalive(Duration::from_secs(20), Duration::from_secs(20))
}

/// The echo server's configuration: [`server_options`], permessage-deflate accepted.
pub fn server_config(options: Options) -> ServerConfig {
    let config = ServerConfig::new().options(options);
    #[cfg(feature = "deflate")]
    let config = config.deflate(wsmachine::DeflateConfig::new());
    config
}

/// Echoes messages until the connection closes.
pub fn echo_until_closed(driver: &mut Driver) -> io::Result<Outcome> {
    let mut outcome = Outcome {
        clean: false,
        code: CloseCode::ABNORMAL,
        reason: String::new(),
        echoed: 0,
        failure: None,
        extensions: String::new(),
    };
    while let Some(event) = driver.next_event()? {
        // A send fails only once our close frame is queued (the peer closed, or the engine
        // failed the connection); the message then has nowhere to go.
        let sent = match event {
            Event::Text(text) => driver.conn().send_text(&text).is_ok(),
            Event::Binary(data) => driver.conn().send_binary(&data).is_ok(),
            Event::Open { extensions, .. } => {
                outcome.extensions = extensions;
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
    let conn = Connection::server(server_config(options));
    let mut driver = Driver::new(stream, conn)?;
    let outcome = echo_until_closed(&mut driver);
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
        let spawned = thread::Builder::new()
            .name(format!("ws {peer}"))
            .spawn(move || {
                report(Report::Open(peer));
                report(Report::Closed(peer, serve_connection(stream)));
            });
        // Out of threads: this client is dropped, the others go on.
        if let Err(e) = spawned {
            eprintln!("{peer}: no thread for the connection: {e}");
        }
    }
}
