//! The server's opening handshake: request parsing and validation (RFC 6455 §4.2.1) and
//! the answer (§4.2.2), through `Connection::server`.
//!
//! Input: `[flags][stride][request bytes...]`. `flags` chooses the supported
//! subprotocols, deferred accept, a small header count and a small head size; `stride`
//! cuts the bytes for the split twin.
//!
//! Invariants:
//! 1. **Split invariance**: a server fed the bytes in `stride`-sized pieces reports the
//!    same events and writes the same bytes as one fed them whole.
//! 2. **Necessary**: if the server opens, the head (up to the first blank line) parses with
//!    httparse as `GET` over HTTP/1.1 with a `Host`, `Upgrade` listing `websocket`,
//!    `Connection` listing `Upgrade`, `Sec-WebSocket-Version: 13` and exactly one
//!    `Sec-WebSocket-Key` that is base64 of 16 bytes, within the size and header limits.
//! 3. **Sufficient**: a head meeting all of that, without `Sec-WebSocket-Extensions`
//!    (whose syntax the engine may refuse), opens the connection.
//! 4. **The answer**: on open, the output starts with a 101 head whose
//!    `Sec-WebSocket-Accept` is base64(SHA-1(key + GUID)) computed here, with the first of
//!    the server's subprotocols that the client offered (none if none); with deferred
//!    accept, `Request` reports the same path, host and offer first.
//! 5. **Plain HTTP**: a valid `GET` without `Upgrade` is reported to a deferring server
//!    as a non-WebSocket request that cannot be accepted and can be answered with a page
//!    (exactly that response, then `Closed`); other servers refuse it.
//! 6. **The refusal**: otherwise the events are `Error(Handshake(e))` then an unclean
//!    `Closed` with 1006, and the output is exactly one HTTP response with status
//!    `e.status()`, `Connection: close` and a body as long as its `Content-Length` (426
//!    names version 13); an incomplete head within the limit gives no event and no output.
//! 7. **Nothing lost**: after opening, the bytes after the head produce the same events as
//!    they do on a connection that starts open (`Connection::from_upgraded`).
#![no_main]

use libfuzzer_sys::fuzz_target;

use wsfuzz::http;
use wsmachine::{Connection, Event, Failure, Options, Role, ServerConfig, State, Upgraded};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (flags, stride, bytes) = (data[0], usize::from(data[1]).max(1), &data[2..]);
    let supported: Vec<&str> = http::PROTOCOLS
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect();
    let defer = flags & 0x10 != 0;
    let max_headers = if flags & 0x20 != 0 { 6 } else { 64 };
    let max_head = if flags & 0x40 != 0 { 200 } else { 4096 };
    let options = Options::new()
        .max_headers(max_headers)
        .max_handshake_size(max_head);
    let config = || {
        let mut c = ServerConfig::new()
            .options(options.clone())
            .defer_accept(defer);
        for p in &supported {
            c = c.subprotocol(*p);
        }
        c
    };
    let mut a = Connection::server(config());
    let mut b = Connection::server(config());
    for piece in bytes.chunks(stride) {
        a.receive(piece);
    }
    b.receive(bytes);
    let mut events: Vec<Event> = std::iter::from_fn(|| b.poll_event()).collect();
    let ea: Vec<Event> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ea, events, "split invariance");
    assert_eq!(a.pending_output(), b.pending_output());

    let end = http::head_end(bytes);
    let head = end.map(|e| &bytes[..e]);
    let verdict = head
        .filter(|h| h.len() <= max_head)
        .map(|h| judge(h, max_headers));

    // Deferred accept: the request comes first, then we accept with our own choice, or
    // answer a plain GET with a page.
    if let Some(Event::Request(req)) = events.first() {
        assert!(defer);
        assert_eq!(events.len(), 1);
        match &verdict {
            Some(Verdict::WebSocket(seen)) => {
                assert!(req.websocket);
                assert_eq!(req.path, seen.path);
                assert_eq!(&req.subprotocols, &seen.offered);
                let choice = supported
                    .iter()
                    .find(|p| seen.offered.iter().any(|o| o == *p))
                    .copied();
                b.accept(choice).expect("accept a pending request");
                events = std::iter::from_fn(|| b.poll_event()).collect();
            }
            Some(Verdict::Plain { path }) => {
                assert!(!req.websocket);
                assert_eq!(&req.path, path);
                assert!(b.accept(None).is_err(), "accepted a plain GET");
                b.respond(200, "text/plain", b"hello")
                    .expect("respond to a plain GET");
                let after: Vec<Event> = std::iter::from_fn(|| b.poll_event()).collect();
                assert!(
                    matches!(after.as_slice(), [Event::Closed { clean: false, .. }]),
                    "{after:?}"
                );
                assert_eq!(b.state(), State::Closed);
                let out = b.pending_output();
                let end = http::head_end(out).expect("a response head");
                let resp = http::parse_response(&out[..end]).expect("the response parses");
                assert_eq!(resp.status, 200);
                assert_eq!(resp.value("content-length"), Some("5"));
                assert_eq!(&out[end..], b"hello");
                return;
            }
            other => panic!("reported a request judged {other:?}"),
        }
    }

    let out = b.pending_output().to_vec();
    match events.first() {
        Some(Event::Open { subprotocol, .. }) => {
            let v = match verdict {
                Some(Verdict::WebSocket(v)) => v,
                other => panic!("opened on an invalid request: {other:?}"),
            };
            let end = end.unwrap();
            let answer_end = http::head_end(&out).expect("an answer head");
            let resp = http::parse_response(&out[..answer_end]).expect("the answer parses");
            assert_eq!(resp.status, 101);
            assert_eq!(resp.value("upgrade"), Some("websocket"));
            assert_eq!(resp.value("connection"), Some("Upgrade"));
            assert_eq!(
                resp.value("sec-websocket-accept"),
                Some(http::accept_for(&v.key).as_str())
            );
            let choice = supported
                .iter()
                .find(|p| v.offered.iter().any(|o| o == *p))
                .copied();
            assert_eq!(subprotocol.as_deref(), choice);
            assert_eq!(resp.value("sec-websocket-protocol"), choice);
            assert_eq!(b.state(), events_state(&events));
            // The bytes after the head are frames, handled as on an open connection.
            let mut upgraded = Upgraded::new(Role::Server, options.clone());
            upgraded.subprotocol = choice.map(String::from);
            let mut fresh = Connection::from_upgraded(upgraded).unwrap();
            assert!(matches!(fresh.poll_event(), Some(Event::Open { .. })));
            fresh.receive(&bytes[end..]);
            let after: Vec<Event> = std::iter::from_fn(|| fresh.poll_event()).collect();
            assert_eq!(&events[1..], &after[..], "bytes after the head");
            assert_eq!(&out[answer_end..], fresh.pending_output());
        }
        Some(Event::Error(Failure::Handshake(e))) => {
            if let Some(Verdict::WebSocket(v)) = &verdict {
                assert!(v.has_extensions, "refused a valid request with {e:?}");
            }
            if let Some(Verdict::Plain { .. }) = &verdict {
                assert!(
                    !defer,
                    "a plain GET must be reported when the accept is deferred"
                );
            }
            assert!(matches!(
                events.get(1),
                Some(Event::Closed { clean: false, code, .. }) if code.0 == 1006
            ));
            assert_eq!(events.len(), 2);
            assert_eq!(b.state(), State::Closed);
            let answer_end = http::head_end(&out).expect("an error answer");
            let resp = http::parse_response(&out[..answer_end]).expect("the error answer parses");
            assert_eq!(resp.status, e.status());
            assert!((400..=599).contains(&resp.status));
            assert_eq!(resp.value("connection"), Some("close"));
            let len: usize = resp.value("content-length").unwrap().parse().unwrap();
            assert_eq!(out.len() - answer_end, len);
            if resp.status == 426 {
                assert_eq!(resp.value("sec-websocket-version"), Some("13"));
            }
        }
        None => {
            assert!(out.is_empty());
            assert_eq!(b.state(), State::Connecting);
            assert!(
                end.is_none() && bytes.len() <= max_head,
                "a complete head got no answer"
            );
        }
        other => panic!("unexpected first event {other:?}"),
    }
});

