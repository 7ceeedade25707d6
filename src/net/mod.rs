//! Connections as the engine sees them: TCP that upgrades to TLS in place, with every
//! octet recorded and every read bounded in time and size.
//!
//! - [`Conn`]: connect (server role) or accept (client role), write, read lines or
//!   everything within a window, peek for a ClientHello, upgrade to TLS as client or
//!   server, close with or without close_notify, or reset.
//! - [`transcript`]: what a connection records; one [`Transcript`](transcript::Transcript)
//!   per connection, merged per scenario with
//!   [`Transcript::merge`](transcript::Transcript::merge).
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr, tls: std::sync::Arc<rustls::ClientConfig>)
//! # -> Result<(), mailtls::net::NetError> {
//! use mailtls::net::{Conn, ConnOptions, ReadLine};
//! use rustls::pki_types::ServerName;
//!
//! let mut conn = Conn::connect(addr, ConnOptions::default()).await?;
//! let _greeting = conn.read_line().await?;
//! conn.write_all(b"A1 STARTTLS\r\n").await?;
//! if let ReadLine::Line { bytes, .. } = conn.read_line().await? {
//!     assert!(bytes.starts_with(b"A1 OK"));
//! }
//! let name = ServerName::try_from("mail.example.test").map_err(|e| {
//!     mailtls::net::NetError::Tls(e.to_string())
//! })?;
//! let summary = conn.upgrade_client(tls, name).await?;
//! assert!(summary.unconsumed_plaintext.is_empty(), "response injection");
//! # Ok(()) }
//! ```

mod conn;
mod error;
mod input;
mod prefixed;
mod stream;
pub mod transcript;
mod upgrade;

pub use conn::{CloseHow, Conn, ConnOptions, ReadLine};
pub use error::NetError;
pub use input::Ending;
pub use upgrade::{HANDSHAKE_RECORD, TlsSummary};
