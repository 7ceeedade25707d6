//! The model's input vocabulary: what the client or the server did, already classified.
//!
//! The model does not parse. The engine (or a transcript replayer) turns octets into
//! these events with the `proto` parsers, and into [`Event::Plaintext`] when octets
//! arrive where only TLS records may (after the STARTTLS OK, before the handshake on an
//! implicit-TLS port, after close_notify).

use crate::model::config::Party;
use crate::proto::capability::Capabilities;
use std::fmt;

/// One observation, in the order it happened on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The client sent a command.
    Command(Command),
    /// The client sent a continuation line (a SASL response, literal data) in answer to
    /// a server continuation request. It is not a command and gets no response of its own.
    ClientContinuation,
    /// The server sent a response.
    Response(Response),
    /// Octets that are not TLS records arrived from `Party` where only TLS records may
    /// come. Use it for octets the engine does not classify further.
    Plaintext(Party),
    /// The TLS handshake completed: from the next octet on, application data is inside TLS.
    TlsHandshakeCompleted,
    /// The TLS handshake failed (alert, garbage, timeout inside the handshake).
    TlsHandshakeFailed,
    /// A TLS close_notify alert arrived from `Party`; TCP may stay open.
    CloseNotify(Party),
    /// `Party` closed (FIN) or aborted (RST) the TCP connection.
    TcpClosed(Party),
    /// The harness waited out its deadline and nothing arrived.
    Timeout,
}

/// A client command, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The tag (IMAP, ACAP); `None` for POP3.
    pub tag: Option<String>,
    /// What the command is, as far as the TLS rules care.
    pub kind: CommandKind,
    /// The command arrived in the same write as the previous command (the catalogue's
    /// `..` notation): what RFC 9051 §6.2.1 calls "the same TCP buffer".
    pub pipelined: bool,
}

impl Command {
    /// An untagged command (POP3), not pipelined.
    pub fn new(kind: CommandKind) -> Self {
        Self {
            tag: None,
            kind,
            pipelined: false,
        }
    }

    /// A tagged command (IMAP, ACAP), not pipelined.
    pub fn tagged(tag: &str, kind: CommandKind) -> Self {
        Self {
            tag: Some(tag.to_owned()),
            kind,
            pipelined: false,
        }
    }

    /// The same command, marked as sent in the same write as the previous one.
    #[must_use]
    pub fn pipelined(mut self) -> Self {
        self.pipelined = true;
        self
    }
}

/// The command classes the rules distinguish.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandKind {
    /// IMAP/ACAP `STARTTLS`, POP3 `STLS`.
    Starttls,
    /// IMAP `CAPABILITY`, POP3 `CAPA` (ACAP has none: its greeting lists capabilities).
    Capability,
    /// IMAP `LOGIN` (clear-text password).
    Login,
    /// POP3 `USER`.
    User,
    /// POP3 `PASS` (clear-text password).
    Pass,
    /// POP3 `APOP` (challenge-response; not a clear-text password).
    Apop,
    /// IMAP/ACAP `AUTHENTICATE`, POP3 `AUTH`.
    Authenticate {
        /// The SASL mechanism name as sent (compared case-insensitively).
        mechanism: String,
        /// The command carried an initial response (RFC 4959 SASL-IR, RFC 5034).
        initial_response: bool,
    },
    /// IMAP `SELECT` / `EXAMINE`: needs authentication, enters the selected state.
    Select,
    /// Any other command valid only after authentication (`LIST`, `APPEND`, `STAT`,
    /// `RETR`, ...).
    RequiresAuth,
    /// IMAP/ACAP `LOGOUT`, POP3 `QUIT`.
    Logout,
    /// `NOOP`.
    Noop,
    /// Anything else (`ID`, `ENABLE`, an unknown command, ...).
    Other,
}

impl CommandKind {
    /// `AUTHENTICATE` with `mechanism` and no initial response.
    pub fn authenticate(mechanism: &str) -> Self {
        Self::Authenticate {
            mechanism: mechanism.to_owned(),
            initial_response: false,
        }
    }

