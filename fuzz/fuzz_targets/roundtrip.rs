//! Encode → decode round trip: whatever our client sends, our server decodes to the same
//! messages, and vice versa, however the transport cuts the bytes.
//!
//! Input: an `arbitrary` script of sends on either side (text, binary, fragmented
//! messages cut anywhere, code points included, with pings between fragments, pings,
//! pongs) and deliveries (up to N bytes one way, cut at chosen points), then a closing
//! handshake started by either side.
//!
//! Invariants:
//! 1. **Data**: each side receives exactly the messages the other sent, in order; with
//!    streamed fragments on, the fragments arrive with the boundaries they were sent with.
//! 2. **Control**: each side receives the other's pings in order; its pongs are the other
//!    side's explicit pongs plus automatic pongs for pings it sent, the latest always (as
//!    multisets: their order against explicit pongs depends on timing; a backlogged side
//!    answers only the latest ping of the backlog).
//! 3. **Closing**: the side that closes with (code, reason) sees the echo with that code;
//!    the other sees (code, reason); the server reaches `Closed` clean first, the client
//!    once it gets the end of input; both report the code; no error on either side.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsfuzz::input::cuts;
use wsfuzz::rng::Deterministic;
use wsmachine::{
    Bytes, ClientConfig, CloseCode, Connection, Event, MessageKind, Options, ServerConfig, State,
    Utf8Bytes,
};

#[derive(Debug, Arbitrary)]
struct Script {
    client_streams: bool,
    server_streams: bool,
    seed: u64,
    steps: Vec<Step>,
    /// Who closes (true: the client), with which code (mapped to a sendable one) and reason.
    close_by_client: bool,
    code: u16,
    reason: String,
}

#[derive(Debug, Arbitrary)]
enum Step {
    Send {
        by_client: bool,
        msg: Msg,
    },
    Deliver {
        to_server: bool,
        max: u16,
        cuts: Vec<u16>,
    },
}

#[derive(Debug, Arbitrary)]
enum Msg {
    Text(String),
    Binary(Vec<u8>),
    /// A text message sent in fragments cut at these byte offsets (inside code points too).
    FragmentedText {
        text: String,
        cuts: Vec<u16>,
        ping_between: Option<Vec<u8>>,
    },
    FragmentedBinary {
        data: Vec<u8>,
        cuts: Vec<u16>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A message handed over as `Bytes` (`send_*_bytes`): `len` × 4 bytes from `seed`,
    /// queued uncopied from 16 KiB; `keep`: the sender holds a clone (a client must not
    /// mask it in place).
    Owned {
        text: bool,
        seed: u8,
        len: u16,
        keep: bool,
    },
}

/// What one side sent, and what it received.
#[derive(Default, Debug)]
struct Log {
    /// Whole messages: (is text, bytes), and the fragment boundaries they were sent with.
    messages: Vec<(bool, Vec<u8>, Vec<Vec<u8>>)>,
    pings: Vec<Vec<u8>>,
    pongs: Vec<Vec<u8>>,
}

struct Side {
    conn: Connection,
    sent: Log,
    got: Log,
    /// Streamed fragments of the message being received.
    partial: Option<(bool, Vec<Vec<u8>>)>,
    close: Option<(Option<u16>, String)>,
    closed: Option<(bool, u16)>,
}

impl Side {
    fn new(conn: Connection) -> Self {
        Self {
            conn,
            sent: Log::default(),
            got: Log::default(),
            partial: None,
            close: None,
            closed: None,
        }
    }

