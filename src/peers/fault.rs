//! The fault switches of the reference server: each one injects exactly one known defect,
//! so that a scenario that must catch that defect can be shown to FAIL against it.
//!
//! A [`Fault`] has a stable kebab-case id (what `--fault`, expectation files and reports
//! spell), a one-line description, the catalogue scenarios it is meant to break
//! (`/work/shared/reference/starttls-catalogue.md` §4.1–4.4), and the protocols and
//! transports where it changes anything: a switch that does not apply is a no-op.

use std::fmt;
use std::str::FromStr;

use super::switch::{ACAP, ALL_PROTOCOLS, IMAP, IMAP_ACAP, IMAP_POP3, POP3, Reach, Row};
use crate::model::Protocol;

/// One known defect the reference server can be told to have.
///
/// Deliberately not `#[non_exhaustive]`: a `match` over faults (the wire tests have one)
/// should stop compiling when a fault is added without a demonstration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Commands pipelined after STARTTLS/STLS in the same read are kept and executed
    /// inside TLS (CVE-2011-0411 class).
    ExecutesPipelinedAfterStarttls,
    /// IMAP does not advertise LOGINDISABLED in cleartext, though it refuses LOGIN.
    NoLogindisabled,
    /// IMAP advertises LOGINDISABLED but accepts LOGIN in cleartext.
    LoginDespiteLogindisabled,
    /// PLAIN is advertised and accepted before TLS.
    PlainInCleartext,
    /// A second STARTTLS/STLS inside TLS (or any on an implicit-TLS port) is answered OK,
    /// and the session goes on inside the same TLS layer.
    StarttlsOkWhenTlsActive,
    /// IMAP and ACAP accept STARTTLS after authentication (session fixation,
    /// CVE-2021-37845 class). POP3's counterpart is [`Fault::StlsInTransaction`].
    StarttlsWhenAuthenticated,
    /// STARTTLS/STLS stays in the capability list once TLS is active.
    StarttlsAdvertisedAfterTls,
    /// POP3 answers CAPA with -ERR although it implements STLS.
    StlsWithoutCapa,
    /// POP3 accepts STLS in the TRANSACTION state (session fixation).
    StlsInTransaction,
    /// An implicit-TLS port sends its greeting in cleartext before the handshake.
    GreetingBeforeHandshake,
    /// LOGOUT/QUIT closes TCP without a TLS close_notify.
    NoCloseNotify,
    /// Malformed PLAIN messages are accepted: extra NULs ignored, an empty authcid
    /// replaced by the authzid, no length limit, no UTF-8 check.
    LaxPlainParser,
    /// `STARTTLS <args>` / `STLS <args>` is accepted and starts TLS.
    StarttlsWithArguments,
    /// An extra untagged `* OK` / `+OK` line follows the STARTTLS OK, before the
    /// handshake (server-side response injection).
    DataAfterStarttlsOk,
    /// The capability list is not recomputed after TLS: it still shows the cleartext
    /// list (STARTTLS, LOGINDISABLED, no PLAIN).
    StaleCapabilities,
    /// A new greeting is sent as the first data inside TLS after STLS (POP3) or
    /// STARTTLS (IMAP).
    GreetingAfterStls,
    /// POP3 remembers a USER given before STLS and accepts PASS for it inside TLS.
    KeepsPendingUserAfterStls,
    /// ACAP does not re-issue its greeting after STARTTLS (RFC 2595 §5.1 says MUST).
    AcapNoReissueGreeting,
    /// Like [`Fault::ExecutesPipelinedAfterStarttls`], but only when the STARTTLS line
    /// ended in a bare LF (CVE-2022-28220 parser-differential class).
    BareLfInjection,
    /// STARTTLS/STLS works but is missing from the cleartext capability list.
    StarttlsNotAdvertised,
    /// POP3 accepts USER/PASS in cleartext (without advertising USER).
    UserPassInCleartext,
    /// All plaintext that precedes the ClientHello is executed inside TLS: what was
    /// pipelined with STARTTLS and what arrives after its OK in a later segment
    /// (CVE-2022-28220 concurrency class). Unlike
    /// [`Fault::ExecutesPipelinedAfterStarttls`] it does not depend on how the client's
    /// segments were coalesced, so the split-segment scenarios fail deterministically.
    ExecutesPlaintextAfterStarttlsOk,
    /// When the client answers the STARTTLS OK with plaintext instead of a ClientHello,
    /// the session goes on in plaintext.
    PlaintextFallbackOnTlsFailure,
    /// The TLS handshake alone authenticates: after it the session is in the
    /// authenticated / TRANSACTION state as the first user, without LOGIN.
    AuthenticatedByTls,
    /// After the client's close_notify the session goes on in plaintext on the same
    /// TCP connection, keeping its state.
    PlaintextAfterCloseNotify,
    /// PLAIN fields of 255 octets (which every server MUST accept) are refused as too
    /// long: BAD in IMAP and ACAP, -ERR and a disconnect in POP3.
    ShortPlainFieldLimit,
    /// IMAP greets with PREAUTH on the cleartext port.
    PreauthInCleartext,
    /// IMAP skips blanks before a tag, and a STARTTLS reached that way keeps what was
    /// pipelined after it and executes it inside TLS (the CVE-2022-28220 tag-parsing
    /// differential: the injection guard and the parser read the line differently).
    TagDifferentialInjection,
    /// IMAP discards commands pipelined before STARTTLS in the same read, unanswered (an
    /// over-broad injection guard).
    DropsCommandsBeforeStarttls,
    /// The TLS-only account (`ServerOptions::tls_only_users`) may log in before TLS when
    /// cleartext logins are allowed for the others.
    IgnoresPerUserPolicy,
    /// An SSL 2.0 CLIENT-HELLO, or a ClientHello capped at SSL 3.0, TLS 1.0 or TLS 1.1, is
    /// answered with a hello of that version (a canned answer: rustls cannot speak them).
    AcceptsOldProtocols,
    /// A TLS 1.2 ClientHello offering only broken suites (RC4, 3DES, NULL, EXPORT,
    /// anonymous) is answered with a ServerHello choosing one (canned, as above).
    AcceptsWeakSuites,
    /// The server asks for a client certificate in every handshake, though it is not
    /// configured to take one for authentication.
    RequestsClientCert,
    /// EXTERNAL is advertised and accepted before TLS (IMAP AUTHENTICATE, POP3 AUTH,
    /// ACAP AUTHENTICATE), trusting the authorization identity the client names (no
    /// certificate can have been checked).
    ExternalInCleartext,
    /// A client certificate that names an account logs the session in by itself: the
    /// TLS handshake authenticates (POP3 TRANSACTION, IMAP and ACAP authenticated), where
    /// only EXTERNAL, or an IMAPS PREAUTH greeting, may use it.
    AuthenticatedByClientCert,
    /// Inside TLS, EXTERNAL is advertised and accepted without a client certificate,
    /// trusting the authorization identity the client names (or taking the first
    /// account for an empty one).
    ExternalWithoutCertificate,
    /// POP3 answers +OK to a successful AUTH but stays in the AUTHORIZATION state: STAT
    /// and the other TRANSACTION commands are still refused.
    AuthOkStaysAuthorization,
}

