//! The opening handshake as building blocks, for handshakes done elsewhere: a web framework,
//! hyper, an HTTP/2 server. Nothing here reads or writes bytes; the caller's HTTP library
//! does, and hands the header fields over as a [`HeaderView`].
//!
//! * A server calls [`server`] with its [`ServerConfig`] and the request's fields: the
//!   [`Answer`] says what to send back ([`Answer::status`], [`Answer::headers`]) and becomes
//!   the [`Upgraded`] that starts the engine ([`Answer::into_upgraded`]). Each step is public
//!   too: [`validate`], [`choose_subprotocol`], `answer_deflate` (with the `deflate` feature)
//!   and [`accept_key`].
//! * A client makes a [`ClientOffer`] from its [`ClientConfig`], sends
//!   [`ClientOffer::headers`], and checks the response with [`ClientOffer::finish`].
//!
//! Two kinds of request are understood ([`Kind`]):
//!
//! * **HTTP/1.1 Upgrade** (RFC 6455 §4.2.1): `Upgrade: websocket`, `Connection: Upgrade`,
//!   `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key`; answered with 101 and a
//!   `Sec-WebSocket-Accept`. That the method is `GET`, the version HTTP/1.1 and a `Host`
//!   present is the HTTP library's to check (it parsed the request;
//!   `handshake::http::server_response` does).
//! * **HTTP/2 extended CONNECT** (RFC 8441 §4-5): recognised by pseudo-header fields in the
//!   view (names starting with `:`): `:method` must be `CONNECT` and `:protocol` must be
//!   `websocket`, with `sec-websocket-version: 13`; there is no key and no accept, and the
//!   answer is 200. HTTP/2 libraries often keep pseudo-headers apart (h2 puts `:protocol`
//!   in the request's extensions): add `(":method", "CONNECT")` and
//!   `(":protocol", …)` to the view then.

use super::{accept_key, has_token, parse_extensions, ExtensionOffer};
use crate::config::{ClientConfig, Options, ServerConfig};
use crate::connection::Upgraded;
use crate::error::{Error, HandshakeError};
use crate::random::{self, RandomSource};
use crate::state::Role;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;

/// A request's or response's header fields, as the negotiation reads them. Implemented for
/// slices and vectors of `(name, value)` pairs (`&str`, `String`, `&[u8]`, `Vec<u8>`), and
/// with the `http` feature for `http::HeaderMap`. Names compare ASCII case-insensitively.
pub trait HeaderView {
    /// Calls `f` with every field, in order, pseudo-header fields (`:protocol`) included.
    fn for_each_field(&self, f: &mut dyn FnMut(&str, &[u8]));
}

