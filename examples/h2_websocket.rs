//! WebSocket over HTTP/2 (RFC 8441, extended CONNECT) with the `h2` crate: the handshake is
//! h2's and `wsmachine::handshake::http`'s, the frames are the engine's, carried as the DATA
//! of one HTTP/2 stream. Both roles, over HTTP/2 without TLS (prior knowledge, "h2c"):
//!
//! ```text
//! cargo run --features http --example h2_websocket -- server 127.0.0.1:9002
//! cargo run --features http --example h2_websocket -- client 127.0.0.1:9002 hello world
//! ```
//!
//! The server enables extended CONNECT (`SETTINGS_ENABLE_CONNECT_PROTOCOL`), answers a
//! `CONNECT` with `:protocol = websocket` on `/echo` with 200 and echoes the messages; the
//! client waits for that setting, sends the CONNECT and each argument as a text message,
//! prints the echoes and closes. (The text `close` makes the server close first.) permessage-deflate is negotiated as over HTTP/1.1.

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use std::error::Error as StdError;
use std::sync::mpsc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use wsmachine::deflate::DeflateConfig;
use wsmachine::handshake::http::{
    client_finish, client_request_extended_connect, server_response_extended_connect,
};
use wsmachine::{ClientConfig, CloseCode, Connection, Event, ServerConfig};

/// Errors of the example: h2's, the handshake's, I/O.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Output waiting for the peer's flow-control window past which a stream stops reading.
const READ_HIGH_WATER: usize = 1 << 20;

/// The path the server accepts WebSockets on.
pub const PATH: &str = "/echo";

/// One WebSocket on one HTTP/2 stream: the engine, the stream's two halves and the clock
/// the engine's timers are measured on.
pub struct Stream {
    pub conn: Connection,
    send: SendStream<Bytes>,
    recv: RecvStream,
    origin: std::time::Instant,
    ended: bool,
}

impl Stream {
    pub fn new(conn: Connection, send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            conn,
            send,
            recv,
            origin: std::time::Instant::now(),
            ended: false,
        }
    }

    /// Writes what the engine queued as DATA, as much as the peer's flow-control window
    /// takes now: the rest waits in the engine (its `buffered_amount`, bounded by
    /// `Options::max_output_buffer`) until `next_event` sees more capacity, so a peer that
    /// stops reading holds back the sender instead of growing h2's queue. Once the engine is
    /// closed and everything is out, ends the stream (END_STREAM is the transport's end, as
    /// closing the TCP connection is over HTTP/1.1: RFC 8441 §5).
    fn flush(&mut self) -> Result<(), h2::Error> {
        loop {
            let pending = self.conn.pending_output();
            if pending.is_empty() {
                break;
            }
            self.send.reserve_capacity(self.conn.buffered_amount());
            let n = self.send.capacity().min(pending.len());
            if n == 0 {
                break;
            }
            let chunk = Bytes::copy_from_slice(&pending[..n]);
            self.send.send_data(chunk, false)?;
            self.conn.consume_output(n);
        }
        if self.conn.is_closed() && !self.ended && self.conn.buffered_amount() == 0 {
            self.ended = true;
            // The peer may have reset the stream already: nothing is lost then.
            let _ = self.send.send_data(Bytes::new(), true);
        }
        Ok(())
    }

    /// Resolves when the peer's window grants `send` more capacity (or the stream is gone).
    async fn capacity(send: &mut SendStream<Bytes>) -> Result<(), h2::Error> {
        match std::future::poll_fn(|cx| send.poll_capacity(cx)).await {
            Some(Err(e)) => Err(e),
            // More room, or none will ever come (the stream is closed): either way the
            // caller flushes again, and a closed stream fails `send_data`.
            Some(Ok(_)) | None => Ok(()),
        }
    }

    /// Waits (a second at most) for the peer's END_STREAM: a stream dropped while still
    /// open is reset (RST_STREAM), which the peer would see as a failure.
    async fn await_peer_end(&mut self) {
        let drain = async {
            while let Some(Ok(data)) = self.recv.data().await {
                let _ = self.recv.flow_control().release_capacity(data.len());
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }

    /// The next event, reading DATA (or the engine's timers) until there is one; `None`
    /// once the connection is closed and the stream ended.
    pub async fn next_event(&mut self) -> Result<Option<Event>, h2::Error> {
        loop {
            let event = self.conn.poll_event();
            self.flush()?;
            if event.is_some() {
                return Ok(event);
            }
            if self.ended {
                self.await_peer_end().await;
                return Ok(None);
            }
            let deadline = self.conn.poll_timeout().map(|t| {
                tokio::time::Instant::from_std(self.origin + Duration::from_millis(t.as_millis()))
            });
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let waiting = self.conn.buffered_amount() > 0;
            // A peer that does not read our output is not read from either, past a point:
            // its DATA then waits in its own flow-control window, not in our memory.
            let reading = self.conn.buffered_amount() < READ_HIGH_WATER;
            tokio::select! {
                room = Self::capacity(&mut self.send), if waiting => room?,
                data = self.recv.data(), if reading => match data {
                    Some(Ok(data)) => {
                        // Give the window back at once: the engine holds what it needs.
                        let _ = self.recv.flow_control().release_capacity(data.len());
                        self.conn.receive(&data);
                    }
                    // END_STREAM, or the stream was reset.
                    _ => self.conn.receive_eof(),
                },
                () = timer => {
                    let now = wsmachine::Instant::from_duration(self.origin.elapsed());
                    self.conn.handle_timeout(now);
                }
            }
        }
    }
}

/// What the server saw of one request, for the caller to check (the tests) or print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub version: http::Version,
    pub method: String,
    /// The `:protocol` pseudo-header.
    pub protocol: Option<String>,
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// The extensions agreed on, when accepted.
    pub extensions: String,
    /// The messages echoed.
    pub echoed: usize,
}

