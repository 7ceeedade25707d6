//! The fault switches of the reference client: each one injects exactly one known client
//! defect, so that a client-role scenario that must catch that defect can be shown to
//! FAIL against it.
//!
//! A [`ClientFault`] has a stable kebab-case id (what `mailtls peer-client --fault`,
//! expectation files and reports spell), a one-line description, the client scenarios it
//! is meant to break (`/work/shared/reference/starttls-catalogue.md` §4.5–4.9), and the
//! protocols and transports where it changes anything: a switch that does not apply is
//! a no-op.

use std::fmt;
use std::str::FromStr;

use crate::model::Protocol;
use crate::peers::switch::{ALL_PROTOCOLS, IMAP, POP3, Reach, Row};

/// One known defect the reference client can be told to have.
///
/// Deliberately not `#[non_exhaustive]`: a `match` over faults (the wire tests have one)
/// should stop compiling when a fault is added without a demonstration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientFault {
    /// The certificate's names are not checked at all: any name is accepted
    /// (Outlook mobile, CVE-2011-4318 class).
    NoNameCheck,
    /// A `*` in a presented name matches too much: several labels, the bare parent
    /// (`*.example.test` for `example.test`), or part of a label (`m*.example.test`).
    OverbroadWildcard,
    /// The chain is not checked: self-signed, unknown-CA and expired certificates are
    /// accepted (EAST T_1, T_2, T_4; CVE-2021-26911 class). The name still is.
    NoChainCheck,
    /// After STARTTLS/STLS the capability list seen in cleartext (IMAP: the last one,
    /// which may come with the STARTTLS answer) is kept: no CAPABILITY/CAPA is issued
    /// (ACAP: the re-issued greeting is not waited for), so a mechanism only advertised
    /// before TLS (PLAIN) is used (MailKit GHSA-9j88-vvj5-vhgr class).
    StaleCapabilities,
    /// IMAP: LOGIN is used although LOGINDISABLED is advertised.
    LoginDespiteLogindisabled,
    /// Plaintext that followed the STARTTLS/STLS OK (in the same read, or within a
    /// moment before the handshake) is kept and processed inside TLS as if the server
    /// had sent it there (CVE-2021-22947, CVE-2020-14954 class).
    ActsOnInjectedPlaintext,
    /// When STARTTLS/STLS is not advertised, or is refused (NO, BAD, -ERR, another
    /// status, a `+` continuation; IMAP also `* BYE` or a close), the session goes on in
    /// cleartext and sends credentials (CVE-2020-37248, CVE-2021-32066 class).
    ContinuesWithoutStarttls,
    /// LOGOUT/QUIT is followed by a TCP close without a TLS close_notify.
    NoCloseNotify,
    /// IMAP: a PREAUTH greeting on the cleartext port is accepted and the session goes on
    /// in cleartext (CVE-2020-12398, CVE-2020-14093 class).
    AcceptsCleartextPreauth,
    /// PLAIN is used before TLS whenever the cleartext capability list offers it
    /// (golang/go#22134 class).
    PlainInCleartext,
    /// The PLAIN message carries an extra NUL after the password, which
    /// [`crate::sasl::plain`] refuses under both profiles.
    MalformedPlain,
    /// A command is written in plaintext right after the STARTTLS/STLS OK, before the
    /// ClientHello.
    SendsBeforeHandshake,
    /// When the TLS handshake fails (an alert, plaintext or a close instead of a
    /// ServerHello, no answer, a refused certificate), the login goes out in cleartext on
    /// the same connection (EAST `starttls_transition:false`; Thunderbird-style fallback).
    PlaintextAfterHandshakeFailure,
    /// A connection the server ends after login, by a FIN without close_notify in the
    /// middle of a response, counts as a completed session: the truncated message is
    /// kept as if whole (the TLS truncation attack).
    AcceptsTruncation,
    /// Only TLS 1.3 is offered: a server that speaks TLS 1.2 only (RFC 8314 §5: MUAs
    /// MUST implement TLS 1.2 or later) cannot be reached.
    Tls13Only,
    /// The subject CN is the server's identity whenever there is one, and the dNSName
    /// SANs are ignored (RFC 2595 §2.4 and RFC 6125 §6.4.4 put the SANs first).
    CnOverSan,
    /// Names are compared octet for octet: `MAIL.Example.TEST` does not match
    /// `mail.example.test` (RFC 2595 §2.4: "Matching is case-insensitive").
    CaseSensitiveNames,
    /// A URI SAN whose host is the name (`imap://mail.example.test`) is taken as the
    /// server's identity (RFC 7817 §3: URI-IDs are not used).
    AcceptsUriSan,
    /// POP3: a `-ERR` greeting is taken as `+OK`, and the session goes on.
    IgnoresErrGreeting,
    /// POP3: a scan listing that follows the cleartext greeting is believed: inside TLS
    /// the message it lists is retrieved without a STAT or LIST there.
    TrustsCleartextListing,
    /// The handshake opens with a TLS 1.0 ClientHello offering CBC suites (what clients
    /// sent before RFC 8996), and an old ServerHello is not refused: the client waits for
    /// the rest of that handshake.
    OffersOldTls,
    /// The handshake opens with an SSL 2.0-compatible CLIENT-HELLO (first octet 0x80),
    /// which RFC 6176 forbids.
    Sslv2Hello,
    /// IMAP: a greeting that is neither `* OK` nor `* PREAUTH` (garbage, `* BAD`, `* NO`,
    /// `* BYE`, a tagged line) skips the TLS requirement: the session logs in in
    /// cleartext (CVE-2020-28896 class).
    IgnoresInvalidGreeting,
    /// IMAP: a tagged completion for a command not sent yet is kept, and completes that
    /// command as soon as it is sent (CVE-2026-42246 class).
    AcceptsEarlyCompletion,
    /// The TLS handshake has no timeout of its own: only the whole session's bound ends
    /// a handshake the server never answers (CVE-2011-1947 class).
    NoHandshakeTimeout,
    /// IMAP: a mailbox named in untagged LIST, LSUB or STATUS data before TLS is believed:
    /// the session selects it instead of INBOX (the Trojitá folder-injection class).
    TrustsCleartextMailboxData,
    /// IMAP: a NO or BAD answer to LOGIN, AUTHENTICATE or SELECT is taken as success: a
    /// refused login goes on to SELECT, a refused SELECT to a FETCH.
    IgnoresCommandFailure,
    /// IMAP: a REFERRAL response code is followed: the client leaves the connection at
    /// once for the server it names.
    FollowsReferrals,
    /// IMAP: on an implicit-TLS port, STARTTLS is sent when the list inside TLS offers it.
    StarttlsOnImplicit,
    /// When the server ends TLS with close_notify but keeps the TCP connection open, the
    /// session goes on in plaintext on it (RFC 2595 §2.2's privacy mode is missing).
    ContinuesAfterCloseNotify,
    /// When STARTTLS/STLS is refused or not offered, the client gives up on that
    /// connection, then connects again and logs in in cleartext (a retry that downgrades).
    ReconnectsInPlaintext,
}