impl<N: AsRef<str>, V: AsRef<[u8]>> HeaderView for [(N, V)] {
    fn for_each_field(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (n, v) in self {
            f(n.as_ref(), v.as_ref());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> HeaderView for Vec<(N, V)> {
    fn for_each_field(&self, f: &mut dyn FnMut(&str, &[u8])) {
        self.as_slice().for_each_field(f);
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const K: usize> HeaderView for [(N, V); K] {
    fn for_each_field(&self, f: &mut dyn FnMut(&str, &[u8])) {
        self.as_slice().for_each_field(f);
    }
}

/// Every value of field `name`, in order.
fn values<H: HeaderView + ?Sized>(headers: &H, name: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    headers.for_each_field(&mut |n, v| {
        if n.eq_ignore_ascii_case(name) {
            out.push(v.to_vec());
        }
    });
    out
}

fn has<H: HeaderView + ?Sized>(headers: &H, name: &str, token: &str) -> bool {
    values(headers, name).iter().any(|v| has_token(v, token))
}

/// The comma-separated items of every `name` field, trimmed, empty ones dropped.
fn list<H: HeaderView + ?Sized>(headers: &H, name: &str) -> Vec<String> {
    values(headers, name)
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect()
}

/// How the WebSocket was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// HTTP/1.1 `Upgrade: websocket` (RFC 6455), answered with 101.
    Upgrade,
    /// HTTP/2 extended CONNECT with `:protocol = websocket` (RFC 8441), answered with 200.
    ExtendedConnect,
}

impl Kind {
    /// The status of a successful answer: 101 or 200.
    pub const fn status(self) -> u16 {
        match self {
            Self::Upgrade => 101,
            Self::ExtendedConnect => 200,
        }
    }
}

/// A request whose WebSocket fields are valid: what the client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Validated {
    /// HTTP/1.1 Upgrade or RFC 8441.
    pub kind: Kind,
    /// The `Sec-WebSocket-Key` (HTTP/1.1 only).
    pub key: Option<String>,
    /// Offered subprotocols, in the client's order of preference.
    pub subprotocols: Vec<String>,
    /// Offered extensions, in the client's order of preference.
    pub extensions: Vec<ExtensionOffer>,
}

/// Checks a request's WebSocket fields (see the [module](self) for the two kinds).
pub fn validate<H: HeaderView + ?Sized>(headers: &H) -> Result<Validated, HandshakeError> {
    let mut pseudo = false;
    headers.for_each_field(&mut |n, _| pseudo |= n.starts_with(':'));
    let kind = if pseudo {
        let method = values(headers, ":method");
        if method.len() != 1 || method[0] != b"CONNECT" {
            return Err(HandshakeError::MethodNotGet);
        }
        let protocol = values(headers, ":protocol");
        if protocol.len() != 1 || !protocol[0].eq_ignore_ascii_case(b"websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        Kind::ExtendedConnect
    } else {
        if !has(headers, "upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !has(headers, "connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        Kind::Upgrade
    };
    let version = values(headers, "sec-websocket-version");
    if version.len() != 1 || version[0].trim_ascii() != b"13" {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = if kind == Kind::Upgrade {
        let keys = values(headers, "sec-websocket-key");
        let [key] = keys.as_slice() else {
            return Err(HandshakeError::InvalidKey);
        };
        let key = key.trim_ascii();
        match base64::engine::general_purpose::STANDARD.decode(key) {
            Ok(raw) if raw.len() == 16 => {}
            _ => return Err(HandshakeError::InvalidKey),
        }
        // Base64 is ASCII.
        Some(String::from_utf8_lossy(key).into_owned())
    } else {
        None
    };
    let ext_values = values(headers, "sec-websocket-extensions");
    let extensions = parse_extensions(ext_values.iter().map(Vec::as_slice))
        .ok_or(HandshakeError::MalformedHttp)?;
    Ok(Validated {
        kind,
        key,
        subprotocols: list(headers, "sec-websocket-protocol"),
        extensions,
    })
}

/// The subprotocol to answer with: the first of `supported` (the server's order of
/// preference) that the client `offered`.
pub fn choose_subprotocol<'a, S: AsRef<str>>(
    supported: &'a [S],
    offered: &[String],
) -> Option<&'a str> {
    supported
        .iter()
        .map(AsRef::as_ref)
        .find(|p| offered.iter().any(|o| o == p))
}

/// The `Sec-WebSocket-Extensions` answer to a client's offers for a server accepting
/// permessage-deflate within `config` (RFC 7692 §7.1): the first acceptable offer's
/// answer, or `None` to decline. Give it to [`Upgraded::extensions`] with
/// [`Upgraded::deflate`]`(config)`.
#[cfg(feature = "deflate")]
pub fn answer_deflate(
    offers: &[ExtensionOffer],
    config: &crate::deflate::DeflateConfig,
) -> Option<String> {
    crate::deflate::server_accept(offers, config).map(|(_, answer)| answer)
}

/// What a server answers to a valid request, and what it then starts the engine with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// HTTP/1.1 Upgrade or RFC 8441.
    pub kind: Kind,
    /// The `Sec-WebSocket-Accept` value (HTTP/1.1 only).
    pub accept: Option<String>,
    /// The chosen subprotocol.
    pub subprotocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` answer; empty when none.
    pub extensions: String,
    /// The configuration's extra response headers.
    pub extra_headers: Vec<(String, String)>,
    options: Options,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateConfig>,
}

impl Answer {
    /// The status to answer with: 101 (HTTP/1.1) or 200 (RFC 8441).
    pub const fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The response's header fields, in order: `Upgrade`, `Connection` and
    /// `Sec-WebSocket-Accept` (HTTP/1.1 only), `Sec-WebSocket-Protocol` and
    /// `Sec-WebSocket-Extensions` when negotiated, then the configuration's extra headers.
    /// Every value is valid in a header (no CR, LF or NUL).
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut put = |n: &str, v: &str| out.push((String::from(n), String::from(v)));
        if let Some(accept) = &self.accept {
            put("Upgrade", "websocket");
            put("Connection", "Upgrade");
            put("Sec-WebSocket-Accept", accept);
        }
        if let Some(p) = &self.subprotocol {
            put("Sec-WebSocket-Protocol", p);
        }
        if !self.extensions.is_empty() {
            put("Sec-WebSocket-Extensions", &self.extensions);
        }
        out.extend(self.extra_headers.iter().cloned());
        out
    }

    /// The server's [`Upgraded`], for [`Connection::from_upgraded`](crate::Connection::from_upgraded)
    /// once the answer is sent: the configuration's options, the subprotocol and the
    /// extensions negotiated.
    pub fn into_upgraded(self) -> Upgraded {
        let mut up = Upgraded::new(Role::Server, self.options).extensions(self.extensions);
        up.subprotocol = self.subprotocol;
        #[cfg(feature = "deflate")]
        {
            up.deflate = self.deflate;
        }
        up
    }
}

/// A server's whole negotiation: [`validate`] the request, choose a subprotocol as the
/// configuration says ([`choose_subprotocol`] among its own, then its
/// [`SubprotocolPolicy`](crate::SubprotocolPolicy)), answer a permessage-deflate offer when the configuration accepts it, and
/// compute the accept key. On error, answer with [`HandshakeError::status`] (426 names
/// version 13 with `Sec-WebSocket-Version: 13`, RFC 6455 §4.4).
pub fn server<H: HeaderView + ?Sized>(
    config: &ServerConfig,
    headers: &H,
) -> Result<Answer, HandshakeError> {
    let request = validate(headers)?;
    let subprotocol = config
        .subprotocol_policy
        .choose(&config.subprotocols, &request.subprotocols)
        .map(String::from);
    #[cfg(feature = "deflate")]
    let (extensions, deflate) = match &config.deflate {
        Some(d) => match answer_deflate(&request.extensions, d) {
            Some(answer) => (answer, Some(d.clone())),
            None => (String::new(), None),
        },
        None => (String::new(), None),
    };
    #[cfg(not(feature = "deflate"))]
    let extensions = String::new();
    Ok(Answer {
        kind: request.kind,
        accept: request.key.as_deref().map(|k| accept_key(k.as_bytes())),
        subprotocol,
        extensions,
        extra_headers: config.extra_headers.clone(),
        options: config.options.clone(),
        #[cfg(feature = "deflate")]
        deflate,
    })
}

/// A client's side of a handshake done elsewhere: the request's WebSocket fields, then the
/// check of the response, which gives the [`Upgraded`] to start the engine with.
pub struct ClientOffer {
    kind: Kind,
    host: String,
    path: String,
    headers: Vec<(String, String)>,
    expected_accept: Option<String>,
    subprotocols: Vec<String>,
    options: Options,
    random: Option<Box<dyn RandomSource>>,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateConfig>,
}

impl core::fmt::Debug for ClientOffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientOffer")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl ClientOffer {
    /// An HTTP/1.1 Upgrade offer for `config`. The key's 16 bytes come from the
    /// configuration's random source (the operating system's by default), which then masks
    /// the connection's frames. Errors: [`Error::InvalidHeader`] for a host, path, origin,
    /// subprotocol or header that cannot be sent, [`Error::NoRandomSource`].
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Self::with_kind(config, Kind::Upgrade)
    }

    /// An RFC 8441 offer for `config`: no key, and the caller's HTTP/2 library sends
    /// `:method = CONNECT` and `:protocol = websocket` with [`headers`](Self::headers).
    pub fn extended_connect(config: ClientConfig) -> Result<Self, Error> {
        Self::with_kind(config, Kind::ExtendedConnect)
    }

    fn with_kind(mut config: ClientConfig, kind: Kind) -> Result<Self, Error> {
        if !super::client::config_is_valid(&config) {
            return Err(Error::InvalidHeader);
        }
        let mut source = config
            .random
            .take()
            .or_else(random::default_source)
            .ok_or(Error::NoRandomSource)?;
        let mut headers = Vec::new();
        let mut put = |n: &str, v: &str| headers.push((String::from(n), String::from(v)));
        let mut expected_accept = None;
        if kind == Kind::Upgrade {
            let mut nonce = [0u8; 16];
            source.try_fill(&mut nonce)?;
            let key = base64::engine::general_purpose::STANDARD.encode(nonce);
            put("Upgrade", "websocket");
            put("Connection", "Upgrade");
            put("Sec-WebSocket-Key", &key);
            expected_accept = Some(accept_key(key.as_bytes()));
        }
        put("Sec-WebSocket-Version", "13");
        if let Some(origin) = &config.origin {
            put("Origin", origin);
        }
        if !config.subprotocols.is_empty() {
            put("Sec-WebSocket-Protocol", &config.subprotocols.join(", "));
        }
        #[cfg(feature = "deflate")]
        if let Some(d) = &config.deflate {
            put("Sec-WebSocket-Extensions", &d.client_offer());
        }
        headers.extend(config.extra_headers.iter().cloned());
        Ok(Self {
            kind,
            host: config.host,
            path: config.path,
            headers,
            expected_accept,
            subprotocols: config.subprotocols,
            options: config.options,
            random: Some(source),
            #[cfg(feature = "deflate")]
            deflate: config.deflate,
        })
    }

    /// HTTP/1.1 Upgrade or RFC 8441.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The `Host` (HTTP/1.1) or `:authority` (HTTP/2) of the request.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The request target (`/chat?room=1`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The request's header fields besides `Host` (and the pseudo-headers of HTTP/2), in
    /// order; every name a token and every value free of CR, LF and NUL.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Checks the response's `status` and fields against the offer (RFC 6455 §4.1, RFC 8441
    /// §5, RFC 7692 §7.1), giving the client's [`Upgraded`].
    pub fn finish<H: HeaderView + ?Sized>(
        self,
        status: u16,
        headers: &H,
    ) -> Result<Upgraded, HandshakeError> {
        if status != self.kind.status() {
            return Err(HandshakeError::UnexpectedStatus(status));
        }
        if let Some(expected) = &self.expected_accept {
            if !has(headers, "upgrade", "websocket") {
                return Err(HandshakeError::MissingUpgrade);
            }
            if !has(headers, "connection", "upgrade") {
                return Err(HandshakeError::MissingConnectionUpgrade);
            }
            let accepts = values(headers, "sec-websocket-accept");
            match accepts.as_slice() {
                [a] if a.trim_ascii() == expected.as_bytes() => {}
                _ => return Err(HandshakeError::InvalidAccept),
            }
        }
        let chosen = list(headers, "sec-websocket-protocol");
        let subprotocol = match chosen.as_slice() {
            [] => None,
            [one] if self.subprotocols.contains(one) => Some(one.clone()),
            _ => return Err(HandshakeError::UnofferedSubprotocol),
        };
        let ext_values = values(headers, "sec-websocket-extensions");
        let accepted = parse_extensions(ext_values.iter().map(Vec::as_slice))
            .ok_or(HandshakeError::UnofferedExtension)?;
        let extensions = match accepted.as_slice() {
            [] => String::new(),
            #[cfg(feature = "deflate")]
            [ext] if ext.name == crate::deflate::NAME => {
                let config = self
                    .deflate
                    .as_ref()
                    .ok_or(HandshakeError::UnofferedExtension)?;
                crate::deflate::client_accept(ext, config)
                    .ok_or(HandshakeError::UnofferedExtension)?;
                ext.to_header_value()
            }
            _ => return Err(HandshakeError::UnofferedExtension),
        };
        let mut up = Upgraded::new(Role::Client, self.options).extensions(extensions);
        up.subprotocol = subprotocol;
        up.random = self.random;
        #[cfg(feature = "deflate")]
        {
            up.deflate = self.deflate;
        }
        Ok(up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Connection;
    use crate::event::Event;

    /// A predictable random source: the tests' keys are the same every run.
    struct Fixed(u8);

    impl RandomSource for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    const RFC_REQUEST: [(&str, &str); 7] = [
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Origin", "http://example.com"),
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("Sec-WebSocket-Version", "13"),
    ];

    #[test]
    fn rfc_6455_example_is_answered_byte_exact() {
        let config = ServerConfig::new().subprotocol("chat");
        let answer = server(&config, &RFC_REQUEST).unwrap();
        assert_eq!(answer.status(), 101);
        assert_eq!(
            answer.accept.as_deref(),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(
            answer.headers(),
            [
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                ("Sec-WebSocket-Protocol", "chat"),
            ]
            .map(|(n, v)| (String::from(n), String::from(v)))
        );
        let mut conn = Connection::from_upgraded(answer.into_upgraded()).unwrap();
        assert!(matches!(conn.poll_event(), Some(Event::Open { .. })));
        assert_eq!(conn.subprotocol(), Some("chat"));
    }

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        RFC_REQUEST
            .iter()
            .copied()
            .filter(|(n, _)| *n != name)
            .collect()
    }

    fn replaced(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        RFC_REQUEST
            .iter()
            .map(|&(n, v)| (n, if n == name { value } else { v }))
            .collect()
    }

    #[test]
    fn each_rule_has_its_error() {
        use HandshakeError::*;
        let cases = [
            (without("Upgrade"), MissingUpgrade),
            (replaced("Upgrade", "h2c"), MissingUpgrade),
            (
                replaced("Connection", "keep-alive"),
                MissingConnectionUpgrade,
            ),
            (without("Sec-WebSocket-Version"), UnsupportedVersion),
            (replaced("Sec-WebSocket-Version", "8"), UnsupportedVersion),
            (without("Sec-WebSocket-Key"), InvalidKey),
            (
                replaced("Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="),
                InvalidKey,
            ),
            (replaced("Sec-WebSocket-Key", "!!!"), InvalidKey),
        ];
        for (headers, err) in cases {
            assert_eq!(validate(&headers), Err(err), "{headers:?}");
        }
        let mut twice = RFC_REQUEST.to_vec();
        twice.push(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(validate(&twice), Err(InvalidKey));
        // Case-insensitive names and token lists, as Firefox sends them.
        let ok = replaced("Connection", "keep-alive, UPGRADE");
        let v = validate(&ok).unwrap();
        assert_eq!(v.kind, Kind::Upgrade);
        assert_eq!(v.subprotocols, ["chat", "superchat"]);
        let mut broken = RFC_REQUEST.to_vec();
        broken.push(("Sec-WebSocket-Extensions", "a; b=\"1"));
        assert_eq!(validate(&broken), Err(MalformedHttp));
    }

    #[test]
    fn rfc_8441_extended_connect() {
        let h2 = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat"),
            (":authority", "server.example.com"),
            ("sec-websocket-protocol", "chat, superchat"),
            ("sec-websocket-version", "13"),
        ];
        let config = ServerConfig::new().subprotocol("superchat");
        let answer = server(&config, &h2).unwrap();
        assert_eq!(answer.kind, Kind::ExtendedConnect);
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.accept, None);
        assert_eq!(
            answer.headers(),
            [(
                String::from("Sec-WebSocket-Protocol"),
                String::from("superchat")
            )]
        );
        let mut get = h2;
        get[0].1 = "GET";
        assert_eq!(validate(&get), Err(HandshakeError::MethodNotGet));
        let mut other = h2;
        other[1].1 = "h2c";
        assert_eq!(validate(&other), Err(HandshakeError::MissingUpgrade));
        assert_eq!(validate(&h2[..6]), Err(HandshakeError::UnsupportedVersion));
    }

    #[test]
    fn server_follows_the_subprotocol_policy() {
        let fields = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", "x, chat"),
        ];
        let listed = ServerConfig::new().subprotocol("other");
        assert_eq!(server(&listed, &fields).unwrap().subprotocol, None);
        let first = listed.subprotocol_policy(crate::SubprotocolPolicy::FirstOffered);
        assert_eq!(
            server(&first, &fields).unwrap().subprotocol.as_deref(),
            Some("x")
        );
        let ours = first.subprotocol("chat");
        assert_eq!(
            server(&ours, &fields).unwrap().subprotocol.as_deref(),
            Some("chat")
        );
    }

    #[test]
    fn subprotocol_follows_server_preference() {
        let offered = [String::from("a"), String::from("b")];
        assert_eq!(choose_subprotocol(&["b", "a"], &offered), Some("b"));
        assert_eq!(choose_subprotocol(&["c"], &offered), None);
        assert_eq!(choose_subprotocol::<&str>(&[], &offered), None);
    }

    #[test]
    fn client_offer_and_server_answer_meet() {
        let config = ClientConfig::new("h", "/x")
            .subprotocol("chat")
            .random(Fixed(7));
        let offer = ClientOffer::new(config).unwrap();
        assert_eq!((offer.host(), offer.path()), ("h", "/x"));
        let answer = server(&ServerConfig::new().subprotocol("chat"), offer.headers()).unwrap();
        let response = answer.headers();
        let mut client = Connection::from_upgraded(offer.finish(101, &response).unwrap()).unwrap();
        assert_eq!(client.subprotocol(), Some("chat"));
        assert!(matches!(client.poll_event(), Some(Event::Open { .. })));
    }

    #[test]
    fn client_refuses_bad_answers() {
        let make = || {
            ClientOffer::new(
                ClientConfig::new("h", "/")
                    .subprotocol("chat")
                    .random(Fixed(1)),
            )
            .unwrap()
        };
        let good = server(&ServerConfig::new().subprotocol("chat"), make().headers())
            .unwrap()
            .headers();
        assert!(make().finish(101, &good).is_ok());
        assert_eq!(
            make().finish(200, &good).unwrap_err(),
            HandshakeError::UnexpectedStatus(200)
        );
        let edit = |name: &str, value: &str| -> Vec<(String, String)> {
            good.iter()
                .map(|(n, v)| (n.clone(), if n == name { value.into() } else { v.clone() }))
                .collect()
        };
        let cases = [
            (
                edit("Sec-WebSocket-Accept", "x"),
                HandshakeError::InvalidAccept,
            ),
            (edit("Upgrade", "h2c"), HandshakeError::MissingUpgrade),
            (
                edit("Connection", "close"),
                HandshakeError::MissingConnectionUpgrade,
            ),
            (
                edit("Sec-WebSocket-Protocol", "other"),
                HandshakeError::UnofferedSubprotocol,
            ),
        ];
        for (headers, err) in cases {
            assert_eq!(make().finish(101, &headers).unwrap_err(), err);
        }
        let mut ext = good.clone();
        ext.push((
            "Sec-WebSocket-Extensions".into(),
            "permessage-deflate".into(),
        ));
        assert_eq!(
            make().finish(101, &ext).unwrap_err(),
            HandshakeError::UnofferedExtension
        );
        assert_eq!(
            ClientOffer::new(ClientConfig::new("h", "/").header("X", "a\r\nb")).unwrap_err(),
            Error::InvalidHeader
        );
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn deflate_is_negotiated_and_carried() {
        use crate::deflate::DeflateConfig;
        let client_config = ClientConfig::new("h", "/")
            .deflate(DeflateConfig::new().client_no_context_takeover(true))
            .random(Fixed(3));
        let offer = ClientOffer::new(client_config).unwrap();
        let server_config =
            ServerConfig::new().deflate(DeflateConfig::new().server_max_window_bits(10));
        let answer = server(&server_config, offer.headers()).unwrap();
        assert_eq!(
            answer.extensions,
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"
        );
        // Declined when not configured.
        let plain = server(&ServerConfig::new(), offer.headers()).unwrap();
        assert_eq!(plain.extensions, "");
        let response = answer.headers();
        let mut srv = Connection::from_upgraded(answer.into_upgraded()).unwrap();
        let mut cli = Connection::from_upgraded(offer.finish(101, &response).unwrap()).unwrap();
        assert_eq!(srv.extensions(), cli.extensions());
        // A compressed message crosses both ways.
        let text = "hello hello hello hello hello hello hello hello";
        cli.send_text(text).unwrap();
        let wire = cli.take_output();
        assert_ne!(wire[0] & 0x40, 0, "RSV1: compressed");
        srv.receive(&wire);
        let _ = srv.poll_event(); // Open
        match srv.poll_event() {
            Some(Event::Text(data)) => assert_eq!(data.as_str(), text),
            other => panic!("{other:?}"),
        }
        // Declined when the offer is one we cannot honour.
        let offers =
            parse_extensions([&b"permessage-deflate; server_max_window_bits=8"[..]]).unwrap();
        assert_eq!(answer_deflate(&offers, &DeflateConfig::new()), None);
    }
}
