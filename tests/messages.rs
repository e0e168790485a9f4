//! Data messages in memory, for both roles where both apply: every length form,
//! fragmentation with control frames between, input split at every byte, streamed fragments,
//! client masking, and sending in a state that allows none.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Error, Event, MessageKind, Options, Role, State,
};

#[test]
fn messages_flow_both_ways() {
    let mut p = Pair::open();
    p.client.send_text("Привет, сервер!").unwrap();
    p.client.send_binary(&[0, 1, 2, 255]).unwrap();
    p.server.send_text("hello").unwrap();
    p.server.send_binary(&[]).unwrap();
    p.drive();
    assert_eq!(text(&p.server_events[0]), "Привет, сервер!");
    assert_eq!(p.server_events[1], Event::Binary(vec![0, 1, 2, 255].into()));
    assert_eq!(text(&p.client_events[0]), "hello");
    assert_eq!(p.client_events[1], Event::Binary(Vec::new().into()));
}

#[test]
fn large_messages_use_every_length_form() {
    let mut p = Pair::open();
    for len in [0usize, 125, 126, 65535, 65536, 3 << 20] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        p.client.send_binary(&data).unwrap();
        p.server.send_binary(&data).unwrap();
        p.drive();
        assert_eq!(
            p.server_events.pop(),
            Some(Event::Binary(data.clone().into()))
        );
        assert_eq!(p.client_events.pop(), Some(Event::Binary(data.into())));
    }
}

/// Whole frames with a 7- or 16-bit length, several in one read, as either role decodes
/// them in place: exact bytes out, and every limit and the UTF-8 rule still applied.
#[test]
fn whole_frames_in_one_read_keep_every_rule() {
    for role in ROLES {
        let texts = ["é".repeat(63), "ü€".repeat(1000)];
        let binary: Vec<u8> = (0..65535).map(|i| (i % 253) as u8).collect();
        let mut input = Vec::new();
        input.extend(peer_frame(role, true, OpCode::Text, texts[0].as_bytes()));
        input.extend(peer_frame(role, true, OpCode::Binary, &binary));
        input.extend(peer_frame(role, true, OpCode::Text, texts[1].as_bytes()));
        let mut conn = open_as(role, Options::new());
        conn.receive(&input);
        let got = events(&mut conn);
        assert_eq!(got.len(), 3, "{role:?}");
        assert_eq!(text(&got[0]), texts[0]);
        assert_eq!(got[1], Event::Binary(binary.into()));
        assert_eq!(text(&got[2]), texts[1]);

        let mut bad = "ok".repeat(100).into_bytes();
        bad[150] = 0xFF;
        let limits = Options::new().max_message_size(1000).max_frame_size(2000);
        for (payload, code) in [(bad, 1007), (vec![b'a'; 1001], 1009)] {
            let mut conn = open_as(role, limits.clone());
            let mut input = peer_frame(role, true, OpCode::Text, b"first");
            input.extend(peer_frame(role, true, OpCode::Text, &payload));
            conn.receive(&input);
            let got = events(&mut conn);
            assert_eq!(text(&got[0]), "first");
            assert!(
                !got[1..].iter().any(|e| matches!(e, Event::Text(_))),
                "{role:?}: {got:?}"
            );
            assert_eq!(sent_close_code(&mut conn), code, "{role:?}");
        }
    }
}

