//! `--expect FILE`: known failures with reasons, so CI stays green on a peer with known
//! defects and turns red when one is fixed (an expected failure that passes fails the
//! run, like trybuild's stale snapshots).
//!
//! ```toml
//! # Dovecot 2.3.19, Debian 12
//! [failures]
//! "imap.server.starttls.not-advertised-after-tls" = "keeps STARTTLS after TLS; SHOULD NOT only"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

/// Known failures: scenario id → reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Scenario id → why it is expected to fail.
    pub failures: BTreeMap<String, String>,
}

/// Why an expectations file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExpectError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not valid TOML or not the expected shape.
    #[error("{file}:{line}:{col}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    failures: BTreeMap<String, String>,
}

impl Expectations {
    /// Reads and checks a file.
    pub fn load(path: &Path) -> Result<Self, ExpectError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ExpectError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&file, &text)
    }

    /// Parses the text of a file named `file` (for messages).
    pub fn parse(file: &str, text: &str) -> Result<Self, ExpectError> {
        let syntax = |offset: usize, message: String| {
            let before = &text[..offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            ExpectError::Syntax {
                file: file.to_owned(),
                line,
                col,
                message,
            }
        };
        let parsed: File = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            syntax(offset, e.message().to_owned())
        })?;
        for (id, reason) in &parsed.failures {
            if reason.trim().is_empty() {
                let offset = text.find(id.as_str()).unwrap_or(0);
                return Err(syntax(offset, format!("`{id}` needs a reason")));
            }
        }
        Ok(Self {
            failures: parsed.failures,
        })
    }

    /// Ids listed that name no scenario (typos would silently expect nothing).
    pub fn unknown_ids<'a>(&'a self, known: &'a [String]) -> impl Iterator<Item = &'a str> + 'a {
        self.failures
            .keys()
            .filter(move |id| !known.iter().any(|k| k == *id))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_failures_with_reasons() {
        let e = Expectations::parse("x.toml", "[failures]\n\"a.b\" = \"because\"\n").unwrap();
        assert_eq!(e.failures["a.b"], "because");
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let err = Expectations::parse("x.toml", "[failures]\n\"a.b\" = 3\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("x.toml:2:"), "{text}");
        let err = Expectations::parse("x.toml", "[failures]\n\"a.b\" = \"  \"\n").unwrap_err();
        assert!(err.to_string().contains("needs a reason"), "{err}");
        let err = Expectations::parse("x.toml", "[failure]\n").unwrap_err();
        assert!(err.to_string().starts_with("x.toml:1:"), "{err}");
    }
}
