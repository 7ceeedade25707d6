//! Fuzz entry point for the `starttls_model` target.
//!
//! The input is a [`Script`] (see `mailtls::model::Script` for the byte format: one
//! header byte, then steps of one opcode byte and up to three parameter bytes), decoded
//! with `arbitrary`. The same steps run through an [`Observer`] once per protocol (IMAP,
//! POP3, ACAP) under the header's transport, judged party and profiles, and after every
//! event the run asserts:
//!
//! * errors are sticky: once `handle` returns `Err(e)`, every later call returns `Err(e)`
//!   and records nothing; `error()` is the first `Failed` finding;
//! * every finding's disposition follows from its rule's party and level and the judged
//!   party;
//! * a naive oracle, recomputed from the steps with a handful of booleans, agrees with the
//!   model on TLS being active (never without a handshake event), on the capabilities in
//!   force (never a pre-TLS list after the handshake), on the session having left the
//!   non-authenticated state, on the waiting phase, and on exactly when six rules fire:
//!   STARTTLS accepted outside the non-authenticated state, a client command after
//!   STARTTLS, PLAIN used in cleartext, plaintext after the STARTTLS OK, and plaintext
//!   before the implicit-TLS handshake (both parties).

use crate::model::{
    CapabilityBits, Config, Disposition, Event, GreetingStatus, Judged, Level, Observer, Party,
    Phase, Protocol, Rule, Script, Status, Step, StepCommand, Transport, Violation,
};

/// Runs one fuzz input through the `starttls_model` checks.
pub fn fuzz_starttls_model(data: &[u8]) {
    let script = Script::decode(data);
    for protocol in Protocol::ALL {
        let mut config = script.config.clone();
        config.protocol = protocol;
        check(&config, &script.steps);
    }
}

/// The rules the oracle recomputes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Watched {
    StarttlsAcceptedOutsideNonAuthenticated,
    CommandAfterStarttls,
    PlainUsedInCleartext,
    PlaintextAfterStarttlsOk,
    ServerPlaintextBeforeHandshake,
    ClientPlaintextBeforeHandshake,
}

const ALL_WATCHED: [Watched; 6] = [
    Watched::StarttlsAcceptedOutsideNonAuthenticated,
    Watched::CommandAfterStarttls,
    Watched::PlainUsedInCleartext,
    Watched::PlaintextAfterStarttlsOk,
    Watched::ServerPlaintextBeforeHandshake,
    Watched::ClientPlaintextBeforeHandshake,
];

fn watched(violation: &Violation) -> Option<Watched> {
    Some(match violation {
        Violation::StarttlsAcceptedWhenAuthenticated { .. }
        | Violation::StlsAcceptedOutsideAuthorization { .. } => {
            Watched::StarttlsAcceptedOutsideNonAuthenticated
        }
        Violation::CommandPipelinedAfterStarttls { .. } => Watched::CommandAfterStarttls,
        Violation::PlainUsedInCleartext { .. } => Watched::PlainUsedInCleartext,
        Violation::PlaintextAfterStarttlsOk { .. } => Watched::PlaintextAfterStarttlsOk,
        Violation::ServerPlaintextBeforeHandshake { .. } => Watched::ServerPlaintextBeforeHandshake,
        Violation::ClientPlaintextBeforeHandshake { .. } => Watched::ClientPlaintextBeforeHandshake,
        _ => return None,
    })
}

/// What the disposition must be, from the rule alone.
fn expected_disposition(judged: Judged, rule: &Rule) -> Disposition {
    let judged = match judged {
        Judged::Both => true,
        Judged::Client => rule.party == Party::Client,
        Judged::Server => rule.party == Party::Server,
    };
    let fatal = matches!(rule.level, Level::Must | Level::MustNot | Level::Derived);
    match (judged, fatal) {
        (false, _) => Disposition::Tolerated,
        (true, true) => Disposition::Failed,
        (true, false) => Disposition::Warned,
    }
}

/// The oracle: the connection reduced to a few booleans, stepped from the raw steps.
struct Naive {
    protocol: Protocol,
    implicit: bool,
    plain_allowed: bool,
    handshakes: usize,
    closed: bool,
    failed: bool,
    tls: bool,
    awaiting_reply: bool,
    awaiting_handshake: bool,
    left_non_authenticated: bool,
    pending: Vec<(Option<u8>, StepCommand)>,
    caps: Option<CapabilityBits>,
}

