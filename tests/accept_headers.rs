//! A deferred-accept server adds header fields chosen for one request to its 101 answer
//! (`Connection::accept_with_headers`), after the configuration's; bad names and values are
//! refused with `Error::InvalidHeader` and leave the request waiting.

use wsmachine::{ClientConfig, Connection, Error, Event, ServerConfig};

/// A client and a deferred-accept server holding the client's request.
fn waiting() -> (Connection, Connection) {
    let config = ServerConfig::new()
        .defer_accept(true)
        .subprotocol("chat")
        .header("X-Server", "test")
        .unwrap();
    let mut server = Connection::server(config);
    let mut client =
        Connection::client(ClientConfig::new("example.com", "/chat").subprotocol("chat")).unwrap();
    server.receive(&client.take_output());
    let Some(Event::Request(request)) = server.poll_event() else {
        panic!("expected the request");
    };
    assert_eq!(request.path, "/chat");
    (client, server)
}

#[test]
fn per_request_headers_reach_the_client() {
    let (mut client, mut server) = waiting();
    server
        .accept_with_headers(
            Some("chat"),
            &[
                ("Set-Cookie", "session=7; HttpOnly"),
                ("X-Room", "lobby\tmain"),
            ],
        )
        .unwrap();
    let answer = String::from_utf8(server.pending_output().to_vec()).unwrap();
    let server_at = answer
        .find("X-Server: test\r\n")
        .expect("the configuration's header");
    let cookie_at = answer
        .find("Set-Cookie: session=7; HttpOnly\r\n")
        .expect("the cookie");
    assert!(server_at < cookie_at, "{answer}");
    client.receive(&server.take_output());
    assert!(matches!(client.poll_event(), Some(Event::Open { .. })));
    assert_eq!(client.subprotocol(), Some("chat"));
    assert_eq!(
        client.response_header("set-cookie"),
        Some("session=7; HttpOnly")
    );
    assert_eq!(client.response_header("x-room"), Some("lobby\tmain"));
    assert_eq!(client.response_header("x-server"), Some("test"));
    assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
}

#[test]
fn bad_headers_are_refused_and_the_request_still_waits() {
    let (mut client, mut server) = waiting();
    for bad in [
        ("Set-Cookie", "a\r\nX-Injected: 1"),
        ("Set-Cookie", "a\nb"),
        ("Set-Cookie", "a\0b"),
        ("Bad Name", "v"),
        ("Bad:Name", "v"),
        ("", "v"),
    ] {
        assert_eq!(
            server.accept_with_headers(None, &[("X-Ok", "fine"), bad]),
            Err(Error::InvalidHeader),
            "{bad:?}"
        );
        assert!(server.pending_output().is_empty(), "nothing was answered");
    }
    // An unoffered subprotocol is refused as by `accept`.
    assert_eq!(
        server.accept_with_headers(Some("superchat"), &[]),
        Err(Error::SubprotocolNotOffered)
    );
    server
        .accept_with_headers(None, &[("X-Ok", "fine")])
        .unwrap();
    client.receive(&server.take_output());
    assert!(matches!(client.poll_event(), Some(Event::Open { .. })));
    assert_eq!(client.response_header("x-ok"), Some("fine"));
    assert_eq!(client.response_header("x-injected"), None);
    // Once answered, there is nothing left to accept.
    assert_eq!(
        server.accept_with_headers(None, &[]),
        Err(Error::NoPendingRequest)
    );
}
