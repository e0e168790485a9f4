//! `wss://` with tokio-rustls: a TLS echo server on 127.0.0.1 with a certificate for
//! `localhost` made at start (rcgen), and a client that trusts exactly that certificate,
//! sends a message, checks the echo and closes. One program, both ends:
//!
//! ```text
//! cargo run -p wsmachine-tokio --example tokio_wss
//! ```
//!
//! Exits 0 only if the echo came back over TLS and the closing handshake completed.

use futures_util::{SinkExt, StreamExt};
use std::error::Error;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{
    ClientConfig as TlsClientConfig, RootCertStore, ServerConfig as TlsServerConfig,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use wsmachine::{ClientConfig, CloseCode, ServerConfig};
use wsmachine_tokio::{Message, WebSocketStream};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Accepts one TLS client and echoes its messages until it closes.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor) -> Result<()> {
    let (tcp, _) = listener.accept().await?;
    let tls = acceptor.accept(tcp).await?;
    let mut ws = WebSocketStream::accept(tls, ServerConfig::new()).await?;
    while let Some(message) = ws.next().await {
        if let message @ (Message::Text(_) | Message::Binary(_)) = message? {
            ws.send(message).await?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let server_tls = TlsServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, TlsAcceptor::from(Arc::new(server_tls))));

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone())?;
    let client_tls = TlsClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await?;
    let tls = TlsConnector::from(Arc::new(client_tls))
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let host = format!("localhost:{}", addr.port());
    let mut ws = WebSocketStream::client(ClientConfig::new(host, "/"), tls).await?;
    let greeting = "Привет по TLS!";
    ws.send(Message::text(greeting)).await?;
    match ws.next().await {
        Some(Ok(Message::Text(echo))) if echo == greeting => println!("wss echo: {echo}"),
        other => return Err(format!("unexpected answer: {other:?}").into()),
    }
    ws.close(CloseCode::NORMAL, "").await?;
    server.await??;
    println!("closed cleanly over TLS");
    Ok(())
}
