//! The monotonic clock the examples give the engine: `std::time::Instant` counted in
//! milliseconds from the clock's creation, as [`wsmachine::Instant`] wants.

/// Milliseconds since creation, from the operating system's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: std::time::Instant,
}

impl Clock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }

    /// The current time, for `handle_timeout` and for comparing with `poll_timeout`.
    pub fn now(&self) -> wsmachine::Instant {
        wsmachine::Instant::from_duration(self.origin.elapsed())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
