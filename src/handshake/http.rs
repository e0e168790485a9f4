//! The opening handshake with the `http` crate's types (the `http` feature), which
//! hyper, axum and reqwest speak: a server answers an `http::Request` with an
//! `http::Response` and starts the engine with the [`Upgraded`] it gets; a client builds an
//! `http::Request` and checks the `http::Response`. The HTTP library moves the bytes and
//! hands over the upgraded transport; see [`negotiate`] for the rules.
//!
//! ```
//! use wsmachine::handshake::http::server_response;
//! use wsmachine::{Connection, ServerConfig};
//!
//! let request = http::Request::get("/chat")
//!     .header("host", "example.com")
//!     .header("upgrade", "websocket")
//!     .header("connection", "Upgrade")
//!     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
//!     .header("sec-websocket-version", "13")
//!     .body(())
//!     .unwrap();
//! let (response, upgraded) = server_response(&request, &ServerConfig::new()).unwrap();
//! assert_eq!(response.status(), 101);
//! assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! // Send `response`, then run the engine over the upgraded transport.
//! let conn = Connection::from_upgraded(upgraded).unwrap();
//! ```

use super::negotiate::{self, Answer, ClientOffer, HeaderView};
use crate::config::{ClientConfig, ServerConfig};
use crate::connection::Upgraded;
use crate::error::{Error, HandshakeError};
use ::http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use alloc::string::String;
use alloc::vec::Vec;

impl HeaderView for HeaderMap {
    fn for_each_field(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            f(name.as_str(), value.as_bytes());
        }
    }
}

