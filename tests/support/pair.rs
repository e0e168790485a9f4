//! The in-memory harness: a client and a server connection joined by two byte queues and a
//! clock that jumps to the next deadline; raw frames, the sample request and open
//! connections of either role for driving one side by hand.

use std::time::Duration;
use wsmachine::frame::{write_frame, OpCode};
use wsmachine::{ClientConfig, Connection, Event, Instant, Options, Role, ServerConfig};

/// A deterministic random source for reproducible client output.
pub fn counter_random() -> impl FnMut(&mut [u8]) + Send {
    let mut n = 0u8;
    move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_add(37);
            *b = n;
        }
    }
}

pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    pub now: Instant,
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// Bytes the server sent after the client's transport was "closed" are dropped.
    pub client_eof_sent: bool,
    pub server_eof_sent: bool,
}

impl Pair {
    pub fn new(client: ClientConfig, server: ServerConfig) -> Self {
        let client = Connection::client(client.random(counter_random())).unwrap();
        Self {
            client,
            server: Connection::server(server),
            now: Instant::ZERO,
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_eof_sent: false,
            server_eof_sent: false,
        }
    }

    pub fn default_pair() -> Self {
        Self::new(ClientConfig::new("localhost", "/"), ServerConfig::new())
    }

    /// An open pair with the Open events already drained.
    pub fn open() -> Self {
        let mut p = Self::default_pair();
        p.drive();
        assert!(matches!(p.client_events.remove(0), Event::Open { .. }));
        assert!(matches!(p.server_events.remove(0), Event::Open { .. }));
        p
    }

    /// Shuttles bytes both ways until both sides are quiet; a side that reports `Closed`
    /// ends its transport, which the other side sees as EOF once its input is drained.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            let c2s = self.client.take_output();
            if !c2s.is_empty() {
                progress = true;
                self.server.receive(&c2s);
            }
            let s2c = self.server.take_output();
            if !s2c.is_empty() {
                progress = true;
                self.client.receive(&s2c);
            }
            progress |= self.drain_events();
            if self.server.is_closed()
                && !self.server_eof_sent
                && self.server.pending_output().is_empty()
            {
                self.server_eof_sent = true;
                self.client.receive_eof();
                progress = true;
            }
            if self.client.is_closed()
                && !self.client_eof_sent
                && self.client.pending_output().is_empty()
            {
                self.client_eof_sent = true;
                self.server.receive_eof();
                progress = true;
            }
            progress |= self.drain_events();
            if !progress {
                return;
            }
        }
        panic!("pair never went quiet");
    }

    fn drain_events(&mut self) -> bool {
        let mut any = false;
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
            any = true;
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
            any = true;
        }
        any
    }

    /// Jumps the clock to the next deadline of either side, fires it and drives.
    pub fn advance_to_next_timeout(&mut self) -> bool {
        let next = [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next else { return false };
        self.now = self.now.max(t);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.drive();
        true
    }

    /// The connection of `role`.
    pub fn side(&mut self, role: Role) -> &mut Connection {
        match role {
            Role::Client => &mut self.client,
            Role::Server => &mut self.server,
        }
    }

    /// The events the connection of `role` reported so far.
    pub fn events_of(&self, role: Role) -> &[Event] {
        match role {
            Role::Client => &self.client_events,
            Role::Server => &self.server_events,
        }
    }

    pub fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.drive();
    }
}

/// A frame as raw bytes.
pub fn frame(fin: bool, rsv: u8, opcode: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    write_frame(&mut out, fin, rsv, opcode, mask, payload);
    out.to_vec()
}

/// A masked client frame.
pub fn cframe(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, opcode, Some([0x11, 0x22, 0x33, 0x44]), payload)
}

/// RFC 6455 §1.2's sample request.
pub const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server that has accepted `REQUEST`, with its output and events drained.
pub fn open_server(config: ServerConfig) -> Connection {
    let mut s = Connection::server(config);
    s.receive(REQUEST);
    assert!(matches!(s.poll_event(), Some(Event::Open { .. })));
    let n = s.pending_output().len();
    s.consume_output(n);
    s
}

pub fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Parses the frames in a server's (unmasked) or client's (masked) output.
pub fn parse_frames(mut bytes: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (h, n) = wsmachine::frame::FrameHeader::parse(bytes)
            .unwrap()
            .expect("complete frame");
        let len = h.payload_len as usize;
        let mut payload = bytes[n..n + len].to_vec();
        if let Some(k) = h.mask {
            wsmachine::mask::apply_mask(&mut payload, k, 0);
        }
        out.push((h.opcode, h.fin, payload));
        bytes = &bytes[n + len..];
    }
    out
}

/// The close code in a server's output, expecting exactly one close frame at its end.
pub fn sent_close_code(c: &mut Connection) -> u16 {
    let out = c.take_output();
    let frames = parse_frames(&out);
    let (op, _, payload) = frames.last().expect("a frame").clone();
    assert_eq!(op, OpCode::Close);
    u16::from_be_bytes([payload[0], payload[1]])
}

/// Both roles, for the scenarios that hold for either.
pub const ROLES: [Role; 2] = [Role::Client, Role::Server];

/// The other end of a connection of `role`.
pub fn peer_of(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

/// An open connection of `role` with `options`, its output and events drained: a server as
/// [`open_server`] gives it, a client opened against a server.
pub fn open_as(role: Role, options: Options) -> Connection {
    match role {
        Role::Server => open_server(ServerConfig::new().options(options)),
        Role::Client => {
            let mut p = Pair::new(
                ClientConfig::new("localhost", "/").options(options),
                ServerConfig::new(),
            );
            p.drive();
            assert!(matches!(p.client_events[..], [Event::Open { .. }]));
            assert!(p.client.pending_output().is_empty());
            p.client
        }
    }
}

/// A frame as the peer of `role` sends it: masked to a server, unmasked to a client.
pub fn peer_frame(role: Role, fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    match role {
        Role::Server => cframe(fin, opcode, payload),
        Role::Client => frame(fin, 0, opcode, None, payload),
    }
}

/// A frame header written by hand, with no payload, as the peer of `role` sends it: to a
/// server with the mask bit set and a zero masking key after it.
pub fn peer_raw(role: Role, header: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    if role == Role::Server {
        out[1] |= 0x80;
        out.extend_from_slice(&[0; 4]);
    }
    out
}

/// The text of a `Text` event.
pub fn text(e: &Event) -> &str {
    match e {
        Event::Text(t) => t.as_str(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// The events of `c`, its output dropped.
pub fn drain_all(c: &mut Connection) -> Vec<Event> {
    let evs = events(c);
    drop(c.take_output());
    evs
}
