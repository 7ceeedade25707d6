//! The record of a conversation: every octet with its direction, time and phase
//! (plaintext or inside TLS), and the events between them (handshake, close_notify,
//! close). A report renders it with the TLS boundary marked; nothing is dropped, so a
//! transcript attached to a bug report shows exactly what crossed the wire.

use serde::Serialize;
use std::time::Duration;

/// Which way octets went, seen from mailtls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// mailtls wrote them to the peer.
    Sent,
    /// The peer sent them to mailtls.
    Received,
}

/// Whether application octets travelled in the clear or inside TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Before the handshake (or without TLS at all).
    Plaintext,
    /// TLS application data (recorded decrypted).
    Tls,
}

/// Something that happened on a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A TCP connection was made (server role) or accepted (client role).
    Connected {
        /// The peer's address.
        peer: String,
    },
    /// Application octets, exactly as one write or one read delivered them.
    Data {
        /// Who sent them.
        direction: Direction,
        /// Plaintext or TLS.
        phase: Phase,
        /// The octets.
        #[serde(serialize_with = "serialize_lossy")]
        bytes: Vec<u8>,
    },
    /// The TLS handshake began (mailtls sent or received the first handshake record).
    TlsStarted,
    /// The handshake completed.
    TlsEstablished {
        /// Negotiated protocol version, e.g. `TLSv1.3`.
        version: String,
        /// Negotiated cipher suite.
        cipher_suite: String,
    },
    /// The handshake failed.
    TlsFailed {
        /// Why, as rustls or the peer's alert put it.
        reason: String,
    },
    /// A TLS close_notify alert was sent or received.
    CloseNotify {
        /// Who sent it.
        direction: Direction,
    },
    /// A side closed the TCP connection (FIN), or the connection was reset.
    Closed {
        /// Who closed it.
        direction: Direction,
        /// `FIN`, `RST`, or `EOF without close_notify`.
        how: String,
    },
    /// A harness step worth seeing in the transcript (`[wait 50ms]`, a silence that held).
    Note {
        /// What happened.
        text: String,
    },
}

fn serialize_lossy<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

/// One event with its time and connection number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Time since the scenario started.
    #[serde(rename = "at_ms", serialize_with = "serialize_millis")]
    pub at: Duration,
    /// 1 for the first connection of a scenario, 2 after `[new-connection]`, ...
    pub connection: u32,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

fn serialize_millis<S: serde::Serializer>(at: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(at.as_secs_f64() * 1000.0)
}

/// Everything that happened during one scenario, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Transcript {
    /// The entries in the order they happened.
    pub entries: Vec<Entry>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry.
    pub fn push(&mut self, at: Duration, connection: u32, event: Event) {
        self.entries.push(Entry {
            at,
            connection,
            event,
        });
    }

    /// A copy with every occurrence of each secret (password, base64 PLAIN blob) in the
    /// data replaced by `***`, for reports without `--show-secrets`.
    pub fn redacted(&self, secrets: &[Vec<u8>]) -> Self {
        let mut out = self.clone();
        for entry in &mut out.entries {
            if let Event::Data { bytes, .. } = &mut entry.event {
                for secret in secrets.iter().filter(|s| !s.is_empty()) {
                    *bytes = replace_all(bytes, secret, b"***");
                }
            }
        }
        out
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

impl Transcript {
    /// One transcript from the transcripts of a scenario's connections (all measured
    /// from the same `started`), in time order; entries at the same instant keep their
    /// order, connection by connection.
    pub fn merge(parts: impl IntoIterator<Item = Self>) -> Self {
        let mut entries: Vec<Entry> = parts.into_iter().flat_map(|t| t.entries).collect();
        entries.sort_by_key(|e| e.at);
        Self { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_masks_every_occurrence_and_nothing_else() {
        let mut t = Transcript::new();
        let data = |b: &[u8]| Event::Data {
            direction: Direction::Sent,
            phase: Phase::Tls,
            bytes: b.to_vec(),
        };
        t.push(Duration::ZERO, 1, data(b"A1 LOGIN alice s3cret s3cret\r\n"));
        t.push(Duration::ZERO, 1, data(b"A2 NOOP\r\n"));
        let r = t.redacted(&[b"s3cret".to_vec(), Vec::new()]);
        assert_eq!(r.entries[0].event, data(b"A1 LOGIN alice *** ***\r\n"));
        assert_eq!(r.entries[1].event, data(b"A2 NOOP\r\n"));
    }
}
