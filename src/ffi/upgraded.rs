//! Connections whose opening handshake was done elsewhere (a web framework, an HTTP/2
//! server with RFC 8441): `wsm_conn_from_upgraded` (or `_with_random`, a client with its
//! own random source) starts one in the open state, and
//! `wsm_accept_key` and `wsm_deflate_answer` are the parts of the negotiation a C program
//! doing the handshake needs from the engine.

use super::args::{arg_bytes, arg_opt_str, arg_out, arg_ref, arg_str};
use super::boundary::guard_result;
use super::conn::{hand_out, wsm_conn};
use super::deflate::wsm_deflate;
use super::options::wsm_options;
use super::random::{wsm_random_fn, CallbackRandom};
use super::result::wsm_result;
use crate::connection::{Connection, Role, Upgraded};
use crate::handshake::{self, parse_extensions};
use base64::Engine as _;
use core::ffi::{c_char, c_void};

/// `wsm_conn_from_upgraded`'s role: the end that sent the request.
pub const WSM_ROLE_CLIENT: u32 = 0;
/// `wsm_conn_from_upgraded`'s role: the end that answered it.
pub const WSM_ROLE_SERVER: u32 = 1;

/// The length of a `Sec-WebSocket-Accept` value (without a terminating NUL).
pub const WSM_ACCEPT_KEY_LEN: usize = 28;

/// Writes `src` and a NUL to the `out_len` bytes at `out`, or fails with
/// `WSM_ERR_INVALID_ARGUMENT` when they do not fit; `*written` gets the length without the
/// NUL.
///
/// # Safety
/// `out` is NULL or valid for writing `out_len` bytes; `written` NULL or writable.
unsafe fn write_str(
    src: &str,
    out: *mut c_char,
    out_len: usize,
    written: *mut usize,
) -> Result<(), wsm_result> {
    let out = arg_out(out)?;
    let written = arg_out(written)?;
    if src.len() >= out_len {
        return Err(wsm_result::WSM_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: `out` is non-NULL and valid for `out_len > src.len()` bytes by the contract;
    // `src` is a distinct Rust allocation, so the ranges do not overlap.
    unsafe {
        core::ptr::copy_nonoverlapping(src.as_ptr(), out.cast::<u8>(), src.len());
        out.add(src.len()).write(0);
    }
    // SAFETY: non-NULL and writable by the contract.
    unsafe { written.write(src.len()) };
    Ok(())
}

/// Sets `*out` to a new connection, in the open state (a `WSM_EVENT_OPEN` is queued), whose
/// opening handshake was done elsewhere: an HTTP library's 101 (RFC 6455) or an HTTP/2
/// extended CONNECT (RFC 8441).
///
/// * `role`: `WSM_ROLE_CLIENT` (frames are masked, with the operating system's random
///   source; `wsm_conn_from_upgraded_with_random` takes a callback instead) or
///   `WSM_ROLE_SERVER`; another value is `WSM_ERR_INVALID_ARGUMENT`.
/// * `options`: the limits and timers, copied; NULL for the defaults.
/// * `subprotocol`: the negotiated subprotocol, or NULL for none.
/// * `extensions`: the negotiated `Sec-WebSocket-Extensions` value (as
///   `wsm_deflate_answer` wrote it, or the server's answer a client received), or NULL or
///   "" for none. Only `permessage-deflate` is understood: another extension or a malformed
///   value is `WSM_ERR_INVALID_HEADER`.
/// * `deflate`: the permessage-deflate parameters the handshake negotiated with (its level,
///   minimum size and context-takeover choices), copied; NULL for the defaults. Used only
///   when `extensions` names permessage-deflate.
///
/// Errors: `WSM_ERR_NO_RANDOM_SOURCE` for a client when the system has none.
///
/// # Safety
/// * `options` and `deflate` are NULL or live handles from their `*_new`, not used by
///   another thread during the call.
/// * `subprotocol` and `extensions` are NULL or NUL-terminated strings.
/// * `out` is NULL or valid for writing a `*mut wsm_conn`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_from_upgraded(
    role: u32,
    options: *const wsm_options,
    subprotocol: *const c_char,
    extensions: *const c_char,
    deflate: *const wsm_deflate,
    out: *mut *mut wsm_conn,
) -> wsm_result {
    // SAFETY: the same contract, passed on; no callback.
    unsafe {
        wsm_conn_from_upgraded_with_random(
            role,
            options,
            subprotocol,
            extensions,
            deflate,
            None,
            core::ptr::null_mut(),
            out,
        )
    }
}

/// `wsm_conn_from_upgraded`, with `fill` and its `userdata` as a client's random source for
/// masking keys (as `wsm_client_config_set_random`); a NULL `fill` is the operating
/// system's generator, and a server ignores both.
///
/// # Safety
/// * As `wsm_conn_from_upgraded`.
/// * `fill`, when not NULL, writes at most `len` bytes to `buf`; it and `userdata` stay
///   usable, from whichever thread drives the connection, for as long as it lives.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // the C ABI's flat argument list
pub unsafe extern "C" fn wsm_conn_from_upgraded_with_random(
    role: u32,
    options: *const wsm_options,
    subprotocol: *const c_char,
    extensions: *const c_char,
    deflate: *const wsm_deflate,
    fill: wsm_random_fn,
    userdata: *mut c_void,
    out: *mut *mut wsm_conn,
) -> wsm_result {
    guard_result(|| {
        let role = match role {
            WSM_ROLE_CLIENT => Role::Client,
            WSM_ROLE_SERVER => Role::Server,
            _ => return Err(wsm_result::WSM_ERR_INVALID_ARGUMENT),
        };
        // SAFETY: NULL or a live handle from `wsm_options_new`.
        let options = unsafe { options.as_ref() }
            .map(|o| o.inner.clone())
            .unwrap_or_default();
        // SAFETY: NULL or NUL-terminated strings.
        let subprotocol = unsafe { arg_opt_str(subprotocol) }?;
        // SAFETY: as above.
        let extensions = unsafe { arg_opt_str(extensions) }?;
        // SAFETY: NULL or a live handle from `wsm_deflate_new`.
        let deflate = unsafe { deflate.as_ref() };
        arg_out(out)?;
        let mut upgraded = Upgraded::new(role, options).extensions(extensions.unwrap_or(""));
        if let Some(p) = subprotocol {
            upgraded = upgraded.subprotocol(p);
        }
        if let Some(d) = deflate {
            upgraded = upgraded.deflate(d.inner.clone());
        }
        if let Some(fill) = fill {
            upgraded = upgraded.random(CallbackRandom { fill, userdata });
        }
        hand_out(Connection::from_upgraded(upgraded)?, out)
    })
}

/// Writes the `Sec-WebSocket-Accept` value for the request's `Sec-WebSocket-Key` (`key`,
/// `key_len` bytes, surrounding spaces ignored) to `out` with a terminating NUL, and its
/// length (`WSM_ACCEPT_KEY_LEN`) to `*written`. Errors: `WSM_ERR_INVALID_HEADER` when the key
/// is not 16 bytes in base64 (RFC 6455 §4.2.1: answer 400), `WSM_ERR_INVALID_ARGUMENT` when
/// `out_len` is under `WSM_ACCEPT_KEY_LEN + 1`.
///
/// # Safety
/// * `key` is NULL or valid for reading `key_len` bytes.
/// * `out` is NULL or valid for writing `out_len` bytes; `written` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wsm_accept_key(
    key: *const u8,
    key_len: usize,
    out: *mut c_char,
    out_len: usize,
    written: *mut usize,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or valid for `key_len` bytes.
        let key = unsafe { arg_bytes(key, key_len) }?;
        let key = key.trim_ascii();
        match base64::engine::general_purpose::STANDARD.decode(key) {
            Ok(raw) if raw.len() == 16 => {}
            _ => return Err(wsm_result::WSM_ERR_INVALID_HEADER),
        }
        let accept = handshake::accept_key(key);
        // SAFETY: the caller's contract on `out` and `written`, passed on.
        unsafe { write_str(&accept, out, out_len, written) }
    })
}

