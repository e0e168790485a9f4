//! The C ABI (`src/ffi`, feature `ffi`): arbitrary call sequences through the `extern "C"`
//! functions, NULL pointers, invalid UTF-8 and wrong-state calls included, each mirrored
//! on a Rust `Connection` twin built from the same configuration and random source.
//!
//! Input: an `arbitrary` script: role, options, optional generated handshake, then calls.
//!
//! Invariants:
//! 1. **No panic crosses the boundary**: no call returns `WSM_ERR_PANIC`.
//! 2. **Arguments are checked first**: a NULL handle, NULL output or NULL buffer with a
//!    non-zero length gives `WSM_ERR_NULL_PARAMETER`; text that is not UTF-8 gives
//!    `WSM_ERR_INVALID_UTF8`; either way nothing happens (the twin is not called and the
//!    observable state stays equal), and outputs are left untouched (a sentinel stays).
//!    Calls that return no result give their neutral value for NULL (`0`, `CLOSED`).
//! 3. **Faithful wrapper**: otherwise every call returns `WSM_OK` exactly when the twin's
//!    call succeeds, and the error code of the twin's error; after every call, state,
//!    buffered amount, pending output bytes and next timeout equal the twin's.
//! 4. **Events**: `wsm_conn_poll_event` gives the twin's next event field for field as the
//!    header documents them (kind, data bytes, code, status, fin, text, clean, websocket,
//!    error kind); `data` is readable for `len` bytes (AddressSanitizer watches).
//! 5. **Strings**: `wsm_result_str` and `wsm_version` give NUL-terminated text for any code.
//!
//! Safety: every `unsafe` call passes the header's contract: each pointer is NULL on purpose
//! (invariant 2), a handle made here and not yet freed (`Pair::c` lives until the end), or
//! a local, `CString` or buffer that outlives the call; the random callback's userdata is
//! the boxed generator, which outlives the connection.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use wsfuzz::http::{RequestSpec, ResponseSpec};
use wsfuzz::rng::Deterministic;
use wsmachine::ffi::answer::*;
use wsmachine::ffi::client_config::*;
use wsmachine::ffi::conn::*;
use wsmachine::ffi::describe::wsm_result_str;
use wsmachine::ffi::event::{wsm_error_kind, wsm_event, wsm_event_kind};
use wsmachine::ffi::options::*;
use wsmachine::ffi::receive::*;
use wsmachine::ffi::result::wsm_result;
use wsmachine::ffi::send::*;
use wsmachine::ffi::server_config::*;
use wsmachine::ffi::version::wsm_version;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Event, Failure, HandshakeError, Instant, MessageKind,
    Options, RandomSource, ServerConfig,
};

use wsm_result::*;

#[derive(Debug, Arbitrary)]
struct Script {
    client: bool,
    defer: bool,
    stream_fragments: bool,
    no_auto_pong: bool,
    small_frames: bool,
    keepalive: Option<(u16, u16)>,
    protocol: Option<String>,
    header: Option<(String, String)>,
    /// Feed a valid generated handshake first.
    handshake: bool,
    request: RequestSpec,
    response: ResponseSpec,
    seed: u64,
    calls: Vec<Call>,
}

/// A buffer argument: the bytes, or NULL with this length.
#[derive(Debug, Arbitrary)]
enum Buf {
    Bytes(Vec<u8>),
    Null(u8),
}

