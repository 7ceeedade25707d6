//! The client role's proof: every built-in client scenario passes against the built-in
//! reference client and fails (or warns) against each faulty client listed for it in
//! `CATCHES`; every client fault is caught by some scenario.

use mailtls::certs::profiles::Minted;
use mailtls::engine::Judging;
use mailtls::engine::client::{ClientTarget, Launch};
use mailtls::engine::outcome::{Outcome, Verdict};
use mailtls::model::{Party, Protocol, Transport};
use mailtls::peers::ClientFault;
use mailtls::runner::{Loaded, load, run_clients};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Scenario id → the client faults that must make it fail (FAIL, or WARN for SHOULD).
const CATCHES: &[(&str, &[&str])] = &[
    // IMAP over STARTTLS
    (
        "imap.client.starttls.session",
        &["stale-capabilities", "malformed-plain"],
    ),
    (
        "imap.client.starttls.no-pipelining",
        &["sends-before-handshake"],
    ),
    (
        "imap.client.strip.capability-without-starttls",
        &[
            "continues-without-starttls",
            "plain-in-cleartext",
            "reconnects-in-plaintext",
        ],
    ),
    (
        "imap.client.strip.starttls-no",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.strip.starttls-bad",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.inject.response-after-starttls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "imap.client.caps.reissue-after-tls",
        &["stale-capabilities"],
    ),
    (
        "imap.client.logindisabled.respected",
        &["login-despite-logindisabled"],
    ),
    ("imap.client.plain.not-without-tls", &["plain-in-cleartext"]),
    ("imap.client.preauth.abort", &["accepts-cleartext-preauth"]),
    ("imap.client.close-notify-on-logout", &["no-close-notify"]),
    ("imap.client.cert.wrong-host", &["no-name-check"]),
    ("imap.client.cert.ip-only", &["no-name-check"]),
    (
        "imap.client.cert.wildcard-not-apex",
        &["overbroad-wildcard", "no-name-check"],
    ),
    (
        "imap.client.cert.wildcard-one-label-only",
        &["overbroad-wildcard"],
    ),
    (
        "imap.client.cert.wildcard-partial-label",
        &["overbroad-wildcard"],
    ),
    ("imap.client.cert.expired", &["no-chain-check"]),
    ("imap.client.cert.not-yet-valid", &["no-chain-check"]),
    ("imap.client.cert.self-signed", &["no-chain-check"]),
    ("imap.client.cert.untrusted-root", &["no-chain-check"]),
    // The good profiles: the session goes on, and what the client then sends is judged.
    ("imap.client.cert.wildcard-leftmost", &["malformed-plain"]),
    (
        "imap.client.cert.any-of-multiple-sans",
        &["malformed-plain"],
    ),
    ("imap.client.cert.cn-only-legacy", &["malformed-plain"]),
    // IMAP: stripping, downgrades and the other cleartext tricks (catalogue §4.5)
    (
        "imap.client.strip.starttls-continuation",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.strip.starttls-unknown-response",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.strip.starttls-bye-or-close-bye",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.strip.starttls-bye-or-close-fin",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.strip.capability-command-fails",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.downgrade.no-capability-imap2",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.downgrade.imap4-not-rev1",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.downgrade.imap4-not-rev1-no-code",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "imap.client.plain.not-without-tls-no-starttls",
        &["plain-in-cleartext", "continues-without-starttls"],
    ),
    (
        "imap.client.pre-tls-command-allowlist",
        &["plain-in-cleartext"],
    ),
    (
        "imap.client.referral.mailbox-referral-preauth",
        &["accepts-cleartext-preauth"],
    ),
    (
        "imap.client.inject.tagged-completion-for-future-command",
        &["acts-on-injected-plaintext"],
    ),
    (
        "imap.client.inject.garbage-after-starttls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "imap.client.inject.mailbox-forgery",
        &["acts-on-injected-plaintext"],
    ),
    (
        "imap.client.inject.bye-after-starttls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "imap.client.tamper.capability-pre-tls-not-cached",
        &["stale-capabilities"],
    ),
    (
        "imap.client.caps.discard-and-reissue",
        &["stale-capabilities"],
    ),
    (
        "imap.client.tamper.untagged-before-starttls-ok",
        &["trusts-cleartext-mailbox-data", "malformed-plain"],
    ),
    (
        "imap.client.tamper.untagged-after-greeting",
        &["trusts-cleartext-mailbox-data", "malformed-plain"],
    ),
    (
        "imap.client.tamper.referral-pre-tls",
        &["follows-referrals", "malformed-plain"],
    ),
    (
        "imap.client.invalid-greeting-garbage",
        &["ignores-invalid-greeting"],
    ),
    (
        "imap.client.invalid-greeting-bad",
        &["ignores-invalid-greeting"],
    ),
    (
        "imap.client.invalid-greeting-no",
        &["ignores-invalid-greeting"],
    ),
    (
        "imap.client.invalid-greeting-bye",
        &["ignores-invalid-greeting"],
    ),
    (
        "imap.client.invalid-greeting-tagged",
        &["ignores-invalid-greeting"],
    ),
    ("imap.client.early-tagged-ok", &["accepts-early-completion"]),
    (
        "imap.client.starttls.timeout-after-ok",
        &["no-handshake-timeout"],
    ),
    (
        "imap.client.starttls.handshake-failure-no-fallback-alert",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "imap.client.starttls.handshake-failure-no-fallback-fin",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "imap.client.starttls.handshake-failure-no-fallback-plaintext",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "imap.client.starttls.handshake-failure-no-fallback-silence",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "imap.client.auth-failure-not-ignored",
        &["ignores-command-failure"],
    ),
    (
        "imap.client.auth-failure-not-ignored-no",
        &["ignores-command-failure"],
    ),
    (
        "imap.client.referral.login-referral",
        &["ignores-command-failure"],
    ),
    (
        "imap.client.referral.mailbox-referral",
        &["ignores-command-failure"],
    ),
    (
        "imap.client.privacy-mode.tls-deactivated",
        &["continues-after-close-notify"],
    ),
    // The session goes on whatever the cleartext said; the PLAIN inside TLS is judged.
    (
        "imap.client.ui.other-codes-in-greeting",
        &["malformed-plain"],
    ),
    // MANUAL: the wire part is the session itself (a person judges the UI).
    (
        "imap.client.inject.alert-after-starttls-ok",
        &["malformed-plain"],
    ),
    (
        "imap.client.ui.alert-in-plaintext-greeting",
        &["malformed-plain"],
    ),
    (
        "imap.client.ui.alert-before-starttls-ok",
        &["malformed-plain"],
    ),
    // POP3 over STLS
    (
        "pop3.client.stls.session",
        &["stale-capabilities", "malformed-plain"],
    ),
    (
        "pop3.client.stls.no-pipelining",
        &["sends-before-handshake"],
    ),
    (
        "pop3.client.strip.capa-without-stls",
        &[
            "continues-without-starttls",
            "plain-in-cleartext",
            "reconnects-in-plaintext",
        ],
    ),
    (
        "pop3.client.strip.stls-err",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "pop3.client.inject.response-after-stls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "pop3.client.caps.reissue-after-tls",
        &["stale-capabilities"],
    ),
    ("pop3.client.plain.not-without-tls", &["plain-in-cleartext"]),
    ("pop3.client.close-notify-on-quit", &["no-close-notify"]),
    ("pop3.client.cert.wrong-host", &["no-name-check"]),
    ("pop3.client.cert.ip-only", &["no-name-check"]),
    (
        "pop3.client.cert.wildcard-not-apex",
        &["overbroad-wildcard", "no-name-check"],
    ),
    (
        "pop3.client.cert.wildcard-one-label-only",
        &["overbroad-wildcard", "no-name-check"],
    ),
    (
        "pop3.client.cert.wildcard-partial-label",
        &["overbroad-wildcard", "no-name-check"],
    ),
    ("pop3.client.cert.expired", &["no-chain-check"]),
    ("pop3.client.cert.not-yet-valid", &["no-chain-check"]),
    ("pop3.client.cert.self-signed", &["no-chain-check"]),
    ("pop3.client.cert.untrusted-root", &["no-chain-check"]),
    ("pop3.client.cert.wildcard-leftmost", &["malformed-plain"]),
    (
        "pop3.client.cert.any-of-multiple-sans",
        &["malformed-plain"],
    ),
    ("pop3.client.cert.cn-only-legacy", &["malformed-plain"]),
    // ACAP
    (
        "acap.client.starttls.session",
        &["stale-capabilities", "malformed-plain"],
    ),
    (
        "acap.client.starttls.no-pipelining",
        &["sends-before-handshake"],
    ),
    (
        "acap.client.strip.capability-without-starttls",
        &[
            "continues-without-starttls",
            "plain-in-cleartext",
            "reconnects-in-plaintext",
        ],
    ),
    (
        "acap.client.strip.starttls-no",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "acap.client.strip.starttls-bad",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "acap.client.inject.greeting-after-starttls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "acap.client.strip.starttls-continuation",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "acap.client.starttls.handshake-failure-no-fallback-plaintext",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "acap.client.inject.garbage-after-starttls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "acap.client.uses-reissued-greeting",
        &["stale-capabilities"],
    ),
    ("acap.client.plain.not-without-tls", &["plain-in-cleartext"]),
    ("acap.client.close-notify-on-logout", &["no-close-notify"]),
    ("acap.client.cert.wrong-host", &["no-name-check"]),
    (
        "acap.client.cert.wildcard-not-apex",
        &["overbroad-wildcard", "no-name-check"],
    ),
    ("acap.client.cert.expired", &["no-chain-check"]),
    ("acap.client.cert.self-signed", &["no-chain-check"]),
    ("acap.client.cert.untrusted-root", &["no-chain-check"]),
    ("acap.client.cert.wildcard-leftmost", &["malformed-plain"]),
    // IMAPS (implicit TLS)
    ("imaps.client.handshake-first", &["malformed-plain"]),
    ("imaps.client.close-notify-on-logout", &["no-close-notify"]),
    (
        "imaps.client.logindisabled.respected",
        &["login-despite-logindisabled"],
    ),
    ("imaps.client.cert.wrong-host", &["no-name-check"]),
    (
        "imaps.client.cert.wildcard-not-apex",
        &["overbroad-wildcard", "no-name-check"],
    ),
    ("imaps.client.cert.expired", &["no-chain-check"]),
    ("imaps.client.cert.self-signed", &["no-chain-check"]),
    ("imaps.client.cert.untrusted-root", &["no-chain-check"]),
    ("imaps.client.cert.wildcard-leftmost", &["malformed-plain"]),
    (
        "imaps.client.no-starttls-on-implicit",
        &["starttls-on-implicit", "malformed-plain"],
    ),
    (
        "imaps.client.no-plaintext-fallback",
        &["plaintext-after-handshake-failure"],
    ),
    // POP3S (implicit TLS)
    ("pop3s.client.handshake-first", &["malformed-plain"]),
    ("pop3s.client.close-notify-on-quit", &["no-close-notify"]),
    ("pop3s.client.cert.wrong-host", &["no-name-check"]),
    (
        "pop3s.client.cert.wildcard-not-apex",
        &["overbroad-wildcard", "no-name-check"],
    ),
    ("pop3s.client.cert.expired", &["no-chain-check"]),
    ("pop3s.client.cert.self-signed", &["no-chain-check"]),
    ("pop3s.client.cert.untrusted-root", &["no-chain-check"]),
    ("pop3s.client.cert.wildcard-leftmost", &["malformed-plain"]),
    // POP3, certificate and TLS-level client cases (client-POP3/TLS/cert)
    (
        "pop3.client.strip.capa-unsupported",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    (
        "pop3.client.strip.stls-err-sys-perm",
        &["continues-without-starttls", "reconnects-in-plaintext"],
    ),
    ("pop3.client.strip.greeting-err", &["ignores-err-greeting"]),
    (
        "pop3.client.strip.greeting-err-sys-perm",
        &["ignores-err-greeting"],
    ),
    (
        "pop3.client.strip.greeting-err-quit-err",
        &["ignores-err-greeting"],
    ),
    (
        "pop3.client.starttls.handshake-failure-no-fallback-fin",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "pop3.client.starttls.handshake-failure-no-fallback-plaintext",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "pop3.client.starttls.handshake-failure-no-fallback-silent",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "pop3.client.starttls.handshake-failure-no-fallback-alert",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "pop3.client.inject.garbage-after-stls-ok",
        &["acts-on-injected-plaintext"],
    ),
    (
        "pop3.client.tamper.unsolicited-multiline-greeting",
        &["trusts-cleartext-listing"],
    ),
    // MANUAL: the wire part (STLS first, ClientHello at once, PLAIN well-formed).
    (
        "pop3.client.ui.greeting-escape-sequences",
        &["sends-before-handshake", "malformed-plain"],
    ),
    (
        "pop3.client.ui.resp-codes-pre-tls",
        &["sends-before-handshake", "malformed-plain"],
    ),
    (
        "pop3.client.user-pass.not-without-tls",
        &["continues-without-starttls", "plain-in-cleartext"],
    ),
    (
        "pop3.client.pre-tls-command-allowlist",
        &["plain-in-cleartext"],
    ),
    (
        "pop3.client.truncation-not-accepted",
        &["accepts-truncation"],
    ),
    (
        "imap.client.truncation-not-accepted",
        &["accepts-truncation"],
    ),
    (
        "pop3s.client.no-plaintext-fallback",
        &["plaintext-after-handshake-failure"],
    ),
    // The §4.8 certificate rows, per protocol and transport.
    (
        "imap.client.cert.case-insensitive",
        &["case-sensitive-names"],
    ),
    (
        "pop3.client.cert.case-insensitive",
        &["case-sensitive-names"],
    ),
    (
        "acap.client.cert.case-insensitive",
        &["case-sensitive-names"],
    ),
    (
        "imap.client.cert.wildcard-not-leftmost",
        &["overbroad-wildcard"],
    ),
    (
        "pop3.client.cert.wildcard-not-leftmost",
        &["overbroad-wildcard"],
    ),
    (
        "acap.client.cert.wildcard-not-leftmost",
        &["overbroad-wildcard"],
    ),
    (
        "imaps.client.cert.wildcard-not-leftmost",
        &["overbroad-wildcard"],
    ),
    (
        "pop3s.client.cert.wildcard-not-leftmost",
        &["overbroad-wildcard"],
    ),
    (
        "imap.client.cert.san-over-cn-cn-matches",
        &["cn-over-san", "no-name-check"],
    ),
    (
        "pop3.client.cert.san-over-cn-cn-matches",
        &["cn-over-san", "no-name-check"],
    ),
    (
        "acap.client.cert.san-over-cn-cn-matches",
        &["cn-over-san", "no-name-check"],
    ),
    ("imaps.client.cert.san-over-cn-cn-matches", &["cn-over-san"]),
    ("pop3s.client.cert.san-over-cn-cn-matches", &["cn-over-san"]),
    ("imap.client.cert.san-over-cn-san-matches", &["cn-over-san"]),
    ("pop3.client.cert.san-over-cn-san-matches", &["cn-over-san"]),
    ("acap.client.cert.san-over-cn-san-matches", &["cn-over-san"]),
    (
        "imap.client.cert.uri-id-not-used",
        &["accepts-uri-san", "no-name-check"],
    ),
    (
        "pop3.client.cert.uri-id-not-used",
        &["accepts-uri-san", "no-name-check"],
    ),
    (
        "acap.client.cert.uri-id-not-used",
        &["accepts-uri-san", "no-name-check"],
    ),
    ("imaps.client.cert.uri-id-not-used", &["accepts-uri-san"]),
    ("pop3s.client.cert.uri-id-not-used", &["accepts-uri-san"]),
    // Either reading passes; a client that refuses must not go on in cleartext.
    (
        "imap.client.cert.email-domain-reference",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "pop3.client.cert.email-domain-reference",
        &["plaintext-after-handshake-failure"],
    ),
    (
        "acap.client.cert.email-domain-reference",
        &["plaintext-after-handshake-failure"],
    ),
    // MANUAL: the wire part is a refusal without credentials.
    (
        "imap.client.cert.no-cname-canonicalization",
        &["no-name-check"],
    ),
    (
        "pop3.client.cert.no-cname-canonicalization",
        &["no-name-check"],
    ),
    (
        "acap.client.cert.no-cname-canonicalization",
        &["no-name-check"],
    ),
    (
        "imap.client.cert.no-insecure-derived-hostname",
        &["no-name-check"],
    ),
    (
        "pop3.client.cert.no-insecure-derived-hostname",
        &["no-name-check"],
    ),
    (
        "acap.client.cert.no-insecure-derived-hostname",
        &["no-name-check"],
    ),
    ("imap.client.cert.pinning-policy", &["no-chain-check"]),
    ("pop3.client.cert.pinning-policy", &["no-chain-check"]),
    ("acap.client.cert.pinning-policy", &["no-chain-check"]),
    // TLS versions and hellos (catalogue tls.client.*), per protocol and transport.
    ("imap.client.tls.tls12-supported", &["tls13-only"]),
    ("imap.client.tls.rejects-tls1.0", &["offers-old-tls"]),
    ("imap.client.tls.rejects-tls1.1", &["offers-old-tls"]),
    ("imap.client.tls.rejects-ssl3", &["offers-old-tls"]),
    ("imap.client.tls.no-sslv2-hello", &["sslv2-hello"]),
    ("pop3.client.tls.tls12-supported", &["tls13-only"]),
    ("pop3.client.tls.rejects-tls1.0", &["offers-old-tls"]),
    ("pop3.client.tls.rejects-tls1.1", &["offers-old-tls"]),
    ("pop3.client.tls.rejects-ssl3", &["offers-old-tls"]),
    ("pop3.client.tls.no-sslv2-hello", &["sslv2-hello"]),
    ("imaps.client.tls.tls12-supported", &["tls13-only"]),
    ("imaps.client.tls.rejects-tls1.0", &["offers-old-tls"]),
    ("imaps.client.tls.rejects-tls1.1", &["offers-old-tls"]),
    ("imaps.client.tls.rejects-ssl3", &["offers-old-tls"]),
    ("imaps.client.tls.no-sslv2-hello", &["sslv2-hello"]),
    ("pop3s.client.tls.tls12-supported", &["tls13-only"]),
    ("pop3s.client.tls.rejects-tls1.0", &["offers-old-tls"]),
    ("pop3s.client.tls.rejects-tls1.1", &["offers-old-tls"]),
    ("pop3s.client.tls.rejects-ssl3", &["offers-old-tls"]),
    ("pop3s.client.tls.no-sslv2-hello", &["sslv2-hello"]),
];

fn judging() -> Judging {
    let (user, password) = mailtls::peers::DEFAULT_USERS[0];
    Judging {
        strict: false,
        show_secrets: true,
        vars: BTreeMap::from([
            ("user".to_owned(), user.as_bytes().to_vec()),
            ("password".to_owned(), password.as_bytes().to_vec()),
        ]),
        secrets: Vec::new(),
    }
}

fn protocol_id(p: Protocol) -> &'static str {
    match p {
        Protocol::Imap => "imap",
        Protocol::Pop3 => "pop3",
        Protocol::Acap => "acap",
    }
}

