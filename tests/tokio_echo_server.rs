//! The echo server on tokio (`wsmachine-tokio`'s `tokio_echo_server` example) as a process
//! on 127.0.0.1, against Python's `websockets` client (`tests/python/echo_client.py`) and
//! our blocking client: every kind of message, a plain `GET` for its page, keepalive against
//! a client that stops answering, and a client that stops reading. Node's `ws` and Chromium
//! run against it in `tests/node_ws.rs` and `tests/browser.rs`, the Autobahn TestSuite in
//! `tests/autobahn.rs`.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod client;
    pub mod examples;
    pub mod process;
    pub mod programs;
    pub mod python;
    pub mod servers;
    pub mod skip;
}

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::client::{Got, WsClient};
use support::programs::tokio_example;
use support::servers::RustEchoServer;
use support::{python, skip};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The tokio echo server on a free port, with `args`; its port.
fn start(args: &[&str]) -> (RustEchoServer, u16) {
    let server = RustEchoServer::start_program_with(tokio_example("tokio_echo_server"), args);
    let port = server.port;
    (server, port)
}

#[test]
fn python_websockets_against_the_tokio_echo_server() {
    if !skip::ready(python::websockets()) {
        return;
    }
    let (_server, port) = start(&[]);
    for scenario in python::ECHO_SCENARIOS {
        python::echo_client(port, scenario, TIMEOUT);
    }
}

#[test]
fn the_blocking_client_gets_its_echoes_and_a_plain_get_gets_the_page() {
    let (_server, port) = start(&[]);
    let mut client = WsClient::connect(port, "/").unwrap();
    client.send_text("text ✓").unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Text("text ✓".into()))
    );
    client.send_binary(&[0, 159, 255]).unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Binary(vec![0, 159, 255]))
    );

    let mut http = TcpStream::connect(("127.0.0.1", port)).unwrap();
    http.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    http.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut page = String::new();
    http.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("new WebSocket"), "not the page: {page}");
}

/// A client that completes the handshake and then neither reads nor answers: keepalive
/// drops it, and the server goes on serving others.
#[test]
fn keepalive_drops_a_silent_client() {
    let (_server, port) = start(&["--ping-interval-ms", "300"]);
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    silent
        .write_all(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let mut received = Vec::new();
    loop {
        match silent.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the server kept a silent client: {e}"),
        }
    }
    let waited = started.elapsed();
    // A ping after one to two intervals, then the pong deadline of one more.
    assert!(waited < Duration::from_secs(5), "dropped after {waited:?}");
    assert!(received.starts_with(b"HTTP/1.1 101"));
    // After the head: the keepalive ping (FIN + ping), then whatever closing the server did.
    let head_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the head")
        + 4;
    assert_eq!(received.get(head_end), Some(&0x89), "no ping came first");
    let mut client = WsClient::connect(port, "/").unwrap();
    client.send_text("still here").unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Text("still here".into()))
    );
}
