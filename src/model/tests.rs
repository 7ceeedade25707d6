//! Unit tests: one minimal trace per rule.
