//! A raw TCP client over 127.0.0.1 that completes a WebSocket opening handshake by hand and
//! then writes and reads bytes as the test says: a peer that stops reading, or one that sends
//! crafted frames.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A connected socket with `TCP_NODELAY` and 15 s read and write timeouts, so that no test
/// waits forever on it.
pub fn tcp(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
}

/// Opens a WebSocket on `port` (offering permessage-deflate when `deflate`, which the server
/// must then accept) and returns the socket with whatever arrived after the 101's head.
pub fn open(port: u16, deflate: bool) -> (TcpStream, Vec<u8>) {
    let mut stream = tcp(port);
    let extension = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "GET /raw HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extension}\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).expect("the 101 answer");
        assert!(n > 0, "closed during the handshake");
        got.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert_eq!(head.contains("permessage-deflate"), deflate, "{head}");
    (stream, got[end..].to_vec())
}
