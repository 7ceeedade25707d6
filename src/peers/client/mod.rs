//! The built-in reference CLIENT for IMAP, POP3 and ACAP, with fault switches: what
//! proves each client-role scenario can fail.
//!
//! mailtls plays the server (possibly a hostile one: stripping STARTTLS, injecting
//! responses, presenting bad certificates) and judges what the client does. Every client
//! scenario must PASS against this client and FAIL against at least one [`ClientFault`].
//! The client runs in-process ([`run_client`]) or as a command the client-role engine
//! starts like any real client (`mailtls peer-client ...`, hidden from `--help`).
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr, ca: rustls::pki_types::CertificateDer<'static>)
//! # -> Result<(), mailtls::peers::client::ClientError> {
//! use mailtls::model::Protocol;
//! use mailtls::peers::client::{ClientFault, ClientOptions, run_client};
//!
//! let opts = ClientOptions::new(Protocol::Imap, addr, "mail.example.test", vec![ca]);
//! let session = run_client(&opts).await?; // conformant
//! assert!(session.tls && session.close_notify);
//! let _ = run_client(&opts.clone().with_fault(ClientFault::NoNameCheck)).await;
//! # Ok(()) }
//! ```
//!
//! # What the conformant client does
//!
//! The `starttls-required` profile (catalogue §1.3) unless [`ClientOptions::require_tls`]
//! is off (the RFC 2595 §2.2 opportunistic MAY-mode):
//!
//! 1. Reads the greeting (on an implicit-TLS port after the handshake, RFC 8314 §3).
//!    IMAP: a cleartext `PREAUTH` closes the connection without a single octet sent
//!    (RFC 9051 §7.1.4). ACAP: the greeting is the capability list.
//! 2. Learns the capabilities: IMAP from a `[CAPABILITY]` code in the greeting, else
//!    `CAPABILITY`; POP3 `CAPA` (an `-ERR` means no STLS). Nothing else the server says
//!    in cleartext is acted on.
//! 3. If STARTTLS/STLS is not advertised, or is answered with anything but the OK
//!    (NO, BAD, `-ERR`, another status, a `+` continuation; IMAP also `* BYE` or the
//!    server closing), sends LOGOUT/QUIT and stops:
//!    [`Refusal::StarttlsNotOffered`] / [`Refusal::StarttlsRefused`]. No credential
//!    ever travels in cleartext (RFC 8314 §5.2, RFC 2595 §2.3 and §6).
//! 4. On the OK, starts the handshake at once: octets already read past the OK line are
//!    discarded (counted in [`SessionSummary::discarded_plaintext`]), nothing is written
//!    before the ClientHello (RFC 2595 §3.1, §4, §5.1).
//! 5. Verifies the chain against [`ClientOptions::ca`] and the name against
//!    [`ClientOptions::name`] (RFC 6125 rules, see `tls`); any failure aborts the
//!    handshake: [`Refusal::Certificate`].
//! 6. Discards the cleartext capabilities: IMAP re-issues `CAPABILITY`, POP3 `CAPA`,
//!    ACAP waits for the re-issued greeting (RFC 2595 §3.1, §4, §5.1).
//! 7. Authenticates: PLAIN when offered (IMAP `AUTHENTICATE PLAIN`, with SASL-IR only
//!    when advertised; POP3 `AUTH PLAIN` with an initial response when it fits in 255
//!    octets, RFC 5034; ACAP `AUTHENTICATE "PLAIN" {n+}`), else IMAP `LOGIN` unless
//!    LOGINDISABLED is advertised, POP3 `USER`/`PASS` when `USER` is listed.
//! 8. One harmless command (IMAP `SELECT INBOX`, POP3 `STAT` and, when it counts a
//!    message, `RETR 1` read to its final `.`; ACAP `NOOP`), then LOGOUT/QUIT, a
//!    close_notify, and the TCP FIN. A server that closes in the middle of a response
//!    ends the session with an error, close_notify or not (TLS truncation).
//!
//! Every read is bounded in time ([`ClientOptions::timeout`], and the whole session by
//! 16 of them) and size (the codec limits, a per-command response cap, a per-session
//! byte budget); a server can make the session fail, never hang it or make it panic.
//!
//! # Layout
//!
//! - [`fault`](ClientFault): the switches.
//! - `tls`: the certificate check (chain with webpki, name with [`crate::identity`]).
//! - `conn`: the connection that upgrades in place, with timeouts.
//! - `imap`, `pop3`, `acap`: one session per protocol, over [`crate::proto`]'s readers.

