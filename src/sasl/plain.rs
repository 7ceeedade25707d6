//! PLAIN
