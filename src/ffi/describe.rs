//! `wsm_result_str`: the text of each result code.

use super::boundary;
use super::result::wsm_result::{self, *};
use core::ffi::{c_char, c_uint};

/// Every code, for looking one up by number.
const ALL: [wsm_result; 18] = [
    WSM_OK,
    WSM_ERR_NULL_PARAMETER,
    WSM_ERR_PANIC,
    WSM_ERR_INVALID_UTF8,
    WSM_ERR_INVALID_ARGUMENT,
    WSM_ERR_NOT_FOUND,
    WSM_ERR_WRONG_STATE,
    WSM_ERR_CONTROL_PAYLOAD_TOO_LONG,
    WSM_ERR_INVALID_CLOSE_CODE,
    WSM_ERR_FRAGMENT_MISMATCH,
    WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS,
    WSM_ERR_INVALID_HEADER,
    WSM_ERR_NO_PENDING_REQUEST,
    WSM_ERR_SUBPROTOCOL_NOT_OFFERED,
    WSM_ERR_NO_RANDOM_SOURCE,
    WSM_ERR_INVALID_STATUS,
    WSM_ERR_NOT_WEBSOCKET,
    WSM_ERR_OUTPUT_BUFFER_FULL,
];

/// The text of a code, NUL-terminated for C; the match has no catch-all, so a new code does
/// not compile without its text.
fn text(result: wsm_result) -> &'static str {
    match result {
        WSM_OK => "success\0",
        WSM_ERR_NULL_PARAMETER => "a required pointer argument was NULL\0",
        WSM_ERR_PANIC => "internal error: the library panicked\0",
        WSM_ERR_INVALID_UTF8 => "a string argument is not valid UTF-8\0",
        WSM_ERR_INVALID_ARGUMENT => "a numeric argument is out of range\0",
        WSM_ERR_NOT_FOUND => "no such item\0",
        WSM_ERR_WRONG_STATE => "not allowed in the connection's state\0",
        WSM_ERR_CONTROL_PAYLOAD_TOO_LONG => "control frame payload longer than 125 bytes\0",
        WSM_ERR_INVALID_CLOSE_CODE => "this close code may not be sent\0",
        WSM_ERR_FRAGMENT_MISMATCH => "fragment does not continue the message in progress\0",
        WSM_ERR_FRAGMENTED_MESSAGE_IN_PROGRESS => "a fragmented message is unfinished\0",
        WSM_ERR_INVALID_HEADER => "invalid characters in a header, host, path or subprotocol\0",
        WSM_ERR_NO_PENDING_REQUEST => "no handshake request is waiting for an answer\0",
        WSM_ERR_SUBPROTOCOL_NOT_OFFERED => "the client did not offer that subprotocol\0",
        WSM_ERR_NO_RANDOM_SOURCE => "no random source available\0",
        WSM_ERR_INVALID_STATUS => "status is not allowed here\0",
        WSM_ERR_NOT_WEBSOCKET => "not a WebSocket request; answer it with wsm_conn_respond\0",
        WSM_ERR_OUTPUT_BUFFER_FULL => "the output buffer is full; write it out first\0",
    }
}

/// The text for any number.
fn describe(code: c_uint) -> &'static str {
    ALL.iter()
        .find(|r| **r as c_uint == code)
        .map_or("unknown result code\0", |r| text(*r))
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
        let texts: std::vec::Vec<_> = ALL.iter().map(|r| describe(*r as c_uint)).collect();
        let mut dedup = texts.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), ALL.len());
        for t in &texts {
            assert!(t.ends_with('\0') && !t[..t.len() - 1].contains('\0'));
            assert_ne!(*t, "unknown result code\0");
        }
        // Every number the enum uses is in ALL: the codes are 0, 100-104 and 200-211.
        let listed = (0..1000).filter(|c| describe(*c) != "unknown result code\0");
        assert_eq!(listed.count(), 1 + 5 + 12);
    }
}
