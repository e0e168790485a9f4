//! Writes the seed corpora under `fuzz/seeds/<target>/`: RFC 6455's example frames and
//! handshakes, browser-shaped handshakes, fragmented and control-interleaved messages, and
//! a few broken inputs of each kind. Run from `fuzz/`:
//!
//! ```sh
//! cargo run --example make_seeds
//! ```
//!
//! Each seed's name says what it is; the files are committed, so this only needs running
//! again when a target's input layout changes.

use std::fs;
use std::path::Path;
use wsfuzz::input::Input;
use wsfuzz::wire::{encode, LengthForm};

const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

const CHROME_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: localhost:9001\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\nOrigin: http://localhost:9001\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

const FIREFOX_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: localhost:9001\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost:9001\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nConnection: keep-alive, Upgrade\r\nSec-Fetch-Dest: empty\r\nSec-Fetch-Mode: websocket\r\nSec-Fetch-Site: same-origin\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n";

const SAFARI_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: localhost:9001\r\nOrigin: http://localhost:9001\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\nUpgrade: websocket\r\nUser-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15\r\nConnection: Upgrade\r\n\r\n";

const RFC_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

const PLAIN_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

const PROXY_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nServer: nginx/1.24.0\r\nDate: Sat, 28 Nov 2026 12:00:00 GMT\r\nconnection: upgrade\r\nupgrade: WebSocket\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// A frame as a client sends it (masked with the RFC's key) or a server (unmasked).
fn frame(client: bool, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    encode(
        fin,
        0,
        opcode,
        client.then_some(RFC_KEY),
        payload,
        LengthForm::Minimal,
    )
}

fn close(client: bool, code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    frame(client, true, 8, &p)
}

