//! Where the connection is in its life, and the only code that changes it (h11's rule: one
//! place owns the transitions). The state is the browser's `readyState`; the two close flags
//! and the peer's close code track the closing handshake (RFC 6455 §7). The fields are
//! private to this file: the other parts read them and ask for a transition; what a
//! transition writes or reports is done by `opening` and `closing`.

use crate::close::CloseCode;
use crate::error::Error;
use crate::state::State;
use alloc::string::String;

pub(super) struct Lifecycle {
    state: State,
    close_sent: bool,
    close_received: bool,
    /// The peer's close code and reason (or those we failed with), for `Closed`; 1006 and
    /// no reason until one is known. Two fields rather than an `Option` of a pair, so the
    /// flags above fit in the code's padding.
    close_code: CloseCode,
    close_reason: String,
}

impl Lifecycle {
    pub(super) const fn new() -> Self {
        Self {
            state: State::Connecting,
            close_sent: false,
            close_received: false,
            close_code: CloseCode::ABNORMAL,
            close_reason: String::new(),
        }
    }

    #[inline]
    pub(super) fn state(&self) -> State {
        self.state
    }

    #[inline]
    pub(super) fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Whether received bytes are still taken (nothing counts after the peer's close).
    #[inline]
    pub(super) fn takes_input(&self) -> bool {
        self.state != State::Closed && !self.close_received
    }

    /// Whether frames are decoded: after the opening handshake, until the peer's close.
    #[inline]
    pub(super) fn decodes_frames(&self) -> bool {
        matches!(self.state, State::Open | State::Closing) && !self.close_received
    }

    /// Whether both close frames have passed.
    #[inline]
    pub(super) fn closing_handshake_done(&self) -> bool {
        self.close_sent && self.close_received
    }

    /// Data and control frames may be sent only while open and before our close frame.
    #[inline]
    pub(super) fn check_can_send(&self) -> Result<(), Error> {
        if self.state != State::Open || self.close_sent {
            return Err(Error::WrongState(self.state));
        }
        Ok(())
    }

    // ----- transitions -----

    /// The opening handshake succeeded.
    pub(super) fn open(&mut self) {
        self.state = State::Open;
    }

    /// The application sent a close frame: `Closing`, and nothing more may be sent.
    pub(super) fn close_by_us(&mut self) {
        self.close_sent = true;
        self.state = State::Closing;
    }

    /// A close frame is due (answering the peer's, or failing): returns whether it still
    /// has to be written, and counts it as sent.
    pub(super) fn send_close(&mut self) -> bool {
        !core::mem::replace(&mut self.close_sent, true)
    }

    /// The peer's close frame arrived with this code and reason.
    pub(super) fn close_by_peer(&mut self, code: CloseCode, reason: String) {
        self.close_received = true;
        self.close_code = code;
        self.close_reason = reason;
    }

    /// We fail the connection with this code and reason; `Closed` reports them.
    pub(super) fn failed(&mut self, code: CloseCode, reason: &str) {
        self.close_code = code;
        self.close_reason = String::from(reason);
    }

    /// A client whose closing handshake completed waits for the server to end the transport.
    pub(super) fn await_transport_end(&mut self) {
        self.state = State::Closing;
    }

    /// Enters `Closed`; returns the code and reason `Closed` reports, or `None` when the
    /// connection was closed already.
    pub(super) fn finish(&mut self) -> Option<(CloseCode, String)> {
        if self.state == State::Closed {
            return None;
        }
        self.state = State::Closed;
        Some((self.close_code, core::mem::take(&mut self.close_reason)))
    }
}
