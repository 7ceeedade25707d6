//! The scenario language (`src/scenario`): one test per syntax feature (text into the
//! AST), error messages as insta snapshots, and proptest properties (no input panics,
//! escaped literal text round-trips through `render_part`).

use std::time::Duration;

use mailtls::model::{Level, Party, Protocol, Transport};
use mailtls::scenario::ast::{
    CapsAssertion, Clause, Directive, Ending, Expectation, LegacyHello, Line, Part, Piece,
    Requirement, Scenario, Span, Step, TlsVersion,
};
use mailtls::scenario::pattern::{self, MismatchKind, Vars};
use mailtls::scenario::{ScenarioError, parse, parse_all, parse_bytes, render};
use proptest::prelude::*;

/// The smallest valid header.
const HEADER: &str = "\
id: imap.server.test
title: A test
protocol: imap
roles: server
level: MUST
clause: RFC 2595 §3.1
";

fn ok(source: &str) -> Scenario {
    parse("test.scn", source).unwrap_or_else(|e| panic!("{e}"))
}

/// The steps of `HEADER` + `steps`.
fn steps(steps: &str) -> Vec<Step> {
    ok(&format!("{HEADER}\n{steps}")).steps
}

/// The error for `source`, rendered.
fn error(source: &str) -> String {
    parse("scenarios/imap/bad.scn", source)
        .expect_err("the scenario should not parse")
        .to_string()
}

/// The error for `HEADER` + `steps`, rendered.
fn step_error(steps: &str) -> String {
    error(&format!("{HEADER}\n{steps}"))
}

/// The only line of a scenario with one line step.
fn only_line(text: &str) -> Line {
    match steps(text).as_slice() {
        [Step::Line(line)] => line.clone(),
        other => panic!("{other:?}"),
    }
}

/// The pieces and ending of a one-line, one-part transcript, spans cleared.
fn pieces(text: &str) -> (Vec<Piece>, Ending) {
    let scenario = ok(&format!("{HEADER}\n{text}")).without_spans();
    match scenario.steps.as_slice() {
        [Step::Line(line)] if line.parts.len() == 1 => {
            (line.parts[0].pieces.clone(), line.parts[0].ending)
        }
        other => panic!("{other:?}"),
    }
}

fn lit(text: &[u8]) -> Piece {
    Piece::Literal(text.to_vec(), Span::default())
}

fn var(name: &str) -> Piece {
    Piece::Var(name.to_owned(), Span::default())
}

fn any_octets() -> Piece {
    Piece::Any(Span::default())
}

/// Every error's position lies inside the input: 1-based, on an existing line, and the
/// carets within that line (an empty line gets one caret at column 1).
fn assert_in_bounds(source: &str, e: &ScenarioError) {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let lines: Vec<&str> = source.split('\n').collect();
    assert!(e.line >= 1 && e.line as usize <= lines.len(), "{e:?}");
    let text = lines[e.line as usize - 1];
    let text = text.strip_suffix('\r').unwrap_or(text);
    let chars = text.chars().count().max(1);
    assert!(e.col >= 1 && e.len >= 1, "{e:?}");
    assert!((e.col + e.len - 1) as usize <= chars, "{e:?} in {text:?}");
    assert_eq!(e.source_line, text);
}

// ---- header --------------------------------------------------------------------------

/// The example of scenarios/README.md, every header key used.
const FULL: &str = "\
# comment lines start with '#'; blank lines are ignored everywhere
id: imap.server.starttls.pipelined-command-injection
title: Commands pipelined after STARTTLS are not executed inside TLS
protocol: imap
roles: server
transport: starttls
level: MUST
clause: RFC 2595 §3.1
quote: The server MUST ... \"verbatim sentence\"
url: https://www.rfc-editor.org/rfc/rfc2595#section-3.1
clause: RFC 9051 §6.2.1
cve: CVE-2011-0411
cve: CVE-2011-1926, CVE-2021-38542
requires: STARTTLS
requires: sasl PLAIN, LOGINDISABLED
profile: cleartext-login=allowed
timeout: 2s
repeat: 20
note: free text, repeatable
note: a second note

C: A1 STARTTLS
.. X7QZK NOOP
S: A1 OK {*}
[tls may-fail]
S! X7QZK {*}
C: A2 NOOP
S~ A2 OK {*}
";

