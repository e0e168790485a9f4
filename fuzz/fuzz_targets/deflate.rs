//! permessage-deflate (RFC 7692): negotiation, compression round trips, and hostile
//! compressed input (decompression bombs, broken DEFLATE data) against a server.
//!
//! Input: an `arbitrary` script: the client's and server's deflate parameters, messages
//! for the round trip, then hostile client frames (RSV1 set on chosen frames, payloads of
//! raw DEFLATE bytes, fragments, control frames between) for a server with a small
//! message limit.
//!
//! Invariants:
//! 1. **Negotiation**: both ends open with the same `Sec-WebSocket-Extensions` value; it
//!    names permessage-deflate exactly when both sides enabled it.
//! 2. **Round trip**: with any parameters, each side receives exactly the messages the
//!    other sent (compressed or not, fragments cut anywhere), in order, and data frames on
//!    the wire carry RSV1 only on a message's first frame, never on control frames.
//! 3. **Bombs are bounded**: a hostile message never comes out larger than
//!    `max_message_size`; a larger inflation fails the connection with 1009; the heap
//!    during any receive stays below `max_message_size` + a fixed allowance (inflation
//!    does not allocate past the limit).
//! 4. **Reference inflation**: when the hostile message's payload inflates cleanly with a
//!    fresh raw inflater (flate2, the RFC 7692 §7.2.2 tail appended), a delivered message
//!    equals that output, and text that is not UTF-8 fails with 1007.
//! 5. **Closing**: every failure is `Error(Protocol)` then an unclean `Closed` carrying the
//!    error's close code; nothing follows `Closed`.
//!
//! Engine bug found here, fixed in 9806472; avoidable again if it regresses (test
//! `deflate_empty_message_after_a_compressed_one_round_trips` in `tests/fuzz_regressions.rs`):
//! with `min_size(0)`, an empty message compressed after an earlier compressed message goes
//! out as an empty payload instead of RFC 7692 §7.2.3.6's single `0x00`; the receiver's
//! appended `00 00 ff ff` then opened a stored block that corrupted every later message. While
//! `KNOWN_EMPTY_MESSAGE_BUG` is true the round trip sends no empty message from a side that
//! compresses everything.
//!
//! Engine deviation found here, fixed in 9806472; tolerable again if it regresses (test
//! `deflate_message_within_the_limit_is_not_refused_for_its_compressed_size`): the engine
//! checks `max_message_size` against the compressed frame length too, so a message that
//! fits the limit but compresses to more bytes than the limit (incompressible data, or an
//! empty message's `0x00` with a limit of 0) is refused with 1009. While
//! `KNOWN_COMPRESSED_LIMIT` is true the reference check accepts 1009 for such payloads.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsfuzz::alloc as heap;
use wsfuzz::input::cuts;
use wsfuzz::rng::Deterministic;
use wsfuzz::wire::{self, LengthForm, Sender};
/// Avoid the known empty-message bug (see the header comment).
const KNOWN_EMPTY_MESSAGE_BUG: bool = false;
/// Tolerate the known compressed-length limit (see the header comment).
const KNOWN_COMPRESSED_LIMIT: bool = false;

use wsmachine::{
    ClientConfig, Connection, DeflateConfig, Event, Failure, MessageKind, Options, ServerConfig,
    State,
};

#[derive(Debug, Arbitrary)]
struct Params {
    off: bool,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_bits: Option<u8>,
    client_bits: Option<u8>,
    level: u8,
    min_size: u8,
}

impl Params {
    fn config(&self) -> Option<DeflateConfig> {
        if self.off {
            return None;
        }
        let mut c = DeflateConfig::new()
            .server_no_context_takeover(self.server_no_context_takeover)
            .client_no_context_takeover(self.client_no_context_takeover)
            .level(u32::from(self.level % 10))
            .min_size(usize::from(self.min_size));
        if let Some(b) = self.server_bits {
            c = c.server_max_window_bits(b);
        }
        if let Some(b) = self.client_bits {
            c = c.client_max_window_bits(b);
        }
        Some(c)
    }
}

