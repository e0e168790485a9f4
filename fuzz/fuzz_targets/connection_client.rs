//! A whole client-role connection driven by a script of operations against a hostile
//! server.
//!
//! Input: `[u16 script length][script][wire bytes]` (see `wsfuzz::input`). The client's
//! random source is deterministic (`wsfuzz::rng`), so twin connections mask alike; its
//! nonce defaults to RFC 6455's sample nonce, so a raw wire starting with the RFC's answer
//! (`s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`) completes the handshake. By default the wire is
//! preceded by a valid generated 101 answer.
//!
//! Invariants (each documented in `wsfuzz::conn`): split invariance between twin
//! connections; events equal to the reference receiver's; monotone state and a single,
//! final `Closed`; protocol errors close with their code; commands succeed exactly when
//! allowed; output is valid, masked client frames carrying exactly what was sent; timers
//! do nothing before their deadline; retained heap within the configured limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wsfuzz::conn::run(data, wsfuzz::conn::Side::Client);
});