#[test]
fn header_every_key() {
    let meta = ok(FULL).meta;
    assert_eq!(meta.id, "imap.server.starttls.pipelined-command-injection");
    assert_eq!(
        meta.title,
        "Commands pipelined after STARTTLS are not executed inside TLS"
    );
    assert_eq!(meta.protocol, Protocol::Imap);
    assert_eq!(meta.roles, vec![Party::Server]);
    assert_eq!(meta.transport, Transport::Starttls);
    assert_eq!(meta.level, Level::Must);
    assert_eq!(
        meta.clauses,
        vec![
            Clause {
                reference: "RFC 2595 §3.1".into(),
                quote: Some("The server MUST ... \"verbatim sentence\"".into()),
                url: Some("https://www.rfc-editor.org/rfc/rfc2595#section-3.1".into()),
            },
            Clause {
                reference: "RFC 9051 §6.2.1".into(),
                quote: None,
                url: None,
            },
        ]
    );
    assert_eq!(
        meta.cves,
        vec!["CVE-2011-0411", "CVE-2011-1926", "CVE-2021-38542"]
    );
    assert_eq!(
        meta.requires,
        vec![
            Requirement::Capability("STARTTLS".into()),
            Requirement::Sasl("PLAIN".into()),
            Requirement::Capability("LOGINDISABLED".into()),
        ]
    );
    assert_eq!(
        meta.profile,
        vec![("cleartext-login".into(), "allowed".into())]
    );
    assert_eq!(meta.timeout, Some(Duration::from_secs(2)));
    assert_eq!(meta.repeat, 20);
    assert_eq!(meta.notes, vec!["free text, repeatable", "a second note"]);
    assert_eq!(
        meta.span,
        Span {
            line: 2,
            col: 1,
            len: 52
        }
    );
}

#[test]
fn header_defaults() {
    let meta = ok(&format!("{HEADER}C: x")).meta;
    assert_eq!(meta.transport, Transport::Starttls);
    assert_eq!(meta.repeat, 1);
    assert_eq!(meta.timeout, None);
    assert!(meta.cves.is_empty() && meta.requires.is_empty() && meta.notes.is_empty());
}

#[test]
fn header_values_are_verbatim_and_trimmed() {
    let source = HEADER.replace("title: A test", "title:    A # not a comment   ");
    let meta = ok(&format!("{source}C: x")).meta;
    assert_eq!(meta.title, "A # not a comment");
}

#[test]
fn header_levels() {
    for (word, level) in [
        ("MUST", Level::Must),
        ("MUST NOT", Level::MustNot),
        ("SHOULD", Level::Should),
        ("SHOULD NOT", Level::ShouldNot),
        ("MAY", Level::May),
        ("SECURITY", Level::Derived),
        ("DERIVED", Level::Derived),
    ] {
        let source = HEADER.replace("level: MUST", &format!("level: {word}"));
        assert_eq!(ok(&format!("{source}C: x")).meta.level, level, "{word}");
    }
}

#[test]
fn header_roles_protocols_transports() {
    for (roles, parsed) in [
        ("server", vec![Party::Server]),
        ("client", vec![Party::Client]),
        ("server, client", vec![Party::Server, Party::Client]),
        ("client,server", vec![Party::Client, Party::Server]),
    ] {
        // Both roles send: keep the transcript sendable either way.
        let source = HEADER.replace("roles: server", &format!("roles: {roles}"));
        assert_eq!(ok(&format!("{source}C: x\nS: y")).meta.roles, parsed);
    }
    for (word, protocol) in [
        ("imap", Protocol::Imap),
        ("pop3", Protocol::Pop3),
        ("acap", Protocol::Acap),
        ("POP3", Protocol::Pop3),
    ] {
        let source = HEADER.replace("protocol: imap", &format!("protocol: {word}"));
        assert_eq!(ok(&format!("{source}C: x")).meta.protocol, protocol);
    }
    let implicit = ok(&format!("{HEADER}transport: implicit\nC: x")).meta;
    assert_eq!(implicit.transport, Transport::Implicit);
}

#[test]
fn comments_and_blank_lines() {
    let source = format!(
        "# leading comment\n\n{HEADER}\n   # indented comment\n\t\nC: x\n\n# between\nS: y\n"
    );
    assert_eq!(ok(&source).steps.len(), 2);
}

#[test]
fn crlf_files_and_a_byte_order_mark() {
    let source = format!("\u{feff}{HEADER}C: A1 NOOP\nS: A1 OK\n").replace('\n', "\r\n");
    let scenario = ok(&source);
    assert_eq!(scenario.meta.span.line, 1);
    let Step::Line(line) = &scenario.without_spans().steps[0] else {
        panic!()
    };
    assert_eq!(line.parts[0].pieces, vec![lit(b"A1 NOOP")]);
    assert_eq!(line.parts[0].ending, Ending::Crlf);
}

// ---- steps ---------------------------------------------------------------------------

#[test]
fn step_prefixes() {
    // Server role: C: lines are sent; every S prefix judges.
    let parsed = steps("C: a\nS: b\nS? c\nS~ d\nS! e\nS& f\n");
    let kinds: Vec<(Party, Expectation)> = parsed
        .iter()
        .flat_map(|step| match step {
            Step::Line(line) => vec![(line.sender, line.expectation)],
            Step::Unordered(lines, _) => lines.iter().map(|l| (l.sender, l.expectation)).collect(),
            Step::Directive(..) => vec![],
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Party::Client, Expectation::Next),
            (Party::Server, Expectation::Next),
            (Party::Server, Expectation::Optional),
            (Party::Server, Expectation::Eventually),
            (Party::Server, Expectation::Forbidden),
            (Party::Server, Expectation::Unordered),
        ]
    );
}

