//! The terminal report, h2spec style: results grouped by protocol, then by the RFC
//! section of their first clause; one line per scenario; under each FAIL, WARN and
//! ERROR the broken sentence, what was expected, what came instead and the transcript;
//! a one-line summary last.
//!
//! ```text
//! IMAP
//!   RFC 2595 §3.1
//!     ✔ imap.server.starttls.ok-then-handshake  (RFC 2595 §3.1, MUST)
//!     ✘ imap.server.starttls.pipelined-command-injection  (RFC 2595 §3.1, MUST)
//!         Sends a command pipelined after STARTTLS in the same write
//!         -> a reply to X1 arrived inside TLS
//!         clause:   RFC 2595 §3.1 (MUST): "..."
//!         ...
//!
//! mailtls: 1 passed, 1 failed, 0 warned, 0 n/a, 0 errors in 0.12 s (target imap://127.0.0.1:143)
//! ```
//!
//! Glyphs: `✔` PASS, `✘` FAIL, `!` WARN, `-` N/A, `?` ERROR.

use super::RenderOptions;
use super::clause::{self, SectionKey};
use super::details;
use super::escape::sanitize;
use super::style::{Palette, Role};
use super::summary::{Tally, seconds};
use super::transcript;
use crate::engine::outcome::{Outcome, Run, Verdict};
use crate::model::Protocol;
use std::io::{self, Write};

/// Indent of a result line's glyph.
const RESULT: &str = "    ";
/// Indent of the block under a result line.
const BLOCK: &str = "        ";

/// Writes the text report.
pub(crate) fn render(run: &Run, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let palette = Palette::new(opts.color);
    let mut s = String::new();
    for protocol in Protocol::ALL {
        let mut results: Vec<&Outcome> = run
            .results
            .iter()
            .filter(|o| o.protocol == protocol)
            .collect();
        if results.is_empty() {
            continue;
        }
        results.sort_by(|a, b| clause::by_section(a, b));
        s.push_str(&palette.paint(Role::Heading, &protocol.to_string()));
        s.push('\n');
        let mut section = None;
        for outcome in results {
            let key = SectionKey::of(clause::first_reference(outcome));
            if section.as_ref() != Some(&key) {
                let name = clause::first_reference(outcome).map_or("(no clause)".into(), sanitize);
                s.push_str(&format!("  {}\n", palette.paint(Role::Heading, &name)));
                section = Some(key);
            }
            result(run, outcome, opts, palette, &mut s);
        }
        if !s.ends_with("\n\n") {
            s.push('\n');
        }
    }
    unexpected_passes(run, palette, &mut s);
    summary(run, palette, &mut s);
    out.write_all(s.as_bytes())
}

/// The glyph of a verdict and its colour.
fn glyph(outcome: &Outcome) -> (&'static str, Role) {
    let expected = outcome.expected_failure.is_some();
    match outcome.verdict {
        Verdict::Pass => ("✔", Role::Pass),
        Verdict::Fail if expected => ("✘", Role::Expected),
        Verdict::Fail => ("✘", Role::Fail),
        Verdict::Warn => ("!", Role::Warn),
        Verdict::NotApplicable => ("-", Role::Dim),
        Verdict::Info => ("i", Role::Dim),
        Verdict::Manual => ("◌", Role::Warn),
        Verdict::Error if expected => ("?", Role::Expected),
        Verdict::Error => ("?", Role::Error),
    }
}

