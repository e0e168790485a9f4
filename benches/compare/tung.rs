//! tungstenite over the in-memory [`Replay`]/[`Sink`] streams, with its default
//! `WebSocketConfig` (`from_raw_socket(.., None)`).

use crate::inputs::Kind;
use crate::job::{DecodeJob, EncodeJob, Tally};
use crate::streams::{Replay, Sink};
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

/// One server-side pass over `job`: `read()` until every message came out.
pub(crate) fn decode(job: &DecodeJob<'_>, full: bool) -> Tally {
    let mut ws = WebSocket::from_raw_socket(Replay::new(job.stream, job.chunk), Role::Server, None);
    let mut tally = Tally::default();
    while tally.messages < job.count as u64 {
        match ws.read().expect("tungstenite read") {
            Message::Binary(b) => tally.add(job.kind, Kind::Binary, &b, job, full),
            Message::Text(t) => tally.add(job.kind, Kind::Text, t.as_bytes(), job, full),
            other => panic!("tungstenite: unexpected message {other:?}"),
        }
    }
    tally
}

/// One client-side pass: `send` (write + flush) per message.
pub(crate) fn encode(job: &EncodeJob<'_>, sink: Sink) -> Sink {
    let mut ws = WebSocket::from_raw_socket(sink, Role::Client, None);
    for _ in 0..job.count {
        ws.send(Message::Binary(job.payload_bytes.clone()))
            .expect("tungstenite send");
    }
    ws.into_inner()
}

/// A fresh server-side connection, and one after a message went through.
pub(crate) fn idle(message: &[u8]) -> WebSocket<Replay<'_>> {
    let mut ws = WebSocket::from_raw_socket(Replay::new(message, 64 << 10), Role::Server, None);
    if !message.is_empty() {
        ws.read().expect("tungstenite read");
    }
    ws
}