impl Naive {
    fn new(config: &Config) -> Self {
        let implicit = config.transport == Transport::Implicit;
        Self {
            protocol: config.protocol,
            implicit,
            plain_allowed: config.backwards_compatible_plain,
            handshakes: 0,
            closed: false,
            failed: false,
            tls: false,
            awaiting_reply: false,
            awaiting_handshake: implicit,
            left_non_authenticated: false,
            pending: Vec::new(),
            caps: None,
        }
    }

    fn before_implicit_handshake(&self) -> bool {
        self.implicit && self.handshakes == 0
    }

    /// The command a completion with `tag` answers, removed from the queue.
    fn take(&mut self, tag: Option<u8>) -> Option<StepCommand> {
        let index = match (self.protocol, tag) {
            (Protocol::Imap | Protocol::Acap, Some(tag)) => self
                .pending
                .iter()
                .position(|(t, _)| *t == Some(tag & 0x07))?,
            _ if self.pending.is_empty() => return None,
            _ => 0,
        };
        Some(self.pending.remove(index).1)
    }

    /// Steps the oracle; returns the watched rules this step must fire.
    fn step(&mut self, step: &Step) -> Vec<Watched> {
        let mut fired = Vec::new();
        if self.closed {
            return fired;
        }
        let from_client = matches!(
            step,
            Step::Command { .. } | Step::ClientContinuation | Step::Plaintext(Party::Client)
        );
        let from_server = matches!(
            step,
            Step::Greeting { .. }
                | Step::Capabilities(_)
                | Step::Completion { .. }
                | Step::Continuation
                | Step::Bye
                | Step::Data
                | Step::Plaintext(Party::Server)
        );
        if from_client {
            if self.failed {
                return fired;
            }
            if self.awaiting_handshake && self.before_implicit_handshake() {
                fired.push(Watched::ClientPlaintextBeforeHandshake);
                return fired;
            }
            if self.awaiting_reply || self.awaiting_handshake {
                fired.push(Watched::CommandAfterStarttls);
                if let Step::Command { command, tag, .. } = *step {
                    self.pending.push((Some(tag & 0x07), command));
                }
                return fired;
            }
            if let Step::Command { command, tag, .. } = *step {
                if matches!(command, StepCommand::Authenticate { mechanism: 0, .. })
                    && !self.tls
                    && !self.plain_allowed
                {
                    fired.push(Watched::PlainUsedInCleartext);
                }
                if command == StepCommand::Starttls {
                    self.awaiting_reply = true;
                }
                self.pending.push((Some(tag & 0x07), command));
            }
            return fired;
        }
        if from_server {
            if self.failed {
                return fired;
            }
            if self.awaiting_handshake {
                fired.push(if self.before_implicit_handshake() {
                    Watched::ServerPlaintextBeforeHandshake
                } else {
                    Watched::PlaintextAfterStarttlsOk
                });
                return fired;
            }
            match *step {
                Step::Greeting { status, caps } => {
                    if status == GreetingStatus::Preauth && self.protocol == Protocol::Imap {
                        self.left_non_authenticated = true;
                    }
                    if caps.is_some() {
                        self.caps = caps;
                    }
                }
                Step::Capabilities(bits) => self.caps = Some(bits),
                Step::Completion { tag, status, caps } => {
                    if let Some(command) = self.take(tag) {
                        self.complete(command, status, &mut fired);
                    }
                    if caps.is_some() {
                        self.caps = caps;
                    }
                }
                _ => {}
            }
            return fired;
        }
        match *step {
            Step::HandshakeCompleted if !self.failed => {
                if self.awaiting_handshake {
                    self.pending.clear();
                }
                self.awaiting_handshake = false;
                self.awaiting_reply = false;
                self.handshakes += 1;
                self.tls = true;
                self.caps = None;
            }
            Step::HandshakeFailed => self.failed = true,
            Step::CloseNotify(_) if self.tls => {
                self.tls = false;
                self.caps = None;
            }
            Step::TcpClosed(_) => {
                self.closed = true;
                self.tls = false;
            }
            _ => {}
        }
        fired
    }

