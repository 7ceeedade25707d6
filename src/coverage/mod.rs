//! Requirement coverage: which scenarios test which RFC sentence.
//!
//! `scenarios/coverage.toml` lists every sentence of RFC 2595 §2–6 (and the four of §9
//! the catalogue names) and of draft-melnikov-pop3-over-tls-02 that carries a key word,
//! with its section, level, the roles it binds, the exact text, and the ids of the
//! scenarios that test it, or a `gap` saying why none does. Sentences later RFCs changed
//! say so (`superseded_by`) and name the readings mailtls checks them under; the one RFC
//! 2595 sentence later RFCs retired (the §2.1 cipher suite) is `obsolete`. The file also
//! lists every test id of the catalogue's §4 ([`Catalogue`]).
//!
//! The file is compiled into the binary. [`Matrix::build`] reads it against a set of
//! scenarios; every disagreement (a named scenario that does not exist, a sentence left
//! with nothing, a scenario quoting a sentence it is not listed under) is a [`Problem`].
//! `mailtls list --coverage` prints the matrix ([`render`]); `tests/coverage.rs` fails on
//! any problem.
//!
//! ```
//! use mailtls::coverage;
//!
//! let data = coverage::builtin().unwrap();
//! let scenarios = coverage::builtin_scenarios().unwrap();
//! let matrix = coverage::Matrix::build(&data, &scenarios);
//! assert!(matrix.rows.iter().any(|r| r.sentence.id == "rfc2595-3.2-client-no-login"));
//! ```

mod data;
mod matrix;
pub mod render;

pub use data::{
    Catalogue, CatalogueSection, Coverage, DataError, Level, Reading, Role, Seed, Sentence,
    Supersession, parse, validate,
};
pub use matrix::{
    CatalogueRow, CatalogueStatus, Matrix, Problem, Row, ScenarioView, Status, normalise,
};

use crate::runner::load::{self, LoadError};

/// The path of the data file, as messages name it.
pub const DATA_FILE: &str = "scenarios/coverage.toml";

/// The data file, compiled in.
pub const DATA: &str = include_str!("../../scenarios/coverage.toml");

/// Why the coverage could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    /// The data file is malformed (every problem is listed).
    #[error("{DATA_FILE}:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Data(Vec<DataError>),
    /// The scenarios could not be loaded.
    #[error(transparent)]
    Scenarios(#[from] LoadError),
}

/// The compiled-in data file, parsed and checked.
pub fn builtin() -> Result<Coverage, CoverageError> {
    parse(DATA_FILE, DATA).map_err(CoverageError::Data)
}

/// The built-in scenarios, as the matrix sees them.
pub fn builtin_scenarios() -> Result<Vec<ScenarioView>, CoverageError> {
    Ok(load::builtin()?.iter().map(ScenarioView::of).collect())
}

/// The catalogue ids no built-in scenario implements yet, in catalogue order.
pub fn missing_catalogue_ids() -> Result<Vec<String>, CoverageError> {
    Ok(builtin()?.catalogue.missing(&builtin_scenarios()?))
}
