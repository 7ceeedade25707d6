//! The header: `key: value` lines before the first step, checked one by one and
//! assembled into [`Meta`].

use crate::model::{Level, Party, Protocol, Transport};
use crate::scenario::ast::{Clause, Meta, Requirement, Span};
use crate::scenario::error::LineError;
use crate::scenario::value::{
    DurationError, did_you_mean, duration_help, first_bad_char, format_duration, parse_duration,
};
use std::time::Duration;

/// Every header key, in the order the renderer writes them.
pub(crate) const KEYS: &[&str] = &[
    "id",
    "title",
    "protocol",
    "roles",
    "transport",
    "level",
    "clause",
    "quote",
    "url",
    "cve",
    "catalogue",
    "requires",
    "profile",
    "timeout",
    "repeat",
    "manual",
    "note",
];

/// The keys every scenario must have, in the order missing ones are reported;
/// `clause` comes last.
pub(crate) const REQUIRED: &[&str] = &["id", "title", "protocol", "roles", "level", "clause"];

/// The level keywords, as written in the header.
pub(crate) const LEVELS: &[(&str, Level)] = &[
    ("MUST", Level::Must),
    ("MUST NOT", Level::MustNot),
    ("SHOULD", Level::Should),
    ("SHOULD NOT", Level::ShouldNot),
    ("MAY", Level::May),
    ("SECURITY", Level::Derived),
    ("DERIVED", Level::Derived),
];

/// The keyword the header uses for `level`.
pub(crate) fn level_keyword(level: Level) -> &'static str {
    match level {
        Level::Must => "MUST",
        Level::MustNot => "MUST NOT",
        Level::Should => "SHOULD",
        Level::ShouldNot => "SHOULD NOT",
        Level::May => "MAY",
        Level::Derived => "SECURITY",
    }
}

/// The keyword the header uses for a protocol.
pub(crate) fn protocol_keyword(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Imap => "imap",
        Protocol::Pop3 => "pop3",
        Protocol::Acap => "acap",
    }
}

/// The keyword the header uses for a transport.
pub(crate) fn transport_keyword(transport: Transport) -> &'static str {
    match transport {
        Transport::Starttls => "starttls",
        Transport::Implicit => "implicit",
    }
}

/// One header line, split: the key, and the value trimmed, with the character index
/// where each starts.
pub(crate) struct HeaderLine<'a> {
    pub(crate) line: u32,
    pub(crate) line_len: usize,
    pub(crate) key: &'a str,
    pub(crate) value: &'a str,
    pub(crate) value_at: usize,
}

impl HeaderLine<'_> {
    fn key_error(&self, message: impl Into<String>) -> LineError {
        LineError::new(0, self.key.chars().count() + 1, message)
    }

    fn value_error(&self, message: impl Into<String>) -> LineError {
        LineError::new(self.value_at, self.value.chars().count(), message)
    }

    /// The comma-separated items of the value, trimmed, with their character indices.
    fn items(&self) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut at = self.value_at;
        for raw in self.value.split(',') {
            let lead = raw.chars().take_while(|c| c.is_whitespace()).count();
            out.push((at + lead, raw.trim()));
            at += raw.chars().count() + 1;
        }
        out
    }

    /// Where to point for an item at `at`: the item, or for an empty one the comma or
    /// end of line next to it (always inside the line).
    fn item_at(&self, at: usize, item: &str) -> (usize, usize) {
        if item.is_empty() {
            (at.min(self.line_len.saturating_sub(1)), 1)
        } else {
            (at, item.chars().count())
        }
    }

    fn span(&self) -> Span {
        Span {
            line: self.line,
            col: 1,
            len: u32::try_from(self.line_len).unwrap_or(u32::MAX).max(1),
        }
    }
}

/// A single-valued key and the line it was given on.
type Once<T> = Option<(T, u32)>;

