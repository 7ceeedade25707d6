//! The requirement coverage data (`scenarios/coverage.toml`) against the built-in
//! scenarios and the RFC text, and `mailtls list --coverage` as a user runs it.
//!
//! The scenario set grows while this data is maintained: these tests assert consistency
//! (every named scenario exists, every quoting scenario is mapped, every sentence has a
//! scenario or a reason), never a fixed number of scenarios. Whether every catalogue id
//! is implemented is `coverage::missing_catalogue_ids()`, asserted elsewhere when the
//! suite is complete.

use crate::support::{code, stdout};
use mailtls::coverage::{
    self, CatalogueStatus, Coverage, DataError, Level, Matrix, Problem, Role, ScenarioView, Status,
};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn data() -> Coverage {
    coverage::builtin().unwrap_or_else(|e| panic!("{e}"))
}

fn matrix() -> Matrix {
    Matrix::build(&data(), &coverage::builtin_scenarios().unwrap())
}

/// The problems of one kind, one per line, for a failure message.
fn problems_of(matrix: &Matrix, kind: &str) -> Vec<String> {
    matrix
        .problems
        .iter()
        .filter(|p| p.kind() == kind)
        .map(ToString::to_string)
        .collect()
}

// ---- (a) every scenario the data names exists --------------------------------------

#[test]
fn every_scenario_the_data_names_is_a_built_in_scenario() {
    let unknown = problems_of(&matrix(), "unknown-scenario");
    assert!(unknown.is_empty(), "\n{}", unknown.join("\n"));
}

// ---- (b) every sentence has a scenario or a reason ------------------------------------

#[test]
fn every_sentence_has_a_scenario_or_a_gap_reason() {
    let matrix = matrix();
    let untested: Vec<&str> = matrix
        .rows
        .iter()
        .filter(|r| r.status == Status::Untested)
        .map(|r| r.sentence.id.as_str())
        .collect();
    assert!(untested.is_empty(), "no scenario and no gap: {untested:?}");
    for row in &matrix.rows {
        if row.status == Status::Gap {
            let gap = row.sentence.gap.as_deref().unwrap_or_default();
            assert!(gap.len() > 20, "{}: a gap needs a reason", row.sentence.id);
        }
    }
}

// ---- (c) ids, levels, text ----------------------------------------------------------

#[test]
fn sentence_ids_are_unique_and_texts_are_present() {
    let data = data();
    let mut ids = BTreeSet::new();
    for s in &data.sentences {
        assert!(ids.insert(s.id.as_str()), "{} twice", s.id);
        assert!(!s.text.trim().is_empty(), "{}: empty text", s.id);
        assert!(!s.roles.is_empty(), "{}: binds no role", s.id);
        let word = s.level.label();
        assert!(
            s.text.contains(word) || s.focus.as_deref().is_some_and(|f| f.contains(word)),
            "{}: level {word} is not in its text or focus",
            s.id
        );
    }
    assert!(
        coverage::validate(&data).is_empty(),
        "{:?}",
        coverage::validate(&data)
    );
}

#[test]
fn a_malformed_data_file_is_refused_with_every_reason() {
    let bad = r#"
[sections]
"RFC 2595 §3.1" = "IMAP STARTTLS Command"

[[sentence]]
id = "dup"
source = "RFC 2595"
section = "3.1"
level = "MUST"
roles = ["client"]
text = "x MUST y."
seed = "verbatim"
scenarios = []

[[sentence]]
id = "dup"
source = "RFC 2595"
section = "9.9"
level = "MAY"
roles = []
text = "  "
seed = "verbatim"
scenarios = []
gap = "reason enough for the test"
readings = [{ by = "x", level = "MAY", rules = "identity/rfc1234", how = "h" }]

[catalogue]
"#;
    let errors = coverage::parse("bad.toml", bad).unwrap_err();
    let has = |e: &DataError| errors.contains(e);
    assert!(
        has(&DataError::DuplicateSentence("dup".into())),
        "{errors:?}"
    );
    assert!(has(&DataError::NoScenarioNoGap("dup".into())), "{errors:?}");
    assert!(
        has(&DataError::Empty {
            id: "dup".into(),
            field: "text"
        }),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(
            |e| matches!(e, DataError::UnknownSection { clause, .. } if clause == "RFC 2595 §9.9")
        ),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(
            |e| matches!(e, DataError::UnknownRules { rules, .. } if rules == "identity/rfc1234")
        ),
        "{errors:?}"
    );
    // A level that is not a key word does not parse at all.
    let level = bad.replacen("level = \"MUST\"", "level = \"MUSTN'T\"", 1);
    let errors = coverage::parse("bad.toml", &level).unwrap_err();
    assert!(
        matches!(&errors[..], [DataError::Syntax { message, .. }] if message.contains("MUSTN'T")),
        "{errors:?}"
    );
}

