//! The answer to the opening handshake. A deferred-accept server's (`WSM_EVENT_REQUEST`):
//! `wsm_conn_accept` (`wsm_conn_accept_with_headers`), `wsm_conn_reject`, `wsm_conn_respond`, and the request's headers while
//! it waits (`wsm_conn_request_header`). A client's view of the answer it got:
//! `wsm_conn_response_status`, `wsm_conn_response_header`, `wsm_conn_response_body`.

use super::args::arg_ref;
use super::args::{arg_bytes, arg_opt_str, arg_str};
use super::boundary::guard;
use super::conn::{hand_out_view, with_conn, wsm_conn};
use super::result::wsm_result;
use alloc::vec::Vec;
use core::ffi::c_char;

/// Accepts the request a deferred-accept server reported with `WSM_EVENT_REQUEST`, choosing
/// `subprotocol` (NULL for none; it must be one the client offered, else
/// `WSM_ERR_SUBPROTOCOL_NOT_OFFERED`).
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `subprotocol` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_accept(
    conn: *mut wsm_conn,
    subprotocol: *const c_char,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        let subprotocol = unsafe { arg_opt_str(subprotocol) }?;
        c.conn.accept(subprotocol)?;
        c.request = None;
        Ok(())
    })
}

/// `wsm_conn_accept` with `count` header fields chosen for this request added to the 101
/// answer, after the configuration's: `names[i]: values[i]` (a `Set-Cookie` for this
/// client, say). Each name must be an HTTP token and each value free of control characters
/// but tab (no CR, LF or NUL), else `WSM_ERR_INVALID_HEADER`, and the request is still
/// waiting for an answer. `names` and `values` may be NULL when `count` is 0.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `subprotocol` is NULL or a NUL-terminated string.
/// * When `count > 0`, `names` and `values` are NULL or arrays of `count` pointers, each
///   NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_accept_with_headers(
    conn: *mut wsm_conn,
    subprotocol: *const c_char,
    names: *const *const c_char,
    values: *const *const c_char,
    count: usize,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        let subprotocol = unsafe { arg_opt_str(subprotocol) }?;
        // SAFETY: NULL or arrays of `count` pointers, by the header's contract.
        let (names, values) = unsafe { (arg_ptrs(names, count)?, arg_ptrs(values, count)?) };
        let mut headers = Vec::with_capacity(count);
        for (&name, &value) in names.iter().zip(values) {
            // SAFETY: each NULL or a NUL-terminated string.
            headers.push(unsafe { (arg_str(name)?, arg_str(value)?) });
        }
        c.conn.accept_with_headers(subprotocol, &headers)?;
        c.request = None;
        Ok(())
    })
}

/// An array of `count` C string pointers; NULL is allowed when `count` is 0.
///
/// # Safety
/// When `count > 0`, `p` is NULL or valid for reads of `count` pointers for `'a`.
unsafe fn arg_ptrs<'a>(
    p: *const *const c_char,
    count: usize,
) -> Result<&'a [*const c_char], wsm_result> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(wsm_result::WSM_ERR_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and valid for `count` reads, by the caller's contract.
    Ok(unsafe { core::slice::from_raw_parts(p, count) })
}

/// Rejects the request a deferred-accept server reported, answering HTTP `status` (4xx or
/// 5xx, else `WSM_ERR_INVALID_STATUS`) with `reason` (NULL for none) as the body. The
/// connection then closes.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `reason` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_reject(
    conn: *mut wsm_conn,
    status: u16,
    reason: *const c_char,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        let reason = unsafe { arg_opt_str(reason) }?.unwrap_or("");
        c.conn.reject(status, reason)?;
        c.request = None;
        Ok(())
    })
}

/// Answers the request a deferred-accept server reported with a complete HTTP response:
/// `status` (200-599 but 204 and 304, else `WSM_ERR_INVALID_STATUS`), a `Content-Type` of
/// `content_type` and `body_len` bytes of `body` (NULL when 0). A page for a plain `GET`, or
/// a custom rejection of an Upgrade. The connection then closes.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `content_type` is NULL or a NUL-terminated string.
/// * `body` is NULL or readable for `body_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_respond(
    conn: *mut wsm_conn,
    status: u16,
    content_type: *const c_char,
    body: *const u8,
    body_len: usize,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or a NUL-terminated string, and NULL or `body_len` readable bytes.
        let (content_type, body) = unsafe { (arg_str(content_type)?, arg_bytes(body, body_len)?) };
        c.conn.respond(status, content_type, body)?;
        c.request = None;
        Ok(())
    })
}

/// Sets `*value`/`*len` to the first value of header `name` (case-insensitive) of the
/// request waiting for `wsm_conn_accept`/`wsm_conn_reject`; it stays valid until then.
/// `WSM_ERR_NOT_FOUND` when there is no such header or no waiting request.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `name` is NULL or a NUL-terminated string.
/// * `value` is NULL or valid for writing a `*const c_char`.
/// * `len` is NULL or valid for writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_request_header(
    conn: *const wsm_conn,
    name: *const c_char,
    value: *mut *const c_char,
    len: *mut usize,
) -> wsm_result {
    hand_out_view(conn, value.cast(), len, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        let name = unsafe { arg_str(name) }?;
        Ok(c.request
            .as_ref()
            .and_then(|r| r.header(name))
            .map(str::as_bytes))
    })
}

/// A client's view of the server's answer to its opening handshake: its HTTP status (101
/// after `WSM_EVENT_OPEN`, or the refusal's after a `WSM_ERROR_HANDSHAKE` error event), or 0
/// before the answer arrived, for a server, and for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_response_status(conn: *const wsm_conn) -> u16 {
    guard(|| {
        // SAFETY: NULL or a live handle, by the header's contract.
        unsafe { arg_ref(conn) }
            .ok()
            .and_then(|c| c.conn.response())
            .map_or(0, |(status, _)| status)
    })
}

/// Sets `*value`/`*len` to the first value of header `name` (case-insensitive) of the
/// server's answer to a client's opening handshake (see `wsm_conn_response_status`): a
/// cookie of the 101, a refusal's `Location` or `WWW-Authenticate`. Valid until the
/// connection is freed. `WSM_ERR_NOT_FOUND` when there is no such header or no answer.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `name` is NULL or a NUL-terminated string.
/// * `value` is NULL or valid for writing a `*const c_char`.
/// * `len` is NULL or valid for writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_response_header(
    conn: *const wsm_conn,
    name: *const c_char,
    value: *mut *const c_char,
    len: *mut usize,
) -> wsm_result {
    hand_out_view(conn, value.cast(), len, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        let name = unsafe { arg_str(name) }?;
        Ok(c.conn.response_header(name).map(str::as_bytes))
    })
}

/// Sets `*data`/`*len` to the body of a refused upgrade (see `wsm_conn_response_status`), up
/// to the client configuration's limit (`wsm_client_config_set_max_response_body`): read
/// before the handshake failed, so it is there with the `WSM_ERROR_HANDSHAKE` error event;
/// `*len` is 0 when the refusal had no body. Valid until the connection is freed.
/// `WSM_ERR_NOT_FOUND` after a 101, for a server, and before the failure.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or valid for writing a `*const uint8_t`.
/// * `len` is NULL or valid for writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_response_body(
    conn: *const wsm_conn,
    data: *mut *const u8,
    len: *mut usize,
) -> wsm_result {
    hand_out_view(conn, data, len, |c| Ok(c.conn.response_body()))
}
