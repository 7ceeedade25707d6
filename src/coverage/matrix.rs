//! The coverage matrix: the data file read against a set of scenarios. Each sentence gets
//! the scenarios that exist, each catalogue id its implementing scenarios, and every
//! disagreement between the data and the scenarios becomes a [`Problem`].

use super::data::{Catalogue, Coverage, Role, Sentence};
use crate::runner::Loaded;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What the matrix needs of a scenario (built from a loaded scenario, or by hand in tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioView {
    /// `imap.server.starttls.ok-then-handshake`.
    pub id: String,
    /// The file it came from.
    pub file: String,
    /// The roles it judges.
    pub roles: Vec<Role>,
    /// Its `clause:` references with their `quote:`.
    pub clauses: Vec<(String, Option<String>)>,
    /// The catalogue ids it implements besides its own id (`catalogue:` header).
    pub catalogue: Vec<String>,
    /// Whether a person must judge part of it (`manual:` header).
    pub manual: bool,
}

impl ScenarioView {
    /// The view of a loaded scenario.
    pub fn of(loaded: &Loaded) -> Self {
        let meta = &loaded.scenario.meta;
        Self {
            id: meta.id.clone(),
            file: loaded.source.file.clone(),
            roles: meta.roles.iter().map(|p| Role::from(*p)).collect(),
            clauses: meta
                .clauses
                .iter()
                .map(|c| (c.reference.clone(), c.quote.clone()))
                .collect(),
            catalogue: meta.catalogue.clone(),
            manual: !meta.manual.is_empty(),
        }
    }

    /// The catalogue ids this scenario implements: its own id and its `catalogue:` ids.
    pub fn implements(&self, catalogue_id: &str) -> bool {
        self.id == catalogue_id || self.catalogue.iter().any(|c| c == catalogue_id)
    }
}

/// Where a sentence stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// At least one existing scenario tests it.
    Tested,
    /// No scenario, for the reason the data gives.
    Gap,
    /// No scenario and no reason: a [`Problem`].
    Untested,
}

impl Status {
    /// `tested`, `gap`, `untested`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Tested => "tested",
            Self::Gap => "gap",
            Self::Untested => "untested",
        }
    }
}

/// One sentence of the matrix.
#[derive(Clone, Debug)]
pub struct Row {
    /// The sentence as the data file gives it.
    pub sentence: Sentence,
    /// The title of its section.
    pub section_title: String,
    /// The listed scenarios that exist, with the roles they judge.
    pub scenarios: Vec<(String, Vec<Role>)>,
    /// The listed scenarios that do not exist.
    pub missing: Vec<String>,
    /// Where it stands.
    pub status: Status,
    /// Roles the sentence binds that no listed scenario judges.
    pub roles_untested: Vec<Role>,
}

/// How far a catalogue id is implemented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogueStatus {
    /// A scenario implements it and judges it on the wire.
    Implemented,
    /// Scenarios implement it, but every one needs a person for the verdict.
    Manual,
    /// No scenario implements it.
    Missing,
}

impl CatalogueStatus {
    /// `implemented`, `manual`, `missing`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Implemented => "implemented",
            Self::Manual => "manual",
            Self::Missing => "missing",
        }
    }
}

/// One catalogue id of the matrix.
#[derive(Clone, Debug)]
pub struct CatalogueRow {
    /// The id.
    pub id: String,
    /// Its section number (`4.8`).
    pub section: String,
    /// The section's title.
    pub section_title: String,
    /// How far it is implemented.
    pub status: CatalogueStatus,
    /// The scenarios that implement it.
    pub scenarios: Vec<String>,
    /// The catalogue's MANUAL note, if it has one.
    pub manual: Option<String>,
}

/// A disagreement between the data file and the scenarios.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A sentence names a scenario that does not exist (deleted or renamed).
    UnknownScenario {
        /// The sentence.
        sentence: String,
        /// Its clause and level, for the message.
        clause: String,
        /// The id named.
        scenario: String,
        /// Whether it was the last scenario the sentence had.
        last: bool,
    },
    /// A sentence left with no scenario and no `gap`.
    Untested {
        /// The sentence.
        sentence: String,
    },
    /// A scenario quotes a sentence but is not listed under it.
    UnmappedQuote {
        /// The scenario.
        scenario: String,
        /// Its file.
        file: String,
        /// The sentences whose text its quote contains (one of them must list it).
        sentences: Vec<String>,
    },
    /// A scenario's `catalogue:` header names an id the catalogue does not have.
    UnknownCatalogueId {
        /// The scenario.
        scenario: String,
        /// The id.
        id: String,
    },
}

