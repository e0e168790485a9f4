//! Client⇄server pairs in memory through every state, every error path and every timeout.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use std::time::Duration;
use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Error, Event, Failure, HandshakeError, Instant,
    MessageKind, Options, ProtocolError, Role, ServerConfig, State, SubprotocolPolicy, Upgraded,
};

fn text(e: &Event) -> &str {
    match e {
        Event::Text(t) => t.as_str(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn handshake_negotiates_subprotocol_and_opens_both_sides() {
    let mut p = Pair::new(
        ClientConfig::new("example.com", "/chat")
            .subprotocol("v1")
            .subprotocol("v2"),
        ServerConfig::new().subprotocol("v2").subprotocol("v1"),
    );
    assert_eq!(p.client.state(), State::Connecting);
    assert_eq!(p.server.state(), State::Connecting);
    p.drive();
    assert_eq!(p.client.state(), State::Open);
    assert_eq!(p.server.state(), State::Open);
    assert_eq!(p.client.subprotocol(), Some("v2"));
    assert_eq!(p.server.subprotocol(), Some("v2"));
    assert_eq!(
        p.client_events,
        [Event::Open {
            subprotocol: Some("v2".into()),
            extensions: String::new()
        }]
    );
    assert_eq!(p.client.role(), Role::Client);
}

#[test]
fn no_common_subprotocol_means_none() {
    let mut p = Pair::new(
        ClientConfig::new("h", "/").subprotocol("a"),
        ServerConfig::new().subprotocol("b"),
    );
    p.drive();
    assert_eq!(p.client.subprotocol(), None);
    assert_eq!(p.server.state(), State::Open);
}

/// The 101 answer of a server configured with `config` to `REQUEST` (which offers "chat,
/// superchat"), and the subprotocol it opened with.
fn answer_to_request(config: ServerConfig) -> (String, Option<String>) {
    let mut s = Connection::server(config);
    s.receive(REQUEST);
    let Some(Event::Open { subprotocol, .. }) = s.poll_event() else {
        panic!("expected Open")
    };
    (
        String::from_utf8(s.take_output().to_vec()).unwrap(),
        subprotocol,
    )
}

#[test]
fn subprotocol_policy_first_offered_takes_the_clients_first_when_none_of_ours_was_offered() {
    // Default: none of ours offered, none chosen, no header.
    let (out, chosen) = answer_to_request(ServerConfig::new().subprotocol("v2"));
    assert_eq!(chosen, None);
    assert!(!out.contains("Sec-WebSocket-Protocol"), "{out}");
    // Explicitly the default.
    let (_, chosen) =
        answer_to_request(ServerConfig::new().subprotocol_policy(SubprotocolPolicy::Listed));
    assert_eq!(chosen, None);
    // FirstOffered without protocols of its own: the client's first.
    let (out, chosen) =
        answer_to_request(ServerConfig::new().subprotocol_policy(SubprotocolPolicy::FirstOffered));
    assert_eq!(chosen.as_deref(), Some("chat"));
    assert!(
        out.contains("\r\nSec-WebSocket-Protocol: chat\r\n"),
        "{out}"
    );
    // FirstOffered still prefers one of ours when offered, whatever the client's order.
    let (out, chosen) = answer_to_request(
        ServerConfig::new()
            .subprotocol("v9")
            .subprotocol("superchat")
            .subprotocol_policy(SubprotocolPolicy::FirstOffered),
    );
    assert_eq!(chosen.as_deref(), Some("superchat"));
    assert!(
        out.contains("\r\nSec-WebSocket-Protocol: superchat\r\n"),
        "{out}"
    );
}

#[test]
fn subprotocol_policy_first_offered_opens_a_client_that_offers_unknown_protocols() {
    let mut p = Pair::new(
        ClientConfig::new("h", "/")
            .subprotocol("chat")
            .subprotocol("superchat"),
        ServerConfig::new().subprotocol_policy(SubprotocolPolicy::FirstOffered),
    );
    p.drive();
    assert_eq!(p.client.state(), State::Open);
    assert_eq!(p.client.subprotocol(), Some("chat"));
    assert_eq!(p.server.subprotocol(), Some("chat"));
    // A client that offers nothing gets nothing.
    let mut p = Pair::new(
        ClientConfig::new("h", "/"),
        ServerConfig::new().subprotocol_policy(SubprotocolPolicy::FirstOffered),
    );
    p.drive();
    assert_eq!(p.client.state(), State::Open);
    assert_eq!(p.server.subprotocol(), None);
}

#[test]
fn subprotocol_policy_first_offered_skips_offers_that_are_not_tokens() {
    let request = String::from_utf8(REQUEST.to_vec())
        .unwrap()
        .replace("chat, superchat", "a/b, \"q\", ok");
    let mut s =
        Connection::server(ServerConfig::new().subprotocol_policy(SubprotocolPolicy::FirstOffered));
    s.receive(request.as_bytes());
    assert!(matches!(s.poll_event(), Some(Event::Open { .. })));
    assert_eq!(s.subprotocol(), Some("ok"));
}

#[test]
fn accept_default_chooses_as_the_configuration_would() {
    let config = |policy| {
        ServerConfig::new()
            .subprotocol("v2")
            .subprotocol_policy(policy)
            .defer_accept(true)
    };
    for (policy, expected) in [
        (SubprotocolPolicy::Listed, None),
        (SubprotocolPolicy::FirstOffered, Some("chat")),
    ] {
        let mut s = Connection::server(config(policy));
        assert_eq!(s.accept_default(), Err(Error::NoPendingRequest));
        s.receive(REQUEST);
        assert!(matches!(s.poll_event(), Some(Event::Request(_))));
        s.accept_default().unwrap();
        assert_eq!(
            s.poll_event(),
            Some(Event::Open {
                subprotocol: expected.map(String::from),
                extensions: String::new()
            })
        );
        assert_eq!(s.subprotocol(), expected);
        assert_eq!(s.accept_default(), Err(Error::NoPendingRequest));
    }
    // One of ours, when offered, wins under either policy.
    let request = String::from_utf8(REQUEST.to_vec())
        .unwrap()
        .replace("chat, superchat", "chat, v2");
    let mut s = Connection::server(config(SubprotocolPolicy::FirstOffered));
    s.receive(request.as_bytes());
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept_default().unwrap();
    assert_eq!(s.subprotocol(), Some("v2"));
}

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

#[test]
fn fragments_reassemble_with_control_frames_between() {
    let mut p = Pair::open();
    let word = "κόσμε".as_bytes();
    // Split inside a code point on purpose.
    p.client
        .send_fragment(MessageKind::Text, &word[..3], false)
        .unwrap();
    p.client.send_ping(b"in between").unwrap();
    p.client
        .send_fragment(MessageKind::Text, &word[3..7], false)
        .unwrap();
    assert_eq!(
        p.client.send_text("x"),
        Err(Error::FragmentedMessageInProgress)
    );
    assert_eq!(
        p.client.send_fragment(MessageKind::Binary, b"x", true),
        Err(Error::FragmentMismatch)
    );
    p.client
        .send_fragment(MessageKind::Text, &word[7..], true)
        .unwrap();
    p.drive();
    assert_eq!(
        p.server_events[0],
        Event::Ping(b"in between".to_vec().into())
    );
    assert_eq!(text(&p.server_events[1]), "κόσμε");
    // The automatic pong came back with the same payload.
    assert_eq!(
        p.client_events,
        [Event::Pong(b"in between".to_vec().into())]
    );
}

#[test]
fn frames_in_the_same_read_as_the_101_are_not_lost() {
    let mut client =
        Connection::client(ClientConfig::new("h", "/").random(counter_random())).unwrap();
    let mut server = Connection::server(ServerConfig::new());
    server.receive(&client.take_output());
    server.send_text("early").unwrap();
    server.send_ping(b"p").unwrap();
    // 101 + two frames in one read.
    client.receive(&server.take_output());
    let ev = events(&mut client);
    assert!(matches!(ev[0], Event::Open { .. }));
    assert_eq!(text(&ev[1]), "early");
    assert_eq!(ev[2], Event::Ping(b"p".to_vec().into()));
}

#[test]
fn one_byte_at_a_time_gives_the_same_events() {
    let mut whole = open_server(ServerConfig::new());
    let mut bytewise = open_server(ServerConfig::new());
    let mut input = Vec::new();
    input.extend(cframe(false, OpCode::Binary, &[1; 300]));
    input.extend(cframe(true, OpCode::Ping, b"ping"));
    input.extend(cframe(true, OpCode::Continuation, &[2; 70000]));
    input.extend(cframe(true, OpCode::Text, "Привет".as_bytes()));
    input.extend(cframe(true, OpCode::Close, &[0x03, 0xe8, b'o', b'k']));
    whole.receive(&input);
    for b in &input {
        bytewise.receive(std::slice::from_ref(b));
    }
    let a = events(&mut whole);
    assert_eq!(a, events(&mut bytewise));
    assert_eq!(a.len(), 5);
    assert_eq!(whole.take_output(), bytewise.take_output());
}

#[test]
fn client_initiated_close_is_clean_on_both_sides() {
    let mut p = Pair::open();
    p.client.close(CloseCode(4000), "bye").unwrap();
    assert_eq!(p.client.state(), State::Closing);
    assert_eq!(
        p.client.send_text("late"),
        Err(Error::WrongState(State::Closing))
    );
    p.drive();
    assert_eq!(
        p.server_events,
        [
            Event::Close {
                code: Some(CloseCode(4000)),
                reason: "bye".into()
            },
            Event::Closed {
                clean: true,
                code: CloseCode(4000),
                reason: "bye".into()
            },
        ]
    );
    // The client saw the echo (code and reason), then the server's EOF.
    assert_eq!(
        p.client_events[0],
        Event::Close {
            code: Some(CloseCode(4000)),
            reason: "bye".into()
        }
    );
    assert_eq!(
        p.client_events[1],
        Event::Closed {
            clean: true,
            code: CloseCode(4000),
            reason: "bye".into()
        }
    );
    assert_eq!(p.client.state(), State::Closed);
    assert_eq!(p.server.state(), State::Closed);
}

#[test]
fn close_answer_echoes_code_and_reason_byte_for_byte() {
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(true, OpCode::Close, b"\x0f\xa0bye"));
    assert_eq!(
        events(&mut s)[0],
        Event::Close {
            code: Some(CloseCode(4000)),
            reason: "bye".into()
        }
    );
    // Unmasked (server), FIN + close, 5 bytes: 4000 then "bye".
    assert_eq!(&s.take_output()[..], b"\x88\x05\x0f\xa0bye");

    // The longest reason a close frame can carry (123 bytes, multi-byte characters up to
    // its last byte) comes back whole: the answer is 125 bytes, the control frame limit.
    let reason = format!("x{}é", "ж".repeat(60));
    assert_eq!(reason.len(), 123);
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(true, OpCode::Close, &payload));
    events(&mut s);
    let mut expected = vec![0x88, 125];
    expected.extend_from_slice(&payload);
    assert_eq!(&s.take_output()[..], &expected[..]);

    // A close frame without a body is answered with an empty one.
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(true, OpCode::Close, b""));
    events(&mut s);
    assert_eq!(&s.take_output()[..], b"\x88\x00");
}

