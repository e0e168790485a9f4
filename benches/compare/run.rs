//! Running one row: build its input once, check every library's result against it, count
//! allocations in one pass, then time all libraries run after run, interleaved.

use crate::counting_alloc::Counting;
use crate::inputs::{self, Kind};
use crate::job::{DecodeJob, EncodeJob, Tally};
use crate::measure::seconds_per_pass;
use crate::streams::Sink;
use crate::workloads::{Op, Workload};
use crate::wsm::{Drain, Feed};
use crate::{fws, tung, tws, wsm};
use std::hint::black_box;
use std::time::Duration;
use tokio::runtime::Runtime;

/// The contestants; `Memcpy` is the yardstick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lib {
    /// The headline: reads from the in-memory socket straight into the engine's buffer
    /// (`receive_buffer` + `commit_received`), `poll_event_ref` (messages lent until the next
    /// call).
    Wsmachine,
    /// Reads into the room `receive_room` lends (`commit_room`), `poll_event` (owned
    /// messages, the peers' contract; decode rows only).
    WsmachineOwned,
    /// Reads into a caller buffer, then `receive(&[u8])` (the convenient form, which copies
    /// once more), `poll_event_ref` (decode rows only).
    WsmachineCopy,
    Tungstenite,
    Fastwebsockets,
    TokioWebsockets,
    Memcpy,
}

/// How many [`Lib`]s there are.
pub(crate) const LIBS: usize = 7;

impl Lib {
    pub(crate) const ALL: [Lib; LIBS] = [
        Lib::Wsmachine,
        Lib::WsmachineOwned,
        Lib::WsmachineCopy,
        Lib::Tungstenite,
        Lib::Fastwebsockets,
        Lib::TokioWebsockets,
        Lib::Memcpy,
    ];

    /// The peers wsmachine is compared with; ratios are against the fastest of them.
    pub(crate) const PEERS: [Lib; 3] =
        [Lib::Tungstenite, Lib::Fastwebsockets, Lib::TokioWebsockets];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Lib::Wsmachine => "wsmachine",
            Lib::WsmachineOwned => "wsmachine-owned",
            Lib::WsmachineCopy => "wsmachine-copy",
            Lib::Tungstenite => "tungstenite",
            Lib::Fastwebsockets => "fastwebsockets",
            Lib::TokioWebsockets => "tokio-websockets",
            Lib::Memcpy => "memcpy",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// A variant of wsmachine that differs from [`Lib::Wsmachine`] only on the receiving side.
    pub(crate) fn is_receive_variant(self) -> bool {
        matches!(self, Lib::WsmachineOwned | Lib::WsmachineCopy)
    }
}

/// How a run is set up (from the command line and environment).
pub(crate) struct Settings {
    pub runs: usize,
    /// Interleaved samples per library in one run (the best one counts).
    pub rounds: usize,
    pub min_sample: Duration,
    pub chunk: usize,
    pub libs: Vec<Lib>,
    /// Check results byte by byte and count allocations before timing (off only when
    /// profiling, so that the profile shows the timed passes alone).
    pub checks: bool,
}

/// What a row measured.
pub(crate) struct RowResult {
    /// Seconds per pass, per library (indexed by [`Lib::index`]), one entry per run; empty
    /// for a library not run.
    pub secs: [Vec<f64>; LIBS],
    /// Allocator calls per message, per library (`None` for memcpy or a library not run).
    pub allocs_per_msg: [Option<f64>; LIBS],
    /// Bytes of the input stream (decode) or of the expected output (encode).
    pub stream_bytes: usize,
}

/// Measures `w` with every library in `s.libs`.
pub(crate) fn run(w: &Workload, s: &Settings, rt: &Runtime) -> RowResult {
    match w.op {
        Op::Decode {
            kind,
            len,
            count,
            fragment,
        } => {
            let plaintext = inputs::plaintext(kind, len);
            let stream = inputs::client_stream(kind, &plaintext, count, fragment);
            let job = DecodeJob {
                kind,
                stream: &stream,
                plaintext: &plaintext,
                count,
                chunk: s.chunk,
                fragmented: fragment.is_some_and(|f| f < len),
            };
            run_decode(&job, s, rt)
        }
        Op::Encode { len, count } => {
            let payload = inputs::binary(len, 0xe4c0_de00 + len as u64);
            let job = EncodeJob {
                payload: &payload,
                payload_bytes: bytes::Bytes::copy_from_slice(&payload),
                count,
            };
            run_encode(&job, s, rt)
        }
    }
}

