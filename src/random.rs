//! Randomness for the client's `Sec-WebSocket-Key` and its masking keys (RFC 6455 §10.3:
//! masking keys must be unpredictable to scripts that choose the payload).
//!
//! The default source is ChaCha12 keyed from the operating system's generator (through
//! `getrandom`), and masking keys are drawn in batches, so a key costs a few nanoseconds,
//! not a system call.

#[cfg(feature = "std")]
use crate::error::Error;
use alloc::boxed::Box;

/// A source of unpredictable bytes. Replace it for deterministic tests or on devices
/// without an operating system.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8]) + Send> RandomSource for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// The operating system's generator, through `getrandom`.
#[cfg(feature = "std")]
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

#[cfg(feature = "std")]
impl OsRandom {
    /// Fills `buf`, or reports that the operating system's generator failed (it essentially
    /// never does once the system has booted, but a sandbox may forbid it).
    pub fn try_fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(buf).map_err(|_| Error::NoRandomSource)
    }
}

#[cfg(feature = "std")]
impl RandomSource for OsRandom {
    /// # Panics
    /// When the operating system's generator fails: a predictable masking key would break
    /// RFC 6455 §10.3 silently. The engine's default source does not panic: it reads the
    /// OS once, in `Connection::client`, which then returns [`Error::NoRandomSource`].
    fn fill(&mut self, buf: &mut [u8]) {
        if self.try_fill(buf).is_err() {
            panic!("the operating system's random generator failed");
        }
    }
}

/// A ChaCha12 stream cipher keyed once from the operating system's generator: as
/// unpredictable as its seed, at user-space speed.
#[cfg(feature = "std")]
struct SeededChaCha(rand_chacha::ChaCha12Rng);

#[cfg(feature = "std")]
impl RandomSource for SeededChaCha {
    fn fill(&mut self, buf: &mut [u8]) {
        use rand_chacha::rand_core::RngCore;
        self.0.fill_bytes(buf);
    }
}

/// The random source a connection uses when none is configured; `None` (hence
/// [`Error::NoRandomSource`]) without `std` or when the OS cannot seed it.
pub(crate) fn default_source() -> Option<Box<dyn RandomSource>> {
    #[cfg(feature = "std")]
    {
        seeded_from(|seed| OsRandom.try_fill(seed))
    }
    #[cfg(not(feature = "std"))]
    {
        None
    }
}

/// ChaCha12 keyed by `seed`, or `None` when `seed` fails: never a predictable fallback.
#[cfg(feature = "std")]
fn seeded_from(seed: impl FnOnce(&mut [u8]) -> Result<(), Error>) -> Option<Box<dyn RandomSource>> {
    use rand_chacha::rand_core::SeedableRng;
    let mut key = [0u8; 32];
    seed(&mut key).ok()?;
    Some(Box::new(SeededChaCha(rand_chacha::ChaCha12Rng::from_seed(
        key,
    ))))
}

/// Hands out masking keys from a batch of random bytes, refilled from the source.
pub(crate) struct MaskKeys {
    source: Box<dyn RandomSource>,
    batch: Option<Box<[u8; MASK_BATCH]>>,
    used: usize,
}

const MASK_BATCH: usize = 256;

impl MaskKeys {
    pub(crate) fn new(source: Box<dyn RandomSource>) -> Self {
        Self {
            source,
            batch: None,
            used: MASK_BATCH,
        }
    }

    pub(crate) fn next_key(&mut self) -> [u8; 4] {
        let batch = self.batch.get_or_insert_with(|| Box::new([0; MASK_BATCH]));
        if self.used + 4 > MASK_BATCH {
            self.source.fill(&mut batch[..]);
            self.used = 0;
        }
        let k = [
            batch[self.used],
            batch[self.used + 1],
            batch[self.used + 2],
            batch[self.used + 3],
        ];
        // Each key is used once; wipe it so a later memory disclosure cannot replay it.
        batch[self.used..self.used + 4].fill(0);
        self.used += 4;
        k
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn a_failing_seed_gives_no_source_not_a_predictable_one() {
        assert!(seeded_from(|_| Err(Error::NoRandomSource)).is_none());
        let mut a = seeded_from(|k| {
            k.fill(7);
            Ok(())
        })
        .unwrap();
        let mut out = [0u8; 16];
        a.fill(&mut out);
        assert_ne!(out, [0u8; 16]);
        assert!(default_source().is_some());
        assert!(OsRandom.try_fill(&mut out).is_ok());
    }
}
