//! The handshake building blocks for handshakes done elsewhere (`handshake::negotiate`,
//! and `handshake::http` with `http` types): arbitrary header lists, with and without
//! RFC 8441 pseudo-headers, and valid generated requests.
//!
//! Input (`arbitrary`): a list of fields (names from a list of the WebSocket ones, the
//! pseudo-headers and a few others, or arbitrary text; values arbitrary bytes), the server's
//! subprotocols and deflate choice, and a valid request's parts (kind, key bytes, offered
//! subprotocols, a deflate offer, case changes, extra fields).
//!
//! Invariants:
//! 1. **No panic**: `validate`, `server`, `handshake::http::server_response` and
//!    `server_response_extended_connect` on any list.
//! 2. **Consistent**: `server` succeeds exactly when `validate` does; an answer's kind is
//!    extended CONNECT exactly when the list has a pseudo-header; an HTTP/1.1 answer carries
//!    base64(SHA-1(key + GUID)) computed here; every answer header is a valid header; the
//!    answer starts an engine (`Connection::from_upgraded`). `server_response` on the same
//!    fields as an `http::Request` agrees with `server`, and so does
//!    `server_response_extended_connect` on them as an HTTP/2 CONNECT (pseudo-headers
//!    apart, `:protocol` handed over as h2 does; no `Upgrade` in its refusals).
//! 3. **Valid requests negotiate**: a request built from the valid parts (both kinds) is
//!    answered with the first of the server's subprotocols offered; a client's own offer
//!    (`ClientOffer`) accepts the answer; both engines start with the same extensions and a
//!    message crosses from client to server. The same client through `http` types
//!    (`client_request` or `client_request_extended_connect`, `server_response` or
//!    `server_response_extended_connect`, `client_finish`) succeeds too.
//! 4. **C ABI**: `wsm_accept_key`, `wsm_deflate_answer` and `wsm_conn_from_upgraded` on
//!    arbitrary keys, offers, roles and buffer sizes agree with the Rust functions (the
//!    result, the NUL-terminated text written, whether a connection starts), never panic,
//!    and write nothing past the buffer or on failure.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsfuzz::http::{accept_for, PROTOCOLS};
use wsmachine::handshake::negotiate::{self, ClientOffer, Kind};
use wsmachine::{ClientConfig, Connection, DeflateConfig, Event, RandomSource, ServerConfig};

const NAMES: [&str; 16] = [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Host",
    "Origin",
    ":method",
    ":protocol",
    ":path",
    ":authority",
    ":scheme",
    "sec-websocket-key",
    "upgrade",
    "x-other",
];

const VALUES: [&[u8]; 10] = [
    b"websocket",
    b"Upgrade",
    b"13",
    b"dGhlIHNhbXBsZSBub25jZQ==",
    b"CONNECT",
    b"chat, superchat",
    b"permessage-deflate; client_max_window_bits",
    b"permessage-deflate; server_max_window_bits=8",
    b"keep-alive, Upgrade",
    b"GET",
];

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Known(u8),
    Other(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    fields: Vec<(Name, Value)>,
    /// For the C entry points: a key, an offer (also taken as a negotiated value), a role,
    /// and a small output buffer length.
    c_key: Vec<u8>,
    c_offer: Vec<u8>,
    c_role: u8,
    c_out_len: u8,
    /// Bit i: the server supports PROTOCOLS[i]; bit 4: it accepts deflate; bit 5: with
    /// server_no_context_takeover; bits 6-7: window bits choice.
    server: u8,
    extended: bool,
    key: [u8; 16],
    /// Bit i: the client offers PROTOCOLS[i]; bit 4: it offers deflate; bit 5:
    /// client_no_context_takeover; bit 6: server_max_window_bits=9+; bit 7: lower-case names.
    client: u8,
    bits: u8,
    extra: Vec<(u8, String)>,
}

struct Fixed([u8; 16]);

impl RandomSource for Fixed {
    fn fill(&mut self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.0[i % 16];
        }
    }
}

