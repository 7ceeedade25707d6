//! The transcript language: RFC-style `C:`/`S:` scenarios with a small header, parsed
//! with spans so errors point at `file:line:col` and FAILs at the line they broke.
//! The syntax is documented in `scenarios/README.md`.

pub mod ast;
