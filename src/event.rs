//! What the engine tells the application, drained with
//! [`Connection::poll_event`](crate::Connection::poll_event).

use crate::close::CloseCode;
use crate::error::Failure;
use crate::handshake::Request;
use crate::utf8::Utf8Bytes;
use alloc::boxed::Box;
use alloc::string::String;
use bytes::Bytes;

/// The two kinds of data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// Something that happened on the connection. New kinds of event may be added in minor
/// releases: match with a `_` arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A server with `defer_accept` received a valid request: answer it with
    /// [`accept`](crate::Connection::accept), [`reject`](crate::Connection::reject) or
    /// [`respond`](crate::Connection::respond). A plain HTTP `GET` (`websocket: false`)
    /// can only be answered with `respond` or `reject`.
    Request(Box<Request>),
    /// The opening handshake is done; the state is now `Open`.
    Open {
        /// The subprotocol both sides agreed on.
        subprotocol: Option<String>,
        /// The `Sec-WebSocket-Extensions` value in force, empty when none.
        extensions: String,
    },
    /// A whole text message.
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// One frame of a data message, when fragments are streamed (`Options::stream_fragments`).
    /// Text fragments are validated as they arrive; a code point may span two fragments.
    Fragment {
        /// The message's kind.
        kind: MessageKind,
        /// The frame's payload.
        data: Bytes,
        /// Whether this is the message's last fragment.
        fin: bool,
    },
    /// The peer pinged (a pong was queued unless `auto_pong` is off).
    Ping(Bytes),
    /// The peer ponged.
    Pong(Bytes),
    /// The peer sent a close frame (our answer, if due, was queued).
    Close {
        /// The code, or `None` for an empty close frame (reported as 1005).
        code: Option<CloseCode>,
        /// The reason.
        reason: String,
    },
    /// The engine failed the connection; `Closed` follows.
    Error(Failure),
    /// The connection is over: write what is left of the output, then drop the transport.
    Closed {
        /// Whether the closing handshake completed (the browser's `wasClean`).
        clean: bool,
        /// The close code: the peer's if it sent one (1005 for an empty close frame), the
        /// code we failed the connection with after a protocol error, else 1006.
        code: CloseCode,
        /// The close reason.
        reason: String,
    },
}

/// An event lent by [`Connection::poll_event_ref`](crate::Connection::poll_event_ref): the
/// same as [`Event`], with payloads borrowed from the connection's buffers until the next
/// call on the connection. The fastest way to consume messages: no allocation, no copy, no
/// reference count.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum EventRef<'a> {
    /// See [`Event::Request`].
    Request(&'a Request),
    /// See [`Event::Open`].
    Open {
        /// The subprotocol both sides agreed on.
        subprotocol: Option<&'a str>,
        /// The `Sec-WebSocket-Extensions` value in force, empty when none.
        extensions: &'a str,
    },
    /// A whole text message.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// See [`Event::Fragment`].
    Fragment {
        /// The message's kind.
        kind: MessageKind,
        /// The frame's payload.
        data: &'a [u8],
        /// Whether this is the message's last fragment.
        fin: bool,
    },
    /// See [`Event::Ping`].
    Ping(&'a [u8]),
    /// See [`Event::Pong`].
    Pong(&'a [u8]),
    /// See [`Event::Close`].
    Close {
        /// The code, or `None` for an empty close frame.
        code: Option<CloseCode>,
        /// The reason.
        reason: &'a str,
    },
    /// See [`Event::Error`].
    Error(Failure),
    /// See [`Event::Closed`].
    Closed {
        /// Whether the closing handshake completed.
        clean: bool,
        /// The close code.
        code: CloseCode,
        /// The close reason.
        reason: &'a str,
    },
}

impl<'a> EventRef<'a> {
    /// Borrows an owned event.
    pub fn from_owned(e: &'a Event) -> Self {
        match e {
            Event::Request(r) => Self::Request(r),
            Event::Open {
                subprotocol,
                extensions,
            } => Self::Open {
                subprotocol: subprotocol.as_deref(),
                extensions,
            },
            Event::Text(t) => Self::Text(t.as_str()),
            Event::Binary(b) => Self::Binary(b),
            Event::Fragment { kind, data, fin } => Self::Fragment {
                kind: *kind,
                data,
                fin: *fin,
            },
            Event::Ping(b) => Self::Ping(b),
            Event::Pong(b) => Self::Pong(b),
            Event::Close { code, reason } => Self::Close {
                code: *code,
                reason,
            },
            Event::Error(f) => Self::Error(*f),
            Event::Closed {
                clean,
                code,
                reason,
            } => Self::Closed {
                clean: *clean,
                code: *code,
                reason,
            },
        }
    }

    /// Copies the event into an owned one.
    pub fn to_owned(&self) -> Event {
        match *self {
            Self::Request(r) => Event::Request(Box::new(r.clone())),
            Self::Open {
                subprotocol,
                extensions,
            } => Event::Open {
                subprotocol: subprotocol.map(String::from),
                extensions: String::from(extensions),
            },
            Self::Text(t) => Event::Text(Utf8Bytes::from(String::from(t))),
            Self::Binary(b) => Event::Binary(Bytes::copy_from_slice(b)),
            Self::Fragment { kind, data, fin } => Event::Fragment {
                kind,
                data: Bytes::copy_from_slice(data),
                fin,
            },
            Self::Ping(b) => Event::Ping(Bytes::copy_from_slice(b)),
            Self::Pong(b) => Event::Pong(Bytes::copy_from_slice(b)),
            Self::Close { code, reason } => Event::Close {
                code,
                reason: String::from(reason),
            },
            Self::Error(f) => Event::Error(f),
            Self::Closed {
                clean,
                code,
                reason,
            } => Event::Closed {
                clean,
                code,
                reason: String::from(reason),
            },
        }
    }
}
