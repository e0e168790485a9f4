//! `wsm_result`, the code every fallible C call returns, and `wsm_result_str`.

use super::boundary;
use crate::error::Error;
use core::ffi::{c_char, c_uint};

/// What a call did. `WSM_OK` is 0; every error keeps its number forever (retired numbers are
/// not reused), so programs may store or compare them.
///
/// Errors 100-199 are about the arguments of the call; 200-299 are calls the connection's
/// state or the protocol does not allow. Protocol errors of the *peer* are not results: they
/// come out as `WSM_EVENT_ERROR` events.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsm_result {
    /// Success.
    WSM_OK = 0,
    /// A required pointer argument was NULL.
    WSM_ERR_NULL_PARAMETER = 100,
    /// The library panicked (a bug): the call did nothing that can be relied on.
    WSM_ERR_PANIC = 101,
    /// A string argument is not valid UTF-8.
    WSM_ERR_INVALID_UTF8 = 102,
    /// A numeric argument is out of range (for example consuming more output than pending).
    WSM_ERR_INVALID_ARGUMENT = 103,
    /// The requested item does not exist (no such request header).
    WSM_ERR_NOT_FOUND = 104,
    /// The call is not allowed in the connection's state (sending before open or after close).
    WSM_ERR_WRONG_STATE = 200,
    /// A ping/pong payload over 125 bytes, or a close reason over 123 bytes.
    WSM_ERR_CONTROL_PAYLOAD_TOO_LONG = 201,
    /// A close code that may not be sent (RFC 6455 §7.4: 1000-1003, 1007-1014, 3000-4999).
    WSM_ERR_INVALID_CLOSE_CODE = 202,
    /// A fragment continues a message of another kind.
    WSM_ERR_FRAGMENT_MISMATCH = 203,
    /// A whole message was sent while a fragmented one is unfinished.
    WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS = 204,
    /// A header name or value, host, path or subprotocol with characters HTTP forbids.
    WSM_ERR_INVALID_HEADER = 205,
    /// `wsm_conn_accept`/`wsm_conn_reject` when no request waits for an answer.
    WSM_ERR_NO_PENDING_REQUEST = 206,
    /// `wsm_conn_accept` chose a subprotocol the client did not offer.
    WSM_ERR_SUBPROTOCOL_NOT_OFFERED = 207,
    /// No random source is available for a client: the operating system's generator
    /// failed and no `wsm_client_config_set_random` callback was set.
    WSM_ERR_NO_RANDOM_SOURCE = 208,
    /// `wsm_conn_reject` with a status that is not 4xx or 5xx, or `wsm_conn_respond` with one
    /// that is not 200-599 or cannot carry a body (204, 304).
    WSM_ERR_INVALID_STATUS = 209,
    /// `wsm_conn_accept` on a plain HTTP request (answer it with `wsm_conn_respond`).
    WSM_ERR_NOT_WEBSOCKET = 210,
    /// A send while more output waits than `wsm_options_set_max_output_buffer` allows;
    /// nothing was written.
    WSM_ERR_OUTPUT_BUFFER_FULL = 211,
}

use wsm_result::*;

impl From<Error> for wsm_result {
    fn from(e: Error) -> Self {
        match e {
            Error::WrongState(_) => WSM_ERR_WRONG_STATE,
            Error::ControlPayloadTooLong => WSM_ERR_CONTROL_PAYLOAD_TOO_LONG,
            Error::InvalidCloseCode(_) => WSM_ERR_INVALID_CLOSE_CODE,
            Error::FragmentMismatch => WSM_ERR_FRAGMENT_MISMATCH,
            Error::FragmentedMessageInProgress => WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS,
            Error::InvalidHeader => WSM_ERR_INVALID_HEADER,
            Error::NoPendingRequest => WSM_ERR_NO_PENDING_REQUEST,
            Error::SubprotocolNotOffered => WSM_ERR_SUBPROTOCOL_NOT_OFFERED,
            Error::NoRandomSource => WSM_ERR_NO_RANDOM_SOURCE,
            Error::InvalidStatus(_) => WSM_ERR_INVALID_STATUS,
            Error::OutputBufferFull => WSM_ERR_OUTPUT_BUFFER_FULL,
            Error::NotWebSocket => WSM_ERR_NOT_WEBSOCKET,
            Error::UncommittableInput => WSM_ERR_INVALID_ARGUMENT,
        }
    }
}

/// The text for each code, NUL-terminated for C.
fn describe(code: c_uint) -> &'static str {
    const TABLE: &[(wsm_result, &str)] = &[
        (WSM_OK, "success\0"),
        (
            WSM_ERR_NULL_PARAMETER,
            "a required pointer argument was NULL\0",
        ),
        (WSM_ERR_PANIC, "internal error: the library panicked\0"),
        (
            WSM_ERR_INVALID_UTF8,
            "a string argument is not valid UTF-8\0",
        ),
        (
            WSM_ERR_INVALID_ARGUMENT,
            "a numeric argument is out of range\0",
        ),
        (WSM_ERR_NOT_FOUND, "no such item\0"),
        (
            WSM_ERR_WRONG_STATE,
            "not allowed in the connection's state\0",
        ),
        (
            WSM_ERR_CONTROL_PAYLOAD_TOO_LONG,
            "control frame payload longer than 125 bytes\0",
        ),
        (
            WSM_ERR_INVALID_CLOSE_CODE,
            "this close code may not be sent\0",
        ),
        (
            WSM_ERR_FRAGMENT_MISMATCH,
            "fragment does not continue the message in progress\0",
        ),
        (
            WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS,
            "a fragmented message is unfinished\0",
        ),
        (
            WSM_ERR_INVALID_HEADER,
            "invalid characters in a header, host, path or subprotocol\0",
        ),
        (
            WSM_ERR_NO_PENDING_REQUEST,
            "no handshake request is waiting for an answer\0",
        ),
        (
            WSM_ERR_SUBPROTOCOL_NOT_OFFERED,
            "the client did not offer that subprotocol\0",
        ),
        (WSM_ERR_NO_RANDOM_SOURCE, "no random source available\0"),
        (WSM_ERR_INVALID_STATUS, "status is not allowed here\0"),
        (
            WSM_ERR_NOT_WEBSOCKET,
            "not a WebSocket request; answer it with wsm_conn_respond\0",
        ),
    ];
    TABLE
        .iter()
        .find(|(r, _)| *r as c_uint == code)
        .map_or("unknown result code\0", |(_, s)| s)
}

/// A static, NUL-terminated English description of a result code (any number is accepted;
/// unknown ones get "unknown result code"). Never NULL; the string must not be freed.
#[no_mangle]
pub extern "C" fn wsm_result_str(result: c_uint) -> *const c_char {
    boundary::guard(|| describe(result).as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_nul_terminated_text() {
        let codes = (0..400).filter(|c| describe(*c) != "unknown result code\0");
        let texts: std::vec::Vec<_> = codes.map(describe).collect();
        assert_eq!(texts.len(), 17);
        for t in &texts {
            assert!(t.ends_with('\0') && !t[..t.len() - 1].contains('\0'));
        }
        let mut dedup = texts.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), texts.len());
    }

    #[test]
    fn engine_errors_map_to_their_codes() {
        assert_eq!(
            wsm_result::from(Error::WrongState(crate::State::Closed)),
            WSM_ERR_WRONG_STATE
        );
        assert_eq!(wsm_result::from(Error::InvalidCloseCode(1005)) as u32, 202);
    }
}
