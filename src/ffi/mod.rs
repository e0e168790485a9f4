//! The C ABI (feature `ffi`): the whole engine for C programs, declared in
//! `include/wsmachine.h`, which cbindgen generates from this module.
//!
//! Nothing outside this module knows C exists. One file per exported C type
//! ([`wsm_options`](options), [`wsm_client_config`](client_config),
//! [`wsm_server_config`](server_config), [`wsm_deflate`](deflate),
//! [`wsm_inflate_budget`](inflate_budget), [`wsm_conn`](conn),
//! [`wsm_event`](event), [`wsm_frame_info`](frame)); `wsm_conn`'s inputs ([`receive`]),
//! commands ([`send`]), a server's answer to the handshake ([`answer`]) and connections
//! whose handshake was done elsewhere ([`upgraded`]) in files of their own; the plumbing
//! apart: `boundary` (the one panic boundary every entry point runs in), `args` (null checks
//! and pointer casts), `result` (the result codes), `describe` (their texts).
//!
//! Conventions, stated once (they follow rustls-ffi):
//! * Every fallible call returns a `wsm_result`; `WSM_OK` is 0 and the error codes keep
//!   their numbers forever.
//! * Outputs come last; a buffer is always followed by its `size_t` length; outputs are
//!   written only when the call returns `WSM_OK`.
//! * Every pointer is checked: NULL yields `WSM_ERR_NULL_PARAMETER` (a buffer pointer may be
//!   NULL when its length is 0). `*_free(NULL)` does nothing.
//! * A `const` handle argument is not changed by the call.
//! * A panic inside the library never unwinds into C: the call returns `WSM_ERR_PANIC`
//!   (or its documented neutral value when it returns no `wsm_result`).
//! * Every handle is created by a `*_new` and released by its `*_free`; nothing else the
//!   library hands out needs freeing: borrowed pointers say how long they stay valid.
#![allow(unsafe_code)]
// The C names (`wsm_conn`, `WSM_OK`) are the ABI.
#![allow(non_camel_case_types)]
// Entry points that take pointers are `unsafe extern "C"`: the header's contract on each
// pointer (repeated in each `# Safety`) is what the caller must uphold; NULL is checked.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::missing_safety_doc, clippy::undocumented_unsafe_blocks)]

pub mod answer;
mod args;
mod boundary;
pub mod client_config;
pub mod conn;
pub mod deflate;
pub mod describe;
pub mod event;
pub mod frame;
pub mod inflate_budget;
pub mod options;
mod random;
pub mod receive;
pub mod result;
pub mod send;
pub mod server_config;
pub mod upgraded;
pub mod version;

pub use client_config::wsm_client_config;
pub use conn::{wsm_conn, wsm_state};
pub use deflate::wsm_deflate;
pub use event::{wsm_error_kind, wsm_event, wsm_event_kind};
pub use frame::{wsm_frame_direction, wsm_frame_info};
pub use inflate_budget::wsm_inflate_budget;
pub use options::wsm_options;
pub use random::wsm_random_fn;
pub use result::wsm_result;
pub use server_config::wsm_server_config;
