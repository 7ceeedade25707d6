//! Picks scenarios, runs them in parallel against a target and applies expectations.
