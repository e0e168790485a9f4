//! Randomness for the client's `Sec-WebSocket-Key` and its masking keys (RFC 6455 §10.3:
//! masking keys must be unpredictable to scripts that choose the payload).
//!
//! The default source is ChaCha12 keyed from the operating system's generator (through
//! `getrandom`), and masking keys are drawn in batches, so a key costs a few nanoseconds,
//! not a system call.

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
impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            // The OS generator is unavailable (it essentially never is once the system has
            // booted): fall back to a clock- and address-seeded mix rather than panic.
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
                ^ (buf.as_ptr() as u64);
            let mut x = seed | 1;
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
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

/// The random source a connection uses when none is configured.
pub(crate) fn default_source() -> Option<Box<dyn RandomSource>> {
    #[cfg(feature = "std")]
    {
        use rand_chacha::rand_core::SeedableRng;
        let mut seed = [0u8; 32];
        OsRandom.fill(&mut seed);
        Some(Box::new(SeededChaCha(rand_chacha::ChaCha12Rng::from_seed(
            seed,
        ))))
    }
    #[cfg(not(feature = "std"))]
    {
        None
    }
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
