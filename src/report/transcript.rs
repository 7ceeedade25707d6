//! A [`Transcript`] in RFC notation, one row per wire line, shared by every human format
//! (text, Markdown, JUnit `<system-out>`).
//!
//! # Convention
//!
//! ```text
//!    ---- connection 1 to 127.0.0.1:143 ----
//!    [plain] S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready
//!    [plain] C: A1 STARTTLS
//!    [plain] .. X1 NOOP
//!    [plain] S: A1 OK Begin TLS negotiation now
//!    ---- TLS handshake started ----
//!    ---- TLS established: TLSv1.3 TLS13_AES_256_GCM_SHA384 ----
//! >> [tls]   S: X1 OK NOOP completed
//! ```
//!
//! - Every wire line starts with the phase its octets travelled in: `[plain]` before the
//!   handshake, `[tls]` for TLS application data (shown decrypted). The prefix is on
//!   every line, so a line cut out of the report still says which side of the boundary
//!   it was on.
//! - `C:` / `S:` say which party sent the line. mailtls plays the other party: when the
//!   judged peer is a server, `C:` is mailtls; when it is a client, `S:` is mailtls.
//! - `..` continues the previous line in the *same* write (sent) or the same read
//!   (received): `A1 STARTTLS` and `X1 NOOP` above left mailtls in one write.
//! - CRLF is implicit. A line ending in a bare LF shows `\n` at its end; octets after the
//!   last LF of a write or read show `<no-CRLF>` (for received data the rest of the line
//!   came in the next read).
//! - Octets are escaped as described in [`escape`](super::escape): `\\` for a
//!   backslash, `\xNN` for non-printable octets, CR not followed by LF, TAB and
//!   trailing spaces. A line longer than the cap is cut with `… (N more octets)`.
//! - `----` rows are events: connections, the TLS boundary, close_notify, TCP close.
//!   `#` rows are notes from the harness (`# [wait 50ms]`).
//! - `>>` in the margin marks the entry that [`Failure::transcript_entry`] names: the
//!   first offending octets.
//! - With timestamps, each row starts with the time since the scenario began
//!   (`+12.3ms`).
//!
//! [`Failure::transcript_entry`]: crate::engine::outcome::Failure::transcript_entry

use super::escape::escape_line;
use super::style::{Palette, Role};
use crate::engine::outcome::Outcome;
use crate::model::Party;
use crate::net::transcript::{Direction, Event, Phase, Transcript};
use crate::scenario::ast::Ending;
use std::time::Duration;

/// Longest line content shown before it is cut, in characters of escaped text.
pub const DEFAULT_MAX_LINE: usize = 200;

/// How a transcript is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptOptions {
    /// Start each row with the time since the scenario began (`+12.3ms`).
    pub timestamps: bool,
    /// Cut line contents after this many characters (escaped).
    pub max_line: usize,
    /// Index of the entry to mark with `>>` (the first offending octets).
    pub mark: Option<usize>,
}

impl Default for TranscriptOptions {
    fn default() -> Self {
        Self {
            timestamps: false,
            max_line: DEFAULT_MAX_LINE,
            mark: None,
        }
    }
}

/// What a row shows, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Octets mailtls sent.
    Sent,
    /// Octets the peer sent.
    Received,
    /// A `----` event row.
    Event,
    /// A `#` note row.
    Note,
}

/// One row of a rendered transcript, before the margin and the timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    /// Part of the marked entry.
    pub(crate) marked: bool,
    /// What it shows.
    pub(crate) kind: Kind,
    /// Time since the scenario started.
    pub(crate) at: Duration,
    /// The row's text.
    pub(crate) body: String,
}

/// The label of who sent a line: mailtls plays the party the judged peer is not.
fn sender(role: Party, direction: Direction) -> &'static str {
    match (role, direction) {
        (Party::Server, Direction::Sent) | (Party::Client, Direction::Received) => "C:",
        (Party::Server, Direction::Received) | (Party::Client, Direction::Sent) => "S:",
    }
}

/// Who did something, in words: `mailtls` or the judged peer (`server`, `client`).
fn actor(role: Party, direction: Direction) -> String {
    match direction {
        Direction::Sent => "mailtls".to_owned(),
        Direction::Received => role.to_string(),
    }
}