    fn drain(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            match e {
                Event::Open { .. } => {}
                Event::Text(t) => self
                    .got
                    .messages
                    .push((true, t.as_bytes().to_vec(), vec![])),
                Event::Binary(b) => self.got.messages.push((false, b.to_vec(), vec![])),
                Event::Fragment { kind, data, fin } => {
                    let text = kind == MessageKind::Text;
                    let p = self.partial.get_or_insert((text, Vec::new()));
                    assert_eq!(p.0, text, "fragment kind changed mid-message");
                    p.1.push(data.to_vec());
                    if fin {
                        let (t, parts) = self.partial.take().unwrap();
                        self.got.messages.push((t, parts.concat(), parts));
                    }
                }
                Event::Ping(p) => self.got.pings.push(p.to_vec()),
                Event::Pong(p) => self.got.pongs.push(p.to_vec()),
                Event::Close { code, reason } => {
                    assert!(self.close.is_none());
                    self.close = Some((code.map(|c| c.0), reason));
                }
                Event::Closed { clean, code, .. } => {
                    assert!(self.closed.is_none());
                    self.closed = Some((clean, code.0));
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
    }

    fn send(&mut self, msg: &Msg) {
        let c = &mut self.conn;
        match msg {
            Msg::Text(s) => {
                c.send_text(s).unwrap();
                self.sent
                    .messages
                    .push((true, s.as_bytes().to_vec(), vec![s.as_bytes().to_vec()]));
            }
            Msg::Binary(b) => {
                c.send_binary(b).unwrap();
                self.sent.messages.push((false, b.clone(), vec![b.clone()]));
            }
            Msg::FragmentedText {
                text,
                cuts: points,
                ping_between,
            } => {
                let bytes = text.as_bytes();
                let parts = pieces(bytes, points);
                for (i, part) in parts.iter().enumerate() {
                    c.send_fragment(MessageKind::Text, part, i + 1 == parts.len())
                        .unwrap();
                    if let Some(p) = ping_between.as_ref().filter(|p| p.len() <= 125) {
                        if i + 1 < parts.len() {
                            c.send_ping(p).unwrap();
                            self.sent.pings.push(p.clone());
                        }
                    }
                }
                self.sent.messages.push((true, bytes.to_vec(), parts));
            }
            Msg::FragmentedBinary { data, cuts: points } => {
                let parts = pieces(data, points);
                for (i, part) in parts.iter().enumerate() {
                    c.send_fragment(MessageKind::Binary, part, i + 1 == parts.len())
                        .unwrap();
                }
                self.sent.messages.push((false, data.clone(), parts));
            }
            Msg::Ping(p) if p.len() <= 125 => {
                c.send_ping(p).unwrap();
                self.sent.pings.push(p.clone());
            }
            Msg::Pong(p) if p.len() <= 125 => {
                c.send_pong(p).unwrap();
                self.sent.pongs.push(p.clone());
            }
            Msg::Ping(_) | Msg::Pong(_) => {}
            &Msg::Owned {
                text,
                seed,
                len,
                keep,
            } => {
                let data: Vec<u8> = (0..usize::from(len) * 4)
                    .map(|i| b'a' + (i as u8).wrapping_add(seed) % 26)
                    .collect();
                let bytes = Bytes::from(data.clone());
                let kept = keep.then(|| bytes.clone());
                if text {
                    c.send_text_bytes(Utf8Bytes::try_from_bytes(bytes).unwrap())
                        .unwrap();
                } else {
                    c.send_binary_bytes(bytes).unwrap();
                }
                if let Some(kept) = kept {
                    assert_eq!(kept[..], data[..], "a held payload was changed");
                }
                self.sent.messages.push((text, data.clone(), vec![data]));
            }
        }
    }
}

/// The pieces of `bytes` at the cut points (one empty piece for an empty message).
fn pieces(bytes: &[u8], points: &[u16]) -> Vec<Vec<u8>> {
    let b = cuts(bytes.len(), &points[..points.len().min(8)]);
    if b.len() == 1 {
        return vec![Vec::new()];
    }
    b.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
}

/// Moves up to `max` bytes (all with 0) from `from` to `to`, cut at `points`.
fn deliver(from: &mut Side, to: &mut Side, max: usize, points: &[u16]) {
    let n = if max == 0 { usize::MAX } else { max }.min(from.conn.buffered_amount());
    // As a vectored write takes them: across the chunks queued messages make.
    let mut bytes = Vec::with_capacity(n.min(1 << 20));
    for chunk in from.conn.pending_output_chunks() {
        bytes.extend_from_slice(&chunk[..chunk.len().min(n - bytes.len())]);
    }
    from.conn.consume_output(n);
    let b = cuts(bytes.len(), points);
    for (i, w) in b.windows(2).enumerate() {
        // Copied, read in place or into a lent room, in turn, possibly short.
        wsfuzz::feed::receive_piece(&mut to.conn, i, &bytes[w[0]..w[1]], w[0] % 97);
    }
    to.drain();
}

fn flush(client: &mut Side, server: &mut Side) {
    loop {
        let moving = client.conn.buffered_amount() + server.conn.buffered_amount();
        if moving == 0 {
            break;
        }
        deliver(client, server, 0, &[]);
        deliver(server, client, 0, &[]);
    }
}

fn check_received(sender: &Side, receiver: &Side, receiver_streams: bool) {
    assert_eq!(
        receiver.got.messages.len(),
        sender.sent.messages.len(),
        "message count"
    );
    for (got, sent) in receiver.got.messages.iter().zip(&sender.sent.messages) {
        assert_eq!((got.0, &got.1), (sent.0, &sent.1), "message content");
        if receiver_streams {
            assert_eq!(got.2, sent.2, "fragment boundaries");
        }
    }
    assert_eq!(receiver.got.pings, sender.sent.pings, "pings");
}

/// Every explicit pong arrives; automatic pongs answer pings that were sent, the latest ping
/// always, earlier ones unless the ponger's output was backlogged (only the latest ping of a
/// backlog is answered, RFC 6455 §5.5.3).
fn check_pongs(pinger: &Side, ponger: &Side) {
    let mut unexplained = pinger.got.pongs.clone();
    for explicit in &ponger.sent.pongs {
        let i = unexplained.iter().position(|p| p == explicit);
        let i = i.unwrap_or_else(|| panic!("explicit pong {explicit:?} lost"));
        unexplained.swap_remove(i);
    }
    let mut pings = pinger.sent.pings.clone();
    for pong in &unexplained {
        let i = pings.iter().position(|p| p == pong);
        let i = i.unwrap_or_else(|| panic!("pong {pong:?} answers no ping sent"));
        pings.swap_remove(i);
    }
    if let Some(last) = pinger.sent.pings.last() {
        assert!(
            unexplained.contains(last),
            "the latest ping {last:?} got no pong"
        );
    }
}

fuzz_target!(|script: Script| {
    let opts = |stream| Options::new().stream_fragments(stream);
    let client = Connection::client(
        ClientConfig::new("example.com", "/")
            .options(opts(script.client_streams))
            .random(Deterministic::new(*b"0123456789abcdef", script.seed)),
    )
    .unwrap();
    let server = Connection::server(ServerConfig::new().options(opts(script.server_streams)));
    let (mut client, mut server) = (Side::new(client), Side::new(server));
    flush(&mut client, &mut server);
    assert_eq!(client.conn.state(), State::Open);
    assert_eq!(server.conn.state(), State::Open);

    for step in script.steps.iter().take(64) {
        match step {
            Step::Send {
                by_client: true,
                msg,
            } => client.send(msg),
            Step::Send {
                by_client: false,
                msg,
            } => server.send(msg),
            Step::Deliver {
                to_server: true,
                max,
                cuts,
            } => deliver(&mut client, &mut server, usize::from(*max), cuts),
            Step::Deliver {
                to_server: false,
                max,
                cuts,
            } => deliver(&mut server, &mut client, usize::from(*max), cuts),
        }
    }
    flush(&mut client, &mut server);
    check_received(&client, &server, script.server_streams);
    check_received(&server, &client, script.client_streams);
    check_pongs(&client, &server);
    check_pongs(&server, &client);

    // The closing handshake.
    let sendable: Vec<u16> = (1000..=1003)
        .chain(1007..=1014)
        .chain(3000..=4999)
        .collect();
    let code = sendable[usize::from(script.code) % sendable.len()];
    let mut reason = script.reason.clone();
    while reason.len() > 123 {
        reason.pop();
    }
    let closer = if script.close_by_client {
        &mut client
    } else {
        &mut server
    };
    closer.conn.close(CloseCode(code), &reason).unwrap();
    assert_eq!(closer.conn.state(), State::Closing);
    flush(&mut client, &mut server);
    assert_eq!(
        server.conn.state(),
        State::Closed,
        "the server closes first"
    );
    client.conn.receive_eof();
    client.drain();
    assert_eq!(client.conn.state(), State::Closed);
    let (closer, other) = if script.close_by_client {
        (&client, &server)
    } else {
        (&server, &client)
    };
    assert_eq!(other.close, Some((Some(code), reason.clone())));
    // The answer echoes the code and the reason (Options::echo_close_reason, default on).
    assert_eq!(closer.close, Some((Some(code), reason.clone())));
    assert_eq!(closer.closed, Some((true, code)));
    assert_eq!(other.closed, Some((true, code)));
});
