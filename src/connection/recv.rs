//! Receiving: frames out of the input buffer, unmasked and validated as their bytes arrive,
//! reassembled into messages (or streamed as fragments), control frames answered.
//!
//! Frames are decoded when the application polls, one event at a time. The decoder leaves
//! a complete payload at the front of the input buffer (or, for a fragmented message, in
//! the reassembly buffer); the owned path ([`Connection::poll_event`]) splits it off as
//! `Bytes` without copying, the borrowed path ([`Connection::poll_event_ref`]) lends it and
//! drops it at the next call, with no allocation and no reference counting at all.

use super::{Connection, Role, State};
use crate::close::CloseCode;
use crate::error::ProtocolError;
use crate::event::{Event, EventRef, MessageKind};
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, RSV1};
use crate::mask::apply_mask;
use crate::utf8::{assume_validated, Utf8Bytes};
use alloc::string::String;
use bytes::{Buf, Bytes};

/// What one decoding step produced.
pub(super) enum Decoded {
    /// A payload of `len` bytes at the front of the input.
    Input(Payload, usize),
    /// A payload in `rx.buffer`: a reassembled message, or an inflated one or fragment.
    Buffered(Payload),
    /// Events were queued (a close frame, a failure).
    Queued,
}

/// What a payload at the front of the input is.
#[derive(Clone, Copy)]
pub(super) enum Payload {
    Message(MessageKind),
    Fragment(MessageKind, bool),
    Ping,
    Pong,
}

impl Connection {
    /// The next event, owned; payloads are split off the input without copying.
    pub(super) fn next_owned(&mut self) -> Option<Event> {
        self.settle_lent();
        if let Some(e) = self.pop_queued() {
            return Some(e);
        }
        match self.decode()? {
            Decoded::Input(what, len) => Some(owned_event(what, self.split_input(len))),
            Decoded::Buffered(what) => {
                let data = self.rx.buffer.split().freeze();
                Some(owned_event(what, data))
            }
            Decoded::Queued => self.pop_queued(),
        }
    }

