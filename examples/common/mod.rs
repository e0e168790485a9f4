//! Code shared by the example programs (and by the integration tests, which include this
//! module by path): driving one [`wsmachine::Connection`] over a blocking
//! [`std::net::TcpStream`], the echo loop, the Autobahn TestSuite client protocol, and
//! `ws://` URL parsing.
//!
//! Each example uses only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod autobahn;
pub mod clock;
pub mod driver;
pub mod echo;
pub mod trace;
pub mod url;
