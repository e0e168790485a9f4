//! `wsm_deflate`: permessage-deflate (RFC 7692) parameters, offered by a client
//! (`wsm_client_config_set_deflate`) or accepted by a server (`wsm_server_config_set_deflate`).

use super::args::{arg_mut, arg_out, free_handle, into_handle};
use super::boundary::{guard, guard_result};
use super::result::wsm_result;
use crate::deflate::DeflateConfig;

/// permessage-deflate parameters. Create with `wsm_deflate_new`, free with
/// `wsm_deflate_free`; configurations keep their own copy, so it may be freed once set.
pub struct wsm_deflate {
    pub(crate) inner: DeflateConfig,
}

/// Sets `*out` to new parameters holding the defaults: context takeover both ways, 32 KiB
/// windows, compression level 6, messages under 32 bytes sent uncompressed.
///
/// # Safety
/// `out` is NULL or valid for writing a `*mut wsm_deflate`.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_new(out: *mut *mut wsm_deflate) -> wsm_result {
    guard_result(|| {
        let out = arg_out(out)?;
        let handle = into_handle(wsm_deflate {
            inner: DeflateConfig::new(),
        });
        // SAFETY: `out` is non-NULL and writable by the header's contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees parameters made by `wsm_deflate_new`. NULL does nothing.
///
/// # Safety
/// `deflate` is NULL or a handle made by `wsm_deflate_new`, not freed yet and not used again
/// after this call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_free(deflate: *mut wsm_deflate) {
    guard(|| {
        // SAFETY: by the header's contract, made by `wsm_deflate_new` and not used again.
        unsafe { free_handle(deflate) }
    })
}

/// Replaces the parameters behind `deflate` with `f` of them.
fn set(
    deflate: *mut wsm_deflate,
    f: impl FnOnce(DeflateConfig) -> Result<DeflateConfig, wsm_result>,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle from `wsm_deflate_new`, used by this thread only.
        let d = unsafe { arg_mut(deflate) }?;
        d.inner = f(core::mem::take(&mut d.inner))?;
        Ok(())
    })
}

/// Window sizes RFC 7692 §7.1.2 allows.
fn window_bits(bits: u8) -> Result<u8, wsm_result> {
    if (8..=15).contains(&bits) {
        Ok(bits)
    } else {
        Err(wsm_result::WSM_ERR_INVALID_ARGUMENT)
    }
}

/// Whether the server starts every message with an empty window (RFC 7692 §7.1.1): saves
/// the server 32 KiB per connection, costs ratio. Default false.
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_server_no_context_takeover(
    deflate: *mut wsm_deflate,
    on: bool,
) -> wsm_result {
    set(deflate, |d| Ok(d.server_no_context_takeover(on)))
}

/// Whether the client starts every message with an empty window. Default false.
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_client_no_context_takeover(
    deflate: *mut wsm_deflate,
    on: bool,
) -> wsm_result {
    set(deflate, |d| Ok(d.client_no_context_takeover(on)))
}

/// Limits the server's window to 2^bits bytes: 8-15 (`WSM_ERR_INVALID_ARGUMENT` otherwise;
/// 8 is used as 9, which zlib needs to compress). Default 15.
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_server_max_window_bits(
    deflate: *mut wsm_deflate,
    bits: u8,
) -> wsm_result {
    set(
        deflate,
        |d| Ok(d.server_max_window_bits(window_bits(bits)?)),
    )
}

/// Limits the client's window to 2^bits bytes: 8-15, as for the server. Default 15.
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_client_max_window_bits(
    deflate: *mut wsm_deflate,
    bits: u8,
) -> wsm_result {
    set(
        deflate,
        |d| Ok(d.client_max_window_bits(window_bits(bits)?)),
    )
}

/// The zlib compression level, 0-9 (`WSM_ERR_INVALID_ARGUMENT` otherwise). Default 6.
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_level(
    deflate: *mut wsm_deflate,
    level: u32,
) -> wsm_result {
    set(deflate, |d| {
        if level > 9 {
            return Err(wsm_result::WSM_ERR_INVALID_ARGUMENT);
        }
        Ok(d.level(level))
    })
}

/// Messages shorter than `bytes` are sent uncompressed (they would only grow). Default 32.
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_min_size(
    deflate: *mut wsm_deflate,
    bytes: usize,
) -> wsm_result {
    set(deflate, |d| Ok(d.min_size(bytes)))
}
