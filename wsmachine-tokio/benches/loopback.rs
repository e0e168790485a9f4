//! `cargo bench -p wsmachine-tokio --bench loopback`: four tokio echo servers, each a child
//! process on 127.0.0.1 built on one library's own tokio adapter in its default
//! configuration (wsmachine-tokio, tokio-tungstenite, tokio-websockets, fastwebsockets after
//! a handshake done here), driven by one load generator that speaks raw frames (so every
//! server faces the same client):
//!
//! * throughput: 100 connections echoing 1 KiB binary messages, and 10 connections echoing
//!   1 MiB ones; messages per second, interleaved rounds, median and spread of `--runs`;
//! * CPU: the server's CPU time (user + system) per message in the same rounds, which a
//!   busy machine disturbs far less than throughput; the ratios are the peer's ÷ ours;
//! * memory: 10,000 idle connections after the handshake; the server's resident memory per
//!   connection (`VmRSS` of `/proc/PID/status`, after minus before).
//!
//! Options: `--runs N` (3), `--scale N` (divide message counts), `--idle N` (10000).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIBS: [&str; 4] = [
    "wsmachine",
    "tokio-tungstenite",
    "tokio-websockets",
    "fastwebsockets",
];

// ----- the servers (child processes) -----

async fn serve_wsmachine(tcp: TcpStream) {
    use futures_util::{SinkExt, StreamExt};
    use wsmachine_tokio::{Message, WebSocketStream};
    let Ok(mut ws) = WebSocketStream::accept(tcp, wsmachine::ServerConfig::new()).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if matches!(message, Message::Binary(_) | Message::Text(_))
            && ws.send(message).await.is_err()
        {
            return;
        }
    }
}

async fn serve_tungstenite(tcp: TcpStream) {
    use futures_util::{SinkExt, StreamExt};
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_binary() || message.is_text()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

async fn serve_tokio_websockets(tcp: TcpStream) {
    use futures_util::{SinkExt, StreamExt};
    let Ok((_request, mut ws)) = tokio_websockets::ServerBuilder::new().accept(tcp).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_binary() || message.is_text()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

async fn serve_fastwebsockets(mut tcp: TcpStream) {
    use fastwebsockets::{FragmentCollector, Frame, OpCode, Role, WebSocket};
    // fastwebsockets leaves the handshake to hyper or the caller: done here by hand.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let Ok(request) = wsmachine::handshake::parse_request(&head, 64) else {
        return;
    };
    let key = request.header("sec-websocket-key").unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        wsmachine::handshake::accept_key(key.as_bytes())
    );
    if tcp.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(tcp, Role::Server));
    while let Ok(frame) = ws.read_frame().await {
        match frame.opcode {
            OpCode::Close => return,
            OpCode::Binary | OpCode::Text => {
                let echo = Frame::new(true, frame.opcode, None, frame.payload);
                if ws.write_frame(echo).await.is_err() {
                    return;
                }
            }
            _ => {}
        }
    }
}

fn serve(lib: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let lib = lib.to_string();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            match lib.as_str() {
                "wsmachine" => tokio::spawn(serve_wsmachine(tcp)),
                "tokio-tungstenite" => tokio::spawn(serve_tungstenite(tcp)),
                "tokio-websockets" => tokio::spawn(serve_tokio_websockets(tcp)),
                _ => tokio::spawn(serve_fastwebsockets(tcp)),
            };
        }
    });
}

// ----- the load generator -----

/// A masked client frame (FIN, binary) carrying `len` bytes.
fn client_frame(len: usize) -> Vec<u8> {
    let mut out = vec![0x82];
    match len {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x12, 0x34, 0x56, 0x78];
    out.extend_from_slice(&key);
    out.extend((0..len).map(|i| (i as u8) ^ key[i % 4]));
    out
}

/// Connects and completes the opening handshake.
async fn open(port: u16) -> TcpStream {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "no handshake answer");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// Sends `count` messages of `len` bytes on one connection and reads the `count` echoes.
async fn echo(tcp: TcpStream, count: usize, len: usize) {
    let (mut read, mut write) = tcp.into_split();
    let frame = client_frame(len);
    let writer = tokio::spawn(async move {
        for _ in 0..count {
            write.write_all(&frame).await.unwrap();
        }
        write
    });
    let mut buf = vec![0u8; 64 << 10];
    let (mut have, mut got) = (0usize, 0usize);
    // What is left of the frame being read: (header bytes needed, payload bytes left).
    let mut pending: Vec<u8> = Vec::new();
    let mut payload_left = 0u64;
    while got < count {
        let n = read.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server ended the connection");
        have += n;
        let mut data = &buf[..n];
        while !data.is_empty() {
            if payload_left > 0 {
                let take = data.len().min(payload_left as usize);
                payload_left -= take as u64;
                data = &data[take..];
                if payload_left == 0 {
                    got += 1;
                }
                continue;
            }
            pending.push(data[0]);
            data = &data[1..];
            let need = match pending.get(1).map(|b| b & 0x7F) {
                None => continue,
                Some(126) => 4,
                Some(127) => 10,
                Some(_) => 2,
            };
            if pending.len() < need {
                continue;
            }
            payload_left = match need {
                2 => u64::from(pending[1] & 0x7F),
                4 => u64::from(u16::from_be_bytes([pending[2], pending[3]])),
                _ => u64::from_be_bytes(pending[2..10].try_into().unwrap()),
            };
            assert_eq!(pending[0], 0x82, "not a whole binary frame");
            pending.clear();
            if payload_left == 0 {
                got += 1;
            }
        }
    }
    let _ = have;
    drop(writer.await.unwrap());
}

