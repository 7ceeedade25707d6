//! The built-in reference servers `mailtls run` starts when no `--server` is given: one
//! per protocol, transport and profile, on 127.0.0.1, presenting a leaf for
//! `mail.example.test` signed by a CA minted for this run.

use super::RunTarget;
use crate::certs::{Authority, CertError, Leaf, LeafSpec};
use crate::engine::Target;
use crate::model::{Protocol, Transport};
use crate::peers::{
    DEFAULT_TLS_ONLY_USERS, DEFAULT_USERS, Fault, RunningServer, ServerOptions, spawn_server,
};
use crate::tls::{ClientTls, ClientTrust, TlsError};
use rustls::pki_types::{PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The name the reference servers' certificate is issued for.
pub const REFERENCE_NAME: &str = "mail.example.test";

/// Why the reference servers could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// Minting the certificates failed.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// The TLS client configuration failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A listener could not be bound.
    #[error("starting a reference server on 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
}

/// Running reference servers and the targets that point at them.
pub struct Reference {
    /// Keep them alive while the run lasts; dropping stops them.
    pub servers: Vec<RunningServer>,
    /// One target per server.
    pub targets: Vec<RunTarget>,
}

/// (protocol, transport, cleartext-auth allowed, client certificates accepted) of each
/// instance. Scenarios without a `profile:` run on the first that fits, so the
/// client-certificate ones come last.
const INSTANCES: &[(Protocol, Transport, bool, bool)] = &[
    (Protocol::Imap, Transport::Starttls, false, false),
    (Protocol::Imap, Transport::Starttls, true, false),
    (Protocol::Imap, Transport::Implicit, false, false),
    (Protocol::Pop3, Transport::Starttls, false, false),
    (Protocol::Pop3, Transport::Starttls, true, false),
    (Protocol::Pop3, Transport::Implicit, false, false),
    (Protocol::Acap, Transport::Starttls, false, false),
    (Protocol::Acap, Transport::Starttls, true, false),
    (Protocol::Imap, Transport::Starttls, false, true),
    (Protocol::Imap, Transport::Implicit, false, true),
    (Protocol::Pop3, Transport::Starttls, false, true),
    (Protocol::Pop3, Transport::Implicit, false, true),
    (Protocol::Acap, Transport::Starttls, false, true),
];

/// Starts every instance with `faults` switched on (each instance takes those that
/// apply to it), with the given per-read timeout.
pub async fn start(
    faults: &[Fault],
    timeout: Duration,
    max_line: usize,
) -> Result<Reference, ReferenceError> {
    let certificate = LeafSpec::for_names(&[REFERENCE_NAME]);
    start_with_certificate(faults, &certificate, timeout, max_line).await
}

/// [`start`], with servers that present a leaf made from `certificate` (names that do
/// or do not cover [`REFERENCE_NAME`]: what the identity checks judge).
pub async fn start_with_certificate(
    faults: &[Fault],
    certificate: &LeafSpec,
    timeout: Duration,
    max_line: usize,
) -> Result<Reference, ReferenceError> {
    let ca = Authority::new()?;
    let leaf = ca.issue(certificate)?;
    let server_tls = leaf.server_config()?;
    let client_auth_tls = client_auth_config(&ca, &leaf)?;
    // `[tls client-cert]` presents a certificate for the default user, from the same CA.
    let user = DEFAULT_USERS.first().map_or("alice", |(u, _)| u);
    let client_cert = ca.issue_client(user)?;
    let client_tls = ClientTls::new(&ClientTrust::Ca(vec![ca.cert_der().clone()]), false)?
        .with_client_certificate(
            client_cert.chain.clone(),
            PrivateKeyDer::Pkcs8(client_cert.key.clone_key()),
        )?;
    let server_name =
        ServerName::try_from(REFERENCE_NAME).map_err(|e| TlsError::Config(e.to_string()))?;
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    for &(protocol, transport, cleartext, client_certs) in INSTANCES {
        let implicit = transport == Transport::Implicit;
        let mut opts = ServerOptions::new(protocol, server_tls.clone())
            .implicit(implicit)
            .cleartext_login(cleartext);
        opts.client_auth_tls = Some(client_auth_tls.clone());
        opts.accepts_client_certs = client_certs;
        for &fault in faults {
            if fault.applies_to(protocol, implicit) {
                opts = opts.with_fault(fault);
            }
        }
        let server = spawn_server(opts).await?;
        let addr = server.addr();
        let mut profile = BTreeMap::from([
            (
                "cleartext-auth".to_owned(),
                if cleartext { "allowed" } else { "refused" }.to_owned(),
            ),
            (
                "client-cert".to_owned(),
                if client_certs { "optional" } else { "off" }.to_owned(),
            ),
        ]);
        // The per-user policy (RFC 2595 §2.3) shows only where others may log in.
        if let (true, Some(user)) = (cleartext, DEFAULT_TLS_ONLY_USERS.first()) {
            profile.insert("tls-only-user".to_owned(), (*user).to_owned());
        }
        targets.push(RunTarget {
            label: format!(
                "{}://{addr} (reference{})",
                protocol.url_scheme(transport),
                match (cleartext, client_certs) {
                    (true, _) => ", cleartext-auth=allowed",
                    (_, true) => ", client-cert=optional",
                    _ => "",
                }
            ),
            protocol,
            target: Target {
                addr,
                transport,
                server_name: server_name.clone(),
                tls: client_tls.clone(),
                profile,
                timeout,
                max_line,
            },
        });
        servers.push(server);
    }
    Ok(Reference { servers, targets })
}

/// The reference certificate with settings that ask for a client certificate (optional)
/// and verify it against the run's CA: what the `client-cert=optional` instances use.
fn client_auth_config(ca: &Authority, leaf: &Leaf) -> Result<Arc<ServerConfig>, ReferenceError> {
    let config_error = |e: &dyn std::fmt::Display| TlsError::Config(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(ca.cert_der().clone())
        .map_err(|e| config_error(&e))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| config_error(&e))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            leaf.chain.clone(),
            PrivateKeyDer::Pkcs8(leaf.key.clone_key()),
        )
        .map_err(|e| config_error(&e))?;
    Ok(Arc::new(config))
}
