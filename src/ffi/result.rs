//! `wsm_result`, the code every fallible C call returns, and the engine errors it carries.

use crate::error::Error;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_their_codes() {
        assert_eq!(
            wsm_result::from(Error::WrongState(crate::State::Closed)),
            WSM_ERR_WRONG_STATE
        );
        assert_eq!(wsm_result::from(Error::InvalidCloseCode(1005)) as u32, 202);
    }
}
