//! Shared harness code for wsmachine's fuzz targets.
//!
//! The targets in `fuzz_targets/` are thin; what they check lives here, each oracle written
//! independently of the engine (its own frame codec, its own receiver model, its own
//! accept-key computation) so that a bug in the engine cannot hide behind the same bug in
//! the check.
//!
//! | module | owns |
//! |---|---|
//! | [`alloc`] | the counting global allocator behind the memory invariants |
//! | [`wire`] | a reference frame codec, and the checker for bytes the engine writes |
//! | [`model`] | a reference RFC 6455 receiver: the events a byte stream must produce |
//! | [`feed`] | delivering bytes through the one-copy receive path |
//! | [`input`] | how a fuzz input splits into a script (for `arbitrary`) and raw wire bytes |
//! | [`rng`] | the deterministic random source for clients |
//! | [`http`] | building and reading handshake heads for the oracles |
//! | [`conn`] | the whole-connection harness: operations, twin connections, invariants |

pub mod alloc;
pub mod conn;
pub mod feed;
pub mod http;
pub mod input;
pub mod model;
pub mod rng;
pub mod wire;
