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
//! use wsmachine::{ClientConfig, CloseCode, Connection, Event, ServerConfig, State};
//!
//! let mut client = Connection::client(ClientConfig::new("example.com", "/chat")).unwrap();
//! let mut server = Connection::server(ServerConfig::new());
//!
//! // What a socket loop does: after each input, poll every event (frames are decoded as
//! // they are polled), then write the pending output. Here the "sockets" are memory.
//! fn pump(a: &mut Connection, b: &mut Connection) -> (Vec<Event>, Vec<Event>) {
//!     let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
//!     loop {
//!         a_events.extend(std::iter::from_fn(|| a.poll_event()));
//!         b_events.extend(std::iter::from_fn(|| b.poll_event()));
//!         let (ab, ba) = (a.take_output(), b.take_output());
//!         if ab.is_empty() && ba.is_empty() {
//!             return (a_events, b_events);
//!         }
//!         b.receive(&ab);
//!         a.receive(&ba);
//!     }
//! }
//!
//! let (c, s) = pump(&mut client, &mut server);
//! assert!(matches!(c[..], [Event::Open { .. }]));
//! assert!(matches!(s[..], [Event::Open { .. }]));
//!
//! client.send_text("Привет, сервер!").unwrap();
//! let (_, s) = pump(&mut client, &mut server);
//! match &s[..] {
//!     [Event::Text(text)] => assert_eq!(text, "Привет, сервер!"),
//!     other => panic!("{other:?}"),
//! }
//!
//! client.close(CloseCode::NORMAL, "bye").unwrap();
//! let (c, s) = pump(&mut client, &mut server);
//! assert!(matches!(c[..], [Event::Close { .. }])); // the server's answer
//! assert!(matches!(s.last(), Some(Event::Closed { clean: true, .. })));
//! assert_eq!(server.state(), State::Closed); // the server ends the transport first...
//! client.receive_eof(); // ...and the client sees the end
//! assert!(matches!(client.poll_event(), Some(Event::Closed { clean: true, .. })));
//! assert_eq!(client.state(), State::Closed);
//! ```
//!
//! See [`Connection`] for the full driving contract: the four kinds of calls (inputs,
//! commands, outputs, getters) and the order in which to poll the outputs.
//!
//! ## Module map
//!
//! The engine is built in layers, each file owning one concern, with no import circle:
//! the pure codecs at the bottom, the state machine above them, the C face on top.
//! Nothing outside `ffi` knows C exists.
//!
//! Stable building blocks, usable on their own (each a pure function of its input):
//!
//! | module | owns |
//! |---|---|
//! | [`frame`] | frame headers: parse, encode, opcodes, length forms, the header-only rules (RFC 6455 §5.2) |
//! | [`mask`] | applying a masking key (the hot loop, word-wise) |
//! | [`utf8`] | UTF-8 validation, incremental across fragment boundaries (RFC 6455 §8.1) |
//! | [`close`] | close codes and which may be sent (RFC 6455 §7.4) |
//! | [`handshake`] | the opening handshake's HTTP: request and answer, `Sec-WebSocket-Accept`, extension headers (RFC 6455 §4) |
//! | `deflate` | permessage-deflate: parameters, negotiation and codec (RFC 7692), behind the `deflate` feature |
//!
//! The engine, whose types are re-exported at the crate root:
//!
//! | type | owns |
//! |---|---|
//! | [`Connection`] | the state machine that ties the above together (internally cut by concern: see its source) |
//! | [`ClientConfig`], [`ServerConfig`], [`Options`], [`SubprotocolPolicy`] | configuration, each setting with its default |
//! | [`Event`], [`EventRef`] | what the engine reports, owned or borrowed |
//! | [`FrameInfo`], [`Direction`] | one frame as the wire saw it, when the frame trace is on |
//! | [`Error`], [`ProtocolError`], [`HandshakeError`], [`Failure`] | errors, sorted by who is at fault |
//! | [`State`], [`Role`] | where a connection is in its life, and which end it is |
//! | [`Instant`] | the caller's clock, as milliseconds (the engine reads none) |
//! | [`RandomSource`] | where masking keys and the client's nonce come from |
//!
//! Internals, not API: the connection's parts, the masking-key batcher, the codec state of
//! `deflate`, and two leaves the handshake re-exports or uses: `extension_header` (parsing
//! `Sec-WebSocket-Extensions`, shared with `deflate`) and `http_syntax` (HTTP tokens and
//! header values, shared with the configuration), so that neither `deflate` nor the
//! configuration depends on `handshake`, which depends on both. `ffi` (behind the `ffi` feature) is the C ABI, documented by
//! `include/wsmachine.h`.
#![no_std]
// docs.rs (`--cfg docsrs`, nightly) marks what each feature gates.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod close;
mod config;
mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
mod event;
mod extension_header;
#[cfg(feature = "ffi")]
pub mod ffi;
pub mod frame;
pub mod handshake;
mod http_syntax;
#[cfg(feature = "deflate")]
mod inflate_budget;
pub mod mask;
mod random;
mod state;
mod time;
pub mod utf8;

pub use close::CloseCode;
pub use config::{ClientConfig, Options, ServerConfig, SubprotocolPolicy};
pub use connection::{Connection, Direction, FrameInfo, Upgraded};
#[cfg(feature = "deflate")]
pub use deflate::DeflateConfig;
pub use error::{Error, Failure, HandshakeError, ProtocolError};
pub use event::{Event, EventRef, MessageKind};
pub use handshake::Request;
#[cfg(feature = "deflate")]
pub use inflate_budget::InflateBudget;
#[cfg(feature = "std")]
pub use random::OsRandom;
pub use random::RandomSource;
pub use state::{Role, State};
pub use time::Instant;
pub use utf8::Utf8Bytes;

pub use bytes::Bytes;
