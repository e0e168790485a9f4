//! Servers under test as child processes on 127.0.0.1, killed when dropped: one that prints
//! a "listening on HOST:PORT" line (the C servers), and the Rust echo server example on a
//! free port; their memory as /proc reports it.

use super::process::{listening_port, terminate, KillOnDrop};
use super::programs::{rust_example, target_root};
use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