impl Fault {
    /// Every fault, in a fixed order.
    pub const ALL: [Self; 37] = [
        Self::ExecutesPipelinedAfterStarttls,
        Self::NoLogindisabled,
        Self::LoginDespiteLogindisabled,
        Self::PlainInCleartext,
        Self::StarttlsOkWhenTlsActive,
        Self::StarttlsWhenAuthenticated,
        Self::StarttlsAdvertisedAfterTls,
        Self::StlsWithoutCapa,
        Self::StlsInTransaction,
        Self::GreetingBeforeHandshake,
        Self::NoCloseNotify,
        Self::LaxPlainParser,
        Self::StarttlsWithArguments,
        Self::DataAfterStarttlsOk,
        Self::StaleCapabilities,
        Self::GreetingAfterStls,
        Self::KeepsPendingUserAfterStls,
        Self::AcapNoReissueGreeting,
        Self::BareLfInjection,
        Self::StarttlsNotAdvertised,
        Self::UserPassInCleartext,
        Self::ExecutesPlaintextAfterStarttlsOk,
        Self::PlaintextFallbackOnTlsFailure,
        Self::AuthenticatedByTls,
        Self::PlaintextAfterCloseNotify,
        Self::ShortPlainFieldLimit,
        Self::PreauthInCleartext,
        Self::TagDifferentialInjection,
        Self::DropsCommandsBeforeStarttls,
        Self::IgnoresPerUserPolicy,
        Self::AcceptsOldProtocols,
        Self::AcceptsWeakSuites,
        Self::RequestsClientCert,
        Self::ExternalInCleartext,
        Self::AuthenticatedByClientCert,
        Self::ExternalWithoutCertificate,
        Self::AuthOkStaysAuthorization,
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
            Self::ExecutesPipelinedAfterStarttls => row(
                "executes-pipelined-after-starttls",
                "commands pipelined after STARTTLS/STLS in the same write are executed inside TLS (CVE-2011-0411 class)",
                &[
                    "imap.server.starttls.pipelined-command-injection",
                    "imap.server.starttls.injection-capability-probe",
                    "imap.server.starttls.injection-bare-lf",
                    "pop3.server.stls.pipelined-command-injection",
                    "pop3.server.stls.injection-user-pass",
                    "acap.server.starttls.pipelined-command-injection",
                    "imap.server.starttls.injection-credential-theft",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::NoLogindisabled => row(
                "no-logindisabled",
                "IMAP does not advertise LOGINDISABLED in cleartext (LOGIN is still refused)",
                &[
                    "imap.server.logindisabled.advertised-cleartext",
                    "imap.server.cleartext.refuse-config",
                ],
                IMAP,
                Reach::Starttls,
            ),
            Self::LoginDespiteLogindisabled => row(
                "login-despite-logindisabled",
                "IMAP advertises LOGINDISABLED but accepts LOGIN in cleartext",
                &[
                    "imap.server.logindisabled.login-refused",
                    "imap.server.cleartext.refuse-config",
                ],
                IMAP,
                Reach::Starttls,
            ),
            Self::PlainInCleartext => row(
                "plain-in-cleartext",
                "PLAIN is advertised and accepted before TLS (AUTH=PLAIN, SASL PLAIN, (SASL \"PLAIN\"))",
                &[
                    "imap.server.plain.not-advertised-cleartext",
                    "imap.server.plain.refused-cleartext",
                    "pop3.server.sasl-plain.not-advertised-cleartext",
                    "acap.server.plain.only-after-tls",
                    "acap.server.plain.refused-cleartext",
                    "imap.server.cleartext.refuse-config",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::StarttlsOkWhenTlsActive => row(
                "starttls-ok-when-tls-active",
                "STARTTLS/STLS inside TLS is answered OK and the session goes on in the same TLS layer",
                &[
                    "imap.server.starttls.rejected-when-tls-active",
                    "pop3.server.stls.err-when-tls-active",
                    "acap.server.starttls.rejected-when-tls-active",
                    "imaps.server.starttls-rejected",
                    "pop3s.server.stls-rejected",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::StarttlsWhenAuthenticated => row(
                "starttls-when-authenticated",
                "STARTTLS is accepted after authentication (session fixation, CVE-2021-37845 class)",
                &[
                    "imap.server.starttls.rejected-when-authenticated",
                    "acap.server.starttls.rejected-when-authenticated",
                ],
                IMAP_ACAP,
                Reach::Starttls,
            ),
            Self::StarttlsAdvertisedAfterTls => row(
                "starttls-advertised-after-tls",
                "STARTTLS/STLS stays in the capability list once TLS is active",
                &[
                    "imap.server.starttls.not-advertised-after-tls",
                    "pop3.server.stls.not-listed-after-tls",
                    "acap.server.starttls.not-advertised-after-tls",
                    "imaps.server.starttls-rejected",
                    "pop3s.server.stls-rejected",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::StlsWithoutCapa => row(
                "stls-without-capa",
                "POP3 answers CAPA with -ERR although it implements STLS",
                &["pop3.server.capa.implemented-with-stls"],
                POP3,
                Reach::Both,
            ),
            Self::StlsInTransaction => row(
                "stls-in-transaction",
                "POP3 accepts STLS in the TRANSACTION state (session fixation)",
                &["pop3.server.stls.only-authorization-state"],
                POP3,
                Reach::Starttls,
            ),
            Self::GreetingBeforeHandshake => row(
                "greeting-before-handshake",
                "the implicit-TLS port sends its greeting in cleartext before the handshake",
                &[
                    "imaps.server.no-plaintext-before-handshake",
                    "pop3s.server.greeting-after-tls",
                ],
                ALL_PROTOCOLS,
                Reach::Implicit,
            ),
            Self::NoCloseNotify => row(
                "no-close-notify",
                "LOGOUT/QUIT closes TCP without a TLS close_notify",
                &[
                    "imaps.server.close-notify-on-logout",
                    "pop3s.server.close-notify-on-quit",
                    "imap.server.close-notify-after-starttls",
                    "pop3.server.close-notify-after-stls",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::LaxPlainParser => row(
                "lax-plain-parser",
                "malformed PLAIN messages (extra NULs, empty authcid, over-long fields) are accepted",
                &["imap.server.plain.grammar-malformed"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::StarttlsWithArguments => row(
                "starttls-with-arguments",
                "STARTTLS/STLS with arguments is accepted and starts TLS (RFC: BAD / -ERR)",
                &[
                    "imap.server.starttls.no-arguments",
                    "pop3.server.stls.with-argument",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::DataAfterStarttlsOk => row(
                "data-after-starttls-ok",
                "an extra untagged/+OK line follows the STARTTLS OK before the handshake",
                &[
                    "imap.server.starttls.ok-then-handshake",
                    "pop3.server.stls.ok-then-handshake",
                    "acap.server.starttls.greeting-reissued",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::StaleCapabilities => row(
                "stale-capabilities",
                "the capability list is not recomputed after TLS (still STARTTLS, LOGINDISABLED, no PLAIN)",
                &[
                    "imap.server.starttls.not-advertised-after-tls",
                    "imap.server.logindisabled.absent-after-tls",
                    "pop3.server.stls.not-listed-after-tls",
                    "acap.server.starttls.not-advertised-after-tls",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::GreetingAfterStls => row(
                "greeting-after-stls",
                "a new greeting is the first data inside TLS after STLS / STARTTLS",
                &[
                    "pop3.server.no-greeting-after-stls",
                    "pop3.server.stls.ok-then-handshake",
                    "imap.server.starttls.ok-then-handshake",
                ],
                IMAP_POP3,
                Reach::Starttls,
            ),
            Self::KeepsPendingUserAfterStls => row(
                "keeps-pending-user-after-stls",
                "POP3 remembers a USER given before STLS and accepts PASS for it inside TLS",
                &["pop3.server.stls.pending-user-reset"],
                POP3,
                Reach::Starttls,
            ),
            Self::AcapNoReissueGreeting => row(
                "acap-no-reissue-greeting",
                "ACAP does not re-issue its greeting after STARTTLS (RFC 2595 §5.1: MUST)",
                &["acap.server.starttls.greeting-reissued"],
                ACAP,
                Reach::Starttls,
            ),
            Self::BareLfInjection => row(
                "bare-lf-injection",
                "after a STARTTLS line ending in a bare LF, the bytes that follow are executed inside TLS",
                &["imap.server.starttls.injection-bare-lf"],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::StarttlsNotAdvertised => row(
                "starttls-not-advertised",
                "STARTTLS/STLS works but is missing from the cleartext capability list",
                &[
                    "imap.server.starttls.capability-advertised",
                    "pop3.server.capa.implemented-with-stls",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::UserPassInCleartext => row(
                "user-pass-in-cleartext",
                "POP3 accepts USER/PASS in cleartext (without advertising USER)",
                &["pop3.server.user-pass.refused-cleartext"],
                POP3,
                Reach::Starttls,
            ),
            Self::ExecutesPlaintextAfterStarttlsOk => row(
                "executes-plaintext-after-starttls-ok",
                "all plaintext before the ClientHello, pipelined or sent after the STARTTLS OK, is executed inside TLS (CVE-2022-28220 class)",
                &[
                    "imap.server.starttls.injection-split-segments",
                    "pop3.server.stls.injection-split-segments",
                    "imap.server.tls-failure-no-plaintext-fallback",
                    "pop3.server.tls-failure-no-plaintext-fallback",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::PlaintextFallbackOnTlsFailure => row(
                "plaintext-fallback-on-tls-failure",
                "plaintext instead of a ClientHello after the STARTTLS OK is answered in plaintext",
                &[
                    "imap.server.tls-failure-no-plaintext-fallback",
                    "pop3.server.tls-failure-no-plaintext-fallback",
                ],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::AuthenticatedByTls => row(
                "authenticated-by-tls",
                "the TLS handshake alone authenticates: the session is authenticated as the first user without LOGIN",
                &[
                    "imap.server.starttls.stays-non-authenticated-after-tls",
                    "pop3.server.stls.stays-authorization-after-tls",
                    "pop3s.server.authorization-state-with-client-cert",
                    "imaps.server.preauth-only-with-client-cert",
                    "acap.server.plain.after-tls",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::PlaintextAfterCloseNotify => row(
                "plaintext-after-close-notify",
                "after the client's close_notify the session goes on in plaintext, keeping its state",
                &[
                    "imap.server.privacy-mode.tls-deactivated-terminates",
                    "pop3.server.privacy-mode.tls-deactivated-terminates",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::ShortPlainFieldLimit => row(
                "short-plain-field-limit",
                "PLAIN fields of 255 octets are refused as too long (BAD, or -ERR and a disconnect)",
                &["imap.server.plain.grammar-255"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::PreauthInCleartext => row(
                "preauth-in-cleartext",
                "IMAP greets with PREAUTH on the cleartext port",
                &["imap.server.preauth-only-protected"],
                IMAP,
                Reach::Starttls,
            ),
            Self::TagDifferentialInjection => row(
                "tag-differential-injection",
                "IMAP skips blanks before a tag; a STARTTLS reached that way executes what was pipelined after it inside TLS",
                &["imap.server.starttls.injection-tag-parse-differential"],
                IMAP,
                Reach::Starttls,
            ),
            Self::DropsCommandsBeforeStarttls => row(
                "drops-commands-before-starttls",
                "IMAP discards commands pipelined before STARTTLS in the same read (an over-broad injection guard)",
                &["imap.server.starttls.pipelining-before-starttls"],
                IMAP,
                Reach::Starttls,
            ),
            Self::IgnoresPerUserPolicy => row(
                "ignores-per-user-policy",
                "the TLS-only account may log in before TLS when cleartext logins are allowed for the others",
                &["imap.server.cleartext.per-user-refusal"],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::AcceptsOldProtocols => row(
                "accepts-old-protocols",
                "an SSL 2.0 CLIENT-HELLO or an SSL 3.0/TLS 1.0/TLS 1.1 ClientHello is answered with a hello of that version",
                &[
                    "tls.server.rejects-sslv2-clienthello",
                    "tls.server.rejects-old-protocols",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::AcceptsWeakSuites => row(
                "accepts-weak-suites",
                "a TLS 1.2 ClientHello offering only RC4, 3DES, NULL, EXPORT or anonymous suites is answered with a ServerHello",
                &["imap.server.tls-policy.weak-suites-refused"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::RequestsClientCert => row(
                "requests-client-cert",
                "every handshake asks for a client certificate, though none is taken for authentication",
                &["any.server.client-cert-request-policy"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::ExternalInCleartext => row(
                "external-in-cleartext",
                "EXTERNAL is advertised and accepted before TLS, trusting the authorization identity the client names",
                &["imap.server.external.after-tls-only"],
                ALL_PROTOCOLS,
                Reach::Starttls,
            ),
            Self::AuthenticatedByClientCert => row(
                "authenticated-by-client-cert",
                "a client certificate naming an account logs the session in by itself (no EXTERNAL, no login)",
                &[
                    "pop3s.server.authorization-state-with-client-cert",
                    "imap.server.starttls.stays-non-authenticated-after-tls",
                    "pop3.server.stls.stays-authorization-after-tls",
                ],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::ExternalWithoutCertificate => row(
                "external-without-certificate",
                "inside TLS, EXTERNAL is advertised and accepted without a client certificate, trusting the authorization identity the client names",
                &["imap.server.external.after-tls-only"],
                ALL_PROTOCOLS,
                Reach::Both,
            ),
            Self::AuthOkStaysAuthorization => row(
                "auth-ok-stays-authorization",
                "POP3 answers +OK to a successful AUTH but stays in AUTHORIZATION (STAT refused)",
                // The catalogue has no case for it: the scenarios written for it.
                &[
                    "pop3s.server.transaction-after-auth",
                    "pop3.server.sasl-plain.after-tls",
                ],
                POP3,
                Reach::Both,
            ),
        }
    }

    /// The stable kebab-case id (`executes-pipelined-after-starttls`).
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// One line saying what the defect is.
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The catalogue scenarios (ids of §4.1–4.4) this fault is meant to make FAIL; for a
    /// defect the catalogue has no case for, the scenarios written for it.
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

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A fault id that names no [`Fault`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{0}`")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|fault| fault.id() == s)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = BTreeSet::new();
        for fault in Fault::ALL {
            let id = fault.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id}"
            );
            assert_eq!(id.parse::<Fault>(), Ok(fault));
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
            "no-such-fault".parse::<Fault>(),
            Err(UnknownFault("no-such-fault".into()))
        );
    }

    #[test]
    fn catalogue_ids_name_server_scenarios() {
        for fault in Fault::ALL {
            for id in fault.catalogue_ids() {
                assert!(id.contains(".server."), "{fault}: {id}");
            }
        }
    }
}