#[test]
fn step_text_is_verbatim() {
    // One space after the prefix; the rest, a trailing `# ...` and spaces included, is
    // the line.
    assert_eq!(
        pieces("C:  A1 NOOP # not a comment "),
        (vec![lit(b" A1 NOOP # not a comment ")], Ending::Crlf)
    );
    assert_eq!(pieces("C:"), (vec![], Ending::Crlf));
    assert_eq!(pieces("C: "), (vec![], Ending::Crlf));
    assert_eq!(
        pieces("C: caf\u{e9}\ttab"),
        (vec![lit("café\ttab".as_bytes())], Ending::Crlf)
    );
}

#[test]
fn continuation_joins_one_write() {
    let line = only_line("C: A1 STARTTLS\n.. X7QZK NOOP\n..\n.. A2 NOOP<no-CRLF>");
    assert_eq!(line.sender, Party::Client);
    assert_eq!(line.parts.len(), 4);
    assert_eq!(line.parts[1].span.line, 9);
    assert_eq!(line.parts[3].ending, Ending::None);
    let bytes = pattern::render_line(&line, &Vars::new()).unwrap();
    assert_eq!(bytes, b"A1 STARTTLS\r\nX7QZK NOOP\r\n\r\nA2 NOOP");
}

#[test]
fn continuation_of_a_received_line() {
    let parsed = steps("C: A1 NOOP\nS: A1 OK\n.. * BYE\n# a comment does not break it\n.. x");
    let Step::Line(line) = &parsed[1] else {
        panic!()
    };
    assert_eq!(line.parts.len(), 3);
}

#[test]
fn unordered_groups() {
    let parsed = steps(
        "C: a\nS& * CAPABILITY {*}\nS& * OK {*}\n.. more\n\nS& third\nC: b\nS& other group\n",
    );
    assert_eq!(parsed.len(), 4);
    let Step::Unordered(group, span) = &parsed[1] else {
        panic!("{parsed:?}")
    };
    assert_eq!(group.len(), 3);
    assert_eq!(group[1].parts.len(), 2);
    assert_eq!(span.line, 9);
    assert!(matches!(&parsed[3], Step::Unordered(g, _) if g.len() == 1));
    // Different senders form different groups (client role: S lines are sent).
    let source = HEADER.replace("roles: server", "roles: client");
    let parsed = ok(&format!("{source}S: x\nC& a\nC& b\nS: y\nC& c")).steps;
    assert_eq!(parsed.len(), 4);
}

#[test]
fn escapes() {
    assert_eq!(
        pieces(r"C: \\ \{ \} \| \t \x00\x7F\xff"),
        (vec![lit(b"\\ { } | \t \x00\x7f\xff")], Ending::Crlf)
    );
}

#[test]
fn endings() {
    assert_eq!(
        pieces(r"C: A1 STARTTLS\n"),
        (vec![lit(b"A1 STARTTLS")], Ending::Lf)
    );
    assert_eq!(
        pieces("C: A2 NOOP<no-CRLF>"),
        (vec![lit(b"A2 NOOP")], Ending::None)
    );
    assert_eq!(
        pieces(r"C: A1 NOOP\\n"),
        (vec![lit(b"A1 NOOP\\n")], Ending::Crlf)
    );
    assert_eq!(
        pieces(r"C: \x3cno-CRLF>"),
        (vec![lit(b"<no-CRLF>")], Ending::Crlf)
    );
}

#[test]
fn braces_any_var_alternatives() {
    assert_eq!(
        pieces("S: {tag} OK {*}").0,
        vec![var("tag"), lit(b" OK "), any_octets()]
    );
    assert_eq!(
        pieces("S: {A1 BAD {*}|A1 NO {*}}").0,
        vec![Piece::Alternatives(
            vec![
                vec![lit(b"A1 BAD "), any_octets()],
                vec![lit(b"A1 NO "), any_octets()],
            ],
            Span::default()
        )]
    );
    assert_eq!(
        pieces("S: A2 {BAD|NO|{x|y}}").0,
        vec![
            lit(b"A2 "),
            Piece::Alternatives(
                vec![
                    vec![lit(b"BAD")],
                    vec![lit(b"NO")],
                    vec![Piece::Alternatives(
                        vec![vec![lit(b"x")], vec![lit(b"y")]],
                        Span::default()
                    )],
                ],
                Span::default()
            ),
        ]
    );
    assert_eq!(pieces("C: {user_name-2}").0, vec![var("user_name-2")]);
}

