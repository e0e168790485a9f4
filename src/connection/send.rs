//! Sending: messages, fragments, pings, pongs and the close frame, written straight into the
//! output buffer (header and masked payload in one pass).

use super::{Connection, State};
use crate::close::CloseCode;
use crate::error::Error;
use crate::event::MessageKind;
#[cfg(feature = "deflate")]
use crate::frame::RSV1;
use crate::frame::{write_frame, OpCode, MAX_CONTROL_PAYLOAD};
use bytes::BufMut;

impl Connection {
    /// Sends a whole text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.check_can_send()?;
        if self.sending.is_some() {
            return Err(Error::FragmentedMessageInProgress);
        }
        self.write_message(OpCode::Text, text.as_bytes());
        Ok(())
    }

    /// Sends a whole binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_can_send()?;
        if self.sending.is_some() {
            return Err(Error::FragmentedMessageInProgress);
        }
        self.write_message(OpCode::Binary, data);
        Ok(())
    }

    /// Sends one fragment of a message (RFC 6455 §5.4): the first call starts a message of
    /// `kind`, later ones must name the same kind, and `fin` ends it. Control frames and
    /// pongs may be sent between fragments. Text fragments may split a code point; the
    /// whole message must be UTF-8.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.check_can_send()?;
        let opcode = match self.sending {
            None => match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(Error::FragmentMismatch),
        };
        self.write_data(opcode, fin, data);
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_can_send()?;
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong);
        }
        self.write_control(OpCode::Ping, data);
        Ok(())
    }

    /// Sends a pong (unsolicited, or to answer pings yourself with `auto_pong` off).
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_can_send()?;
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong);
        }
        self.write_control(OpCode::Pong, data);
        Ok(())
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2). `code` must be sendable
    /// (1000-1003, 1007-1014, 3000-4999), or [`CloseCode::NO_STATUS`] with an empty reason
    /// for a close frame without a body; the reason is at most 123 bytes. The state becomes
    /// `Closing`; nothing more may be sent.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.check_can_send()?;
        if code == CloseCode::NO_STATUS && reason.is_empty() {
            self.write_close_empty();
        } else {
            if !code.is_sendable() {
                return Err(Error::InvalidCloseCode(code.0));
            }
            if reason.len() + 2 > MAX_CONTROL_PAYLOAD {
                return Err(Error::ControlPayloadTooLong);
            }
            self.write_close(code.0, reason);
        }
        self.close_sent = true;
        self.state = State::Closing;
        self.timers.keepalive.stop();
        self.timers
            .close
            .start(self.options.close_timeout_duration());
        Ok(())
    }

    fn check_can_send(&self) -> Result<(), Error> {
        if self.state != State::Open || self.close_sent {
            return Err(Error::WrongState(self.state));
        }
        Ok(())
    }

    fn next_mask(&mut self) -> Option<[u8; 4]> {
        self.masks.as_mut().map(|m| m.next_key())
    }

    /// A whole message: compressed when permessage-deflate is in force and it is worth it.
    fn write_message(&mut self, opcode: OpCode, payload: &[u8]) {
        #[cfg(feature = "deflate")]
        if self.compress_outgoing(payload) {
            let mask = self.next_mask();
            let compressed = match self.codec.as_deref() {
                Some(codec) => codec.scratch.as_slice(),
                None => &[],
            };
            write_frame(&mut self.output, true, RSV1, opcode, mask, compressed);
            return;
        }
        self.write_data(opcode, true, payload);
    }

    fn write_data(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let mask = self.next_mask();
        write_frame(&mut self.output, fin, 0, opcode, mask, payload);
    }

    pub(super) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let mask = self.next_mask();
        write_frame(&mut self.output, true, 0, opcode, mask, payload);
    }

    /// Writes a close frame with `code` and as much of `reason` as fits in 123 bytes
    /// (cut at a character boundary).
    pub(super) fn write_close(&mut self, code: u16, reason: &str) {
        let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let mut w = &mut payload[..];
        w.put_u16(code);
        w.put_slice(&reason.as_bytes()[..end]);
        self.write_control(OpCode::Close, &payload[..2 + end]);
    }

    pub(super) fn write_close_empty(&mut self) {
        self.write_control(OpCode::Close, &[]);
    }
}