/// The header as read so far.
#[derive(Default)]
pub(crate) struct HeaderBuilder {
    id: Once<String>,
    id_span: Span,
    title: Once<String>,
    protocol: Once<Protocol>,
    roles: Once<Vec<Party>>,
    transport: Once<Transport>,
    level: Once<Level>,
    clauses: Vec<Clause>,
    /// Per clause: the lines its quote and url came from.
    clause_lines: Vec<(Option<u32>, Option<u32>)>,
    cves: Vec<String>,
    catalogue: Vec<String>,
    requires: Vec<Requirement>,
    profile: Vec<(String, String)>,
    timeout: Once<Duration>,
    repeat: Once<u32>,
    manual: Vec<String>,
    notes: Vec<String>,
}

fn set_once<T>(slot: &mut Once<T>, line: &HeaderLine<'_>, value: T) -> Result<(), LineError> {
    if let Some((_, first)) = slot {
        return Err(line
            .key_error(format!("duplicate `{}:`", line.key))
            .help(format!(
                "`{}:` may appear once; it was given on line {first}",
                line.key
            )));
    }
    *slot = Some((value, line.line));
    Ok(())
}

/// Whether `c` may appear in a scenario id.
fn is_id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
}

/// Whether `c` may appear in a capability, mechanism or profile word.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, ',' | '[' | ']' | '{' | '}' | '"' | '(' | ')')
}

