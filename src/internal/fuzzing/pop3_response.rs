//! Fuzz entry point for the `pop3_response` target.

/// Runs one fuzz input through the `pop3_response` checks.
pub fn fuzz_pop3_response(data: &[u8]) {
    let _ = data;
}
