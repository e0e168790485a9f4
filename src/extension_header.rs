//! `Sec-WebSocket-Extensions` values (RFC 6455 §9.1): a list of extensions, each with
//! parameters that are bare tokens or `name=value`, values possibly quoted strings.

use alloc::string::String;
use alloc::vec::Vec;

/// One extension in a `Sec-WebSocket-Extensions` list, with its parameters in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionOffer {
    /// The extension's name (`permessage-deflate`).
    pub name: String,
    /// Its parameters: name and, when given, the value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

/// Parses every extension listed by the given header values. Returns `None` when the
/// syntax is broken (an unterminated quote, an empty name, a bad character).
pub fn parse_extensions<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Option<Vec<ExtensionOffer>> {
    let mut out = Vec::new();
    for value in values {
        let value = core::str::from_utf8(value).ok()?;
        for item in split_outside_quotes(value, ',')? {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let mut parts = split_outside_quotes(item, ';')?.into_iter();
            let name = parts.next()?.trim();
            if !crate::http_syntax::is_token(name) {
                return None;
            }
            let mut params = Vec::new();
            for p in parts {
                let p = p.trim();
                let (k, v) = match p.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(unquote(v.trim())?)),
                    None => (p, None),
                };
                if !crate::http_syntax::is_token(k) {
                    return None;
                }
                params.push((String::from(k), v));
            }
            out.push(ExtensionOffer {
                name: String::from(name),
                params,
            });
        }
    }
    Some(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    if in_quotes {
        return None;
    }
    parts.push(&s[start..]);
    Some(parts)
}

fn unquote(v: &str) -> Option<String> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            out.push(if c == '\\' { chars.next()? } else { c });
        }
        // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
        crate::http_syntax::is_token(&out).then_some(out)
    } else {
        crate::http_syntax::is_token(v).then(|| String::from(v))
    }
}

impl ExtensionOffer {
    /// Writes the extension back in header syntax.
    pub fn to_header_value(&self) -> String {
        let mut s = self.name.clone();
        for (k, v) in &self.params {
            s.push_str("; ");
            s.push_str(k);
            if let Some(v) = v {
                s.push('=');
                s.push_str(v);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_params_and_quotes() {
        let v: &[u8] = b"permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" ; server_no_context_takeover, x-foo";
        let ext = parse_extensions([v]).unwrap();
        assert_eq!(ext.len(), 3);
        assert_eq!(ext[0].name, "permessage-deflate");
        assert_eq!(
            ext[0].params,
            [(String::from("client_max_window_bits"), None)]
        );
        assert_eq!(
            ext[1].params[0],
            (
                String::from("server_max_window_bits"),
                Some(String::from("10"))
            )
        );
        assert_eq!(ext[1].params[1].0, "server_no_context_takeover");
        assert_eq!(ext[2].name, "x-foo");
        assert_eq!(
            ext[1].to_header_value(),
            "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
        );
    }

    #[test]
    fn rejects_broken_syntax() {
        assert!(parse_extensions([&b"a; b=\"1"[..]]).is_none());
        assert!(parse_extensions([&b"a b"[..]]).is_none());
        assert!(parse_extensions([&b"; x"[..]]).is_none());
        assert_eq!(parse_extensions([&b" , "[..]]).unwrap(), []);
    }
}
