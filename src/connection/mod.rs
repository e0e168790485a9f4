//! The state machine that ties handshake, framing, masking, UTF-8 and closing together.
//! Every state transition of a connection happens in this module and its children.
//!
//! # Driving a connection
//!
//! A [`Connection`] is driven with four kinds of calls:
//!
//! * **Inputs**: [`receive`](Connection::receive) the bytes read from the transport,
//!   [`receive_eof`](Connection::receive_eof) when it ends, and
//!   [`handle_timeout`](Connection::handle_timeout) with the current time.
//! * **Commands**: [`send_text`](Connection::send_text), [`send_binary`](Connection::send_binary),
//!   [`send_fragment`](Connection::send_fragment), [`send_ping`](Connection::send_ping),
//!   [`send_pong`](Connection::send_pong), [`close`](Connection::close); and for a server
//!   with deferred accept, [`accept`](Connection::accept) or [`reject`](Connection::reject).
//! * **Outputs**, to poll after every input and command:
//!   [`poll_event`](Connection::poll_event) until `None` (frames are decoded as events are
//!   polled, so this comes first: it may queue output such as pongs and close answers),
//!   [`pending_output`](Connection::pending_output) to write (then
//!   [`consume_output`](Connection::consume_output) with what was written), and
//!   [`poll_timeout`](Connection::poll_timeout) for when to call `handle_timeout` next.
//! * **Getters**: [`state`](Connection::state), [`role`](Connection::role),
//!   [`subprotocol`](Connection::subprotocol), [`buffered_amount`](Connection::buffered_amount).
//!
//! When [`Event::Closed`] comes out, write what is left of the output and drop the transport.

#[cfg(feature = "deflate")]
mod compression;
mod recv;
mod send;
mod timers;

use crate::close::CloseCode;
use crate::config::{ClientConfig, Options, ServerConfig};
use crate::error::{Error, Failure, HandshakeError, ProtocolError};
use crate::event::{Event, EventRef, MessageKind};
use crate::frame::OpCode;
use crate::handshake::{self, ClientHandshake, Request};
use crate::random::{self, MaskKeys, RandomSource};
use crate::time::Instant;
use crate::utf8::Utf8Validator;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};
use timers::Timers;

// Re-exported where they used to live (the FFI names them here).
pub use crate::state::{Role, State};

/// The largest drained output buffer kept for the next message.
const RETAINED_OUTPUT: usize = 8 << 10;

/// A connection that was upgraded elsewhere (a web framework's own handshake, or RFC 8441
/// over HTTP/2), to be started directly in the `Open` state.
pub struct Upgraded {
    /// Our role.
    pub role: Role,
    /// The negotiated subprotocol.
    pub subprotocol: Option<String>,
    /// The negotiated `Sec-WebSocket-Extensions` value; empty when none.
    pub extensions: String,
    /// The common options.
    pub options: Options,
    /// The random source for a client's masking keys (default: the operating system's).
    pub random: Option<Box<dyn RandomSource>>,
}

/// What the opening handshake agreed on.
struct Negotiated {
    subprotocol: Option<String>,
    extensions: String,
}

/// The handshake in progress.
enum Pending {
    Client {
        handshake: ClientHandshake,
        /// What we offered of permessage-deflate, to check the answer against.
        #[cfg(feature = "deflate")]
        deflate: Option<crate::deflate::DeflateConfig>,
    },
    Server {
        subprotocols: Vec<String>,
        extra_headers: Vec<(String, String)>,
        defer_accept: bool,
        /// A valid request waiting for `accept`/`reject`.
        awaiting: Option<Request>,
        /// What we accept of permessage-deflate.
        #[cfg(feature = "deflate")]
        deflate: Option<crate::deflate::DeflateConfig>,
    },
}

struct Handshake {
    pending: Pending,
    /// How far the search for the end of the head has looked.
    scanned: usize,
}

/// Reception of frames and reassembly of messages.
#[derive(Default)]
struct Receiver {
    /// The frame whose payload is arriving.
    frame: Option<crate::frame::FrameHeader>,
    /// Payload bytes of that frame already validated (for text) and accounted for.
    processed: usize,
    /// Payload bytes of that frame already unmasked (`receive` may unmask as it copies).
    unmasked: usize,
    /// The size of the last `receive`, to leave room for the next read past a frame's end.
    last_read: usize,
    /// The fragmented message in progress.
    message: Option<MessageKind>,
    /// Its length so far.
    message_len: u64,
    /// Its bytes so far (not used when fragments are streamed).
    buffer: BytesMut,
    /// The length of the last reassembled message: the next one likely needs as much.
    size_hint: usize,
    utf8: Utf8Validator,
    /// RSV bits that negotiated extensions claim (none without extensions).
    allowed_rsv: u8,
    /// The message in progress is compressed (permessage-deflate).
    compressed: bool,
}

