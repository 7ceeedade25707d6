//! The coverage data file (`scenarios/coverage.toml`): its types, and the checks that do
//! not need the scenarios (ids unique and well-formed, text present, a reason for every
//! gap, sections named, readings that name a rule set mailtls has).

use crate::identity::Rules;
use crate::sasl::plain::Profile;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The key words of RFC 2119 a sentence can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub enum Level {
    /// MUST.
    #[serde(rename = "MUST")]
    Must,
    /// MUST NOT.
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// REQUIRED (RFC 2119: the same as MUST).
    #[serde(rename = "REQUIRED")]
    Required,
    /// SHALL (the same as MUST).
    #[serde(rename = "SHALL")]
    Shall,
    /// SHALL NOT (the same as MUST NOT).
    #[serde(rename = "SHALL NOT")]
    ShallNot,
    /// SHOULD.
    #[serde(rename = "SHOULD")]
    Should,
    /// SHOULD NOT.
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    /// RECOMMENDED (the same as SHOULD).
    #[serde(rename = "RECOMMENDED")]
    Recommended,
    /// MAY.
    #[serde(rename = "MAY")]
    May,
    /// OPTIONAL (the same as MAY).
    #[serde(rename = "OPTIONAL")]
    Optional,
}

impl Level {
    /// Every level, strongest first (the order of summaries).
    pub const ALL: [Self; 10] = [
        Self::Must,
        Self::MustNot,
        Self::Required,
        Self::Shall,
        Self::ShallNot,
        Self::Should,
        Self::ShouldNot,
        Self::Recommended,
        Self::May,
        Self::Optional,
    ];

    /// The key word as the RFCs write it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::MustNot => "MUST NOT",
            Self::Required => "REQUIRED",
            Self::Shall => "SHALL",
            Self::ShallNot => "SHALL NOT",
            Self::Should => "SHOULD",
            Self::ShouldNot => "SHOULD NOT",
            Self::Recommended => "RECOMMENDED",
            Self::May => "MAY",
            Self::Optional => "OPTIONAL",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who a sentence binds (and which role a scenario judges).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The server.
    Server,
    /// The client.
    Client,
}

impl Role {
    /// `server` or `client`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
        }
    }
}

impl From<crate::model::Party> for Role {
    fn from(party: crate::model::Party) -> Self {
        match party {
            crate::model::Party::Server => Self::Server,
            crate::model::Party::Client => Self::Client,
        }
    }
}

/// How much of a sentence the seed texts of the brief hold (see the data file's header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Seed {
    /// The sentence as quoted, key words in capitals.
    Verbatim,
    /// The capitalised extract breaks off inside it; the rest is from a paraphrase.
    Truncated,
    /// Only a lower-case paraphrase holds it; the capitals are the RFC's.
    Paraphrase,
    /// No seed holds it.
    Absent,
}

/// A later RFC that changed or retired a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Supersession {
    /// `RFC 8996`.
    pub rfc: String,
    /// What it changed, in a line.
    pub change: String,
}

/// One reading of a requirement a later RFC changed, and how mailtls checks it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    /// The document and clause of this reading: `RFC 6125 / RFC 7817`.
    pub by: String,
    /// Its level.
    pub level: Level,
    /// The rule set that implements it: `identity/rfc2595|rfc6125|rfc9525` or
    /// `plain/rfc2595|rfc4616`.
    pub rules: String,
    /// Where the check runs and what it reports.
    pub how: String,
}

