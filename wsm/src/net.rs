//! The transport under the engine: a TCP stream, with TLS (rustls, itself Sans-IO) for
//! `wss://`. A reader thread reads the socket and hands the bytes to the session's channel;
//! the session thread decrypts, writes and drives the engine.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread;

/// What the session waits for: bytes from the peer, the end of them, a line typed.
pub enum Input {
    Net(Vec<u8>),
    NetEnd,
    Line(String),
    StdinEnd,
}

/// A `ws://` or `wss://` URL.
#[derive(Debug, PartialEq, Eq)]
pub struct Url {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("ws://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("wss://") {
            (true, rest)
        } else {
            return Err(format!("{url}: not a ws:// or wss:// URL"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let path = match path.find('#') {
            Some(i) => path[..i].to_string(),
            None => path,
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{url}: unclosed [ in the host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| format!("{url}: bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(format!("{url}: bad host")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| format!("{url}: bad port"))?,
                ),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(Self {
            tls,
            host,
            port,
            path,
        })
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.tls { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// The socket's write side, with TLS in between when there is some.
pub struct Transport {
    tcp: TcpStream,
    tls: Option<rustls::ClientConnection>,
}

impl Transport {
    pub fn plain(tcp: TcpStream) -> Self {
        Self { tcp, tls: None }
    }

    /// A TLS client for `host`, trusting the webpki roots and the certificates in `ca`.
    pub fn tls(tcp: TcpStream, host: &str, ca: Option<&str>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca {
            use rustls::pki_types::pem::PemObject;
            use rustls::pki_types::CertificateDer;
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("--ca {path}: {e}"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--ca {path}: {e}"))?;
            if certs.is_empty() {
                return Err(format!("--ca {path}: no certificate in it"));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| format!("--ca {path}: {e}"))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| format!("{host}: {e}"))?;
        let conn =
            rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
        Ok(Self {
            tcp,
            tls: Some(conn),
        })
    }

    /// Starts the thread that reads the socket into `tx`.
    pub fn spawn_reader(&self, tx: Sender<Input>) -> io::Result<()> {
        let mut tcp = self.tcp.try_clone()?;
        thread::Builder::new()
            .name("wsm socket reader".into())
            .spawn(move || {
                let mut buf = vec![0; 64 << 10];
                loop {
                    match tcp.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(Input::Net(buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(Input::NetEnd);
            })?;
        Ok(())
    }

    /// Bytes read from the socket: the plaintext they carry is appended to `plain`. `Ok(true)`
    /// when TLS says the peer is done (close_notify).
    pub fn incoming(&mut self, raw: &[u8], plain: &mut Vec<u8>) -> Result<bool, String> {
        let Some(tls) = self.tls.as_mut() else {
            plain.extend_from_slice(raw);
            return Ok(false);
        };
        let mut rest = raw;
        let mut done = false;
        while !rest.is_empty() {
            tls.read_tls(&mut rest).map_err(|e| e.to_string())?;
            let state = tls.process_new_packets().map_err(|e| format!("TLS: {e}"))?;
            let n = state.plaintext_bytes_to_read();
            if n > 0 {
                let at = plain.len();
                plain.resize(at + n, 0);
                tls.reader()
                    .read_exact(&mut plain[at..])
                    .map_err(|e| e.to_string())?;
            }
            done |= state.peer_has_closed();
        }
        self.flush_tls().map_err(|e| e.to_string())?;
        Ok(done)
    }

    /// Writes all of `data` (the engine's output).
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        match self.tls.as_mut() {
            None => self.tcp.write_all(data),
            Some(tls) => {
                tls.writer().write_all(data)?;
                self.flush_tls()
            }
        }
    }

    fn flush_tls(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_mut() {
            while tls.wants_write() {
                tls.write_tls(&mut self.tcp)?;
            }
        }
        Ok(())
    }

    /// Ends the transport: TLS close_notify, then FIN.
    pub fn shutdown(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
            let _ = self.flush_tls();
        }
        let _ = self.tcp.shutdown(Shutdown::Write);
    }
}

#[cfg(test)]
mod tests {
    use super::Url;

    #[test]
    fn urls() {
        let u = Url::parse("ws://127.0.0.1:9001/chat?x=1#frag").unwrap();
        assert_eq!(
            u,
            Url {
                tls: false,
                host: "127.0.0.1".into(),
                port: 9001,
                path: "/chat?x=1".into()
            }
        );
        assert_eq!(u.host_header(), "127.0.0.1:9001");
        let u = Url::parse("wss://example.com").unwrap();
        assert_eq!((u.port, u.path.as_str()), (443, "/"));
        assert_eq!(u.host_header(), "example.com");
        let u = Url::parse("ws://[::1]:8080?q").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8080, "/?q")
        );
        assert_eq!(u.host_header(), "[::1]:8080");
        assert!(Url::parse("http://x/").is_err());
        assert!(Url::parse("ws://:80/").is_err());
        assert!(Url::parse("ws://h:port/").is_err());
    }
}
