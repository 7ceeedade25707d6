//! The Markdown report: one self-contained, bug-report-ready section per FAIL, WARN and
//! ERROR, to paste into an implementer's issue tracker: a table of facts (target,
//! verdict, level, the clause with its sentence, CVEs, mailtls version), what happened,
//! the transcript with the TLS boundary marked, and the command that reproduces it.
//! A run with nothing to report is a one-line document.

use super::RenderOptions;
use super::escape::sanitize;
use super::json::{party_name, protocol_name};
use super::summary::{Tally, seconds};
use super::transcript;
use crate::engine::outcome::{Outcome, Run, Verdict, level_label};
use crate::model::{Party, Protocol};
use std::io::{self, Write};

/// Writes the Markdown report.
pub(crate) fn render(run: &Run, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let findings: Vec<&Outcome> = run
        .results
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error))
        .collect();
    let tally = Tally::of(run);
    let target = code(&sanitize(&run.target));
    let version = sanitize(&run.tool_version);
    let mut s = String::new();
    if tally.total == 0 {
        s.push_str(&format!(
            "mailtls {version}: no scenario ran against {target}.\n"
        ));
    } else if findings.is_empty() {
        let na = match tally.na {
            0 => String::new(),
            n => format!(" ({n} not applicable)"),
        };
        let all = if tally.pass == 1 { "" } else { "all " };
        s.push_str(&format!(
            "mailtls {version}: {all}{} passed against {target}{na}.\n",
            scenarios(tally.pass)
        ));
    } else {
        let noun = if findings.len() == 1 {
            "finding"
        } else {
            "findings"
        };
        s.push_str(&format!(
            "# mailtls: {} {noun} against {target}\n\n",
            findings.len()
        ));
        s.push_str(&format!(
            "mailtls {version}, {} in {}: {}.\n",
            scenarios(tally.total),
            seconds(run.duration),
            tally.sentence()
        ));
        for outcome in findings {
            s.push('\n');
            section(run, outcome, opts, &mut s);
        }
    }
    if !run.unexpected_passes.is_empty() {
        s.push_str(
            "\n## Unexpected passes\n\nListed as known failures in the expectations file, \
             but passed this time:\n\n",
        );
        for id in &run.unexpected_passes {
            s.push_str(&format!("- {}\n", code(&sanitize(id))));
        }
    }
    out.write_all(s.as_bytes())
}

/// `1 scenario`, `2 scenarios`.
fn scenarios(n: usize) -> String {
    if n == 1 {
        "1 scenario".to_owned()
    } else {
        format!("{n} scenarios")
    }
}

/// One finding.
fn section(run: &Run, outcome: &Outcome, opts: &RenderOptions, s: &mut String) {
    let id = sanitize(&outcome.id);
    s.push_str(&format!("## {id}: {}\n\n", prose(&outcome.title)));

    let mut verdict = format!("**{}**", outcome.verdict.label());
    if let Some(reason) = &outcome.expected_failure {
        verdict.push_str(&format!(" (expected: {})", prose(reason)));
    }
    let clauses: Vec<String> = outcome
        .clauses
        .iter()
        .map(|c| {
            let reference = prose(&c.reference);
            let reference = match &c.url {
                Some(url) => format!("[{reference}](<{}>)", sanitize(url)),
                None => reference,
            };
            match &c.quote {
                Some(quote) => format!("{reference}: \"{}\"", prose(quote.trim())),
                None => reference,
            }
        })
        .collect();
    let cves: Vec<String> = outcome.cves.iter().map(|c| cve_link(c)).collect();
    let mut rows = vec![
        (
            "Target",
            format!(
                "{} ({} {})",
                code(&sanitize(&run.target)),
                protocol_name(outcome.protocol).to_uppercase(),
                party_name(outcome.role)
            ),
        ),
        ("Verdict", verdict),
        ("Level", level_label(outcome.level).to_owned()),
    ];
    if !clauses.is_empty() {
        rows.push(("Clause", clauses.join("<br>")));
    }
    if !cves.is_empty() {
        rows.push(("CVEs", cves.join(", ")));
    }
    rows.push(("mailtls", sanitize(&run.tool_version).into_owned()));
    s.push_str("| | |\n|---|---|\n");
    for (key, value) in rows {
        s.push_str(&format!("| {key} | {} |\n", value.replace('|', "\\|")));
    }

    s.push_str("\n### What happened\n\n");
    s.push_str(&capitalised(&prose(&outcome.message)));
    s.push('\n');
    if let Some(failure) = &outcome.failure {
        s.push('\n');
        s.push_str(&format!(
            "- **Expected:** {}\n",
            words_or_code(&failure.expected)
        ));
        s.push_str(&format!("- **Seen:** {}\n", code(&sanitize(&failure.seen))));
        if let Some(step) = &failure.step {
            s.push_str(&format!(
                "- **Scenario step:** {}: {}\n",
                code(&format!("{}:{}", sanitize(&step.file), step.line)),
                code(&sanitize(step.text.trim()))
            ));
        }
    }

    s.push_str("\n### Transcript\n\n");
    if outcome.transcript.entries.is_empty() {
        s.push_str("Nothing crossed the wire.\n");
    } else {
        let topts = transcript::options_for(outcome, opts.verbose);
        let caption = transcript::caption(outcome.role, &topts)
            .replace("C:", "`C:`")
            .replace("S:", "`S:`")
            .replace(">>", "`>>`");
        s.push_str(&format!(
            "{caption}; `[plain]` and `[tls]` give the phase each line travelled in.\n\n"
        ));
        let text = transcript::render_transcript(&outcome.transcript, outcome.role, &topts);
        fenced(&text, "text", s);
    }

    s.push_str("\n### How to reproduce\n\n");
    fenced(&format!("{}\n", reproduce(run, outcome)), "sh", s);
}

