//! Configuration: [`Options`] shared by both roles, [`ClientConfig`] and [`ServerConfig`].
//!
//! Every setter documents its default and why it was chosen. The defaults are safe for a
//! server on the open internet: a hostile peer can make a connection hold at most about
//! `max_message_size + max_frame_size` bytes of input.

use crate::error::Error;
use crate::http_syntax::{is_header_value, is_token};
use crate::random::RandomSource;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

/// Options common to clients and servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) max_handshake_size: u32,
    pub(crate) max_headers: u16,
    /// Interval and timeout in milliseconds (kept small: every connection holds a copy).
    pub(crate) keepalive: Option<(u32, u32)>,
    pub(crate) close_timeout_ms: u32,
    pub(crate) handshake_timeout_ms: Option<u32>,
    pub(crate) auto_pong: bool,
    pub(crate) stream_fragments: bool,
    /// `usize::MAX`: no cap.
    pub(crate) max_output_buffer: usize,
    pub(crate) echo_close_reason: bool,
    pub(crate) trace_frames: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 16 << 20,
            max_handshake_size: 16 << 10,
            max_headers: 64,
            keepalive: None,
            close_timeout_ms: 5_000,
            handshake_timeout_ms: Some(10_000),
            auto_pong: true,
            stream_fragments: false,
            max_output_buffer: usize::MAX,
            echo_close_reason: true,
            trace_frames: false,
        }
    }
}

impl Options {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Largest frame payload accepted; larger frames close with 1009. Default 16 MiB.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Largest reassembled message accepted; larger messages close with 1009. Default
    /// 16 MiB. A compressed message is measured inflated. When fragments are streamed, an
    /// uncompressed message is bounded only frame by frame (`max_frame_size`; the
    /// application bounds the total), and each fragment of a compressed one may inflate to
    /// at most this many bytes.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Largest HTTP head of the opening handshake. Default 16 KiB, which fits browsers'
    /// requests with cookies while bounding what a slow client can make a server hold.
    pub fn max_handshake_size(mut self, bytes: usize) -> Self {
        self.max_handshake_size = u32::try_from(bytes).unwrap_or(u32::MAX);
        self
    }

    /// Most header fields in the opening handshake. Default 64.
    pub fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = u16::try_from(count).unwrap_or(u16::MAX);
        self
    }

    /// Sends a ping when the peer has been silent for a whole `interval` (checked every
    /// `interval`, so the ping goes out between one and two intervals after the last input),
    /// and fails the connection when nothing arrives within `timeout` after it. Default off.
    /// Like every timeout here, each is kept in milliseconds and capped at `u32::MAX` ms
    /// (about 49.7 days).
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keepalive = Some((millis(interval), millis(timeout)));
        self
    }

    /// How long to wait for the peer's close frame after sending ours (and, for a client,
    /// for the server to end the transport). Default 5 s. Capped at about 49.7 days.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout_ms = millis(timeout);
        self
    }

    /// How long the opening handshake may take; `None` waits forever. Default 10 s, which
    /// stops slow-header attacks from holding a server's connections. A longer `Some` is
    /// capped at about 49.7 days (it does not mean forever).
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout_ms = timeout.map(millis);
        self
    }

    /// Answer pings with pongs automatically. Default on (RFC 6455 §5.5.2).
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Hand out data frames as [`Event::Fragment`](crate::Event::Fragment)s instead of
    /// whole messages, for messages larger than the application wants buffered. Default off.
    pub fn stream_fragments(mut self, on: bool) -> Self {
        self.stream_fragments = on;
        self
    }

    /// Once more than this many bytes of output wait to be written, `send_text`,
    /// `send_binary`, `send_fragment`, `send_ping` and `send_pong` return
    /// [`Error::OutputBufferFull`] and write nothing (the peer is not reading, or the
    /// application sends faster than the transport takes). Default: no cap.
    ///
    /// What the engine writes by itself is exempt but bounded: at most one pong is pending
    /// (the answer to the latest ping, RFC 6455 §5.5.3), plus a close frame and keepalive
    /// pings. The backpressure contract: when
    /// [`buffered_amount`](crate::Connection::buffered_amount) is high, stop reading from
    /// the transport until the output drains, and stop producing messages.
    pub fn max_output_buffer(mut self, bytes: usize) -> Self {
        self.max_output_buffer = bytes;
        self
    }

    /// Whether the automatic answer to the peer's close frame repeats its reason as well as
    /// its code. Default on, as tungstenite and Node's `ws` do (RFC 6455 §5.5.1 lets the
    /// answer carry any valid reason): a browser's `close(4000, "bye")` then ends with
    /// `CloseEvent.reason` "bye". The reason was already checked as UTF-8 and fits the
    /// 123 bytes a close frame allows, so the answer is always valid. Off answers with the
    /// code alone. A close frame without a body is answered with an empty one either way.
    pub fn echo_close_reason(mut self, on: bool) -> Self {
        self.echo_close_reason = on;
        self
    }

    /// Record every frame received and sent, header fields and the first 32 payload bytes,
    /// for [`Connection::poll_frame`](crate::Connection::poll_frame) to hand out (a protocol
    /// viewer, a `--trace` flag). Default off: then nothing is recorded or allocated, and the
    /// hooks cost one untaken branch. At most
    /// [`Connection::TRACE_CAPACITY`](crate::Connection::TRACE_CAPACITY) records wait; older ones are
    /// dropped and counted.
    pub fn trace_frames(mut self, on: bool) -> Self {
        self.trace_frames = on;
        self
    }
}

