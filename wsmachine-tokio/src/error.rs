//! What can go wrong on a WebSocket stream.

use std::fmt;
use std::io;
use wsmachine::Failure;

/// An error of a [`WebSocketStream`](crate::WebSocketStream).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    Io(io::Error),
    /// The engine failed the connection: a protocol violation by the peer (a close frame
    /// with its code was sent), a failed handshake, a pong or close timeout, or the
    /// transport ending before the closing handshake.
    Failed(Failure),
    /// A send the engine refused (wrong state, control payload too long, invalid close
    /// code...).
    Send(wsmachine::Error),
    /// The connection is closed: nothing more can be sent.
    Closed,
    /// A server answered the handshake request with this HTTP status instead of upgrading
    /// ([`Answer::Reject`](crate::Answer::Reject) or [`Answer::Respond`](crate::Answer::Respond)).
    Refused(u16),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e}"),
            Self::Failed(failure) => write!(f, "connection failed: {failure}"),
            Self::Send(e) => write!(f, "cannot send: {e}"),
            Self::Closed => f.write_str("the connection is closed"),
            Self::Refused(status) => write!(f, "the handshake was answered with {status}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Failed(e) => Some(e),
            Self::Send(e) => Some(e),
            Self::Closed | Self::Refused(_) => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<wsmachine::Error> for Error {
    fn from(e: wsmachine::Error) -> Self {
        match e {
            wsmachine::Error::WrongState(wsmachine::State::Closed) => Self::Closed,
            e => Self::Send(e),
        }
    }
}
