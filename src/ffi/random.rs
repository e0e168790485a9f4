//! A C callback as the random source for a client's key and masking keys.

use crate::random::RandomSource;
use core::ffi::c_void;

/// Fills `buf[0..len]` with unpredictable bytes (RFC 6455 §10.3: masking keys must not be
/// guessable by whoever chooses the payload). `userdata` is the pointer given with the
/// callback. It is called on the thread driving a connection, from inside a call on it.
/// Every connection made from one configuration shares `fill` and `userdata`, so when such
/// connections are driven on different threads the callback runs concurrently with itself:
/// it must then be thread-safe.
pub type wsm_random_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize)>;

/// The callback and its pointer, as a [`RandomSource`].
#[derive(Clone, Copy)]
pub(crate) struct CallbackRandom {
    pub(crate) fill: unsafe extern "C" fn(*mut c_void, *mut u8, usize),
    pub(crate) userdata: *mut c_void,
}

// SAFETY: the header requires the callback and its userdata to be usable from whichever
// thread drives a connection, and from several threads at once when connections sharing
// them are driven on different threads (each call on one connection is still serial).
unsafe impl Send for CallbackRandom {}

impl RandomSource for CallbackRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        // SAFETY: `buf` is valid for `buf.len()` writable bytes; the callback promises to
        // write at most that many.
        unsafe { (self.fill)(self.userdata, buf.as_mut_ptr(), buf.len()) }
    }
}
