//! Messages handed over as `Bytes` (`send_binary_bytes`, `send_text_bytes`): the same bytes on
//! the wire as `send_binary` / `send_text`, however the output is written (one chunk at a time,
//! vectored, in short writes, or taken whole); a client's payload masked in place only when
//! nothing else holds it; compressed ones as ever; pongs in order after a queued payload.

use proptest::prelude::*;
use wsmachine::{
    Bytes, Connection, Event, MessageKind, Options, RandomSource, Role, Upgraded, Utf8Bytes,
};

/// Masking keys from a counter, so two clients mask alike.
struct Counter(u8);

impl RandomSource for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}

fn open(role: Role, extensions: &str) -> Connection {
    let upgraded = Upgraded::new(role, Options::default())
        .extensions(extensions)
        .random(Counter(0));
    let mut conn = Connection::from_upgraded(upgraded).expect("upgraded");
    assert!(matches!(conn.poll_event(), Some(Event::Open { .. })));
    conn
}

/// A client's masked ping frame, as the server receives it.
fn masked_ping(payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut frame = vec![0x89, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// How the output is written.
#[derive(Debug, Clone, Copy)]
enum Write {
    /// `pending_output`, up to `n` bytes of it.
    First(usize),
    /// All of `pending_output_chunks`, up to `n` bytes, in one vectored write.
    Vectored(usize),
    /// `take_output`.
    Take,
}

/// Writes some output the way `how` says; returns whether anything was written.
fn write(conn: &mut Connection, how: Write, wire: &mut Vec<u8>) -> bool {
    let before = wire.len();
    match how {
        Write::First(n) => {
            let chunk = conn.pending_output();
            let n = n.min(chunk.len());
            wire.extend_from_slice(&chunk[..n]);
            conn.consume_output(n);
        }
        Write::Vectored(n) => {
            let mut left = n;
            for chunk in conn.pending_output_chunks() {
                let k = left.min(chunk.len());
                wire.extend_from_slice(&chunk[..k]);
                left -= k;
            }
            conn.consume_output(n - left);
        }
        Write::Take => wire.extend_from_slice(&conn.take_output()),
    }
    wire.len() > before
}

/// Writes everything waiting, checking `buffered_amount` against the chunks.
fn drain(conn: &mut Connection, how: Write, wire: &mut Vec<u8>) {
    loop {
        let chunks: usize = conn.pending_output_chunks().map(<[u8]>::len).sum();
        assert_eq!(chunks, conn.buffered_amount());
        assert_eq!(conn.pending_output().is_empty(), chunks == 0);
        if chunks == 0 || !write(conn, how, wire) {
            break;
        }
    }
}

/// One step of a sender.
#[derive(Debug, Clone)]
enum Step {
    Send { kind: MessageKind, len: usize },
    Ping(Vec<u8>),
    Write(Write),
}

fn step() -> impl Strategy<Value = Step> {
    let kind = prop_oneof![Just(MessageKind::Binary), Just(MessageKind::Text)];
    let len = prop_oneof![0usize..200, 16_000usize..17_000, 60_000usize..70_000];
    let how = prop_oneof![
        (1usize..40_000).prop_map(Write::First),
        (1usize..90_000).prop_map(Write::Vectored),
        Just(Write::Take),
    ];
    prop_oneof![
        3 => (kind, len).prop_map(|(kind, len)| Step::Send { kind, len }),
        1 => proptest::collection::vec(any::<u8>(), 0..20).prop_map(Step::Ping),
        2 => how.prop_map(Step::Write),
    ]
}

fn payload(len: usize, seed: usize) -> Vec<u8> {
    // ASCII, so it serves as text too.
    (0..len).map(|i| b'a' + ((i + seed) % 26) as u8).collect()
}

/// Runs `steps` on a connection in `role`, sending with `Bytes` or slices; returns the wire.
fn run(role: Role, steps: &[Step], by_bytes: bool) -> Vec<u8> {
    let mut conn = open(role, "");
    let mut wire = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Send { kind, len } => {
                let data = payload(*len, i);
                let sent = match (by_bytes, kind) {
                    (true, MessageKind::Binary) => conn.send_binary_bytes(Bytes::from(data)),
                    (true, MessageKind::Text) => conn.send_text_bytes(
                        Utf8Bytes::try_from_bytes(Bytes::from(data)).expect("ASCII"),
                    ),
                    (false, MessageKind::Binary) => conn.send_binary(&data),
                    (false, MessageKind::Text) => {
                        conn.send_text(std::str::from_utf8(&data).expect("ASCII"))
                    }
                };
                sent.expect("send");
            }
            Step::Ping(p) if role == Role::Server => {
                conn.receive(&masked_ping(p));
                while let Some(e) = conn.poll_event() {
                    assert!(matches!(e, Event::Ping(_)), "{e:?}");
                }
            }
            Step::Ping(_) => {}
            Step::Write(how) => {
                write(&mut conn, *how, &mut wire);
            }
        }
    }
    drain(&mut conn, Write::Vectored(usize::MAX), &mut wire);
    wire
}