    /// The next event, lent until the next call on the connection.
    pub(super) fn next_lent(&mut self) -> Option<EventRef<'_>> {
        self.settle_lent();
        if !self.events.is_empty() {
            return self.lend_queued();
        }
        match self.decode() {
            Some(Decoded::Input(what, len)) => {
                self.lent_input = len;
                let start = self.rpos;
                Some(lent_event(what, &self.input[start..start + len]))
            }
            Some(Decoded::Buffered(what)) => {
                self.lent_buffer = true;
                Some(lent_event(what, &self.rx.buffer))
            }
            Some(Decoded::Queued) => self.lend_queued(),
            None => None,
        }
    }

    /// Lends the front of the event queue; it is popped at the next call.
    fn lend_queued(&mut self) -> Option<EventRef<'_>> {
        let front = self.events.front()?;
        self.lent_queued = true;
        Some(EventRef::from_owned(front))
    }

    /// Drops what the previous borrowed event lent.
    #[inline]
    pub(super) fn settle_lent(&mut self) {
        self.rpos += self.lent_input;
        self.lent_input = 0;
        if self.lent_buffer {
            self.rx.buffer.clear();
            self.lent_buffer = false;
        }
        if self.lent_queued {
            self.lent_queued = false;
            self.pop_queued();
        }
    }

    /// Splits `len` payload bytes off the front of the input, without copying.
    fn split_input(&mut self, len: usize) -> Bytes {
        self.input.advance(self.rpos);
        self.rpos = 0;
        self.input.split_to(len).freeze()
    }

    #[inline]
    fn pop_queued(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            return None;
        }
        let e = self.events.pop_front();
        if self.events.is_empty() && self.events.capacity() > 0 {
            // Control events are rare: an idle connection holds no queue.
            self.events = Default::default();
        }
        e
    }

    /// Decodes every complete frame in the input into the event queue, for inputs that must
    /// see them first (the end of the transport, a timer).
    pub(super) fn decode_all(&mut self) {
        self.settle_lent();
        let mut all: alloc::collections::VecDeque<Event> = core::mem::take(&mut self.events);
        while let Some(d) = self.decode() {
            match d {
                Decoded::Input(what, len) => {
                    all.push_back(owned_event(what, self.split_input(len)))
                }
                Decoded::Buffered(what) => {
                    all.push_back(owned_event(what, self.rx.buffer.split().freeze()))
                }
                Decoded::Queued => all.append(&mut self.events),
            }
        }
        all.append(&mut self.events);
        self.events = all;
    }

    /// Decodes input up to the next event. The arrived part of an incomplete frame is
    /// unmasked and validated at once, so bad text is refused as early as the bytes allow.
    fn decode(&mut self) -> Option<Decoded> {
        if let Some(d) = self.decode_small_message() {
            return Some(d);
        }
        while matches!(self.state, State::Open | State::Closing) && !self.close_received {
            let header = match self.rx.frame {
                Some(h) => h,
                None => match FrameHeader::parse(&self.input[self.rpos..]) {
                    Ok(None) => {
                        self.release_idle_input();
                        return None;
                    }
                    Ok(Some((h, n))) => {
                        if let Err(e) = self.check_header(&h) {
                            return Some(self.fail_decoding(e));
                        }
                        self.rpos += n;
                        self.rx.frame = Some(h);
                        self.rx.processed = 0;
                        self.rx.unmasked = 0;
                        h
                    }
                    Err(e) => return Some(self.fail_decoding(e)),
                },
            };
            // check_header bounded the length by max_frame_size, a usize.
            let len = header.payload_len as usize;
            let arrived = (self.input.len() - self.rpos).min(len);
            // A whole masked fragment bound for the reassembly buffer is unmasked (and
            // validated) on its way there, in one pass, instead of in place first.
            let fused = arrived == len
                && self.rx.processed == 0
                && self.rx.unmasked == 0
                && header.mask.is_some()
                && self.reassembles(&header);
            if arrived > self.rx.processed && !fused {
                let is_text = self.is_text_payload(&header);
                // Unmask and validate block by block, so each block is validated while it is
                // still in the nearest cache.
                const BLOCK: usize = 4096;
                while self.rx.processed < arrived {
                    let from = self.rx.processed;
                    let to = arrived.min(from + BLOCK);
                    let block = &mut self.input[self.rpos + from..self.rpos + to];
                    if let Some(key) = header.mask {
                        if to > self.rx.unmasked {
                            let skip = self.rx.unmasked.saturating_sub(from);
                            apply_mask(&mut block[skip..], key, from + skip);
                            self.rx.unmasked = to;
                        }
                    }
                    if is_text && self.rx.utf8.feed(block).is_err() {
                        return Some(self.fail_decoding(ProtocolError::InvalidUtf8));
                    }
                    self.rx.processed = to;
                }
            }
            if arrived < len {
                // Make room, in one allocation, for the rest of the frame and for what the
                // read that ends it brings beyond it (so it is not copied again). Decoded
                // bytes go first, so they are neither kept nor copied.
                let wanted = len - arrived + self.rx.last_read;
                if self.input.capacity() - self.input.len() < wanted {
                    self.input.advance(self.rpos);
                    self.rpos = 0;
                    self.input.reserve(wanted);
                }
                return None;
            }
            self.rx.frame = None;
            self.rx.processed = 0;
            self.rx.unmasked = 0;
            match self.on_frame(header, len, fused) {
                Ok(Some(d)) => return Some(d),
                Ok(None) => {}
                Err(e) => return Some(self.fail_decoding(e)),
            }
        }
        None
    }

    /// The common case, decoded without the general machinery: a whole, unfragmented,
    /// masked text or binary frame of under 126 bytes, completely in the buffer, received by
    /// a server outside any fragmented message. Anything else (including every error) takes
    /// the general path, which applies the same rules.
    #[inline]
    fn decode_small_message(&mut self) -> Option<Decoded> {
        if self.rx.frame.is_some()
            || self.rx.message.is_some()
            || self.role != Role::Server
            || self.state != State::Open
            || self.options.stream_fragments
        {
            return None;
        }
        let buf = &mut self.input[self.rpos..];
        let (&b0, &b1) = (buf.first()?, buf.get(1)?);
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let len = usize::from(b1 & 0x7F);
        if b1 & 0x80 == 0
            || len >= 126
            || buf.len() < 6 + len
            || len > self.options.max_frame_size
            || len > self.options.max_message_size
        {
            return None;
        }
        let key = [buf[2], buf[3], buf[4], buf[5]];
        let payload = &mut buf[6..6 + len];
        apply_mask(payload, key, 0);
        if kind == MessageKind::Text && crate::utf8::validate(payload).is_err() {
            // Undo, and let the general path find (and report) the error.
            apply_mask(payload, key, 0);
            return None;
        }
        self.rpos += 6;
        Some(Decoded::Input(Payload::Message(kind), len))
    }

    fn fail_decoding(&mut self, e: ProtocolError) -> Decoded {
        self.fail(e);
        Decoded::Queued
    }

    /// While a masked frame's payload is arriving, `receive` unmasks it as it copies it into
    /// the input (one pass over memory instead of two). Returns the part of `data` left to
    /// append as is.
    pub(super) fn unmask_into_input<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        let Some(FrameHeader {
            mask: Some(key),
            payload_len,
            ..
        }) = self.rx.frame
        else {
            return data;
        };
        let have = self.input.len() - self.rpos;
        // Only when everything buffered of the frame is already unmasked.
        if have != self.rx.unmasked || !matches!(self.state, State::Open | State::Closing) {
            return data;
        }
        let take = (payload_len as usize - have).min(data.len());
        self.input.reserve(data.len());
        crate::mask::extend_masked(&mut self.input, &data[..take], key, have);
        self.rx.unmasked += take;
        &data[take..]
    }

    /// An idle connection holds no input buffer.
    fn release_idle_input(&mut self) {
        if self.rpos == self.input.len() && self.lent_input == 0 {
            self.input = bytes::BytesMut::new();
            self.rpos = 0;
        }
        if self.rx.message.is_none() && self.rx.buffer.is_empty() && !self.lent_buffer {
            self.rx.buffer = bytes::BytesMut::new();
        }
    }

    /// Rules that depend on the connection rather than the header alone.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.rsv & !self.rx.allowed_rsv != 0 {
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
        let so_far = match (h.opcode, self.rx.message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            (OpCode::Continuation, Some(_)) => self.rx.message_len,
            _ => 0,
        };
        let is_data = !h.opcode.is_control();
        // A compressed message's limit applies to what it inflates to (see `deflate`); its
        // compressed bytes are inflated frame by frame and not kept.
        let compressed = match h.opcode {
            OpCode::Continuation => self.rx.compressed,
            _ => h.rsv & RSV1 != 0,
        };
        if is_data
            && !self.options.stream_fragments
            && !compressed
            && so_far + h.payload_len > self.options.max_message_size as u64
        {
            return Err(ProtocolError::MessageTooLarge);
        }
        Ok(())
    }

    /// Whether the frame's raw payload is text to validate as it arrives (compressed text is
    /// validated as it is inflated).
    /// Whether the frame's payload will be copied into the reassembly buffer: a fragment of
    /// an uncompressed message, when whole messages are delivered.
    fn reassembles(&self, h: &FrameHeader) -> bool {
        if self.options.stream_fragments {
            return false;
        }
        match h.opcode {
            OpCode::Text | OpCode::Binary => !h.fin && h.rsv & RSV1 == 0,
            OpCode::Continuation => !self.rx.compressed,
            _ => false,
        }
    }

    fn is_text_payload(&self, h: &FrameHeader) -> bool {
        match h.opcode {
            OpCode::Text => h.rsv & RSV1 == 0,
            OpCode::Continuation => {
                self.rx.message == Some(MessageKind::Text) && !self.rx.compressed
            }
            _ => false,
        }
    }

    /// Handles a complete frame whose `len` payload bytes are at the front of the input.
    fn on_frame(
        &mut self,
        h: FrameHeader,
        len: usize,
        fused: bool,
    ) -> Result<Option<Decoded>, ProtocolError> {
        match h.opcode {
            OpCode::Text | OpCode::Binary | OpCode::Continuation => self.on_data(h, len, fused),
            OpCode::Ping => {
                if self.options.auto_pong && !self.close_sent {
                    let mut copy = [0u8; MAX_CONTROL_PAYLOAD];
                    copy[..len].copy_from_slice(&self.input[self.rpos..self.rpos + len]);
                    self.write_control(OpCode::Pong, &copy[..len]);
                }
                Ok(Some(Decoded::Input(Payload::Ping, len)))
            }
            OpCode::Pong => {
                self.timers.pong.stop();
                Ok(Some(Decoded::Input(Payload::Pong, len)))
            }
            OpCode::Close => {
                let mut copy = [0u8; MAX_CONTROL_PAYLOAD];
                copy[..len].copy_from_slice(&self.input[self.rpos..self.rpos + len]);
                self.rpos += len;
                self.on_close(&copy[..len])?;
                Ok(Some(Decoded::Queued))
            }
        }
    }

    /// A complete data frame. `fused`: its payload is still masked and unvalidated (see
    /// `decode`); it goes to the reassembly buffer.
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
                .rx
                .message
                .ok_or(ProtocolError::UnexpectedContinuation)?,
        };
        #[cfg(feature = "deflate")]
        {
            let compressed = match h.opcode {
                OpCode::Continuation => self.rx.compressed,
                _ => h.rsv & RSV1 != 0,
            };
            if compressed {
                return self.on_compressed_data(h, kind, len);
            }
        }
        if h.fin && kind == MessageKind::Text && !fused && !self.rx.utf8.is_complete() {
            return Err(ProtocolError::InvalidUtf8);
        }
        if self.options.stream_fragments {
            self.rx.message = if h.fin { None } else { Some(kind) };
            if h.fin {
                self.rx.utf8.reset();
            }
            return Ok(Some(Decoded::Input(Payload::Fragment(kind, h.fin), len)));
        }
        if h.fin && self.rx.message.is_none() {
            // A whole message in one frame: its bytes go out as they lie in the input.
            self.rx.utf8.reset();
            return Ok(Some(Decoded::Input(Payload::Message(kind), len)));
        }
        if self.rx.message.is_none() {
            // Grow once, to the size of the last reassembled message, not by doublings.
            let hint = self.rx.size_hint.min(self.options.max_message_size);
            self.rx.buffer.reserve(hint.max(len));
        }
        self.rx.message = Some(kind);
        self.rx.message_len += len as u64;
        let payload = &self.input[self.rpos..self.rpos + len];
        match h.mask {
            Some(key) if fused => {
                let start = self.rx.buffer.len();
                crate::mask::extend_masked(&mut self.rx.buffer, payload, key, 0);
                if kind == MessageKind::Text {
                    let fresh = &self.rx.buffer[start..];
                    self.rx
                        .utf8
                        .feed(fresh)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                    if h.fin && !self.rx.utf8.is_complete() {
                        return Err(ProtocolError::InvalidUtf8);
                    }
                }
            }
            _ => self.rx.buffer.extend_from_slice(payload),
        }
        self.rpos += len;
        if h.fin {
            self.rx.size_hint = self.rx.buffer.len();
            self.rx.message = None;
            self.rx.message_len = 0;
            self.rx.utf8.reset();
            return Ok(Some(Decoded::Buffered(Payload::Message(kind))));
        }
        Ok(None)
    }

    /// A close frame (RFC 6455 §5.5.1, §7.1.5-6): validate it, echo it if we have not sent
    /// ours, and finish the closing handshake.
    fn on_close(&mut self, payload: &[u8]) -> Result<(), ProtocolError> {
        let (code, reason) = match payload.len() {
            0 => (None, String::new()),
            1 => return Err(ProtocolError::InvalidClosePayload),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_sendable() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = core::str::from_utf8(&payload[2..])
                    .map_err(|_| ProtocolError::InvalidCloseReason)?;
                (Some(code), String::from(reason))
            }
        };
        self.close_received = true;
        self.peer_close = Some((code.unwrap_or(CloseCode::NO_STATUS), reason.clone()));
        self.events.push_back(Event::Close { code, reason });
        if !self.close_sent {
            match code {
                Some(c) => self.write_close(c.0, ""),
                None => self.write_close_empty(),
            }
            self.close_sent = true;
        }
        self.closing_handshake_done();
        Ok(())
    }
}

fn owned_event(what: Payload, data: Bytes) -> Event {
    match what {
        Payload::Message(MessageKind::Text) => Event::Text(Utf8Bytes::from_validated(data)),
        Payload::Message(MessageKind::Binary) => Event::Binary(data),
        Payload::Fragment(kind, fin) => Event::Fragment { kind, data, fin },
        Payload::Ping => Event::Ping(data),
        Payload::Pong => Event::Pong(data),
    }
}

fn lent_event(what: Payload, data: &[u8]) -> EventRef<'_> {
    match what {
        // The decoder validated the whole message before handing it out.
        Payload::Message(MessageKind::Text) => EventRef::Text(assume_validated(data)),
        Payload::Message(MessageKind::Binary) => EventRef::Binary(data),
        Payload::Fragment(kind, fin) => EventRef::Fragment { kind, data, fin },
        Payload::Ping => EventRef::Ping(data),
        Payload::Pong => EventRef::Pong(data),
    }
}
