//! Shared by the tests of the C ABI (`tests/c_*.rs`): building the library and the C
//! programs, starting servers, a small blocking Rust WebSocket client, and skipping what the
//! machine lacks (visibly, or failing under `CI=true`).
//!
//! A test file that includes it declares `mod child_process;` too (`tests/child_process`):
//! the process helpers both this and `tests/js/support.rs` use.
#![allow(dead_code)] // each test file uses its own part

use crate::child_process::{listening_port, terminate, KillOnDrop};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use wsmachine::{ClientConfig, CloseCode, Connection, Event, State};

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `$CARGO_TARGET_DIR` if set, else `target/` of the repository.
pub fn target_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    }
}

fn run_checked(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the C library (static and shared, release, feature `ffi`) once per test process,
/// as a C user does: `make -C c-examples lib`.
pub fn build_library() -> PathBuf {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = target_root().join("release");
        run_checked(
            Command::new("make")
                .current_dir(manifest_dir().join("c-examples"))
                .arg("lib")
                .arg(format!("LIBDIR={}", dir.display()))
                .env("CARGO_TARGET_DIR", target_root()),
            "make -C c-examples lib",
        );
        for lib in ["libwsmachine.a", "libwsmachine.so"] {
            assert!(dir.join(lib).exists(), "no {lib} in {dir:?}");
        }
        dir
    })
    .clone()
}

/// The directory of the C programs built against the library: plain, or with
/// `-fsanitize=address,undefined`. Built once per test process with the repository's
/// Makefile (the same flags as a plain `make`).
pub fn c_programs(sanitize: bool) -> PathBuf {
    static BUILT: Mutex<[Option<PathBuf>; 2]> = Mutex::new([None, None]);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = &built[usize::from(sanitize)] {
        return dir.clone();
    }
    let lib = build_library();
    let build = target_root()
        .join("c-examples")
        .join(if sanitize { "build-san" } else { "build" });
    let mut make = Command::new("make");
    make.current_dir(manifest_dir().join("c-examples"))
        .arg("CARGO_BUILD=:")
        .arg(format!("LIBDIR={}", lib.display()))
        .arg(format!("BUILD={}", build.display()));
    if sanitize {
        make.arg("SANITIZE=1");
    }
    run_checked(&mut make, "make in c-examples");
    built[usize::from(sanitize)] = Some(build.clone());
    build
}

/// Builds the Rust examples (debug: their dev-dependencies are already built for the tests).
pub fn rust_example(name: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = target_root().join("debug/examples").join(name);
    assert!(
        manifest_dir()
            .join("examples")
            .join(format!("{name}.rs"))
            .exists(),
        "examples/{name}.rs is missing"
    );
    run_checked(
        Command::new(env!("CARGO"))
            .args(["build", "--example", name])
            .current_dir(manifest_dir()),
        "cargo build --example",
    );
    path
}

/// The release build of an example of `package` (this crate or `wsmachine-tokio`), for the
/// tests whose traffic is too heavy for a debug build; built once per name and test process.
pub fn rust_example_release(package: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let path = target_root().join("release/examples").join(name);
    if !built.iter().any(|n| n == name) {
        let out = crate::child_process::run_with_timeout(
            Command::new(env!("CARGO"))
                .args(["build", "--release", "-p", package, "--example", name])
                .current_dir(manifest_dir()),
            Duration::from_secs(1800),
        );
        assert!(
            out.status.success(),
            "cargo build --release --example {name}: {}",
            crate::child_process::describe(&out)
        );
        built.push(name.to_string());
    }
    path
}

/// Builds an example of the `wsmachine-tokio` crate (debug) and returns its path.
pub fn tokio_example(name: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    run_checked(
        Command::new(env!("CARGO"))
            .args(["build", "-p", "wsmachine-tokio", "--example", name])
            .current_dir(manifest_dir()),
        "cargo build -p wsmachine-tokio --example",
    );
    target_root().join("debug/examples").join(name)
}

/// Whether `program --version` runs.
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn python_websockets_ready() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import websockets"])
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(_) => Err("the Python websockets module is missing (pip install websockets)".into()),
        Err(e) => Err(format!("python3 cannot be run: {e}")),
    }
}

/// Runs Python's `websockets` client (`tests/python/echo_client.py`) against the echo server
/// on `port`, one process per scenario; panics naming the first that fails.
pub fn python_echo_scenarios(port: u16, timeout: Duration) {
    let script = manifest_dir().join("tests/python/echo_client.py");
    for scenario in ["text", "binary", "large", "fragmented", "ping", "close"] {
        let out = crate::child_process::run_with_timeout(
            Command::new("python3")
                .arg(&script)
                .arg(port.to_string())
                .arg(scenario),
            timeout,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.starts_with(&format!("ok {scenario}")),
            "scenario {scenario}: {}",
            crate::child_process::describe(&out)
        );
    }
}

