//! The server-certificate verifier of the harness's TLS client: it records the chain the
//! server presented and judges the chain with webpki, but leaves the host name to
//! mailtls's own identity check ([`crate::identity`]), reported as a check of its own.
//! With `--insecure` an untrusted chain is recorded and the handshake goes on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

use crate::identity::Decision;
use crate::identity::Rules;
use crate::identity::cert::{CertificateError as NamesError, CertificateNames};

/// What webpki made of the presented chain (the host name aside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainVerdict {
    /// The chain leads to a trust anchor, and every certificate in it is valid now.
    Trusted,
    /// It does not.
    Untrusted {
        /// rustls's error, e.g. `invalid peer certificate: UnknownIssuer`.
        reason: String,
        /// The handshake went on anyway (`--insecure`).
        overridden: bool,
    },
}

impl ChainVerdict {
    /// Whether the chain is trusted.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Self::Trusted)
    }
}

#[derive(Clone, Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    verdict: Option<ChainVerdict>,
    server_name: Option<String>,
}

/// What the server presented during the handshake of one connection, as the verifier
/// saw it. Shared between the verifier (which fills it) and the engine (which reads it
/// after the handshake, whether or not the handshake succeeded).
#[derive(Debug, Default)]
pub struct PeerRecord {
    seen: Mutex<Seen>,
    /// The server sent a CertificateRequest (apart from `seen`, which the verifier
    /// overwrites as a whole).
    certificate_requested: AtomicBool,
}

impl PeerRecord {
    fn lock(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the server asked for a client certificate (a CertificateRequest) in the
    /// handshake.
    pub fn certificate_requested(&self) -> bool {
        self.certificate_requested.load(Ordering::Relaxed)
    }

    pub(super) fn note_certificate_request(&self) {
        self.certificate_requested.store(true, Ordering::Relaxed);
    }

    /// The presented chain, leaf first (empty before a Certificate message arrived).
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.lock().chain.clone()
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> Option<CertificateDer<'static>> {
        self.lock().chain.first().cloned()
    }

    /// The verdict on the chain, once a chain was presented.
    pub fn verdict(&self) -> Option<ChainVerdict> {
        self.lock().verdict.clone()
    }

    /// The server name the handshake was made for (as sent in SNI, or an IP address).
    pub fn server_name(&self) -> Option<String> {
        self.lock().server_name.clone()
    }

    /// The names the leaf presents; `None` without a leaf.
    pub fn leaf_names(&self) -> Option<Result<CertificateNames, NamesError>> {
        self.leaf().map(|leaf| CertificateNames::from_der(&leaf))
    }

    /// The server identity check of the leaf against `reference`; `None` without a leaf
    /// or if the leaf's names cannot be read.
    pub fn identity(&self, reference: &str, rules: Rules) -> Option<Decision> {
        self.identity_explained(reference, rules)
            .map(|(decision, _)| decision)
    }

    /// [`PeerRecord::identity`] with the sentence that explains the decision.
    pub fn identity_explained(&self, reference: &str, rules: Rules) -> Option<(Decision, String)> {
        let names = self.leaf_names()?.ok()?;
        Some(names.check(rules, reference))
    }

    fn set(&self, seen: Seen) {
        *self.lock() = seen;
    }
}

/// Verifies chains with webpki (if there are trust anchors), never fails on the name,
/// records everything in a [`PeerRecord`].
#[derive(Debug)]
pub(super) struct RecordingVerifier {
    pub(super) webpki: Option<Arc<WebPkiServerVerifier>>,
    pub(super) algorithms: WebPkiSupportedAlgorithms,
    pub(super) insecure: bool,
    pub(super) record: Arc<PeerRecord>,
}

impl RecordingVerifier {
    fn judge(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<(), Error> {
        let Some(webpki) = &self.webpki else {
            return Err(Error::General("no trust anchors are configured".to_owned()));
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Ok(_) => Ok(()),
            // webpki checks the name only after the chain: the chain is fine.
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let judged = self.judge(end_entity, intermediates, server_name, ocsp_response, now);
        let verdict = match &judged {
            Ok(()) => ChainVerdict::Trusted,
            Err(e) => ChainVerdict::Untrusted {
                reason: e.to_string(),
                overridden: self.insecure,
            },
        };
        self.record.set(Seen {
            chain: std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect(),
            verdict: Some(verdict),
            server_name: Some(server_name.to_str().into_owned()),
        });
        match judged {
            Err(e) if !self.insecure => Err(e),
            _ => Ok(ServerCertVerified::assertion()),
        }
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