#[test]
fn spans_point_at_pieces() {
    let line = only_line("S: {tag} OK {*}");
    let spans: Vec<Span> = line.parts[0].pieces.iter().map(Piece::span).collect();
    let at = |col, len| Span { line: 8, col, len };
    assert_eq!(spans, vec![at(4, 5), at(9, 4), at(13, 3)]);
    assert_eq!(line.parts[0].span, at(1, 15));
}

#[test]
fn directives() {
    let parsed = steps(
        "[tls]\n[tls may-fail]\n[tls cert=wrong-name]\n[tls may-fail cert=expired]\n\
         [expect-close]\n[expect-close-notify]\n[expect-silence 500ms]\n[expect-handshake]\n\
         [wait 50ms]\n[close-passes]\n[close-notify]\n[close]\n[new-connection]\n\
         [caps has STARTTLS]\n[caps lacks LOGINDISABLED]\n[caps has-sasl PLAIN]\n[caps lacks-sasl PLAIN]\n\
         [tls version=1.2]\n[tls client-cert]\n[close-notify keep-open]\n[expect-no-certificate-request]\n\
         [client-hello ssl2]\n[client-hello rfc2595-suite]\n[server-hello tls1.0]\n",
    );
    let directives: Vec<Directive> = parsed
        .into_iter()
        .map(|step| match step {
            Step::Directive(directive, _) => directive,
            other => panic!("{other:?}"),
        })
        .collect();
    let tls = |may_fail, cert: Option<&str>| Directive::Tls {
        may_fail,
        cert: cert.map(str::to_owned),
        version: None,
        client_cert: false,
    };
    let caps = |present, sasl, name: &str| {
        Directive::Caps(CapsAssertion {
            present,
            sasl,
            name: name.to_owned(),
        })
    };
    assert_eq!(
        directives,
        vec![
            tls(false, None),
            tls(true, None),
            tls(false, Some("wrong-name")),
            tls(true, Some("expired")),
            Directive::ExpectClose,
            Directive::ExpectCloseNotify,
            Directive::ExpectSilence(Duration::from_millis(500)),
            Directive::ExpectHandshake,
            Directive::Wait(Duration::from_millis(50)),
            Directive::ClosePasses,
            Directive::CloseNotify { keep_open: false },
            Directive::Close,
            Directive::NewConnection,
            caps(true, false, "STARTTLS"),
            caps(false, false, "LOGINDISABLED"),
            caps(true, true, "PLAIN"),
            caps(false, true, "PLAIN"),
            Directive::Tls {
                may_fail: false,
                cert: None,
                version: Some(TlsVersion::Tls12),
                client_cert: false,
            },
            Directive::Tls {
                may_fail: false,
                cert: None,
                version: None,
                client_cert: true,
            },
            Directive::CloseNotify { keep_open: true },
            Directive::ExpectNoCertificateRequest,
            Directive::ClientHello(LegacyHello::Ssl2),
            Directive::ClientHello(LegacyHello::Rfc2595Suite),
            Directive::ServerHello(LegacyHello::Tls10),
        ]
    );
    // Every directive reads back as it is written.
    for text in [
        "[tls version=1.2]",
        "[tls may-fail client-cert]",
        "[close-notify keep-open]",
        "[client-hello weak-suites]",
        "[server-hello ssl3]",
        "[expect-no-connection 500ms]",
    ] {
        let step = steps(&format!("{text}\n")).remove(0);
        assert_eq!(step.to_string(), text);
    }
}

#[test]
fn durations() {
    for (text, duration) in [
        ("500ms", Duration::from_millis(500)),
        ("2s", Duration::from_secs(2)),
        ("1m", Duration::from_secs(60)),
    ] {
        let parsed = steps(&format!("[wait {text}]"));
        assert_eq!(
            parsed[0],
            Step::Directive(Directive::Wait(duration), parsed[0].span())
        );
    }
}

#[test]
fn roles_decide_which_lines_must_be_sendable() {
    // Client role: mailtls sends S: lines, so C: lines may be patterns.
    let client = HEADER.replace("roles: server", "roles: client");
    ok(&format!(
        "{client}S: * OK ready\nC~ {{tag}} STARTTLS\nC! {{*}} LOGIN {{*}}\nS: {{tag}} OK go"
    ));
    // Server role: the same file is refused (C~ cannot be sent).
    let server = format!("{HEADER}S: * OK ready\nC~ {{tag}} STARTTLS");
    assert!(parse("f", &server).is_err());
    // Both roles: both kinds of line must be sendable.
    let both = HEADER.replace("roles: server", "roles: server, client");
    assert!(parse("f", &format!("{both}C: A1 NOOP\nS: A1 OK {{*}}")).is_err());
    ok(&format!("{both}C: A1 NOOP\nS: A1 OK done"));
}

#[test]
fn render_round_trips() {
    let first = ok(FULL);
    let text = render(&first);
    let second = ok(&text);
    assert_eq!(first.without_spans(), second.without_spans());
    assert_eq!(render(&second), text);
    insta::assert_snapshot!(text);
}

