//! Fuzz entry point for the `imap_response` target.

/// Runs one fuzz input through the `imap_response` checks.
pub fn fuzz_imap_response(data: &[u8]) {
    let _ = data;
}
