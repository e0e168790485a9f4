//! `wsm_options`: the limits and timers both roles share, copied into a client or server
//! configuration by `wsm_client_config_set_options` / `wsm_server_config_set_options`.

use super::args::{arg_mut, arg_out, free_handle, into_handle};
use super::boundary::guard_result;
use super::result::wsm_result;
use crate::config::Options;
use core::time::Duration;

/// Connection options: limits, keepalive and timeouts. Create with `wsm_options_new`, free
/// with `wsm_options_free`; a configuration keeps its own copy, so the options may be freed
/// once set.
pub struct wsm_options {
    pub(crate) inner: Options,
}

impl wsm_options {
    fn update(&mut self, f: impl FnOnce(Options) -> Options) {
        self.inner = f(core::mem::take(&mut self.inner));
    }
}

/// Sets `*out` to new options holding the defaults: frames and messages up to 16 MiB,
/// handshake head up to 16 KiB and 64 header fields, no keepalive, close timeout 5 s,
/// handshake timeout 10 s, automatic pongs, whole messages, close reasons echoed. Free with
/// `wsm_options_free`.
///
/// # Safety
/// `out` is NULL or valid for writing a `*mut wsm_options`.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_new(out: *mut *mut wsm_options) -> wsm_result {
    guard_result(|| {
        let out = arg_out(out)?;
        let handle = into_handle(wsm_options {
            inner: Options::default(),
        });
        // SAFETY: `out` is non-NULL and, by the header's contract, writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees options made by `wsm_options_new`. NULL does nothing.
///
/// # Safety
/// `options` is NULL or a handle made by `wsm_options_new`, not freed yet and not used again
/// after this call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_free(options: *mut wsm_options) {
    super::boundary::guard(|| {
        // SAFETY: by the header's contract, made by `wsm_options_new` and not used again.
        unsafe { free_handle(options) }
    })
}

/// Applies `f` to the options behind `options`.
fn set(options: *mut wsm_options, f: impl FnOnce(Options) -> Options) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle from `wsm_options_new`, used by this thread only.
        let options = unsafe { arg_mut(options) }?;
        options.update(f);
        Ok(())
    })
}

/// The largest frame payload accepted; a larger frame closes the connection with 1009.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_max_frame_size(
    options: *mut wsm_options,
    bytes: usize,
) -> wsm_result {
    set(options, |o| o.max_frame_size(bytes))
}

/// The largest reassembled message accepted; a larger one closes with 1009. A compressed
/// message is measured inflated. When fragments are streamed, an uncompressed message is
/// bounded only frame by frame (`max_frame_size`), and each fragment of a compressed one may
/// inflate to at most `bytes`.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_max_message_size(
    options: *mut wsm_options,
    bytes: usize,
) -> wsm_result {
    set(options, |o| o.max_message_size(bytes))
}

/// The largest HTTP head of the opening handshake.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_max_handshake_size(
    options: *mut wsm_options,
    bytes: usize,
) -> wsm_result {
    set(options, |o| o.max_handshake_size(bytes))
}

/// The most header fields in the opening handshake.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_max_headers(
    options: *mut wsm_options,
    count: usize,
) -> wsm_result {
    set(options, |o| o.max_headers(count))
}

/// Keepalive: ping after `interval_ms` without input from the peer, and fail the connection
/// (`WSM_ERROR_PONG_TIMEOUT`, close code 1011) when no pong follows within `timeout_ms`.
/// `interval_ms` 0 turns keepalive off (the default). Both are capped at `UINT32_MAX` ms
/// (about 49.7 days), as are the other timeouts.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_keepalive(
    options: *mut wsm_options,
    interval_ms: u64,
    timeout_ms: u64,
) -> wsm_result {
    set(options, |mut o| {
        if interval_ms == 0 {
            o.keepalive = None;
            o
        } else {
            o.keepalive(
                Duration::from_millis(interval_ms),
                Duration::from_millis(timeout_ms),
            )
        }
    })
}

/// How long to wait for the peer's close frame after sending ours (and, for a client, for
/// the server to end the transport). Capped at about 49.7 days.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_close_timeout(
    options: *mut wsm_options,
    timeout_ms: u64,
) -> wsm_result {
    set(options, |o| {
        o.close_timeout(Duration::from_millis(timeout_ms))
    })
}

/// How long the opening handshake may take; 0 waits forever (a larger value is capped at
/// about 49.7 days).
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_handshake_timeout(
    options: *mut wsm_options,
    timeout_ms: u64,
) -> wsm_result {
    let timeout = (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms));
    set(options, |o| o.handshake_timeout(timeout))
}

/// Whether pings are answered with pongs automatically (default true).
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_auto_pong(
    options: *mut wsm_options,
    on: bool,
) -> wsm_result {
    set(options, |o| o.auto_pong(on))
}

/// Whether the automatic answer to the peer's close frame repeats its reason as well as its
/// code (default true, as tungstenite and Node's ws do; a browser's `close(4000, "bye")`
/// then sees the reason "bye" in its close event). False answers with the code alone.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_echo_close_reason(
    options: *mut wsm_options,
    on: bool,
) -> wsm_result {
    set(options, |o| o.echo_close_reason(on))
}

/// Whether data frames come out as `WSM_EVENT_FRAGMENT` events instead of whole messages
/// (default false).
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_stream_fragments(
    options: *mut wsm_options,
    on: bool,
) -> wsm_result {
    set(options, |o| o.stream_fragments(on))
}

/// Once more than `bytes` of output wait to be written, the send calls return
/// `WSM_ERR_OUTPUT_BUFFER_FULL` and write nothing (default `SIZE_MAX`: no cap). At most one
/// automatic pong is ever pending; stop reading while `wsm_conn_buffered_amount` is high.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_max_output_buffer(
    options: *mut wsm_options,
    bytes: usize,
) -> wsm_result {
    set(options, |o| o.max_output_buffer(bytes))
}

/// Whether every frame received and sent is recorded for `wsm_conn_poll_frame` (default
/// false: nothing is recorded). At most 1024 records wait; older ones are dropped and
/// counted by `wsm_conn_frames_dropped`.
///
/// # Safety
/// `options` is NULL or a live handle made by `wsm_options_new`, not used by another thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn wsm_options_set_trace_frames(
    options: *mut wsm_options,
    on: bool,
) -> wsm_result {
    set(options, |o| o.trace_frames(on))
}
