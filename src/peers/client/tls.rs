//! The reference client's certificate check: the chain with rustls's WebPKI verifier
//! (ring), and the name with mailtls's own identity check under RFC 6125 rules as RFC
//! 7817 profiles them for email (RFC 8314 §5.3 points there). Unlike the harness's
//! recording verifier ([`crate::tls`]), this one refuses: any failure aborts the
//! handshake, so no credential is ever sent to a server that did not prove its name.
//!
//! Choices, where the RFCs leave room:
//!
//! - **Rules**: [`Rules::Rfc6125`]. A `*` is only the whole left-most label and matches
//!   exactly one label; no `*.tld`; a subject CN is used only when the certificate has no
//!   dNSName SAN, so a CN-only certificate for the right name is **accepted** (RFC 7817
//!   §3 rule 4 makes CN-IDs a MAY; RFC 9525 would refuse it).
//! - **Reference identity**: the `name` the client was configured with (what it also
//!   sends as SNI), never a name learned from the server or DNS, and not the domain of
//!   the user's mail address (RFC 7817 §3 allows it; RFC 2595 §2.4 does not): a
//!   certificate for `example.test` alone is refused for `mail.example.test`.
//!
//! Client faults change exactly one of these decisions: [`ClientFault::NoChainCheck`]
//! skips the chain, [`ClientFault::NoNameCheck`] skips the name,
//! [`ClientFault::OverbroadWildcard`] adds a lax wildcard match to the conformant one,
//! [`ClientFault::CnOverSan`] judges the subject CN instead of the SANs,
//! [`ClientFault::CaseSensitiveNames`] compares names octet for octet,
//! [`ClientFault::AcceptsUriSan`] takes a URI SAN's host as a name, and
//! [`ClientFault::Tls13Only`] offers no TLS 1.2.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};

use super::fault::ClientFault;
use crate::identity::Rules;
use crate::identity::cert::CertificateNames;

/// The rule set of the name check.
pub(super) const RULES: Rules = Rules::Rfc6125;

/// Why the verifier refused the server's certificate, kept for the error message.
pub(super) type Rejection = Arc<Mutex<Option<String>>>;

/// A TLS client configuration for one session, and where its verifier says why it
/// refused a certificate.
pub(super) struct ClientTls {
    pub(super) config: Arc<ClientConfig>,
    pub(super) server_name: ServerName<'static>,
    pub(super) rejection: Rejection,
}

impl ClientTls {
    /// The configuration for `name` trusting `ca`, with the certificate faults of
    /// `faults` switched on.
    pub(super) fn new(
        name: &str,
        ca: &[CertificateDer<'static>],
        faults: Faults,
    ) -> Result<Self, String> {
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|e| format!("`{name}` is not a valid server name: {e}"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for (i, cert) in ca.iter().enumerate() {
            roots
                .add(cert.clone())
                .map_err(|e| format!("CA certificate #{} is not usable: {e}", i + 1))?;
        }
        let webpki = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("building the chain verifier: {e}"))?,
            )
        };
        let rejection = Rejection::default();
        let verifier = Arc::new(ReferenceVerifier {
            webpki,
            algorithms: provider.signature_verification_algorithms,
            name: name.to_owned(),
            faults,
            rejection: rejection.clone(),
        });
        let versions: &[&rustls::SupportedProtocolVersion] = if faults.tls13_only {
            &[&rustls::version::TLS13]
        } else {
            rustls::DEFAULT_VERSIONS
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| format!("building the TLS configuration: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            server_name,
            rejection,
        })
    }

    /// Why the verifier refused the certificate, if it did.
    pub(super) fn rejection(&self) -> Option<String> {
        self.rejection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The certificate faults switched on.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Faults {
    pub(super) no_chain_check: bool,
    pub(super) no_name_check: bool,
    pub(super) overbroad_wildcard: bool,
    pub(super) cn_over_san: bool,
    pub(super) case_sensitive_names: bool,
    pub(super) accepts_uri_san: bool,
    pub(super) tls13_only: bool,
}

impl Faults {
    pub(super) fn from_set(has: impl Fn(ClientFault) -> bool) -> Self {
        Self {
            no_chain_check: has(ClientFault::NoChainCheck),
            no_name_check: has(ClientFault::NoNameCheck),
            overbroad_wildcard: has(ClientFault::OverbroadWildcard),
            cn_over_san: has(ClientFault::CnOverSan),
            case_sensitive_names: has(ClientFault::CaseSensitiveNames),
            accepts_uri_san: has(ClientFault::AcceptsUriSan),
            tls13_only: has(ClientFault::Tls13Only),
        }
    }
}

#[derive(Debug)]
struct ReferenceVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    name: String,
    faults: Faults,
    rejection: Rejection,
}

impl ReferenceVerifier {
    fn reject(&self, reason: String, error: Error) -> Error {
        *self
            .rejection
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(reason);
        error
    }

