//! `wsm_client_config`: how a client opens a connection. It is reusable: each
//! `wsm_conn_client_new` builds its connection from a copy.

use super::args::{arg_mut, arg_out, arg_ref, arg_str, free_handle, into_handle};
use super::boundary::{guard, guard_result};
use super::deflate::wsm_deflate;
use super::options::wsm_options;
use super::random::{wsm_random_fn, CallbackRandom};
use super::result::wsm_result;
use crate::config::{ClientConfig, Options};
use crate::deflate::DeflateConfig;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ffi::{c_char, c_void};

/// A client configuration: host, path, origin, subprotocols, extra headers, options,
/// permessage-deflate and the random source. Create with `wsm_client_config_new`, free with `wsm_client_config_free`
/// (connections made from it keep their own copy, so it may be freed at once).
pub struct wsm_client_config {
    host: String,
    path: String,
    origin: Option<String>,
    subprotocols: Vec<String>,
    headers: Vec<(String, String)>,
    options: Options,
    random: Option<CallbackRandom>,
    deflate: Option<DeflateConfig>,
    max_response_body: usize,
}

impl wsm_client_config {
    /// The engine's configuration for one new connection.
    pub(crate) fn build(&self) -> ClientConfig {
        let mut config = ClientConfig::new(self.host.as_str(), self.path.as_str())
            .options(self.options.clone())
            .max_response_body(self.max_response_body);
        if let Some(origin) = &self.origin {
            config = config.origin(origin.as_str());
        }
        for p in &self.subprotocols {
            config = config.subprotocol(p.as_str());
        }
        for (name, value) in &self.headers {
            config = config.header(name.as_str(), value.as_str());
        }
        if let Some(random) = self.random {
            config = config.random(random);
        }
        if let Some(deflate) = &self.deflate {
            config = config.deflate(deflate.clone());
        }
        config
    }
}

/// Sets `*out` to a new configuration for `ws://host/path`: `host` is the `Host` header
/// (`"example.com:8080"`), `path` the request target (`"/chat?room=1"`). Both are copied.
/// Characters HTTP forbids are reported by `wsm_conn_client_new` as
/// `WSM_ERR_INVALID_HEADER`.
///
/// # Safety
/// * `host` is NULL or a NUL-terminated string.
/// * `path` is NULL or a NUL-terminated string.
/// * `out` is NULL or valid for writing a `*mut wsm_client_config`.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_new(
    host: *const c_char,
    path: *const c_char,
    out: *mut *mut wsm_client_config,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or NUL-terminated strings, by the header's contract.
        let (host, path) = unsafe { (arg_str(host)?, arg_str(path)?) };
        let out = arg_out(out)?;
        let handle = into_handle(wsm_client_config {
            host: host.to_string(),
            path: path.to_string(),
            origin: None,
            subprotocols: Vec::new(),
            headers: Vec::new(),
            options: Options::default(),
            random: None,
            deflate: None,
            max_response_body: 4096,
        });
        // SAFETY: `out` is non-NULL and writable by the header's contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees a configuration made by `wsm_client_config_new`. NULL does nothing.
///
/// # Safety
/// `config` is NULL or a handle made by `wsm_client_config_new`, not freed yet and not used
/// again after this call.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_free(config: *mut wsm_client_config) {
    guard(|| {
        // SAFETY: by the header's contract, made by `wsm_client_config_new`, not used again.
        unsafe { free_handle(config) }
    })
}

/// Applies `f` to the configuration behind `config`.
fn update(
    config: *mut wsm_client_config,
    f: impl FnOnce(&mut wsm_client_config) -> Result<(), wsm_result>,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle, used by this thread only.
        f(unsafe { arg_mut(config) }?)
    })
}

/// Sends an `Origin` header (browsers always do). The string is copied.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `origin` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_set_origin(
    config: *mut wsm_client_config,
    origin: *const c_char,
) -> wsm_result {
    update(config, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        c.origin = Some(unsafe { arg_str(origin) }?.to_string());
        Ok(())
    })
}

/// Offers a subprotocol; call again to offer more, in order of preference. Copied.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_add_subprotocol(
    config: *mut wsm_client_config,
    name: *const c_char,
) -> wsm_result {
    update(config, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        c.subprotocols.push(unsafe { arg_str(name) }?.to_string());
        Ok(())
    })
}

/// Adds a header field to the Upgrade request. Both strings are copied.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `name` is NULL or a NUL-terminated string.
/// * `value` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_add_header(
    config: *mut wsm_client_config,
    name: *const c_char,
    value: *const c_char,
) -> wsm_result {
    update(config, |c| {
        // SAFETY: NULL or NUL-terminated strings.
        let (name, value) = unsafe { (arg_str(name)?, arg_str(value)?) };
        c.headers.push((name.to_string(), value.to_string()));
        Ok(())
    })
}

/// Replaces the options with a copy of `options`.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
///   during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_set_options(
    config: *mut wsm_client_config,
    options: *const wsm_options,
) -> wsm_result {
    update(config, |c| {
        // SAFETY: NULL or a live handle from `wsm_options_new`.
        c.options = unsafe { arg_ref(options) }?.inner.clone();
        Ok(())
    })
}

/// Replaces the random source for the client's `Sec-WebSocket-Key` and masking keys with
/// `fill` and its `userdata` (both must stay valid while connections made from this
/// configuration live). A NULL `fill` restores the default: the operating system's
/// generator. Those connections share `fill` and `userdata`: driven on different threads,
/// they may call it concurrently (see `wsm_random_fn`).
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `fill`, when not NULL, writes at most `len` bytes to `buf`; it and `userdata` stay usable,
///   from whichever thread drives a connection made from this configuration (concurrently when
///   several do), for as long as those connections live.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_set_random(
    config: *mut wsm_client_config,
    fill: wsm_random_fn,
    userdata: *mut c_void,
) -> wsm_result {
    update(config, |c| {
        c.random = fill.map(|fill| CallbackRandom { fill, userdata });
        Ok(())
    })
}

/// Offers permessage-deflate (RFC 7692) with a copy of `deflate`'s parameters. Default: not
/// offered. Whether the server accepted shows in `wsm_conn_extensions` once open.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
///   during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_set_deflate(
    config: *mut wsm_client_config,
    deflate: *const wsm_deflate,
) -> wsm_result {
    update(config, |c| {
        // SAFETY: NULL or a live handle from `wsm_deflate_new`.
        c.deflate = Some(unsafe { arg_ref(deflate) }?.inner.clone());
        Ok(())
    })
}

/// How much of the body of a refused upgrade (an answer other than 101) to read before the
/// handshake fails, for `wsm_conn_response_body`: a `Content-Length` body is waited for, a
/// chunked one decoded, any other read until `wsm_conn_receive_eof`, each up to `bytes`
/// (and within the handshake timeout). 0 reads none. Default 4096.
///
/// # Safety
/// `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
/// thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_client_config_set_max_response_body(
    config: *mut wsm_client_config,
    bytes: usize,
) -> wsm_result {
    update(config, |c| {
        c.max_response_body = bytes;
        Ok(())
    })
}
