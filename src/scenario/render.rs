//! The AST written back as scenario text: `Display` for pieces, parts, lines, steps and
//! directives (as a report quotes them), [`render`] for a whole file, and
//! [`show_octets`] for received bytes in messages.
//!
//! For every scenario the parser accepts, `parse(render(s))` gives `s` back (spans
//! aside); the `scenario_parse` fuzz target checks it.

use crate::model::Party;
use crate::scenario::ast::{
    Directive, Ending, Expectation, Line, Part, Piece, Requirement, Scenario, Step,
};
use crate::scenario::content::NO_CRLF;
use crate::scenario::header::{level_keyword, protocol_keyword, transport_keyword};
use crate::scenario::value::format_duration;
use std::fmt::{self, Write as _};

/// Appends `bytes` as literal text of a scenario line: `\`, `{`, `}`, `|` escaped, a tab
/// as `\t`, control characters and invalid UTF-8 as `\xNN`.
fn write_literal(bytes: &[u8], out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' | '{' | '}' | '|' => {
                    out.push('\\');
                    out.push(c);
                }
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// Received octets for a message: printable text as is, `\` doubled, a tab as `\t`,
/// everything else as `\xNN`; cut after 200 characters with `...`.
pub fn show_octets(bytes: &[u8]) -> String {
    const LIMIT: usize = 200;
    let mut out = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown >= LIMIT {
                out.push_str("...");
                return out;
            }
            shown += 1;
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            if shown >= LIMIT {
                out.push_str("...");
                return out;
            }
            shown += 1;
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn write_pieces(pieces: &[Piece], out: &mut String) {
    for piece in pieces {
        write_piece(piece, out);
    }
}

fn write_piece(piece: &Piece, out: &mut String) {
    match piece {
        Piece::Literal(bytes, _) => write_literal(bytes, out),
        Piece::Any(_) => out.push_str("{*}"),
        Piece::Var(name, _) => {
            out.push('{');
            out.push_str(name);
            out.push('}');
        }
        Piece::Alternatives(alternatives, _) => {
            out.push('{');
            for (i, alternative) in alternatives.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                write_pieces(alternative, out);
            }
            out.push('}');
        }
    }
}

impl fmt::Display for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_piece(self, &mut out);
        f.write_str(&out)
    }
}

/// A part's content as written after the prefix, ending marker included.
fn part_text(part: &Part) -> String {
    let mut out = String::new();
    write_pieces(&part.pieces, &mut out);
    match part.ending {
        // Literal text that ends like the marker must not read as the marker.
        Ending::Crlf if out.ends_with(NO_CRLF) => {
            out.truncate(out.len() - NO_CRLF.len());
            out.push_str("\\x3c");
            out.push_str(&NO_CRLF[1..]);
        }
        Ending::Crlf => {}
        Ending::Lf => out.push_str("\\n"),
        Ending::None => out.push_str(NO_CRLF),
    }
    out
}

/// Shows the part as written in the file (without a prefix): `A1 OK {*}`, `A1 STARTTLS\n`.
impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&part_text(self))
    }
}

/// The two-character prefix of a line: `C:`, `S?`, `S&`, ...
pub(crate) fn prefix(sender: Party, expectation: Expectation) -> String {
    let letter = match sender {
        Party::Client => 'C',
        Party::Server => 'S',
    };
    let mode = match expectation {
        Expectation::Next => ':',
        Expectation::Optional => '?',
        Expectation::Eventually => '~',
        Expectation::Forbidden => '!',
        Expectation::Unordered => '&',
    };
    format!("{letter}{mode}")
}

/// Shows the line as written in the file: its prefix and content, then one `..` line
/// per further part.
impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            let lead = if i == 0 {
                prefix(self.sender, self.expectation)
            } else {
                f.write_str("\n")?;
                "..".to_owned()
            };
            let text = part_text(part);
            if text.is_empty() {
                f.write_str(&lead)?;
            } else {
                write!(f, "{lead} {text}")?;
            }
        }
        Ok(())
    }
}

