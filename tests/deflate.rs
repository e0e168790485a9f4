//! permessage-deflate (RFC 7692) between two engines in memory, and against hand-built
//! compressed frames.
#![cfg(feature = "deflate")]

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use proptest::prelude::*;
use support::pair::*;
use wsmachine::frame::{FrameHeader, OpCode, RSV1};
use wsmachine::{
    ClientConfig, CloseCode, Connection, DeflateConfig, Event, Failure, InflateBudget, MessageKind,
    Options, ProtocolError, Role, ServerConfig, State, Upgraded,
};

fn deflate_pair(client: DeflateConfig, server: DeflateConfig) -> Pair {
    let mut p = Pair::new(
        ClientConfig::new("h", "/").deflate(client),
        ServerConfig::new().deflate(server),
    );
    p.drive();
    p
}

fn compressed_frames(bytes: &[u8]) -> Vec<FrameHeader> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (h, n) = FrameHeader::parse(rest).unwrap().unwrap();
        out.push(h);
        rest = &rest[n + h.payload_len as usize..];
    }
    out
}

#[test]
fn negotiated_and_used_both_ways() {
    let mut p = deflate_pair(DeflateConfig::new(), DeflateConfig::new());
    let ext = "permessage-deflate".to_string();
    assert_eq!(
        p.client_events.remove(0),
        Event::Open {
            subprotocol: None,
            extensions: ext.clone()
        }
    );
    assert_eq!(
        p.server_events.remove(0),
        Event::Open {
            subprotocol: None,
            extensions: ext
        }
    );
    let text = "Привет, сервер! ".repeat(500);
    p.client.send_text(&text).unwrap();
    let wire = p.client.pending_output().to_vec();
    let frames = compressed_frames(&wire);
    assert_eq!(frames[0].rsv, RSV1);
    assert!(
        wire.len() < text.len() / 10,
        "compressed to {} bytes",
        wire.len()
    );
    p.server.send_binary(&vec![7u8; 100_000]).unwrap();
    p.client.send_text("tiny").unwrap(); // under min_size: sent plain
    p.drive();
    assert_eq!(p.server_events[0], Event::Text(text.into()));
    assert_eq!(p.server_events[1], Event::Text("tiny".into()));
    assert_eq!(p.client_events[0], Event::Binary(vec![7u8; 100_000].into()));
}

#[test]
fn context_takeover_and_its_absence() {
    for reset in [false, true] {
        let config = DeflateConfig::new()
            .server_no_context_takeover(reset)
            .client_no_context_takeover(reset);
        let mut p = deflate_pair(config.clone(), config);
        let msg = "the same long message, again and again and again";
        let mut sizes = Vec::new();
        for _ in 0..3 {
            p.client.send_text(msg).unwrap();
            sizes.push(p.client.pending_output().len());
            p.drive();
        }
        // With context takeover the repeats shrink to back-references.
        assert_eq!(sizes[1] < sizes[0], !reset, "{sizes:?}");
        assert!(
            p.server_events
                .iter()
                .filter(|e| **e == Event::Text(msg.into()))
                .count()
                == 3
        );
    }
}

#[test]
fn server_without_deflate_declines_the_offer() {
    let mut p = Pair::new(
        ClientConfig::new("h", "/").deflate(DeflateConfig::new()),
        ServerConfig::new(),
    );
    p.drive();
    assert_eq!(p.client.extensions(), "");
    p.client.send_text(&"x".repeat(1000)).unwrap();
    assert_eq!(compressed_frames(p.client.pending_output())[0].rsv, 0);
    p.drive();
    assert_eq!(
        p.server_events.last(),
        Some(&Event::Text("x".repeat(1000).into()))
    );
}

/// A server with deflate, fed hand-made frames.
fn deflate_server() -> Connection {
    deflate_server_with(
        DeflateConfig::new(),
        Options::new().max_message_size(1 << 20),
    )
}

