//! Regression tests for what the fuzz targets in `fuzz/` found, one per finding, named
//! after the target and the invariant it broke. A finding the engine does not handle yet
//! is marked `#[ignore = "engine bug: ..."]` so the suite stays green; run them with
//! `cargo test --test fuzz_regressions -- --include-ignored`.

use wsmachine::{Connection, Event, Failure, ServerConfig, State};

/// A valid Upgrade request whose last header line ends in a bare LF, so that the head
/// ends (for httparse, RFC 7230 §3.5 tolerance) at `\n\r\n`, before any CRLF CRLF.
const REQUEST_ENDING_IN_BARE_LF: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\n\r\n";

/// A masked text frame (key 0, so the payload is as written) whose payload holds CRLF CRLF.
fn text_frame_with_crlfcrlf() -> Vec<u8> {
    let payload = b"a\r\n\r\nb";
    let mut f = vec![0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Found by `handshake_server` (invariant: the bytes after the head are frames, nothing is
/// lost). The engine ends the head at the first CRLF CRLF, but parses it with httparse,
/// which ends a head at a bare-LF line too; the bytes between the two ends were dropped.
/// Here the first frame's payload holds the CRLF CRLF, so the frame header and half the
/// payload vanished into the "head": the server opened, reported no message, and read the
/// payload's tail (`b`) as the start of a frame.
///
/// Expected: refuse the head (400), or open and deliver the message. Either is fine.
#[test]
#[ignore = "engine bug: head cut at the first CRLF CRLF while httparse ends it at a bare-LF line; the bytes between are lost"]
fn handshake_server_head_ending_in_bare_lf_loses_no_frame() {
    let mut server = Connection::server(ServerConfig::new());
    let mut input = REQUEST_ENDING_IN_BARE_LF.to_vec();
    input.extend_from_slice(&text_frame_with_crlfcrlf());
    server.receive(&input);
    let got = events(&mut server);
    match got.first() {
        Some(Event::Error(Failure::Handshake(_))) => assert_eq!(server.state(), State::Closed),
        Some(Event::Open { .. }) => {
            assert!(
                matches!(got.get(1), Some(Event::Text(t)) if t.as_str() == "a\r\n\r\nb"),
                "the first message was lost: {got:?}"
            );
        }
        other => panic!("neither refused nor opened: {other:?} ({got:?})"),
    }
}

/// The same head without a CRLF CRLF anywhere after it: the request is complete for
/// httparse, yet the server waited for more bytes (until the handshake timeout) instead
/// of answering or refusing it.
#[test]
#[ignore = "engine bug: a head that httparse ends at a bare-LF line is never answered"]
fn handshake_server_head_ending_in_bare_lf_is_answered() {
    let mut server = Connection::server(ServerConfig::new());
    server.receive(REQUEST_ENDING_IN_BARE_LF);
    let got = events(&mut server);
    assert!(
        matches!(got.first(), Some(Event::Open { .. } | Event::Error(_))),
        "a complete request got no answer: {got:?}, state {:?}",
        server.state()
    );
}
