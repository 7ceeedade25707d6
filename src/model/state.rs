//! The observer's state: the protocol state of RFC 3501/9051 §3, RFC 1939 §3 and
//! RFC 2244 §3 (not authenticated, authenticated, ...), whether TLS is active, and the
//! waiting point, named rustls-style for what it waits for.

use crate::model::config::{Config, Protocol, Transport};
use crate::model::event::CommandKind;
use crate::proto::capability::Capabilities;
use std::collections::VecDeque;
use std::fmt;

/// What the connection waits for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The server greeting: at connect on a cleartext port, after the handshake on an
    /// implicit-TLS port, and after the ACAP STARTTLS handshake (RFC 2595 §5.1).
    ExpectGreeting,
    /// A command, or responses to commands in flight.
    ExpectCommand,
    /// The response to STARTTLS/STLS. The client must stay silent (RFC 2595 §3.1, §4, §5.1).
    ExpectStarttlsReply,
    /// The TLS handshake: at connect on an implicit-TLS port, or right after the CRLF of
    /// the STARTTLS OK. Only TLS records may arrive.
    ExpectTlsHandshake,
    /// The TLS handshake failed: only closing the connection is right (RFC 2595 §2.5).
    TlsFailed,
    /// TCP is closed; later events are ignored.
    Closed,
}

/// The TLS layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tls {
    /// No TLS yet.
    Inactive,
    /// Application data flows inside TLS.
    Active,
    /// TLS was active and has ended (close_notify, or TCP closed): the layer is
    /// deactivated (RFC 2595 §2.2).
    Closed,
}

/// IMAP connection states (RFC 9051 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImapState {
    /// Not authenticated: the only state where STARTTLS is valid.
    NotAuthenticated,
    /// Authenticated (LOGIN, AUTHENTICATE, PREAUTH).
    Authenticated,
    /// A mailbox is selected.
    Selected,
    /// LOGOUT completed.
    Logout,
}

/// POP3 session states (RFC 1939 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pop3State {
    /// AUTHORIZATION: the only state where STLS is permitted.
    Authorization,
    /// TRANSACTION: the maildrop is open.
    Transaction,
    /// UPDATE: QUIT from TRANSACTION.
    Update,
}

/// ACAP connection states (RFC 2244 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AcapState {
    /// Non-authenticated: the only state where STARTTLS is valid.
    NonAuthenticated,
    /// Authenticated.
    Authenticated,
    /// LOGOUT completed.
    Logout,
}

/// The protocol state, per protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Session {
    /// IMAP.
    Imap(ImapState),
    /// POP3.
    Pop3(Pop3State),
    /// ACAP.
    Acap(AcapState),
}

impl Session {
    /// The state at connect.
    pub fn initial(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Imap => Self::Imap(ImapState::NotAuthenticated),
            Protocol::Pop3 => Self::Pop3(Pop3State::Authorization),
            Protocol::Acap => Self::Acap(AcapState::NonAuthenticated),
        }
    }

    /// Whether this is the non-authenticated / AUTHORIZATION state, the only one where
    /// STARTTLS/STLS is valid.
    pub fn is_non_authenticated(self) -> bool {
        matches!(
            self,
            Self::Imap(ImapState::NotAuthenticated)
                | Self::Pop3(Pop3State::Authorization)
                | Self::Acap(AcapState::NonAuthenticated)
        )
    }

    /// The state after a successful authentication.
    pub(crate) fn authenticated(self) -> Self {
        match self {
            Self::Imap(ImapState::NotAuthenticated) => Self::Imap(ImapState::Authenticated),
            Self::Pop3(Pop3State::Authorization) => Self::Pop3(Pop3State::Transaction),
            Self::Acap(AcapState::NonAuthenticated) => Self::Acap(AcapState::Authenticated),
            other => other,
        }
    }

    /// The state after a successful LOGOUT/QUIT.
    pub(crate) fn logged_out(self) -> Self {
        match self {
            Self::Imap(_) => Self::Imap(ImapState::Logout),
            Self::Acap(_) => Self::Acap(AcapState::Logout),
            // RFC 1939 §6: QUIT from AUTHORIZATION closes without entering UPDATE.
            Self::Pop3(Pop3State::Authorization) => Self::Pop3(Pop3State::Authorization),
            Self::Pop3(_) => Self::Pop3(Pop3State::Update),
        }
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Imap(ImapState::NotAuthenticated) => "not authenticated",
            Self::Imap(ImapState::Authenticated) => "authenticated",
            Self::Imap(ImapState::Selected) => "selected",
            Self::Imap(ImapState::Logout) => "logout",
            Self::Pop3(Pop3State::Authorization) => "AUTHORIZATION",
            Self::Pop3(Pop3State::Transaction) => "TRANSACTION",
            Self::Pop3(Pop3State::Update) => "UPDATE",
            Self::Acap(AcapState::NonAuthenticated) => "non-authenticated",
            Self::Acap(AcapState::Authenticated) => "authenticated",
            Self::Acap(AcapState::Logout) => "logout",
        })
    }
}

