//! `wsm_event`: what `wsm_conn_poll_event` hands out, a kind plus borrowed bytes.

use crate::error::{Failure, HandshakeError};
use crate::event::{Event, MessageKind};
use alloc::string::String;
use core::fmt::Write as _;

/// Which event came out.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsm_event_kind {
    /// No event is waiting.
    WSM_EVENT_NONE = 0,
    /// A server with deferred accept got a valid request: `data` is its path, `websocket`
    /// tells an Upgrade request from a plain HTTP `GET`; look at its headers with
    /// `wsm_conn_request_header`, answer with `wsm_conn_accept` (Upgrade only),
    /// `wsm_conn_reject` or `wsm_conn_respond`.
    WSM_EVENT_REQUEST = 1,
    /// The opening handshake is done; `data` is the agreed subprotocol (empty when none).
    WSM_EVENT_OPEN = 2,
    /// A whole text message in `data` (valid UTF-8, not NUL-terminated).
    WSM_EVENT_TEXT = 3,
    /// A whole binary message in `data`.
    WSM_EVENT_BINARY = 4,
    /// One frame of a message when fragments are streamed: `data`, `text` tells the
    /// message's kind, `fin` whether it is the last fragment.
    WSM_EVENT_FRAGMENT = 5,
    /// The peer pinged with payload `data` (a pong was queued unless auto-pong is off).
    WSM_EVENT_PING = 6,
    /// The peer ponged with payload `data`.
    WSM_EVENT_PONG = 7,
    /// The peer sent a close frame: `code` (1005 when it had none) and reason `data`. Our
    /// answer, if due, was queued.
    WSM_EVENT_CLOSE = 8,
    /// The library failed the connection: `error` says why, `data` describes it in English,
    /// `code` is the close code sent for a protocol error, `status` the HTTP status of a
    /// failed handshake. `WSM_EVENT_CLOSED` follows.
    WSM_EVENT_ERROR = 9,
    /// The connection is over: write what is left of the pending output, then close the
    /// transport. `clean` tells whether the closing handshake completed, `code` and `data`
    /// are the close code and reason (1006 when abnormal).
    WSM_EVENT_CLOSED = 10,
}

/// Why the library failed a connection (`WSM_EVENT_ERROR`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsm_error_kind {
    /// Not an error event.
    WSM_ERROR_NONE = 0,
    /// The peer broke the protocol; a close frame with `code` was queued.
    WSM_ERROR_PROTOCOL = 1,
    /// The opening handshake failed (`status`: the HTTP status a server answered, or the
    /// status a client received).
    WSM_ERROR_HANDSHAKE = 2,
    /// No pong arrived within the keepalive timeout.
    WSM_ERROR_PONG_TIMEOUT = 3,
    /// The peer did not answer our close frame within the close timeout.
    WSM_ERROR_CLOSE_TIMEOUT = 4,
    /// The transport ended before the closing handshake.
    WSM_ERROR_EOF = 5,
    /// The random source failed when the engine had a frame of its own to mask (never with
    /// a `wsm_random_fn`, which cannot fail).
    WSM_ERROR_NO_RANDOM_SOURCE = 6,
}

/// One event. `data`/`len` borrow from the connection: they stay valid until the next call
/// that takes the connection as a non-const `wsm_conn *` returns (so they may be passed to
/// that call, to echo a message), or until `wsm_conn_free`. `data` is never NULL (it points
/// to an empty string when `len` is 0). Fields that do not apply to the kind are 0/false.
/// The library writes the whole struct: it need not be initialised.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wsm_event {
    /// What happened.
    pub kind: wsm_event_kind,
    /// The payload, message, reason, path, subprotocol or description (see the kind).
    pub data: *const u8,
    /// Its length in bytes.
    pub len: usize,
    /// The close code: the peer's (`CLOSE`), the final one (`CLOSED`), or the one we sent
    /// (`ERROR` of kind `WSM_ERROR_PROTOCOL`, and 1011 for `WSM_ERROR_PONG_TIMEOUT`).
    pub code: u16,
    /// The HTTP status (`ERROR` of kind `WSM_ERROR_HANDSHAKE`).
    pub status: u16,
    /// `FRAGMENT`: this is the message's last fragment.
    pub fin: bool,
    /// `FRAGMENT`: the message is text (else binary).
    pub text: bool,
    /// `CLOSED`: the closing handshake completed.
    pub clean: bool,
    /// `REQUEST`: it is a WebSocket Upgrade request (else a plain HTTP request).
    pub websocket: bool,
    /// `ERROR`: why.
    pub error: wsm_error_kind,
}

