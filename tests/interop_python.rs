//! Interop with the Python `websockets` package over 127.0.0.1, in both roles:
//!
//! * our echo server (the examples' code, in-process on an ephemeral port) driven by a
//!   Python client (`tests/python/echo_client.py`), one scenario per test;
//! * our client (a `Connection` over a `TcpStream`, driven by the examples' driver) against
//!   a Python server (`tests/python/scripted_server.py`) whose behaviour the path selects.
//!
//! The examples' Autobahn TestSuite client loop runs against the real suite in
//! `tests/autobahn.rs`.
//!
//! Nothing is installed here. Without `python3` or its `websockets` module the tests print
//! a skip line and pass, except under `CI=true`, where they fail.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod examples;
    pub mod process;
    pub mod python;
    pub mod skip;
}

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;
use support::examples::driver::Driver;
use support::examples::echo::{self, Outcome, Report};
use support::{python, skip};
use wsmachine::{ClientConfig, CloseCode, Connection, Event};

const LARGE: usize = 4 << 20;
/// Bounds every test: a peer that stops answering fails the test instead of hanging it.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

// ----- environment -----

/// Whether python3 with `websockets` is here; if not, skips (or fails under CI=true).
fn python_ready() -> bool {
    skip::ready(python::websockets())
}

/// Runs `f` on its own thread, failing the test if it takes longer than `TEST_TIMEOUT`.
fn within_timeout<F: FnOnce() + Send + 'static>(f: F) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        f();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(TEST_TIMEOUT) {
        Ok(()) => worker.join().unwrap(),
        // The worker panicked (its assertion message is printed) or hung.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test timed out after {TEST_TIMEOUT:?}"),
    }
}

// ----- (a) our echo server, a Python client -----

/// Our echo server on an ephemeral port; reports each connection's outcome.
fn start_echo_server() -> (u16, Receiver<Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        echo::serve(&listener, move |report| {
            if let Report::Closed(peer, outcome) = report {
                let outcome = outcome.unwrap_or_else(|e| panic!("{peer}: transport failed: {e}"));
                let _ = tx.send(outcome);
            }
        })
    });
    (port, rx)
}

/// Runs one scenario of `echo_client.py` against our server and returns the server's
/// outcome for each of the `connections` it opened, in order of closing.
fn python_client(scenario: &str, connections: usize) -> Vec<Outcome> {
    let (port, outcomes) = start_echo_server();
    python::echo_client(port, scenario, TEST_TIMEOUT);
    (0..connections)
        .map(|_| outcomes.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect()
}

fn assert_clean(o: &Outcome, code: u16, reason: &str, echoed: u64) {
    assert_eq!(
        (
            o.clean,
            o.code,
            o.reason.as_str(),
            o.echoed,
            o.failure.as_deref()
        ),
        (true, CloseCode(code), reason, echoed, None),
        "{o:?}"
    );
}

/// The negotiated extension's name, without parameters.
#[cfg(feature = "deflate")]
fn extension_name(extensions: &str) -> &str {
    extensions.split(';').next().unwrap_or("").trim()
}

#[test]
fn python_client_text_echo() {
    if python_ready() {
        within_timeout(|| assert_clean(&python_client("text", 1)[0], 1000, "", 3));
    }
}

#[test]
fn python_client_binary_echo() {
    if python_ready() {
        within_timeout(|| assert_clean(&python_client("binary", 1)[0], 1000, "", 3));
    }
}

#[test]
fn python_client_large_messages() {
    if python_ready() {
        within_timeout(|| assert_clean(&python_client("large", 1)[0], 1000, "", 2));
    }
}

#[test]
fn python_client_fragmented_messages_are_reassembled() {
    if python_ready() {
        within_timeout(|| assert_clean(&python_client("fragmented", 1)[0], 1000, "", 2));
    }
}

#[test]
fn python_client_ping_gets_pong() {
    if python_ready() {
        within_timeout(|| assert_clean(&python_client("ping", 1)[0], 1000, "", 1));
    }
}

#[test]
fn python_client_plain_frames_without_compression() {
    if python_ready() {
        within_timeout(|| assert_eq!(python_client("text", 1)[0].extensions, ""));
    }
}

#[cfg(feature = "deflate")]
#[test]
fn python_client_permessage_deflate() {
    if python_ready() {
        within_timeout(|| {
            let o = &python_client("deflate", 1)[0];
            assert_clean(o, 1000, "", 5);
            assert_eq!(extension_name(&o.extensions), "permessage-deflate");
        });
    }
}

#[test]
fn python_client_close_codes_and_reasons() {
    if python_ready() {
        within_timeout(|| {
            let mut seen = python_client("close", 3);
            seen.sort_by_key(|o| o.code);
            assert_clean(&seen[0], 1000, "", 1);
            assert_clean(&seen[1], 3001, "ünïcødé", 1);
            assert_clean(&seen[2], 4000, "bye", 1);
        });
    }
}

// ----- (b) our client, a Python server -----

/// The Python server; ends when dropped.
struct PythonServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    lines: Receiver<String>,
}

