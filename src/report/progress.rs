//! A progress bar for long runs, on standard error, that shows itself only on a
//! terminal: CI logs and pipes stay clean.
//!
//! ```text
//! [00:00:07] ███████████░░░░░░░░░░░░░  23/41  2 failed  imap.server.starttls.ok-then-handshake
//! ```

use crate::engine::outcome::Verdict;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bar's layout: elapsed time, bar, position, failures so far, last scenario.
const TEMPLATE: &str = "[{elapsed_precise}] {bar:24} {pos}/{len}  {wide_msg}";

/// Progress of a run, shared by the workers that run scenarios (`&self` methods).
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    failed: AtomicUsize,
}

impl Progress {
    /// A bar for `total` scenarios, drawn on standard error when `enabled`, hidden
    /// otherwise (see [`Progress::should_show`]).
    pub fn new(total: u64, enabled: bool) -> Self {
        let bar = if enabled {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("█▉▊▋▌▍▎▏░");
            bar.set_style(style);
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            bar,
            failed: AtomicUsize::new(0),
        }
    }

    /// Whether a bar belongs on this terminal: standard error is a TTY and the user
    /// did not ask for quiet.
    pub fn should_show(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }

    /// One more scenario finished with `verdict`.
    pub fn inc(&self, id: &str, verdict: Verdict) {
        let failed = if matches!(verdict, Verdict::Fail | Verdict::Error) {
            self.failed.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.failed.load(Ordering::Relaxed)
        };
        let id = super::escape::sanitize(id);
        let message = if failed == 0 {
            id.into_owned()
        } else {
            format!("{failed} failed  {id}")
        };
        self.bar.set_message(message);
        self.bar.inc(1);
    }

    /// Whether the bar is drawn at all.
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Removes the bar, so the report that follows starts on a clean line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_bar_is_hidden_and_still_counts() {
        let progress = Progress::new(3, false);
        assert!(progress.is_hidden());
        progress.inc("a", Verdict::Fail);
        progress.inc("b", Verdict::Pass);
        assert_eq!(progress.failed.load(Ordering::Relaxed), 1);
        progress.finish();
    }
}