/// One result line, and the block under it when there is something to say.
fn result(run: &Run, outcome: &Outcome, opts: &RenderOptions, palette: Palette, s: &mut String) {
    let (glyph, role) = glyph(outcome);
    let id = sanitize(&outcome.id);
    let unexpected_pass = run.unexpected_passes.contains(&outcome.id);
    let head = if outcome.verdict == Verdict::Pass {
        format!("{} {id}", palette.paint(role, glyph))
    } else {
        palette.paint(role, &format!("{glyph} {id}"))
    };
    let mut line = format!("{RESULT}{head}  {}", clause::brief(outcome));
    if let Some(reason) = &outcome.expected_failure {
        let note = format!("(expected: {})", sanitize(reason));
        line.push_str(&format!("  {}", palette.paint(Role::Expected, &note)));
    }
    if unexpected_pass {
        let note = "(unexpected pass: listed as a known failure)";
        line.push_str(&format!("  {}", palette.paint(Role::Warn, note)));
    }
    s.push_str(&line);
    s.push('\n');

    let failing = matches!(
        outcome.verdict,
        Verdict::Fail | Verdict::Warn | Verdict::Error
    );
    if failing && (outcome.expected_failure.is_none() || opts.verbose) {
        details(outcome, opts, palette, s);
    } else if opts.verbose {
        s.push_str(&format!("{BLOCK}{}\n", sanitize(&outcome.title)));
        message(outcome, palette, s);
        transcript_block(outcome, opts, palette, s);
    } else if outcome.verdict != Verdict::Pass {
        // N/A and expected failures: why, in one line.
        message(outcome, palette, s);
    }
    // MANUAL: what the person at the keyboard must look at, always shown.
    for look_for in &outcome.manual {
        let text = format!("check by hand: {}", sanitize(look_for));
        s.push_str(&format!("{BLOCK}{}\n", palette.paint(Role::Warn, &text)));
    }
}

/// `-> message`.
fn message(outcome: &Outcome, palette: Palette, s: &mut String) {
    if !outcome.message.is_empty() {
        let text = format!("-> {}", sanitize(&outcome.message));
        let role = if outcome.verdict == Verdict::NotApplicable {
            Role::Dim
        } else {
            Role::Received
        };
        s.push_str(&format!("{BLOCK}{}\n", palette.paint(role, &text)));
    }
}

/// `label:    value`, the label padded so values line up.
fn field(label: &str, value: &str, palette: Palette, s: &mut String) {
    let label = details::label(label);
    s.push_str(&format!(
        "{BLOCK}{}{value}\n",
        palette.paint(Role::Label, &label)
    ));
}

/// The block under a FAIL, WARN or ERROR.
fn details(outcome: &Outcome, opts: &RenderOptions, palette: Palette, s: &mut String) {
    s.push_str(&format!("{BLOCK}{}\n", sanitize(&outcome.title)));
    message(outcome, palette, s);
    for (label, value) in details::facts(outcome) {
        field(label, &value, palette, s);
    }
    transcript_block(outcome, opts, palette, s);
}

/// `transcript (legend):` and the rows, then a blank line.
fn transcript_block(outcome: &Outcome, opts: &RenderOptions, palette: Palette, s: &mut String) {
    if outcome.transcript.entries.is_empty() {
        field(
            "transcript",
            "(empty: nothing crossed the wire)",
            palette,
            s,
        );
        return;
    }
    let topts = transcript::options_for(outcome, opts.verbose);
    let caption = format!(
        "transcript ({}):",
        transcript::caption(outcome.role, &topts)
    );
    s.push_str(&format!(
        "{BLOCK}{}\n",
        palette.paint(Role::Label, &caption)
    ));
    let rows = transcript::rows(&outcome.transcript, outcome.role, &topts);
    transcript::write_rows(&rows, BLOCK, &topts, palette, s);
    s.push('\n');
}

/// The known failures that passed, after the results.
fn unexpected_passes(run: &Run, palette: Palette, s: &mut String) {
    if run.unexpected_passes.is_empty() {
        return;
    }
    let heading = "Unexpected passes (known failures in the expectations file that passed; \
                   remove them from the file):";
    s.push_str(&palette.paint(Role::Warn, heading));
    s.push('\n');
    for id in &run.unexpected_passes {
        s.push_str(&format!("  {}\n", sanitize(id)));
    }
    s.push('\n');
}

/// `mailtls: 41 passed, ... in 1.23 s (target imap://127.0.0.1:143)`, uncoloured.
pub(crate) fn summary_line(run: &Run) -> String {
    let strict = if run.strict { ", strict" } else { "" };
    format!(
        "mailtls: {} in {} (target {}{strict})",
        Tally::of(run).sentence(),
        seconds(run.duration),
        sanitize(&run.target),
    )
}

/// The summary line, green when the run is as expected, red otherwise.
fn summary(run: &Run, palette: Palette, s: &mut String) {
    let line = summary_line(run);
    let role = if run.is_success() {
        Role::Pass
    } else {
        Role::Fail
    };
    s.push_str(&palette.paint(role, &line));
    s.push('\n');
}
