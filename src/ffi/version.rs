//! The library's version: macros for the compiler, a function for the library linked at
//! run time.

use super::boundary::guard;
use core::ffi::c_char;

/// The major version of the library this header belongs to.
pub const WSM_VERSION_MAJOR: u32 = 0;
/// The minor version of the library this header belongs to.
pub const WSM_VERSION_MINOR: u32 = 1;
/// The patch version of the library this header belongs to.
pub const WSM_VERSION_PATCH: u32 = 0;

/// The version of the library linked at run time (`"0.1.0"`), a static NUL-terminated string
/// not to be freed; compare it with the `WSM_VERSION_*` macros the program was built with.
#[no_mangle]
pub extern "C" fn wsm_version() -> *const c_char {
    guard(|| concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_macros_are_the_crate_version() {
        let version = alloc::format!("{WSM_VERSION_MAJOR}.{WSM_VERSION_MINOR}.{WSM_VERSION_PATCH}");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
    }
}
