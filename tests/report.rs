//! `report/`: hand-built runs rendered in every format, snapshotted with insta, and the
//! machine formats parsed back (JSON keys and lossless octets, JUnit shape and counts).

use mailtls::engine::outcome::{Failure, Outcome, Run, StepRef, Verdict};
use mailtls::model::{Level, Party, Protocol};
use mailtls::net::transcript::{Direction, Event, Phase, Transcript};
use mailtls::report::transcript::{TranscriptOptions, render_transcript};
use mailtls::report::{
    Format, Progress, RenderOptions, escape_lossless, render, summary_line, unescape,
};
use mailtls::scenario::ast::Clause;
use proptest::prelude::*;
use quick_xml::events::Event as XmlEvent;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

// ---- fixtures -------------------------------------------------------------------------

fn ms(tenths: u64) -> Duration {
    Duration::from_micros(tenths * 100)
}

fn data(direction: Direction, phase: Phase, bytes: &[u8]) -> Event {
    Event::Data {
        direction,
        phase,
        bytes: bytes.to_vec(),
    }
}

fn sent(phase: Phase, bytes: &[u8]) -> Event {
    data(Direction::Sent, phase, bytes)
}

fn received(phase: Phase, bytes: &[u8]) -> Event {
    data(Direction::Received, phase, bytes)
}

fn clause(reference: &str, quote: Option<&str>, url: Option<&str>) -> Clause {
    Clause {
        reference: reference.to_owned(),
        quote: quote.map(str::to_owned),
        url: url.map(str::to_owned),
    }
}

const RFC2595_3_1: &str = "Once TLS has been started, the client MUST discard cached \
                           information about server capabilities and SHOULD re-issue the \
                           CAPABILITY command.";
const RFC9051_DISCARD: &str = "server implementations MUST do one of the following if any \
                               data is received in the same TCP buffer after the CRLF that \
                               ends the STARTTLS command: [it] is interpreted as the beginning \
                               of the TLS handshake [or it] is thrown away.";

/// An outcome with the fields most fixtures share.
fn outcome(id: &str, title: &str, protocol: Protocol, level: Level, verdict: Verdict) -> Outcome {
    Outcome {
        id: id.to_owned(),
        title: title.to_owned(),
        protocol,
        role: Party::Server,
        level,
        clauses: vec![clause("RFC 2595 §3.1", Some(RFC2595_3_1), None)],
        cves: Vec::new(),
        verdict,
        message: String::new(),
        failure: None,
        transcript: Transcript::new(),
        duration: ms(123),
        file: None,
        manual: Vec::new(),
        expected_failure: None,
    }
}

/// The greeting, STARTTLS and its OK, and the handshake: the start of most transcripts.
fn upgrade(t: &mut Transcript) {
    t.push(
        ms(0),
        1,
        Event::Connected {
            peer: "127.0.0.1:143".to_owned(),
        },
    );
    t.push(
        ms(12),
        1,
        received(
            Phase::Plaintext,
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] mail.example.test ready\r\n",
        ),
    );
    t.push(ms(15), 1, sent(Phase::Plaintext, b"A1 STARTTLS\r\n"));
    t.push(
        ms(20),
        1,
        received(Phase::Plaintext, b"A1 OK Begin TLS negotiation now\r\n"),
    );
    t.push(ms(21), 1, Event::TlsStarted);
    t.push(
        ms(98),
        1,
        Event::TlsEstablished {
            version: "TLSv1.3".to_owned(),
            cipher_suite: "TLS13_AES_256_GCM_SHA384".to_owned(),
        },
    );
}

fn pass() -> Outcome {
    let mut o = outcome(
        "imap.server.starttls.ok-then-handshake",
        "Answers STARTTLS with OK and completes the TLS handshake",
        Protocol::Imap,
        Level::Must,
        Verdict::Pass,
    );
    o.message = "OK, then a TLS 1.3 handshake".to_owned();
    upgrade(&mut o.transcript);
    o.transcript
        .push(ms(104), 1, sent(Phase::Tls, b"A2 CAPABILITY\r\n"));
    o.transcript.push(
        ms(110),
        1,
        received(
            Phase::Tls,
            b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA2 OK CAPABILITY completed\r\n",
        ),
    );
    o
}

