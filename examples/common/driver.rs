//! One [`Connection`] over one blocking [`TcpStream`]: reads feed the engine, pending output
//! is written out (partial writes included), and the engine's timers are driven by the read
//! timeout and a monotonic [`Clock`]. The application only sees events.

use super::clock::Clock;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant as StdInstant};
use wsmachine::{Connection, Event};

/// How much is read from the socket at once, at least: the socket reads straight into the
/// engine's buffer, which offers more while a large frame arrives.
const READ_CHUNK: usize = 16 << 10;

/// The default time allowed for writing out everything pending at once: a peer that does
/// not take it within this is given up on (a blocked write never ends otherwise, and the
/// engine's timers only run between reads). A deadline, not a per-write timeout: a peer
/// that reads a trickle must not hold the connection's thread forever.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection and its transport.
pub struct Driver {
    stream: TcpStream,
    conn: Connection,
    clock: Clock,
    eof: bool,
    write_timeout: Duration,
    /// A write failed or missed its deadline: the transport is unusable.
    broken: bool,
    /// When `Event::Open` came out, for the frame trace's times.
    opened: Option<StdInstant>,
}

impl Driver {
    /// Drives `conn` over `stream`. Small frames go out at once (`TCP_NODELAY`): the engine
    /// already writes each frame's header and payload in one buffer.
    pub fn new(stream: TcpStream, conn: Connection) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            conn,
            clock: Clock::new(),
            eof: false,
            write_timeout: WRITE_TIMEOUT,
            broken: false,
            opened: None,
        })
    }

    /// Replaces [`WRITE_TIMEOUT`], the deadline for writing out what is pending.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The connection, for commands (`send_text`, `close`, ...) between events.
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The next event, reading, writing and firing timers as needed. `Ok(None)` once the
    /// connection is closed and every event was handed out (`Event::Closed` is the last);
    /// an `Err` is a failed write: the transport is unusable.
    ///
    /// The engine decodes frames as events are polled, so what the application sends while
    /// handling an event is queued before the engine's answers to later frames (the echo of
    /// a message goes out before the answer to a close frame that followed it).
    pub fn next_event(&mut self) -> io::Result<Option<Event>> {
        self.next_event_until(None)
    }

    /// [`Driver::next_event`], also `Ok(None)` once `deadline` passes with no event: for a
    /// caller that must not wait on a silent peer forever (the tests' client).
    pub fn next_event_before(&mut self, deadline: StdInstant) -> io::Result<Option<Event>> {
        self.next_event_until(Some(deadline))
    }

    fn next_event_until(&mut self, deadline: Option<StdInstant>) -> io::Result<Option<Event>> {
        loop {
            // What the application sent since the last event, then what this one brings.
            self.print_frames();
            if let Some(event) = self.conn.poll_event() {
                if matches!(event, Event::Open { .. }) {
                    self.opened = Some(StdInstant::now());
                }
                self.print_frames();
                return Ok(Some(event));
            }
            // Every event is out: write what they and the application produced, then wait.
            self.flush()?;
            if self.conn.is_closed() {
                return Ok(None);
            }
            let left = match deadline {
                Some(deadline) => match deadline.saturating_duration_since(StdInstant::now()) {
                    left if left.is_zero() => return Ok(None),
                    left => Some(left),
                },
                None => None,
            };
            self.read_or_wait(left)?;
        }
    }

    /// With `Options::trace_frames` on, one line per frame recorded since the last call, on
    /// stderr (the echo server's `--trace`); with it off there is never one.
    fn print_frames(&mut self) {
        while let Some(frame) = self.conn.poll_frame() {
            let since = self.opened.map_or(Duration::ZERO, |t| t.elapsed());
            let peer = self
                .stream
                .peer_addr()
                .map_or("?".into(), |a| a.to_string());
            eprintln!("{peer} {}", super::trace::frame_line(since, &frame));
        }
    }

    /// Writes all pending output, resuming after partial writes, within the write timeout
    /// for the whole of it; past that (or on any failure) the transport is given up.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.conn.pending_output().is_empty() {
            return Ok(());
        }
        if self.broken {
            return Err(ErrorKind::BrokenPipe.into());
        }
        let deadline = StdInstant::now() + self.write_timeout;
        let result = self.write_until(deadline);
        self.broken = result.is_err();
        result
    }

    fn write_until(&mut self, deadline: StdInstant) -> io::Result<()> {
        while !self.conn.pending_output().is_empty() {
            let left = deadline.saturating_duration_since(StdInstant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            // `set_write_timeout` refuses zero; less than 1 ms left waits 1 ms.
            self.stream
                .set_write_timeout(Some(left.max(Duration::from_millis(1))))?;
            match self.stream.write(self.conn.pending_output()) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.conn.consume_output(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Fires due timers, or blocks in `read` until input arrives, the next timer is due or
    /// `at_most` has passed.
    fn read_or_wait(&mut self, at_most: Option<Duration>) -> io::Result<()> {
        let now = self.clock.now();
        let timer = match self.conn.poll_timeout() {
            Some(deadline) if deadline <= now => {
                self.conn.handle_timeout(now);
                return Ok(());
            }
            Some(deadline) => Some(deadline.saturating_duration_since(now)),
            None => None,
        };
        // `set_read_timeout` refuses zero; a deadline less than 1 ms away waits 1 ms.
        let timeout = match (timer, at_most) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|t| t.max(Duration::from_millis(1)));
        self.stream.set_read_timeout(timeout)?;
        match self.stream.read(self.conn.receive_buffer(READ_CHUNK)) {
            Ok(0) => {
                self.eof = true;
                self.conn.receive_eof();
            }
            Ok(n) => self.conn.commit_received(n).map_err(io::Error::other)?,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.conn.handle_timeout(self.clock.now());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                // A reset or another read failure ends the transport like EOF does; the
                // engine reports it as an abnormal closure (1006).
                self.eof = true;
                self.conn.receive_eof();
            }
        }
        Ok(())
    }

    /// Ends the transport after `Event::Closed`: writes what is left of the output, sends
    /// FIN, and reads until the peer's EOF (for at most `linger`) so that unread input does
    /// not make the kernel answer with a reset that could destroy our close frame in flight.
    /// A transport whose writes failed is dropped at once: lingering would hold it longer.
    pub fn finish(mut self, linger: Duration) {
        self.print_frames();
        if self.flush().is_err() {
            return;
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        let until = StdInstant::now() + linger;
        let mut discard = [0; 4096];
        while !self.eof {
            let left = until.saturating_duration_since(StdInstant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.stream.read(&mut discard) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}
