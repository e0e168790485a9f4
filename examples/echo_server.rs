//! An echo server: every text and binary message comes back as the same kind.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001 [--ping-interval-ms 20000] [--write-timeout-ms 30000] [--no-deflate] [--trace]
//! ```
//!
//! One thread per client, each driving a `wsmachine::Connection` over a blocking socket;
//! idle clients get keepalive pings (every 20 s unless `--ping-interval-ms` says otherwise);
//! permessage-deflate is accepted when offered, unless `--no-deflate`, with one inflate
//! budget for all clients (twice the message limit: concurrent decompression bombs close
//! with 1009 or 1013 and cost about that much memory, not once per bomb). A client that does
//! not take what is written to it within 30 s (`--write-timeout-ms`) is dropped.
//! This is the server the Autobahn TestSuite's fuzzingclient is pointed at, so its limits fit
//! the suite's 16 MiB messages.
//!
//! For browsers and the peer tests (`tests/browser.rs`, `tests/node_ws.rs`):
//! * `http://127.0.0.1:9001/` is a page that runs the browser flow against this server
//!   (watch it in DevTools, Network, the WebSocket's Messages tab);
//! * the subprotocol is `chat.v2` or else `chat.v1` when the client offers it, else the
//!   first one the client offers (`SubprotocolPolicy::FirstOffered`: browsers fail a
//!   connection whose offered subprotocols got no answer);
//! * the text message `close-me CODE REASON` makes the server close with that code and
//!   reason instead of echoing it (a test hook; any other text is echoed).
//!
//! It prints `echo server listening on ws://ADDR/` on stderr once ready, then one line per
//! connection when it ends (`pongs=N` counts the client's answers to keepalive pings).
//! With `--trace`, also one line per frame each way (the engine's frame trace,
//! `Options::trace_frames`): the peer, the time since the connection opened, ↑ sent or ↓
//! received, opcode, FIN/RSV1, payload length, masked or not, and a preview.

// Public: this binary is its only user, so its `pub` items are reachable (unreachable_pub).
pub mod common;

use common::echo::{self, Report};
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str =
    "usage: echo_server [ADDR] [--ping-interval-ms MS] [--write-timeout-ms MS] [--no-deflate] [--trace]";

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9001".to_string();
    let mut ping_interval = echo::PING_INTERVAL;
    let mut deflate = true;
    let mut trace = false;
    let mut write_timeout = common::driver::WRITE_TIMEOUT;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ping-interval-ms" => match args.next().and_then(|ms| ms.parse().ok()) {
                Some(ms) if ms > 0 => ping_interval = Duration::from_millis(ms),
                _ => {
                    eprintln!(
                        "--ping-interval-ms needs a positive number of milliseconds\n{USAGE}"
                    );
                    return ExitCode::FAILURE;
                }
            },
            "--write-timeout-ms" => match args.next().and_then(|ms| ms.parse().ok()) {
                Some(ms) if ms > 0 => write_timeout = Duration::from_millis(ms),
                _ => {
                    eprintln!(
                        "--write-timeout-ms needs a positive number of milliseconds\n{USAGE}"
                    );
                    return ExitCode::FAILURE;
                }
            },
            "--no-deflate" => deflate = false,
            "--trace" => trace = true,
            a if a.starts_with('-') => {
                eprintln!("unknown option {a}\n{USAGE}");
                return ExitCode::FAILURE;
            }
            a => addr = a.to_string(),
        }
    }
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a.to_string());
    eprintln!("echo server listening on ws://{local}/ (page: http://{local}/)");
    let report = |report: Report| match report {
        Report::Open(peer) => eprintln!("{peer} open"),
        Report::Closed(peer, Ok(o)) if o.http => eprintln!("{peer} plain HTTP request answered"),
        Report::Closed(peer, Ok(o)) => eprintln!(
            "{peer} closed: clean={} code={} reason={:?} echoed={} subprotocol={:?} \
             extensions={:?} pongs={}{}",
            o.clean,
            o.code,
            o.reason,
            o.echoed,
            o.subprotocol.as_deref().unwrap_or(""),
            o.extensions,
            o.pongs,
            o.failure
                .map(|f| format!(" error: {f}"))
                .unwrap_or_default()
        ),
        Report::Closed(peer, Err(e)) => eprintln!("{peer} closed: transport failed: {e}"),
    };
    let options = echo::server_options_pinging(ping_interval).trace_frames(trace);
    echo::serve_with_write_timeout(
        &listener,
        echo::server_config_deflate(options, deflate),
        write_timeout,
        report,
    )
}