/// The injection FAIL: `X1 NOOP` rides in the STARTTLS write and is answered inside TLS.
fn injection() -> Outcome {
    let mut o = outcome(
        "imap.server.starttls.pipelined-command-injection",
        "Sends a command pipelined after STARTTLS in the same write",
        Protocol::Imap,
        Level::Must,
        Verdict::Fail,
    );
    o.clauses = vec![
        clause(
            "RFC 9051 §6.2.1",
            Some(RFC9051_DISCARD),
            Some("https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1"),
        ),
        clause("RFC 2595 §3.1", None, None),
    ];
    o.cves = vec![
        "CVE-2011-1926".to_owned(),
        "CVE-2020-29547".to_owned(),
        "CVE-2021-38542".to_owned(),
    ];
    o.message = "X1 NOOP, sent in plaintext before the handshake, was executed and answered \
                 inside TLS"
        .to_owned();
    o.file = Some(PathBuf::from(
        "scenarios/imap/rfc9051-6.2.1/pipelined-command-injection.scn",
    ));
    let t = &mut o.transcript;
    t.push(
        ms(0),
        1,
        Event::Connected {
            peer: "127.0.0.1:143".to_owned(),
        },
    );
    t.push(
        ms(12),
        1,
        received(
            Phase::Plaintext,
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] mail.example.test ready\r\n",
        ),
    );
    t.push(
        ms(15),
        1,
        sent(Phase::Plaintext, b"A1 STARTTLS\r\nX1 NOOP\r\n"),
    );
    t.push(
        ms(20),
        1,
        received(Phase::Plaintext, b"A1 OK Begin TLS negotiation now\r\n"),
    );
    t.push(ms(21), 1, Event::TlsStarted);
    t.push(
        ms(98),
        1,
        Event::TlsEstablished {
            version: "TLSv1.3".to_owned(),
            cipher_suite: "TLS13_AES_256_GCM_SHA384".to_owned(),
        },
    );
    t.push(
        ms(104),
        1,
        received(Phase::Tls, b"X1 OK NOOP completed\r\n"),
    );
    t.push(
        ms(105),
        1,
        Event::CloseNotify {
            direction: Direction::Sent,
        },
    );
    t.push(
        ms(106),
        1,
        Event::Closed {
            direction: Direction::Sent,
            how: "FIN".to_owned(),
        },
    );
    o.failure = Some(Failure {
        step: Some(StepRef {
            file: "scenarios/imap/rfc9051-6.2.1/pipelined-command-injection.scn".to_owned(),
            line: 14,
            text: "S! X1 {*}".to_owned(),
        }),
        expected: "no line matching `X1 {*}` (X1 was sent before the handshake)".to_owned(),
        seen: "X1 OK NOOP completed".to_owned(),
        transcript_entry: Some(6),
    });
    o
}

/// A SHOULD NOT broken: STARTTLS still advertised inside TLS (a long line, and a second
/// connection).
fn warn() -> Outcome {
    let mut o = outcome(
        "imap.server.starttls.not-advertised-after-tls",
        "Does not advertise STARTTLS after a successful STARTTLS",
        Protocol::Imap,
        Level::ShouldNot,
        Verdict::Warn,
    );
    o.clauses = vec![clause(
        "RFC 9051 §6.2.1",
        Some(
            "The server MAY advertise different capabilities and, in particular, SHOULD NOT \
             advertise the STARTTLS capability, after a successful STARTTLS command.",
        ),
        None,
    )];
    o.message = "STARTTLS is still advertised inside TLS".to_owned();
    upgrade(&mut o.transcript);
    o.transcript
        .push(ms(104), 1, sent(Phase::Tls, b"A2 CAPABILITY\r\n"));
    let mut caps = b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN".to_vec();
    for i in 0..30 {
        caps.extend_from_slice(format!(" X-VENDOR-EXT{i}").as_bytes());
    }
    caps.extend_from_slice(b"\r\nA2 OK CAPABILITY completed\r\n");
    o.transcript.push(ms(110), 1, received(Phase::Tls, &caps));
    o.transcript.push(
        ms(120),
        1,
        Event::Closed {
            direction: Direction::Received,
            how: "FIN".to_owned(),
        },
    );
    o.transcript.push(
        ms(130),
        2,
        received(Phase::Plaintext, b"* OK mail.example.test ready\r\n"),
    );
    o.failure = Some(Failure {
        step: Some(StepRef {
            file: "scenarios/imap/rfc9051-6.2.1/not-advertised-after-tls.scn".to_owned(),
            line: 19,
            text: "[caps lacks STARTTLS]".to_owned(),
        }),
        expected: "a capability list without STARTTLS".to_owned(),
        seen: "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN X-VENDOR-EXT0 ...".to_owned(),
        transcript_entry: Some(7),
    });
    o
}

