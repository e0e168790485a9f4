//! Code shared by the example programs (and by `tests/interop_python.rs`, which includes
//! this module by path): driving one [`wsmachine::Connection`] over a blocking
//! [`std::net::TcpStream`], the echo loop, and `ws://` URL parsing.
//!
//! Each example uses only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod clock;
pub mod driver;
pub mod echo;
pub mod url;
