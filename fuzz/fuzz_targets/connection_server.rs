//! A whole server-role connection driven by a script of operations against a hostile client.
//!
//! Input: `[u16 script length][script][wire bytes]` (see `wsfuzz::input`). The script
//! sets limits, timers and handshake details, then lists operations (receive the next wire
//! bytes split at given points, receive a structured client frame, end of input, send,
//! ping, close, accept/reject, advance the clock, hold or consume output). By default the
//! wire is preceded by a valid generated Upgrade request; with `raw_handshake` the wire
//! starts with the request itself.
//!
//! Invariants (each documented in `wsfuzz::conn`): split invariance between twin
//! connections; events equal to the reference receiver's; monotone state and a single,
//! final `Closed`; protocol errors close with their code; commands succeed exactly when
//! allowed; output is valid server frames carrying exactly what was sent; timers do
//! nothing before their deadline; retained heap within the configured limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wsfuzz::conn::run(data, wsfuzz::conn::Side::Server);
});
