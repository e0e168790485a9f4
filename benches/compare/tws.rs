//! tokio-websockets over the in-memory [`Replay`]/[`Sink`] streams, with its default `Config`
//! and `Limits` (`ServerBuilder::new().serve(..)`, `ClientBuilder::new().take_over(..)`, no
//! handshake), on the same current-thread runtime as fastwebsockets. It reads through
//! tokio-util's `FramedRead` into its own buffer: the one copy its users pay.

use crate::inputs::Kind;
use crate::job::{DecodeJob, EncodeJob, Tally};
use crate::streams::{Replay, Sink};
use futures_util::{SinkExt, StreamExt};
use tokio::runtime::Runtime;
use tokio_websockets::{ClientBuilder, Message, ServerBuilder, WebSocketStream};

/// One server-side pass over `job`: `next()` per message (the stream reassembles fragments).
pub(crate) fn decode(rt: &Runtime, job: &DecodeJob<'_>, full: bool) -> Tally {
    rt.block_on(async {
        let mut ws = ServerBuilder::new().serve(Replay::new(job.stream, job.chunk));
        let mut tally = Tally::default();
        while tally.messages < job.count as u64 {
            let msg = ws
                .next()
                .await
                .expect("tokio-websockets: the stream ended early")
                .expect("tokio-websockets read");
            if let Some(text) = msg.as_text() {
                tally.add(job.kind, Kind::Text, text.as_bytes(), job, full);
            } else if msg.is_binary() {
                tally.add(job.kind, Kind::Binary, msg.as_payload(), job, full);
            } else {
                panic!("tokio-websockets: unexpected message {msg:?}");
            }
        }
        tally
    })
}

/// One client-side pass: `send` (queue + flush) per message, from the owned payload handle
/// (a reference-count increment, as for tungstenite).
pub(crate) fn encode(rt: &Runtime, job: &EncodeJob<'_>, sink: Sink) -> Sink {
    rt.block_on(async {
        let mut ws = ClientBuilder::new().take_over(sink);
        for _ in 0..job.count {
            ws.send(Message::binary(job.payload_bytes.clone()))
                .await
                .expect("tokio-websockets send");
        }
        ws.into_inner()
    })
}

/// A fresh server-side connection, and one after a message went through.
pub(crate) fn idle<'a>(rt: &Runtime, message: &'a [u8]) -> WebSocketStream<Replay<'a>> {
    let mut ws = ServerBuilder::new().serve(Replay::new(message, 64 << 10));
    if !message.is_empty() {
        rt.block_on(async {
            ws.next()
                .await
                .expect("tokio-websockets: no message")
                .expect("tokio-websockets read");
        });
    }
    ws
}