#[test]
fn close_answer_drops_the_reason_when_told_to() {
    let mut s = open_server(ServerConfig::new().options(Options::new().echo_close_reason(false)));
    s.receive(&cframe(true, OpCode::Close, b"\x0f\xa0bye"));
    events(&mut s);
    assert_eq!(&s.take_output()[..], b"\x88\x02\x0f\xa0");
}

#[test]
fn client_close_answer_echoes_the_reason_too() {
    let mut p = Pair::open();
    p.server.close(CloseCode(4001), "server says bye").unwrap();
    p.drive();
    assert_eq!(
        p.server_events[0],
        Event::Close {
            code: Some(CloseCode(4001)),
            reason: "server says bye".into()
        }
    );
}

#[test]
fn server_initiated_close_is_clean_and_server_ends_transport() {
    let mut p = Pair::open();
    p.server.close(CloseCode::GOING_AWAY, "restart").unwrap();
    p.drive();
    assert_eq!(
        p.client_events[0],
        Event::Close {
            code: Some(CloseCode::GOING_AWAY),
            reason: "restart".into()
        }
    );
    assert!(matches!(
        p.client_events[1],
        Event::Closed {
            clean: true,
            code: CloseCode::GOING_AWAY,
            ..
        }
    ));
    assert!(matches!(
        p.server_events[1],
        Event::Closed {
            clean: true,
            code: CloseCode::GOING_AWAY,
            ..
        }
    ));
    assert!(p.server_eof_sent, "the server ends the transport first");
}