/// A server past its handshake with a client that offered permessage-deflate.
fn deflate_server_with(deflate: DeflateConfig, options: Options) -> Connection {
    let mut s = Connection::server(ServerConfig::new().deflate(deflate).options(options));
    let req = String::from_utf8(REQUEST.to_vec()).unwrap().replace(
        "Sec-WebSocket-Version: 13\r\n",
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
    );
    s.receive(req.as_bytes());
    assert!(
        matches!(s.poll_event(), Some(Event::Open { ref extensions, .. }) if extensions == "permessage-deflate")
    );
    drop(s.take_output());
    s
}

/// A client codec's compressed bytes for `data`, via a second engine.
fn compress(data: &[u8]) -> Vec<u8> {
    let mut c = Connection::from_upgraded(
        Upgraded::new(Role::Client, Options::new())
            .extensions("permessage-deflate")
            .random(|b: &mut [u8]| b.fill(0)),
    )
    .unwrap();
    c.send_binary(data).unwrap();
    let out = c.take_output();
    let (h, n) = FrameHeader::parse(&out).unwrap().unwrap();
    assert_eq!(h.rsv, RSV1);
    // The mask key is all zeros: the payload is the compressed data as is.
    out[n..].to_vec()
}

#[test]
fn fragmented_compressed_message_and_streaming() {
    let text = "κόσμε ".repeat(300);
    let data = compress(text.as_bytes());
    let (a, b) = data.split_at(data.len() / 3);
    let mut input = frame(false, RSV1, OpCode::Text, Some([1, 2, 3, 4]), a);
    input.extend(cframe(true, OpCode::Ping, b"between"));
    input.extend(cframe(true, OpCode::Continuation, b));
    let mut s = deflate_server();
    s.receive(&input);
    assert_eq!(
        events(&mut s),
        [
            Event::Ping(b"between".to_vec().into()),
            Event::Text(text.clone().into())
        ]
    );

    let mut s = Connection::server(
        ServerConfig::new()
            .deflate(DeflateConfig::new())
            .options(Options::new().stream_fragments(true)),
    );
    s.receive(
        &String::from_utf8(REQUEST.to_vec())
            .unwrap()
            .replace(
                "Sec-WebSocket-Version: 13\r\n",
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
            )
            .into_bytes(),
    );
    let _ = events(&mut s);
    s.receive(&input);
    let mut joined = Vec::new();
    for e in events(&mut s) {
        if let Event::Fragment {
            kind: MessageKind::Text,
            data,
            ..
        } = e
        {
            joined.extend_from_slice(&data);
        }
    }
    assert_eq!(joined, text.as_bytes());
}

#[test]
fn compression_errors_close_with_their_codes() {
    // A decompression bomb: 10 MiB of zeros in a few KiB, against a 1 MiB limit.
    let bomb = compress(&vec![0u8; 10 << 20]);
    let mut s = deflate_server();
    s.receive(&frame(
        true,
        RSV1,
        OpCode::Binary,
        Some([9, 9, 9, 9]),
        &bomb,
    ));
    let ev = events(&mut s);
    assert!(
        ev.contains(&Event::Error(Failure::Protocol(
            ProtocolError::MessageTooLarge
        ))),
        "{ev:?}"
    );
    assert_eq!(sent_close_code(&mut s), 1009);
    // Invalid UTF-8 once inflated.
    let mut s = deflate_server();
    s.receive(&frame(
        true,
        RSV1,
        OpCode::Text,
        Some([1, 1, 1, 1]),
        &compress(&[&[b'a'; 40][..], &[0xff, b'b']].concat()),
    ));
    let _ = events(&mut s);
    assert_eq!(sent_close_code(&mut s), 1007);
    // Garbage that does not inflate.
    let mut s = deflate_server();
    s.receive(&frame(
        true,
        RSV1,
        OpCode::Binary,
        Some([1, 1, 1, 1]),
        &[0xff, 0xff, 0xff, 0xff],
    ));
    let _ = events(&mut s);
    assert_eq!(sent_close_code(&mut s), 1002);
    // RSV1 on a continuation or a control frame.
    for bad in [
        {
            let mut v = cframe(false, OpCode::Binary, b"a");
            v.extend(frame(
                true,
                RSV1,
                OpCode::Continuation,
                Some([1, 1, 1, 1]),
                b"b",
            ));
            v
        },
        frame(true, RSV1, OpCode::Ping, Some([1, 1, 1, 1]), b""),
    ] {
        let mut s = deflate_server();
        s.receive(&bad);
        let ev = events(&mut s);
        assert!(
            ev.contains(&Event::Error(Failure::Protocol(
                ProtocolError::ReservedBitsSet
            ))),
            "{ev:?}"
        );
        assert_eq!(s.state(), State::Closed);
    }
}

