//! Randomness for the client's `Sec-WebSocket-Key` and its masking keys (RFC 6455 §10.3:
//! masking keys must be unpredictable to scripts that choose the payload).
//!
//! The default source is ChaCha12 keyed from the operating system's generator (through
//! `getrandom`), and masking keys are drawn in batches, so a key costs a few nanoseconds,
//! not a system call.

use crate::error::Error;
use alloc::boxed::Box;

/// A source of unpredictable bytes. Replace it for deterministic tests or on devices
/// without an operating system.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// Fills `buf`, or reports that the source failed ([`Error::NoRandomSource`]): never
    /// predictable bytes instead. The engine draws through this method only. The default
    /// calls [`fill`](Self::fill) and never fails; a source that can fail overrides it.
    ///
    /// A failure makes `Connection::client` return the error, a send return it (nothing is
    /// written), and a frame the engine writes on its own (a pong, a keepalive ping, a
    /// close frame) fail the connection with [`Failure::NoRandomSource`](crate::Failure).
    fn try_fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.fill(buf);
        Ok(())
    }
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
    /// When the operating system's generator fails and this is called directly: a
    /// predictable masking key would break RFC 6455 §10.3 silently. The engine never calls
    /// it: it draws through [`RandomSource::try_fill`], so an `OsRandom` given as a
    /// connection's source reports [`Error::NoRandomSource`] instead of panicking.
    fn fill(&mut self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            panic!("the operating system's random generator failed");
        }
    }

    fn try_fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(buf).map_err(|_| Error::NoRandomSource)
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
    batch: Option<Box<[[u8; 4]; BATCH_KEYS]>>,
    /// How many keys of the batch are handed out.
    used: usize,
    /// A key the engine needed for a frame of its own could not be drawn (the connection
    /// fails at the next poll).
    failed: bool,
}

/// Keys drawn from the source at a time (256 bytes).
const BATCH_KEYS: usize = 64;

impl MaskKeys {
    pub(crate) fn new(source: Box<dyn RandomSource>) -> Self {
        Self {
            source,
            batch: None,
            used: BATCH_KEYS,
            failed: false,
        }
    }

    /// Makes sure the next key can be drawn: refills the batch when it is used up.
    #[inline]
    pub(crate) fn ready(&mut self) -> Result<(), Error> {
        if self.used < BATCH_KEYS && self.batch.is_some() {
            return Ok(());
        }
        self.refill()
    }

    #[cold]
    fn refill(&mut self) -> Result<(), Error> {
        let batch = self
            .batch
            .get_or_insert_with(|| Box::new([[0; 4]; BATCH_KEYS]));
        // On failure the batch stays used up (its bytes are never handed out).
        self.source.try_fill(batch.as_flattened_mut())?;
        self.used = 0;
        Ok(())
    }

    /// The next key, or the source's failure.
    #[inline]
    pub(crate) fn next_key(&mut self) -> Result<[u8; 4], Error> {
        self.ready()?;
        let Some(slot) = self.batch.as_mut().and_then(|b| b.get_mut(self.used)) else {
            return Err(Error::NoRandomSource);
        };
        self.used += 1;
        // Each key is used once; wiped so a later memory disclosure cannot replay it.
        Ok(core::mem::take(slot))
    }

    /// Notes that a frame of the engine's own found no key.
    pub(crate) fn set_failed(&mut self) {
        self.failed = true;
    }

    /// Whether a frame of the engine's own found no key since the last call.
    #[inline]
    pub(crate) fn take_failed(&mut self) -> bool {
        core::mem::take(&mut self.failed)
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
