//! Unit tests: the RFC 2595 examples run clean, and every rule is broken by a minimal
//! trace (and kept by its corrected twin).

use super::*;
use crate::proto::capability::Capabilities;

// ----- trace-building helpers -----

fn imap_caps(atoms: &[&str]) -> Capabilities {
    let mut caps = Capabilities::new();
    for atom in atoms {
        caps.insert_imap_atom(atom);
    }
    caps
}

fn pop3_caps(names: &[&str], sasl: &[&str]) -> Capabilities {
    let mut caps = Capabilities::new();
    for name in names {
        caps.insert_name(name);
    }
    for mechanism in sasl {
        caps.insert_sasl(mechanism);
    }
    caps
}

/// `C: <tag> <kind>`
fn c(tag: &str, kind: CommandKind) -> Event {
    Event::Command(Command::tagged(tag, kind))
}

/// `C: <kind>` (POP3)
fn p(kind: CommandKind) -> Event {
    Event::Command(Command::new(kind))
}

/// `S: <tag> OK|NO|BAD`
fn s(tag: &str, status: Status) -> Event {
    Event::Response(Response::Completion {
        tag: Some(tag.to_owned()),
        status,
        capabilities: None,
    })
}

/// `S: +OK` / `S: -ERR` (POP3)
fn r(status: Status) -> Event {
    Event::Response(Response::Completion {
        tag: None,
        status,
        capabilities: None,
    })
}

/// `S: +OK` + CAPA list (POP3)
fn capa(caps: Capabilities) -> Event {
    Event::Response(Response::Completion {
        tag: None,
        status: Status::Ok,
        capabilities: Some(caps),
    })
}

/// `S: * CAPABILITY ...`
fn caps(caps: Capabilities) -> Event {
    Event::Response(Response::Capabilities(caps))
}

fn greeting(capabilities: Option<Capabilities>) -> Event {
    Event::Response(Response::Greeting {
        status: GreetingStatus::Ok,
        capabilities,
    })
}

const TLS: Event = Event::TlsHandshakeCompleted;

fn auth(mechanism: &str) -> CommandKind {
    CommandKind::authenticate(mechanism)
}

fn imap() -> Config {
    Config::new(Protocol::Imap, Transport::Starttls)
}

fn pop3() -> Config {
    Config::new(Protocol::Pop3, Transport::Starttls)
}

fn acap() -> Config {
    Config::new(Protocol::Acap, Transport::Starttls)
}

fn observe(config: Config, events: impl IntoIterator<Item = Event>) -> Observer {
    let mut observer = Observer::new(config);
    for event in events {
        let _ = observer.handle(event);
    }
    observer
}

/// Asserts the trace ends in exactly `expected` as its sticky failure.
#[track_caller]
fn assert_fails(observer: &Observer, expected: &Violation) {
    assert_eq!(
        observer.error(),
        Some(expected),
        "findings: {:#?}",
        observer.findings()
    );
}

/// Asserts the trace has no failure and no warning (tolerated moves allowed).
#[track_caller]
fn assert_clean(observer: &Observer) {
    let verdicts: Vec<_> = observer
        .findings()
        .iter()
        .filter(|f| f.disposition != Disposition::Tolerated)
        .collect();
    assert!(
        verdicts.is_empty(),
        "expected no verdicts, got {verdicts:#?}"
    );
}

/// Asserts `expected` was recorded with `disposition`, and that nothing failed unless
/// `disposition` is `Failed`.
#[track_caller]
fn assert_finding(observer: &Observer, expected: &Violation, disposition: Disposition) {
    assert!(
        observer
            .findings()
            .iter()
            .any(|f| f.violation == *expected && f.disposition == disposition),
        "expected {expected:?} as {disposition:?}, got {:#?}",
        observer.findings()
    );
    if disposition != Disposition::Failed {
        assert_eq!(observer.error(), None);
    }
}

