//! A client whose upgrade is refused sees the refusal's body, up to
//! `ClientConfig::max_response_body`: a `Content-Length` body is waited for, a chunked one
//! decoded, any other read until the transport ends; the handshake fails with
//! `UnexpectedStatus` once the body is in.

use std::time::Duration;
use wsmachine::{
    ClientConfig, Connection, Event, Failure, HandshakeError, Instant, Options, ServerConfig,
};

fn client(config: ClientConfig) -> Connection {
    let mut c = Connection::client(config).unwrap();
    drop(c.take_output());
    c
}

fn default_client() -> Connection {
    client(ClientConfig::new("example.com", "/chat"))
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn refused(status: u16) -> Event {
    Event::Error(Failure::Handshake(HandshakeError::UnexpectedStatus(status)))
}

#[test]
fn a_content_length_body_is_waited_for() {
    let mut c = default_client();
    c.receive(
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nnot ",
    );
    // Not failed yet: the body is still coming.
    assert_eq!(events(&mut c), vec![]);
    assert_eq!(c.response_body(), None);
    assert_eq!(c.response().map(|r| r.0), Some(403));
    c.receive(b"on a Sunday");
    assert_eq!(events(&mut c), vec![]);
    c.receive(b"!!!!!and what follows is not read");
    let e = events(&mut c);
    assert_eq!(e[0], refused(403));
    assert!(matches!(e[1], Event::Closed { clean: false, .. }));
    assert_eq!(c.response_body(), Some(&b"not on a Sunday!!!!!"[..]));
    assert_eq!(c.response_header("content-type"), Some("text/plain"));
}

#[test]
fn a_chunked_body_is_decoded() {
    let mut c = default_client();
    c.receive(b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 5\r\n\r\n5\r\nslow ");
    assert_eq!(events(&mut c), vec![]);
    for piece in [
        &b"\r"[..],
        b"\n4\r\ndo",
        b"wn\r\n7;note=x\r\n",
        b" please",
        b"\r\n0\r\n\r\n",
    ] {
        assert_eq!(events(&mut c), vec![]);
        c.receive(piece);
    }
    assert_eq!(events(&mut c)[0], refused(429));
    assert_eq!(c.response_body(), Some(&b"slow down please"[..]));
    assert_eq!(c.response_header("retry-after"), Some("5"));
}

#[test]
fn a_body_without_length_ends_with_the_transport() {
    let mut c = default_client();
    c.receive(b"HTTP/1.0 503 Service Unavailable\r\n\r\nback ");
    c.receive(b"soon");
    assert_eq!(events(&mut c), vec![]);
    c.receive_eof();
    // The refusal, not the end of the transport, is what failed.
    assert_eq!(events(&mut c)[0], refused(503));
    assert_eq!(c.response_body(), Some(&b"back soon"[..]));
}

#[test]
fn the_limit_bounds_the_body() {
    let mut c = client(ClientConfig::new("h", "/").max_response_body(4));
    c.receive(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1000000\r\n\r\nabc");
    assert_eq!(events(&mut c), vec![]);
    c.receive(b"defgh");
    assert_eq!(events(&mut c)[0], refused(500));
    assert_eq!(c.response_body(), Some(&b"abcd"[..]));

    // 0: no body is read, the failure comes with the head.
    let mut c = client(ClientConfig::new("h", "/").max_response_body(0));
    c.receive(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10\r\n\r\n");
    assert_eq!(events(&mut c)[0], refused(500));
    assert_eq!(c.response_body(), Some(&b""[..]));
}

#[test]
fn no_body_to_read() {
    // Content-Length: 0, 204 and 304: the failure comes with the head, with an empty body.
    for head in [
        &b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"[..],
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n",
    ] {
        let mut c = default_client();
        c.receive(head);
        assert!(matches!(
            events(&mut c)[0],
            Event::Error(Failure::Handshake(HandshakeError::UnexpectedStatus(_)))
        ));
        assert_eq!(c.response_body(), Some(&b""[..]));
    }
}

#[test]
fn the_handshake_timeout_ends_the_reading() {
    let options = Options::new().handshake_timeout(Some(Duration::from_secs(5)));
    let mut c = client(ClientConfig::new("h", "/").options(options));
    c.handle_timeout(Instant::from_millis(0));
    c.receive(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\nlog in");
    assert_eq!(events(&mut c), vec![]);
    c.handle_timeout(Instant::from_millis(6000));
    assert_eq!(events(&mut c)[0], refused(401));
    assert_eq!(c.response_body(), Some(&b"log in"[..]));
}

#[test]
fn no_body_after_an_upgrade() {
    let mut server = Connection::server(ServerConfig::new());
    let mut c = Connection::client(ClientConfig::new("example.com", "/chat")).unwrap();
    server.receive(&c.take_output());
    c.receive(&server.take_output());
    assert!(matches!(c.poll_event(), Some(Event::Open { .. })));
    assert_eq!(c.response_body(), None);
    assert_eq!(server.response_body(), None);
    // A refusal by the engine's own server carries its reason as the body.
    let config = ServerConfig::new().defer_accept(true);
    let mut server = Connection::server(config);
    let mut c = Connection::client(ClientConfig::new("example.com", "/chat")).unwrap();
    server.receive(&c.take_output());
    assert!(matches!(server.poll_event(), Some(Event::Request(_))));
    server.reject(403, "members only").unwrap();
    c.receive(&server.take_output());
    assert_eq!(events(&mut c)[0], refused(403));
    assert_eq!(c.response_body(), Some(&b"members only\n"[..]));
}
