//! One connection, client or server, shown frame by frame: the engine (with its frame
//! trace on) driven from a channel of inputs (socket bytes, typed lines), its output written
//! to the transport, every frame and event shown through the [`View`].

use crate::net::{Input, Transport};
use crate::view::{Known, View};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant as StdInstant};
use wsmachine::frame::OpCode;
use wsmachine::{
    CloseCode, Connection, Direction, Event, Failure, FrameInfo, HandshakeError, Instant, Role,
    State,
};

/// How a session ended, and the exit code it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The closing handshake completed.
    Clean = 0,
    /// The connection ended without one (1006, a timeout, the transport failed).
    Abnormal = 1,
    /// The transport failed before the connection opened (TLS: an untrusted certificate).
    Unreachable = 3,
    /// The server refused the upgrade (its status and body were shown), or its answer was
    /// not a valid one, or did not come in time.
    Refused = 4,
    /// The peer broke the protocol (the close code it caused was shown).
    Protocol = 5,
}

pub struct Session {
    pub conn: Connection,
    pub transport: Transport,
    pub view: View,
    pub rx: Receiver<Input>,
    /// Echo every message back (`wsm listen --echo`).
    pub echo: bool,
    /// The end of stdin closes the connection (`wsm connect`).
    pub stdin_closes: bool,
    clock: StdInstant,
    opened: Option<StdInstant>,
    /// Plaintext received during the opening handshake: the peer's head (and a refusal's body).
    handshake_in: Vec<u8>,
    /// Our head, for a server (the response, once produced).
    handshake_out: Vec<u8>,
    /// Lines typed before the connection opened.
    queued: VecDeque<String>,
    pings: HashMap<Vec<u8>, StdInstant>,
    ping_seq: u64,
    /// A received compressed frame, shown with its message once that is inflated.
    stashed: Option<FrameInfo>,
    end: End,
    dropped_shown: u64,
}

impl Session {
    pub fn new(conn: Connection, transport: Transport, view: View, rx: Receiver<Input>) -> Self {
        Self {
            conn,
            transport,
            view,
            rx,
            echo: false,
            stdin_closes: false,
            clock: StdInstant::now(),
            opened: None,
            handshake_in: Vec::new(),
            handshake_out: Vec::new(),
            queued: VecDeque::new(),
            pings: HashMap::new(),
            ping_seq: 0,
            stashed: None,
            end: End::Abnormal,
            dropped_shown: 0,
        }
    }

    fn now(&self) -> Instant {
        Instant::from_duration(self.clock.elapsed())
    }

