//! A dependent of `wsmachine` as a `no_std` user has it: `default-features = false`, no
//! `std`, its own random source for masking keys. Built by `.ci/test` as an ordinary
//! dependent (not through `cargo rustc`), so a crate type or a dependency that needs `std`
//! in the engine fails here. The test drives a client and a server in memory.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use wsmachine::{ClientConfig, CloseCode, Connection, Event, ServerConfig, State};

/// A xorshift generator: a stand-in for the hardware generator a `no_std` user would hand in.
struct Xorshift(u64);

impl Xorshift {
    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *byte = self.0 as u8;
        }
    }
}

/// Moves output both ways until neither side has any; returns what the server received.
fn pump(client: &mut Connection, server: &mut Connection) -> Vec<Event> {
    let mut server_events = Vec::new();
    loop {
        while client.poll_event().is_some() {}
        server_events.extend(core::iter::from_fn(|| server.poll_event()));
        let (up, down) = (client.take_output(), server.take_output());
        if up.is_empty() && down.is_empty() {
            return server_events;
        }
        server.receive(&up);
        client.receive(&down);
    }
}

/// Opens a connection in memory, sends `text`, closes; the text the server received, and
/// whether both ends closed cleanly.
pub fn exchange(text: &str, seed: u64) -> Option<(Vec<u8>, bool)> {
    let mut random = Xorshift(seed | 1);
    let config =
        ClientConfig::new("example.com", "/").random(move |buf: &mut [u8]| random.fill(buf));
    let mut client = Connection::client(config).ok()?;
    let mut server = Connection::server(ServerConfig::new());
    pump(&mut client, &mut server);
    client.send_text(text).ok()?;
    let received = pump(&mut client, &mut server)
        .into_iter()
        .find_map(|e| match e {
            Event::Text(t) => Some(t.as_bytes().to_vec()),
            _ => None,
        })?;
    client.close(CloseCode::NORMAL, "").ok()?;
    pump(&mut client, &mut server);
    client.receive_eof();
    while client.poll_event().is_some() {}
    let closed = client.state() == State::Closed && server.state() == State::Closed;
    Some((received, closed))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_text_message_crosses_and_both_ends_close() {
        let (text, closed) = super::exchange("no_std", 42).expect("the exchange failed");
        assert_eq!(text, b"no_std");
        assert!(closed);
    }
}
