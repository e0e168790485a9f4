//! One line per traced frame (`Options::trace_frames`), as the echo server's `--trace`
//! prints them on stderr: direction, opcode, FIN/RSV1, payload length, masking, preview.

use std::fmt::Write as _;
use std::time::Duration;
use wsmachine::frame::OpCode;
use wsmachine::{Direction, FrameInfo};

/// `  0.012s ↓ TEXT   FIN       5 B masked   "hello"`: time since the connection opened,
/// ↑ sent or ↓ received, then the frame. Text previews are quoted (cut ones end in `…`),
/// binary ones hex, close frames code and reason.
pub fn frame_line(since_open: Duration, f: &FrameInfo) -> String {
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
    format!(
        "{:>8.3}s {arrow} {:<6} {flags:<8} {:>6} B {:<8} {}",
        since_open.as_secs_f64(),
        opcode_name(f.opcode),
        f.payload_len,
        if f.masked { "masked" } else { "unmasked" },
        preview(f)
    )
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

fn preview(f: &FrameInfo) -> String {
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
        // Text, continuations, pings and pongs: as text when they are (a preview may end
        // inside a character: the lossy decoding shows that as U+FFFD).
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => format!("{text:?}{cut}"),
            Err(e) if !f.is_whole() && e.error_len().is_none() => {
                format!(
                    "{:?}{cut}",
                    String::from_utf8_lossy(&bytes[..e.valid_up_to()])
                )
            }
            Err(_) => format!("{}{cut}", hex(bytes)),
        },
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}
