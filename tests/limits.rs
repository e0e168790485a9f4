//! Sizes and buffering in memory: output written in pieces and the buffered amount, "no
//! limit" sizes, and sends refused past the output buffer's bound.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{ClientConfig, CloseCode, Error, Event, MessageKind, Options, Role, ServerConfig};

#[test]
fn partial_output_writes_and_buffered_amount() {
    for role in ROLES {
        let mut p = Pair::open();
        p.side(role).send_binary(&[7; 1000]).unwrap();
        let total = p.side(role).buffered_amount();
        // The header: 2 bytes, a 16-bit length and, from a client, a masking key.
        let header = match role {
            Role::Client => 8,
            Role::Server => 4,
        };
        assert_eq!(total, 1000 + header);
        let mut written = 0;
        while p.side(role).buffered_amount() > 0 {
            let sender = p.side(role);
            let chunk = sender.pending_output()[..sender.buffered_amount().min(3)].to_vec();
            sender.consume_output(chunk.len());
            p.side(peer_of(role)).receive(&chunk);
            written += chunk.len();
        }
        assert_eq!(written, total);
        assert_eq!(
            events(p.side(peer_of(role))),
            [Event::Binary(vec![7; 1000].into())]
        );
    }
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