    /// Whether this sends (or, for `AUTHENTICATE`, starts sending) a clear-text password:
    /// LOGIN, PASS, or the PLAIN and LOGIN SASL mechanisms (RFC 2595 §2.3 "clear-text
    /// login commands or mechanisms (including both standards-track and nonstandard
    /// mechanisms)").
    pub fn is_cleartext_login(&self) -> bool {
        match self {
            Self::Login | Self::Pass => true,
            Self::Authenticate { mechanism, .. } => is_cleartext_mechanism(mechanism),
            _ => false,
        }
    }

    /// Whether this is an authentication command (LOGIN, USER, PASS, APOP, AUTHENTICATE).
    pub fn is_authentication(&self) -> bool {
        matches!(
            self,
            Self::Login | Self::User | Self::Pass | Self::Apop | Self::Authenticate { .. }
        )
    }

    /// Whether this is `AUTHENTICATE PLAIN`.
    pub fn is_plain(&self) -> bool {
        matches!(self, Self::Authenticate { mechanism, .. } if mechanism.eq_ignore_ascii_case("PLAIN"))
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Starttls => f.write_str("STARTTLS"),
            Self::Capability => f.write_str("CAPABILITY"),
            Self::Login => f.write_str("LOGIN"),
            Self::User => f.write_str("USER"),
            Self::Pass => f.write_str("PASS"),
            Self::Apop => f.write_str("APOP"),
            Self::Authenticate { mechanism, .. } => write!(f, "AUTHENTICATE {mechanism}"),
            Self::Select => f.write_str("SELECT"),
            Self::RequiresAuth => f.write_str("a command that needs authentication"),
            Self::Logout => f.write_str("LOGOUT"),
            Self::Noop => f.write_str("NOOP"),
            Self::Other => f.write_str("another command"),
        }
    }
}

/// Whether a SASL mechanism carries a clear-text password (PLAIN, LOGIN).
pub fn is_cleartext_mechanism(mechanism: &str) -> bool {
    mechanism.eq_ignore_ascii_case("PLAIN") || mechanism.eq_ignore_ascii_case("LOGIN")
}

/// A server response, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// The connection greeting: IMAP `* OK` / `* PREAUTH` / `* BYE`, POP3 `+OK` / `-ERR`,
    /// ACAP `* ACAP (...)`.
    Greeting {
        /// Which greeting.
        status: GreetingStatus,
        /// Capabilities it carried (IMAP `[CAPABILITY ...]` code, the ACAP greeting's
        /// lists).
        capabilities: Option<Capabilities>,
    },
    /// Untagged capability data: IMAP `* CAPABILITY ...`.
    Capabilities(Capabilities),
    /// The completion of a command: IMAP/ACAP tagged `OK`/`NO`/`BAD`, POP3 `+OK`/`-ERR`
    /// (with a POP3 multi-line body folded in).
    Completion {
        /// The tag it echoes (IMAP, ACAP); `None` for POP3, which answers in order.
        tag: Option<String>,
        /// The result.
        status: Status,
        /// Capabilities it carried: an IMAP `[CAPABILITY ...]` response code, or the
        /// POP3 `CAPA` list.
        capabilities: Option<Capabilities>,
    },
    /// A continuation request (`+ ...`).
    Continuation,
    /// Untagged `BYE`.
    Bye,
    /// Any other untagged data or status (`* 3 EXISTS`, `* OK [ALERT] ...`).
    Data,
}

/// A completion result. POP3 `-ERR` is [`Status::No`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK` / `+OK`.
    Ok,
    /// `NO` / `-ERR`.
    No,
    /// `BAD`.
    Bad,
}

/// Which greeting the server sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GreetingStatus {
    /// IMAP `* OK`, POP3 `+OK`, ACAP `* ACAP`: not authenticated yet.
    Ok,
    /// IMAP `* PREAUTH`: already authenticated. Treated as `Ok` for POP3 and ACAP.
    Preauth,
    /// IMAP/ACAP `* BYE`, POP3 `-ERR`: the server refuses the connection.
    Bye,
}