/// The reference client (this crate's binary) for one protocol and transport.
fn target(
    protocol: Protocol,
    transport: Transport,
    faults: &[&str],
    certs: &Arc<Minted>,
    ca_file: &std::path::Path,
) -> ClientTarget {
    let mut command = format!(
        "'{}' peer-client --protocol {} --host {{host}} --port {{port}} --name {{name}} --ca {{ca}} --user {{user}} --password {{password}} --timeout 1s",
        env!("CARGO_BIN_EXE_mailtls"),
        protocol_id(protocol)
    );
    if transport == Transport::Implicit {
        command.push_str(" --implicit");
    }
    for fault in faults {
        command.push_str(&format!(" --fault {fault}"));
    }
    ClientTarget {
        protocol,
        transport,
        launch: Launch::Exec(command),
        certs: certs.clone(),
        ca_file: ca_file.to_owned(),
        profile: BTreeMap::from([("client-tls".to_owned(), "starttls-required".to_owned())]),
        timeout: Duration::from_secs(1),
        max_line: 64 * 1024,
    }
}

fn explain(o: &Outcome) -> String {
    let failure = o
        .failure
        .as_ref()
        .map(|f| format!("\n  expected: {}\n  seen: {}", f.expected, f.seen))
        .unwrap_or_default();
    let notes: Vec<String> = o
        .transcript
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            mailtls::net::transcript::Event::Note { text } => Some(format!("\n  # {text}")),
            _ => None,
        })
        .collect();
    format!(
        "{} {}: {}{failure}{}",
        o.verdict.label(),
        o.id,
        o.message,
        notes.concat()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_client_scenario_passes_on_the_reference_client_and_fails_on_its_faults() {
    let scenarios: Vec<Loaded> = load::builtin()
        .unwrap()
        .into_iter()
        .filter(|l| l.scenario.meta.roles.contains(&Party::Client))
        .collect();
    assert!(!scenarios.is_empty());
    let table: BTreeMap<&str, &[&str]> = CATCHES.iter().copied().collect();
    for l in &scenarios {
        let id = l.scenario.meta.id.as_str();
        assert!(
            table.get(id).is_some_and(|f| !f.is_empty()),
            "{id} has no client fault that proves it can fail: add a row to CATCHES"
        );
    }
    let mut caught = BTreeSet::new();
    for (id, faults) in CATCHES {
        assert!(
            scenarios.iter().any(|l| l.scenario.meta.id == *id),
            "unknown scenario {id}"
        );
        for fault in *faults {
            assert!(
                fault.parse::<ClientFault>().is_ok(),
                "{id}: unknown client fault {fault}"
            );
            caught.insert(*fault);
        }
    }
    for fault in ClientFault::ALL {
        assert!(
            caught.contains(fault.to_string().as_str()),
            "no scenario catches the client fault {fault}"
        );
    }

    let certs = Arc::new(Minted::new("mail.example.test").unwrap());
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("client-scenarios");
    std::fs::create_dir_all(&dir).unwrap();
    // One file per test process: two runs at once (two checkouts sharing a target dir)
    // must not trust each other's CA.
    let ca_file = dir.join(format!("ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, certs.ca.cert_pem()).unwrap();

    let mut groups: Vec<(Protocol, Transport)> = Vec::new();
    for l in &scenarios {
        let group = (l.scenario.meta.protocol, l.scenario.meta.transport);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    let mut problems = Vec::new();
    for &(protocol, transport) in &groups {
        let reference = target(protocol, transport, &[], &certs, &ca_file);
        for o in run_clients(&scenarios, &reference, &judging(), 8, &|_| {}).await {
            // A scenario with `manual:` lines ends MANUAL when the wire shows nothing wrong.
            let manual = scenarios
                .iter()
                .any(|l| l.scenario.meta.id == o.id && !l.scenario.meta.manual.is_empty());
            let clean = if manual {
                Verdict::Manual
            } else {
                Verdict::Pass
            };
            if o.verdict != clean {
                problems.push(format!("reference client: {}", explain(&o)));
            }
        }
        let mut by_fault: BTreeMap<&str, Vec<Loaded>> = BTreeMap::new();
        for l in scenarios.iter().filter(|l| {
            l.scenario.meta.protocol == protocol && l.scenario.meta.transport == transport
        }) {
            for fault in table
                .get(l.scenario.meta.id.as_str())
                .copied()
                .unwrap_or_default()
            {
                by_fault.entry(fault).or_default().push(l.clone());
            }
        }
        for (fault, listed) in &by_fault {
            let faulty = target(protocol, transport, &[fault], &certs, &ca_file);
            for o in run_clients(listed, &faulty, &judging(), 8, &|_| {}).await {
                if !matches!(o.verdict, Verdict::Fail | Verdict::Warn) {
                    problems.push(format!(
                        "with {fault}: expected a FAIL, got {}",
                        explain(&o)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