impl ClientFault {
    /// Every fault, in a fixed order.
    pub const ALL: [Self; 31] = [
        Self::NoNameCheck,
        Self::OverbroadWildcard,
        Self::NoChainCheck,
        Self::StaleCapabilities,
        Self::LoginDespiteLogindisabled,
        Self::ActsOnInjectedPlaintext,
        Self::ContinuesWithoutStarttls,
        Self::NoCloseNotify,
        Self::AcceptsCleartextPreauth,
        Self::PlainInCleartext,
        Self::MalformedPlain,
        Self::SendsBeforeHandshake,
        Self::PlaintextAfterHandshakeFailure,
        Self::AcceptsTruncation,
        Self::Tls13Only,
        Self::CnOverSan,
        Self::CaseSensitiveNames,
        Self::AcceptsUriSan,
        Self::IgnoresErrGreeting,
        Self::TrustsCleartextListing,
        Self::OffersOldTls,
        Self::Sslv2Hello,
        Self::IgnoresInvalidGreeting,
        Self::AcceptsEarlyCompletion,
        Self::NoHandshakeTimeout,
        Self::TrustsCleartextMailboxData,
        Self::IgnoresCommandFailure,
        Self::FollowsReferrals,
        Self::StarttlsOnImplicit,
        Self::ContinuesAfterCloseNotify,
        Self::ReconnectsInPlaintext,
    ];

