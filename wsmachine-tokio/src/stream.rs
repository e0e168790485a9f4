//! [`WebSocketStream`]: one engine [`Connection`] over one tokio transport. It owns the
//! transport, the engine, the engine's clock and the one timer that wakes the task for the
//! engine's next deadline; the driving order is the engine's (events, then output, then
//! timers, then input).

use crate::clock::Clock;
use crate::error::Error;
use crate::message::{CloseFrame, Message};
use futures_core::Stream;
use futures_sink::Sink;
use futures_util::stream::{SplitSink, SplitStream, StreamExt};
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;
use tokio_util::io::poll_read_buf;
use wsmachine::{CloseCode, Connection, Event, Failure, State};

/// How much is read from the transport at once.
const READ_CHUNK: usize = 64 << 10;
/// The most output chunks one vectored write takes (a queued message is two: its header
/// and its payload).
const WRITE_CHUNKS: usize = 8;

/// How the stream treats its transport (the protocol's settings are the engine's
/// configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// [`Sink::poll_ready`] waits while more than this many bytes wait for the transport
    /// (default 128 KiB). One message is always accepted when below it, whatever its size.
    pub high_water_mark: usize,
    /// How long a closed connection waits to write its last bytes (the close frame) to a
    /// peer that does not read, before it gives them up and ends (default 2 s).
    pub linger: Duration,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            high_water_mark: 128 << 10,
            linger: Duration::from_secs(2),
        }
    }
}

impl StreamConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`high_water_mark`](Self::high_water_mark).
    pub fn high_water_mark(mut self, bytes: usize) -> Self {
        self.high_water_mark = bytes;
        self
    }

    /// Sets [`linger`](Self::linger).
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }
}

/// A WebSocket over the transport `S`: a [`Stream`] of received [`Message`]s and a [`Sink`]
/// of messages to send.
///
/// Polling the stream does all the connection's work: it writes what is queued (answers to
/// pings and close frames included), fires the engine's timers and reads. Keep polling it
/// until it ends (`None`), which happens once the closing handshake is over (or failed) and
/// the transport is shut down.
pub struct WebSocketStream<S> {
    io: S,
    conn: Connection,
    clock: Clock,
    config: StreamConfig,
    /// The wake-up for the engine's next deadline, made when there first is one.
    timer: Option<Pin<Box<Sleep>>>,
    /// When a closed connection gives up writing its last bytes.
    linger_until: Option<tokio::time::Instant>,
    /// The transport's read side ended (or failed).
    read_eof: bool,
    /// A read error, reported in place of the engine's "transport ended" failure.
    read_error: Option<io::Error>,
    /// The transport was shut down after the connection closed.
    shut_down: bool,
    /// How the connection ended, once it has.
    close_status: Option<(bool, CloseFrame)>,
}