/// One key-word sentence and the scenarios that test it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sentence {
    /// Stable id: `rfc2595-3.1-discard-capabilities`.
    pub id: String,
    /// `RFC 2595` or `draft-melnikov-pop3-over-tls-02`.
    pub source: String,
    /// `3.1`.
    pub section: String,
    /// The key word that binds.
    pub level: Level,
    /// The part of the sentence this entry is about, when the sentence holds two key
    /// words and so two entries.
    #[serde(default)]
    pub focus: Option<String>,
    /// Who it binds.
    pub roles: Vec<Role>,
    /// The sentence, verbatim.
    pub text: String,
    /// How much of it the seed texts hold.
    pub seed: Seed,
    /// Ids of the scenarios that test it.
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// Ids of scenarios that quote it for context without testing it.
    #[serde(default)]
    pub cited_by: Vec<String>,
    /// Why no scenario tests it (or what is left untested).
    #[serde(default)]
    pub gap: Option<String>,
    /// Retired by later RFCs: reported, never judged.
    #[serde(default)]
    pub obsolete: bool,
    /// The RFCs that changed or retired it.
    #[serde(default)]
    pub superseded_by: Vec<Supersession>,
    /// The readings mailtls checks it under.
    #[serde(default)]
    pub readings: Vec<Reading>,
    /// Anything a reader of the matrix should know.
    #[serde(default)]
    pub note: Option<String>,
}

impl Sentence {
    /// `RFC 2595 §3.1`: the clause as scenarios write it.
    pub fn clause(&self) -> String {
        format!("{} §{}", self.source, self.section)
    }
}

/// One section of the catalogue's §4.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSection {
    /// `IMAP server`.
    pub title: String,
    /// The test ids, in the catalogue's order.
    pub ids: Vec<String>,
    /// Ids the catalogue marks MANUAL, with what a person must judge.
    #[serde(default)]
    pub manual: BTreeMap<String, String>,
}

/// The test ids of starttls-catalogue.md §4, by section (`4.1` ... `4.9`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Catalogue {
    /// Sections by number.
    pub sections: BTreeMap<String, CatalogueSection>,
}

impl Catalogue {
    /// Every id with its section number, in catalogue order.
    pub fn ids(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sections
            .iter()
            .flat_map(|(number, s)| s.ids.iter().map(move |id| (number.as_str(), id.as_str())))
    }

    /// Whether `id` is a catalogue id.
    pub fn contains(&self, id: &str) -> bool {
        self.ids().any(|(_, known)| known == id)
    }
}

/// The whole data file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// Section titles keyed by clause (`RFC 2595 §2.4`).
    pub sections: BTreeMap<String, String>,
    /// The key-word sentences, in document order.
    #[serde(rename = "sentence")]
    pub sentences: Vec<Sentence>,
    /// The catalogue's test ids.
    pub catalogue: Catalogue,
}

/// Something wrong with the data file itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// Not TOML, or not the shape above.
    #[error("{file}: {message}")]
    Syntax {
        /// The file name shown.
        file: String,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// Two sentences share an id.
    #[error("sentence id `{0}` is used twice")]
    DuplicateSentence(String),
    /// An id with characters other than lower-case letters, digits, `.` and `-`.
    #[error("sentence id `{0}`: use lower-case letters, digits, `.` and `-`")]
    BadId(String),
    /// A field that must say something is empty.
    #[error("sentence `{id}`: `{field}` is empty")]
    Empty {
        /// The sentence.
        id: String,
        /// The field.
        field: &'static str,
    },
    /// No scenario and no reason why.
    #[error(
        "sentence `{0}` has no scenario and no `gap`: list the scenarios that test it, or say why none can"
    )]
    NoScenarioNoGap(String),
    /// A sentence whose `source §section` has no title in `[sections]` (a typo).
    #[error("sentence `{id}`: `{clause}` is not a key of [sections]")]
    UnknownSection {
        /// The sentence.
        id: String,
        /// `RFC 2595 §3.1`.
        clause: String,
    },
    /// An obsolete sentence that does not say what retired it.
    #[error("sentence `{0}` is obsolete but names no `superseded_by` RFC")]
    ObsoleteWithoutSuccessor(String),
    /// The same scenario twice in one list.
    #[error("sentence `{id}` lists scenario `{scenario}` twice")]
    RepeatedScenario {
        /// The sentence.
        id: String,
        /// The scenario.
        scenario: String,
    },
    /// A reading whose `rules` mailtls does not have.
    #[error(
        "sentence `{id}`: reading rules `{rules}` is not identity/rfc2595|rfc6125|rfc9525 or plain/rfc2595|rfc4616"
    )]
    UnknownRules {
        /// The sentence.
        id: String,
        /// What it said.
        rules: String,
    },
    /// A catalogue id listed twice.
    #[error("catalogue id `{0}` is listed twice")]
    DuplicateCatalogueId(String),
    /// A MANUAL note for an id its section does not list.
    #[error("catalogue §{section}: `manual` names `{id}`, which the section does not list")]
    ManualNotListed {
        /// The section number.
        section: String,
        /// The id.
        id: String,
    },
}