    fn row(self) -> Row {
        let row = |id, description, catalogue, protocols, reach| Row {
            id,
            description,
            catalogue,
            protocols,
            reach,
        };
        match self {
            Self::NoNameCheck => row(
                "no-name-check",
                "accepts a certificate whatever names it presents",
                &[
                    "any.client.cert.wrong-host",
                    "any.client.cert.san-over-cn",
                    "any.client.cert.mismatch-before-credentials",
                    "any.client.cert.checked-on-starttls",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::OverbroadWildcard => row(
                "overbroad-wildcard",
                "lets `*` match several labels, the bare parent name, or part of a label",
                &[
                    "any.client.cert.wildcard-not-apex",
                    "any.client.cert.wildcard-one-label-only",
                    "any.client.cert.wildcard-partial-label",
                    "any.client.cert.wildcard-not-leftmost",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::NoChainCheck => row(
                "no-chain-check",
                "accepts any chain: self-signed, unknown CA, expired (the name is still checked)",
                &[
                    "any.client.cert.self-signed",
                    "any.client.cert.untrusted-root",
                    "any.client.cert.expired",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::StaleCapabilities => row(
                "stale-capabilities",
                "does not re-issue CAPABILITY/CAPA (ACAP: ignores the re-issued greeting) after TLS; uses the cleartext list",
                &[
                    "imap.client.caps.discard-and-reissue",
                    "imap.client.tamper.capability-pre-tls-not-cached",
                    "pop3.client.caps.discard-and-reissue",
                    "acap.client.uses-reissued-greeting",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::LoginDespiteLogindisabled => row(
                "login-despite-logindisabled",
                "IMAP: sends LOGIN although LOGINDISABLED is advertised",
                &["imap.client.logindisabled.respected"],
                IMAP,
                Reach::Both,
            ),
            Self::ActsOnInjectedPlaintext => row(
                "acts-on-injected-plaintext",
                "keeps plaintext that followed the STARTTLS/STLS OK and processes it inside TLS as if the server had sent it",
                &[
                    "imap.client.inject.response-after-starttls-ok",
                    "imap.client.inject.tagged-completion-for-future-command",
                    "pop3.client.inject.response-after-stls-ok",
                    "acap.client.inject.greeting-after-starttls-ok",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::ContinuesWithoutStarttls => row(
                "continues-without-starttls",
                "when STARTTLS/STLS is not advertised or is refused, goes on in cleartext and sends credentials",
                &[
                    "imap.client.strip.capability-without-starttls",
                    "imap.client.strip.starttls-no",
                    "imap.client.strip.starttls-bad",
                    "imap.client.strip.starttls-continuation",
                    "imap.client.strip.capability-command-fails",
                    "imap.client.strip.starttls-unknown-response",
                    "imap.client.strip.starttls-bye-or-close",
                    "imap.client.downgrade.no-capability-imap2",
                    "imap.client.downgrade.imap4-not-rev1",
                    "pop3.client.strip.capa-without-stls",
                    "pop3.client.strip.stls-err",
                    "pop3.client.strip.capa-unsupported",
                    "pop3.client.user-pass.not-without-tls",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::NoCloseNotify => row(
                "no-close-notify",
                "closes TCP without a TLS close_notify after LOGOUT/QUIT",
                &["any.client.close-notify-on-logout"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::AcceptsCleartextPreauth => row(
                "accepts-cleartext-preauth",
                "IMAP: stays on a cleartext PREAUTH greeting (SELECT in cleartext) instead of closing",
                &["imap.client.preauth.abort"],
                IMAP,
                Reach::Starttls,
            ),
            Self::PlainInCleartext => row(
                "plain-in-cleartext",
                "authenticates with PLAIN before TLS whenever the cleartext capabilities offer it",
                &[
                    "imap.client.plain.not-without-tls",
                    "imap.client.pre-tls-command-allowlist",
                    "pop3.client.pre-tls-command-allowlist",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::MalformedPlain => row(
                "malformed-plain",
                "sends a PLAIN message with an extra NUL after the password (refused by RFC 2595 §6 and RFC 4616)",
                &["any.client.plain.well-formed"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::SendsBeforeHandshake => row(
                "sends-before-handshake",
                "writes a command in plaintext right after the STARTTLS/STLS OK, before the ClientHello",
                &[
                    "imap.client.starttls.no-pipelining",
                    "pop3.client.stls.no-pipelining",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::PlaintextAfterHandshakeFailure => row(
                "plaintext-after-handshake-failure",
                "when the TLS handshake fails, sends its login in cleartext on the same connection",
                &[
                    "imap.client.starttls.handshake-failure-no-fallback",
                    "pop3.client.starttls.handshake-failure-no-fallback",
                    "imaps.client.no-plaintext-fallback",
                    "pop3s.client.no-plaintext-fallback",
                    "any.client.cert.mismatch-before-credentials",
                    "tls.client.rejects-old-protocols",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::AcceptsTruncation => row(
                "accepts-truncation",
                "takes a connection cut after login by a FIN without close_notify as a completed session",
                &["any.client.truncation-not-accepted"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::Tls13Only => row(
                "tls13-only",
                "offers TLS 1.3 only, so a TLS 1.2 server cannot be reached",
                &["tls.client.tls12-supported"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::CnOverSan => row(
                "cn-over-san",
                "takes the subject CN as the server's identity whenever there is one, ignoring the dNSName SANs",
                &["any.client.cert.san-over-cn"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::CaseSensitiveNames => row(
                "case-sensitive-names",
                "compares names octet for octet (MAIL.Example.TEST does not match mail.example.test)",
                &["any.client.cert.case-insensitive"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::AcceptsUriSan => row(
                "accepts-uri-san",
                "takes a URI SAN whose host is the name (imap://mail.example.test) as the server's identity",
                &["any.client.cert.uri-id-not-used"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::IgnoresErrGreeting => row(
                "ignores-err-greeting",
                "POP3: takes a -ERR greeting as +OK and goes on with the session",
                &["pop3.client.strip.greeting-err"],
                POP3,
                Reach::Both,
            ),
            Self::TrustsCleartextListing => row(
                "trusts-cleartext-listing",
                "POP3: believes a scan listing sent after the cleartext greeting and retrieves its message inside TLS without STAT or LIST",
                &["pop3.client.tamper.unsolicited-multiline-greeting"],
                POP3,
                Reach::Starttls,
            ),
            Self::OffersOldTls => row(
                "offers-old-tls",
                "opens the handshake with a TLS 1.0 ClientHello and does not refuse an SSL 3.0 or TLS 1.0 ServerHello",
                &["tls.client.rejects-old-protocols"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::Sslv2Hello => row(
                "sslv2-hello",
                "opens the handshake with an SSL 2.0-compatible CLIENT-HELLO (first octet 0x80)",
                &["tls.client.no-sslv2-hello"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::IgnoresInvalidGreeting => row(
                "ignores-invalid-greeting",
                "IMAP: after a greeting that is neither * OK nor * PREAUTH, logs in in cleartext",
                &["imap.client.invalid-greeting"],
                IMAP,
                Reach::Starttls,
            ),
            Self::AcceptsEarlyCompletion => row(
                "accepts-early-completion",
                "IMAP: keeps a tagged completion for a command not sent yet and takes it as that command's answer",
                &["imap.client.early-tagged-ok"],
                IMAP,
                Reach::Both,
            ),
            Self::NoHandshakeTimeout => row(
                "no-handshake-timeout",
                "waits for an unanswered TLS handshake until the whole session's bound, not its own timeout",
                &["imap.client.starttls.timeout-after-ok"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::TrustsCleartextMailboxData => row(
                "trusts-cleartext-mailbox-data",
                "IMAP: selects a mailbox named in untagged LIST, LSUB or STATUS data sent before TLS",
                &[
                    "imap.client.tamper.untagged-before-starttls-ok",
                    "imap.client.tamper.untagged-after-greeting",
                ],
                IMAP,
                Reach::Starttls,
            ),
            Self::IgnoresCommandFailure => row(
                "ignores-command-failure",
                "IMAP: takes NO or BAD to LOGIN, AUTHENTICATE or SELECT for success (SELECT after a refused login, FETCH after a refused SELECT)",
                &[
                    "imap.client.auth-failure-not-ignored",
                    "imap.client.referral.login-referral",
                    "imap.client.referral.mailbox-referral",
                ],
                IMAP,
                Reach::Both,
            ),
            Self::FollowsReferrals => row(
                "follows-referrals",
                "IMAP: leaves the connection at once to follow a REFERRAL response code",
                &["imap.client.tamper.referral-pre-tls"],
                IMAP,
                Reach::Both,
            ),
            Self::StarttlsOnImplicit => row(
                "starttls-on-implicit",
                "IMAP: sends STARTTLS on an implicit-TLS port when the list inside TLS offers it",
                &["imaps.client.no-starttls-on-implicit"],
                IMAP,
                Reach::Implicit,
            ),
            Self::ContinuesAfterCloseNotify => row(
                "continues-after-close-notify",
                "goes on in plaintext when the server ends TLS with close_notify but keeps the connection open",
                &["imap.client.privacy-mode.tls-deactivated"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::ReconnectsInPlaintext => row(
                "reconnects-in-plaintext",
                "when STARTTLS/STLS is refused or not offered, connects again and logs in in cleartext",
                &[
                    "imap.client.strip.starttls-no",
                    "imap.client.strip.starttls-bye-or-close",
                    "pop3.client.strip.stls-err",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
        }
    }

    /// The stable kebab-case id (`no-name-check`).
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// One line saying what the defect is.
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The client scenarios (catalogue ids of §4.5–4.9) this fault is meant to make FAIL.
    /// `any.client.plain.well-formed` is not in the catalogue: it extends R21 (RFC 2595
    /// §6 grammar) to the client.
    pub fn catalogue_ids(self) -> &'static [&'static str] {
        self.row().catalogue
    }

    /// The protocols where the switch changes anything.
    pub fn protocols(self) -> &'static [Protocol] {
        self.row().protocols
    }

    /// Whether the switch changes anything for `protocol` on a cleartext port
    /// (`implicit == false`) or an implicit-TLS port.
    pub fn applies_to(self, protocol: Protocol, implicit: bool) -> bool {
        self.row().applies_to(protocol, implicit)
    }
}

impl fmt::Display for ClientFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A client fault id that names no [`ClientFault`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown client fault `{0}`")]
pub struct UnknownClientFault(pub String);

impl FromStr for ClientFault {
    type Err = UnknownClientFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|fault| fault.id() == s)
            .ok_or_else(|| UnknownClientFault(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = BTreeSet::new();
        for fault in ClientFault::ALL {
            let id = fault.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id}"
            );
            assert_eq!(id.parse::<ClientFault>(), Ok(fault));
            assert_eq!(fault.to_string(), id);
            assert!(!fault.description().is_empty());
            assert!(!fault.catalogue_ids().is_empty(), "{id}");
            assert!(
                Protocol::ALL
                    .iter()
                    .any(|p| fault.applies_to(*p, false) || fault.applies_to(*p, true)),
                "{id} applies nowhere"
            );
        }
        assert_eq!(
            "no-such-fault".parse::<ClientFault>(),
            Err(UnknownClientFault("no-such-fault".into()))
        );
    }

    #[test]
    fn catalogue_ids_name_client_scenarios() {
        for fault in ClientFault::ALL {
            for id in fault.catalogue_ids() {
                assert!(id.contains(".client."), "{fault}: {id}");
            }
        }
    }
}
