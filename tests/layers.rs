//! The architecture as a test: the sans-IO core knows no sockets, no runtime, no clock.

use std::path::Path;

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

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_sans_io_core_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in CORE {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() >= CORE.len(), "the core modules were not found");
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in FORBIDDEN {
                if code.contains(word) {
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
