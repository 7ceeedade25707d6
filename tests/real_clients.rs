//! The client-role suite against real clients from Debian's packages (scripts/setup
//! installs them): curl, Python's imaplib and poplib (tests/clients/*.py), and
//! `openssl s_client` (driven by tests/clients/openssl_client.py).
//!
//! Each suite runs the built `mailtls` binary as a user would, with the client's
//! expectations file (tests/expectations/<suite>.toml: what the client is known to get
//! wrong, each with a reason), asserts exit code 0 (everything as expected), and
//! snapshots one line per scenario: id → verdict (and the expected failure's reason).
//! A client that changes its behaviour, or a scenario that changes what it asks, shows
//! as a snapshot diff.
//!
//! A suite is skipped, with a note, only when its client's program is missing; under CI
//! (`CI` set) a missing program fails the test, since scripts/setup installs them all.

use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which real client a suite runs.
#[derive(Clone, Copy)]
enum Client {
    /// curl, with `--ssl-reqd`: TLS or nothing.
    Curl,
    /// tests/clients/imaplib_client.py or poplib_client.py (by protocol).
    Python,
    /// tests/clients/openssl_client.py, which drives `openssl s_client`.
    Openssl,
}

/// A scenario left out of one suite because mailtls cannot judge this client there yet
/// (a harness problem, reported; not something the client is expected to get wrong).
struct Pending {
    id: &'static str,
    /// What mailtls gets wrong.
    issue: &'static str,
    /// Whether the wrong verdict is the same on every run. A deterministic one is still
    /// run on the side: once it passes, the harness is fixed and the entry must go.
    deterministic: bool,
}

/// One client × protocol × transport.
struct Suite {
    /// Snapshot name; tests/expectations/<name with - for _>.toml.
    name: &'static str,
    client: Client,
    protocol: &'static str,
    implicit: bool,
    pending: &'static [Pending],
}

/// `s_client -starttls pop3` sends STLS without asking CAPA first (RFC 2595 §4 and RFC
/// 2449 leave that to the client); these scenarios wait for CAPA (`C~ CAPA` before
/// STLS), so the auto-responder answers STLS with -ERR and the scenario fails when the
/// client gives up.
const CAPA_REQUIRED_BEFORE_STLS: &str = "the scenario waits for CAPA before STLS; the \
     client sends STLS without CAPA, which the auto-responder refuses";

const fn pending(id: &'static str, issue: &'static str, deterministic: bool) -> Pending {
    Pending {
        id,
        issue,
        deterministic,
    }
}

/// The truncation scenarios cut the answer to a message fetch; a driver that never
/// fetches a message (curl's pop3:// URL only LISTs, s_client's driver only types
/// CAPABILITY/CAPA and LOGOUT/QUIT) never reaches the cut.
const NEVER_FETCHES: &str = "the scenario truncates the answer to STAT/RETR or a mailbox \
     command; this client's command line never fetches a message";

const CURL_POP3_PENDING: &[Pending] = &[pending(
    "pop3.client.truncation-not-accepted",
    NEVER_FETCHES,
    true,
)];

/// s_client tags every command `.`: with no number in it, mailtls cannot predict the
/// client's next tag (`{t1+1}`), and the scenario ends in ERROR.
const DOT_TAGS: &str = "the scenario predicts the client's next tag ({t1+1}); s_client \
     tags every command `.`, which has no number to count on";

const OPENSSL_IMAP_PENDING: &[Pending] = &[
    pending("imap.client.truncation-not-accepted", NEVER_FETCHES, true),
    pending("imap.client.early-tagged-ok", DOT_TAGS, true),
    pending(
        "imap.client.inject.tagged-completion-for-future-command",
        DOT_TAGS,
        true,
    ),
    pending("imap.client.inject.mailbox-forgery", DOT_TAGS, true),
    pending(
        "imap.client.tamper.untagged-after-greeting",
        "s_client's -starttls imap loop stops reading the CAPABILITY answer at the first \
         line of 3 octets or fewer (the empty line of the injected FETCH literal), frees its \
         read-ahead and takes one read as the STARTTLS answer; whether `. OK Begin TLS` then \
         lands in its handshake (wrong version number, FAIL) or in that read (PASS) depends \
         on how mailtls's two answers are split between reads",
        false,
    ),
];