/// Shows the directive as written: `[tls may-fail cert=expired]`, `[wait 50ms]`.
impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tls {
                may_fail,
                cert,
                version,
                client_cert,
            } => {
                f.write_str("[tls")?;
                if *may_fail {
                    f.write_str(" may-fail")?;
                }
                if let Some(cert) = cert {
                    write!(f, " cert={cert}")?;
                }
                if let Some(version) = version {
                    write!(f, " version={}", version.as_str())?;
                }
                if *client_cert {
                    f.write_str(" client-cert")?;
                }
                f.write_str("]")
            }
            Self::ExpectNoCertificateRequest => f.write_str("[expect-no-certificate-request]"),
            Self::ClientHello(kind) => write!(f, "[client-hello {}]", kind.as_str()),
            Self::ServerHello(kind) => write!(f, "[server-hello {}]", kind.as_str()),
            Self::ExpectClose => f.write_str("[expect-close]"),
            Self::ExpectCloseNotify => f.write_str("[expect-close-notify]"),
            Self::ExpectSilence(d) => write!(f, "[expect-silence {}]", format_duration(*d)),
            Self::ExpectHandshake => f.write_str("[expect-handshake]"),
            Self::ExpectNoConnection(d) => {
                write!(f, "[expect-no-connection {}]", format_duration(*d))
            }
            Self::Wait(d) => write!(f, "[wait {}]", format_duration(*d)),
            Self::ClosePasses => f.write_str("[close-passes]"),
            Self::ExpectExit(true) => f.write_str("[expect-exit success]"),
            Self::ExpectExit(false) => f.write_str("[expect-exit failure]"),
            Self::CloseNotify { keep_open: false } => f.write_str("[close-notify]"),
            Self::CloseNotify { keep_open: true } => f.write_str("[close-notify keep-open]"),
            Self::Close => f.write_str("[close]"),
            Self::NewConnection => f.write_str("[new-connection]"),
            Self::Caps(caps) => {
                let verb = match (caps.present, caps.sasl) {
                    (true, false) => "has",
                    (false, false) => "lacks",
                    (true, true) => "has-sasl",
                    (false, true) => "lacks-sasl",
                };
                write!(f, "[caps {verb} {}]", caps.name)
            }
        }
    }
}

/// Shows the step as written: a line (with its `..` lines), every line of an unordered
/// group, or a directive.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(line) => write!(f, "{line}"),
            Self::Unordered(lines, _) => {
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{line}")?;
                }
                Ok(())
            }
            Self::Directive(directive, _) => write!(f, "{directive}"),
        }
    }
}

/// The scenario as a file: the header in a fixed key order, a blank line, the steps.
pub fn render(scenario: &Scenario) -> String {
    let meta = &scenario.meta;
    let mut out = String::new();
    let mut key = |key: &str, value: &str| {
        let _ = writeln!(out, "{key}: {value}");
    };
    key("id", &meta.id);
    key("title", &meta.title);
    key("protocol", protocol_keyword(meta.protocol));
    let roles: Vec<String> = meta.roles.iter().map(ToString::to_string).collect();
    key("roles", &roles.join(", "));
    key("transport", transport_keyword(meta.transport));
    key("level", level_keyword(meta.level));
    for clause in &meta.clauses {
        key("clause", &clause.reference);
        if let Some(quote) = &clause.quote {
            key("quote", quote);
        }
        if let Some(url) = &clause.url {
            key("url", url);
        }
    }
    for cve in &meta.cves {
        key("cve", cve);
    }
    for entry in &meta.catalogue {
        key("catalogue", entry);
    }
    for requirement in &meta.requires {
        match requirement {
            Requirement::Capability(name) => key("requires", name),
            Requirement::Sasl(mechanism) => key("requires", &format!("sasl {mechanism}")),
        }
    }
    for (name, value) in &meta.profile {
        key("profile", &format!("{name}={value}"));
    }
    if let Some(timeout) = meta.timeout {
        key("timeout", &format_duration(timeout));
    }
    if meta.repeat != 1 {
        key("repeat", &meta.repeat.to_string());
    }
    for look_for in &meta.manual {
        key("manual", look_for);
    }
    for note in &meta.notes {
        key("note", note);
    }
    out.push('\n');
    for step in &scenario.steps {
        let _ = writeln!(out, "{step}");
    }
    out
}

/// The same as [`render`].
impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::content::parse_part;

    fn round_trip(text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        parse_part(&chars, 0, 1).unwrap().to_string()
    }

    #[test]
    fn parts_render_as_written() {
        for text in [
            "A1 OK {*}",
            r"A1 STARTTLS\n",
            "A2 NOOP<no-CRLF>",
            r"{A1 BAD {*}|A1 NO {*}} \{ \} \| \\ \t",
            r"\x00\xff\x0d",
            r"x\x3cno-CRLF>",
            "",
        ] {
            assert_eq!(round_trip(text), text);
        }
        // Canonical forms: hex digits in lower case.
        assert_eq!(round_trip(r"\xFF"), r"\xff");
    }

    #[test]
    fn octets_for_messages() {
        assert_eq!(show_octets(b"A1 OK\r\n\\\xff\t"), r"A1 OK\x0d\x0a\\\xff\t");
        assert_eq!(show_octets(&[b'a'; 300]).len(), 203);
    }
}
