//! The connection's timers. The engine never reads a clock: a timer that must start "now"
//! waits in `Starting` until the next [`Connection::handle_timeout`](super::Connection::handle_timeout)
//! tells the time, and `poll_timeout` asks for that call at once.

use crate::time::Instant;
use core::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Timer {
    #[default]
    Off,
    /// Starts at the next time the caller tells us, running this many milliseconds.
    Starting(u64),
    /// Fires at this instant.
    At(Instant),
}

impl Timer {
    pub(crate) fn start(&mut self, d: Duration) {
        *self = Self::Starting(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    }

    pub(crate) fn stop(&mut self) {
        *self = Self::Off;
    }

    pub(crate) fn is_on(&self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Turns `Starting` into a deadline counted from `now`.
    pub(crate) fn anchor(&mut self, now: Instant) {
        if let Self::Starting(ms) = *self {
            *self = Self::At(Instant::from_millis(now.as_millis().saturating_add(ms)));
        }
    }

    /// Whether the timer fires at `now` (it is then stopped).
    pub(crate) fn expired(&mut self, now: Instant) -> bool {
        match *self {
            Self::At(t) if t <= now => {
                *self = Self::Off;
                true
            }
            _ => false,
        }
    }

    /// When the caller should next call `handle_timeout`, given the last time it told us.
    pub(crate) fn deadline(&self, last_now: Instant) -> Option<Instant> {
        match *self {
            Self::Off => None,
            Self::Starting(_) => Some(last_now),
            Self::At(t) => Some(t),
        }
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
