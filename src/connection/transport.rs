//! The inputs from outside the engine: bytes the transport received (copied in by
//! `receive`, or read in place through `receive_buffer` and `commit_received`), the
//! transport's end, and the time.

use super::{Connection, State};
use crate::error::{Error, HandshakeError};
use crate::time::Instant;
use bytes::BytesMut;

impl Connection {
    /// Tells the engine the time, firing whatever timers are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        if self.state() == State::Closed {
            return;
        }
        self.timers.anchor(now);
        if self.timers.next_deadline(now).is_some_and(|t| t <= now) {
            // Input that arrived before the deadline counts first (a pong, a close frame).
            self.decode_all();
        }
        if self.timers.handshake.expired(now) && self.state() == State::Connecting {
            self.fail_handshake(HandshakeError::Timeout);
        } else if self.timers.close.expired(now) {
            self.close_timed_out();
        } else if self.timers.pong.expired(now) {
            self.keepalive_failed();
        } else if self.timers.keepalive.expired(now) && self.state() == State::Open {
            self.keepalive_due(now);
        }
    }

    /// Feeds bytes read from the transport. The bytes are buffered (the opening handshake is
    /// processed at once); frames are decoded as [`poll_event`](Self::poll_event) is called,
    /// so poll events until `None` after every `receive`: that is when messages, answers to
    /// pings and closes, and state changes happen. Input after the connection closed is
    /// ignored.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.life.takes_input() {
            return;
        }
        // A borrowed event cannot outlive this call: take back what it lent.
        self.settle_lent();
        self.input.push(data, self.life.decodes_frames());
        if self.state() == State::Connecting {
            self.process_handshake();
        }
    }

    /// Room for the transport to read into, straight into the engine's input buffer: the
    /// one-copy form of [`receive`](Self::receive). Read into the slice, then call
    /// [`commit_received`](Self::commit_received) with the number of bytes read.
    ///
    /// The slice is at least `min` bytes long (at least one), and longer when the frame in
    /// progress needs it, so large frames arrive in large reads. It is initialised memory,
    /// zeroed once when the buffer grows and reused after, so any `Read` implementation can
    /// fill it. An idle connection still holds no buffer: it is taken when asked for and
    /// freed once every byte received is decoded, so ask with the size of a typical read.
    ///
    /// ```
    /// # use wsmachine::{Connection, ServerConfig};
    /// # use std::io::Read;
    /// # fn read(conn: &mut Connection, sock: &mut impl Read) -> std::io::Result<usize> {
    /// let n = sock.read(conn.receive_buffer(16 * 1024))?;
    /// if n == 0 {
    ///     conn.receive_eof();
    /// } else {
    ///     conn.commit_received(n).expect("n is at most what receive_buffer lent");
    /// }
    /// # Ok(n) }
    /// ```
    #[inline]
    pub fn receive_buffer(&mut self, min: usize) -> &mut [u8] {
        // A borrowed event cannot outlive this call: take back what it lent.
        self.settle_lent();
        self.input.offer(min)
    }

    /// The transport wrote `n` bytes at the start of the slice the last
    /// [`receive_buffer`](Self::receive_buffer) lent: they are received, as by
    /// [`receive`](Self::receive) (poll events until `None` next).
    ///
    /// Fails with [`Error::UncommittableInput`], taking nothing, when `n` is longer than
    /// that slice, or when another call on the connection came in between (it may have
    /// moved the buffer). Input after the connection closed is ignored.
    pub fn commit_received(&mut self, n: usize) -> Result<(), Error> {
        if !self.input.commit(n) {
            return Err(Error::UncommittableInput);
        }
        self.took_input();
        Ok(())
    }

    /// After bytes were read into the input buffer: dropped once the connection is closed,
    /// the opening handshake processed at once while it lasts.
    fn took_input(&mut self) {
        if !self.life.takes_input() {
            self.input.discard();
        } else if self.state() == State::Connecting {
            self.process_handshake();
        }
    }

    /// Room for the transport to read into, lent as an empty [`BytesMut`] whose spare
    /// capacity is the engine's input buffer: the one-copy receive path for readers that
    /// fill uninitialised memory through [`BufMut`](bytes::BufMut) (tokio's `read_buf`,
    /// `tokio_util::io::poll_read_buf`), so nothing is zeroed first, unlike
    /// [`receive_buffer`](Self::receive_buffer). Read into it, then give it back with
    /// [`commit_room`](Self::commit_room).
    ///
    /// Its capacity is at least `min` bytes (at least one), and more when the frame in
    /// progress needs it, as for `receive_buffer`.
    ///
    /// ```
    /// # use wsmachine::{Connection, ServerConfig};
    /// # fn read(conn: &mut Connection, sock: &mut impl std::io::Read) -> std::io::Result<()> {
    /// use bytes::BufMut;
    /// let mut room = conn.receive_room(16 * 1024);
    /// let mut chunk = [0u8; 512];
    /// let n = sock.read(&mut chunk)?;
    /// room.put_slice(&chunk[..n]); // an async reader writes straight into `room`
    /// conn.commit_room(room);
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn receive_room(&mut self, min: usize) -> BytesMut {
        // A borrowed event cannot outlive this call: take back what it lent.
        self.settle_lent();
        self.input.lend_room(min)
    }

    /// The bytes written into `room` are received, as by [`receive`](Self::receive) (poll
    /// events until `None` next). The room [`receive_room`](Self::receive_room) lent goes
    /// back without a copy; any other `BytesMut` (or that room after other calls moved the
    /// input) is copied. Giving back an empty room while no received byte waits frees the
    /// input buffer, so a connection waiting for its next read holds none. Input after the
    /// connection closed is ignored.
    pub fn commit_room(&mut self, room: BytesMut) {
        self.settle_lent();
        self.input.commit_room(room);
        self.took_input();
    }

    /// The transport ended (the peer closed or the read failed). Before the closing
    /// handshake completed this is an abnormal closure (1006, RFC 6455 §7.1.5).
    pub fn receive_eof(&mut self) {
        // Frames that arrived before the end (a close frame above all) count first.
        self.decode_all();
        match self.state() {
            State::Closed => {}
            State::Connecting => self.fail_handshake(HandshakeError::Eof),
            _ => self.transport_ended(),
        }
    }
}
