//! The whole-connection harness shared by `connection_server` and `connection_client`.
//!
//! One fuzz input sets up a connection (limits, timers, handshake details) and runs a
//! sequence of operations on it: receive the next wire bytes split at chosen points,
//! receive a structured peer frame, end of input, send text/binary/fragments/ping/pong,
//! close, accept/reject a deferred request, advance the clock, hold back or consume output.
//!
//! Two connections run side by side with the same configuration (and, for clients, the
//! same deterministic random source): `a` gets every received chunk split at the
//! fuzzer's points, `b` gets it whole. After every operation the harness checks:
//!
//! 1. **Split invariance**: `a` and `b` report the same events, state, output, buffered
//!    amount and next timeout.
//! 2. **Reference receiver**: the data, ping, pong, close and failure events `b` reports
//!    for the bytes it received after the handshake are exactly those of the naive
//!    RFC 6455 receiver in [`crate::model`] (same messages, same close code on failure).
//! 3. **Monotone state**: `Connecting → Open → Closing → Closed`, never backwards; `Open`
//!    is reported once, before any message; `Error` is followed at once by `Closed`;
//!    `Closed` is reported exactly once and nothing follows it: no event, no output,
//!    no timeout, every command refused, input ignored.
//! 4. **Failures close with the right code**: after `Error(Protocol(e))` the `Closed`
//!    event carries `e.close_code()`, and the output of that operation ends with a close
//!    frame with that code unless one had already been sent.
//! 5. **Commands**: each send/close succeeds exactly when the connection is `Open` and the
//!    arguments are valid (control payloads ≤ 125 bytes, sendable close code, fragments of
//!    one kind in order, no whole message inside a fragmented one).
//! 6. **Valid output**: everything written after the handshake head parses with the
//!    reference codec as frames a correct endpoint of our role may send ([`crate::wire`]),
//!    and its data frames and user pings/pongs are exactly the successful sends in order.
//! 7. **Timers**: `handle_timeout(now)` before the deadline `poll_timeout` gave does
//!    nothing (no event, no output).
//!
//! The `_deflate` targets ([`run_deflate`]) negotiate permessage-deflate (RFC 7692) with
//! parameters from the input's first byte, and may send compressed peer frames, so the
//! inflate and compress paths run under the same checks, except the reference receiver
//! (which knows no extension): split invariance, states, failure codes, commands, output
//! (compressed messages are inflated by an independent decompressor and must equal what was
//! sent), timers and memory (plus the codecs' state).
//!
//! 8. **Memory**: after every operation, the heap each connection retains (live heap less
//!    the harness's own buffers, halved) stays below
//!    `2·max_handshake + 2·(max_frame + 14) + 2·max_message + 2·buffered + 2·largest
//!    receive + 16 KiB`, and the peak during the run stays within a small multiple of it.

use crate::alloc as heap;
use crate::http::{self, RequestSpec, ResponseSpec};
use crate::input::{cuts, Input};
use crate::model::{Expected, Limits, Receiver};
use crate::rng::Deterministic;
use crate::wire::{self, LengthForm, Sender};
use arbitrary::{Arbitrary, Unstructured};
use std::time::Duration;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Event, Failure, Instant, MessageKind, Options,
    ServerConfig, State,
};

/// Our role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Server,
    Client,
}

/// A size limit, `Roomy` by default so that seeds with an empty script get through.
#[derive(Debug, Clone, Copy, Arbitrary, Default)]
pub enum Limit {
    #[default]
    Roomy,
    Tiny(u8),
    Small(u16),
    Control,
    /// "No limit" (`usize::MAX`, the C ABI's 0): nothing may overflow or reserve it.
    Unlimited,
}

impl Limit {
    fn bytes(self, roomy: usize) -> usize {
        match self {
            Self::Roomy => roomy,
            Self::Tiny(n) => usize::from(n),
            Self::Small(n) => usize::from(n),
            Self::Control => 125,
            Self::Unlimited => usize::MAX,
        }
    }
}

/// The connection's configuration, read from the front of the script.
#[derive(Debug, Clone, Arbitrary, Default)]
pub struct Setup {
    /// The wire starts with the handshake head itself instead of a generated one.
    pub raw_handshake: bool,
    pub max_frame: Limit,
    pub max_message: Limit,
    pub max_handshake: Limit,
    pub few_headers: bool,
    /// Keepalive interval and timeout, in ms.
    pub keepalive: Option<(u16, u16)>,
    /// Close timeout in ms; default 5 s.
    pub close_timeout: Option<u16>,
    /// Handshake timeout in ms; default 10 s.
    pub handshake_timeout: Option<u16>,
    pub no_auto_pong: bool,
    pub stream_fragments: bool,
    /// Server: supported subprotocols (indices into `http::PROTOCOLS`); client: offered.
    pub protocols: Vec<u8>,
    pub defer_accept: bool,
    pub request: RequestSpec,
    pub response: ResponseSpec,
    /// The client's masking key stream.
    pub seed: u64,
}

