//! How every format names the requirement a scenario checks: `RFC 2595 §3.1 (MUST):
//! "sentence"`, the short `(RFC 2595 §3.1, MUST)` after a result line, and the order of
//! RFC sections in the text report.

use super::escape::sanitize;
use crate::engine::outcome::{Outcome, level_label};
use crate::model::Level;
use crate::scenario::ast::Clause;
use std::cmp::Ordering;

/// The first clause's reference, the one a result is filed under.
pub(crate) fn first_reference(outcome: &Outcome) -> Option<&str> {
    outcome.clauses.first().map(|c| c.reference.as_str())
}

/// `(RFC 2595 §3.1, MUST)`, or `(MUST)` without a clause.
pub(crate) fn brief(outcome: &Outcome) -> String {
    let level = level_label(outcome.level);
    match first_reference(outcome) {
        Some(reference) => format!("({}, {level})", sanitize(reference)),
        None => format!("({level})"),
    }
}

/// `RFC 2595 §3.1 (MUST): "sentence"`, or without the sentence when none is quoted.
pub(crate) fn with_quote(clause: &Clause, level: Level) -> String {
    let head = format!("{} ({})", sanitize(&clause.reference), level_label(level));
    match &clause.quote {
        Some(quote) => format!("{head}: \"{}\"", sanitize(quote.trim())),
        None => head,
    }
}

/// A reference split for sorting: `RFC 2595 §3.1` before `RFC 2595 §3.10` and before
/// `RFC 9051 §6.2.1`; references not in that shape sort after, by their text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SectionKey {
    /// `RFC <number> §<a.b.c>` (the section may be missing).
    Rfc(u32, Vec<u32>),
    /// Anything else, normalised to lower case without spaces.
    Other(String),
    /// No clause at all: last.
    None,
}

impl SectionKey {
    /// The key of a reference such as `RFC 2595 §3.1` or `rfc2595 section 3.1`.
    pub(crate) fn of(reference: Option<&str>) -> Self {
        let Some(reference) = reference else {
            return Self::None;
        };
        let compact: String = reference
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        let Some(rest) = compact.strip_prefix("rfc") else {
            return Self::Other(compact);
        };
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let Ok(number) = rest[..digits].parse() else {
            return Self::Other(compact);
        };
        let section = rest[digits..]
            .trim_start_matches(['§', ','])
            .trim_start_matches("section");
        let parts: Option<Vec<u32>> = if section.is_empty() {
            Some(Vec::new())
        } else {
            section
                .trim_end_matches('.')
                .split('.')
                .map(|p| p.parse().ok())
                .collect()
        };
        match parts {
            Some(parts) => Self::Rfc(number, parts),
            None => Self::Other(compact),
        }
    }
}

/// Orders outcomes by the section of their first clause (stable: ties keep run order).
pub(crate) fn by_section(a: &Outcome, b: &Outcome) -> Ordering {
    SectionKey::of(first_reference(a)).cmp(&SectionKey::of(first_reference(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_sort_numerically() {
        let mut refs = vec![
            "RFC 9051 §6.2.1",
            "RFC 2595 §3.10",
            "RFC 2595 §3.1",
            "CVE",
            "RFC 2595",
        ];
        refs.sort_by_key(|r| SectionKey::of(Some(r)));
        assert_eq!(
            refs,
            [
                "RFC 2595",
                "RFC 2595 §3.1",
                "RFC 2595 §3.10",
                "RFC 9051 §6.2.1",
                "CVE"
            ]
        );
        assert_eq!(
            SectionKey::of(Some("rfc2595 section 3.1")),
            SectionKey::of(Some("RFC 2595 §3.1"))
        );
    }
}
