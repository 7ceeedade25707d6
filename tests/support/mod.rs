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
