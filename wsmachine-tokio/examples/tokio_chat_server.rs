//! A chat server on tokio: every text message from any client goes to every connected client
//! (the sender included), in the order the server received them, with join and leave
//! notices.
//!
//! ```text
//! cargo run --release -p wsmachine-tokio --example tokio_chat_server -- 127.0.0.1:9002 [--backlog N]
//! ```
//!
//! A client that falls more than `--backlog` messages (default 1024) behind the others, or
//! whose socket accepts nothing for 10 s, is closed with 1013 ("try again later") instead of
//! letting the server's memory grow. Idle clients get keepalive pings every 20 s. It prints
//! `chat server listening on ws://ADDR/` on stderr once ready.

use futures_util::{SinkExt, StreamExt};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use wsmachine::{CloseCode, Options, ServerConfig};
use wsmachine_tokio::{Message, WebSocketStream};

const USAGE: &str = "usage: tokio_chat_server [ADDR] [--backlog N]";
/// A client whose socket accepts nothing for this long is too slow.
const SLOW_AFTER: Duration = Duration::from_secs(10);

async fn serve(tcp: TcpStream, id: u64, room: Arc<broadcast::Sender<Arc<str>>>) {
    let _ = tcp.set_nodelay(true);
    let options = Options::new().keepalive(Duration::from_secs(20), Duration::from_secs(20));
    let config = ServerConfig::new().options(options);
    let ws = match WebSocketStream::accept(tcp, config).await {
        Ok(ws) => ws,
        Err(e) => return eprintln!("client {id} not upgraded: {e}"),
    };
    let mut inbox = room.subscribe();
    let _ = room.send(format!("* client {id} joined").into());
    let (mut write, mut read) = ws.split();
    let mut slow = false;
    loop {
        tokio::select! {
            item = read.next() => match item {
                Some(Ok(Message::Text(text))) => {
                    let _ = room.send(format!("client {id}: {text}").into());
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            line = inbox.recv() => match line {
                // `send` hands the line to the engine and writes it out; a client whose
                // socket stays full for SLOW_AFTER is too slow.
                Ok(line) => {
                    let send = write.send(Message::text(&*line));
                    match tokio::time::timeout(SLOW_AFTER, send).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break,
                        Err(_) => {
                            slow = true;
                            break;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    slow = true;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    // The closing handshake, bounded by the engine's close timeout and the stream's linger.
    if let Ok(mut ws) = write.reunite(read) {
        let (code, reason) = match slow {
            true => (CloseCode::TRY_AGAIN_LATER, "too slow"),
            false => (CloseCode::NORMAL, ""),
        };
        let _ = ws.close(code, reason).await;
    }
    let why = if slow { "too slow" } else { "left" };
    let _ = room.send(format!("* client {id} {why}").into());
    eprintln!("client {id} {why}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9002".to_string();
    let mut backlog = 1024;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backlog" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => backlog = n,
                _ => {
                    eprintln!("--backlog needs a positive count\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            a if a.starts_with('-') => {
                eprintln!("unknown option {a}\n{USAGE}");
                return ExitCode::FAILURE;
            }
            a => addr = a.to_string(),
        }
    }
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a.to_string());
    eprintln!("chat server listening on ws://{local}/");
    let room = Arc::new(broadcast::channel(backlog).0);
    let mut next_id = 1;
    loop {
        if let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, next_id, room.clone()));
            next_id += 1;
        }
    }
}
