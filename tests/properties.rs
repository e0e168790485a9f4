//! Property tests: splitting the input anywhere changes nothing, and whatever one side
//! sends the other decodes to the same messages.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use proptest::prelude::*;
use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{ClientConfig, CloseCode, Connection, Event, MessageKind, Options, ServerConfig};

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Fragments(MessageKind, Vec<Vec<u8>>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        "\\PC{0,40}".prop_map(Op::Text),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Op::Binary),
        (prop::collection::vec(prop::collection::vec(any::<u8>(), 0..50), 1..4))
            .prop_map(|f| Op::Fragments(MessageKind::Binary, f)),
        ("\\PC{1,30}", prop::collection::vec(0usize..100, 0..3)).prop_map(|(s, cuts)| {
            let b = s.into_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (b.len() + 1)).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut start = 0;
            for c in cuts {
                parts.push(b[start..c].to_vec());
                start = c;
            }
            parts.push(b[start..].to_vec());
            Op::Fragments(MessageKind::Text, parts)
        }),
        prop::collection::vec(any::<u8>(), 0..126).prop_map(Op::Ping),
        prop::collection::vec(any::<u8>(), 0..126).prop_map(Op::Pong),
    ]
}

fn apply(c: &mut Connection, op: &Op) {
    match op {
        Op::Text(s) => c.send_text(s).unwrap(),
        Op::Binary(b) => c.send_binary(b).unwrap(),
        Op::Fragments(kind, parts) => {
            for (i, p) in parts.iter().enumerate() {
                c.send_fragment(*kind, p, i + 1 == parts.len()).unwrap();
            }
        }
        Op::Ping(p) => c.send_ping(p).unwrap(),
        Op::Pong(p) => c.send_pong(p).unwrap(),
    }
}

fn expected(op: &Op) -> Event {
    match op {
        Op::Text(s) => Event::Text(s.clone().into()),
        Op::Binary(b) => Event::Binary(b.clone().into()),
        Op::Fragments(MessageKind::Binary, parts) => Event::Binary(parts.concat().into()),
        Op::Fragments(MessageKind::Text, parts) => {
            Event::Text(String::from_utf8(parts.concat()).unwrap().into())
        }
        Op::Ping(p) => Event::Ping(p.clone().into()),
        Op::Pong(p) => Event::Pong(p.clone().into()),
    }
}

fn feed_split(c: &mut Connection, bytes: &[u8], cuts: &[usize]) {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    for cut in cuts {
        c.receive(&bytes[start..cut]);
        start = cut;
    }
    c.receive(&bytes[start..]);
}

