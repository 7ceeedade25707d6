//! What the harness's TLS client trusts: the CA certificates of a `--ca` file, or the
//! system's trust anchors (what a real mail client would trust).

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

use super::error::TlsError;

/// The trust anchors a server's chain is verified against.
#[derive(Clone, Debug)]
pub enum ClientTrust {
    /// These CA certificates only (`--ca FILE`, or the run's test CA).
    Ca(Vec<CertificateDer<'static>>),
    /// The operating system's trust store (rustls-native-certs; honours `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR`).
    System,
}

/// Reads every certificate of a PEM file (other PEM sections, such as keys, are skipped).
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::ReadCaFile {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| TlsError::BadPem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The root store for `trust`. Empty is allowed here; the caller decides whether a
/// configuration without anchors makes sense (only with `--insecure`).
pub(super) fn root_store(trust: &ClientTrust) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match trust {
        ClientTrust::Ca(certs) => {
            for (i, cert) in certs.iter().enumerate() {
                roots.add(cert.clone()).map_err(|e| TlsError::BadAnchor {
                    index: i + 1,
                    reason: e.to_string(),
                })?;
            }
        }
        ClientTrust::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(TlsError::NoSystemRoots {
                    errors: errors.join("; "),
                });
            }
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::Authority;

    fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("mailtls-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_pem_file_yields_every_certificate() {
        let a = Authority::new().unwrap();
        let b = Authority::new().unwrap();
        let path = temp_file(
            "two.pem",
            format!("{}{}", a.cert_pem(), b.cert_pem()).as_bytes(),
        );
        let certs = load_ca_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(certs, [a.cert_der().clone(), b.cert_der().clone()]);
        assert!(root_store(&ClientTrust::Ca(certs)).is_ok());
    }

    #[test]
    fn file_errors_name_the_file_and_the_reason() {
        let missing = std::env::temp_dir().join("mailtls-no-such-file.pem");
        let e = load_ca_file(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with("reading CA file ") && e.contains("no-such-file.pem"),
            "{e}"
        );

        let path = temp_file("empty.pem", b"just text\n");
        let e = load_ca_file(&path).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(
            e.contains("empty.pem") && e.contains("no PEM certificate found"),
            "{e}"
        );
    }

    #[test]
    fn a_non_certificate_is_not_a_trust_anchor() {
        let e = root_store(&ClientTrust::Ca(vec![CertificateDer::from(vec![1, 2, 3])]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("CA certificate #1 is not usable"), "{e}");
    }
}
