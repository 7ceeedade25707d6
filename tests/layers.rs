//! The architecture as a test: the sans-IO core knows no sockets, no runtime, no clock.

use std::path::{Path, PathBuf};

/// Modules that form the sans-IO core (DESIGN §2): fuzzed and property-tested, so they
/// must take bytes in and give values out, never touch the network or wait.
const CORE: &[&str] = &["src/sasl", "src/identity", "src/proto", "src/model"];

/// What would mean IO, a runtime or waiting has crept into the core.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "std::thread::sleep",
    "async fn",
    ".await",
    "std::fs",
    "std::process",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `word` occurs in `code` as a whole token: `.await` but not `.awaiting_greeting()`.
fn contains_token(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let starts_ident = word.starts_with(is_ident);
        let ends_ident = word.ends_with(is_ident);
        let glued_before = starts_ident && before.is_some_and(is_ident);
        let glued_after = ends_ident && after.is_some_and(is_ident);
        !glued_before && !glued_after
    })
}

/// The code of a file that is built outside tests: everything before its first
/// `#[cfg(test)]` (test modules close a file by convention), and nothing at all for a file
/// that its parent declares as a `#[cfg(test)] mod name;`.
fn non_test_code(file: &Path, test_only: &[PathBuf]) -> String {
    if test_only.iter().any(|t| t == file) {
        return String::new();
    }
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Files declared by `#[cfg(test)] mod name;` in their parent module.
fn test_only_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let dir = if file.file_name().is_some_and(|n| n == "mod.rs") {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if pair[0] == "#[cfg(test)]" {
                if let Some(name) = pair[1]
                    .strip_prefix("mod ")
                    .and_then(|r| r.strip_suffix(';'))
                {
                    out.push(dir.join(format!("{name}.rs")));
                }
            }
        }
    }
    out
}

#[test]
fn token_matching_respects_identifier_boundaries() {
    assert!(contains_token("x.await;", ".await"));
    assert!(!contains_token("self.awaiting_greeting()", ".await"));
    assert!(contains_token("use tokio::net;", "tokio"));
    assert!(!contains_token("let tokio_like = 1;", "tokio"));
    assert!(contains_token("std::fs::read(p)", "std::fs"));
    assert!(!contains_token("std::fsx", "std::fs"));
}

#[test]
fn the_sans_io_core_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in CORE {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() >= CORE.len(), "the core modules were not found");
    let test_only = test_only_files(&files);
    assert!(
        test_only.iter().any(|f| f.ends_with("model/tests.rs")),
        "the test-only module detection found nothing: {test_only:?}"
    );
    let mut offences = Vec::new();
    for file in &files {
        let text = non_test_code(file, &test_only);
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in FORBIDDEN {
                if contains_token(code, word) {
                    offences.push(format!(
                        "{}:{}: {word}",
                        file.strip_prefix(root).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "IO in the sans-IO core:\n{}",
        offences.join("\n")
    );
}