/// The server's WebSocket configuration: permessage-deflate, and the `chat` subprotocol
/// when offered.
pub fn server_config() -> ServerConfig {
    ServerConfig::new()
        .subprotocol("chat")
        .deflate(DeflateConfig::new())
}

/// Serves one HTTP/2 connection: WebSocket extended CONNECTs on [`PATH`] are echoed, a `GET /`
/// gets `page` (when there is one) and everything else a 404. Each request is reported to
/// `seen` when it is over.
pub async fn serve_connection<T>(
    io: T,
    page: Option<&'static str>,
    seen: mpsc::Sender<Seen>,
) -> Result<(), BoxError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut h2 = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake::<_, Bytes>(io)
        .await?;
    // Polling `accept` drives the whole connection; each request runs in its own task.
    while let Some(accepted) = h2.accept().await {
        let (request, respond) = accepted?;
        let seen = seen.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_request(request, respond, page, seen).await {
                eprintln!("request failed: {e}");
            }
        });
    }
    Ok(())
}

async fn serve_request(
    request: http::Request<RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    page: Option<&'static str>,
    seen: mpsc::Sender<Seen>,
) -> Result<(), BoxError> {
    let protocol = request
        .extensions()
        .get::<h2::ext::Protocol>()
        .map(|p| p.as_str().to_owned());
    let mut record = Seen {
        version: request.version(),
        method: request.method().to_string(),
        protocol: protocol.clone(),
        path: request.uri().path().to_owned(),
        status: 404,
        extensions: String::new(),
        echoed: 0,
    };
    let is_connect = request.method() == http::Method::CONNECT;
    if is_connect && record.path == PATH {
        match server_response_extended_connect(&request, protocol.as_deref(), &server_config()) {
            Ok((response, upgraded)) => {
                record.status = response.status().as_u16();
                let send = respond.send_response(response, false)?;
                let conn = Connection::from_upgraded(upgraded)?;
                record.extensions = conn.extensions().to_owned();
                let mut stream = Stream::new(conn, send, request.into_body());
                while let Some(event) = stream.next_event().await? {
                    match event {
                        Event::Text(t) => {
                            stream.conn.send_text(t.as_str())?;
                            record.echoed += 1;
                            if t.as_str() == "close" {
                                stream.conn.close(CloseCode::GOING_AWAY, "asked to")?;
                            }
                        }
                        Event::Binary(b) => {
                            stream.conn.send_binary(&b)?;
                            record.echoed += 1;
                        }
                        _ => {}
                    }
                }
            }
            Err(refusal) => {
                record.status = refusal.status().as_u16();
                respond.send_response(refusal, true)?;
            }
        }
    } else if request.method() == http::Method::GET && record.path == "/" && page.is_some() {
        record.status = 200;
        let response = http::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(())?;
        let mut send = respond.send_response(response, false)?;
        send.send_data(
            Bytes::from_static(page.unwrap_or_default().as_bytes()),
            true,
        )?;
    } else {
        let response = http::Response::builder().status(404).body(())?;
        respond.send_response(response, true)?;
    }
    let _ = seen.send(record);
    Ok(())
}

