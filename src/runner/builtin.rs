//! The scenarios compiled into the binary (everything under `scenarios/`, see build.rs).

/// (path relative to the crate root, file text), sorted by path.
pub static BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));