/// RFC 2595 §3.1's example, with a greeting and a closing added.
fn rfc2595_imap_example() -> Vec<Event> {
    vec![
        greeting(None),
        c("a001", CommandKind::Capability),
        caps(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"])),
        s("a001", Status::Ok),
        c("a002", CommandKind::Starttls),
        s("a002", Status::Ok),
        TLS,
        c("a003", CommandKind::Capability),
        caps(imap_caps(&["IMAP4rev1", "AUTH=EXTERNAL"])),
        s("a003", Status::Ok),
        c("a004", CommandKind::Login),
        s("a004", Status::Ok),
        c("a005", CommandKind::Logout),
        Event::Response(Response::Bye),
        s("a005", Status::Ok),
        Event::CloseNotify(Party::Client),
        Event::CloseNotify(Party::Server),
        Event::TcpClosed(Party::Client),
    ]
}

// ----- the RFC examples are conformant -----

#[test]
fn rfc2595_imap_example_is_conformant_in_every_profile() {
    for refuses in [false, true] {
        let config = imap().with_server_refusing_cleartext_auth(refuses);
        let observer = observe(config, rfc2595_imap_example());
        assert_clean(&observer);
        assert!(observer.findings().is_empty());
        let state = observer.state().unwrap();
        assert_eq!(state.session(), Session::Imap(ImapState::Logout));
        assert_eq!(state.phase(), Phase::Closed);
        assert_eq!(state.tls_via(), Some(TlsVia::Starttls));
    }
}

#[test]
fn rfc2595_imap_example_walks_the_expected_states() {
    let mut observer = Observer::new(imap());
    let phases: Vec<_> = rfc2595_imap_example()
        .into_iter()
        .take(12)
        .map(|event| {
            observer.handle(event).unwrap();
            let state = observer.state().unwrap();
            (state.phase(), state.tls_active(), state.session())
        })
        .collect();
    let na = Session::Imap(ImapState::NotAuthenticated);
    assert_eq!(phases[4], (Phase::ExpectStarttlsReply, false, na));
    assert_eq!(phases[5], (Phase::ExpectTlsHandshake, false, na));
    assert_eq!(phases[6], (Phase::ExpectCommand, true, na));
    assert_eq!(
        phases[11],
        (
            Phase::ExpectCommand,
            true,
            Session::Imap(ImapState::Authenticated)
        )
    );
}

#[test]
fn rfc2595_pop3_example_is_conformant() {
    // C: STLS / S: +OK Begin TLS negotiation / <TLS> / ...
    // C: STLS / S: -ERR Command not permitted when TLS active
    let observer = observe(
        pop3(),
        [
            greeting(None),
            p(CommandKind::Capability),
            capa(pop3_caps(&["STLS", "TOP"], &[])),
            p(CommandKind::Starttls),
            r(Status::Ok),
            TLS,
            p(CommandKind::Capability),
            capa(pop3_caps(&["USER", "TOP"], &["PLAIN"])),
            p(CommandKind::User),
            r(Status::Ok),
            p(CommandKind::Pass),
            r(Status::Ok),
            p(CommandKind::RequiresAuth),
            r(Status::Ok),
            p(CommandKind::Logout),
            r(Status::Ok),
            Event::CloseNotify(Party::Client),
            Event::TcpClosed(Party::Client),
        ],
    );
    assert_clean(&observer);
    assert_eq!(
        observer.state().unwrap().session(),
        Session::Pop3(Pop3State::Update)
    );
}

#[test]
fn pop3_stls_refused_when_tls_active_is_the_rfc_answer() {
    let observer = observe(
        pop3().with_judged(Judged::Server),
        [
            greeting(None),
            p(CommandKind::Starttls),
            r(Status::Ok),
            TLS,
            p(CommandKind::Starttls),
            r(Status::No), // -ERR Command not permitted when TLS active
        ],
    );
    assert_eq!(observer.error(), None);
    // The client's second STLS is its own (tolerated) mistake.
    assert_finding(
        &observer,
        &Violation::StarttlsSentWithTlsActive {
            protocol: Protocol::Pop3,
        },
        Disposition::Tolerated,
    );
}

#[test]
fn rfc2595_acap_example_is_conformant() {
    // S: * ACAP (SASL "CRAM-MD5") (STARTTLS)
    // C: a002 STARTTLS
    // S: a002 OK "Begin TLS negotiation now"
    // <TLS negotiation, further commands are under TLS layer>
    // S: * ACAP (SASL "CRAM-MD5" "PLAIN" "EXTERNAL")
    let observer = observe(
        acap(),
        [
            greeting(Some(pop3_caps(&["STARTTLS"], &["CRAM-MD5"]))),
            c("a002", CommandKind::Starttls),
            s("a002", Status::Ok),
            TLS,
            greeting(Some(pop3_caps(&[], &["CRAM-MD5", "PLAIN", "EXTERNAL"]))),
            c("a003", auth("PLAIN")),
            s("a003", Status::Ok),
        ],
    );
    assert_clean(&observer);
    assert_eq!(
        observer.state().unwrap().session(),
        Session::Acap(AcapState::Authenticated)
    );
}

#[test]
fn imaps_session_is_conformant() {
    let observer = observe(
        Config::new(Protocol::Imap, Transport::Implicit),
        [
            TLS,
            greeting(Some(imap_caps(&["IMAP4rev1", "AUTH=PLAIN"]))),
            c("A1", auth("PLAIN")),
            s("A1", Status::Ok),
            c("A2", CommandKind::Select),
            s("A2", Status::Ok),
            c("A3", CommandKind::Logout),
            s("A3", Status::Ok),
            Event::CloseNotify(Party::Server),
            Event::TcpClosed(Party::Server),
        ],
    );
    assert_clean(&observer);
    assert_eq!(observer.state().unwrap().tls_via(), Some(TlsVia::Implicit));
}

// ----- stickiness and dispositions -----

#[test]
fn client_error_is_sticky() {
    let mut observer = Observer::new(imap().with_judged(Judged::Client));
    observer.handle(greeting(None)).unwrap();
    observer.handle(c("a1", CommandKind::Starttls)).unwrap();
    let error = observer.handle(c("a2", CommandKind::Noop)).unwrap_err();
    assert_eq!(
        error,
        Violation::CommandPipelinedAfterStarttls {
            protocol: Protocol::Imap,
            same_write: false
        }
    );
    // Every later event, whatever it is, returns the same error and changes nothing.
    for event in [
        s("a1", Status::Ok),
        TLS,
        c("a3", auth("PLAIN")),
        Event::Timeout,
    ] {
        assert_eq!(observer.handle(event), Err(error.clone()));
    }
    assert_eq!(observer.error(), Some(&error));
    assert!(observer.state().is_err());
    assert!(!observer.tls_active());
    assert_eq!(observer.findings().len(), 1);
    assert_eq!(observer.events_seen(), 7);
}

#[test]
fn server_error_is_sticky() {
    let mut observer = Observer::new(imap());
    observer.handle(greeting(None)).unwrap();
    observer.handle(c("a1", CommandKind::Capability)).unwrap();
    let error = observer
        .handle(caps(imap_caps(&["IMAP4rev1", "AUTH=PLAIN"])))
        .unwrap_err();
    assert_eq!(
        error,
        Violation::PlainAdvertisedInCleartext {
            protocol: Protocol::Imap
        }
    );
    assert_eq!(observer.handle(s("a1", Status::Ok)), Err(error));
}

#[test]
fn warnings_do_not_stop_the_model() {
    let observer = observe(
        imap(),
        [
            greeting(None),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
            c("a2", CommandKind::Capability),
            caps(imap_caps(&["IMAP4rev1", "STARTTLS", "AUTH=PLAIN"])),
            s("a2", Status::Ok),
            c("a3", auth("PLAIN")),
            s("a3", Status::Ok),
        ],
    );
    assert_finding(
        &observer,
        &Violation::StarttlsAdvertisedAfterTls,
        Disposition::Warned,
    );
    assert_eq!(observer.warnings().count(), 1);
    assert_eq!(
        observer.state().unwrap().session(),
        Session::Imap(ImapState::Authenticated)
    );
}

#[test]
fn findings_name_the_event_that_showed_them() {
    let observer = observe(
        imap().with_judged(Judged::Server),
        [
            greeting(None),
            c("A1", CommandKind::Starttls),
            c("X7QZK", CommandKind::Noop),
            s("A1", Status::Ok),
            TLS,
            s("X7QZK", Status::Ok),
        ],
    );
    let events: Vec<_> = observer.findings().iter().map(|f| f.event).collect();
    assert_eq!(events, [2, 5]);
}

// ----- server: STARTTLS where it is not valid -----

#[test]
fn starttls_accepted_when_authenticated_is_session_fixation() {
    // Catalogue §2.8: C: A1 LOGIN attacker pw / S: A1 OK / C: A2 STARTTLS / S: A2 OK
    let events = |answer| {
        vec![
            greeting(None),
            c("A1", CommandKind::Login),
            s("A1", Status::Ok),
            c("A2", CommandKind::Starttls),
            s("A2", answer),
        ]
    };
    let config = imap().with_judged(Judged::Server);
    assert_fails(
        &observe(config.clone(), events(Status::Ok)),
        &Violation::StarttlsAcceptedWhenAuthenticated {
            protocol: Protocol::Imap,
            state: Session::Imap(ImapState::Authenticated),
        },
    );
    assert_clean(&observe(config.clone(), events(Status::Bad)));
    assert_clean(&observe(config, events(Status::No)));
}

#[test]
fn starttls_accepted_when_authenticated_acap() {
    let observer = observe(
        acap().with_judged(Judged::Server),
        [
            greeting(Some(pop3_caps(&["STARTTLS"], &["CRAM-MD5"]))),
            c("a1", auth("CRAM-MD5")),
            s("a1", Status::Ok),
            c("a2", CommandKind::Starttls),
            s("a2", Status::Ok),
        ],
    );
    let violation = Violation::StarttlsAcceptedWhenAuthenticated {
        protocol: Protocol::Acap,
        state: Session::Acap(AcapState::Authenticated),
    };
    assert_fails(&observer, &violation);
    assert_eq!(violation.rule().clause, "RFC 2595 §5.1");
}

#[test]
fn stls_accepted_in_transaction() {
    let events = |answer| {
        vec![
            greeting(None),
            p(CommandKind::User),
            r(Status::Ok),
            p(CommandKind::Pass),
            r(Status::Ok),
            p(CommandKind::Starttls),
            r(answer),
        ]
    };
    let config = pop3().with_judged(Judged::Server);
    assert_fails(
        &observe(config.clone(), events(Status::Ok)),
        &Violation::StlsAcceptedOutsideAuthorization {
            state: Session::Pop3(Pop3State::Transaction),
        },
    );
    assert_clean(&observe(config, events(Status::No)));
}

#[test]
fn starttls_accepted_with_tls_active() {
    for config in [imap(), pop3(), acap()] {
        let protocol = config.protocol;
        let mut events = vec![
            greeting(None),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
        ];
        if protocol == Protocol::Acap {
            events.push(greeting(None));
        }
        events.extend([c("a2", CommandKind::Starttls), s("a2", Status::Ok)]);
        let observer = observe(config.with_judged(Judged::Server), events);
        assert_fails(
            &observer,
            &Violation::StarttlsAcceptedWithTlsActive { protocol },
        );
    }
}

#[test]
fn starttls_on_implicit_tls_must_get_bad() {
    let events = |answer| {
        vec![
            TLS,
            greeting(None),
            c("A1", CommandKind::Capability),
            caps(imap_caps(&["IMAP4rev1", "AUTH=PLAIN"])),
            s("A1", Status::Ok),
            c("A2", CommandKind::Starttls),
            s("A2", answer),
        ]
    };
    let config = Config::new(Protocol::Imap, Transport::Implicit).with_judged(Judged::Server);
    assert_fails(
        &observe(config.clone(), events(Status::Ok)),
        &Violation::StarttlsAcceptedOnImplicitTls,
    );
    assert_fails(
        &observe(config.clone(), events(Status::No)),
        &Violation::StarttlsOnImplicitTlsAnsweredNo,
    );
    assert_clean(&observe(config, events(Status::Bad)));
}

#[test]
fn stls_on_pop3s_is_a_nested_layer() {
    let observer = observe(
        Config::new(Protocol::Pop3, Transport::Implicit).with_judged(Judged::Server),
        [TLS, greeting(None), p(CommandKind::Starttls), r(Status::Ok)],
    );
    assert_fails(
        &observer,
        &Violation::StarttlsAcceptedWithTlsActive {
            protocol: Protocol::Pop3,
        },
    );
}

// ----- server: the upgrade itself -----

#[test]
fn plaintext_after_starttls_ok() {
    // Catalogue §2.2: S: A OK begin TLS / .. B OK you are logged in
    for injected in [
        Event::Plaintext(Party::Server),
        Event::Response(Response::Data),
    ] {
        let observer = observe(
            imap(),
            [
                greeting(None),
                c("A", CommandKind::Starttls),
                s("A", Status::Ok),
                injected,
            ],
        );
        assert_fails(
            &observer,
            &Violation::PlaintextAfterStarttlsOk {
                protocol: Protocol::Imap,
            },
        );
    }
}

#[test]
fn injected_capabilities_are_never_in_force() {
    // EAST B_1: `* CAPABILITY IMAP4REV1 AUTH=PLAIN` injected after the STARTTLS OK.
    let observer = observe(
        imap().with_judged(Judged::Client),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]))),
            c("1", CommandKind::Starttls),
            s("1", Status::Ok),
            caps(imap_caps(&["IMAP4rev1", "AUTH=PLAIN", "AUTH=LOGIN"])),
            TLS,
            c("2", CommandKind::Capability),
            c("3", auth("PLAIN")),
        ],
    );
    // The client asked for CAPABILITY and used PLAIN before the answer came: it used
    // the injected list.
    assert_fails(
        &observer,
        &Violation::StaleCapabilityUsedAfterTls {
            protocol: Protocol::Imap,
            capability: "AUTH=PLAIN".to_owned(),
        },
    );
}

