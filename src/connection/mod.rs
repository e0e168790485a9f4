//! The state machine that ties handshake, framing, masking, UTF-8 and closing together,
//! cut by concern, each part owning its state. This file holds the struct and the public
//! methods, each delegating to the part that does the work; the driving contract is on
//! [`Connection`].
//!
//! | part | owns |
//! |---|---|
//! | `lifecycle` | the `State` and the close flags; the only code that changes them |
//! | `opening` | the opening handshake in progress, accept/reject/respond, the move to `Open` |
//! | `closing` | every way a connection ends, and what each writes and reports |
//! | `poll` | handing out events, owned or lent |
//! | `recv` | the decode loop: header rules, unmasking and validation as bytes arrive |
//! | `send` | writing frames, the keepalive ping |
//! | `input` | the received bytes and the decoder's place in them |
//! | `message` | reassembly of a data message: buffer, length, UTF-8 state, compression |
//! | `events` | the event queue and what a borrowed event has on loan |
//! | `extension` | what may be negotiated and what is in force (permessage-deflate) |
//! | `timers` | the timers (the engine never reads a clock) |
//! | `trace` | the frame trace (`Options::trace_frames`), off by default |
//! | `transport` | the public inputs: bytes received (copied or read in place), EOF, time |
//! | `output` | the bytes waiting for the transport, queued payloads, the pending pong |
//! | `upgraded` | what a handshake done elsewhere hands over (`from_upgraded`) |
//!
//! Each part uses only those below it: `transport` → `poll`, `opening`, `closing`,
//! `send`; `poll` → `recv`; `opening`, `recv` → `closing` →
//! `send`; all of them → the leaves `lifecycle`, `input`, `message`, `events`, `extension`,
//! `timers`, `trace`, `output`, `upgraded`.

mod closing;
mod events;
mod extension;
mod input;
mod lifecycle;
mod message;
mod opening;
mod output;
mod poll;
mod recv;
mod send;
mod timers;
mod trace;
mod transport;
mod upgraded;

use crate::close::CloseCode;
use crate::config::{ClientConfig, Options, ServerConfig};
use crate::error::Error;
use crate::event::{Event, EventRef, MessageKind};
use crate::frame::OpCode;
use crate::random::{self, MaskKeys};
use crate::time::Instant;
use crate::utf8::Utf8Bytes;
use alloc::boxed::Box;
use alloc::string::String;
use bytes::Bytes;
use events::Events;
use extension::Extensions;
use input::Input;
use lifecycle::Lifecycle;
use message::Message;
use opening::{Negotiated, Opening};
use output::Output;
use timers::Timers;
use trace::Trace;
pub use trace::{Direction, FrameInfo};
pub use upgraded::Upgraded;

// Also named here, where they used to live (the FFI imports them from here).
pub(crate) use crate::state::{Role, State};