mod acap;
mod conn;
mod fault;
mod imap;
mod pop3;
mod tls;

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use self::conn::Wire;
use self::tls::{ClientTls, Faults};
use crate::model::Protocol;
use crate::sasl::plain::{self, PlainMessage, Profile};
use crate::scenario::ast::LegacyHello;
use crate::tls::legacy;

pub use self::fault::{ClientFault, UnknownClientFault};

/// How long the acts-on-injected-plaintext fault keeps listening for plaintext after
/// the STARTTLS OK before it starts the handshake.
const INJECTION_WINDOW: Duration = Duration::from_millis(50);

/// How long [`ClientFault::PlaintextAfterHandshakeFailure`] waits after the failed
/// handshake before it sends its login in cleartext.
const FALLBACK_PAUSE: Duration = Duration::from_millis(50);

/// The most responses one command may draw before the session gives up.
const MAX_RESPONSES_PER_COMMAND: usize = 1024;

/// A whole session may take this many [`ClientOptions::timeout`]s: enough for its dozen
/// round trips, and a bound on a server that trickles octets just fast enough.
const SESSION_TIMEOUTS: u32 = 16;

/// How the reference client behaves.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// IMAP, POP3 or ACAP.
    pub protocol: Protocol,
    /// The host to connect to (an address or a name to resolve).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The name the certificate must present (the reference identity), also sent as SNI.
    pub name: String,
    /// The trust anchors (the test CA).
    pub ca: Vec<CertificateDer<'static>>,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
    /// An implicit-TLS port (imaps, pop3s): the handshake comes first.
    pub implicit: bool,
    /// The `starttls-required` profile (default `true`): without TLS the session stops
    /// before any credential or mailbox command. `false` is RFC 2595 §2.2's opportunistic
    /// mode: without STARTTLS/STLS it goes on in cleartext.
    pub require_tls: bool,
    /// The defects switched on (none: the conformant reference).
    pub faults: BTreeSet<ClientFault>,
    /// How long any one connect, read, write or handshake may take (default 5 s).
    pub timeout: Duration,
}

impl ClientOptions {
    /// The conformant client for `protocol` connecting to `addr` on a cleartext port,
    /// verifying `name` against `ca`, as `alice`/`s3cret` (the reference server's first
    /// account), TLS required, a 5 s timeout.
    pub fn new(
        protocol: Protocol,
        addr: SocketAddr,
        name: impl Into<String>,
        ca: Vec<CertificateDer<'static>>,
    ) -> Self {
        Self {
            protocol,
            host: addr.ip().to_string(),
            port: addr.port(),
            name: name.into(),
            ca,
            user: "alice".to_owned(),
            password: "s3cret".to_owned(),
            implicit: false,
            require_tls: true,
            faults: BTreeSet::new(),
            timeout: Duration::from_secs(5),
        }
    }

    /// The same options on an implicit-TLS port (or not).
    #[must_use]
    pub fn implicit(mut self, implicit: bool) -> Self {
        self.implicit = implicit;
        self
    }

    /// The same options with TLS required (the default) or opportunistic.
    #[must_use]
    pub fn require_tls(mut self, required: bool) -> Self {
        self.require_tls = required;
        self
    }

    /// The same options with `fault` switched on as well.
    #[must_use]
    pub fn with_fault(mut self, fault: ClientFault) -> Self {
        self.faults.insert(fault);
        self
    }

    /// The same options with other credentials.
    #[must_use]
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.user = user.into();
        self.password = password.into();
        self
    }

    /// The same options with another timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether `fault` is switched on.
    pub fn has(&self, fault: ClientFault) -> bool {
        self.faults.contains(&fault)
    }
}