fn not_applicable() -> Outcome {
    let mut o = outcome(
        "imap.server.logindisabled.login-refused",
        "Refuses LOGIN while LOGINDISABLED is advertised",
        Protocol::Imap,
        Level::Must,
        Verdict::NotApplicable,
    );
    o.clauses = vec![clause("RFC 2595 §3.2", None, None)];
    o.message = "the server does not advertise LOGINDISABLED (requires: LOGINDISABLED)".to_owned();
    o.transcript.push(
        ms(12),
        1,
        received(
            Phase::Plaintext,
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
        ),
    );
    o
}

/// The harness could not run it: the certificate is not trusted.
fn error() -> Outcome {
    let mut o = outcome(
        "imap.server.starttls.capabilities-refreshed",
        "Sends a fresh capability list after the handshake",
        Protocol::Imap,
        Level::Must,
        Verdict::Error,
    );
    o.message = "the TLS handshake failed: the certificate is not trusted (try --ca or \
                 --insecure)"
        .to_owned();
    let t = &mut o.transcript;
    t.push(ms(12), 1, received(Phase::Plaintext, b"* OK ready\r\n"));
    t.push(ms(15), 1, sent(Phase::Plaintext, b"A1 STARTTLS\r\n"));
    t.push(ms(20), 1, received(Phase::Plaintext, b"A1 OK go\r\n"));
    t.push(ms(21), 1, Event::TlsStarted);
    t.push(
        ms(40),
        1,
        Event::TlsFailed {
            reason: "invalid peer certificate: UnknownIssuer".to_owned(),
        },
    );
    t.push(
        ms(41),
        1,
        Event::Closed {
            direction: Direction::Sent,
            how: "FIN".to_owned(),
        },
    );
    o
}

/// A known failure (POP3), whose CAPA reply has a bare LF.
fn expected_failure() -> Outcome {
    let mut o = outcome(
        "pop3.server.stls.pipelined-command-injection",
        "Sends a command pipelined after STLS in the same write",
        Protocol::Pop3,
        Level::Derived,
        Verdict::Fail,
    );
    o.clauses = vec![clause("RFC 2595 §4", None, None)];
    o.cves = vec!["CVE-2021-38084".to_owned()];
    o.message = "CAPA, sent in plaintext before the handshake, was answered inside TLS".to_owned();
    o.expected_failure = Some("fixed upstream in 3.2, not yet packaged (issue #17)".to_owned());
    let t = &mut o.transcript;
    t.push(ms(10), 1, received(Phase::Plaintext, b"+OK POP3 ready\r\n"));
    t.push(ms(11), 1, sent(Phase::Plaintext, b"STLS\r\nCAPA\r\n"));
    t.push(ms(15), 1, received(Phase::Plaintext, b"+OK Begin TLS\r\n"));
    t.push(ms(16), 1, Event::TlsStarted);
    t.push(
        ms(50),
        1,
        Event::TlsEstablished {
            version: "TLSv1.2".to_owned(),
            cipher_suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_owned(),
        },
    );
    t.push(
        ms(55),
        1,
        received(
            Phase::Tls,
            b"+OK Capability list follows\r\nSTLS\nUSER\r\n.\r\n",
        ),
    );
    o.failure = Some(Failure {
        step: None,
        expected: "nothing before the first command inside TLS".to_owned(),
        seen: "+OK Capability list follows".to_owned(),
        transcript_entry: Some(5),
    });
    o
}

/// Listed as a known failure, passed this time.
fn unexpected_pass() -> Outcome {
    let mut o = outcome(
        "pop3.server.stls.capa-refreshed",
        "Sends a fresh CAPA list after the handshake",
        Protocol::Pop3,
        Level::Must,
        Verdict::Pass,
    );
    o.clauses = vec![clause("RFC 2595 §4", None, None)];
    o.message = "CAPA inside TLS lists no STLS".to_owned();
    o
}