#[test]
fn pipelined_command_executed_after_tls_imap() {
    // imap.server.starttls.pipelined-command-injection
    let events = |executed: bool| {
        let mut events = vec![
            greeting(None),
            c("A1", CommandKind::Starttls),
            Event::Command(Command::tagged("X7QZK", CommandKind::Noop).pipelined()),
            s("A1", Status::Ok),
            TLS,
        ];
        if executed {
            events.push(s("X7QZK", Status::Ok));
        }
        events.extend([c("A2", CommandKind::Noop), s("A2", Status::Ok)]);
        events
    };
    let config = imap().with_judged(Judged::Server);
    let observer = observe(config.clone(), events(true));
    assert_fails(
        &observer,
        &Violation::PipelinedCommandExecutedAfterTls {
            protocol: Protocol::Imap,
            tag: Some("X7QZK".to_owned()),
        },
    );
    // The harness's pipelining is recorded, not judged.
    assert_eq!(
        observer.findings()[0],
        Finding {
            violation: Violation::CommandPipelinedAfterStarttls {
                protocol: Protocol::Imap,
                same_write: true,
            },
            disposition: Disposition::Tolerated,
            event: 2,
        }
    );
    assert_eq!(
        observer.findings()[1].violation.rule().id,
        "rfc9051/6.2.1/discard-data-after-starttls"
    );
    // A server that threw the NOOP away only answers A2.
    let clean = observe(config, events(false));
    assert_eq!(clean.error(), None);
}

