//! Two endpoints over in-memory transports (tokio's `duplex`) and over 127.0.0.1: messages
//! both ways, split halves, backpressure, keepalive against a dead peer, a close that cannot
//! hang, half-closed and failing transports, and the server's answer to a plain `GET`.
//! Timer tests run on tokio's paused clock, so they take no real time.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use wsmachine::{ClientConfig, CloseCode, Failure, Options, Role, ServerConfig, Upgraded};
use wsmachine_tokio::{Answer, CloseFrame, Error, Message, StreamConfig, WebSocketStream};

type Ws = WebSocketStream<DuplexStream>;

/// A client and a server, open, over a duplex pipe of `capacity` bytes each way.
async fn pair_with(capacity: usize, client: ClientConfig, server: ServerConfig) -> (Ws, Ws) {
    let (a, b) = tokio::io::duplex(capacity);
    let server = tokio::spawn(WebSocketStream::accept(b, server));
    let client = WebSocketStream::client(client, a)
        .await
        .expect("client handshake");
    (client, server.await.unwrap().expect("server handshake"))
}

async fn pair() -> (Ws, Ws) {
    pair_with(1 << 16, ClientConfig::new("test", "/"), ServerConfig::new()).await
}

/// Echoes every text and binary message until the stream ends; returns how it ended.
async fn echo(mut ws: Ws) -> Option<(bool, CloseFrame)> {
    while let Some(item) = ws.next().await {
        match item {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.send(message).await.is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => {}
        }
    }
    ws.close_status()
        .map(|(clean, frame)| (clean, frame.clone()))
}

#[tokio::test]
async fn messages_echo_and_the_close_completes_on_both_ends() {
    let (mut client, server) = pair().await;
    let server = tokio::spawn(echo(server));
    client.send(Message::text("Привет, сервер!")).await.unwrap();
    let big: Bytes = (0..1 << 20)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    client.send(Message::Binary(big.clone())).await.unwrap();
    client
        .send(Message::Ping(Bytes::from_static(b"hi")))
        .await
        .unwrap();
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::text("Привет, сервер!")
    );
    assert_eq!(client.next().await.unwrap().unwrap(), Message::Binary(big));
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Pong(Bytes::from_static(b"hi"))
    );
    client.close(CloseCode::NORMAL, "bye").await.unwrap();
    let (clean, frame) = client.close_status().unwrap();
    assert!(clean);
    assert_eq!(frame.code, CloseCode::NORMAL);
    let (clean, frame) = server.await.unwrap().unwrap();
    assert!(clean);
    assert_eq!(
        (frame.code, frame.reason.as_str()),
        (CloseCode::NORMAL, "bye")
    );
}

#[tokio::test]
async fn split_halves_send_and_receive_from_their_own_tasks() {
    let (client, server) = pair().await;
    let server = tokio::spawn(echo(server));
    let (mut write, mut read) = client.split();
    let writer = tokio::spawn(async move {
        for i in 0..500 {
            write
                .send(Message::text(format!("message {i}")))
                .await
                .unwrap();
        }
        write
    });
    for i in 0..500 {
        assert_eq!(
            read.next().await.unwrap().unwrap(),
            Message::text(format!("message {i}"))
        );
    }
    let write = writer.await.unwrap();
    let mut client = write.reunite(read).unwrap();
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(server.await.unwrap().unwrap().0);
}

