//! The observer: the one object the engine talks to. It owns the state, feeds it events,
//! sorts what the rules say into failures, warnings and tolerated harness moves, and
//! keeps a failure sticky.

use crate::model::config::Config;
use crate::model::event::Event;
use crate::model::rules::Violation;
use crate::model::state::State;
use crate::proto::capability::Capabilities;

/// What a violation means for the system under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// A MUST-level (or DERIVED) rule broken by a judged party: a FAIL verdict. The first
    /// one becomes the observer's sticky error.
    Failed,
    /// A SHOULD/MAY-level rule broken by a judged party: a WARN or INFO; the model goes on.
    Warned,
    /// A rule broken by the party that is not judged (the harness, on purpose): recorded,
    /// never a verdict, and the model goes on.
    Tolerated,
}

/// One violation, where it happened, and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The broken rule.
    pub violation: Violation,
    /// Failure, warning, or tolerated.
    pub disposition: Disposition,
    /// The 0-based index of the event that showed it.
    pub event: usize,
}

/// Watches one connection and judges it against the RFC rules.
///
/// The state is `Result<State, Violation>` as in rustls: once a judged party breaks a
/// MUST-level rule, every later [`Observer::handle`] returns that same violation and
/// nothing else is examined. Warnings and tolerated violations are collected in
/// [`Observer::findings`].
///
/// ```
/// use mailtls::model::{Command, CommandKind, Config, Event, Observer, Protocol, Response, Status, Transport};
///
/// let mut observer = Observer::new(Config::new(Protocol::Imap, Transport::Starttls));
/// observer.handle(Event::Command(Command::tagged("a002", CommandKind::Starttls)))?;
/// observer.handle(Event::Response(Response::Completion {
///     tag: Some("a002".into()),
///     status: Status::Ok,
///     capabilities: None,
/// }))?;
/// observer.handle(Event::TlsHandshakeCompleted)?;
/// assert!(observer.tls_active());
/// # Ok::<(), mailtls::model::Violation>(())
/// ```
#[derive(Clone, Debug)]
pub struct Observer {
    config: Config,
    state: Result<State, Violation>,
    findings: Vec<Finding>,
    events: usize,
    scratch: Vec<Violation>,
}

impl Observer {
    /// An observer at TCP connect.
    pub fn new(config: Config) -> Self {
        Self {
            state: Ok(State::new(&config)),
            config,
            findings: Vec::new(),
            events: 0,
            scratch: Vec::new(),
        }
    }

    /// Feeds one event. `Err` is the first MUST-level violation of a judged party; it is
    /// sticky.
    pub fn handle(&mut self, event: Event) -> Result<(), Violation> {
        let index = self.events;
        self.events = self.events.saturating_add(1);
        let Self {
            config,
            state,
            findings,
            scratch,
            ..
        } = self;
        let current = match state {
            Ok(current) => current,
            Err(error) => return Err(error.clone()),
        };
        current.step(config, event, scratch);
        let mut first_failure = None;
        for violation in scratch.drain(..) {
            let rule = violation.rule();
            let disposition = if !config.judged.includes(rule.party) {
                Disposition::Tolerated
            } else if rule.level.is_fatal() {
                Disposition::Failed
            } else {
                Disposition::Warned
            };
            if disposition == Disposition::Failed && first_failure.is_none() {
                first_failure = Some(violation.clone());
            }
            findings.push(Finding {
                violation,
                disposition,
                event: index,
            });
        }
        match first_failure {
            Some(error) => {
                *state = Err(error.clone());
                Err(error)
            }
            None => Ok(()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The state, or the sticky violation.
    pub fn state(&self) -> Result<&State, &Violation> {
        self.state.as_ref()
    }

    /// The sticky violation, if a judged party broke a MUST-level rule.
    pub fn error(&self) -> Option<&Violation> {
        self.state.as_ref().err()
    }

    /// Every violation seen, in order: failures, warnings and tolerated ones.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The warnings (SHOULD/MAY-level findings of judged parties).
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.findings
            .iter()
            .filter(|finding| finding.disposition == Disposition::Warned)
            .map(|finding| &finding.violation)
    }

    /// Whether application data is inside TLS now (`false` once failed).
    pub fn tls_active(&self) -> bool {
        self.state.as_ref().is_ok_and(State::tls_active)
    }

    /// The capabilities in force (see [`State::capabilities`]); `None` once failed.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.state.as_ref().ok().and_then(State::capabilities)
    }

    /// How many events were fed, including those after the failure.
    pub fn events_seen(&self) -> usize {
        self.events
    }
}
