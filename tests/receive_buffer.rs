//! The one-copy receive paths (`receive_buffer` + `commit_received`, and `receive_room` +
//! `commit_room`): the same events and output as `receive`, however the bytes are split, read short or mixed with `receive`; and
//! its misuse refused without losing or inventing bytes.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use proptest::prelude::*;
use support::pair::*;
use wsmachine::{
    ClientConfig, CloseCode, Connection, DeflateConfig, Error, Event, MessageKind, ServerConfig,
};

/// How one piece of input reaches the connection.
#[derive(Debug, Clone, Copy)]
enum Feed {
    /// `receive(piece)`.
    Copy,
    /// `receive_buffer(min)`, the piece read into it, possibly short (the rest next time).
    InPlace { min: usize },
    /// `receive_room(min)`, the piece written into its spare capacity, possibly short;
    /// `empty_first`: an empty room is given back before (a read that would block).
    Room { min: usize, empty_first: bool },
}

fn feed() -> impl Strategy<Value = Feed> {
    prop_oneof![
        Just(Feed::Copy),
        (0usize..200).prop_map(|min| Feed::InPlace { min }),
        (60_000usize..70_000).prop_map(|min| Feed::InPlace { min }),
        (0usize..200, any::<bool>()).prop_map(|(min, empty_first)| Feed::Room { min, empty_first }),
        (60_000usize..70_000).prop_map(|min| Feed::Room {
            min,
            empty_first: false
        }),
    ]
}

/// Feeds `bytes` cut at `cuts`, each piece the way `feeds` says (cycled), polling borrowed
/// events after the pieces `polls` marks; returns every event and every byte of output.
fn drive(
    conn: &mut Connection,
    bytes: &[u8],
    cuts: &[usize],
    feeds: &[Feed],
    polls: &[bool],
) -> (Vec<Event>, Vec<u8>) {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(bytes.len());
    let (mut events, mut output) = (Vec::new(), Vec::new());
    let mut start = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        let how = feeds
            .get(i % feeds.len().max(1))
            .copied()
            .unwrap_or(Feed::Copy);
        while start < cut {
            let piece = &bytes[start..cut];
            match how {
                Feed::Copy => {
                    conn.receive(piece);
                    start = cut;
                }
                Feed::InPlace { min } => {
                    let room = conn.receive_buffer(min);
                    assert!(room.len() >= min.max(1), "{} < {min}", room.len());
                    // A read returns what fits: the rest waits for the next one.
                    let n = room.len().min(piece.len());
                    room[..n].copy_from_slice(&piece[..n]);
                    conn.commit_received(n).unwrap();
                    start += n;
                }
                Feed::Room { min, empty_first } => {
                    if empty_first {
                        let room = conn.receive_room(min);
                        conn.commit_room(room);
                    }
                    let mut room = conn.receive_room(min);
                    assert!(room.is_empty());
                    assert!(room.capacity() >= min.max(1), "{} < {min}", room.capacity());
                    // A read fills what spare capacity there is: the rest waits.
                    let n = room.capacity().min(piece.len());
                    room.extend_from_slice(&piece[..n]);
                    conn.commit_room(room);
                    start += n;
                }
            }
        }
        if polls.get(i).copied().unwrap_or(true) {
            while let Some(e) = conn.poll_event_ref() {
                events.push(e.to_owned());
            }
        }
        output.extend_from_slice(&conn.take_output());
    }
    events.extend(std::iter::from_fn(|| conn.poll_event()));
    output.extend_from_slice(&conn.take_output());
    (events, output)
}

/// What a client sends: the handshake, then messages of every kind and size (fragmented
/// ones with a ping between the fragments), then a close.
fn client_bytes(sizes: &[usize], deflate: bool) -> Vec<u8> {
    let mut config = ClientConfig::new("localhost", "/").random(counter_random());
    if deflate {
        config = config.deflate(DeflateConfig::new());
    }
    let mut client = Connection::client(config).unwrap();
    let mut bytes = client.take_output().to_vec();
    // The server's answer opens the client, so it may send.
    let mut server = server(deflate);
    server.receive(&bytes);
    while server.poll_event().is_some() {}
    client.receive(&server.take_output());
    while client.poll_event().is_some() {}
    for (i, &size) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..size).map(|j| (j * 7 + i) as u8).collect();
        match i % 3 {
            0 => client.send_binary(&data).unwrap(),
            1 => {
                let text: String = "aé€😀".chars().cycle().take(size / 3).collect();
                client.send_text(&text).unwrap();
            }
            _ => {
                let mid = size / 2;
                client
                    .send_fragment(MessageKind::Binary, &data[..mid], false)
                    .unwrap();
                client.send_ping(b"between").unwrap();
                client
                    .send_fragment(MessageKind::Binary, &data[mid..], true)
                    .unwrap();
            }
        }
    }
    client.close(CloseCode::NORMAL, "done").unwrap();
    bytes.extend_from_slice(&client.take_output());
    bytes
}

