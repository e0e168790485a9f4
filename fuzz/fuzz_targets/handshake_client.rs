//! The client's opening handshake: validating the server's answer for a given request
//! (RFC 6455 §4.1, §4.2.2), through `Connection::client`.
//!
//! Input: `[flags][stride][answer bytes...]`. `flags` chooses the offered subprotocols and
//! a small header count; the key is RFC 6455's sample (`dGhlIHNhbXBsZSBub25jZQ==`, accept
//! `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`) so that real answers in the seeds are valid; `stride`
//! cuts the bytes for the split twin.
//!
//! Invariants:
//! 1. **The request**: what the client writes parses with httparse as a GET with the
//!    headers RFC 6455 §4.1 requires and the offered subprotocols.
//! 2. **Split invariance**: a client fed the answer in `stride`-sized pieces reports the
//!    same events and writes the same bytes as one fed it whole.
//! 3. **Necessary**: if the client opens, the answer's head parses as status 101 with
//!    `Upgrade` listing `websocket`, `Connection` listing `Upgrade`, exactly one
//!    `Sec-WebSocket-Accept` equal to base64(SHA-1(key + GUID)) computed here, at most one
//!    subprotocol, which was offered and is the one `Open` reports, and no extension
//!    (none was offered).
//! 4. **Sufficient**: an answer meeting all of that opens the connection.
//! 5. **The refusal**: otherwise the events are `Error(Handshake(e))` then an unclean
//!    `Closed`, and the client writes nothing after its request. A refusal (a status other
//!    than 101) whose body is still coming reports nothing yet; the transport's end then
//!    fails it with `UnexpectedStatus`, and `response_body` holds at most the limit (4 KiB),
//!    the bytes after the head as they came unless the body is chunked.
//! 6. **Nothing lost**: after opening, the bytes after the head produce the same events as
//!    they do on a client that starts open (`Connection::from_upgraded`).
#![no_main]

use libfuzzer_sys::fuzz_target;