fn decode(lib: Lib, job: &DecodeJob<'_>, full: bool, rt: &Runtime, copy_to: &mut [u8]) -> Tally {
    match lib {
        Lib::Wsmachine => wsm::decode(job, full, Feed::InPlace, Drain::Ref),
        Lib::WsmachineOwned => wsm::decode(job, full, Feed::Room, Drain::Owned),
        Lib::WsmachineCopy => wsm::decode(job, full, Feed::Copy, Drain::Ref),
        Lib::Tungstenite => tung::decode(job, full),
        Lib::Fastwebsockets => fws::decode(rt, job, full),
        Lib::TokioWebsockets => tws::decode(rt, job, full),
        Lib::Memcpy => {
            copy_to.copy_from_slice(job.stream);
            black_box(&copy_to);
            Tally::expected(job)
        }
    }
}

fn run_decode(job: &DecodeJob<'_>, s: &Settings, rt: &Runtime) -> RowResult {
    let expected = Tally::expected(job);
    let mut copy_to = vec![0u8; job.stream.len()];
    let mut result = RowResult {
        secs: Default::default(),
        allocs_per_msg: [None; LIBS],
        stream_bytes: job.stream.len(),
    };
    for &lib in s.libs.iter().filter(|_| s.checks) {
        // Every byte of every message compared once, so that no row times a no-op.
        assert_eq!(
            decode(lib, job, true, rt, &mut copy_to),
            expected,
            "{} delivered something else",
            lib.name()
        );
        if lib != Lib::Memcpy {
            let counting = Counting::start();
            let tally = decode(lib, job, false, rt, &mut copy_to);
            let counted = counting.stop();
            assert_eq!(tally, expected);
            result.allocs_per_msg[lib.index()] = Some(counted.allocs as f64 / job.count as f64);
        }
    }
    result.secs = timed_runs(s, |lib| {
        let tally = decode(lib, job, false, rt, &mut copy_to);
        assert_eq!(tally, expected);
    });
    result
}

fn encode(
    lib: Lib,
    job: &EncodeJob<'_>,
    sink: Sink,
    rt: &Runtime,
    copy: (&[u8], &mut [u8]),
) -> Sink {
    match lib {
        // Sending has one API; the variants only differ on the receiving side.
        Lib::Wsmachine | Lib::WsmachineOwned | Lib::WsmachineCopy => wsm::encode(job, sink),
        Lib::Tungstenite => tung::encode(job, sink),
        Lib::Fastwebsockets => fws::encode(rt, job, sink),
        Lib::TokioWebsockets => tws::encode(rt, job, sink),
        Lib::Memcpy => {
            let (from, to) = copy;
            to.copy_from_slice(from);
            black_box(&to);
            let mut sink = sink;
            sink.written = to.len() as u64;
            sink
        }
    }
}

/// Checks that `bytes` holds exactly `count` masked, final binary frames of `payload`.
fn check_encoded(lib: Lib, bytes: &[u8], payload: &[u8], count: usize) {
    let frames = inputs::parse_frames(bytes);
    assert_eq!(frames.len(), count, "{}: frame count", lib.name());
    for f in &frames {
        assert!(
            f.fin && f.opcode == 0x2 && f.masked,
            "{}: header",
            lib.name()
        );
        assert!(f.payload == payload, "{}: payload", lib.name());
    }
}

fn run_encode(job: &EncodeJob<'_>, s: &Settings, rt: &Runtime) -> RowResult {
    let per_msg = inputs::header_len(job.payload.len(), true) + job.payload.len();
    let expected = (per_msg * job.count) as u64;
    let copy_from = vec![0x5au8; per_msg * job.count];
    let mut copy_to = vec![0u8; copy_from.len()];
    let mut result = RowResult {
        secs: Default::default(),
        allocs_per_msg: [None; LIBS],
        stream_bytes: copy_from.len(),
    };
    let small = EncodeJob {
        payload: job.payload,
        payload_bytes: job.payload_bytes.clone(),
        count: job.count.min(64),
    };
    let libs: Vec<Lib> = s
        .libs
        .iter()
        .copied()
        .filter(|l| !l.is_receive_variant())
        .collect();
    let s = &Settings { libs, ..*s };
    for &lib in s.libs.iter().filter(|_| s.checks) {
        if lib == Lib::Memcpy {
            continue;
        }
        let sink = encode(lib, &small, Sink::keeping(), rt, (&[], &mut []));
        check_encoded(
            lib,
            sink.kept.as_deref().unwrap_or(&[]),
            job.payload,
            small.count,
        );
        let counting = Counting::start();
        let sink = encode(lib, job, Sink::default(), rt, (&[], &mut []));
        let counted = counting.stop();
        assert_eq!(sink.written, expected, "{}: bytes written", lib.name());
        result.allocs_per_msg[lib.index()] = Some(counted.allocs as f64 / job.count as f64);
    }
    result.secs = timed_runs(s, |lib| {
        let sink = encode(lib, job, Sink::default(), rt, (&copy_from, &mut copy_to));
        assert_eq!(sink.written, expected);
    });
    result
}