impl Setup {
    fn options(&self) -> Options {
        let mut o = Options::new()
            .max_frame_size(self.max_frame.bytes(1 << 16))
            .max_message_size(self.max_message.bytes(1 << 16))
            .max_handshake_size(self.max_handshake.bytes(4096))
            .max_headers(if self.few_headers { 4 } else { 64 })
            .close_timeout(Duration::from_millis(
                self.close_timeout.map_or(5000, u64::from),
            ))
            .handshake_timeout(Some(Duration::from_millis(
                self.handshake_timeout.map_or(10_000, u64::from),
            )))
            .auto_pong(!self.no_auto_pong)
            .stream_fragments(self.stream_fragments);
        if let Some((i, t)) = self.keepalive {
            o = o.keepalive(
                Duration::from_millis(u64::from(i)),
                Duration::from_millis(u64::from(t)),
            );
        }
        o
    }

    fn protocols(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        for &i in self.protocols.iter().take(4) {
            let p = http::PROTOCOLS[usize::from(i) % http::PROTOCOLS.len()];
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v
    }
}

/// A frame the peer sends, encoded correctly for our role unless `flags` says otherwise.
#[derive(Debug, Clone, Arbitrary)]
pub struct FrameSpec {
    pub kind: FrameKind,
    /// Not the last fragment.
    pub more: bool,
    /// 1: wrong masking; 2..=8: RSV bits `flags - 1`; 9: 16-bit length form; 10: 64-bit
    /// length form; anything else: a correct frame.
    pub flags: u8,
    pub key: [u8; 4],
}

#[derive(Debug, Clone, Arbitrary)]
pub enum FrameKind {
    Text(String),
    Binary(Vec<u8>),
    Continuation(Vec<u8>),
    ContinueText(String),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    CloseEmpty,
    Raw(u8, Vec<u8>),
}

impl FrameSpec {
    /// The bytes on the wire for a peer of a connection whose role is `side`.
    pub fn encode(&self, side: Side) -> Vec<u8> {
        self.encode_ext(side, false)
    }

