//! wsmachine driven as an application would drive it over a socket: feed each read with
//! `receive`, drain `poll_event` (owned messages, as the peers hand out) or `poll_event_ref`
//! (messages lent until the next call), write `pending_output` and `consume_output` it.

use crate::inputs::Kind;
use crate::job::{DecodeJob, EncodeJob, Tally};
use crate::streams::Sink;
use wsmachine::{Connection, Event, EventRef, Options, Role, Upgraded};

/// A connection whose handshake happened elsewhere, with the default options, its `Open`
/// event drained.
pub fn open(role: Role) -> Connection {
    let mut conn =
        Connection::from_upgraded(Upgraded::new(role, Options::default())).expect("from_upgraded");
    assert!(matches!(conn.poll_event(), Some(Event::Open { .. })));
    assert!(conn.poll_event().is_none());
    conn
}

/// One server-side pass over `job`.
pub fn decode(job: &DecodeJob<'_>, full: bool) -> Tally {
    let mut conn = open(Role::Server);
    let mut tally = Tally::default();
    for read in job.stream.chunks(job.chunk) {
        conn.receive(read);
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Binary(b) => tally.add(job.kind, Kind::Binary, &b, job, full),
                Event::Text(t) => tally.add(job.kind, Kind::Text, t.as_bytes(), job, full),
                other => panic!("wsmachine: unexpected event {other:?}"),
            }
        }
        // Nothing is due to the peer for data frames; a real server would write it here.
        debug_assert!(conn.pending_output().is_empty());
    }
    tally
}

/// One server-side pass over `job` with borrowed events.
pub fn decode_ref(job: &DecodeJob<'_>, full: bool) -> Tally {
    let mut conn = open(Role::Server);
    let mut tally = Tally::default();
    for read in job.stream.chunks(job.chunk) {
        conn.receive(read);
        while let Some(event) = conn.poll_event_ref() {
            match event {
                EventRef::Binary(b) => tally.add(job.kind, Kind::Binary, b, job, full),
                EventRef::Text(t) => tally.add(job.kind, Kind::Text, t.as_bytes(), job, full),
                other => panic!("wsmachine: unexpected event {other:?}"),
            }
        }
        debug_assert!(conn.pending_output().is_empty());
    }
    tally
}

/// One client-side pass: `count` binary messages, each written out as soon as it is queued.
pub fn encode(job: &EncodeJob<'_>, mut sink: Sink) -> Sink {
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
pub fn idle_after(message: &[u8]) -> Connection {
    let mut conn = open(Role::Server);
    conn.receive(message);
    while conn.poll_event().is_some() {}
    conn
}
