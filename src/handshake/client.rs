//! The client's side of the opening handshake (RFC 6455 §4.1): writing the request and
//! checking the server's answer.

use super::{
    header_list, header_values, headers_have_token, parse_extensions, put_header, ExtensionOffer,
};
use crate::config::ClientConfig;
use crate::error::{Error, HandshakeError};
use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use bytes::{BufMut, BytesMut};

/// What a client remembers between its request and the answer.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    expected_accept: String,
    offered_subprotocols: Vec<String>,
    offered_extensions: Vec<String>,
}

/// What a valid answer negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// The chosen subprotocol.
    pub subprotocol: Option<String>,
    /// The accepted extensions.
    pub extensions: Vec<ExtensionOffer>,
}

/// Whether every part of `config` that goes into the request may be sent: no CR, LF or
/// other control character to split it, tokens where tokens are due.
pub(super) fn config_is_valid(config: &ClientConfig) -> bool {
    super::is_header_value(&config.host)
        && !config.host.is_empty()
        && config.path.starts_with('/')
        && config.path.bytes().all(|b| b > 0x20 && b != 0x7f)
        && config
            .origin
            .as_deref()
            .map_or(true, super::is_header_value)
        && config.subprotocols.iter().all(|p| super::is_token(p))
        && config
            .extra_headers
            .iter()
            .all(|(n, v)| super::is_token(n) && super::is_header_value(v))
}

impl ClientHandshake {
    /// Writes the request for `config` with the 16 random bytes `nonce` as the key.
    pub fn start(
        config: &ClientConfig,
        nonce: [u8; 16],
        extensions_offer: Option<&str>,
        out: &mut BytesMut,
    ) -> Result<Self, Error> {
        if !config_is_valid(config) {
            return Err(Error::InvalidHeader);
        }
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        out.put_slice(b"GET ");
        out.put_slice(config.path.as_bytes());
        out.put_slice(b" HTTP/1.1\r\n");
        put_header(out, "Host", &config.host);
        out.put_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        put_header(out, "Sec-WebSocket-Key", &key);
        out.put_slice(b"Sec-WebSocket-Version: 13\r\n");
        if let Some(origin) = &config.origin {
            put_header(out, "Origin", origin);
        }
        if !config.subprotocols.is_empty() {
            put_header(
                out,
                "Sec-WebSocket-Protocol",
                &config.subprotocols.join(", "),
            );
        }
        let mut offered_extensions = Vec::new();
        if let Some(ext) = extensions_offer {
            put_header(out, "Sec-WebSocket-Extensions", ext);
            if let Some(list) = parse_extensions([ext.as_bytes()]) {
                offered_extensions = list.into_iter().map(|e| e.name).collect();
            }
        }
        for (n, v) in &config.extra_headers {
            put_header(out, n, v);
        }
        out.put_slice(b"\r\n");
        Ok(Self {
            expected_accept: super::accept_key(key.as_bytes()),
            offered_subprotocols: config.subprotocols.clone(),
            offered_extensions,
        })
    }