fn server_config(flags: u8) -> ServerConfig {
    let mut c = ServerConfig::new();
    for (i, p) in PROTOCOLS.iter().enumerate() {
        if flags & (1 << i) != 0 {
            c = c.subprotocol(*p);
        }
    }
    if flags & 0x10 != 0 {
        let mut d = DeflateConfig::new().server_no_context_takeover(flags & 0x20 != 0);
        match flags >> 6 {
            1 => d = d.server_max_window_bits(9),
            2 => d = d.client_max_window_bits(12),
            _ => {}
        }
        c = c.deflate(d);
    }
    c
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The client configuration of invariant 3.
fn client_config(input: &Input) -> ClientConfig {
    let mut client = ClientConfig::new("example.com", "/chat").random(Fixed(input.key));
    for (i, p) in PROTOCOLS.iter().enumerate() {
        if input.client & (1 << i) != 0 {
            client = client.subprotocol(*p);
        }
    }
    if input.client & 0x10 != 0 {
        let mut d = DeflateConfig::new().client_no_context_takeover(input.client & 0x20 != 0);
        if input.client & 0x40 != 0 {
            d = d.server_max_window_bits(9 + input.bits % 7);
        }
        client = client.deflate(d);
    }
    for (i, v) in &input.extra {
        let name = ["X-Extra", "Cookie", "User-Agent"][usize::from(*i) % 3];
        if v.bytes().all(|b| b >= 0x20 && b != 0x7f) {
            client = client.header(name, v.as_str());
        }
    }
    client
}

/// Checks an answer (invariant 2) and returns its headers.
fn check_answer(answer: negotiate::Answer, key: Option<&[u8]>) -> Vec<(String, String)> {
    if let Some(key) = key {
        let key = std::str::from_utf8(key.trim_ascii()).expect("a valid key is ASCII");
        assert_eq!(answer.accept.as_deref(), Some(accept_for(key).as_str()));
    } else {
        assert_eq!(answer.accept, None);
    }
    let headers = answer.headers();
    for (n, v) in &headers {
        assert!(is_token(n), "{n:?}");
        assert!(
            v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f)),
            "{v:?}"
        );
    }
    Connection::from_upgraded(answer.into_upgraded()).expect("an answer starts an engine");
    headers
}

/// Invariants 1 and 2 for `server_response_extended_connect`: the regular fields as an
/// `http::Request` with method CONNECT, `protocol` as h2 hands it over; the answer agrees
/// with `server` on the same fields plus `:method` and `:protocol`, is 200 or a 4xx/5xx,
/// and never carries the connection-specific `Upgrade` HTTP/2 forbids.
fn extended_connect(config: &ServerConfig, fields: &[(String, Vec<u8>)], protocol: Option<&str>) {
    let mut builder =
        http::Request::connect("https://example.com/chat").version(http::Version::HTTP_2);
    let mut view: Vec<(String, Vec<u8>)> = vec![(":method".into(), b"CONNECT".to_vec())];
    if let Some(p) = protocol {
        view.push((":protocol".into(), p.as_bytes().to_vec()));
    }
    for (n, v) in fields.iter().filter(|(n, _)| !n.starts_with(':')) {
        match (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_bytes(v),
        ) {
            (Ok(name), Ok(value)) => {
                view.push((name.as_str().to_string(), v.clone()));
                builder = builder.header(name, value);
            }
            _ => return,
        }
    }
    let Ok(request) = builder.body(()) else {
        return;
    };
    let via_http =
        wsmachine::handshake::http::server_response_extended_connect(&request, protocol, config);
    let direct = negotiate::server(config, &view);
    assert_eq!(via_http.is_ok(), direct.is_ok());
    match via_http {
        Ok((response, upgraded)) => {
            assert_eq!(response.status().as_u16(), 200);
            assert!(response.headers().get("sec-websocket-accept").is_none());
            Connection::from_upgraded(upgraded).expect("an answer starts an engine");
        }
        Err(response) => {
            assert!(response.status().as_u16() >= 400);
            assert!(response.headers().get("upgrade").is_none());
        }
    }
}

