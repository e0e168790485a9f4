//! `wsm_conn`: one WebSocket connection, client or server, driven by the caller's I/O.

use super::args::{arg_mut, arg_out, arg_ref, free_handle, into_handle};
use super::boundary::{guard, guard_result};
use super::client_config::wsm_client_config;
use super::event::{wsm_event, wsm_event_kind};
use super::frame::wsm_frame_info;
use super::result::wsm_result;
use super::server_config::wsm_server_config;
use crate::connection::{Connection, State};
use crate::event::Event;
use crate::handshake::Request;
use crate::time::Instant;
use alloc::string::String;
use core::ffi::c_char;

/// `wsm_conn_poll_timeout` writes this when no timer runs.
pub const WSM_NO_TIMEOUT: u64 = u64::MAX;

/// A connection's state (the browser's `WebSocket.readyState`, with the same numbers).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsm_state {
    /// The opening handshake is under way.
    WSM_STATE_CONNECTING = 0,
    /// Messages flow both ways.
    WSM_STATE_OPEN = 1,
    /// A close frame was sent or received; the closing handshake is under way.
    WSM_STATE_CLOSING = 2,
    /// The connection is over: write the pending output, then close the transport.
    WSM_STATE_CLOSED = 3,
}

impl From<State> for wsm_state {
    fn from(s: State) -> Self {
        match s {
            State::Connecting => Self::WSM_STATE_CONNECTING,
            State::Open => Self::WSM_STATE_OPEN,
            State::Closing => Self::WSM_STATE_CLOSING,
            State::Closed => Self::WSM_STATE_CLOSED,
        }
    }
}

impl super::boundary::OnPanic for wsm_state {
    fn on_panic() -> Self {
        Self::WSM_STATE_CLOSED
    }
}

/// One connection, client or server. Create with `wsm_conn_client_new` or
/// `wsm_conn_server_new`, free with `wsm_conn_free` in any state.
///
/// The driving loop: read from the transport into `wsm_conn_receive_buffer` and report the
/// count with `wsm_conn_commit_received` (or feed bytes read elsewhere to `wsm_conn_receive`),
/// and its end to `wsm_conn_receive_eof`; after every call drain `wsm_conn_poll_event` until
/// `WSM_EVENT_NONE`, write `wsm_conn_pending_output` and report what was written with
/// `wsm_conn_consume_output`, and call `wsm_conn_handle_timeout` at the instant
/// `wsm_conn_poll_timeout` gives. The library never reads a clock: times are the caller's
/// monotonic milliseconds. On `WSM_EVENT_CLOSED`, write what is left of the output and
/// close the transport.
///
/// Threads: a connection may move between threads, but it is not shared between them: no
/// two calls on the same connection may run at once. Different connections are independent.
pub struct wsm_conn {
    pub(super) conn: Connection,
    /// The event last handed out; the pointers of its `wsm_event` point into it.
    current: Option<Event>,
    /// Text made for the current event (an error's description).
    scratch: String,
    /// The request a deferred-accept server is deciding on, for `wsm_conn_request_header`.
    pub(super) request: Option<Request>,
}

impl wsm_conn {
    fn new(conn: Connection) -> Self {
        Self {
            conn,
            current: None,
            scratch: String::new(),
            request: None,
        }
    }
}

/// Writes a new handle to `out`.
pub(super) fn hand_out(conn: Connection, out: *mut *mut wsm_conn) -> Result<(), wsm_result> {
    let out = arg_out(out)?;
    // SAFETY: `out` is non-NULL and writable by the header's contract.
    unsafe { out.write(into_handle(wsm_conn::new(conn))) };
    Ok(())
}

/// Sets `*out` to a new client connection made from `config` (which may be freed
/// afterwards). The Upgrade request is queued as output at once. Errors:
/// `WSM_ERR_INVALID_HEADER` for a host, path, origin, subprotocol or header HTTP forbids.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_client_config_new`, not used by another
///   thread during the call.
/// * `out` is NULL or valid for writing a `*mut wsm_conn`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_client_new(
    config: *const wsm_client_config,
    out: *mut *mut wsm_conn,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle from `wsm_client_config_new`.
        let config = unsafe { arg_ref(config) }?;
        arg_out(out)?;
        let conn = Connection::client(config.build())?;
        hand_out(conn, out)
    })
}

