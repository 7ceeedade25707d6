//! The suite's own proof: every built-in scenario passes against the conformant
//! reference servers and fails against each deliberately faulty server listed for it in
//! `CATCHES`. A scenario that cannot fail proves nothing; a fault no scenario notices is
//! a hole in the suite.

use mailtls::engine::Judging;
use mailtls::engine::outcome::{Outcome, Verdict};
use mailtls::peers::Fault;
use mailtls::runner::reference::{self, REFERENCE_NAME};
use mailtls::runner::{Loaded, load, run};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Scenario id → the faults that must make it fail (FAIL, or WARN for SHOULD-level).
const CATCHES: &[(&str, &[&str])] = &[
    // IMAP over STARTTLS
    (
        "imap.server.starttls.capability-advertised",
        &["starttls-not-advertised"],
    ),
    (
        "imap.server.starttls.ok-then-handshake",
        &["data-after-starttls-ok", "greeting-after-stls"],
    ),
    (
        "imap.server.starttls.no-arguments",
        &["starttls-with-arguments"],
    ),
    (
        "imap.server.starttls.pipelined-command-injection",
        &["executes-pipelined-after-starttls"],
    ),
    (
        "imap.server.starttls.injection-capability-probe",
        &["executes-pipelined-after-starttls"],
    ),
    (
        "imap.server.starttls.injection-bare-lf",
        &["bare-lf-injection"],
    ),
    (
        "imap.server.starttls.injection-split-segments",
        &["executes-plaintext-after-starttls-ok"],
    ),
    (
        "imap.server.starttls.rejected-when-authenticated",
        &["starttls-when-authenticated"],
    ),
    (
        "imap.server.starttls.rejected-when-tls-active",
        &["starttls-ok-when-tls-active"],
    ),
    (
        "imap.server.starttls.not-advertised-after-tls",
        &["starttls-advertised-after-tls", "stale-capabilities"],
    ),
    (
        "imap.server.starttls.stays-non-authenticated-after-tls",
        &["authenticated-by-tls"],
    ),
    (
        "imap.server.logindisabled.advertised-cleartext",
        &["no-logindisabled"],
    ),
    (
        "imap.server.logindisabled.login-refused",
        &["login-despite-logindisabled"],
    ),
    (
        "imap.server.logindisabled.absent-after-tls",
        &["stale-capabilities"],
    ),
    (
        "imap.server.plain.not-advertised-cleartext",
        &["plain-in-cleartext"],
    ),
    (
        "imap.server.plain.refused-cleartext",
        &["plain-in-cleartext"],
    ),
    ("imap.server.plain.after-tls", &["stale-capabilities"]),
    (
        "imap.server.plain.grammar-255",
        &["short-plain-field-limit"],
    ),
    ("imap.server.plain.grammar-malformed", &["lax-plain-parser"]),
    (
        "imap.server.tls-failure-no-plaintext-fallback",
        &["plaintext-fallback-on-tls-failure"],
    ),
    (
        "imap.server.preauth-only-protected",
        &["preauth-in-cleartext"],
    ),
    (
        "imap.server.starttls.injection-tag-parse-differential",
        &["tag-differential-injection"],
    ),
    (
        "imap.server.starttls.injection-credential-theft",
        &[
            "executes-pipelined-after-starttls",
            "executes-plaintext-after-starttls-ok",
        ],
    ),
    (
        "imap.server.starttls.pipelining-before-starttls",
        &["drops-commands-before-starttls", "data-after-starttls-ok"],
    ),
    (
        "imap.server.cleartext.refuse-config",
        &[
            "login-despite-logindisabled",
            "plain-in-cleartext",
            "no-logindisabled",
        ],
    ),
    (
        "imap.server.cleartext.per-user-refusal",
        &["ignores-per-user-policy"],
    ),
    (
        "imap.server.close-notify-after-starttls",
        &["no-close-notify"],
    ),
    (
        "imap.server.privacy-mode.tls-deactivated-terminates",
        &["plaintext-after-close-notify"],
    ),
    (
        "imap.server.tls-policy.weak-suites-refused",
        &["accepts-weak-suites"],
    ),
    ("imap.server.tls.rejects-sslv2", &["accepts-old-protocols"]),
    (
        "imap.server.tls.rejects-old-protocols",
        &["accepts-old-protocols"],
    ),
    (
        "imap.server.tls.no-certificate-request",
        &["requests-client-cert"],
    ),
    (
        "imap.server.external.after-tls-only",
        &["external-in-cleartext", "external-without-certificate"],
    ),
    (
        "imap.server.external.with-client-cert",
        &[
            "stale-capabilities",
            "authenticated-by-client-cert",
            "external-in-cleartext",
        ],
    ),
    (
        "imap.server.starttls.stays-non-authenticated-with-client-cert",
        &["authenticated-by-client-cert", "authenticated-by-tls"],
    ),
    // POP3 over STLS
    (
        "pop3.server.capa.implemented-with-stls",
        &["stls-without-capa"],
    ),
    (
        "pop3.server.stls.capability-advertised",
        &["starttls-not-advertised", "stls-without-capa"],
    ),
    (
        "pop3.server.stls.ok-then-handshake",
        &["data-after-starttls-ok", "greeting-after-stls"],
    ),
    (
        "pop3.server.stls.pipelined-command-injection",
        &["executes-pipelined-after-starttls"],
    ),
    (
        "pop3.server.stls.injection-user-pass",
        &["executes-pipelined-after-starttls"],
    ),
    (
        "pop3.server.stls.injection-split-segments",
        &["executes-plaintext-after-starttls-ok"],
    ),
    (
        "pop3.server.stls.only-authorization-state",
        &["stls-in-transaction"],
    ),
    (
        "pop3.server.stls.err-when-tls-active",
        &["starttls-ok-when-tls-active"],
    ),
    (
        "pop3.server.stls.not-listed-after-tls",
        &["starttls-advertised-after-tls", "stale-capabilities"],
    ),
    (
        "pop3.server.stls.stays-authorization-after-tls",
        &["authenticated-by-tls"],
    ),
    (
        "pop3.server.stls.pending-user-reset",
        &["keeps-pending-user-after-stls"],
    ),
    (
        "pop3.server.stls.with-argument",
        &["starttls-with-arguments"],
    ),
    (
        "pop3.server.user-pass.refused-cleartext",
        &["user-pass-in-cleartext"],
    ),
    (
        "pop3.server.sasl-plain.not-advertised-cleartext",
        &["plain-in-cleartext"],
    ),
    (
        "pop3.server.sasl-plain.refused-cleartext",
        &["plain-in-cleartext"],
    ),
    (
        "pop3.server.sasl-plain.after-tls",
        &["stale-capabilities", "auth-ok-stays-authorization"],
    ),
    (
        "pop3.server.sasl-plain.grammar-255",
        &["short-plain-field-limit"],
    ),
    (
        "pop3.server.sasl-plain.grammar-malformed",
        &["lax-plain-parser"],
    ),
    (
        "pop3.server.tls-failure-no-plaintext-fallback",
        &[
            "plaintext-fallback-on-tls-failure",
            "executes-plaintext-after-starttls-ok",
        ],
    ),
    ("pop3.server.close-notify-after-stls", &["no-close-notify"]),
    (
        "pop3.server.privacy-mode.tls-deactivated-terminates",
        &["plaintext-after-close-notify"],
    ),
    (
        "pop3.server.no-greeting-after-stls",
        &["greeting-after-stls"],
    ),
    ("pop3.server.tls.rejects-sslv2", &["accepts-old-protocols"]),
    (
        "pop3.server.tls.rejects-old-protocols",
        &["accepts-old-protocols"],
    ),
    (
        "pop3.server.tls.no-certificate-request",
        &["requests-client-cert"],
    ),
    (
        "pop3.server.stls.stays-authorization-with-client-cert",
        &["authenticated-by-client-cert", "authenticated-by-tls"],
    ),
    (
        "pop3.server.external.with-client-cert",
        &[
            "stale-capabilities",
            "authenticated-by-client-cert",
            "authenticated-by-tls",
            "external-in-cleartext",
            "auth-ok-stays-authorization",
        ],
    ),
    (
        "pop3.server.external.after-tls-only",
        &["external-in-cleartext", "external-without-certificate"],
    ),
    // IMAPS (implicit TLS, port 993)
    (
        "imaps.server.no-plaintext-before-handshake",
        &["greeting-before-handshake"],
    ),
    (
        "imaps.server.greeting-after-handshake",
        &["greeting-before-handshake"],
    ),
    (
        "imaps.server.starttls-rejected",
        &[
            "starttls-ok-when-tls-active",
            "starttls-advertised-after-tls",
        ],
    ),
    ("imaps.server.close-notify-on-logout", &["no-close-notify"]),
    (
        "imaps.server.stays-non-authenticated",
        &["authenticated-by-tls"],
    ),
    ("imaps.server.tls.rejects-sslv2", &["accepts-old-protocols"]),
    (
        "imaps.server.tls.rejects-old-protocols",
        &["accepts-old-protocols"],
    ),
    (
        "imaps.server.tls-policy.weak-suites-refused",
        &["accepts-weak-suites"],
    ),
    (
        "imaps.server.tls.no-certificate-request",
        &["requests-client-cert"],
    ),
    (
        "imaps.server.preauth-only-with-client-cert",
        &["authenticated-by-tls"],
    ),
    // POP3S (implicit TLS, port 995)
    (
        "pop3s.server.no-plaintext-before-handshake",
        &["greeting-before-handshake"],
    ),
    (
        "pop3s.server.greeting-after-tls",
        &["greeting-before-handshake"],
    ),
    (
        "pop3s.server.stls-rejected",
        &[
            "starttls-ok-when-tls-active",
            "starttls-advertised-after-tls",
        ],
    ),
    ("pop3s.server.close-notify-on-quit", &["no-close-notify"]),
    (
        "pop3s.server.stays-authorization",
        &["authenticated-by-tls"],
    ),
    ("pop3s.server.tls.rejects-sslv2", &["accepts-old-protocols"]),
    (
        "pop3s.server.tls.rejects-old-protocols",
        &["accepts-old-protocols"],
    ),
    (
        "pop3s.server.tls.no-certificate-request",
        &["requests-client-cert"],
    ),
    (
        "pop3s.server.authorization-state-with-client-cert",
        &["authenticated-by-client-cert", "authenticated-by-tls"],
    ),
    (
        "pop3s.server.transaction-after-auth",
        &["auth-ok-stays-authorization", "authenticated-by-tls"],
    ),
    (
        "pop3s.server.external.with-client-cert",
        &[
            "authenticated-by-client-cert",
            "authenticated-by-tls",
            "auth-ok-stays-authorization",
        ],
    ),
    (
        "pop3s.server.external.requires-client-cert",
        &["external-without-certificate"],
    ),
    // ACAP over STARTTLS
    (
        "acap.server.starttls.capability-advertised",
        &["starttls-not-advertised"],
    ),
    (
        "acap.server.starttls.ok-then-handshake",
        &["data-after-starttls-ok"],
    ),
    (
        "acap.server.starttls.greeting-reissued",
        &["acap-no-reissue-greeting", "data-after-starttls-ok"],
    ),
    (
        "acap.server.starttls.pipelined-command-injection",
        &["executes-pipelined-after-starttls"],
    ),
    (
        "acap.server.starttls.rejected-when-authenticated",
        &["starttls-when-authenticated"],
    ),
    (
        "acap.server.plain.not-advertised-cleartext",
        &["plain-in-cleartext"],
    ),
    (
        "acap.server.plain.only-after-tls",
        &["plain-in-cleartext", "stale-capabilities"],
    ),
    (
        "acap.server.starttls.rejected-when-tls-active",
        &["starttls-ok-when-tls-active"],
    ),
    (
        "acap.server.starttls.not-advertised-after-tls",
        &["starttls-advertised-after-tls", "stale-capabilities"],
    ),
    (
        "acap.server.plain.refused-cleartext",
        &["plain-in-cleartext"],
    ),
    ("acap.server.plain.after-tls", &["authenticated-by-tls"]),
    ("acap.server.tls.rejects-sslv2", &["accepts-old-protocols"]),
    (
        "acap.server.tls.rejects-old-protocols",
        &["accepts-old-protocols"],
    ),
    (
        "acap.server.tls.no-certificate-request",
        &["requests-client-cert"],
    ),
    (
        "acap.server.external.with-client-cert",
        &[
            "stale-capabilities",
            "authenticated-by-client-cert",
            "authenticated-by-tls",
            "external-in-cleartext",
        ],
    ),
    (
        "acap.server.external.after-tls-only",
        &["external-in-cleartext", "external-without-certificate"],
    ),
];

