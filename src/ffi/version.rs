//! The library's version, for programs that link it dynamically.

use super::boundary::guard;
use core::ffi::c_char;

/// The library's version (`"0.1.0"`), a static NUL-terminated string not to be freed.
#[no_mangle]
pub extern "C" fn wsm_version() -> *const c_char {
    guard(|| concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
}
