//! Properties of the STARTTLS/STLS model (`mailtls::model`) over random event sequences:
//! the model never allows a transition a rule forbids (checked against the fuzz target's
//! naive oracle and against direct reconstructions below), errors are sticky, pre-TLS
//! capabilities are never in force after the handshake, conformant sessions stay clean,
//! and no sequence panics.

use mailtls::internal::fuzzing::fuzz_starttls_model;
use mailtls::model::{
    CapabilityBits, Config, Disposition, GreetingStatus, Judged, Observer, Party, Phase, Protocol,
    Script, Status, Step, StepCommand, Transport, Violation,
};
use proptest::option;
use proptest::prelude::*;

// ----- strategies -----

fn config() -> impl Strategy<Value = Config> {
    // Every header byte is a valid configuration (see the Script byte format).
    any::<u8>().prop_map(|header| Script::decode(&[header]).config)
}

fn command() -> impl Strategy<Value = StepCommand> {
    prop_oneof![
        4 => Just(StepCommand::Starttls),
        2 => Just(StepCommand::Capability),
        1 => Just(StepCommand::Login),
        1 => Just(StepCommand::User),
        1 => Just(StepCommand::Pass),
        1 => Just(StepCommand::Apop),
        2 => (0u8..5, any::<bool>()).prop_map(|(mechanism, initial_response)| {
            StepCommand::Authenticate { mechanism, initial_response }
        }),
        1 => Just(StepCommand::Select),
        1 => Just(StepCommand::RequiresAuth),
        1 => Just(StepCommand::Logout),
        1 => Just(StepCommand::Noop),
        1 => Just(StepCommand::Other),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![3 => Just(Status::Ok), 1 => Just(Status::No), 1 => Just(Status::Bad)]
}

fn party() -> impl Strategy<Value = Party> {
    prop_oneof![Just(Party::Client), Just(Party::Server)]
}

fn caps() -> impl Strategy<Value = CapabilityBits> {
    any::<u8>().prop_map(CapabilityBits)
}

/// Steps biased towards sessions that mean something: few tags (so completions match
/// commands), many STARTTLS, completions and handshakes.
fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (command(), 0u8..3, prop::bool::weighted(0.15)).prop_map(|(command, tag, pipelined)| {
            Step::Command { command, tag, pipelined }
        }),
        2 => (
            prop_oneof![4 => Just(GreetingStatus::Ok), 1 => Just(GreetingStatus::Preauth), 1 => Just(GreetingStatus::Bye)],
            option::of(caps()),
        )
            .prop_map(|(status, caps)| Step::Greeting { status, caps }),
        2 => caps().prop_map(Step::Capabilities),
        8 => (option::weighted(0.9, 0u8..3), status(), option::weighted(0.2, caps()))
            .prop_map(|(tag, status, caps)| Step::Completion { tag, status, caps }),
        1 => Just(Step::Continuation),
        1 => Just(Step::Bye),
        1 => Just(Step::Data),
        1 => Just(Step::ClientContinuation),
        1 => party().prop_map(Step::Plaintext),
        4 => Just(Step::HandshakeCompleted),
        1 => Just(Step::HandshakeFailed),
        1 => party().prop_map(Step::CloseNotify),
        1 => party().prop_map(Step::TcpClosed),
        1 => Just(Step::Timeout),
    ]
}

fn script() -> impl Strategy<Value = Script> {
    (config(), prop::collection::vec(step(), 0..60))
        .prop_map(|(config, steps)| Script { config, steps })
}

// ----- conformant sessions -----

