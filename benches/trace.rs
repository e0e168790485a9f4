//! `cargo bench --bench trace`: what the frame trace (`Options::trace_frames`) costs, off
//! and on, decoding and encoding small messages (where a per-frame cost shows most). Off
//! is the default: each hook is then one untaken branch and the small-message fast path
//! runs as before. The variants run interleaved in one process, best of several rounds, so
//! a busy machine slows them alike.
//!
//! `cargo bench --bench trace -- [MESSAGES] [ROUNDS]` (defaults 200000 and 7).
//!
//! That off costs nothing measurable is shown against the engine before the trace existed,
//! with `benches/compare.rs` (`--libs wsmachine,memcpy --runs 5 --no-checks "decode binary
//! 16 B" "encode binary 16 B"`). On 2026-11-30, on this project's 2-core VM under a load
//! average of about 9 (so noisy), three runs each, in M msg/s: decode 16 B 22.3, 24.3, 27.1
//! before and 14.8, 28.2, 31.5 with the trace hooks (off); encode 16 B 24.9, 31.4, 33.5
//! before and 25.9, 33.0, 41.3 after: the same within the noise. Trace on, this bench gave
//! decode 16 B 36 ns/msg off and 91 ns/msg on (the small-message fast path steps aside and
//! each frame is recorded), encode 16 B 40 and 51 ns/msg.

use std::hint::black_box;
use std::time::{Duration, Instant};
use wsmachine::{ClientConfig, Connection, EventRef, Options, ServerConfig};

/// An open server connection (trace `on` or not) and the client that opened it.
fn pair(trace: bool) -> (Connection, Connection) {
    let options = Options::new().trace_frames(trace);
    let mut client =
        Connection::client(ClientConfig::new("bench", "/").options(Options::new())).unwrap();
    let mut server = Connection::server(ServerConfig::new().options(options));
    for _ in 0..4 {
        server.receive(&client.take_output());
        while server.poll_event().is_some() {}
        client.receive(&server.take_output());
        while client.poll_event().is_some() {}
    }
    (client, server)
}

/// `n` masked binary frames of `size` bytes, as a client sends them.
fn input(n: usize, size: usize) -> Vec<u8> {
    let (mut client, _) = pair(false);
    let payload = vec![0x5a; size];
    let mut out = Vec::new();
    for _ in 0..n {
        client.send_binary(&payload).unwrap();
        out.extend_from_slice(&client.take_output());
    }
    out
}

/// Decodes `bytes` in 64 KiB reads; returns the time per message.
fn decode(bytes: &[u8], n: usize, trace: bool) -> Duration {
    let (_, mut server) = pair(trace);
    let start = Instant::now();
    let mut messages = 0usize;
    let mut frames = 0usize;
    for chunk in bytes.chunks(64 << 10) {
        server.receive(chunk);
        while let Some(event) = server.poll_event_ref() {
            if let EventRef::Binary(data) = event {
                black_box(data);
                messages += 1;
            }
            while let Some(f) = server.poll_frame() {
                black_box(f);
                frames += 1;
            }
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(messages, n);
    assert_eq!(frames, if trace { n } else { 0 });
    elapsed / n as u32
}

/// Encodes `n` binary messages of `size` bytes (output taken every 1024); time per message.
fn encode(n: usize, size: usize, trace: bool) -> Duration {
    let (_, mut server) = pair(trace);
    let payload = vec![0x5a; size];
    let start = Instant::now();
    for i in 0..n {
        server.send_binary(black_box(&payload)).unwrap();
        while let Some(f) = server.poll_frame() {
            black_box(f);
        }
        if i % 1024 == 1023 {
            black_box(server.take_output());
        }
    }
    black_box(server.take_output());
    start.elapsed() / n as u32
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    println!("| workload | trace off (default) | trace on, drained |");
    println!("|---|--:|--:|");
    for size in [16usize, 125, 1024] {
        let bytes = input(n, size);
        let (mut d_off, mut d_on, mut e_off, mut e_on) =
            (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..rounds {
            d_off = d_off.min(decode(&bytes, n, false));
            d_on = d_on.min(decode(&bytes, n, true));
            e_off = e_off.min(encode(n, size, false));
            e_on = e_on.min(encode(n, size, true));
        }
        let ns = |d: Duration| format!("{} ns/msg", d.as_nanos());
        println!("| decode binary {size} B | {} | {} |", ns(d_off), ns(d_on));
        println!("| encode binary {size} B | {} | {} |", ns(e_off), ns(e_on));
    }
}
