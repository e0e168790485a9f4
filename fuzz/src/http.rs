//! Handshake heads for the oracles: building valid requests and answers from fuzzer
//! choices, and reading the engine's heads back with `httparse` and an independent
//! `Sec-WebSocket-Accept` computation (RFC 6455 §1.3, §4.2.2).

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// base64(SHA-1(key + GUID)).
pub fn accept_for(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// The key a client sends for a 16-byte nonce.
pub fn key_for(nonce: &[u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// Whether `key` is base64 of exactly 16 bytes.
pub fn key_is_valid(key: &str) -> bool {
    matches!(base64::engine::general_purpose::STANDARD.decode(key), Ok(raw) if raw.len() == 16)
}

/// The length of the head at the start of `buf`: through the first empty line, whether
/// lines end in CRLF or, as RFC 7230 §3.5 lets a recipient accept, a bare LF (`\n\n` or
/// `\n\r\n`), which is where httparse ends a head too.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let lf_lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let lf_crlf = buf.windows(3).position(|w| w == b"\n\r\n").map(|p| p + 3);
    match (lf_lf, lf_crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A parsed response head: status and headers (names lowercased, values trimmed).
#[derive(Debug, Clone)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The request target, for requests.
    pub path: String,
}

impl Head {
    /// Every value of header `name`.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn value<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.values(name).next()
    }
}

fn collect(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect()
}

/// Parses a complete response head.
pub fn parse_response(head: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => Some(Head {
            status: r.code?,
            headers: collect(r.headers),
            path: String::new(),
        }),
        _ => None,
    }
}

/// Parses a complete request head.
pub fn parse_request(head: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut r = httparse::Request::new(&mut headers);
    match r.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => Some(Head {
            status: 0,
            headers: collect(r.headers),
            path: r.path?.to_string(),
        }),
        _ => None,
    }
}

/// Subprotocol names the harnesses offer and support.
pub const PROTOCOLS: [&str; 4] = ["chat", "superchat", "v2.json", "mqtt"];

/// How a valid Upgrade request is written (a server harness's prelude).
#[derive(Debug, Clone, Default, Arbitrary)]
pub struct RequestSpec {
    /// 16 bytes of key; `None` is RFC 6455's sample nonce.
    pub nonce: Option<[u8; 16]>,
    /// Offered subprotocols, as indices into [`PROTOCOLS`].
    pub protocols: Vec<u8>,
    /// Header names in upper case, values in odd case.
    pub shout: bool,
    /// `Connection: keep-alive, Upgrade` as Firefox sends it.
    pub keep_alive: bool,
    pub origin: bool,
    /// Offer permessage-deflate as browsers do (a server without it must ignore it).
    pub offer_deflate: bool,
}

impl RequestSpec {
    pub fn nonce(&self) -> [u8; 16] {
        self.nonce.unwrap_or(crate::rng::RFC_NONCE)
    }

    pub fn protocols(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        for &i in self.protocols.iter().take(4) {
            let p = PROTOCOLS[usize::from(i) % PROTOCOLS.len()];
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v
    }

    pub fn write(&self) -> Vec<u8> {
        let name = |n: &str| {
            if self.shout {
                n.to_ascii_uppercase()
            } else {
                n.to_string()
            }
        };
        let mut s = String::from("GET /chat?room=1 HTTP/1.1\r\n");
        s += &format!("{}: server.example.com\r\n", name("Host"));
        s += &format!(
            "{}: {}\r\n",
            name("Upgrade"),
            if self.shout { "WebSocket" } else { "websocket" }
        );
        let conn = match (self.keep_alive, self.shout) {
            (true, _) => "keep-alive, Upgrade",
            (false, true) => "UPGRADE",
            (false, false) => "Upgrade",
        };
        s += &format!("{}: {conn}\r\n", name("Connection"));
        s += &format!(
            "{}: {}\r\n",
            name("Sec-WebSocket-Key"),
            key_for(&self.nonce())
        );
        s += &format!("{}: 13\r\n", name("Sec-WebSocket-Version"));
        if self.origin {
            s += &format!("{}: http://example.com\r\n", name("Origin"));
        }
        let protocols = self.protocols();
        if !protocols.is_empty() {
            s += &format!(
                "{}: {}\r\n",
                name("Sec-WebSocket-Protocol"),
                protocols.join(", ")
            );
        }
        if self.offer_deflate {
            s += &format!(
                "{}: permessage-deflate; client_max_window_bits\r\n",
                name("Sec-WebSocket-Extensions")
            );
        }
        s += "\r\n";
        s.into_bytes()
    }
}

/// How a valid 101 answer is written (a client harness's prelude).
#[derive(Debug, Clone, Default, Arbitrary)]
pub struct ResponseSpec {
    /// Choose one of the offered subprotocols (index into the offer), or none.
    pub protocol: Option<u8>,
    pub shout: bool,
    /// An extra, harmless header.
    pub server_header: bool,
}

impl ResponseSpec {
    /// The answer to a request whose key is `key` and whose offer is `offered`.
    pub fn write(&self, key: &str, offered: &[&str]) -> (Vec<u8>, Option<String>) {
        let name = |n: &str| {
            if self.shout {
                n.to_ascii_uppercase()
            } else {
                n.to_string()
            }
        };
        let mut s = String::from("HTTP/1.1 101 Switching Protocols\r\n");
        s += &format!("{}: websocket\r\n", name("Upgrade"));
        s += &format!("{}: Upgrade\r\n", name("Connection"));
        s += &format!("{}: {}\r\n", name("Sec-WebSocket-Accept"), accept_for(key));
        let chosen = match (self.protocol, offered.is_empty()) {
            (Some(i), false) => Some(offered[usize::from(i) % offered.len()].to_string()),
            _ => None,
        };
        if let Some(p) = &chosen {
            s += &format!("{}: {p}\r\n", name("Sec-WebSocket-Protocol"));
        }
        if self.server_header {
            s += "Server: wsmachine-fuzz\r\n";
        }
        s += "\r\n";
        (s.into_bytes(), chosen)
    }
}

/// Reads a `T` or its default when the script ran out: structured targets stay usable with
/// an empty script (seeds that are only wire bytes).
pub fn or_default<'a, T: Arbitrary<'a> + Default>(u: &mut Unstructured<'a>) -> T {
    T::arbitrary(u).unwrap_or_default()
}