/// Invariant 4.
fn c_abi(input: &Input) {
    use std::ffi::{c_char, CString};
    use wsmachine::ffi::conn::wsm_conn_free;
    use wsmachine::ffi::deflate::{wsm_deflate_free, wsm_deflate_new};
    use wsmachine::ffi::result::wsm_result;
    use wsmachine::ffi::upgraded::*;
    use wsmachine::handshake::parse_extensions;

    let out_len = usize::from(input.c_out_len % 64);
    // The accept key, against the reference.
    let mut out = [0x55u8; 64];
    let mut written = usize::MAX;
    // SAFETY: the key buffer and `out` outlive the call; `out_len` <= 64.
    let r = unsafe {
        wsm_accept_key(
            input.c_key.as_ptr(),
            input.c_key.len(),
            out.as_mut_ptr().cast::<c_char>(),
            out_len,
            &mut written,
        )
    };
    let key = input.c_key.trim_ascii();
    let valid = std::str::from_utf8(key).is_ok_and(wsfuzz::http::key_is_valid);
    let expected = if !valid {
        wsm_result::WSM_ERR_INVALID_HEADER
    } else if out_len <= WSM_ACCEPT_KEY_LEN {
        wsm_result::WSM_ERR_INVALID_ARGUMENT
    } else {
        wsm_result::WSM_OK
    };
    assert_eq!(r, expected);
    if r == wsm_result::WSM_OK {
        let accept = accept_for(std::str::from_utf8(key).unwrap());
        assert_eq!(written, WSM_ACCEPT_KEY_LEN);
        assert_eq!(&out[..written], accept.as_bytes());
        assert_eq!(out[written], 0);
        assert!(out[written + 1..].iter().all(|&b| b == 0x55));
    } else {
        assert_eq!(written, usize::MAX);
        assert!(out.iter().all(|&b| b == 0x55));
    }

    // The deflate answer, against `answer_deflate`.
    let Ok(offer) = CString::new(input.c_offer.clone()) else {
        return;
    };
    let mut d = std::ptr::null_mut();
    // SAFETY: `d` is a writable local.
    assert_eq!(unsafe { wsm_deflate_new(&mut d) }, wsm_result::WSM_OK);
    let mut out = [0x55u8; 64];
    let mut written = usize::MAX;
    // SAFETY: `d` is live, `offer` NUL-terminated, `out` holds `out_len` <= 64 bytes.
    let r = unsafe {
        wsm_deflate_answer(
            d,
            offer.as_ptr(),
            out.as_mut_ptr().cast::<c_char>(),
            out_len,
            &mut written,
        )
    };
    let expected = match std::str::from_utf8(&input.c_offer) {
        Err(_) => Err(wsm_result::WSM_ERR_INVALID_UTF8),
        Ok(text) => match parse_extensions([text.as_bytes()]) {
            None => Err(wsm_result::WSM_ERR_INVALID_HEADER),
            Some(offers) => match negotiate::answer_deflate(&offers, &DeflateConfig::new()) {
                None => Err(wsm_result::WSM_ERR_NOT_FOUND),
                Some(a) if a.len() >= out_len => Err(wsm_result::WSM_ERR_INVALID_ARGUMENT),
                Some(a) => Ok(a),
            },
        },
    };
    match expected {
        Ok(answer) => {
            assert_eq!(r, wsm_result::WSM_OK);
            assert_eq!(&out[..written], answer.as_bytes());
            assert_eq!(out[written], 0);
        }
        Err(e) => {
            assert_eq!(r, e);
            assert!(out.iter().all(|&b| b == 0x55));
        }
    }

    // A connection from the offer taken as a negotiated value, against `from_upgraded`.
    let role = u32::from(input.c_role % 3);
    let mut conn = std::ptr::null_mut();
    // SAFETY: `offer` is NUL-terminated, `d` live, `conn` a writable local.
    let r = unsafe {
        wsm_conn_from_upgraded(
            role,
            std::ptr::null(),
            std::ptr::null(),
            offer.as_ptr(),
            d,
            &mut conn,
        )
    };
    let expected = match (role, std::str::from_utf8(&input.c_offer)) {
        (2, _) => wsm_result::WSM_ERR_INVALID_ARGUMENT,
        (_, Err(_)) => wsm_result::WSM_ERR_INVALID_UTF8,
        (_, Ok(text)) => {
            let r = if role == WSM_ROLE_CLIENT {
                wsmachine::Role::Client
            } else {
                wsmachine::Role::Server
            };
            match Connection::from_upgraded(
                wsmachine::Upgraded::new(r, Default::default()).extensions(text),
            ) {
                Ok(_) => wsm_result::WSM_OK,
                Err(e) => e.into(),
            }
        }
    };
    assert_eq!(r, expected);
    assert_eq!(conn.is_null(), r != wsm_result::WSM_OK);
    // SAFETY: made by the library (or NULL), freed once.
    unsafe {
        wsm_conn_free(conn);
        wsm_deflate_free(d);
    }
}