/// Parses the data file and checks everything that does not need the scenarios. Returns
/// every problem found, not only the first.
pub fn parse(file: &str, text: &str) -> Result<Coverage, Vec<DataError>> {
    let coverage: Coverage = toml::from_str(text).map_err(|e| {
        vec![DataError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        }]
    })?;
    let errors = validate(&coverage);
    if errors.is_empty() {
        Ok(coverage)
    } else {
        Err(errors)
    }
}

/// The checks of [`parse`] on an already-built value.
pub fn validate(coverage: &Coverage) -> Vec<DataError> {
    let mut errors = Vec::new();
    let mut ids = BTreeSet::new();
    for s in &coverage.sentences {
        if !ids.insert(s.id.as_str()) {
            errors.push(DataError::DuplicateSentence(s.id.clone()));
        }
        check_sentence(coverage, s, &mut errors);
    }
    let mut seen = BTreeSet::new();
    for (number, section) in &coverage.catalogue.sections {
        for id in &section.ids {
            if !seen.insert(id.as_str()) {
                errors.push(DataError::DuplicateCatalogueId(id.clone()));
            }
        }
        for id in section.manual.keys() {
            if !section.ids.contains(id) {
                errors.push(DataError::ManualNotListed {
                    section: number.clone(),
                    id: id.clone(),
                });
            }
        }
    }
    errors
}

fn check_sentence(coverage: &Coverage, s: &Sentence, errors: &mut Vec<DataError>) {
    let id = &s.id;
    let well_formed = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if !well_formed {
        errors.push(DataError::BadId(id.clone()));
    }
    let empty = |field| DataError::Empty {
        id: id.clone(),
        field,
    };
    if s.text.trim().is_empty() {
        errors.push(empty("text"));
    }
    if s.roles.is_empty() {
        errors.push(empty("roles"));
    }
    if s.gap.as_deref().is_some_and(|g| g.trim().is_empty()) {
        errors.push(empty("gap"));
    }
    if s.focus.as_deref().is_some_and(|f| f.trim().is_empty()) {
        errors.push(empty("focus"));
    }
    if s.scenarios.is_empty() && s.gap.is_none() {
        errors.push(DataError::NoScenarioNoGap(id.clone()));
    }
    if !coverage.sections.contains_key(&s.clause()) {
        errors.push(DataError::UnknownSection {
            id: id.clone(),
            clause: s.clause(),
        });
    }
    if s.obsolete && s.superseded_by.is_empty() {
        errors.push(DataError::ObsoleteWithoutSuccessor(id.clone()));
    }
    for list in [&s.scenarios, &s.cited_by] {
        let mut seen = BTreeSet::new();
        for scenario in list {
            if !seen.insert(scenario) {
                errors.push(DataError::RepeatedScenario {
                    id: id.clone(),
                    scenario: scenario.clone(),
                });
            }
        }
    }
    for reading in &s.readings {
        if !rules_exist(&reading.rules) {
            errors.push(DataError::UnknownRules {
                id: id.clone(),
                rules: reading.rules.clone(),
            });
        }
        if reading.how.trim().is_empty() {
            errors.push(empty("readings.how"));
        }
    }
}

/// `identity/<rules>` names a rule set of [`crate::identity`], `plain/<profile>` a
/// profile of [`crate::sasl::plain`].
fn rules_exist(rules: &str) -> bool {
    match rules.split_once('/') {
        Some(("identity", name)) => Rules::from_str(name).is_ok(),
        Some(("plain", name)) => [Profile::Rfc2595, Profile::Rfc4616]
            .iter()
            .any(|p| p.id() == name),
        _ => false,
    }
}