#[derive(Debug, Arbitrary)]
enum Call {
    Receive(Buf),
    /// `wsm_conn_receive_buffer(min)`, then the bytes written into it (cut to its length)
    /// and `wsm_conn_commit_received(committed)`: the count is the bytes' length, or any
    /// number (too large ones must be refused and take nothing).
    ReceiveInPlace {
        min: u16,
        bytes: Vec<u8>,
        committed: Option<u32>,
        null_out: bool,
    },
    ReceiveEof,
    HandleTimeout(u16),
    PollTimeout {
        null_out: bool,
    },
    NextEvent {
        null_out: bool,
    },
    PendingOutput {
        null_data: bool,
        null_len: bool,
    },
    Consume(u16),
    SendText(Buf),
    SendBinary(Buf),
    SendFragment {
        text: bool,
        data: Buf,
        fin: bool,
    },
    Ping(Buf),
    Pong(Buf),
    Close {
        code: u16,
        reason: Option<String>,
    },
    Accept(Option<String>),
    Reject {
        status: u16,
        reason: Option<String>,
    },
    Respond {
        status: u16,
        content_type: Option<String>,
        body: Buf,
    },
    RequestHeader {
        name: Option<String>,
        null_out: bool,
    },
    /// `wsm_conn_response_status` and `wsm_conn_response_header`, against the twin's
    /// `response` and `response_header`.
    ResponseHeader {
        name: Option<String>,
        null_out: bool,
    },
    Subprotocol {
        null_out: bool,
    },
    /// The same call family on a NULL connection.
    NullConn(u8),
    ResultStr(u32),
}

