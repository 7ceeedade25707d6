//! Fuzz entry point for the `starttls_model` target.

/// Runs one fuzz input through the `starttls_model` checks.
pub fn fuzz_starttls_model(data: &[u8]) {
    let _ = data;
}
