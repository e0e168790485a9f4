//! Skipping a test whose tool or peer is missing: a visible line, or a failure under
//! `CI=true` (CI installs everything, so a missing piece there is a broken setup).

use std::io::{self, Write};

/// Skips the running test: panics under `CI=true`, else prints `SKIP <test>: <why>`. The
/// test's name is its thread's: the test harness names each test's thread after it.
pub fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {why}");
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    // Straight to stderr: the test harness captures `eprintln!`.
    let _ = writeln!(io::stderr(), "SKIP {test}: {why}");
}

/// Whether the test may run: `probe` found nothing missing. On `Err(why)` the test is
/// skipped ([`skip`]) and the caller returns.
pub fn ready<T>(probe: Result<T, String>) -> bool {
    match probe {
        Ok(_) => true,
        Err(why) => {
            skip(&why);
            false
        }
    }
}