#[test]
fn simultaneous_close_completes() {
    let mut p = Pair::open();
    p.client.close(CloseCode::NORMAL, "c").unwrap();
    p.server.close(CloseCode::NORMAL, "s").unwrap();
    p.drive();
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::Closed { clean: true, .. })));
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, Event::Closed { clean: true, .. })));
}

#[test]
fn empty_close_frame_is_reported_as_1005() {
    let mut p = Pair::open();
    p.client.close(CloseCode::NO_STATUS, "").unwrap();
    p.drive();
    assert_eq!(
        p.server_events[0],
        Event::Close {
            code: None,
            reason: String::new()
        }
    );
    assert_eq!(
        p.server_events[1],
        Event::Closed {
            clean: true,
            code: CloseCode::NO_STATUS,
            reason: String::new()
        }
    );
}

#[test]
fn close_arguments_are_checked() {
    let mut p = Pair::open();
    assert_eq!(
        p.client.close(CloseCode(1005), "x"),
        Err(Error::InvalidCloseCode(1005))
    );
    assert_eq!(
        p.client.close(CloseCode(999), ""),
        Err(Error::InvalidCloseCode(999))
    );
    assert_eq!(
        p.client.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(Error::ControlPayloadTooLong)
    );
    assert_eq!(
        p.client.send_ping(&[0; 126]),
        Err(Error::ControlPayloadTooLong)
    );
    assert_eq!(p.client.state(), State::Open);
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

#[test]
fn eof_before_close_is_abnormal() {
    let mut p = Pair::open();
    p.server.receive_eof();
    assert_eq!(
        events(&mut p.server),
        [
            Event::Error(Failure::Eof),
            Event::Closed {
                clean: false,
                code: CloseCode::ABNORMAL,
                reason: String::new()
            }
        ]
    );
    let mut c = Connection::client(ClientConfig::new("h", "/")).unwrap();
    c.receive(b"HTTP/1.1 101 Swi");
    c.receive_eof();
    assert_eq!(
        events(&mut c)[0],
        Event::Error(Failure::Handshake(HandshakeError::Eof))
    );
}

#[test]
fn close_timeout_when_peer_never_answers() {
    let mut p = Pair::open();
    p.client.close(CloseCode::NORMAL, "").unwrap();
    let _lost = p.client.take_output(); // the close frame never arrives
    assert_eq!(
        p.client.poll_timeout(),
        Some(Instant::ZERO),
        "asks to be told the time"
    );
    p.client.handle_timeout(Instant::from_millis(1000));
    assert_eq!(p.client.poll_timeout(), Some(Instant::from_millis(6000)));
    p.client.handle_timeout(Instant::from_millis(5999));
    assert_eq!(p.client.state(), State::Closing);
    p.client.handle_timeout(Instant::from_millis(6000));
    assert_eq!(
        events(&mut p.client),
        [
            Event::Error(Failure::CloseTimeout),
            Event::Closed {
                clean: false,
                code: CloseCode::ABNORMAL,
                reason: String::new()
            }
        ]
    );
    assert_eq!(p.client.poll_timeout(), None);
}

#[test]
fn client_waits_for_server_eof_then_times_out_cleanly() {
    let mut p = Pair::open();
    p.server.close(CloseCode::NORMAL, "").unwrap();
    p.client.receive(&p.server.take_output());
    let ev = events(&mut p.client);
    assert_eq!(ev.len(), 1, "the close, not yet Closed: {ev:?}");
    assert_eq!(
        p.client.state(),
        State::Closing,
        "the client waits for the server to end the transport"
    );
    p.client.handle_timeout(Instant::from_millis(10));
    p.client.handle_timeout(Instant::from_millis(5010));
    assert_eq!(
        events(&mut p.client).last(),
        Some(&Event::Closed {
            clean: true,
            code: CloseCode::NORMAL,
            reason: String::new()
        })
    );
}

#[test]
fn keepalive_pings_idle_peer_and_fails_without_pong() {
    let opts = Options::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
    let mut p = Pair::new(
        ClientConfig::new("h", "/"),
        ServerConfig::new().options(opts.clone()),
    );
    p.drive();
    p.advance(Duration::ZERO); // anchor the timers
    p.advance(Duration::from_secs(10));
    // The client answered the server's keepalive ping automatically.
    assert!(p.client_events.iter().any(|e| matches!(e, Event::Ping(_))));
    assert!(p.server_events.iter().any(|e| matches!(e, Event::Pong(_))));
    assert_eq!(p.server.state(), State::Open);
    // Now the client stops answering: its output is lost.
    let mut server = p.server;
    let mut now = p.now;
    for _ in 0..10 {
        match server.poll_timeout() {
            Some(t) => {
                now = now.max(t);
                server.handle_timeout(now);
                let _ = server.take_output();
            }
            None => break,
        }
    }
    let ev = events(&mut server);
    assert!(ev.contains(&Event::Error(Failure::PongTimeout)), "{ev:?}");
    assert_eq!(server.state(), State::Closed);
}

#[test]
fn keepalive_does_not_ping_a_busy_peer() {
    let opts = Options::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
    let mut p = Pair::new(
        ClientConfig::new("h", "/"),
        ServerConfig::new().options(opts),
    );
    p.drive();
    p.advance(Duration::ZERO);
    for _ in 0..5 {
        p.client.send_text("busy").unwrap();
        p.drive();
        p.advance(Duration::from_secs(10));
    }
    assert!(!p.client_events.iter().any(|e| matches!(e, Event::Ping(_))));
}

#[test]
fn handshake_timeout() {
    let mut s = Connection::server(ServerConfig::new());
    s.receive(b"GET / HTTP/1.1\r\n");
    s.handle_timeout(Instant::from_millis(100));
    s.handle_timeout(Instant::from_millis(10_100));
    assert_eq!(
        events(&mut s)[0],
        Event::Error(Failure::Handshake(HandshakeError::Timeout))
    );
    assert!(s.pending_output().starts_with(b"HTTP/1.1 408 "));
}

#[test]
fn auto_pong_can_be_turned_off() {
    let mut s = open_server(ServerConfig::new().options(Options::new().auto_pong(false)));
    s.receive(&cframe(true, OpCode::Ping, b"x"));
    assert_eq!(events(&mut s), [Event::Ping(b"x".to_vec().into())]);
    assert!(s.pending_output().is_empty());
    s.send_pong(b"x").unwrap();
    assert_eq!(
        parse_frames(&s.take_output()),
        [(OpCode::Pong, true, b"x".to_vec())]
    );
}

#[test]
fn unsolicited_pong_is_reported_and_ignored() {
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(true, OpCode::Pong, b"u"));
    assert_eq!(events(&mut s), [Event::Pong(b"u".to_vec().into())]);
    assert_eq!(s.state(), State::Open);
}