/// Why the client refused to go on: a security decision, not a failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// STARTTLS/STLS is not in the cleartext capability list and TLS is required.
    #[error("TLS required, but the server does not offer {command}")]
    StarttlsNotOffered {
        /// `STARTTLS` or `STLS`.
        command: &'static str,
    },
    /// STARTTLS/STLS was answered with something other than the OK.
    #[error("TLS required, but {command} was answered `{response}`")]
    StarttlsRefused {
        /// `STARTTLS` or `STLS`.
        command: &'static str,
        /// The answer, as received (control characters escaped).
        response: String,
    },
    /// IMAP: a PREAUTH greeting on a cleartext connection (RFC 9051 §7.1.4).
    #[error("TLS required, but the server greeted with PREAUTH in cleartext")]
    PreauthInCleartext,
    /// The server's certificate was refused; the handshake was aborted.
    #[error("certificate rejected: {reason}")]
    Certificate {
        /// What was wrong with it.
        reason: String,
    },
    /// The TLS handshake failed for another reason (an alert, plaintext instead of a
    /// ServerHello, a close, no answer).
    #[error("TLS required, but the handshake failed: {reason}")]
    HandshakeFailed {
        /// rustls's or the socket's error.
        reason: String,
    },
}

/// Why a session did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The client refused to go on for a security reason (exit code 1 of
    /// `mailtls peer-client`).
    #[error("{0}")]
    Refused(Refusal),
    /// The options cannot work (an invalid name, an unusable CA, credentials that
    /// cannot be encoded).
    #[error("invalid options: {0}")]
    Options(String),
    /// The TCP connection could not be made.
    #[error("connecting to {target}: {source}")]
    Connect {
        /// `host:port`.
        target: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// Nothing came (or could be written) within the timeout.
    #[error("timed out after {after:?} while {during}")]
    Timeout {
        /// What the client was doing.
        during: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The server closed the connection.
    #[error("the server closed the connection while {during}")]
    Closed {
        /// What the client was doing.
        during: &'static str,
    },
    /// A socket error.
    #[error("I/O error while {during}: {source}")]
    Io {
        /// What the client was doing.
        during: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The server said something malformed or out of place.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// No mechanism the client may use is offered.
    #[error("no usable authentication mechanism (offered: {offered})")]
    NoMechanism {
        /// The capability list, as received.
        offered: String,
    },
    /// The server refused the credentials.
    #[error("authentication failed: {0}")]
    AuthFailed(String),
}

impl ClientError {
    /// Whether the client stopped for a security reason (TLS required but not available,
    /// certificate rejected, PREAUTH in cleartext).
    pub fn is_security_refusal(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

/// How the client authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// SASL PLAIN.
    Plain,
    /// IMAP LOGIN.
    Login,
    /// POP3 USER/PASS.
    UserPass,
    /// IMAP PREAUTH: the server authenticated the session.
    Preauth,
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
            Self::UserPass => "USER/PASS",
            Self::Preauth => "PREAUTH",
        })
    }
}

/// One command line the client wrote, secrets masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Whether TLS was active when it was written.
    pub tls: bool,
    /// The line, without its CRLF; PLAIN blobs, passwords and literals shown as `***`.
    pub line: String,
}

/// What a completed session did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    /// The protocol.
    pub protocol: Protocol,
    /// Whether TLS was active at the end.
    pub tls: bool,
    /// How the client authenticated, if it did.
    pub mechanism: Option<Mechanism>,
    /// Whether credentials were sent without TLS (never, unless a fault or the
    /// opportunistic profile allowed it).
    pub credentials_in_cleartext: bool,
    /// The capability list the client authenticated with, as received.
    pub capabilities: Vec<String>,
    /// Every command written, in order.
    pub commands: Vec<Sent>,
    /// Octets that followed the STARTTLS/STLS OK in the same read and were discarded.
    pub discarded_plaintext: usize,
    /// Whether a close_notify was sent before the TCP FIN.
    pub close_notify: bool,
}

