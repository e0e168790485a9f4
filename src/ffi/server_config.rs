//! `wsm_server_config`: how a server answers opening handshakes. It is reusable: each
//! `wsm_conn_server_new` builds its connection from a copy.

use super::args::{arg_mut, arg_out, arg_ref, arg_str, free_handle, into_handle};
use super::boundary::{guard, guard_result};
use super::deflate::wsm_deflate;
use super::options::wsm_options;
use super::result::wsm_result;
use crate::config::{ServerConfig, SubprotocolPolicy};
use core::ffi::c_char;

/// `wsm_server_config_set_subprotocol_policy`: only one of the server's own subprotocols,
/// else none (the default).
pub const WSM_SUBPROTOCOL_LISTED: u32 = 0;
/// `wsm_server_config_set_subprotocol_policy`: one of the server's own subprotocols if
/// offered, else the first one the client offered.
pub const WSM_SUBPROTOCOL_FIRST_OFFERED: u32 = 1;

/// A server configuration: subprotocols, extra headers, options, permessage-deflate and
/// deferred accept. Create with `wsm_server_config_new`, free with `wsm_server_config_free`
/// (connections keep their own copy).
pub struct wsm_server_config {
    pub(crate) inner: ServerConfig,
}

/// Sets `*out` to a new configuration that accepts every valid request, chooses no
/// subprotocol and uses the default options. Free with `wsm_server_config_free`.
///
/// # Safety
/// `out` is NULL or valid for writing a `*mut wsm_server_config`.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_new(out: *mut *mut wsm_server_config) -> wsm_result {
    guard_result(|| {
        let out = arg_out(out)?;
        let handle = into_handle(wsm_server_config {
            inner: ServerConfig::new(),
        });
        // SAFETY: `out` is non-NULL and writable by the header's contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees a configuration made by `wsm_server_config_new`. NULL does nothing.
///
/// # Safety
/// `config` is NULL or a handle made by `wsm_server_config_new`, not freed yet and not used
/// again after this call.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_free(config: *mut wsm_server_config) {
    guard(|| {
        // SAFETY: by the header's contract, made by `wsm_server_config_new`, not used again.
        unsafe { free_handle(config) }
    })
}

/// Replaces the engine configuration behind `config` with `f` of it.
///
/// # Safety
/// `config` is NULL or a live handle, used by this thread only.
unsafe fn update(
    config: *mut wsm_server_config,
    f: impl FnOnce(ServerConfig) -> ServerConfig,
) -> Result<(), wsm_result> {
    // SAFETY: the caller's contract above.
    let config = unsafe { arg_mut(config) }?;
    config.inner = f(core::mem::take(&mut config.inner));
    Ok(())
}

/// Adds a subprotocol the server supports, in order of preference: the first of these that
/// the client offers is chosen. Copied.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
///   thread during the call.
/// * `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_add_subprotocol(
    config: *mut wsm_server_config,
    name: *const c_char,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a NUL-terminated string; `config` NULL or a live handle.
        unsafe {
            let name = arg_str(name)?;
            update(config, |c| c.subprotocol(name))
        }
    })
}

/// What is chosen when the client offered none of the server's own subprotocols:
/// `WSM_SUBPROTOCOL_LISTED` (none, the default) or `WSM_SUBPROTOCOL_FIRST_OFFERED` (the
/// first one the client offered); `WSM_ERR_INVALID_ARGUMENT` otherwise, the configuration
/// then unchanged.
///
/// Browsers fail a connection whose 101 answer names none of the subprotocols they offered
/// (`new WebSocket(url, ["chat", "superchat"])` never opens): a server with no protocol of
/// its own, such as an echo server, sets `WSM_SUBPROTOCOL_FIRST_OFFERED`. A richer choice
/// belongs to deferred accept (`wsm_server_config_set_defer_accept`, `wsm_conn_accept`).
///
/// # Safety
/// `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
/// thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_set_subprotocol_policy(
    config: *mut wsm_server_config,
    policy: u32,
) -> wsm_result {
    guard_result(|| {
        let policy = match policy {
            WSM_SUBPROTOCOL_LISTED => SubprotocolPolicy::Listed,
            WSM_SUBPROTOCOL_FIRST_OFFERED => SubprotocolPolicy::FirstOffered,
            _ => return Err(wsm_result::WSM_ERR_INVALID_ARGUMENT),
        };
        // SAFETY: NULL or a live handle, used by this thread only.
        unsafe { update(config, |c| c.subprotocol_policy(policy)) }
    })
}

/// Adds a header field to the 101 answer (and to rejections). Both strings are copied.
/// `WSM_ERR_INVALID_HEADER` when the name is not an HTTP token or the value holds a
/// control character other than tab (CR, LF and NUL could forge the response); the
/// configuration is then unchanged.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
///   thread during the call.
/// * `name` is NULL or a NUL-terminated string.
/// * `value` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_add_header(
    config: *mut wsm_server_config,
    name: *const c_char,
    value: *const c_char,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or NUL-terminated strings; `config` NULL or a live handle.
        unsafe {
            let (name, value) = (arg_str(name)?, arg_str(value)?);
            let config = arg_mut(config)?;
            Ok(config.inner.add_header(name.into(), value.into())?)
        }
    })
}

/// Replaces the options with a copy of `options`.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
///   thread during the call.
/// * `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
///   during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_set_options(
    config: *mut wsm_server_config,
    options: *const wsm_options,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or live handles, used by this thread only.
        unsafe {
            let options = arg_ref(options)?.inner.clone();
            update(config, |c| c.options(options))
        }
    })
}

/// With `on`, each valid request comes out as a `WSM_EVENT_REQUEST` event, and the
/// application answers with `wsm_conn_accept` or `wsm_conn_reject`. Default off.
///
/// # Safety
/// `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
/// thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_set_defer_accept(
    config: *mut wsm_server_config,
    on: bool,
) -> wsm_result {
    // SAFETY: NULL or a live handle, used by this thread only.
    guard_result(|| unsafe { update(config, |c| c.defer_accept(on)) })
}

/// Accepts permessage-deflate (RFC 7692) when a client offers it, within a copy of
/// `deflate`'s parameters. Default: declined.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
///   thread during the call.
/// * `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
///   during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_server_config_set_deflate(
    config: *mut wsm_server_config,
    deflate: *const wsm_deflate,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or live handles, used by this thread only.
        unsafe {
            let deflate = arg_ref(deflate)?.inner.clone();
            update(config, |c| c.deflate(deflate))
        }
    })
}
