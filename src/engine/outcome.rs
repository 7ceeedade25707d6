//! What running one scenario against one peer produced: the verdict, why, and the
//! transcript. The runner collects these into a [`Run`]; `report/` renders a `Run`.

use crate::model::{Level, Party, Protocol};
use crate::net::transcript::Transcript;
use crate::scenario::ast::{Clause, Span};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The peer did what the clause asks.
    Pass,
    /// The peer broke a MUST-level (or security) requirement, or a SHOULD-level one
    /// under `--strict`.
    Fail,
    /// The peer broke a SHOULD-level requirement.
    Warn,
    /// The scenario does not apply: a required capability is not offered, or the
    /// target's profile differs from the one the scenario assumes.
    #[serde(rename = "na")]
    NotApplicable,
    /// The harness could not run the scenario (connection refused, TLS trust failure
    /// without `--insecure`, a timeout before the first octet).
    Error,
    /// Recorded, not judged: what the peer did where the RFC leaves the choice open
    /// (an opportunistic client's stripping result, RFC 2595 §2.2) or where the
    /// requirement is obsolete (RFC 2595 §2.1's cipher suite).
    Info,
    /// The wire showed nothing wrong, but the verdict needs a person: the scenario's
    /// `manual:` lines say what to look at (a UI, a log).
    Manual,
}

impl Verdict {
    /// Upper-case label for text reports: `PASS`, `FAIL`, `WARN`, `N/A`, `ERROR`,
    /// `INFO`, `MANUAL`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Warn => "WARN",
            Self::NotApplicable => "N/A",
            Self::Error => "ERROR",
            Self::Info => "INFO",
            Self::Manual => "MANUAL",
        }
    }
}

/// Why a scenario failed: the step that broke, what it expected and what came instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The scenario line that was not satisfied (`file:line`), when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRef>,
    /// What the scenario expected, in words or as the pattern it wrote.
    pub expected: String,
    /// What the peer did instead: the first offending octets (escaped), or an event
    /// such as "connection closed" / "nothing within 5 s".
    pub seen: String,
    /// Index into the transcript of the entry holding the offending octets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_entry: Option<usize>,
}

impl Failure {
    /// A copy with every secret (password, PLAIN blob) in the texts replaced by `***`.
    pub fn redacted(self, secrets: &[Vec<u8>]) -> Self {
        let mask = |mut text: String| {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                text = text.replace(String::from_utf8_lossy(secret).as_ref(), "***");
            }
            text
        };
        Self {
            expected: mask(self.expected),
            seen: mask(self.seen),
            ..self
        }
    }
}

/// A pointer at one line of a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepRef {
    /// The scenario file (built-in scenarios: their path under `scenarios/`).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The line as written in the file.
    pub text: String,
}

impl StepRef {
    /// A reference to the line `span` points at in `source`.
    pub fn new(file: &str, source: &str, span: Span) -> Self {
        let text = source
            .lines()
            .nth(span.line.saturating_sub(1) as usize)
            .unwrap_or_default()
            .to_owned();
        Self {
            file: file.to_owned(),
            line: span.line,
            text,
        }
    }
}

/// The result of one scenario against one target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The scenario's stable id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Protocol of the scenario.
    pub protocol: Protocol,
    /// The kind of peer that was judged.
    pub role: Party,
    /// Requirement level.
    #[serde(serialize_with = "serialize_level")]
    pub level: Level,
    /// The clauses checked, with their sentences.
    #[serde(serialize_with = "serialize_clauses")]
    pub clauses: Vec<Clause>,
    /// CVEs of the defect class.
    pub cves: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// One line: why this verdict.
    pub message: String,
    /// Details of a FAIL / WARN / ERROR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// For a MANUAL scenario: what a person must look at (its `manual:` lines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manual: Vec<String>,
    /// Everything that crossed the wire (redacted unless `--show-secrets`).
    pub transcript: Transcript,
    /// Wall time of the scenario.
    #[serde(rename = "duration_ms", serialize_with = "serialize_millis")]
    pub duration: Duration,
    /// Where the scenario came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Set by the runner when an expectations file lists this scenario as a known
    /// failure: the reason given there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_failure: Option<String>,
}

fn serialize_level<S: serde::Serializer>(level: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(level_label(*level))
}

/// The level as scenario files and reports spell it.
pub fn level_label(level: Level) -> &'static str {
    match level {
        Level::Must => "MUST",
        Level::MustNot => "MUST NOT",
        Level::Should => "SHOULD",
        Level::ShouldNot => "SHOULD NOT",
        Level::May => "MAY",
        Level::Derived => "SECURITY",
    }
}

fn serialize_clauses<S: serde::Serializer>(clauses: &[Clause], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    #[derive(Serialize)]
    struct C<'a> {
        reference: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        quote: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
    }
    let mut seq = s.serialize_seq(Some(clauses.len()))?;
    for c in clauses {
        seq.serialize_element(&C {
            reference: &c.reference,
            quote: c.quote.as_deref(),
            url: c.url.as_deref(),
        })?;
    }
    seq.end()
}

fn serialize_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// A whole run: every outcome against one target, in a stable order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// What was tested: a URL (`imap://127.0.0.1:143`), `reference` for the built-in
    /// server, or the client command.
    pub target: String,
    /// mailtls version that produced the run.
    pub tool_version: String,
    /// Wall time of the whole run.
    #[serde(rename = "duration_ms", serialize_with = "serialize_millis")]
    pub duration: Duration,
    /// Whether SHOULD-level breaks count as failures (`--strict`).
    pub strict: bool,
    /// The outcomes, sorted by protocol then id.
    pub results: Vec<Outcome>,
    /// Known failures from `--expect` that passed this time (each fails the run).
    pub unexpected_passes: Vec<String>,
}

impl Run {
    /// How many outcomes have each verdict, in [`Verdict`] order.
    pub fn counts(&self) -> [(Verdict, usize); 5] {
        let mut counts = [
            (Verdict::Pass, 0),
            (Verdict::Fail, 0),
            (Verdict::Warn, 0),
            (Verdict::NotApplicable, 0),
            (Verdict::Error, 0),
        ];
        for outcome in &self.results {
            for (verdict, n) in &mut counts {
                if *verdict == outcome.verdict {
                    *n += 1;
                }
            }
        }
        counts
    }

    /// Whether the run is as expected: no unexpected FAIL or ERROR, no unexpected pass.
    pub fn is_success(&self) -> bool {
        self.unexpected_passes.is_empty()
            && self.results.iter().all(|o| {
                !matches!(o.verdict, Verdict::Fail | Verdict::Error) || o.expected_failure.is_some()
            })
    }
}