#[test]
fn pipelined_command_executed_after_tls_pop3() {
    // pop3.server.stls.pipelined-command-injection: C: STLS .. CAPA
    let observer = observe(
        pop3().with_judged(Judged::Server),
        [
            greeting(None),
            p(CommandKind::Starttls),
            Event::Command(Command::new(CommandKind::Capability).pipelined()),
            r(Status::Ok),
            TLS,
            capa(pop3_caps(&["TOP", "USER"], &[])),
        ],
    );
    let violation = Violation::PipelinedCommandExecutedAfterTls {
        protocol: Protocol::Pop3,
        tag: None,
    };
    assert_fails(&observer, &violation);
    assert_eq!(violation.level(), Level::Derived);
}

#[test]
fn refused_starttls_makes_pipelined_commands_ordinary() {
    let observer = observe(
        imap().with_judged(Judged::Server),
        [
            greeting(None),
            c("A1", CommandKind::Starttls),
            c("A2", CommandKind::Noop),
            s("A1", Status::No),
            s("A2", Status::Ok),
        ],
    );
    assert_eq!(observer.error(), None);
}

#[test]
fn authenticated_by_tls_alone() {
    // imap.server.starttls.stays-non-authenticated-after-tls
    let imap_trace = |select_status| {
        vec![
            greeting(None),
            c("A1", CommandKind::Starttls),
            s("A1", Status::Ok),
            TLS,
            c("A2", CommandKind::Select),
            s("A2", select_status),
        ]
    };
    let config = imap().with_judged(Judged::Server);
    assert_fails(
        &observe(config.clone(), imap_trace(Status::Ok)),
        &Violation::AuthenticatedByTlsAlone {
            protocol: Protocol::Imap,
            transport: Transport::Starttls,
            command: CommandKind::Select,
        },
    );
    assert_clean(&observe(config, imap_trace(Status::No)));

    // pop3s.server.authorization-state-with-client-cert
    let violation = Violation::AuthenticatedByTlsAlone {
        protocol: Protocol::Pop3,
        transport: Transport::Implicit,
        command: CommandKind::RequiresAuth,
    };
    assert_fails(
        &observe(
            Config::new(Protocol::Pop3, Transport::Implicit).with_judged(Judged::Server),
            [
                TLS,
                greeting(None),
                p(CommandKind::RequiresAuth),
                r(Status::Ok),
            ],
        ),
        &violation,
    );
    assert_eq!(violation.rule().clause, "RFC 8314 §3.1");
}

#[test]
fn imaps_preauth_is_authentication() {
    let observer = observe(
        Config::new(Protocol::Imap, Transport::Implicit),
        [
            TLS,
            Event::Response(Response::Greeting {
                status: GreetingStatus::Preauth,
                capabilities: None,
            }),
            c("A1", CommandKind::Select),
            s("A1", Status::Ok),
        ],
    );
    assert_clean(&observer);
}

#[test]
fn greeting_after_stls() {
    let observer = observe(
        pop3(),
        [
            greeting(None),
            p(CommandKind::Starttls),
            r(Status::Ok),
            TLS,
            greeting(None),
        ],
    );
    assert_fails(
        &observer,
        &Violation::GreetingAfterStarttls {
            protocol: Protocol::Pop3,
        },
    );
}

#[test]
fn acap_greeting_not_reissued() {
    let prefix = || {
        vec![
            greeting(Some(pop3_caps(&["STARTTLS"], &["CRAM-MD5"]))),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
        ]
    };
    let config = acap().with_judged(Judged::Server);
    for (tail, got) in [
        (
            vec![c("a2", auth("CRAM-MD5")), s("a2", Status::Ok)],
            "another response",
        ),
        (vec![Event::Timeout], "a timeout"),
        (vec![Event::TcpClosed(Party::Server)], "a TCP close"),
    ] {
        let mut events = prefix();
        events.extend(tail);
        assert_fails(
            &observe(config.clone(), events),
            &Violation::NoGreetingAfterAcapStarttls { got },
        );
    }
}

