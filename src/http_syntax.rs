//! HTTP's character rules that the handshake and the configuration both check: tokens
//! (header names, subprotocols, extension names) and header values. A leaf, so that the
//! configuration does not depend on the handshake that depends on it.

/// Whether `s` may be written as an HTTP header value (no control characters but tab).
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Whether `s` is an HTTP token (RFC 7230 §3.2.6): a header name, a subprotocol.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
