//! The parsed form of a scenario file: metadata, then steps. Every node keeps the
//! [`Span`] it came from, so the engine can point a FAIL at the scenario line it broke
//! and the parser can point an error at the text it could not read.
//!
//! One file serves both roles. A `C:` line is what the client sends and an `S:` line what
//! the server sends; in the server role mailtls *sends* the `C:` lines and *judges* the
//! `S:` lines, in the client role the other way round. So every transcript line is a
//! [`Line`] whose [`Piece`]s can be rendered as bytes to send (literals and variables
//! only, see [`Line::is_sendable`]) or matched as a pattern against a received line.

use crate::model::{Level, Party, Protocol, Transport};
use std::time::Duration;

/// Where something is in a scenario file: 1-based line and column (in characters), and
/// the length of the offending text in characters (at least 1 for a caret).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// Length in characters of the text the span covers.
    pub len: u32,
}

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The header.
    pub meta: Meta,
    /// The transcript, in file order.
    pub steps: Vec<Step>,
}

/// The header: `key: value` lines before the first step.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// Stable id, e.g. `imap.server.starttls.pipelined-command-injection`; expectation
    /// files and bug reports refer to it.
    pub id: String,
    /// One line saying what is checked.
    pub title: String,
    /// IMAP, POP3 or ACAP.
    pub protocol: Protocol,
    /// Which peers the file can judge: `Party::Server` means "the system under test is a
    /// server" (mailtls plays the client).
    pub roles: Vec<Party>,
    /// STARTTLS on a cleartext port, or implicit TLS.
    pub transport: Transport,
    /// MUST, SHOULD, ..., or `SECURITY` (= [`Level::Derived`]: from a CVE or the
    /// NO STARTTLS analysis, not from an RFC key word).
    pub level: Level,
    /// The RFC clauses the scenario checks, each with the sentence it quotes.
    pub clauses: Vec<Clause>,
    /// CVE ids this scenario would have caught (`cve:` lines).
    pub cves: Vec<String>,
    /// The ids of `starttls-catalogue.md` §4 this scenario implements (`catalogue:`
    /// lines); empty when the scenario's own id is the catalogue id, or it has none.
    pub catalogue: Vec<String>,
    /// Capabilities the server must advertise in its first capability list for the
    /// scenario to apply; a missing one makes the verdict N/A, not FAIL.
    pub requires: Vec<Requirement>,
    /// Server/client profile assumptions (`profile: cleartext-login=allowed`): the
    /// scenario only applies to targets run with that profile; otherwise N/A.
    pub profile: Vec<(String, String)>,
    /// Per-read timeout override (`timeout: 2s`); the run's `--timeout` otherwise.
    pub timeout: Option<Duration>,
    /// How often to run the transcript (races: `repeat: 20`); 1 by default. Every
    /// repetition must pass.
    pub repeat: u32,
    /// What a person must look at (`manual:` lines). A scenario with any is MANUAL:
    /// the wire is still judged, but a clean run ends in MANUAL, not PASS, and the
    /// report prints these lines.
    pub manual: Vec<String>,
    /// Free text after `note:` lines: what a reader of a FAIL should know.
    pub notes: Vec<String>,
    /// Where the header starts (the `id:` line), for messages about the whole file.
    pub span: Span,
}

/// One RFC clause: `clause: RFC 2595 §3.1`, optionally followed by `quote: ...` and
/// `url: ...` lines that belong to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// As written, e.g. `RFC 2595 §3.1` or `RFC 9051 §6.2.1`.
    pub reference: String,
    /// The sentence, verbatim from the RFC.
    pub quote: Option<String>,
    /// A link to the section.
    pub url: Option<String>,
}

/// A capability the scenario needs (`requires: STARTTLS`, `requires: sasl PLAIN`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// A capability name (`STARTTLS`, `STLS`, `LOGINDISABLED`), case-insensitive.
    Capability(String),
    /// A SASL mechanism (`AUTH=PLAIN` in IMAP, `SASL PLAIN` in POP3 CAPA).
    Sasl(String),
}

/// One step of the transcript.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A `C:` or `S:` line, possibly continued by `..` lines into one write.
    Line(Line),
    /// Consecutive `S&`/`C&` lines: all must arrive, in any order, with nothing else in
    /// between.
    Unordered(Vec<Line>, Span),
    /// A `[directive]` line.
    Directive(Directive, Span),
}