/// Runs one session against the server `opts` names.
///
/// # Errors
///
/// [`ClientError::Refused`] when the client stopped for a security reason; any other
/// variant when the session could not complete.
pub async fn run_client(opts: &ClientOptions) -> Result<SessionSummary, ClientError> {
    let tls = ClientTls::new(&opts.name, &opts.ca, Faults::from_set(|f| opts.has(f)))
        .map_err(ClientError::Options)?;
    let plain = plain_message(opts)?;
    let budget = opts.timeout.saturating_mul(SESSION_TIMEOUTS);
    let mut wire = Wire::connect(&opts.host, opts.port, opts.timeout).await?;
    if opts.has(ClientFault::NoHandshakeTimeout) {
        wire.lift_handshake_timeout(budget);
    }
    if opts.has(ClientFault::ContinuesAfterCloseNotify) {
        wire.read_on_after_close_notify();
    }
    let mut ctx = Ctx {
        opts,
        wire,
        tls,
        plain,
        summary: SessionSummary {
            protocol: opts.protocol,
            tls: false,
            mechanism: None,
            credentials_in_cleartext: false,
            capabilities: Vec::new(),
            commands: Vec::new(),
            discarded_plaintext: 0,
            close_notify: false,
        },
    };
    let session = async {
        match opts.protocol {
            Protocol::Imap => imap::run(&mut ctx).await,
            Protocol::Pop3 => pop3::run(&mut ctx).await,
            Protocol::Acap => acap::run(&mut ctx).await,
        }
    };
    let result = tokio::time::timeout(budget, session)
        .await
        .unwrap_or(Err(ClientError::Timeout {
            during: "running the whole session",
            after: budget,
        }));
    ctx.summary.tls = ctx.wire.is_tls();
    let close_notify = !opts.has(ClientFault::NoCloseNotify);
    ctx.summary.close_notify = ctx.wire.close(close_notify).await;
    let stripped = matches!(
        result,
        Err(ClientError::Refused(
            Refusal::StarttlsNotOffered { .. } | Refusal::StarttlsRefused { .. }
        ))
    );
    if stripped && opts.has(ClientFault::ReconnectsInPlaintext) {
        ctx.reconnect_in_plaintext().await;
    }
    // A server that closes in the middle of a response has not said all it meant to;
    // only the fault takes that for the end of the session.
    let truncated = matches!(result, Err(ClientError::Closed { .. }))
        && ctx.summary.tls
        && ctx.summary.mechanism.is_some();
    if truncated && opts.has(ClientFault::AcceptsTruncation) {
        return Ok(ctx.summary);
    }
    result.map(|()| ctx.summary)
}

/// The PLAIN message for the configured credentials: conformant, or with the extra NUL
/// of [`ClientFault::MalformedPlain`].
fn plain_message(opts: &ClientOptions) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    let message = PlainMessage {
        authzid: None,
        authcid: opts.user.as_bytes(),
        passwd: opts.password.as_bytes(),
    };
    plain::encode(Profile::Rfc4616, &message, &mut out).map_err(|e| {
        ClientError::Options(format!("the credentials cannot be sent with PLAIN: {e}"))
    })?;
    if opts.has(ClientFault::MalformedPlain) {
        out.push(0);
    }
    Ok(out)
}

/// What the three protocol sessions share: the options, the connection, the TLS
/// configuration, and the summary being written.
pub(super) struct Ctx<'a> {
    opts: &'a ClientOptions,
    wire: Wire,
    tls: ClientTls,
    /// The PLAIN message to send.
    plain: Vec<u8>,
    summary: SessionSummary,
}

