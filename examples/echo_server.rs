//! An echo server: every text and binary message comes back as the same kind.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! One thread per client, each driving a `wsmachine::Connection` over a blocking socket;
//! idle clients get keepalive pings. This is the server the Autobahn TestSuite's
//! fuzzingclient is pointed at, so its limits fit the suite's 16 MiB messages.

mod common;

use common::echo::{self, Report};
use std::net::TcpListener;
use std::process::ExitCode;

fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a.to_string());
    eprintln!("echo server listening on ws://{local}/");
    let report = |report: Report| match report {
        Report::Open(peer) => eprintln!("{peer} open"),
        Report::Closed(peer, Ok(o)) => eprintln!(
            "{peer} closed: clean={} code={} reason={:?} echoed={}{}",
            o.clean,
            o.code,
            o.reason,
            o.echoed,
            o.failure
                .map(|f| format!(" error: {f}"))
                .unwrap_or_default()
        ),
        Report::Closed(peer, Err(e)) => eprintln!("{peer} closed: transport failed: {e}"),
    };
    echo::serve(&listener, report)
}