/// Scenarios that end in INFO by design, never in FAIL (RFC 2595 §2.1's obsolete
/// mandatory suite): they are proven by what they record instead. Id → what the INFO
/// says on the reference, and a fault that must change it to what it says then.
const INFORMATIONAL: &[(&str, &str, &str, &str)] = &[
    (
        "imap.server.tls.rfc2595-mandatory-suite",
        "is not negotiable",
        "accepts-weak-suites",
        "is still negotiable",
    ),
    (
        "pop3.server.tls.rfc2595-mandatory-suite",
        "is not negotiable",
        "accepts-weak-suites",
        "is still negotiable",
    ),
    (
        "acap.server.tls.rfc2595-mandatory-suite",
        "is not negotiable",
        "accepts-weak-suites",
        "is still negotiable",
    ),
];

fn judging() -> Judging {
    let (user, password) = mailtls::peers::DEFAULT_USERS[0];
    let message = format!("\0{user}\0{password}").into_bytes();
    let plain = base64_encode(&message);
    Judging {
        strict: false,
        show_secrets: true,
        vars: BTreeMap::from([
            ("user".to_owned(), user.as_bytes().to_vec()),
            ("password".to_owned(), password.as_bytes().to_vec()),
            ("plain".to_owned(), plain.into_bytes()),
            ("name".to_owned(), REFERENCE_NAME.as_bytes().to_vec()),
        ]),
        secrets: Vec::new(),
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Runs `scenarios` against the reference servers with `faults` switched on.
async fn outcomes(scenarios: &[Loaded], faults: &[Fault]) -> Vec<Outcome> {
    let reference = reference::start(faults, Duration::from_secs(2), 64 * 1024)
        .await
        .unwrap();
    let out = run(scenarios, &reference.targets, &judging(), 16, &|_| {}).await;
    drop(reference.servers);
    out
}

fn explain(o: &Outcome) -> String {
    let failure = o
        .failure
        .as_ref()
        .map(|f| format!("\n  expected: {}\n  seen: {}", f.expected, f.seen))
        .unwrap_or_default();
    format!("{} {}: {}{failure}", o.verdict.label(), o.id, o.message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_scenario_passes_on_the_reference_and_fails_on_its_faults() {
    // The server-role scenarios (tests/client_scenarios.rs proves the client role).
    let scenarios: Vec<Loaded> = load::builtin()
        .unwrap()
        .into_iter()
        .filter(|l| {
            l.scenario
                .meta
                .roles
                .contains(&mailtls::model::Party::Server)
        })
        .collect();
    let table: BTreeMap<&str, &[&str]> = CATCHES.iter().copied().collect();

    // Every built-in scenario is in the table with at least one fault, and every row
    // names a real scenario and real faults.
    let ids: BTreeSet<&str> = scenarios
        .iter()
        .map(|l| l.scenario.meta.id.as_str())
        .collect();
    let informational: BTreeMap<&str, (&str, &str, &str)> = INFORMATIONAL
        .iter()
        .map(|&(id, reference, fault, faulty)| (id, (reference, fault, faulty)))
        .collect();
    for l in &scenarios {
        let id = l.scenario.meta.id.as_str();
        if informational.contains_key(id) {
            assert!(
                !table.contains_key(id),
                "{id} is in CATCHES and INFORMATIONAL"
            );
            continue;
        }
        assert!(
            table.get(id).is_some_and(|faults| !faults.is_empty()),
            "{id} ({}) has no fault that proves it can fail: add a row to CATCHES",
            l.source.file
        );
    }
    for (id, faults) in CATCHES {
        assert!(ids.contains(id), "CATCHES names an unknown scenario {id}");
        for fault in *faults {
            assert!(
                fault.parse::<Fault>().is_ok(),
                "{id}: unknown fault {fault}"
            );
        }
    }

    // On the conformant reference, everything passes (the informational ones record
    // what they should).
    let mut problems = Vec::new();
    for o in outcomes(&scenarios, &[]).await {
        let expected = match informational.get(o.id.as_str()) {
            Some((says, _, _)) => o.verdict == Verdict::Info && o.message.contains(says),
            None => o.verdict == Verdict::Pass,
        };
        if !expected {
            problems.push(format!("reference: {}", explain(&o)));
        }
    }

    // The informational scenarios record the difference their fault makes.
    for (id, (_, fault, says)) in &informational {
        assert!(
            ids.contains(id),
            "INFORMATIONAL names an unknown scenario {id}"
        );
        let listed: Vec<Loaded> = scenarios
            .iter()
            .filter(|l| l.scenario.meta.id == *id)
            .cloned()
            .collect();
        for o in outcomes(&listed, &[fault.parse().unwrap()]).await {
            if !(o.verdict == Verdict::Info && o.message.contains(says)) {
                problems.push(format!(
                    "with {fault}: expected INFO `{says}`, got {}",
                    explain(&o)
                ));
            }
        }
    }

    // With each fault, the scenarios listed for it fail.
    let mut by_fault: BTreeMap<&str, Vec<Loaded>> = BTreeMap::new();
    for l in &scenarios {
        for fault in table
            .get(l.scenario.meta.id.as_str())
            .copied()
            .unwrap_or_default()
        {
            by_fault.entry(fault).or_default().push(l.clone());
        }
    }
    for (fault, listed) in &by_fault {
        let parsed: Fault = fault.parse().unwrap();
        for o in outcomes(listed, &[parsed]).await {
            if !matches!(o.verdict, Verdict::Fail | Verdict::Warn) {
                problems.push(format!(
                    "with {fault}: expected a FAIL, got {}",
                    explain(&o)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The identity checks judge the certificate under each reading: the verdicts change
/// with the names the reference servers present.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_checks_follow_the_presented_names() {
    use mailtls::certs::LeafSpec;
    use mailtls::runner::run_identity_checks;
    let cases: &[(LeafSpec, [Verdict; 3])] = &[
        (
            LeafSpec::for_names(&[REFERENCE_NAME]),
            [Verdict::Pass, Verdict::Pass, Verdict::Pass],
        ),
        (
            LeafSpec::for_names(&["*.example.test"]),
            [Verdict::Pass, Verdict::Pass, Verdict::Pass],
        ),
        (
            LeafSpec::for_names(&["other.example.test", "*.test"]),
            [Verdict::Fail, Verdict::Warn, Verdict::Warn],
        ),
        // CN only, no dNSName SAN: RFC 2595 and RFC 6125 fall back to the CN, RFC 9525
        // never does.
        (
            LeafSpec {
                dns_names: Vec::new(),
                ip_addresses: Vec::new(),
                common_name: Some(REFERENCE_NAME.to_owned()),
                validity: None,
            },
            [Verdict::Pass, Verdict::Pass, Verdict::Warn],
        ),
    ];
    for (spec, [rfc2595, rfc6125, rfc9525]) in cases {
        let reference = reference::start_with_certificate(&[], spec, Duration::from_secs(2), 4096)
            .await
            .unwrap();
        let outcomes = run_identity_checks(&reference.targets, &judging(), &|_| true).await;
        let verdict = |id: &str| {
            outcomes
                .iter()
                .find(|o| o.id == id)
                .map(|o| o.verdict)
                .unwrap_or_else(|| panic!("no outcome {id}"))
        };
        for scheme in ["imap", "imaps", "pop3", "pop3s", "acap"] {
            assert_eq!(
                verdict(&format!("{scheme}.server.tls.chain-trusted")),
                Verdict::Pass,
                "{spec:?}"
            );
            assert_eq!(
                verdict(&format!("{scheme}.server.identity.rfc2595")),
                *rfc2595,
                "{scheme} {spec:?}"
            );
            assert_eq!(
                verdict(&format!("{scheme}.server.identity.rfc6125")),
                *rfc6125,
                "{scheme} {spec:?}"
            );
            assert_eq!(
                verdict(&format!("{scheme}.server.identity.rfc9525")),
                *rfc9525,
                "{scheme} {spec:?}"
            );
        }
    }
}