#[test]
fn lines_display_as_written() {
    let line = only_line(r"C: A1 STARTTLS\n");
    assert_eq!(line.to_string(), r"C: A1 STARTTLS\n");
    let line = only_line("C: a\n.. b<no-CRLF>");
    assert_eq!(line.to_string(), "C: a\n.. b<no-CRLF>");
    let parsed = steps("S& {a|b} \\{\n[tls may-fail cert=x]");
    assert_eq!(parsed[0].to_string(), r"S& {a|b} \{");
    assert_eq!(parsed[1].to_string(), "[tls may-fail cert=x]");
}

#[test]
fn parse_bytes_reads_utf8() {
    let source = format!("{HEADER}C: caf\u{e9}");
    let scenario = parse_bytes("f", source.as_bytes()).unwrap();
    assert_eq!(scenario, ok(&source));
}

#[test]
fn parse_all_reports_every_error() {
    let errors = parse_all(
        "f.scn",
        &format!("{HEADER}titel: x\nC: \\q\n.. dropped with its line\n[wiat 5ms]\nS: {{a\n"),
    )
    .unwrap_err();
    let lines: Vec<u32> = errors.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![7, 8, 10, 11]);
    assert_eq!(
        errors.first().unwrap().message,
        "unknown header key `titel`"
    );
}

/// The catalogue's transcripts (§4.1–4.4), in this syntax, all parse.
#[test]
fn catalogue_transcripts_parse() {
    let files = [
        // §4.1 imap.server.starttls.ok-then-handshake
        "S: * OK {*}\nC: A1 STARTTLS\nS: A1 OK {*}\n[expect-silence 1s]\n[tls]\nC: A2 CAPABILITY\nS: * CAPABILITY {*}\nS: A2 OK {*}",
        // §4.1 imap.server.starttls.no-arguments
        "S: * OK {*}\n[close-passes]\nC: A1 STARTTLS A2 NOOP\nS: A1 BAD {*}\nS! A2 {*}",
        // §4.1 imap.server.starttls.injection-bare-lf
        "S: * OK {*}\nC: A1 STARTTLS\\n\n.. X2 NOOP\nS: A1 OK {*}\n[tls may-fail]\nS! X2 {*}\nC: A3 NOOP\nS~ A3 OK {*}",
        // §4.1 imap.server.starttls.injection-split-segments
        "S: * OK {*}\nC: A1 STARTTLS\n[wait 1ms]\nC: X3 NOOP\nS: A1 OK {*}\n[tls may-fail]\nS! X3 {*}",
        // §4.1 imap.server.starttls.injection-tag-parse-differential
        "S: * OK {*}\nC: NOOP\n..  A1 STARTTLS\n.. A2 NOOP<no-CRLF>\n[close-passes]\nS! A2 OK {*}",
        // §4.1 imap.server.starttls.rejected-when-authenticated
        "S: * OK {*}\nC: A1 LOGIN {user} {password}\nS: A1 OK {*}\nC: A2 STARTTLS\nS: A2 {BAD|NO} {*}\n[expect-silence 500ms]\nC: A3 NOOP\nS: A3 OK {*}",
        // §4.1 imap.server.starttls.not-advertised-after-tls
        "S: * OK {*}\nC: A1 STARTTLS\nS: A1 OK {*}\n[tls]\nC: A2 CAPABILITY\nS: * CAPABILITY {*}\nS: A2 OK {*}\n[caps lacks STARTTLS]",
        // §4.1 imap.server.privacy-mode.tls-deactivated-terminates
        "S: * OK {*}\nC: A1 STARTTLS\nS: A1 OK {*}\n[tls]\nC: A2 LOGIN {user} {password}\nS: A2 OK {*}\n[close-notify]\nC: A3 SELECT INBOX\n[expect-close]",
        // §4.4 imaps.server.close-notify-on-logout
        "S: * OK {*}\nC: A9 LOGOUT\nS: * BYE {*}\nS: A9 OK {*}\n[expect-close-notify]",
    ];
    for file in files {
        ok(&format!("{HEADER}\n{file}"));
    }
    // §4.2 pop3.server.stls.pipelined-command-injection; §4.3 ACAP; §4.4 implicit.
    let pop3 = HEADER.replace("protocol: imap", "protocol: pop3");
    ok(&format!(
        "{pop3}\nS: +OK {{*}}\nC: STLS\n.. CAPA\nS: +OK {{*}}\n[tls may-fail]\nS! {{+OK|-ERR}} {{*}}\nC: USER probe\nS: {{+OK|-ERR}}{{*}}"
    ));
    let acap = HEADER.replace("protocol: imap", "protocol: acap");
    ok(&format!(
        "{acap}\nS: * ACAP {{*}}\nC: a002 STARTTLS\nS: a002 OK {{*}}\n[tls]\nS: * ACAP {{*}}"
    ));
    let implicit = format!("{HEADER}transport: implicit\n");
    ok(&format!(
        "{implicit}\n[expect-silence 2s]\n[tls]\nS: * OK {{*}}\nC: A1 CAPABILITY\nS: * CAPABILITY {{*}}\n[caps lacks STARTTLS]\nS: A1 OK {{*}}\nC: A2 STARTTLS\nS: A2 BAD {{*}}"
    ));
    // Client role (§4.5): the peer's tag is captured.
    let client = HEADER.replace("roles: server", "roles: client");
    ok(&format!(
        "{client}\nS: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\nC: {{tag}} STARTTLS\nS: {{tag}} OK begin TLS\n[expect-handshake]\n[tls cert=wrong-name]\n[expect-close]"
    ));
}