/// A C string from fuzzer text (cut at the first NUL, which C could not pass).
fn cstr(s: &str) -> CString {
    CString::new(s.split('\0').next().unwrap_or("")).unwrap()
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

fn buf(b: &Buf) -> (*const u8, usize, Option<&[u8]>) {
    match b {
        Buf::Bytes(v) => (v.as_ptr(), v.len(), Some(v)),
        // NULL with length 0 is an empty buffer; with more it is a NULL-pointer error.
        Buf::Null(0) => (ptr::null(), 0, Some(&[])),
        Buf::Null(n) => (ptr::null(), usize::from(*n), None),
    }
}

unsafe extern "C" fn fill(userdata: *mut c_void, out: *mut u8, len: usize) {
    // SAFETY: `userdata` is the Box<Deterministic> this target keeps alive for the
    // connection's life; `out` is valid for `len` bytes by the callback's contract.
    unsafe {
        let rng = &mut *userdata.cast::<Deterministic>();
        rng.fill(std::slice::from_raw_parts_mut(out, len));
    }
}

fn expected(r: Result<(), wsmachine::Error>) -> wsm_result {
    match r {
        Ok(()) => WSM_OK,
        Err(e) => wsm_result::from(e),
    }
}

/// The C view of an event, as the header documents it.
struct View {
    kind: wsm_event_kind,
    data: Vec<u8>,
    code: u16,
    status: u16,
    fin: bool,
    text: bool,
    clean: bool,
    websocket: bool,
    error: wsm_error_kind,
}

fn documented(e: &Event) -> View {
    use wsm_event_kind::*;
    let mut v = View {
        kind: WSM_EVENT_NONE,
        data: Vec::new(),
        code: 0,
        status: 0,
        fin: false,
        text: false,
        clean: false,
        websocket: false,
        error: wsm_error_kind::WSM_ERROR_NONE,
    };
    match e {
        Event::Request(r) => {
            v.kind = WSM_EVENT_REQUEST;
            v.data = r.path.as_bytes().to_vec();
            v.websocket = r.websocket;
        }
        Event::Open { subprotocol, .. } => {
            v.kind = WSM_EVENT_OPEN;
            v.data = subprotocol.clone().unwrap_or_default().into_bytes();
        }
        Event::Text(t) => {
            v.kind = WSM_EVENT_TEXT;
            v.data = t.as_bytes().to_vec();
        }
        Event::Binary(b) => {
            v.kind = WSM_EVENT_BINARY;
            v.data = b.to_vec();
        }
        Event::Fragment { kind, data, fin } => {
            v.kind = WSM_EVENT_FRAGMENT;
            v.data = data.to_vec();
            v.fin = *fin;
            v.text = *kind == MessageKind::Text;
        }
        Event::Ping(p) => {
            v.kind = WSM_EVENT_PING;
            v.data = p.to_vec();
        }
        Event::Pong(p) => {
            v.kind = WSM_EVENT_PONG;
            v.data = p.to_vec();
        }
        Event::Close { code, reason } => {
            v.kind = WSM_EVENT_CLOSE;
            v.code = code.map_or(1005, |c| c.0);
            v.data = reason.as_bytes().to_vec();
        }
        Event::Error(f) => {
            v.kind = WSM_EVENT_ERROR;
            v.data = f.to_string().into_bytes();
            v.error = match f {
                Failure::Protocol(p) => {
                    v.code = p.close_code().0;
                    wsm_error_kind::WSM_ERROR_PROTOCOL
                }
                Failure::Handshake(h) => {
                    v.status = match h {
                        HandshakeError::UnexpectedStatus(s) => *s,
                        other => other.status(),
                    };
                    wsm_error_kind::WSM_ERROR_HANDSHAKE
                }
                Failure::PongTimeout => {
                    v.code = 1011;
                    wsm_error_kind::WSM_ERROR_PONG_TIMEOUT
                }
                Failure::CloseTimeout => wsm_error_kind::WSM_ERROR_CLOSE_TIMEOUT,
                Failure::Eof => wsm_error_kind::WSM_ERROR_EOF,
                Failure::NoRandomSource => wsm_error_kind::WSM_ERROR_NO_RANDOM_SOURCE,
                _ => panic!("a failure the header does not document: {f:?}"),
            };
        }
        Event::Closed {
            clean,
            code,
            reason,
        } => {
            v.kind = WSM_EVENT_CLOSED;
            v.clean = *clean;
            v.code = code.0;
            v.data = reason.as_bytes().to_vec();
        }
        _ => panic!("an event the header does not document: {e:?}"),
    }
    v
}

struct Pair {
    c: *mut wsm_conn,
    rust: Connection,
    now: u64,
}

impl Pair {
    /// After every call: the observable state is the twin's.
    fn compare(&self) {
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(unsafe { wsm_conn_state(self.c) }, self.rust.state().into());
        assert_eq!(
            // SAFETY: NULL or live pointers only; see "Safety" above.
            unsafe { wsm_conn_buffered_amount(self.c) },
            self.rust.buffered_amount()
        );
        let (mut data, mut len) = (ptr::null::<u8>(), 0usize);
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(
            unsafe { wsm_conn_pending_output(self.c, &mut data, &mut len) },
            WSM_OK
        );
        // SAFETY: the library just handed out `len` readable bytes at `data`.
        let out = unsafe { std::slice::from_raw_parts(data, len) };
        assert_eq!(out, self.rust.pending_output());
        let mut deadline = 7u64;
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(
            unsafe { wsm_conn_poll_timeout(self.c, &mut deadline) },
            WSM_OK
        );
        assert_eq!(
            deadline,
            self.rust
                .poll_timeout()
                .map_or(u64::MAX, Instant::as_millis)
        );
    }

    fn check(&self, got: wsm_result, want: wsm_result) {
        assert_ne!(got, WSM_ERR_PANIC, "a panic reached the C boundary");
        assert_eq!(got, want);
        self.compare();
    }

    fn call(&mut self, call: &Call) {
        let c = self.c;
        match call {
            Call::Receive(b) => {
                let (p, n, bytes) = buf(b);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_receive(c, p, n) };
                match bytes {
                    Some(bytes) => {
                        self.rust.receive(bytes);
                        self.check(got, WSM_OK);
                    }
                    None => self.check(got, WSM_ERR_NULL_PARAMETER),
                }
            }
            Call::ReceiveInPlace {
                min,
                bytes,
                committed,
                null_out,
            } => {
                let mut room: *mut u8 = ptr::null_mut();
                let mut len = usize::MAX;
                let out = if *null_out {
                    ptr::null_mut()
                } else {
                    &mut room as *mut *mut u8
                };
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_receive_buffer(c, usize::from(*min), out, &mut len) };
                if *null_out {
                    assert_eq!(len, usize::MAX, "an output was written on failure");
                    return self.check(got, WSM_ERR_NULL_PARAMETER);
                }
                assert_eq!(got, WSM_OK);
                assert!(!room.is_null() && len >= usize::from(*min).max(1));
                let n = bytes.len().min(len);
                // SAFETY: `room` is writable for `len` bytes until the next call on `c` (the
                // header's contract), and `n <= len`; `bytes` is a live Vec.
                unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), room, n) };
                let count = committed.map_or(n, |k| k as usize);
                // What C committed is what the buffer holds (past `n`, whatever it held
                // before): the twin gets the same bytes.
                let read = (count <= len).then(|| {
                    // SAFETY: `room` is readable for `len` bytes until the next call on `c`
                    // (the header's contract; it is initialised), and `count <= len`.
                    unsafe { std::slice::from_raw_parts(room, count) }.to_vec()
                });
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_commit_received(c, count) };
                match read {
                    Some(read) => {
                        self.rust.receive(&read);
                        self.check(got, WSM_OK);
                    }
                    None => self.check(got, WSM_ERR_INVALID_ARGUMENT),
                }
            }
            Call::ReceiveEof => {
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_receive_eof(c) };
                self.rust.receive_eof();
                self.check(got, WSM_OK);
            }
            Call::HandleTimeout(d) => {
                self.now += u64::from(*d);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_handle_timeout(c, self.now) };
                self.rust.handle_timeout(Instant::from_millis(self.now));
                self.check(got, WSM_OK);
            }
            Call::PollTimeout { null_out } => {
                if *null_out {
                    self.check(
                        // SAFETY: NULL or live pointers only; see "Safety" above.
                        unsafe { wsm_conn_poll_timeout(c, ptr::null_mut()) },
                        WSM_ERR_NULL_PARAMETER,
                    );
                }
            }
            Call::NextEvent { null_out: true } => {
                self.check(
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    unsafe { wsm_conn_poll_event(c, ptr::null_mut()) },
                    WSM_ERR_NULL_PARAMETER,
                );
            }
            Call::NextEvent { null_out: false } => {
                let mut ev = std::mem::MaybeUninit::<wsm_event>::uninit();
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_poll_event(c, ev.as_mut_ptr()) };
                assert_eq!(got, WSM_OK);
                // SAFETY: WSM_OK means the library wrote the whole struct.
                let ev = unsafe { ev.assume_init() };
                // SAFETY: `data` is readable for `len` bytes until the next call.
                let data = unsafe { std::slice::from_raw_parts(ev.data, ev.len) }.to_vec();
                match self.rust.poll_event() {
                    None => assert_eq!(ev.kind, wsm_event_kind::WSM_EVENT_NONE),
                    Some(e) => {
                        let want = documented(&e);
                        assert_eq!(ev.kind, want.kind, "{e:?}");
                        assert_eq!(data, want.data, "{e:?}");
                        assert_eq!(
                            (
                                ev.code,
                                ev.status,
                                ev.fin,
                                ev.text,
                                ev.clean,
                                ev.websocket,
                                ev.error
                            ),
                            (
                                want.code,
                                want.status,
                                want.fin,
                                want.text,
                                want.clean,
                                want.websocket,
                                want.error
                            ),
                            "{e:?}"
                        );
                    }
                }
                self.compare();
            }
            Call::PendingOutput {
                null_data,
                null_len,
            } => {
                if *null_data || *null_len {
                    let mut len = 0xdead_usize;
                    let mut data = ptr::null::<u8>();
                    let dp = if *null_data {
                        ptr::null_mut()
                    } else {
                        &mut data as *mut _
                    };
                    let lp = if *null_len {
                        ptr::null_mut()
                    } else {
                        &mut len as *mut _
                    };
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    self.check(
                        unsafe { wsm_conn_pending_output(c, dp, lp) },
                        WSM_ERR_NULL_PARAMETER,
                    );
                    assert_eq!(len, 0xdead, "output written on an error");
                }
            }
            Call::Consume(n) => {
                let n = usize::from(*n);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_consume_output(c, n) };
                if n > self.rust.buffered_amount() {
                    self.check(got, WSM_ERR_INVALID_ARGUMENT);
                } else {
                    self.rust.consume_output(n);
                    self.check(got, WSM_OK);
                }
            }
            Call::SendText(b) => {
                let (p, n, bytes) = buf(b);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_send_text(c, p.cast(), n) };
                match bytes.map(std::str::from_utf8) {
                    None => self.check(got, WSM_ERR_NULL_PARAMETER),
                    Some(Err(_)) => self.check(got, WSM_ERR_INVALID_UTF8),
                    Some(Ok(s)) => {
                        let want = expected(self.rust.send_text(s));
                        self.check(got, want);
                    }
                }
            }
            Call::SendBinary(b) => {
                let (p, n, bytes) = buf(b);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_send_binary(c, p, n) };
                match bytes {
                    None => self.check(got, WSM_ERR_NULL_PARAMETER),
                    Some(d) => {
                        let want = expected(self.rust.send_binary(d));
                        self.check(got, want);
                    }
                }
            }
            Call::SendFragment { text, data, fin } => {
                let (p, n, bytes) = buf(data);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_send_fragment(c, *text, p, n, *fin) };
                match bytes {
                    None => self.check(got, WSM_ERR_NULL_PARAMETER),
                    Some(d) => {
                        let kind = if *text {
                            MessageKind::Text
                        } else {
                            MessageKind::Binary
                        };
                        let want = expected(self.rust.send_fragment(kind, d, *fin));
                        self.check(got, want);
                    }
                }
            }
            Call::Ping(b) | Call::Pong(b) => {
                let ping = matches!(call, Call::Ping(_));
                let (p, n, bytes) = buf(b);
                let got = if ping {
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    unsafe { wsm_conn_send_ping(c, p, n) }
                } else {
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    unsafe { wsm_conn_send_pong(c, p, n) }
                };
                match bytes {
                    None => self.check(got, WSM_ERR_NULL_PARAMETER),
                    Some(d) => {
                        let r = if ping {
                            self.rust.send_ping(d)
                        } else {
                            self.rust.send_pong(d)
                        };
                        self.check(got, expected(r));
                    }
                }
            }
            Call::Close { code, reason } => {
                let reason = reason.as_deref().map(cstr);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_close(c, *code, opt_ptr(&reason)) };
                let text = reason.as_ref().map_or("", |r| r.to_str().unwrap());
                let want = expected(self.rust.close(CloseCode(*code), text));
                self.check(got, want);
            }
            Call::Accept(p) => {
                let p = p.as_deref().map(cstr);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_accept(c, opt_ptr(&p)) };
                let want = expected(self.rust.accept(p.as_ref().map(|s| s.to_str().unwrap())));
                self.check(got, want);
            }
            Call::Reject { status, reason } => {
                let reason = reason.as_deref().map(cstr);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_reject(c, *status, opt_ptr(&reason)) };
                let text = reason.as_ref().map_or("", |r| r.to_str().unwrap());
                let want = expected(self.rust.reject(*status, text));
                self.check(got, want);
            }
            Call::Respond {
                status,
                content_type,
                body,
            } => {
                let ct = content_type.as_deref().map(cstr);
                let (p, n, bytes) = buf(body);
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_respond(c, *status, opt_ptr(&ct), p, n) };
                match (ct.as_ref(), bytes) {
                    (Some(ct), Some(body)) => {
                        let want = expected(self.rust.respond(*status, ct.to_str().unwrap(), body));
                        self.check(got, want);
                    }
                    _ => self.check(got, WSM_ERR_NULL_PARAMETER),
                }
            }
            Call::RequestHeader { name, null_out } => {
                let name = name.as_deref().map(cstr);
                let mut value = ptr::null::<c_char>();
                let mut len = 0xdead_usize;
                let vp = if *null_out {
                    ptr::null_mut()
                } else {
                    &mut value as *mut _
                };
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_request_header(c, opt_ptr(&name), vp, &mut len) };
                assert_ne!(got, WSM_ERR_PANIC);
                if name.is_none() || *null_out {
                    assert_eq!(got, WSM_ERR_NULL_PARAMETER);
                }
                if got == WSM_OK {
                    // SAFETY: WSM_OK hands out `len` readable bytes at `value`.
                    let _ = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) };
                } else {
                    assert_eq!(len, 0xdead, "output written on an error");
                }
                self.compare();
            }
            Call::ResponseHeader { name, null_out } => {
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let status = unsafe { wsm_conn_response_status(c) };
                assert_eq!(status, self.rust.response().map_or(0, |(s, _)| s));
                let cname = name.as_deref().map(cstr);
                let mut value = ptr::null::<c_char>();
                let mut len = 0xdead_usize;
                let vp = if *null_out {
                    ptr::null_mut()
                } else {
                    &mut value as *mut _
                };
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_response_header(c, opt_ptr(&cname), vp, &mut len) };
                assert_ne!(got, WSM_ERR_PANIC);
                match (&cname, *null_out) {
                    (None, _) | (_, true) => assert_eq!(got, WSM_ERR_NULL_PARAMETER),
                    (Some(n), false) => {
                        let want = self.rust.response_header(n.to_str().unwrap_or(""));
                        match want {
                            Some(v) => {
                                assert_eq!(got, WSM_OK);
                                // SAFETY: WSM_OK hands out `len` readable bytes at `value`.
                                let seen =
                                    unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) };
                                assert_eq!(seen, v.as_bytes());
                            }
                            None => assert_eq!(got, WSM_ERR_NOT_FOUND),
                        }
                    }
                }
                if got != WSM_OK {
                    assert_eq!(len, 0xdead, "output written on an error");
                }
                self.compare();
            }
            Call::Subprotocol { null_out } => {
                let mut value = ptr::null::<c_char>();
                let mut len = 0xdead_usize;
                let vp = if *null_out {
                    ptr::null_mut()
                } else {
                    &mut value as *mut _
                };
                // SAFETY: NULL or live pointers only; see "Safety" above.
                let got = unsafe { wsm_conn_subprotocol(c, vp, &mut len) };
                assert_ne!(got, WSM_ERR_PANIC);
                if *null_out {
                    assert_eq!(got, WSM_ERR_NULL_PARAMETER);
                    assert_eq!(len, 0xdead);
                } else if got == WSM_OK {
                    // SAFETY: as above.
                    let s = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) };
                    assert_eq!(s, self.rust.subprotocol().unwrap_or("").as_bytes());
                }
                self.compare();
            }
            Call::NullConn(which) => {
                let null = ptr::null_mut::<wsm_conn>();
                let r = match which % 10 {
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    0 => unsafe { wsm_conn_receive(null, b"x".as_ptr(), 1) },
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    1 => unsafe { wsm_conn_receive_eof(null) },
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    2 => unsafe { wsm_conn_handle_timeout(null, 1) },
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    3 => unsafe { wsm_conn_send_text(null, c"x".as_ptr(), 1) },
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    4 => unsafe { wsm_conn_close(null, 1000, ptr::null()) },
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    5 => unsafe { wsm_conn_consume_output(null, 0) },
                    7 => {
                        let (mut room, mut len) = (ptr::null_mut(), 0);
                        // SAFETY: NULL or live pointers only; see "Safety" above.
                        unsafe { wsm_conn_receive_buffer(null, 16, &mut room, &mut len) }
                    }
                    // SAFETY: NULL or live pointers only; see "Safety" above.
                    8 => unsafe { wsm_conn_commit_received(null, 0) },
                    6 => {
                        let mut ev = std::mem::MaybeUninit::<wsm_event>::uninit();
                        // SAFETY: NULL or live pointers only; see "Safety" above.
                        unsafe { wsm_conn_poll_event(null, ev.as_mut_ptr()) }
                    }
                    _ => {
                        // SAFETY: NULL or live pointers only; see "Safety" above.
                        assert_eq!(unsafe { wsm_conn_buffered_amount(null) }, 0);
                        // SAFETY: NULL or live pointers only; see "Safety" above.
                        assert_eq!(unsafe { wsm_conn_state(null) }, wsm_state::WSM_STATE_CLOSED);
                        // SAFETY: NULL or live pointers only; see "Safety" above.
                        unsafe { wsm_conn_free(null) };
                        WSM_ERR_NULL_PARAMETER
                    }
                };
                self.check(r, WSM_ERR_NULL_PARAMETER);
            }
            Call::ResultStr(code) => {
                let p = wsm_result_str(*code);
                assert!(!p.is_null());
                // SAFETY: documented as a static NUL-terminated string.
                let s = unsafe { CStr::from_ptr(p) };
                assert!(!s.to_bytes().is_empty());
            }
        }
    }
}