/// A client-role FAIL: the client starts the handshake (binary octets, no CRLF) before
/// the OK.
fn client_binary() -> Outcome {
    let mut o = outcome(
        "imap.client.starttls.no-pipelining",
        "Waits for the STARTTLS reply before starting the handshake",
        Protocol::Imap,
        Level::MustNot,
        Verdict::Fail,
    );
    o.role = Party::Client;
    o.clauses = vec![clause(
        "RFC 2595 §3.1",
        Some(
            "After the client issues a STARTTLS command, it MUST NOT issue further commands \
             until a server response is seen and the TLS negotiation is complete.",
        ),
        Some("https://www.rfc-editor.org/rfc/rfc2595#section-3.1"),
    )];
    o.message = "the client sent a TLS ClientHello before the STARTTLS reply".to_owned();
    let t = &mut o.transcript;
    t.push(
        ms(0),
        1,
        Event::Connected {
            peer: "127.0.0.1:50312".to_owned(),
        },
    );
    t.push(
        ms(1),
        1,
        sent(
            Phase::Plaintext,
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n",
        ),
    );
    t.push(ms(30), 1, received(Phase::Plaintext, b"A1 STARTTLS\r\n"));
    t.push(
        ms(31),
        1,
        Event::Note {
            text: "[wait 50ms] before answering".to_owned(),
        },
    );
    t.push(
        ms(33),
        1,
        received(
            Phase::Plaintext,
            b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03\xfe\x1b[2J\\",
        ),
    );
    t.push(
        ms(540),
        1,
        Event::Closed {
            direction: Direction::Received,
            how: "RST".to_owned(),
        },
    );
    o.failure = Some(Failure {
        step: Some(StepRef {
            file: "scenarios/imap/rfc2595-3.1/client-no-pipelining.scn".to_owned(),
            line: 11,
            text: "[expect-silence 500ms]".to_owned(),
        }),
        expected: "no octet for 500 ms".to_owned(),
        seen: "\\x16\\x03\\x01\\x00\\xc8 (a TLS handshake record)".to_owned(),
        transcript_entry: Some(4),
    });
    o
}

/// Every kind of result against a server, plus the known failure that passed.
fn server_run() -> Run {
    Run {
        target: "imap://127.0.0.1:143".to_owned(),
        tool_version: "0.1.0".to_owned(),
        duration: Duration::from_millis(1234),
        strict: false,
        results: vec![
            error(),
            not_applicable(),
            warn(),
            pass(),
            injection(),
            unexpected_pass(),
            expected_failure(),
        ],
        unexpected_passes: vec!["pop3.server.stls.capa-refreshed".to_owned()],
    }
}

/// A client-role run: `S:` is mailtls.
fn client_run() -> Run {
    Run {
        target: "curl -s --ssl-reqd imap://{name}:{port}/ -u 'alice:s3cret'".to_owned(),
        tool_version: "0.1.0".to_owned(),
        duration: Duration::from_millis(560),
        strict: true,
        results: vec![client_binary()],
        unexpected_passes: Vec::new(),
    }
}

/// Nothing to report.
fn clean_run() -> Run {
    Run {
        target: "reference".to_owned(),
        tool_version: "0.1.0".to_owned(),
        duration: Duration::from_millis(250),
        strict: false,
        results: vec![pass(), not_applicable(), unexpected_pass()],
        unexpected_passes: Vec::new(),
    }
}

fn rendered(run: &Run, format: Format, opts: RenderOptions) -> String {
    let mut out = Vec::new();
    render(run, format, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn plain() -> RenderOptions {
    RenderOptions::default()
}

// ---- transcript -------------------------------------------------------------------------

#[test]
fn transcript_marks_the_tls_boundary_and_the_offending_entry() {
    let o = injection();
    let opts = TranscriptOptions {
        timestamps: true,
        mark: Some(6),
        ..TranscriptOptions::default()
    };
    insta::assert_snapshot!(render_transcript(&o.transcript, o.role, &opts));
}

#[test]
fn transcript_flips_labels_in_the_client_role_and_escapes_binary() {
    let o = client_binary();
    let opts = TranscriptOptions {
        mark: Some(4),
        ..TranscriptOptions::default()
    };
    let text = render_transcript(&o.transcript, o.role, &opts);
    assert!(text.contains("[plain] S: * OK"), "{text}");
    assert!(text.contains("[plain] C: A1 STARTTLS"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "a peer's ESC reached the output: {text}"
    );
    insta::assert_snapshot!(text);
}

// ---- text -------------------------------------------------------------------------------

#[test]
fn text_report() {
    insta::assert_snapshot!(rendered(&server_run(), Format::Text, plain()));
}

#[test]
fn text_report_verbose() {
    let opts = RenderOptions {
        verbose: true,
        ..plain()
    };
    insta::assert_snapshot!(rendered(&server_run(), Format::Text, opts));
}

#[test]
fn text_report_client_role() {
    insta::assert_snapshot!(rendered(&client_run(), Format::Text, plain()));
}

#[test]
fn the_summary_line_ends_the_text_report() {
    for run in [server_run(), client_run(), clean_run()] {
        let text = rendered(&run, Format::Text, plain());
        assert_eq!(text.lines().last(), Some(summary_line(&run).as_str()));
    }
    assert_eq!(
        summary_line(&clean_run()),
        "mailtls: 2 passed, 0 failed, 0 warned, 1 n/a, 0 errors in 0.25 s (target reference)"
    );
}

#[test]
fn text_colour_is_only_paint() {
    let opts = RenderOptions {
        color: true,
        ..plain()
    };
    let coloured = rendered(&server_run(), Format::Text, opts);
    assert!(coloured.contains("\x1b["), "no colour at all");
    let stripped = anstream::adapter::strip_str(&coloured).to_string();
    assert_eq!(stripped, rendered(&server_run(), Format::Text, plain()));
    assert!(!rendered(&server_run(), Format::Text, plain()).contains('\x1b'));
}

// ---- JSON -------------------------------------------------------------------------------

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&rendered(run, Format::Json, plain())).unwrap()
}

#[test]
fn json_report() {
    let text = rendered(&server_run(), Format::Json, plain());
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "version",
        "tool",
        "target",
        "duration_ms",
        "strict",
        "summary",
        "results",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["version"], 1);
    for result in value["results"].as_array().unwrap() {
        for key in ["id", "verdict", "level", "clause", "message", "transcript"] {
            assert!(result.get(key).is_some(), "result without {key}: {result}");
        }
    }
    assert_eq!(value["summary"]["fail"], 2);
    assert_eq!(value["summary"]["na"], 1);
    insta::assert_snapshot!(text);
}

#[test]
fn json_transcript_text_gives_back_every_octet() {
    for run in [server_run(), client_run()] {
        let value = json(&run);
        for (outcome, result) in run.results.iter().zip(value["results"].as_array().unwrap()) {
            let entries = result["transcript"].as_array().unwrap();
            assert_eq!(entries.len(), outcome.transcript.entries.len());
            for (entry, json) in outcome.transcript.entries.iter().zip(entries) {
                if let Event::Data { bytes, .. } = &entry.event {
                    let text = json["text"].as_str().unwrap();
                    assert_eq!(unescape(text).as_deref(), Some(&bytes[..]), "{text}");
                    assert_eq!(json["octets"], bytes.len());
                }
            }
        }
    }
}

/// The keys of the object at `pointer` in the JSON Schema, and its required keys.
fn schema_keys(schema: &serde_json::Value, pointer: &str) -> (Vec<String>, Vec<String>) {
    let object = schema.pointer(pointer).unwrap();
    let properties = object["properties"].as_object().unwrap();
    let required = object["required"].as_array().unwrap();
    (
        properties.keys().cloned().collect(),
        required
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect(),
    )
}

fn check_against_schema(value: &serde_json::Value, schema: &serde_json::Value, pointer: &str) {
    let (known, required) = schema_keys(schema, pointer);
    let object = value.as_object().unwrap();
    for key in object.keys() {
        assert!(known.contains(key), "{key} is not documented at {pointer}");
    }
    for key in &required {
        assert!(
            object.contains_key(key),
            "{key} is required at {pointer}: {value}"
        );
    }
}

#[test]
fn json_keys_are_the_documented_ones() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../docs/report-schema.json")).unwrap();
    let doc = include_str!("../docs/report-schema.md");
    for run in [server_run(), client_run(), clean_run()] {
        let value = json(&run);
        check_against_schema(&value, &schema, "");
        check_against_schema(&value["summary"], &schema, "/$defs/summary");
        for result in value["results"].as_array().unwrap() {
            check_against_schema(result, &schema, "/$defs/result");
            if let Some(failure) = result.get("failure") {
                check_against_schema(failure, &schema, "/$defs/failure");
            }
            for entry in result["transcript"].as_array().unwrap() {
                let event = entry["event"].as_str().unwrap();
                check_against_schema(entry, &schema, &format!("/$defs/event-{event}"));
            }
        }
    }
    // Every documented key has a row in the Markdown page too.
    for pointer in ["", "/$defs/summary", "/$defs/result", "/$defs/failure"] {
        for key in schema_keys(&schema, pointer).0 {
            assert!(
                doc.contains(&format!("`{key}`")),
                "{key} is not in report-schema.md"
            );
        }
    }
}

