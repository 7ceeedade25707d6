//! Fuzz entry point for the `identity` target.

/// Runs one fuzz input through the `identity` checks.
pub fn fuzz_identity(data: &[u8]) {
    let _ = data;
}