// ---- (d) the map stays honest as scenarios are added ------------------------------------

#[test]
fn every_scenario_quoting_a_sentence_is_listed_under_it() {
    let unmapped = problems_of(&matrix(), "unmapped-quote");
    assert!(unmapped.is_empty(), "\n{}", unmapped.join("\n"));
}

#[test]
fn every_catalogue_id_a_scenario_claims_is_in_the_catalogue() {
    let unknown = problems_of(&matrix(), "unknown-catalogue-id");
    assert!(unknown.is_empty(), "\n{}", unknown.join("\n"));
}

#[test]
fn the_built_in_data_is_consistent() {
    let matrix = matrix();
    let all: Vec<String> = matrix.problems.iter().map(ToString::to_string).collect();
    assert!(matrix.is_consistent(), "\n{}", all.join("\n"));
}

// ---- (f) the checks above can fail ------------------------------------------------------

/// A data file whose one sentence names `scenario`.
fn one_sentence(scenario: &str, gap: Option<&str>) -> Coverage {
    let gap = gap.map_or(String::new(), |g| format!("gap = \"{g}\"\n"));
    let text = format!(
        r#"
[sections]
"RFC 2595 §3.2" = "IMAP LOGINDISABLED capability"

[[sentence]]
id = "rfc2595-3.2-client-no-login"
source = "RFC 2595"
section = "3.2"
level = "MUST NOT"
roles = ["client"]
text = "An IMAP client which complies with this specification MUST NOT issue the LOGIN command if this capability is present."
seed = "paraphrase"
scenarios = ["{scenario}"]
{gap}
[catalogue."4.5"]
title = "IMAP client"
ids = ["imap.client.logindisabled.respected", "imap.client.not.written"]
"#
    );
    coverage::parse("test.toml", &text).unwrap()
}

#[test]
fn naming_a_missing_scenario_fails_and_names_the_sentence() {
    let scenarios = coverage::builtin_scenarios().unwrap();
    let matrix = Matrix::build(
        &one_sentence("imap.client.no-such-scenario", None),
        &scenarios,
    );
    assert!(!matrix.is_consistent());
    let unknown = problems_of(&matrix, "unknown-scenario");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(
        unknown[0].contains("rfc2595-3.2-client-no-login")
            && unknown[0].contains("imap.client.no-such-scenario")
            && unknown[0].contains("last scenario"),
        "{}",
        unknown[0]
    );
    // It was the only scenario: the sentence is left untested, and says so.
    assert_eq!(matrix.rows[0].status, Status::Untested);
    assert!(matrix.problems.contains(&Problem::Untested {
        sentence: "rfc2595-3.2-client-no-login".into()
    }));
    // With a gap reason the sentence is a deliberate gap, but the dead name still fails.
    let matrix = Matrix::build(
        &one_sentence("imap.client.no-such-scenario", Some("not written yet")),
        &scenarios,
    );
    assert_eq!(matrix.rows[0].status, Status::Gap);
    assert_eq!(problems_of(&matrix, "unknown-scenario").len(), 1);
    // The real scenario passes.
    let matrix = Matrix::build(
        &one_sentence("imap.client.logindisabled.respected", None),
        &scenarios,
    );
    assert!(problems_of(&matrix, "unknown-scenario").is_empty());
    assert_eq!(matrix.rows[0].status, Status::Tested);
}

/// A scenario with one clause and quote.
fn view(id: &str, role: Role, clause: &str, quote: &str) -> ScenarioView {
    ScenarioView {
        id: id.into(),
        file: format!("scenarios/x/{id}.scn"),
        roles: vec![role],
        clauses: vec![(clause.into(), Some(quote.into()))],
        catalogue: Vec::new(),
        manual: false,
    }
}

#[test]
fn a_scenario_quoting_a_sentence_it_is_not_listed_under_fails() {
    let data = one_sentence("imap.client.logindisabled.respected", None);
    let sentence = "An IMAP client which complies with this specification MUST NOT issue the\n LOGIN command if this capability is present.";
    let listed = view(
        "imap.client.logindisabled.respected",
        Role::Client,
        "RFC 2595 §3.2",
        sentence,
    );
    // Quoted with different whitespace and case, and inside a longer quote.
    let longer = format!("Intro sentence. {} More.", sentence.to_uppercase());
    let stray = view("imap.client.other", Role::Client, "RFC 2595 §3", &longer);
    let matrix = Matrix::build(&data, &[listed.clone(), stray]);
    assert_eq!(
        matrix.problems,
        vec![Problem::UnmappedQuote {
            scenario: "imap.client.other".into(),
            file: "scenarios/x/imap.client.other.scn".into(),
            sentences: vec!["rfc2595-3.2-client-no-login".into()],
        }]
    );
    // The same quote under another section's clause is another sentence: no problem.
    let elsewhere = view("imap.client.other", Role::Client, "RFC 2595 §4", sentence);
    assert!(Matrix::build(&data, &[listed, elsewhere]).is_consistent());
}