// ---- patterns through the public API ---------------------------------------------------

#[test]
fn patterns_match_received_lines() {
    let line = only_line("S: {tag} {OK|NO} {*}");
    let part = &line.parts[0];
    let captured = pattern::match_part(part, b"a7 ok done", Ending::Crlf, &Vars::new()).unwrap();
    assert_eq!(captured.get("tag").map(Vec::as_slice), Some(&b"a7"[..]));
    let mismatch = pattern::match_part(part, b"a7 BAD x", Ending::Crlf, &Vars::new()).unwrap_err();
    assert_eq!(mismatch.offset, 3);
    assert_eq!(
        mismatch.to_string(),
        "expected `{tag} {OK|NO} {*}`, seen `a7 BAD x` (differs at octet 3)"
    );
    let bare = pattern::match_part(part, b"a7 OK x", Ending::Lf, &Vars::new()).unwrap_err();
    assert!(matches!(bare.kind, MismatchKind::Ending { .. }));
}

// ---- error messages (insta snapshots) ---------------------------------------------------

#[test]
fn error_unknown_key() {
    insta::assert_snapshot!(error(&format!("{HEADER}titel: typo\nC: x")));
}

#[test]
fn error_missing_id() {
    insta::assert_snapshot!(error(&format!(
        "{}C: x",
        HEADER.replace("id: imap.server.test\n", "")
    )));
}

#[test]
fn error_missing_clause() {
    insta::assert_snapshot!(error(&format!(
        "{}C: x",
        HEADER.replace("clause: RFC 2595 §3.1\n", "")
    )));
}

#[test]
fn error_duplicate_key() {
    insta::assert_snapshot!(error(&format!("{HEADER}title: again\nC: x")));
}

#[test]
fn error_bad_level() {
    insta::assert_snapshot!(error(&format!(
        "{}C: x",
        HEADER.replace("level: MUST", "level: MUSTNT")
    )));
}

#[test]
fn error_bad_role() {
    insta::assert_snapshot!(error(&format!(
        "{}C: x",
        HEADER.replace("roles: server", "roles: server, clients")
    )));
}

#[test]
fn error_bad_cve() {
    insta::assert_snapshot!(error(&format!(
        "{HEADER}cve: CVE-2011-0411, CVE-11-0411\nC: x"
    )));
}

#[test]
fn error_quote_without_clause() {
    insta::assert_snapshot!(error("id: a\nquote: The server MUST\n"));
}

#[test]
fn error_bad_timeout() {
    insta::assert_snapshot!(error(&format!("{HEADER}timeout: 2sec\nC: x")));
}

#[test]
fn error_bad_escape() {
    insta::assert_snapshot!(step_error(r"C: A1 LOGIN \q"));
}

#[test]
fn error_bad_hex() {
    insta::assert_snapshot!(step_error(r"C: A1 \xZ1 NOOP"));
}

#[test]
fn error_lf_inside_a_line() {
    insta::assert_snapshot!(step_error(r"C: A1 STARTTLS\n X2 NOOP"));
}

#[test]
fn error_unclosed_brace() {
    insta::assert_snapshot!(step_error("S: A1 {OK|NO done"));
}

#[test]
fn error_bad_variable_name() {
    insta::assert_snapshot!(step_error("S: {A1 BAD} x"));
}

#[test]
fn error_empty_braces() {
    insta::assert_snapshot!(step_error("S: A1 {} x"));
}

#[test]
fn error_bar_outside_braces() {
    insta::assert_snapshot!(step_error("C: A1 NOOP\nS: A1 BAD|NO {*}"));
}

#[test]
fn error_unknown_directive() {
    insta::assert_snapshot!(step_error("C: A1 STARTTLS\n[expect-sience 500ms]"));
}

#[test]
fn error_bad_duration() {
    insta::assert_snapshot!(step_error("[expect-silence 1000 ms]"));
}

#[test]
fn error_directive_with_trailing_comment() {
    insta::assert_snapshot!(step_error("[tls] # TLS now"));
}

#[test]
fn error_catalogue_event_notation() {
    insta::assert_snapshot!(step_error("C: A1 STARTTLS\n<TLS>"));
}

#[test]
fn error_continuation_without_a_line() {
    insta::assert_snapshot!(step_error("[tls]\n.. X7QZK NOOP"));
}

