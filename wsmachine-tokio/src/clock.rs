//! The engine's time from tokio's clock: milliseconds since the stream was made. Through
//! `tokio::time`, a runtime with paused time (tests) drives the timers too.

use std::time::Duration;
use tokio::time::Instant as TokioInstant;

/// The origin of one connection's engine clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: TokioInstant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            epoch: TokioInstant::now(),
        }
    }

    /// Now, as the engine counts time.
    pub(crate) fn now(&self) -> wsmachine::Instant {
        wsmachine::Instant::from_duration(self.epoch.elapsed())
    }

    /// An engine deadline on tokio's clock (saturating far in the future).
    pub(crate) fn to_tokio(self, deadline: wsmachine::Instant) -> TokioInstant {
        let after = Duration::from_millis(deadline.as_millis());
        self.epoch
            .checked_add(after)
            .unwrap_or_else(|| self.epoch + Duration::from_secs(86_400 * 365 * 30))
    }
}
