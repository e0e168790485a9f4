//! A client sees the server's answer to its opening handshake: the 101's header fields after
//! `Open`, and a refusal's status and fields after the handshake failed.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use support::pair::*;
use wsmachine::{ClientConfig, Connection, Event, Failure, HandshakeError, ServerConfig};

fn client() -> Connection {
    Connection::client(ClientConfig::new("example.com", "/chat").random(counter_random())).unwrap()
}

#[test]
fn the_upgrades_header_fields_after_open() {
    let server = ServerConfig::new()
        .header("Set-Cookie", "session=42; HttpOnly")
        .unwrap();
    let mut p = Pair::new(ClientConfig::new("example.com", "/chat"), server);
    assert_eq!(p.client.response(), None);
    p.drive();
    assert!(matches!(p.client_events[0], Event::Open { .. }));
    let (status, fields) = p.client.response().expect("the answer arrived");
    assert_eq!(status, 101);
    assert!(fields
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("upgrade") && v == "websocket"));
    assert_eq!(
        p.client.response_header("set-cookie"),
        Some("session=42; HttpOnly")
    );
    assert_eq!(p.client.response_header("x-absent"), None);
    // A server has no answer to read.
    assert_eq!(p.server.response(), None);
}

#[test]
fn a_refusals_status_and_fields_after_the_failure() {
    let mut c = client();
    drop(c.take_output());
    c.receive(
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"chat\"\r\n\
          X-Reason: caf\xc3\xa9 \xff\r\nContent-Length: 0\r\n\r\n",
    );
    let events: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        events[0],
        Event::Error(Failure::Handshake(HandshakeError::UnexpectedStatus(401)))
    );
    assert!(c.is_closed());
    let (status, fields) = c.response().expect("the refusal is kept");
    assert_eq!(status, 401);
    assert_eq!(fields.len(), 3);
    assert_eq!(
        c.response_header("www-authenticate"),
        Some("Basic realm=\"chat\"")
    );
    // Bytes that are not UTF-8 are replaced, not dropped.
    assert_eq!(c.response_header("x-reason"), Some("café \u{fffd}"));
}

#[test]
fn no_answer_without_a_complete_http_head() {
    let mut c = client();
    drop(c.take_output());
    c.receive(b"SMTP 220 ready");
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.response(), None);
    c.receive(b" not HTTP\r\n\r\n");
    assert!(matches!(
        c.poll_event(),
        Some(Event::Error(Failure::Handshake(_)))
    ));
    assert_eq!(c.response(), None);
}
