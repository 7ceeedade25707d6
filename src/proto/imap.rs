//! IMAP4 codec (RFC 3501, RFC 9051, with the RFC 2595 §3 STARTTLS and LOGINDISABLED
//! pieces): server responses and client commands, both directions, sans-IO.
//!
//! - [`Response`]: tagged and untagged `OK`/`NO`/`BAD`/`PREAUTH`/`BYE` with their
//!   `[code]` and text, `* CAPABILITY`, other untagged data kept verbatim (literals
//!   included), and `+` continuations.
//! - [`Command`]: `STARTTLS`, `CAPABILITY`, `LOGIN`, `AUTHENTICATE` (with SASL-IR,
//!   RFC 4959), `LOGOUT`, `NOOP`, `SELECT`, `ID`; anything else is kept as
//!   [`CommandBody::Unknown`] with its arguments verbatim.
//! - [`ResponseReader`] and [`CommandReader`]: push bytes in, pull whole messages out;
//!   incomplete input is not an error, and the bytes buffered beyond the last message
//!   stay visible (at a STARTTLS boundary they are a finding).
//!
//! The codec is symmetric: for every input a reader accepts, `encode` gives back exactly
//! the bytes it consumed. To make that hold, the grammar is read strictly (one SP
//! between tokens, no trailing SP, literal sizes without leading zeros), keywords keep
//! their spelling ([`Keyword`]), a bare LF ending is recorded ([`Ending`]), and whatever
//! cannot be typed is kept byte for byte. Input that cannot be re-encoded exactly is
//! refused with a typed [`Error`](enum@Error) naming the byte offset.
//!
//! Literals are recognised where the grammar allows them in this codec: in untagged data
//! (`* 1 FETCH (BODY[] {5}` CRLF `hello)`) and in commands. A status response or a
//! continuation has none:
//!
//! > resp-text = ["[" resp-text-code "]" SP] \[text\] (RFC 9051 §9)
//!
//! so `A1 OK {5}` is text, and the response ends at its CRLF.

mod command;
mod response;

use thiserror::Error;

pub use self::command::{Command, CommandBody, CommandReader, decode_initial_response};
pub use self::response::{
    CapabilityKeyword, Code, CodeName, Response, ResponseKind, ResponseReader, Status,
};
use crate::proto::line::{
    ByteSet, Cursor, Found, FrameError, LexError, ascii_string, encode_literal, encode_quoted,
    parse_literal, parse_quoted,
};
pub use crate::proto::line::{Ending, Keyword, Limits};

/// Reads one server response from the start of `input` (default [`Limits`]): the
/// response and the number of octets it took. Same as [`Response::read`].
///
/// # Errors
///
/// [`Error::Incomplete`] if `input` ends inside the response; otherwise an error naming
/// the offending offset.
pub fn read_response(input: &[u8]) -> Result<(Response, usize), Error> {
    Response::read(input)
}

/// Reads one client command from the start of `input` (default [`Limits`]). Same as
/// [`Command::read`].
///
/// # Errors
///
/// As [`read_response`].
pub fn read_command(input: &[u8]) -> Result<(Command, usize), Error> {
    Command::read(input)
}

/// Why bytes are not a well-formed IMAP message (or not one this codec can re-encode
/// exactly). Offsets count from the start of the input given to `read`, or from the
/// start of the stream for a reader.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the message does (one-shot reads only; a reader just waits).
    #[error("the input ends before the message does")]
    Incomplete,
    /// The bytes cannot be framed: a line, literal or message is over its limit.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Something else was found where the grammar wants `expected`.
    #[error("expected {expected} at byte {offset}, found {found}")]
    Unexpected {
        /// Offset of the offending octet (or of the line end).
        offset: usize,
        /// What the grammar wants there.
        expected: &'static str,
        /// What is there instead.
        found: Found,
    },
    /// A CR that is not part of a CRLF.
    #[error("bare CR at byte {offset}: CR is only allowed as part of CRLF")]
    BareCr {
        /// Offset of the CR.
        offset: usize,
    },
    /// A NUL octet outside literal data.
    #[error("NUL octet at byte {offset}: NUL is only allowed inside a literal")]
    Nul {
        /// Offset of the NUL.
        offset: usize,
    },
    /// An LF inside a message that does not follow a literal announcement.
    #[error("LF at byte {offset} is not preceded by a literal announcement")]
    StrayLf {
        /// Offset of the LF.
        offset: usize,
    },
    /// A literal size written with a leading zero (`{05}`): legal digits, but not
    /// re-encodable exactly from the typed value.
    #[error("the literal at byte {offset} writes its size with a leading zero")]
    NonCanonicalLiteral {
        /// Offset of the `{`.
        offset: usize,
    },
    /// A command that takes no arguments was given some.
    #[error("{command} takes no arguments, but one starts at byte {offset}")]
    UnexpectedArgument {
        /// Offset of the first argument octet.
        offset: usize,
        /// The command's canonical name.
        command: &'static str,
    },
    /// `from_bytes` was given more than one message.
    #[error("{len} octets of trailing data start at byte {offset}")]
    TrailingData {
        /// Offset of the first trailing octet.
        offset: usize,
        /// How many octets follow the message.
        len: usize,
    },
}

