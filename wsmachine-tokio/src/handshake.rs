//! Opening a [`WebSocketStream`]: the engine's handshake run over the transport, as a
//! client, as a server (answering each request as the application decides), or taken over
//! after a handshake done elsewhere.

use crate::error::Error;
use crate::stream::WebSocketStream;
use std::future::poll_fn;
use tokio::io::{AsyncRead, AsyncWrite};
use wsmachine::{ClientConfig, Connection, Event, Failure, Request, ServerConfig, Upgraded};

/// A server's answer to a handshake request (see [`WebSocketStream::accept_with`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Upgrade, with this subprotocol (one the client offered) or none.
    Accept(Option<String>),
    /// Refuse with a 4xx or 5xx status and a short text body.
    Reject(u16, String),
    /// Answer with an HTTP response instead (a page for a plain `GET`, say); no WebSocket.
    Respond {
        /// The status code.
        status: u16,
        /// The `Content-Type`.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Opens a client connection over `io` (already connected to the server) and completes
    /// the opening handshake.
    pub async fn client(config: ClientConfig, io: S) -> Result<Self, Error> {
        let conn = Connection::client(config)?;
        let mut ws = Self::new(io, conn);
        ws.handshake(|_| Answer::Reject(500, String::new())).await?;
        Ok(ws)
    }

    /// Accepts a WebSocket on `io` (a freshly accepted transport) with the engine's own
    /// negotiation (subprotocols, permessage-deflate as `config` says).
    pub async fn accept(io: S, config: ServerConfig) -> Result<Self, Error> {
        let mut ws = Self::new(io, Connection::server(config));
        ws.handshake(|_| Answer::Reject(500, String::new())).await?;
        Ok(ws)
    }

    /// Accepts a WebSocket on `io`, letting `answer` decide on the request (the engine's
    /// deferred accept): check its path,
    /// `Origin` or headers, choose a subprotocol, or answer a plain HTTP `GET` with a page.
    /// An error when the request was refused or answered without an upgrade (the answer
    /// is written first).
    pub async fn accept_with(
        io: S,
        config: ServerConfig,
        answer: impl FnOnce(&Request) -> Answer,
    ) -> Result<Self, Error> {
        let mut ws = Self::new(io, Connection::server(config.defer_accept(true)));
        ws.handshake(answer).await?;
        Ok(ws)
    }

    /// Takes over a connection upgraded elsewhere (hyper's `upgrade::on`, say): no handshake
    /// on `io`, the connection starts open.
    pub fn from_upgraded(io: S, upgraded: Upgraded) -> Result<Self, Error> {
        Ok(Self::new(io, Connection::from_upgraded(upgraded)?))
    }

    /// Runs the opening handshake until the connection is open.
    async fn handshake(&mut self, answer: impl FnOnce(&Request) -> Answer) -> Result<(), Error> {
        let mut answer = Some(answer);
        let mut failure = None;
        loop {
            match poll_fn(|cx| self.poll_event(cx)).await? {
                Some(Event::Open { .. }) => {
                    // The server's 101 goes out now: the peer waits for it.
                    return poll_fn(|cx| self.poll_write_out(cx))
                        .await
                        .map_err(Error::Io);
                }
                Some(Event::Request(request)) => {
                    let decide = answer.take().ok_or(Error::Failed(Failure::Eof))?;
                    let conn = self.connection_mut();
                    match decide(&request) {
                        Answer::Accept(subprotocol) => conn.accept(subprotocol.as_deref())?,
                        Answer::Reject(status, reason) => {
                            conn.reject(status, &reason)?;
                            failure.get_or_insert(Error::Refused(status));
                        }
                        Answer::Respond {
                            status,
                            content_type,
                            body,
                        } => {
                            conn.respond(status, &content_type, &body)?;
                            failure.get_or_insert(Error::Refused(status));
                        }
                    }
                }
                Some(Event::Error(f)) => {
                    failure.get_or_insert(Error::Failed(f));
                }
                Some(_) => {}
                None => return Err(failure.unwrap_or(Error::Failed(Failure::Eof))),
            }
        }
    }
}
