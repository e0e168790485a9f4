//! A hyper 1.x server that serves plain HTTP and upgrades `GET /ws` to a WebSocket, handing
//! the upgraded connection to the engine with `WebSocketStream::from_upgraded`: the
//! handshake is hyper's, the frames are wsmachine's.
//!
//! ```text
//! cargo run -p wsmachine-tokio --example hyper_upgrade -- 127.0.0.1:9003
//! ```
//!
//! `http://ADDR/` answers with a line of text; `ws://ADDR/ws` echoes messages. It prints
//! `hyper server listening on http://ADDR/` on stderr once ready.

use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use tokio::net::TcpListener;
use wsmachine::{handshake::accept_key, Options, Role, Upgraded};
use wsmachine_tokio::{Message, WebSocketStream};

type Body = Full<Bytes>;

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

/// Whether header `name` lists `token` (comma-separated, case-insensitive).
fn has_token(request: &Request<Incoming>, name: hyper::header::HeaderName, token: &str) -> bool {
    request.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

async fn handle(mut request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != "/ws" {
        return Ok(text(
            StatusCode::OK,
            "hello from hyper; the WebSocket is at /ws\n",
        ));
    }
    let key = request
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec());
    let version_ok = request
        .headers()
        .get("sec-websocket-version")
        .is_some_and(|v| v == "13");
    let (Some(key), true, true, true) = (
        key,
        version_ok,
        has_token(&request, UPGRADE, "websocket"),
        has_token(&request, CONNECTION, "upgrade"),
    ) else {
        return Ok(text(
            StatusCode::BAD_REQUEST,
            "a WebSocket upgrade is expected here\n",
        ));
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let io = match upgrade.await {
            Ok(upgraded) => TokioIo::new(upgraded),
            Err(e) => return eprintln!("upgrade failed: {e}"),
        };
        let upgraded = Upgraded::new(Role::Server, Options::new());
        let Ok(mut ws) = WebSocketStream::from_upgraded(io, upgraded) else {
            return;
        };
        while let Some(Ok(message)) = ws.next().await {
            if matches!(message, Message::Text(_) | Message::Binary(_))
                && ws.send(message).await.is_err()
            {
                break;
            }
        }
        let clean = ws.close_status().is_some_and(|(clean, _)| clean);
        eprintln!("websocket closed: clean={clean}");
    });
    let mut response = text(StatusCode::SWITCHING_PROTOCOLS, "");
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    let accept = HeaderValue::from_str(&accept_key(&key)).expect("base64 is a valid value");
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!(
        "hyper server listening on http://{}/",
        listener.local_addr()?
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            if let Err(e) = connection.await {
                eprintln!("connection error: {e}");
            }
        });
    }
}