impl Error {
    /// The byte offset the error points at (`None` for [`Error::Incomplete`]).
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Incomplete => None,
            Self::Frame(error) => Some(error.offset()),
            Self::Unexpected { offset, .. }
            | Self::BareCr { offset }
            | Self::Nul { offset }
            | Self::StrayLf { offset }
            | Self::NonCanonicalLiteral { offset }
            | Self::UnexpectedArgument { offset, .. }
            | Self::TrailingData { offset, .. } => Some(*offset),
        }
    }

    /// Whether the input merely ended too early.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Incomplete)
    }

    /// The same error with its offset moved by `base`.
    pub(crate) fn offset_by(self, base: usize) -> Self {
        let shift = |offset: usize| offset.saturating_add(base);
        match self {
            Self::Incomplete => Self::Incomplete,
            Self::Frame(error) => Self::Frame(error.offset_by(base)),
            Self::Unexpected {
                offset,
                expected,
                found,
            } => Self::Unexpected {
                offset: shift(offset),
                expected,
                found,
            },
            Self::BareCr { offset } => Self::BareCr {
                offset: shift(offset),
            },
            Self::Nul { offset } => Self::Nul {
                offset: shift(offset),
            },
            Self::StrayLf { offset } => Self::StrayLf {
                offset: shift(offset),
            },
            Self::NonCanonicalLiteral { offset } => Self::NonCanonicalLiteral {
                offset: shift(offset),
            },
            Self::UnexpectedArgument { offset, command } => Self::UnexpectedArgument {
                offset: shift(offset),
                command,
            },
            Self::TrailingData { offset, len } => Self::TrailingData {
                offset: shift(offset),
                len,
            },
        }
    }

    fn unexpected(cursor: &Cursor<'_>, expected: &'static str) -> Self {
        Self::Unexpected {
            offset: cursor.pos(),
            expected,
            found: cursor.found(),
        }
    }
}

impl From<LexError> for Error {
    fn from(problem: LexError) -> Self {
        match problem {
            LexError::BareCr(offset) => Self::BareCr { offset },
            LexError::Nul(offset) => Self::Nul { offset },
            LexError::BareLf(offset) => Self::StrayLf { offset },
            LexError::NonCanonicalLiteral(offset) => Self::NonCanonicalLiteral { offset },
            LexError::Unexpected {
                offset,
                expected,
                found,
            } => Self::Unexpected {
                offset,
                expected,
                found,
            },
        }
    }
}

/// A command tag: one or more `ASTRING-CHAR`s except `+`.
///
/// > tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9)
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// A tag, if `tag` is a valid one.
    ///
    /// # Errors
    ///
    /// [`Error::Unexpected`] naming the first octet that is not a tag character (offset
    /// into `tag`), or the end if `tag` is empty.
    pub fn new(tag: &str) -> Result<Self, Error> {
        let mut cursor = Cursor::new(tag.as_bytes());
        let taken = cursor.take_while(is_tag_char);
        if taken.is_empty() || !cursor.at_end() {
            return Err(Error::unexpected(&cursor, "a tag character"));
        }
        Ok(Self(tag.to_owned()))
    }

    /// The tag's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An `astring`: an atom, a quoted string or a literal (RFC 9051 §9), as the peer
/// wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AString {
    /// `1*ASTRING-CHAR`.
    Atom(String),
    /// A quoted string; the value is unescaped (`\"` and `\\` are its only escapes).
    Quoted(Vec<u8>),
    /// `{n}` CRLF data, or `{n+}` CRLF data (LITERAL+, RFC 7888) when `non_sync`.
    Literal {
        /// The literal's octets.
        data: Vec<u8>,
        /// Whether the size was written `{n+}`.
        non_sync: bool,
    },
}

impl AString {
    /// The smallest faithful encoding of `value`: an atom if it is one, else a quoted
    /// string if it can be one, else a synchronising literal.
    pub fn from_value(value: &[u8]) -> Self {
        if !value.is_empty() && value.iter().all(|&b| is_astring_char(b)) {
            Self::Atom(ascii_string(value))
        } else if value.iter().all(|&b| !matches!(b, 0 | b'\r' | b'\n')) {
            Self::Quoted(value.to_vec())
        } else {
            Self::Literal {
                data: value.to_vec(),
                non_sync: false,
            }
        }
    }

    /// The string's value (unescaped).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Atom(atom) => atom.as_bytes(),
            Self::Quoted(value) | Self::Literal { data: value, .. } => value,
        }
    }

    /// Appends the wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Atom(atom) => out.extend_from_slice(atom.as_bytes()),
            Self::Quoted(value) => encode_quoted(value, out),
            Self::Literal { data, non_sync } => encode_literal(data, *non_sync, out),
        }
    }
}