use wsfuzz::http;
use wsfuzz::rng::{Deterministic, RFC_NONCE};
use wsmachine::{
    ClientConfig, Connection, Event, Failure, HandshakeError, Options, Role, State, Upgraded,
};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (flags, stride, bytes) = (data[0], usize::from(data[1]).max(1), &data[2..]);
    let offered: Vec<&str> = http::PROTOCOLS
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect();
    let max_headers = if flags & 0x20 != 0 { 6 } else { 64 };
    let options = Options::new().max_headers(max_headers);
    let config = || {
        let mut c = ClientConfig::new("server.example.com", "/chat")
            .options(options.clone())
            .random(Deterministic::new(RFC_NONCE, 7));
        for p in &offered {
            c = c.subprotocol(*p);
        }
        c
    };
    let mut a = Connection::client(config()).unwrap();
    let mut b = Connection::client(config()).unwrap();
    let request = b.take_output();
    assert_eq!(a.take_output(), request);
    let req = http::parse_request(&request).expect("the request parses");
    let key = req.value("sec-websocket-key").unwrap().to_string();
    assert_eq!(key, http::key_for(&RFC_NONCE));
    assert_eq!(req.value("sec-websocket-version"), Some("13"));
    assert_eq!(req.value("upgrade"), Some("websocket"));
    assert_eq!(req.value("connection"), Some("Upgrade"));
    assert_eq!(req.value("host"), Some("server.example.com"));
    let protocols = req.value("sec-websocket-protocol").unwrap_or("");
    assert_eq!(protocols, offered.join(", "));

    for piece in bytes.chunks(stride) {
        a.receive(piece);
    }
    b.receive(bytes);
    let events: Vec<Event> = std::iter::from_fn(|| b.poll_event()).collect();
    let ea: Vec<Event> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ea, events, "split invariance");
    assert_eq!(a.pending_output(), b.pending_output());

    let end = http::head_end(bytes);
    let verdict = end.map(|e| judge(&bytes[..e], &key, &offered, max_headers));
    match events.first() {
        Some(Event::Open {
            subprotocol,
            extensions,
        }) => {
            let chosen = match &verdict {
                Some(Ok(c)) => c.clone(),
                other => panic!("opened on an invalid answer: {other:?}"),
            };
            assert_eq!(subprotocol, &chosen);
            assert!(extensions.is_empty());
            let mut upgraded = Upgraded::new(Role::Client, options.clone())
                .random(Deterministic::new(RFC_NONCE, 7));
            upgraded.subprotocol = chosen;
            let mut fresh = Connection::from_upgraded(upgraded).unwrap();
            assert!(matches!(fresh.poll_event(), Some(Event::Open { .. })));
            fresh.receive(&bytes[end.unwrap()..]);
            let after: Vec<Event> = std::iter::from_fn(|| fresh.poll_event()).collect();
            assert_eq!(&events[1..], &after[..], "bytes after the head");
        }
        Some(Event::Error(Failure::Handshake(e))) => {
            if let Some(Ok(_)) = &verdict {
                panic!("refused a valid answer with {e:?}");
            }
            assert!(matches!(
                events.get(1),
                Some(Event::Closed { clean: false, .. })
            ));
            assert_eq!(events.len(), 2);
            assert_eq!(b.state(), State::Closed);
            assert!(b.pending_output().is_empty(), "a client answers nothing");
        }
        None => {
            assert_eq!(b.state(), State::Connecting);
            assert!(b.pending_output().is_empty());
            if let Some(end) = end {
                assert_eq!(
                    verdict,
                    Some(Err("status")),
                    "a complete answer head got no verdict"
                );
                b.receive_eof();
                let events: Vec<Event> = std::iter::from_fn(|| b.poll_event()).collect();
                assert!(
                    matches!(
                        events.first(),
                        Some(Event::Error(Failure::Handshake(
                            HandshakeError::UnexpectedStatus(s)
                        ))) if *s != 101
                    ),
                    "{events:?}"
                );
                let body = b.response_body().expect("a refusal's body");
                assert!(body.len() <= 4096);
                let chunked = bytes[..end]
                    .windows(7)
                    .any(|w| w.eq_ignore_ascii_case(b"chunked"));
                if !chunked {
                    assert!(bytes[end..].starts_with(body), "the body is what came");
                }
            }
        }
        other => panic!("unexpected first event {other:?}"),
    }
});

/// The RFC 6455 §4.1 checks of an answer, done here with httparse alone; the chosen
/// subprotocol when valid.
fn judge(
    head: &[u8],
    key: &str,
    offered: &[&str],
    max_headers: usize,
) -> Result<Option<String>, &'static str> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        _ => return Err("does not parse"),
    }
    if resp.code != Some(101) {
        return Err("status");
    }
    let values = |name: &str| -> Vec<&[u8]> {
        resp.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect()
    };
    let items = |name: &str| -> Vec<Vec<u8>> {
        values(name)
            .iter()
            .flat_map(|v| v.split(|&b| b == b','))
            .map(|t| t.trim_ascii().to_vec())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let lists = |name: &str, token: &str| {
        items(name)
            .iter()
            .any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
    };
    if !lists("upgrade", "websocket") || !lists("connection", "upgrade") {
        return Err("no upgrade");
    }
    let accepts = values("sec-websocket-accept");
    if accepts.len() != 1 || accepts[0].trim_ascii() != http::accept_for(key).as_bytes() {
        return Err("accept");
    }
    if !items("sec-websocket-extensions").is_empty() {
        return Err("an extension that was not offered");
    }
    let chosen = items("sec-websocket-protocol");
    match chosen.as_slice() {
        [] => Ok(None),
        [one] => match offered.iter().find(|p| p.as_bytes() == one.as_slice()) {
            Some(p) => Ok(Some(p.to_string())),
            None => Err("subprotocol not offered"),
        },
        _ => Err("several subprotocols"),
    }
}
