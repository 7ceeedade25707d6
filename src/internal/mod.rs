//! Unstable internals, exposed only for the fuzz crate and benchmarks.
//!
//! Nothing here is part of the public API: names and signatures change without notice.

pub mod fuzzing;