/// Sets `*out` to a new server connection made from `config` (which may be freed
/// afterwards), waiting for the client's Upgrade request.
///
/// # Safety
/// * `config` is NULL or a live handle made by `wsm_server_config_new`, not used by another
///   thread during the call.
/// * `out` is NULL or valid for writing a `*mut wsm_conn`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_server_new(
    config: *const wsm_server_config,
    out: *mut *mut wsm_conn,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle from `wsm_server_config_new`.
        let config = unsafe { arg_ref(config) }?;
        hand_out(Connection::server(config.inner.clone()), out)
    })
}

/// Frees a connection in any state, with everything it holds; pointers it handed out become
/// invalid. NULL does nothing. It does not close the transport: that is the caller's.
///
/// # Safety
/// `conn` is NULL or a handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not freed
/// yet and not used again after this call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_free(conn: *mut wsm_conn) {
    guard(|| {
        // SAFETY: by the header's contract, made by `wsm_conn_*_new` and not used again.
        unsafe { free_handle(conn) }
    })
}

/// Runs `f` on the engine of the connection behind `conn`.
pub(super) fn with_engine(
    conn: *mut wsm_conn,
    f: impl FnOnce(&mut Connection) -> Result<(), wsm_result>,
) -> wsm_result {
    with_conn(conn, |c| f(&mut c.conn))
}

/// Runs `f` on the connection behind `conn`.
pub(super) fn with_conn(
    conn: *mut wsm_conn,
    f: impl FnOnce(&mut wsm_conn) -> Result<(), wsm_result>,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle, not used by another thread during the call.
        f(unsafe { arg_mut(conn) }?)
    })
}

/// Hands out a view into the connection behind `conn` as `*data`/`*len`. `find` checks the
/// call's other arguments (which come before `data` and `len`, so are checked before them)
/// and gives the bytes, or `None`: `WSM_ERR_NOT_FOUND` once `data` and `len` are checked.
pub(super) fn hand_out_view(
    conn: *const wsm_conn,
    data: *mut *const u8,
    len: *mut usize,
    find: impl FnOnce(&wsm_conn) -> Result<Option<&[u8]>, wsm_result>,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { arg_ref(conn) }?;
        let found = find(c)?;
        let (data, len) = (arg_out(data)?, arg_out(len)?);
        let found = found.ok_or(wsm_result::WSM_ERR_NOT_FOUND)?;
        // SAFETY: both non-NULL and writable by the header's contract.
        unsafe {
            data.write(found.as_ptr());
            len.write(found.len());
        }
        Ok(())
    })
}

/// Tells the connection the time, `now_ms` milliseconds on the caller's monotonic clock,
/// firing the timers that are due (keepalive pings, pong, close and handshake timeouts).
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_handle_timeout(conn: *mut wsm_conn, now_ms: u64) -> wsm_result {
    with_conn(conn, |c| {
        c.conn.handle_timeout(Instant::from_millis(now_ms));
        Ok(())
    })
}

/// Sets `*deadline_ms` to when `wsm_conn_handle_timeout` should be called next, on the same
/// clock, or `WSM_NO_TIMEOUT` when no timer runs. The deadline may be in the past: then call
/// it at once.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `deadline_ms` is NULL or valid for writing a `u64`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_poll_timeout(
    conn: *const wsm_conn,
    deadline_ms: *mut u64,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { arg_ref(conn) }?;
        let out = arg_out(deadline_ms)?;
        let deadline = c
            .conn
            .poll_timeout()
            .map_or(WSM_NO_TIMEOUT, |t| t.as_millis());
        // SAFETY: non-NULL and writable by the header's contract.
        unsafe { out.write(deadline) };
        Ok(())
    })
}

/// Writes the next event to `*event` (`WSM_EVENT_NONE` when there is none). Its `data`
/// stays valid until the next call that takes `conn` as non-const, or `wsm_conn_free`.
/// Call it until it gives `WSM_EVENT_NONE` after every input and command.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `event` is NULL or valid for writing a `wsm_event`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_poll_event(
    conn: *mut wsm_conn,
    event: *mut wsm_event,
) -> wsm_result {
    with_conn(conn, |c| {
        let out = arg_out(event)?;
        c.current = c.conn.poll_event();
        if let Some(Event::Request(req)) = &c.current {
            c.request = Some(Request::clone(req));
        }
        let view = match &c.current {
            Some(e) => wsm_event::view(e, &mut c.scratch),
            None => wsm_event::empty(wsm_event_kind::WSM_EVENT_NONE),
        };
        // SAFETY: non-NULL and writable by the header's contract; written whole, so the
        // caller need not initialise it.
        unsafe { out.write(view) };
        Ok(())
    })
}

