//! Headless Chromium opens a WebSocket over HTTP/2 (RFC 8441) to examples/h2_websocket.rs's
//! server, served over TLS on 127.0.0.1 with ALPN `h2` and a certificate made at run time
//! (rcgen, rustls). Chromium carries a WebSocket over HTTP/2 only on an HTTP/2 connection it
//! already has to that origin whose SETTINGS enable extended CONNECT, so the page is loaded
//! from the same server first (`tests/js/h2_browser.js`). The server's own record shows the
//! WebSocket came as an HTTP/2 extended CONNECT; the page's shows the echoes and the close.
//!
//! Without Node, the npm packages of `tests/js` (`npm ci`) or /usr/bin/chromium, the test
//! prints a SKIP line and passes, except under `CI=true`, where it fails.

/// The example itself, so the test runs what users run (public: what it does not use is
/// not dead code).
#[path = "../examples/h2_websocket.rs"]
pub mod h2_websocket;

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod js;
    pub mod process;
    pub mod skip;
}

use h2_websocket::{serve_connection, Seen, PATH};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use support::js::{self, js_dir};
use support::process::run_with_timeout;

const PAGE: &str = "<!doctype html><meta charset=utf-8><title>wsmachine over HTTP/2</title>\
                    <p>WebSocket over HTTP/2</p>";

/// Bounds the browser's run: the whole test stays under a minute.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(50);

/// TLS for 127.0.0.1 with a fresh self-signed certificate, offering only HTTP/2.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// The server on an ephemeral port, in a thread of its own: its port, what it saw of each
/// request, and the TLS and HTTP/2 failures of its connections.
fn start_server() -> (u16, mpsc::Receiver<Seen>, Arc<Mutex<Vec<String>>>) {
    let (seen, log) = mpsc::channel();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let (port_tx, port_rx) = mpsc::channel();
    let failed = failures.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            let acceptor = tls_acceptor();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, seen, failed) = (acceptor.clone(), seen.clone(), failed.clone());
                tokio::spawn(async move {
                    let result = match acceptor.accept(tcp).await {
                        Ok(tls) => serve_connection(tls, Some(PAGE), seen).await,
                        Err(e) => Err(format!("TLS: {e}").into()),
                    };
                    if let Err(e) = result {
                        failed.lock().unwrap().push(e.to_string());
                    }
                });
            }
        });
    });
    let port = port_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    (port, log, failures)
}

#[test]
fn chromium_opens_a_websocket_over_http2() {
    if !js::ready(&[js::node_packages, js::chromium]) {
        return;
    }
    let (port, log, failures) = start_server();
    let config = json!({
        "page": format!("https://127.0.0.1:{port}/"),
        "ws": format!("wss://127.0.0.1:{port}{PATH}"),
    });
    let out = run_with_timeout(
        Command::new("node")
            .current_dir(js_dir())
            .args(["h2_browser.js", &config.to_string()]),
        BROWSER_TIMEOUT,
    );
    let seen: Vec<Seen> =
        std::iter::from_fn(|| log.recv_timeout(Duration::from_secs(2)).ok()).collect();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let context = format!(
        "status {}\n--- stdout\n{stdout}\n--- stderr\n{}\n--- server saw\n{seen:#?}\n\
         --- server failures\n{:?}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        failures.lock().unwrap()
    );
    assert!(out.status.success(), "h2_browser.js failed: {context}");
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("result "))
        .map(|j| serde_json::from_str(j).unwrap())
        .unwrap_or_else(|| panic!("no result: {context}"));

    // The page came over HTTP/2.
    assert_eq!(result["pageProtocol"], "h2", "{context}");
    let page = seen.iter().find(|s| s.method == "GET");
    assert!(
        page.is_some_and(|s| s.version == http::Version::HTTP_2 && s.status == 200),
        "{context}"
    );
    // The WebSocket came as an HTTP/2 extended CONNECT, the server's own record says so.
    let ws = seen
        .iter()
        .find(|s| s.method == "CONNECT")
        .unwrap_or_else(|| panic!("no extended CONNECT reached the server: {context}"));
    assert_eq!(ws.version, http::Version::HTTP_2, "{context}");
    assert_eq!(ws.protocol.as_deref(), Some("websocket"), "{context}");
    assert_eq!(ws.path, PATH, "{context}");
    assert_eq!(ws.status, 200, "{context}");
    assert_eq!(ws.echoed, 2, "{context}");
    // Chromium offers permessage-deflate; the server takes it.
    assert!(ws.extensions.starts_with("permessage-deflate"), "{context}");

    // And the page saw its messages echoed and a clean close.
    assert_eq!(result["protocol"], "chat", "{context}");
    assert!(
        result["extensions"]
            .as_str()
            .is_some_and(|e| e.starts_with("permessage-deflate")),
        "{context}"
    );
    assert_eq!(
        result["received"],
        json!(["hello over HTTP/2", [1, 2, 3, 250]]),
        "{context}"
    );
    assert_eq!(
        result["close"],
        json!({"wasClean": true, "code": 4000, "reason": "bye"}),
        "{context}"
    );
    let browser = stdout.lines().find_map(|l| l.strip_prefix("browser "));
    eprintln!("{browser:?}: page and WebSocket over HTTP/2; the server saw {ws:?}");
}
