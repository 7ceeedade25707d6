//! The names a DER certificate presents: dNSName and iPAddress SANs and subject CNs,
//! read with `x509-parser`. Sans-IO: DER bytes in, names out.

use std::net::IpAddr;

use thiserror::Error;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Decision, Presented, Rules, check};

/// Why names could not be read from a certificate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The bytes are not a DER X.509 certificate.
    #[error("not a DER X.509 certificate: {0}")]
    NotACertificate(String),
    /// The subjectAltName extension is malformed or present twice.
    #[error("unreadable subjectAltName extension: {0}")]
    BadSubjectAltName(String),
}

/// The identities one certificate presents, owned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateNames {
    /// dNSName SANs, in certificate order.
    pub dns_names: Vec<String>,
    /// iPAddress SANs (entries that are neither 4 nor 16 octets are skipped).
    pub ip_addresses: Vec<IpAddr>,
    /// Subject common names that are strings.
    pub common_names: Vec<String>,
}

impl CertificateNames {
    /// Reads the names from a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| CertificateError::NotACertificate(e.to_string()))?;
        let mut names = Self::default();
        let san = cert
            .subject_alternative_name()
            .map_err(|e| CertificateError::BadSubjectAltName(e.to_string()))?;
        for name in san.iter().flat_map(|ext| ext.value.general_names.iter()) {
            match name {
                GeneralName::DNSName(dns) => names.dns_names.push((*dns).to_owned()),
                GeneralName::IPAddress(octets) => names.ip_addresses.extend(ip_from_octets(octets)),
                _ => {}
            }
        }
        names.common_names = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(str::to_owned)
            .collect();
        Ok(names)
    }

    /// Runs the identity check on these names; `explain` is the sentence for a human.
    pub fn check(&self, rules: Rules, reference: &str) -> (Decision, String) {
        let dns: Vec<&str> = self.dns_names.iter().map(String::as_str).collect();
        let cns: Vec<&str> = self.common_names.iter().map(String::as_str).collect();
        let presented = Presented {
            dns_names: &dns,
            ip_addresses: &self.ip_addresses,
            common_names: &cns,
        };
        let decision = check(rules, reference, &presented);
        (decision, decision.explain(&presented))
    }
}

fn ip_from_octets(octets: &[u8]) -> Option<IpAddr> {
    match octets.len() {
        4 => <[u8; 4]>::try_from(octets).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(octets).ok().map(IpAddr::from),
        _ => None,
    }
}