/// A server process on 127.0.0.1, killed when dropped.
pub struct Server {
    pub child: KillOnDrop,
    pub port: u16,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts `command` (a C server given port 0, which prints "listening on HOST:PORT" on
    /// stdout) and waits for that line.
    pub fn start(mut command: Command, name: &str) -> Server {
        let stderr_path = target_root().join(format!(
            "c-examples/{name}-{}-{:?}.stderr",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::create_dir_all(stderr_path.parent().unwrap());
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = KillOnDrop(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name}: {e}")),
        );
        let mut stdout = child.stdout.take().unwrap();
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\n") {
            match stdout.read(&mut byte) {
                Ok(1) => line.push(byte[0]),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{name} did not start:\n{}",
                        std::fs::read_to_string(&stderr_path).unwrap_or_default()
                    );
                }
            }
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        let port = listening_port(&line)
            .unwrap_or_else(|| panic!("{name}: unexpected first line {line:?}"));
        Server {
            child,
            port,
            stderr_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// Asks the server to shut down (SIGTERM: it closes its clients with 1001 and exits)
    /// and returns its exit status and stderr.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let status = terminate(&mut self.child, Duration::from_secs(60)).unwrap_or_else(|| {
            let _ = self.child.kill();
            self.child.wait().unwrap()
        });
        let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        (status, stderr)
    }

    /// Peak resident memory (VmHWM) of the server process, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Current resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        proc_status_kib(self.child.id(), field)
    }
}

/// A field of a process's /proc status in KiB, such as `VmRSS:` (resident memory now) or
/// `VmHWM:` (its peak); 0 when it cannot be read.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl Drop for Server {
    fn drop(&mut self) {
        // The child itself is killed when its `KillOnDrop` goes.
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// A blocking WebSocket client over 127.0.0.1 driven by the Rust engine, for checking the C
/// servers from the test.
pub struct WsClient {
    stream: TcpStream,
    pub conn: Connection,
    started: Instant,
}

/// What a client saw arrive.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    Text(String),
    Binary(Vec<u8>),
    Closed { clean: bool, code: u16 },
}

impl WsClient {
    /// Connects and completes the opening handshake.
    pub fn connect(port: u16, path: &str) -> io::Result<WsClient> {
        Self::connect_with(port, path, false)
    }

    /// Connects, offering permessage-deflate when `deflate`, and completes the handshake.
    pub fn connect_with(port: u16, path: &str, deflate: bool) -> io::Result<WsClient> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let mut config = ClientConfig::new(format!("127.0.0.1:{port}"), path);
        if deflate {
            config = config.deflate(wsmachine::DeflateConfig::new());
        }
        let conn = Connection::client(config).map_err(|e| io::Error::other(e.to_string()))?;
        let mut client = WsClient {
            stream,
            conn,
            started: Instant::now(),
        };
        client.flush()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.conn.state() == State::Connecting {
            if Instant::now() > deadline {
                return Err(io::Error::other("handshake timed out"));
            }
            client.read_some(Duration::from_secs(1))?;
            while let Some(event) = client.conn.poll_event() {
                if let Event::Error(e) = event {
                    return Err(io::Error::other(e.to_string()));
                }
            }
            client.flush()?;
        }
        Ok(client)
    }

    fn now(&self) -> wsmachine::Instant {
        wsmachine::Instant::from_duration(self.started.elapsed())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        let out = self.conn.take_output();
        self.stream.write_all(&out)
    }

    /// Reads what arrives within `wait` (EOF is fed as EOF).
    fn read_some(&mut self, wait: Duration) -> io::Result<()> {
        let mut buf = [0u8; 16384];
        self.stream.set_read_timeout(Some(wait))?;
        match self.stream.read(&mut buf) {
            Ok(0) => self.conn.receive_eof(),
            Ok(n) => self.conn.receive(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => self.conn.receive_eof(),
        }
        let now = self.now();
        self.conn.handle_timeout(now);
        Ok(())
    }

    pub fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.conn
            .send_text(text)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.flush()
    }

    pub fn send_binary(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn
            .send_binary(data)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.flush()
    }

    /// The next message or the end, within `timeout` (None when nothing came).
    pub fn next(&mut self, timeout: Duration) -> io::Result<Option<Got>> {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(event) = self.conn.poll_event() {
                let got = match event {
                    Event::Text(t) => Got::Text(t.as_str().to_string()),
                    Event::Binary(b) => Got::Binary(b.to_vec()),
                    Event::Closed { clean, code, .. } => Got::Closed {
                        clean,
                        code: code.0,
                    },
                    _ => continue,
                };
                self.flush()?;
                return Ok(Some(got));
            }
            self.flush()?;
            if self.conn.state() == State::Closed {
                return Ok(None);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.read_some(left.min(Duration::from_millis(200)))?;
        }
    }

    /// Closes with 1000 and waits for the closing handshake; whether it was clean.
    pub fn close(mut self) -> io::Result<bool> {
        self.conn
            .close(CloseCode::NORMAL, "done")
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.flush()?;
        loop {
            match self.next(Duration::from_secs(10))? {
                Some(Got::Closed { clean, .. }) => return Ok(clean),
                Some(_) => continue,
                None => return Ok(false),
            }
        }
    }
}

/// The Rust echo server example on a free port of 127.0.0.1; killed when dropped.
pub struct RustEchoServer {
    _child: KillOnDrop,
    pub port: u16,
}

impl RustEchoServer {
    /// The server's process id (for its memory in /proc).
    pub fn pid(&self) -> u32 {
        self._child.id()
    }

    /// The debug build of `examples/echo_server`.
    pub fn start() -> RustEchoServer {
        RustEchoServer::start_program(rust_example("echo_server"))
    }

    /// A build of `examples/echo_server` at `program`, on a free port.
    pub fn start_program(program: PathBuf) -> RustEchoServer {
        RustEchoServer::start_program_with(program, &[])
    }

    /// A program taking the Rust echo server's arguments, on a free port, with `args`.
    pub fn start_program_with(program: PathBuf, args: &[&str]) -> RustEchoServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let child = Command::new(program)
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = RustEchoServer {
            _child: KillOnDrop(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the Rust echo server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}
