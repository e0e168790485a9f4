//! `wsm connect wss://`: against a TLS echo server on 127.0.0.1 whose certificate for
//! `localhost` is made at run time, trusted with `--ca`; without it the connection fails
//! with exit code 3.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use wsmachine::{Connection, Event, ServerConfig};

const WSM: &str = env!("CARGO_BIN_EXE_wsm");

/// A TLS echo server for one connection; returns its port and the certificate's PEM.
fn tls_echo_server() -> (u16, String) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let config = config.clone();
            thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let tls = rustls::ServerConnection::new(config).unwrap();
                let mut stream = rustls::StreamOwned::new(tls, tcp);
                let mut conn = Connection::server(ServerConfig::new());
                let mut buf = [0u8; 16 << 10];
                loop {
                    while let Some(event) = conn.poll_event() {
                        if let Event::Text(t) = event {
                            let _ = conn.send_text(&t);
                        }
                    }
                    let out = conn.take_output();
                    if !out.is_empty() && stream.write_all(&out).is_err() {
                        return;
                    }
                    if conn.is_closed() {
                        stream.conn.send_close_notify();
                        let _ = stream.flush();
                        return;
                    }
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => conn.receive_eof(),
                        Ok(n) => conn.receive(&buf[..n]),
                    }
                }
            });
        }
    });
    (port, cert.cert.pem())
}

#[test]
fn wss_with_a_trusted_certificate_echoes_and_closes() {
    let (port, pem) = tls_echo_server();
    let dir = std::env::temp_dir().join(format!("wsm-wss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let url = format!("wss://localhost:{port}/");
    let mut child = Command::new(WSM)
        .args(["connect", "--ca", ca.to_str().unwrap(), &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.starts_with("Sec-WebSocket-Accept") {
            writeln!(stdin, "over TLS").unwrap();
        }
        if line.contains("↓ TEXT") {
            writeln!(stdin, "/close").unwrap();
        }
        lines.push(line);
    }
    let status = child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = lines.join("\n");
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("Host: localhost:{port}")), "{text}");
    assert!(
        text.contains("↑ TEXT   FIN           8 B masked   \"over TLS\""),
        "{text}"
    );
    assert!(
        text.contains("↓ TEXT   FIN           8 B unmasked \"over TLS\""),
        "{text}"
    );
    assert!(text.contains("· closed cleanly, code 1000"), "{text}");
}

#[test]
fn wss_with_an_untrusted_certificate_fails_to_connect() {
    let (port, _) = tls_echo_server();
    let out = Command::new(WSM)
        .args(["connect", &format!("wss://localhost:{port}/")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("TLS: invalid peer certificate"), "{text}");
}
