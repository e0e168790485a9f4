//! The crate's example programs, run as a user runs them, over 127.0.0.1: the TLS round
//! trip, hyper's upgrade, and the chat server's broadcast (same order for everyone, a client
//! that stops reading dropped while the others carry on).

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;
use wsmachine::{ClientConfig, CloseCode};
use wsmachine_tokio::{Message, WebSocketStream};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The examples, built once (debug) by the cargo running the tests.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "wsmachine-tokio", "--examples"])
            .current_dir(&manifest)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --examples failed");
    });
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target"));
    target.join("debug/examples").join(name)
}

/// A server example on a free port: the process (killed on drop), its port and its stderr.
struct Server {
    child: Child,
    port: u16,
    stderr: BufReader<ChildStderr>,
}

impl Server {
    fn start(name: &str, args: &[&str], ready: &str) -> Server {
        let mut child = Command::new(example(name))
            .arg("127.0.0.1:0")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let port = line
            .strip_prefix(ready)
            .and_then(|rest| rest.split(['/', ' ']).next())
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{name}: unexpected first line {line:?}"));
        Server {
            child,
            port,
            stderr,
        }
    }

    /// Reads stderr until a line contains `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stderr.read_line(&mut line).unwrap();
            assert!(n > 0, "the server ended before printing {needle:?}");
            if line.contains(needle) {
                return line;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(port: u16, path: &str) -> WebSocketStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let config = ClientConfig::new(format!("127.0.0.1:{port}"), path);
    WebSocketStream::client(config, tcp).await.unwrap()
}

#[test]
fn tokio_wss_round_trips_over_tls() {
    let out = Command::new(example("tokio_wss")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("wss echo: Привет по TLS!"), "{stdout}");
    assert!(stdout.contains("closed cleanly over TLS"), "{stdout}");
}

#[tokio::test]
async fn hyper_upgrades_ws_and_serves_plain_http() {
    let mut server = Server::start("hyper_upgrade", &[], "hyper server listening on http://");
    let mut ws = connect(server.port, "/ws").await;
    ws.send(Message::text("through hyper")).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("through hyper")
    );
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    server.wait_for("websocket closed: clean=true");

    for (request, status) in [
        (
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200",
        ),
        (
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 400",
        ),
        // The engine's refusal of an unsupported version names version 13.
        (
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            "HTTP/1.1 426",
        ),
    ] {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        tcp.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with(status), "{request:?} -> {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reaches_everyone_in_one_order_and_drops_a_client_that_stops_reading() {
    let mut server = Server::start("tokio_chat_server", &[], "chat server listening on ws://");
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (write, read) = connect(server.port, "/").await.split();
        writers.push(write);
        readers.push(read);
    }
    // A fourth client completes the handshake and then never reads (with a small receive
    // window, so the kernel holds little for it).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket
        .connect(([127, 0, 0, 1], server.port).into())
        .await
        .unwrap();
    use tokio::io::AsyncWriteExt;
    stalled
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    // Everyone has joined once the stalled client's join notice reached the first client.
    loop {
        let Some(Ok(Message::Text(t))) = readers[0].next().await else {
            panic!("client 1 ended")
        };
        if t.as_str() == "* client 4 joined" {
            break;
        }
    }
    // The readers collect the chat lines while the three writers send 200 messages of
    // 16 KiB each: far more than the stalled client's socket holds (dropped after 10 s).
    const ROUNDS: usize = 200;
    let collect = readers.into_iter().map(|mut read| {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < 3 * ROUNDS {
                let item = tokio::time::timeout(TIMEOUT, read.next())
                    .await
                    .expect("a message");
                let Some(Ok(Message::Text(t))) = item else {
                    panic!("a chat client ended: {item:?}")
                };
                if let Some((_, text)) = t.as_str().split_once(": ") {
                    seen.push(text.to_string());
                }
            }
            (read, seen)
        })
    });
    let collect: Vec<_> = collect.collect();
    let payload = "x".repeat(16 << 10);
    let mut sent = Vec::new();
    for round in 0..ROUNDS {
        for (i, write) in writers.iter_mut().enumerate() {
            let text = format!("{i}-{round} {payload}");
            write.send(Message::text(text.clone())).await.unwrap();
            sent.push(text);
        }
    }
    let mut orders = Vec::new();
    let mut reads = Vec::new();
    for task in collect {
        let (read, seen) = task.await.unwrap();
        reads.push(read);
        orders.push(seen);
    }
    assert!(
        orders.iter().all(|o| *o == orders[0]),
        "the clients saw different orders"
    );
    let mut sorted = orders[0].clone();
    sorted.sort();
    sent.sort();
    assert_eq!(sorted, sent);
    server.wait_for("client 4 too slow");
    for (write, read) in writers.into_iter().zip(reads) {
        let mut ws = write.reunite(read).unwrap();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    }
    drop(stalled);
}