    /// The status and header fields of a complete response head, whatever it answers (an
    /// upgrade or a refusal); `None` when it is not HTTP. Values that are not UTF-8 are
    /// kept with U+FFFD in place of the bad bytes.
    pub fn response_head(head: &[u8], max_headers: usize) -> Option<(u16, Vec<(String, String)>)> {
        let mut headers = alloc::vec![httparse::EMPTY_HEADER; max_headers];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return None,
        }
        let fields = resp
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (String::from(h.name), value)
            })
            .collect();
        Some((resp.code.unwrap_or(0), fields))
    }

    /// Checks a complete response head.
    pub fn finish(&self, head: &[u8], max_headers: usize) -> Result<Negotiated, HandshakeError> {
        let mut headers = alloc::vec![httparse::EMPTY_HEADER; max_headers];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(HandshakeError::MalformedHttp),
            Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
            Err(_) => return Err(HandshakeError::MalformedHttp),
        }
        let code = resp.code.unwrap_or(0);
        if code != 101 {
            return Err(HandshakeError::UnexpectedStatus(code));
        }
        let headers = resp.headers;
        if !headers_have_token(headers, "upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !headers_have_token(headers, "connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        let mut accepts = header_values(headers, "sec-websocket-accept");
        let accept = accepts.next().map(|a| a.trim_ascii());
        if accept != Some(self.expected_accept.as_bytes()) || accepts.next().is_some() {
            return Err(HandshakeError::InvalidAccept);
        }
        let chosen = header_list(headers, "sec-websocket-protocol");
        let subprotocol = match chosen.as_slice() {
            [] => None,
            [one] if self.offered_subprotocols.contains(one) => Some(one.clone()),
            _ => return Err(HandshakeError::UnofferedSubprotocol),
        };
        let extensions = parse_extensions(header_values(headers, "sec-websocket-extensions"))
            .ok_or(HandshakeError::UnofferedExtension)?;
        for (i, e) in extensions.iter().enumerate() {
            let offered = self.offered_extensions.contains(&e.name);
            let repeated = extensions[..i].iter().any(|p| p.name == e.name);
            if !offered || repeated {
                return Err(HandshakeError::UnofferedExtension);
            }
        }
        Ok(Negotiated {
            subprotocol,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(config: &ClientConfig) -> (ClientHandshake, String) {
        let mut out = BytesMut::new();
        // RFC 6455 §1.3's sample nonce: "the sample nonce".
        let hs = ClientHandshake::start(config, *b"the sample nonce", None, &mut out).unwrap();
        (hs, String::from_utf8(out.to_vec()).unwrap())
    }

    const RFC_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

    #[test]
    fn rfc_request_and_response() {
        let config = ClientConfig::new("server.example.com", "/chat")
            .origin("http://example.com")
            .subprotocol("chat")
            .subprotocol("superchat");
        let (hs, req) = start(&config);
        assert_eq!(
            req,
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n"
        );
        let n = hs.finish(RFC_RESPONSE.as_bytes(), 64).unwrap();
        assert_eq!(n.subprotocol.as_deref(), Some("chat"));
    }

    #[test]
    fn bad_answers_are_refused() {
        let config = ClientConfig::new("h", "/").subprotocol("chat");
        let (hs, _) = start(&config);
        let cases: &[(&str, &str, HandshakeError)] = &[
            (
                "101 Switching Protocols",
                "200 OK",
                HandshakeError::UnexpectedStatus(200),
            ),
            (
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOA=",
                HandshakeError::InvalidAccept,
            ),
            (
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
                "",
                HandshakeError::InvalidAccept,
            ),
            (
                "Protocol: chat",
                "Protocol: superchat",
                HandshakeError::UnofferedSubprotocol,
            ),
            (
                "Protocol: chat",
                "Protocol: chat, chat",
                HandshakeError::UnofferedSubprotocol,
            ),
            (
                "Upgrade: websocket",
                "Upgrade: h2c",
                HandshakeError::MissingUpgrade,
            ),
            (
                "Connection: Upgrade",
                "Connection: close",
                HandshakeError::MissingConnectionUpgrade,
            ),
            (
                "\r\n\r\n",
                "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                HandshakeError::UnofferedExtension,
            ),
        ];
        for (from, to, err) in cases {
            let resp = RFC_RESPONSE.replacen(from, to, 1);
            assert_eq!(hs.finish(resp.as_bytes(), 64), Err(*err), "{from} -> {to}");
        }
    }

    #[test]
    fn header_injection_is_refused() {
        let mut out = BytesMut::new();
        for config in [
            ClientConfig::new("h\r\nX: y", "/"),
            ClientConfig::new("h", "/ HTTP/1.1\r\n"),
            ClientConfig::new("h", "/").header("X", "a\r\nb"),
            ClientConfig::new("h", "/").subprotocol("a b"),
        ] {
            assert_eq!(
                ClientHandshake::start(&config, [0; 16], None, &mut out).unwrap_err(),
                Error::InvalidHeader
            );
        }
    }
}
