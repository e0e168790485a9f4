//! The decode loop: frames out of the input buffer, unmasked and validated as their bytes
//! arrive (so bad text is refused as early as the bytes allow), checked against the rules
//! that depend on the connection, and handed on: data to `message` (or out as they lie),
//! pings answered, close frames to `closing`.

use super::{Connection, Role, State};
use crate::error::ProtocolError;
use crate::event::MessageKind;
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, RSV1};
use crate::mask::apply_mask;

/// What one decoding step produced.
pub(super) enum Decoded {
    /// A payload of `len` bytes at the decode position of the input.
    Input(Payload, usize),
    /// A payload in the message buffer: a reassembled message, or an inflated one or
    /// fragment.
    Buffered(Payload),
    /// Events were queued (a close frame, a failure).
    Queued,
}

/// What a payload is.
#[derive(Clone, Copy)]
pub(super) enum Payload {
    Message(MessageKind),
    Fragment(MessageKind, bool),
    Ping,
    Pong,
}

impl Connection {
    /// Decodes input up to the next event. The arrived part of an incomplete frame is
    /// unmasked and validated at once. Called only with nothing on loan (`settle_lent`).
    pub(super) fn decode(&mut self) -> Option<Decoded> {
        // So the buffers may be released or moved below.
        debug_assert!(!self.events.has_loan());
        if let Some(d) = self.decode_small_message() {
            return Some(d);
        }
        while self.life.decodes_frames() {
            let header = match self.input.frame {
                Some(h) => h,
                None => match FrameHeader::parse(self.input.unread()) {
                    Ok(None) => {
                        // An idle connection holds no buffers.
                        self.input.release_idle();
                        self.message.release_idle();
                        return None;
                    }
                    Ok(Some((h, n))) => {
                        if let Err(e) = self.check_header(&h) {
                            return Some(self.fail_decoding(e));
                        }
                        self.input.start_frame(h, n);
                        h
                    }
                    Err(e) => return Some(self.fail_decoding(e)),
                },
            };
            // check_header bounded the length by max_frame_size, a usize.
            let len = header.payload_len as usize;
            let arrived = self.input.unread().len().min(len);
            // A whole masked fragment bound for the message buffer is unmasked (and
            // validated) on its way there, in one pass, instead of in place first.
            let fused = arrived == len
                && self.input.processed == 0
                && self.input.unmasked == 0
                && header.mask.is_some()
                && self.reassembles(&header);
            if arrived > self.input.processed && !fused {
                if let Err(e) = self.unmask_and_validate(&header, arrived) {
                    return Some(self.fail_decoding(e));
                }
            }
            if arrived < len {
                self.input.reserve_rest(len - arrived);
                return None;
            }
            self.input.end_frame();
            self.frame_arrived();
            self.trace_received(&header, fused);
            match self.on_frame(header, len, fused) {
                Ok(Some(d)) => return Some(d),
                Ok(None) => {}
                Err(e) => return Some(self.fail_decoding(e)),
            }
        }
        None
    }

    /// Unmasks the payload bytes of the frame in progress that arrived since the last call
    /// (`..arrived`), and validates them if they are text, in one pass: each block is
    /// validated while it is still in the nearest cache. Bytes `push` unmasked on their way
    /// in are only validated.
    fn unmask_and_validate(
        &mut self,
        header: &FrameHeader,
        arrived: usize,
    ) -> Result<(), ProtocolError> {
        let is_text = self.is_text_payload(header);
        let from = self.input.processed;
        let unmasked = self.input.unmasked.clamp(from, arrived);
        let payload = &mut self.input.unread_mut()[..arrived];
        if is_text {
            self.message.feed_utf8(&payload[from..unmasked])?;
        }
        let rest = &mut payload[unmasked..];
        match (header.mask, is_text) {
            (Some(key), true) => self.message.unmask_and_feed_utf8(rest, key, unmasked)?,
            (Some(key), false) => apply_mask(rest, key, unmasked),
            (None, true) => self.message.feed_utf8(rest)?,
            (None, false) => {}
        }
        self.input.processed = arrived;
        if header.mask.is_some() {
            self.input.unmasked = arrived;
        }
        Ok(())
    }

