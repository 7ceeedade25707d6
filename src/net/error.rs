//! Why a connection operation failed. Each variant says what was attempted and what
//! the limit or the peer did, so a scenario's ERROR or FAIL can quote it as is.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// A connection operation that did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The TCP connection could not be made.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// Where to.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The TCP connection was neither made nor refused in time.
    #[error("connecting to {addr}: no answer within {waited:?}")]
    ConnectTimeout {
        /// Where to.
        addr: SocketAddr,
        /// How long mailtls waited.
        waited: Duration,
    },
    /// No peer connected to the listener in time (client role).
    #[error("no client connected within {waited:?}")]
    AcceptTimeout {
        /// How long mailtls waited.
        waited: Duration,
    },
    /// Nothing complete arrived in time.
    #[error(
        "nothing complete arrived within {waited:?} ({} octets of an unfinished line pending)",
        partial.len()
    )]
    Timeout {
        /// How long mailtls waited.
        waited: Duration,
        /// The start of a line that had no terminator yet (also still buffered).
        partial: Vec<u8>,
    },
    /// The peer did not take what mailtls wrote in time.
    #[error("the peer did not accept {len} octets within {waited:?}")]
    WriteTimeout {
        /// How many octets were being written.
        len: usize,
        /// How long mailtls waited.
        waited: Duration,
    },
    /// The operating system reported an error.
    #[error("{op}: {source}")]
    Io {
        /// What mailtls was doing (`read`, `write`, `shutdown`, ...).
        op: &'static str,
        /// What the OS said.
        source: io::Error,
    },
    /// The TLS handshake failed or timed out.
    #[error("TLS handshake failed: {reason}{}", pending_note(unconsumed_plaintext))]
    Handshake {
        /// rustls's error, the peer's alert, or the timeout.
        reason: String,
        /// Plaintext octets the peer sent after its last line and before the handshake:
        /// neither fed into TLS nor dropped (a response- or command-injection finding).
        unconsumed_plaintext: Vec<u8>,
    },
    /// A TLS error after the handshake (a fatal alert, a corrupt record).
    #[error("TLS: {0}")]
    Tls(String),
    /// A line grew past the limit without a line feed.
    #[error("a line exceeded {limit} octets")]
    LineTooLong {
        /// The limit (`ConnOptions::max_line`).
        limit: usize,
    },
    /// More octets arrived than mailtls buffers.
    #[error("more than {limit} octets arrived without being consumed")]
    BufferFull {
        /// The limit (`ConnOptions::max_buffer`).
        limit: usize,
    },
    /// The operation needs a TLS connection; this one is in plaintext.
    #[error("the connection is not in TLS")]
    NotTls,
    /// STARTTLS on a connection that already is in TLS.
    #[error("the connection is already in TLS")]
    AlreadyTls,
    /// mailtls already closed (or reset) this connection for writing.
    #[error("the connection is closed for writing")]
    Closed,
}

fn pending_note(unconsumed: &[u8]) -> String {
    if unconsumed.is_empty() {
        String::new()
    } else {
        format!(
            " ({} plaintext octets from the peer were pending)",
            unconsumed.len()
        )
    }
}
