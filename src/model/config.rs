//! What the observer is told before the first event: the protocol, how TLS is reached
//! (STARTTLS on a cleartext port or implicit TLS from the first octet), which party is
//! being judged, and the operating profiles the verdicts depend on (catalogue §1.3).

use serde::Serialize;
use std::fmt;

/// The application protocol on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Protocol {
    /// IMAP4 (RFC 2595 §3, RFC 9051).
    Imap,
    /// POP3 (RFC 2595 §4, RFC 1939, RFC 2449).
    Pop3,
    /// ACAP (RFC 2595 §5, RFC 2244).
    Acap,
}

impl Protocol {
    /// All three protocols, in a fixed order.
    pub const ALL: [Self; 3] = [Self::Imap, Self::Pop3, Self::Acap];

    /// The command that starts TLS: `STARTTLS` (IMAP, ACAP) or `STLS` (POP3).
    pub fn starttls_command(self) -> &'static str {
        match self {
            Self::Imap | Self::Acap => "STARTTLS",
            Self::Pop3 => "STLS",
        }
    }

    /// The positive completion: `OK` (IMAP, ACAP) or `+OK` (POP3).
    pub fn ok_word(self) -> &'static str {
        match self {
            Self::Imap | Self::Acap => "OK",
            Self::Pop3 => "+OK",
        }
    }

    /// The URL scheme of this protocol over `transport`: `imap`, `imaps`, `pop3`,
    /// `pop3s`, `acap` (`acaps` for the implicit-TLS ACAP port no RFC defines).
    pub fn url_scheme(self, transport: Transport) -> &'static str {
        match (self, transport) {
            (Self::Imap, Transport::Starttls) => "imap",
            (Self::Imap, Transport::Implicit) => "imaps",
            (Self::Pop3, Transport::Starttls) => "pop3",
            (Self::Pop3, Transport::Implicit) => "pop3s",
            (Self::Acap, Transport::Starttls) => "acap",
            (Self::Acap, Transport::Implicit) => "acaps",
        }
    }

    /// Whether commands carry tags that responses echo (IMAP, ACAP).
    pub fn is_tagged(self) -> bool {
        !matches!(self, Self::Pop3)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Imap => "IMAP",
            Self::Pop3 => "POP3",
            Self::Acap => "ACAP",
        })
    }
}

/// How the connection reaches TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Transport {
    /// A cleartext port (143, 110, 674) upgraded with STARTTLS/STLS.
    Starttls,
    /// An implicit-TLS port (993, 995): the TLS handshake comes before any application
    /// octet (RFC 8314 §3).
    Implicit,
}

/// One side of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Party {
    /// The side that sends commands.
    Client,
    /// The side that sends the greeting and the responses.
    Server,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Client => "client",
            Self::Server => "server",
        })
    }
}

/// Whose violations count. The harness plays the other side and breaks rules on purpose
/// (it pipelines a command after STARTTLS to test a server for CVE-2011-0411, it injects
/// plaintext after the OK to test a client): the model records those as
/// [`Disposition::Tolerated`](crate::model::Disposition::Tolerated) and goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Judged {
    /// Both parties are judged (an observed pair, or a replayed transcript).
    Both,
    /// The client is the system under test; the server is the harness.
    Client,
    /// The server is the system under test; the client is the harness.
    Server,
}

impl Judged {
    /// Whether violations by `party` count against the system under test.
    pub fn includes(self, party: Party) -> bool {
        match self {
            Self::Both => true,
            Self::Client => party == Party::Client,
            Self::Server => party == Party::Server,
        }
    }
}

/// The observer's configuration.
///
/// Built with [`Config::new`] and the `with_*` methods; the fields are public for
/// reading and for struct-update syntax inside the crate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The protocol.
    pub protocol: Protocol,
    /// STARTTLS upgrade or implicit TLS.
    pub transport: Transport,
    /// Whose violations are verdicts.
    pub judged: Judged,
    /// Server profile `cleartext-auth=refused`: the server runs the privacy operational
    /// mode of RFC 2595 §2.2 and is configured to refuse clear-text logins (§2.3), so
    /// LOGIN, USER/PASS and the PLAIN/LOGIN mechanisms must be refused before TLS and
    /// LOGINDISABLED advertised. Default: `false`.
    pub server_refuses_cleartext_auth: bool,
    /// Client profile `tls=starttls-required` (the default for security tests): the
    /// client must not do anything but capability discovery and STARTTLS before TLS
    /// (RFC 8314 §5.2). `false` is the opportunistic mode RFC 2595 §2.2 allows (MAY).
    /// Default: `true`.
    pub client_requires_tls: bool,
    /// RFC 2595 §6: PLAIN "MUST NOT be advertised or used unless a strong encryption
    /// layer ... is active or backwards compatibility dictates otherwise". `true` says the
    /// deployment's backwards compatibility dictates otherwise. Default: `false`.
    pub backwards_compatible_plain: bool,
}

impl Config {
    /// A configuration judging both parties, with the default profiles.
    pub fn new(protocol: Protocol, transport: Transport) -> Self {
        Self {
            protocol,
            transport,
            judged: Judged::Both,
            server_refuses_cleartext_auth: false,
            client_requires_tls: true,
            backwards_compatible_plain: false,
        }
    }

    /// Sets whose violations count.
    #[must_use]
    pub fn with_judged(mut self, judged: Judged) -> Self {
        self.judged = judged;
        self
    }

    /// Sets the server profile `cleartext-auth=refused`.
    #[must_use]
    pub fn with_server_refusing_cleartext_auth(mut self, refuses: bool) -> Self {
        self.server_refuses_cleartext_auth = refuses;
        self
    }

    /// Sets the client profile: `true` requires TLS, `false` is opportunistic.
    #[must_use]
    pub fn with_client_requiring_tls(mut self, requires: bool) -> Self {
        self.client_requires_tls = requires;
        self
    }

    /// Allows PLAIN without TLS for backwards compatibility (RFC 2595 §6).
    #[must_use]
    pub fn with_backwards_compatible_plain(mut self, allowed: bool) -> Self {
        self.backwards_compatible_plain = allowed;
        self
    }
}