/// A client's HTTP/2 connection: the request sender, once the server's SETTINGS arrived.
pub struct Client {
    requests: h2::client::SendRequest<Bytes>,
}

impl Client {
    /// Starts HTTP/2 on `io` (the connection is driven by a task of its own) and waits for
    /// the server's SETTINGS: extended CONNECT may only be sent once the server enabled it
    /// (RFC 8441 §3). A PING answered means the SETTINGS sent before the PONG were read.
    pub async fn handshake<T>(io: T) -> Result<Self, BoxError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (requests, mut connection) = h2::client::handshake(io).await?;
        let mut ping = connection.ping_pong().ok_or("no ping handle")?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("HTTP/2 connection failed: {e}");
            }
        });
        ping.ping(h2::Ping::opaque()).await?;
        let requests = requests.ready().await?;
        Ok(Self { requests })
    }

    /// h2's request sender, for requests of the caller's own.
    pub fn raw(&mut self) -> &mut h2::client::SendRequest<Bytes> {
        &mut self.requests
    }

    /// Whether the server enabled extended CONNECT.
    pub fn extended_connect_enabled(&self) -> bool {
        self.requests.is_extended_connect_protocol_enabled()
    }

    /// Opens a WebSocket on a new stream: `CONNECT` with `:protocol = websocket`, checked
    /// with the offer made of `config`. A refusal is the handshake's error
    /// ([`wsmachine::HandshakeError::UnexpectedStatus`]).
    pub async fn open(&mut self, config: ClientConfig) -> Result<Stream, BoxError> {
        if !self.extended_connect_enabled() {
            return Err("the server did not enable extended CONNECT".into());
        }
        let (mut request, offer) = client_request_extended_connect(config, "http")?;
        request
            .extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        let mut requests = self.requests.clone().ready().await?;
        let (response, send) = requests.send_request(request, false)?;
        let response = response.await?;
        let upgraded = client_finish(offer, &response)?;
        let conn = Connection::from_upgraded(upgraded)?;
        Ok(Stream::new(conn, send, response.into_body()))
    }
}

/// The client's configuration for `authority` (`host:port`): `/echo`, permessage-deflate.
pub fn client_config(authority: &str) -> ClientConfig {
    ClientConfig::new(authority, PATH)
        .subprotocol("chat")
        .deflate(DeflateConfig::new())
}

pub async fn run_server(addr: &str) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let (seen, log) = mpsc::channel();
    std::thread::spawn(move || {
        for s in log {
            println!("{s:?}");
        }
    });
    loop {
        let (tcp, _) = listener.accept().await?;
        let seen = seen.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(tcp, None, seen).await {
                eprintln!("connection failed: {e}");
            }
        });
    }
}

pub async fn run_client(addr: &str, messages: &[String]) -> Result<(), BoxError> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut client = Client::handshake(tcp).await?;
    let mut ws = client.open(client_config(addr)).await?;
    for m in messages {
        ws.conn.send_text(m)?;
    }
    let mut echoed = 0;
    if messages.is_empty() {
        ws.conn.close(CloseCode::NORMAL, "done")?;
    }
    while let Some(event) = ws.next_event().await? {
        match event {
            Event::Open { extensions, .. } => {
                println!("open over HTTP/2, extensions: {extensions:?}")
            }
            Event::Text(t) => {
                println!("echo: {}", t.as_str());
                echoed += 1;
                if echoed == messages.len() {
                    ws.conn.close(CloseCode::NORMAL, "done")?;
                }
            }
            Event::Closed { clean, code, .. } => println!("closed: clean {clean}, code {code:?}"),
            _ => {}
        }
    }
    Ok(())
}

pub fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("server") => runtime.block_on(run_server(args.get(1).map_or("127.0.0.1:9002", |a| a))),
        Some("client") => {
            let addr = args.get(1).map_or("127.0.0.1:9002", |a| a.as_str());
            runtime.block_on(run_client(addr, args.get(2..).unwrap_or_default()))
        }
        _ => Err("usage: h2_websocket server [ADDR] | client [ADDR] [MESSAGE...]".into()),
    }
}
