//! Node and Chromium as peers (`tests/browser.rs`, `tests/node_ws.rs`,
//! `tests/chat_server.rs`): whether Node, the npm packages of `tests/js` and Chromium are
//! here, running the Node scripts of `tests/js` with a timeout, and a server as a child
//! process whose output lines the test can wait for.

use super::process::{self, listening_port, run_with_timeout, KillOnDrop};
use super::skip;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Bounds every peer run: a peer that stops answering fails the test instead of hanging it.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(120);

pub const GREETING: &str = "Привет, сервер!";

pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Whether the test may run: every probe, in order, found its peer; else the test is
/// skipped ([`skip::skip`]) with the first missing one's reason.
pub fn ready(probes: &[fn() -> Result<String, String>]) -> bool {
    probes.iter().all(|probe| skip::ready(probe()))
}

/// Node and the exact npm packages of `tests/js` (installed by `npm ci` there): the
/// versions, as "node vX ws Y playwright-core Z".
pub fn node_packages() -> Result<String, String> {
    let out = Command::new("node")
        .current_dir(js_dir())
        .args([
            "-e",
            "console.log(`node ${process.version} ws ${require('ws/package.json').version} \
             playwright-core ${require('playwright-core/package.json').version}`)",
        ])
        .output()
        .map_err(|e| format!("node cannot be run ({e}); install Node.js"))?;
    if !out.status.success() {
        return Err(format!(
            "the npm packages of tests/js are missing (run `npm ci` in tests/js): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .find(|l| l.contains("Error"))
                .unwrap_or("")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Debian's Chromium at /usr/bin/chromium: its version line.
pub fn chromium() -> Result<String, String> {
    let out = Command::new("/usr/bin/chromium")
        .arg("--version")
        .output()
        .map_err(|e| format!("/usr/bin/chromium cannot be run ({e}); apt-get install chromium"))?;
    if !out.status.success() {
        return Err("/usr/bin/chromium --version failed".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs `node SCRIPT ARGS...` in `tests/js`, killed after [`PEER_TIMEOUT`].
pub fn node(script: &str, args: &[&str]) -> Output {
    run_with_timeout(
        Command::new("node")
            .current_dir(js_dir())
            .arg(script)
            .args(args),
        PEER_TIMEOUT,
    )
}

/// A child process whose stderr lines are collected as they come; killed when dropped.
pub struct Process {
    child: KillOnDrop,
    lines: Arc<Mutex<Vec<String>>>,
    new_line: Receiver<()>,
}

impl Process {
    /// Starts `cmd` with stderr piped (stdout too when `ready_on_stdout`) and waits up to
    /// [`PEER_TIMEOUT`] for a line containing `ready`; returns it with the process.
    pub fn start(mut cmd: Command, ready: &str) -> (Process, String) {
        let mut child = KillOnDrop(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
        );
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, new_line) = mpsc::channel();
        let streams: [Box<dyn io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for stream in streams {
            let (lines, tx) = (lines.clone(), tx.clone());
            thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                    let _ = tx.send(());
                }
            });
        }
        let mut process = Process {
            child,
            lines,
            new_line,
        };
        let line = process.wait_for(|l| l.contains(ready), PEER_TIMEOUT);
        (process, line)
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits for a line `matches` accepts (panics after `timeout`, or if the process ends).
    pub fn wait_for(&mut self, matches: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| matches(l)) {
                return line;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "no such line within {timeout:?}:\n{}",
                    self.lines().join("\n")
                );
            }
            if let Err(mpsc::RecvTimeoutError::Disconnected) = self.new_line.recv_timeout(left) {
                let status = self.child.wait().ok();
                panic!(
                    "the process ended ({status:?}) without such a line:\n{}",
                    self.lines().join("\n")
                );
            }
        }
    }
}

/// The Rust echo server example on an ephemeral port of 127.0.0.1, with `args` (e.g.
/// `--ping-interval-ms 1000`); returns the process and its port.
pub fn rust_echo_server(example: &Path, args: &[&str]) -> (Process, u16) {
    let mut cmd = Command::new(example);
    cmd.arg("127.0.0.1:0").args(args);
    let (process, line) = Process::start(cmd, "echo server listening on ws://");
    let port = line
        .split("ws://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected readiness line {line:?}"));
    (process, port)
}

/// The C echo server (`c-examples/echo_server`) on an ephemeral port of 127.0.0.1, pinging
/// idle clients every `ping_ms`; returns the process and its port.
pub fn c_echo_server(program: &Path, ping_ms: u64) -> (Process, u16) {
    let mut cmd = Command::new(program);
    cmd.args(["0", "127.0.0.1", &ping_ms.to_string()]);
    let (process, line) = Process::start(cmd, "listening on 127.0.0.1:");
    let port =
        listening_port(&line).unwrap_or_else(|| panic!("unexpected readiness line {line:?}"));
    (process, port)
}

/// Asks a process to stop (SIGTERM) and waits for it; the C echo server then prints its
/// exit line.
pub fn terminate(process: &mut Process) {
    let _ = process::terminate(&mut process.child, PEER_TIMEOUT);
}