/// Milliseconds, saturating at `u32::MAX` (49.7 days): what the setters document.
fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

impl Options {
    pub(crate) fn close_timeout_duration(&self) -> Duration {
        Duration::from_millis(self.close_timeout_ms.into())
    }

    pub(crate) fn handshake_timeout_duration(&self) -> Option<Duration> {
        self.handshake_timeout_ms
            .map(|ms| Duration::from_millis(ms.into()))
    }

    /// The keepalive interval and timeout.
    pub(crate) fn keepalive_durations(&self) -> Option<(Duration, Duration)> {
        self.keepalive.map(|(i, t)| {
            (
                Duration::from_millis(i.into()),
                Duration::from_millis(t.into()),
            )
        })
    }
}

/// How a client opens a connection.
pub struct ClientConfig {
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) origin: Option<String>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) options: Options,
    pub(crate) random: Option<Box<dyn RandomSource>>,
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<crate::deflate::DeflateConfig>,
    pub(crate) max_response_body: usize,
}

impl ClientConfig {
    /// A client for `ws://{host}{path}`: `host` is the `Host` header (`example.com:8080`),
    /// `path` the request target (`/chat?room=1`).
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            path: path.into(),
            origin: None,
            subprotocols: Vec::new(),
            extra_headers: Vec::new(),
            options: Options::default(),
            random: None,
            #[cfg(feature = "deflate")]
            deflate: None,
            max_response_body: 4096,
        }
    }

    /// How much of the body of a refused upgrade (an answer other than 101) to read before
    /// the handshake fails, for [`Connection::response_body`](crate::Connection::response_body):
    /// a `Content-Length` body is waited for, a chunked one decoded, any other read until
    /// [`receive_eof`](crate::Connection::receive_eof), each up to this many bytes (and
    /// within the handshake timeout). 0 reads none: the failure comes with the head.
    /// Default 4096.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Sends an `Origin` header (browsers always do). Default none.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol; call again to offer more, in order of preference.
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocols.push(name.into());
        self
    }

    /// Adds a header to the request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the common options.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these parameters. Default: not offered.
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }

    /// Replaces the random source (default: the operating system's, with the `std` feature).
    pub fn random(mut self, source: impl RandomSource + 'static) -> Self {
        self.random = Some(Box::new(source));
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("host", &self.host)
            .field("path", &self.path)
            .field("origin", &self.origin)
            .field("subprotocols", &self.subprotocols)
            .field("extra_headers", &self.extra_headers)
            .field("options", &self.options)
            .field("max_response_body", &self.max_response_body)
            .finish_non_exhaustive()
    }
}