/// Feeds `input` to an open server and checks it fails with `err` and sends `code`.
fn server_fails(input: &[u8], err: ProtocolError, code: u16) {
    server_fails_with(ServerConfig::new(), input, err, code);
}

fn server_fails_with(config: ServerConfig, input: &[u8], err: ProtocolError, code: u16) {
    let mut s = open_server(config);
    s.receive(input);
    let ev = events(&mut s);
    assert!(
        ev.contains(&Event::Error(Failure::Protocol(err))),
        "{err:?}: {ev:?}"
    );
    assert!(
        matches!(ev.last(), Some(Event::Closed { clean: false, .. })),
        "{ev:?}"
    );
    assert_eq!(sent_close_code(&mut s), code, "{err:?}");
    assert_eq!(s.state(), State::Closed);
    // Input after the failure is ignored.
    s.receive(&cframe(true, OpCode::Text, b"late"));
    assert!(events(&mut s).is_empty());
}

#[test]
fn every_protocol_error_closes_with_its_code() {
    server_fails(
        &cframe(true, OpCode::Text, &[0xff]),
        ProtocolError::InvalidUtf8,
        1007,
    );
    server_fails(
        &frame(true, 0, OpCode::Text, None, b"unmasked"),
        ProtocolError::UnmaskedFrame,
        1002,
    );
    server_fails(
        &frame(true, 0b100, OpCode::Text, Some([1, 2, 3, 4]), b"x"),
        ProtocolError::ReservedBitsSet,
        1002,
    );
    server_fails(
        &frame(true, 0b001, OpCode::Ping, Some([1, 2, 3, 4]), b""),
        ProtocolError::ReservedBitsSet,
        1002,
    );
    server_fails(
        &cframe(true, OpCode::Continuation, b"x"),
        ProtocolError::UnexpectedContinuation,
        1002,
    );
    let mut two_starts = cframe(false, OpCode::Text, b"a");
    two_starts.extend(cframe(true, OpCode::Binary, b"b"));
    server_fails(&two_starts, ProtocolError::ExpectedContinuation, 1002);
    for op in [3u8, 7, 0xB, 0xF] {
        server_fails(
            &[0x80 | op, 0x80, 0, 0, 0, 0],
            ProtocolError::ReservedOpcode(op),
            1002,
        );
    }
    server_fails(
        &[0x09, 0x80, 0, 0, 0, 0],
        ProtocolError::FragmentedControlFrame,
        1002,
    );
    server_fails(
        &cframe(true, OpCode::Ping, &[0; 126]),
        ProtocolError::ControlFrameTooLong,
        1002,
    );
    server_fails(
        &[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
        ProtocolError::InvalidLength,
        1002,
    );
    server_fails(
        &cframe(true, OpCode::Close, &[3]),
        ProtocolError::InvalidClosePayload,
        1002,
    );
    for bad in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000] {
        let b = bad.to_be_bytes();
        server_fails(
            &cframe(true, OpCode::Close, &[b[0], b[1]]),
            ProtocolError::InvalidCloseCode(bad),
            1002,
        );
    }
    server_fails(
        &cframe(true, OpCode::Close, &[0x03, 0xe8, 0xc3, 0x28]),
        ProtocolError::InvalidCloseReason,
        1007,
    );
    let small =
        ServerConfig::new().options(Options::new().max_frame_size(100).max_message_size(150));
    server_fails_with(
        small.clone(),
        &cframe(true, OpCode::Binary, &[0; 101]),
        ProtocolError::FrameTooLarge,
        1009,
    );
    let mut long = cframe(false, OpCode::Binary, &[0; 100]);
    long.extend(cframe(true, OpCode::Continuation, &[0; 51]));
    server_fails_with(small, &long, ProtocolError::MessageTooLarge, 1009);
}

