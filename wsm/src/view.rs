//! What `wsm` prints: the handshake heads, one line (or JSON object) per frame, and notes
//! (round trips, the close, errors). Colours only when stdout is a terminal.

use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::time::Duration;
use wsmachine::frame::OpCode;
use wsmachine::{Direction, FrameInfo};

/// Where lines go and how they look.
#[derive(Clone)]
pub struct View {
    /// One JSON object per line instead of text.
    pub json: bool,
    /// ANSI colours (stdout is a terminal and `NO_COLOR` is unset).
    pub colour: bool,
    /// Put before every line: `#N ` for `wsm listen`'s connections.
    pub prefix: String,
    /// The connection number in JSON (`wsm listen`).
    pub conn: Option<u64>,
}

/// A frame's payload as the line shows it, when the tool knows better than the preview (a
/// compressed message, shown inflated).
pub enum Known<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

impl View {
    pub fn new(json: bool) -> Self {
        let colour = !json && io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self {
            json,
            colour,
            prefix: String::new(),
            conn: None,
        }
    }

    fn emit(&self, line: &str) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{}{line}", self.prefix);
        let _ = out.flush();
    }

    fn emit_json(&self, mut obj: Map<String, Value>) {
        if let Some(n) = self.conn {
            obj.insert("conn".into(), n.into());
        }
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{}", Value::Object(obj));
        let _ = out.flush();
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// An HTTP head (request or response), shown as HTTP: its lines, then a blank line.
    pub fn head(&self, kind: &str, head: &[u8]) {
        let text = String::from_utf8_lossy(head);
        let text = text.trim_end_matches(['\r', '\n']);
        if self.json {
            let mut obj = Map::new();
            obj.insert("type".into(), kind.into());
            obj.insert("head".into(), text.into());
            self.emit_json(obj);
            return;
        }
        for line in text.split("\r\n") {
            self.emit(&self.paint("2", line));
        }
        self.emit("");
    }

    /// One frame.
    pub fn frame(&self, since_open: Duration, f: &FrameInfo, known: Option<Known<'_>>) {
        if self.json {
            self.emit_json(frame_json(since_open, f, known));
            return;
        }
        let (arrow, colour) = match f.direction {
            Direction::Sent => ("↑", "32"),
            Direction::Received => ("↓", "36"),
        };
        let line = frame_line(since_open, f, known);
        // The arrow sits after the time column.
        let (time, rest) = line.split_at(10);
        let rest = rest.strip_prefix(arrow).unwrap_or(rest);
        self.emit(&format!("{time}{}{rest}", self.paint(colour, arrow)));
    }

    /// A note about the session at `since_open`: `rtt`, `closed`, `error`.
    pub fn note(&self, since_open: Duration, kind: &str, text: &str, fields: Value) {
        if self.json {
            let mut obj = Map::new();
            obj.insert("type".into(), kind.into());
            obj.insert("t".into(), secs(since_open));
            if let Value::Object(more) = fields {
                obj.extend(more);
            }
            self.emit_json(obj);
            return;
        }
        let colour = if kind == "error" { "31" } else { "33" };
        self.emit(&format!(
            "{:>8.3}s {} {}",
            since_open.as_secs_f64(),
            self.paint(colour, "·"),
            self.paint(colour, text)
        ));
    }
}

fn secs(d: Duration) -> Value {
    // Milliseconds, as a number of seconds with three decimals.
    json!((d.as_millis() as f64) / 1000.0)
}

/// The opcode's name.
pub fn opcode_name(op: OpCode) -> &'static str {
    match op {
        OpCode::Continuation => "CONT",
        OpCode::Text => "TEXT",
        OpCode::Binary => "BINARY",
        OpCode::Close => "CLOSE",
        OpCode::Ping => "PING",
        OpCode::Pong => "PONG",
    }
}

