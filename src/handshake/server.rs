//! The server's side of the opening handshake (RFC 6455 §4.2): validating the request and
//! writing the 101 answer or an HTTP error.

use super::{
    header_list, header_values, headers_have_token, parse_extensions, put_header, ExtensionOffer,
};
use crate::error::HandshakeError;
use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use bytes::{BufMut, BytesMut};

/// A valid opening handshake request, as the server application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The request target (`/chat?room=1`).
    pub path: String,
    /// The `Host` header.
    pub host: String,
    /// The `Origin` header, which browsers always send: check it to stop cross-site
    /// WebSocket hijacking (RFC 6455 §10.2).
    pub origin: Option<String>,
    /// Offered subprotocols, in the client's order of preference.
    pub subprotocols: Vec<String>,
    /// Offered extensions, in the client's order of preference.
    pub extensions: Vec<ExtensionOffer>,
    /// Every header field, in order (values decoded lossily as UTF-8).
    pub headers: Vec<(String, String)>,
    /// Whether this is a WebSocket Upgrade request. A plain `GET` (a browser loading the
    /// page that will open the WebSocket) is `false`; a server with deferred accept may
    /// answer it with [`Connection::respond`](crate::Connection::respond).
    pub websocket: bool,
    /// The `Sec-WebSocket-Key`.
    pub(crate) key: String,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses and validates a complete request head. A valid `GET` without any `Upgrade`
