//! The STARTTLS / STLS state machines for IMAP, POP3 and ACAP, and the RFC 2595 rules
//! as named predicates: the oracle the engine and the fuzzers judge with.
//!
//! # Shape
//!
//! The model does not parse and does no I/O. The engine classifies what it saw into
//! [`Event`]s (a client [`Command`], a server [`Response`], plaintext where only TLS may
//! come, the handshake, close_notify, TCP close) and feeds them to an [`Observer`]:
//!
//! ```text
//!  Event ──► Observer::handle ──► State::step ──► Vec<Violation>
//!                 │                                  │ per Rule: party judged? level?
//!                 │                                  ├─ MUST / MUST NOT / DERIVED ─► Failed  (sticky Err)
//!                 │                                  ├─ SHOULD / SHOULD NOT / MAY ─► Warned
//!                 │                                  └─ party not judged ──────────► Tolerated
//!                 ▼
//!   Result<State, Violation>   (rustls: once Err, always the same Err)
//! ```
//!
//! [`State`] holds the protocol state of each RFC (IMAP not authenticated /
//! authenticated / selected / logout, POP3 AUTHORIZATION / TRANSACTION / UPDATE, ACAP
//! non-authenticated / authenticated / logout), the [`Tls`] layer, and the [`Phase`]
//! the connection waits in (`ExpectGreeting`, `ExpectCommand`, `ExpectStarttlsReply`,
//! `ExpectTlsHandshake`, ...). Capabilities heard before TLS are void after the
//! handshake: [`State::capabilities`] only returns lists heard inside the current layer.
//!
//! Each RFC statement is a [`Rule`] (stable id, clause, [`Level`], [`Party`], quoted
//! sentence, link; [`RULES`] lists them), and each way to break one a [`Violation`]
//! variant whose `Display` reads "got X when expecting Y". Violations are verdicts about
//! the peer; harness failures (our socket, a timeout on our side, a bad scenario) are not
//! violations and never come from here.
//!
//! [`Config`] says which party is judged: the harness breaks rules on purpose (it
//! pipelines `NOOP` after `STARTTLS` to test a server for CVE-2011-0411), and those moves
//! are [`Disposition::Tolerated`].
//!
//! [`Script`] is a compact, documented byte encoding of a configuration plus events,
//! used by the `starttls_model` fuzz target and its seed corpus.
//!
//! # Sources
//!
//! RFC 2595 §2–§4 and §6 (checked against the seed texts), §5.1 ACAP (from the catalogue
//! and memory: the seeds do not contain §5), RFC 9051 §6.2.1 and §7.1.4, RFC 8314 §3 and
//! §5.2, and the STARTTLS catalogue's requirement matrix (R1–R39). [`Rule::from_memory`]
//! marks quotes not checked against a seed.

mod config;
mod event;
mod machine;
mod observer;
mod rules;
mod script;
mod state;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

pub use config::{Config, Judged, Party, Protocol, Transport};
pub use event::{
    Command, CommandKind, Event, GreetingStatus, Response, Status, is_cleartext_mechanism,
};
pub use observer::{Disposition, Finding, Observer};
pub use rules::{Level, RULES, Rule, Violation};
pub use script::{CapabilityBits, Script, Step, StepCommand};
pub use state::{AcapState, ImapState, Phase, Pop3State, Session, State, Tls, TlsVia};
