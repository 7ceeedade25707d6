//! Shared helpers for the integration tests.

use std::process::{Command, Output};

/// Runs the `mailtls` binary with `args` and returns its output.
pub fn mailtls(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the mailtls binary runs")
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The exit code (None if killed by a signal).
pub fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// With `MAILTLS_CONFORMANCE_OUT` set (scripts/conformance sets it), saves one real-peer
/// suite's JSON report there, with the peer's name and version, for README.md's
/// conformance table. Does nothing otherwise.
pub fn save_conformance(
    suite: &str,
    peer: &str,
    role: &str,
    target: &str,
    report: &serde_json::Value,
) {
    let Some(dir) = std::env::var_os("MAILTLS_CONFORMANCE_OUT") else {
        return;
    };
    let entry = serde_json::json!({
        "peer": peer,
        "role": role,
        "target": target,
        "report": report,
    });
    let path = std::path::Path::new(&dir).join(format!("{suite}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&entry).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
