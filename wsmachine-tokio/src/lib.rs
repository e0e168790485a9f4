//! # wsmachine-tokio
//!
//! WebSocket streams for tokio: a [`WebSocketStream`] runs the [`wsmachine`] engine over any
//! `AsyncRead + AsyncWrite` transport (a `TcpStream`, a TLS stream, hyper's upgraded
//! connection) and is a [`Stream`](futures_core::Stream) of [`Message`]s and a
//! [`Sink`](futures_sink::Sink) of them.
//!
//! What the engine gives, the stream keeps:
//! * keepalive pings, the pong deadline, the close timeout and the handshake timeout run on
//!   `tokio::time`, so a dead peer is dropped and a close never hangs;
//! * permessage-deflate (RFC 7692) when the configuration asks for it;
//! * backpressure: [`poll_ready`](futures_sink::Sink::poll_ready) waits while more than
//!   [`StreamConfig::high_water_mark`] bytes are queued for the transport;
//! * [`split`](WebSocketStream::split) into a read half and a write half.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wsmachine::ClientConfig;
//! use wsmachine_tokio::{Message, WebSocketStream};
//!
//! # async fn run() -> Result<(), wsmachine_tokio::Error> {
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:9001").await?;
//! let mut ws = WebSocketStream::client(ClientConfig::new("127.0.0.1:9001", "/"), tcp).await?;
//! ws.send(Message::text("Привет, сервер!")).await?;
//! if let Some(Ok(Message::Text(echo))) = ws.next().await {
//!     println!("{echo}");
//! }
//! ws.close(wsmachine::CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod error;
mod handshake;
mod message;
mod stream;

pub use error::Error;
pub use handshake::Answer;
pub use message::{CloseFrame, Message};
pub use stream::{StreamConfig, WebSocketStream};
pub use wsmachine;