impl<S> std::fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("conn", &self.conn)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Drives `conn`, in any state, over `io`.
    pub fn new(io: S, conn: Connection) -> Self {
        Self {
            io,
            conn,
            clock: Clock::new(),
            config: StreamConfig::default(),
            timer: None,
            linger_until: None,
            read_eof: false,
            read_error: None,
            shut_down: false,
            close_status: None,
        }
    }

    /// The same stream with `config`.
    pub fn with_config(mut self, config: StreamConfig) -> Self {
        self.config = config;
        self
    }

    /// The engine, for its getters (`state`, `subprotocol`, `extensions`,
    /// `buffered_amount`).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The engine, for commands this type has no method for (fragments, say). Sends made
    /// here go out the next time the stream or the sink is polled.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// How the connection ended, once it has: whether the closing handshake completed (the
    /// browser's `wasClean`), and the code and reason.
    pub fn close_status(&self) -> Option<(bool, &CloseFrame)> {
        self.close_status
            .as_ref()
            .map(|(clean, frame)| (*clean, frame))
    }

    /// Splits the stream into a write half and a read half, each usable from its own task.
    /// The halves share the connection through `futures`' two-party lock: taking it is one
    /// atomic swap, never a system mutex, and neither half waits on the other across an
    /// await point. As with every `futures` split, the write half holds the last message
    /// given to `feed`/`start_send` until its next `send`, `flush` or `poll_ready`: use
    /// `send` (or flush) on it. Polling the read half writes whatever the engine has queued.
    pub fn split(self) -> (SplitSink<Self, Message>, SplitStream<Self>) {
        StreamExt::split(self)
    }

    /// Closes with `code` and `reason` and waits for the closing handshake, discarding
    /// messages that arrive meanwhile. It cannot hang: the engine's close timeout (5 s by
    /// default) ends it. `Ok` when the handshake completed, else why it did not.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if matches!(self.conn.state(), State::Open | State::Connecting) {
            self.conn.close(code, reason)?;
        }
        let mut failure = None;
        while let Some(item) = poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await {
            if let Err(e) = item {
                failure = Some(e);
            }
        }
        match (failure, self.close_status.as_ref()) {
            (Some(e), _) => Err(e),
            (None, Some((true, _))) => Ok(()),
            (None, _) => Err(Error::Failed(Failure::Eof)),
        }
    }

    /// The next event of the engine, doing whatever I/O it takes; `None` once the
    /// connection is closed, its output written and the transport shut down.
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if let Some(event) = self.conn.poll_event() {
                return Poll::Ready(Ok(Some(event)));
            }
            // Every event is out: write what they and the application queued.
            if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                if !self.conn.is_closed() {
                    return Poll::Ready(Err(Error::Io(e)));
                }
                self.conn.take_output();
            }
            if self.conn.is_closed() {
                if !self.conn.pending_output().is_empty() && !self.poll_linger_over(cx) {
                    return Poll::Pending;
                }
                if !self.shut_down {
                    // Best effort: the peer may be gone already.
                    let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                    self.shut_down = true;
                }
                return Poll::Ready(Ok(None));
            }
            if self.poll_timer(cx) {
                continue;
            }
            if self.read_eof {
                return Poll::Pending;
            }
            let read = self.read_in_place(cx);
            match read {
                Poll::Ready(Ok(0)) => {
                    self.read_eof = true;
                    self.conn.receive_eof();
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => {
                    self.read_eof = true;
                    self.read_error = Some(e);
                    self.conn.receive_eof();
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads straight into the engine's input buffer (its spare capacity, not zeroed first);
    /// the count of bytes received.
    fn read_in_place(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut room = self.conn.receive_room(READ_CHUNK);
        let read = poll_read_buf(Pin::new(&mut self.io), cx, &mut room);
        // Given back in every case: what was read, or nothing (which frees an idle buffer).
        self.conn.commit_room(room);
        read
    }

    /// Writes queued output until none is left or the transport would block.
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.conn.pending_output().is_empty() {
            let n = if self.io.is_write_vectored() {
                // A queued message goes out with its header in one write, uncopied.
                let mut slices = [IoSlice::new(&[]); WRITE_CHUNKS];
                for (slice, chunk) in slices.iter_mut().zip(self.conn.pending_output_chunks()) {
                    *slice = IoSlice::new(chunk);
                }
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices))?
            } else {
                ready!(Pin::new(&mut self.io).poll_write(cx, self.conn.pending_output()))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.consume_output(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Whether a closed connection has waited long enough for its last bytes to be written;
    /// then they are dropped. Arms the wake-up otherwise.
    fn poll_linger_over(&mut self, cx: &mut Context<'_>) -> bool {
        let until = *self
            .linger_until
            .get_or_insert_with(|| tokio::time::Instant::now() + self.config.linger);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
        if timer.deadline() != until {
            timer.as_mut().reset(until);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.conn.take_output();
        true
    }

    /// Fires the engine's timers when their deadline has come, else arms the wake-up for it.
    /// Whether a timer fired.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.conn.poll_timeout() else {
            return false;
        };
        let now = self.clock.now();
        if deadline > now {
            let at = self.clock.to_tokio(deadline);
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            if timer.deadline() != at {
                timer.as_mut().reset(at);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
        self.conn.handle_timeout(self.clock.now().max(deadline));
        true
    }

    /// The error to report for an engine failure.
    fn failure(&mut self, failure: Failure) -> Error {
        match (failure, self.read_error.take()) {
            (Failure::Eof, Some(e)) => Error::Io(e),
            (failure, _) => Error::Failed(failure),
        }
    }
}

use std::future::Future;

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let event = match ready!(this.poll_event(cx)) {
                Ok(Some(event)) => event,
                Ok(None) => return Poll::Ready(None),
                Err(e) => return Poll::Ready(Some(Err(e))),
            };
            let message = match event {
                Event::Text(text) => Message::Text(text),
                Event::Binary(data) => Message::Binary(data),
                Event::Fragment { kind, data, fin } => Message::Fragment { kind, data, fin },
                Event::Ping(data) => Message::Ping(data),
                Event::Pong(data) => Message::Pong(data),
                Event::Close { code, reason } => Message::Close(Some(CloseFrame {
                    code: code.unwrap_or(CloseCode::NO_STATUS),
                    reason,
                })),
                Event::Error(failure) => return Poll::Ready(Some(Err(this.failure(failure)))),
                Event::Closed {
                    clean,
                    code,
                    reason,
                } => {
                    this.close_status = Some((clean, CloseFrame { code, reason }));
                    continue;
                }
                // Open, Request: the handshake's, handled before the stream is handed out.
                _ => continue,
            };
            return Poll::Ready(Some(Ok(message)));
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = &mut *self;
        if this.conn.is_closed() || this.conn.state() == State::Closing {
            return Poll::Ready(Err(Error::Closed));
        }
        if this.conn.buffered_amount() < this.config.high_water_mark {
            return Poll::Ready(Ok(()));
        }
        match this.poll_write_out(cx) {
            Poll::Ready(result) => Poll::Ready(result.map_err(Error::Io)),
            Poll::Pending if this.conn.buffered_amount() < this.config.high_water_mark => {
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        let conn = &mut self.conn;
        match message {
            Message::Text(text) => conn.send_text_bytes(text)?,
            Message::Binary(data) => conn.send_binary_bytes(data)?,
            Message::Fragment { kind, data, fin } => conn.send_fragment(kind, &data, fin)?,
            Message::Ping(data) => conn.send_ping(&data)?,
            Message::Pong(data) => conn.send_pong(&data)?,
            Message::Close(frame) => {
                let (code, reason) =
                    frame.map_or((CloseCode::NORMAL, String::new()), |f| (f.code, f.reason));
                conn.close(code, &reason)?
            }
        }
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = &mut *self;
        ready!(this.poll_write_out(cx))?;
        Pin::new(&mut this.io).poll_flush(cx).map_err(Error::Io)
    }

    /// Sends a close frame (code 1000) unless one was sent, and flushes it. The closing
    /// handshake completes as the stream is polled (or use [`WebSocketStream::close`]).
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = &mut *self;
        if this.conn.state() == State::Open {
            this.conn.close(CloseCode::NORMAL, "")?;
        }
        ready!(this.poll_write_out(cx))?;
        ready!(Pin::new(&mut this.io).poll_flush(cx))?;
        if this.conn.is_closed() && !this.shut_down {
            let _ = ready!(Pin::new(&mut this.io).poll_shutdown(cx));
            this.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }
}