// ----- server: capability lists -----

#[test]
fn stls_listed_after_tls_or_outside_authorization() {
    let after_tls = observe(
        pop3(),
        [
            greeting(None),
            p(CommandKind::Starttls),
            r(Status::Ok),
            TLS,
            p(CommandKind::Capability),
            capa(pop3_caps(&["STLS", "USER"], &[])),
        ],
    );
    assert_fails(&after_tls, &Violation::StlsListedAfterTls);

    let in_transaction = observe(
        pop3().with_client_requiring_tls(false),
        [
            greeting(None),
            p(CommandKind::Apop),
            r(Status::Ok),
            p(CommandKind::Capability),
            capa(pop3_caps(&["STLS", "TOP"], &[])),
        ],
    );
    assert_fails(
        &in_transaction,
        &Violation::StlsListedOutsideAuthorization {
            state: Session::Pop3(Pop3State::Transaction),
        },
    );
}

#[test]
fn stls_without_capa() {
    for stls_first in [false, true] {
        let (first, second) = if stls_first {
            (
                [p(CommandKind::Starttls), r(Status::Ok), TLS],
                [p(CommandKind::Capability), r(Status::No), Event::Timeout],
            )
        } else {
            (
                [p(CommandKind::Capability), r(Status::No), Event::Timeout],
                [p(CommandKind::Starttls), r(Status::Ok), TLS],
            )
        };
        let mut events = vec![greeting(None)];
        events.extend(first);
        events.extend(second);
        assert_fails(&observe(pop3(), events), &Violation::StlsWithoutCapa);
    }
}

#[test]
fn starttls_advertised_after_tls_is_a_warning() {
    let observer = observe(
        imap(),
        [
            greeting(None),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
            c("a2", CommandKind::Capability),
            caps(imap_caps(&["IMAP4rev1", "STARTTLS"])),
        ],
    );
    assert_finding(
        &observer,
        &Violation::StarttlsAdvertisedAfterTls,
        Disposition::Warned,
    );
}

// ----- server: clear-text authentication -----

#[test]
fn logindisabled_not_advertised_by_a_refusing_server() {
    let trace = |atoms: &[&str]| {
        observe(
            imap().with_server_refusing_cleartext_auth(true),
            [greeting(Some(imap_caps(atoms)))],
        )
    };
    assert_fails(
        &trace(&["IMAP4rev1", "STARTTLS"]),
        &Violation::LoginDisabledNotAdvertised,
    );
    assert_clean(&trace(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]));
    // Without the profile, allowing LOGIN is the server's choice.
    assert_clean(&observe(
        imap(),
        [greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS"])))],
    ));
}

#[test]
fn login_answered_despite_logindisabled() {
    let trace = |answer| {
        observe(
            imap().with_judged(Judged::Server),
            [
                greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]))),
                c("A1", CommandKind::Login),
                s("A1", answer),
            ],
        )
    };
    assert_fails(
        &trace(Status::Ok),
        &Violation::LoginAcceptedDespiteLoginDisabled,
    );
    assert_finding(
        &trace(Status::Bad),
        &Violation::LoginDisabledAnsweredWithBad,
        Disposition::Warned,
    );
    assert_clean(&trace(Status::No));
}

#[test]
fn logindisabled_before_tls_does_not_apply_inside_tls() {
    let observer = observe(
        imap(),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]))),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
            c("a2", CommandKind::Capability),
            caps(imap_caps(&["IMAP4rev1"])),
            s("a2", Status::Ok),
            c("a3", CommandKind::Login),
            s("a3", Status::Ok),
        ],
    );
    assert_clean(&observer);
}

#[test]
fn plain_advertised_in_cleartext() {
    for (config, greeting_caps) in [
        (imap(), imap_caps(&["IMAP4rev1", "STARTTLS", "AUTH=PLAIN"])),
        (pop3(), pop3_caps(&["STLS"], &["PLAIN"])),
        (acap(), pop3_caps(&["STARTTLS"], &["PLAIN"])),
    ] {
        let protocol = config.protocol;
        assert_fails(
            &observe(config.clone(), [greeting(Some(greeting_caps.clone()))]),
            &Violation::PlainAdvertisedInCleartext { protocol },
        );
        // "... or backwards compatibility dictates otherwise."
        assert_clean(&observe(
            config.with_backwards_compatible_plain(true),
            [greeting(Some(greeting_caps))],
        ));
    }
}

#[test]
fn plain_accepted_in_cleartext() {
    let observer = observe(
        imap().with_judged(Judged::Server),
        [
            greeting(None),
            Event::Command(Command::tagged(
                "A2",
                CommandKind::Authenticate {
                    mechanism: "plain".to_owned(),
                    initial_response: true,
                },
            )),
            s("A2", Status::Ok),
        ],
    );
    assert_fails(
        &observer,
        &Violation::PlainAcceptedInCleartext {
            protocol: Protocol::Imap,
        },
    );
}

#[test]
fn cleartext_login_accepted_by_a_refusing_server() {
    let config = imap()
        .with_judged(Judged::Server)
        .with_server_refusing_cleartext_auth(true);
    for kind in [CommandKind::Login, auth("LOGIN")] {
        let observer = observe(
            config.clone(),
            [greeting(None), c("A1", kind.clone()), s("A1", Status::Ok)],
        );
        assert_fails(
            &observer,
            &Violation::CleartextLoginAccepted { command: kind },
        );
    }
}

#[test]
fn pop3_user_accepted_then_pass_accepted_by_a_refusing_server() {
    let observer = observe(
        pop3()
            .with_judged(Judged::Server)
            .with_server_refusing_cleartext_auth(true),
        [
            greeting(None),
            p(CommandKind::User),
            r(Status::Ok),
            p(CommandKind::Pass),
            r(Status::Ok),
        ],
    );
    assert!(observer.findings().iter().any(|f| {
        f.violation == Violation::CleartextUserAccepted && f.disposition == Disposition::Warned
    }));
    assert_fails(
        &observer,
        &Violation::CleartextLoginAccepted {
            command: CommandKind::Pass,
        },
    );
}

