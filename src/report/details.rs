//! The labelled facts under a FAIL, WARN or ERROR (`clause:`, `expected:`, `seen:`,
//! `step:`, `CVEs:`, `known:`), worded once for the text report and JUnit bodies.

use super::clause;
use super::escape::sanitize;
use crate::engine::outcome::Outcome;

/// Width of the labels (`expected: `), so values line up.
pub(crate) const LABEL_WIDTH: usize = 10;

/// The facts of an outcome in order, as (label, value); a second clause has an empty
/// label, continuing the first. Every value is sanitised for printing.
pub(crate) fn facts(outcome: &Outcome) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    for (i, c) in outcome.clauses.iter().enumerate() {
        let label = if i == 0 { "clause" } else { "" };
        facts.push((label, clause::with_quote(c, outcome.level)));
    }
    if let Some(failure) = &outcome.failure {
        facts.push(("expected", sanitize(&failure.expected).into_owned()));
        facts.push(("seen", sanitize(&failure.seen).into_owned()));
        if let Some(step) = &failure.step {
            let text = format!(
                "{}:{}: {}",
                sanitize(&step.file),
                step.line,
                sanitize(step.text.trim())
            );
            facts.push(("step", text));
        }
    }
    if !outcome.cves.is_empty() {
        let cves: Vec<_> = outcome.cves.iter().map(|c| sanitize(c)).collect();
        facts.push(("CVEs", cves.join(", ")));
    }
    if let Some(reason) = &outcome.expected_failure {
        facts.push(("known", sanitize(reason).into_owned()));
    }
    facts
}

/// `expected: ` — the label with its colon, padded to [`LABEL_WIDTH`]; blank for a
/// continuation.
pub(crate) fn label(label: &str) -> String {
    if label.is_empty() {
        " ".repeat(LABEL_WIDTH)
    } else {
        format!("{:<width$}", format!("{label}:"), width = LABEL_WIDTH - 1) + " "
    }
}
