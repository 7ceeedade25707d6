//! mailtls: a conformance and fuzzing harness for mail TLS.
//!
//! It checks what RFC 2595 (STARTTLS for IMAP and ACAP, STLS for POP3, LOGINDISABLED,
//! the PLAIN SASL mechanism, the server identity check) and its successors (RFC 8314
//! implicit TLS, RFC 4616 PLAIN, RFC 6125/7817/9525 server identity) ask of servers and
//! clients.
//!
//! # The sans-IO core
//!
//! The modules below the line take bytes in and hand values (or bytes to append) out.
//! They never own a socket, spawn, sleep or await, so they can be fuzzed, property-tested,
//! paired in memory and replayed from a transcript:
//!
//! ```text
//!          bytes from a peer                        bytes to a peer
//!                 |                                        ^
//!                 v                                        |
//!   +-----------------------------+        +-------------------------------+
//!   | proto::{imap, pop3, acap}   |        | sasl::plain::encode,           |
//!   |  line framing, responses,   |        | proto encoders (commands)      |
//!   |  commands, capabilities     |        +-------------------------------+
//!   +-----------------------------+
//!                 | typed events
//!                 v
//!   +-----------------------------+    +--------------------------------+
//!   | model: STARTTLS/STLS state  |    | identity: reference name vs     |
//!   | machines + RFC rules        |    | presented names (rfc2595,       |
//!   | -> Violation (FAIL) / WARN  |    | rfc6125, rfc9525)               |
//!   +-----------------------------+    +--------------------------------+
//! ```
//!
//! - [`sasl`]: the PLAIN message (RFC 2595 §6 and RFC 4616 profiles) and the base64
//!   wrapping used by IMAP `AUTHENTICATE` and POP3 `AUTH`.
//! - [`identity`]: the server identity check.
//! - [`proto`]: line framing and response/command parsing for IMAP, POP3 and ACAP.
//! - [`model`]: the STARTTLS/STLS state machines and the RFC rules they judge with.
//!
//! Every function of the core is total: bad input yields a typed error, never a panic.

pub mod certs;
pub mod coverage;
pub mod engine;
pub mod identity;
pub mod model;
pub mod net;
pub mod peers;
pub mod proto;
pub mod report;
pub mod runner;
pub mod sasl;
pub mod scenario;
pub mod tls;

#[doc(hidden)]
pub mod internal;
