//! # wsmachine
//!
//! A Sans-IO WebSocket engine (RFC 6455): bytes in, bytes and events out, time as an
//! argument. It never opens a socket, spawns a thread or reads a clock, so the same engine
//! serves blocking sockets, async runtimes, C event loops and fuzzers.
//!
//! ```text
//!      transport (socket, TLS stream, epoll loop, fuzzer)
//!         │ bytes read                      ▲ bytes to write
//!         ▼                                 │
//!   receive()/receive_eof()          pending_output()/consume_output()
//!   ┌──────────────────── Connection ─────────────────────┐
//!   │ handshake → frames → masking → UTF-8 → messages     │
//!   │ send_*() / close()        handle_timeout(now)       │
//!   └─────────────────────────────────────────────────────┘
//!         │ poll_event(): Open, Text, Binary, Ping, Pong, Close, Error, Closed
//!         ▼
//!      application
//! ```
//!
//! ## Driving loop
//!
//! ```
//! use wsmachine::{ClientConfig, Connection, Event, ServerConfig, State};
//!
//! let mut client = Connection::client(ClientConfig::new("example.com", "/chat")).unwrap();
//! let mut server = Connection::server(ServerConfig::new());
//! // Shuttle bytes both ways until both sides are quiet, as sockets would.
//! fn shuttle(a: &mut Connection, b: &mut Connection) {
//!     loop {
//!         let (ab, ba) = (a.take_output(), b.take_output());
//!         if ab.is_empty() && ba.is_empty() { break; }
//!         b.receive(&ab);
//!         a.receive(&ba);
//!     }
//! }
//! shuttle(&mut client, &mut server);
//! assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
//! assert!(matches!(client.poll_event(), Some(Event::Open { .. })));
//!
//! client.send_text("Привет, сервер!").unwrap();
//! shuttle(&mut client, &mut server);
//! match server.poll_event() {
//!     Some(Event::Text(text)) => assert_eq!(text, "Привет, сервер!"),
//!     other => panic!("{other:?}"),
//! }
//! client.close(wsmachine::CloseCode::NORMAL, "bye").unwrap();
//! shuttle(&mut client, &mut server);
//! assert_eq!(server.state(), State::Closed); // the server drops the transport first
//! client.receive_eof();
//! assert_eq!(client.state(), State::Closed);
//! ```
//!
//! See [`Connection`] for the full driving contract.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod close;
mod config;
mod connection;
mod error;
mod event;
pub mod frame;
pub mod handshake;
pub mod mask;
mod random;
mod time;
pub mod utf8;

pub use close::CloseCode;
pub use config::{ClientConfig, Options, ServerConfig};
pub use connection::{Connection, Role, State, Upgraded};
pub use error::{Error, Failure, HandshakeError, ProtocolError};
pub use event::{Event, MessageKind};
pub use handshake::Request;
#[cfg(feature = "std")]
pub use random::OsRandom;
pub use random::RandomSource;
pub use time::Instant;
pub use utf8::Utf8Bytes;

pub use bytes::Bytes;