fn server(deflate: bool) -> Connection {
    let mut config = ServerConfig::new();
    if deflate {
        config = config.deflate(DeflateConfig::new());
    }
    Connection::server(config)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whole `receive` versus any mix of `receive` and short in-place reads, split
    /// anywhere, polled after some pieces only: the same events and the same output.
    #[test]
    fn in_place_reads_match_receive(
        sizes in prop::collection::vec(prop_oneof![0usize..130, 500usize..3000, 60_000usize..140_000], 0..6),
        deflate in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
        feeds in prop::collection::vec(feed(), 1..8),
        polls in prop::collection::vec(any::<bool>(), 0..30),
    ) {
        let bytes = client_bytes(&sizes, deflate);
        let mut whole = server(deflate);
        let want = drive(&mut whole, &bytes, &[], &[Feed::Copy], &[]);
        let mut split = server(deflate);
        let got = drive(&mut split, &bytes, &cuts, &feeds, &polls);
        prop_assert_eq!(&got.0, &want.0);
        prop_assert_eq!(&got.1, &want.1);
        let closed = matches!(want.0.last(), Some(Event::Closed { clean: true, .. }));
        prop_assert!(closed, "{:?}", want.0.last());
    }

    /// Arbitrary bytes after a valid handshake, read in place: the same events and output
    /// as one `receive`, whatever they mean.
    #[test]
    fn in_place_reads_of_any_bytes(
        data in prop::collection::vec(any::<u8>(), 0..400),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
        feeds in prop::collection::vec(feed(), 1..8),
    ) {
        let mut whole = open_server(ServerConfig::new());
        let want = drive(&mut whole, &data, &[], &[Feed::Copy], &[]);
        let mut split = open_server(ServerConfig::new());
        let got = drive(&mut split, &data, &cuts, &feeds, &[]);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn a_commit_larger_than_the_buffer_takes_nothing() {
    let mut server = open_server(ServerConfig::new());
    let len = server.receive_buffer(16).len();
    assert_eq!(
        server.commit_received(len + 1),
        Err(Error::UncommittableInput)
    );
    // Nothing was taken, and the buffer is lent again as asked.
    assert_eq!(server.poll_event(), None);
    let frame = frame(
        true,
        0,
        wsmachine::frame::OpCode::Text,
        Some([1, 2, 3, 4]),
        b"hi",
    );
    let room = server.receive_buffer(frame.len());
    room[..frame.len()].copy_from_slice(&frame);
    server.commit_received(frame.len()).unwrap();
    assert_eq!(server.poll_event(), Some(Event::Text("hi".into())));
}

#[test]
fn a_commit_after_another_call_takes_nothing() {
    let mut server = open_server(ServerConfig::new());
    let frame = frame(
        true,
        0,
        wsmachine::frame::OpCode::Binary,
        Some([9, 8, 7, 6]),
        b"abc",
    );
    let room = server.receive_buffer(64);
    room[..frame.len()].copy_from_slice(&frame);
    // The bytes read were not committed before the connection was used otherwise.
    server.receive(b"");
    assert_eq!(
        server.commit_received(frame.len()),
        Err(Error::UncommittableInput)
    );
    assert_eq!(server.poll_event(), None);
    // Polling may free or move the buffer as well.
    let room = server.receive_buffer(64);
    room[..frame.len()].copy_from_slice(&frame);
    assert_eq!(server.poll_event(), None);
    assert_eq!(
        server.commit_received(frame.len()),
        Err(Error::UncommittableInput)
    );
}

/// One read of what fits of `bytes` into the room the connection lends: `receive_buffer`
/// + `commit_received`, or `receive_room` + `commit_room`. Returns how much was read.
fn read_once(conn: &mut Connection, into_room: bool, min: usize, bytes: &[u8]) -> usize {
    if into_room {
        let mut room = conn.receive_room(min);
        let n = room.capacity().min(bytes.len());
        room.extend_from_slice(&bytes[..n]);
        conn.commit_room(room);
        n
    } else {
        let room = conn.receive_buffer(min);
        let n = room.len().min(bytes.len());
        room[..n].copy_from_slice(&bytes[..n]);
        conn.commit_received(n).unwrap();
        n
    }
}

#[test]
fn a_large_frame_gets_room_for_large_reads() {
    for into_room in [false, true] {
        let mut server = open_server(ServerConfig::new());
        let payload = vec![0x5a; 1 << 20];
        let frame = frame(
            true,
            0,
            wsmachine::frame::OpCode::Binary,
            Some([1, 2, 3, 4]),
            &payload,
        );
        let (mut at, mut reads) = (0, 0);
        while at < frame.len() {
            at += read_once(&mut server, into_room, 1024, &frame[at..]);
            reads += 1;
            if at < frame.len() {
                assert_eq!(server.poll_event(), None);
            }
        }
        // The room follows the frame (about a read ahead, growing geometrically), not `min`.
        assert!(
            reads < 40,
            "{reads} reads of a 1 MiB frame (room: {into_room})"
        );
        assert_eq!(server.poll_event(), Some(Event::Binary(payload.into())));
    }
}

#[test]
fn input_after_close_is_ignored() {
    for into_room in [false, true] {
        let mut p = Pair::open();
        p.client.close(CloseCode::NORMAL, "").unwrap();
        p.drive();
        assert!(p.server.is_closed());
        read_once(&mut p.server, into_room, 8, b"xyz");
        assert_eq!(p.server.poll_event(), None);
        assert!(p.server.pending_output().is_empty());
    }
}

#[test]
fn reads_without_polling_grow_the_room_geometrically() {
    let mut p = Pair::open();
    let big = vec![7u8; 200_000];
    p.client.send_binary(&big).unwrap();
    let out = p.client.take_output();
    let (mut at, mut reads) = (0, 0);
    while at < out.len() {
        let room = p.server.receive_buffer(1000);
        let n = room.len().min(out.len() - at);
        room[..n].copy_from_slice(&out[at..at + n]);
        p.server.commit_received(n).unwrap();
        at += n;
        reads += 1;
    }
    // Unknown frame sizes: the room doubles with what is held, so the bytes are copied
    // about once in all, not once per read.
    assert!(reads < 20, "{reads} reads");
    assert_eq!(p.server.poll_event(), Some(Event::Binary(big.into())));
}

#[test]
fn the_lent_room_goes_back_without_a_copy() {
    let mut server = open_server(ServerConfig::new());
    let frame = cframe(true, wsmachine::frame::OpCode::Binary, b"in place");
    let mut room = server.receive_room(4096);
    room.extend_from_slice(&frame);
    let at = room.as_ptr();
    server.commit_room(room);
    match server.poll_event_ref() {
        // The payload lies where the reader wrote it: after the 6-byte header.
        Some(wsmachine::EventRef::Binary(data)) => {
            assert_eq!(data, b"in place");
            assert_eq!(data.as_ptr(), at.wrapping_add(6));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_buffers_and_rooms_given_back_late_are_copied_in_order() {
    let mut server = open_server(ServerConfig::new());
    let first = cframe(true, wsmachine::frame::OpCode::Text, b"first");
    let second = cframe(true, wsmachine::frame::OpCode::Text, b"second");
    // A buffer that never was the engine's.
    server.commit_room(bytes::BytesMut::from(&first[..3]));
    let mut room = server.receive_room(64);
    room.extend_from_slice(&first[3..]);
    server.commit_room(room);
    let mut late = server.receive_room(64);
    late.extend_from_slice(&second[..4]);
    // Polling (which frees the drained buffer) and other input before the room goes back.
    assert_eq!(server.poll_event(), Some(Event::Text("first".into())));
    server.receive(b"");
    server.commit_room(late);
    server.receive(&second[4..]);
    assert_eq!(server.poll_event(), Some(Event::Text("second".into())));
    assert_eq!(server.poll_event(), None);
}