/// How a server chooses a subprotocol when none of its own
/// ([`ServerConfig::subprotocol`]) was offered. Set with
/// [`ServerConfig::subprotocol_policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SubprotocolPolicy {
    /// Only one of the server's own subprotocols, else none (the 101 answer then has no
    /// `Sec-WebSocket-Protocol`, which browsers refuse when they offered any). Default.
    #[default]
    Listed,
    /// One of the server's own subprotocols if the client offered one, else the first one
    /// the client offered (that is a valid token). For servers with no protocol of their
    /// own, such as an echo server, that browsers must be able to reach whatever they offer.
    FirstOffered,
}

impl SubprotocolPolicy {
    /// The subprotocol chosen among `offered` (the client's, in its order of preference)
    /// for a server that speaks `ours` (in the server's order of preference).
    pub(crate) fn choose<'a>(self, ours: &'a [String], offered: &'a [String]) -> Option<&'a str> {
        let listed = ours.iter().find(|p| offered.contains(p));
        let chosen = match self {
            Self::Listed => listed,
            Self::FirstOffered => listed.or_else(|| offered.iter().find(|p| is_token(p))),
        };
        chosen.map(String::as_str)
    }
}

/// How a server answers opening handshakes.
///
/// # Subprotocols and browsers
///
/// A browser that offers subprotocols (`new WebSocket(url, ["chat", "superchat"])`) fails
/// the connection when the 101 answer names none of them: Chromium reports "Sent non-empty
/// 'Sec-WebSocket-Protocol' header but no response was received", fires `error` then
/// `close` with 1006, and the page never sees `open`, although a server that speaks none of
/// them answers correctly by naming none (RFC 6455 §4.2.2). A server without a protocol of
/// its own that must accept such pages sets
/// [`subprotocol_policy`](Self::subprotocol_policy)`(`[`SubprotocolPolicy::FirstOffered`]`)`.
/// A richer choice (by path, `Origin` or another header) belongs to deferred accept:
/// [`defer_accept`](Self::defer_accept), then [`Connection::accept`](crate::Connection::accept)
/// with any offered subprotocol, or [`Connection::accept_default`](crate::Connection::accept_default)
/// for the one this configuration would choose.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    pub(crate) subprotocols: Vec<String>,
    pub(crate) subprotocol_policy: SubprotocolPolicy,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) options: Options,
    pub(crate) defer_accept: bool,
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<crate::deflate::DeflateConfig>,
}

impl ServerConfig {
    /// The defaults: accept every valid request, choose no subprotocol.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subprotocol the server supports, in order of the server's preference; the
    /// first one of these that the client offers is chosen.
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocols.push(name.into());
        self
    }

    /// What is chosen when the client offered none of the server's own subprotocols.
    /// Default [`SubprotocolPolicy::Listed`]: none. See [Subprotocols and
    /// browsers](Self#subprotocols-and-browsers) for why an echo server wants
    /// [`SubprotocolPolicy::FirstOffered`].
    pub fn subprotocol_policy(mut self, policy: SubprotocolPolicy) -> Self {
        self.subprotocol_policy = policy;
        self
    }

    /// Adds a header to the 101 answer (and to rejections). Checked here, since a server
    /// cannot fail later: the name must be an HTTP token and the value free of control
    /// characters but tab (no CR, LF or NUL to split the response), else
    /// [`Error::InvalidHeader`] (the configuration, taken by value, is then dropped).
    pub fn header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, Error> {
        self.add_header(name.into(), value.into())?;
        Ok(self)
    }

    /// [`header`](Self::header) in place: on error, the configuration is unchanged.
    pub(crate) fn add_header(&mut self, name: String, value: String) -> Result<(), Error> {
        if !is_token(&name) || !is_header_value(&value) {
            return Err(Error::InvalidHeader);
        }
        self.extra_headers.push((name, value));
        Ok(())
    }

    /// Replaces the common options.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Accepts permessage-deflate (RFC 7692) when a client offers it, within these
    /// parameters. Default: declined.
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }

    /// Let the application look at each request (path, `Origin`, subprotocols) and call
    /// [`accept`](crate::Connection::accept) or [`reject`](crate::Connection::reject).
    /// Default off: valid requests are accepted at once.
    pub fn defer_accept(mut self, on: bool) -> Self {
        self.defer_accept = on;
        self
    }
}
