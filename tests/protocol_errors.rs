//! A peer that breaks the protocol, in memory, for both roles where both apply: each error
//! fails the connection with its close code, UTF-8 is checked as it arrives, and masking is
//! required one way and refused the other.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{Event, Failure, Options, ProtocolError, Role, State};

/// Feeds `input` to an open connection of `role` and checks it fails with `err` and sends
/// `code`.
fn fails(role: Role, input: &[u8], err: ProtocolError, code: u16) {
    fails_with(role, Options::new(), input, err, code);
}

fn fails_with(role: Role, options: Options, input: &[u8], err: ProtocolError, code: u16) {
    let mut s = open_as(role, options);
    s.receive(input);
    let ev = events(&mut s);
    assert!(
        ev.contains(&Event::Error(Failure::Protocol(err))),
        "{role:?} {err:?}: {ev:?}"
    );
    assert!(
        matches!(ev.last(), Some(Event::Closed { clean: false, .. })),
        "{role:?}: {ev:?}"
    );
    assert_eq!(sent_close_code(&mut s), code, "{role:?} {err:?}");
    assert_eq!(s.state(), State::Closed);
    // Input after the failure is ignored.
    s.receive(&peer_frame(role, true, OpCode::Text, b"late"));
    assert!(events(&mut s).is_empty());
}

/// The masking key the peer of `role` puts on its frames: one to a server, none to a client.
fn peer_mask(role: Role) -> Option<[u8; 4]> {
    match role {
        Role::Server => Some([1, 2, 3, 4]),
        Role::Client => None,
    }
}

#[test]
fn every_protocol_error_closes_with_its_code() {
    for role in ROLES {
        fails(
            role,
            &peer_frame(role, true, OpCode::Text, &[0xff]),
            ProtocolError::InvalidUtf8,
            1007,
        );
        if role == Role::Server {
            fails(
                role,
                &frame(true, 0, OpCode::Text, None, b"unmasked"),
                ProtocolError::UnmaskedFrame,
                1002,
            );
        }
        fails(
            role,
            &frame(true, 0b100, OpCode::Text, peer_mask(role), b"x"),
            ProtocolError::ReservedBitsSet,
            1002,
        );
        fails(
            role,
            &frame(true, 0b001, OpCode::Ping, peer_mask(role), b""),
            ProtocolError::ReservedBitsSet,
            1002,
        );
        fails(
            role,
            &peer_frame(role, true, OpCode::Continuation, b"x"),
            ProtocolError::UnexpectedContinuation,
            1002,
        );
        let mut two_starts = peer_frame(role, false, OpCode::Text, b"a");
        two_starts.extend(peer_frame(role, true, OpCode::Binary, b"b"));
        fails(role, &two_starts, ProtocolError::ExpectedContinuation, 1002);
        for op in [3u8, 7, 0xB, 0xF] {
            fails(
                role,
                &peer_raw(role, &[0x80 | op, 0]),
                ProtocolError::ReservedOpcode(op),
                1002,
            );
        }
        fails(
            role,
            &peer_raw(role, &[0x09, 0]),
            ProtocolError::FragmentedControlFrame,
            1002,
        );
        fails(
            role,
            &peer_frame(role, true, OpCode::Ping, &[0; 126]),
            ProtocolError::ControlFrameTooLong,
            1002,
        );
        // A 64-bit length with its most significant bit set.
        fails(
            role,
            &peer_raw(role, &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]),
            ProtocolError::InvalidLength,
            1002,
        );
        fails(
            role,
            &peer_frame(role, true, OpCode::Close, &[3]),
            ProtocolError::InvalidClosePayload,
            1002,
        );
        for bad in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000] {
            let b = bad.to_be_bytes();
            fails(
                role,
                &peer_frame(role, true, OpCode::Close, &[b[0], b[1]]),
                ProtocolError::InvalidCloseCode(bad),
                1002,
            );
        }
        fails(
            role,
            &peer_frame(role, true, OpCode::Close, &[0x03, 0xe8, 0xc3, 0x28]),
            ProtocolError::InvalidCloseReason,
            1007,
        );
        let small = Options::new().max_frame_size(100).max_message_size(150);
        fails_with(
            role,
            small.clone(),
            &peer_frame(role, true, OpCode::Binary, &[0; 101]),
            ProtocolError::FrameTooLarge,
            1009,
        );
        let mut long = peer_frame(role, false, OpCode::Binary, &[0; 100]);
        long.extend(peer_frame(role, true, OpCode::Continuation, &[0; 51]));
        fails_with(role, small, &long, ProtocolError::MessageTooLarge, 1009);
    }
}

#[test]
fn invalid_utf8_fails_fast_inside_a_frame_and_across_fragments() {
    for role in ROLES {
        // Inside one frame whose end has not arrived yet.
        let mut s = open_as(role, Options::new());
        let payload = [b'a', b'b', 0xf4, 0x90, b'c', b'd', b'e'];
        let f = peer_frame(role, true, OpCode::Text, &payload);
        let header = f.len() - payload.len();
        s.receive(&f[..header + 3]);
        assert!(events(&mut s).is_empty(), "a valid prefix so far");
        s.receive(&f[header + 3..header + 4]);
        assert_eq!(
            events(&mut s)[0],
            Event::Error(Failure::Protocol(ProtocolError::InvalidUtf8)),
            "{role:?}"
        );
        // Across fragments: the first fragment ends inside a code point, the second breaks it.
        let mut s = open_as(role, Options::new());
        s.receive(&peer_frame(role, false, OpCode::Text, &[b'x', 0xe2, 0x82]));
        assert!(events(&mut s).is_empty());
        s.receive(&peer_frame(role, true, OpCode::Continuation, b"y"));
        assert_eq!(
            events(&mut s)[0],
            Event::Error(Failure::Protocol(ProtocolError::InvalidUtf8)),
            "{role:?}"
        );
        // A message that ends inside a code point.
        fails(
            role,
            &peer_frame(role, true, OpCode::Text, &[0xe2, 0x82]),
            ProtocolError::InvalidUtf8,
            1007,
        );
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
