//! `ws://host[:port]/path?query` URLs, as far as the examples need them (no `wss://`: the
//! examples speak plain TCP).

use std::fmt;

/// A parsed `ws://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `host:port`, for `TcpStream::connect`.
    pub addr: String,
    /// The authority as written, for the `Host` header.
    pub host: String,
    /// The request target: path and query, at least `/`.
    pub path: String,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

impl WsUrl {
    /// Parses `ws://authority[/path][?query]`; the port defaults to 80.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => rest,
            Some((scheme, _)) => {
                return Err(UrlError(format!(
                    "unsupported scheme {scheme:?}: only ws:// is supported"
                )))
            }
            None => return Err(UrlError(format!("{url:?} is not a ws:// URL"))),
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (host, target) = rest.split_at(split);
        if host.is_empty() || host.contains('@') {
            return Err(UrlError(format!("{url:?} has no usable host")));
        }
        // An IPv6 literal keeps its colons inside brackets.
        let has_port = match host.rfind(']') {
            Some(close) => host[close..].contains(':'),
            None => host.contains(':'),
        };
        let addr = if has_port {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        let path = match target {
            "" => "/".to_string(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_string(),
        };
        Ok(Self {
            addr,
            host: host.to_string(),
            path,
        })
    }

    /// The same server with another request target.
    pub fn with_path(&self, path: &str) -> Self {
        Self {
            path: path.to_string(),
            ..self.clone()
        }
    }
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay as they are).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_path() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/runCase?case=3").unwrap();
        assert_eq!(u.addr, "127.0.0.1:9001");
        assert_eq!(u.host, "127.0.0.1:9001");
        assert_eq!(u.path, "/runCase?case=3");
        let u = WsUrl::parse("ws://localhost").unwrap();
        assert_eq!((u.addr.as_str(), u.path.as_str()), ("localhost:80", "/"));
        let u = WsUrl::parse("ws://[::1]?x=1").unwrap();
        assert_eq!((u.addr.as_str(), u.path.as_str()), ("[::1]:80", "/?x=1"));
        assert!(WsUrl::parse("wss://example.com/").is_err());
        assert!(WsUrl::parse("127.0.0.1:9001").is_err());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(
            encode_query_value("wsmachine 0.1/rust"),
            "wsmachine%200.1%2Frust"
        );
    }
}