#[test]
fn pre_tls_user_kept_after_tls() {
    // pop3.server.stls.pending-user-reset
    let observer = observe(
        pop3().with_judged(Judged::Server),
        [
            greeting(None),
            p(CommandKind::User),
            r(Status::Ok),
            p(CommandKind::Starttls),
            r(Status::Ok),
            TLS,
            p(CommandKind::Pass),
            r(Status::Ok),
        ],
    );
    assert_finding(
        &observer,
        &Violation::PreTlsUserKeptAfterTls,
        Disposition::Warned,
    );
}

#[test]
fn preauth_in_cleartext() {
    let preauth = Event::Response(Response::Greeting {
        status: GreetingStatus::Preauth,
        capabilities: Some(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"])),
    });
    let observer = observe(imap(), [preauth.clone()]);
    assert_finding(
        &observer,
        &Violation::PreauthOnPlaintext,
        Disposition::Warned,
    );

    // imap.client.preauth.abort: a client requiring TLS must close.
    let continued = observe(
        imap().with_judged(Judged::Client),
        [preauth.clone(), c("a1", CommandKind::Select)],
    );
    assert_fails(
        &continued,
        &Violation::ContinuedAfterPlaintextPreauth {
            command: CommandKind::Select,
        },
    );
    let closed = observe(
        imap().with_judged(Judged::Client),
        [preauth, Event::TcpClosed(Party::Client)],
    );
    assert_eq!(closed.error(), None);
}

#[test]
fn server_plaintext_before_implicit_handshake() {
    for protocol in Protocol::ALL {
        let observer = observe(Config::new(protocol, Transport::Implicit), [greeting(None)]);
        assert_fails(
            &observer,
            &Violation::ServerPlaintextBeforeHandshake { protocol },
        );
    }
}

// ----- client -----

#[test]
fn client_plaintext_before_implicit_handshake() {
    let observer = observe(
        Config::new(Protocol::Pop3, Transport::Implicit),
        [p(CommandKind::Capability)],
    );
    assert_fails(
        &observer,
        &Violation::ClientPlaintextBeforeHandshake {
            protocol: Protocol::Pop3,
        },
    );
}

#[test]
fn command_pipelined_after_starttls() {
    // imap.client.starttls.no-pipelining, both before the OK and between the OK and the
    // handshake.
    for after_ok in [false, true] {
        let mut events = vec![greeting(None), c("a1", CommandKind::Starttls)];
        if after_ok {
            events.push(s("a1", Status::Ok));
        }
        events.push(c("a2", CommandKind::Login));
        assert_fails(
            &observe(imap(), events),
            &Violation::CommandPipelinedAfterStarttls {
                protocol: Protocol::Imap,
                same_write: false,
            },
        );
    }
    // Commands pipelined *before* STARTTLS are fine (the positive control).
    let observer = observe(
        imap(),
        [
            greeting(None),
            c("A1", CommandKind::Noop),
            Event::Command(Command::tagged("A2", CommandKind::Starttls).pipelined()),
            s("A1", Status::Ok),
            s("A2", Status::Ok),
            TLS,
        ],
    );
    assert_clean(&observer);
}

#[test]
fn stale_capability_used_after_tls() {
    // imap.client.caps.discard-and-reissue (MailKit GHSA-9j88-vvj5-vhgr)
    let observer = observe(
        imap().with_judged(Judged::Client),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS", "AUTH=PLAIN"]))),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
            c("a2", CommandKind::Capability),
            caps(imap_caps(&["IMAP4rev1", "AUTH=SCRAM-SHA-256"])),
            s("a2", Status::Ok),
            c("a3", auth("PLAIN")),
        ],
    );
    assert_fails(
        &observer,
        &Violation::StaleCapabilityUsedAfterTls {
            protocol: Protocol::Imap,
            capability: "AUTH=PLAIN".to_owned(),
        },
    );

    // pop3.client.caps.discard-and-reissue: USER was only listed before TLS.
    let observer = observe(
        pop3().with_judged(Judged::Client),
        [
            greeting(None),
            p(CommandKind::Capability),
            capa(pop3_caps(&["STLS", "USER"], &["PLAIN"])),
            p(CommandKind::Starttls),
            r(Status::Ok),
            TLS,
            p(CommandKind::Capability),
            capa(pop3_caps(&[], &["SCRAM-SHA-256"])),
            p(CommandKind::User),
        ],
    );
    assert_fails(
        &observer,
        &Violation::StaleCapabilityUsedAfterTls {
            protocol: Protocol::Pop3,
            capability: "USER".to_owned(),
        },
    );

    // acap.client.uses-reissued-greeting: PLAIN only in the plaintext greeting.
    let observer = observe(
        acap().with_judged(Judged::Client),
        [
            greeting(Some(pop3_caps(&["STARTTLS"], &["CRAM-MD5", "PLAIN"]))),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
            greeting(Some(pop3_caps(&[], &["SCRAM-SHA-256"]))),
            c("a2", auth("PLAIN")),
        ],
    );
    assert_fails(
        &observer,
        &Violation::StaleCapabilityUsedAfterTls {
            protocol: Protocol::Acap,
            capability: "SASL PLAIN".to_owned(),
        },
    );
}

#[test]
fn capability_not_reissued_is_a_warning() {
    let observer = observe(
        imap(),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]))),
            c("a1", CommandKind::Starttls),
            s("a1", Status::Ok),
            TLS,
            c("a2", CommandKind::Login),
            s("a2", Status::Ok),
            c("a3", CommandKind::Select),
        ],
    );
    assert_finding(
        &observer,
        &Violation::CapabilityNotReissuedAfterTls {
            protocol: Protocol::Imap,
            command: CommandKind::Login,
        },
        Disposition::Warned,
    );
    assert_eq!(observer.warnings().count(), 1, "warned once");
}

