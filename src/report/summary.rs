//! The counts of a run and the sentence that states them, the same in every format:
//! `41 passed, 2 failed (1 expected), 1 warned, 3 n/a, 0 errors`.

use crate::engine::outcome::{Run, Verdict};
use std::time::Duration;

/// How many results had each verdict; expected failures are also counted apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// PASS.
    pub(crate) pass: usize,
    /// FAIL, expected or not.
    pub(crate) fail: usize,
    /// FAIL listed in the expectations file.
    pub(crate) fail_expected: usize,
    /// WARN.
    pub(crate) warn: usize,
    /// N/A.
    pub(crate) na: usize,
    /// ERROR, expected or not.
    pub(crate) error: usize,
    /// ERROR listed in the expectations file.
    pub(crate) error_expected: usize,
    /// Known failures that passed.
    pub(crate) unexpected_passes: usize,
    /// INFO: recorded, not judged.
    pub(crate) info: usize,
    /// MANUAL: waiting for a person.
    pub(crate) manual: usize,
    /// All results.
    pub(crate) total: usize,
}

impl Tally {
    /// Counts the results of a run.
    pub(crate) fn of(run: &Run) -> Self {
        let mut tally = Self {
            unexpected_passes: run.unexpected_passes.len(),
            total: run.results.len(),
            ..Self::default()
        };
        for outcome in &run.results {
            let expected = outcome.expected_failure.is_some();
            match outcome.verdict {
                Verdict::Pass => tally.pass += 1,
                Verdict::Fail => {
                    tally.fail += 1;
                    tally.fail_expected += usize::from(expected);
                }
                Verdict::Warn => tally.warn += 1,
                Verdict::NotApplicable => tally.na += 1,
                Verdict::Info => tally.info += 1,
                Verdict::Manual => tally.manual += 1,
                Verdict::Error => {
                    tally.error += 1;
                    tally.error_expected += usize::from(expected);
                }
            }
        }
        tally
    }

    /// `41 passed, 2 failed (1 expected), 1 warned, 3 n/a, 0 errors[, 1 unexpected pass]`.
    pub(crate) fn sentence(&self) -> String {
        let expected = |n: usize| {
            if n == 0 {
                String::new()
            } else {
                format!(" ({n} expected)")
            }
        };
        let errors = if self.error == 1 { "error" } else { "errors" };
        let mut s = format!(
            "{} passed, {} failed{}, {} warned, {} n/a, {} {errors}{}",
            self.pass,
            self.fail,
            expected(self.fail_expected),
            self.warn,
            self.na,
            self.error,
            expected(self.error_expected),
        );
        // Only when present, so runs without them read as before.
        if self.info > 0 {
            s.push_str(&format!(", {} info", self.info));
        }
        if self.manual > 0 {
            s.push_str(&format!(", {} to check by hand", self.manual));
        }
        match self.unexpected_passes {
            0 => {}
            1 => s.push_str(", 1 unexpected pass"),
            n => s.push_str(&format!(", {n} unexpected passes")),
        }
        s
    }
}

/// `1.23 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// Milliseconds with at most microsecond precision, so JSON shows `12.5`, not
/// `12.500000000000002`.
pub(crate) fn millis(duration: Duration) -> f64 {
    // Microseconds fit an f64 exactly for any run shorter than 285 years.
    let micros = duration.as_micros() as f64;
    micros / 1000.0
}
