//! Errors, sorted by who is at fault: the peer broke the framing protocol ([`ProtocolError`],
//! each with the close code to send), the peer's opening handshake was unacceptable
//! ([`HandshakeError`], each with the HTTP status a server answers), or the caller used the
//! API wrongly ([`Error`]). A connection that failed stays failed.

use crate::close::CloseCode;
use crate::state::State;
use core::fmt;

/// The peer broke RFC 6455 (or a negotiated extension) after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A reserved opcode (RFC 6455 §5.2).
    ReservedOpcode(u8),
    /// A 64-bit length with the most significant bit set (§5.2).
    InvalidLength,
    /// A control frame without FIN (§5.5).
    FragmentedControlFrame,
    /// A control frame with more than 125 bytes of payload (§5.5).
    ControlFrameTooLong,
    /// An RSV bit that no negotiated extension claims (§5.2).
    ReservedBitsSet,
    /// A client sent an unmasked frame (§5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1).
    MaskedFrame,
    /// A continuation frame with no message to continue (§5.4).
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is unfinished (§5.4).
    ExpectedContinuation,
    /// Text that is not UTF-8 (§8.1).
    InvalidUtf8,
    /// A close frame with a one-byte payload (§5.5.1).
    InvalidClosePayload,
    /// A close frame with a code that may not be sent (§7.4).
    InvalidCloseCode(u16),
    /// A close reason that is not UTF-8 (§5.5.1).
    InvalidCloseReason,
    /// A frame longer than the configured limit.
    FrameTooLarge,
    /// A message longer than the configured limit.
    MessageTooLarge,
    /// Compressed data that does not inflate (RFC 7692).
    BadCompressedData,
    /// A compressed message would inflate past the process-wide
    /// [`InflateBudget`](crate::InflateBudget) its connections share: not the peer's fault,
    /// the process is busy, so it closes with 1013 (try again later).
    InflateBudgetExhausted,
}

