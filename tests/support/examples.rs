//! The code the example programs share (`examples/common`), for the tests that run its
//! echo loop or its blocking driver in-process. Included here, once, so that no test file
//! reaches into `examples/` itself.

#[path = "../../examples/common/mod.rs"]
pub mod common;

pub use common::{driver, echo};