#[test]
fn login_sent_despite_logindisabled() {
    // imap.client.logindisabled.respected, in the opportunistic profile (any profile).
    let observer = observe(
        imap().with_client_requiring_tls(false),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "LOGINDISABLED"]))),
            c("a1", CommandKind::Login),
        ],
    );
    assert_fails(&observer, &Violation::LoginSentDespiteLoginDisabled);
}

#[test]
fn plain_used_in_cleartext() {
    let observer = observe(
        imap().with_client_requiring_tls(false),
        [
            greeting(Some(imap_caps(&["IMAP4rev1"]))),
            c("a1", auth("PLAIN")),
        ],
    );
    assert_fails(
        &observer,
        &Violation::PlainUsedInCleartext {
            protocol: Protocol::Imap,
        },
    );
}

#[test]
fn operation_before_tls_for_a_client_requiring_tls() {
    let observer = observe(
        imap(),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS"]))),
            c("a1", CommandKind::Capability),
            c("a2", CommandKind::Noop),
            c("a3", CommandKind::Other),
        ],
    );
    assert_fails(
        &observer,
        &Violation::OperationBeforeTls {
            command: CommandKind::Other,
        },
    );
}

#[test]
fn opportunistic_authentication_is_information() {
    let observer = observe(
        pop3().with_client_requiring_tls(false),
        [greeting(None), p(CommandKind::User), r(Status::Ok)],
    );
    let violation = Violation::AuthenticatedWithoutTls {
        command: CommandKind::User,
    };
    assert_finding(&observer, &violation, Disposition::Warned);
    assert_eq!(violation.level(), Level::May);
}

#[test]
fn starttls_sent_with_tls_active() {
    let observer = observe(
        Config::new(Protocol::Imap, Transport::Implicit).with_judged(Judged::Client),
        [
            TLS,
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS"]))),
            c("a1", CommandKind::Starttls),
        ],
    );
    assert_fails(
        &observer,
        &Violation::StarttlsSentWithTlsActive {
            protocol: Protocol::Imap,
        },
    );
}

#[test]
fn tls_started_without_starttls_ok() {
    // imap.client.early-tagged-ok: a handshake while STARTTLS is still unanswered.
    let observer = observe(
        imap(),
        [greeting(None), c("a1", CommandKind::Starttls), TLS],
    );
    assert_fails(
        &observer,
        &Violation::TlsStartedWithoutStarttlsOk {
            protocol: Protocol::Imap,
        },
    );
}

// ----- either party -----

#[test]
fn plaintext_after_tls_failure() {
    let prefix = || {
        vec![
            greeting(None),
            c("A1", CommandKind::Starttls),
            s("A1", Status::Ok),
            Event::TlsHandshakeFailed,
        ]
    };
    let mut client = prefix();
    client.push(c("A2", CommandKind::Login));
    assert_fails(
        &observe(imap(), client),
        &Violation::PlaintextAfterTlsFailure { by: Party::Client },
    );
    let mut server = prefix();
    server.push(Event::Plaintext(Party::Server));
    assert_fails(
        &observe(imap(), server),
        &Violation::PlaintextAfterTlsFailure { by: Party::Server },
    );
    let mut closes = prefix();
    closes.push(Event::TcpClosed(Party::Client));
    assert_clean(&observe(imap(), closes));
}

#[test]
fn plaintext_after_tls_closed_in_privacy_mode() {
    // imap.server.privacy-mode.tls-deactivated-terminates
    let observer = observe(
        imap()
            .with_judged(Judged::Server)
            .with_server_refusing_cleartext_auth(true),
        [
            greeting(Some(imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]))),
            c("A1", CommandKind::Starttls),
            s("A1", Status::Ok),
            TLS,
            c("A2", CommandKind::Login),
            s("A2", Status::Ok),
            Event::CloseNotify(Party::Client),
            c("A3", CommandKind::Select),
            s("A3", Status::Ok),
        ],
    );
    assert_finding(
        &observer,
        &Violation::PlaintextAfterTlsClosed { by: Party::Server },
        Disposition::Warned,
    );
    assert_finding(
        &observer,
        &Violation::PlaintextAfterTlsClosed { by: Party::Client },
        Disposition::Tolerated,
    );
}

#[test]
fn no_close_notify_is_a_warning() {
    let observer = observe(
        Config::new(Protocol::Pop3, Transport::Implicit),
        [
            TLS,
            greeting(None),
            p(CommandKind::Logout),
            r(Status::Ok),
            Event::TcpClosed(Party::Server),
        ],
    );
    assert_finding(
        &observer,
        &Violation::NoCloseNotify { by: Party::Server },
        Disposition::Warned,
    );
    assert_eq!(observer.state().unwrap().tls(), Tls::Closed);
}

// ----- capabilities -----

