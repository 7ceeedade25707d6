//! Which scenarios a run includes: `--only` / `--skip` globs on ids (`*`, `?`, `{a,b}`,
//! `[...]`, as globset reads them) and `--level` (MUST keeps MUST, MUST NOT and SECURITY;
//! SHOULD adds SHOULD and SHOULD NOT; MAY keeps everything).

use super::Loaded;
use crate::model::Level;
use globset::{Glob, GlobSet, GlobSetBuilder};

/// The deepest level a run includes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LevelFilter {
    /// MUST, MUST NOT and security checks.
    #[value(name = "MUST", alias = "must")]
    Must,
    /// Also SHOULD and SHOULD NOT.
    #[value(name = "SHOULD", alias = "should")]
    Should,
    /// Everything (the default).
    #[value(name = "MAY", alias = "may")]
    May,
}

impl LevelFilter {
    /// Whether a scenario of `level` is included.
    pub fn includes(self, level: Level) -> bool {
        match self {
            Self::May => true,
            Self::Should => !matches!(level, Level::May),
            Self::Must => matches!(level, Level::Must | Level::MustNot | Level::Derived),
        }
    }
}

/// A compiled selection.
#[derive(Clone, Debug)]
pub struct Selection {
    only: Option<GlobSet>,
    skip: GlobSet,
    level: LevelFilter,
}

/// A glob that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("bad id glob `{glob}`: {reason}")]
pub struct SelectError {
    glob: String,
    reason: String,
}

fn compile(globs: &[String]) -> Result<GlobSet, SelectError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob).map_err(|e| SelectError {
            glob: glob.clone(),
            reason: e.kind().to_string(),
        })?);
    }
    builder.build().map_err(|e| SelectError {
        glob: globs.join(" "),
        reason: e.to_string(),
    })
}

impl Selection {
    /// Compiles `--only` (none: everything), `--skip` and `--level`.
    pub fn new(only: &[String], skip: &[String], level: LevelFilter) -> Result<Self, SelectError> {
        Ok(Self {
            only: if only.is_empty() {
                None
            } else {
                Some(compile(only)?)
            },
            skip: compile(skip)?,
            level,
        })
    }

    /// Whether a scenario id at a level is selected.
    pub fn includes(&self, id: &str, level: Level) -> bool {
        self.only.as_ref().is_none_or(|only| only.is_match(id))
            && !self.skip.is_match(id)
            && self.level.includes(level)
    }

    /// The selected scenarios, in their order.
    pub fn apply(&self, scenarios: Vec<Loaded>) -> Vec<Loaded> {
        scenarios
            .into_iter()
            .filter(|l| self.includes(&l.scenario.meta.id, l.scenario.meta.level))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_levels() {
        let s = Selection::new(
            &["imap.server.starttls.*".into()],
            &["*.injection-*".into()],
            LevelFilter::Should,
        )
        .unwrap();
        assert!(s.includes("imap.server.starttls.ok-then-handshake", Level::Must));
        assert!(!s.includes("imap.server.starttls.injection-bare-lf", Level::Must));
        assert!(!s.includes("pop3.server.stls.ok-then-handshake", Level::Must));
        assert!(!s.includes("imap.server.starttls.x", Level::May));
        let must = Selection::new(&[], &[], LevelFilter::Must).unwrap();
        assert!(must.includes("a", Level::Derived) && !must.includes("a", Level::Should));
        assert!(Selection::new(&["a[".into()], &[], LevelFilter::May).is_err());
    }
}
