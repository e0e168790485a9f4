//! The closing handshake in memory, for both roles where both apply: who closes first, the
//! answer to a close frame, close codes, EOF before a close, the close timeout, and what a
//! closed connection does with input.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Error, Event, Failure, HandshakeError, Instant, Options,
    Role, State,
};

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

/// Checks that `out` is one close frame carrying `payload`: from a server byte for byte,
/// from a client masked.
fn assert_close_answer(role: Role, out: &[u8], payload: &[u8]) {
    let mask_bit = match role {
        Role::Client => 0x80,
        Role::Server => 0,
    };
    assert_eq!(out[..2], [0x88, mask_bit | payload.len() as u8], "{role:?}");
    assert_eq!(
        parse_frames(out),
        [(OpCode::Close, true, payload.to_vec())],
        "{role:?}"
    );
    if role == Role::Server {
        assert_eq!(&out[2..], payload);
    }
}

#[test]
fn close_answer_echoes_code_and_reason_byte_for_byte() {
    for role in ROLES {
        let mut s = open_as(role, Options::new());
        s.receive(&peer_frame(role, true, OpCode::Close, b"\x0f\xa0bye"));
        assert_eq!(
            events(&mut s)[0],
            Event::Close {
                code: Some(CloseCode(4000)),
                reason: "bye".into()
            }
        );
        // FIN + close, 5 bytes: 4000 then "bye".
        assert_close_answer(role, &s.take_output(), b"\x0f\xa0bye");

        // The longest reason a close frame can carry (123 bytes, multi-byte characters up to
        // its last byte) comes back whole: the answer is 125 bytes, the control frame limit.
        let reason = format!("x{}é", "ж".repeat(60));
        assert_eq!(reason.len(), 123);
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        let mut s = open_as(role, Options::new());
        s.receive(&peer_frame(role, true, OpCode::Close, &payload));
        events(&mut s);
        assert_close_answer(role, &s.take_output(), &payload);

        // A close frame without a body is answered with an empty one.
        let mut s = open_as(role, Options::new());
        s.receive(&peer_frame(role, true, OpCode::Close, b""));
        events(&mut s);
        assert_close_answer(role, &s.take_output(), b"");
    }
}

#[test]
fn close_answer_drops_the_reason_when_told_to() {
    for role in ROLES {
        let mut s = open_as(role, Options::new().echo_close_reason(false));
        s.receive(&peer_frame(role, true, OpCode::Close, b"\x0f\xa0bye"));
        events(&mut s);
        assert_close_answer(role, &s.take_output(), b"\x0f\xa0");
    }
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
fn empty_close_frame_is_reported_as_1005() {
    for role in ROLES {
        let mut p = Pair::open();
        p.side(peer_of(role))
            .close(CloseCode::NO_STATUS, "")
            .unwrap();
        p.drive();
        let seen = p.events_of(role);
        assert_eq!(
            seen[0],
            Event::Close {
                code: None,
                reason: String::new()
            },
            "{role:?}"
        );
        assert_eq!(
            seen[1],
            Event::Closed {
                clean: true,
                code: CloseCode::NO_STATUS,
                reason: String::new()
            },
            "{role:?}"
        );
    }
}

#[test]
fn valid_close_codes_are_echoed() {
    for role in ROLES {
        for code in [
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ] {
            let mut s = open_as(role, Options::new());
            let b = code.to_be_bytes();
            s.receive(&peer_frame(role, true, OpCode::Close, &[b[0], b[1], b'r']));
            assert_eq!(
                events(&mut s)[0],
                Event::Close {
                    code: Some(CloseCode(code)),
                    reason: "r".into()
                }
            );
            assert_eq!(sent_close_code(&mut s), code, "{role:?}");
        }
    }
}

#[test]
fn close_arguments_are_checked() {
    for role in ROLES {
        let mut p = Pair::open();
        let c = p.side(role);
        assert_eq!(
            c.close(CloseCode(1005), "x"),
            Err(Error::InvalidCloseCode(1005))
        );
        assert_eq!(
            c.close(CloseCode(999), ""),
            Err(Error::InvalidCloseCode(999))
        );
        assert_eq!(
            c.close(CloseCode::NORMAL, &"x".repeat(124)),
            Err(Error::ControlPayloadTooLong)
        );
        assert_eq!(c.send_ping(&[0; 126]), Err(Error::ControlPayloadTooLong));
        assert_eq!(c.state(), State::Open);
    }
}

#[test]
fn eof_before_close_is_abnormal() {
    for role in ROLES {
        let mut p = Pair::open();
        p.side(role).receive_eof();
        assert_eq!(
            events(p.side(role)),
            [
                Event::Error(Failure::Eof),
                Event::Closed {
                    clean: false,
                    code: CloseCode::ABNORMAL,
                    reason: String::new()
                }
            ],
            "{role:?}"
        );
    }
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
    for role in ROLES {
        let mut p = Pair::open();
        let c = p.side(role);
        c.close(CloseCode::NORMAL, "").unwrap();
        let _lost = c.take_output(); // the close frame never arrives
        assert_eq!(
            c.poll_timeout(),
            Some(Instant::ZERO),
            "asks to be told the time"
        );
        c.handle_timeout(Instant::from_millis(1000));
        assert_eq!(c.poll_timeout(), Some(Instant::from_millis(6000)));
        c.handle_timeout(Instant::from_millis(5999));
        assert_eq!(c.state(), State::Closing);
        c.handle_timeout(Instant::from_millis(6000));
        assert_eq!(
            events(c),
            [
                Event::Error(Failure::CloseTimeout),
                Event::Closed {
                    clean: false,
                    code: CloseCode::ABNORMAL,
                    reason: String::new()
                }
            ],
            "{role:?}"
        );
        assert_eq!(c.poll_timeout(), None);
    }
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
fn closed_connection_holds_no_input() {
    for role in ROLES {
        let mut p = Pair::open();
        p.side(peer_of(role)).close(CloseCode::NORMAL, "").unwrap();
        p.drive();
        let c = p.side(role);
        c.receive(&[0x81; 1000]);
        assert!(c.poll_event().is_none(), "{role:?}");
        assert_eq!(c.poll_timeout(), None, "{role:?}");
    }
}
