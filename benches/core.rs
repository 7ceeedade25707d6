//! ns-per-call figures for the sans-IO core.
fn main() {}
