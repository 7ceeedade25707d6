//! TLS configurations for the harness: the client that records and judges what a server
//! presents.
//!
//! The server role (mailtls tests a server) needs a rustls client that does not stop at
//! the first problem: it records the chain the server presented, judges the chain with
//! webpki ([`ChainVerdict`]), and leaves the host name to [`crate::identity`], reported
//! as a check of its own ([`PeerRecord::identity`]). With `--insecure`, an untrusted chain
//! is recorded as a finding and the handshake goes on.
//!
//! ```no_run
//! # fn demo() -> Result<(), mailtls::tls::TlsError> {
//! use mailtls::identity::Rules;
//! use mailtls::tls::{ClientTls, ClientTrust, load_ca_file};
//!
//! let trust = ClientTrust::Ca(load_ca_file("ca.pem".as_ref())?);
//! let client = ClientTls::new(&trust, false)?;
//! let (config, record) = client.config()?; // one per connection
//! // ... Conn::upgrade_client(config, server_name) ...
//! let trusted = record.verdict().is_some_and(|v| v.is_trusted());
//! let name_ok = record.identity("mail.example.test", Rules::Rfc6125).is_some_and(|d| d.is_match());
//! # let _ = (trusted, name_ok); Ok(()) }
//! ```
//!
//! Server configurations for the reference peers and the client role come from
//! [`crate::certs::Leaf::server_config`].

mod client;
mod client_cert;
mod error;
pub mod legacy;
mod trust;
mod verifier;

pub use client::{ClientTls, client_config};
pub use error::TlsError;
pub use trust::{ClientTrust, load_ca_file};
pub use verifier::{ChainVerdict, PeerRecord};
