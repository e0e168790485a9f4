//! A hyper 1.x server that serves plain HTTP and upgrades `GET /ws` to a WebSocket, handing
//! the upgraded connection to the engine with `WebSocketStream::from_upgraded`: hyper moves
//! the bytes, `wsmachine::handshake::http::server_response` (the `http` feature) checks the
//! request and negotiates the subprotocol and permessage-deflate, the frames are wsmachine's.
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
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use tokio::net::TcpListener;
use wsmachine::handshake::http::server_response;
use wsmachine::{DeflateConfig, ServerConfig};
use wsmachine_tokio::{Message, WebSocketStream};

type Body = Full<Bytes>;

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

async fn handle(mut request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != "/ws" {
        return Ok(text(
            StatusCode::OK,
            "hello from hyper; the WebSocket is at /ws\n",
        ));
    }
    // The engine checks the request and negotiates (subprotocol, permessage-deflate): a 101
    // to send and the `Upgraded` to start it with, or the 4xx answer to send instead.
    let config = ServerConfig::new()
        .subprotocol("chat")
        .deflate(DeflateConfig::new());
    let (response, upgraded) = match server_response(&request, &config) {
        Ok(answer) => answer,
        Err(refusal) => return Ok(refusal.map(|()| Full::new(Bytes::new()))),
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let io = match upgrade.await {
            Ok(upgraded) => TokioIo::new(upgraded),
            Err(e) => return eprintln!("upgrade failed: {e}"),
        };
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
    Ok(response.map(|()| Full::new(Bytes::new())))
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