/// One sentence saying who `C:` and `S:` are, for the line above a transcript.
pub fn legend(role: Party) -> &'static str {
    match role {
        Party::Server => "C: is mailtls, S: is the server under test",
        Party::Client => "C: is the client under test, S: is mailtls",
    }
}

fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::Plaintext => "[plain]",
        Phase::Tls => "[tls]  ",
    }
}

/// The octets of one write or read split at LF: each line's content (without its
/// terminator) and how it ended. A trailing CR before the LF belongs to the terminator.
pub(crate) fn split_lines(octets: &[u8]) -> Vec<(&[u8], Ending)> {
    let mut lines = Vec::new();
    let mut rest = octets;
    while let Some(lf) = rest.iter().position(|&b| b == b'\n') {
        let (line, ending) = match rest[..lf].strip_suffix(b"\r") {
            Some(content) => (content, Ending::Crlf),
            None => (&rest[..lf], Ending::Lf),
        };
        lines.push((line, ending));
        rest = &rest[lf + 1..];
    }
    if !rest.is_empty() || lines.is_empty() {
        lines.push((rest, Ending::None));
    }
    lines
}

/// One wire line as a row body: `[tls]   S: A2 OK done`, with escapes and the cap.
fn wire_line(phase: Phase, label: &str, content: &[u8], ending: Ending, max: usize) -> String {
    let escaped = escape_line(content, max);
    let mut body = format!("{} {label} {}", phase_label(phase), escaped.text);
    if escaped.omitted > 0 {
        let unit = if escaped.omitted == 1 {
            "octet"
        } else {
            "octets"
        };
        body.push_str(&format!("… ({} more {unit})", escaped.omitted));
    }
    body.push_str(match ending {
        Ending::Crlf => "",
        Ending::Lf => "\\n",
        Ending::None => "<no-CRLF>",
    });
    body.truncate(body.trim_end_matches(' ').len());
    body
}

/// The transcript as rows, in order, with the connection and TLS boundaries as event
/// rows. `role` is the judged peer's role (see [`legend`]).
pub(crate) fn rows(transcript: &Transcript, role: Party, opts: &TranscriptOptions) -> Vec<Row> {
    let mut rows = Vec::with_capacity(transcript.entries.len() + 4);
    let mut connection = None;
    for (index, entry) in transcript.entries.iter().enumerate() {
        let marked = opts.mark == Some(index);
        let new_connection = connection != Some(entry.connection);
        connection = Some(entry.connection);
        if new_connection && !matches!(entry.event, Event::Connected { .. }) {
            rows.push(Row {
                marked: false,
                kind: Kind::Event,
                at: entry.at,
                body: format!("---- connection {} ----", entry.connection),
            });
        }
        let mut push = |kind, body: String| {
            rows.push(Row {
                marked,
                kind,
                at: entry.at,
                body,
            });
        };
        let event = |text: String| format!("---- {text} ----");
        match &entry.event {
            Event::Connected { peer } => {
                let how = match role {
                    Party::Server => "to",
                    Party::Client => "from",
                };
                let peer = super::escape::sanitize(peer);
                push(
                    Kind::Event,
                    event(format!("connection {} {how} {peer}", entry.connection)),
                );
            }
            Event::Data {
                direction,
                phase,
                bytes,
            } => {
                let kind = match direction {
                    Direction::Sent => Kind::Sent,
                    Direction::Received => Kind::Received,
                };
                for (i, (content, ending)) in split_lines(bytes).into_iter().enumerate() {
                    let label = if i == 0 {
                        sender(role, *direction)
                    } else {
                        ".."
                    };
                    push(
                        kind,
                        wire_line(*phase, label, content, ending, opts.max_line),
                    );
                }
            }
            Event::TlsStarted => push(Kind::Event, event("TLS handshake started".to_owned())),
            Event::TlsEstablished {
                version,
                cipher_suite,
            } => push(
                Kind::Event,
                event(format!(
                    "TLS established: {} {}",
                    super::escape::sanitize(version),
                    super::escape::sanitize(cipher_suite)
                )),
            ),
            Event::TlsFailed { reason } => push(
                Kind::Event,
                event(format!("TLS failed: {}", super::escape::sanitize(reason))),
            ),
            Event::CloseNotify { direction } => {
                let verb = match direction {
                    Direction::Sent => "sent",
                    Direction::Received => "received",
                };
                push(Kind::Event, event(format!("close_notify {verb}")));
            }
            Event::Closed { direction, how } => push(
                Kind::Event,
                event(format!(
                    "connection closed by {} ({})",
                    actor(role, *direction),
                    super::escape::sanitize(how)
                )),
            ),
            Event::Note { text } => {
                push(Kind::Note, format!("# {}", super::escape::sanitize(text)))
            }
        }
    }
    rows
}

