//! Receiving: frames out of the input buffer, unmasked and validated as their bytes arrive,
//! reassembled into messages (or streamed as fragments), control frames answered.

use super::{Connection, Role, State};
use crate::close::CloseCode;
use crate::error::ProtocolError;
use crate::event::{Event, MessageKind};
use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::utf8::Utf8Bytes;
use alloc::string::String;
use bytes::{Buf, Bytes};

impl Connection {
    /// Decodes input up to the next event. Frames are decoded as the application polls, so
    /// a data message goes straight from the input buffer to the caller without a queue;
    /// the arrived part of an incomplete frame is unmasked and validated at once, so bad text
    /// is refused as early as the bytes allow. Control frames and failures queue their
    /// events (and answers) in `self.events`, which is returned first.
    pub(super) fn decode_next(&mut self) -> Option<Event> {
        while matches!(self.state, State::Open | State::Closing) && !self.close_received {
            let header = match self.rx.frame {
                Some(h) => h,
                None => match FrameHeader::parse(&self.input) {
                    Ok(None) => return None,
                    Ok(Some((h, n))) => {
                        if let Err(e) = self.check_header(&h) {
                            self.fail(e);
                            return self.events.pop_front();
                        }
                        self.input.advance(n);
                        self.rx.frame = Some(h);
                        self.rx.processed = 0;
                        h
                    }
                    Err(e) => {
                        self.fail(e);
                        return self.events.pop_front();
                    }
                },
            };
            // check_header bounded the length by max_frame_size, a usize.
            let len = header.payload_len as usize;
            let arrived = self.input.len().min(len);
            if arrived > self.rx.processed {
                let is_text = self.is_text_payload(&header);
                let fresh = &mut self.input[self.rx.processed..arrived];
                if let Some(key) = header.mask {
                    apply_mask(fresh, key, self.rx.processed);
                }
                if is_text && self.rx.utf8.feed(fresh).is_err() {
                    self.fail(ProtocolError::InvalidUtf8);
                    return self.events.pop_front();
                }
                self.rx.processed = arrived;
            }
            if arrived < len {
                // Make room for the rest of the frame now, in one allocation.
                self.input.reserve(len - arrived);
                return None;
            }
            let payload = self.input.split_to(len).freeze();
            self.rx.frame = None;
            self.rx.processed = 0;
            match self.on_frame(header, payload) {
                Ok(Some(event)) => return Some(event),
                Ok(None) if !self.events.is_empty() => return self.events.pop_front(),
                Ok(None) => {}
                Err(e) => {
                    self.fail(e);
                    return self.events.pop_front();
                }
            }
        }
        None
    }

    /// Decodes every complete frame in the input into the event queue (before an input that
    /// must see them first, such as the end of the transport).
    pub(super) fn decode_all(&mut self) {
        while let Some(e) = self.decode_next() {
            self.events.push_back(e);
        }
    }

    /// Rules that depend on the connection rather than the header alone.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.rsv & !self.rx.allowed_rsv != 0 {
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
        if is_data
            && !self.options.stream_fragments
            && so_far + h.payload_len > self.options.max_message_size as u64
        {
            return Err(ProtocolError::MessageTooLarge);
        }
        Ok(())
    }

    fn is_text_payload(&self, h: &FrameHeader) -> bool {
        match h.opcode {
            OpCode::Text => true,
            OpCode::Continuation => self.rx.message == Some(MessageKind::Text),
            _ => false,
        }
    }

    /// Handles a complete frame; returns its event, if it makes one directly.
    fn on_frame(&mut self, h: FrameHeader, payload: Bytes) -> Result<Option<Event>, ProtocolError> {
        match h.opcode {
            OpCode::Text | OpCode::Binary | OpCode::Continuation => self.on_data(h, payload),
            OpCode::Ping => {
                if self.options.auto_pong && !self.close_sent {
                    self.write_control(OpCode::Pong, &payload);
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => {
                self.timers.pong.stop();
                Ok(Some(Event::Pong(payload)))
            }
            OpCode::Close => self.on_close(&payload).map(|()| None),
        }
    }

    fn on_data(&mut self, h: FrameHeader, payload: Bytes) -> Result<Option<Event>, ProtocolError> {
        let kind = match h.opcode {
            OpCode::Text => MessageKind::Text,
            OpCode::Binary => MessageKind::Binary,
            _ => self
                .rx
                .message
                .ok_or(ProtocolError::UnexpectedContinuation)?,
        };
        if h.fin && kind == MessageKind::Text && !self.rx.utf8.is_complete() {
            return Err(ProtocolError::InvalidUtf8);
        }
        if self.options.stream_fragments {
            self.rx.message = if h.fin { None } else { Some(kind) };
            if h.fin {
                self.rx.utf8.reset();
            }
            return Ok(Some(Event::Fragment {
                kind,
                data: payload,
                fin: h.fin,
            }));
        }
        if h.fin && self.rx.message.is_none() {
            // A whole message in one frame: hand out the frame's bytes without copying.
            self.rx.utf8.reset();
            return Ok(Some(message_event(kind, payload)));
        }
        self.rx.message = Some(kind);
        self.rx.message_len += payload.len() as u64;
        self.rx.buffer.extend_from_slice(&payload);
        if h.fin {
            let data = self.rx.buffer.split().freeze();
            self.rx.message = None;
            self.rx.message_len = 0;
            self.rx.utf8.reset();
            return Ok(Some(message_event(kind, data)));
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

fn message_event(kind: MessageKind, data: Bytes) -> Event {
    match kind {
        MessageKind::Text => Event::Text(Utf8Bytes::from_validated(data)),
        MessageKind::Binary => Event::Binary(data),
    }
}