    /// The common case, decoded without the general machinery: a whole, unfragmented text
    /// or binary frame with a 7- or 16-bit length (under 64 KiB), masked as the role
    /// requires and completely in the buffer, outside any fragmented message. Anything else
    /// (including every error) takes the general path, which applies the same rules.
    #[inline]
    fn decode_small_message(&mut self) -> Option<Decoded> {
        if self.input.frame.is_some()
            || self.message.in_progress().is_some()
            || self.life.state() != State::Open
            || self.options.stream_fragments
            || self.trace.is_some()
        {
            return None;
        }
        let masked = self.role == Role::Server;
        let buf = self.input.unread();
        let (&b0, &b1) = (buf.first()?, buf.get(1)?);
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        if (b1 & 0x80 != 0) != masked {
            return None;
        }
        // One copy of the rest per length form and role, so that each is compiled knowing
        // its bounds (the 7-bit one then masks without a loop set up for long payloads).
        match (b1 & 0x7F, masked) {
            (127, _) => None,
            (126, _) => {
                let len = u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]);
                self.take_whole_message(kind, usize::from(len), 4, masked)
            }
            (short, true) => self.take_whole_message(kind, usize::from(short), 2, true),
            (short, false) => self.take_whole_message(kind, usize::from(short), 2, false),
        }
    }

    /// The rest of `decode_small_message`, for a frame of `len` bytes whose masking key (if
    /// `masked`) or payload starts at `key_at`.
    #[inline(always)]
    fn take_whole_message(
        &mut self,
        kind: MessageKind,
        len: usize,
        key_at: usize,
        masked: bool,
    ) -> Option<Decoded> {
        let header = if masked { key_at + 4 } else { key_at };
        let buf = self.input.unread_mut();
        if buf.len() < header + len
            || len > self.options.max_frame_size
            || len > self.options.max_message_size
        {
            return None;
        }
        let (head, rest) = buf.split_at_mut(header);
        let payload = &mut rest[..len];
        if masked {
            let key = [
                head[key_at],
                head[key_at + 1],
                head[key_at + 2],
                head[key_at + 3],
            ];
            apply_mask(payload, key, 0);
            if kind == MessageKind::Text && crate::utf8::validate(payload).is_err() {
                // Undo, and let the general path find (and report) the error.
                mask_again(payload, key);
                return None;
            }
        } else if kind == MessageKind::Text && crate::utf8::validate(payload).is_err() {
            return None;
        }
        self.input.rpos += header;
        self.frame_arrived();
        Some(Decoded::Input(Payload::Message(kind), len))
    }

    /// A complete frame proves the peer alive (a byte does not: it may trickle forever).
    #[inline]
    fn frame_arrived(&mut self) {
        self.rx_activity = true;
        self.timers.pong.stop();
    }

    fn fail_decoding(&mut self, e: ProtocolError) -> Decoded {
        self.fail(e);
        Decoded::Queued
    }

    /// Rules that depend on the connection rather than the header alone.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.rsv & !self.ext.allowed_rsv() != 0 {
            return Err(ProtocolError::ReservedBitsSet);
        }
        // RSV1 (compression) marks a message's first frame only (RFC 7692 §6.1).
        if h.rsv & RSV1 != 0 && !matches!(h.opcode, OpCode::Text | OpCode::Binary) {
            return Err(ProtocolError::ReservedBitsSet);
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if h.payload_len > self.options.max_frame_size as u64 {
            return Err(ProtocolError::FrameTooLarge);
        }
        let so_far = match (h.opcode, self.message.in_progress()) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            (OpCode::Continuation, Some(_)) => self.message.len(),
            _ => 0,
        };
        let is_data = !h.opcode.is_control();
        // A compressed message's limit applies to what it inflates to (see `deflate`); its
        // compressed bytes are inflated frame by frame and not kept.
        if is_data
            && !self.options.stream_fragments
            && !self.is_compressed(h)
            && so_far.saturating_add(h.payload_len) > self.options.max_message_size as u64
        {
            return Err(ProtocolError::MessageTooLarge);
        }
        Ok(())
    }

    /// Whether the frame belongs to a compressed message (RSV1 on its first frame).
    #[inline]
    fn is_compressed(&self, h: &FrameHeader) -> bool {
        match h.opcode {
            OpCode::Continuation => self.message.is_compressed(),
            _ => h.rsv & RSV1 != 0,
        }
    }

    /// Whether the frame's payload will be copied into the message buffer: a fragment of
    /// an uncompressed message, when whole messages are delivered.
    fn reassembles(&self, h: &FrameHeader) -> bool {
        if self.options.stream_fragments {
            return false;
        }
        match h.opcode {
            OpCode::Text | OpCode::Binary => !h.fin && h.rsv & RSV1 == 0,
            OpCode::Continuation => !self.message.is_compressed(),
            _ => false,
        }
    }

    /// Whether the frame's raw payload is text to validate as it arrives (compressed text is
    /// validated as it is inflated).
    fn is_text_payload(&self, h: &FrameHeader) -> bool {
        match h.opcode {
            OpCode::Text => h.rsv & RSV1 == 0,
            OpCode::Continuation => {
                self.message.in_progress() == Some(MessageKind::Text)
                    && !self.message.is_compressed()
            }
            _ => false,
        }
    }

    /// Handles a complete frame whose `len` payload bytes are at the decode position.
    fn on_frame(
        &mut self,
        h: FrameHeader,
        len: usize,
        fused: bool,
    ) -> Result<Option<Decoded>, ProtocolError> {
        match h.opcode {
            OpCode::Text | OpCode::Binary | OpCode::Continuation => self.on_data(h, len, fused),
            OpCode::Ping => {
                if self.options.auto_pong && !self.life.close_sent() {
                    let mut copy = [0u8; MAX_CONTROL_PAYLOAD];
                    copy[..len].copy_from_slice(self.input.payload(len));
                    self.answer_ping(&copy[..len]);
                }
                Ok(Some(Decoded::Input(Payload::Ping, len)))
            }
            OpCode::Pong => {
                self.timers.pong.stop();
                Ok(Some(Decoded::Input(Payload::Pong, len)))
            }
            OpCode::Close => {
                let mut copy = [0u8; MAX_CONTROL_PAYLOAD];
                copy[..len].copy_from_slice(self.input.payload(len));
                self.input.rpos += len;
                self.on_close_frame(&copy[..len])?;
                Ok(Some(Decoded::Queued))
            }
        }
    }

    /// A complete data frame. `fused`: its payload is still masked and unvalidated (see
    /// `decode`); it goes to the message buffer.
    #[inline]
    fn on_data(
        &mut self,
        h: FrameHeader,
        len: usize,
        fused: bool,
    ) -> Result<Option<Decoded>, ProtocolError> {
        let kind = match h.opcode {
            OpCode::Text => MessageKind::Text,
            OpCode::Binary => MessageKind::Binary,
            _ => self
                .message
                .in_progress()
                .ok_or(ProtocolError::UnexpectedContinuation)?,
        };
        if self.is_compressed(&h) {
            return self.on_compressed_data(h, kind, len);
        }
        if h.fin && kind == MessageKind::Text && !fused {
            self.message.end_utf8()?;
        }
        if self.options.stream_fragments {
            self.message.stream_fragment(kind, h.fin);
            return Ok(Some(Decoded::Input(Payload::Fragment(kind, h.fin), len)));
        }
        if h.fin && self.message.in_progress().is_none() {
            // A whole message in one frame: its bytes go out as they lie in the input.
            self.message.single_frame();
            return Ok(Some(Decoded::Input(Payload::Message(kind), len)));
        }
        let key = if fused { h.mask } else { None };
        let payload = self.input.payload(len);
        let complete =
            self.message
                .append(kind, payload, key, h.fin, self.options.max_message_size)?;
        self.input.rpos += len;
        Ok(complete.then_some(Decoded::Buffered(Payload::Message(kind))))
    }

    /// A complete frame of a compressed message: inflated onto the message buffer.
    fn on_compressed_data(
        &mut self,
        h: FrameHeader,
        kind: MessageKind,
        len: usize,
    ) -> Result<Option<Decoded>, ProtocolError> {
        let limit = self.options.max_message_size;
        let payload = self.input.payload(len);
        let ext = &mut self.ext;
        let inflated = self.message.inflate(kind, len, h.fin, |out, end| {
            ext.inflate(payload, out, limit, end)
        });
        // The inflate budget gets its bytes back once they are handed over, or abandoned
        // with a failed message (invalid UTF-8 included), not when the connection is dropped.
        if inflated.is_err() || self.options.stream_fragments || h.fin {
            self.ext.inflated_handed_over();
        }
        inflated?;
        self.input.rpos += len;
        Ok(if self.options.stream_fragments {
            Some(Decoded::Buffered(Payload::Fragment(kind, h.fin)))
        } else if h.fin {
            Some(Decoded::Buffered(Payload::Message(kind)))
        } else {
            None
        })
    }
}

/// Undoes an unmasking: rare (bad text), so kept out of the fast path's code.
#[cold]
fn mask_again(payload: &mut [u8], key: [u8; 4]) {
    apply_mask(payload, key, 0);
}
