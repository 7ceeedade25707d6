//! Seed corpus.
