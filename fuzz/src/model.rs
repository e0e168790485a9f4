//! A reference RFC 6455 receiver: given the bytes a peer sent after the handshake, the
//! events an endpoint must report and the close code it must fail with.
//!
//! It is deliberately naive (it re-reads its whole buffer and re-validates the whole text
//! so far at every step) so that it is easy to check against the RFC by eye. Where the RFC
//! leaves a choice, the model follows the engine's documented one:
//! * header rules are judged once the header is complete (mask key included), except what
//!   the first bytes alone show: a reserved opcode (2 bytes), a 64-bit length with its top
//!   bit set (10 bytes), a fragmented or long control frame (once the length is read);
//! * then, in this order: RSV bits (1002), masking by role (1002), `max_frame_size`
//!   (1009), fragmentation order (1002), `max_message_size` (1009, whole messages only);
//! * text is refused (1007) as soon as the bytes that arrived cannot begin valid UTF-8,
//!   even before the frame is complete, and at the end of a message left incomplete;
//! * input after a close frame or an error is ignored.

/// What the endpoint must report, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Text(String),
    Binary(Vec<u8>),
    /// A data frame, when fragments are streamed: kind is 1 (text) or 2 (binary).
    Fragment {
        text: bool,
        data: Vec<u8>,
        fin: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close {
        code: Option<u16>,
        reason: String,
    },
    /// The connection fails with this close code.
    Fail(u16),
}

/// Receiver limits and mode.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Whether we are the server (peer frames must be masked) or the client (must not be).
    pub server: bool,
    pub max_frame: u64,
    pub max_message: u64,
    pub stream_fragments: bool,
}

/// The reference receiver.
#[derive(Debug)]
pub struct Receiver {
    limits: Limits,
    buf: Vec<u8>,
    /// The data message in progress: (is text, length so far).
    message: Option<(bool, u64)>,
    /// The reassembled bytes of that message.
    data: Vec<u8>,
    /// Its text bytes so far, for UTF-8 validation (also when fragments are streamed).
    text: Vec<u8>,
    done: bool,
}

const PROTOCOL: u16 = 1002;
const INVALID_PAYLOAD: u16 = 1007;
const TOO_BIG: u16 = 1009;

enum Step {
    /// A frame was consumed; events out.
    Consumed(Vec<Expected>),
    /// Wait for more bytes (possibly after reporting a failure found early).
    Wait(Option<Expected>),
}