#[test]
fn fragments_reassemble_with_control_frames_between() {
    for role in ROLES {
        let mut p = Pair::open();
        let sender = p.side(role);
        let word = "κόσμε".as_bytes();
        // Split inside a code point on purpose.
        sender
            .send_fragment(MessageKind::Text, &word[..3], false)
            .unwrap();
        sender.send_ping(b"in between").unwrap();
        sender
            .send_fragment(MessageKind::Text, &word[3..7], false)
            .unwrap();
        assert_eq!(
            sender.send_text("x"),
            Err(Error::FragmentedMessageInProgress)
        );
        assert_eq!(
            sender.send_fragment(MessageKind::Binary, b"x", true),
            Err(Error::FragmentMismatch)
        );
        sender
            .send_fragment(MessageKind::Text, &word[7..], true)
            .unwrap();
        p.drive();
        let received = p.events_of(peer_of(role));
        assert_eq!(received[0], Event::Ping(b"in between".to_vec().into()));
        assert_eq!(text(&received[1]), "κόσμε");
        // The automatic pong came back with the same payload.
        assert_eq!(
            p.events_of(role),
            [Event::Pong(b"in between".to_vec().into())]
        );
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_events() {
    for role in ROLES {
        let mut whole = open_as(role, Options::new());
        let mut bytewise = open_as(role, Options::new());
        let mut input = Vec::new();
        input.extend(peer_frame(role, false, OpCode::Binary, &[1; 300]));
        input.extend(peer_frame(role, true, OpCode::Ping, b"ping"));
        input.extend(peer_frame(role, true, OpCode::Continuation, &[2; 70000]));
        input.extend(peer_frame(role, true, OpCode::Text, "Привет".as_bytes()));
        input.extend(peer_frame(
            role,
            true,
            OpCode::Close,
            &[0x03, 0xe8, b'o', b'k'],
        ));
        whole.receive(&input);
        for b in &input {
            bytewise.receive(std::slice::from_ref(b));
        }
        let a = events(&mut whole);
        assert_eq!(a, events(&mut bytewise), "{role:?}");
        // A server ends with `Closed`; a client, having answered the close, waits for the
        // server to end the transport first.
        let expected = match role {
            Role::Server => 5,
            Role::Client => 4,
        };
        assert_eq!(a.len(), expected, "{role:?}");
        assert_eq!(whole.take_output(), bytewise.take_output(), "{role:?}");
    }
}

#[test]
fn fragments_split_at_every_byte_with_polls_between() {
    // To a server this exercises unmasking at every stage: in place, while copying in, on
    // the way into the reassembly buffer; to a client, the same splits unmasked.
    for role in ROLES {
        let mut p = Pair::open();
        let sender = p.side(peer_of(role));
        sender
            .send_fragment(MessageKind::Binary, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false)
            .unwrap();
        sender
            .send_fragment(MessageKind::Binary, &[11, 12, 13], true)
            .unwrap();
        sender
            .send_fragment(MessageKind::Text, "Привет, ".as_bytes(), false)
            .unwrap();
        sender
            .send_fragment(MessageKind::Text, "сервер!".as_bytes(), true)
            .unwrap();
        let bytes = sender.take_output();
        for split in 0..=bytes.len() {
            let mut s = open_as(role, Options::new());
            s.receive(&bytes[..split]);
            let mut got = events(&mut s);
            s.receive(&bytes[split..]);
            got.extend(events(&mut s));
            assert_eq!(
                got,
                [
                    Event::Binary((1..=13).collect::<Vec<u8>>().into()),
                    Event::Text("Привет, сервер!".into())
                ],
                "{role:?}, split at {split}"
            );
        }
    }
}

#[test]
fn streamed_fragments_are_handed_out_as_they_arrive() {
    for role in ROLES {
        let mut s = open_as(
            role,
            Options::new().stream_fragments(true).max_message_size(10),
        );
        s.receive(&peer_frame(role, false, OpCode::Text, "Прив".as_bytes()));
        s.receive(&peer_frame(
            role,
            false,
            OpCode::Continuation,
            &"ет".as_bytes()[..1],
        ));
        s.receive(&peer_frame(
            role,
            true,
            OpCode::Continuation,
            &"ет".as_bytes()[1..],
        ));
        let ev = events(&mut s);
        assert_eq!(ev.len(), 3, "{role:?}");
        assert!(
            matches!(&ev[0], Event::Fragment { kind: MessageKind::Text, fin: false, data } if data.len() == 8)
        );
        assert!(matches!(
            &ev[2],
            Event::Fragment {
                kind: MessageKind::Text,
                fin: true,
                ..
            }
        ));
        assert_eq!(s.state(), State::Open);
    }
}

#[test]
fn client_output_is_masked_with_fresh_keys() {
    let mut p = Pair::open();
    p.client.send_binary(&[0; 8]).unwrap();
    p.client.send_binary(&[0; 8]).unwrap();
    let out = p.client.take_output();
    let (h1, n1) = wsmachine::frame::FrameHeader::parse(&out).unwrap().unwrap();
    let (h2, _) = wsmachine::frame::FrameHeader::parse(&out[n1 + 8..])
        .unwrap()
        .unwrap();
    assert!(h1.mask.is_some() && h2.mask.is_some());
    assert_ne!(h1.mask, h2.mask);
}

#[test]
fn sending_in_the_wrong_state_is_an_error() {
    let mut c = Connection::client(ClientConfig::new("h", "/")).unwrap();
    assert_eq!(c.send_text("x"), Err(Error::WrongState(State::Connecting)));
    assert_eq!(
        c.close(CloseCode::NORMAL, ""),
        Err(Error::WrongState(State::Connecting))
    );
    let mut p = Pair::open();
    p.client.close(CloseCode::NORMAL, "").unwrap();
    p.drive();
    assert_eq!(
        p.client.send_binary(b"x"),
        Err(Error::WrongState(State::Closed))
    );
    assert_eq!(
        p.server.send_ping(b""),
        Err(Error::WrongState(State::Closed))
    );
    assert_eq!(p.client.accept(None), Err(Error::NoPendingRequest));
}