/// A WebSocket connection, client or server: a pure state machine. It never touches a
/// socket or a clock; the caller moves bytes and tells the time.
///
/// # Driving a connection
///
/// A `Connection` is driven with four kinds of calls:
///
/// * **Inputs**: [`receive`](Self::receive) the bytes read from the transport,
///   [`receive_eof`](Self::receive_eof) when it ends, and
///   [`handle_timeout`](Self::handle_timeout) with the current time.
/// * **Commands**: [`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
///   [`send_fragment`](Self::send_fragment), [`send_ping`](Self::send_ping),
///   [`send_pong`](Self::send_pong), [`close`](Self::close); and for a server with
///   deferred accept, [`accept`](Self::accept) (or
///   [`accept_with_headers`](Self::accept_with_headers)), [`reject`](Self::reject) or
///   [`respond`](Self::respond). A command in the wrong state is an [`Error`], never a
///   panic.
/// * **Outputs**, to poll after every input and command, in this order:
///   1. [`poll_event`](Self::poll_event) (or [`poll_event_ref`](Self::poll_event_ref))
///      until `None`. Frames are decoded as events are polled, so this comes first: it may
///      queue output such as pongs and close answers.
///   2. [`pending_output`](Self::pending_output) to write to the transport, then
///      [`consume_output`](Self::consume_output) with what was written (or
///      [`take_output`](Self::take_output) for all of it at once).
///   3. [`poll_timeout`](Self::poll_timeout) for when to call `handle_timeout` next.
/// * **Frame trace**, only with [`Options::trace_frames`] on:
///   [`poll_frame`](Self::poll_frame) until `None` after each event polled and each
///   command. A received frame is recorded when it is decoded, so its record comes out
///   before (or with) the event it makes; a sent frame when it is queued as output
///   (automatic pongs and close answers while events are polled), whether or not its bytes
///   were written yet (an automatic pong that a newer ping replaced before it was written
///   is recorded all the same). Records past [`TRACE_CAPACITY`](Self::TRACE_CAPACITY) undrained are
///   dropped oldest first and counted by [`frames_dropped`](Self::frames_dropped). A frame
///   the engine refuses (a protocol error) is not recorded: the error event says why.
/// * **Getters**: [`state`](Self::state), [`role`](Self::role),
///   [`subprotocol`](Self::subprotocol), [`extensions`](Self::extensions),
///   [`buffered_amount`](Self::buffered_amount), [`is_closed`](Self::is_closed); for a
///   client, the server's answer: [`response`](Self::response),
///   [`response_header`](Self::response_header), [`response_body`](Self::response_body).
///
/// When [`Event::Closed`] comes out, write what is left of the output and drop the
/// transport.
///
/// ```
/// use wsmachine::{Connection, Event, Instant, ServerConfig};
///
/// // One turn of a server's loop, after a read of `bytes` at time `now`.
/// fn turn(conn: &mut Connection, bytes: &[u8], now: Instant, write: &mut Vec<u8>) -> bool {
///     conn.receive(bytes); // input
///     conn.handle_timeout(now); // input: the time
///     while let Some(event) = conn.poll_event() {
///         match event {
///             Event::Text(text) => {
///                 let _ = conn.send_text(&text); // command: echo
///             }
///             Event::Closed { .. } => return false,
///             _ => {}
///         }
///     }
///     write.extend_from_slice(conn.pending_output()); // output
///     let n = conn.pending_output().len();
///     conn.consume_output(n);
///     // Sleep until the socket is readable or `conn.poll_timeout()` comes.
///     true
/// }
///
/// let mut server = Connection::server(ServerConfig::new());
/// let mut out = Vec::new();
/// assert!(turn(&mut server, b"", Instant::ZERO, &mut out));
/// ```
pub struct Connection {
    role: Role,
    options: Options,
    life: Lifecycle,
    /// The opening handshake, while it lasts.
    opening: Option<Box<Opening>>,
    input: Input,
    message: Message,
    events: Events,
    output: Output,
    /// The kind of the fragmented message we are sending, if any.
    sending: Option<MessageKind>,
    /// A client's masking keys (boxed: servers have none).
    masks: Option<Box<MaskKeys>>,
    ext: Extensions,
    /// A complete frame arrived since the keepalive timer last looked (bytes trickling into
    /// one prove nothing).
    rx_activity: bool,
    timers: Timers,
    /// The last time the caller told us.
    now: Instant,
    /// What the handshake negotiated, boxed only when there is something.
    negotiated: Option<Box<Negotiated>>,
    /// The frame trace, when `Options::trace_frames` is on.
    trace: Option<Box<Trace>>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("subprotocol", &self.subprotocol())
            .field("buffered_amount", &self.output.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn new(role: Role, options: Options) -> Self {
        let mut timers = Timers::default();
        if let Some(d) = options.handshake_timeout_duration() {
            timers.handshake.start(d);
        }
        let trace = options.trace_frames.then(Trace::new_boxed);
        Self {
            role,
            options,
            life: Lifecycle::new(),
            opening: None,
            input: Input::default(),
            message: Message::default(),
            events: Events::default(),
            output: Output::default(),
            sending: None,
            masks: None,
            ext: Extensions::default(),
            rx_activity: false,
            timers,
            now: Instant::ZERO,
            negotiated: None,
            trace,
        }
    }

    /// A client: the Upgrade request is queued as output at once.
    pub fn client(mut config: ClientConfig) -> Result<Self, Error> {
        let mut source = config
            .random
            .take()
            .or_else(random::default_source)
            .ok_or(Error::NoRandomSource)?;
        let mut nonce = [0u8; 16];
        source.try_fill(&mut nonce)?;
        let mut conn = Self::new(Role::Client, config.options.clone());
        let opening = Opening::client(&mut config, nonce, conn.output.frames())?;
        conn.opening = Some(Box::new(opening));
        conn.masks = Some(Box::new(MaskKeys::new(source)));
        Ok(conn)
    }

    /// A server, waiting for the Upgrade request.
    pub fn server(mut config: ServerConfig) -> Self {
        let opening = Opening::server(&mut config);
        let mut conn = Self::new(Role::Server, config.options);
        conn.opening = Some(Box::new(opening));
        conn
    }

    /// A connection whose handshake was done elsewhere, starting in the `Open` state
    /// (an [`Event::Open`] is queued).
    pub fn from_upgraded(upgraded: Upgraded) -> Result<Self, Error> {
        let extensions = upgraded.extensions.trim();
        let ext = if extensions.is_empty() {
            Extensions::default()
        } else {
            Extensions::from_upgraded(extensions, &upgraded)?
        };
        let extensions = String::from(extensions);
        let mut conn = Self::new(upgraded.role, upgraded.options);
        if upgraded.role == Role::Client {
            let source = upgraded
                .random
                .or_else(random::default_source)
                .ok_or(Error::NoRandomSource)?;
            conn.masks = Some(Box::new(MaskKeys::new(source)));
        }
        conn.ext = ext;
        conn.open(upgraded.subprotocol, extensions);
        Ok(conn)
    }

    // ----- getters -----

    /// The state (the browser's `readyState`).
    #[inline]
    pub fn state(&self) -> State {
        self.life.state()
    }

    /// Our role.
    #[inline]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The negotiated subprotocol, once open.
    pub fn subprotocol(&self) -> Option<&str> {
        self.negotiated.as_ref()?.subprotocol.as_deref()
    }

    /// The negotiated `Sec-WebSocket-Extensions` value, once open; empty when none.
    pub fn extensions(&self) -> &str {
        self.negotiated
            .as_ref()
            .map_or("", |n| n.extensions.as_str())
    }

    /// For a client, the status and header fields of the server's answer to the opening
    /// handshake, once it arrived: the `101`'s headers after `Open` (cookies, a server's own
    /// headers), or a refusal's (`Location`, `WWW-Authenticate`, `Retry-After`) after the
    /// handshake failed with [`HandshakeError::UnexpectedStatus`](crate::HandshakeError).
    /// `None` for a server, and before the answer.
    pub fn response(&self) -> Option<(u16, &[(String, String)])> {
        let (status, fields) = self.negotiated.as_ref()?.response.as_ref()?;
        Some((*status, fields))
    }

    /// The first value of the server's answer's header field `name` (case-insensitive); see
    /// [`response`](Self::response).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        let (_, fields) = self.response()?;
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// For a client whose upgrade was refused (an answer other than 101), the refusal's body,
    /// up to [`ClientConfig::max_response_body`] bytes: read before the handshake fails, so
    /// it is here when the [`HandshakeError::UnexpectedStatus`](crate::HandshakeError)
    /// error is polled. Empty when the refusal had no body; `None` after a 101, for a
    /// server, and before the failure.
    pub fn response_body(&self) -> Option<&[u8]> {
        self.negotiated.as_ref()?.response_body.as_deref()
    }

    /// Bytes queued for the transport and not yet consumed (the browser's `bufferedAmount`):
    /// stop producing when this grows too large.
    #[inline]
    pub fn buffered_amount(&self) -> usize {
        self.output.len()
    }

    /// Whether the connection is over.
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.state() == State::Closed
    }

