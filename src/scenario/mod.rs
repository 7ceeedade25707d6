//! The transcript language: RFC-style `C:`/`S:` scenarios with a small header, parsed
//! with spans so errors point at `file:line:col` and FAILs at the line they broke.
//! The syntax is documented in `scenarios/README.md`.
//!
//! - [`parse`] / [`parse_all`] / [`parse_bytes`]: text to [`ast::Scenario`], or
//!   [`ScenarioError`]s rendered rustc-style.
//! - [`pattern`]: matching received lines against a [`ast::Part`], rendering parts
//!   to send.
//! - [`render()`]: the AST back to scenario text (and `Display` for lines and
//!   directives, as reports quote them).
//!
//! ```
//! let scenario = mailtls::scenario::parse("doc.scn", "\
//! id: imap.server.doc-example
//! title: STARTTLS is answered
//! protocol: imap
//! roles: server
//! level: MUST
//! clause: RFC 2595 §3.1
//!
//! C: A1 STARTTLS
//! S: A1 OK {*}
//! [tls]
//! ").unwrap();
//! assert_eq!(scenario.steps.len(), 3);
//! ```

pub mod ast;
mod content;
mod directive;
mod error;
mod header;
mod parse;
pub mod pattern;
mod render;
mod spans;
mod value;

pub use error::{ScenarioError, ScenarioErrors};
pub use render::{render, show_octets};

use ast::{Scenario, Span};

/// Parses a scenario file. `file_name` is only used in error messages. On failure, the
/// first error in the file (see [`parse_all`] for every error).
pub fn parse(file_name: &str, source: &str) -> Result<Scenario, ScenarioError> {
    parse_all(file_name, source).map_err(|mut errors| errors.0.swap_remove(0))
}

/// Parses a scenario file, reporting every error found (in file order; the checks
/// that need the whole file, such as missing header keys, come last). The error list is
/// never empty.
pub fn parse_all(file_name: &str, source: &str) -> Result<Scenario, ScenarioErrors> {
    parse::parse_source(file_name, source).map_err(|errors| {
        if errors.is_empty() {
            // Unreachable by construction; an explicit error beats a panic.
            ScenarioErrors(vec![ScenarioError::new(
                file_name,
                Span::default(),
                "",
                "the scenario could not be read",
            )])
        } else {
            ScenarioErrors(errors)
        }
    })
}

/// Parses a scenario file given as bytes: invalid UTF-8 is an error at its line and
/// column, not a panic.
pub fn parse_bytes(file_name: &str, source: &[u8]) -> Result<Scenario, ScenarioError> {
    match std::str::from_utf8(source) {
        Ok(text) => parse(file_name, text),
        Err(error) => Err(invalid_utf8(file_name, source, error)),
    }
}

/// The error for the first invalid UTF-8 sequence in `source`.
fn invalid_utf8(file_name: &str, source: &[u8], error: std::str::Utf8Error) -> ScenarioError {
    let valid = &source[..error.valid_up_to()];
    let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line_end = source[line_start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(source.len(), |i| line_start + i);
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let before = String::from_utf8_lossy(&valid[line_start..]);
    let mut before_chars = before.chars().count();
    if line == 1 && before.starts_with('\u{feff}') {
        before_chars -= 1;
    }
    let bad = source[error.valid_up_to()];
    let mut text = String::from_utf8_lossy(&source[line_start..line_end]).into_owned();
    if text.ends_with('\r') {
        text.pop();
    }
    if line == 1 && text.starts_with('\u{feff}') {
        text.remove(0);
    }
    let span = Span {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        col: u32::try_from(before_chars + 1).unwrap_or(u32::MAX),
        len: 1,
    };
    ScenarioError::new(
        file_name,
        span,
        &text,
        format!("invalid UTF-8: octet 0x{bad:02X}"),
    )
    .with_help("scenario files are UTF-8; write raw octets as `\\xNN` escapes")
}

/// Reads a duration the way scenario files write it (`500ms`, `2s`, `1m`), for command
/// lines too; the error says how to write one.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    value::parse_duration(text).map_err(|e| format!("`{text}`: {}", value::duration_help(&e)))
}