impl HeaderBuilder {
    /// Applies one header line.
    pub(crate) fn apply(&mut self, line: &HeaderLine<'_>) -> Result<(), LineError> {
        if !KEYS.contains(&line.key) {
            let help = did_you_mean(line.key, KEYS).unwrap_or_else(|| {
                "the keys are id, title, protocol, roles, transport, level, clause, quote, url, cve, catalogue, requires, profile, timeout, repeat, manual and note".to_owned()
            });
            return Err(line
                .key_error(format!("unknown header key `{}`", line.key))
                .help(help));
        }
        if line.value.is_empty() {
            return Err(line
                .key_error(format!("`{}:` needs a value", line.key))
                .help(format!("write it as `{}: VALUE`", line.key)));
        }
        match line.key {
            "id" => {
                if let Some(bad) = first_bad_char(line.value, is_id_char) {
                    return Err(LineError::new(
                        line.value_at + bad,
                        1,
                        "ids are lower-case letters, digits, `.`, `-` and `_`",
                    )
                    .help("e.g. `imap.server.starttls.ok-then-handshake`"));
                }
                self.id_span = line.span();
                set_once(&mut self.id, line, line.value.to_owned())
            }
            "title" => set_once(&mut self.title, line, line.value.to_owned()),
            "protocol" => {
                let protocol = match line.value.to_ascii_lowercase().as_str() {
                    "imap" => Protocol::Imap,
                    "pop3" => Protocol::Pop3,
                    "acap" => Protocol::Acap,
                    _ => {
                        return Err(line
                            .value_error(format!("unknown protocol `{}`", line.value))
                            .help("the protocols are `imap`, `pop3` and `acap`"));
                    }
                };
                set_once(&mut self.protocol, line, protocol)
            }
            "roles" => {
                let mut roles = Vec::new();
                for (at, item) in line.items() {
                    let role = match item {
                        "server" => Party::Server,
                        "client" => Party::Client,
                        _ => {
                            let (at, len) = line.item_at(at, item);
                            return Err(LineError::new(at, len, format!("unknown role `{item}`"))
                                .help("roles are `server`, `client` or `server, client`: the kind of peer the scenario judges"));
                        }
                    };
                    if roles.contains(&role) {
                        return Err(LineError::new(
                            at,
                            item.len(),
                            format!("`{item}` listed twice"),
                        ));
                    }
                    roles.push(role);
                }
                set_once(&mut self.roles, line, roles)
            }
            "transport" => {
                let transport = match line.value {
                    "starttls" => Transport::Starttls,
                    "implicit" => Transport::Implicit,
                    other => {
                        return Err(line
                            .value_error(format!("unknown transport `{other}`"))
                            .help("transports are `starttls` (the default) and `implicit`"));
                    }
                };
                set_once(&mut self.transport, line, transport)
            }
            "level" => {
                let Some(&(_, level)) = LEVELS.iter().find(|(word, _)| *word == line.value) else {
                    let words: Vec<&str> = LEVELS.iter().map(|(w, _)| *w).collect();
                    return Err(line
                        .value_error(format!("unknown level `{}`", line.value))
                        .maybe_help(did_you_mean(line.value, &words))
                        .or_help(
                            "levels are MUST, MUST NOT, SHOULD, SHOULD NOT, MAY and SECURITY"
                                .to_owned(),
                        ));
                };
                set_once(&mut self.level, line, level)
            }
            "clause" => {
                self.clauses.push(Clause {
                    reference: line.value.to_owned(),
                    quote: None,
                    url: None,
                });
                self.clause_lines.push((None, None));
                Ok(())
            }
            "quote" | "url" => self.clause_detail(line),
            "cve" => {
                for (at, item) in line.items() {
                    if !is_cve(item) {
                        let (at, len) = line.item_at(at, item);
                        return Err(LineError::new(at, len, format!("`{item}` is not a CVE id"))
                            .help("CVE ids look like `CVE-2011-0411`"));
                    }
                    self.cves.push(item.to_owned());
                }
                Ok(())
            }
            "catalogue" => {
                for (at, item) in line.items() {
                    let (at, len) = line.item_at(at, item);
                    if item.is_empty() || first_bad_char(item, is_id_char).is_some() {
                        return Err(LineError::new(
                            at,
                            len,
                            format!("`{item}` is not a catalogue id"),
                        )
                        .help("catalogue ids look like `any.client.cert.wrong-host`"));
                    }
                    self.catalogue.push(item.to_owned());
                }
                Ok(())
            }
            "manual" => {
                self.manual.push(line.value.to_owned());
                Ok(())
            }
            "requires" => {
                for (at, item) in line.items() {
                    let (at, _) = line.item_at(at, item);
                    self.requires.push(requirement(at, item)?);
                }
                Ok(())
            }
            "profile" => {
                let Some((key, value)) = line.value.split_once('=') else {
                    return Err(line
                        .value_error("a profile is `key=value`")
                        .help("e.g. `profile: cleartext-login=allowed`"));
                };
                let key_len = key.chars().count();
                if key.is_empty() || value.is_empty() {
                    return Err(line
                        .value_error("a profile is `key=value`, both non-empty")
                        .help("e.g. `profile: cleartext-login=allowed`"));
                }
                if let Some(bad) = first_bad_char(key, |c| is_token_char(c) && c != '=') {
                    return Err(LineError::new(
                        line.value_at + bad,
                        1,
                        "bad character in a profile key",
                    ));
                }
                if let Some(bad) = first_bad_char(value, is_token_char) {
                    return Err(LineError::new(
                        line.value_at + key_len + 1 + bad,
                        1,
                        "bad character in a profile value",
                    ));
                }
                if self.profile.iter().any(|(k, _)| k == key) {
                    return Err(LineError::new(
                        line.value_at,
                        key_len,
                        format!("profile `{key}` given twice"),
                    ));
                }
                self.profile.push((key.to_owned(), value.to_owned()));
                Ok(())
            }
            "timeout" => {
                let duration = parse_duration(line.value).map_err(|e| {
                    let (at, len) = match e {
                        DurationError::BadUnit(offset) => {
                            (line.value_at + offset, line.value.chars().count() - offset)
                        }
                        _ => (line.value_at, line.value.chars().count()),
                    };
                    LineError::new(at, len, format!("bad duration `{}`", line.value))
                        .help(duration_help(&e))
                })?;
                if duration.is_zero() {
                    return Err(line
                        .value_error("a timeout of no time fails every read")
                        .help(format!(
                            "e.g. `timeout: {}`",
                            format_duration(Duration::from_secs(2))
                        )));
                }
                set_once(&mut self.timeout, line, duration)
            }
            "repeat" => {
                let repeat = line
                    .value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1 && line.value.bytes().all(|b| b.is_ascii_digit()));
                let Some(repeat) = repeat else {
                    return Err(line
                        .value_error(format!("bad repeat count `{}`", line.value))
                        .help("a whole number, at least 1"));
                };
                set_once(&mut self.repeat, line, repeat)
            }
            // "note", the only key left.
            _ => {
                self.notes.push(line.value.to_owned());
                Ok(())
            }
        }
    }

    fn clause_detail(&mut self, line: &HeaderLine<'_>) -> Result<(), LineError> {
        let (Some(clause), Some(lines)) = (self.clauses.last_mut(), self.clause_lines.last_mut())
        else {
            return Err(line
                .key_error(format!("`{}:` before any `clause:`", line.key))
                .help(format!(
                    "a `{}:` line belongs to the `clause:` line above it",
                    line.key
                )));
        };
        let (slot, seen) = if line.key == "quote" {
            (&mut clause.quote, &mut lines.0)
        } else {
            if !(line.value.starts_with("https://") || line.value.starts_with("http://")) {
                return Err(line
                    .value_error("a url starts with `https://`")
                    .help("e.g. `url: https://www.rfc-editor.org/rfc/rfc2595#section-3.1`"));
            }
            (&mut clause.url, &mut lines.1)
        };
        if let Some(first) = seen {
            return Err(line
                .key_error(format!("this clause already has a `{}:`", line.key))
                .help(format!(
                    "it was given on line {first}; start another clause with `clause:`"
                )));
        }
        *slot = Some(line.value.to_owned());
        *seen = Some(line.line);
        Ok(())
    }

    /// The header, or the required keys that are missing.
    pub(crate) fn finish(self) -> Result<Meta, Vec<&'static str>> {
        let mut missing = Vec::new();
        if self.id.is_none() {
            missing.push("id");
        }
        if self.title.is_none() {
            missing.push("title");
        }
        if self.protocol.is_none() {
            missing.push("protocol");
        }
        if self.roles.is_none() {
            missing.push("roles");
        }
        if self.level.is_none() {
            missing.push("level");
        }
        if self.clauses.is_empty() {
            missing.push("clause");
        }
        match (self.id, self.title, self.protocol, self.roles, self.level) {
            (Some(id), Some(title), Some(protocol), Some(roles), Some(level))
                if missing.is_empty() =>
            {
                Ok(Meta {
                    id: id.0,
                    title: title.0,
                    protocol: protocol.0,
                    roles: roles.0,
                    transport: self.transport.map_or(Transport::Starttls, |t| t.0),
                    level: level.0,
                    clauses: self.clauses,
                    cves: self.cves,
                    catalogue: self.catalogue,
                    requires: self.requires,
                    profile: self.profile,
                    timeout: self.timeout.map(|t| t.0),
                    repeat: self.repeat.map_or(1, |r| r.0),
                    manual: self.manual,
                    notes: self.notes,
                    span: self.id_span,
                })
            }
            _ => Err(missing),
        }
    }

    /// The roles, once the `roles:` line has been read.
    pub(crate) fn roles(&self) -> Option<&[Party]> {
        self.roles.as_ref().map(|(roles, _)| roles.as_slice())
    }
}