impl PythonServer {
    fn start() -> Self {
        Self::start_script("scripted_server.py")
    }

    fn start_script(script: &str) -> Self {
        let mut child = Command::new("python3")
            .arg(python::dir().join(script))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("python server did not start");
        let port = first
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        Self {
            child,
            stdin,
            port,
            lines,
        }
    }

    /// The close code and reason the server received on its connection at `path`.
    fn closed(&self, path: &str) -> (u16, String) {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("python server did not report closing {path}"));
            let fields: Vec<&str> = line.splitn(4, '\t').collect();
            if let ["closed", p, code, reason] = fields[..] {
                if p == path {
                    return (code.parse().unwrap(), reason.to_string());
                }
            }
        }
    }

    /// The extensions the server negotiated on its connection at `path`.
    fn opened(&self, path: &str) -> String {
        loop {
            let line = self.line();
            let fields: Vec<&str> = line.splitn(3, '\t').collect();
            if let ["open", p, extensions] = fields[..] {
                if p == path {
                    return extensions.to_string();
                }
            }
        }
    }

    /// The next line the server printed.
    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("python server printed nothing")
    }

    fn connect(&self, path: &str) -> Driver {
        let host = format!("127.0.0.1:{}", self.port);
        self.connect_with(ClientConfig::new(host, path)).0
    }

    /// Connects with `config`; returns the driver and the extensions in force.
    fn connect_with(&self, config: ClientConfig) -> (Driver, String) {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let conn = Connection::client(config).unwrap();
        let mut driver = Driver::new(stream, conn).unwrap();
        match next(&mut driver) {
            Event::Open { extensions, .. } => (driver, extensions),
            other => panic!("expected Open, got {other:?}"),
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn next(driver: &mut Driver) -> Event {
    driver
        .next_event()
        .unwrap()
        .expect("connection closed unexpectedly")
}

fn expect_text(driver: &mut Driver, want: &str) {
    match next(driver) {
        Event::Text(t) => assert_eq!(&*t, want),
        other => panic!("expected text, got {other:?}"),
    }
}

fn expect_binary(driver: &mut Driver, want: &[u8]) {
    match next(driver) {
        Event::Binary(b) => assert!(b == want, "binary of {} bytes differs", b.len()),
        other => panic!("expected binary, got {other:?}"),
    }
}

/// Closes with `code`/`reason` and checks that the server's answer came and the close was
/// clean; returns the code the server answered with.
fn close_and_finish(mut driver: Driver, code: u16, reason: &str) -> CloseCode {
    driver.conn().close(CloseCode(code), reason).unwrap();
    let answered = match next(&mut driver) {
        Event::Close { code: Some(c), .. } => c,
        other => panic!("expected the server's close, got {other:?}"),
    };
    expect_closed(driver, answered, true);
    answered
}

/// Drains events to `Closed` and checks it.
fn expect_closed(mut driver: Driver, code: CloseCode, clean: bool) -> String {
    loop {
        match next(&mut driver) {
            Event::Closed {
                clean: c,
                code: k,
                reason,
            } => {
                assert_eq!((c, k), (clean, code), "Closed event");
                assert!(driver.next_event().unwrap().is_none());
                driver.finish(echo::LINGER);
                return reason;
            }
            Event::Close { .. } => {}
            other => panic!("expected Closed, got {other:?}"),
        }
    }
}

#[test]
fn rust_client_text_and_binary_against_python_server() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let mut ws = server.connect("/echo");
            for text in ["Привет, сервер!", "", "emoji 🎉"] {
                ws.conn().send_text(text).unwrap();
                expect_text(&mut ws, text);
            }
            let bytes: Vec<u8> = (0..=255).collect();
            ws.conn().send_binary(&bytes).unwrap();
            expect_binary(&mut ws, &bytes);
            assert_eq!(close_and_finish(ws, 1000, ""), CloseCode::NORMAL);
            assert_eq!(server.closed("/echo"), (1000, String::new()));
        });
    }
}