impl Receiver {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            message: None,
            data: Vec::new(),
            text: Vec::new(),
            done: false,
        }
    }

    /// Heap bytes the model holds (for the harness's memory accounting).
    pub fn heap(&self) -> usize {
        self.buf.capacity() + self.data.capacity() + self.text.capacity()
    }

    /// Whether the receiver stopped (close frame or failure).
    pub fn done(&self) -> bool {
        self.done
    }

    /// Feeds bytes; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Expected> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match self.step() {
                Step::Consumed(events) => {
                    let stop = events
                        .iter()
                        .any(|e| matches!(e, Expected::Fail(_) | Expected::Close { .. }));
                    out.extend(events);
                    if stop {
                        self.done = true;
                        self.buf.clear();
                        return out;
                    }
                }
                Step::Wait(fail) => {
                    if let Some(f) = fail {
                        out.push(f);
                        self.done = true;
                        self.buf.clear();
                    }
                    return out;
                }
            }
        }
    }

    fn step(&mut self) -> Step {
        let b = &self.buf;
        if b.len() < 2 {
            return Step::Wait(None);
        }
        let fin = b[0] & 0x80 != 0;
        let rsv = (b[0] >> 4) & 7;
        let opcode = b[0] & 0x0f;
        let control = opcode >= 8;
        if !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) {
            return fail(PROTOCOL);
        }
        let masked = b[1] & 0x80 != 0;
        let (len, mut header) = match b[1] & 0x7f {
            126 if b.len() < 4 => return Step::Wait(None),
            126 => (u64::from(b[2]) << 8 | u64::from(b[3]), 4),
            127 if b.len() < 10 => return Step::Wait(None),
            127 => (
                b[2..10].iter().fold(0u64, |a, &x| a << 8 | u64::from(x)),
                10,
            ),
            n => (u64::from(n), 2),
        };
        if len >> 63 != 0 {
            return fail(PROTOCOL);
        }
        if control && (!fin || len > 125) {
            return fail(PROTOCOL);
        }
        if masked {
            header += 4;
        }
        if b.len() < header {
            return Step::Wait(None);
        }
        if rsv != 0 || masked != self.limits.server {
            return fail(PROTOCOL);
        }
        if len > self.limits.max_frame {
            return fail(TOO_BIG);
        }
        let so_far = match (opcode, self.message) {
            (0, None) => return fail(PROTOCOL),
            (1 | 2, Some(_)) => return fail(PROTOCOL),
            (0, Some((_, n))) => n,
            _ => 0,
        };
        if !control
            && !self.limits.stream_fragments
            && so_far.saturating_add(len) > self.limits.max_message
        {
            return fail(TOO_BIG);
        }
        let key = masked.then(|| [b[header - 4], b[header - 3], b[header - 2], b[header - 1]]);
        let arrived = (b.len() - header).min(len as usize);
        let mut payload = b[header..header + arrived].to_vec();
        if let Some(k) = key {
            for (i, x) in payload.iter_mut().enumerate() {
                *x ^= k[i % 4];
            }
        }
        let is_text = opcode == 1 || (opcode == 0 && matches!(self.message, Some((true, _))));
        if is_text {
            let mut so_far = self.text.clone();
            so_far.extend_from_slice(&payload);
            if let Err(e) = std::str::from_utf8(&so_far) {
                if e.error_len().is_some() {
                    return fail(INVALID_PAYLOAD);
                }
            }
        }
        if (arrived as u64) < len {
            return Step::Wait(None);
        }
        self.buf.drain(..header + arrived);
        Step::Consumed(self.on_frame(fin, opcode, is_text, payload))
    }

    fn on_frame(
        &mut self,
        fin: bool,
        opcode: u8,
        is_text: bool,
        payload: Vec<u8>,
    ) -> Vec<Expected> {
        match opcode {
            9 => vec![Expected::Ping(payload)],
            10 => vec![Expected::Pong(payload)],
            8 => match payload.len() {
                0 => vec![Expected::Close {
                    code: None,
                    reason: String::new(),
                }],
                1 => vec![Expected::Fail(PROTOCOL)],
                _ => {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    if !crate::wire::sendable_close_code(code) {
                        return vec![Expected::Fail(PROTOCOL)];
                    }
                    match String::from_utf8(payload[2..].to_vec()) {
                        Ok(reason) => vec![Expected::Close {
                            code: Some(code),
                            reason,
                        }],
                        Err(_) => vec![Expected::Fail(INVALID_PAYLOAD)],
                    }
                }
            },
            _ => {
                if is_text {
                    self.text.extend_from_slice(&payload);
                    if fin && std::str::from_utf8(&self.text).is_err() {
                        return vec![Expected::Fail(INVALID_PAYLOAD)];
                    }
                }
                let started_text = match (opcode, self.message) {
                    (1, _) => true,
                    (2, _) => false,
                    (_, Some((t, _))) => t,
                    _ => unreachable!("continuation order was checked"),
                };
                let len = payload.len() as u64;
                if self.limits.stream_fragments {
                    self.message = if fin { None } else { Some((started_text, 0)) };
                    if fin {
                        self.text.clear();
                    }
                    return vec![Expected::Fragment {
                        text: started_text,
                        data: payload,
                        fin,
                    }];
                }
                let total = self.message.take().map_or(0, |(_, n)| n) + len;
                self.data.extend_from_slice(&payload);
                if !fin {
                    self.message = Some((started_text, total));
                    return Vec::new();
                }
                self.text.clear();
                let data = std::mem::take(&mut self.data);
                if started_text {
                    vec![Expected::Text(
                        String::from_utf8(data).expect("validated above"),
                    )]
                } else {
                    vec![Expected::Binary(data)]
                }
            }
        }
    }
}

fn fail(code: u16) -> Step {
    Step::Wait(Some(Expected::Fail(code)))
}