/// `   0.012s ↓ TEXT   FIN          5 B masked   "hello"`: time since the connection opened,
/// ↑ sent or ↓ received, opcode, FIN/RSV1, payload length, masked or not, and a preview:
/// text quoted (a cut one ends in `…`), binary in hex, a close frame's code and reason.
pub fn frame_line(since_open: Duration, f: &FrameInfo, known: Option<Known<'_>>) -> String {
    let arrow = match f.direction {
        Direction::Sent => '↑',
        Direction::Received => '↓',
    };
    let flags = match (f.fin, f.rsv1()) {
        (true, true) => "FIN RSV1",
        (true, false) => "FIN",
        (false, true) => "RSV1",
        (false, false) => "-",
    };
    let line = format!(
        "{:>8.3}s {arrow} {:<6} {flags:<8} {:>6} B {:<8} {}",
        since_open.as_secs_f64(),
        opcode_name(f.opcode),
        f.payload_len,
        if f.masked { "masked" } else { "unmasked" },
        preview(f, known)
    );
    line.trim_end().to_string()
}

fn preview(f: &FrameInfo, known: Option<Known<'_>>) -> String {
    match known {
        Some(Known::Text(t)) => return format!("{} (inflated)", quote_cut(t, 64)),
        Some(Known::Binary(b)) => {
            let n = b.len().min(32);
            let cut = if n < b.len() { "…" } else { "" };
            return format!("{}{cut} (inflated)", hex(&b[..n]));
        }
        None => {}
    }
    let bytes = f.preview();
    let cut = if f.is_whole() { "" } else { "…" };
    if f.rsv1() {
        return format!("(compressed) {}{cut}", hex(bytes));
    }
    match f.opcode {
        OpCode::Close if bytes.len() >= 2 => {
            let code = u16::from_be_bytes([bytes[0], bytes[1]]);
            format!("{code} {:?}{cut}", String::from_utf8_lossy(&bytes[2..]))
        }
        OpCode::Close => String::new(),
        OpCode::Binary => format!("{}{cut}", hex(bytes)),
        _ if bytes.is_empty() => String::new(),
        _ => match text_of(f) {
            Some(text) => format!("{text:?}{cut}"),
            None => format!("{}{cut}", hex(bytes)),
        },
    }
}

/// The preview as text, if it is UTF-8 (a cut preview may end inside a character).
fn text_of(f: &FrameInfo) -> Option<&str> {
    let bytes = f.preview();
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) if !f.is_whole() && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

fn quote_cut(t: &str, max_chars: usize) -> String {
    match t.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{:?}…", &t[..i]),
        None => format!("{t:?}"),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `{"type":"frame","t":0.012,"dir":"sent","opcode":"text","fin":true,"rsv1":false,
/// "len":5,"masked":true,"text":"hello"}`; binary previews are `"hex"`, close frames have
/// `"code"` and `"reason"`; `"cut":true` when the preview is not the whole payload.
pub fn frame_json(
    since_open: Duration,
    f: &FrameInfo,
    known: Option<Known<'_>>,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("type".into(), "frame".into());
    o.insert("t".into(), secs(since_open));
    o.insert(
        "dir".into(),
        match f.direction {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
        .into(),
    );
    o.insert("opcode".into(), opcode_name(f.opcode).to_lowercase().into());
    o.insert("fin".into(), f.fin.into());
    o.insert("rsv1".into(), f.rsv1().into());
    o.insert("len".into(), f.payload_len.into());
    o.insert("masked".into(), f.masked.into());
    let bytes = f.preview();
    let mut cut = !f.is_whole();
    match known {
        Some(Known::Text(t)) => {
            o.insert("text".into(), t.into());
            o.insert("inflated".into(), true.into());
            cut = false;
        }
        Some(Known::Binary(b)) => {
            o.insert("hex".into(), hex(b).replace(' ', "").into());
            o.insert("inflated".into(), true.into());
            cut = false;
        }
        None if f.rsv1() || f.opcode == OpCode::Binary => {
            o.insert("hex".into(), hex(bytes).replace(' ', "").into());
        }
        None if f.opcode == OpCode::Close => {
            if bytes.len() >= 2 {
                o.insert(
                    "code".into(),
                    u16::from_be_bytes([bytes[0], bytes[1]]).into(),
                );
                o.insert(
                    "reason".into(),
                    String::from_utf8_lossy(&bytes[2..]).into_owned().into(),
                );
            }
        }
        None => match text_of(f) {
            Some(t) => {
                o.insert("text".into(), t.into());
            }
            None => {
                o.insert("hex".into(), hex(bytes).replace(' ', "").into());
            }
        },
    }
    if cut {
        o.insert("cut".into(), true.into());
    }
    o
}
