//! `--server URL`: which protocol, how TLS is reached, host and port.

use crate::model::{Protocol, Transport};
use std::fmt;

/// A parsed `--server` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    /// IMAP, POP3 or ACAP.
    pub protocol: Protocol,
    /// STARTTLS (`imap://`, `pop3://`, `acap://`) or implicit TLS (`imaps://`, `pop3s://`).
    pub transport: Transport,
    /// Host name or address, without brackets.
    pub host: String,
    /// Port (the scheme's default when the URL has none).
    pub port: u16,
}

/// Why a URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    /// No `scheme://`.
    #[error(
        "`{0}` is not a URL: expected imap://, imaps://, pop3://, pop3s:// or acap://HOST[:PORT]"
    )]
    NoScheme(String),
    /// A scheme mailtls does not test.
    #[error("unknown scheme `{0}`: expected imap, imaps, pop3, pop3s or acap")]
    Scheme(String),
    /// Empty host or a bad port.
    #[error("`{0}`: {1}")]
    Authority(String, &'static str),
}

impl ServerUrl {
    /// Parses `scheme://host[:port][/]`.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| UrlError::NoScheme(url.to_owned()))?;
        let (protocol, transport, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "imap" => (Protocol::Imap, Transport::Starttls, 143),
            "imaps" => (Protocol::Imap, Transport::Implicit, 993),
            "pop3" => (Protocol::Pop3, Transport::Starttls, 110),
            "pop3s" => (Protocol::Pop3, Transport::Implicit, 995),
            "acap" => (Protocol::Acap, Transport::Starttls, 674),
            other => return Err(UrlError::Scheme(other.to_owned())),
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains('/') || authority.contains('@') {
            return Err(UrlError::Authority(
                url.to_owned(),
                "only HOST[:PORT] is allowed after the scheme",
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, tail) = v6.split_once(']').ok_or(UrlError::Authority(
                url.to_owned(),
                "unclosed `[` in an IPv6 address",
            ))?;
            let port = match tail.strip_prefix(':') {
                Some(p) => Some(p),
                None if tail.is_empty() => None,
                None => return Err(UrlError::Authority(url.to_owned(), "junk after `]`")),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::Authority(url.to_owned(), "the host is empty"));
        }
        let port = match port {
            None => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or(UrlError::Authority(
                    url.to_owned(),
                    "the port must be a number from 1 to 65535",
                ))?,
        };
        Ok(Self {
            protocol,
            transport,
            host: host.to_owned(),
            port,
        })
    }

    /// The scheme for this protocol and transport.
    pub fn scheme(&self) -> &'static str {
        self.protocol.url_scheme(self.transport)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme(), self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme(), self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_ports_and_hosts() {
        let u = ServerUrl::parse("imaps://127.0.0.1").unwrap();
        assert_eq!(
            (u.protocol, u.transport, u.port),
            (Protocol::Imap, Transport::Implicit, 993)
        );
        let u = ServerUrl::parse("POP3://mail.example.test:1110/").unwrap();
        assert_eq!(
            (u.protocol, u.transport, u.port),
            (Protocol::Pop3, Transport::Starttls, 1110)
        );
        let u = ServerUrl::parse("acap://[::1]:6740").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 6740));
        assert_eq!(u.to_string(), "acap://[::1]:6740");
        assert!(matches!(
            ServerUrl::parse("smtp://x"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            ServerUrl::parse("x:143"),
            Err(UrlError::NoScheme(_))
        ));
        assert!(ServerUrl::parse("imap://:143").is_err());
        assert!(ServerUrl::parse("imap://h:0").is_err());
        assert!(ServerUrl::parse("imap://h:99999").is_err());
        assert!(ServerUrl::parse("imap://u@h").is_err());
    }
}
