//! The Autobahn TestSuite client loop, run against its `fuzzingserver`:
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 wsmachine
//! ```
//!
//! Asks `/getCaseCount` (the first text message is the number of cases), runs
//! `/runCase?case=N&agent=AGENT` for every case, echoing each text and binary message,
//! then asks for `/updateReports?agent=AGENT` so the suite writes its report.

// Public: this binary is its only user, so its `pub` items are reachable (unreachable_pub).
pub mod common;

use common::url::WsUrl;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    let agent = args.next().unwrap_or_else(|| "wsmachine".to_string());
    let result = WsUrl::parse(&base)
        .map_err(Into::into)
        .and_then(|base| common::autobahn::run_all(&base, &agent));
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
