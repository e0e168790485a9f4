//! `cargo bench --bench instructions -- ROLE KIND SIZE`: one connection decodes 64 MiB of
//! whole frames of one size, read 64 KiB at a time into its own buffer (`receive_buffer` +
//! `commit_received`, then `poll_event_ref`), and prints how many messages it took. Run under
//! callgrind it counts instructions, which this shared VM does not disturb (wall-clock
//! figures here move by 20–40% between runs); total ÷ messages is the cost per message, the
//! handshake and the input's construction included (under 1% at every size):
//!
//! ```text
//! cargo bench --bench instructions --no-run   # prints the binary's path
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg target/release/deps/instructions-HASH server binary 16
//! callgrind_annotate /tmp/cg | head -30       # where they go, by function
//! ```
//!
//! ROLE is `server` (masked frames in) or `client` (unmasked), KIND `binary` or `text`
//! (valid UTF-8), SIZE the payload length in bytes. Without callgrind it prints ns/msg, which
//! is only as steady as the machine.

use std::time::Instant;
use wsmachine::{ClientConfig, Connection, EventRef, ServerConfig};

/// Bytes decoded per run.
const TOTAL: usize = 64 << 20;
/// Bytes per simulated socket read.
const READ: usize = 64 << 10;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [role, kind, size] = &args[..] else {
        eprintln!("usage: instructions server|client binary|text SIZE");
        std::process::exit(2);
    };
    let size: usize = size.parse().expect("SIZE: a byte count");
    let text = match kind.as_str() {
        "binary" => false,
        "text" => true,
        other => panic!("KIND: binary or text, not {other}"),
    };
    let (mut receiver, mut sender) = open_pair(role == "server");
    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    if text {
        sender
            .send_text(std::str::from_utf8(&payload).unwrap())
            .unwrap();
    } else {
        sender.send_binary(&payload).unwrap();
    }
    // One frame as the sender writes it (a client masks), repeated to fill a read.
    let frame = sender.take_output();
    let per_read = (READ / frame.len()).max(1);
    let read: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(per_read * frame.len())
        .collect();
    let reads = (TOTAL / read.len()).max(1);

    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..reads {
        let room = receiver.receive_buffer(read.len());
        room[..read.len()].copy_from_slice(&read);
        receiver.commit_received(read.len()).unwrap();
        while let Some(event) = receiver.poll_event_ref() {
            match event {
                EventRef::Binary(b) => bytes += b.len(),
                EventRef::Text(t) => bytes += t.len(),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let messages = reads * per_read;
    assert_eq!(bytes, messages * size, "every message arrived whole");
    println!(
        "{role} {kind} {size} B: {messages} messages, {:.1} ns/msg",
        start.elapsed().as_nanos() as f64 / messages as f64
    );
}

/// An open connection of the role asked for, and its peer.
fn open_pair(server_receives: bool) -> (Connection, Connection) {
    let mut client = Connection::client(ClientConfig::new("bench", "/")).unwrap();
    let mut server = Connection::server(ServerConfig::new());
    for _ in 0..4 {
        server.receive(&client.take_output());
        while server.poll_event().is_some() {}
        client.receive(&server.take_output());
        while client.poll_event().is_some() {}
    }
    if server_receives {
        (server, client)
    } else {
        (client, server)
    }
}
