//! Embeds every scenario file under `scenarios/` into the binary, so `mailtls run` needs
//! no files next to it. Writes `$OUT_DIR/builtin_scenarios.rs`: a sorted array of
//! (path relative to the crate, file text).

// Cargo reads a build script's instructions from its stdout: println! is the protocol.
#![allow(clippy::disallowed_macros)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "scn") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dir = root.join("scenarios");
    // A directory makes cargo rerun the script when anything below it changes.
    println!("cargo::rerun-if-changed=scenarios");
    let mut files = Vec::new();
    if dir.is_dir() {
        collect(&dir, &mut files)?;
    }
    files.sort();
    let mut code = String::from("&[\n");
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
        let relative = file
            .strip_prefix(&root)?
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            code,
            "    ({relative:?}, include_str!({:?})),",
            file.display()
        )?;
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("builtin_scenarios.rs");
    std::fs::write(out, code)?;
    Ok(())
}