const OPENSSL_POP3_PENDING: &[Pending] = &[
    pending("pop3.client.truncation-not-accepted", NEVER_FETCHES, true),
    pending(
        "pop3.client.strip.stls-err-sys-perm",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.strip.capa-unsupported",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.user-pass.not-without-tls",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.pre-tls-command-allowlist",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.strip.stls-err",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.strip.capa-without-stls",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.plain.not-without-tls",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
    pending(
        "pop3.client.caps.reissue-after-tls",
        CAPA_REQUIRED_BEFORE_STLS,
        true,
    ),
];

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// `name` on PATH, as a full path.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// Debian's python3 (the one scripts/setup installs), else python3 on PATH.
fn python() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.is_file() {
        Some(debian)
    } else {
        on_path("python3")
    }
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// The `--exec` command line, or the program that is missing.
fn exec(suite: &Suite) -> Result<String, &'static str> {
    let implicit = if suite.implicit { " --implicit" } else { "" };
    match suite.client {
        Client::Curl => {
            let curl = on_path("curl").ok_or("curl")?;
            Ok(format!(
                "{} -sS --ssl-reqd --cacert {{ca}} --resolve {{name}}:{{port}}:{{host}} \
                 {{scheme}}://{{name}}:{{port}}/ -u {{user}}:{{password}}",
                quoted(&curl)
            ))
        }
        Client::Python => {
            let python = python().ok_or("python3")?;
            let script = match suite.protocol {
                "imap" => "imaplib_client.py",
                _ => "poplib_client.py",
            };
            Ok(format!(
                "{} {}{implicit} {{host}} {{port}} {{name}} {{ca}} {{user}} {{password}}",
                quoted(&python),
                quoted(&clients_dir().join(script))
            ))
        }
        Client::Openssl => {
            let python = python().ok_or("python3")?;
            on_path("openssl").ok_or("openssl")?;
            Ok(format!(
                "{} {} {}{implicit} {{host}} {{port}} {{name}} {{ca}}",
                quoted(&python),
                quoted(&clients_dir().join("openssl_client.py")),
                suite.protocol
            ))
        }
    }
}

/// The first line of `program --version` (for failure messages, not the snapshot).
fn version(suite: &Suite) -> String {
    let (program, args): (Option<PathBuf>, &[&str]) = match suite.client {
        Client::Curl => (on_path("curl"), &["--version"]),
        Client::Python => (python(), &["--version"]),
        Client::Openssl => (on_path("openssl"), &["version"]),
    };
    program
        .and_then(|p| Command::new(p).args(args).output().ok())
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_default()
}

/// The client's name and version for the conformance table: `curl 7.88.1`,
/// `Python 3.11.2 imaplib`, `OpenSSL 3.0.19 s_client`.
fn peer_label(suite: &Suite, version: &str) -> String {
    let short: Vec<&str> = version.split_whitespace().take(2).collect();
    let short = short.join(" ");
    match suite.client {
        Client::Curl => short,
        Client::Python if suite.protocol == "pop3" => format!("{short} poplib"),
        Client::Python => format!("{short} imaplib"),
        Client::Openssl => format!("{short} s_client"),
    }
}

