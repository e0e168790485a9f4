//! A blocking WebSocket client over 127.0.0.1 for checking a server from a test (the C
//! servers, the Rust and tokio echo servers): the examples' [`Driver`] under it, with a
//! deadline on every wait so that a silent server fails the test instead of hanging it.

use super::examples::driver::Driver;
use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use wsmachine::{ClientConfig, CloseCode, Connection, Event, State};

/// A client connection.
pub struct WsClient {
    driver: Driver,
}

/// What a client saw arrive.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    Text(String),
    Binary(Vec<u8>),
    Closed { clean: bool, code: u16 },
}

impl WsClient {
    /// Connects and completes the opening handshake.
    pub fn connect(port: u16, path: &str) -> io::Result<WsClient> {
        Self::connect_with(port, path, false)
    }

    /// Connects, offering permessage-deflate when `deflate`, and completes the handshake.
    pub fn connect_with(port: u16, path: &str, deflate: bool) -> io::Result<WsClient> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        let mut config = ClientConfig::new(format!("127.0.0.1:{port}"), path);
        if deflate {
            config = config.deflate(wsmachine::DeflateConfig::new());
        }
        let conn = Connection::client(config).map_err(|e| io::Error::other(e.to_string()))?;
        let mut client = WsClient {
            driver: Driver::new(stream, conn)?,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.conn().state() == State::Connecting {
            match client.driver.next_event_before(deadline)? {
                Some(Event::Error(e)) => return Err(io::Error::other(e.to_string())),
                Some(_) => {}
                None if client.conn().state() == State::Connecting => {
                    return Err(io::Error::other("handshake timed out"))
                }
                None => {}
            }
        }
        Ok(client)
    }

    /// The connection, for what the methods below do not cover.
    pub fn conn(&mut self) -> &mut Connection {
        self.driver.conn()
    }

    /// Writes out what the connection has pending.
    pub fn flush(&mut self) -> io::Result<()> {
        self.driver.flush()
    }

    pub fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.conn()
            .send_text(text)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.flush()
    }

    pub fn send_binary(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn()
            .send_binary(data)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.flush()
    }

    /// The next message or the end, within `timeout` (None when nothing came).
    pub fn next(&mut self, timeout: Duration) -> io::Result<Option<Got>> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = match self.driver.next_event_before(deadline)? {
                None => return Ok(None),
                Some(Event::Text(t)) => Got::Text(t.as_str().to_string()),
                Some(Event::Binary(b)) => Got::Binary(b.to_vec()),
                Some(Event::Closed { clean, code, .. }) => Got::Closed {
                    clean,
                    code: code.0,
                },
                Some(_) => continue,
            };
            self.flush()?;
            return Ok(Some(got));
        }
    }

    /// Closes with 1000 and waits for the closing handshake; whether it was clean.
    pub fn close(mut self) -> io::Result<bool> {
        self.conn()
            .close(CloseCode::NORMAL, "done")
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.flush()?;
        loop {
            match self.next(Duration::from_secs(10))? {
                Some(Got::Closed { clean, .. }) => return Ok(clean),
                Some(_) => continue,
                None => return Ok(false),
            }
        }
    }
}