impl ProtocolError {
    /// The close code this error is answered with.
    pub const fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge | Self::MessageTooLarge => CloseCode::MESSAGE_TOO_BIG,
            Self::InflateBudgetExhausted => CloseCode::TRY_AGAIN_LATER,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// A short reason, fit for a close frame.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::ReservedOpcode(_) => "reserved opcode",
            Self::InvalidLength => "invalid payload length",
            Self::FragmentedControlFrame => "fragmented control frame",
            Self::ControlFrameTooLong => "control frame too long",
            Self::ReservedBitsSet => "reserved bits set",
            Self::UnmaskedFrame => "unmasked client frame",
            Self::MaskedFrame => "masked server frame",
            Self::UnexpectedContinuation => "continuation without a message",
            Self::ExpectedContinuation => "new message inside a fragmented one",
            Self::InvalidUtf8 => "invalid UTF-8 in text",
            Self::InvalidClosePayload => "close payload of one byte",
            Self::InvalidCloseCode(_) => "invalid close code",
            Self::InvalidCloseReason => "invalid UTF-8 in close reason",
            Self::FrameTooLarge => "frame too large",
            Self::MessageTooLarge => "message too large",
            Self::BadCompressedData => "bad compressed data",
            Self::InflateBudgetExhausted => "server busy: inflate budget spent",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::InvalidCloseCode(c) => write!(f, "invalid close code {c}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// The opening handshake (RFC 6455 §4) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP head does not parse.
    MalformedHttp,
    /// The head is longer than the configured limit.
    HeadTooLarge,
    /// More header fields than the configured limit.
    TooManyHeaders,
    /// The request method is not GET.
    MethodNotGet,
    /// The HTTP version is not 1.1.
    NotHttp11,
    /// No `Host` header.
    MissingHost,
    /// `Upgrade` does not list `websocket`.
    MissingUpgrade,
    /// `Connection` does not list `Upgrade`.
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Key` is missing or not 16 bytes of base64.
    InvalidKey,
    /// `Sec-WebSocket-Version` is missing or not 13.
    UnsupportedVersion,
    /// The server answered with a status other than 101.
    UnexpectedStatus(u16),
    /// `Sec-WebSocket-Accept` is missing or wrong.
    InvalidAccept,
    /// The server chose a subprotocol the client did not offer, or several.
    UnofferedSubprotocol,
    /// The server accepted an extension the client did not offer, or with bad parameters.
    UnofferedExtension,
    /// The application rejected the request.
    Rejected(u16),
    /// The client sent more than a frame before the handshake completed.
    EarlyData,
    /// No handshake within the handshake timeout.
    Timeout,
    /// The transport ended during the handshake.
    Eof,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with.
    pub const fn status(&self) -> u16 {
        match self {
            Self::HeadTooLarge | Self::TooManyHeaders => 431,
            Self::MethodNotGet => 405,
            Self::NotHttp11 => 505,
            Self::UnsupportedVersion => 426,
            Self::Rejected(status) => *status,
            Self::Timeout => 408,
            _ => 400,
        }
    }

    /// A short explanation, used as the body of a server's error answer.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::MalformedHttp => "malformed HTTP request",
            Self::HeadTooLarge => "request head too large",
            Self::TooManyHeaders => "too many header fields",
            Self::MethodNotGet => "a WebSocket handshake must use GET",
            Self::NotHttp11 => "a WebSocket handshake must use HTTP/1.1",
            Self::MissingHost => "missing Host header",
            Self::MissingUpgrade => "Upgrade header must list websocket",
            Self::MissingConnectionUpgrade => "Connection header must list Upgrade",
            Self::InvalidKey => "Sec-WebSocket-Key must be 16 bytes in base64",
            Self::UnsupportedVersion => "only Sec-WebSocket-Version 13 is supported",
            Self::UnexpectedStatus(_) => "server did not answer 101 Switching Protocols",
            Self::InvalidAccept => "wrong Sec-WebSocket-Accept",
            Self::UnofferedSubprotocol => "server chose a subprotocol that was not offered",
            Self::UnofferedExtension => "server chose an extension that was not offered",
            Self::Rejected(_) => "rejected",
            Self::EarlyData => "data sent before the handshake completed",
            Self::Timeout => "handshake timed out",
            Self::Eof => "connection ended during the handshake",
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedStatus(s) => write!(f, "server answered {s}, not 101"),
            Self::Rejected(s) => write!(f, "rejected with status {s}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Why the engine failed the connection; carried by [`Event::Error`](crate::Event::Error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The peer broke the framing protocol; a close frame with its code was queued.
    Protocol(ProtocolError),
    /// The opening handshake failed; a server queued an HTTP error answer.
    Handshake(HandshakeError),
    /// No pong arrived within the keepalive timeout after a ping.
    PongTimeout,
    /// The peer did not answer our close frame within the close timeout.
    CloseTimeout,
    /// The transport ended before the closing handshake (RFC 6455 §7.1.5: code 1006).
    Eof,
    /// A client's random source failed when the engine had a frame of its own to send (a
    /// pong, a keepalive ping, a close frame): nothing was sent, and the connection closed
    /// with 1006 rather than mask a frame predictably (RFC 6455 §10.3).
    NoRandomSource,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::PongTimeout => f.write_str("no pong within the keepalive timeout"),
            Self::CloseTimeout => f.write_str("no close frame within the close timeout"),
            Self::Eof => f.write_str("transport ended before the closing handshake"),
            Self::NoRandomSource => f.write_str("the random source failed"),
        }
    }
}

/// The caller used the API in a way the protocol or the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The call is not allowed in this state (sending before `Open` or after `close`).
    WrongState(State),
    /// A control frame payload (ping, pong, close reason + 2) longer than 125 bytes.
    ControlPayloadTooLong,
    /// A close code that may not be sent (RFC 6455 §7.4).
    InvalidCloseCode(u16),
    /// A fragment continues a message of another kind, or none was started.
    FragmentMismatch,
    /// A complete message was sent while a fragmented one is unfinished.
    FragmentedMessageInProgress,
    /// A header name or value, host, path or subprotocol with characters HTTP forbids.
    InvalidHeader,
    /// `accept`/`reject` when no request is waiting for an answer.
    NoPendingRequest,
    /// The subprotocol passed to `accept` was not offered by the client.
    SubprotocolNotOffered,
    /// `accept` on a plain HTTP request (answer it with `respond`).
    NotWebSocket,
    /// No random source: none was supplied without the `std` feature, or the operating
    /// system's generator failed (masking keys are never made up instead).
    NoRandomSource,
    /// A rejection status that is not a 4xx or 5xx.
    InvalidStatus(u16),
    /// More output is waiting than `Options::max_output_buffer` allows; nothing was
    /// written. Write out `pending_output` first.
    OutputBufferFull,
    /// `commit_received` counted more bytes than the last `receive_buffer` lent, or another
    /// call on the connection came between them; nothing was taken.
    UncommittableInput,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongState(s) => write!(f, "not allowed in state {s:?}"),
            Self::ControlPayloadTooLong => {
                f.write_str("control frame payload longer than 125 bytes")
            }
            Self::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            Self::FragmentMismatch => {
                f.write_str("fragment does not continue the message in progress")
            }
            Self::FragmentedMessageInProgress => f.write_str("a fragmented message is unfinished"),
            Self::InvalidHeader => {
                f.write_str("invalid characters in a header, host, path or subprotocol")
            }
            Self::NoPendingRequest => f.write_str("no handshake request is waiting for an answer"),
            Self::SubprotocolNotOffered => f.write_str("the client did not offer that subprotocol"),
            Self::NotWebSocket => f.write_str("not a WebSocket request; answer it with respond"),
            Self::NoRandomSource => f.write_str("no random source available"),
            Self::InvalidStatus(s) => write!(f, "status {s} is not an HTTP error status"),
            Self::OutputBufferFull => f.write_str("the output buffer is full; write it out first"),
            Self::UncommittableInput => {
                f.write_str("more bytes committed than the last receive buffer lent")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
#[cfg(feature = "std")]
impl std::error::Error for ProtocolError {}
#[cfg(feature = "std")]
impl std::error::Error for HandshakeError {}
#[cfg(feature = "std")]
impl std::error::Error for Failure {}