#[tokio::test]
async fn a_peer_that_stops_reading_makes_the_sender_wait_with_bounded_memory() {
    let high_water_mark = 64 << 10;
    let (client, _server) = pair_with(
        16 << 10,
        ClientConfig::new("test", "/"),
        ServerConfig::new(),
    )
    .await;
    let mut client = client.with_config(StreamConfig::new().high_water_mark(high_water_mark));
    let message = Message::Binary(Bytes::from(vec![7u8; 8 << 10]));
    let mut sent = 0;
    loop {
        // `feed` queues without flushing (as `send_all` and forwarding do): only the high
        // water mark stops it.
        let send = client.feed(message.clone());
        match tokio::time::timeout(Duration::from_millis(200), send).await {
            Ok(result) => result.unwrap(),
            Err(_) => break,
        }
        sent += 1;
        assert!(sent < 1000, "the sender never waited");
    }
    let queued = client.connection().buffered_amount();
    assert!(
        queued <= high_water_mark + (8 << 10) + 14,
        "{queued} bytes queued after {sent} messages"
    );
    assert!(sent >= 8, "only {sent} messages went out before the wait");
}

#[tokio::test(start_paused = true)]
async fn keepalive_drops_a_peer_that_never_answers() {
    let (a, mut b) = tokio::io::duplex(1 << 16);
    // The peer answers the handshake and then reads everything, answering nothing.
    let peer = tokio::spawn(async move {
        let mut server = wsmachine::Connection::server(ServerConfig::new());
        let mut buf = vec![0u8; 4096];
        loop {
            let n = b.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            if !server.is_closed() && server.state() == wsmachine::State::Connecting {
                server.receive(&buf[..n]);
                while server.poll_event().is_some() {}
                let out = server.take_output();
                b.write_all(&out).await.unwrap();
            }
        }
    });
    let options = Options::new().keepalive(Duration::from_secs(1), Duration::from_secs(2));
    let config = ClientConfig::new("test", "/").options(options);
    let mut client = WebSocketStream::client(config, a).await.unwrap();
    let started = tokio::time::Instant::now();
    match client.next().await {
        Some(Err(Error::Failed(Failure::PongTimeout))) => {}
        other => panic!("expected the pong timeout, got {other:?}"),
    }
    assert!(client.next().await.is_none());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited <= Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(!client.close_status().unwrap().0);
    drop(client);
    peer.await.unwrap();
}