/// Frame sequences from one peer, for the connection targets (named).
fn streams(client: bool) -> Vec<(&'static str, Vec<u8>)> {
    let f = |fin, op, p: &[u8]| frame(client, fin, op, p);
    let hello = "Привет, сервер!".as_bytes();
    vec![
        ("rfc-hello", f(true, 1, b"Hello")),
        (
            "rfc-fragmented-hello",
            [f(false, 1, b"Hel"), f(true, 0, b"lo")].concat(),
        ),
        ("rfc-ping", f(true, 9, b"Hello")),
        ("rfc-pong", f(true, 10, b"Hello")),
        ("binary-256", f(true, 2, &[0xab; 256])),
        // The 64-bit length form, with only the start of its payload.
        (
            "binary-65536-partial",
            f(true, 2, &vec![7; 65536])[..40].to_vec(),
        ),
        (
            "text-split-codepoint-with-ping",
            [
                f(false, 1, &hello[..1]),
                f(true, 9, b"between"),
                f(false, 0, &hello[1..7]),
                f(true, 10, b""),
                f(true, 0, &hello[7..]),
            ]
            .concat(),
        ),
        (
            "messages-then-close",
            [
                f(true, 1, hello),
                f(true, 2, b"\x00\x01"),
                close(client, 1000, "bye"),
            ]
            .concat(),
        ),
        ("close-empty", f(true, 8, b"")),
        ("close-going-away", close(client, 1001, "going away")),
        ("bad-reserved-opcode", f(true, 3, b"x")),
        (
            "bad-utf8",
            f(
                true,
                1,
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            ),
        ),
        ("bad-continuation-first", f(true, 0, b"x")),
        (
            "bad-new-message-in-fragmented",
            [f(false, 1, b"a"), f(true, 2, b"b")].concat(),
        ),
        ("bad-close-code-1005", close(client, 1005, "")),
        ("bad-close-one-byte", f(true, 8, b"\x03")),
        ("bad-fragmented-ping", f(false, 9, b"p")),
        (
            "bad-rsv1",
            encode(
                true,
                4,
                1,
                client.then_some(RFC_KEY),
                b"z",
                LengthForm::Minimal,
            ),
        ),
        ("bad-masking", frame(!client, true, 1, b"wrong mask")),
        ("bad-length-msb", {
            let mut v = vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0];
            v.extend_from_slice(&RFC_KEY);
            v
        }),
        ("huge-declared-length", {
            let mut v = vec![
                0x82,
                if client { 0xff } else { 0x7f },
                0,
                0,
                0,
                1,
                0,
                0,
                0,
                0,
            ];
            if client {
                v.extend_from_slice(&RFC_KEY);
            }
            v
        }),
        (
            "nonminimal-length",
            encode(
                true,
                0,
                1,
                client.then_some(RFC_KEY),
                b"hi",
                LengthForm::Extended64,
            ),
        ),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");

    // frame_header: single frames from both roles.
    let dir = root.join("frame_header");
    for (name, bytes) in streams(true).into_iter().chain(streams(false)) {
        let client = bytes.get(1).is_some_and(|b| b & 0x80 != 0);
        let role = if client { "masked" } else { "unmasked" };
        write(
            &dir,
            &format!("{role}-{name}"),
            &bytes[..bytes.len().min(64)],
        );
    }

    // utf8: [cuts n][n points][text].
    let dir = root.join("utf8");
    let texts: &[(&str, &[u8])] = &[
        ("russian", "Привет, сервер!".as_bytes()),
        ("emoji", "a😀b€c".as_bytes()),
        ("kosme", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
        ("surrogate", b"ab\xed\xa0\x80cd"),
        ("overlong", b"\xc0\xaf"),
        ("above-max", b"\xf4\x90\x80\x80"),
        ("truncated", b"abc\xe2\x82"),
        ("bad-continuation", b"\xe2\x28\xa1"),
    ];
    for (name, text) in texts {
        let mut v = vec![3u8, 1, 2, 5];
        v.extend_from_slice(text);
        write(&dir, name, &v);
    }

    // handshake_server: [flags][stride][request]. Flags bit i offers PROTOCOLS[i]
    // (chat, superchat, v2.json, mqtt), 0x10 defers the accept.
    let dir = root.join("handshake_server");
    let hello = frame(true, true, 1, b"Hello");
    let requests: &[(&str, u8, &str)] = &[
        ("rfc", 0x03, RFC_REQUEST),
        ("rfc-deferred", 0x13, RFC_REQUEST),
        ("chrome", 0x00, CHROME_REQUEST),
        ("firefox", 0x01, FIREFOX_REQUEST),
        ("safari", 0x00, SAFARI_REQUEST),
    ];
    for (name, flags, req) in requests {
        write(&dir, name, &[&[*flags, 255], req.as_bytes()].concat());
        write(
            &dir,
            &format!("{name}-then-frame"),
            &[&[*flags, 7], req.as_bytes(), &hello].concat(),
        );
    }
    let broken: &[(&str, &str, &str)] = &[
        ("bad-version-8", "Version: 13", "Version: 8"),
        ("bad-http10", "HTTP/1.1", "HTTP/1.0"),
        ("bad-post", "GET ", "POST "),
        (
            "bad-short-key",
            "dGhlIHNhbXBsZSBub25jZQ==",
            "dGhlIHNhbXBsZQ==",
        ),
        ("bad-no-upgrade", "Upgrade: websocket\r\n", ""),
        (
            "bad-two-keys",
            "Origin:",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin:",
        ),
    ];
    for (name, from, to) in broken {
        write(
            &dir,
            name,
            &[&[0x03, 255], RFC_REQUEST.replacen(from, to, 1).as_bytes()].concat(),
        );
    }

    // handshake_client: [flags][stride][answer]; the client's key is the RFC's.
    let dir = root.join("handshake_client");
    let server_hello = frame(false, true, 1, b"Hello");
    let answers: &[(&str, u8, &str)] = &[
        ("rfc", 0x03, RFC_RESPONSE),
        ("plain", 0x00, PLAIN_RESPONSE),
        ("proxy", 0x00, PROXY_RESPONSE),
    ];
    for (name, flags, resp) in answers {
        write(&dir, name, &[&[*flags, 255], resp.as_bytes()].concat());
        write(
            &dir,
            &format!("{name}-then-frame"),
            &[&[*flags, 5], resp.as_bytes(), &server_hello].concat(),
        );
    }
    let broken: &[(&str, &str, &str)] = &[
        ("bad-200", "101 Switching Protocols", "200 OK"),
        ("bad-accept", "xOo=", "xOA="),
        (
            "bad-unoffered-protocol",
            "Protocol: chat",
            "Protocol: superchat",
        ),
        (
            "bad-extension",
            "\r\n\r\n",
            "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        ),
    ];
    for (name, from, to) in broken {
        write(
            &dir,
            name,
            &[&[0x01, 255], RFC_RESPONSE.replacen(from, to, 1).as_bytes()].concat(),
        );
    }

    // connection_server / connection_client: an empty script (a generated handshake) and
    // the peer's frames as wire bytes; `raw-*` seeds set raw_handshake (script [1]) and
    // carry the handshake in the wire.
    for (target, client_frames) in [("connection_server", true), ("connection_client", false)] {
        let dir = root.join(target);
        for (name, bytes) in streams(client_frames) {
            write(&dir, name, &Input::join(&[], &bytes));
        }
        let head = if client_frames {
            CHROME_REQUEST
        } else {
            RFC_RESPONSE
        };
        let [first, ..] = &streams(client_frames)[..] else {
            unreachable!()
        };
        write(
            &dir,
            "raw-handshake-then-hello",
            &Input::join(&[1], &[head.as_bytes(), &first.1].concat()),
        );
        if client_frames {
            write(
                &dir,
                "raw-firefox-then-hello",
                &Input::join(&[1], &[FIREFOX_REQUEST.as_bytes(), &first.1].concat()),
            );
        }
    }

    // roundtrip, deflate, ffi: `arbitrary` bytes; a few fixed patterns give them somewhere
    // to start.
    for target in ["roundtrip", "deflate", "ffi"] {
        let dir = root.join(target);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..8 {
            let bytes: Vec<u8> = (0..64 + 48 * i)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 32) as u8
                })
                .collect();
            write(&dir, &format!("random-{i}"), &bytes);
        }
    }
}