impl Problem {
    /// `unknown-scenario`, `untested`, `unmapped-quote`, `unknown-catalogue-id`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownScenario { .. } => "unknown-scenario",
            Self::Untested { .. } => "untested",
            Self::UnmappedQuote { .. } => "unmapped-quote",
            Self::UnknownCatalogueId { .. } => "unknown-catalogue-id",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownScenario {
                sentence,
                clause,
                scenario,
                last,
            } => {
                write!(
                    f,
                    "sentence {sentence} ({clause}) names scenario `{scenario}`, which is not a built-in scenario (deleted or renamed?)"
                )?;
                if *last {
                    f.write_str(
                        "; it was the sentence's last scenario: map another one, or give the sentence a `gap` reason",
                    )?;
                }
                Ok(())
            }
            Self::Untested { sentence } => {
                write!(f, "sentence {sentence} has no scenario and no `gap` reason")
            }
            Self::UnmappedQuote {
                scenario,
                file,
                sentences,
            } => write!(
                f,
                "scenario {scenario} ({file}) quotes {} but is not listed under {} in scenarios/coverage.toml (add it to `scenarios` where it tests the sentence, to `cited_by` where it only quotes it)",
                sentences.join(", "),
                if sentences.len() == 1 { "it" } else { "them" }
            ),
            Self::UnknownCatalogueId { scenario, id } => write!(
                f,
                "scenario {scenario} claims catalogue id `{id}`, which starttls-catalogue.md §4 does not have"
            ),
        }
    }
}

/// The data file read against a set of scenarios.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// One row per sentence, in the data file's order.
    pub rows: Vec<Row>,
    /// One row per catalogue id, in the catalogue's order.
    pub catalogue: Vec<CatalogueRow>,
    /// Every disagreement found; empty when the data is consistent.
    pub problems: Vec<Problem>,
}

impl Matrix {
    /// Reads `coverage` against `scenarios`.
    pub fn build(coverage: &Coverage, scenarios: &[ScenarioView]) -> Self {
        let by_id: BTreeMap<&str, &ScenarioView> =
            scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut problems = Vec::new();
        let rows = coverage
            .sentences
            .iter()
            .map(|s| row(coverage, s, &by_id, &mut problems))
            .collect();
        problems.extend(unmapped_quotes(coverage, scenarios));
        for s in scenarios {
            for id in &s.catalogue {
                if !coverage.catalogue.contains(id) {
                    problems.push(Problem::UnknownCatalogueId {
                        scenario: s.id.clone(),
                        id: id.clone(),
                    });
                }
            }
        }
        Self {
            rows,
            catalogue: catalogue_rows(&coverage.catalogue, scenarios),
            problems,
        }
    }

