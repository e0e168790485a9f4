//! Turning C arguments into Rust references: every pointer is checked for NULL here, and
//! strings and buffers are checked before the engine sees them.
//!
//! Each function is `unsafe` because it trusts what a C caller promises in the header: a
//! non-NULL pointer points to a live value of the right type (a handle made by its `*_new`
//! and not yet freed, a buffer of at least `len` bytes, a NUL-terminated string), not used by
//! another thread during the call.

use super::result::wsm_result;
use alloc::boxed::Box;
use core::ffi::{c_char, CStr};

/// A shared reference to a handle or value, or `WSM_ERR_NULL_PARAMETER`.
///
/// # Safety
/// `p` is NULL or valid for reads of a `T` for `'a`, and nothing mutates it meanwhile.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T) -> Result<&'a T, wsm_result> {
    // SAFETY: the caller's contract above.
    unsafe { p.as_ref() }.ok_or(wsm_result::WSM_ERR_NULL_PARAMETER)
}

/// An exclusive reference to a handle, or `WSM_ERR_NULL_PARAMETER`.
///
/// # Safety
/// `p` is NULL or valid for reads and writes of a `T` for `'a`, and nothing else uses it
/// meanwhile (the header says a handle is not shared between threads).
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T) -> Result<&'a mut T, wsm_result> {
    // SAFETY: the caller's contract above.
    unsafe { p.as_mut() }.ok_or(wsm_result::WSM_ERR_NULL_PARAMETER)
}

/// A byte buffer; NULL is allowed when `len` is 0.
///
/// # Safety
/// When `len > 0`, `p` is NULL or valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn arg_bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], wsm_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(wsm_result::WSM_ERR_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and, by the caller's contract, valid for `len` bytes.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// A UTF-8 byte buffer; NULL is allowed when `len` is 0.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_utf8<'a>(p: *const u8, len: usize) -> Result<&'a str, wsm_result> {
    // SAFETY: the same contract, passed on.
    let bytes = unsafe { arg_bytes(p, len) }?;
    crate::utf8::validate(bytes).map_err(|_| wsm_result::WSM_ERR_INVALID_UTF8)?;
    // SAFETY: validated just above.
    Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// A NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char) -> Result<&'a str, wsm_result> {
    if p.is_null() {
        return Err(wsm_result::WSM_ERR_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| wsm_result::WSM_ERR_INVALID_UTF8)
}

/// Like [`arg_str`], but NULL means "none".
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(p: *const c_char) -> Result<Option<&'a str>, wsm_result> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the same contract, passed on.
    unsafe { arg_str(p) }.map(Some)
}

/// Checks an output pointer; write through it only once the call has succeeded.
pub(crate) fn arg_out<T>(p: *mut T) -> Result<*mut T, wsm_result> {
    if p.is_null() {
        Err(wsm_result::WSM_ERR_NULL_PARAMETER)
    } else {
        Ok(p)
    }
}

/// Hands a new handle to C: the caller owns it until the matching `*_free`.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes a handle back from C and drops it; NULL does nothing.
///
/// # Safety
/// `p` is NULL or was made by [`into_handle`] with the same `T` and is not used again.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: made by `Box::into_raw` in `into_handle`, freed once by the contract.
        drop(unsafe { Box::from_raw(p) });
    }
}