/// One throughput sample over `conns` connections: messages per second, and the server's
/// CPU time (user + system) per message in microseconds.
async fn throughput(server: &Server, conns: usize, per_conn: usize, len: usize) -> (f64, f64) {
    let mut streams = Vec::new();
    for _ in 0..conns {
        streams.push(open(server.port).await);
    }
    let cpu_before = cpu_seconds(server.child.id());
    let started = Instant::now();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|tcp| tokio::spawn(echo(tcp, per_conn, len)))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(server.child.id()) - cpu_before;
    let messages = (conns * per_conn) as f64;
    (messages / elapsed, cpu * 1e6 / messages)
}

/// The CPU time a process used so far (user + system, `/proc/PID/stat`), in seconds. Unlike
/// throughput on a shared machine, it hardly depends on what else runs.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which may hold spaces) end with `)`.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second
    // on Linux).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Resident bytes per idle connection: `count` connections open after the handshake.
async fn idle_memory(server: &Server, count: usize) -> f64 {
    let before = rss_kib(server.child.id());
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        streams.push(open(server.port).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(server.child.id());
    drop(streams);
    (after.saturating_sub(before) * 1024) as f64 / count as f64
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(lib: &str) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--serve", lib])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("port ").unwrap().parse().unwrap();
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        return serve(&args[i + 1]);
    }
    let value = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect(name))
    };
    let (runs, scale, idle) = (
        value("--runs", 3),
        value("--scale", 1),
        value("--idle", 10_000),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows: [(&str, usize, usize, usize); 2] = [
        ("100 connections × 1 KiB", 100, 2000 / scale, 1 << 10),
        ("10 connections × 1 MiB", 10, 40 / scale, 1 << 20),
    ];
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name\t: ").map(String::from))
        })
        .unwrap_or_default();
    println!(
        "Loopback echo, {} run(s), rounds interleaved; {} cores ({machine}); \
         `cargo bench -p wsmachine-tokio --bench loopback -- --runs {runs}`\n",
        runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| row | {} | ÷ tokio-tungstenite | ÷ fastest peer |",
        LIBS.join(" | ")
    );
    println!("|---|{}--:|--:|", "--:|".repeat(LIBS.len()));
    for (name, conns, per_conn, len) in rows {
        // samples[lib][run]
        let mut samples = vec![Vec::new(); LIBS.len()];
        let mut cpu = vec![Vec::new(); LIBS.len()];
        let (mut ratios_tung, mut ratios_best) = (Vec::new(), Vec::new());
        let (mut cpu_tung, mut cpu_best) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (mut run, mut run_cpu) = (Vec::new(), Vec::new());
            for (i, lib) in LIBS.iter().enumerate() {
                let server = Server::start(lib);
                let (rate, us) = runtime.block_on(throughput(&server, conns, per_conn, len));
                samples[i].push(rate);
                cpu[i].push(us);
                run.push(rate);
                run_cpu.push(us);
            }
            ratios_tung.push(run[0] / run[1]);
            ratios_best.push(run[0] / run[1..].iter().cloned().fold(0.0, f64::max));
            // Efficiency: a peer's CPU per message ÷ ours (above 1: we use less).
            cpu_tung.push(run_cpu[1] / run_cpu[0]);
            cpu_best.push(run_cpu[1..].iter().cloned().fold(f64::MAX, f64::min) / run_cpu[0]);
        }
        let spread = |v: &Vec<f64>| {
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, 0.0f64), |(l, h), x| (l.min(*x), h.max(*x)));
            format!("{:.2} ({lo:.2}–{hi:.2})", median(v.clone()))
        };
        // One table row: the median of each library's samples, then the two ratios.
        let print_row = |label: &str, per_lib: &[Vec<f64>], unit: &str, vs: [&Vec<f64>; 2]| {
            let digits = if unit == "µs" { 2 } else { 0 };
            let cells: Vec<String> = per_lib
                .iter()
                .map(|s| format!("{:.digits$} {unit}", median(s.clone())))
                .collect();
            let [a, b] = vs.map(spread);
            println!("| {label} | {} | {a} | {b} |", cells.join(" | "));
        };
        print_row(name, &samples, "msg/s", [&ratios_tung, &ratios_best]);
        print_row(
            &format!("{name}: server CPU per message (peer ÷ wsmachine)"),
            &cpu,
            "µs",
            [&cpu_tung, &cpu_best],
        );
    }
    let mut memory = Vec::new();
    for lib in LIBS {
        let server = Server::start(lib);
        memory.push(runtime.block_on(idle_memory(&server, idle)));
    }
    let memory: Vec<String> = memory.iter().map(|b| format!("{:.0} B", b)).collect();
    println!(
        "| RSS per idle connection ({idle}) | {} | | |",
        memory.join(" | ")
    );
}
