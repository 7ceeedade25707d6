//! Why a TLS client configuration could not be built: each error names the file or the
//! source of trust it was about and what was wrong with it.

use std::io;
use std::path::PathBuf;

/// A TLS configuration that could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A `--ca` file could not be read.
    #[error("reading CA file {}: {source}", path.display())]
    ReadCaFile {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A `--ca` file is not valid PEM.
    #[error("CA file {}: {reason}", path.display())]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        reason: String,
    },
    /// A `--ca` file holds no certificate.
    #[error("CA file {}: no PEM certificate found (expected a -----BEGIN CERTIFICATE----- section)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A CA certificate cannot serve as a trust anchor.
    #[error("CA certificate #{index} is not usable as a trust anchor: {reason}")]
    BadAnchor {
        /// Its position among the given certificates, from 1.
        index: usize,
        /// What webpki said.
        reason: String,
    },
    /// The system's trust store yielded no usable certificate.
    #[error("no usable system trust anchors{}", if errors.is_empty() { String::new() } else { format!(": {errors}") })]
    NoSystemRoots {
        /// What went wrong while loading them.
        errors: String,
    },
    /// rustls refused the configuration.
    #[error("building the TLS client configuration: {0}")]
    Config(String),
}
