//! Input from the transport: bytes read elsewhere (`wsm_conn_receive`), bytes read straight
//! into the connection's buffer (`wsm_conn_receive_buffer`, `wsm_conn_commit_received`), and
//! the transport's end (`wsm_conn_receive_eof`).

use super::args::{arg_bytes, arg_out};
use super::conn::{with_engine, wsm_conn};
use super::result::wsm_result;

/// Feeds `len` bytes read from the transport. Events, output and a state change may follow;
/// a protocol error of the peer is not a result but a `WSM_EVENT_ERROR` event. Input after
/// the connection closed is ignored. `data` may be NULL when `len` is 0.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_receive(
    conn: *mut wsm_conn,
    data: *const u8,
    len: usize,
) -> wsm_result {
    with_engine(conn, |c| {
        // SAFETY: NULL or `len` readable bytes, by the header's contract.
        let data = unsafe { arg_bytes(data, len) }?;
        c.receive(data);
        Ok(())
    })
}

/// The transport ended (the peer closed it or a read failed). Before the closing handshake
/// completed this is an abnormal closure (`WSM_ERROR_EOF`, code 1006).
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_receive_eof(conn: *mut wsm_conn) -> wsm_result {
    with_engine(conn, |c| {
        c.receive_eof();
        Ok(())
    })
}

/// Lends room in the connection's input buffer for the transport to read into: sets `*buf`
/// and `*len` to at least `min` writable bytes (at least one; more when a large frame is
/// arriving). Read into it, then report how many bytes were read with
/// `wsm_conn_commit_received`: the bytes are received without being copied again.
///
/// The memory is initialised. `*buf` stays valid until the next call on `conn`, which should
/// be `wsm_conn_commit_received`; after any other call, ask again. An idle connection holds no
/// buffer: it is taken here and freed once every byte received is decoded, so ask with the
/// size of a typical read (for example 16384).
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `buf` and `len` are NULL or valid for writing a pointer and a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_receive_buffer(
    conn: *mut wsm_conn,
    min: usize,
    buf: *mut *mut u8,
    len: *mut usize,
) -> wsm_result {
    with_engine(conn, |c| {
        let (buf, len) = (arg_out(buf)?, arg_out(len)?);
        let room = c.receive_buffer(min);
        // SAFETY: both non-NULL and writable by the header's contract.
        unsafe {
            buf.write(room.as_mut_ptr());
            len.write(room.len());
        }
        Ok(())
    })
}

/// The transport wrote `n` bytes at the start of the buffer the last
/// `wsm_conn_receive_buffer` lent: they are received, as by `wsm_conn_receive` (drain
/// `wsm_conn_poll_event` next). `WSM_ERR_INVALID_ARGUMENT`, taking nothing, when `n` is
/// larger than that buffer or another call on `conn` came in between.
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_commit_received(conn: *mut wsm_conn, n: usize) -> wsm_result {
    with_engine(conn, |c| {
        c.commit_received(n)
            .map_err(|_| wsm_result::WSM_ERR_INVALID_ARGUMENT)
    })
}
