//! Renders a finished [`Run`]: text for terminals, JSON for scripts, JUnit XML for CI
//! test reporters and Markdown bug reports, each with the transcript of what crossed
//! the wire (TLS boundary marked, see [`transcript`]).
//!
//! ```no_run
//! # fn demo(run: &mailtls::engine::outcome::Run) -> std::io::Result<()> {
//! use mailtls::report::{Format, RenderOptions, render, stdout_supports_color};
//! let opts = RenderOptions { color: stdout_supports_color(), verbose: false };
//! render(run, Format::Text, &opts, &mut std::io::stdout().lock())?;
//! # Ok(()) }
//! ```
//!
//! Every string that came from a peer is escaped before it is printed (see
//! [`escape_lossless`]), so a hostile peer cannot inject terminal escapes, bidi
//! overrides or characters that make the XML invalid.

mod clause;
mod details;
mod escape;
mod json;
mod junit;
mod markdown;
pub mod progress;
mod style;
mod summary;
mod text;
pub mod transcript;

pub use escape::{escape_lossless, unescape};
pub use json::SCHEMA_VERSION;
pub use progress::Progress;
pub use style::stdout_supports_color;

use crate::engine::outcome::Run;
use std::io;

/// An output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// For terminals: results grouped by protocol and RFC section, failures explained.
    #[default]
    Text,
    /// One JSON object (schema: docs/report-schema.md), for scripts and dashboards.
    Json,
    /// JUnit XML, for CI test reporters (GitLab, Jenkins, GitHub).
    Junit,
    /// One bug-report-ready Markdown section per failure, warning and error.
    Markdown,
}

impl Format {
    /// The usual file extension for `--out`: `txt`, `json`, `xml`, `md`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Text => "txt",
            Self::Json => "json",
            Self::Junit => "xml",
            Self::Markdown => "md",
        }
    }
}

/// Choices that do not change what a report says, only how much and how it looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours (text only). Pass [`stdout_supports_color`] for standard output,
    /// `false` for a file.
    pub color: bool,
    /// Transcripts of passing and N/A scenarios too (text, JUnit), expected failures in
    /// full (text), and timestamps in transcripts (text, JUnit, Markdown).
    pub verbose: bool,
}

/// The last line of the text report, for a terminal when the report itself went to a
/// file: `mailtls: 41 passed, 2 failed, 1 warned, 3 n/a, 0 errors in 1.23 s (target
/// imap://127.0.0.1:143)`. No colour, no newline.
pub fn summary_line(run: &Run) -> String {
    text::summary_line(run)
}

/// Writes `run` to `out` in `format`.
pub fn render(
    run: &Run,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(run, opts, out),
        Format::Json => json::render(run, out),
        Format::Junit => junit::render(run, opts, out),
        Format::Markdown => markdown::render(run, opts, out),
    }
}