fuzz_target!(|script: Script| {
    // SAFETY: documented as a static NUL-terminated string.
    assert!(!unsafe { CStr::from_ptr(wsm_version()) }
        .to_bytes()
        .is_empty());

    let mut opts = ptr::null_mut();
    // SAFETY: NULL or live pointers only; see "Safety" above.
    assert_eq!(
        unsafe { wsm_options_new(ptr::null_mut()) },
        WSM_ERR_NULL_PARAMETER
    );
    // SAFETY: NULL or live pointers only; see "Safety" above.
    assert_eq!(unsafe { wsm_options_new(&mut opts) }, WSM_OK);
    let mut rust_opts = Options::new()
        .stream_fragments(script.stream_fragments)
        .auto_pong(!script.no_auto_pong);
    assert_eq!(
        // SAFETY: NULL or live pointers only; see "Safety" above.
        unsafe { wsm_options_set_stream_fragments(opts, script.stream_fragments) },
        WSM_OK
    );
    assert_eq!(
        // SAFETY: NULL or live pointers only; see "Safety" above.
        unsafe { wsm_options_set_auto_pong(opts, !script.no_auto_pong) },
        WSM_OK
    );
    if script.small_frames {
        rust_opts = rust_opts.max_frame_size(64).max_message_size(100);
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(unsafe { wsm_options_set_max_frame_size(opts, 64) }, WSM_OK);
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(
            unsafe { wsm_options_set_max_message_size(opts, 100) },
            WSM_OK
        );
    }
    if let Some((i, t)) = script.keepalive {
        let (i, t) = (u64::from(i), u64::from(t));
        // SAFETY: NULL or live pointers only; see "Safety" above.
        let r = unsafe { wsm_options_set_keepalive(opts, i, t) };
        assert_ne!(r, WSM_ERR_PANIC);
        // Interval 0 turns keepalive off in C (documented); the Rust options have no such value.
        if r == WSM_OK && i > 0 {
            rust_opts = rust_opts.keepalive(
                std::time::Duration::from_millis(i),
                std::time::Duration::from_millis(t),
            );
        }
    }
    let protocol = script.protocol.as_deref().map(cstr);
    let header = script.header.as_ref().map(|(n, v)| (cstr(n), cstr(v)));
    let mut rng = Box::new(Deterministic::new(script.request.nonce(), script.seed));
    let mut conn = ptr::null_mut();
    let mut prelude = Vec::new();
    let rust = if script.client {
        let mut cfg = ptr::null_mut();
        assert_eq!(
            // SAFETY: NULL or live pointers only; see "Safety" above.
            unsafe { wsm_client_config_new(ptr::null(), c"/".as_ptr(), &mut cfg) },
            WSM_ERR_NULL_PARAMETER
        );
        assert_eq!(
            // SAFETY: NULL or live pointers only; see "Safety" above.
            unsafe { wsm_client_config_new(c"example.com".as_ptr(), c"/chat".as_ptr(), &mut cfg) },
            WSM_OK
        );
        let mut rc = ClientConfig::new("example.com", "/chat")
            .options(rust_opts)
            .random(Deterministic::new(script.request.nonce(), script.seed));
        if let Some(p) = &protocol {
            // SAFETY: NULL or live pointers only; see "Safety" above.
            if unsafe { wsm_client_config_add_subprotocol(cfg, p.as_ptr()) } == WSM_OK {
                rc = rc.subprotocol(p.to_str().unwrap());
            }
        }
        if let Some((n, v)) = &header {
            // SAFETY: NULL or live pointers only; see "Safety" above.
            if unsafe { wsm_client_config_add_header(cfg, n.as_ptr(), v.as_ptr()) } == WSM_OK {
                rc = rc.header(n.to_str().unwrap(), v.to_str().unwrap());
            }
        }
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(unsafe { wsm_client_config_set_options(cfg, opts) }, WSM_OK);
        let ud = (&mut *rng as *mut Deterministic).cast::<c_void>();
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(
            unsafe { wsm_client_config_set_random(cfg, Some(fill), ud) },
            WSM_OK
        );
        assert_eq!(
            // SAFETY: NULL or live pointers only; see "Safety" above.
            unsafe { wsm_conn_client_new(cfg, ptr::null_mut()) },
            WSM_ERR_NULL_PARAMETER
        );
        // SAFETY: NULL or live pointers only; see "Safety" above.
        let got = unsafe { wsm_conn_client_new(cfg, &mut conn) };
        // SAFETY: NULL or live pointers only; see "Safety" above.
        unsafe { wsm_client_config_free(cfg) };
        match Connection::client(rc) {
            Ok(r) => {
                assert_eq!(got, WSM_OK);
                if script.handshake {
                    let key = wsfuzz::http::key_for(&script.request.nonce());
                    let offered: Vec<&str> = protocol.iter().map(|p| p.to_str().unwrap()).collect();
                    prelude = script.response.write(&key, &offered).0;
                }
                r
            }
            Err(e) => {
                assert_eq!(got, wsm_result::from(e));
                // SAFETY: NULL or live pointers only; see "Safety" above.
                unsafe { wsm_options_free(opts) };
                return;
            }
        }
    } else {
        let mut cfg = ptr::null_mut();
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(unsafe { wsm_server_config_new(&mut cfg) }, WSM_OK);
        let mut rc = ServerConfig::new()
            .options(rust_opts)
            .defer_accept(script.defer);
        if let Some(p) = &protocol {
            // SAFETY: NULL or live pointers only; see "Safety" above.
            if unsafe { wsm_server_config_add_subprotocol(cfg, p.as_ptr()) } == WSM_OK {
                rc = rc.subprotocol(p.to_str().unwrap());
            }
        }
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(unsafe { wsm_server_config_set_options(cfg, opts) }, WSM_OK);
        assert_eq!(
            // SAFETY: NULL or live pointers only; see "Safety" above.
            unsafe { wsm_server_config_set_defer_accept(cfg, script.defer) },
            WSM_OK
        );
        // SAFETY: NULL or live pointers only; see "Safety" above.
        assert_eq!(unsafe { wsm_conn_server_new(cfg, &mut conn) }, WSM_OK);
        // SAFETY: NULL or live pointers only; see "Safety" above.
        unsafe { wsm_server_config_free(cfg) };
        if script.handshake {
            prelude = script.request.write();
        }
        Connection::server(rc)
    };
    // SAFETY: NULL or live pointers only; see "Safety" above.
    unsafe { wsm_options_free(opts) };
    let mut pair = Pair {
        c: conn,
        rust,
        now: 0,
    };
    pair.compare();
    if !prelude.is_empty() {
        pair.call(&Call::Receive(Buf::Bytes(prelude)));
    }
    for call in script.calls.iter().take(128) {
        pair.call(call);
    }
    // SAFETY: NULL or live pointers only; see "Safety" above.
    unsafe { wsm_conn_free(pair.c) };
});
