//! Python's `websockets` as a peer: whether it is installed (the one probe), and its
//! scripts in `tests/python` run within a time limit.

use super::process::{describe, run_with_timeout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The scenarios of `echo_client.py` that any echo server must pass.
pub const ECHO_SCENARIOS: [&str; 6] = ["text", "binary", "large", "fragmented", "ping", "close"];

/// `python3` with the `websockets` module: its version, or why it cannot be used.
pub fn websockets() -> Result<String, String> {
    let out = Command::new("python3")
        .args(["-c", "import websockets; print(websockets.__version__)"])
        .output()
        .map_err(|e| format!("python3 cannot be run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the Python websockets module is missing ({}); pip install websockets",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `tests/python`, where the scripts are.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// Runs `python3 tests/python/SCRIPT ARGS...`, killed after `timeout`.
pub fn run(script: &str, args: &[&str], timeout: Duration) -> Output {
    run_with_timeout(
        Command::new("python3").arg(dir().join(script)).args(args),
        timeout,
    )
}

/// Runs one scenario of `echo_client.py` against the echo server on `port`; panics with
/// what the client printed unless it reports `ok SCENARIO`.
pub fn echo_client(port: u16, scenario: &str, timeout: Duration) {
    let out = run("echo_client.py", &[&port.to_string(), scenario], timeout);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with(&format!("ok {scenario}")),
        "python client, scenario {scenario}: {}",
        describe(&out)
    );
}
