//! The C programs of `c-examples/`, built against the library by `make`, talking to the
//! Rust examples, to Python `websockets`, and to each other over 127.0.0.1; and the C test
//! program that drives the API directly.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod client;
    pub mod examples;
    pub mod process;
    pub mod programs;
    pub mod python;
    pub mod raw;
    pub mod servers;
    pub mod skip;
}

use std::process::Command;
use std::time::Duration;
use support::client::{Got, WsClient};
use support::process::{describe, run_with_timeout};
use support::programs::{c_programs, rust_example};
use support::raw;
use support::servers::{RustEchoServer, Server};
use support::{python, skip};

const GREETING: &str = "Привет, сервер!";
const TIMEOUT: Duration = Duration::from_secs(60);

fn c_server(name: &str) -> Server {
    let mut cmd = Command::new(c_programs(false).join(name));
    cmd.arg("0");
    Server::start(cmd, name)
}

#[test]
fn c_api_test_program_passes() {
    let out = run_with_timeout(
        &mut Command::new(c_programs(false).join("api_test")),
        TIMEOUT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Every test the program lists passed, and it ran them all (at least the 15 of today).
    let ran = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(
        out.status.success()
            && ran >= 15
            && stdout.contains(&format!("api_test: {ran} passed, 0 failed")),
        "{}",
        describe(&out)
    );
}

#[test]
fn c_client_against_rust_echo_server() {
    let server = RustEchoServer::start();
    let out = run_with_timeout(
        Command::new(c_programs(false).join("client"))
            .arg(format!("ws://127.0.0.1:{}/chat", server.port)),
        TIMEOUT,
    );
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stdout.contains(&format!("received text: {GREETING}")),
        "{stdout}"
    );
    assert!(stdout.contains("closed: clean=1 code=1000"), "{stdout}");
}

#[test]
fn c_client_fails_without_a_server_or_the_handshake() {
    // Nothing listens: exit status 1, not 0.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = c_programs(false).join("client");
    let out = run_with_timeout(
        Command::new(&client).arg(format!("ws://127.0.0.1:{port}/")),
        TIMEOUT,
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));

    // A server that answers HTTP 404: the handshake fails, exit status 1.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    });
    let out = run_with_timeout(
        Command::new(&client).arg(format!("ws://127.0.0.1:{port}/")),
        TIMEOUT,
    );
    answer.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("404"),
        "{}",
        describe(&out)
    );
}

#[test]
fn rust_client_against_c_echo_server() {
    let client_bin = rust_example("client");
    let server = c_server("echo_server");
    let out = run_with_timeout(Command::new(client_bin).arg(server.url("/")), TIMEOUT);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(GREETING), "{stdout}");
    let (status, stderr) = server.stop();
    assert!(status.success(), "echo server: {status}\n{stderr}");
    assert!(stderr.contains("served 1 connections"), "{stderr}");
}

#[test]
fn c_client_against_c_echo_server() {
    let server = c_server("echo_server");
    let out = run_with_timeout(
        Command::new(c_programs(false).join("client")).arg(server.url("/echo")),
        TIMEOUT,
    );
    assert!(out.status.success(), "{}", describe(&out));
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn python_websockets_against_c_echo_server() {
    if !skip::ready(python::websockets()) {
        return;
    }
    let server = c_server("echo_server");
    for scenario in python::ECHO_SCENARIOS {
        python::echo_client(server.port, scenario, TIMEOUT);
    }
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
}

#[test]
fn c_echo_server_echoes_each_kind_and_closes_on_shutdown() {
    let server = c_server("echo_server");
    let mut client = WsClient::connect(server.port, "/").unwrap();
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
    // SIGTERM: the server closes its clients with 1001 ("going away") and exits 0.
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Closed {
            clean: true,
            code: 1001
        })
    );
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn broadcast_server_passes_messages_to_all_other_clients() {
    let server = c_server("broadcast_server");
    let mut clients: Vec<WsClient> = (0..3)
        .map(|_| WsClient::connect(server.port, "/room").unwrap())
        .collect();
    // Every client is open, so the server has all three.
    for from in 0..3 {
        let message = format!("message from client {from}");
        clients[from].send_text(&message).unwrap();
        for (to, client) in clients.iter_mut().enumerate() {
            if to != from {
                assert_eq!(
                    client.next(TIMEOUT).unwrap(),
                    Some(Got::Text(message.clone())),
                    "client {to}"
                );
            }
        }
    }
    clients[1].send_binary(b"\x00bin").unwrap();
    for to in [0, 2] {
        assert_eq!(
            clients[to].next(TIMEOUT).unwrap(),
            Some(Got::Binary(b"\x00bin".to_vec()))
        );
    }
    // No client got its own messages back: nothing else is waiting.
    for client in clients.iter_mut() {
        assert_eq!(client.next(Duration::from_millis(300)).unwrap(), None);
    }
    for client in clients {
        assert!(client.close().unwrap(), "close was not clean");
    }
    let (status, stderr) = server.stop();
    assert!(
        status.success() && stderr.contains("served 3 connections"),
        "{stderr}"
    );
}

