//! Sending: messages, fragments, pings, pongs and close frames, written straight into the
//! output buffer (header and masked payload in one pass), compressed when an extension says
//! so; and the keepalive ping.

use super::{trace, Connection};
use crate::error::Error;
use crate::event::MessageKind;
use crate::frame::{write_frame, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, RSV1};
use crate::time::Instant;
use bytes::{BufMut, Bytes};

/// Unwritten output past which a ping replaces the pong still waiting instead of adding one.
const PONG_BACKLOG: usize = 4 << 10;
/// The size from which a message handed over as `Bytes` is queued instead of copied: below
/// it, copying costs less than one more chunk to write.
const QUEUE_WHOLE: usize = 16 << 10;

impl Connection {
    /// A whole message, which may not interrupt a fragmented one.
    #[inline]
    pub(super) fn send_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        let opcode = self.start_message(kind)?;
        // Compressed when an extension is in force and it is worth it.
        let mask = self.next_mask()?;
        match self.ext.compress(data) {
            Some(compressed) => {
                write_frame(self.output.frames(), true, RSV1, opcode, mask, compressed);
                trace::sent(&mut self.trace, true, RSV1, opcode, mask, compressed);
                self.ext.compressed_sent();
            }
            None => {
                write_frame(self.output.frames(), true, 0, opcode, mask, data);
                trace::sent(&mut self.trace, true, 0, opcode, mask, data);
            }
        }
        Ok(())
    }

    /// Whether a whole message may be sent now; its opcode.
    #[inline]
    fn start_message(&self, kind: MessageKind) -> Result<OpCode, Error> {
        self.life.check_can_send()?;
        self.check_output_room()?;
        if self.sending.is_some() {
            return Err(Error::FragmentedMessageInProgress);
        }
        Ok(match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        })
    }

    /// A whole message whose payload the connection may keep: past `QUEUE_WHOLE` bytes and
    /// uncompressed, it is queued as it is after its header (a client masks it in place
    /// when nothing else holds it), instead of being copied into the output.
    pub(super) fn send_message_bytes(
        &mut self,
        kind: MessageKind,
        data: Bytes,
    ) -> Result<(), Error> {
        if data.len() < QUEUE_WHOLE || self.ext.may_compress(data.len()) {
            return self.send_message(kind, &data);
        }
        let opcode = self.start_message(kind)?;
        let mask = self.next_mask()?;
        trace::sent(&mut self.trace, true, 0, opcode, mask, &data);
        let payload = match mask {
            None => data,
            Some(key) => match data.try_into_mut() {
                Ok(mut own) => {
                    crate::mask::apply_mask(&mut own, key, 0);
                    own.freeze()
                }
                Err(shared) => {
                    write_frame(self.output.frames(), true, 0, opcode, mask, &shared);
                    return Ok(());
                }
            },
        };
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut head);
        self.output.frames().extend_from_slice(&head[..n]);
        self.output.queue(payload);
        Ok(())
    }

    /// One fragment of a message (RFC 6455 §5.4); fragments are never compressed.
    pub(super) fn send_fragment_frame(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.life.check_can_send()?;
        self.check_output_room()?;
        let opcode = match self.sending {
            None => match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(Error::FragmentMismatch),
        };
        let mask = self.next_mask()?;
        write_frame(self.output.frames(), fin, 0, opcode, mask, data);
        trace::sent(&mut self.trace, fin, 0, opcode, mask, data);
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// A ping or pong the application asked for.
    pub(super) fn send_control(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), Error> {
        self.life.check_can_send()?;
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong);
        }
        self.check_output_room()?;
        self.masks_ready()?;
        self.write_control(opcode, data);
        Ok(())
    }

    /// `Options::max_output_buffer`: sends are refused while more is waiting.
    #[inline]
    fn check_output_room(&self) -> Result<(), Error> {
        if self.output.len() > self.options.max_output_buffer {
            return Err(Error::OutputBufferFull);
        }
        Ok(())
    }

    /// The automatic answer to a ping. Only the latest ping needs one (RFC 6455 §5.5.3), so
    /// a pong still wholly unwritten is replaced: at most one is ever pending.
    pub(super) fn answer_ping(&mut self, payload: &[u8]) {
        // Every ping gets its pong while little output waits (peers such as the Autobahn
        // TestSuite expect one each); past PONG_BACKLOG only the latest is answered (RFC 6455
        // §5.5.3), so pings into an undrained connection cannot grow its output.
        let backlogged = self.output.len() >= PONG_BACKLOG;
        let at = self.output.start_pong(backlogged);
        self.write_control(OpCode::Pong, payload);
        self.output.pong_written(at);
    }

    /// The keepalive timer fired: ping unless input arrived since it last looked, and wait
    /// for the pong.
    pub(super) fn keepalive_due(&mut self, now: Instant) {
        if let Some((interval, timeout)) = self.options.keepalive_durations() {
            if self.rx_activity {
                self.rx_activity = false;
            } else {
                self.write_control(OpCode::Ping, &now.as_millis().to_be_bytes());
                if !self.timers.pong.is_on() {
                    self.timers.pong.start(timeout);
                }
            }
            self.timers.keepalive.start(interval);
            self.timers.anchor(now);
        }
    }

    /// A client's next masking key (`None` for a server), or the random source's failure.
    #[inline]
    fn next_mask(&mut self) -> Result<Option<[u8; 4]>, Error> {
        self.masks.as_mut().map(|m| m.next_key()).transpose()
    }

    /// Before a command writes a control frame: a client's next key can be drawn, so the
    /// command fails cleanly (writing nothing) when the random source does.
    #[inline]
    pub(super) fn masks_ready(&mut self) -> Result<(), Error> {
        self.masks.as_mut().map_or(Ok(()), |m| m.ready())
    }

    /// Writes a control frame. When a client's random source fails, nothing is written and
    /// the connection fails at the next poll (`fail_no_random`): a frame is never masked
    /// with a predictable key.
    pub(super) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        match self.next_mask() {
            Ok(mask) => {
                write_frame(self.output.frames(), true, 0, opcode, mask, payload);
                trace::sent(&mut self.trace, true, 0, opcode, mask, payload);
            }
            Err(_) => {
                if let Some(m) = self.masks.as_mut() {
                    m.set_failed();
                }
            }
        }
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