/// Feeds `bytes` to `server` cut at `cuts` (taken modulo the length), polling borrowed events
/// after the pieces `polls` marks (all when it runs out), then drains the rest as owned events.
fn receive_polling(
    server: &mut Connection,
    bytes: &[u8],
    cuts: &[usize],
    polls: &[bool],
) -> Vec<Event> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(bytes.len());
    let mut got = Vec::new();
    let mut start = 0;
    for (i, cut) in cuts.iter().enumerate() {
        server.receive(&bytes[start..*cut]);
        start = *cut;
        // Poll after some pieces only: receive must cope with undecoded input too.
        if polls.get(i).copied().unwrap_or(true) {
            while let Some(e) = server.poll_event_ref() {
                got.push(e.to_owned());
            }
        }
    }
    got.extend(std::iter::from_fn(|| server.poll_event()));
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn client_to_server_round_trip(ops in prop::collection::vec(op(), 0..12), cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let mut p = Pair::open();
        for op in &ops {
            apply(&mut p.client, op);
        }
        p.client.close(CloseCode::NORMAL, "done").unwrap();
        let bytes = p.client.take_output();
        feed_split(&mut p.server, &bytes, &cuts);
        let got = events(&mut p.server);
        let mut want: Vec<Event> = ops.iter().map(expected).collect();
        want.push(Event::Close { code: Some(CloseCode::NORMAL), reason: "done".into() });
        want.push(Event::Closed { clean: true, code: CloseCode::NORMAL, reason: "done".into() });
        prop_assert_eq!(got, want);
    }

    #[test]
    fn lent_events_match_owned_ones(ops in prop::collection::vec(op(), 0..12), cuts in prop::collection::vec(any::<usize>(), 0..40),
                                    polls in prop::collection::vec(any::<bool>(), 0..40)) {
        let mut p = Pair::open();
        for op in &ops {
            apply(&mut p.client, op);
        }
        let bytes = p.client.take_output();
        let mut server = open_server(ServerConfig::new());
        // open_server consumed RFC's handshake; feed the pair's frames to it.
        let got = receive_polling(&mut server, &bytes, &cuts, &polls);
        let want: Vec<Event> = ops.iter().map(expected).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn server_to_client_round_trip(ops in prop::collection::vec(op(), 0..12), cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let mut p = Pair::open();
        for op in &ops {
            apply(&mut p.server, op);
        }
        let bytes = p.server.take_output();
        feed_split(&mut p.client, &bytes, &cuts);
        let got = events(&mut p.client);
        let want: Vec<Event> = ops.iter().map(expected).collect();
        prop_assert_eq!(got, want);
    }

    /// Arbitrary bytes after a valid handshake: whatever they mean, every split yields the
    /// same events and the same output, and a failure always ends in Closed.
    #[test]
    fn any_bytes_any_split_same_events(data in prop::collection::vec(any::<u8>(), 0..400), cuts in prop::collection::vec(any::<usize>(), 0..30)) {
        let config = || ServerConfig::new().options(Options::new().max_frame_size(200).max_message_size(300));
        let mut whole = open_server(config());
        let mut split = open_server(config());
        let mut lent = open_server(config());
        whole.receive(&data);
        feed_split(&mut split, &data, &cuts);
        let a = events(&mut whole);
        prop_assert_eq!(&a, &events(&mut split));
        // The borrowed events, polled after each piece, are the same sequence.
        let mut lent_events = Vec::new();
        let mut cuts2: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        cuts2.sort_unstable();
        cuts2.push(data.len());
        let mut start = 0;
        for cut in cuts2 {
            lent.receive(&data[start..cut]);
            start = cut;
            while let Some(e) = lent.poll_event_ref() {
                lent_events.push(e.to_owned());
            }
        }
        prop_assert_eq!(&a, &lent_events);
        prop_assert_eq!(whole.pending_output(), lent.pending_output());
        prop_assert_eq!(whole.take_output(), split.take_output());
        prop_assert_eq!(whole.state(), split.state());
        if a.iter().any(|e| matches!(e, Event::Error(_))) {
            let ends_closed = matches!(a.last(), Some(Event::Closed { .. }));
            prop_assert!(ends_closed);
        }
    }

    /// Structured but hostile frame sequences (any opcode, flags, masking), split anywhere.
    #[test]
    fn hostile_frames_any_split_same_events(
        frames in prop::collection::vec((any::<bool>(), 0u8..8, 0u8..16, any::<bool>(), prop::collection::vec(any::<u8>(), 0..140)), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut bytes = Vec::new();
        for (fin, rsv, op, masked, payload) in &frames {
            let mut b0 = vec![(u8::from(*fin) << 7) | (rsv << 4) | op];
            let f = frame(true, 0, OpCode::Binary, masked.then_some([5, 6, 7, 8]), payload);
            b0.extend_from_slice(&f[1..]);
            bytes.extend(b0);
        }
        let mut whole = open_server(ServerConfig::new());
        let mut split = open_server(ServerConfig::new());
        whole.receive(&bytes);
        feed_split(&mut split, &bytes, &cuts);
        prop_assert_eq!(events(&mut whole), events(&mut split));
        prop_assert_eq!(whole.take_output(), split.take_output());
    }

    /// The client's complete output (handshake included) split anywhere opens the server
    /// the same way.
    #[test]
    fn handshake_split_anywhere(cuts in prop::collection::vec(any::<usize>(), 0..10), proto in "[a-z]{1,8}") {
        let mut client = Connection::client(ClientConfig::new("example.com:80", "/x?y=1").subprotocol(proto.clone()).random(counter_random())).unwrap();
        client.send_text("").ok();
        let req = client.take_output();
        let mut server = Connection::server(ServerConfig::new().subprotocol(proto.clone()));
        feed_split(&mut server, &req, &cuts);
        prop_assert_eq!(server.poll_event(), Some(Event::Open { subprotocol: Some(proto), extensions: String::new() }));
        let resp = server.take_output();
        let mut c2 = client;
        feed_split(&mut c2, &resp, &cuts);
        let opened = matches!(c2.poll_event(), Some(Event::Open { .. }));
        prop_assert!(opened);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Large frames (which the server unmasks while copying them in) mixed with small ones,
    /// fragmented or not, split anywhere, with events polled after some pieces only.
    #[test]
    fn large_frames_any_split_any_polling(
        sizes in prop::collection::vec(prop_oneof![0usize..130, 500usize..3000, 60_000usize..70_000], 1..6),
        fragment in prop::collection::vec(any::<bool>(), 6),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        polls in prop::collection::vec(any::<bool>(), 0..40),
    ) {
        let mut p = Pair::open();
        let mut want = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let text: String = "ab€д".chars().cycle().take(*size / 2).collect();
            if i % 2 == 0 {
                let data: Vec<u8> = (0..*size).map(|j| (j * 31 + i) as u8).collect();
                if fragment[i] && data.len() > 2 {
                    let mid = data.len() / 2;
                    p.client.send_fragment(MessageKind::Binary, &data[..mid], false).unwrap();
                    p.client.send_ping(b"x").unwrap();
                    p.client.send_fragment(MessageKind::Binary, &data[mid..], true).unwrap();
                    want.push(Event::Ping(b"x".to_vec().into()));
                } else {
                    p.client.send_binary(&data).unwrap();
                }
                want.push(Event::Binary(data.into()));
            } else {
                p.client.send_text(&text).unwrap();
                want.push(Event::Text(text.into()));
            }
        }
        let bytes = p.client.take_output();
        let mut server = open_server(ServerConfig::new());
        let got = receive_polling(&mut server, &bytes, &cuts, &polls);
        prop_assert_eq!(got, want);
    }
}