    /// Whether the data file and the scenarios agree.
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

fn row(
    coverage: &Coverage,
    s: &Sentence,
    by_id: &BTreeMap<&str, &ScenarioView>,
    problems: &mut Vec<Problem>,
) -> Row {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in &s.scenarios {
        match by_id.get(id.as_str()) {
            Some(view) => found.push((id.clone(), view.roles.clone())),
            None => missing.push(id.clone()),
        }
    }
    for id in &missing {
        problems.push(Problem::UnknownScenario {
            sentence: s.id.clone(),
            clause: format!("{}, {}", s.clause(), s.level),
            scenario: id.clone(),
            last: found.is_empty(),
        });
    }
    for id in &s.cited_by {
        if !by_id.contains_key(id.as_str()) {
            problems.push(Problem::UnknownScenario {
                sentence: s.id.clone(),
                clause: format!("{}, {}, cited_by", s.clause(), s.level),
                scenario: id.clone(),
                last: false,
            });
        }
    }
    let status = if !found.is_empty() {
        Status::Tested
    } else if s.gap.is_some() {
        Status::Gap
    } else {
        problems.push(Problem::Untested {
            sentence: s.id.clone(),
        });
        Status::Untested
    };
    let tested: BTreeSet<Role> = found.iter().flat_map(|(_, r)| r.iter().copied()).collect();
    let roles_untested = if found.is_empty() {
        Vec::new()
    } else {
        s.roles
            .iter()
            .copied()
            .filter(|r| !tested.contains(r))
            .collect()
    };
    Row {
        sentence: s.clone(),
        section_title: coverage
            .sections
            .get(&s.clause())
            .cloned()
            .unwrap_or_default(),
        scenarios: found,
        missing,
        status,
        roles_untested,
    }
}

/// Whitespace runs to one space, case folded: how quotes and sentences are compared.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a scenario's `clause:` reference (`RFC 2595 §5`) points at the sentence's
/// source and section: the same section, or one containing the other (`§5` and `§5.1`).
fn clause_points_at(reference: &str, s: &Sentence) -> bool {
    let Some((source, section)) = reference.split_once('§') else {
        return false;
    };
    let (source, section) = (source.trim(), section.trim());
    source.eq_ignore_ascii_case(&s.source)
        && (section == s.section
            || section.starts_with(&format!("{}.", s.section))
            || s.section.starts_with(&format!("{section}.")))
}

/// Scenarios whose quote contains a sentence of the data file (under a clause naming the
/// same source and section) but that no entry of that sentence lists. Entries that share
/// a sentence (one per key word) count as one: listing under either is enough.
fn unmapped_quotes(coverage: &Coverage, scenarios: &[ScenarioView]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for view in scenarios {
        let mut unmapped: Vec<String> = Vec::new();
        for (reference, quote) in &view.clauses {
            let Some(quote) = quote else { continue };
            let quote = normalise(quote);
            let cited: Vec<&Sentence> = coverage
                .sentences
                .iter()
                .filter(|s| clause_points_at(reference, s))
                .filter(|s| {
                    let text = normalise(&s.text);
                    quote.contains(text.strip_suffix('.').unwrap_or(&text))
                })
                .collect();
            // Group the entries of one sentence (same clause, same text).
            let mut groups: BTreeMap<(String, String), Vec<&Sentence>> = BTreeMap::new();
            for s in cited {
                groups
                    .entry((s.clause(), normalise(&s.text)))
                    .or_default()
                    .push(s);
            }
            for entries in groups.values() {
                let listed = entries
                    .iter()
                    .any(|s| s.scenarios.contains(&view.id) || s.cited_by.contains(&view.id));
                if !listed {
                    let ids = entries.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
                    let name = ids.join(" or ");
                    if !unmapped.contains(&name) {
                        unmapped.push(name);
                    }
                }
            }
        }
        if !unmapped.is_empty() {
            problems.push(Problem::UnmappedQuote {
                scenario: view.id.clone(),
                file: view.file.clone(),
                sentences: unmapped,
            });
        }
    }
    problems
}

fn catalogue_rows(catalogue: &Catalogue, scenarios: &[ScenarioView]) -> Vec<CatalogueRow> {
    let mut rows = Vec::new();
    for (number, section) in &catalogue.sections {
        for id in &section.ids {
            let implementing: Vec<&ScenarioView> =
                scenarios.iter().filter(|s| s.implements(id)).collect();
            let status = if implementing.is_empty() {
                CatalogueStatus::Missing
            } else if implementing.iter().all(|s| s.manual) {
                CatalogueStatus::Manual
            } else {
                CatalogueStatus::Implemented
            };
            rows.push(CatalogueRow {
                id: id.clone(),
                section: number.clone(),
                section_title: section.title.clone(),
                status,
                scenarios: implementing.iter().map(|s| s.id.clone()).collect(),
                manual: section.manual.get(id).cloned(),
            });
        }
    }
    rows
}

impl Catalogue {
    /// The catalogue ids no scenario implements (its `id:` or a `catalogue:` header), in
    /// catalogue order.
    pub fn missing(&self, scenarios: &[ScenarioView]) -> Vec<String> {
        self.ids()
            .filter(|(_, id)| !scenarios.iter().any(|s| s.implements(id)))
            .map(|(_, id)| id.to_owned())
            .collect()
    }
}