#[test]
fn catalogue_ids_are_implemented_manual_or_missing() {
    let data = one_sentence("imap.client.logindisabled.respected", None);
    let mut by_header = view("imap.client.x", Role::Client, "RFC 2595 §3.2", "unrelated");
    by_header.catalogue = vec!["imap.client.logindisabled.respected".into()];
    let matrix = Matrix::build(&data, &[by_header.clone()]);
    let status: Vec<_> = matrix
        .catalogue
        .iter()
        .map(|r| (r.id.as_str(), r.status))
        .collect();
    assert_eq!(
        status,
        [
            (
                "imap.client.logindisabled.respected",
                CatalogueStatus::Implemented
            ),
            ("imap.client.not.written", CatalogueStatus::Missing),
        ]
    );
    assert_eq!(
        data.catalogue.missing(&[by_header.clone()]),
        ["imap.client.not.written"]
    );
    // Every implementing scenario needs a person: MANUAL.
    by_header.manual = true;
    let matrix = Matrix::build(&data, &[by_header.clone()]);
    assert_eq!(matrix.catalogue[0].status, CatalogueStatus::Manual);
    // A claim of an id the catalogue lacks is a problem.
    by_header.catalogue.push("imap.client.typo".into());
    let matrix = Matrix::build(&data, &[by_header]);
    assert_eq!(problems_of(&matrix, "unknown-catalogue-id").len(), 1);
}

// ---- what the data says about the RFCs ----------------------------------------------------

#[test]
fn the_retired_cipher_suite_is_reported_obsolete_with_the_rfcs_that_retired_it() {
    let data = data();
    let suite = data
        .sentences
        .iter()
        .find(|s| s.text.contains("TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"))
        .expect("RFC 2595 §2.1's cipher suite is listed, not dropped");
    assert_eq!(
        (suite.section.as_str(), suite.level),
        ("2.1", Level::Required)
    );
    assert!(suite.obsolete);
    let by: Vec<&str> = suite.superseded_by.iter().map(|r| r.rfc.as_str()).collect();
    for rfc in ["RFC 7525", "RFC 8996", "RFC 9325", "RFC 8314"] {
        assert!(by.contains(&rfc), "{rfc} missing from {by:?}");
    }
}

#[test]
fn changed_requirements_are_checked_under_both_readings() {
    let data = data();
    let rules_of = |id: &str| -> Vec<String> {
        let s = data.sentences.iter().find(|s| s.id == id).unwrap();
        s.readings.iter().map(|r| r.rules.clone()).collect()
    };
    assert_eq!(
        rules_of("rfc2595-2.4-check-server-identity"),
        ["identity/rfc2595", "identity/rfc6125", "identity/rfc9525"]
    );
    assert_eq!(
        rules_of("rfc2595-6-authcid-255-octets"),
        ["plain/rfc2595", "plain/rfc4616"]
    );
    assert_eq!(
        rules_of("rfc2595-6-plain-needs-encryption"),
        ["plain/rfc2595", "plain/rfc4616"]
    );
}

#[test]
fn every_section_of_rfc_2595_2_to_6_and_of_the_draft_has_sentences() {
    let data = data();
    let clauses: BTreeSet<String> = data.sentences.iter().map(|s| s.clause()).collect();
    for clause in [
        "RFC 2595 §2.1",
        "RFC 2595 §2.2",
        "RFC 2595 §2.3",
        "RFC 2595 §2.4",
        "RFC 2595 §2.5",
        "RFC 2595 §3.1",
        "RFC 2595 §3.2",
        "RFC 2595 §4",
        "RFC 2595 §5.1",
        "RFC 2595 §6",
        "draft-melnikov-pop3-over-tls-02 §2.1",
        "draft-melnikov-pop3-over-tls-02 §2.2",
        "draft-melnikov-pop3-over-tls-02 §2.3",
    ] {
        assert!(clauses.contains(clause), "{clause} has no sentence");
    }
}