/// Seconds per pass for each library, one value per run. A run is `s.rounds` rounds in which
/// every library takes one sample, and keeps each library's best sample: the machine is shared,
/// so a slow sample says more about the neighbours than about the library, and interleaving
/// puts all libraries under the same conditions.
fn timed_runs(s: &Settings, mut pass: impl FnMut(Lib)) -> [Vec<f64>; LIBS] {
    let mut secs: [Vec<f64>; LIBS] = Default::default();
    for run in 0..s.runs {
        let mut best = [f64::INFINITY; LIBS];
        for round in 0..s.rounds {
            for &lib in rotated(&s.libs, run + round) {
                let t = seconds_per_pass(s.min_sample, || pass(lib));
                best[lib.index()] = best[lib.index()].min(t);
            }
        }
        for &lib in &s.libs {
            secs[lib.index()].push(best[lib.index()]);
        }
    }
    secs
}

/// The libraries in a different order each round, so that slow drift of the machine does not
/// always favour the same one.
fn rotated(libs: &[Lib], run: usize) -> impl Iterator<Item = &Lib> {
    let k = run % libs.len().max(1);
    libs[k..].iter().chain(&libs[..k])
}

/// Heap held by an idle connection, per library: wsmachine, then the [`Lib::PEERS`].
pub(crate) struct Idle {
    /// Right after the connection is set up (handshake done elsewhere).
    pub fresh: [i64; 4],
    /// After one 1 KiB message went through and was handed out.
    pub after_message: [i64; 4],
    /// `size_of` of the library's connection state, without the transport.
    pub size_of: [usize; 4],
    /// `size_of` of what one read hands out: wsmachine's `Event` (and `EventRef`),
    /// tungstenite's `Message`, fastwebsockets' `Frame`, tokio-websockets' `Message`.
    pub event_size: [usize; 4],
    pub event_ref_size: usize,
}

pub(crate) fn idle(rt: &Runtime) -> Idle {
    let plaintext = inputs::plaintext(Kind::Binary, 1024);
    let message = inputs::client_stream(Kind::Binary, &plaintext, 1, None);
    let m = message.as_slice();
    let replay = std::mem::size_of::<crate::streams::Replay<'static>>();
    Idle {
        fresh: [
            held(|| wsm::open(wsmachine::Role::Server)),
            held(|| tung::idle(&[])),
            held(|| fws::idle(rt, &[])),
            held(|| tws::idle(rt, &[])),
        ],
        after_message: [
            held(|| wsm::idle_after(m)),
            held(|| tung::idle(m)),
            held(|| fws::idle(rt, m)),
            held(|| tws::idle(rt, m)),
        ],
        size_of: [
            std::mem::size_of::<wsmachine::Connection>(),
            std::mem::size_of::<tungstenite::WebSocket<()>>(),
            std::mem::size_of::<fastwebsockets::WebSocket<()>>(),
            // Its stream type needs a transport: the in-memory one, minus its own size.
            std::mem::size_of::<tokio_websockets::WebSocketStream<crate::streams::Replay<'static>>>(
            ) - replay,
        ],
        event_size: [
            std::mem::size_of::<Option<wsmachine::Event>>(),
            std::mem::size_of::<tungstenite::Result<tungstenite::Message>>(),
            std::mem::size_of::<fastwebsockets::Frame<'static>>(),
            std::mem::size_of::<Option<Result<tokio_websockets::Message, tokio_websockets::Error>>>(
            ),
        ],
        event_ref_size: std::mem::size_of::<Option<wsmachine::EventRef<'static>>>(),
    }
}

/// Heap bytes still held by what `make` returns (the value itself stays on the stack).
fn held<T>(make: impl FnOnce() -> T) -> i64 {
    let counting = Counting::start();
    let conn = make();
    let counted = counting.stop();
    drop(conn);
    counted.live_bytes
}