/// The former name of `wsm_conn_poll_event`, kept for programs written against it.
///
/// # Safety
/// As `wsm_conn_poll_event`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_next_event(
    conn: *mut wsm_conn,
    event: *mut wsm_event,
) -> wsm_result {
    // SAFETY: the caller upholds wsm_conn_poll_event's contract, which is the same.
    unsafe { wsm_conn_poll_event(conn, event) }
}

/// Writes the next frame record to `*frame` (`WSM_FRAME_NONE` when there is none), when
/// the options had `wsm_options_set_trace_frames`: one per frame received (recorded as
/// `wsm_conn_poll_event` decodes it, so before the event it makes) and per frame queued
/// as output. Drain it after each event and command.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `frame` is NULL or valid for writing a `wsm_frame_info`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_poll_frame(
    conn: *mut wsm_conn,
    frame: *mut wsm_frame_info,
) -> wsm_result {
    with_conn(conn, |c| {
        let out = arg_out(frame)?;
        let view = wsm_frame_info::view(c.conn.poll_frame());
        // SAFETY: non-NULL and writable by the header's contract; written whole.
        unsafe { out.write(view) };
        Ok(())
    })
}

/// How many frame records were dropped, oldest first, because more than 1024 waited
/// undrained. 0 for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_frames_dropped(conn: *const wsm_conn) -> u64 {
    guard(|| {
        // SAFETY: NULL or a live handle.
        unsafe { arg_ref(conn) }.map_or(0, |c| c.conn.frames_dropped())
    })
}

/// Sets `*data` and `*len` to the bytes waiting to be written to the transport (`*len` 0
/// when none). They stay valid until the next call that takes `conn` as non-const. After
/// writing some of them, call `wsm_conn_consume_output` with how many were written.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `data` is NULL or valid for writing a `*const u8`.
/// * `len` is NULL or valid for writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_pending_output(
    conn: *const wsm_conn,
    data: *mut *const u8,
    len: *mut usize,
) -> wsm_result {
    hand_out_view(conn, data, len, |c| Ok(Some(c.conn.pending_output())))
}

/// Marks the first `n` bytes of the pending output as written. `WSM_ERR_INVALID_ARGUMENT`
/// when `n` is more than is pending (nothing is consumed then).
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_consume_output(conn: *mut wsm_conn, n: usize) -> wsm_result {
    with_conn(conn, |c| {
        if n > c.conn.pending_output().len() {
            return Err(wsm_result::WSM_ERR_INVALID_ARGUMENT);
        }
        c.conn.consume_output(n);
        Ok(())
    })
}

/// How many bytes of output wait to be written (the browser's `bufferedAmount`): stop
/// producing when it grows too large. 0 for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_buffered_amount(conn: *const wsm_conn) -> usize {
    guard(|| {
        // SAFETY: NULL or a live handle.
        unsafe { arg_ref(conn) }.map_or(0, |c| c.conn.buffered_amount())
    })
}

/// The connection's state; `WSM_STATE_CLOSED` for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`, not
/// used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_state(conn: *const wsm_conn) -> wsm_state {
    guard(|| {
        // SAFETY: NULL or a live handle.
        unsafe { arg_ref(conn) }.map_or(wsm_state::WSM_STATE_CLOSED, |c| c.conn.state().into())
    })
}

/// Sets `*value`/`*len` to the negotiated subprotocol (valid until the next non-const call
/// on `conn`);
/// `WSM_ERR_NOT_FOUND` when none was agreed (or the connection is not open yet).
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `value` is NULL or valid for writing a `*const c_char`.
/// * `len` is NULL or valid for writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_subprotocol(
    conn: *const wsm_conn,
    value: *mut *const c_char,
    len: *mut usize,
) -> wsm_result {
    hand_out_view(conn, value.cast(), len, |c| {
        Ok(c.conn.subprotocol().map(str::as_bytes))
    })
}

/// Sets `*value`/`*len` to the negotiated `Sec-WebSocket-Extensions` value (valid until the
/// next non-const call on `conn`); `*len` is 0 when no extension is in force.
///
/// # Safety
/// * `conn` is NULL or a live handle made by `wsm_conn_client_new` or `wsm_conn_server_new`,
///   not used by another thread during the call.
/// * `value` is NULL or valid for writing a `*const c_char`.
/// * `len` is NULL or valid for writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn wsm_conn_extensions(
    conn: *const wsm_conn,
    value: *mut *const c_char,
    len: *mut usize,
) -> wsm_result {
    hand_out_view(conn, value.cast(), len, |c| {
        Ok(Some(c.conn.extensions().as_bytes()))
    })
}