/// A conformant STARTTLS session for `protocol`, varied by the parameters: optional
/// capability discovery before STARTTLS, NOOPs, the post-TLS capability list, and the
/// mechanism chosen from it.
fn conformant(
    protocol: Protocol,
    discover_first: bool,
    noops: usize,
    post_sasl: u8,
    pick: usize,
    refuses: bool,
) -> Script {
    use CapabilityBits as B;
    let sasl_bits = [B::PLAIN, B::LOGIN, B::EXTERNAL, B::SCRAM, B::CRAM];
    // Mechanism index in the Step format for each SASL bit.
    let mechanism_of = |bit: u8| {
        sasl_bits
            .iter()
            .position(|b| *b == bit)
            .and_then(|i| u8::try_from(i).ok())
    };
    let pop3 = protocol == Protocol::Pop3;
    let tagged = |n: usize| u8::try_from(n % 8).unwrap_or(0);
    let answer = |tag: u8| Step::Completion {
        tag: (!pop3).then_some(tag),
        status: Status::Ok,
        caps: None,
    };
    let pre = B::STARTTLS | B::LOGINDISABLED | B::SCRAM;
    let mut post = post_sasl & (B::PLAIN | B::LOGIN | B::EXTERNAL | B::SCRAM | B::CRAM);
    if protocol == Protocol::Acap && post == 0 {
        post = B::SCRAM;
    }
    let mut steps = vec![Step::Greeting {
        status: GreetingStatus::Ok,
        caps: (protocol != Protocol::Pop3).then_some(CapabilityBits(pre)),
    }];
    let mut n = 0;
    let command = |steps: &mut Vec<Step>, command: StepCommand, n: &mut usize| {
        let tag = tagged(*n);
        *n += 1;
        steps.push(Step::Command {
            command,
            tag,
            pipelined: false,
        });
        tag
    };
    if discover_first && protocol != Protocol::Acap {
        let tag = command(&mut steps, StepCommand::Capability, &mut n);
        if pop3 {
            steps.push(Step::Completion {
                tag: None,
                status: Status::Ok,
                caps: Some(CapabilityBits(B::STARTTLS | B::SCRAM)),
            });
        } else {
            steps.push(Step::Capabilities(CapabilityBits(pre)));
            steps.push(answer(tag));
        }
    }
    for _ in 0..noops {
        let tag = command(&mut steps, StepCommand::Noop, &mut n);
        steps.push(answer(tag));
    }
    let tag = command(&mut steps, StepCommand::Starttls, &mut n);
    steps.push(answer(tag));
    steps.push(Step::HandshakeCompleted);
    match protocol {
        Protocol::Acap => steps.push(Step::Greeting {
            status: GreetingStatus::Ok,
            caps: Some(CapabilityBits(post)),
        }),
        Protocol::Pop3 => {
            command(&mut steps, StepCommand::Capability, &mut n);
            steps.push(Step::Completion {
                tag: None,
                status: Status::Ok,
                caps: Some(CapabilityBits(post | B::USER)),
            });
        }
        Protocol::Imap => {
            let tag = command(&mut steps, StepCommand::Capability, &mut n);
            steps.push(Step::Capabilities(CapabilityBits(post | B::USER)));
            steps.push(answer(tag));
        }
    }
    let offered: Vec<u8> = sasl_bits
        .iter()
        .copied()
        .filter(|bit| post & bit != 0)
        .collect();
    match offered
        .get(pick % offered.len().max(1))
        .and_then(|bit| mechanism_of(*bit))
    {
        Some(mechanism) => {
            let tag = command(
                &mut steps,
                StepCommand::Authenticate {
                    mechanism,
                    initial_response: pick % 2 == 0,
                },
                &mut n,
            );
            steps.push(answer(tag));
        }
        None if pop3 => {
            for step in [StepCommand::User, StepCommand::Pass] {
                command(&mut steps, step, &mut n);
                steps.push(answer(0));
            }
        }
        None => {
            let tag = command(&mut steps, StepCommand::Login, &mut n);
            steps.push(answer(tag));
        }
    }
    let select = if pop3 {
        StepCommand::RequiresAuth
    } else {
        StepCommand::Select
    };
    let tag = command(&mut steps, select, &mut n);
    steps.push(answer(tag));
    let tag = command(&mut steps, StepCommand::Logout, &mut n);
    if !pop3 {
        steps.push(Step::Bye);
    }
    steps.push(answer(tag));
    steps.extend([
        Step::CloseNotify(Party::Client),
        Step::CloseNotify(Party::Server),
        Step::TcpClosed(Party::Client),
    ]);
    Script {
        config: Config::new(protocol, Transport::Starttls)
            .with_server_refusing_cleartext_auth(refuses),
        steps,
    }
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Imap),
        Just(Protocol::Pop3),
        Just(Protocol::Acap)
    ]
}

