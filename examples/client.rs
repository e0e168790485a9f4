//! A client: connects, sends "Привет, сервер!", prints what comes back and closes cleanly.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! The exit status is 0 only if the message came back unchanged and the closing handshake
//! completed (our close 1000 answered, then the server ended the TCP connection).

// Public: this binary is its only user, so its `pub` items are reachable (unreachable_pub).
pub mod common;

use common::driver::Driver;
use common::url::WsUrl;
use std::error::Error;
use std::net::TcpStream;
use std::process::ExitCode;
use wsmachine::{ClientConfig, CloseCode, Connection, Event};

const GREETING: &str = "Привет, сервер!";

fn main() -> ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".to_string());
    match run(&url) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the echo came back and the close was clean.
fn run(url: &str) -> Result<bool, Box<dyn Error>> {
    let url = WsUrl::parse(url)?;
    let stream = TcpStream::connect(&url.addr)?;
    let conn = Connection::client(ClientConfig::new(&url.host, &url.path))?;
    let mut driver = Driver::new(stream, conn)?;
    let mut echoed = false;
    let mut clean = false;
    while let Some(event) = driver.next_event()? {
        match event {
            Event::Open { subprotocol, .. } => {
                println!(
                    "connected to {}{} (subprotocol {subprotocol:?})",
                    url.host, url.path
                );
                driver.conn().send_text(GREETING)?;
                println!("sent: {GREETING}");
            }
            Event::Text(text) => {
                println!("received text: {}", &*text);
                if &*text == GREETING && !echoed {
                    echoed = true;
                    driver.conn().close(CloseCode::NORMAL, "")?;
                }
            }
            Event::Binary(data) => println!("received {} bytes of binary", data.len()),
            Event::Ping(data) => println!("received ping ({} bytes)", data.len()),
            Event::Close { code, reason } => {
                println!("server's close frame: code {code:?} reason {reason:?}")
            }
            Event::Error(failure) => eprintln!("connection failed: {failure}"),
            Event::Closed {
                clean: was_clean,
                code,
                reason,
            } => {
                clean = was_clean;
                println!("closed: clean={was_clean} code={code} reason={reason:?}");
            }
            _ => {}
        }
    }
    driver.finish(common::echo::LINGER);
    if !echoed {
        eprintln!("the server did not echo {GREETING:?}");
    }
    Ok(echoed && clean)
}
