//! The rules: one [`Violation`] variant per broken RFC statement, each mapped to a
//! [`Rule`] record (stable id, clause, level, party, quoted sentence, link).
//!
//! Quotes marked `from_memory` are not in the seed texts the project was given (RFC 2595
//! §5 ACAP, RFC 9051, RFC 8314 and the RFC 2595 examples): check them against the RFC
//! before citing them verbatim. The RFC 2595 §2–§4 and §6 quotes match the seeds (001 is
//! the RFC text; 002/003 are paraphrases with lower-cased key words).

use crate::model::config::{Party, Protocol, Transport};
use crate::model::event::CommandKind;
use crate::model::state::Session;
use serde::Serialize;
use std::fmt;

/// How strong a requirement is (RFC 2119), or `Derived` when no RFC sentence says it but
/// it follows from the security analysis (NO STARTTLS, CVE fixes): report it as
/// security, not conformance (catalogue §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Level {
    /// MUST / REQUIRED / SHALL.
    Must,
    /// MUST NOT / SHALL NOT.
    MustNot,
    /// SHOULD / RECOMMENDED.
    Should,
    /// SHOULD NOT.
    ShouldNot,
    /// MAY / OPTIONAL: recorded for information.
    May,
    /// Follows from the security analysis, not from a key word.
    Derived,
}

impl Level {
    /// Whether breaking it fails the system under test (MUST, MUST NOT, DERIVED). The
    /// others are warnings.
    pub fn is_fatal(self) -> bool {
        matches!(self, Self::Must | Self::MustNot | Self::Derived)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Must => "MUST",
            Self::MustNot => "MUST NOT",
            Self::Should => "SHOULD",
            Self::ShouldNot => "SHOULD NOT",
            Self::May => "MAY",
            Self::Derived => "DERIVED",
        })
    }
}

/// One normative statement the model checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Rule {
    /// Stable id, `<rfc>/<section>/<slug>`; never renumbered.
    pub id: &'static str,
    /// Where the statement is, e.g. `RFC 2595 §3.1`.
    pub clause: &'static str,
    /// Its level.
    pub level: Level,
    /// Who breaks it.
    pub party: Party,
    /// The sentence, quoted (abridgements in `[...]` or `...`).
    pub quote: &'static str,
    /// `https://www.rfc-editor.org/rfc/rfcNNNN#section-N`.
    pub url: &'static str,
    /// The quote was written from memory, not checked against a seed text.
    pub from_memory: bool,
}

