//! The messages a [`WebSocketStream`](crate::WebSocketStream) yields and accepts.

use bytes::Bytes;
use wsmachine::{CloseCode, MessageKind, Utf8Bytes};

/// A WebSocket message, or a control frame the application may want to see or send.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A whole text message (validated UTF-8).
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// One frame of a message: received when the engine streams fragments
    /// (`Options::stream_fragments`), or sent to build a message piece by piece.
    Fragment {
        /// The message's kind.
        kind: MessageKind,
        /// The frame's payload.
        data: Bytes,
        /// Whether this is the message's last frame.
        fin: bool,
    },
    /// A ping from the peer (answered already), or one to send.
    Ping(Bytes),
    /// A pong from the peer, or an unsolicited one to send.
    Pong(Bytes),
    /// The peer's close frame (answered already), or one to send (`None`: code 1000).
    Close(Option<CloseFrame>),
}

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close code (1005, "no code", when the peer sent an empty close frame).
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8.
    pub reason: String,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(Utf8Bytes::from(text.into()))
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::Binary(data.into())
    }

    /// The payload's bytes (a close frame's reason).
    pub fn payload(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Fragment { data, .. } => data,
            Self::Close(frame) => frame.as_ref().map_or(&[], |f| f.reason.as_bytes()),
        }
    }
}
