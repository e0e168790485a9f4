//! Every way a connection ends (RFC 6455 §7), and what each writes and reports: the `close`
//! command, the peer's close frame, failing for a protocol error, the end of the transport,
//! the close and keepalive timeouts, and the final `Closed`. The state changes themselves
//! are asked of `lifecycle`.

use super::{Connection, Role};
use crate::close::CloseCode;
use crate::error::{Error, Failure, ProtocolError};
use crate::event::Event;
use crate::frame::MAX_CONTROL_PAYLOAD;
use alloc::string::String;

impl Connection {
    /// The `close` command (RFC 6455 §7.1.2).
    pub(super) fn start_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.life.check_can_send()?;
        self.masks_ready()?;
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
        self.life.close_by_us();
        self.timers.keepalive.stop();
        self.timers
            .close
            .start(self.options.close_timeout_duration());
        Ok(())
    }

    /// Fails the connection for a protocol error (RFC 6455 §7.1.7): queues a close frame
    /// with the error's code, reports the error and closes.
    pub(super) fn fail(&mut self, e: ProtocolError) {
        self.events.push(Event::Error(Failure::Protocol(e)));
        if self.life.send_close() {
            self.write_close(e.close_code().0, e.as_str());
        }
        self.life.failed(e.close_code(), e.as_str());
        self.finish(false);
    }

    /// A close frame (RFC 6455 §5.5.1, §7.1.5-6): validate it, echo it (code and reason,
    /// see `Options::echo_close_reason`) if we have not sent ours, and finish the closing
    /// handshake.
    pub(super) fn on_close_frame(&mut self, payload: &[u8]) -> Result<(), ProtocolError> {
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
        self.life
            .close_by_peer(code.unwrap_or(CloseCode::NO_STATUS), reason.clone());
        if self.life.send_close() {
            // The answer echoes the code and, unless turned off, the reason: valid UTF-8
            // that fits, since it came in a close frame of at most 125 bytes.
            match code {
                Some(c) if self.options.echo_close_reason => self.write_close(c.0, &reason),
                Some(c) => self.write_close(c.0, ""),
                None => self.write_close_empty(),
            }
        }
        self.events.push(Event::Close { code, reason });
        self.closing_handshake_done();
        Ok(())
    }

    /// Both close frames have passed. A server ends the transport now (RFC 6455 §7.1.1); a
    /// client waits for the server to do so, up to the close timeout.
    fn closing_handshake_done(&mut self) {
        self.input.discard();
        match self.role {
            Role::Server => self.finish(true),
            Role::Client => {
                self.life.await_transport_end();
                self.timers.keepalive.stop();
                self.timers.pong.stop();
                self.timers
                    .close
                    .start(self.options.close_timeout_duration());
            }
        }
    }

    /// The transport ended after the opening handshake: clean only when the closing
    /// handshake completed (otherwise 1006, RFC 6455 §7.1.5).
    pub(super) fn transport_ended(&mut self) {
        if self.life.closing_handshake_done() {
            self.finish(true);
        } else {
            self.events.push(Event::Error(Failure::Eof));
            self.finish(false);
        }
    }

    /// The close timer fired.
    pub(super) fn close_timed_out(&mut self) {
        if self.life.closing_handshake_done() {
            // The closing handshake completed; the server just never ended the transport.
            self.finish(true);
        } else {
            self.events.push(Event::Error(Failure::CloseTimeout));
            self.finish(false);
        }
    }

    /// No pong came within the keepalive timeout: the peer is gone.
    pub(super) fn keepalive_failed(&mut self) {
        self.events.push(Event::Error(Failure::PongTimeout));
        if !self.life.close_sent() {
            self.write_close(CloseCode::INTERNAL_ERROR.0, "keepalive timeout");
        }
        self.finish(false);
    }

    /// A frame the engine wrote on its own found no masking key (the client's random source
    /// failed): nothing was written, so the connection fails without a close frame (1006).
    #[inline]
    pub(super) fn fail_if_no_random(&mut self) {
        if self.masks.as_mut().is_some_and(|m| m.take_failed()) {
            self.fail_no_random();
        }
    }

    #[cold]
    fn fail_no_random(&mut self) {
        if self.life.state() == crate::state::State::Closed {
            return;
        }
        self.events.push(Event::Error(Failure::NoRandomSource));
        self.life.failed(CloseCode::ABNORMAL, "no random source");
        self.finish(false);
    }

    /// Enters `Closed`, releases buffers and reports `Closed`.
    pub(super) fn finish(&mut self, clean: bool) {
        let Some((code, reason)) = self.life.finish() else {
            return;
        };
        self.timers.stop_all();
        self.opening = None;
        self.input = Default::default();
        self.message = Default::default();
        self.events.push(Event::Closed {
            clean,
            code,
            reason,
        });
    }
}