/// What an empty `data` points to: an empty slice's own pointer is dangling (0x1), which C
/// may not read, while the header promises an empty C string.
static EMPTY: [u8; 1] = [0];

impl wsm_event {
    /// An event of `kind` with no data.
    pub(crate) fn empty(kind: wsm_event_kind) -> Self {
        Self {
            kind,
            data: EMPTY.as_ptr(),
            len: 0,
            code: 0,
            status: 0,
            fin: false,
            text: false,
            clean: false,
            websocket: false,
            error: wsm_error_kind::WSM_ERROR_NONE,
        }
    }

    fn with_data(kind: wsm_event_kind, data: &[u8]) -> Self {
        if data.is_empty() {
            return Self::empty(kind);
        }
        Self {
            data: data.as_ptr(),
            len: data.len(),
            ..Self::empty(kind)
        }
    }

    /// The C view of `event`; `scratch` holds text made for it (an error's description),
    /// so both must outlive the returned pointers.
    pub(crate) fn view(event: &Event, scratch: &mut String) -> Self {
        use wsm_event_kind::*;
        match event {
            Event::Request(req) => Self {
                websocket: req.websocket,
                ..Self::with_data(WSM_EVENT_REQUEST, req.path.as_bytes())
            },
            Event::Open { subprotocol, .. } => Self::with_data(
                WSM_EVENT_OPEN,
                subprotocol.as_deref().unwrap_or("").as_bytes(),
            ),
            Event::Text(text) => Self::with_data(WSM_EVENT_TEXT, text.as_str().as_bytes()),
            Event::Binary(data) => Self::with_data(WSM_EVENT_BINARY, data),
            Event::Fragment { kind, data, fin } => Self {
                fin: *fin,
                text: *kind == MessageKind::Text,
                ..Self::with_data(WSM_EVENT_FRAGMENT, data)
            },
            Event::Ping(data) => Self::with_data(WSM_EVENT_PING, data),
            Event::Pong(data) => Self::with_data(WSM_EVENT_PONG, data),
            Event::Close { code, reason } => Self {
                code: code.map_or(crate::CloseCode::NO_STATUS.0, |c| c.0),
                ..Self::with_data(WSM_EVENT_CLOSE, reason.as_bytes())
            },
            Event::Error(failure) => {
                scratch.clear();
                let _ = write!(scratch, "{failure}");
                let mut view = Self::with_data(WSM_EVENT_ERROR, scratch.as_bytes());
                view.error = match failure {
                    Failure::Protocol(e) => {
                        view.code = e.close_code().0;
                        wsm_error_kind::WSM_ERROR_PROTOCOL
                    }
                    Failure::Handshake(e) => {
                        view.status = match e {
                            HandshakeError::UnexpectedStatus(s) => *s,
                            other => other.status(),
                        };
                        wsm_error_kind::WSM_ERROR_HANDSHAKE
                    }
                    Failure::PongTimeout => {
                        view.code = crate::CloseCode::INTERNAL_ERROR.0;
                        wsm_error_kind::WSM_ERROR_PONG_TIMEOUT
                    }
                    Failure::CloseTimeout => wsm_error_kind::WSM_ERROR_CLOSE_TIMEOUT,
                    Failure::Eof => wsm_error_kind::WSM_ERROR_EOF,
                    Failure::NoRandomSource => wsm_error_kind::WSM_ERROR_NO_RANDOM_SOURCE,
                };
                view
            }
            Event::Closed {
                clean,
                code,
                reason,
            } => Self {
                clean: *clean,
                code: code.0,
                ..Self::with_data(WSM_EVENT_CLOSED, reason.as_bytes())
            },
        }
    }
}