// ---- JUnit ------------------------------------------------------------------------------

/// The elements and attributes the common JUnit XSDs allow, and their required
/// attributes.
fn junit_rules() -> BTreeMap<&'static str, (&'static [&'static str], &'static [&'static str])> {
    BTreeMap::from([
        (
            "testsuites",
            (
                &["name", "tests", "failures", "errors", "skipped", "time"][..],
                &[][..],
            ),
        ),
        (
            "testsuite",
            (
                &["name", "tests", "failures", "errors", "skipped", "time"][..],
                &["name", "tests", "failures", "errors"][..],
            ),
        ),
        ("properties", (&[][..], &[][..])),
        ("property", (&["name", "value"][..], &["name", "value"][..])),
        (
            "testcase",
            (
                &["name", "classname", "time"][..],
                &["name", "classname"][..],
            ),
        ),
        ("failure", (&["message", "type"][..], &[][..])),
        ("error", (&["message", "type"][..], &[][..])),
        ("skipped", (&["message"][..], &[][..])),
        ("system-out", (&[][..], &[][..])),
        ("system-err", (&[][..], &[][..])),
    ])
}

/// Which children each element may have, in order.
fn junit_children(parent: &str) -> &'static [&'static str] {
    match parent {
        "" => &["testsuites"],
        "testsuites" => &["testsuite"],
        "testsuite" => &["properties", "testcase", "system-out", "system-err"],
        "properties" => &["property"],
        "testcase" => &["failure", "error", "skipped", "system-out", "system-err"],
        _ => &[],
    }
}