/// Runs `mailtls run --client ...` for `suite` with `extra` arguments; exit code and
/// JSON report.
fn mailtls_run(suite: &Suite, command: &str, extra: &[String]) -> (Option<i32>, Value) {
    let mut args: Vec<String> = [
        "run",
        "--client",
        suite.protocol,
        "--exec",
        command,
        "--format",
        "json",
        // Real clients answer in milliseconds; this bounds a client that hangs.
        "--timeout",
        "2s",
        // Scenarios mostly wait (on a client's exit, on s_client's half a second of
        // linger after its close): more at once than the 2 cores.
        "--jobs",
        "4",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if suite.implicit {
        args.push("--implicit".to_owned());
    }
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(&args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the mailtls binary runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "mailtls {args:?} printed no JSON report ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn results(report: &Value) -> &[Value] {
    report["results"].as_array().map_or(&[], Vec::as_slice)
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or_default()
}

/// One line per scenario, in the run's order: what the snapshot holds.
fn summary(suite: &Suite, pending: &[&Pending], report: &Value) -> String {
    let mut lines = Vec::new();
    for result in results(report) {
        let verdict = text(result, "verdict");
        lines.push(match result["expected_failure"].as_str() {
            Some(reason) => format!("{}: {verdict} (expected: {reason})", text(result, "id")),
            None => format!("{}: {verdict}", text(result, "id")),
        });
    }
    if lines.is_empty() {
        lines.push(format!(
            "(no {} client scenario for this transport)",
            suite.protocol
        ));
    }
    for pending in pending {
        lines.push(format!(
            "{}: not run (mailtls harness: {})",
            pending.id, pending.issue
        ));
    }
    lines.join("\n") + "\n"
}

/// What went wrong in a run that did not exit 0: every result that is neither a pass
/// nor an expected failure, with its message and transcript.
fn explain(report: &Value) -> String {
    let mut out = String::new();
    for result in results(report) {
        let verdict = text(result, "verdict");
        let expected = result["expected_failure"].is_string();
        let unexpected_pass = result["unexpected_pass"].as_bool().unwrap_or(false);
        if (verdict == "pass" || verdict == "na" || expected) && !unexpected_pass {
            continue;
        }
        out.push_str(&format!(
            "\n{} {}{}: {}\n",
            verdict,
            text(result, "id"),
            if unexpected_pass {
                " (listed as an expected failure, but passed)"
            } else {
                ""
            },
            text(result, "message")
        ));
        let entries = result["transcript"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for entry in entries {
            let what = match text(entry, "event") {
                "data" => format!("{}: {}", text(entry, "sender"), text(entry, "text")),
                "note" => format!("# {}", text(entry, "text")),
                other => format!("---- {other} {}", text(entry, "how")),
            };
            out.push_str(&format!("    {}\n", what.trim_end()));
        }
    }
    out
}

/// The ids of the scenarios built into this mailtls.
fn known_ids() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .arg("list")
        .output()
        .expect("the mailtls binary runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn run(suite: &Suite) {
    let command = match exec(suite) {
        Ok(command) => command,
        Err(missing) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{}: `{missing}` is missing under CI: scripts/setup installs it",
                suite.name
            );
            // Straight to stderr, past the test harness's capture: a skip must show.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED real_clients::{}: `{missing}` is not installed (bash scripts/setup installs it)",
                suite.name
            );
            return;
        }
    };
    let client = version(suite);
    // Only the pending scenarios this build has (the POP3 ones may not exist yet).
    let known = known_ids();
    let pending: Vec<&Pending> = suite
        .pending
        .iter()
        .filter(|p| known.iter().any(|id| id == p.id))
        .collect();
    let expect = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expectations")
        .join(format!("{}.toml", suite.name.replace('_', "-")));
    let mut extra = vec![
        "--expect".to_owned(),
        expect.to_str().expect("a UTF-8 path").to_owned(),
    ];
    for pending in &pending {
        extra.push("--skip".to_owned());
        extra.push(pending.id.to_owned());
    }
    let (code, report) = mailtls_run(suite, &command, &extra);
    crate::support::save_conformance(
        suite.name,
        &peer_label(suite, &client),
        "client",
        &format!(
            "{} {}",
            suite.protocol,
            if suite.implicit {
                "implicit TLS"
            } else {
                "STARTTLS"
            }
        ),
        &report,
    );
    assert_eq!(
        code,
        Some(0),
        "{} ({client}): not every scenario went as {} expects (exit {code:?}):\n{}{}",
        suite.name,
        expect.display(),
        summary(suite, &pending, &report),
        explain(&report)
    );
    let verdicts = summary(suite, &pending, &report);
    insta::assert_snapshot!(suite.name, verdicts);

    // The deterministic harness problems, on the side: the day one passes, mailtls
    // judges it right, and the entry must become a verdict (or an expectation).
    let side: Vec<String> = pending
        .iter()
        .filter(|p| p.deterministic)
        .flat_map(|p| ["--only".to_owned(), p.id.to_owned()])
        .collect();
    if side.is_empty() {
        return;
    }
    let (_, report) = mailtls_run(suite, &command, &side);
    for result in results(&report) {
        assert_ne!(
            text(result, "verdict"),
            "pass",
            "{}: mailtls now judges {} for this client: remove it from the pending list in \
             tests/real_clients.rs and snapshot what it says",
            suite.name,
            text(result, "id")
        );
    }
}