/// A WebSocket connection, client or server: a pure state machine (see the module docs for
/// the driving contract).
pub struct Connection {
    role: Role,
    state: State,
    options: Options,
    handshake: Option<Box<Handshake>>,
    input: BytesMut,
    /// How much of `input` is decoded and no longer needed.
    rpos: usize,
    output: BytesMut,
    events: VecDeque<Event>,
    rx: Receiver,
    /// The kind of the fragmented message we are sending, if any.
    sending: Option<MessageKind>,
    close_sent: bool,
    close_received: bool,
    /// The peer's close code and reason, for `Closed`.
    peer_close: Option<(CloseCode, String)>,
    /// Input arrived since the keepalive timer last looked.
    rx_activity: bool,
    timers: Timers,
    /// The last time the caller told us.
    now: Instant,
    masks: Option<MaskKeys>,
    /// permessage-deflate's codec, once negotiated.
    #[cfg(feature = "deflate")]
    codec: Option<Box<crate::deflate::Codec>>,
    /// What the handshake negotiated, boxed only when there is something.
    negotiated: Option<Box<Negotiated>>,
    /// The front of `events` is lent by `poll_event_ref`; popped at the next call.
    lent_queued: bool,
    /// Input bytes lent by `poll_event_ref`, dropped at the next call.
    lent_input: usize,
    /// The reassembly buffer was lent by `poll_event_ref`; cleared at the next call.
    lent_buffer: bool,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
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
        Self {
            role,
            state: State::Connecting,
            options,
            handshake: None,
            input: BytesMut::new(),
            rpos: 0,
            output: BytesMut::new(),
            events: VecDeque::new(),
            rx: Receiver::default(),
            sending: None,
            close_sent: false,
            close_received: false,
            peer_close: None,
            rx_activity: false,
            timers,
            now: Instant::ZERO,
            masks: None,
            #[cfg(feature = "deflate")]
            codec: None,
            negotiated: None,
            lent_queued: false,
            lent_input: 0,
            lent_buffer: false,
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
        source.fill(&mut nonce);
        let mut conn = Self::new(Role::Client, config.options.clone());
        #[cfg(feature = "deflate")]
        let offer = config.deflate.as_ref().map(|d| d.client_offer());
        #[cfg(not(feature = "deflate"))]
        let offer: Option<String> = None;
        let hs = ClientHandshake::start(&config, nonce, offer.as_deref(), &mut conn.output)?;
        conn.handshake = Some(Box::new(Handshake {
            pending: Pending::Client {
                handshake: hs,
                #[cfg(feature = "deflate")]
                deflate: config.deflate.take(),
            },
            scanned: 0,
        }));
        conn.masks = Some(MaskKeys::new(source));
        Ok(conn)
    }

    /// A server, waiting for the Upgrade request.
    pub fn server(config: ServerConfig) -> Self {
        let mut conn = Self::new(Role::Server, config.options);
        conn.handshake = Some(Box::new(Handshake {
            pending: Pending::Server {
                subprotocols: config.subprotocols,
                extra_headers: config.extra_headers,
                defer_accept: config.defer_accept,
                awaiting: None,
                #[cfg(feature = "deflate")]
                deflate: config.deflate,
            },
            scanned: 0,
        }));
        conn
    }

    /// A connection whose handshake was done elsewhere, starting in the `Open` state
    /// (an [`Event::Open`] is queued).
    pub fn from_upgraded(upgraded: Upgraded) -> Result<Self, Error> {
        let mut conn = Self::new(upgraded.role, upgraded.options);
        if upgraded.role == Role::Client {
            let source = upgraded
                .random
                .or_else(random::default_source)
                .ok_or(Error::NoRandomSource)?;
            conn.masks = Some(MaskKeys::new(source));
        }
        let extensions = upgraded.extensions.trim();
        if !extensions.is_empty() {
            #[cfg(feature = "deflate")]
            conn.adopt_extensions(extensions)?;
            // No extension is implemented without the `deflate` feature.
            #[cfg(not(feature = "deflate"))]
            return Err(Error::InvalidHeader);
        }
        conn.open(upgraded.subprotocol, String::from(extensions));
        Ok(conn)
    }

    // ----- getters -----

    /// The state (the browser's `readyState`).
    pub fn state(&self) -> State {
        self.state
    }