fn events_state(events: &[Event]) -> State {
    if events.iter().any(|e| matches!(e, Event::Closed { .. })) {
        State::Closed
    } else if events.iter().any(|e| matches!(e, Event::Close { .. })) {
        State::Closing
    } else {
        State::Open
    }
}

/// How this harness judges a request head.
#[derive(Debug)]
enum Verdict {
    /// A valid Upgrade request.
    WebSocket(Valid),
    /// A valid `GET` without any `Upgrade` header: plain HTTP, reported to a deferring
    /// server (which may answer it with a page) and refused by others.
    Plain { path: String },
    /// Why (read in crash reports).
    Invalid(#[allow(dead_code)] &'static str),
}

/// What this harness reads from a valid request.
#[derive(Debug)]
struct Valid {
    path: String,
    key: String,
    offered: Vec<String>,
    has_extensions: bool,
}

/// The RFC 6455 §4.2.1 checks, done here with httparse alone.
fn judge(head: &[u8], max_headers: usize) -> Verdict {
    match judge_inner(head, max_headers) {
        Ok(v) => v,
        Err(why) => Verdict::Invalid(why),
    }
}

fn judge_inner(head: &[u8], max_headers: usize) -> Result<Verdict, &'static str> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        _ => return Err("does not parse"),
    }
    if req.method != Some("GET") {
        return Err("not GET");
    }
    if req.version != Some(1) {
        return Err("not HTTP/1.1");
    }
    let values = |name: &str| -> Vec<&[u8]> {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect()
    };
    let lists = |name: &str, token: &str| {
        values(name).iter().any(|v| {
            v.split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    if values("host").is_empty() {
        return Err("no host");
    }
    if values("upgrade").is_empty() {
        return Ok(Verdict::Plain {
            path: req.path.unwrap_or("/").to_string(),
        });
    }
    if !lists("upgrade", "websocket") || !lists("connection", "upgrade") {
        return Err("no upgrade");
    }
    if values("sec-websocket-version")
        .first()
        .map(|v| v.trim_ascii())
        != Some(b"13")
    {
        return Err("version");
    }
    let keys = values("sec-websocket-key");
    if keys.len() != 1 {
        return Err("key count");
    }
    let key = std::str::from_utf8(keys[0].trim_ascii()).map_err(|_| "key not ASCII")?;
    if !http::key_is_valid(key) {
        return Err("key");
    }
    let offered = values("sec-websocket-protocol")
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect();
    Ok(Verdict::WebSocket(Valid {
        path: req.path.unwrap_or("/").to_string(),
        key: key.to_string(),
        offered,
        has_extensions: !values("sec-websocket-extensions").is_empty(),
    }))
}
