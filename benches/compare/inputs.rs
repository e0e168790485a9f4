//! The pre-built inputs every library is fed: message plaintexts, and the byte streams a client
//! would send for them (masked frames, RFC 6455 §5.2-5.3), written by a small encoder of our own
//! so that no library under test builds its own input.

/// The two kinds of data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Binary,
}

/// A deterministic xorshift generator for payload bytes and masking keys.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// Mixed Cyrillic and ASCII, the kind of text a chat carries: about half the bytes are
/// two-byte sequences, so validators cannot take the all-ASCII fast path.
const TEXT_SEED: &str = "Привет, сервер! Hello, server. Съешь же ещё этих мягких \
французских булок, да выпей чаю. The quick brown fox jumps over the lazy dog; \
Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства. ";

/// `len` bytes of valid UTF-8 text (the seed repeated, cut at a character boundary and
/// padded with spaces).
pub(crate) fn text(len: usize) -> Vec<u8> {
    let mut s = String::with_capacity(len + TEXT_SEED.len());
    while s.len() < len {
        s.push_str(TEXT_SEED);
    }
    let mut end = len;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    while s.len() < len {
        s.push(' ');
    }
    assert_eq!(s.len(), len);
    s.into_bytes()
}

/// `len` pseudo-random bytes.
pub(crate) fn binary(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    XorShift::new(seed).fill(&mut v);
    v
}

/// The plaintext of one message of `kind`.
pub(crate) fn plaintext(kind: Kind, len: usize) -> Vec<u8> {
    match kind {
        Kind::Text => text(len),
        Kind::Binary => binary(len, 0x5eed_0000 + len as u64),
    }
}

/// Frame opcodes (RFC 6455 §5.2).
const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;

/// Appends one frame: FIN, opcode, the shortest length form, and the payload masked with
/// `key` when given.
pub(crate) fn push_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: u8,
    key: Option<[u8; 4]>,
    payload: &[u8],
) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match key {
        None => out.extend_from_slice(payload),
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
        }
    }
}

/// The bytes of a frame header for a payload of `len` (masked or not): what an encoder
/// must add to each message.
pub(crate) fn header_len(len: usize, masked: bool) -> usize {
    let base = if len < 126 {
        2
    } else if len <= 0xffff {
        4
    } else {
        10
    };
    base + if masked { 4 } else { 0 }
}

/// The stream a client sends for `count` messages of `message` bytes, each split into frames
/// of at most `fragment` bytes (one frame per message when `None`), every frame masked with
/// its own key.
pub(crate) fn client_stream(
    kind: Kind,
    message: &[u8],
    count: usize,
    fragment: Option<usize>,
) -> Vec<u8> {
    let frame_len = fragment.unwrap_or(message.len()).max(1);
    let frames_per_msg = message.len().div_ceil(frame_len).max(1);
    let mut out =
        Vec::with_capacity(count * (message.len() + frames_per_msg * header_len(frame_len, true)));
    let mut rng = XorShift::new(0x6d61_736b);
    let first_op = match kind {
        Kind::Text => OP_TEXT,
        Kind::Binary => OP_BINARY,
    };
    for _ in 0..count {
        if message.is_empty() {
            push_frame(&mut out, true, first_op, Some(mask_key(&mut rng)), message);
            continue;
        }
        let mut frames = message.chunks(frame_len).peekable();
        let mut opcode = first_op;
        while let Some(part) = frames.next() {
            let fin = frames.peek().is_none();
            push_frame(&mut out, fin, opcode, Some(mask_key(&mut rng)), part);
            opcode = OP_CONTINUATION;
        }
    }
    out
}

fn mask_key(rng: &mut XorShift) -> [u8; 4] {
    (rng.next_u64() as u32).to_ne_bytes()
}

/// One decoded frame of a stream, for checking what encoders wrote.
pub(crate) struct Parsed {
    pub fin: bool,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

/// Parses a stream of complete frames (unmasking them); panics on anything malformed, as
/// the encoders under test must never write that.
pub(crate) fn parse_frames(mut buf: &[u8]) -> Vec<Parsed> {
    let mut frames = Vec::new();
    while !buf.is_empty() {
        assert!(buf.len() >= 2, "truncated frame header");
        let (b0, b1) = (buf[0], buf[1]);
        let mut pos = 2;
        let len = match b1 & 0x7f {
            126 => {
                let l = u16::from_be_bytes([buf[2], buf[3]]) as usize;
                pos += 2;
                l
            }
            127 => {
                let mut w = [0u8; 8];
                w.copy_from_slice(&buf[2..10]);
                pos += 8;
                u64::from_be_bytes(w) as usize
            }
            l => l as usize,
        };
        let masked = b1 & 0x80 != 0;
        let key = if masked {
            let k = [buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]];
            pos += 4;
            k
        } else {
            [0; 4]
        };
        let payload = buf[pos..pos + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i & 3])
            .collect();
        frames.push(Parsed {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            masked,
            payload,
        });
        buf = &buf[pos + len..];
    }
    frames
}