/// How the current TLS layer was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsVia {
    /// STARTTLS/STLS on a cleartext port.
    Starttls,
    /// Implicit TLS at connect.
    Implicit,
}

/// A command sent and not answered yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) tag: Option<String>,
    pub(crate) kind: CommandKind,
    /// Sent after STARTTLS and before the handshake completed: RFC 2595 §3.1 forbids it,
    /// and if the server then accepts STARTTLS these octets are not commands any more.
    pub(crate) after_starttls: bool,
}

/// The state of one observed connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub(crate) phase: Phase,
    pub(crate) session: Session,
    pub(crate) tls: Tls,
    pub(crate) via: Option<TlsVia>,
    /// The capabilities in force: the latest list heard inside the current TLS epoch.
    pub(crate) caps: Option<Capabilities>,
    /// Everything the server advertised in plaintext, injected octets included: what a
    /// client must not rely on after the handshake.
    pub(crate) pre_tls_caps: Capabilities,
    pub(crate) pending: VecDeque<Pending>,
    /// Commands sent in plaintext after STARTTLS, dropped at the handshake: a server
    /// answering one of them inside TLS executed injected plaintext.
    pub(crate) discarded: VecDeque<Pending>,
    pub(crate) capa_refused: bool,
    pub(crate) stls_accepted: bool,
    pub(crate) stls_without_capa_reported: bool,
    /// POP3 USER accepted; `Some(true)` when that happened before TLS.
    pub(crate) user_before_tls: Option<bool>,
    pub(crate) preauth_in_cleartext: bool,
    pub(crate) capability_asked_after_tls: bool,
    pub(crate) reissue_warned: bool,
}

impl State {
    /// The state at TCP connect.
    pub fn new(config: &Config) -> Self {
        Self {
            phase: match config.transport {
                Transport::Starttls => Phase::ExpectGreeting,
                Transport::Implicit => Phase::ExpectTlsHandshake,
            },
            session: Session::initial(config.protocol),
            tls: Tls::Inactive,
            via: None,
            caps: None,
            pre_tls_caps: Capabilities::new(),
            pending: VecDeque::new(),
            discarded: VecDeque::new(),
            capa_refused: false,
            stls_accepted: false,
            stls_without_capa_reported: false,
            user_before_tls: None,
            preauth_in_cleartext: false,
            capability_asked_after_tls: false,
            reissue_warned: false,
        }
    }

    /// What the connection waits for.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The protocol state.
    pub fn session(&self) -> Session {
        self.session
    }

    /// The TLS layer.
    pub fn tls(&self) -> Tls {
        self.tls
    }

    /// Whether application data is inside TLS now.
    pub fn tls_active(&self) -> bool {
        self.tls == Tls::Active
    }

    /// How the current (or last) TLS layer was reached.
    pub fn tls_via(&self) -> Option<TlsVia> {
        self.via
    }

    /// The capabilities in force: the latest list the server sent since TLS started (or
    /// since connect, before TLS). `None` when nothing was advertised in this epoch:
    /// pre-TLS capabilities are void after the handshake (RFC 2595 §3.1, §4, §5.1, §9).
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.caps.as_ref()
    }

    /// Everything the server advertised before TLS (union), injected octets included.
    pub fn pre_tls_capabilities(&self) -> &Capabilities {
        &self.pre_tls_caps
    }

    /// How many commands await a response.
    pub fn commands_in_flight(&self) -> usize {
        self.pending.len()
    }
}
