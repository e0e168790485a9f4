//! The examples' echo server over real TCP on 127.0.0.1 (in-process, ephemeral port), with
//! wsmachine clients: concurrency, large messages to a slow reader, a close that arrives in
//! the same read as data, a protocol error; and, in memory, the engine behaviour the echo
//! loop relies on.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod examples;
    pub mod process;
    pub mod programs;
}

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use support::examples::driver::Driver;
use support::examples::echo::{self, Report};
use wsmachine::{ClientConfig, CloseCode, Connection, Event, Options, ServerConfig};

fn start_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || echo::serve(&listener, |_: Report| {}));
    port
}

fn connect(port: u16) -> Driver {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let options = Options::new().max_message_size(echo::MAX_MESSAGE);
    let config = ClientConfig::new(format!("127.0.0.1:{port}"), "/").options(options);
    let mut driver = Driver::new(stream, Connection::client(config).unwrap()).unwrap();
    match driver.next_event().unwrap() {
        Some(Event::Open { .. }) => driver,
        other => panic!("expected Open, got {other:?}"),
    }
}

fn next(driver: &mut Driver) -> Event {
    driver.next_event().unwrap().expect("closed too early")
}

/// Closes with 1000 and checks the close is clean.
fn close(mut driver: Driver) {
    driver.conn().close(CloseCode::NORMAL, "").unwrap();
    loop {
        match next(&mut driver) {
            Event::Close { code, .. } => assert_eq!(code, Some(CloseCode::NORMAL)),
            Event::Closed { clean, code, .. } => {
                assert!(clean);
                assert_eq!(code, CloseCode::NORMAL);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    driver.finish(Duration::from_secs(1));
}

#[test]
fn many_clients_at_once_get_their_own_echoes() {
    let port = start_server();
    let clients: Vec<_> = (0..16)
        .map(|c| {
            thread::spawn(move || {
                let mut ws = connect(port);
                for i in 0..50usize {
                    let len = (i * 997 + c * 31) % 70_000;
                    if i % 2 == 0 {
                        let text = format!("{c}:{i}:").repeat(len / 8 + 1);
                        ws.conn().send_text(&text).unwrap();
                        match next(&mut ws) {
                            Event::Text(t) => assert_eq!(&*t, text),
                            other => panic!("unexpected {other:?}"),
                        }
                    } else {
                        let data: Vec<u8> = (0..len).map(|k| (k + c + i) as u8).collect();
                        ws.conn().send_binary(&data).unwrap();
                        match next(&mut ws) {
                            Event::Binary(b) => assert!(b == data),
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                }
                close(ws);
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn sixteen_mib_message_reaches_a_slow_reader() {
    let port = start_server();
    let mut ws = connect(port);
    let data: Vec<u8> = (0..16 << 20).map(|k: usize| (k >> 3) as u8).collect();
    ws.conn().send_binary(&data).unwrap();
    ws.flush().unwrap();
    // The server's writes stall on a full socket buffer and resume (partial writes).
    thread::sleep(Duration::from_millis(300));
    match next(&mut ws) {
        Event::Binary(b) => assert!(b == data, "echo differs"),
        other => panic!("unexpected {other:?}"),
    }
    close(ws);
}

#[test]
fn data_then_close_in_one_write_is_echoed_before_the_close() {
    let port = start_server();
    let mut ws = connect(port);
    // Both frames leave in one write, so the server reads them together.
    ws.conn().send_text("last words").unwrap();
    ws.conn().send_binary(b"and bytes").unwrap();
    ws.conn().close(CloseCode(4000), "bye").unwrap();
    ws.flush().unwrap();
    match next(&mut ws) {
        Event::Text(t) => assert_eq!(&*t, "last words"),
        other => panic!("expected the echo before the close, got {other:?}"),
    }
    match next(&mut ws) {
        Event::Binary(b) => assert_eq!(&b[..], b"and bytes"),
        other => panic!("expected the echo before the close, got {other:?}"),
    }
    match next(&mut ws) {
        Event::Close { code, .. } => assert_eq!(code, Some(CloseCode(4000))),
        other => panic!("expected the close, got {other:?}"),
    }
    assert!(matches!(next(&mut ws), Event::Closed { clean: true, .. }));
}

#[test]
fn server_ends_tcp_after_a_protocol_error() {
    let port = start_server();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut client = Connection::client(ClientConfig::new("127.0.0.1", "/")).unwrap();
    std::io::Write::write_all(&mut stream, &client.take_output()).unwrap();
    // An unmasked frame from a client (RFC 6455 §5.1) must close with 1002.
    std::io::Write::write_all(&mut stream, b"\x81\x02hi").unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    client.receive(&got);
    let mut events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    client.receive_eof();
    events.extend(std::iter::from_fn(|| client.poll_event()));
    assert!(matches!(events[0], Event::Open { .. }), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Close {
                code: Some(CloseCode::PROTOCOL_ERROR),
                ..
            }
        )),
        "{events:?}"
    );
}

/// A one-connection echo server with keepalive `interval`/`timeout`; reports its outcome.
fn start_keepalive_server(
    interval: Duration,
    timeout: Duration,
) -> (u16, std::sync::mpsc::Receiver<echo::Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let options = echo::server_options().keepalive(interval, timeout);
        let _ = tx.send(echo::serve_connection_with(stream, options).unwrap());
    });
    (port, rx)
}

#[test]
fn keepalive_pings_an_idle_client_and_drops_it_without_pong() {
    let (interval, timeout) = (Duration::from_millis(200), Duration::from_millis(300));
    let (port, outcome) = start_keepalive_server(interval, timeout);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let options = Options::new().auto_pong(false);
    let config = ClientConfig::new(format!("127.0.0.1:{port}"), "/").options(options);
    let mut ws = Driver::new(stream, Connection::client(config).unwrap()).unwrap();
    assert!(matches!(next(&mut ws), Event::Open { .. }));
    let opened = std::time::Instant::now();
    assert!(matches!(next(&mut ws), Event::Ping(_)));
    let pinged = opened.elapsed();
    // No pong: the server gives up after the timeout (pinging again each interval meanwhile)
    // with 1011 and ends the connection.
    loop {
        match next(&mut ws) {
            Event::Ping(_) => {}
            Event::Close { code, .. } => break assert_eq!(code, Some(CloseCode::INTERNAL_ERROR)),
            other => panic!("expected the server's close, got {other:?}"),
        }
    }
    let dropped = opened.elapsed();
    assert!(pinged >= interval && pinged < interval * 10, "{pinged:?}");
    assert!(dropped >= interval + timeout, "{dropped:?}");
    assert!(dropped < (interval + timeout) * 10, "{dropped:?}");
    let o = outcome.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!o.clean);
    assert!(o.failure.unwrap().contains("pong"));
}

#[test]
fn keepalive_keeps_an_idle_client_that_answers() {
    let (interval, timeout) = (Duration::from_millis(100), Duration::from_millis(150));
    let (port, outcome) = start_keepalive_server(interval, timeout);
    let mut ws = connect(port);
    let idle = std::time::Instant::now();
    // We send nothing; the engine answers each of the server's pings with a pong.
    for _ in 0..4 {
        assert!(matches!(next(&mut ws), Event::Ping(_)));
    }
    assert!(
        idle.elapsed() >= (interval + timeout) * 2,
        "{:?}",
        idle.elapsed()
    );
    ws.conn().send_text("still here").unwrap();
    loop {
        match next(&mut ws) {
            Event::Text(t) => break assert_eq!(&*t, "still here"),
            Event::Ping(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    close(ws);
    let o = outcome.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(o.clean && o.failure.is_none(), "{o:?}");
}

/// An open in-memory pair (handshake done, `Open` events drained).
fn open_pair() -> (Connection, Connection) {
    let mut client = Connection::client(ClientConfig::new("localhost", "/")).unwrap();
    let mut server = Connection::server(ServerConfig::new());
    server.receive(&client.take_output());
    client.receive(&server.take_output());
    assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
    assert!(matches!(client.poll_event(), Some(Event::Open { .. })));
    (client, server)
}

/// What the echo server relies on: a data frame and a close frame given to one `receive`
/// call are decoded one `poll_event` at a time, so the application can still answer the
/// data (RFC 6455 §5.5.1 lets it finish a message before answering the close; the Autobahn
/// TestSuite's case 7.1.1 expects that echo).
#[test]
fn application_answers_data_that_preceded_a_close_in_the_same_read() {
    let (mut client, mut server) = open_pair();
    client.send_text("echo me").unwrap();
    client.close(CloseCode::NORMAL, "").unwrap();
    server.receive(&client.take_output());
    assert!(matches!(server.poll_event(), Some(Event::Text(t)) if &*t == "echo me"));
    server.send_text("echo me").unwrap();
    assert!(matches!(server.poll_event(), Some(Event::Close { .. })));
    client.receive(&server.take_output());
    assert!(matches!(client.poll_event(), Some(Event::Text(t)) if &*t == "echo me"));
    assert!(matches!(
        client.poll_event(),
        Some(Event::Close {
            code: Some(CloseCode::NORMAL),
            ..
        })
    ));
}

/// `receive_eof` (and `handle_timeout`) decode the buffered frames first; events already
/// queued (here `Open`, queued by the handshake) must keep their place in front of them.
#[test]
fn receive_eof_keeps_events_in_order() {
    let mut client = Connection::client(ClientConfig::new("localhost", "/")).unwrap();
    let mut server = Connection::server(ServerConfig::new());
    server.receive(&client.take_output());
    assert!(matches!(server.poll_event(), Some(Event::Open { .. })));
    server.send_text("first").unwrap();
    server.close(CloseCode(4000), "bye").unwrap();
    // The 101 answer, a message and a close frame in one read, then the end of the stream,
    // all before the client polls.
    client.receive(&server.take_output());
    client.receive_eof();
    let kinds: Vec<String> = std::iter::from_fn(|| client.poll_event())
        .map(|e| format!("{e:?}").chars().take(20).collect())
        .collect();
    assert!(kinds[0].starts_with("Open"), "{kinds:?}");
    assert!(kinds[1].starts_with("Text"), "{kinds:?}");
    assert!(kinds[2].starts_with("Close {"), "{kinds:?}");
    assert!(kinds[3].starts_with("Closed"), "{kinds:?}");
}

/// Opens a WebSocket to `port` by hand, sends a 32 MiB binary message (far more than the
/// socket buffers hold) and never reads; returns the stream (to keep it open) and when the
/// message was out.
fn flood_without_reading(port: u16) -> (TcpStream, std::time::Instant) {
    use std::io::Write;
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(raw.read(&mut byte).unwrap(), 1, "no 101");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    // Masked with a zero key, so the payload goes as is.
    let len: u64 = 32 << 20;
    let mut frame = vec![0x82, 0xff];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.resize(frame.len() + len as usize, b'x');
    raw.write_all(&frame).unwrap();
    (raw, std::time::Instant::now())
}

/// Issue 10: a client that sends a big message and never reads is dropped once the write
/// deadline for the echo has passed, however the kernel splits the writes (the timeout used
/// to restart on every partial write, and the socket then lingered).
#[test]
fn a_client_that_never_reads_is_dropped_at_the_write_deadline() {
    let deadline = Duration::from_millis(1000);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        echo::serve_with_write_timeout(
            &listener,
            echo::server_config(echo::server_options()),
            deadline,
            move |r: Report| {
                if let Report::Closed(_, outcome) = r {
                    let _ = tx.send((std::time::Instant::now(), outcome.is_err()));
                }
            },
        )
    });
    let (raw, sent) = flood_without_reading(port);
    // The echo cannot go anywhere now; the server must give up within the deadline.
    let (closed, failed) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let took = closed.saturating_duration_since(sent);
    eprintln!("dropped {took:?} after the message was sent (deadline {deadline:?})");
    assert!(failed, "the server should report the failed write");
    assert!(
        took < deadline + Duration::from_millis(1500),
        "held for {took:?}"
    );
    drop(raw);
}

/// The same through the example binary and its `--write-timeout-ms` flag.
#[test]
fn echo_server_write_timeout_flag_bounds_a_client_that_never_reads() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let example = support::programs::rust_example("echo_server");
    let mut server = support::process::KillOnDrop(
        Command::new(example)
            .args(["127.0.0.1:0", "--write-timeout-ms", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = server.stderr.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send((std::time::Instant::now(), line));
        }
    });
    let (_, first) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let port: u16 = first
        .split("ws://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    let (raw, sent) = flood_without_reading(port);
    let closed = loop {
        let (at, line) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        if line.contains(" closed: ") {
            assert!(line.contains("transport failed"), "{line}");
            break at;
        }
    };
    let took = closed.saturating_duration_since(sent);
    eprintln!("echo_server dropped the client {took:?} after its message");
    assert!(took < Duration::from_millis(2500), "held for {took:?}");
    drop(raw);
}