#[test]
fn rust_client_large_messages_against_python_server() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let mut ws = server.connect("/echo");
            let bytes: Vec<u8> = (0..LARGE).map(|i| (i * 7 + i / 256) as u8).collect();
            ws.conn().send_binary(&bytes).unwrap();
            expect_binary(&mut ws, &bytes);
            let text = "ж".repeat(LARGE / 2);
            ws.conn().send_text(&text).unwrap();
            expect_text(&mut ws, &text);
            close_and_finish(ws, 1000, "");
            assert_eq!(server.closed("/echo"), (1000, String::new()));
        });
    }
}

#[test]
fn rust_client_answers_python_servers_ping() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let mut ws = server.connect("/ping");
            match next(&mut ws) {
                Event::Ping(p) => assert_eq!(&p[..], b"py-ping"),
                other => panic!("expected ping, got {other:?}"),
            }
            // The server sends this only after our (automatic) pong arrived.
            expect_text(&mut ws, "pong:py-ping");
            close_and_finish(ws, 1000, "");
            assert_eq!(server.closed("/ping"), (1000, String::new()));
        });
    }
}

#[test]
fn rust_client_initiated_close_code_seen_by_both() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let mut ws = server.connect("/echo");
            ws.conn().send_text("bye soon").unwrap();
            expect_text(&mut ws, "bye soon");
            assert_eq!(close_and_finish(ws, 4002, "client bye"), CloseCode(4002));
            assert_eq!(server.closed("/echo"), (4002, "client bye".to_string()));
        });
    }
}

#[test]
fn python_server_initiated_close_code_seen_by_both() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let mut ws = server.connect("/server-close");
            ws.conn().send_text("close please").unwrap();
            match next(&mut ws) {
                Event::Close { code, reason } => {
                    assert_eq!(
                        (code, reason.as_str()),
                        (Some(CloseCode(4001)), "server bye")
                    )
                }
                other => panic!("expected the server's close, got {other:?}"),
            }
            // We echoed its code; the server then ended the TCP connection.
            let reason = expect_closed(ws, CloseCode(4001), true);
            assert_eq!(reason, "server bye");
            assert_eq!(server.closed("/server-close").0, 4001);
        });
    }
}

#[cfg(feature = "deflate")]
#[test]
fn rust_client_permessage_deflate_against_python_server() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let config = ClientConfig::new(format!("127.0.0.1:{}", server.port), "/echo")
                .deflate(wsmachine::DeflateConfig::new());
            let (mut ws, extensions) = server.connect_with(config);
            assert_eq!(extension_name(&extensions), "permessage-deflate");
            assert_eq!(server.opened("/echo"), "permessage-deflate");
            let text = "compressible text, ".repeat(LARGE / 19);
            ws.conn().send_text(&text).unwrap();
            expect_text(&mut ws, &text);
            // Incompressible bytes (a xorshift stream) and small messages with context takeover.
            let mut x = 0x2545_f491_4f6c_dd1d_u64;
            let noise: Vec<u8> = (0..LARGE / 4)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            ws.conn().send_binary(&noise).unwrap();
            expect_binary(&mut ws, &noise);
            let repeated = "context takeover: ".repeat(10);
            for message in ["short", &repeated, &repeated] {
                ws.conn().send_text(message).unwrap();
                expect_text(&mut ws, message);
            }
            close_and_finish(ws, 1000, "");
            assert_eq!(server.closed("/echo"), (1000, String::new()));
        });
    }
}

#[test]
fn rust_client_without_deflate_gets_plain_frames_from_python_server() {
    if python_ready() {
        within_timeout(|| {
            let server = PythonServer::start();
            let host = format!("127.0.0.1:{}", server.port);
            let (mut ws, extensions) = server.connect_with(ClientConfig::new(host, "/echo"));
            assert_eq!(extensions, "");
            assert_eq!(server.opened("/echo"), "");
            ws.conn().send_text("plain").unwrap();
            expect_text(&mut ws, "plain");
            close_and_finish(ws, 1000, "");
        });
    }
}