/// A peer's half of the opening handshake, done by a bare engine on `peer`: it reads the
/// request (one read) and writes the 101; what the peer does next is the test's.
async fn answer_the_handshake(peer: &mut DuplexStream) {
    let mut server = wsmachine::Connection::server(ServerConfig::new());
    let mut buf = vec![0u8; 4096];
    let n = peer.read(&mut buf).await.unwrap();
    server.receive(&buf[..n]);
    while server.poll_event().is_some() {}
    peer.write_all(&server.take_output()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn close_ends_within_the_close_timeout_when_the_peer_never_answers() {
    let (a, mut b) = tokio::io::duplex(1 << 16);
    let peer = tokio::spawn(async move {
        answer_the_handshake(&mut b).await;
        let mut buf = vec![0u8; 4096];
        // Then silence, without ending the transport.
        while b.read(&mut buf).await.unwrap_or(0) > 0 {}
    });
    let options = Options::new().close_timeout(Duration::from_secs(3));
    let config = ClientConfig::new("test", "/").options(options);
    let mut client = WebSocketStream::client(config, a).await.unwrap();
    let started = tokio::time::Instant::now();
    match client.close(CloseCode::NORMAL, "").await {
        Err(Error::Failed(Failure::CloseTimeout)) => {}
        other => panic!("expected the close timeout, got {other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    drop(client);
    peer.await.unwrap();
}

#[tokio::test]
async fn a_transport_that_ends_early_fails_the_stream_with_1006() {
    let (mut client, server) = pair().await;
    drop(server);
    match client.next().await {
        Some(Err(Error::Failed(Failure::Eof))) => {}
        other => panic!("expected the end of the transport, got {other:?}"),
    }
    assert!(client.next().await.is_none());
    let (clean, frame) = client.close_status().unwrap();
    assert!(!clean);
    assert_eq!(frame.code, CloseCode::ABNORMAL);
    assert!(matches!(
        client.send(Message::text("late")).await,
        Err(Error::Closed)
    ));
}

/// A transport whose reads fail, as a reset TCP connection's do.
struct Reset;

impl AsyncRead for Reset {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
    }
}

impl AsyncWrite for Reset {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_reset_transport_reports_the_io_error() {
    let upgraded = Upgraded::new(Role::Server, Options::new());
    let mut ws = WebSocketStream::from_upgraded(Reset, upgraded).unwrap();
    match ws.next().await {
        Some(Err(Error::Io(e))) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected the reset, got {other:?}"),
    }
    assert!(ws.next().await.is_none());
}

#[tokio::test]
async fn a_server_answers_a_plain_get_with_a_page_and_refuses_what_it_wants() {
    let (mut a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(WebSocketStream::accept_with(
        b,
        ServerConfig::new(),
        |request| {
            assert!(!request.websocket);
            Answer::Respond {
                status: 200,
                content_type: "text/html; charset=utf-8".into(),
                body: b"<p>hello</p>".to_vec(),
            }
        },
    ));
    a.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    a.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("<p>hello</p>"), "{answer}");
    assert!(matches!(server.await.unwrap(), Err(Error::Refused(200))));

    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(WebSocketStream::accept_with(
        b,
        ServerConfig::new(),
        |request| {
            assert_eq!(request.path, "/private");
            Answer::Reject(403, "no".into())
        },
    ));
    let client = WebSocketStream::client(ClientConfig::new("test", "/private"), a).await;
    assert!(
        matches!(client, Err(Error::Failed(Failure::Handshake(_)))),
        "{client:?}"
    );
    assert!(matches!(server.await.unwrap(), Err(Error::Refused(403))));
}

#[tokio::test]
async fn deflate_and_subprotocols_over_tcp_on_loopback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let config = ServerConfig::new()
            .subprotocol("chat.v2")
            .deflate(wsmachine::DeflateConfig::new());
        echo_tcp(WebSocketStream::accept(tcp, config).await.unwrap()).await
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let config = ClientConfig::new(addr.to_string(), "/")
        .subprotocol("chat.v2")
        .deflate(wsmachine::DeflateConfig::new());
    let mut client = WebSocketStream::client(config, tcp).await.unwrap();
    assert_eq!(client.connection().subprotocol(), Some("chat.v2"));
    assert!(client
        .connection()
        .extensions()
        .starts_with("permessage-deflate"));
    let text = "compress me ".repeat(1000);
    client.send(Message::text(text.clone())).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), Message::text(text));
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(server.await.unwrap());
}

async fn echo_tcp(mut ws: WebSocketStream<tokio::net::TcpStream>) -> bool {
    while let Some(Ok(message)) = ws.next().await {
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            ws.send(message).await.unwrap();
        }
    }
    ws.close_status().is_some_and(|(clean, _)| clean)
}

#[tokio::test(start_paused = true)]
async fn close_ends_even_when_the_peer_reads_nothing_at_all() {
    let (a, mut b) = tokio::io::duplex(8 << 10);
    let peer = tokio::spawn(async move {
        answer_the_handshake(&mut b).await;
        // Then it never reads again, and keeps the transport open.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(b);
    });
    let options = Options::new().close_timeout(Duration::from_secs(3));
    let config = ClientConfig::new("test", "/").options(options);
    let mut client = WebSocketStream::client(config, a)
        .await
        .unwrap()
        .with_config(StreamConfig::new().linger(Duration::from_secs(1)));
    // Fill the pipe and the engine's output.
    let message = Message::Binary(Bytes::from(vec![1u8; 64 << 10]));
    let _ = tokio::time::timeout(Duration::from_millis(100), client.feed(message)).await;
    let started = tokio::time::Instant::now();
    let result = client.close(CloseCode::NORMAL, "").await;
    assert!(
        matches!(result, Err(Error::Failed(Failure::CloseTimeout))),
        "{result:?}"
    );
    // The close timeout, then the linger: never longer.
    assert_eq!(started.elapsed(), Duration::from_secs(4));
    peer.abort();
}
