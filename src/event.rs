//! What the engine tells the application, drained with
//! [`Connection::poll_event`](crate::Connection::poll_event).

use crate::close::CloseCode;
use crate::error::Failure;
use crate::handshake::Request;
use crate::utf8::Utf8Bytes;
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

/// Something that happened on the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A server with `defer_accept` received a valid request: answer it with
    /// [`accept`](crate::Connection::accept), [`reject`](crate::Connection::reject) or
    /// [`respond`](crate::Connection::respond). A plain HTTP `GET` (`websocket: false`)
    /// can only be answered with `respond` or `reject`.
    Request(Request),
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