#[test]
fn from_upgraded_takes_deflate() {
    let mut server = Connection::from_upgraded(
        Upgraded::new(Role::Server, Options::new())
            .extensions("permessage-deflate; server_no_context_takeover"),
    )
    .unwrap();
    let _ = server.poll_event();
    let data = compress(b"hello hello hello hello hello hello hello hello");
    server.receive(&frame(true, RSV1, OpCode::Text, Some([3, 3, 3, 3]), &data));
    assert_eq!(
        server.poll_event(),
        Some(Event::Text(
            "hello hello hello hello hello hello hello hello".into()
        ))
    );
    assert!(Connection::from_upgraded(
        Upgraded::new(Role::Server, Options::new()).extensions("permessage-deflate; bogus")
    )
    .is_err());
}

#[test]
fn close_still_works_compressed() {
    let mut p = deflate_pair(DeflateConfig::new(), DeflateConfig::new());
    p.client.close(CloseCode::NORMAL, "done").unwrap();
    p.drive();
    assert!(matches!(
        p.server_events.last(),
        Some(Event::Closed { clean: true, .. })
    ));
    assert!(matches!(
        p.client_events.last(),
        Some(Event::Closed { clean: true, .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn compressed_stream_split_anywhere(msgs in prop::collection::vec(("[a-zα-ω ]{0,200}", any::<bool>()), 1..8),
                                        cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let mut p = deflate_pair(DeflateConfig::new(), DeflateConfig::new());
        for (m, text) in &msgs {
            if *text { p.client.send_text(m).unwrap() } else { p.client.send_binary(m.as_bytes()).unwrap() }
        }
        let bytes = p.client.take_output();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(bytes.len());
        let mut got = Vec::new();
        let mut start = 0;
        for cut in cuts {
            p.server.receive(&bytes[start..cut]);
            start = cut;
            while let Some(e) = p.server.poll_event_ref() {
                got.push(e.to_owned());
            }
        }
        let want: Vec<Event> = msgs.iter().map(|(m, t)| if *t { Event::Text(m.clone().into()) } else { Event::Binary(m.clone().into_bytes().into()) }).collect();
        prop_assert_eq!(got, want);
    }
}

/// Issue 10 item 2: "no limit" (`usize::MAX`, what the C ABI passes) must not overflow the
/// inflate bound; compressed messages arrive whole both ways, fragments streamed or not.
#[test]
fn unlimited_sizes_inflate_whole_messages() {
    for stream in [false, true] {
        let options = Options::new()
            .max_message_size(usize::MAX)
            .max_frame_size(usize::MAX)
            .stream_fragments(stream);
        let mut p = Pair::new(
            ClientConfig::new("h", "/")
                .deflate(DeflateConfig::new())
                .options(options.clone()),
            ServerConfig::new()
                .deflate(DeflateConfig::new())
                .options(options),
        );
        p.drive();
        p.client_events.clear();
        p.server_events.clear();
        let text = "unbounded ".repeat(10);
        p.client.send_text(&text).unwrap();
        p.server.send_binary(text.as_bytes()).unwrap();
        p.drive();
        let got = |events: &[Event]| -> Vec<u8> {
            let mut all = Vec::new();
            for e in events {
                match e {
                    Event::Text(t) => all.extend_from_slice(t.as_bytes()),
                    Event::Binary(b) => all.extend_from_slice(b),
                    Event::Fragment { data, .. } => all.extend_from_slice(data),
                    other => panic!("unexpected {other:?}"),
                }
            }
            all
        };
        assert_eq!(
            got(&p.server_events),
            text.as_bytes(),
            "server, streamed {stream}"
        );
        assert_eq!(
            got(&p.client_events),
            text.as_bytes(),
            "client, streamed {stream}"
        );
    }
}

/// What `Options::max_message_size` documents for streamed fragments: an uncompressed
/// message is bounded only per frame; each fragment of a compressed one may inflate to at
/// most the limit.
#[test]
fn streamed_message_limit_is_per_fragment() {
    let server = |extensions: &str| {
        let mut s = Connection::from_upgraded(
            Upgraded::new(
                Role::Server,
                Options::new().max_message_size(1000).stream_fragments(true),
            )
            .extensions(extensions),
        )
        .unwrap();
        assert!(matches!(s.poll_event(), Some(Event::Open { .. })));
        s
    };
    let mask = Some([1, 2, 3, 4]);
    let piece = [b'x'; 900];

    let mut plain = server("");
    plain.receive(&frame(false, 0, OpCode::Binary, mask, &piece));
    plain.receive(&frame(false, 0, OpCode::Continuation, mask, &piece));
    plain.receive(&frame(true, 0, OpCode::Continuation, mask, &piece));
    let got: usize = events(&mut plain)
        .iter()
        .map(|e| match e {
            Event::Fragment { data, .. } => data.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(got, 2700);

    // One compressor keeps its window across pieces, as fragments of one message do;
    // all but the last keep their sync-flush tail so that they join up.
    let mut sender = Connection::from_upgraded(
        Upgraded::new(Role::Client, Options::new())
            .extensions("permessage-deflate")
            .random(|b: &mut [u8]| b.fill(0)),
    )
    .unwrap();
    let mut squeeze = |data: &[u8], tail: bool| {
        sender.send_binary(data).unwrap();
        let out = sender.take_output();
        let (_, n) = FrameHeader::parse(&out).unwrap().unwrap();
        let mut payload = out[n..].to_vec();
        if tail {
            payload.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        }
        payload
    };
    let (p1, p2, p3) = (
        squeeze(&piece, true),
        squeeze(&piece, true),
        squeeze(&piece, false),
    );
    let mut deflated = server("permessage-deflate");
    deflated.receive(&frame(false, RSV1, OpCode::Binary, mask, &p1));
    deflated.receive(&frame(false, 0, OpCode::Continuation, mask, &p2));
    deflated.receive(&frame(true, 0, OpCode::Continuation, mask, &p3));
    let got: usize = events(&mut deflated)
        .iter()
        .map(|e| match e {
            Event::Fragment { data, .. } => data.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(got, 2700);

    let big = squeeze(&[b'y'; 1200], false);
    let mut deflated = server("permessage-deflate");
    deflated.receive(&frame(true, RSV1, OpCode::Binary, mask, &big));
    assert!(
        events(&mut deflated).contains(&Event::Error(Failure::Protocol(
            ProtocolError::MessageTooLarge
        )))
    );
}

/// Connections sharing an inflate budget hold at most the budget between them: a message
/// that would inflate past what is left closes with 1013, its bytes go back, and a message
/// that fits is delivered and gives its bytes back once complete (or per streamed fragment).
#[test]
fn connections_inflate_within_a_shared_budget() {
    /// Events as kinds and lengths (payloads are too long to print).
    fn summary(events: Vec<Event>) -> Vec<String> {
        events
            .into_iter()
            .map(|e| match e {
                Event::Binary(d) => format!("binary {}", d.len()),
                Event::Fragment { data, fin, .. } => format!("fragment {} {fin}", data.len()),
                Event::Error(Failure::Protocol(e)) => format!("error {e:?}"),
                Event::Closed { code, .. } => format!("closed {}", code.0),
                other => format!("{other:?}"),
            })
            .collect()
    }
    const KIB: usize = 1 << 10;
    let budget = InflateBudget::new(900 * KIB);
    let config = DeflateConfig::new().inflate_budget(budget.clone());
    let options = Options::new().max_message_size(1 << 20);
    let server = |options: &Options| deflate_server_with(config.clone(), options.clone());
    // Each piece is a whole compressed message; with the sync flush's tail put back, one
    // that other blocks follow in the same message.
    let tail = [0x00, 0x00, 0xff, 0xff];
    let p400 = compress(&vec![7u8; 400 * KIB]);
    let p400_more = [&p400[..], &tail].concat();
    let p500_more = [&compress(&vec![7u8; 500 * KIB])[..], &tail].concat();
    let p200 = compress(&vec![7u8; 200 * KIB]);
    let p600 = compress(&vec![7u8; 600 * KIB]);
    let p500 = compress(&vec![7u8; 500 * KIB]);
    // The frames of compressed binary messages, as a client masks them.
    let first = |payload: &[u8]| frame(false, RSV1, OpCode::Binary, Some([1, 2, 3, 4]), payload);
    let whole = |payload: &[u8]| frame(true, RSV1, OpCode::Binary, Some([1, 2, 3, 4]), payload);
    let last = |payload: &[u8]| frame(true, 0, OpCode::Continuation, Some([1, 2, 3, 4]), payload);

    // a inflates the first 400 KiB of a message: taken until the message ends.
    let mut a = server(&options);
    a.receive(&first(&p400_more));
    assert!(a.poll_event().is_none());
    let held = budget.total() - budget.available();
    assert!((400 * KIB..=416 * KIB).contains(&held), "{held}");

    // b's 600 KiB message needs more than is left: 1013, and b's share is given back.
    let mut b = server(&options);
    b.receive(&whole(&p600));
    assert_eq!(summary(events(&mut b))[0], "error InflateBudgetExhausted");
    assert_eq!(sent_close_code(&mut b), 1013);
    assert_eq!(budget.total() - budget.available(), held);

    // a's message completes, is delivered whole, and gives everything back.
    a.receive(&last(&p200));
    assert_eq!(summary(events(&mut a)), ["binary 614400"]);
    assert_eq!(budget.available(), budget.total());

    // With nothing else in flight, the same message fits.
    let mut c = server(&options);
    c.receive(&whole(&p600));
    assert_eq!(summary(events(&mut c)), ["binary 614400"]);
    assert_eq!(budget.available(), budget.total());

    // Streamed fragments give their bytes back one by one: 2 × 500 KiB pass a 900 KiB budget.
    let mut d = server(&options.clone().stream_fragments(true));
    d.receive(&first(&p500_more));
    d.receive(&last(&p500));
    assert_eq!(
        summary(events(&mut d)),
        ["fragment 512000 false", "fragment 512000 true"]
    );
    assert_eq!(budget.available(), budget.total());

    // A message that fails once inflated (text that is not UTF-8) gives its share back
    // with the failure, before the connection is dropped.
    let mut f = deflate_server_with(config.clone(), options.clone());
    let bad = compress(&[&vec![b'a'; 300 * KIB][..], &[0xff]].concat());
    f.receive(&frame(true, RSV1, OpCode::Text, Some([3, 3, 3, 3]), &bad));
    assert_eq!(summary(events(&mut f))[0], "error InvalidUtf8");
    assert_eq!(budget.available(), budget.total());

    // A connection dropped mid-message gives its share back.
    let mut e = server(&options);
    e.receive(&first(&p400_more));
    assert!(e.poll_event().is_none());
    assert!(budget.available() < budget.total());
    drop(e);
    assert_eq!(budget.available(), budget.total());
}