#[test]
fn curl_imap() {
    run(&Suite {
        name: "curl_imap",
        client: Client::Curl,
        protocol: "imap",
        implicit: false,
        pending: &[],
    });
}

#[test]
fn curl_pop3() {
    run(&Suite {
        name: "curl_pop3",
        client: Client::Curl,
        protocol: "pop3",
        implicit: false,
        pending: CURL_POP3_PENDING,
    });
}

#[test]
fn curl_imap_implicit() {
    run(&Suite {
        name: "curl_imap_implicit",
        client: Client::Curl,
        protocol: "imap",
        implicit: true,
        pending: &[],
    });
}

#[test]
fn curl_pop3_implicit() {
    run(&Suite {
        name: "curl_pop3_implicit",
        client: Client::Curl,
        protocol: "pop3",
        implicit: true,
        pending: &[],
    });
}

#[test]
fn imaplib_imap() {
    run(&Suite {
        name: "imaplib_imap",
        client: Client::Python,
        protocol: "imap",
        implicit: false,
        pending: &[],
    });
}

#[test]
fn imaplib_imap_implicit() {
    run(&Suite {
        name: "imaplib_imap_implicit",
        client: Client::Python,
        protocol: "imap",
        implicit: true,
        pending: &[],
    });
}

#[test]
fn poplib_pop3() {
    run(&Suite {
        name: "poplib_pop3",
        client: Client::Python,
        protocol: "pop3",
        implicit: false,
        pending: &[],
    });
}

#[test]
fn poplib_pop3_implicit() {
    run(&Suite {
        name: "poplib_pop3_implicit",
        client: Client::Python,
        protocol: "pop3",
        implicit: true,
        pending: &[],
    });
}

#[test]
fn openssl_imap() {
    run(&Suite {
        name: "openssl_imap",
        client: Client::Openssl,
        protocol: "imap",
        implicit: false,
        pending: OPENSSL_IMAP_PENDING,
    });
}

#[test]
fn openssl_pop3() {
    run(&Suite {
        name: "openssl_pop3",
        client: Client::Openssl,
        protocol: "pop3",
        implicit: false,
        pending: OPENSSL_POP3_PENDING,
    });
}

#[test]
fn openssl_imap_implicit() {
    run(&Suite {
        name: "openssl_imap_implicit",
        client: Client::Openssl,
        protocol: "imap",
        implicit: true,
        pending: &[],
    });
}

#[test]
fn openssl_pop3_implicit() {
    run(&Suite {
        name: "openssl_pop3_implicit",
        client: Client::Openssl,
        protocol: "pop3",
        implicit: true,
        pending: &[],
    });
}