    /// Our role.
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

    /// Bytes queued for the transport and not yet consumed (the browser's `bufferedAmount`):
    /// stop producing when this grows too large.
    pub fn buffered_amount(&self) -> usize {
        self.output.len()
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    // ----- outputs -----

    /// The next event, if any.
    ///
    /// Frames are decoded as events are polled: after every input, poll until `None`, then
    /// write [`pending_output`](Self::pending_output) (which may now hold pongs and close
    /// answers).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.next_owned()
    }

    /// The next event, borrowed from the connection until the next call on it: the same
    /// sequence as [`poll_event`](Self::poll_event), without allocating or copying payloads.
    pub fn poll_event_ref(&mut self) -> Option<EventRef<'_>> {
        self.next_lent()
    }

    /// The bytes waiting to be written to the transport.
    pub fn pending_output(&self) -> &[u8] {
        &self.output
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output) as written.
    pub fn consume_output(&mut self, n: usize) {
        let n = n.min(self.output.len());
        if n == self.output.len() {
            // Drained: keep a small buffer for the next message, free a large one.
            if self.output.capacity() > RETAINED_OUTPUT {
                self.output = BytesMut::new();
            } else {
                self.output.clear();
            }
        } else {
            self.output.advance(n);
        }
    }

    /// Takes all pending output at once, without copying.
    pub fn take_output(&mut self) -> Bytes {
        core::mem::take(&mut self.output).freeze()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next; `None` when no
    /// timer runs. The instant may be in the past: then call it at once.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        self.timers.next_deadline(self.now)
    }

    // ----- inputs -----

    /// Tells the engine the time, firing whatever timers are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        if self.state == State::Closed {
            return;
        }
        self.timers.anchor(now);
        if self.timers.next_deadline(now).is_some_and(|t| t <= now) {
            // Input that arrived before the deadline counts first (a pong, a close frame).
            self.decode_all();
        }
        if self.timers.handshake.expired(now) && self.state == State::Connecting {
            self.fail_handshake(HandshakeError::Timeout);
            return;
        }
        if self.timers.close.expired(now) {
            if self.close_received && self.close_sent {
                // The closing handshake completed; the server just never ended the transport.
                self.finish(true);
            } else {
                self.events.push_back(Event::Error(Failure::CloseTimeout));
                self.finish(false);
            }
            return;
        }
        if self.timers.pong.expired(now) {
            self.events.push_back(Event::Error(Failure::PongTimeout));
            if !self.close_sent {
                self.write_close(CloseCode::INTERNAL_ERROR.0, "keepalive timeout");
            }
            self.finish(false);
            return;
        }
        if self.timers.keepalive.expired(now) && self.state == State::Open {
            if let Some((interval, timeout)) = self.options.keepalive_durations() {
                if self.rx_activity {
                    self.rx_activity = false;
                } else {
                    self.write_control(OpCode::Ping, &now.as_millis().to_be_bytes());
                    if !self.timers.pong.is_on() {
                        self.timers.pong.start(timeout);
                    }
                }
                self.timers.keepalive.start(interval);
                self.timers.anchor(now);
            }
        }
    }

    /// Feeds bytes read from the transport. The bytes are buffered (the opening handshake is
    /// processed at once); frames are decoded as [`poll_event`](Self::poll_event) is called,
    /// so poll events until `None` after every `receive`: that is when messages, answers to
    /// pings and closes, and state changes happen. Input after the connection closed is
    /// ignored.
    pub fn receive(&mut self, data: &[u8]) {
        if self.state == State::Closed || self.close_received {
            return;
        }
        if !data.is_empty() {
            self.rx_activity = true;
            self.timers.pong.stop();
        }
        // A borrowed event cannot outlive this call: drop what it lent.
        self.settle_lent();
        if self.rpos > 0 {
            // Drop what was decoded; a fully drained buffer is reused from its start.
            if self.rpos == self.input.len() {
                self.input.clear();
            } else {
                self.input.advance(self.rpos);
            }
            self.rpos = 0;
        }
        self.rx.last_read = data.len();
        let rest = self.unmask_into_input(data);
        self.input.extend_from_slice(rest);
        self.process();
    }

    /// The transport ended (the peer closed or the read failed). Before the closing
    /// handshake completed this is an abnormal closure (1006, RFC 6455 §7.1.5).
    pub fn receive_eof(&mut self) {
        // Frames that arrived before the end (a close frame above all) count first.
        self.decode_all();
        match self.state {
            State::Closed => {}
            State::Connecting => self.fail_handshake(HandshakeError::Eof),
            _ if self.close_received && self.close_sent => self.finish(true),
            _ => {
                self.events.push_back(Event::Error(Failure::Eof));
                self.finish(false);
            }
        }
    }

    fn process(&mut self) {
        if self.state == State::Connecting {
            self.process_handshake();
        }
    }

    // ----- the opening handshake -----

    /// Returns whether the connection is now open.
    fn process_handshake(&mut self) -> bool {
        let Some(hs) = self.handshake.as_mut() else {
            return true;
        };
        if let Pending::Server {
            awaiting: Some(_), ..
        } = hs.pending
        {
            // A client may not send frames before our answer (RFC 6455 §4.1); hold at most
            // one frame's worth while the application decides.
            let limit = self.options.max_frame_size + crate::frame::MAX_HEADER_LEN;
            if self.input.len() > limit {
                self.fail_handshake(HandshakeError::EarlyData);
            }
            return false;
        }
        let end = match handshake::find_head_end(&self.input, hs.scanned) {
            Some(end) if end <= self.options.max_handshake_size as usize => end,
            Some(_) => {
                self.fail_handshake(HandshakeError::HeadTooLarge);
                return false;
            }
            None => {
                hs.scanned = self.input.len();
                if self.input.len() > self.options.max_handshake_size as usize {
                    self.fail_handshake(HandshakeError::HeadTooLarge);
                }
                return false;
            }
        };
        let head = self.input.split_to(end);
        let max_headers = usize::from(self.options.max_headers);
        match &mut hs.pending {
            Pending::Client {
                handshake: client,
                #[cfg(feature = "deflate")]
                deflate,
            } => match client.finish(&head, max_headers) {
                Ok(n) => {
                    #[cfg(feature = "deflate")]
                    {
                        let deflate = deflate.take();
                        if let Err(e) = self.adopt_answer(&n.extensions, deflate.as_ref()) {
                            self.fail_handshake(e);
                            return false;
                        }
                    }
                    let ext = n
                        .extensions
                        .iter()
                        .map(|e| e.to_header_value())
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.open(n.subprotocol, ext);
                    true
                }
                Err(e) => {
                    self.fail_handshake(e);
                    false
                }
            },
            Pending::Server {
                subprotocols,
                defer_accept,
                awaiting,
                ..
            } => match handshake::parse_request(&head, max_headers) {
                Ok(req) if !req.websocket && !*defer_accept => {
                    self.fail_handshake(HandshakeError::MissingUpgrade);
                    false
                }
                Ok(req) if *defer_accept => {
                    *awaiting = Some(req.clone());
                    self.events.push_back(Event::Request(Box::new(req)));
                    false
                }
                Ok(req) => {
                    let chosen = subprotocols
                        .iter()
                        .find(|p| req.subprotocols.contains(p))
                        .cloned();
                    self.answer_accept(&req, chosen);
                    true
                }
                Err(e) => {
                    self.fail_handshake(e);
                    false
                }
            },
        }
    }

    /// Accepts the request a deferred-accept server reported with [`Event::Request`],
    /// choosing `subprotocol` (which the client must have offered).
    pub fn accept(&mut self, subprotocol: Option<&str>) -> Result<(), Error> {
        let req = match self.handshake.as_deref_mut() {
            Some(Handshake {
                pending: Pending::Server { awaiting, .. },
                ..
            }) if awaiting.is_some() => {
                let req = awaiting.as_ref().ok_or(Error::NoPendingRequest)?;
                if !req.websocket {
                    return Err(Error::NotWebSocket);
                }
                if let Some(p) = subprotocol {
                    if !req.subprotocols.iter().any(|o| o == p) {
                        return Err(Error::SubprotocolNotOffered);
                    }
                }
                awaiting.take().ok_or(Error::NoPendingRequest)?
            }
            _ => return Err(Error::NoPendingRequest),
        };
        self.answer_accept(&req, subprotocol.map(String::from));
        Ok(())
    }

    /// Rejects the request a deferred-accept server reported, answering `status` (a 4xx or
    /// 5xx) with `reason` as the body. The connection is then closed.
    pub fn reject(&mut self, status: u16, reason: &str) -> Result<(), Error> {
        if !(400..=599).contains(&status) {
            return Err(Error::InvalidStatus(status));
        }
        match self.handshake.as_deref() {
            Some(Handshake {
                pending:
                    Pending::Server {
                        awaiting: Some(_), ..
                    },
                ..
            }) => {}
            _ => return Err(Error::NoPendingRequest),
        }
        handshake::write_reject(&mut self.output, status, reason, &[]);
        self.events
            .push_back(Event::Error(Failure::Handshake(HandshakeError::Rejected(
                status,
            ))));
        self.finish(false);
        Ok(())
    }

    /// Answers the request a deferred-accept server reported with a complete HTTP response
    /// (a page for a plain `GET`, or a custom rejection of an Upgrade), then closes.
    pub fn respond(&mut self, status: u16, content_type: &str, body: &[u8]) -> Result<(), Error> {
        if !(200..=599).contains(&status) || status == 204 || status == 304 {
            return Err(Error::InvalidStatus(status));
        }
        if !handshake::is_header_value(content_type) {
            return Err(Error::InvalidHeader);
        }
        let websocket = match self.handshake.as_deref() {
            Some(Handshake {
                pending:
                    Pending::Server {
                        awaiting: Some(req),
                        ..
                    },
                ..
            }) => req.websocket,
            _ => return Err(Error::NoPendingRequest),
        };
        handshake::write_response(&mut self.output, status, content_type, body);
        if websocket {
            self.events
                .push_back(Event::Error(Failure::Handshake(HandshakeError::Rejected(
                    status,
                ))));
        }
        self.finish(false);
        Ok(())
    }

    fn answer_accept(&mut self, req: &Request, subprotocol: Option<String>) {
        let extra = match self.handshake.as_deref() {
            Some(Handshake {
                pending: Pending::Server { extra_headers, .. },
                ..
            }) => extra_headers.as_slice(),
            _ => &[],
        };
        #[cfg(feature = "deflate")]
        let (extensions, codec) = match self.handshake.as_deref() {
            Some(Handshake {
                pending: Pending::Server { deflate, .. },
                ..
            }) => compression::accept_offer(&req.extensions, deflate.as_ref()),
            _ => (String::new(), None),
        };
        #[cfg(not(feature = "deflate"))]
        let extensions = String::new();
        handshake::write_accept(
            &mut self.output,
            &req.key,
            subprotocol.as_deref(),
            &extensions,
            extra,
        );
        #[cfg(feature = "deflate")]
        self.set_codec(codec);
        self.open(subprotocol, extensions);
    }

    fn open(&mut self, subprotocol: Option<String>, extensions: String) {
        self.handshake = None;
        self.state = State::Open;
        self.timers.handshake.stop();
        self.rx_activity = false;
        if let Some((interval, _)) = self.options.keepalive_durations() {
            self.timers.keepalive.start(interval);
        }
        if subprotocol.is_some() || !extensions.is_empty() {
            self.negotiated = Some(Box::new(Negotiated {
                subprotocol: subprotocol.clone(),
                extensions: extensions.clone(),
            }));
        }
        self.events.push_back(Event::Open {
            subprotocol,
            extensions,
        });
    }

    fn fail_handshake(&mut self, e: HandshakeError) {
        if self.role == Role::Server && e != HandshakeError::Eof {
            handshake::write_reject(&mut self.output, e.status(), e.as_str(), &[]);
        }
        self.events.push_back(Event::Error(Failure::Handshake(e)));
        self.finish(false);
    }

    // ----- closing -----

    /// Fails the connection for a protocol error (RFC 6455 §7.1.7): queues a close frame
    /// with the error's code, reports the error and closes.
    fn fail(&mut self, e: ProtocolError) {
        self.events.push_back(Event::Error(Failure::Protocol(e)));
        if !self.close_sent {
            self.write_close(e.close_code().0, e.as_str());
            self.close_sent = true;
        }
        self.peer_close = Some((e.close_code(), String::from(e.as_str())));
        self.finish(false);
    }

    /// Both close frames have passed. A server ends the transport now (RFC 6455 §7.1.1); a
    /// client waits for the server to do so, up to the close timeout.
    fn closing_handshake_done(&mut self) {
        self.input.clear();
        self.rpos = 0;
        match self.role {
            Role::Server => self.finish(true),
            Role::Client => {
                self.state = State::Closing;
                self.timers.keepalive.stop();
                self.timers.pong.stop();
                self.timers
                    .close
                    .start(self.options.close_timeout_duration());
            }
        }
    }

    /// Enters `Closed`, releases buffers and reports `Closed`.
    fn finish(&mut self, clean: bool) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.timers.stop_all();
        self.handshake = None;
        self.input = BytesMut::new();
        self.rpos = 0;
        self.rx = Receiver::default();
        let (code, reason) = self
            .peer_close
            .take()
            .unwrap_or((CloseCode::ABNORMAL, String::new()));
        self.events.push_back(Event::Closed {
            clean,
            code,
            reason,
        });
    }
}
