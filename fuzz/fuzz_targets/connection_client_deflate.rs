//! `connection_client` with permessage-deflate negotiated (RFC 7692): the input's first
//! byte chooses the parameters (context takeover, window bits; see
//! `wsfuzz::conn::run_deflate`), the rest is `connection_client`'s input. Peer frames
//! may arrive compressed (RSV1), so inflation, its message limit and context takeover are
//! fuzzed; what the connection compresses is inflated by an independent decompressor and
//! must equal what was sent. Every invariant of `connection_client` but the reference
//! receiver's, which knows no extension.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wsfuzz::conn::run_deflate(data, wsfuzz::conn::Side::Client);
});