macro_rules! rules {
    ($(
        $(#[$meta:meta])*
        $name:ident = $id:literal, $clause:literal, $url:literal,
            $level:ident, $party:ident, memory: $memory:literal,
            $quote:literal;
    )*) => {
        $(
            $(#[$meta])*
            const $name: Rule = Rule {
                id: $id,
                clause: $clause,
                level: Level::$level,
                party: Party::$party,
                quote: $quote,
                url: $url,
                from_memory: $memory,
            };
        )*

        /// Every rule the model checks, grouped by RFC and section.
        pub static RULES: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    // ----- RFC 2595 §2.2 privacy operational mode -----
    PRIVACY_MODE_CLIENT = "rfc2595/2.2/privacy-mode-terminates-client", "RFC 2595 §2.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.2", Should, Client, memory: false,
        "Both clients and servers SHOULD have a privacy operational mode which refuses authentication unless successful activation of an encryption layer (such as that provided by TLS) occurs prior to or at the time of authentication and which will terminate the connection if that encryption layer is deactivated.";
    PRIVACY_MODE_SERVER = "rfc2595/2.2/privacy-mode-terminates-server", "RFC 2595 §2.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.2", Should, Server, memory: false,
        "Both clients and servers SHOULD have a privacy operational mode which refuses authentication unless successful activation of an encryption layer (such as that provided by TLS) occurs prior to or at the time of authentication and which will terminate the connection if that encryption layer is deactivated.";
    OPPORTUNISTIC_CLIENT = "rfc2595/2.2/opportunistic-client-mode", "RFC 2595 §2.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.2", May, Client, memory: false,
        "Clients MAY have an operational mode which uses encryption only when it is advertised by the server, but authentication continues regardless.";

    // ----- RFC 2595 §2.3 clear-text password requirements -----
    CLEARTEXT_REFUSED = "rfc2595/2.3/refuse-cleartext-logins", "RFC 2595 §2.3",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.3", Must, Server, memory: false,
        "Clients and servers which implement STARTTLS MUST be configurable to refuse all clear-text login commands or mechanisms (including both standards-track and nonstandard mechanisms) unless an encryption layer of adequate strength is active.";
    /// Derived from §2.3 (catalogue pop3.server.user-pass.refused-cleartext: WARN when
    /// refused only at PASS, after the password crossed the wire).
    CLEARTEXT_USER_REFUSED_EARLY = "rfc2595/2.3/refuse-cleartext-user-early", "RFC 2595 §2.3",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.3", Should, Server, memory: false,
        "Clients and servers which implement STARTTLS MUST be configurable to refuse all clear-text login commands or mechanisms (including both standards-track and nonstandard mechanisms) unless an encryption layer of adequate strength is active.";

    // ----- RFC 2595 §2.5 TLS security policy check -----
    CHECK_RESULT_CLIENT = "rfc2595/2.5/no-plaintext-after-tls-failure-client", "RFC 2595 §2.5",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.5", Must, Client, memory: false,
        "Both the client and server MUST check the result of the STARTTLS command and subsequent TLS negotiation to see whether acceptable authentication or privacy was achieved.";
    CHECK_RESULT_SERVER = "rfc2595/2.5/no-plaintext-after-tls-failure-server", "RFC 2595 §2.5",
        "https://www.rfc-editor.org/rfc/rfc2595#section-2.5", Must, Server, memory: false,
        "Both the client and server MUST check the result of the STARTTLS command and subsequent TLS negotiation to see whether acceptable authentication or privacy was achieved.";

    // ----- RFC 2595 §3.1 IMAP STARTTLS -----
    /// "only valid" has no key word; the catalogue (R12) and RFC 9051 read it as MUST.
    IMAP_NON_AUTHENTICATED_ONLY = "rfc2595/3.1/starttls-only-in-non-authenticated-state", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Must, Server, memory: false,
        "The STARTTLS command is only valid in non-authenticated state.";
    /// Descriptive sentence; the catalogue (R9) reads it as MUST.
    IMAP_TLS_BEGINS = "rfc2595/3.1/tls-begins-after-ok-crlf", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Must, Server, memory: false,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";
    IMAP_TLS_ONLY_AFTER_OK = "rfc2595/3.1/tls-only-after-ok", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Derived, Client, memory: false,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";
    IMAP_NO_FURTHER_COMMANDS = "rfc2595/3.1/no-commands-until-tls-complete", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", MustNot, Client, memory: false,
        "Once a client issues a STARTTLS command, it MUST NOT issue further commands until a server response is seen and the TLS negotiation is complete.";
    IMAP_REMAINS_NON_AUTHENTICATED = "rfc2595/3.1/remains-non-authenticated", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Must, Server, memory: false,
        "The server remains in non-authenticated state, even if client credentials are supplied during the TLS negotiation.";
    IMAP_DISCARD_CAPABILITIES = "rfc2595/3.1/discard-cached-capabilities", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Must, Client, memory: false,
        "Once TLS has been started, the client MUST discard cached information about server capabilities and SHOULD re-issue the CAPABILITY command.";
    IMAP_REISSUE_CAPABILITY = "rfc2595/3.1/reissue-capability", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Should, Client, memory: false,
        "Once TLS has been started, the client MUST discard cached information about server capabilities and SHOULD re-issue the CAPABILITY command.";
    /// From the §3.1 example (the client speaks first inside TLS); catalogue
    /// imap.server.starttls.ok-then-handshake.
    IMAP_NO_GREETING_AFTER_TLS = "rfc2595/3.1/no-greeting-after-tls", "RFC 2595 §3.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.1", Derived, Server, memory: true,
        "S: a002 OK Begin TLS negotiation now / <TLS negotiation, further commands are under TLS layer> / C: a003 CAPABILITY";

    // ----- RFC 2595 §3.2 LOGINDISABLED -----
    LOGINDISABLED_SUPPORTED = "rfc2595/3.2/logindisabled-on-unencrypted-connections", "RFC 2595 §3.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.2", Must, Server, memory: false,
        "An IMAP server which implements STARTTLS MUST implement support for the LOGINDISABLED capability on unencrypted connections.";
    /// "will respond" has no key word; the catalogue (R16) and RFC 9051 §6.2.3 read it as MUST.
    LOGINDISABLED_REFUSES_LOGIN = "rfc2595/3.2/login-refused-when-disabled", "RFC 2595 §3.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.2", Must, Server, memory: false,
        "Such a server will respond with a tagged \"NO\" response to any attempt to use the LOGIN command.";
    LOGINDISABLED_REFUSES_WITH_NO = "rfc2595/3.2/login-refused-with-no", "RFC 2595 §3.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.2", Should, Server, memory: false,
        "Such a server will respond with a tagged \"NO\" response to any attempt to use the LOGIN command.";
    LOGINDISABLED_CLIENT = "rfc2595/3.2/no-login-when-disabled", "RFC 2595 §3.2",
        "https://www.rfc-editor.org/rfc/rfc2595#section-3.2", MustNot, Client, memory: false,
        "An IMAP client which complies with this specification MUST NOT issue the LOGIN command if this capability is present.";

    // ----- RFC 2595 §4 POP3 STLS -----
    POP3_CAPA_REQUIRED = "rfc2595/4/capa-implemented-with-stls", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Must, Server, memory: false,
        "If this is implemented, the POP3 extension mechanism [POP3EXT] MUST also be implemented to avoid the need for client probing of multiple commands.";
    /// The definition of the capability; the catalogue (R19) reads it as MUST.
    POP3_STLS_LISTED_WHEN_PERMITTED = "rfc2595/4/stls-listed-only-when-permitted", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Must, Server, memory: false,
        "The capability name \"STLS\" indicates this command is present and permitted in the current state.";
    POP3_AUTHORIZATION_ONLY = "rfc2595/4/stls-only-in-authorization-state", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Must, Server, memory: false,
        "The STLS command is only permitted in AUTHORIZATION state and the server remains in AUTHORIZATION state, even if client credentials are supplied during the TLS negotiation.";
    POP3_REMAINS_AUTHORIZATION = "rfc2595/4/remains-in-authorization-state", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Must, Server, memory: false,
        "The STLS command is only permitted in AUTHORIZATION state and the server remains in AUTHORIZATION state, even if client credentials are supplied during the TLS negotiation.";
    POP3_TLS_BEGINS = "rfc2595/4/tls-begins-after-ok-crlf", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Must, Server, memory: false,
        "A TLS negotiation begins immediately after the CRLF at the end of the +OK response from the server.";
    POP3_TLS_ONLY_AFTER_OK = "rfc2595/4/tls-only-after-ok", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Derived, Client, memory: false,
        "A TLS negotiation begins immediately after the CRLF at the end of the +OK response from the server.";
    /// The bytes after the +OK CRLF belong to the handshake, so they are never commands
    /// (RFC 9051 §6.2.1 applied to POP3; catalogue R11 DERIVED).
    POP3_POST_OK_BYTES_ARE_TLS = "rfc2595/4/post-ok-bytes-are-tls", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Derived, Server, memory: false,
        "A TLS negotiation begins immediately after the CRLF at the end of the +OK response from the server.";
    POP3_NO_FURTHER_COMMANDS = "rfc2595/4/no-commands-until-tls-complete", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", MustNot, Client, memory: false,
        "Once a client issues a STLS command, it MUST NOT issue further commands until a server response is seen and the TLS negotiation is complete.";
    /// A MAY for the -ERR; accepting (a nested TLS layer) is DERIVED (catalogue R19).
    POP3_REFUSED_WHEN_TLS_ACTIVE = "rfc2595/4/stls-refused-when-tls-active", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Derived, Server, memory: false,
        "A -ERR response MAY result if a security layer is already active.";
    POP3_NOT_SENT_WHEN_TLS_ACTIVE = "rfc2595/4/no-stls-when-tls-active", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Derived, Client, memory: false,
        "A -ERR response MAY result if a security layer is already active.";
    POP3_DISCARD_CAPABILITIES = "rfc2595/4/discard-cached-capabilities", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Must, Client, memory: false,
        "Once TLS has been started, the client MUST discard cached information about server capabilities and SHOULD re-issue the CAPA command.";
    POP3_REISSUE_CAPA = "rfc2595/4/reissue-capa", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Should, Client, memory: false,
        "Once TLS has been started, the client MUST discard cached information about server capabilities and SHOULD re-issue the CAPA command.";
    /// From the §4 example; catalogue pop3.server.no-greeting-after-stls (DERIVED).
    POP3_NO_GREETING_AFTER_TLS = "rfc2595/4/no-greeting-after-tls", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Derived, Server, memory: true,
        "C: STLS / S: +OK Begin TLS negotiation / <TLS negotiation, further commands are under TLS layer>";
    /// Derived (catalogue pop3.server.stls.pending-user-reset, SHOULD): a USER fixed in
    /// plaintext must not complete a login inside TLS.
    POP3_PRE_TLS_USER_FORGOTTEN = "rfc2595/4/pre-tls-user-forgotten", "RFC 2595 §4",
        "https://www.rfc-editor.org/rfc/rfc2595#section-4", Should, Server, memory: false,
        "The STLS command is only permitted in AUTHORIZATION state and the server remains in AUTHORIZATION state, even if client credentials are supplied during the TLS negotiation.";

    // ----- RFC 2595 §5.1 ACAP STARTTLS (not in the seeds: catalogue + memory) -----
    ACAP_NON_AUTHENTICATED_ONLY = "rfc2595/5.1/starttls-only-in-non-authenticated-state", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Must, Server, memory: true,
        "The STARTTLS command is only valid in non-authenticated state.";
    ACAP_TLS_BEGINS = "rfc2595/5.1/tls-begins-after-ok-crlf", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Must, Server, memory: true,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";
    ACAP_TLS_ONLY_AFTER_OK = "rfc2595/5.1/tls-only-after-ok", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Derived, Client, memory: true,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";
    ACAP_POST_OK_BYTES_ARE_TLS = "rfc2595/5.1/post-ok-bytes-are-tls", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Derived, Server, memory: true,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";
    ACAP_NO_FURTHER_COMMANDS = "rfc2595/5.1/no-commands-until-tls-complete", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", MustNot, Client, memory: true,
        "Once a client issues a STARTTLS command, it MUST NOT issue further commands until a server response is seen and the TLS negotiation is complete.";
    ACAP_REMAINS_NON_AUTHENTICATED = "rfc2595/5.1/remains-non-authenticated", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Must, Server, memory: true,
        "The server remains in non-authenticated state, even if client credentials are supplied during the TLS negotiation.";
    ACAP_REISSUE_GREETING = "rfc2595/5.1/reissue-greeting", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Must, Server, memory: true,
        "After the TLS layer is established, the server MUST re-issue an untagged ACAP greeting.";
    ACAP_DISCARD_CAPABILITIES = "rfc2595/5.1/discard-cached-capabilities", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Must, Client, memory: true,
        "The client MUST discard cached capability information and replace it with the information from the new ACAP greeting.";
    /// No sentence covers a second STARTTLS in ACAP: an OK inside TLS would start a
    /// nested negotiation nothing provides for.
    ACAP_REFUSED_WHEN_TLS_ACTIVE = "rfc2595/5.1/starttls-refused-when-tls-active", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Derived, Server, memory: true,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";
    ACAP_NOT_SENT_WHEN_TLS_ACTIVE = "rfc2595/5.1/no-starttls-when-tls-active", "RFC 2595 §5.1",
        "https://www.rfc-editor.org/rfc/rfc2595#section-5.1", Derived, Client, memory: true,
        "A TLS negotiation begins immediately after the CRLF at the end of the tagged OK response from the server.";

    // ----- RFC 2595 §6 PLAIN -----
    PLAIN_NOT_ADVERTISED = "rfc2595/6/plain-not-advertised-without-tls", "RFC 2595 §6",
        "https://www.rfc-editor.org/rfc/rfc2595#section-6", MustNot, Server, memory: false,
        "The PLAIN SASL mechanism MUST NOT be advertised or used unless a strong encryption layer (such as the provided by TLS) is active or backwards compatibility dictates otherwise.";
    PLAIN_NOT_ACCEPTED = "rfc2595/6/plain-not-accepted-without-tls", "RFC 2595 §6",
        "https://www.rfc-editor.org/rfc/rfc2595#section-6", MustNot, Server, memory: false,
        "The PLAIN SASL mechanism MUST NOT be advertised or used unless a strong encryption layer (such as the provided by TLS) is active or backwards compatibility dictates otherwise.";
    PLAIN_NOT_USED = "rfc2595/6/plain-not-used-without-tls", "RFC 2595 §6",
        "https://www.rfc-editor.org/rfc/rfc2595#section-6", MustNot, Client, memory: false,
        "The PLAIN SASL mechanism MUST NOT be advertised or used unless a strong encryption layer (such as the provided by TLS) is active or backwards compatibility dictates otherwise.";

    // ----- RFC 9051 (IMAP4rev2; not in the seeds) -----
    IMAP_REFUSED_WHEN_TLS_ACTIVE = "rfc9051/6.2.1/starttls-refused-after-tls", "RFC 9051 §6.2.1",
        "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1", Derived, Server, memory: true,
        "BAD - STARTTLS received after a successful TLS negotiation or arguments invalid";
    IMAP_NOT_SENT_WHEN_TLS_ACTIVE = "rfc9051/6.2.1/no-starttls-after-tls", "RFC 9051 §6.2.1",
        "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1", Derived, Client, memory: true,
        "Note that the STARTTLS command is available only on cleartext ports.";
    IMAP_BAD_ON_IMPLICIT_TLS = "rfc9051/6.2.1/starttls-bad-on-implicit-tls", "RFC 9051 §6.2.1",
        "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1", Must, Server, memory: true,
        "The server MUST always respond with a tagged BAD response when the STARTTLS command is received on an Implicit TLS port.";
    IMAP_DISCARD_DATA_AFTER_STARTTLS = "rfc9051/6.2.1/discard-data-after-starttls", "RFC 9051 §6.2.1",
        "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1", Must, Server, memory: true,
        "server implementations MUST do one of the following if any data is received in the same TCP buffer after the CRLF that ends the STARTTLS command: [it] is interpreted as the beginning of the TLS handshake [or it] is thrown away.";
    IMAP_STARTTLS_NOT_ADVERTISED_AFTER_TLS = "rfc9051/6.2.1/starttls-not-advertised-after-tls", "RFC 9051 §6.2.1",
        "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1", ShouldNot, Server, memory: true,
        "The server MAY advertise different capabilities and, in particular, SHOULD NOT advertise the STARTTLS capability, after a successful STARTTLS command.";
    PREAUTH_ONLY_WHEN_PROTECTED = "rfc9051/7.1.4/preauth-only-when-protected", "RFC 9051 §7.1.4",
        "https://www.rfc-editor.org/rfc/rfc9051#section-7.1.4", Should, Server, memory: true,
        "PREAUTH response SHOULD only be returned by servers on connections that are protected by TLS (such as on an Implicit TLS port [RFC8314]) or by other means.";
    PREAUTH_CLIENT_CLOSES = "rfc9051/7.1.4/close-on-cleartext-preauth", "RFC 9051 §7.1.4",
        "https://www.rfc-editor.org/rfc/rfc9051#section-7.1.4", Must, Client, memory: true,
        "Clients that require mandatory TLS MUST close the connection after receiving the PREAUTH response on a non-protected port.";

    // ----- RFC 8314 implicit TLS (not in the seeds; the POP3S draft seed agrees) -----
    /// Draft-melnikov-pop3-over-tls §2.1 (seed 004): "As soon as successful connection
    /// is established, the TLS negotiation SHALL be preformed."
    POP3S_TLS_FIRST_SERVER = "rfc8314/3.1/tls-first-server", "RFC 8314 §3.1",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.1", Must, Server, memory: true,
        "When a TCP connection is established for the \"pop3s\" service (default port 995), a TLS handshake begins immediately.";
    POP3S_TLS_FIRST_CLIENT = "rfc8314/3.1/tls-first-client", "RFC 8314 §3.1",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.1", Must, Client, memory: true,
        "When a TCP connection is established for the \"pop3s\" service (default port 995), a TLS handshake begins immediately.";
    /// Draft §2.1 (seed 004): "Both the server and the client MUST enter AUTHORIZATION
    /// state then."
    POP3S_AUTHORIZATION = "rfc8314/3.1/authorization-state-after-greeting", "RFC 8314 §3.1",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.1", Must, Server, memory: true,
        "After the server sends an +OK greeting, the server and client MUST enter the AUTHORIZATION state, even if a client certificate was supplied during the TLS handshake.";
    IMAPS_TLS_FIRST_SERVER = "rfc8314/3.2/tls-first-server", "RFC 8314 §3.2",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.2", Must, Server, memory: true,
        "When a TCP connection is established for the \"imaps\" service (default port 993), a TLS handshake begins immediately.";
    IMAPS_TLS_FIRST_CLIENT = "rfc8314/3.2/tls-first-client", "RFC 8314 §3.2",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.2", Must, Client, memory: true,
        "When a TCP connection is established for the \"imaps\" service (default port 993), a TLS handshake begins immediately.";
    /// Only PREAUTH (with an acceptable client certificate) authenticates on 993; after an
    /// OK greeting the server is not authenticated.
    IMAPS_NOT_AUTHENTICATED = "rfc8314/3.2/not-authenticated-after-ok-greeting", "RFC 8314 §3.2",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.2", Derived, Server, memory: true,
        "If a client certificate was provided during the TLS handshake that the server finds acceptable, the server MAY issue a PREAUTH greeting in which case both the server and client enter the AUTHENTICATED state.";
    IMPLICIT_TLS_FIRST_SERVER = "rfc8314/3/tls-first-server", "RFC 8314 §3",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3", Must, Server, memory: true,
        "an alternate mechanism where TLS is negotiated immediately at connection start on a separate port (referred to in this document as \"Implicit TLS\")";
    IMPLICIT_TLS_FIRST_CLIENT = "rfc8314/3/tls-first-client", "RFC 8314 §3",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3", Must, Client, memory: true,
        "an alternate mechanism where TLS is negotiated immediately at connection start on a separate port (referred to in this document as \"Implicit TLS\")";
    /// Draft §2.3 (seed 004) is stronger for POP3S clients: "the client SHALL initiate
    /// the exchange of TLS close alerts, which should happen before TCP connection
    /// termination".
    CLOSE_NOTIFY_CLIENT = "rfc8314/3.4/close-notify-before-tcp-close-client", "RFC 8314 §3.4",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.4", Should, Client, memory: true,
        "When a client or server wishes to close the connection, it SHOULD initiate the exchange of TLS close alerts before TCP connection termination.";
    CLOSE_NOTIFY_SERVER = "rfc8314/3.4/close-notify-before-tcp-close-server", "RFC 8314 §3.4",
        "https://www.rfc-editor.org/rfc/rfc8314#section-3.4", Should, Server, memory: true,
        "When a client or server wishes to close the connection, it SHOULD initiate the exchange of TLS close alerts before TCP connection termination.";
    MINIMUM_CONFIDENTIALITY = "rfc8314/5.2/no-operation-before-tls", "RFC 8314 §5.2",
        "https://www.rfc-editor.org/rfc/rfc8314#section-5.2", MustNot, Client, memory: true,
        "[An MUA requiring a minimum level of confidentiality] MUST NOT attempt to perform any operation other than capability discovery, or STARTTLS for servers that support it, [until] the minimum level of confidentiality is provided.";
}

/// A broken rule: what the observed party did, against what the RFC asks.
///
/// `Display` reads "got X when expecting Y". [`Violation::rule`] gives the clause.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    // ----- server: accepting STARTTLS where it is not valid -----
    /// The server accepted STARTTLS outside the non-authenticated state (IMAP, ACAP):
    /// the session-fixation class (CVE-2021-37845).
    #[error(
        "got OK to {protocol} STARTTLS in the {state} state when expecting NO or BAD: STARTTLS is only valid in the non-authenticated state"
    )]
    StarttlsAcceptedWhenAuthenticated {
        /// IMAP or ACAP.
        protocol: Protocol,
        /// The state the server was in.
        state: Session,
    },
    /// The POP3 server accepted STLS outside the AUTHORIZATION state.
    #[error(
        "got +OK to STLS in the {state} state when expecting -ERR: STLS is only permitted in the AUTHORIZATION state"
    )]
    StlsAcceptedOutsideAuthorization {
        /// The state the server was in.
        state: Session,
    },
    /// The server accepted STARTTLS/STLS with TLS already active (a nested TLS layer).
    #[error(
        "got {ok} to {protocol} {command} with TLS already active when expecting a refusal",
        ok = protocol.ok_word(), command = protocol.starttls_command()
    )]
    StarttlsAcceptedWithTlsActive {
        /// The protocol.
        protocol: Protocol,
    },
    /// The IMAP server accepted STARTTLS on an implicit-TLS port.
    #[error("got OK to STARTTLS on an implicit-TLS port when expecting a tagged BAD")]
    StarttlsAcceptedOnImplicitTls,
    /// The IMAP server answered STARTTLS on an implicit-TLS port with NO.
    #[error("got NO to STARTTLS on an implicit-TLS port when expecting a tagged BAD")]
    StarttlsOnImplicitTlsAnsweredNo,

    // ----- server: the upgrade itself -----
    /// The server sent octets after the STARTTLS OK and before the handshake.
    #[error(
        "got plaintext from the server after the {protocol} {command} {ok} when expecting the TLS handshake right after its CRLF",
        ok = protocol.ok_word(), command = protocol.starttls_command()
    )]
    PlaintextAfterStarttlsOk {
        /// The protocol.
        protocol: Protocol,
    },
    /// The server answered inside TLS a command that arrived in plaintext after
    /// STARTTLS (CVE-2011-0411 class).
    #[error(
        "got a response inside TLS to {tag}, sent in plaintext after {command}, when expecting it discarded or treated as handshake data",
        tag = tag.as_deref().unwrap_or("a command"), command = protocol.starttls_command()
    )]
    PipelinedCommandExecutedAfterTls {
        /// The protocol.
        protocol: Protocol,
        /// The injected command's tag (IMAP, ACAP).
        tag: Option<String>,
    },
    /// The server treated TLS alone as authentication: it accepted a command that needs
    /// authentication before any authentication inside TLS.
    #[error(
        "got {ok} to {command} after the TLS handshake without authentication when expecting a refusal: the server remains not authenticated",
        ok = protocol.ok_word()
    )]
    AuthenticatedByTlsAlone {
        /// The protocol.
        protocol: Protocol,
        /// STARTTLS upgrade or implicit TLS.
        transport: Transport,
        /// The command the server accepted.
        command: CommandKind,
    },
    /// The server sent a second greeting after the IMAP STARTTLS / POP3 STLS handshake.
    #[error(
        "got a greeting after the {command} handshake when expecting the server to wait for a command",
        command = protocol.starttls_command()
    )]
    GreetingAfterStarttls {
        /// IMAP or POP3.
        protocol: Protocol,
    },
    /// The ACAP server did not re-issue its greeting after the STARTTLS handshake.
    #[error(
        "got {got} after the ACAP STARTTLS handshake when expecting a re-issued untagged ACAP greeting"
    )]
    NoGreetingAfterAcapStarttls {
        /// What came instead: "another response", "a timeout", "a TCP close".
        got: &'static str,
    },
    /// The IMAP server listed STARTTLS with TLS active.
    #[error("got STARTTLS in a capability list inside TLS when expecting it absent")]
    StarttlsAdvertisedAfterTls,
    /// The POP3 server listed STLS in CAPA with TLS active.
    #[error(
        "got STLS in the CAPA list with TLS active when expecting it listed only where STLS is permitted"
    )]
    StlsListedAfterTls,
    /// The POP3 server listed STLS in CAPA outside AUTHORIZATION.
    #[error(
        "got STLS in the CAPA list in the {state} state when expecting it listed only in AUTHORIZATION"
    )]
    StlsListedOutsideAuthorization {
        /// The state the server was in.
        state: Session,
    },
    /// The POP3 server implements STLS but refused CAPA.
    #[error("got STLS from a server that refused CAPA when expecting CAPA to be implemented")]
    StlsWithoutCapa,

    // ----- server: clear-text authentication -----
    /// An IMAP server refusing clear-text logins offered STARTTLS without LOGINDISABLED.
    #[error(
        "got a cleartext capability list with STARTTLS but without LOGINDISABLED when expecting LOGINDISABLED (server profile refuses clear-text logins)"
    )]
    LoginDisabledNotAdvertised,
    /// The IMAP server accepted LOGIN while advertising LOGINDISABLED.
    #[error("got OK to LOGIN while LOGINDISABLED is advertised when expecting a tagged NO")]
    LoginAcceptedDespiteLoginDisabled,
    /// The IMAP server refused LOGIN with BAD while advertising LOGINDISABLED.
    #[error("got BAD to LOGIN while LOGINDISABLED is advertised when expecting a tagged NO")]
    LoginDisabledAnsweredWithBad,
    /// The server advertised PLAIN before TLS.
    #[error(
        "got PLAIN advertised by the {protocol} server before TLS when expecting it only with TLS active"
    )]
    PlainAdvertisedInCleartext {
        /// The protocol.
        protocol: Protocol,
    },
    /// The server accepted PLAIN authentication before TLS.
    #[error("got {protocol} PLAIN authentication accepted before TLS when expecting a refusal")]
    PlainAcceptedInCleartext {
        /// The protocol.
        protocol: Protocol,
    },
    /// A server refusing clear-text logins accepted one before TLS.
    #[error(
        "got {command} accepted before TLS when expecting a refusal (server profile refuses clear-text logins)"
    )]
    CleartextLoginAccepted {
        /// The login command accepted.
        command: CommandKind,
    },
    /// A POP3 server refusing clear-text logins accepted USER before TLS, inviting PASS.
    #[error(
        "got +OK to USER before TLS when expecting -ERR at USER, before the password is sent (server profile refuses clear-text logins)"
    )]
    CleartextUserAccepted,
    /// The POP3 server completed a login inside TLS with a USER given before TLS.
    #[error(
        "got +OK to PASS inside TLS for a USER sent before STLS when expecting the pre-TLS USER to be forgotten"
    )]
    PreTlsUserKeptAfterTls,
    /// The IMAP server sent PREAUTH on a cleartext connection.
    #[error(
        "got a PREAUTH greeting in cleartext when expecting OK: PREAUTH belongs on protected connections"
    )]
    PreauthOnPlaintext,
    /// The server sent plaintext on an implicit-TLS port before the handshake.
    #[error(
        "got plaintext from the {protocol} server on an implicit-TLS port when expecting the TLS handshake first"
    )]
    ServerPlaintextBeforeHandshake {
        /// The protocol.
        protocol: Protocol,
    },

    // ----- client -----
    /// The client sent data after STARTTLS before the response and the handshake.
    #[error(
        "got client data {when} {command} when expecting silence until the response and the TLS handshake",
        when = if *same_write { "in the same write as" } else { "after" },
        command = protocol.starttls_command()
    )]
    CommandPipelinedAfterStarttls {
        /// The protocol.
        protocol: Protocol,
        /// It arrived in the same write as the previous command.
        same_write: bool,
    },
    /// The client sent plaintext on an implicit-TLS port before the handshake.
    #[error(
        "got plaintext from the {protocol} client on an implicit-TLS port when expecting a TLS ClientHello"
    )]
    ClientPlaintextBeforeHandshake {
        /// The protocol.
        protocol: Protocol,
    },
    /// After TLS the client used a capability it learnt only before TLS.
    #[error(
        "got {capability} used inside TLS, advertised only before TLS, when expecting only capabilities learnt after the handshake"
    )]
    StaleCapabilityUsedAfterTls {
        /// The protocol.
        protocol: Protocol,
        /// The capability (`AUTH=PLAIN`, `USER`).
        capability: String,
    },
    /// After the STARTTLS handshake the client went on without re-reading capabilities.
    #[error(
        "got {command} inside TLS before any capability request when expecting {request} first",
        request = if *protocol == Protocol::Pop3 { "CAPA" } else { "CAPABILITY" }
    )]
    CapabilityNotReissuedAfterTls {
        /// IMAP or POP3.
        protocol: Protocol,
        /// The command sent instead.
        command: CommandKind,
    },
    /// The IMAP client sent LOGIN although LOGINDISABLED is advertised.
    #[error("got LOGIN while LOGINDISABLED is advertised when expecting no LOGIN")]
    LoginSentDespiteLoginDisabled,
    /// The client used PLAIN before TLS.
    #[error(
        "got {protocol} AUTHENTICATE PLAIN before TLS when expecting PLAIN only with TLS active"
    )]
    PlainUsedInCleartext {
        /// The protocol.
        protocol: Protocol,
    },
    /// A client requiring TLS did more than capability discovery and STARTTLS before TLS.
    #[error(
        "got {command} before TLS when expecting only capability discovery or STARTTLS (client profile requires TLS)"
    )]
    OperationBeforeTls {
        /// The command sent.
        command: CommandKind,
    },
    /// An opportunistic client authenticated without TLS (RFC 2595 §2.2 MAY: information).
    #[error(
        "got {command} before TLS when expecting STARTTLS first (opportunistic profile: recorded, allowed)"
    )]
    AuthenticatedWithoutTls {
        /// The authentication command.
        command: CommandKind,
    },
    /// A client requiring TLS went on after a cleartext PREAUTH.
    #[error(
        "got {command} after a cleartext PREAUTH when expecting the client to close the connection"
    )]
    ContinuedAfterPlaintextPreauth {
        /// The command sent.
        command: CommandKind,
    },
    /// The client sent STARTTLS/STLS with TLS already active.
    #[error(
        "got {command} from the client with TLS already active when expecting no second {command}",
        command = protocol.starttls_command()
    )]
    StarttlsSentWithTlsActive {
        /// The protocol.
        protocol: Protocol,
    },
    /// A TLS handshake happened without an OK to STARTTLS (early completion, tag confusion).
    #[error(
        "got a TLS handshake without an {ok} to {command} when expecting the handshake only after that {ok}",
        ok = protocol.ok_word(), command = protocol.starttls_command()
    )]
    TlsStartedWithoutStarttlsOk {
        /// The protocol.
        protocol: Protocol,
    },

    // ----- either party -----
    /// A party went on in plaintext after the TLS handshake failed.
    #[error(
        "got plaintext from the {by} after a failed TLS handshake when expecting the connection closed"
    )]
    PlaintextAfterTlsFailure {
        /// Who sent it.
        by: Party,
    },
    /// In privacy mode a party went on in plaintext after TLS was closed.
    #[error(
        "got plaintext from the {by} after TLS was closed when expecting the connection terminated (privacy mode)"
    )]
    PlaintextAfterTlsClosed {
        /// Who sent it.
        by: Party,
    },
    /// A party closed TCP under TLS without a close_notify exchange.
    #[error("got a TCP close from the {by} inside TLS when expecting a TLS close_notify first")]
    NoCloseNotify {
        /// Who closed.
        by: Party,
    },
}