/// `ATOM-CHAR`: any CHAR except atom-specials.
///
/// > atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials /
/// > resp-specials (RFC 9051 §9)
static ATOM: ByteSet = ByteSet::EMPTY.range(0x21, 0x7e).without(b"(){%*\"\\]");

/// `ASTRING-CHAR = ATOM-CHAR / resp-specials`.
static ASTRING: ByteSet = ATOM.with(b"]");

/// A tag character: `ASTRING-CHAR` except `+`.
static TAG: ByteSet = ASTRING.without(b"+");

/// Whether `b` is an `ATOM-CHAR`.
pub(crate) fn is_atom_char(b: u8) -> bool {
    ATOM.contains(b)
}

/// Whether `b` is an `ASTRING-CHAR`.
pub(crate) fn is_astring_char(b: u8) -> bool {
    ASTRING.contains(b)
}

/// Whether `b` is a tag character.
pub(crate) fn is_tag_char(b: u8) -> bool {
    TAG.contains(b)
}

/// Parses an astring at the cursor.
fn parse_astring(cursor: &mut Cursor<'_>) -> Result<AString, Error> {
    match cursor.peek() {
        Some(b'"') => Ok(AString::Quoted(parse_quoted(cursor)?)),
        Some(b'{') => {
            let (data, non_sync) = parse_literal(cursor)?;
            Ok(AString::Literal { data, non_sync })
        }
        _ => {
            let atom = cursor.take_while(is_astring_char);
            if atom.is_empty() {
                return Err(Error::unexpected(
                    cursor,
                    "an atom, a quoted string or a literal",
                ));
            }
            Ok(AString::Atom(ascii_string(atom)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(Tag::new("a001").unwrap().as_str(), "a001");
        assert!(Tag::new("A]1").is_ok());
        assert!(matches!(
            Tag::new("a+1"),
            Err(Error::Unexpected { offset: 1, .. })
        ));
        assert!(Tag::new("*").is_err());
        assert!(Tag::new("").is_err());
        assert!(Tag::new("a b").is_err());
    }

    #[test]
    fn astrings_round_trip() {
        for (wire, value) in [
            (&b"fred"[..], &b"fred"[..]),
            (b"\"a \\\"b\\\\\"", b"a \"b\\"),
            (b"{3}\r\na\0b", b"a\0b"),
            (b"{2+}\r\n\r\n", b"\r\n"),
            (b"\"\"", b""),
        ] {
            let mut cursor = Cursor::new(wire);
            let parsed = parse_astring(&mut cursor).unwrap();
            assert!(cursor.at_end(), "{wire:?}");
            assert_eq!(parsed.as_bytes(), value);
            let mut out = Vec::new();
            parsed.encode(&mut out);
            assert_eq!(out, wire);
        }
    }

    #[test]
    fn astring_errors() {
        let err = |wire: &[u8]| parse_astring(&mut Cursor::new(wire)).unwrap_err();
        assert_eq!(
            err(b"{05}\r\nhello"),
            Error::NonCanonicalLiteral { offset: 0 }
        );
        assert!(matches!(err(b"\"abc"), Error::Unexpected { offset: 4, .. }));
        assert!(matches!(
            err(b"\"a\\bc\""),
            Error::Unexpected { offset: 3, .. }
        ));
        assert_eq!(err(b"\"a\rb\""), Error::BareCr { offset: 2 });
        assert!(matches!(
            err(b"{5}\r\nab"),
            Error::Unexpected { offset: 5, .. }
        ));
        assert!(matches!(err(b"{5} x"), Error::Unexpected { offset: 3, .. }));
        assert!(matches!(err(b"(x"), Error::Unexpected { offset: 0, .. }));
    }

    #[test]
    fn from_value_picks_the_smallest_form() {
        assert_eq!(AString::from_value(b"user"), AString::Atom("user".into()));
        assert_eq!(
            AString::from_value(b"two words"),
            AString::Quoted(b"two words".to_vec())
        );
        assert!(matches!(
            AString::from_value(b"a\r\nb"),
            AString::Literal { .. }
        ));
        assert_eq!(AString::from_value(b""), AString::Quoted(Vec::new()));
    }

    #[test]
    fn error_messages_name_the_offset() {
        let err = Error::Unexpected {
            offset: 7,
            expected: "SP",
            found: Found(Some(b'x')),
        };
        assert_eq!(err.to_string(), "expected SP at byte 7, found 'x'");
        assert_eq!(err.offset_by(10).offset(), Some(17));
        assert_eq!(
            Error::UnexpectedArgument {
                offset: 12,
                command: "STARTTLS"
            }
            .to_string(),
            "STARTTLS takes no arguments, but one starts at byte 12"
        );
    }
}
