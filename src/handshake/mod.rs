//! The opening handshake (RFC 6455 §4): the client's Upgrade request and its check of the
//! answer, the server's validation of the request and its answer. HTTP/1.1 heads are parsed
//! by `httparse`; everything here is a pure function of bytes and configuration.

mod client;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod negotiate;
mod refusal;
mod server;

pub use crate::extension_header::{parse_extensions, ExtensionOffer};
pub(crate) use crate::http_syntax::{is_header_value, is_token};
pub use client::{ClientHandshake, Negotiated};
pub(crate) use refusal::RefusalBody;
pub use server::{parse_request, write_accept, write_reject, write_response, Request};

use alloc::string::String;
use base64::Engine as _;

/// The GUID every `Sec-WebSocket-Accept` is derived with (RFC 6455 §1.3).
const ACCEPT_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(ACCEPT_GUID);
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// The length of the HTTP head at the start of `buf` (through the empty line that ends it),
/// if complete. Like httparse, a line may end in CRLF or a bare LF, so the head ends at the
/// first `\n\n` or `\n\r\n`. `from` is where a previous search stopped, so feeding a byte
/// at a time stays linear.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(2);
    let mut i = start;
    while let Some(p) = buf.get(i..)?.iter().position(|&b| b == b'\n') {
        let nl = i + p;
        match buf.get(nl + 1..nl + 3) {
            Some([b'\n', _]) => return Some(nl + 2),
            Some([b'\r', b'\n']) => return Some(nl + 3),
            None if buf.get(nl + 1) == Some(&b'\n') => return Some(nl + 2),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

/// Whether a comma-separated header value lists `token` (case-insensitive, RFC 7230 §7).
pub(crate) fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// All values of header `name`, in order.
pub(crate) fn header_values<'h, 'b: 'h>(
    headers: &'h [httparse::Header<'b>],
    name: &'h str,
) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Whether any `name` header lists `token`.
pub(crate) fn headers_have_token(
    headers: &[httparse::Header<'_>],
    name: &str,
    token: &str,
) -> bool {
    header_values(headers, name).any(|v| has_token(v, token))
}

/// The comma-separated items of every `name` header, trimmed, empty ones dropped.
pub(crate) fn header_list(headers: &[httparse::Header<'_>], name: &str) -> alloc::vec::Vec<String> {
    header_values(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect()
}

/// Writes one `name: value` header line.
pub(crate) fn put_header(out: &mut bytes::BytesMut, name: &str, value: &str) {
    use bytes::BufMut;
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_accept_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn head_ends_like_httparse() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\nHost: a\n\nX", 0), Some(24));
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nHost: a\n\r\nX", 0),
            Some(26)
        );
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r", 0), None);
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0), None);
        assert_eq!(find_head_end(b"a\n", 0), None);
        assert_eq!(find_head_end(b"a\n\n", 0), Some(3));
    }

    #[test]
    fn head_end_search_resumes() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        assert_eq!(find_head_end(head, 0), Some(27));
        let mut seen = 0;
        for n in 1..=head.len() {
            match find_head_end(&head[..n], seen) {
                Some(end) => {
                    assert_eq!(end, 27);
                    assert_eq!(n, 27);
                    return;
                }
                None => seen = n,
            }
        }
        panic!("never found");
    }

    #[test]
    fn tokens() {
        assert!(has_token(b"keep-alive, Upgrade", "upgrade"));
        assert!(has_token(b"UPGRADE", "upgrade"));
        assert!(!has_token(b"upgrader", "upgrade"));
        assert!(is_token("chat.v2"));
        assert!(!is_token("a b"));
        assert!(!is_header_value("a\r\nX: y"));
    }
}
