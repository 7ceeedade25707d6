//! Reads scenarios: the built-in set, a directory of `.scn` files, or one file. A bad
//! file is an error naming `file:line:col`; every file is checked, and ids are unique.

use super::Loaded;
use super::builtin::BUILTIN;
use crate::engine::Source;
use crate::scenario::{self, ScenarioError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why scenarios could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file does not parse (the message carries `file:line:col` and a caret).
    #[error("{0}")]
    Parse(Box<ScenarioError>),
    /// Two files share an id.
    #[error("{second}: the id `{id}` is already used by {first}")]
    DuplicateId {
        /// The id.
        id: String,
        /// The file that had it first.
        first: String,
        /// The file that repeats it.
        second: String,
    },
    /// A directory holds no scenario.
    #[error("{}: no .scn files found", path.display())]
    Empty {
        /// The directory.
        path: PathBuf,
    },
}

fn parse(file: &str, text: &str) -> Result<Loaded, LoadError> {
    let parsed = scenario::parse(file, text).map_err(|e| LoadError::Parse(Box::new(e)))?;
    Ok(Loaded {
        scenario: Arc::new(parsed),
        source: Arc::new(Source {
            file: file.to_owned(),
            text: text.to_owned(),
        }),
    })
}

fn unique(loaded: Vec<Loaded>) -> Result<Vec<Loaded>, LoadError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for l in &loaded {
        if let Some(first) = seen.insert(&l.scenario.meta.id, &l.source.file) {
            return Err(LoadError::DuplicateId {
                id: l.scenario.meta.id.clone(),
                first: first.to_owned(),
                second: l.source.file.clone(),
            });
        }
    }
    Ok(loaded)
}

/// The scenarios compiled into the binary.
pub fn builtin() -> Result<Vec<Loaded>, LoadError> {
    unique(
        BUILTIN
            .iter()
            .map(|(file, text)| parse(file, text))
            .collect::<Result<_, _>>()?,
    )
}

/// One `.scn` file, or every `.scn` file below a directory (sorted by path).
pub fn from_path(path: &Path) -> Result<Vec<Loaded>, LoadError> {
    let read_err = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    let mut files = Vec::new();
    if meta.is_dir() {
        collect(path, &mut files)?;
        if files.is_empty() {
            return Err(LoadError::Empty {
                path: path.to_owned(),
            });
        }
    } else {
        files.push(path.to_owned());
    }
    files.sort();
    let mut loaded = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|source| LoadError::Read {
            path: file.clone(),
            source,
        })?;
        let name = file.display().to_string();
        let parsed =
            scenario::parse_bytes(&name, &bytes).map_err(|e| LoadError::Parse(Box::new(e)))?;
        loaded.push(Loaded {
            scenario: Arc::new(parsed),
            source: Arc::new(Source {
                file: name,
                text: String::from_utf8_lossy(&bytes).into_owned(),
            }),
        });
    }
    unique(loaded)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| LoadError::Read {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "scn") {
            out.push(path);
        }
    }
    Ok(())
}
