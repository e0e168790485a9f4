//! `wsm_conn`'s commands: sending messages, fragments, pings and pongs, and closing.

use super::args::{arg_bytes, arg_opt_str, arg_utf8};
use super::conn::{with_conn, wsm_conn};
use super::result::wsm_result;
use crate::close::CloseCode;
use crate::connection::Connection;
use crate::error::Error;
use crate::event::MessageKind;
use core::ffi::c_char;

/// Runs a command that sends `len` bytes of `data` on the connection behind `conn`.
fn send_bytes(
    conn: *mut wsm_conn,
    data: *const u8,
    len: usize,
    send: impl FnOnce(&mut Connection, &[u8]) -> Result<(), Error>,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or `len` readable bytes, by the header's contract.
        let data = unsafe { arg_bytes(data, len) }?;
        Ok(send(&mut c.conn, data)?)
    })
}

/// Sends a whole text message of `len` bytes, which must be UTF-8
/// (`WSM_ERR_INVALID_UTF8` otherwise). `WSM_ERR_WRONG_STATE` unless the state is open and
/// no close was sent.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `text` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_send_text(
    conn: *mut wsm_conn,
    text: *const c_char,
    len: usize,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or `len` readable bytes.
        let text = unsafe { arg_utf8(text.cast(), len) }?;
        Ok(c.conn.send_text(text)?)
    })
}

/// Sends a whole binary message of `len` bytes.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_send_binary(
    conn: *mut wsm_conn,
    data: *const u8,
    len: usize,
) -> wsm_result {
    send_bytes(conn, data, len, Connection::send_binary)
}

/// Sends one fragment of a message (RFC 6455 §5.4): the first starts a text (`text`) or
/// binary message, later ones must name the same kind (`WSM_ERR_FRAGMENT_MISMATCH`), and
/// `fin` ends it. Pings and pongs may go between fragments. Text fragments may split a code
/// point; the whole message must be UTF-8.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_send_fragment(
    conn: *mut wsm_conn,
    text: bool,
    data: *const u8,
    len: usize,
    fin: bool,
) -> wsm_result {
    let kind = if text {
        MessageKind::Text
    } else {
        MessageKind::Binary
    };
    send_bytes(conn, data, len, |c, data| c.send_fragment(kind, data, fin))
}

/// Sends a ping with up to 125 bytes of payload (`WSM_ERR_CONTROL_PAYLOAD_TOO_LONG`).
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_send_ping(
    conn: *mut wsm_conn,
    data: *const u8,
    len: usize,
) -> wsm_result {
    send_bytes(conn, data, len, Connection::send_ping)
}

/// Sends a pong with up to 125 bytes of payload (unsolicited, or answering pings when
/// auto-pong is off).
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_send_pong(
    conn: *mut wsm_conn,
    data: *const u8,
    len: usize,
) -> wsm_result {
    send_bytes(conn, data, len, Connection::send_pong)
}

/// Starts the closing handshake with `code` and a NUL-terminated UTF-8 `reason` of at most
/// 123 bytes (NULL for none). `code` must be sendable (1000-1003, 1007-1014, 3000-4999,
/// else `WSM_ERR_INVALID_CLOSE_CODE`), or 1005 with no reason for a close frame without a
/// body. The state becomes closing; nothing more may be sent.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `reason` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_close(
    conn: *mut wsm_conn,
    code: u16,
    reason: *const c_char,
) -> wsm_result {
    with_conn(conn, |c| {
        // SAFETY: NULL or a NUL-terminated string.
        let reason = unsafe { arg_opt_str(reason) }?.unwrap_or("");
        Ok(c.conn.close(CloseCode(code), reason)?)
    })
}