    /// [`encode`](Self::encode); when permessage-deflate is in force (`deflate`), `flags`
    /// 11 sends a data frame's payload compressed, with RSV1.
    pub fn encode_ext(&self, side: Side, deflate: bool) -> Vec<u8> {
        let (opcode, payload): (u8, Vec<u8>) = match &self.kind {
            FrameKind::Text(s) => (1, s.as_bytes().to_vec()),
            FrameKind::Binary(b) => (2, b.clone()),
            FrameKind::Continuation(b) => (0, b.clone()),
            FrameKind::ContinueText(s) => (0, s.as_bytes().to_vec()),
            FrameKind::Ping(b) => (9, b.clone()),
            FrameKind::Pong(b) => (10, b.clone()),
            FrameKind::Close(code, reason) => {
                let mut p = code.to_be_bytes().to_vec();
                p.extend_from_slice(reason.as_bytes());
                (8, p)
            }
            FrameKind::CloseEmpty => (8, Vec::new()),
            FrameKind::Raw(op, b) => (op & 0x0f, b.clone()),
        };
        let mut masked = side == Side::Server;
        let mut rsv = 0;
        let mut form = LengthForm::Minimal;
        match self.flags {
            1 => masked = !masked,
            2..=8 => rsv = self.flags - 1,
            9 => form = LengthForm::Extended16,
            10 => form = LengthForm::Extended64,
            11 if deflate => {
                rsv = 4;
                let compressed = wire::deflate_message(&payload);
                return wire::encode(
                    !self.more,
                    rsv,
                    opcode,
                    masked.then_some(self.key),
                    &compressed,
                    form,
                );
            }
            _ => {}
        }
        wire::encode(
            !self.more,
            rsv,
            opcode,
            masked.then_some(self.key),
            &payload,
            form,
        )
    }
}

/// One step of the script.
#[derive(Debug, Clone, Arbitrary)]
pub enum Op {
    /// Receive the next `len` wire bytes (0: all that is left), split at `cuts` for `a`.
    Recv {
        len: u16,
        cuts: Vec<u16>,
    },
    /// Receive a structured peer frame, split at `cuts` for `a`.
    Frame {
        frame: FrameSpec,
        cuts: Vec<u16>,
    },
    Eof,
    Text(String),
    Binary(Vec<u8>),
    /// A fragment; with `cut`, a text fragment ends inside a code point (the rest goes out
    /// with the next text fragment).
    Fragment {
        text: bool,
        data: String,
        fin: bool,
        cut: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close {
        code: u16,
        reason: String,
    },
    Advance(u16),
    AdvanceToDeadline,
    /// Stop (true) or resume (false) taking output after every operation.
    Hold(bool),
    Consume(u16),
    Accept(Option<u8>),
    Reject(u16),
    /// Answer a deferred request with a page.
    Respond(u16),
}

/// What a successful send must put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    opcode: u8,
    fin: bool,
    payload: Vec<u8>,
}

/// The harness state: two connections and what has been checked so far.
pub struct Harness<'w> {
    side: Side,
    a: Connection,
    b: Connection,
    wire: &'w [u8],
    pos: usize,
    now: u64,
    limits: Limits,
    /// Bytes received before `Open`, fed to the model once the head's end is known.
    pre: Vec<u8>,
    model: Option<Receiver>,
    /// The model is compared while the engine is open for input.
    model_live: bool,
    hold: bool,
    /// Everything `b` wrote (`a` must write the same).
    out: Vec<u8>,
    state: State,
    open_seen: bool,
    closed_seen: bool,
    sent: Vec<Sent>,
    /// Our fragmented message in progress (true: text), and a code point carried over.
    sending: Option<bool>,
    carry: Vec<u8>,
    /// Sizes for the memory bound.
    opts: (usize, usize, usize),
    largest_chunk: usize,
    heap_base: usize,
    /// An operation index, for messages.
    step: usize,
    /// Our close frame is on the wire (sent by `close`, echoed, or failing).
    close_sent: bool,
    /// permessage-deflate was configured (`run_deflate`) / the generated handshake offers
    /// and accepts it, so it must be agreed on / the handshake agreed on it.
    deflate: bool,
    deflate_expected: bool,
    deflate_live: bool,
    /// Bytes written when `Closed` was reported: nothing may follow.
    out_at_close: Option<usize>,
}

/// Runs one fuzz input against a connection of role `side`.
pub fn run(data: &[u8], side: Side) {
    run_with(data, side, None);
}

/// Runs one fuzz input against a connection of role `side` configured for
/// permessage-deflate: the first byte chooses the parameters (bit 0
/// `server_no_context_takeover`, bit 1 `client_no_context_takeover`, bits 2-4 the window
/// bits 8 + n, bit 5 whether a client harness's generated 101 limits the server's window,
/// bit 6 whether the server configuration limits the client's, bit 7 a small inflate
/// budget), the rest is the input of
/// [`run`].
pub fn run_deflate(data: &[u8], side: Side) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    run_with(rest, side, Some(flags));
}

fn deflate_config(flags: u8) -> wsmachine::DeflateConfig {
    let bits = 8 + ((flags >> 2) & 7);
    let mut c = wsmachine::DeflateConfig::new()
        .server_no_context_takeover(flags & 1 != 0)
        .client_no_context_takeover(flags & 2 != 0);
    if flags & 0x40 != 0 {
        c = c.client_max_window_bits(bits);
    }
    if flags & 0x80 != 0 {
        // A budget of its own for each connection (the harness compares two): 40 KiB, so
        // that messages past two 16 KiB inflate steps fail with 1013.
        c = c.inflate_budget(wsmachine::InflateBudget::new(40 << 10));
    }
    c
}

/// The extension line of a generated 101 accepting permessage-deflate.
fn deflate_answer(flags: u8) -> String {
    let mut line = String::from("Sec-WebSocket-Extensions: permessage-deflate");
    if flags & 1 != 0 {
        line += "; server_no_context_takeover";
    }
    if flags & 2 != 0 {
        line += "; client_no_context_takeover";
    }
    if flags & 0x20 != 0 {
        line += &format!("; server_max_window_bits={}", 8 + ((flags >> 2) & 7));
    }
    line + "\r\n"
}