/// `CVE-YYYY-NNNN`, with four or more digits in the last group.
fn is_cve(item: &str) -> bool {
    let mut parts = item.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(year), Some(number), None)
            if year.len() == 4
                && year.bytes().all(|b| b.is_ascii_digit())
                && number.len() >= 4
                && number.bytes().all(|b| b.is_ascii_digit())
    )
}

/// One `requires:` item: `NAME` or `sasl MECH`.
fn requirement(at: usize, item: &str) -> Result<Requirement, LineError> {
    if item.is_empty() {
        return Err(LineError::new(at, 1, "empty requirement")
            .help("write `requires: STARTTLS` or `requires: sasl PLAIN`"));
    }
    let words: Vec<&str> = item.split_whitespace().collect();
    let (requirement, name, name_at) = match words.as_slice() {
        [word] if word.eq_ignore_ascii_case("sasl") => {
            return Err(
                LineError::new(at, item.chars().count(), "`sasl` needs a mechanism")
                    .help("e.g. `requires: sasl PLAIN`"),
            );
        }
        [name] => (Requirement::Capability((*name).to_owned()), *name, at),
        [sasl, mech] if sasl.eq_ignore_ascii_case("sasl") => {
            let offset = item.rfind(mech).unwrap_or(0);
            let name_at = at + item[..offset].chars().count();
            (Requirement::Sasl((*mech).to_owned()), *mech, name_at)
        }
        _ => {
            return Err(LineError::new(
                at,
                item.chars().count(),
                format!("bad requirement `{item}`"),
            )
            .help(
                "one capability per item (`STARTTLS`), or `sasl MECH`; separate items with commas",
            ));
        }
    };
    if let Some(bad) = first_bad_char(name, is_token_char) {
        return Err(LineError::new(
            name_at + bad,
            1,
            "bad character in a capability name",
        ));
    }
    Ok(requirement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(builder: &mut HeaderBuilder, key: &str, value: &str) -> Result<(), LineError> {
        let value_at = key.chars().count() + 2;
        builder.apply(&HeaderLine {
            line: 1,
            line_len: value_at + value.chars().count(),
            key,
            value,
            value_at,
        })
    }

    #[test]
    fn requirements() {
        assert_eq!(
            requirement(0, "STARTTLS"),
            Ok(Requirement::Capability("STARTTLS".into()))
        );
        assert_eq!(
            requirement(0, "sasl PLAIN"),
            Ok(Requirement::Sasl("PLAIN".into()))
        );
        assert_eq!(
            requirement(0, "SASL  PLAIN"),
            Ok(Requirement::Sasl("PLAIN".into()))
        );
        assert_eq!(requirement(10, "sasl").unwrap_err().at, 10);
        assert_eq!(requirement(10, "a b c").unwrap_err().at, 10);
        assert_eq!(requirement(10, "sasl PL\"AIN").unwrap_err().at, 17);
    }

    #[test]
    fn cves() {
        assert!(is_cve("CVE-2011-0411"));
        assert!(is_cve("CVE-2021-123456"));
        assert!(!is_cve("CVE-11-0411"));
        assert!(!is_cve("cve-2011-0411"));
        assert!(!is_cve("CVE-2011-041"));
        assert!(!is_cve("CVE-2011-0411-1"));
    }

    #[test]
    fn items_and_errors_point_into_the_value() {
        let mut b = HeaderBuilder::default();
        let e = apply(&mut b, "cve", "CVE-2011-0411, CVE-20").unwrap_err();
        assert_eq!((e.at, e.len), (20, 6));
        let e = apply(&mut b, "roles", "server,,client").unwrap_err();
        assert_eq!((e.at, e.len), (14, 1));
        let e = apply(&mut b, "roles", "server,").unwrap_err();
        assert_eq!((e.at, e.len), (13, 1));
        let e = apply(&mut b, "level", "must").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `MUST`?"));
        let e = apply(&mut b, "quote", "x").unwrap_err();
        assert_eq!((e.at, e.len), (0, 6));
        let e = apply(&mut b, "id", "imap.Server").unwrap_err();
        assert_eq!(e.at, 9);
        assert!(apply(&mut b, "repeat", "0").is_err());
        assert!(apply(&mut b, "repeat", "+3").is_err());
        assert!(apply(&mut b, "timeout", "0s").is_err());
        apply(&mut b, "timeout", "2s").unwrap();
        let e = apply(&mut b, "timeout", "3s").unwrap_err();
        assert_eq!(e.message, "duplicate `timeout:`");
    }

    #[test]
    fn quotes_and_urls_follow_their_clause() {
        let mut b = HeaderBuilder::default();
        apply(&mut b, "clause", "RFC 2595 §3.1").unwrap();
        apply(&mut b, "quote", "The server MUST ...").unwrap();
        apply(&mut b, "clause", "RFC 9051 §6.2.1").unwrap();
        apply(
            &mut b,
            "url",
            "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1",
        )
        .unwrap();
        assert!(apply(&mut b, "url", "https://x").is_err());
        assert!(apply(&mut b, "quote", "second").is_ok());
        assert_eq!(b.clauses.len(), 2);
        assert_eq!(b.clauses[0].quote.as_deref(), Some("The server MUST ..."));
        assert_eq!(b.clauses[0].url, None);
        assert_eq!(b.clauses[1].quote.as_deref(), Some("second"));
    }
}
