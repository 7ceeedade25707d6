//! Fuzz entry point for the `acap_response` target.

/// Runs one fuzz input through the `acap_response` checks.
pub fn fuzz_acap_response(data: &[u8]) {
    let _ = data;
}
