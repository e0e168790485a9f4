//! A reference frame codec (RFC 6455 §5.2), written byte by byte without the engine's
//! code, and the checker for everything the engine writes after the handshake.

/// Which end wrote the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Client frames must be masked.
    Client,
    /// Server frames must not be.
    Server,
}

/// A frame as it was on the wire, payload already unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload: Vec<u8>,
    /// Whether the length used the shortest form (RFC 6455 §5.2 requires it of senders).
    pub minimal_length: bool,
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole frame and the bytes it took.
    Frame(Frame, usize),
    /// More bytes are needed.
    Incomplete,
}

/// Parses one frame without judging it (reserved opcodes, bad lengths and all): the
/// structural reading only. A 64-bit length with the top bit set is read as is.
pub fn parse(buf: &[u8]) -> Parsed {
    if buf.len() < 2 {
        return Parsed::Incomplete;
    }
    let fin = buf[0] & 0x80 != 0;
    let rsv = (buf[0] >> 4) & 7;
    let opcode = buf[0] & 0x0f;
    let masked = buf[1] & 0x80 != 0;
    let short = u64::from(buf[1] & 0x7f);
    let (len, mut at, minimal) = match short {
        126 => {
            if buf.len() < 4 {
                return Parsed::Incomplete;
            }
            let n = u64::from(buf[2]) << 8 | u64::from(buf[3]);
            (n, 4, n >= 126)
        }
        127 => {
            if buf.len() < 10 {
                return Parsed::Incomplete;
            }
            let n = buf[2..10].iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
            (n, 10, n > 0xffff)
        }
        n => (n, 2, true),
    };
    let mask = if masked {
        if buf.len() < at + 4 {
            return Parsed::Incomplete;
        }
        let k = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        Some(k)
    } else {
        None
    };
    let Ok(len) = usize::try_from(len) else {
        return Parsed::Incomplete;
    };
    if buf.len() - at < len {
        return Parsed::Incomplete;
    }
    let mut payload = buf[at..at + len].to_vec();
    if let Some(k) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= k[i % 4];
        }
    }
    Parsed::Frame(
        Frame {
            fin,
            rsv,
            opcode,
            mask,
            payload,
            minimal_length: minimal,
        },
        at + len,
    )
}

/// How a test frame's length is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthForm {
    /// The shortest form.
    Minimal,
    /// Always the 16-bit form (non-minimal for short payloads).
    Extended16,
    /// Always the 64-bit form.
    Extended64,
}