/// Who sends a line.
pub type Sender = Party;

/// How a received line is judged. Ignored when the line is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expectation {
    /// `S:` — the next line must match.
    Next,
    /// `S?` — if the next line matches it is consumed, otherwise the step is skipped.
    Optional,
    /// `S~` — lines are skipped until one matches (every skipped line is still judged
    /// against the active must-not-appear patterns).
    Eventually,
    /// `S!` — from here until the connection ends or TLS starts, no line may match.
    Forbidden,
    /// `S&` — member of an unordered group (see [`Step::Unordered`]).
    Unordered,
}

/// One transcript line, or several joined by `..` into a single write.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// `C` or `S`.
    pub sender: Sender,
    /// The prefix's judging mode.
    pub expectation: Expectation,
    /// The parts joined into one write by `..`; one element for an ordinary line. When
    /// matching, each part is one received line.
    pub parts: Vec<Part>,
}

/// One physical line of the file: its content and the terminator to send or expect.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The text between the prefix and the end of the line, decoded.
    pub pieces: Vec<Piece>,
    /// CRLF unless the line ends in `\n` (bare LF) or `<no-CRLF>`.
    pub ending: Ending,
    /// The whole physical line.
    pub span: Span,
}

/// How a line ends on the wire: CRLF (the default), a bare LF (a line written with a
/// trailing `\n`), or nothing (`<no-CRLF>`). The same type `net` reports received lines
/// with, so a pattern's ending and a received ending compare directly.
pub use crate::net::Ending;

/// A piece of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Octets, after escapes (`\xNN`, `\\`, `\{`) are decoded. Matched ASCII
    /// case-insensitively (protocol atoms are case-insensitive).
    Literal(Vec<u8>, Span),
    /// `{*}`: any octets, possibly none (patterns only).
    Any(Span),
    /// `{name}`: when sent, the variable's value; when matched, the variable's value if
    /// it is bound, otherwise it captures one or more octets up to the next space (or
    /// the end of the line) and binds them. Built-ins: `{user}`, `{password}`,
    /// `{plain}` (base64 of `NUL user NUL password`), `{host}`, `{name}`.
    Var(String, Span),
    /// `{A1 BAD|A1 NO}`: one of several alternatives, each a sequence of pieces
    /// (patterns only).
    Alternatives(Vec<Vec<Self>>, Span),
}

/// A `[directive]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directive {
    /// `[tls]`: the TLS handshake happens now (server role: mailtls starts it; client
    /// role: mailtls waits for the client's ClientHello). `[tls may-fail]`: a failed
    /// handshake or a close ends the scenario as PASS (the peer treated injected data
    /// as handshake data). `[tls cert=PROFILE]`: the certificate profile to present in
    /// the client role (issue 4).
    ///
    /// `[tls version=1.2]` (client role): the handshake accepts only that TLS version.
    /// `[tls client-cert]` (server role): mailtls presents a client certificate for the
    /// user, issued by the run's CA.
    Tls {
        /// A failed handshake or close passes the scenario.
        may_fail: bool,
        /// The certificate profile (client role).
        cert: Option<String>,
        /// The only TLS version to accept (client role).
        version: Option<TlsVersion>,
        /// Present a client certificate (server role).
        client_cert: bool,
    },
    /// `[expect-no-certificate-request]` (server role, after `[tls]`): the server must
    /// not have asked for a client certificate in the last handshake.
    ExpectNoCertificateRequest,
    /// `[client-hello KIND]` (server role): mailtls sends a canned legacy ClientHello and
    /// judges the answer; the connection is used up afterwards.
    ClientHello(LegacyHello),
    /// `[server-hello VERSION]` (client role): mailtls answers the client's ClientHello
    /// with a canned ServerHello of an old version; the client must abort.
    ServerHello(LegacyHello),
    /// `[expect-close]`: the peer must close or abort the connection (FIN, RST, alert)
    /// before the read timeout.
    ExpectClose,
    /// `[expect-close-notify]`: the peer must send a TLS close_notify alert before it
    /// closes.
    ExpectCloseNotify,
    /// `[expect-silence 500ms]`: no octet at all may arrive for this long.
    ExpectSilence(Duration),
    /// `[expect-handshake]`: the peer's next octet must start a TLS handshake record
    /// (0x16).
    ExpectHandshake,
    /// `[expect-no-connection 500ms]` (client role): the client must not open another
    /// connection within this long (no retry in plaintext after a refused STARTTLS).
    ExpectNoConnection(Duration),
    /// `[wait 50ms]`: sleep (races: a write in a separate segment).
    Wait(Duration),
    /// `[close-passes]`: from here on, the peer closing the connection passes the
    /// scenario ("BAD or close").
    ClosePasses,
    /// `[close-notify]`: mailtls sends close_notify and closes its side.
    /// `[close-notify keep-open]`: mailtls sends close_notify but keeps TCP open; what
    /// follows is plaintext (RFC 2595 §2.2: the peer must end the session).
    CloseNotify {
        /// Keep the TCP connection open after the alert.
        keep_open: bool,
    },
    /// `[close]`: mailtls closes the TCP connection (FIN), without close_notify.
    Close,
    /// `[new-connection]`: a fresh connection to the same target; captured variables
    /// are kept, capabilities are not.
    NewConnection,
    /// `[expect-exit success]` / `[expect-exit failure]` (client role): how the client
    /// under test must end — `failure` where it must refuse to go on (a bad certificate,
    /// STARTTLS stripped), `success` where it must complete. Judged when the client has
    /// exited, after the last step.
    ExpectExit(bool),
    /// `[caps has STARTTLS]`, `[caps lacks LOGINDISABLED]`, `[caps has-sasl PLAIN]`,
    /// `[caps lacks-sasl PLAIN]`: an assertion on the last capability list received
    /// since the last TLS boundary (capabilities learnt before TLS are void after it).
    Caps(CapsAssertion),
}

