//! Memory follows the bytes received, never the bytes a peer announces (issue 10). One test
//! in this binary, so the global allocation counter sees nothing else.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod counting_alloc;
    pub mod pair;
}

use support::counting_alloc::live;
use support::pair::*;
use wsmachine::deflate::DeflateConfig;
use wsmachine::{ClientConfig, Connection, Options, ServerConfig};

fn drain(c: &mut Connection) {
    while c.poll_event_ref().is_some() {}
    drop(c.take_output());
}

/// A masked binary frame header announcing `len` bytes (64-bit length form).
fn header(len: u64) -> Vec<u8> {
    let mut h = vec![0x82, 0x80 | 127];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    h
}

#[test]
fn memory_follows_bytes_received() {
    // 200 headers announcing 16 MiB each, on 200 connections.
    let config = || ServerConfig::new().options(Options::new().max_frame_size(16 << 20));
    let mut conns: Vec<Connection> = (0..200)
        .map(|_| {
            let mut c = Connection::server(config());
            c.receive(REQUEST);
            drain(&mut c);
            c
        })
        .collect();
    let before = live();
    for c in &mut conns {
        c.receive(&header(16 << 20));
        drain(c);
    }
    let per_conn = (live() - before) / 200;
    eprintln!("after a header announcing 16 MiB: {per_conn} bytes per connection");
    assert!(per_conn <= 128 << 10, "{per_conn} bytes per connection");

    // As the payload arrives, memory follows it (about one read ahead).
    let c = &mut conns[0];
    let start = live();
    for _ in 0..16 {
        c.receive(&[0; 64 << 10]);
        drain(c);
    }
    let grown = live() - start;
    eprintln!("after 1 MiB of it: {grown} bytes more");
    assert!(grown <= 3 << 20, "{grown}");
    drop(conns);

    // "No limit": a header announcing 2^62 bytes neither aborts nor reserves them.
    let mut c = Connection::server(
        ServerConfig::new().options(
            Options::new()
                .max_frame_size(usize::MAX)
                .max_message_size(usize::MAX),
        ),
    );
    c.receive(REQUEST);
    drain(&mut c);
    let start = live();
    c.receive(&header(1 << 62));
    drain(&mut c);
    c.receive(&[7; 1000]);
    drain(&mut c);
    assert_eq!(c.state(), wsmachine::State::Open);
    let grown = live() - start;
    assert!(grown <= 128 << 10, "{grown}");

    drop(c);

    in_place_memory();
    deflate_memory();
    deflate_cost_per_window_size();
}

/// The same through the one-copy path: the room `receive_buffer` lends follows the bytes
/// received too, whatever a header announces and however much is asked for each read.
fn in_place_memory() {
    let mut c =
        Connection::server(ServerConfig::new().options(Options::new().max_frame_size(16 << 20)));
    c.receive(REQUEST);
    drain(&mut c);
    let start = live();
    let head = header(16 << 20);
    let room = c.receive_buffer(16 << 10);
    room[..head.len()].copy_from_slice(&head);
    c.commit_received(head.len()).unwrap();
    drain(&mut c);
    let room = c.receive_buffer(16 << 10).len();
    let grown = live() - start;
    eprintln!("in place, after a header announcing 16 MiB: {grown} bytes, room {room}");
    assert!(grown <= 128 << 10, "{grown}");
    let mut received = 0;
    while received < 1 << 20 {
        let room = c.receive_buffer(16 << 10);
        let n = room.len().min(64 << 10);
        room[..n].fill(0);
        c.commit_received(n).unwrap();
        received += n;
        drain(&mut c);
    }
    let grown = live() - start;
    eprintln!("in place, after 1 MiB of it: {grown} bytes");
    assert!(grown <= 3 << 20, "{grown}");
    drop(c);
}

/// A client and a server, each configured with `deflate()`, open and drained.
fn open_deflate_pair(deflate: impl Fn() -> DeflateConfig) -> Pair {
    let mut p = Pair::new(
        ClientConfig::new("localhost", "/").deflate(deflate()),
        ServerConfig::new().deflate(deflate()),
    );
    p.drive();
    p.server_events.clear();
    p.client_events.clear();
    drain(&mut p.client);
    drain(&mut p.server);
    p
}

/// The heap an open deflate server holds when idle: after the handshake, after a
/// compressed echo, after sending a large compressed message (issue 10 item 6).
fn deflate_memory() {
    for no_context_takeover in [false, true] {
        let deflate = || {
            DeflateConfig::new()
                .server_no_context_takeover(no_context_takeover)
                .client_no_context_takeover(no_context_takeover)
        };
        let before_pair = live();
        let mut p = open_deflate_pair(deflate);
        let pair = live() - before_pair;
        let text = "Привет, сервер! ".repeat(200);
        p.client.send_text(&text).unwrap();
        let frames = p.client.take_output();
        let mut big = Vec::new();
        for i in 0..(1u32 << 18) {
            big.extend_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
        }
        // The server's share only: the client is idle from here on.
        let start = live();
        p.server.receive(&frames);
        drain(&mut p.server);
        p.server.send_text(&text).unwrap();
        drain(&mut p.server);
        let after_echo = live() - start;
        p.server.send_binary(&big).unwrap();
        drain(&mut p.server);
        let after_big = live() - start;
        eprintln!(
            "deflate, no_context_takeover {no_context_takeover}: an open idle pair {pair} B, server \
             after an echo +{after_echo} B, after sending 1 MiB +{after_big} B"
        );
        if no_context_takeover {
            assert!(after_big <= 4 << 10, "{after_big}");
            assert!(pair <= 8 << 10, "{pair}");
        } else {
            // The windows stay (context takeover), the scratch of the 1 MiB does not.
            assert!(after_big <= 512 << 10, "{after_big}");
            assert!(pair <= 8 << 10, "{pair}");
        }
    }
}

/// What permessage-deflate costs a server per connection under context takeover, at each
/// window size both sides agreed on: its compressor (our window) and decompressor (always
/// made with 15 bits, which inflates data from any smaller window) kept after one
/// compressed echo of 64 KiB. Printed for the `deflate` module docs.
fn deflate_cost_per_window_size() {
    let mut data = Vec::new();
    for i in 0..(1u32 << 14) {
        data.extend_from_slice(&(i % 251).to_le_bytes());
    }
    let mut costs = Vec::new();
    for bits in 9..=15u8 {
        let deflate = || {
            DeflateConfig::new()
                .server_max_window_bits(bits)
                .client_max_window_bits(bits)
        };
        let mut p = open_deflate_pair(deflate);
        p.client.send_binary(&data).unwrap();
        let frames = p.client.take_output();
        let start = live();
        p.server.receive(&frames);
        drain(&mut p.server);
        p.server.send_binary(&data).unwrap();
        drain(&mut p.server);
        costs.push((bits, live() - start));
    }
    for (bits, cost) in &costs {
        eprintln!("deflate, {bits}-bit windows: an idle server after a 64 KiB echo holds {cost} B");
    }
    // A larger window never costs less, and 15 bits stays within a few hundred KiB.
    assert!(costs.windows(2).all(|w| w[0].1 <= w[1].1), "{costs:?}");
    assert!(costs[6].1 <= 512 << 10, "{costs:?}");
}