#[derive(Debug, Default, PartialEq)]
struct Counted {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

/// Parses the report back, checks its shape, and returns the counts the attributes
/// claim and the counts of the elements, for `<testsuites>` and each `<testsuite>`.
fn parse_junit(xml: &str) -> Vec<(Counted, Counted)> {
    let rules = junit_rules();
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<(String, usize)> = vec![(String::new(), 0)];
    let mut totals: Vec<(Counted, Counted)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        let event = reader.read_event().unwrap();
        let (start, empty) = match &event {
            XmlEvent::Start(e) => (Some(e.clone()), false),
            XmlEvent::Empty(e) => (Some(e.clone()), true),
            XmlEvent::End(_) => {
                let (name, _) = stack.pop().unwrap();
                if name == "testsuite" || name == "testsuites" {
                    open.pop();
                }
                continue;
            }
            XmlEvent::Eof => break,
            _ => continue,
        };
        let e = start.unwrap();
        let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
        let (parent, last) = stack.last().cloned().unwrap();
        let order = junit_children(&parent);
        let position = order
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("<{name}> inside <{parent}>"));
        assert!(position >= last, "<{name}> out of order inside <{parent}>");
        stack.last_mut().unwrap().1 = position;
        let (allowed, required) = rules[name.as_str()];
        let mut attributes = BTreeMap::new();
        for a in e.attributes() {
            let a = a.unwrap();
            let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
            assert!(allowed.contains(&key.as_str()), "{key} on <{name}>");
            attributes.insert(key, a.unescape_value().unwrap().into_owned());
        }
        for key in required {
            assert!(attributes.contains_key(*key), "<{name}> without {key}");
        }
        let number = |k: &str| attributes.get(k).map_or(0, |v| v.parse().unwrap());
        if let Some(time) = attributes.get("time") {
            assert!(time.parse::<f64>().unwrap() >= 0.0);
        }
        match name.as_str() {
            "testsuites" | "testsuite" => {
                let claimed = Counted {
                    tests: number("tests"),
                    failures: number("failures"),
                    errors: number("errors"),
                    skipped: number("skipped"),
                };
                totals.push((claimed, Counted::default()));
                open.push(totals.len() - 1);
            }
            "testcase" | "failure" | "error" | "skipped" => {
                for &i in &open {
                    let counted = &mut totals[i].1;
                    match name.as_str() {
                        "testcase" => counted.tests += 1,
                        "failure" => counted.failures += 1,
                        "error" => counted.errors += 1,
                        _ => counted.skipped += 1,
                    }
                }
            }
            _ => {}
        }
        if !empty {
            stack.push((name, 0));
        }
    }
    totals
}