/// The seed texts of the brief, when the checkout has them beside it (`../shared/seeds`,
/// as CI lays it out: a fresh clone with shared/ beside it).
fn seeds() -> Option<Vec<String>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Some(
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect(),
    )
}

/// Markdown links of the extracted draft (`[RFC 1939](#)`) to their text, whitespace runs
/// to one space.
fn plain_text(seed: &str) -> String {
    let mut out = String::with_capacity(seed.len());
    let mut rest = seed;
    while let Some(at) = rest.find("](#)") {
        let (before, after) = rest.split_at(at);
        match before.rfind('[') {
            Some(open) => {
                out.push_str(&before[..open]);
                out.push_str(&before[open + 1..]);
            }
            None => out.push_str(before),
        }
        rest = &after[4..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

const KEY_WORDS: [&str; 7] = [
    "MUST",
    "SHALL",
    "SHOULD",
    "MAY",
    "REQUIRED",
    "RECOMMENDED",
    "OPTIONAL",
];

fn is_key_word(word: &str) -> bool {
    KEY_WORDS.contains(&word.trim_matches(|c: char| !c.is_ascii_alphabetic()))
}

/// Sentences of `text` (whitespace already folded) that carry a capitalised key word.
fn key_word_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        current.push(*c);
        let next = chars.get(i + 1).copied();
        let ends = (*c == '.' && next.is_none_or(|n| n == ' '))
            || (*c == ')' && i > 0 && chars[i - 1] == '.' && next.is_none_or(|n| n == ' '));
        if ends || next.is_none() {
            sentences.push(current.trim().to_owned());
            current.clear();
        }
    }
    sentences
        .into_iter()
        .filter(|s| s.split(' ').any(is_key_word))
        .filter(|s| !s.contains("key words"))
        .collect()
}

/// The words around each key word of `sentence`, three on each side (fewer at its ends):
/// enough to find the sentence in the data file, capitals included, even where a seed
/// glues a heading to it or breaks off inside it.
fn key_word_windows(sentence: &str) -> Vec<String> {
    let words: Vec<&str> = sentence.split(' ').collect();
    (0..words.len())
        .filter(|k| is_key_word(words[*k]))
        .map(|k| words[k.saturating_sub(3)..(k + 4).min(words.len())].join(" "))
        .collect()
}

/// Every capitalised key-word sentence in the seeds that quote the documents verbatim
/// (the RFC 2595 extract from §2 on, the draft from §2 on) is in the data file, and every
/// entry marked `verbatim` is word for word in a seed.
#[test]
fn every_key_word_sentence_of_the_verbatim_seeds_is_listed() {
    let Some(seeds) = seeds() else {
        // CI lays shared/ beside the clone: there a missing seed directory is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/seeds is missing under CI"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED coverage: ../shared/seeds is not beside the checkout"
        );
        return;
    };
    let data = data();
    // Whitespace folded, case kept: the key words must be capitals in the data too.
    let texts: Vec<String> = data
        .sentences
        .iter()
        .map(|s| s.text.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut checked = 0;
    let mut missing = Vec::new();
    for seed in &seeds {
        let text = plain_text(seed);
        let start = if text.contains("Request for Comments: 2595") && !text.contains("Colasoft") {
            text.find("2. Basic Interoperability")
        } else if text.contains("draft-melnikov-pop3-over-tls") {
            text.find("2. POP3 over TLS Protocol This section")
        } else {
            None
        };
        let Some(start) = start else { continue };
        for sentence in key_word_sentences(&text[start..]) {
            checked += 1;
            for window in key_word_windows(&sentence) {
                if !texts.iter().any(|t| t.contains(&window)) {
                    missing.push(format!("{window:?} of: {sentence}"));
                }
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} key-word sentences found in the seeds"
    );
    assert!(
        missing.is_empty(),
        "not in the data file:\n{}",
        missing.join("\n")
    );
    let all: String = seeds
        .iter()
        .map(|s| plain_text(s))
        .collect::<Vec<_>>()
        .join(" ");
    for s in data
        .sentences
        .iter()
        .filter(|s| s.seed == coverage::Seed::Verbatim)
    {
        let text = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            all.contains(&text),
            "{} is marked verbatim but no seed has it: {text}",
            s.id
        );
    }
}

// ---- (e) the CLI --------------------------------------------------------------------------

fn list_coverage(args: &[&str], columns: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["list", "--coverage"])
        .args(args)
        .env("COLUMNS", columns)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn list_coverage_prints_the_matrix_abridged_to_the_terminal() {
    let out = list_coverage(&[], "90");
    let text = stdout(&out);
    assert_eq!(code(&out), Some(0), "{text}");
    // Every line fits but the summary, which stays one line for scripts.
    let (body, summary) = text.trim_end().rsplit_once('\n').unwrap();
    for line in body.lines() {
        assert!(line.chars().count() <= 90, "longer than $COLUMNS: {line}");
    }
    assert!(summary.starts_with("coverage: "), "{summary}");
    // Grouped by source and section, the sentence quoted, its scenarios listed.
    assert!(
        text.starts_with("RFC 2595\n  §2.1 Cipher Suite Requirements\n"),
        "{text}"
    );
    assert!(
        text.contains("\ndraft-melnikov-pop3-over-tls-02\n"),
        "{text}"
    );
    assert!(
        text.contains("MUST NOT    client         rfc2595-3.2-client-no-login"),
        "{text}"
    );
    assert!(
        text.contains("imap.client.logindisabled.respected"),
        "{text}"
    );
    // The retired suite is flagged obsolete with its RFCs; gaps are loud.
    assert!(
        text.contains("OBSOLETE: retired by RFC 7525, RFC 8996, RFC 9325, RFC 8314"),
        "{text}"
    );
    assert!(
        text.contains("✘ NO SCENARIO: not observable: what a server does"),
        "{text}"
    );
    // The catalogue, then the counts.
    assert!(
        text.contains("Catalogue (starttls-catalogue.md §4): "),
        "{text}"
    );
    assert!(
        text.contains("    ✔ imap.server.starttls.ok-then-handshake"),
        "{text}"
    );
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("coverage: ") && last.ends_with("data consistent"),
        "{last}"
    );
}