/// A server's answer to a client's `Sec-WebSocket-Extensions` offer (`offer`, every value of
/// the header joined with ", "), accepting permessage-deflate within `deflate`: writes the
/// value to answer with to `out` with a terminating NUL, and its length to `*written`. Pass
/// the same value and `deflate` to `wsm_conn_from_upgraded`.
///
/// Errors: `WSM_ERR_NOT_FOUND` when no permessage-deflate offer is acceptable (answer
/// without the header), `WSM_ERR_INVALID_HEADER` for a malformed offer (answer 400),
/// `WSM_ERR_INVALID_ARGUMENT` when `out_len` is too small (256 bytes always suffice).
///
/// # Safety
/// * `deflate` is NULL or a live handle from `wsm_deflate_new`.
/// * `offer` is NULL or a NUL-terminated string.
/// * `out` is NULL or valid for writing `out_len` bytes; `written` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_answer(
    deflate: *const wsm_deflate,
    offer: *const c_char,
    out: *mut c_char,
    out_len: usize,
    written: *mut usize,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle from `wsm_deflate_new`.
        let deflate = unsafe { arg_ref(deflate) }?;
        // SAFETY: NULL or a NUL-terminated string.
        let offer = unsafe { arg_str(offer) }?;
        let offers =
            parse_extensions([offer.as_bytes()]).ok_or(wsm_result::WSM_ERR_INVALID_HEADER)?;
        let answer = handshake::negotiate::answer_deflate(&offers, &deflate.inner)
            .ok_or(wsm_result::WSM_ERR_NOT_FOUND)?;
        // SAFETY: the caller's contract on `out` and `written`, passed on.
        unsafe { write_str(&answer, out, out_len, written) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr;

    unsafe extern "C" fn fill_with_userdata_byte(userdata: *mut c_void, buf: *mut u8, len: usize) {
        // SAFETY: the engine passes `len` writable bytes; `userdata` points at a `u8`.
        unsafe { ptr::write_bytes(buf, *userdata.cast::<u8>(), len) };
    }

    #[test]
    fn an_upgraded_client_masks_with_the_callback() {
        let mut byte = 0xA5u8;
        let mut conn = ptr::null_mut();
        // SAFETY: NULL options, strings and deflate; `byte` outlives the connection, which is
        // freed once below.
        unsafe {
            assert_eq!(
                wsm_conn_from_upgraded_with_random(
                    WSM_ROLE_CLIENT,
                    ptr::null(),
                    ptr::null(),
                    ptr::null(),
                    ptr::null(),
                    Some(fill_with_userdata_byte),
                    (&mut byte as *mut u8).cast(),
                    &mut conn,
                ),
                wsm_result::WSM_OK
            );
            let c = &mut (*conn).conn;
            c.send_text("hi").unwrap();
            // A masked text frame: 0x81, 0x80 | 2, the key from the callback, the payload.
            assert_eq!(
                c.take_output(),
                [0x81, 0x82, 0xA5, 0xA5, 0xA5, 0xA5, b'h' ^ 0xA5, b'i' ^ 0xA5][..]
            );
            super::super::conn::wsm_conn_free(conn);
        }
    }
}
