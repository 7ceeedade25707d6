//! The harness's rustls client configuration: ring, TLS 1.2 and 1.3, no session
//! resumption (every handshake shows the certificate again), and the recording verifier.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;

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
        })
    }

    /// Whether untrusted chains are recorded rather than refused.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// A configuration for one connection, and where its verifier records what the
    /// server presented.
    pub fn config(&self) -> Result<(Arc<ClientConfig>, Arc<PeerRecord>), TlsError> {
        self.config_for_versions(rustls::DEFAULT_VERSIONS)
    }

    /// As [`ClientTls::config`], offering only `versions` (e.g. `&[&rustls::version::TLS12]`).
    pub fn config_for_versions(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
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
            .with_no_client_auth();
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
