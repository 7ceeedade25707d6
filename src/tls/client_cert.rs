//! The client-certificate side of the harness's TLS client: it notes every
//! CertificateRequest (RFC 8314 §4.2: a server asks only when configured to accept client
//! certificates) and presents the run's client certificate when a scenario asks for it.

use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;

use super::verifier::PeerRecord;

/// Answers a CertificateRequest with `identity` (or nothing) and records that it came.
#[derive(Debug)]
pub(super) struct RecordingClientCert {
    pub(super) identity: Option<Arc<CertifiedKey>>,
    pub(super) record: Arc<PeerRecord>,
}

impl ResolvesClientCert for RecordingClientCert {
    fn resolve(
        &self,
        _acceptable_issuers: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.record.note_certificate_request();
        self.identity.clone()
    }

    fn has_certs(&self) -> bool {
        self.identity.is_some()
    }
}