    fn since_open(&self) -> Duration {
        self.opened.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Runs the connection to its end.
    pub fn run(mut self) -> End {
        if self.conn.role() == Role::Client {
            let request = self.conn.pending_output().to_vec();
            self.view.head("request", &request);
        }
        loop {
            while let Some(event) = self.conn.poll_event() {
                self.show_frames(None);
                self.on_event(event);
                self.show_frames(None);
            }
            self.show_frames(None);
            if let Err(e) = self.write_output() {
                self.view.note(
                    self.since_open(),
                    "error",
                    &format!("write failed: {e}"),
                    json!({}),
                );
                self.conn.receive_eof();
                continue;
            }
            if self.conn.is_closed() {
                break;
            }
            let wait = self
                .conn
                .poll_timeout()
                .map(|t| t.saturating_duration_since(self.now()));
            let input = match wait {
                Some(d) => match self.rx.recv_timeout(d) {
                    Ok(input) => Some(input),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => Some(Input::NetEnd),
                },
                None => Some(self.rx.recv().unwrap_or(Input::NetEnd)),
            };
            match input {
                None => {
                    let now = self.now();
                    self.conn.handle_timeout(now);
                }
                Some(input) => self.on_input(input),
            }
        }
        self.transport.shutdown();
        self.end
    }

    fn on_input(&mut self, input: Input) {
        match input {
            Input::Net(raw) => {
                let mut plain = Vec::new();
                match self.transport.incoming(&raw, &mut plain) {
                    Ok(done) => {
                        if self.conn.state() == State::Connecting {
                            self.handshake_in.extend_from_slice(&plain);
                        }
                        self.conn.receive(&plain);
                        if self.conn.role() == Role::Server
                            && self.conn.state() != State::Connecting
                            && self.handshake_out.is_empty()
                        {
                            self.handshake_out = self.conn.pending_output().to_vec();
                        }
                        if done {
                            self.conn.receive_eof();
                        }
                    }
                    Err(e) => {
                        self.view
                            .note(self.since_open(), "error", &e, json!({ "message": e }));
                        if self.conn.state() == State::Connecting {
                            self.end = End::Unreachable;
                        }
                        self.conn.receive_eof();
                    }
                }
            }
            Input::NetEnd => {
                self.conn.receive_eof();
            }
            Input::Line(line) => {
                if self.conn.state() == State::Connecting {
                    self.queued.push_back(line);
                } else {
                    self.command(&line);
                }
            }
            Input::StdinEnd => {
                if self.stdin_closes {
                    self.queued.push_back("/close".into());
                    if self.conn.state() != State::Connecting {
                        while let Some(line) = self.queued.pop_front() {
                            self.command(&line);
                        }
                    }
                }
            }
        }
    }

    /// A line typed: text to send, or a command.
    fn command(&mut self, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let result = if let Some(text) = line.strip_prefix("//") {
            self.conn.send_text(&format!("/{text}"))
        } else if let Some(rest) = line.strip_prefix('/') {
            let (cmd, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            match cmd {
                "ping" => {
                    self.ping_seq += 1;
                    let payload = if arg.is_empty() {
                        self.ping_seq.to_string()
                    } else {
                        arg.to_string()
                    };
                    let r = self.conn.send_ping(payload.as_bytes());
                    if r.is_ok() {
                        self.pings.insert(payload.into_bytes(), StdInstant::now());
                    }
                    r
                }
                "binary" => match parse_hex(arg) {
                    Some(bytes) => {
                        let r = self.conn.send_binary(&bytes);
                        self.show_frames(Some(Known::Binary(&bytes)));
                        r
                    }
                    None => {
                        self.say_error(&format!("/binary wants hex bytes, not {arg:?}"));
                        return;
                    }
                },
                "close" => {
                    let (code, reason) = arg.split_once(' ').unwrap_or((arg, ""));
                    let code = if code.is_empty() {
                        Some(1000)
                    } else {
                        code.parse::<u16>().ok()
                    };
                    match code {
                        Some(code) if self.conn.state() == State::Open => {
                            self.conn.close(CloseCode::from(code), reason)
                        }
                        Some(_) => return,
                        None => {
                            self.say_error("/close wants a code, then an optional reason");
                            return;
                        }
                    }
                }
                _ => {
                    self.say_error(&format!(
                        "unknown command /{cmd} (/ping [TEXT], /binary HEX, /close [CODE [REASON]], //text sends /text)"
                    ));
                    return;
                }
            }
        } else {
            let r = self.conn.send_text(line);
            self.show_frames(Some(Known::Text(line)));
            r
        };
        if let Err(e) = result {
            self.say_error(&format!("not sent: {e}"));
        }
    }

    fn say_error(&self, text: &str) {
        self.view
            .note(self.since_open(), "error", text, json!({ "message": text }));
    }

    /// Shows the frames recorded since the last call. `sent`: the message just sent, shown
    /// instead of its compressed bytes.
    fn show_frames(&mut self, sent: Option<Known<'_>>) {
        while let Some(f) = self.conn.poll_frame() {
            if let Some(stashed) = self.stashed.take() {
                self.view.frame(self.since_open(), &stashed, None);
            }
            let data = matches!(f.opcode, OpCode::Text | OpCode::Binary);
            if f.rsv1() && f.fin && data {
                match f.direction {
                    Direction::Received => {
                        self.stashed = Some(f);
                        continue;
                    }
                    Direction::Sent => {
                        let known = match &sent {
                            Some(Known::Text(t)) => Some(Known::Text(t)),
                            Some(Known::Binary(b)) => Some(Known::Binary(b)),
                            None => None,
                        };
                        self.view.frame(self.since_open(), &f, known);
                        continue;
                    }
                }
            }
            self.view.frame(self.since_open(), &f, None);
        }
        let dropped = self.conn.frames_dropped();
        if dropped > self.dropped_shown {
            self.dropped_shown = dropped;
            self.say_error(&format!(
                "{dropped} frames not shown (the trace overflowed)"
            ));
        }
    }

    /// A stashed compressed frame, shown with the message it carried.
    fn show_stashed(&mut self, known: Known<'_>) {
        if let Some(f) = self.stashed.take() {
            self.view.frame(self.since_open(), &f, Some(known));
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Open { .. } => {
                self.opened = Some(StdInstant::now());
                match self.conn.role() {
                    Role::Client => {
                        let head = head_of(&self.handshake_in).to_vec();
                        self.view.head("response", &head);
                    }
                    Role::Server => {
                        let request = head_of(&self.handshake_in).to_vec();
                        self.view.head("request", &request);
                        let response = head_of(&self.handshake_out).to_vec();
                        self.view.head("response", &response);
                    }
                }
                self.handshake_in = Vec::new();
                while let Some(line) = self.queued.pop_front() {
                    self.command(&line);
                }
            }
            Event::Text(text) => {
                self.show_stashed(Known::Text(&text));
                if self.echo {
                    let _ = self.conn.send_text(&text);
                    self.show_frames(Some(Known::Text(&text)));
                }
            }
            Event::Binary(data) => {
                self.show_stashed(Known::Binary(&data));
                if self.echo {
                    let _ = self.conn.send_binary(&data);
                    self.show_frames(Some(Known::Binary(&data)));
                }
            }
            Event::Pong(payload) => {
                if let Some(sent) = self.pings.remove(&payload[..]) {
                    let rtt = sent.elapsed();
                    let ms = rtt.as_secs_f64() * 1000.0;
                    let shown = String::from_utf8_lossy(&payload);
                    self.view.note(
                        self.since_open(),
                        "rtt",
                        &format!("ping {shown:?} round trip {ms:.3} ms"),
                        json!({ "ping": shown, "ms": (ms * 1000.0).round() / 1000.0 }),
                    );
                }
            }
            Event::Error(failure) => self.on_failure(failure),
            Event::Closed {
                clean,
                code,
                reason,
            } => {
                if clean && self.end != End::Protocol {
                    self.end = End::Clean;
                }
                if self.opened.is_some() {
                    let text = format!(
                        "closed {} code {} {:?}",
                        if clean { "cleanly," } else { "abnormally," },
                        u16::from(code),
                        reason
                    );
                    self.view.note(
                        self.since_open(),
                        "closed",
                        &text,
                        json!({ "clean": clean, "code": u16::from(code), "reason": reason }),
                    );
                }
            }
            _ => {}
        }
    }

    fn on_failure(&mut self, failure: Failure) {
        let since = self.since_open();
        match failure {
            Failure::Handshake(_) if self.end == End::Unreachable => {}
            Failure::Handshake(e) => {
                self.end = End::Refused;
                if self.conn.role() == Role::Server {
                    let request = head_of(&self.handshake_in).to_vec();
                    self.view.head("request", &request);
                    let answer = self.conn.pending_output().to_vec();
                    self.view.head("response", &answer);
                    self.view.note(
                        since,
                        "error",
                        &format!("upgrade refused: {e}"),
                        json!({ "message": e.to_string() }),
                    );
                    return;
                }
                // The engine waited for a refusal's body (Content-Length, chunked, or until
                // the stream ended) before failing, and lends it decoded.
                let head = head_of(&self.handshake_in).to_vec();
                let body = self.conn.response_body().unwrap_or_default().to_vec();
                if !head.is_empty() {
                    self.view.head("response", &head);
                }
                let status = match e {
                    HandshakeError::UnexpectedStatus(s) | HandshakeError::Rejected(s) => Some(s),
                    _ => None,
                };
                let body_text = String::from_utf8_lossy(&body).into_owned();
                let text = match status {
                    Some(s) if body.is_empty() => format!("upgrade refused: HTTP {s}"),
                    Some(s) => format!("upgrade refused: HTTP {s}: {}", body_text.trim_end()),
                    None => format!("handshake failed: {e}"),
                };
                self.view.note(
                    since,
                    "error",
                    &text,
                    json!({ "status": status, "body": body_text, "message": e.to_string() }),
                );
            }
            Failure::Protocol(e) => {
                self.end = End::Protocol;
                // The close frame the engine queued says the code.
                self.view.note(
                    since,
                    "error",
                    &format!("protocol error: {e}"),
                    json!({ "message": e.to_string() }),
                );
            }
            other => {
                self.view.note(
                    since,
                    "error",
                    &other.to_string(),
                    json!({ "message": other.to_string() }),
                );
            }
        }
    }

    fn write_output(&mut self) -> std::io::Result<()> {
        let out = self.conn.take_output();
        if out.is_empty() {
            return Ok(());
        }
        self.transport.send(&out)
    }
}

/// The HTTP head at the start of `bytes` (all of them when it is not complete).
fn head_of(bytes: &[u8]) -> &[u8] {
    split_head(bytes).0
}

fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&bytes[..i + 4], &bytes[i + 4..]),
        None => (bytes, &[]),
    }
}

/// `48 69` or `4869` or `0x48 0x69`.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: String = s
        .split_whitespace()
        .map(|w| w.trim_start_matches("0x"))
        .collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_heads() {
        assert_eq!(parse_hex("48 69"), Some(b"Hi".to_vec()));
        assert_eq!(parse_hex("0x48 0x69"), Some(b"Hi".to_vec()));
        assert_eq!(parse_hex("4869ff"), Some(vec![0x48, 0x69, 0xff]));
        assert_eq!(parse_hex("486"), None);
        assert_eq!(parse_hex("zz"), None);
        assert_eq!(parse_hex(""), Some(vec![]));
        let r = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno";
        assert_eq!(split_head(r).1, b"no");
    }
}
