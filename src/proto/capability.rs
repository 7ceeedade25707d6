//! A protocol-neutral capability set: what a server says it can do, from IMAP
//! `CAPABILITY` (and `[CAPABILITY ...]` codes), POP3 `CAPA`, or the ACAP greeting.
//!
//! Names compare case-insensitively (RFC 3501 §9 atoms, RFC 2449 §6 tags); SASL
//! mechanisms are kept apart because the three protocols spell them differently
//! (`AUTH=PLAIN`, `SASL PLAIN`, `(SASL "PLAIN")`). The original spellings are kept in
//! order so a report can show what the peer really sent.

use std::collections::BTreeSet;

/// The capabilities one response (or one greeting) advertised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Capability names, upper-cased, without SASL mechanisms (`STARTTLS`, `STLS`, `LOGINDISABLED`, `IMAP4REV1`).
    names: BTreeSet<String>,
    /// SASL mechanism names, upper-cased (`PLAIN`, `SCRAM-SHA-256`).
    sasl: BTreeSet<String>,
    /// Every item as the peer spelled it, in order.
    raw: Vec<String>,
}

impl Capabilities {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an IMAP capability atom: `AUTH=<mech>` becomes a SASL mechanism, anything
    /// else a name.
    pub fn insert_imap_atom(&mut self, atom: &str) {
        self.raw.push(atom.to_owned());
        match split_auth_prefix(atom) {
            Some(mech) => {
                self.sasl.insert(mech.to_ascii_uppercase());
            }
            None => {
                self.names.insert(atom.to_ascii_uppercase());
            }
        }
    }

    /// Adds a capability name as is (POP3 CAPA tag, ACAP capability name).
    pub fn insert_name(&mut self, name: &str) {
        self.raw.push(name.to_owned());
        self.names.insert(name.to_ascii_uppercase());
    }

    /// Adds a SASL mechanism (POP3 `SASL` arguments, ACAP `(SASL ...)` values).
    pub fn insert_sasl(&mut self, mechanism: &str) {
        self.raw.push(format!("SASL {mechanism}"));
        self.sasl.insert(mechanism.to_ascii_uppercase());
    }

    /// Whether the named capability is present (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        self.names.contains(&name.to_ascii_uppercase())
    }

    /// Whether the SASL mechanism is offered (case-insensitive).
    pub fn has_sasl(&self, mechanism: &str) -> bool {
        self.sasl.contains(&mechanism.to_ascii_uppercase())
    }

    /// Capability names, upper-cased, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// SASL mechanisms, upper-cased, sorted.
    pub fn sasl_mechanisms(&self) -> impl Iterator<Item = &str> {
        self.sasl.iter().map(String::as_str)
    }

    /// Every item as the peer spelled it, in the order it came.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }

    /// Whether nothing was advertised.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

fn split_auth_prefix(atom: &str) -> Option<&str> {
    let prefix = atom.get(..5)?;
    prefix
        .eq_ignore_ascii_case("AUTH=")
        .then(|| &atom[5..])
        .filter(|mech| !mech.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_atoms_split_into_names_and_mechanisms() {
        let mut caps = Capabilities::new();
        for atom in [
            "IMAP4rev1",
            "starttls",
            "LoginDisabled",
            "AUTH=plain",
            "AUTH=",
        ] {
            caps.insert_imap_atom(atom);
        }
        assert!(caps.has("STARTTLS"));
        assert!(caps.has("logindisabled"));
        assert!(caps.has_sasl("PLAIN"));
        assert!(!caps.has("AUTH=PLAIN"));
        // `AUTH=` with no mechanism is kept as an odd name, not as an empty mechanism.
        assert!(caps.has("AUTH="));
        assert_eq!(caps.raw().len(), 5);
    }

    #[test]
    fn non_ascii_atoms_do_not_panic() {
        let mut caps = Capabilities::new();
        caps.insert_imap_atom("AUTé=X");
        caps.insert_imap_atom("é");
        assert!(caps.has("é"));
    }
}