impl Ctx<'_> {
    fn has(&self, fault: ClientFault) -> bool {
        self.opts.has(fault)
    }

    /// Whether the session must stop without TLS: the profile requires TLS and the
    /// continues-without-starttls fault is off.
    fn tls_required(&self) -> bool {
        self.opts.require_tls && !self.has(ClientFault::ContinuesWithoutStarttls)
    }

    /// Writes one command (`data`, CRLF included) and records it as `shown`.
    async fn send(&mut self, data: &[u8], shown: impl Into<String>) -> Result<(), ClientError> {
        self.summary.commands.push(Sent {
            tls: self.wire.is_tls(),
            line: shown.into(),
        });
        self.wire.send(data).await
    }

    /// Notes that credentials are about to be sent.
    fn sending_credentials(&mut self) {
        if !self.wire.is_tls() {
            self.summary.credentials_in_cleartext = true;
        }
    }

    /// The handshake on an implicit-TLS port.
    async fn handshake(&mut self) -> Result<(), ClientError> {
        self.start_tls().await
    }

    /// The handshake; when it fails, [`ClientFault::PlaintextAfterHandshakeFailure`]
    /// sends the login in cleartext on the same connection before giving up.
    async fn start_tls(&mut self) -> Result<(), ClientError> {
        let legacy = if self.has(ClientFault::Sslv2Hello) {
            Some(LegacyHello::Ssl2)
        } else if self.has(ClientFault::OffersOldTls) {
            Some(LegacyHello::Tls10)
        } else {
            None
        };
        if let Some(kind) = legacy {
            return self
                .wire
                .legacy_handshake(&legacy::client_hello(kind))
                .await;
        }
        let fallback = self.has(ClientFault::PlaintextAfterHandshakeFailure);
        let result = self.wire.start_tls(&self.tls, fallback).await;
        if result.is_err() && fallback && self.wire.is_plaintext() {
            // A moment, as a client that goes back to its cleartext session would take:
            // the login then arrives apart from the alert the handshake ended with.
            tokio::time::sleep(FALLBACK_PAUSE).await;
            let (line, shown) = self.cleartext_login();
            self.sending_credentials();
            let _ = self.send(&line, shown).await;
        }
        result
    }

    /// [`ClientFault::ReconnectsInPlaintext`]: a new connection to the same server, the
    /// greeting awaited for a moment, then the cleartext login on it.
    async fn reconnect_in_plaintext(&mut self) {
        let Ok(wire) = Wire::connect(&self.opts.host, self.opts.port, self.opts.timeout).await
        else {
            return;
        };
        self.wire = wire;
        tokio::time::sleep(FALLBACK_PAUSE).await;
        let (line, shown) = self.cleartext_login();
        self.sending_credentials();
        let _ = self.send(&line, shown).await;
        let _ = self.wire.close(false).await;
    }

    /// The protocol's plainest login, for
    /// [`ClientFault::PlaintextAfterHandshakeFailure`]: IMAP LOGIN, POP3 USER and PASS,
    /// ACAP AUTHENTICATE PLAIN.
    fn cleartext_login(&self) -> (Vec<u8>, String) {
        let (user, password) = (&self.opts.user, &self.opts.password);
        match self.opts.protocol {
            Protocol::Imap => (
                format!("F1 LOGIN {user} {password}\r\n").into_bytes(),
                format!("F1 LOGIN {user} ***"),
            ),
            Protocol::Pop3 => (
                format!("USER {user}\r\nPASS {password}\r\n").into_bytes(),
                format!("USER {user} / PASS ***"),
            ),
            Protocol::Acap => {
                let mut line =
                    format!("F1 AUTHENTICATE \"PLAIN\" {{{}+}}\r\n", self.plain.len()).into_bytes();
                line.extend_from_slice(&self.plain);
                line.extend_from_slice(b"\r\n");
                (line, "F1 AUTHENTICATE \"PLAIN\" ***".to_owned())
            }
        }
    }

    /// Upgrades after the STARTTLS/STLS OK. `buffered` are the octets the protocol
    /// reader holds past the OK line; `early` the command
    /// [`ClientFault::SendsBeforeHandshake`] writes in plaintext first. Returns the octets
    /// the new reader must start with: nothing, unless
    /// [`ClientFault::ActsOnInjectedPlaintext`] keeps the plaintext.
    async fn upgrade(
        &mut self,
        buffered: Vec<u8>,
        early: Option<(Vec<u8>, String)>,
    ) -> Result<Vec<u8>, ClientError> {
        let kept = if self.has(ClientFault::ActsOnInjectedPlaintext) {
            let mut kept = buffered;
            kept.extend(self.wire.plaintext_within(INJECTION_WINDOW).await);
            kept
        } else {
            self.summary.discarded_plaintext += buffered.len();
            Vec::new()
        };
        if let Some((command, shown)) =
            early.filter(|_| self.has(ClientFault::SendsBeforeHandshake))
        {
            self.send(&command, shown).await?;
        }
        self.start_tls().await?;
        Ok(kept)
    }

    /// Records the capabilities the client authenticates with.
    fn using_capabilities(&mut self, raw: &[String]) {
        self.summary.capabilities = raw.to_vec();
    }
}

/// A line for an error message: lossy UTF-8, control characters escaped, at most 200
/// characters.
fn shown(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .flat_map(char::escape_default)
        .take(200)
        .collect();
    text
}
