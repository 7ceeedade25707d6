//! What the server's [`Fault`](super::Fault) and the client's
//! [`ClientFault`](super::ClientFault) switches share: one row per switch (id,
//! description, the catalogue cases it breaks, where it changes anything).

use crate::model::Protocol;

/// Where a switch can change anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// On a cleartext port that upgrades with STARTTLS/STLS.
    Starttls,
    /// On an implicit-TLS port only.
    Implicit,
    /// On both kinds of port.
    Both,
}

pub(super) const ALL_PROTOCOLS: &[Protocol] = &[Protocol::Imap, Protocol::Pop3, Protocol::Acap];
pub(super) const IMAP: &[Protocol] = &[Protocol::Imap];
pub(super) const POP3: &[Protocol] = &[Protocol::Pop3];
pub(super) const ACAP: &[Protocol] = &[Protocol::Acap];
pub(super) const IMAP_ACAP: &[Protocol] = &[Protocol::Imap, Protocol::Acap];
pub(super) const IMAP_POP3: &[Protocol] = &[Protocol::Imap, Protocol::Pop3];

/// Everything said about one switch, in one row.
pub(super) struct Row {
    pub(super) id: &'static str,
    pub(super) description: &'static str,
    pub(super) catalogue: &'static [&'static str],
    pub(super) protocols: &'static [Protocol],
    pub(super) reach: Reach,
}

impl Row {
    /// Whether the switch changes anything for `protocol` on a cleartext port
    /// (`implicit == false`) or an implicit-TLS port.
    pub(super) fn applies_to(&self, protocol: Protocol, implicit: bool) -> bool {
        let transport = match self.reach {
            Reach::Both => true,
            Reach::Starttls => !implicit,
            Reach::Implicit => implicit,
        };
        transport && self.protocols.contains(&protocol)
    }
}
