//! The harness's rustls client configuration: ring, TLS 1.2 and 1.3, no session
//! resumption (every handshake shows the certificate again), and the recording verifier.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::client_cert::RecordingClientCert;

use super::error::TlsError;
use super::trust::{ClientTrust, root_store};
use super::verifier::{PeerRecord, RecordingVerifier};

/// A TLS client set up once per run (trust anchors loaded, chain verifier built); hands
/// out a fresh configuration and [`PeerRecord`] per connection.
#[derive(Debug, Clone)]
pub struct ClientTls {
    provider: Arc<CryptoProvider>,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    insecure: bool,
    /// The certificate `[tls client-cert]` presents, if the run has one.
    client_identity: Option<Arc<CertifiedKey>>,
}

impl ClientTls {
    /// Loads `trust`. Without any trust anchor this is an error unless `insecure`.
    pub fn new(trust: &ClientTrust, insecure: bool) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = match root_store(trust) {
            Ok(roots) => roots,
            Err(_) if insecure => rustls::RootCertStore::empty(),
            Err(e) => return Err(e),
        };
        let webpki = if roots.is_empty() {
            None
        } else {
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsError::Config(e.to_string()))?;
            Some(verifier)
        };
        Ok(Self {
            provider,
            webpki,
            insecure,
            client_identity: None,
        })
    }

    /// The same client, able to present `chain` (leaf first) with `key` when a scenario
    /// asks for a client certificate (`[tls client-cert]`).
    pub fn with_client_certificate(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let signer = self
            .provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::Config(format!("client certificate key: {e}")))?;
        self.client_identity = Some(Arc::new(CertifiedKey::new(chain, signer)));
        Ok(self)
    }

    /// Whether a client certificate is configured.
    pub fn has_client_certificate(&self) -> bool {
        self.client_identity.is_some()
    }

    /// Whether untrusted chains are recorded rather than refused.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// A configuration for one connection, and where its verifier records what the
    /// server presented.
    pub fn config(&self) -> Result<(Arc<ClientConfig>, Arc<PeerRecord>), TlsError> {
        self.config_for(rustls::DEFAULT_VERSIONS, false)
    }

    /// As [`ClientTls::config`], presenting the client certificate if the server asks
    /// for one and `present_client_cert` (else an empty Certificate message).
    pub fn config_presenting(
        &self,
        present_client_cert: bool,
    ) -> Result<(Arc<ClientConfig>, Arc<PeerRecord>), TlsError> {
        self.config_for(rustls::DEFAULT_VERSIONS, present_client_cert)
    }

    /// As [`ClientTls::config`], offering only `versions` (e.g. `&[&rustls::version::TLS12]`).
    pub fn config_for_versions(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<(Arc<ClientConfig>, Arc<PeerRecord>), TlsError> {
        self.config_for(versions, false)
    }

    fn config_for(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        present_client_cert: bool,
    ) -> Result<(Arc<ClientConfig>, Arc<PeerRecord>), TlsError> {
        let record = Arc::new(PeerRecord::default());
        let verifier = Arc::new(RecordingVerifier {
            webpki: self.webpki.clone(),
            algorithms: self.provider.signature_verification_algorithms,
            insecure: self.insecure,
            record: record.clone(),
        });
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| TlsError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(Arc::new(RecordingClientCert {
                identity: self.client_identity.clone().filter(|_| present_client_cert),
                record: record.clone(),
            }));
        config.resumption = Resumption::disabled();
        Ok((Arc::new(config), record))
    }
}

/// One configuration and its record: [`ClientTls::new`] then [`ClientTls::config`].
pub fn client_config(
    trust: &ClientTrust,
    insecure: bool,
) -> Result<(Arc<ClientConfig>, Arc<PeerRecord>), TlsError> {
    ClientTls::new(trust, insecure)?.config()
}