    fn complete(&mut self, command: StepCommand, status: Status, fired: &mut Vec<Watched>) {
        let ok = status == Status::Ok;
        match command {
            StepCommand::Starttls => {
                self.awaiting_reply = false;
                if ok {
                    if self.left_non_authenticated {
                        fired.push(Watched::StarttlsAcceptedOutsideNonAuthenticated);
                    }
                    self.awaiting_handshake = true;
                }
            }
            StepCommand::Login
            | StepCommand::Pass
            | StepCommand::Apop
            | StepCommand::Authenticate { .. }
            | StepCommand::Select
            | StepCommand::RequiresAuth
                if ok =>
            {
                self.left_non_authenticated = true;
            }
            // POP3 QUIT from AUTHORIZATION closes without entering UPDATE.
            StepCommand::Logout if ok && self.protocol != Protocol::Pop3 => {
                self.left_non_authenticated = true;
            }
            _ => {}
        }
    }
}

fn check(config: &Config, steps: &[Step]) {
    let protocol = config.protocol;
    let mut observer = Observer::new(config.clone());
    let mut oracle = Naive::new(config);
    let mut sticky: Option<Violation> = None;
    let mut spelled = (None, None);
    for (index, step) in steps.iter().enumerate() {
        let before = observer.findings().len();
        let result = observer.handle(step.to_event(protocol));
        if let Some(error) = &sticky {
            assert_eq!(
                result.as_ref(),
                Err(error),
                "error not sticky at step {index}"
            );
            assert_eq!(
                observer.findings().len(),
                before,
                "findings after the error"
            );
            continue;
        }
        let new = observer.findings().get(before..).unwrap_or_default();
        for finding in new {
            assert_eq!(finding.event, index);
            assert_eq!(
                finding.disposition,
                expected_disposition(config.judged, finding.violation.rule()),
                "{:?}",
                finding.violation
            );
        }
        let first_failure = new
            .iter()
            .find(|f| f.disposition == Disposition::Failed)
            .map(|f| &f.violation);
        assert_eq!(result.as_ref().err(), first_failure, "step {index}");
        assert_eq!(observer.error(), first_failure);

        let expected = oracle.step(step);
        for rule in ALL_WATCHED {
            let model = new.iter().any(|f| watched(&f.violation) == Some(rule));
            let naive = expected.contains(&rule);
            assert_eq!(
                model, naive,
                "{rule:?} at step {index} ({step:?}) under {config:?}: model {model}, oracle {naive}; findings {new:?}"
            );
        }

        if let Err(error) = result {
            sticky = Some(error);
            continue;
        }
        let Ok(state) = observer.state() else {
            panic!("state() is Err without an error returned");
        };
        // TLS is active exactly when the oracle saw a handshake not closed since; never
        // without a handshake event.
        assert_eq!(state.tls_active(), oracle.tls, "TLS at step {index}");
        assert!(!state.tls_active() || oracle.handshakes > 0);
        // The capabilities in force are the latest list of this TLS epoch: never a
        // pre-TLS one after the handshake. (Spelled out only when the list changes.)
        if oracle.caps != spelled.0 {
            spelled = (
                oracle.caps,
                oracle.caps.map(|bits| bits.to_capabilities(protocol)),
            );
        }
        assert_eq!(
            state.capabilities(),
            spelled.1.as_ref(),
            "capabilities at step {index}"
        );
        assert_eq!(
            !state.session().is_non_authenticated(),
            oracle.left_non_authenticated,
            "session at step {index}: {:?}",
            state.session()
        );
        let phase = state.phase();
        assert_eq!(phase == Phase::Closed, oracle.closed, "closed at {index}");
        if !oracle.closed {
            assert_eq!(
                phase == Phase::TlsFailed,
                oracle.failed,
                "failed at {index}"
            );
            if !oracle.failed {
                assert_eq!(
                    phase == Phase::ExpectTlsHandshake,
                    oracle.awaiting_handshake,
                    "handshake wait at {index}"
                );
                assert_eq!(
                    phase == Phase::ExpectStarttlsReply,
                    oracle.awaiting_reply,
                    "reply wait at {index}"
                );
            }
        }
    }
    // Whatever the outcome, `Event`s that were never fed do not change the verdict.
    let _ = observer.handle(Event::Timeout);
    if let Some(error) = sticky {
        assert_eq!(observer.error(), Some(&error));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_tiny_inputs() {
        fuzz_starttls_model(&[]);
        for a in 0..=255u8 {
            fuzz_starttls_model(&[a]);
            fuzz_starttls_model(&[a, a, a, a, a]);
        }
    }

    #[test]
    fn pseudo_random_inputs() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for length in 0..600usize {
            let bytes: Vec<u8> = (0..length % 200)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[3]
                })
                .collect();
            fuzz_starttls_model(&bytes);
        }
    }
}