    fn check_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<(), Error> {
        let Some(webpki) = &self.webpki else {
            let error = Error::InvalidCertificate(CertificateError::UnknownIssuer);
            return Err(self.reject("no trust anchors are configured".to_owned(), error));
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Ok(_) => Ok(()),
            // webpki checks the name only once the chain is good; the name is ours to judge.
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(()),
            Err(e) => Err(self.reject(format!("the certificate chain is not trusted: {e}"), e)),
        }
    }

    fn check_name(&self, end_entity: &CertificateDer<'_>) -> Result<(), Error> {
        let refused = |reason: String| {
            self.reject(
                reason,
                Error::InvalidCertificate(CertificateError::NotValidForName),
            )
        };
        let mut names = CertificateNames::from_der(end_entity)
            .map_err(|e| refused(format!("the certificate's names cannot be read: {e}")))?;
        if self.faults.accepts_uri_san
            && uri_hosts(end_entity)
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&self.name))
        {
            return Ok(());
        }
        if self.faults.cn_over_san && !names.common_names.is_empty() {
            names.dns_names.clear();
            names.ip_addresses.clear();
        }
        let (decision, explanation) = names.check(RULES, &self.name);
        if decision.is_match() && self.faults.case_sensitive_names {
            if exact_case_match(&names, &self.name) {
                return Ok(());
            }
            return Err(refused(format!(
                "no presented name spells `{}` in the same case",
                self.name
            )));
        }
        if decision.is_match() {
            return Ok(());
        }
        if self.faults.overbroad_wildcard && overbroad_match(&names, &self.name) {
            return Ok(());
        }
        Err(refused(format!(
            "the certificate does not match `{}` ({RULES}): {explanation}",
            self.name
        )))
    }
}

/// The lax wildcard match of [`ClientFault::OverbroadWildcard`]: a `*` anywhere matches
/// any run of characters, dots included, and `*.parent` also matches `parent`.
fn overbroad_match(names: &CertificateNames, reference: &str) -> bool {
    let reference = reference.trim_end_matches('.').to_ascii_lowercase();
    let presented: Vec<&String> = if names.dns_names.is_empty() {
        names.common_names.iter().collect()
    } else {
        names.dns_names.iter().collect()
    };
    presented.into_iter().any(|pattern| {
        let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
        pattern.contains('*')
            && (pattern.strip_prefix("*.") == Some(reference.as_str())
                || glob(pattern.as_bytes(), reference.as_bytes()))
    })
}

/// [`ClientFault::CaseSensitiveNames`]: a presented name (the dNSNames, else the CNs)
/// that is the reference octet for octet, or `*.` and the rest of it.
fn exact_case_match(names: &CertificateNames, reference: &str) -> bool {
    let presented = if names.dns_names.is_empty() {
        &names.common_names
    } else {
        &names.dns_names
    };
    let rest = reference.split_once('.').map(|(_, rest)| rest);
    presented.iter().any(|name| {
        name == reference || (name.strip_prefix("*.").is_some() && name.strip_prefix("*.") == rest)
    })
}

/// [`ClientFault::AcceptsUriSan`]: the hosts of the certificate's URI SANs
/// (`imap://mail.example.test/` → `mail.example.test`).
fn uri_hosts(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => uri.split_once("://").map(|(_, rest)| rest),
            _ => None,
        })
        .map(|rest| {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = authority.rsplit('@').next().unwrap_or_default();
            host.split(':').next().unwrap_or_default().to_owned()
        })
        .collect()
}

/// `*` matches any run of octets (iteratively, no backtracking blow-up).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}

impl ServerCertVerifier for ReferenceVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if !self.faults.no_chain_check {
            self.check_chain(end_entity, intermediates, server_name, ocsp_response, now)?;
        }
        if !self.faults.no_name_check {
            self.check_name(end_entity)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dns: &[&str]) -> CertificateNames {
        CertificateNames {
            dns_names: dns.iter().map(|n| (*n).to_owned()).collect(),
            ..CertificateNames::default()
        }
    }

    #[test]
    fn the_overbroad_match_takes_what_rfc6125_refuses() {
        for (presented, reference) in [
            ("*.example.test", "a.mail.example.test"),
            ("*.example.test", "example.test"),
            ("m*.example.test", "mail.example.test"),
            ("mail.*.test", "mail.example.test"),
            ("*.test", "mail.example.test"),
        ] {
            let n = names(&[presented]);
            assert!(!n.check(RULES, reference).0.is_match(), "{presented}");
            assert!(overbroad_match(&n, reference), "{presented} {reference}");
        }
        assert!(!overbroad_match(
            &names(&["*.other.test"]),
            "mail.example.test"
        ));
        assert!(!overbroad_match(
            &names(&["mail.example.test"]),
            "x.example.test"
        ));
    }

    #[test]
    fn glob_edges() {
        assert!(glob(b"*", b""));
        assert!(glob(b"a*b*c", b"axxbyyc"));
        assert!(!glob(b"a*b", b"ac"));
        assert!(glob(b"**", b"abc"));
        assert!(!glob(b"", b"a"));
    }
}