#[test]
fn error_header_after_steps() {
    insta::assert_snapshot!(step_error("C: A1 NOOP\ntimeout: 2s"));
}

#[test]
fn error_no_space_after_prefix() {
    insta::assert_snapshot!(step_error("C:A1 NOOP"));
}

#[test]
fn error_lower_case_prefix() {
    insta::assert_snapshot!(step_error("C: A1 NOOP\ns: A1 OK"));
}

#[test]
fn error_indented_step() {
    insta::assert_snapshot!(step_error("  C: A1 NOOP"));
}

#[test]
fn error_any_in_a_sent_line() {
    insta::assert_snapshot!(step_error("C: A1 LOGIN {*}"));
}

#[test]
fn error_alternatives_in_a_sent_line_client_role() {
    let client = HEADER.replace("roles: server", "roles: client");
    insta::assert_snapshot!(error(&format!("{client}S: * {{OK|PREAUTH}} ready")));
}

#[test]
fn error_optional_line_cannot_be_sent() {
    insta::assert_snapshot!(step_error("C? A1 NOOP"));
}

#[test]
fn error_tab_keeps_carets_aligned() {
    insta::assert_snapshot!(step_error("C: \tA1 \\q"));
}

#[test]
fn error_invalid_utf8() {
    let mut source = format!("{HEADER}C: caf").into_bytes();
    source.extend_from_slice(b"\xe9 au lait\n");
    insta::assert_snapshot!(
        parse_bytes("scenarios/imap/bad.scn", &source)
            .unwrap_err()
            .to_string()
    );
}

#[test]
fn error_control_character() {
    insta::assert_snapshot!(step_error("C: A1\u{1b}[0m NOOP"));
}

#[test]
fn error_empty_file() {
    insta::assert_snapshot!(error(""));
}

#[test]
fn error_empty_transcript() {
    insta::assert_snapshot!(error(HEADER));
}

#[test]
fn error_every_error_of_a_file() {
    let errors = parse_all(
        "scenarios/imap/bad.scn",
        &format!("{HEADER}transport: tls\nC: A1 \\q\n[wiat 5ms]\n"),
    )
    .unwrap_err();
    insta::assert_snapshot!(errors.to_string());
}

// ---- properties -------------------------------------------------------------------------