/// The options a report uses for an outcome's transcript: its offending entry marked,
/// timestamps when verbose.
pub(crate) fn options_for(outcome: &Outcome, verbose: bool) -> TranscriptOptions {
    TranscriptOptions {
        timestamps: verbose,
        mark: outcome.failure.as_ref().and_then(|f| f.transcript_entry),
        ..TranscriptOptions::default()
    }
}

/// What goes above a transcript: `C: is mailtls, S: is the server under test` and, when
/// an entry is marked, `; >> marks the first offending octets`.
pub(crate) fn caption(role: Party, opts: &TranscriptOptions) -> String {
    let mark = if opts.mark.is_some() {
        "; >> marks the first offending octets"
    } else {
        ""
    };
    format!("{}{mark}", legend(role))
}

/// `+12.3ms`, right-aligned so that rows line up.
fn timestamp(at: Duration) -> String {
    format!("{:>9}", format!("+{:.1}ms", at.as_secs_f64() * 1000.0))
}

/// Writes rows as lines (each ending in `\n`), each after `indent`, with the `>>`
/// margin, optional timestamps and colours from `palette`.
pub(crate) fn write_rows(
    rows: &[Row],
    indent: &str,
    opts: &TranscriptOptions,
    palette: Palette,
    out: &mut String,
) {
    for row in rows {
        out.push_str(indent);
        if row.marked {
            out.push_str(&palette.paint(Role::Fail, ">>"));
            out.push(' ');
        } else {
            out.push_str("   ");
        }
        if opts.timestamps {
            out.push_str(&palette.paint(Role::Dim, &timestamp(row.at)));
            out.push(' ');
        }
        let role = match row.kind {
            Kind::Sent => Role::Sent,
            Kind::Received => Role::Received,
            Kind::Event => Role::Boundary,
            Kind::Note => Role::Dim,
        };
        out.push_str(&palette.paint(role, &row.body));
        out.push('\n');
    }
}

/// The transcript as plain text (no colour), one row per line, each line ending in
/// `\n`. `role` is the judged peer's role: [`Party::Server`] means mailtls was the
/// client, so what it sent is `C:`.
pub fn render_transcript(transcript: &Transcript, role: Party, opts: &TranscriptOptions) -> String {
    let mut out = String::new();
    write_rows(
        &rows(transcript, role, opts),
        "",
        opts,
        Palette::new(false),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_lf_with_their_endings() {
        assert_eq!(
            split_lines(b"A1 OK\r\nB\nC"),
            vec![
                (&b"A1 OK"[..], Ending::Crlf),
                (&b"B"[..], Ending::Lf),
                (&b"C"[..], Ending::None)
            ]
        );
        assert_eq!(split_lines(b""), vec![(&b""[..], Ending::None)]);
        assert_eq!(split_lines(b"\r\n"), vec![(&b""[..], Ending::Crlf)]);
    }

    #[test]
    fn a_cut_line_says_how_much_is_missing() {
        let body = wire_line(Phase::Tls, "S:", &[b'a'; 201], Ending::Lf, 200);
        assert!(body.ends_with("a… (1 more octet)\\n"), "{body}");
    }

    #[test]
    fn the_sender_label_follows_the_role() {
        assert_eq!(sender(Party::Server, Direction::Sent), "C:");
        assert_eq!(sender(Party::Client, Direction::Sent), "S:");
        assert_eq!(sender(Party::Client, Direction::Received), "C:");
    }
}