fn run_with(data: &[u8], side: Side, deflate: Option<u8>) {
    let input = Input::split(data);
    let mut u = Unstructured::new(input.script);
    let setup: Setup = http::or_default(&mut u);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 256 {
        match Op::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    // Whatever wire bytes the script did not consume arrive at the end, in one piece.
    ops.push(Op::Recv {
        len: 0,
        cuts: Vec::new(),
    });
    let base = heap::reset_peak();
    let mut h = Harness::new(side, &setup, input.wire, base, deflate);
    for op in &ops {
        h.apply(op);
        h.step += 1;
    }
    h.finish();
}

impl<'w> Harness<'w> {
    fn new(
        side: Side,
        setup: &Setup,
        wire_bytes: &'w [u8],
        heap_base: usize,
        deflate: Option<u8>,
    ) -> Self {
        let opts = setup.options();
        let protocols = setup.protocols();
        let mut prelude = Vec::new();
        let (a, b) = match side {
            Side::Server => {
                let config = || {
                    let mut c = ServerConfig::new()
                        .options(opts.clone())
                        .defer_accept(setup.defer_accept);
                    for p in &protocols {
                        c = c.subprotocol(*p);
                    }
                    if let Some(flags) = deflate {
                        c = c.deflate(deflate_config(flags));
                    }
                    c
                };
                if !setup.raw_handshake {
                    let mut request = setup.request.clone();
                    request.offer_deflate |= deflate.is_some();
                    prelude = request.write();
                }
                (Connection::server(config()), Connection::server(config()))
            }
            Side::Client => {
                let nonce = setup.request.nonce();
                let config = || {
                    let mut c = ClientConfig::new("server.example.com", "/chat")
                        .options(opts.clone())
                        .random(Deterministic::new(nonce, setup.seed));
                    for p in &protocols {
                        c = c.subprotocol(*p);
                    }
                    if let Some(flags) = deflate {
                        c = c.deflate(deflate_config(flags));
                    }
                    c
                };
                let a = Connection::client(config()).expect("valid client config");
                let b = Connection::client(config()).expect("valid client config");
                if !setup.raw_handshake {
                    let (mut resp, _) = setup.response.write(&http::key_for(&nonce), &protocols);
                    if let Some(flags) = deflate {
                        // Before the blank line that ends the head.
                        let at = resp.len() - 2;
                        resp.splice(at..at, deflate_answer(flags).into_bytes());
                    }
                    prelude = resp;
                }
                (a, b)
            }
        };
        let limits = Limits {
            server: side == Side::Server,
            max_frame: u64::try_from(setup.max_frame.bytes(1 << 16)).unwrap_or(u64::MAX),
            max_message: u64::try_from(setup.max_message.bytes(1 << 16)).unwrap_or(u64::MAX),
            stream_fragments: setup.stream_fragments,
        };
        let mut h = Self {
            side,
            a,
            b,
            wire: wire_bytes,
            pos: 0,
            now: 0,
            limits,
            pre: Vec::new(),
            model: None,
            model_live: true,
            hold: false,
            out: Vec::new(),
            state: State::Connecting,
            open_seen: false,
            closed_seen: false,
            sent: Vec::new(),
            sending: None,
            carry: Vec::new(),
            opts: (
                setup.max_handshake.bytes(4096),
                setup.max_frame.bytes(1 << 16),
                setup.max_message.bytes(1 << 16),
            ),
            largest_chunk: 0,
            heap_base,
            step: 0,
            close_sent: false,
            out_at_close: None,
            deflate: deflate.is_some(),
            deflate_expected: deflate.is_some() && !setup.raw_handshake,
            deflate_live: false,
        };
        h.settle(Vec::new(), false);
        if !prelude.is_empty() {
            h.deliver(&prelude, &[]);
        }
        h
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Recv { len, cuts } => {
                let left = self.wire.len() - self.pos;
                let n = if *len == 0 {
                    left
                } else {
                    usize::from(*len).min(left)
                };
                if n == 0 && *len == 0 {
                    return;
                }
                let chunk = &self.wire[self.pos..self.pos + n];
                self.pos += n;
                self.deliver(chunk, cuts);
            }
            Op::Frame { frame, cuts } => {
                let bytes = frame.encode_ext(self.side, self.deflate_live);
                self.deliver(&bytes, cuts);
            }
            Op::Eof => {
                self.a.receive_eof();
                self.b.receive_eof();
                self.settle(Vec::new(), false);
                assert_eq!(self.b.state(), State::Closed, "receive_eof must close");
            }
            Op::Text(s) => self.command(|c| c.send_text(s), 1, true, s.as_bytes(), true),
            Op::Binary(d) => self.command(|c| c.send_binary(d), 2, true, d, true),
            Op::Fragment {
                text,
                data,
                fin,
                cut,
            } => self.fragment(*text, data, *fin, *cut),
            Op::Ping(d) => {
                let ok = d.len() <= 125;
                self.command(|c| c.send_ping(d), 9, true, d, ok)
            }
            Op::Pong(d) => {
                let ok = d.len() <= 125;
                self.command(|c| c.send_pong(d), 10, true, d, ok)
            }
            Op::Close { code, reason } => self.close(*code, reason),
            Op::Advance(ms) => self.advance(self.now + u64::from(*ms)),
            Op::AdvanceToDeadline => {
                let t = self.b.poll_timeout();
                assert_eq!(t, self.a.poll_timeout());
                if let Some(t) = t {
                    self.advance(self.now.max(t.as_millis()));
                }
            }
            Op::Hold(on) => self.hold = *on,
            Op::Consume(n) => {
                let n = usize::from(*n).min(self.b.buffered_amount());
                assert_eq!(self.a.pending_output(), self.b.pending_output());
                self.out.extend_from_slice(&self.b.pending_output()[..n]);
                self.a.consume_output(n);
                self.b.consume_output(n);
                self.settle(Vec::new(), false);
            }
            Op::Accept(p) => {
                let p = p.map(|i| http::PROTOCOLS[usize::from(i) % http::PROTOCOLS.len()]);
                let ra = self.a.accept(p);
                let rb = self.b.accept(p);
                assert_eq!(ra, rb);
                self.settle(Vec::new(), false);
            }
            Op::Respond(status) => {
                let ra = self.a.respond(*status, "text/plain", b"page");
                let rb = self.b.respond(*status, "text/plain", b"page");
                assert_eq!(ra, rb);
                self.settle(Vec::new(), false);
            }
            Op::Reject(status) => {
                let ra = self.a.reject(*status, "no");
                let rb = self.b.reject(*status, "no");
                assert_eq!(ra, rb);
                if rb.is_ok() {
                    assert!((400..=599).contains(status));
                }
                self.settle(Vec::new(), false);
            }
        }
    }

    /// Delivers `bytes`: to `a` in pieces, to `b` whole.
    fn deliver(&mut self, bytes: &[u8], points: &[u16]) {
        self.largest_chunk = self.largest_chunk.max(bytes.len());
        let bounds = cuts(bytes.len(), points);
        for (i, w) in bounds.windows(2).enumerate() {
            // Copied, read in place or into a lent room, in turn, possibly short.
            crate::feed::receive_piece(&mut self.a, i, &bytes[w[0]..w[1]], w[0] % 97);
        }
        if bounds.len() == 1 {
            // An empty delivery still calls receive once.
            self.a.receive(bytes);
        }
        let open_for_input = matches!(
            self.b.state(),
            State::Connecting | State::Open | State::Closing
        );
        self.b.receive(bytes);
        self.settle(bytes.to_vec(), open_for_input);
    }

    /// A send command: both connections must agree, and it must succeed exactly when the
    /// connection is open and `valid`.
    fn command(
        &mut self,
        f: impl Fn(&mut Connection) -> Result<(), wsmachine::Error>,
        opcode: u8,
        fin: bool,
        payload: &[u8],
        valid: bool,
    ) {
        let expect_ok = self.b.state() == State::Open
            && valid
            && (self.sending.is_none() || matches!(opcode, 9 | 10));
        let ra = f(&mut self.a);
        let rb = f(&mut self.b);
        assert_eq!(ra, rb);
        assert_eq!(
            rb.is_ok(),
            expect_ok,
            "step {}: opcode {opcode} in state {:?} gave {rb:?}",
            self.step,
            self.b.state()
        );
        if rb.is_ok() {
            self.sent.push(Sent {
                opcode,
                fin,
                payload: payload.to_vec(),
            });
        }
        self.settle(Vec::new(), false);
    }

    fn fragment(&mut self, text: bool, data: &str, fin: bool, cut: bool) {
        let kind = if text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        let mut payload = if text { self.carry.clone() } else { Vec::new() };
        payload.extend_from_slice(data.as_bytes());
        let mut carry = Vec::new();
        if text && cut && !fin {
            // End inside the last multi-byte code point, if there is one.
            if let Some(c) = data.chars().last().filter(|c| c.len_utf8() > 1) {
                let keep = c.len_utf8() - 1;
                carry = payload.split_off(payload.len() - keep);
            }
        }
        if text && fin && !payload.is_empty() && std::str::from_utf8(&payload).is_err() {
            return;
        }
        let expect_ok = self.b.state() == State::Open && self.sending.is_none_or(|t| t == text);
        let opcode = match self.sending {
            None => {
                if text {
                    1
                } else {
                    2
                }
            }
            Some(_) => 0,
        };
        let ra = self.a.send_fragment(kind, &payload, fin);
        let rb = self.b.send_fragment(kind, &payload, fin);
        assert_eq!(ra, rb);
        assert_eq!(
            rb.is_ok(),
            expect_ok,
            "step {}: fragment gave {rb:?}",
            self.step
        );
        if rb.is_ok() {
            self.sent.push(Sent {
                opcode,
                fin,
                payload,
            });
            self.sending = if fin { None } else { Some(text) };
            if text {
                self.carry = carry;
            }
        }
        self.settle(Vec::new(), false);
    }

    fn close(&mut self, code: u16, reason: &str) {
        let code = CloseCode(code);
        let valid = (code == CloseCode::NO_STATUS && reason.is_empty())
            || (wire::sendable_close_code(code.0) && reason.len() + 2 <= 125);
        let expect_ok = self.b.state() == State::Open && valid;
        let ra = self.a.close(code, reason);
        let rb = self.b.close(code, reason);
        assert_eq!(ra, rb);
        assert_eq!(
            rb.is_ok(),
            expect_ok,
            "step {}: close gave {rb:?}",
            self.step
        );
        if rb.is_ok() {
            let payload = if code == CloseCode::NO_STATUS && reason.is_empty() {
                Vec::new()
            } else {
                let mut p = code.0.to_be_bytes().to_vec();
                p.extend_from_slice(reason.as_bytes());
                p
            };
            self.sent.push(Sent {
                opcode: 8,
                fin: true,
                payload,
            });
            assert_eq!(self.b.state(), State::Closing);
            self.close_sent = true;
        }
        self.settle(Vec::new(), false);
    }

    fn advance(&mut self, now: u64) {
        let due = self.b.poll_timeout();
        let before = (self.out.len(), self.b.buffered_amount());
        self.now = now;
        self.a.handle_timeout(Instant::from_millis(now));
        self.b.handle_timeout(Instant::from_millis(now));
        let quiet = due.is_none_or(|t| t.as_millis() > now);
        let events = self.settle(Vec::new(), false);
        if quiet {
            assert_eq!(events, 0, "step {}: events before the deadline", self.step);
            assert_eq!(
                before.0 + before.1,
                self.out.len() + self.b.buffered_amount(),
                "step {}: output before the deadline",
                self.step
            );
        }
    }

    /// After every operation: compare the twins, take output, check the events. Returns
    /// how many events there were.
    fn settle(&mut self, received: Vec<u8>, open_for_input: bool) -> usize {
        let ea: Vec<Event> = std::iter::from_fn(|| self.a.poll_event()).collect();
        let eb: Vec<Event> = std::iter::from_fn(|| self.b.poll_event()).collect();
        assert_eq!(
            ea, eb,
            "step {}: split and whole delivery disagree",
            self.step
        );
        drop(ea);
        assert_eq!(self.a.state(), self.b.state());
        assert_eq!(self.a.poll_timeout(), self.b.poll_timeout());
        assert_eq!(self.a.pending_output(), self.b.pending_output());
        assert_eq!(self.b.buffered_amount(), self.b.pending_output().len());
        if !self.hold {
            self.a.consume_output(usize::MAX);
            let taken = self.b.take_output();
            assert_eq!(self.a.buffered_amount(), 0);
            self.out.extend_from_slice(&taken);
        }
        let total = self.out.len() + self.b.buffered_amount();
        if let Some(at_close) = self.out_at_close {
            assert_eq!(total, at_close, "step {}: output after Closed", self.step);
        }
        self.check_events(&eb, received, open_for_input);
        if self.closed_seen && self.out_at_close.is_none() {
            self.out_at_close = Some(total);
        }
        let n = eb.len();
        drop(eb);
        self.check_memory();
        n
    }

    fn check_events(&mut self, events: &[Event], received: Vec<u8>, open_for_input: bool) {
        let state = self.b.state();
        assert!(
            state >= self.state,
            "step {}: state went from {:?} to {state:?}",
            self.step,
            self.state
        );
        if self.closed_seen {
            assert!(
                events.is_empty(),
                "step {}: events after Closed: {events:?}",
                self.step
            );
            assert_eq!(self.b.poll_timeout(), None);
        }
        let mut got = Vec::new();
        let mut failure = None;
        for (i, e) in events.iter().enumerate() {
            assert!(!self.closed_seen, "step {}: {e:?} after Closed", self.step);
            match e {
                Event::Request(_) => {
                    assert_eq!(self.side, Side::Server);
                    assert!(!self.open_seen);
                }
                Event::Open { extensions, .. } => {
                    assert!(!self.open_seen, "step {}: Open twice", self.step);
                    self.open_seen = true;
                    assert!(
                        !self.deflate_expected || !extensions.is_empty(),
                        "step {}: permessage-deflate offered and accepted, not in force",
                        self.step
                    );
                    if !extensions.is_empty() {
                        assert!(self.deflate, "step {}: {extensions} unasked", self.step);
                        // The reference receiver knows no extension.
                        self.deflate_live = true;
                        self.model_live = false;
                    }
                }
                Event::Text(t) => got.push(Expected::Text(t.to_string())),
                Event::Binary(b) => got.push(Expected::Binary(b.to_vec())),
                Event::Fragment { kind, data, fin } => got.push(Expected::Fragment {
                    text: *kind == MessageKind::Text,
                    data: data.to_vec(),
                    fin: *fin,
                }),
                Event::Ping(p) => got.push(Expected::Ping(p.to_vec())),
                Event::Pong(p) => got.push(Expected::Pong(p.to_vec())),
                Event::Close { code, reason } => {
                    got.push(Expected::Close {
                        code: code.map(|c| c.0),
                        reason: reason.clone(),
                    });
                    self.close_sent = true;
                }
                Event::Error(f) => {
                    assert!(
                        matches!(events.get(i + 1), Some(Event::Closed { clean: false, .. })),
                        "step {}: Error not followed by an unclean Closed: {events:?}",
                        self.step
                    );
                    if let Failure::Protocol(p) = f {
                        got.push(Expected::Fail(p.close_code().0));
                        failure = Some(p.close_code());
                    }
                }
                Event::Closed { code, .. } => {
                    assert_eq!(
                        i,
                        events.len() - 1,
                        "step {}: events after Closed",
                        self.step
                    );
                    if let Some(c) = failure {
                        assert_eq!(
                            *code, c,
                            "step {}: Closed code after a protocol error",
                            self.step
                        );
                    }
                    self.closed_seen = true;
                }
                other => panic!(
                    "step {}: an event the oracle does not know: {other:?}",
                    self.step
                ),
            }
            if matches!(
                e,
                Event::Text(_) | Event::Binary(_) | Event::Fragment { .. }
            ) {
                assert!(self.open_seen, "step {}: message before Open", self.step);
            }
        }
        if let Some(code) = failure {
            self.check_failure_close(code);
        }
        if self.closed_seen {
            assert_eq!(
                state,
                State::Closed,
                "step {}: Closed reported in {state:?}",
                self.step
            );
        }
        self.state = state;
        self.check_model(got, received, open_for_input);
    }

    /// A protocol failure's close frame: the last frame written, with the failure's code,
    /// unless our close frame had gone out before.
    fn check_failure_close(&mut self, code: CloseCode) {
        let mut all = self.out.clone();
        all.extend_from_slice(self.b.pending_output());
        let head = http::head_end(&all).expect("a failure after the handshake");
        let frames = wire::check_stream_ext(&all[head..], self.sender(), self.deflate_live)
            .unwrap_or_else(|e| panic!("step {}: invalid output: {e}", self.step));
        let closes: Vec<_> = frames.iter().filter(|f| f.opcode == 8).collect();
        assert_eq!(closes.len(), 1, "step {}: one close frame", self.step);
        if !self.close_sent {
            let last = frames.last().expect("a close frame");
            assert_eq!(last.opcode, 8);
            assert_eq!(
                &last.payload[..2],
                &code.0.to_be_bytes(),
                "step {}: failure close code",
                self.step
            );
        }
        self.close_sent = true;
    }

    fn check_model(&mut self, got: Vec<Expected>, received: Vec<u8>, open_for_input: bool) {
        if !self.model_live {
            return;
        }
        let mut expected = Vec::new();
        match self.model.as_mut() {
            None => {
                if open_for_input {
                    self.pre.extend_from_slice(&received);
                }
                if self.open_seen {
                    let head = http::head_end(&self.pre).expect("opened without a head");
                    let mut m = Receiver::new(self.limits);
                    expected = m.feed(&self.pre[head..]);
                    self.pre = Vec::new();
                    self.model = Some(m);
                }
            }
            Some(m) if open_for_input => expected = m.feed(&received),
            Some(_) => {}
        }
        assert_eq!(
            got, expected,
            "step {}: the engine's events differ from the reference receiver's",
            self.step
        );
        // Once closed (by the peer or otherwise: timeouts, end of input), input is ignored.
        if self.closed_seen || self.model.as_ref().is_some_and(Receiver::done) {
            self.model_live = false;
        }
    }

    fn sender(&self) -> Sender {
        match self.side {
            Side::Server => Sender::Server,
            Side::Client => Sender::Client,
        }
    }

    fn check_memory(&self) {
        let (hs, frame, msg) = self.opts;
        // Saturating: "no limit" bounds nothing but must not overflow here either.
        let per_conn = [
            hs.saturating_mul(2),
            frame.saturating_add(14).saturating_mul(2),
            msg.saturating_mul(2),
            2 * self.b.buffered_amount(),
            2 * self.largest_chunk,
            16 * 1024,
            // The compressor and decompressor (window, zlib's tables) and the compressed
            // scratch of a message (freed past 64 KiB).
            if self.deflate { 1 << 20 } else { 0 },
        ]
        .into_iter()
        .fold(0usize, usize::saturating_add);
        let harness = self.harness_heap();
        let live = heap::live().saturating_sub(self.heap_base);
        let engines = live.saturating_sub(harness);
        assert!(
            engines <= per_conn.saturating_mul(2),
            "step {}: connections hold {engines} bytes, bound {} (limits {:?}, largest chunk {})",
            self.step,
            per_conn.saturating_mul(2),
            self.opts,
            self.largest_chunk
        );
        let peak = heap::peak().saturating_sub(self.heap_base);
        let peak_bound = harness
            .saturating_add(per_conn.saturating_mul(2))
            .saturating_mul(4)
            .saturating_add(4 * self.wire.len() + (1 << 20));
        assert!(
            peak <= peak_bound,
            "step {}: peak heap {peak} > {peak_bound}",
            self.step
        );
    }

    /// The heap the harness itself holds (capacities of its buffers).
    fn harness_heap(&self) -> usize {
        self.out.capacity()
            + self.pre.capacity()
            + self.carry.capacity()
            + self.sent.capacity() * std::mem::size_of::<Sent>()
            + self
                .sent
                .iter()
                .map(|s| s.payload.capacity())
                .sum::<usize>()
            + self.model.as_ref().map_or(0, Receiver::heap)
    }

    /// End of the script: everything written must be valid frames carrying exactly what
    /// was sent.
    fn finish(&mut self) {
        let mut all = std::mem::take(&mut self.out);
        all.extend_from_slice(self.b.pending_output());
        let Some(head) = http::head_end(&all) else {
            assert!(!self.open_seen, "open without a head written");
            return;
        };
        let head_bytes = &all[..head];
        match self.side {
            Side::Server => {
                let resp = http::parse_response(head_bytes).expect("the server's answer parses");
                if self.open_seen {
                    assert_eq!(resp.status, 101);
                } else {
                    assert_ne!(resp.status, 101);
                    return;
                }
            }
            Side::Client => {
                let req = http::parse_request(head_bytes).expect("the client's request parses");
                let key = req.value("sec-websocket-key").expect("a key");
                assert!(http::key_is_valid(key));
                if !self.open_seen {
                    assert_eq!(all.len(), head, "frames before the handshake completed");
                    return;
                }
            }
        }
        let frames = wire::check_stream_ext(&all[head..], self.sender(), self.deflate_live)
            .unwrap_or_else(|e| panic!("invalid output: {e}"));
        // Our sends, in order: every data frame, and user pings/pongs/close among the
        // control frames (which also hold automatic pongs, keepalive pings and echoes).
        let data: Vec<Sent> = frames
            .iter()
            .filter(|f| f.opcode < 8)
            .map(|f| Sent {
                opcode: f.opcode,
                fin: f.fin,
                payload: f.payload.clone(),
            })
            .collect();
        let sent_data: Vec<Sent> = self.sent.iter().filter(|s| s.opcode < 8).cloned().collect();
        assert_eq!(data, sent_data, "data frames differ from what was sent");
        let mut control = frames.iter().filter(|f| f.opcode >= 8);
        for s in self.sent.iter().filter(|s| s.opcode >= 8) {
            assert!(
                control.any(|f| f.opcode == s.opcode && f.payload == s.payload),
                "sent control frame {s:?} missing from the output"
            );
        }
    }
}
