//! WebSocket over HTTP/2 (RFC 8441): examples/h2_websocket.rs's client and server over
//! 127.0.0.1, with the engine on extended-CONNECT streams: messages both ways with
//! permessage-deflate, a close from either side, two WebSockets on one connection, refused
//! requests answered with a 4xx, and a server that did not enable extended CONNECT.

/// The example itself, so the test runs what users run (public: what it does not use is
/// not dead code).
#[path = "../examples/h2_websocket.rs"]
pub mod h2_websocket;

use h2_websocket::{client_config, serve_connection, Client, Seen, Stream, PATH};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use wsmachine::{ClientConfig, CloseCode, Event, HandshakeError};

/// Runs `test` on a fresh runtime, failing it after 20 s.
fn run<F: std::future::Future<Output = ()>>(test: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), test)
            .await
            .expect("the test took over 20 s");
    });
}

/// The example's server on an ephemeral port, and what it reports.
async fn start_server() -> (SocketAddr, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, log) = mpsc::channel();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move { serve_connection(tcp, None, seen).await.unwrap() });
        }
    });
    (addr, log)
}

async fn connect(addr: SocketAddr) -> Client {
    let client = Client::handshake(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    assert!(client.extended_connect_enabled());
    client
}

async fn next(ws: &mut Stream) -> Event {
    ws.next_event().await.unwrap().expect("closed too early")
}

/// The server's report of the next request, waiting for it without blocking the runtime.
async fn seen(log: &mpsc::Receiver<Seen>) -> Seen {
    loop {
        if let Ok(s) = log.try_recv() {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Bytes deflate cannot shrink, more than HTTP/2's initial 64 KiB window.
fn incompressible(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn messages_both_ways_then_a_clean_close() {
    run(async {
        let (addr, log) = start_server().await;
        let mut client = connect(addr).await;
        let mut ws = client.open(client_config(&addr.to_string())).await.unwrap();
        assert!(matches!(next(&mut ws).await, Event::Open { .. }));
        assert_eq!(ws.conn.subprotocol(), Some("chat"));
        assert!(ws.conn.extensions().starts_with("permessage-deflate"));

        let text = "over HTTP/2, over HTTP/2, over HTTP/2, over HTTP/2";
        let binary = incompressible(200_000);
        ws.conn.send_text(text).unwrap();
        ws.conn.send_binary(&binary).unwrap();
        match next(&mut ws).await {
            Event::Text(t) => assert_eq!(t.as_str(), text),
            other => panic!("expected the text echo, got {other:?}"),
        }
        match next(&mut ws).await {
            Event::Binary(b) => assert!(b[..] == binary[..], "binary echo differs"),
            other => panic!("expected the binary echo, got {other:?}"),
        }
        ws.conn.close(CloseCode::NORMAL, "done").unwrap();
        assert!(matches!(
            next(&mut ws).await,
            Event::Close {
                code: Some(CloseCode::NORMAL),
                ..
            }
        ));
        match next(&mut ws).await {
            Event::Closed { clean, code, .. } => {
                assert!(clean);
                assert_eq!(code, CloseCode::NORMAL);
            }
            other => panic!("expected Closed, got {other:?}"),
        }
        assert_eq!(ws.next_event().await.unwrap(), None);

        // The server saw an HTTP/2 extended CONNECT, agreed on deflate and echoed both.
        let s = seen(&log).await;
        assert_eq!(s.version, http::Version::HTTP_2);
        assert_eq!(s.method, "CONNECT");
        assert_eq!(s.protocol.as_deref(), Some("websocket"));
        assert_eq!(s.path, PATH);
        assert_eq!(s.status, 200);
        assert!(s.extensions.starts_with("permessage-deflate"), "{s:?}");
        assert_eq!(s.echoed, 2);
    });
}

#[test]
fn the_server_closes_first_and_two_websockets_share_a_connection() {
    run(async {
        let (addr, log) = start_server().await;
        let mut client = connect(addr).await;
        let mut first = client.open(client_config(&addr.to_string())).await.unwrap();
        let mut second = client
            .open(ClientConfig::new(addr.to_string(), PATH))
            .await
            .unwrap();
        assert!(matches!(next(&mut first).await, Event::Open { .. }));
        assert!(matches!(next(&mut second).await, Event::Open { .. }));
        // Without an offer, no extension.
        assert_eq!(second.conn.extensions(), "");
        first.conn.send_text("one").unwrap();
        second.conn.send_text("two").unwrap();
        assert!(matches!(next(&mut second).await, Event::Text(t) if t.as_str() == "two"));
        assert!(matches!(next(&mut first).await, Event::Text(t) if t.as_str() == "one"));

        // "close" asks the example's server to close first.
        second.conn.send_text("close").unwrap();
        assert!(matches!(next(&mut second).await, Event::Text(_)));
        match next(&mut second).await {
            Event::Close { code, reason } => {
                assert_eq!(code, Some(CloseCode::GOING_AWAY));
                assert_eq!(reason, "asked to");
            }
            other => panic!("expected the server's close, got {other:?}"),
        }
        assert!(matches!(
            next(&mut second).await,
            Event::Closed { clean: true, .. }
        ));
        assert_eq!(second.next_event().await.unwrap(), None);
        assert_eq!(seen(&log).await.echoed, 2);

        // The other stream is still open.
        first.conn.send_binary(b"still here").unwrap();
        assert!(matches!(next(&mut first).await, Event::Binary(b) if &b[..] == b"still here"));
    });
}

#[test]
fn refused_requests_get_a_4xx() {
    run(async {
        let (addr, log) = start_server().await;
        let mut client = connect(addr).await;

        // A path the server does not serve.
        let refused = client
            .open(ClientConfig::new(addr.to_string(), "/elsewhere"))
            .await
            .err()
            .expect("refused");
        assert_eq!(
            refused.downcast_ref::<HandshakeError>(),
            Some(&HandshakeError::UnexpectedStatus(404))
        );
        assert_eq!(seen(&log).await.status, 404);

        // An extended CONNECT for another protocol, then a WebSocket version the server
        // does not speak: 400, and 426 with the version it does (and no `Upgrade`, which
        // HTTP/2 forbids: h2 would refuse to send it).
        for (protocol, version, status) in [("webtransport", "13", 400), ("websocket", "8", 426)] {
            let mut request = http::Request::connect(format!("http://{addr}{PATH}"))
                .header("sec-websocket-version", version)
                .body(())
                .unwrap();
            request
                .extensions_mut()
                .insert(h2::ext::Protocol::from(protocol));
            let (response, _send) = client.raw().send_request(request, false).unwrap();
            let response = response.await.unwrap();
            assert_eq!(response.status(), status);
            if status == 426 {
                assert_eq!(response.headers()["sec-websocket-version"], "13");
            }
            let s = seen(&log).await;
            assert_eq!((s.protocol.as_deref(), s.status), (Some(protocol), status));
        }

        // The server is still fine.
        let mut ws = client.open(client_config(&addr.to_string())).await.unwrap();
        assert!(matches!(next(&mut ws).await, Event::Open { .. }));
    });
}

#[test]
fn no_extended_connect_unless_the_server_enables_it() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            // An HTTP/2 server without `enable_connect_protocol`.
            let mut h2 = h2::server::handshake(tcp).await.unwrap();
            while let Some(Ok(_)) = h2.accept().await {}
        });
        let mut client = Client::handshake(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        assert!(!client.extended_connect_enabled());
        let refused = client.open(client_config(&addr.to_string())).await.err();
        assert!(refused
            .expect("no CONNECT sent")
            .to_string()
            .contains("extended CONNECT"));
    });
}