fuzz_target!(|input: Input| {
    let config = server_config(input.server);

    // 1 and 2: arbitrary fields.
    let fields: Vec<(String, Vec<u8>)> = input
        .fields
        .iter()
        .map(|(n, v)| {
            let n = match n {
                Name::Known(i) => NAMES[usize::from(*i) % NAMES.len()].to_string(),
                Name::Other(s) => s.clone(),
            };
            let v = match v {
                Value::Known(i) => VALUES[usize::from(*i) % VALUES.len()].to_vec(),
                Value::Other(b) => b.clone(),
            };
            (n, v)
        })
        .collect();
    let validated = negotiate::validate(&fields);
    let answered = negotiate::server(&config, &fields);
    assert_eq!(validated.is_ok(), answered.is_ok());
    if let (Ok(v), Ok(a)) = (&validated, answered) {
        let pseudo = fields.iter().any(|(n, _)| n.starts_with(':'));
        assert_eq!(v.kind == Kind::ExtendedConnect, pseudo);
        assert_eq!(a.kind, v.kind);
        let key = fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
            .map(|(_, v)| v.as_slice());
        check_answer(a, if pseudo { None } else { key });
    }
    // The same fields through the `http` types, when they are valid there.
    let mut builder = http::Request::get("/").version(http::Version::HTTP_11);
    let mut representable = true;
    for (n, v) in &fields {
        match (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_bytes(v),
        ) {
            (Ok(n), Ok(v)) => builder = builder.header(n, v),
            _ => representable = false,
        }
    }
    if let (true, Ok(request)) = (representable, builder.body(())) {
        let via_http = wsmachine::handshake::http::server_response(&request, &config);
        let has_host = request.headers().contains_key(http::header::HOST);
        let direct = negotiate::server(&config, request.headers());
        assert_eq!(via_http.is_ok(), has_host && direct.is_ok());
        match via_http {
            Ok((response, _)) => assert_eq!(response.status().as_u16(), 101),
            Err(response) => assert!(response.status().as_u16() >= 400),
        }
    }

    // The same fields as an HTTP/2 extended CONNECT through the `http` types: the
    // pseudo-headers apart, `:protocol` handed over as h2 does.
    let protocol = fields
        .iter()
        .find(|(n, _)| n == ":protocol")
        .map(|(_, v)| String::from_utf8(v.clone()));
    if let Some(Ok(protocol)) = &protocol {
        extended_connect(&config, &fields, Some(protocol));
    } else if protocol.is_none() {
        extended_connect(&config, &fields, None);
    }

    c_abi(&input);

    // 3: a valid request, through a client's own offer.
    // The same client through the `http` types: request, answer, check.
    if input.extended {
        let (request, http_offer) = wsmachine::handshake::http::client_request_extended_connect(
            client_config(&input),
            "https",
        )
        .expect("a valid configuration");
        assert_eq!(request.method(), http::Method::CONNECT);
        let (response, _) = wsmachine::handshake::http::server_response_extended_connect(
            &request,
            Some("websocket"),
            &config,
        )
        .expect("a valid extended CONNECT is answered");
        assert_eq!(response.status().as_u16(), 200);
        wsmachine::handshake::http::client_finish(http_offer, &response)
            .expect("the client accepts a valid answer");
    } else {
        let (request, http_offer) =
            wsmachine::handshake::http::client_request(client_config(&input))
                .expect("a valid configuration");
        let (response, _) = wsmachine::handshake::http::server_response(&request, &config)
            .expect("a valid request is answered");
        wsmachine::handshake::http::client_finish(http_offer, &response)
            .expect("the client accepts a valid answer");
    }
    let client = client_config(&input);
    let offer = if input.extended {
        ClientOffer::extended_connect(client)
    } else {
        ClientOffer::new(client)
    }
    .expect("a valid configuration");
    let mut request: Vec<(String, String)> = offer.headers().to_vec();
    if input.extended {
        request.insert(0, (":method".into(), "CONNECT".into()));
        request.insert(1, (":protocol".into(), "websocket".into()));
        request.insert(2, (":path".into(), offer.path().into()));
    } else {
        request.insert(0, ("Host".into(), offer.host().into()));
    }
    if input.client & 0x80 != 0 {
        for (n, _) in &mut request {
            *n = n.to_ascii_lowercase();
        }
    }
    let answer = negotiate::server(&config, &request).expect("a valid request negotiates");
    let offered: Vec<&str> = PROTOCOLS
        .iter()
        .enumerate()
        .filter(|(i, _)| input.client & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect();
    let expected = PROTOCOLS
        .iter()
        .enumerate()
        .filter(|(i, _)| input.server & (1 << i) != 0)
        .map(|(_, p)| *p)
        .find(|p| offered.contains(p));
    assert_eq!(answer.subprotocol.as_deref(), expected);
    assert_eq!(answer.status(), if input.extended { 200 } else { 101 });
    let response = answer.headers();
    let server_side = answer.into_upgraded();
    let client_side = offer
        .finish(if input.extended { 200 } else { 101 }, &response)
        .expect("the client accepts a valid answer");
    let mut server = Connection::from_upgraded(server_side).expect("server starts");
    let mut client = Connection::from_upgraded(client_side).expect("client starts");
    assert_eq!(server.extensions(), client.extensions());
    let text = "negotiated negotiated negotiated negotiated";
    client.send_text(text).expect("open");
    server.receive(&client.take_output());
    assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
    match server.poll_event() {
        Some(Event::Text(t)) => assert_eq!(t.as_str(), text),
        other => panic!("{other:?}"),
    }
});