/// A response with `status` and `headers`; a bare 500 should a header not be valid (it
/// cannot happen with what the negotiation produces).
fn response(status: u16, headers: &[(String, String)]) -> Response<()> {
    let mut builder = Response::builder().status(status);
    for (n, v) in headers {
        builder = builder.header(n.as_str(), v.as_bytes());
    }
    builder.body(()).unwrap_or_else(|_| {
        let mut r = Response::new(());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// The error answer to a request that failed the handshake: its status, with
/// `Sec-WebSocket-Version: 13` on a 426 (RFC 6455 §4.4), and the configuration's extra
/// headers.
pub fn error_response(error: HandshakeError, config: &ServerConfig) -> Response<()> {
    error_answer(error, config, true)
}

/// `upgrade`: whether the request was an HTTP/1.1 Upgrade, whose 426 names the protocol to
/// upgrade to; HTTP/2 forbids the connection-specific `Upgrade` field (RFC 9113 §8.2.2), and
/// h2 refuses to send a response that has it.
fn error_answer(error: HandshakeError, config: &ServerConfig, upgrade: bool) -> Response<()> {
    let mut headers = Vec::new();
    if error.status() == 426 {
        headers.push((String::from("Sec-WebSocket-Version"), String::from("13")));
        if upgrade {
            headers.push((String::from("Upgrade"), String::from("websocket")));
        }
    }
    headers.extend(config.extra_headers.iter().cloned());
    response(error.status(), &headers)
}

fn answer(
    config: &ServerConfig,
    result: Result<Answer, HandshakeError>,
    upgrade: bool,
) -> Result<(Response<()>, Upgraded), Response<()>> {
    match result {
        Ok(a) => Ok((response(a.status(), &a.headers()), a.into_upgraded())),
        Err(e) => Err(error_answer(e, config, upgrade)),
    }
}

/// A server's answer to an HTTP/1.1 Upgrade request (RFC 6455 §4.2): `Ok` with the 101
/// response to send and the [`Upgraded`] to start the engine with once the transport is
/// upgraded, or `Err` with the 4xx/5xx response to send instead (405 for a method other
/// than `GET`, 505 for a version other than HTTP/1.1, 400 without `Host`, 426 for a
/// version other than 13, 400 for other faults).
pub fn server_response<B>(
    request: &Request<B>,
    config: &ServerConfig,
) -> Result<(Response<()>, Upgraded), Response<()>> {
    let checked = if request.method() != Method::GET {
        Err(HandshakeError::MethodNotGet)
    } else if request.version() != Version::HTTP_11 {
        Err(HandshakeError::NotHttp11)
    } else if !request.headers().contains_key(::http::header::HOST) {
        Err(HandshakeError::MissingHost)
    } else {
        negotiate::server(config, request.headers())
    };
    answer(config, checked, true)
}

/// A server's answer to an HTTP/2 extended CONNECT (RFC 8441 §5): as
/// [`server_response`], with a 200 response. `protocol` is the request's `:protocol`
/// pseudo-header, which HTTP/2 libraries keep apart from the header map (h2:
/// `request.extensions().get::<h2::ext::Protocol>()`); it must be `websocket`.
pub fn server_response_extended_connect<B>(
    request: &Request<B>,
    protocol: Option<&str>,
    config: &ServerConfig,
) -> Result<(Response<()>, Upgraded), Response<()>> {
    let mut fields: Vec<(&str, &[u8])> = Vec::new();
    fields.push((":method", request.method().as_str().as_bytes()));
    if let Some(p) = protocol {
        fields.push((":protocol", p.as_bytes()));
    }
    for (n, v) in request.headers() {
        fields.push((n.as_str(), v.as_bytes()));
    }
    answer(config, negotiate::server(config, &fields), false)
}

/// A client's HTTP/1.1 Upgrade request for `config` (`GET {path}`, `Host`, the WebSocket
/// fields, the configuration's headers), with the [`ClientOffer`] to check the response
/// with ([`client_finish`]). Errors as [`ClientOffer::new`].
pub fn client_request(config: ClientConfig) -> Result<(Request<()>, ClientOffer), Error> {
    let offer = ClientOffer::new(config)?;
    let mut builder = Request::get(offer.path())
        .version(Version::HTTP_11)
        .header(::http::header::HOST, offer.host());
    for (n, v) in offer.headers() {
        // From bytes: a value may hold UTF-8 (obs-text), which `&str` conversion refuses.
        builder = builder.header(n.as_str(), v.as_bytes());
    }
    let request = builder.body(()).map_err(|_| Error::InvalidHeader)?;
    Ok((request, offer))
}

/// A client's RFC 8441 extended CONNECT for `config`: `CONNECT {scheme}://{host}{path}` over
/// HTTP/2 with the WebSocket fields and the configuration's headers, and the
/// [`ClientOffer`] to check the 200 answer with ([`client_finish`]). The `:protocol =
/// websocket` pseudo-header is the HTTP/2 library's to add (h2:
/// `request.extensions_mut().insert(h2::ext::Protocol::from_static("websocket"))`).
/// `scheme` is `https`, or `http` for HTTP/2 over plain TCP. Errors as
/// [`ClientOffer::extended_connect`], and [`Error::InvalidHeader`] for a URI that cannot be
/// made of them.
pub fn client_request_extended_connect(
    config: ClientConfig,
    scheme: &str,
) -> Result<(Request<()>, ClientOffer), Error> {
    let offer = ClientOffer::extended_connect(config)?;
    let uri = alloc::format!("{scheme}://{}{}", offer.host(), offer.path());
    let mut builder = Request::connect(uri).version(Version::HTTP_2);
    for (n, v) in offer.headers() {
        builder = builder.header(n.as_str(), v.as_bytes());
    }
    let request = builder.body(()).map_err(|_| Error::InvalidHeader)?;
    Ok((request, offer))
}

/// Checks the server's response to [`client_request`] or
/// [`client_request_extended_connect`], giving the client's [`Upgraded`].
pub fn client_finish<B>(
    offer: ClientOffer,
    response: &Response<B>,
) -> Result<Upgraded, HandshakeError> {
    offer.finish(response.status().as_u16(), response.headers())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Connection;
    use crate::event::Event;

    fn rfc_request() -> ::http::request::Builder {
        Request::get("/chat")
            .header("Host", "server.example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Protocol", "chat, superchat")
            .header("Sec-WebSocket-Version", "13")
    }

    #[test]
    fn server_answers_the_rfc_example() {
        let config = ServerConfig::new()
            .subprotocol("chat")
            .header("X-Served-By", "test")
            .unwrap();
        let (response, upgraded) =
            server_response(&rfc_request().body(()).unwrap(), &config).unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        let h = response.headers();
        assert_eq!(h["upgrade"], "websocket");
        assert_eq!(h["connection"], "Upgrade");
        assert_eq!(h["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(h["sec-websocket-protocol"], "chat");
        assert_eq!(h["x-served-by"], "test");
        assert_eq!(h.len(), 5);
        let mut conn = Connection::from_upgraded(upgraded).unwrap();
        assert!(matches!(conn.poll_event(), Some(Event::Open { .. })));
        assert_eq!(conn.subprotocol(), Some("chat"));
    }

    #[test]
    fn server_refuses_bad_requests() {
        let config = ServerConfig::new();
        let status = |r: Request<()>| server_response(&r, &config).unwrap_err().status();
        assert_eq!(status(rfc_request().method("POST").body(()).unwrap()), 405);
        let h10 = rfc_request().version(Version::HTTP_10).body(()).unwrap();
        assert_eq!(status(h10), 505);
        let mut no_host = rfc_request().body(()).unwrap();
        no_host.headers_mut().remove("host");
        assert_eq!(status(no_host), 400);
        let mut v8 = rfc_request().body(()).unwrap();
        v8.headers_mut()
            .insert("sec-websocket-version", "8".parse().unwrap());
        let refused = server_response(&v8, &config).unwrap_err();
        assert_eq!(refused.status(), 426);
        assert_eq!(refused.headers()["sec-websocket-version"], "13");
        let mut no_key = rfc_request().body(()).unwrap();
        no_key.headers_mut().remove("sec-websocket-key");
        assert_eq!(status(no_key), 400);
    }

    #[test]
    fn extended_connect_is_answered_with_200() {
        let request = Request::connect("https://server.example.com/chat")
            .version(Version::HTTP_2)
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "chat")
            .body(())
            .unwrap();
        let config = ServerConfig::new().subprotocol("chat");
        let (response, upgraded) =
            server_response_extended_connect(&request, Some("websocket"), &config).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("sec-websocket-accept").is_none());
        assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
        assert_eq!(upgraded.subprotocol.as_deref(), Some("chat"));
        let refused = server_response_extended_connect(&request, None, &config).unwrap_err();
        assert_eq!(refused.status(), 400);
        // A 426 over HTTP/2 has no `Upgrade` field (connection-specific there).
        let mut v8 = request;
        v8.headers_mut()
            .insert("sec-websocket-version", "8".parse().unwrap());
        let refused =
            server_response_extended_connect(&v8, Some("websocket"), &config).unwrap_err();
        assert_eq!(refused.status(), 426);
        assert_eq!(refused.headers()["sec-websocket-version"], "13");
        assert!(refused.headers().get("upgrade").is_none());
    }

    #[test]
    fn an_extended_connect_client_meets_the_server() {
        let client_config =
            ClientConfig::new("example.com:8443", "/chat?room=1").subprotocol("chat");
        let (request, offer) = client_request_extended_connect(client_config, "https").unwrap();
        assert_eq!(request.method(), Method::CONNECT);
        assert_eq!(request.version(), Version::HTTP_2);
        assert_eq!(request.uri(), "https://example.com:8443/chat?room=1");
        assert!(request.headers().get("sec-websocket-key").is_none());
        assert!(request.headers().get("upgrade").is_none());
        let config = ServerConfig::new().subprotocol("chat");
        let (response, _) =
            server_response_extended_connect(&request, Some("websocket"), &config).unwrap();
        let client_side = client_finish(offer, &response).unwrap();
        assert_eq!(client_side.subprotocol.as_deref(), Some("chat"));
        let bad = client_request_extended_connect(ClientConfig::new("h", "/"), "not a scheme");
        assert_eq!(bad.unwrap_err(), Error::InvalidHeader);
    }

    #[test]
    fn client_and_server_meet_and_exchange_frames() {
        #[cfg(feature = "deflate")]
        let (client_config, server_config) = (
            ClientConfig::new("example.com", "/chat")
                .subprotocol("chat")
                .deflate(crate::deflate::DeflateConfig::new()),
            ServerConfig::new()
                .subprotocol("chat")
                .deflate(crate::deflate::DeflateConfig::new()),
        );
        #[cfg(not(feature = "deflate"))]
        let (client_config, server_config) = (
            ClientConfig::new("example.com", "/chat").subprotocol("chat"),
            ServerConfig::new().subprotocol("chat"),
        );
        let (request, offer) = client_request(client_config).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/chat");
        assert_eq!(request.headers()["host"], "example.com");
        assert_eq!(request.headers()["sec-websocket-version"], "13");
        let (response, server_side) = server_response(&request, &server_config).unwrap();
        let client_side = client_finish(offer, &response).unwrap();
        #[cfg(feature = "deflate")]
        assert!(client_side.extensions.starts_with("permessage-deflate"));
        let mut client = Connection::from_upgraded(client_side).unwrap();
        let mut server = Connection::from_upgraded(server_side).unwrap();
        assert_eq!(client.extensions(), server.extensions());
        let text = "a message long enough to be worth compressing, compressing";
        client.send_text(text).unwrap();
        server.receive(&client.take_output());
        assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
        match server.poll_event() {
            Some(Event::Text(t)) => assert_eq!(t.as_str(), text),
            other => panic!("{other:?}"),
        }
        // A refused or wrong answer is an error.
        let (_, offer) = client_request(ClientConfig::new("h", "/")).unwrap();
        let mut forbidden = Response::new(());
        *forbidden.status_mut() = StatusCode::FORBIDDEN;
        assert_eq!(
            client_finish(offer, &forbidden).unwrap_err(),
            HandshakeError::UnexpectedStatus(403)
        );
        let (_, offer) = client_request(ClientConfig::new("h", "/")).unwrap();
        assert_eq!(
            client_finish(offer, &response).unwrap_err(),
            HandshakeError::InvalidAccept
        );
        assert_eq!(
            client_request(ClientConfig::new("h", "/").header("X", "a\nb")).unwrap_err(),
            Error::InvalidHeader
        );
        // UTF-8 in a value (obs-text) goes through, both ways.
        let (request, _) =
            client_request(ClientConfig::new("h", "/").header("X-Name", "Zoë")).unwrap();
        assert_eq!(request.headers()["x-name"].as_bytes(), "Zoë".as_bytes());
        let config = ServerConfig::new().header("X-Name", "Zoë").unwrap();
        let (response, _) = server_response(&rfc_request().body(()).unwrap(), &config).unwrap();
        assert_eq!(response.headers()["x-name"].as_bytes(), "Zoë".as_bytes());
    }
}