#[test]
fn pre_tls_capabilities_are_void_after_the_handshake() {
    let mut observer = Observer::new(imap());
    let pre = imap_caps(&["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]);
    for event in [
        greeting(Some(pre.clone())),
        c("a1", CommandKind::Starttls),
        s("a1", Status::Ok),
    ] {
        observer.handle(event).unwrap();
    }
    assert_eq!(observer.capabilities(), Some(&pre));
    observer.handle(TLS).unwrap();
    assert_eq!(observer.capabilities(), None);
    let remembered = observer.state().unwrap().pre_tls_capabilities();
    assert!(remembered.names().eq(pre.names()));
    assert!(remembered.sasl_mechanisms().eq(pre.sasl_mechanisms()));
    let post = imap_caps(&["IMAP4rev1", "AUTH=PLAIN"]);
    observer.handle(c("a2", CommandKind::Capability)).unwrap();
    observer.handle(caps(post.clone())).unwrap();
    assert_eq!(observer.capabilities(), Some(&post));
    observer.handle(Event::CloseNotify(Party::Server)).unwrap();
    assert_eq!(observer.capabilities(), None);
}

// ----- the rule table -----

/// One violation per variant and per protocol/party that selects a different rule.
fn sample_violations() -> Vec<Violation> {
    let mut all = Vec::new();
    for protocol in Protocol::ALL {
        all.extend([
            Violation::StarttlsAcceptedWhenAuthenticated {
                protocol,
                state: Session::initial(protocol),
            },
            Violation::StarttlsAcceptedWithTlsActive { protocol },
            Violation::PlaintextAfterStarttlsOk { protocol },
            Violation::PipelinedCommandExecutedAfterTls {
                protocol,
                tag: None,
            },
            Violation::GreetingAfterStarttls { protocol },
            Violation::PlainAdvertisedInCleartext { protocol },
            Violation::PlainAcceptedInCleartext { protocol },
            Violation::ServerPlaintextBeforeHandshake { protocol },
            Violation::CommandPipelinedAfterStarttls {
                protocol,
                same_write: true,
            },
            Violation::ClientPlaintextBeforeHandshake { protocol },
            Violation::StaleCapabilityUsedAfterTls {
                protocol,
                capability: "USER".to_owned(),
            },
            Violation::CapabilityNotReissuedAfterTls {
                protocol,
                command: CommandKind::Login,
            },
            Violation::PlainUsedInCleartext { protocol },
            Violation::StarttlsSentWithTlsActive { protocol },
            Violation::TlsStartedWithoutStarttlsOk { protocol },
        ]);
        for transport in [Transport::Starttls, Transport::Implicit] {
            all.push(Violation::AuthenticatedByTlsAlone {
                protocol,
                transport,
                command: CommandKind::Select,
            });
        }
    }
    for by in [Party::Client, Party::Server] {
        all.extend([
            Violation::PlaintextAfterTlsFailure { by },
            Violation::PlaintextAfterTlsClosed { by },
            Violation::NoCloseNotify { by },
        ]);
    }
    let state = Session::Pop3(Pop3State::Transaction);
    all.extend([
        Violation::StlsAcceptedOutsideAuthorization { state },
        Violation::StarttlsAcceptedOnImplicitTls,
        Violation::StarttlsOnImplicitTlsAnsweredNo,
        Violation::NoGreetingAfterAcapStarttls { got: "a timeout" },
        Violation::StarttlsAdvertisedAfterTls,
        Violation::StlsListedAfterTls,
        Violation::StlsListedOutsideAuthorization { state },
        Violation::StlsWithoutCapa,
        Violation::LoginDisabledNotAdvertised,
        Violation::LoginAcceptedDespiteLoginDisabled,
        Violation::LoginDisabledAnsweredWithBad,
        Violation::CleartextLoginAccepted {
            command: CommandKind::Pass,
        },
        Violation::CleartextUserAccepted,
        Violation::PreTlsUserKeptAfterTls,
        Violation::PreauthOnPlaintext,
        Violation::LoginSentDespiteLoginDisabled,
        Violation::OperationBeforeTls {
            command: CommandKind::Other,
        },
        Violation::AuthenticatedWithoutTls {
            command: CommandKind::Login,
        },
        Violation::ContinuedAfterPlaintextPreauth {
            command: CommandKind::Select,
        },
    ]);
    all
}

#[test]
fn every_rule_is_reachable_and_every_violation_has_a_listed_rule() {
    let samples = sample_violations();
    for violation in &samples {
        let rule = violation.rule();
        assert!(
            RULES.iter().any(|listed| std::ptr::eq(*listed, rule)),
            "{violation:?} maps to an unlisted rule {}",
            rule.id
        );
    }
    for rule in RULES {
        assert!(
            samples.iter().any(|v| std::ptr::eq(v.rule(), *rule)),
            "no violation reaches {}",
            rule.id
        );
    }
}

#[test]
fn rules_are_well_formed() {
    let mut ids = std::collections::BTreeSet::new();
    for rule in RULES {
        assert!(ids.insert(rule.id), "duplicate id {}", rule.id);
        // "RFC 2595 §3.1" <-> "https://www.rfc-editor.org/rfc/rfc2595#section-3.1"
        let (rfc, section) = rule
            .clause
            .strip_prefix("RFC ")
            .and_then(|rest| rest.split_once(" §"))
            .unwrap_or_else(|| panic!("clause {}", rule.clause));
        assert_eq!(
            rule.url,
            format!("https://www.rfc-editor.org/rfc/rfc{rfc}#section-{section}"),
            "{}",
            rule.id
        );
        assert!(
            rule.id.starts_with(&format!("rfc{rfc}/{section}/")),
            "{} does not match {}",
            rule.id,
            rule.clause
        );
        assert!(!rule.quote.is_empty());
        // Key-word levels quote their key word (DERIVED and the sentences the catalogue
        // reads as MUST are exempt).
        let keyword = match rule.level {
            Level::MustNot => Some("MUST NOT"),
            Level::Should => Some("SHOULD"),
            Level::ShouldNot => Some("SHOULD NOT"),
            Level::May => Some("MAY"),
            Level::Must | Level::Derived => None,
        };
        if let Some(keyword) = keyword
            && !rule.id.ends_with("-early")
            && !rule.id.ends_with("-with-no")
            && !rule.id.ends_with("user-forgotten")
        {
            assert!(rule.quote.contains(keyword), "{} lacks {keyword}", rule.id);
        }
    }
}

#[test]
fn every_display_reads_got_when_expecting() {
    for violation in sample_violations() {
        let text = violation.to_string();
        assert!(
            text.starts_with("got ") && text.contains(" when expecting "),
            "{text}"
        );
    }
}

#[test]
fn acap_rules_are_marked_from_memory() {
    for rule in RULES.iter().filter(|rule| rule.clause == "RFC 2595 §5.1") {
        assert!(rule.from_memory, "{}", rule.id);
    }
}