/// Fragments scenario files are made of, good and bad, for inputs that get past the
/// first line.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id: a.b".to_owned()),
        Just("title: t".to_owned()),
        Just("protocol: imap".to_owned()),
        Just("roles: server, client".to_owned()),
        Just("roles: client".to_owned()),
        Just("level: MUST NOT".to_owned()),
        Just("clause: RFC 2595".to_owned()),
        Just("quote: q".to_owned()),
        Just("url: https://x".to_owned()),
        Just("requires: sasl PLAIN, STARTTLS,".to_owned()),
        Just("cve: ,".to_owned()),
        Just("timeout: 9".to_owned()),
        Just("[tls may-fail cert=".to_owned()),
        Just("[caps has-sasl PLAIN]".to_owned()),
        Just("[wait 5ms]".to_owned()),
        Just("..".to_owned()),
        Just("\r".to_owned()),
        Just("\u{feff}".to_owned()),
        "[CS][:?~!&] [ -~]{0,12}",
        r"\.\. [{}|\\*a-z ]{0,12}",
        r"[CS]: (\{[a-z*|{}]{0,4}\}?|\\x?[0-9a-fA-Z]{0,2}|[ -~]){0,6}(\\n|<no-CRLF>)?",
        "[a-z]{1,8}: [ -~]{0,10}",
        "\\[[a-z -]{0,20}\\]?",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn no_text_panics_and_errors_point_inside(source in any::<String>()) {
        if let Err(errors) = parse_all("p.scn", &source) {
            for e in &errors.0 {
                assert_in_bounds(&source, e);
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn no_bytes_panic(source in proptest::collection::vec(any::<u8>(), 0..200)) {
        match parse_bytes("p.scn", &source) {
            Ok(_) => prop_assert!(std::str::from_utf8(&source).is_ok()),
            Err(e) => {
                prop_assert!(e.line >= 1 && e.col >= 1);
                let lines = source.split(|&b| b == b'\n').count();
                prop_assert!(e.line as usize <= lines);
            }
        }
    }

    #[test]
    fn assembled_files_parse_or_point_inside(lines in proptest::collection::vec(fragment(), 0..24)) {
        let source = format!("{HEADER}{}", lines.join("\n"));
        match parse_all("p.scn", &source) {
            Ok(scenario) => {
                let text = render(&scenario);
                let again = parse("p.scn", &text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
                prop_assert_eq!(scenario.without_spans(), again.without_spans());
                prop_assert_eq!(render(&again), text);
            }
            Err(errors) => {
                for e in &errors.0 {
                    assert_in_bounds(&source, e);
                }
            }
        }
    }

    /// Any octets, written with escapes by the renderer, come back out of `render_part`
    /// exactly, and the line matches its own octets.
    #[test]
    fn literal_octets_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64), ending in 0..3u8) {
        let ending = [Ending::Crlf, Ending::Lf, Ending::None][ending as usize];
        let written = Part {
            pieces: if bytes.is_empty() { vec![] } else { vec![lit(&bytes)] },
            ending,
            span: Span::default(),
        };
        let line = only_line(&format!("C: {written}"));
        let part = &line.parts[0];
        let mut expected = bytes.clone();
        expected.extend_from_slice(ending.bytes());
        prop_assert_eq!(pattern::render_part(part, &Vars::new()).unwrap(), expected);
        prop_assert!(pattern::match_part(part, &bytes, ending, &Vars::new()).is_ok());
    }

    /// Hand-escaped text: plain characters and every escape decode to the octets they
    /// stand for.
    #[test]
    fn escaped_text_renders_its_octets(tokens in proptest::collection::vec(prop_oneof![
        "[ -~&&[^\\\\{}|]]".prop_map(|s| (s.clone(), s.into_bytes())),
        Just((r"\\".to_owned(), b"\\".to_vec())),
        Just((r"\{".to_owned(), b"{".to_vec())),
        Just((r"\}".to_owned(), b"}".to_vec())),
        Just((r"\|".to_owned(), b"|".to_vec())),
        Just((r"\t".to_owned(), b"\t".to_vec())),
        any::<u8>().prop_map(|b| (format!("\\x{b:02X}"), vec![b])),
        any::<char>().prop_filter("printable", |c| !c.is_control() && !"\\{}|".contains(*c))
            .prop_map(|c| (c.to_string(), c.to_string().into_bytes())),
    ], 0..24), bare_lf in any::<bool>()) {
        let mut text: String = tokens.iter().map(|(t, _)| t.as_str()).collect();
        let mut expected: Vec<u8> = tokens.iter().flat_map(|(_, b)| b.clone()).collect();
        if text.ends_with("<no-CRLF>") {
            return Ok(());
        }
        if bare_lf {
            text.push_str(r"\n");
            expected.push(b'\n');
        } else {
            expected.extend_from_slice(b"\r\n");
        }
        let line = only_line(&format!("C: {text}"));
        prop_assert_eq!(pattern::render_line(&line, &Vars::new()).unwrap(), expected);
    }
}

/// The fuzz seeds stay meaningful: `broken-*` seeds are refused, every other seed is a
/// valid scenario.
#[test]
fn corpus_seeds_parse_unless_broken() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/scenario_parse");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = parse_bytes(&name, &std::fs::read(&path).unwrap());
        if name.starts_with("broken-") {
            assert!(result.is_err(), "{name} parses");
        } else if let Err(e) = result {
            panic!("{name} does not parse:\n{e}");
        }
    }
}

/// imaptest's parse-only check: every scenario in the tree parses, and renders to text
/// that parses back to the same scenario.
#[test]
fn every_scenario_file_parses_and_round_trips() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "scn") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    walk(&root, &mut files);
    for path in files {
        let name = path.display().to_string();
        let scenario =
            parse_bytes(&name, &std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{e}"));
        let again = parse(&name, &render(&scenario)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scenario.without_spans(), again.without_spans(), "{name}");
    }
}

/// The examples of scenarios/README.md parse: each code block with transcript lines,
/// completed with the keys of `HEADER` it does not set itself.
#[test]
fn readme_examples_parse() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/README.md"),
    )
    .unwrap();
    let mut checked = 0;
    for (i, block) in readme.split("```").enumerate() {
        // Odd pieces are inside fences; skip error output and one-liners.
        let is_transcript = block
            .lines()
            .any(|l| l.starts_with("C:") || l.starts_with("S:"));
        if i % 2 == 0 || block.starts_with("\nerror") || !is_transcript {
            continue;
        }
        let own_keys: Vec<&str> = block
            .lines()
            .filter_map(|l| l.split_once(':').map(|(k, _)| k))
            .filter(|k| k.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        let header: String = HEADER
            .lines()
            .filter(|l| !own_keys.iter().any(|k| l.starts_with(&format!("{k}:"))))
            .map(|l| format!("{l}\n"))
            .collect();
        let source = format!("{header}{block}");
        if let Err(e) = parse_all("README.md", &source) {
            panic!("README example {i} does not parse:\n{e}\n---\n{source}");
        }
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} README examples found");
}

#[test]
fn error_server_hello_of_a_suite_list() {
    insta::assert_snapshot!(step_error("[server-hello weak-suites]"));
}

#[test]
fn error_tls_version_unknown() {
    insta::assert_snapshot!(step_error("[tls version=1.1]"));
}

#[test]
fn error_next_tag_without_a_number() {
    insta::assert_snapshot!(step_error("S: {t1+x} OK"));
}
