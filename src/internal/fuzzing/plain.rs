//! Fuzz entry point for the `plain` target.

/// Runs one fuzz input through the `plain` checks.
pub fn fuzz_plain(data: &[u8]) {
    let _ = data;
}
