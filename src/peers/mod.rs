//! Built-in reference peers with fault switches: what proves each scenario can fail.
//!
//! The reference server speaks IMAP, POP3 and ACAP, on a cleartext port with
//! STARTTLS/STLS or on an implicit-TLS port, and does what RFC 2595 (and RFC 3501/9051,
//! 1939, 2449, 2244, 4959, 5034, 8314) asks. Every scenario must PASS against it. Each
//! [`Fault`] switches on exactly one known defect, and every scenario must FAIL against
//! at least one of them: that is how the suite proves it catches bugs (DESIGN §5).
//!
//! ```no_run
//! # async fn demo(tls: std::sync::Arc<rustls::ServerConfig>) -> std::io::Result<()> {
//! use mailtls::model::Protocol;
//! use mailtls::peers::{Fault, ServerOptions, spawn_server};
//!
//! let reference = spawn_server(ServerOptions::new(Protocol::Imap, tls.clone())).await?;
//! let faulty = spawn_server(
//!     ServerOptions::new(Protocol::Imap, tls).with_fault(Fault::ExecutesPipelinedAfterStarttls),
//! )
//! .await?;
//! // ... run a scenario against reference.addr() and faulty.addr() ...
//! reference.shutdown().await;
//! # drop(faulty);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`fault`](Fault): the switches, with ids, descriptions and catalogue ids.
//! - `server`: [`ServerOptions`], the listener ([`spawn_server`]) and the loop that drives
//!   one session over one stream ([`serve_connection`], generic over
//!   `AsyncRead + AsyncWrite`, so it also runs over `tokio::io::duplex`).
//! - `io`: the connection that upgrades to TLS in place, and the one place that decides
//!   what happens to plaintext at the STARTTLS boundary.
//! - `session`: the sans-IO session contract, the PLAIN and password checks, the mailbox.
//! - `imap`, `pop3`, `acap`: one sans-IO session per protocol, parsing commands with
//!   [`crate::proto`] and PLAIN with [`crate::sasl`].
//!
//! The reference client comes later.

mod acap;
pub mod client;
mod fault;
mod imap;
mod io;
mod legacy;
mod pop3;
mod server;
mod session;
mod switch;

pub use client::{ClientFault, ClientOptions, run_client};
pub use fault::{Fault, UnknownFault};
pub use server::{
    DEFAULT_TLS_ONLY_USERS, DEFAULT_USERS, RunningServer, ServerLimits, ServerOptions,
    serve_connection, spawn_server, spawn_server_at,
};
pub use session::MESSAGE;