#[derive(Debug, Arbitrary)]
struct Script {
    client: Params,
    server: Params,
    seed: u64,
    /// (sent by the client, text?, bytes, fragment cut points).
    messages: Vec<(bool, bool, Vec<u8>, Vec<u16>)>,
    delivery_cuts: Vec<u16>,
    /// The hostile part: the server's message limit and the frames a client sends.
    limit: u16,
    hostile: Vec<Hostile>,
}

#[derive(Debug, Arbitrary)]
enum Hostile {
    /// One whole compressed message (RSV1, FIN) of raw DEFLATE bytes.
    Compressed { text: bool, data: Vec<u8> },
    /// A compressed message in two frames (RSV1 on the first only, unless `rsv_on_second`).
    Fragmented {
        text: bool,
        first: Vec<u8>,
        second: Vec<u8>,
        rsv_on_second: bool,
    },
    /// A control frame with RSV1 set (never allowed).
    CompressedPing(Vec<u8>),
    /// An uncompressed message (allowed with deflate).
    Plain { text: bool, data: Vec<u8> },
}

fn drain(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Moves all pending bytes from `from` to `to`, cut at `points`; returns them.
fn deliver(from: &mut Connection, to: &mut Connection, points: &[u16]) -> Vec<u8> {
    let bytes = from.take_output().to_vec();
    let b = cuts(bytes.len(), points);
    for w in b.windows(2) {
        to.receive(&bytes[w[0]..w[1]]);
    }
    bytes
}

/// Raw inflate of `payload` + `00 00 ff ff` with a fresh inflater, up to `limit + 1`
/// bytes; `None` when the data is not a clean DEFLATE stream.
fn reference_inflate(payload: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut d = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(limit.saturating_add(1).min(64 << 10));
    loop {
        let before_in = d.total_in();
        let before_out = d.total_out();
        let status = d
            .decompress_vec(
                &input[d.total_in() as usize..],
                &mut out,
                flate2::FlushDecompress::Sync,
            )
            .ok()?;
        let progressed = d.total_in() != before_in || d.total_out() != before_out;
        if status == flate2::Status::StreamEnd {
            return (d.total_in() as usize == input.len()).then_some(out);
        }
        if out.len() > limit {
            return Some(out);
        }
        if d.total_in() as usize == input.len() && out.len() < out.capacity() {
            return Some(out);
        }
        if !progressed {
            return None;
        }
        if out.len() == out.capacity() {
            out.reserve(out.capacity().clamp(1, limit.saturating_add(1)));
        }
    }
}

fuzz_target!(|script: Script| {
    round_trip(&script);
    hostile(&script);
});

fn round_trip(script: &Script) {
    let mut cc = ClientConfig::new("example.com", "/")
        .random(Deterministic::new(*b"fuzzing deflate!", script.seed));
    if let Some(d) = script.client.config() {
        cc = cc.deflate(d);
    }
    let mut sc = ServerConfig::new();
    if let Some(d) = script.server.config() {
        sc = sc.deflate(d);
    }
    let mut client = Connection::client(cc).unwrap();
    let mut server = Connection::server(sc);
    deliver(&mut client, &mut server, &[]);
    let se = drain(&mut server);
    deliver(&mut server, &mut client, &[]);
    let ce = drain(&mut client);
    let (Some(Event::Open { extensions: sx, .. }), Some(Event::Open { extensions: cx, .. })) =
        (se.first(), ce.first())
    else {
        panic!("did not open: server {se:?}, client {ce:?}");
    };
    assert_eq!(sx, cx, "both ends use the same extensions");
    let both = !script.client.off && !script.server.off;
    assert_eq!(
        sx.starts_with("permessage-deflate"),
        both,
        "negotiated: {sx:?}"
    );

    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    for (by_client, text, data, points) in script.messages.iter().take(32) {
        let data = if *text {
            String::from_utf8_lossy(data).into_owned().into_bytes()
        } else {
            data.clone()
        };
        let compresses_all = |p: &Params| !p.off && p.min_size == 0;
        let sender_params = if *by_client {
            &script.client
        } else {
            &script.server
        };
        if KNOWN_EMPTY_MESSAGE_BUG && data.is_empty() && both && compresses_all(sender_params) {
            continue;
        }
        let (sender, log) = if *by_client {
            (&mut client, &mut to_server)
        } else {
            (&mut server, &mut to_client)
        };
        let kind = if *text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        let b = cuts(data.len(), &points[..points.len().min(4)]);
        if b.len() <= 2 {
            if *text {
                sender
                    .send_text(std::str::from_utf8(&data).unwrap())
                    .unwrap();
            } else {
                sender.send_binary(&data).unwrap();
            }
        } else {
            for (i, w) in b.windows(2).enumerate() {
                sender
                    .send_fragment(kind, &data[w[0]..w[1]], i + 2 == b.len())
                    .unwrap();
            }
        }
        log.push((*text, data));
    }
    let wire_c = deliver(&mut client, &mut server, &script.delivery_cuts);
    let wire_s = deliver(&mut server, &mut client, &script.delivery_cuts);
    check_rsv(&wire_c, Sender::Client, both);
    check_rsv(&wire_s, Sender::Server, both);
    let received = |events: Vec<Event>| -> Vec<(bool, Vec<u8>)> {
        events
            .into_iter()
            .map(|e| match e {
                Event::Text(t) => (true, t.as_bytes().to_vec()),
                Event::Binary(b) => (false, b.to_vec()),
                other => panic!("unexpected event {other:?}"),
            })
            .collect()
    };
    assert_eq!(received(drain(&mut server)), to_server, "client → server");
    assert_eq!(received(drain(&mut client)), to_client, "server → client");
}

/// RSV1 only on the first frame of a data message, never on control frames, and only
/// when deflate was negotiated.
fn check_rsv(bytes: &[u8], sender: Sender, negotiated: bool) {
    let mut at = 0;
    let mut first = true;
    while at < bytes.len() {
        let wire::Parsed::Frame(f, n) = wire::parse(&bytes[at..]) else {
            panic!("partial frame in the output");
        };
        assert_eq!(f.mask.is_some(), sender == Sender::Client);
        assert_eq!(f.rsv & 0b011, 0);
        if f.rsv != 0 {
            assert!(negotiated && f.opcode < 8 && first, "RSV1 on {f:?}");
        }
        if f.opcode < 8 {
            first = f.fin;
        }
        at += n;
    }
}

fn hostile(script: &Script) {
    // The top of the range means "no limit" (`usize::MAX`, the C ABI's 0) for both limits.
    let unlimited = script.limit >= 0xF000;
    let limit = if unlimited {
        usize::MAX
    } else {
        usize::from(script.limit % 4096)
    };
    let options = Options::new()
        .max_message_size(limit)
        .max_frame_size(if unlimited { usize::MAX } else { 1 << 16 });
    let mut server = Connection::server(
        ServerConfig::new()
            .options(options)
            .deflate(DeflateConfig::new().client_no_context_takeover(true)),
    );
    let mut request = wsfuzz::http::RequestSpec::default().write();
    let at = request.len() - 2;
    request.splice(
        at..at,
        b"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"
            .iter()
            .copied(),
    );
    server.receive(&request);
    match drain(&mut server).first() {
        Some(Event::Open { extensions, .. }) => {
            assert!(extensions.starts_with("permessage-deflate"))
        }
        other => panic!("did not open: {other:?}"),
    }
    server.take_output();
    let key = Some([1, 2, 3, 4]);
    let mut closed = false;
    for h in script.hostile.iter().take(16) {
        let (bytes, expect): (Vec<u8>, Option<(bool, &[u8])>) = match h {
            Hostile::Compressed { text, data } => (
                wire::encode(
                    true,
                    4,
                    if *text { 1 } else { 2 },
                    key,
                    data,
                    LengthForm::Minimal,
                ),
                Some((*text, data)),
            ),
            Hostile::Fragmented {
                text,
                first,
                second,
                rsv_on_second,
            } => {
                let mut v = wire::encode(
                    false,
                    4,
                    if *text { 1 } else { 2 },
                    key,
                    first,
                    LengthForm::Minimal,
                );
                v.extend(wire::encode(
                    true,
                    if *rsv_on_second { 4 } else { 0 },
                    0,
                    key,
                    second,
                    LengthForm::Minimal,
                ));
                (v, None)
            }
            Hostile::CompressedPing(p) => {
                let p = &p[..p.len().min(125)];
                (wire::encode(true, 4, 9, key, p, LengthForm::Minimal), None)
            }
            Hostile::Plain { text, data } => (
                wire::encode(
                    true,
                    0,
                    if *text { 1 } else { 2 },
                    key,
                    data,
                    LengthForm::Minimal,
                ),
                None,
            ),
        };
        let base = heap::reset_peak();
        server.receive(&bytes);
        let events = drain(&mut server);
        let peak = heap::peak().saturating_sub(base);
        // The received frame, the message at its limit (twice: buffer growth), inflate steps.
        let bound = limit
            .saturating_mul(2)
            .saturating_add(2 * bytes.len() + 256 * 1024);
        assert!(
            peak <= bound,
            "receive peaked at {peak} bytes (limit {limit}, frame {})",
            bytes.len()
        );
        if closed {
            assert!(events.is_empty(), "events after Closed: {events:?}");
            continue;
        }
        let mut failure = None;
        for (i, e) in events.iter().enumerate() {
            match e {
                Event::Text(t) => assert!(
                    t.len() <= limit,
                    "text of {} bytes past the limit {limit}",
                    t.len()
                ),
                Event::Binary(b) => assert!(
                    b.len() <= limit,
                    "binary of {} bytes past the limit {limit}",
                    b.len()
                ),
                Event::Error(Failure::Protocol(p)) => failure = Some(p.close_code()),
                Event::Error(other) => panic!("unexpected failure {other:?}"),
                Event::Closed { clean, code, .. } => {
                    assert_eq!(i, events.len() - 1);
                    assert!(!clean);
                    assert_eq!(Some(*code), failure, "Closed after {events:?}");
                    closed = true;
                }
                _ => {}
            }
        }
        if matches!(h, Hostile::CompressedPing(_)) {
            assert_eq!(
                failure.map(|c| c.0),
                Some(1002),
                "RSV1 on a ping: {events:?}"
            );
        }
        if let (Some((text, payload)), false) = (expect, closed && failure.is_none()) {
            if let Some(out) = reference_inflate(payload, limit) {
                let want = if out.len() > limit {
                    Err(1009)
                } else if text && std::str::from_utf8(&out).is_err() {
                    Err(1007)
                } else {
                    Ok(out)
                };
                let got = match events.first() {
                    Some(Event::Text(t)) => Ok(t.as_bytes().to_vec()),
                    Some(Event::Binary(b)) => Ok(b.to_vec()),
                    _ => Err(failure.map_or(0, |c| c.0)),
                };
                // Known engine deviation (see the header comment): the limit is also applied
                // to the compressed length.
                let compressed_over = KNOWN_COMPRESSED_LIMIT && payload.len() > limit;
                if !(compressed_over && got == Err(1009)) {
                    assert_eq!(got, want, "hostile message {payload:?}");
                }
            }
        }
        if server.state() == State::Closed {
            closed = true;
        }
    }
}
