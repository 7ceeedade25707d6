//! Follows the capability lists a server sends, per protocol, so `[caps ...]` steps and
//! `requires:` can be judged. Capabilities learnt before TLS are void after it (RFC 2595
//! §3.1, §4): [`CapsTracker::tls_started`] forgets them.

use crate::model::Protocol;
use crate::proto::capability::Capabilities;
use crate::proto::{acap, imap, pop3};

/// The latest capability list of the current TLS phase.
#[derive(Debug)]
pub struct CapsTracker {
    protocol: Protocol,
    current: Option<Capabilities>,
    /// Whether any capability list has been seen on this scenario's connections yet.
    seen_any: bool,
    /// POP3: the raw multi-line CAPA answer being collected, when the last command sent
    /// was CAPA and its `+OK` arrived.
    pop3_capa: Option<Vec<u8>>,
    /// POP3: the last command sent was CAPA and its answer has not started.
    pop3_awaiting_capa: bool,
}

impl CapsTracker {
    /// A tracker for one scenario.
    pub fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            current: None,
            seen_any: false,
            pop3_capa: None,
            pop3_awaiting_capa: false,
        }
    }

    /// The latest list since the last TLS boundary or connection start.
    pub fn current(&self) -> Option<&Capabilities> {
        self.current.as_ref()
    }

    /// Tells the tracker what mailtls sent (POP3 needs it to know a `+OK` opens CAPA).
    pub fn sent(&mut self, bytes: &[u8]) {
        if self.protocol == Protocol::Pop3 {
            self.pop3_awaiting_capa =
                last_command_word(bytes).is_some_and(|cmd| cmd.eq_ignore_ascii_case(b"CAPA"));
        }
    }

    /// Feeds one received line (without its terminator). Returns the capability list when
    /// this line completed one (the first one of a scenario decides `requires:`).
    pub fn received(&mut self, line: &[u8]) -> Option<&Capabilities> {
        let found = match self.protocol {
            Protocol::Imap => {
                let mut framed = line.to_vec();
                framed.extend_from_slice(b"\r\n");
                imap::Response::from_bytes(&framed)
                    .ok()
                    .and_then(|r| r.capabilities())
            }
            Protocol::Acap => {
                let mut framed = line.to_vec();
                framed.extend_from_slice(b"\r\n");
                acap::Response::from_bytes(&framed)
                    .ok()
                    .and_then(|r| r.capabilities())
            }
            Protocol::Pop3 => self.pop3_line(line),
        };
        let caps = found?;
        self.current = Some(caps);
        self.seen_any = true;
        self.current.as_ref()
    }

    fn pop3_line(&mut self, line: &[u8]) -> Option<Capabilities> {
        if let Some(body) = &mut self.pop3_capa {
            body.extend_from_slice(line);
            body.extend_from_slice(b"\r\n");
            if line == b"." {
                let raw = self.pop3_capa.take().unwrap_or_default();
                return pop3::Response::from_bytes(&raw, pop3::Expect::MultiLine)
                    .ok()
                    .and_then(|r| r.capabilities())
                    .and_then(Result::ok);
            }
            return None;
        }
        if self.pop3_awaiting_capa {
            self.pop3_awaiting_capa = false;
            if line.starts_with(b"+OK") {
                let mut raw = line.to_vec();
                raw.extend_from_slice(b"\r\n");
                self.pop3_capa = Some(raw);
            }
        }
        None
    }

    /// The TLS handshake completed: what was learnt before it is void.
    pub fn tls_started(&mut self) {
        self.current = None;
        self.pop3_capa = None;
    }

    /// A new connection started.
    pub fn new_connection(&mut self) {
        self.tls_started();
        self.pop3_awaiting_capa = false;
    }

    /// Whether any list was seen in this scenario.
    pub fn seen_any(&self) -> bool {
        self.seen_any
    }
}

/// The first word of the last non-empty line of a write (`CAPA` in `USER a\r\nCAPA\r\n`).
fn last_command_word(bytes: &[u8]) -> Option<&[u8]> {
    let line = bytes
        .split(|&b| b == b'\r' || b == b'\n')
        .rfind(|line| !line.is_empty())?;
    line.split(|&b| b == b' ').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_capabilities_from_untagged_and_greeting_code() {
        let mut t = CapsTracker::new(Protocol::Imap);
        assert!(
            t.received(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi")
                .is_some()
        );
        assert!(t.current().unwrap().has("LOGINDISABLED"));
        t.tls_started();
        assert!(t.current().is_none());
        t.received(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN");
        assert!(t.current().unwrap().has_sasl("PLAIN"));
        assert!(!t.current().unwrap().has("STARTTLS"));
    }

    #[test]
    fn pop3_capa_is_collected_after_a_sent_capa() {
        let mut t = CapsTracker::new(Protocol::Pop3);
        t.received(b"+OK ready");
        assert!(t.current().is_none());
        t.sent(b"CAPA\r\n");
        assert!(t.received(b"+OK list follows").is_none());
        assert!(t.received(b"STLS").is_none());
        assert!(t.received(b"SASL PLAIN").is_none());
        let caps = t.received(b".").unwrap();
        assert!(caps.has("STLS") && caps.has_sasl("PLAIN"));
    }

    #[test]
    fn acap_greeting() {
        let mut t = CapsTracker::new(Protocol::Acap);
        let caps = t
            .received(b"* ACAP (IMPLEMENTATION \"x\") (STARTTLS) (SASL \"PLAIN\")")
            .unwrap();
        assert!(caps.has("STARTTLS") && caps.has_sasl("PLAIN"));
    }
}
