//! The connection's timers. The engine never reads a clock: a timer that must start "now"
//! waits in `Starting` until the next [`Connection::handle_timeout`](super::Connection::handle_timeout)
//! tells the time, and `poll_timeout` asks for that call at once.

use crate::time::Instant;
use core::time::Duration;

/// One timer in one word (every connection holds four): `OFF`, a duration waiting for the
/// next time the caller tells us (`STARTING` set, milliseconds below it), or a deadline
/// (milliseconds + 1, so that 0 stays `OFF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Timer(u64);

const OFF: u64 = 0;
const STARTING: u64 = 1 << 63;
/// The longest duration or latest deadline a timer holds (about 292 million years).
const MAX_MS: u64 = STARTING - 2;

impl Timer {
    pub(crate) fn start(&mut self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX).min(MAX_MS);
        self.0 = STARTING | ms;
    }

    pub(crate) fn stop(&mut self) {
        self.0 = OFF;
    }

    pub(crate) fn is_on(&self) -> bool {
        self.0 != OFF
    }

    /// Turns a waiting duration into a deadline counted from `now`.
    pub(crate) fn anchor(&mut self, now: Instant) {
        if self.0 & STARTING != 0 {
            let ms = self.0 & !STARTING;
            self.0 = now.as_millis().saturating_add(ms).min(MAX_MS) + 1;
        }
    }

    /// Whether the timer fires at `now` (it is then stopped).
    pub(crate) fn expired(&mut self, now: Instant) -> bool {
        match self.at() {
            Some(t) if t <= now => {
                self.0 = OFF;
                true
            }
            _ => false,
        }
    }

    /// The deadline, once anchored.
    fn at(&self) -> Option<Instant> {
        (self.0 != OFF && self.0 & STARTING == 0).then(|| Instant::from_millis(self.0 - 1))
    }

    /// When the caller should next call `handle_timeout`, given the last time it told us.
    pub(crate) fn deadline(&self, last_now: Instant) -> Option<Instant> {
        if self.0 & STARTING != 0 {
            return Some(last_now);
        }
        self.at()
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Timers {
    /// The opening handshake must finish before this fires.
    pub(crate) handshake: Timer,
    /// Ping when the peer has been quiet this long.
    pub(crate) keepalive: Timer,
    /// The pong we wait for after a keepalive ping.
    pub(crate) pong: Timer,
    /// The peer's close frame (or, for a client, the end of the transport).
    pub(crate) close: Timer,
}

impl Timers {
    pub(crate) fn anchor(&mut self, now: Instant) {
        self.handshake.anchor(now);
        self.keepalive.anchor(now);
        self.pong.anchor(now);
        self.close.anchor(now);
    }

    pub(crate) fn next_deadline(&self, last_now: Instant) -> Option<Instant> {
        [&self.handshake, &self.keepalive, &self.pong, &self.close]
            .iter()
            .filter_map(|t| t.deadline(last_now))
            .min()
    }

    pub(crate) fn stop_all(&mut self) {
        *self = Self::default();
    }
}