/// header parses as a plain HTTP request (`websocket: false`).
pub fn parse_request(head: &[u8], max_headers: usize) -> Result<Request, HandshakeError> {
    let mut headers = alloc::vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::MalformedHttp),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(_) => return Err(HandshakeError::MalformedHttp),
    }
    if req.method != Some("GET") {
        return Err(HandshakeError::MethodNotGet);
    }
    if req.version != Some(1) {
        return Err(HandshakeError::NotHttp11);
    }
    let headers = req.headers;
    let host = header_values(headers, "host")
        .next()
        .ok_or(HandshakeError::MissingHost)?;
    let origin = header_values(headers, "origin")
        .next()
        .map(|o| String::from_utf8_lossy(o).into_owned());
    let mut request = Request {
        path: String::from(req.path.unwrap_or("/")),
        host: String::from_utf8_lossy(host).into_owned(),
        origin,
        subprotocols: Vec::new(),
        extensions: Vec::new(),
        headers: headers
            .iter()
            .map(|h| {
                (
                    String::from(h.name),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        websocket: false,
        key: String::new(),
    };
    if header_values(headers, "upgrade").next().is_none() {
        return Ok(request);
    }
    if !headers_have_token(headers, "upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !headers_have_token(headers, "connection", "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let version = header_values(headers, "sec-websocket-version").next();
    if version.map(|v| v.trim_ascii()) != Some(b"13") {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let mut keys = header_values(headers, "sec-websocket-key");
    let key = keys
        .next()
        .map(|k| k.trim_ascii())
        .ok_or(HandshakeError::InvalidKey)?;
    if keys.next().is_some() {
        return Err(HandshakeError::InvalidKey);
    }
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(raw) if raw.len() == 16 => {}
        _ => return Err(HandshakeError::InvalidKey),
    }
    request.extensions = parse_extensions(header_values(headers, "sec-websocket-extensions"))
        .ok_or(HandshakeError::MalformedHttp)?;
    request.subprotocols = header_list(headers, "sec-websocket-protocol");
    request.key = String::from_utf8_lossy(key).into_owned();
    request.websocket = true;
    Ok(request)
}

/// Writes a complete HTTP response with a body (for plain HTTP requests).
pub fn write_response(out: &mut BytesMut, status: u16, content_type: &str, body: &[u8]) {
    let mut head = String::new();
    let _ = core::fmt::write(
        &mut head,
        format_args!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            status_text(status),
            body.len()
        ),
    );
    out.put_slice(head.as_bytes());
    out.put_slice(body);
}

/// Writes the 101 answer.
pub fn write_accept(
    out: &mut BytesMut,
    key: &str,
    subprotocol: Option<&str>,
    extensions: &str,
    extra_headers: &[(String, String)],
) {
    out.put_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.put_slice(super::accept_key(key.as_bytes()).as_bytes());
    out.put_slice(b"\r\n");
    if let Some(p) = subprotocol {
        put_header(out, "Sec-WebSocket-Protocol", p);
    }
    if !extensions.is_empty() {
        put_header(out, "Sec-WebSocket-Extensions", extensions);
    }
    for (n, v) in extra_headers {
        put_header(out, n, v);
    }
    out.put_slice(b"\r\n");
}

/// Writes an HTTP error answer with `reason` as a plain-text body. A 426 names the version
/// we support (RFC 6455 §4.4).
pub fn write_reject(
    out: &mut BytesMut,
    status: u16,
    reason: &str,
    extra_headers: &[(String, String)],
) {
    let mut line = String::new();
    let _ = core::fmt::write(
        &mut line,
        format_args!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
            status_text(status),
            reason.len() + 1
        ),
    );
    out.put_slice(line.as_bytes());
    if status == 426 {
        put_header(out, "Sec-WebSocket-Version", "13");
        put_header(out, "Upgrade", "websocket");
    }
    for (n, v) in extra_headers {
        put_header(out, n, v);
    }
    out.put_slice(b"\r\n");
    out.put_slice(reason.as_bytes());
    out.put_slice(b"\n");
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn rfc_request_parses() {
        let r = parse_request(RFC_REQUEST, 64).unwrap();
        assert_eq!(r.path, "/chat");
        assert_eq!(r.host, "server.example.com");
        assert_eq!(r.origin.as_deref(), Some("http://example.com"));
        assert_eq!(r.subprotocols, ["chat", "superchat"]);
        assert_eq!(r.header("sec-websocket-version"), Some("13"));
        let mut out = BytesMut::new();
        write_accept(&mut out, &r.key, Some("chat"), "", &[]);
        assert_eq!(
            &out[..],
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
    }

    fn with(replace: &str, by: &str) -> Vec<u8> {
        String::from_utf8(RFC_REQUEST.to_vec())
            .unwrap()
            .replacen(replace, by, 1)
            .into_bytes()
    }

    #[test]
    fn each_rule_has_its_error() {
        let cases: &[(&str, &str, HandshakeError)] = &[
            ("GET ", "POST ", HandshakeError::MethodNotGet),
            ("HTTP/1.1", "HTTP/1.0", HandshakeError::NotHttp11),
            (
                "Host: server.example.com\r\n",
                "",
                HandshakeError::MissingHost,
            ),
            (
                "Upgrade: websocket",
                "Upgrade: h2c",
                HandshakeError::MissingUpgrade,
            ),
            (
                "Connection: Upgrade",
                "Connection: keep-alive",
                HandshakeError::MissingConnectionUpgrade,
            ),
            (
                "Version: 13",
                "Version: 8",
                HandshakeError::UnsupportedVersion,
            ),
            (
                "Sec-WebSocket-Version: 13\r\n",
                "",
                HandshakeError::UnsupportedVersion,
            ),
            (
                "dGhlIHNhbXBsZSBub25jZQ==",
                "dGhlIHNhbXBsZQ==",
                HandshakeError::InvalidKey,
            ),
            (
                "dGhlIHNhbXBsZSBub25jZQ==",
                "!!!",
                HandshakeError::InvalidKey,
            ),
            (
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                "",
                HandshakeError::InvalidKey,
            ),
            ("Host:", "Ho st:", HandshakeError::MalformedHttp),
        ];
        for (from, to, err) in cases {
            assert_eq!(
                parse_request(&with(from, to), 64),
                Err(*err),
                "{from} -> {to}"
            );
        }
        assert_eq!(
            parse_request(RFC_REQUEST, 3),
            Err(HandshakeError::TooManyHeaders)
        );
        // Token lists and case-insensitivity (Firefox sends "keep-alive, Upgrade").
        let ok = with("Connection: Upgrade", "connection: keep-alive, UPGRADE");
        assert!(parse_request(&with("Upgrade: websocket", "upgrade: WebSocket"), 64).is_ok());
        assert!(parse_request(&ok, 64).is_ok());
    }

    #[test]
    fn plain_get_is_not_websocket() {
        let r = parse_request(
            b"GET /index.html HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
            64,
        )
        .unwrap();
        assert!(!r.websocket);
        assert_eq!(r.path, "/index.html");
        assert!(parse_request(RFC_REQUEST, 64).unwrap().websocket);
    }

    #[test]
    fn reject_426_names_version() {
        let mut out = BytesMut::new();
        write_reject(&mut out, 426, "only version 13", &[]);
        let s = core::str::from_utf8(&out).unwrap();
        assert!(s.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(s.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(s.ends_with("\r\n\r\nonly version 13\n"));
        assert!(s.contains("Content-Length: 16\r\n"));
    }
}