proptest! {
    /// No byte string panics, and the naive oracle of the fuzz target agrees with the
    /// model on every step.
    #[test]
    fn no_byte_string_panics_and_the_oracle_agrees(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        fuzz_starttls_model(&bytes);
    }

    /// The same over structured sequences, where STARTTLS gets answered, tags match and
    /// handshakes happen: the model fires the watched rules exactly when the oracle does.
    #[test]
    fn structured_sequences_agree_with_the_oracle(script in script()) {
        fuzz_starttls_model(&script.encode());
    }

    #[test]
    fn scripts_round_trip(script in script()) {
        prop_assert_eq!(Script::decode(&script.encode()), script);
    }

    /// rustls's `client_error_is_sticky`, for every sequence: after the first `Err`
    /// every event returns the same `Err`, and nothing more is recorded.
    #[test]
    fn errors_are_sticky(script in script()) {
        let mut observer = Observer::new(script.config.clone());
        let mut first: Option<(Violation, usize)> = None;
        for event in script.events(script.config.protocol) {
            let result = observer.handle(event);
            match &first {
                Some((error, findings)) => {
                    prop_assert_eq!(result.as_ref(), Err(error));
                    prop_assert_eq!(observer.findings().len(), *findings);
                    prop_assert!(observer.state().is_err());
                }
                None => {
                    if let Err(error) = result {
                        prop_assert_eq!(observer.error(), Some(&error));
                        first = Some((error, observer.findings().len()));
                    }
                }
            }
        }
    }

    /// TLS is never active without a handshake event since the last close, and after
    /// a handshake only capabilities heard inside that layer are in force.
    #[test]
    fn no_tls_without_handshake_and_no_stale_capabilities(script in script()) {
        let protocol = script.config.protocol;
        let mut observer = Observer::new(script.config.clone());
        // The first handshake since TLS was last closed: capabilities in force must have
        // been heard after it. (Which later handshakes counted is the fuzz oracle's job.)
        let mut tls_began = None;
        for (index, step) in script.steps.iter().enumerate() {
            let _ = observer.handle(step.to_event(protocol));
            match step {
                Step::HandshakeCompleted if tls_began.is_none() => tls_began = Some(index),
                Step::CloseNotify(_) | Step::TcpClosed(_) => tls_began = None,
                _ => {}
            }
            if !observer.tls_active() {
                continue;
            }
            let Some(since) = tls_began else {
                return Err(TestCaseError::fail(format!("TLS active at step {index} without a handshake")));
            };
            if let Some(in_force) = observer.capabilities() {
                let heard_inside = script.steps[since..=index].iter().any(|step| {
                    let bits = match *step {
                        Step::Greeting { caps, .. } | Step::Completion { caps, .. } => caps,
                        Step::Capabilities(bits) => Some(bits),
                        _ => None,
                    };
                    bits.is_some_and(|bits| bits.to_capabilities(protocol) == *in_force)
                });
                prop_assert!(heard_inside, "capabilities in force at step {} were not heard inside TLS", index);
            }
        }
    }

    /// A party that is not judged never fails the run, and a judged party's SHOULD never
    /// does either.
    #[test]
    fn only_judged_musts_fail(script in script()) {
        let observer = script.observe();
        for finding in observer.findings() {
            let rule = finding.violation.rule();
            if finding.disposition == Disposition::Failed {
                let judged = match script.config.judged {
                    Judged::Client => rule.party == Party::Client,
                    Judged::Server => rule.party == Party::Server,
                    Judged::Both => true,
                };
                prop_assert!(judged, "{:?} failed but its party is not judged", finding);
                prop_assert!(rule.level.is_fatal());
            }
        }
        // Only the event that set the sticky error can hold failures.
        let failed: Vec<_> = observer
            .findings()
            .iter()
            .filter(|f| f.disposition == Disposition::Failed)
            .collect();
        if let Some(first) = failed.first() {
            prop_assert!(failed.iter().all(|f| f.event == first.event));
            prop_assert_eq!(observer.error(), Some(&first.violation));
        } else {
            prop_assert_eq!(observer.error(), None);
        }
    }

    /// STARTTLS accepted after any successful authentication (or PREAUTH) is always
    /// flagged, and never flagged otherwise: reconstructed from a plain list of
    /// answered commands, independent of the model's state names.
    #[test]
    fn starttls_accepted_outside_non_authenticated_is_always_flagged(
        protocol in protocol(),
        preauth in prop::bool::weighted(0.2),
        exchanges in prop::collection::vec((command(), status()), 0..6),
    ) {
        let config = Config::new(protocol, Transport::Starttls)
            .with_judged(Judged::Server)
            .with_backwards_compatible_plain(true);
        let mut steps = vec![Step::Greeting {
            status: if preauth { GreetingStatus::Preauth } else { GreetingStatus::Ok },
            caps: None,
        }];
        let mut authenticated = preauth && protocol == Protocol::Imap;
        for (index, (command, status)) in exchanges.into_iter().enumerate() {
            if command == StepCommand::Starttls {
                continue;
            }
            let tag = u8::try_from(index).unwrap_or(0) + 1;
            steps.push(Step::Command { command, tag, pipelined: false });
            steps.push(Step::Completion { tag: Some(tag), status, caps: None });
            let authenticates = matches!(
                command,
                StepCommand::Login | StepCommand::Pass | StepCommand::Apop
                    | StepCommand::Authenticate { .. } | StepCommand::Select | StepCommand::RequiresAuth
            ) || (command == StepCommand::Logout && protocol != Protocol::Pop3);
            authenticated |= authenticates && status == Status::Ok;
        }
        steps.push(Step::Command { command: StepCommand::Starttls, tag: 0, pipelined: false });
        steps.push(Step::Completion { tag: Some(0), status: Status::Ok, caps: None });
        let observer = Script { config, steps }.observe();
        let flagged = observer.findings().iter().any(|f| {
            matches!(
                f.violation,
                Violation::StarttlsAcceptedWhenAuthenticated { .. }
                    | Violation::StlsAcceptedOutsideAuthorization { .. }
            )
        });
        prop_assert_eq!(flagged, authenticated, "{:#?}", observer.findings());
        // The only other server failure these traces can show is POP3 STLS after a
        // refused CAPA (RFC 2595 §4).
        let other = observer.error().filter(|error| {
            !matches!(
                error,
                Violation::StarttlsAcceptedWhenAuthenticated { .. }
                    | Violation::StlsAcceptedOutsideAuthorization { .. }
                    | Violation::StlsWithoutCapa
            )
        });
        prop_assert_eq!(other, None);
        if observer.error().is_none() {
            prop_assert_eq!(observer.state().map(|s| s.phase()).ok(), Some(Phase::ExpectTlsHandshake));
        }
    }

    /// Conformant sessions, however varied, give no failure and no warning.
    #[test]
    fn conformant_sessions_are_clean(
        protocol in protocol(),
        discover_first in any::<bool>(),
        noops in 0usize..3,
        post_sasl in any::<u8>(),
        pick in any::<usize>(),
        refuses in any::<bool>(),
    ) {
        let script = conformant(protocol, discover_first, noops, post_sasl, pick, refuses);
        let observer = script.observe();
        prop_assert!(observer.findings().is_empty(), "{:#?}\n{:#?}", script, observer.findings());
        fuzz_starttls_model(&script.encode());
    }
}
