//! The panic boundary: every `extern "C"` body runs inside [`guard`] or [`guard_result`], so
//! a panic (a bug in the library) becomes a return value instead of unwinding into C, which
//! would be undefined behaviour.

use super::result::wsm_result;
use core::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What an entry point returns when its body panicked.
pub(crate) trait OnPanic {
    /// The neutral value documented for the entry point.
    fn on_panic() -> Self;
}

impl OnPanic for wsm_result {
    fn on_panic() -> Self {
        wsm_result::WSM_ERR_PANIC
    }
}

impl OnPanic for () {
    fn on_panic() -> Self {}
}

impl OnPanic for usize {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for u16 {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for u64 {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for bool {
    fn on_panic() -> Self {
        false
    }
}

impl OnPanic for *const c_char {
    fn on_panic() -> Self {
        c"".as_ptr()
    }
}

/// Runs an entry point's body, turning a panic into `R::on_panic()`.
///
/// `AssertUnwindSafe` is right here: after a panic the handle may be in any state, but it is
/// still a valid Rust value, and every later call on it is memory-safe.
pub(crate) fn guard<R: OnPanic>(body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| R::on_panic())
}

/// [`guard`] for the usual shape: a body that fails with a code maps `Ok` to `WSM_OK`.
pub(crate) fn guard_result(body: impl FnOnce() -> Result<(), wsm_result>) -> wsm_result {
    guard(|| match body() {
        Ok(()) => wsm_result::WSM_OK,
        Err(code) => code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_neutral_value() {
        // Silence the default hook's message for the panics this test provokes.
        let hook = std::panic::take_hook();
        std::panic::set_hook(std::boxed::Box::new(|_| {}));
        assert_eq!(guard_result(|| panic!("bug")), wsm_result::WSM_ERR_PANIC);
        assert_eq!(guard(|| -> usize { panic!("bug") }), 0);
        std::panic::set_hook(hook);
        assert_eq!(guard_result(|| Ok(())), wsm_result::WSM_OK);
        assert_eq!(
            guard_result(|| Err(wsm_result::WSM_ERR_NOT_FOUND)),
            wsm_result::WSM_ERR_NOT_FOUND
        );
    }
}
