//! Octets and peer-supplied strings as safe, lossless text.
//!
//! One escaping serves every format (documented in `docs/report-schema.md`):
//!
//! - a character that is printable (ASCII `0x20..=0x7e`, or a non-ASCII UTF-8 character
//!   that is not a control, bidi or invisible formatting character) stands for itself;
//! - a backslash is written `\\` (the scenario language's spelling);
//! - every other octet, including each octet of an invalid UTF-8 sequence, is written
//!   `\xNN` (two lower-case hex digits).
//!
//! [`escape_lossless`] keeps CR, LF and TAB as they are (JSON shows them as `\r`, `\n`,
//! `\t`) and is reversed exactly by [`unescape`]. The transcript renderer uses
//! [`escape_line`], which also escapes CR, TAB and trailing spaces (the line ending is
//! shown separately) and can stop after a number of characters.
//!
//! Escaping is also what makes a report safe to print: a hostile peer cannot move the
//! cursor, recolour a terminal (ESC is `\x1b`), reorder text with bidi overrides, or put
//! characters XML 1.0 forbids into a JUnit file.

use std::fmt::Write as _;

/// Whether `c` may be shown as itself; `\` and everything else is escaped.
fn is_printable(c: char) -> bool {
    match c {
        '\\' => false,
        ' '..='~' => true,
        _ if c.is_ascii() || c.is_control() => false,
        // Invisible or reordering characters (Trojan Source, CVE-2021-42574): soft
        // hyphen, Arabic letter mark, zero-width and bidi marks, line/paragraph
        // separators, embeddings and overrides, word joiner and isolates, BOM,
        // interlinear annotation.
        '\u{00ad}'
        | '\u{061c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        // Non-characters that XML 1.0 forbids.
        | '\u{fffe}'
        | '\u{ffff}' => false,
        _ => true,
    }
}

fn push_hex(out: &mut String, octet: u8) {
    let _ = write!(out, "\\x{octet:02x}");
}

/// Appends the escaped form of one character, given whether whitespace is kept.
fn push_char(out: &mut String, c: char, keep: impl Fn(char) -> bool) {
    if c == '\\' {
        out.push_str("\\\\");
    } else if keep(c) {
        out.push(c);
    } else {
        let mut buf = [0; 4];
        for &octet in c.encode_utf8(&mut buf).as_bytes() {
            push_hex(out, octet);
        }
    }
}

/// The octets as text that [`unescape`] turns back into exactly these octets: printable
/// characters, CR, LF and TAB as themselves, `\` as `\\`, anything else as `\xNN`.
pub fn escape_lossless(octets: &[u8]) -> String {
    let mut out = String::with_capacity(octets.len());
    for chunk in octets.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c, |c| {
                is_printable(c) || matches!(c, '\r' | '\n' | '\t')
            });
        }
        for &octet in chunk.invalid() {
            push_hex(&mut out, octet);
        }
    }
    out
}

/// Reverses [`escape_lossless`] (and [`escape_line`] when it was not cut short): `\\`
/// becomes `\`, `\xNN` the octet, anything else its UTF-8 octets. `None` when a
/// backslash starts neither form.
pub fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('\\') {
            out.push(b'\\');
            rest = tail;
        } else {
            let hex = after.strip_prefix('x')?.get(..2)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &after[3..];
        }
    }
    out.extend_from_slice(rest.as_bytes());
    Some(out)
}

/// One line's content (without its terminator), escaped for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EscapedLine {
    /// The escaped text.
    pub(crate) text: String,
    /// Octets of the content left out because the line hit the length cap.
    pub(crate) omitted: usize,
}

/// Escapes the content of one wire line for a transcript: like [`escape_lossless`] but
/// CR, TAB and trailing spaces are escaped too (so they are visible), and at most
/// `max_chars` characters are produced; the rest is counted in
/// [`EscapedLine::omitted`]. A content that ends in the literal text `<no-CRLF>` gets
/// its `<` escaped, so it cannot pass for the marker.
pub(crate) fn escape_line(content: &[u8], max_chars: usize) -> EscapedLine {
    let trailing_spaces = content.iter().rev().take_while(|&&b| b == b' ').count();
    let first_trailing = content.len() - trailing_spaces;
    let mut text = String::with_capacity(content.len().min(max_chars + 8));
    let mut chars = 0;
    let mut at = 0;
    'chunks: for chunk in content.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars >= max_chars {
                break 'chunks;
            }
            let before = text.len();
            if c == ' ' && at >= first_trailing {
                push_hex(&mut text, b' ');
            } else {
                push_char(&mut text, c, is_printable);
            }
            chars += text[before..].chars().count();
            at += c.len_utf8();
        }
        for &octet in chunk.invalid() {
            if chars >= max_chars {
                break 'chunks;
            }
            push_hex(&mut text, octet);
            chars += 4;
            at += 1;
        }
    }
    let omitted = content.len() - at;
    if omitted == 0 && text.ends_with("<no-CRLF>") {
        let lt = text.len() - "<no-CRLF>".len();
        text.replace_range(lt..=lt, "\\x3c");
    }
    EscapedLine { text, omitted }
}

/// A string from the peer or the engine (a message, a `seen` excerpt, a TLS alert) made
/// safe to print: control, bidi and invisible characters become `\xNN`; backslashes and
/// everything else stay as they are, since these are words, not wire octets.
pub(crate) fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(|c| c == '\\' || is_printable(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\\' {
            out.push(c);
        } else {
            push_char(&mut out, c, is_printable);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_round_trips_awkward_octets() {
        let cases: &[&[u8]] = &[
            b"A1 OK\r\n",
            b"\\Seen \\x41",
            b"\x00\x1b[31m\xff\xfe",
            "caf\u{e9} \u{202e}evil".as_bytes(),
            b"\xe2\x82",
        ];
        for &octets in cases {
            let text = escape_lossless(octets);
            assert_eq!(unescape(&text).as_deref(), Some(octets), "{text}");
        }
    }

    #[test]
    fn line_escaping_shows_what_is_invisible() {
        let line = escape_line(b"A1 OK\tdone\r  ", 200);
        assert_eq!(line.text, "A1 OK\\x09done\\x0d\\x20\\x20");
        assert_eq!(escape_line(b"x <no-CRLF>", 200).text, "x \\x3cno-CRLF>");
        assert_eq!(
            escape_line("\u{202e}".as_bytes(), 200).text,
            "\\xe2\\x80\\xae"
        );
    }

    #[test]
    fn line_escaping_stops_at_the_cap_and_counts_the_rest() {
        let line = escape_line(&[b'a'; 250], 200);
        assert_eq!(line.text.len(), 200);
        assert_eq!(line.omitted, 50);
        let line = escape_line(&[0xff; 10], 8);
        assert_eq!((line.text.as_str(), line.omitted), ("\\xff\\xff", 8));
    }

    #[test]
    fn sanitize_keeps_words_and_escapes_controls() {
        assert_eq!(sanitize("got \\Seen"), "got \\Seen");
        assert_eq!(sanitize("a\x1b[2Jb"), "a\\x1b[2Jb");
    }
}