/// Encodes a frame, masking the payload with `mask` if given. Lengths that do not fit the
/// chosen form fall back to the minimal one.
pub fn encode(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
    form: LengthForm,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(u8::from(fin) << 7 | (rsv & 7) << 4 | (opcode & 0x0f));
    let mbit = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len() as u64;
    let form = match form {
        LengthForm::Extended16 if len > 0xffff => LengthForm::Minimal,
        f => f,
    };
    match form {
        LengthForm::Minimal if len < 126 => out.push(mbit | len as u8),
        LengthForm::Minimal if len <= 0xffff => {
            out.push(mbit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        LengthForm::Extended16 => {
            out.push(mbit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mbit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Whether a close code may travel on the wire (RFC 6455 §7.4, IANA registry).
pub fn sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Checks that `bytes` are exactly a sequence of frames that a correct `sender` may write
/// (RFC 6455 §5): masking by role, RSV bits clear, known opcodes, minimal lengths, control
/// frames short and unfragmented, fragments in order, text messages UTF-8, close payloads
/// valid, nothing after the close frame. Returns the frames.
pub fn check_stream(bytes: &[u8], sender: Sender) -> Result<Vec<Frame>, String> {
    check_stream_ext(bytes, sender, false)
}

/// [`check_stream`] for a connection that negotiated permessage-deflate (RFC 7692) when
/// `deflate`: RSV1 may mark an unfragmented data message (the engine never compresses
/// fragments), whose payload is inflated with one decompressor for the whole stream (valid
/// with and without context takeover) after appending `00 00 ff ff`; the frame returned
/// carries the inflated payload and no RSV bit, so the checks below and the comparison with
/// what was sent apply to the message itself.
pub fn check_stream_ext(bytes: &[u8], sender: Sender, deflate: bool) -> Result<Vec<Frame>, String> {
    let mut inflater = flate2::Decompress::new(false);
    let mut frames = Vec::new();
    let mut at = 0;
    let mut in_message: Option<u8> = None;
    let mut text = Vec::new();
    let mut closed = false;
    while at < bytes.len() {
        let (f, n) = match parse(&bytes[at..]) {
            Parsed::Frame(f, n) => (f, n),
            Parsed::Incomplete => {
                return Err(format!(
                    "trailing partial frame at byte {at}: {:?}",
                    &bytes[at..]
                ))
            }
        };
        let here = format!("frame {} at byte {at}: {f:?}", frames.len());
        if closed {
            return Err(format!("{here}: written after the close frame"));
        }
        if f.mask.is_some() != (sender == Sender::Client) {
            return Err(format!("{here}: wrong masking for a {sender:?}"));
        }
        let mut f = f;
        if deflate && f.rsv == 4 {
            if !f.fin || !(f.opcode == 1 || f.opcode == 2) {
                return Err(format!("{here}: RSV1 on a fragment or a control frame"));
            }
            f.payload = inflate_message(&mut inflater, &f.payload)
                .map_err(|e| format!("{here}: compressed payload does not inflate: {e}"))?;
            f.rsv = 0;
        }
        if f.rsv != 0 {
            return Err(format!("{here}: RSV bits set without an extension"));
        }
        if !f.minimal_length {
            return Err(format!("{here}: length not in its minimal form"));
        }
        match f.opcode {
            0x8..=0xa => {
                if !f.fin || f.payload.len() > 125 {
                    return Err(format!("{here}: control frame fragmented or too long"));
                }
                if f.opcode == 0x8 {
                    match f.payload.len() {
                        0 => {}
                        1 => return Err(format!("{here}: one-byte close payload")),
                        _ => {
                            let code = u16::from_be_bytes([f.payload[0], f.payload[1]]);
                            if !sendable_close_code(code) {
                                return Err(format!("{here}: close code {code} may not be sent"));
                            }
                            if std::str::from_utf8(&f.payload[2..]).is_err() {
                                return Err(format!("{here}: close reason not UTF-8"));
                            }
                        }
                    }
                    closed = true;
                }
            }
            0x0 => {
                let Some(kind) = in_message else {
                    return Err(format!("{here}: continuation without a message"));
                };
                if kind == 1 {
                    text.extend_from_slice(&f.payload);
                }
                if f.fin {
                    in_message = None;
                }
            }
            0x1 | 0x2 => {
                if in_message.is_some() {
                    return Err(format!("{here}: new message inside a fragmented one"));
                }
                text.clear();
                if f.opcode == 1 {
                    text.extend_from_slice(&f.payload);
                }
                if !f.fin {
                    in_message = Some(f.opcode);
                }
            }
            op => return Err(format!("{here}: reserved opcode {op:#x}")),
        }
        let text_ends =
            f.fin && (f.opcode == 1 || (f.opcode == 0 && frames_kind(&frames) == Some(1)));
        if text_ends {
            if std::str::from_utf8(&text).is_err() {
                return Err(format!("{here}: text message is not UTF-8"));
            }
            text.clear();
        }
        at += n;
        frames.push(f);
    }
    Ok(frames)
}

/// The opcode of the data message the last data frames belong to.
fn frames_kind(frames: &[Frame]) -> Option<u8> {
    frames
        .iter()
        .rev()
        .filter(|f| f.opcode < 8)
        .find(|f| f.opcode != 0)
        .map(|f| f.opcode)
}

/// Inflates one compressed message (RFC 7692 §7.2.2: the payload plus `00 00 ff ff`).
fn inflate_message(d: &mut flate2::Decompress, payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(input.len() * 4 + 64);
    let mut at = 0;
    loop {
        let before = d.total_in();
        d.decompress_vec(&input[at..], &mut out, flate2::FlushDecompress::Sync)
            .map_err(|e| e.to_string())?;
        at += usize::try_from(d.total_in() - before).unwrap();
        if at == input.len() && out.len() < out.capacity() {
            return Ok(out);
        }
        out.reserve(out.capacity().max(64));
    }
}

/// A compressed message's payload as a peer writes it (RFC 7692 §7.2.1): raw DEFLATE of
/// `data` with a sync flush, the trailing `00 00 ff ff` removed. A fresh compressor per
/// message, so it inflates alike with and without context takeover.
pub fn deflate_message(data: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut at = 0;
    loop {
        let before = c.total_in();
        c.compress_vec(&data[at..], &mut out, flate2::FlushCompress::Sync)
            .expect("deflate");
        at += usize::try_from(c.total_in() - before).unwrap();
        if at == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(64));
    }
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}
