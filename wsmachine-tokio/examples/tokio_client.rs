//! A tokio client: sends "Привет, сервер!", prints the echo and closes with 1000.
//!
//! ```text
//! cargo run -p wsmachine-tokio --example tokio_client -- ws://127.0.0.1:9001/
//! ```
//!
//! Exits 0 only if the echo came back and the closing handshake completed.

use futures_util::{SinkExt, StreamExt};
use std::process::ExitCode;
use wsmachine::{ClientConfig, CloseCode};
use wsmachine_tokio::{Message, WebSocketStream};

/// `ws://HOST:PORT/PATH` as (host:port, path).
fn parse(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("ws://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    (!authority.is_empty()).then(|| (authority.to_string(), path.to_string()))
}

async fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (authority, path) = parse(url).ok_or("the URL must be ws://HOST:PORT/PATH")?;
    let tcp = tokio::net::TcpStream::connect(&authority).await?;
    tcp.set_nodelay(true)?;
    let mut ws = WebSocketStream::client(ClientConfig::new(authority, path), tcp).await?;
    let greeting = "Привет, сервер!";
    ws.send(Message::text(greeting)).await?;
    match ws.next().await {
        Some(Ok(Message::Text(echo))) if echo == greeting => println!("echo: {echo}"),
        other => return Err(format!("unexpected answer: {other:?}").into()),
    }
    ws.close(CloseCode::NORMAL, "bye").await?;
    println!("closed cleanly");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".to_string());
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