#[test]
fn valid_close_codes_are_echoed() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        let mut s = open_server(ServerConfig::new());
        let b = code.to_be_bytes();
        s.receive(&cframe(true, OpCode::Close, &[b[0], b[1], b'r']));
        assert_eq!(
            events(&mut s)[0],
            Event::Close {
                code: Some(CloseCode(code)),
                reason: "r".into()
            }
        );
        assert_eq!(sent_close_code(&mut s), code);
    }
}

#[test]
fn client_refuses_masked_server_frames() {
    let mut p = Pair::open();
    p.client
        .receive(&frame(true, 0, OpCode::Text, Some([1, 2, 3, 4]), b"masked"));
    assert!(
        p.client.poll_event() == Some(Event::Error(Failure::Protocol(ProtocolError::MaskedFrame)))
    );
    let out = parse_frames(&p.client.take_output());
    assert_eq!(out[0].0, OpCode::Close);
    assert_eq!(&out[0].2[..2], &1002u16.to_be_bytes());
}

#[test]
fn invalid_utf8_fails_fast_inside_a_frame_and_across_fragments() {
    // Inside one frame whose end has not arrived yet.
    let mut s = open_server(ServerConfig::new());
    let f = cframe(
        true,
        OpCode::Text,
        &[b'a', b'b', 0xf4, 0x90, b'c', b'd', b'e'],
    );
    s.receive(&f[..6 + 3]);
    assert!(events(&mut s).is_empty(), "a valid prefix so far");
    s.receive(&f[9..10]);
    assert_eq!(
        events(&mut s)[0],
        Event::Error(Failure::Protocol(ProtocolError::InvalidUtf8))
    );
    // Across fragments: the first fragment ends inside a code point, the second breaks it.
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(false, OpCode::Text, &[b'x', 0xe2, 0x82]));
    assert!(events(&mut s).is_empty());
    s.receive(&cframe(true, OpCode::Continuation, b"y"));
    assert_eq!(
        events(&mut s)[0],
        Event::Error(Failure::Protocol(ProtocolError::InvalidUtf8))
    );
    // A message that ends inside a code point.
    server_fails(
        &cframe(true, OpCode::Text, &[0xe2, 0x82]),
        ProtocolError::InvalidUtf8,
        1007,
    );
}

