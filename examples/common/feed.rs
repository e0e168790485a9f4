//! Feeds received bytes to the engine one frame at a time, so that the application sees
//! (and can answer) the events of each frame before the next frame is fed.
//!
//! Why: `Connection::receive` answers a close frame at once, inside the call, and refuses
//! every send after that. When a data frame and a close frame arrive in the same read, an
//! echo server fed the whole read could no longer echo the data (the Autobahn TestSuite
//! case 7.1.1 sends exactly that). Splitting at frame boundaries lets the echo be queued
//! before the close frame is fed. Until the connection is open, bytes go in line by line, so
//! frames that follow the handshake head in the same read are split too.
//!
//! Payload bytes are fed as they arrive, so the engine still fails bad UTF-8 early.

use wsmachine::frame::{FrameHeader, MAX_HEADER_LEN};
use wsmachine::{Connection, State};

/// Where the byte stream stands relative to frame boundaries.
#[derive(Debug, Default)]
pub struct FrameFeeder {
    /// The bytes of a frame header seen so far (not yet given to the engine).
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
}

impl FrameFeeder {
    /// Gives `conn` a prefix of `data` that ends no later than the next frame boundary and
    /// returns its length (at least 1 when `data` is not empty). Bytes that arrive after the
    /// connection closed are dropped.
    pub fn feed(&mut self, conn: &mut Connection, data: &[u8]) -> usize {
        if data.is_empty() {
            return 0;
        }
        match conn.state() {
            State::Closed => data.len(),
            State::Connecting => {
                // The head ends with "\r\n\r\n": feeding up to each '\n' never passes its end.
                let n = data
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(data.len(), |i| i + 1);
                conn.receive(&data[..n]);
                n
            }
            State::Open | State::Closing if self.payload_left > 0 => {
                let n = usize::try_from(self.payload_left)
                    .map_or(data.len(), |left| left.min(data.len()));
                conn.receive(&data[..n]);
                self.payload_left -= n as u64;
                n
            }
            State::Open | State::Closing => self.feed_header(conn, data),
        }
    }

    fn feed_header(&mut self, conn: &mut Connection, data: &[u8]) -> usize {
        let had = self.header_len;
        let take = (MAX_HEADER_LEN - had).min(data.len());
        self.header[had..had + take].copy_from_slice(&data[..take]);
        let seen = had + take;
        match FrameHeader::parse(&self.header[..seen]) {
            Ok(Some((header, len))) => {
                conn.receive(&self.header[..len]);
                self.header_len = 0;
                self.payload_left = header.payload_len;
                // `had` bytes did not make a header, so this one ends inside `data`.
                len - had
            }
            Ok(None) => {
                self.header_len = seen;
                take
            }
            Err(_) => {
                // The engine finds the same error and fails the connection with its code.
                conn.receive(&self.header[..seen]);
                self.header_len = 0;
                take
            }
        }
    }
}
