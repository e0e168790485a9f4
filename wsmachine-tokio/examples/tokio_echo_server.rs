//! The echo server of `examples/echo_server.rs`, on tokio: every text and binary message
//! comes back as the same kind, one task per client.
//!
//! ```text
//! cargo run --release -p wsmachine-tokio --example tokio_echo_server -- 127.0.0.1:9001 [--ping-interval-ms 20000] [--no-deflate]
//! ```
//!
//! Like the blocking one, it serves its page at `http://ADDR/` (the browser flow of
//! `examples/page.html`), chooses the subprotocol `chat.v2` or else `chat.v1` when offered,
//! closes with CODE and REASON when sent the text `close-me CODE REASON` (a test hook),
//! pings idle clients, accepts permessage-deflate and allows 64 MiB messages (the Autobahn
//! TestSuite's fuzzingclient can be pointed at it). It prints
//! `echo server listening on ws://ADDR/` on stderr once ready, then one line per connection.

use futures_util::{SinkExt, StreamExt};
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use wsmachine::{CloseCode, DeflateConfig, InflateBudget, Options, Request, ServerConfig};
use wsmachine_tokio::{Answer, Message, WebSocketStream};

const USAGE: &str = "usage: tokio_echo_server [ADDR] [--ping-interval-ms MS] [--no-deflate]";
const PAGE: &str = include_str!("../../examples/page.html");
const MAX_MESSAGE: usize = 64 << 20;
/// Inflated bytes all connections together may hold at once: two messages of the limit
/// (concurrent decompression bombs then cost about that, not once per bomb; a connection
/// that finds the budget spent closes with 1013).
const INFLATE_BUDGET: usize = 2 * MAX_MESSAGE + (1 << 20);
const SUBPROTOCOLS: [&str; 2] = ["chat.v2", "chat.v1"];

fn answer(request: &Request) -> Answer {
    if request.websocket {
        // One of ours if offered, else the first offered: an echo server has no protocol of
        // its own, and a browser fails a connection whose offered protocols got no answer.
        let chosen = SUBPROTOCOLS
            .into_iter()
            .find(|ours| request.subprotocols.iter().any(|offered| offered == ours))
            .map(String::from)
            .or_else(|| request.subprotocols.first().cloned());
        return Answer::Accept(chosen);
    }
    let (status, content_type, body) = match request.path.split('?').next() {
        Some("/") => (200, "text/html; charset=utf-8", PAGE.as_bytes()),
        _ => (404, "text/plain; charset=utf-8", &b"not found\n"[..]),
    };
    Answer::Respond {
        status,
        content_type: content_type.into(),
        body: body.to_vec(),
    }
}

/// `close-me CODE REASON`: the code and reason to close with.
fn close_request(text: &str) -> Option<(CloseCode, &str)> {
    let rest = text.strip_prefix("close-me ")?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let code = CloseCode(code.parse().ok()?);
    (code.is_sendable() && reason.len() <= 123).then_some((code, reason))
}

async fn serve(tcp: TcpStream, config: ServerConfig) {
    let peer = tcp.peer_addr().map_or("?".into(), |a| a.to_string());
    let _ = tcp.set_nodelay(true);
    let mut ws = match WebSocketStream::accept_with(tcp, config, answer).await {
        Ok(ws) => ws,
        Err(wsmachine_tokio::Error::Refused(status)) => {
            return eprintln!("{peer} plain HTTP request answered ({status})");
        }
        Err(e) => return eprintln!("{peer} not upgraded: {e}"),
    };
    let (mut echoed, mut pongs, mut failure) = (0u64, 0u64, None);
    while let Some(item) = ws.next().await {
        let echo = match item {
            Ok(Message::Text(text)) => match close_request(&text) {
                Some((code, reason)) => {
                    if let Err(e) = ws.connection_mut().close(code, reason) {
                        failure = Some(e.into());
                    }
                    continue;
                }
                None => Message::Text(text),
            },
            Ok(message @ Message::Binary(_)) => message,
            Ok(Message::Pong(_)) => {
                pongs += 1;
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                failure = Some(e);
                continue;
            }
        };
        match ws.send(echo).await {
            Ok(()) => echoed += 1,
            Err(e) => failure = Some(e),
        }
    }
    let (clean, code, reason) = ws
        .close_status()
        .map_or((false, 1006, String::new()), |(c, f)| {
            (c, f.code.0, f.reason.clone())
        });
    eprintln!(
        "{peer} closed: clean={clean} code={code} reason={reason:?} echoed={echoed} \
         subprotocol={:?} extensions={:?} pongs={pongs}{}",
        ws.connection().subprotocol().unwrap_or(""),
        ws.connection().extensions(),
        failure.map(|e| format!(" error: {e}")).unwrap_or_default()
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9001".to_string();
    let mut ping_interval = Duration::from_secs(20);
    let mut deflate = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ping-interval-ms" => match args.next().and_then(|ms| ms.parse().ok()) {
                Some(ms) if ms > 0 => ping_interval = Duration::from_millis(ms),
                _ => {
                    eprintln!("--ping-interval-ms needs a positive number\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            "--no-deflate" => deflate = false,
            a if a.starts_with('-') => {
                eprintln!("unknown option {a}\n{USAGE}");
                return ExitCode::FAILURE;
            }
            a => addr = a.to_string(),
        }
    }
    let listener = match TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a.to_string());
    eprintln!("echo server listening on ws://{local}/ (page: http://{local}/)");
    let options = Options::new()
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .keepalive(ping_interval, ping_interval);
    let mut config = ServerConfig::new().options(options);
    if deflate {
        let budget = InflateBudget::new(INFLATE_BUDGET);
        config = config.deflate(DeflateConfig::new().inflate_budget(budget));
    }
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                tokio::spawn(serve(tcp, config.clone()));
            }
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}