#[test]
fn streamed_fragments_are_handed_out_as_they_arrive() {
    let mut s = open_server(
        ServerConfig::new().options(Options::new().stream_fragments(true).max_message_size(10)),
    );
    s.receive(&cframe(false, OpCode::Text, "Прив".as_bytes()));
    s.receive(&cframe(false, OpCode::Continuation, &"ет".as_bytes()[..1]));
    s.receive(&cframe(true, OpCode::Continuation, &"ет".as_bytes()[1..]));
    let ev = events(&mut s);
    assert_eq!(ev.len(), 3);
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

#[test]
fn partial_output_writes_and_buffered_amount() {
    let mut p = Pair::open();
    p.client.send_binary(&[7; 1000]).unwrap();
    let total = p.client.buffered_amount();
    assert_eq!(total, 1000 + 8);
    let mut written = 0;
    while p.client.buffered_amount() > 0 {
        let chunk = p.client.pending_output()[..p.client.buffered_amount().min(3)].to_vec();
        p.client.consume_output(chunk.len());
        p.server.receive(&chunk);
        written += chunk.len();
    }
    assert_eq!(written, total);
    assert_eq!(events(&mut p.server), [Event::Binary(vec![7; 1000].into())]);
}

#[test]
fn deferred_accept_exposes_request_and_answers_choice() {
    let mut s = Connection::server(ServerConfig::new().defer_accept(true));
    s.receive(REQUEST);
    let Some(Event::Request(req)) = s.poll_event() else {
        panic!("expected request")
    };
    assert_eq!(req.path, "/chat");
    assert_eq!(req.origin.as_deref(), Some("http://example.com"));
    assert_eq!(req.subprotocols, ["chat", "superchat"]);
    assert!(s.pending_output().is_empty());
    assert_eq!(s.accept(Some("other")), Err(Error::SubprotocolNotOffered));
    s.accept(Some("superchat")).unwrap();
    let out = String::from_utf8(s.take_output().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(out.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(out.contains("Sec-WebSocket-Protocol: superchat\r\n"));
    assert_eq!(s.state(), State::Open);
    assert_eq!(s.accept(None), Err(Error::NoPendingRequest));
}

#[test]
fn deferred_reject_answers_status_and_closes() {
    let mut s = Connection::server(ServerConfig::new().defer_accept(true));
    s.receive(REQUEST);
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    assert_eq!(s.reject(200, "no"), Err(Error::InvalidStatus(200)));
    s.reject(403, "origin not allowed").unwrap();
    let out = String::from_utf8(s.take_output().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
    assert!(out.ends_with("origin not allowed\n"));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn bad_requests_get_4xx_answers() {
    let cases: &[(&[u8], &str)] = &[
        (b"POST / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 405 "),
        (b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", "HTTP/1.1 426 "),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 "),
        (b"\x16\x03\x01\x02\x00\r\n\r\n", "HTTP/1.1 400 "),
    ];
    for (req, status) in cases {
        let mut s = Connection::server(ServerConfig::new());
        s.receive(req);
        let out = String::from_utf8(s.take_output().to_vec()).unwrap();
        assert!(out.starts_with(status), "{out}");
        assert_eq!(s.state(), State::Closed);
        let ev = events(&mut s);
        assert!(matches!(ev[0], Event::Error(Failure::Handshake(_))));
    }
    let mut s = Connection::server(ServerConfig::new());
    s.receive(&[b'a'; 20_000]);
    assert!(s.pending_output().starts_with(b"HTTP/1.1 431 "));
}

#[test]
fn client_rejects_bad_answers() {
    let mut c = Connection::client(ClientConfig::new("h", "/")).unwrap();
    c.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        events(&mut c)[0],
        Event::Error(Failure::Handshake(HandshakeError::UnexpectedStatus(200)))
    );
    assert_eq!(c.state(), State::Closed);
    let mut c = Connection::client(ClientConfig::new("h", "/")).unwrap();
    c.receive(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    assert_eq!(
        events(&mut c)[0],
        Event::Error(Failure::Handshake(HandshakeError::InvalidAccept))
    );
}

#[test]
fn from_upgraded_starts_open() {
    let mut server =
        Connection::from_upgraded(Upgraded::new(Role::Server, Options::new()).subprotocol("chat"))
            .unwrap();
    let mut client = Connection::from_upgraded(
        Upgraded::new(Role::Client, Options::new())
            .subprotocol("chat")
            .random(counter_random()),
    )
    .unwrap();
    assert_eq!(server.state(), State::Open);
    assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
    client.send_text("h2").unwrap();
    server.receive(&client.take_output());
    assert_eq!(text(&server.poll_event().unwrap()), "h2");
    let unknown = Connection::from_upgraded(
        Upgraded::new(Role::Server, Options::new()).extensions("x-unknown"),
    );
    assert!(unknown.is_err());
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
fn closed_connection_holds_no_input() {
    let mut p = Pair::open();
    p.client.close(CloseCode::NORMAL, "").unwrap();
    p.drive();
    p.server.receive(&[0x81; 1000]);
    assert!(p.server.poll_event().is_none());
    assert_eq!(p.server.poll_timeout(), None);
}

#[test]
fn plain_http_get_can_be_answered_with_a_page() {
    let mut s = Connection::server(ServerConfig::new().defer_accept(true));
    s.receive(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nAccept: text/html\r\n\r\n");
    let Some(Event::Request(req)) = s.poll_event() else {
        panic!("expected request")
    };
    assert!(!req.websocket);
    assert_eq!(s.accept(None), Err(Error::NotWebSocket));
    s.respond(200, "text/html; charset=utf-8", b"<!doctype html><p>hi")
        .unwrap();
    let out = String::from_utf8(s.take_output().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(out.ends_with("\r\n\r\n<!doctype html><p>hi"));
    assert!(out.contains("Content-Length: 20\r\n"));
    assert_eq!(s.state(), State::Closed);
    // Without deferred accept a plain GET is refused.
    let mut s = Connection::server(ServerConfig::new());
    s.receive(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(s.pending_output().starts_with(b"HTTP/1.1 400 "));
}

#[test]
fn fragments_split_at_every_byte_with_polls_between() {
    // Exercises unmasking at every stage: in place, while copying in, on the way into the
    // reassembly buffer.
    let mut p = Pair::open();
    p.client
        .send_fragment(MessageKind::Binary, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false)
        .unwrap();
    p.client
        .send_fragment(MessageKind::Binary, &[11, 12, 13], true)
        .unwrap();
    p.client
        .send_fragment(MessageKind::Text, "Привет, ".as_bytes(), false)
        .unwrap();
    p.client
        .send_fragment(MessageKind::Text, "сервер!".as_bytes(), true)
        .unwrap();
    let bytes = p.client.take_output();
    for split in 0..=bytes.len() {
        let mut s = open_server(ServerConfig::new());
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
            "split at {split}"
        );
    }
}

/// Issue 10: a server's extra headers are validated as they are added, as a client's are
/// (an unchecked value with CRLF could forge headers or a body into the 101).
#[test]
fn server_extra_headers_are_validated() {
    for (name, value) in [
        ("X-Evil", "a\r\nInjected: 1"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "a\rb"),
        ("X-Evil", "a\0b"),
        ("X-Evil", "a\x7fb"),
        ("Bad Name", "v"),
        ("X:Y", "v"),
        ("", "v"),
        ("X-Ünicode", "v"),
    ] {
        assert_eq!(
            ServerConfig::new().header(name, value).err(),
            Some(Error::InvalidHeader),
            "{name:?}: {value:?}"
        );
    }
    let config = ServerConfig::new()
        .header("X-Ok", "tab\tspace obs-text é")
        .unwrap();
    let mut p = Pair::new(ClientConfig::new("h", "/"), config);
    let request = p.client.take_output();
    p.server.receive(&request);
    let answer = String::from_utf8(p.server.pending_output().to_vec()).unwrap();
    assert!(answer.starts_with("HTTP/1.1 101 "), "{answer}");
    assert!(
        answer.contains("\r\nX-Ok: tab\tspace obs-text é\r\n"),
        "{answer}"
    );
    p.drive();
    assert_eq!(p.server.state(), State::Open);
    assert_eq!(p.client.state(), State::Open);
}

/// Issue 10: "no limit" (`usize::MAX`, the C ABI's value) works without deflate too, both
/// roles, whole or fragmented messages.
#[test]
fn unlimited_sizes_without_deflate() {
    for stream in [false, true] {
        let options = Options::new()
            .max_message_size(usize::MAX)
            .max_frame_size(usize::MAX)
            .stream_fragments(stream);
        let mut p = Pair::new(
            ClientConfig::new("h", "/").options(options.clone()),
            ServerConfig::new().options(options),
        );
        p.drive();
        p.client_events.clear();
        p.server_events.clear();
        p.client.send_text("whole").unwrap();
        p.client
            .send_fragment(MessageKind::Binary, b"frag", false)
            .unwrap();
        p.client
            .send_fragment(MessageKind::Binary, b"ment", true)
            .unwrap();
        p.server.send_binary(&[7; 70_000]).unwrap();
        p.drive();
        let bytes = |events: &[Event]| -> usize {
            events
                .iter()
                .map(|e| match e {
                    Event::Text(t) => t.len(),
                    Event::Binary(b) => b.len(),
                    Event::Fragment { data, .. } => data.len(),
                    other => panic!("unexpected {other:?}"),
                })
                .sum()
        };
        assert_eq!(bytes(&p.server_events), 13, "streamed {stream}");
        assert_eq!(bytes(&p.client_events), 70_000, "streamed {stream}");
    }
}

#[test]
fn deferred_accept_holds_a_pipelined_frame_with_no_frame_limit() {
    // "No limit" must not wrap the early-data bound (issue 10 item 3).
    let mut s = Connection::server(
        ServerConfig::new()
            .defer_accept(true)
            .options(Options::new().max_frame_size(usize::MAX)),
    );
    s.receive(REQUEST);
    let Some(Event::Request(_)) = s.poll_event() else {
        panic!("expected request")
    };
    // Pipelined while the application decides.
    let frame = cframe(true, OpCode::Binary, &[9; 16]);
    assert_eq!(frame.len(), 22);
    s.receive(&frame);
    assert!(s.poll_event().is_none());
    s.accept(None).unwrap();
    let evs = events(&mut s);
    assert!(
        matches!(evs[..], [Event::Open { .. }, Event::Binary(ref b)] if b[..] == [9; 16]),
        "{evs:?}"
    );
}

#[test]
fn a_million_pings_without_reading_keep_the_output_bounded() {
    // Few pings, little output waiting: one pong each (the Autobahn TestSuite's 2.10 sends
    // ten at once and wants ten answers).
    let mut s = open_server(ServerConfig::new());
    let ten: Vec<u8> = (0..10u8)
        .flat_map(|i| cframe(true, OpCode::Ping, &[i]))
        .collect();
    s.receive(&ten);
    while s.poll_event_ref().is_some() {}
    let pongs: Vec<_> = (0..10u8).map(|i| (OpCode::Pong, true, vec![i])).collect();
    assert_eq!(parse_frames(s.pending_output()), pongs);

    // A million, output never drained: past 4 KiB waiting, only the latest ping is
    // answered (RFC 6455 §5.5.3, issue 10 item 4).
    let mut s = open_server(ServerConfig::new());
    let mut pings = Vec::new();
    for i in 0..1000u32 {
        pings.extend(cframe(true, OpCode::Ping, &i.to_be_bytes()));
    }
    for _ in 0..1000 {
        s.receive(&pings);
        while s.poll_event_ref().is_some() {}
    }
    assert!(
        s.buffered_amount() <= (4 << 10) + 6,
        "{}",
        s.buffered_amount()
    );
    let frames = parse_frames(s.pending_output());
    assert!(frames.iter().all(|(op, _, _)| *op == OpCode::Pong));
    assert_eq!(frames.last().unwrap().2, 999u32.to_be_bytes().to_vec());

    // Backlogged: a pong already partly written stays, the next is queued after it.
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(true, OpCode::Ping, b"a"));
    while s.poll_event_ref().is_some() {}
    s.send_binary(&[0; 5000]).unwrap();
    s.consume_output(2);
    s.receive(&cframe(true, OpCode::Ping, b"b"));
    while s.poll_event_ref().is_some() {}
    assert!(s.pending_output().starts_with(b"a"));
    assert!(s.pending_output().ends_with(b"\x8a\x01b"));
    // Backlogged: frames queued after the waiting pong keep their order when it is replaced.
    let mut s = open_server(ServerConfig::new());
    s.send_binary(&[0; 5000]).unwrap();
    s.receive(&cframe(true, OpCode::Ping, b"c"));
    while s.poll_event_ref().is_some() {}
    s.send_text("t").unwrap();
    s.receive(&cframe(true, OpCode::Ping, b"d"));
    while s.poll_event_ref().is_some() {}
    let frames = parse_frames(s.pending_output());
    assert_eq!(
        frames[1..],
        [
            (OpCode::Text, true, b"t".to_vec()),
            (OpCode::Pong, true, b"d".to_vec())
        ]
    );
}

#[test]
fn sends_past_max_output_buffer_are_refused() {
    let mut s = open_server(ServerConfig::new().options(Options::new().max_output_buffer(100)));
    s.send_binary(&[0; 90]).unwrap();
    s.send_binary(&[0; 90]).unwrap(); // 92 waiting: not over yet
    assert_eq!(s.send_binary(&[0; 1]), Err(Error::OutputBufferFull));
    assert_eq!(s.send_text("x"), Err(Error::OutputBufferFull));
    assert_eq!(s.send_ping(b""), Err(Error::OutputBufferFull));
    assert_eq!(
        s.send_fragment(MessageKind::Binary, b"x", true),
        Err(Error::OutputBufferFull)
    );
    let before = s.buffered_amount();
    // Answers to the peer are exempt (and bounded: one pong).
    s.receive(&cframe(true, OpCode::Ping, b"p"));
    while s.poll_event_ref().is_some() {}
    assert_eq!(s.buffered_amount(), before + 3);
    s.close(CloseCode::NORMAL, "").unwrap();
    assert!(s.buffered_amount() > before + 3);
    // Once written out, sending works again (in the states that allow it).
    let mut s = open_server(ServerConfig::new().options(Options::new().max_output_buffer(0)));
    s.send_text("a").unwrap();
    assert_eq!(s.send_text("b"), Err(Error::OutputBufferFull));
    drop(s.take_output());
    s.send_text("b").unwrap();
}

#[test]
fn a_peer_trickling_into_a_frame_fails_keepalive() {
    // Only a complete frame (or a pong) proves the peer alive, not a byte (issue 10 item 5).
    let interval = Duration::from_secs(10);
    let timeout = Duration::from_secs(10);
    let mut s = Connection::server(
        ServerConfig::new().options(Options::new().keepalive(interval, timeout)),
    );
    s.receive(REQUEST);
    s.handle_timeout(Instant::ZERO);
    drain_all(&mut s);
    // A header announcing 16 MiB, then one byte every 5 s.
    let mut h = vec![0x82, 0x80 | 127];
    h.extend_from_slice(&(16u64 << 20).to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    s.receive(&h);
    drain_all(&mut s);
    let mut closed_at = None;
    for t in 1..=60u64 {
        let now = Instant::from_millis(t * 5_000);
        s.handle_timeout(now);
        s.receive(&[0]);
        let evs = drain_all(&mut s);
        if evs.iter().any(|e| matches!(e, Event::Closed { .. })) {
            assert!(evs
                .iter()
                .any(|e| matches!(e, Event::Error(Failure::PongTimeout))));
            closed_at = Some(t * 5);
            break;
        }
    }
    let closed_at = closed_at.expect("still open after 300 s");
    assert!(closed_at <= 20, "closed at {closed_at} s");

    // Complete frames do keep it alive.
    let mut s = Connection::server(
        ServerConfig::new().options(Options::new().keepalive(interval, timeout)),
    );
    s.handle_timeout(Instant::ZERO);
    s.receive(REQUEST);
    drain_all(&mut s);
    for t in 1..=60u64 {
        s.handle_timeout(Instant::from_millis(t * 5_000));
        s.receive(&cframe(true, OpCode::Binary, b"x"));
        drain_all(&mut s);
    }
    assert_eq!(s.state(), State::Open);
}

fn drain_all(c: &mut Connection) -> Vec<Event> {
    let evs = events(c);
    drop(c.take_output());
    evs
}