/// The data messages and pongs a peer decodes from `wire`.
fn decode(role: Role, wire: &[u8]) -> Vec<Event> {
    let mut peer = open(role, "");
    peer.receive(wire);
    let mut events = Vec::new();
    while let Some(e) = peer.poll_event() {
        events.push(e);
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Without pings, the bytes on the wire are those of the copying sends, however they
    /// are written.
    #[test]
    fn same_wire_as_copying_sends(role in prop_oneof![Just(Role::Server), Just(Role::Client)],
                                  steps in proptest::collection::vec(step(), 0..30)) {
        let steps: Vec<Step> = steps.into_iter().filter(|s| !matches!(s, Step::Ping(_))).collect();
        prop_assert_eq!(run(role, &steps, true), run(role, &steps, false));
    }

    /// With pings, a server's messages arrive whole and in order, and every pong answers
    /// a ping (a backlog may replace an unwritten pong by the newest).
    #[test]
    fn pings_between_queued_payloads(steps in proptest::collection::vec(step(), 0..30)) {
        let by_bytes = decode(Role::Client, &run(Role::Server, &steps, true));
        let by_copy = decode(Role::Client, &run(Role::Server, &steps, false));
        let data = |events: &[Event]| -> Vec<Event> {
            events.iter().filter(|e| matches!(e, Event::Binary(_) | Event::Text(_))).cloned().collect()
        };
        prop_assert_eq!(data(&by_bytes), data(&by_copy));
        let pings: Vec<Vec<u8>> = steps.iter().filter_map(|s| match s {
            Step::Ping(p) => Some(p.clone()),
            _ => None,
        }).collect();
        for e in &by_bytes {
            match e {
                Event::Pong(p) => prop_assert!(pings.iter().any(|q| q[..] == p[..])),
                Event::Binary(_) | Event::Text(_) => {}
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        if let Some(last) = pings.last() {
            let last_pong = by_bytes.iter().rev().find_map(|e| match e {
                Event::Pong(p) => Some(p.clone()),
                _ => None,
            });
            prop_assert_eq!(last_pong.as_deref(), Some(&last[..]));
        }
    }
}

#[test]
fn a_large_message_is_queued_without_copying_and_a_pong_follows_it() {
    let mut server = open(Role::Server, "");
    let data = Bytes::from(payload(100_000, 0));
    server.send_binary_bytes(data.clone()).unwrap();
    server.receive(&masked_ping(b"hi"));
    assert!(matches!(server.poll_event(), Some(Event::Ping(_))));
    let chunks: Vec<&[u8]> = server.pending_output_chunks().collect();
    assert_eq!(chunks.len(), 3, "header, payload, pong");
    assert_eq!(chunks[0], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0][..]);
    // The payload chunk is the caller's own allocation.
    assert_eq!(chunks[1].as_ptr(), data.as_ptr());
    assert_eq!(chunks[2], &[0x8a, 2, b'h', b'i'][..]);
    assert_eq!(server.buffered_amount(), 10 + 100_000 + 4);
    // A write that ends inside the payload, then one across the rest.
    assert_eq!(server.pending_output().len(), 10);
    server.consume_output(10 + 50_000);
    assert_eq!(server.pending_output().len(), 50_000);
    server.consume_output(50_000 + 4);
    assert_eq!(server.buffered_amount(), 0);
    assert!(server.pending_output().is_empty());
}

#[test]
fn a_client_masks_in_place_only_what_nobody_else_holds() {
    let mut client = open(Role::Client, "");
    let kept = Bytes::from(payload(50_000, 1));
    client.send_binary_bytes(kept.clone()).unwrap();
    client
        .send_binary_bytes(Bytes::from(payload(50_000, 2)))
        .unwrap();
    // The payload still held elsewhere was copied to be masked, not masked where it lies.
    assert_eq!(kept, Bytes::from(payload(50_000, 1)));
    let mut wire = Vec::new();
    drain(&mut client, Write::Vectored(usize::MAX), &mut wire);
    let events = decode(Role::Server, &wire);
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], Event::Binary(b) if *b == kept));
    assert!(matches!(&events[1], Event::Binary(b) if b[..] == payload(50_000, 2)[..]));
}

#[test]
fn small_messages_are_copied_as_before() {
    let mut server = open(Role::Server, "");
    server
        .send_binary_bytes(Bytes::from_static(b"small"))
        .unwrap();
    server.send_text_bytes(Utf8Bytes::from("text")).unwrap();
    assert_eq!(server.pending_output_chunks().count(), 1);
    assert_eq!(server.pending_output(), b"\x82\x05small\x81\x04text");
}

#[cfg(feature = "deflate")]
#[test]
fn a_compressed_message_is_compressed_as_ever() {
    let mut server = open(Role::Server, "permessage-deflate");
    let data = Bytes::from(payload(100_000, 3));
    server.send_binary_bytes(data.clone()).unwrap();
    assert_eq!(server.pending_output_chunks().count(), 1);
    let wire = server.take_output();
    assert_eq!(wire[0], 0xc2, "FIN, RSV1, binary");
    assert!(wire.len() < 10_000);
    let mut client = open(Role::Client, "permessage-deflate");
    client.receive(&wire);
    assert!(matches!(client.poll_event(), Some(Event::Binary(b)) if b == data));
}

#[test]
fn sends_are_refused_past_the_output_limit_counting_queued_payloads() {
    let options = Options::default().max_output_buffer(150_000);
    let mut server = Connection::from_upgraded(Upgraded::new(Role::Server, options)).unwrap();
    assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
    server
        .send_binary_bytes(Bytes::from(payload(100_000, 0)))
        .unwrap();
    server
        .send_binary_bytes(Bytes::from(payload(100_000, 0)))
        .unwrap();
    assert_eq!(
        server.send_binary_bytes(Bytes::from(payload(100_000, 0))),
        Err(wsmachine::Error::OutputBufferFull)
    );
}