/// The command that reruns this one scenario against the same target.
fn reproduce(run: &Run, outcome: &Outcome) -> String {
    let mut words = vec!["mailtls".to_owned()];
    match &outcome.file {
        Some(file) => {
            words.push("replay".to_owned());
            words.push(shell_quote(&file.display().to_string()));
        }
        None => words.push("run".to_owned()),
    }
    match outcome.role {
        Party::Server => words.extend(server_args(&run.target, outcome.protocol)),
        Party::Client => {
            words.push("--client".to_owned());
            words.push(protocol_name(outcome.protocol).to_owned());
            if run.target != "reference" {
                words.push("--exec".to_owned());
                words.push(shell_quote(&run.target));
            }
        }
    }
    if outcome.file.is_none() {
        words.push("--only".to_owned());
        words.push(shell_quote(&outcome.id));
    }
    if run.strict {
        words.push("--strict".to_owned());
    }
    sanitize(&words.join(" ")).into_owned()
}

/// The target options of `mailtls run` for a server-role finding. The target is a list
/// of URLs (`imap://h:143 imaps://h:993`): those of the finding's protocol are kept.
/// Anything else names the built-in reference servers, which `mailtls run` starts when
/// no `--server` is given (`... with FAULT, FAULT` adds `--reference-fault` options).
fn server_args(target: &str, protocol: Protocol) -> Vec<String> {
    let urls: Vec<&str> = target
        .split_whitespace()
        .filter(|w| w.contains("://"))
        .collect();
    if urls.is_empty() {
        let faults: Vec<&str> = target
            .split_once(" with ")
            .map(|(_, faults)| faults.split(',').map(str::trim).collect())
            .unwrap_or_default();
        return faults
            .into_iter()
            .filter(|f| !f.is_empty())
            .flat_map(|f| ["--reference-fault".to_owned(), shell_quote(f)])
            .collect();
    }
    let scheme = protocol_name(protocol);
    let fits = |url: &&str| {
        url.split_once("://").is_some_and(|(s, _)| {
            s.eq_ignore_ascii_case(scheme) || s.eq_ignore_ascii_case(&format!("{scheme}s"))
        })
    };
    let chosen: Vec<&str> = if urls.iter().any(fits) {
        urls.into_iter().filter(fits).collect()
    } else {
        urls
    };
    chosen
        .into_iter()
        .flat_map(|url| ["--server".to_owned(), shell_quote(url)])
        .collect()
}

/// A word for a POSIX shell: as is when it holds only safe characters, else in single
/// quotes.
fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `CVE-2011-0411` linked to its record.
fn cve_link(cve: &str) -> String {
    let well_formed = cve
        .strip_prefix("CVE-")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '-'));
    if well_formed {
        format!("[{cve}](https://www.cve.org/CVERecord?id={cve})")
    } else {
        prose(cve)
    }
}

/// Text with Markdown's active characters escaped: emphasis, code, links, HTML, table
/// cells, and a heading or quote marker at the start.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in sanitize(text).chars().enumerate() {
        if "\\`*_[<|".contains(c) || (i == 0 && "#>".contains(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The first letter in upper case: a message is a clause, the report prints it as a
/// sentence.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text that may already quote patterns in backticks (`` no line matching `X1 {*}` ``):
/// kept as prose with its code spans when the backticks pair up, else one code span.
fn words_or_code(text: &str) -> String {
    let text = sanitize(text);
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() < 3 || parts.len() % 2 == 0 {
        return code(&text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| if i % 2 == 0 { prose(part) } else { code(part) })
        .collect()
}

/// An inline code span that survives backticks in `text`.
fn code(text: &str) -> String {
    let longest = longest_run(text, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced block whose fence is longer than any backtick run in `text`.
fn fenced(text: &str, info: &str, s: &mut String) {
    let fence = "`".repeat((longest_run(text, '`') + 1).max(3));
    s.push_str(&format!("{fence}{info}\n{text}{fence}\n"));
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("imap://127.0.0.1:143"), "imap://127.0.0.1:143");
        assert_eq!(shell_quote("curl -s 'x'"), "'curl -s '\\''x'\\'''");
    }

    #[test]
    fn server_options_follow_the_finding_s_protocol() {
        let both = "imap://h:143 imaps://h:993 pop3://h:110";
        assert_eq!(
            server_args(both, Protocol::Imap),
            ["--server", "imap://h:143", "--server", "imaps://h:993"]
        );
        assert_eq!(
            server_args(both, Protocol::Pop3),
            ["--server", "pop3://h:110"]
        );
        assert!(server_args("the built-in reference servers", Protocol::Imap).is_empty());
        assert_eq!(
            server_args(
                "the built-in reference servers with executes-pipelined, stale-caps",
                Protocol::Imap
            ),
            [
                "--reference-fault",
                "executes-pipelined",
                "--reference-fault",
                "stale-caps"
            ]
        );
    }

    #[test]
    fn quoted_patterns_stay_code_spans() {
        assert_eq!(
            words_or_code("no line matching `X1 {*}`"),
            "no line matching `X1 {*}`"
        );
        assert_eq!(words_or_code("a*b"), "`a*b`");
        assert_eq!(words_or_code("odd ` tick"), "``odd ` tick``");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
