//! Conformance of the C echo server, case by case in the manner of the Autobahn TestSuite's
//! fuzzingclient (framing, pings, reserved bits and opcodes, fragmentation, UTF-8, closing,
//! large messages), with hand-made frames over raw TCP. Each case runs against the C echo
//! server and the Rust echo server example: both must answer with exactly the expected
//! frames and end the TCP connection.

mod c_support;
mod child_process;

use c_support::{c_programs, RustEchoServer, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

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

/// Opens a connection, sends `input` after the handshake, and reads until the server ends
/// TCP (or 10 s pass).
fn exchange(port: u16, input: &[u8]) -> Answer {
    exchange_offering(port, input, None).1
}

/// [`exchange`] with a `Sec-WebSocket-Extensions` offer; also returns the handshake answer.
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

struct Case {
    name: &'static str,
    input: Vec<u8>,
    expected: Vec<(u8, Vec<u8>)>,
}

/// A case that ends with our clean close (1000), which the server echoes.
fn clean(name: &'static str, mut input: Vec<u8>, mut expected: Vec<(u8, Vec<u8>)>) -> Case {
    input.extend(fin(CLOSE, &close_payload(1000, "")));
    expected.push((CLOSE, close_payload(1000, "")));
    Case {
        name,
        input,
        expected,
    }
}

/// A case the server must fail with `code`: whatever it echoed before, then its close frame.
/// The input still ends with a close of ours, which the server must ignore.
fn failing(name: &'static str, mut input: Vec<u8>, before: Vec<(u8, Vec<u8>)>, code: u16) -> Case {
    input.extend(fin(CLOSE, &close_payload(1000, "")));
    let mut expected = before;
    expected.push((CLOSE, code.to_be_bytes().to_vec()));
    Case {
        name,
        input,
        expected,
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // 1.x: text and binary of every length form.
    for len in [0usize, 125, 126, 127, 65535, 65536, 1 << 20] {
        let text = "*".repeat(len).into_bytes();
        cases.push(clean("1.1 text", fin(TEXT, &text), vec![(TEXT, text)]));
        let bin = vec![0xFEu8; len];
        cases.push(clean("1.2 binary", fin(BINARY, &bin), vec![(BINARY, bin)]));
    }
    // 2.x: pings get pongs with the same payload; unsolicited pongs get nothing.
    cases.push(clean(
        "2.1 empty ping",
        fin(PING, b""),
        vec![(PONG, vec![])],
    ));
    cases.push(clean(
        "2.4 ping of 125 bytes",
        fin(PING, &[0xAB; 125]),
        vec![(PONG, vec![0xAB; 125])],
    ));
    cases.push(failing(
        "2.5 ping of 126 bytes",
        fin(PING, &[1; 126]),
        vec![],
        1002,
    ));
    cases.push(clean("2.7 unsolicited pong", fin(PONG, b"x"), vec![]));
    let many: Vec<u8> = (0..10).flat_map(|i| fin(PING, &[i])).collect();
    cases.push(clean(
        "2.10 ten pings",
        many,
        (0..10).map(|i| (PONG, vec![i])).collect(),
    ));
    // 3.x: reserved bits without an extension.
    for rsv in [0x40, 0x20, 0x10, 0x70] {
        cases.push(failing(
            "3 RSV bits",
            frame(0x80 | rsv | TEXT, b"x"),
            vec![],
            1002,
        ));
    }
    cases.push(failing(
        "3.2 RSV after a good message",
        [fin(TEXT, b"ok"), frame(0x80 | 0x20 | TEXT, b"x")].concat(),
        vec![(TEXT, b"ok".to_vec())],
        1002,
    ));
    // 4.x: reserved opcodes.
    for op in [3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
        cases.push(failing("4 reserved opcode", fin(op, b""), vec![], 1002));
    }
    // 5.x: fragmentation.
    cases.push(clean(
        "5.3 text in two fragments",
        [frame(TEXT, b"frag"), fin(0, b"ment")].concat(),
        vec![(TEXT, b"fragment".to_vec())],
    ));
    cases.push(clean(
        "5.6 ping between fragments",
        [frame(TEXT, b"a"), fin(PING, b"p"), fin(0, b"b")].concat(),
        vec![(PONG, b"p".to_vec()), (TEXT, b"ab".to_vec())],
    ));
    cases.push(failing(
        "5.1 fragmented ping",
        frame(PING, b"p"),
        vec![],
        1002,
    ));
    cases.push(failing(
        "5.9 continuation first",
        fin(0, b"x"),
        vec![],
        1002,
    ));
    cases.push(failing(
        "5.18 new message inside a fragmented one",
        [frame(TEXT, b"a"), fin(TEXT, b"b")].concat(),
        vec![],
        1002,
    ));
    // 6.x: UTF-8.
    let hello = "κόσμε Привет 🎉".as_bytes();
    cases.push(clean(
        "6.2 valid UTF-8",
        fin(TEXT, hello),
        vec![(TEXT, hello.to_vec())],
    ));
    cases.push(clean(
        "6.4 code point split across fragments",
        [
            frame(TEXT, &hello[..2]),
            frame(0, &hello[2..3]),
            fin(0, &hello[3..]),
        ]
        .concat(),
        vec![(TEXT, hello.to_vec())],
    ));
    for bad in [
        &b"\xff"[..],
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xf4\x90\x80\x80",
        b"ab\xe2\x82",
    ] {
        cases.push(failing("6 invalid UTF-8", fin(TEXT, bad), vec![], 1007));
    }
    cases.push(failing(
        "6.4 invalid UTF-8 in a later fragment",
        [frame(TEXT, b"ok"), fin(0, b"\xf8")].concat(),
        vec![],
        1007,
    ));
    // 7.x: closing.
    cases.push(Case {
        name: "7.1.1 text then close in one write",
        input: [fin(TEXT, b"last"), fin(CLOSE, &close_payload(1000, "bye"))].concat(),
        expected: vec![(TEXT, b"last".to_vec()), (CLOSE, close_payload(1000, ""))],
    });
    cases.push(Case {
        name: "7.1.5 data after close is ignored",
        input: [fin(CLOSE, &close_payload(1000, "")), fin(TEXT, b"late")].concat(),
        expected: vec![(CLOSE, close_payload(1000, ""))],
    });
    cases.push(Case {
        name: "7.3.1 empty close",
        input: fin(CLOSE, b""),
        expected: vec![(CLOSE, vec![])],
    });
    for code in [1000u16, 1001, 1002, 1003, 1007, 1011, 3000, 4999] {
        cases.push(Case {
            name: "7.7 valid close code echoed",
            input: fin(CLOSE, &close_payload(code, "why")),
            expected: vec![(CLOSE, close_payload(code, ""))],
        });
    }
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        cases.push(failing(
            "7.9 invalid close code",
            fin(CLOSE, &close_payload(code, "")),
            vec![],
            1002,
        ));
    }
    cases.push(failing(
        "7.3.2 close payload of one byte",
        fin(CLOSE, b"\x03"),
        vec![],
        1002,
    ));
    cases.push(failing(
        "7.5.1 close reason not UTF-8",
        fin(CLOSE, &[0x03, 0xE8, 0xFF]),
        vec![],
        1007,
    ));
    cases
}

/// Runs every case against the server on `port`; returns the failures.
fn run_cases(server: &str, port: u16) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases() {
        let answer = exchange(port, &case.input);
        let got: Vec<(u8, Vec<u8>)> = answer
            .frames
            .iter()
            .map(|(b0, p)| {
                let op = b0 & 0x0F;
                // The reason of the server's close frame is free text: compare the code only.
                if op == CLOSE && p.len() > 2 {
                    (op, p[..2].to_vec())
                } else {
                    (op, p.clone())
                }
            })
            .collect();
        // Whole, uncompressed frames: FIN set, no RSV bit.
        let all_fin = answer.frames.iter().all(|(b0, _)| b0 & 0xF0 == 0x80);
        if got != case.expected || !answer.tcp_closed || !all_fin {
            let shown: Vec<String> = got
                .iter()
                .map(|(op, p)| format!("op {op:#x} {} bytes {:?}", p.len(), &p[..p.len().min(8)]))
                .collect();
            failures.push(format!(
                "{server}: case {}: got {shown:?}, tcp closed {}",
                case.name, answer.tcp_closed
            ));
        }
    }
    failures
}

#[test]
fn c_echo_server_passes_the_cases_as_the_rust_echo_server_does() {
    let mut cmd = Command::new(c_programs(false).join("echo_server"));
    cmd.arg("0");
    let c_server = Server::start(cmd, "echo_server-conformance");
    let rust_server = RustEchoServer::start();
    let count = cases().len();
    let mut failures = run_cases("C echo server", c_server.port);
    failures.extend(run_cases("Rust echo server", rust_server.port));
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{count} cases: the C and the Rust echo servers answer every one as expected");
    let (status, _) = c_server.stop();
    assert!(status.success());
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
    let c_server = Server::start(cmd, "echo_server-deflate");
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
