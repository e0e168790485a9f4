//! wsmachine driven as an application would drive it over a socket: read from the socket
//! straight into the engine's buffer (or into a buffer of its own, then `receive`), drain `poll_event_ref` (messages lent until the next
//! call) or `poll_event` (owned messages, as the peers hand out), write `pending_output` and
//! `consume_output` it.

use crate::inputs::Kind;
use crate::job::{DecodeJob, EncodeJob, Tally};
use crate::streams::{Replay, Sink};
use std::io::Read;
use wsmachine::{Connection, Event, EventRef, Options, Role, Upgraded};

/// A connection whose handshake happened elsewhere, with the default options, its `Open`
/// event drained.
pub(crate) fn open(role: Role) -> Connection {
    let mut conn =
        Connection::from_upgraded(Upgraded::new(role, Options::default())).expect("from_upgraded");
    assert!(matches!(conn.poll_event(), Some(Event::Open { .. })));
    assert!(conn.poll_event().is_none());
    conn
}

/// Where wsmachine's input comes from in a decode pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feed {
    /// Each read goes from the in-memory socket straight into the room `receive_buffer`
    /// lends (the copy every `read(2)` makes, and the only one), then `commit_received`.
    InPlace,
    /// Each read goes from the in-memory socket into the spare capacity of the room
    /// `receive_room` lends (not zeroed first, as tokio's `read_buf` fills it), then
    /// `commit_room`: the path of `wsmachine-tokio`.
    Room,
    /// Each read goes from the in-memory socket into the caller's buffer, then `receive`
    /// copies it into the engine's.
    Copy,
}

/// How the messages are drained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drain {
    /// `poll_event_ref`: messages lent until the next call.
    Ref,
    /// `poll_event`: owned messages, the same contract as tungstenite's and
    /// tokio-websockets' `Message`.
    Owned,
}

/// One server-side pass over `job`.
pub(crate) fn decode(job: &DecodeJob<'_>, full: bool, feed: Feed, drain: Drain) -> Tally {
    let mut conn = open(Role::Server);
    let mut tally = Tally::default();
    let mut socket = Replay::new(job.stream, job.chunk);
    match feed {
        Feed::InPlace => loop {
            let n = socket
                .read(conn.receive_buffer(job.chunk))
                .expect("in-memory read");
            if n == 0 {
                break;
            }
            conn.commit_received(n).expect("commit_received");
            drain_events(&mut conn, job, full, drain, &mut tally);
        },
        Feed::Room => loop {
            let mut room = conn.receive_room(job.chunk);
            let n = socket.read_buf(&mut room);
            conn.commit_room(room);
            if n == 0 {
                break;
            }
            drain_events(&mut conn, job, full, drain, &mut tally);
        },
        Feed::Copy => {
            let mut buf = vec![0u8; job.chunk];
            loop {
                let n = socket.read(&mut buf).expect("in-memory read");
                if n == 0 {
                    break;
                }
                conn.receive(&buf[..n]);
                drain_events(&mut conn, job, full, drain, &mut tally);
            }
        }
    }
    tally
}

#[inline]
fn drain_events(
    conn: &mut Connection,
    job: &DecodeJob<'_>,
    full: bool,
    drain: Drain,
    tally: &mut Tally,
) {
    match drain {
        Drain::Ref => {
            while let Some(event) = conn.poll_event_ref() {
                match event {
                    EventRef::Binary(b) => tally.add(job.kind, Kind::Binary, b, job, full),
                    EventRef::Text(t) => tally.add(job.kind, Kind::Text, t.as_bytes(), job, full),
                    other => panic!("wsmachine: unexpected event {other:?}"),
                }
            }
        }
        Drain::Owned => {
            while let Some(event) = conn.poll_event() {
                match event {
                    Event::Binary(b) => tally.add(job.kind, Kind::Binary, &b, job, full),
                    Event::Text(t) => tally.add(job.kind, Kind::Text, t.as_bytes(), job, full),
                    other => panic!("wsmachine: unexpected event {other:?}"),
                }
            }
        }
    }
    // Nothing is due to the peer for data frames; a real server would write it here.
    debug_assert!(conn.pending_output().is_empty());
}

/// One client-side pass: `count` binary messages, each written out as soon as it is queued.
pub(crate) fn encode(job: &EncodeJob<'_>, mut sink: Sink) -> Sink {
    let mut conn = open(Role::Client);
    for _ in 0..job.count {
        conn.send_binary(job.payload).expect("send_binary");
        let out = conn.pending_output();
        let n = out.len();
        sink.put(out);
        conn.consume_output(n);
    }
    sink
}

/// A connection holding what `receive` left behind after one message, for the idle row.
pub(crate) fn idle_after(message: &[u8]) -> Connection {
    let mut conn = open(Role::Server);
    conn.receive(message);
    while conn.poll_event().is_some() {}
    conn
}