#[test]
fn list_coverage_json_gives_the_same_data_to_machines() {
    let out = list_coverage(&["--format", "json"], "100");
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "mailtls-coverage/1");
    assert_eq!(doc["consistent"], true);
    assert_eq!(doc["problems"], serde_json::json!([]));
    let sentences = doc["sentences"].as_array().unwrap();
    let data = data();
    assert_eq!(sentences.len(), data.sentences.len());
    let no_login = sentences
        .iter()
        .find(|s| s["id"] == "rfc2595-3.2-client-no-login")
        .unwrap();
    assert_eq!(no_login["clause"], "RFC 2595 §3.2");
    assert_eq!(no_login["level"], "MUST NOT");
    assert_eq!(no_login["roles"], serde_json::json!(["client"]));
    assert_eq!(no_login["status"], "tested");
    assert!(
        no_login["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == "imap.client.logindisabled.respected"
                && s["roles"] == serde_json::json!(["client"]))
    );
    let suite = sentences
        .iter()
        .find(|s| s["id"] == "rfc2595-2.1-mandatory-cipher-suite")
        .unwrap();
    assert_eq!(suite["obsolete"], true);
    assert_ne!(suite["status"], "untested");
    assert_eq!(suite["superseded_by"][1]["rfc"], "RFC 8996");
    // The summary agrees with the rows.
    let summary = &doc["summary"];
    let count = |status: &str| sentences.iter().filter(|s| s["status"] == status).count();
    assert_eq!(summary["sentences"], sentences.len());
    assert_eq!(summary["tested"], count("tested"));
    assert_eq!(summary["gaps"], count("gap"));
    let by_source = summary["by_source"].as_object().unwrap();
    let total: u64 = by_source
        .values()
        .map(|v| v["sentences"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, sentences.len());
    // The catalogue: every id once, with a status, and the missing ones are the library's.
    let catalogue = doc["catalogue"].as_array().unwrap();
    assert_eq!(catalogue.len(), data.catalogue.ids().count());
    let missing: Vec<&str> = catalogue
        .iter()
        .filter(|c| c["status"] == "missing")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(missing, coverage::missing_catalogue_ids().unwrap());
    assert_eq!(summary["catalogue"]["missing"], missing.len());
}

#[test]
fn list_coverage_exits_1_when_a_mapped_scenario_is_gone() {
    // Read the data against a scenario directory that lacks most built-in scenarios.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/pop3s");
    // Wide enough that no problem is wrapped.
    let out = list_coverage(&["--scenarios", dir.to_str().unwrap()], "400");
    let text = stdout(&out);
    assert_eq!(code(&out), Some(1), "{text}");
    assert!(
        text.contains("Problems (the data file and the scenarios disagree):"),
        "{text}"
    );
    assert!(
        text.contains(
            "sentence rfc2595-3.2-client-no-login (RFC 2595 §3.2, MUST NOT) names scenario `imap.client.logindisabled.respected`"
        ),
        "{text}"
    );
    assert!(
        text.lines().last().unwrap().ends_with(" problems"),
        "{text}"
    );
}
