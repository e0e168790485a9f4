//! The opening handshake in memory: subprotocol negotiation and its policies, deferred
//! accept and reject, answers to bad requests and bad responses, plain HTTP, connections
//! that start open (`from_upgraded`), the handshake timeout.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{
    ClientConfig, Connection, Error, Event, Failure, HandshakeError, Instant, Options, Role,
    ServerConfig, State, SubprotocolPolicy, Upgraded,
};

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
