//! Runs one scenario in one role over real connections and judges each step.

pub mod caps;
pub mod outcome;
