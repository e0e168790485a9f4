//! The C echo server holding 1,000 concurrent connections on 127.0.0.1: every client opens,
//! all are open at once, each exchanges messages, and each closes cleanly. Prints the
//! server's resident memory (baseline, with every connection open, and its peak VmHWM) and
//! the memory per connection.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod client;
    pub mod examples;
    pub mod process;
    pub mod programs;
    pub mod servers;
}

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};
use support::client::{Got, WsClient};
use support::programs::c_programs;
use support::servers::Server;

const CONNECTIONS: usize = 1000;
const TIMEOUT: Duration = Duration::from_secs(30);

/// The soft limit of open files of this process (from /proc/self/limits).
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn c_echo_server_holds_1000_concurrent_connections() {
    let limit = open_files_limit();
    assert!(
        limit > CONNECTIONS as u64 + 100,
        "this test needs more than {} open files; the soft limit is {limit} (ulimit -n 4096)",
        CONNECTIONS + 100
    );
    let program = c_programs(false).join("echo_server");
    // The server needs a descriptor per client too: raise its soft limit first.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" 0 127.0.0.1"#)
        .arg(&program);
    let server = Server::start(cmd, "echo_server-load");
    std::thread::sleep(Duration::from_millis(100));
    let baseline = server.rss_kib();

    let started = Instant::now();
    let mut clients: Vec<WsClient> = (0..CONNECTIONS)
        .map(|i| {
            WsClient::connect(server.port, &format!("/load/{i}"))
                .unwrap_or_else(|e| panic!("client {i}: {e}"))
        })
        .collect();
    let opened = started.elapsed();
    // Every connection is open at once: this is what the server holds for them.
    let all_open = server.rss_kib();

    for (i, c) in clients.iter_mut().enumerate() {
        c.send_text(&format!("client {i} says привет")).unwrap();
        c.send_binary(&(i as u32).to_be_bytes()).unwrap();
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            c.next(TIMEOUT).unwrap(),
            Some(Got::Text(format!("client {i} says привет"))),
            "client {i}"
        );
        assert_eq!(
            c.next(TIMEOUT).unwrap(),
            Some(Got::Binary((i as u32).to_be_bytes().to_vec())),
            "client {i}"
        );
    }
    let peak = server.peak_rss_kib();
    let mut clean = 0;
    for c in clients {
        if c.close().unwrap() {
            clean += 1;
        }
    }
    let total = started.elapsed();
    assert_eq!(clean, CONNECTIONS, "every close must be clean");
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("served {CONNECTIONS} connections")),
        "{stderr}"
    );

    let per_connection = (all_open.saturating_sub(baseline) * 1024) / CONNECTIONS as u64;
    // Straight to stderr, past the harness's capture, so CI logs show the numbers.
    let _ = writeln!(
        std::io::stderr(),
        "C echo server, {CONNECTIONS} concurrent connections: RSS baseline {baseline} KiB, \
         all open {all_open} KiB, peak (VmHWM) {peak} KiB; {per_connection} bytes per open \
         connection; opened in {opened:?}, all exchanged and closed in {total:?}"
    );
    // An open, idle connection must stay small (the engine holds no buffers when idle).
    assert!(
        per_connection < 16 * 1024,
        "{per_connection} bytes per connection"
    );
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
}