    // ----- outputs -----

    /// The next event, if any.
    ///
    /// Frames are decoded as events are polled: after every input, poll until `None`, then
    /// write [`pending_output`](Self::pending_output) (which may now hold pongs and close
    /// answers).
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.next_owned()
    }

    /// The next event, borrowed from the connection until the next call on it: the same
    /// sequence as [`poll_event`](Self::poll_event), without allocating or copying payloads.
    #[inline]
    pub fn poll_event_ref(&mut self) -> Option<EventRef<'_>> {
        self.next_lent()
    }

    /// The next bytes to write to the transport: all that is waiting, unless messages sent
    /// with [`send_binary_bytes`](Self::send_binary_bytes) or
    /// [`send_text_bytes`](Self::send_text_bytes) are queued; then write, consume and call
    /// again until it is empty, or write [`pending_output_chunks`](Self::pending_output_chunks)
    /// with one vectored write.
    #[inline]
    pub fn pending_output(&self) -> &[u8] {
        self.output.first_chunk()
    }

    /// Every chunk of the bytes waiting, in order (for a vectored write, `writev`): one
    /// unless messages were queued without copying.
    pub fn pending_output_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.output.chunks()
    }

    /// Marks the first `n` bytes waiting as written (they may span several
    /// [`pending_output_chunks`](Self::pending_output_chunks)).
    #[inline]
    pub fn consume_output(&mut self, n: usize) {
        self.output.consume(n);
    }

    /// Takes all pending output at once: without copying, unless messages sent with
    /// [`send_binary_bytes`](Self::send_binary_bytes) are queued (they are joined).
    #[inline]
    pub fn take_output(&mut self) -> Bytes {
        self.output.take()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next; `None` when no
    /// timer runs. The instant may be in the past: then call it at once.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state() == State::Closed {
            return None;
        }
        self.timers.next_deadline(self.now)
    }

    // ----- inputs: in `transport` -----

    // ----- commands -----

    /// Sends a whole text message.
    #[inline]
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_message(MessageKind::Text, text.as_bytes())
    }

    /// Sends a whole binary message.
    #[inline]
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_message(MessageKind::Binary, data)
    }

    /// Sends a whole binary message the connection may keep: a large one goes out as it is,
    /// after its header, without being copied (a client masks it in place when nothing else
    /// holds it; a compressed one is copied as ever). The same frames as
    /// [`send_binary`](Self::send_binary).
    #[inline]
    pub fn send_binary_bytes(&mut self, data: Bytes) -> Result<(), Error> {
        self.send_message_bytes(MessageKind::Binary, data)
    }

    /// Sends a whole text message the connection may keep, as
    /// [`send_binary_bytes`](Self::send_binary_bytes) does.
    #[inline]
    pub fn send_text_bytes(&mut self, text: Utf8Bytes) -> Result<(), Error> {
        self.send_message_bytes(MessageKind::Text, text.into_bytes())
    }

    /// Sends one fragment of a message (RFC 6455 §5.4): the first call starts a message of
    /// `kind`, later ones must name the same kind, and `fin` ends it. Control frames and
    /// pongs may be sent between fragments. Text fragments may split a code point; the
    /// whole message must be UTF-8.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.send_fragment_frame(kind, data, fin)
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, data)
    }

    /// Sends a pong (unsolicited, or to answer pings yourself with `auto_pong` off).
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, data)
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2). `code` must be sendable
    /// (1000-1003, 1007-1014, 3000-4999), or [`CloseCode::NO_STATUS`] with an empty reason
    /// for a close frame without a body; the reason is at most 123 bytes. The state becomes
    /// `Closing`; nothing more may be sent.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.start_close(code, reason)
    }

    /// Accepts the request a deferred-accept server reported with [`Event::Request`],
    /// choosing `subprotocol` (which the client must have offered).
    pub fn accept(&mut self, subprotocol: Option<&str>) -> Result<(), Error> {
        self.accept_request(subprotocol)
    }

    /// [`accept`](Self::accept) with header fields chosen for this request added to the 101
    /// answer, after the configuration's ([`ServerConfig::header`]): a `Set-Cookie` for
    /// this client, say. Each name must be an HTTP token and each value free of control
    /// characters but tab (no CR, LF or NUL to split the response), else
    /// [`Error::InvalidHeader`], and the request is still waiting for an answer.
    pub fn accept_with_headers(
        &mut self,
        subprotocol: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<(), Error> {
        self.accept_request_with(subprotocol, headers)
    }

    /// Accepts the request a deferred-accept server reported, choosing the subprotocol the
    /// configuration would have chosen without deferred accept
    /// ([`ServerConfig::subprotocol`] and [`ServerConfig::subprotocol_policy`]).
    pub fn accept_default(&mut self) -> Result<(), Error> {
        self.accept_request_default()
    }

    /// Rejects the request a deferred-accept server reported, answering `status` (a 4xx or
    /// 5xx) with `reason` as the body. The connection is then closed.
    pub fn reject(&mut self, status: u16, reason: &str) -> Result<(), Error> {
        self.reject_request(status, reason)
    }

    /// Answers the request a deferred-accept server reported with a complete HTTP response
    /// (a page for a plain `GET`, or a custom rejection of an Upgrade), then closes.
    pub fn respond(&mut self, status: u16, content_type: &str, body: &[u8]) -> Result<(), Error> {
        self.respond_request(status, content_type, body)
    }
}