/// A client that stops reading is closed with 1008 once more than 1 MiB waits for it (as the
/// Rust chat server does), instead of silently missing messages; the others get every one.
#[test]
fn broadcast_server_closes_a_client_that_stops_reading() {
    use std::io::Read;
    let server = c_server("broadcast_server");
    let mut talker = WsClient::connect(server.port, "/room").unwrap();
    let mut listener = WsClient::connect(server.port, "/room").unwrap();
    let (mut slow, early) = raw::open(server.port, false);
    // The server has all three once a message reaches the listener after the slow one's 101.
    let big = vec![0x5a; 60_000];
    // 16.8 MB: more than the loopback socket buffers and the 1 MiB bound hold between them.
    for i in 0..280 {
        talker.send_binary(&big).unwrap();
        assert_eq!(
            listener.next(TIMEOUT).unwrap(),
            Some(Got::Binary(big.clone())),
            "message {i}"
        );
    }
    // The slow client's stream now: messages, then a close frame with 1008, then the end
    // (within the 5 s close timeout, which starts when the close frame is queued).
    let mut seen = early;
    let mut buf = vec![0; 1 << 16];
    loop {
        match slow.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the slow client's read: {e} after {} bytes", seen.len()),
        }
    }
    let frames = server_frames(&seen);
    let binaries = frames.iter().filter(|(op, _)| *op == 2).count();
    assert!(
        binaries < 280,
        "{binaries} messages reached a client that did not read"
    );
    let (op, payload) = frames.last().expect("frames before the end");
    assert_eq!(*op, 8, "the last frame is a close");
    assert_eq!(payload[..2], 1008u16.to_be_bytes(), "{payload:?}");
    drop(slow);
    assert!(talker.close().unwrap() && listener.close().unwrap());
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("too slow: ") && stderr.contains("closing with 1008"),
        "{stderr}"
    );
}

/// The frames (opcode, payload) in unmasked server output.
fn server_frames(mut data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while data.len() >= 2 {
        let (len, header) = match data[1] & 0x7F {
            126 => (usize::from(u16::from_be_bytes([data[2], data[3]])), 4),
            127 => (
                usize::try_from(u64::from_be_bytes(data[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            n => (usize::from(n), 2),
        };
        if data.len() < header + len {
            break;
        }
        frames.push((data[0] & 0x0F, data[header..header + len].to_vec()));
        data = &data[header + len..];
    }
    frames
}

#[test]
fn c_echo_server_pings_idle_clients_and_drops_silent_ones() {
    use std::io::{Read, Write};
    let mut cmd = Command::new(c_programs(false).join("echo_server"));
    cmd.args(["0", "127.0.0.1", "500"]); // ping after 500 ms of silence, 500 ms for the pong
    let server = Server::start(cmd, "echo_server-keepalive");
    let started = std::time::Instant::now();
    // A client whose engine answers pings.
    let mut alive = WsClient::connect(server.port, "/").unwrap();
    // A client that completes the handshake, then never answers anything (on its own
    // thread, while this one keeps the other client answering).
    let port = server.port;
    let silent = std::thread::spawn(move || {
        let mut silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        silent
            .write_all(
                format!(
                    "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                     Sec-WebSocket-Version: 13\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
        silent
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut received = Vec::new();
        let _ = silent.read_to_end(&mut received); // until the server ends the connection
        (received, started.elapsed())
    });
    // Pinged like the other, this one answers and stays.
    assert_eq!(alive.next(Duration::from_millis(2500)).unwrap(), None);

    let (received, dropped_after) = silent.join().unwrap();
    let head = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no handshake answer")
        + 4;
    let frames = server_frames(&received[head..]);
    assert!(
        frames.first().is_some_and(|(op, _)| *op == 0x9),
        "first a ping: {frames:?}"
    );
    let last = frames.last().unwrap();
    assert_eq!(last.0, 0x8, "then a close frame: {frames:?}");
    assert_eq!(
        &last.1[..2],
        &1011u16.to_be_bytes(),
        "with 1011: {frames:?}"
    );
    assert!(
        dropped_after < Duration::from_secs(5),
        "dropped after {dropped_after:?}"
    );

    // The answering client is still served.
    alive.send_text("still here").unwrap();
    assert_eq!(
        alive.next(TIMEOUT).unwrap(),
        Some(Got::Text("still here".into()))
    );
    assert!(alive.close().unwrap());
    let (status, _) = server.stop();
    assert!(status.success());
}
