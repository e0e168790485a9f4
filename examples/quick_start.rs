//! The README's quick start: one client connection driven over a blocking TcpStream.
//! Run the echo server, then `cargo run --example quick_start -- 127.0.0.1:9001`.
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant as Clock};
use wsmachine::{ClientConfig, CloseCode, Connection, Event, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9001".into());
    let mut socket = TcpStream::connect(&addr)?;
    let mut conn = Connection::client(ClientConfig::new(&addr, "/"))?;
    let clock = Clock::now(); // the engine reads no clock: we tell it the time
    let now = || Instant::from_duration(clock.elapsed());
    loop {
        // 1. Events first: frames are decoded as they are polled.
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Open { .. } => conn.send_text("Привет, сервер!")?,
                Event::Text(text) => {
                    println!("echo: {}", &*text);
                    conn.close(CloseCode::NORMAL, "done")?;
                }
                Event::Closed { clean, code, .. } => println!("closed: {code} clean={clean}"),
                _ => {}
            }
        }
        // 2. Then write what the engine produced (partial writes are fine).
        while !conn.pending_output().is_empty() {
            let n = socket.write(conn.pending_output())?;
            conn.consume_output(n);
        }
        if conn.is_closed() {
            return Ok(());
        }
        // 3. Wait for input until the next timer, reading straight into the engine's buffer.
        let wait = conn
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now()));
        socket.set_read_timeout(wait.map(|d| d.max(Duration::from_millis(1))))?;
        match socket.read(conn.receive_buffer(16 * 1024)) {
            Ok(0) => conn.receive_eof(),
            Ok(n) => conn.commit_received(n)?,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(now())
            }
            Err(e) => return Err(e.into()),
        }
    }
}