impl Violation {
    /// The rule this breaks.
    pub fn rule(&self) -> &'static Rule {
        use Protocol::{Acap, Imap, Pop3};
        match self {
            Self::StarttlsAcceptedWhenAuthenticated { protocol, .. } => match protocol {
                Acap => &ACAP_NON_AUTHENTICATED_ONLY,
                Pop3 => &POP3_AUTHORIZATION_ONLY,
                Imap => &IMAP_NON_AUTHENTICATED_ONLY,
            },
            Self::StlsAcceptedOutsideAuthorization { .. } => &POP3_AUTHORIZATION_ONLY,
            Self::StarttlsAcceptedWithTlsActive { protocol } => match protocol {
                Imap => &IMAP_REFUSED_WHEN_TLS_ACTIVE,
                Pop3 => &POP3_REFUSED_WHEN_TLS_ACTIVE,
                Acap => &ACAP_REFUSED_WHEN_TLS_ACTIVE,
            },
            Self::StarttlsAcceptedOnImplicitTls | Self::StarttlsOnImplicitTlsAnsweredNo => {
                &IMAP_BAD_ON_IMPLICIT_TLS
            }
            Self::PlaintextAfterStarttlsOk { protocol } => match protocol {
                Imap => &IMAP_TLS_BEGINS,
                Pop3 => &POP3_TLS_BEGINS,
                Acap => &ACAP_TLS_BEGINS,
            },
            Self::PipelinedCommandExecutedAfterTls { protocol, .. } => match protocol {
                Imap => &IMAP_DISCARD_DATA_AFTER_STARTTLS,
                Pop3 => &POP3_POST_OK_BYTES_ARE_TLS,
                Acap => &ACAP_POST_OK_BYTES_ARE_TLS,
            },
            Self::AuthenticatedByTlsAlone {
                protocol,
                transport,
                ..
            } => match (protocol, transport) {
                (Imap, Transport::Starttls) => &IMAP_REMAINS_NON_AUTHENTICATED,
                (Imap, Transport::Implicit) => &IMAPS_NOT_AUTHENTICATED,
                (Pop3, Transport::Starttls) => &POP3_REMAINS_AUTHORIZATION,
                (Pop3, Transport::Implicit) => &POP3S_AUTHORIZATION,
                (Acap, _) => &ACAP_REMAINS_NON_AUTHENTICATED,
            },
            Self::GreetingAfterStarttls { protocol } => match protocol {
                Pop3 => &POP3_NO_GREETING_AFTER_TLS,
                Imap | Acap => &IMAP_NO_GREETING_AFTER_TLS,
            },
            Self::NoGreetingAfterAcapStarttls { .. } => &ACAP_REISSUE_GREETING,
            Self::StarttlsAdvertisedAfterTls => &IMAP_STARTTLS_NOT_ADVERTISED_AFTER_TLS,
            Self::StlsListedAfterTls | Self::StlsListedOutsideAuthorization { .. } => {
                &POP3_STLS_LISTED_WHEN_PERMITTED
            }
            Self::StlsWithoutCapa => &POP3_CAPA_REQUIRED,
            Self::LoginDisabledNotAdvertised => &LOGINDISABLED_SUPPORTED,
            Self::LoginAcceptedDespiteLoginDisabled => &LOGINDISABLED_REFUSES_LOGIN,
            Self::LoginDisabledAnsweredWithBad => &LOGINDISABLED_REFUSES_WITH_NO,
            Self::PlainAdvertisedInCleartext { .. } => &PLAIN_NOT_ADVERTISED,
            Self::PlainAcceptedInCleartext { .. } => &PLAIN_NOT_ACCEPTED,
            Self::CleartextLoginAccepted { .. } => &CLEARTEXT_REFUSED,
            Self::CleartextUserAccepted => &CLEARTEXT_USER_REFUSED_EARLY,
            Self::PreTlsUserKeptAfterTls => &POP3_PRE_TLS_USER_FORGOTTEN,
            Self::PreauthOnPlaintext => &PREAUTH_ONLY_WHEN_PROTECTED,
            Self::ServerPlaintextBeforeHandshake { protocol } => match protocol {
                Imap => &IMAPS_TLS_FIRST_SERVER,
                Pop3 => &POP3S_TLS_FIRST_SERVER,
                Acap => &IMPLICIT_TLS_FIRST_SERVER,
            },
            Self::CommandPipelinedAfterStarttls { protocol, .. } => match protocol {
                Imap => &IMAP_NO_FURTHER_COMMANDS,
                Pop3 => &POP3_NO_FURTHER_COMMANDS,
                Acap => &ACAP_NO_FURTHER_COMMANDS,
            },
            Self::ClientPlaintextBeforeHandshake { protocol } => match protocol {
                Imap => &IMAPS_TLS_FIRST_CLIENT,
                Pop3 => &POP3S_TLS_FIRST_CLIENT,
                Acap => &IMPLICIT_TLS_FIRST_CLIENT,
            },
            Self::StaleCapabilityUsedAfterTls { protocol, .. } => match protocol {
                Imap => &IMAP_DISCARD_CAPABILITIES,
                Pop3 => &POP3_DISCARD_CAPABILITIES,
                Acap => &ACAP_DISCARD_CAPABILITIES,
            },
            Self::CapabilityNotReissuedAfterTls { protocol, .. } => match protocol {
                Pop3 => &POP3_REISSUE_CAPA,
                Imap | Acap => &IMAP_REISSUE_CAPABILITY,
            },
            Self::LoginSentDespiteLoginDisabled => &LOGINDISABLED_CLIENT,
            Self::PlainUsedInCleartext { .. } => &PLAIN_NOT_USED,
            Self::OperationBeforeTls { .. } => &MINIMUM_CONFIDENTIALITY,
            Self::AuthenticatedWithoutTls { .. } => &OPPORTUNISTIC_CLIENT,
            Self::ContinuedAfterPlaintextPreauth { .. } => &PREAUTH_CLIENT_CLOSES,
            Self::StarttlsSentWithTlsActive { protocol } => match protocol {
                Imap => &IMAP_NOT_SENT_WHEN_TLS_ACTIVE,
                Pop3 => &POP3_NOT_SENT_WHEN_TLS_ACTIVE,
                Acap => &ACAP_NOT_SENT_WHEN_TLS_ACTIVE,
            },
            Self::TlsStartedWithoutStarttlsOk { protocol } => match protocol {
                Imap => &IMAP_TLS_ONLY_AFTER_OK,
                Pop3 => &POP3_TLS_ONLY_AFTER_OK,
                Acap => &ACAP_TLS_ONLY_AFTER_OK,
            },
            Self::PlaintextAfterTlsFailure { by } => match by {
                Party::Client => &CHECK_RESULT_CLIENT,
                Party::Server => &CHECK_RESULT_SERVER,
            },
            Self::PlaintextAfterTlsClosed { by } => match by {
                Party::Client => &PRIVACY_MODE_CLIENT,
                Party::Server => &PRIVACY_MODE_SERVER,
            },
            Self::NoCloseNotify { by } => match by {
                Party::Client => &CLOSE_NOTIFY_CLIENT,
                Party::Server => &CLOSE_NOTIFY_SERVER,
            },
        }
    }

    /// Who broke the rule.
    pub fn party(&self) -> Party {
        self.rule().party
    }

    /// How strong the rule is.
    pub fn level(&self) -> Level {
        self.rule().level
    }
}
