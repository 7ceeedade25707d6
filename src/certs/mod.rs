//! Test certificates minted per run, in memory, with rcgen: a test CA and leaf
//! certificates it signs. The reference peers present them; the harness's TLS client
//! trusts the CA. [`profiles`] holds the leaf profiles the client role presents (wrong
//! name, wildcards, expired, unknown CA, ...).

pub mod profiles;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::IpAddr;
use std::sync::Arc;

/// Why a certificate could not be minted or used.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen refused the parameters or failed to sign.
    #[error("minting a certificate: {0}")]
    Mint(#[from] rcgen::Error),
    /// rustls refused the certificate and key.
    #[error("building a TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// A test certificate authority: its certificate and the key that signs leaves.
pub struct Authority {
    cert: CertificateDer<'static>,
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A leaf certificate with its private key, ready for a rustls server.
#[derive(Debug)]
pub struct Leaf {
    /// The leaf certificate followed by the CA that signed it.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key, PKCS #8.
    pub key: PrivatePkcs8KeyDer<'static>,
    /// The leaf certificate as PEM.
    pub pem: String,
    /// The private key as PEM.
    pub key_pem: String,
}

/// A calendar date: (year, month, day).
pub type Date = (i32, u8, u8);

/// What to put in a leaf certificate.
#[derive(Clone, Debug, Default)]
pub struct LeafSpec {
    /// dNSName subjectAltNames, verbatim (wildcards allowed).
    pub dns_names: Vec<String>,
    /// iPAddress subjectAltNames.
    pub ip_addresses: Vec<IpAddr>,
    /// The subject common name, if any.
    pub common_name: Option<String>,
    /// Validity as (not before, not after) calendar dates `(year, month, day)`; rcgen's
    /// default (1975 to 4096) when `None`.
    pub validity: Option<(Date, Date)>,
}

impl LeafSpec {
    /// A leaf valid for the given DNS names (the first is also the CN).
    pub fn for_names(names: &[&str]) -> Self {
        Self {
            dns_names: names.iter().map(|n| (*n).to_owned()).collect(),
            ip_addresses: Vec::new(),
            common_name: names.first().map(|n| (*n).to_owned()),
            validity: None,
        }
    }
}

impl Authority {
    /// Mints a fresh CA named `mailtls test CA`.
    pub fn new() -> Result<Self, CertError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "mailtls test CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "mailtls");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            pem: cert.pem(),
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// Signs a leaf certificate for a TLS server.
    pub fn issue(&self, spec: &LeafSpec) -> Result<Leaf, CertError> {
        self.sign(leaf_params(spec)?)
    }

    /// Signs `params` with a fresh key: the leaf, then this CA, as the chain.
    pub(crate) fn sign(&self, params: CertificateParams) -> Result<Leaf, CertError> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf {
            chain: vec![cert.der().clone(), self.cert.clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Signs a TLS client certificate for `user` (CN and dNSName SAN = `user`, extended
    /// key usage clientAuth): what `[tls client-cert]` presents to a server.
    pub fn issue_client(&self, user: &str) -> Result<Leaf, CertError> {
        let mut params = leaf_params(&LeafSpec {
            common_name: Some(user.to_owned()),
            ..LeafSpec::default()
        })?;
        if let Ok(name) = user.to_owned().try_into() {
            params.subject_alt_names.push(SanType::DnsName(name));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }
}

/// A leaf that signs itself: no CA vouches for it.
pub fn self_signed(spec: &LeafSpec) -> Result<Leaf, CertError> {
    let params = leaf_params(spec)?;
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(Leaf {
        chain: vec![cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn leaf_params(spec: &LeafSpec) -> Result<CertificateParams, CertError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    for name in &spec.dns_names {
        params
            .subject_alt_names
            .push(SanType::DnsName(name.clone().try_into()?));
    }
    for ip in &spec.ip_addresses {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    if let Some(cn) = &spec.common_name {
        params
            .distinguished_name
            .push(DnType::CommonName, cn.as_str());
    }
    if let Some(((y1, m1, d1), (y2, m2, d2))) = spec.validity {
        params.not_before = rcgen::date_time_ymd(y1, m1, d1);
        params.not_after = rcgen::date_time_ymd(y2, m2, d2);
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

impl Leaf {
    /// A rustls server configuration presenting this leaf (TLS 1.2 and 1.3, ring).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, CertError> {
        self.server_config_for(rustls::DEFAULT_VERSIONS)
    }

    /// As [`Leaf::server_config`], accepting only `versions` (`[tls version=1.2]`).
    pub fn server_config_for(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<Arc<rustls::ServerConfig>, CertError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )?;
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::cert::CertificateNames;

    #[test]
    fn a_leaf_presents_the_names_it_was_issued_for() {
        let ca = Authority::new().unwrap();
        let leaf = ca
            .issue(&LeafSpec::for_names(&[
                "mail.example.test",
                "*.example.test",
            ]))
            .unwrap();
        let names = CertificateNames::from_der(&leaf.chain[0]).unwrap();
        assert_eq!(names.dns_names, ["mail.example.test", "*.example.test"]);
        assert_eq!(names.common_names, ["mail.example.test"]);
        assert_eq!(leaf.chain[1], *ca.cert_der());
        assert!(leaf.server_config().is_ok());
    }
}