#[test]
fn junit_report() {
    let xml = rendered(&server_run(), Format::Junit, plain());
    let totals = parse_junit(&xml);
    assert_eq!(totals.len(), 3, "testsuites + IMAP + POP3");
    for (claimed, counted) in &totals {
        assert_eq!(claimed, counted);
    }
    assert_eq!(
        totals[0].0,
        Counted {
            tests: 7,
            failures: 2,
            errors: 1,
            skipped: 2
        }
    );
    insta::assert_snapshot!(xml);
}

#[test]
fn junit_counts_a_warning_as_a_failure_only_when_strict() {
    let mut run = server_run();
    let lenient = parse_junit(&rendered(&run, Format::Junit, plain()));
    run.strict = true;
    let strict = parse_junit(&rendered(&run, Format::Junit, plain()));
    assert_eq!(strict[0].0.failures, lenient[0].0.failures + 1);
    let xml = rendered(&run, Format::Junit, plain());
    assert!(xml.contains(r#"type="SHOULD NOT""#), "{xml}");
}

#[test]
fn junit_client_role_is_valid_xml_without_control_characters() {
    let xml = rendered(&client_run(), Format::Junit, plain());
    for (claimed, counted) in parse_junit(&xml) {
        assert_eq!(claimed, counted);
    }
    assert!(
        !xml.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
        "{xml}"
    );
    insta::assert_snapshot!(xml);
}

#[test]
fn junit_of_an_empty_run_has_one_empty_suite() {
    let run = Run {
        results: Vec::new(),
        unexpected_passes: Vec::new(),
        ..clean_run()
    };
    let totals = parse_junit(&rendered(&run, Format::Junit, plain()));
    assert_eq!(totals.len(), 2);
    assert_eq!(totals[1].0, Counted::default());
}

// ---- Markdown ---------------------------------------------------------------------------

#[test]
fn markdown_report() {
    insta::assert_snapshot!(rendered(&server_run(), Format::Markdown, plain()));
}

#[test]
fn markdown_report_client_role() {
    insta::assert_snapshot!(rendered(&client_run(), Format::Markdown, plain()));
}

#[test]
fn markdown_of_a_clean_run_is_one_line() {
    let text = rendered(&clean_run(), Format::Markdown, plain());
    assert_eq!(text.lines().count(), 1, "{text}");
    insta::assert_snapshot!(text);
}

// ---- progress ---------------------------------------------------------------------------

#[test]
fn progress_off_a_terminal_is_hidden() {
    let progress = Progress::new(2, false);
    assert!(progress.is_hidden());
    progress.inc("imap.server.starttls.ok-then-handshake", Verdict::Pass);
    progress.inc(
        "imap.server.starttls.pipelined-command-injection",
        Verdict::Fail,
    );
    progress.finish();
}

// ---- properties -------------------------------------------------------------------------

proptest! {
    #[test]
    fn lossless_escaping_round_trips(octets in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(unescape(&escape_lossless(&octets)), Some(octets));
    }

    #[test]
    fn rendered_transcripts_hold_no_control_characters(
        octets in proptest::collection::vec(any::<u8>(), 0..300),
        tls in any::<bool>(),
    ) {
        let mut t = Transcript::new();
        let phase = if tls { Phase::Tls } else { Phase::Plaintext };
        t.push(Duration::ZERO, 1, received(phase, &octets));
        let text = render_transcript(&t, Party::Server, &TranscriptOptions::default());
        prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{:?}", text);
        let lf = octets.iter().filter(|&&b| b == b'\n').count();
        let rows = lf + usize::from(octets.last() != Some(&b'\n'));
        // One row per line, plus the `---- connection 1 ----` row.
        prop_assert_eq!(text.lines().count(), rows.max(1) + 1);
    }
}
