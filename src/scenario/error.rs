//! Parse errors of scenario files, rendered the way rustc and trybuild render theirs: the
//! message, `--> file:line:col`, the source line and carets under the offending text.

use crate::scenario::ast::Span;
use std::fmt;

/// A scenario file that could not be read, pointing at the text that is wrong.
///
/// `Display` renders it rustc-style:
///
/// ```text
/// error: unknown directive `expect-sience`
///  --> scenarios/imap/foo.scn:14:2
///    |
/// 14 | [expect-sience 500ms]
///    |  ^^^^^^^^^^^^^ did you mean `expect-silence`?
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters (a tab counts as one).
    pub col: u32,
    /// How many characters the carets cover (at least 1).
    pub len: u32,
    /// What is wrong, one line.
    pub message: String,
    /// The line the error points into, as written (without its terminator).
    pub source_line: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
}

impl ScenarioError {
    /// An error at `span` of the line `source_line`.
    pub fn new(file: &str, span: Span, source_line: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: span.line.max(1),
            col: span.col.max(1),
            len: span.len.max(1),
            message: message.into(),
            source_line: source_line.to_owned(),
            help: None,
        }
    }

    /// The same error with a help text (shown after the carets).
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Where the error points, as a [`Span`].
    pub fn span(&self) -> Span {
        Span {
            line: self.line,
            col: self.col,
            len: self.len,
        }
    }
}

/// The source line as shown under the arrow: tabs and other control characters become
/// one space each, so the carets stay aligned with the columns the error counts.
fn printable(line: &str) -> String {
    line.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        writeln!(f, "error: {}", self.message)?;
        writeln!(f, " --> {}:{}:{}", self.file, self.line, self.col)?;
        writeln!(f, "{gutter} |")?;
        let shown = printable(&self.source_line);
        if shown.is_empty() {
            writeln!(f, "{number} |")?;
        } else {
            writeln!(f, "{number} | {}", shown.trim_end())?;
        }
        let pad = " ".repeat(self.col.saturating_sub(1) as usize);
        let carets = "^".repeat(self.len.max(1) as usize);
        match &self.help {
            Some(help) => write!(f, "{gutter} | {pad}{carets} {help}"),
            None => write!(f, "{gutter} | {pad}{carets}"),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Several errors of one file, in the order the parser found them; `Display` renders
/// each one, separated by blank lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl ScenarioErrors {
    /// The first error (the one [`parse`](crate::scenario::parse) returns).
    pub fn first(&self) -> Option<&ScenarioError> {
        self.0.first()
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

/// Something wrong on one line, before it is tied to a file: `at` is the 0-based
/// character index in the physical line, `len` the number of characters to underline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineError {
    pub(crate) at: usize,
    pub(crate) len: usize,
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl LineError {
    /// An error at characters `at..at + len`.
    pub(crate) fn new(at: usize, len: usize, message: impl Into<String>) -> Self {
        Self {
            at,
            len,
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a help text.
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same error with a help text, if there is one.
    pub(crate) fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Sets the help text unless one is set already.
    pub(crate) fn or_help(self, help: String) -> Self {
        if self.help.is_some() {
            self
        } else {
            self.help(help)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let error = ScenarioError::new(
            "scenarios/imap/foo.scn",
            Span {
                line: 14,
                col: 2,
                len: 13,
            },
            "[expect-sience 500ms]",
            "unknown directive `expect-sience`",
        )
        .with_help("did you mean `expect-silence`?");
        assert_eq!(
            error.to_string(),
            "error: unknown directive `expect-sience`\n \
             --> scenarios/imap/foo.scn:14:2\n   |\n14 | [expect-sience 500ms]\n   |  \
             ^^^^^^^^^^^^^ did you mean `expect-silence`?"
        );
    }

    #[test]
    fn tabs_keep_carets_aligned() {
        let error = ScenarioError::new(
            "f",
            Span {
                line: 3,
                col: 5,
                len: 2,
            },
            "C:\tA\\q",
            "x",
        );
        let text = error.to_string();
        assert!(text.contains("3 | C: A\\q\n  |     ^^"), "{text}");
    }
}