/// A TLS version `[tls version=...]` can insist on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// As written in a directive: `1.2`, `1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls12 => "1.2",
            Self::Tls13 => "1.3",
        }
    }
}

/// The canned hellos of `[client-hello ...]` and `[server-hello ...]`: what rustls will
/// not produce, written as raw records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyHello {
    /// An SSL 2.0 CLIENT-HELLO (RFC 6176 forbids answering it).
    Ssl2,
    /// SSL 3.0 (RFC 7568).
    Ssl3,
    /// TLS 1.0 (RFC 8996).
    Tls10,
    /// TLS 1.1 (RFC 8996).
    Tls11,
    /// TLS 1.2 offering only broken suites: RC4, 3DES, NULL, EXPORT, anonymous.
    WeakSuites,
    /// TLS 1.2 offering only TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA, RFC 2595 §2.1's suite.
    Rfc2595Suite,
}

impl LegacyHello {
    /// Every kind, as written in a directive.
    pub const ALL: [(Self, &'static str); 6] = [
        (Self::Ssl2, "ssl2"),
        (Self::Ssl3, "ssl3"),
        (Self::Tls10, "tls1.0"),
        (Self::Tls11, "tls1.1"),
        (Self::WeakSuites, "weak-suites"),
        (Self::Rfc2595Suite, "rfc2595-suite"),
    ];

    /// As written in a directive.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("?", |(_, name)| name)
    }

    /// Whether a ServerHello of this kind can be sent (`[server-hello ...]`): the old
    /// protocol versions.
    pub fn is_version(self) -> bool {
        matches!(self, Self::Ssl3 | Self::Tls10 | Self::Tls11)
    }
}

/// A capability assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapsAssertion {
    /// `has` / `has-sasl` (true) or `lacks` / `lacks-sasl` (false).
    pub present: bool,
    /// A SASL mechanism (`has-sasl`, `lacks-sasl`) rather than a capability name.
    pub sasl: bool,
    /// The capability or mechanism, case-insensitive.
    pub name: String,
}

impl Line {
    /// Whether the line can be sent: it holds only literals and variables.
    pub fn is_sendable(&self) -> bool {
        self.parts.iter().all(|part| {
            part.pieces
                .iter()
                .all(|piece| matches!(piece, Piece::Literal(..) | Piece::Var(..)))
        })
    }

    /// The span of the first physical line.
    pub fn span(&self) -> Span {
        self.parts.first().map(|part| part.span).unwrap_or_default()
    }
}
