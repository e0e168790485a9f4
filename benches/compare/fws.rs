//! fastwebsockets over the in-memory [`Replay`]/[`Sink`] streams, with its default
//! configuration (auto-close, auto-pong, 64 MiB limit), run on a current-thread tokio runtime.
//! The streams are always ready, so the runtime never parks: what is measured is the
//! library's frame path and its futures.

use crate::inputs::Kind;
use crate::job::{DecodeJob, EncodeJob, Tally};
use crate::streams::{Replay, Sink};
use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, Role, WebSocket};
use tokio::runtime::Runtime;

/// The runtime every pass runs on (one `block_on` per pass).
pub(crate) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

fn tally_frame(tally: &mut Tally, job: &DecodeJob<'_>, full: bool, frame: &Frame<'_>) {
    assert!(
        frame.fin,
        "fastwebsockets: a fragment came out of a whole-message read"
    );
    let got = match frame.opcode {
        OpCode::Binary => Kind::Binary,
        OpCode::Text => Kind::Text,
        other => panic!("fastwebsockets: unexpected frame {other:?}"),
    };
    tally.add(job.kind, got, &frame.payload, job, full);
}

/// One server-side pass over `job`: `read_frame()` per message, through `FragmentCollector`
/// when messages are fragmented (its raw API hands out frames, not messages).
pub(crate) fn decode(rt: &Runtime, job: &DecodeJob<'_>, full: bool) -> Tally {
    rt.block_on(async {
        let ws = WebSocket::after_handshake(Replay::new(job.stream, job.chunk), Role::Server);
        let mut tally = Tally::default();
        if job.fragmented {
            let mut ws = FragmentCollector::new(ws);
            while tally.messages < job.count as u64 {
                let frame = ws.read_frame().await.expect("fastwebsockets read");
                tally_frame(&mut tally, job, full, &frame);
            }
        } else {
            let mut ws = ws;
            while tally.messages < job.count as u64 {
                let frame = ws.read_frame().await.expect("fastwebsockets read");
                tally_frame(&mut tally, job, full, &frame);
            }
        }
        tally
    })
}

/// One client-side pass: `write_frame` per message, from a borrowed payload (the library
/// copies it to mask it, as it must not mask the caller's buffer in place).
pub(crate) fn encode(rt: &Runtime, job: &EncodeJob<'_>, sink: Sink) -> Sink {
    rt.block_on(async {
        let mut ws = WebSocket::after_handshake(sink, Role::Client);
        for _ in 0..job.count {
            ws.write_frame(Frame::binary(Payload::Borrowed(job.payload)))
                .await
                .expect("fastwebsockets write");
        }
        ws.into_inner()
    })
}

/// A fresh server-side connection, and one after a message went through.
pub(crate) fn idle<'a>(rt: &Runtime, message: &'a [u8]) -> WebSocket<Replay<'a>> {
    let mut ws = WebSocket::after_handshake(Replay::new(message, 64 << 10), Role::Server);
    if !message.is_empty() {
        rt.block_on(async {
            ws.read_frame().await.expect("fastwebsockets read");
        });
    }
    ws
}
