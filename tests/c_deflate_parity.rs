//! The C echo server and the Rust echo server example answer permessage-deflate traffic
//! byte for byte alike: the same negotiation, the same compressed frames (and the same
//! 32-byte minimum below which they send plain frames), the same inflation of a client's
//! compressed message. Conformance itself is the official Autobahn TestSuite's, in
//! `tests/autobahn.rs`; this checks what the suite cannot: that the two servers agree.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod process;
    pub mod programs;
    pub mod servers;
}

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::programs::c_programs;
use support::servers::{RustEchoServer, Server};

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;

/// A client frame: `b0` is FIN/RSV/opcode, the payload is masked.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x37, 0xFA, 0x21, 0x3D];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

fn fin(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(0x80 | opcode, payload)
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// What the server sent after the handshake: its frames (first byte: FIN, RSV and opcode;
/// payload), and whether it ended the TCP connection.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    frames: Vec<(u8, Vec<u8>)>,
    tcp_closed: bool,
}

/// Opens a connection offering `extensions`, sends `input` after the handshake, and reads
/// until the server ends TCP (or 10 s pass): the handshake answer and what followed it.
fn exchange_offering(port: u16, input: &[u8], extensions: Option<&str>) -> (String, Answer) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    let offer = extensions.map_or(String::new(), |e| {
        format!("Sec-WebSocket-Extensions: {e}\r\n")
    });
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         {offer}Sec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(request.as_bytes()).unwrap();
    // The server may answer part of the input while we still write it: write from a thread.
    let mut writer = s.try_clone().unwrap();
    let input = input.to_vec();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&input);
    });
    let mut received = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(10);
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let tcp_closed = loop {
        if Instant::now() > deadline {
            break false;
        }
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => {}
        }
    };
    let _ = sending.join();
    let head_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no handshake answer")
        + 4;
    assert!(received.starts_with(b"HTTP/1.1 101"), "no 101 answer");
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let answer = Answer {
        frames: parse_frames(&received[head_end..]),
        tcp_closed,
    };
    (head, answer)
}

fn parse_frames(mut data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while data.len() >= 2 {
        assert_eq!(data[1] & 0x80, 0, "a server frame was masked");
        let (len, header) = match data[1] & 0x7F {
            126 => (u16::from_be_bytes([data[2], data[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(data[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        assert!(
            data.len() >= header + len,
            "truncated frame from the server"
        );
        frames.push((data[0], data[header..header + len].to_vec()));
        data = &data[header + len..];
    }
    assert!(data.is_empty(), "trailing bytes from the server");
    frames
}

/// With permessage-deflate offered, both servers accept it, answer a long message with the
/// same compressed frame (RSV1 set), and inflate a compressed message from the client.
fn deflate_answers(port: u16) -> (String, Answer) {
    // "Hello" compressed with an empty window, sync-flushed, tail removed (RFC 7692 §7.2.3.1).
    let compressed_hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let text = "compress me ".repeat(20);
    let input = [
        fin(TEXT, text.as_bytes()),
        frame(0x80 | 0x40 | TEXT, &compressed_hello),
        fin(CLOSE, &close_payload(1000, "")),
    ]
    .concat();
    exchange_offering(port, &input, Some("permessage-deflate"))
}

#[test]
fn c_echo_server_speaks_permessage_deflate_as_the_rust_echo_server_does() {
    let mut cmd = Command::new(c_programs(false).join("echo_server"));
    cmd.arg("0");
    let c_server = Server::start(cmd, "echo_server-deflate-parity");
    let rust_server = RustEchoServer::start();
    let (c_head, c_answer) = deflate_answers(c_server.port);
    let (rust_head, rust_answer) = deflate_answers(rust_server.port);
    for head in [&c_head, &rust_head] {
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-extensions: permessage-deflate"),
            "{head}"
        );
    }
    assert_eq!(c_answer, rust_answer, "the C and Rust echo servers differ");
    let frames = &c_answer.frames;
    assert_eq!(frames.len(), 3, "{frames:?}");
    // The long text comes back compressed (FIN + RSV1 + text), far shorter; the compressed
    // "Hello" was inflated, and comes back plain (under the 32-byte minimum for compression).
    assert_eq!(frames[0].0, 0x80 | 0x40 | TEXT);
    assert!(frames[0].1.len() < 60, "{} bytes", frames[0].1.len());
    assert_eq!(frames[1], (0x80 | TEXT, b"Hello".to_vec()));
    assert_eq!(
        (frames[2].0, &frames[2].1[..2]),
        (0x80 | CLOSE, &[0x03, 0xe8][..])
    );
    assert!(c_answer.tcp_closed);
    let (status, _) = c_server.stop();
    assert!(status.success());
}
