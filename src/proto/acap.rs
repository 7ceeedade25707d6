//! ACAP codec (RFC 2244, with the RFC 2595 §5 STARTTLS piece): server responses and
//! client commands, both directions, sans-IO.
//!
//! - [`Response`]: the greeting `* ACAP (IMPLEMENTATION "x") (STARTTLS) (SASL "PLAIN")`,
//!   tagged `OK`/`NO`/`BAD` and untagged `BYE`/`ALERT` with an optional `(code)` and a
//!   quoted text, other tagged or untagged responses kept verbatim, and `+ string`
//!   continuations.
//! - [`Command`]: `STARTTLS`, `AUTHENTICATE mechanism [initial]`, `LOGOUT`, `NOOP`;
//!   anything else is kept as [`CommandBody::Unknown`].
//! - [`ResponseReader`] and [`CommandReader`]: push bytes in, pull whole messages out.
//!
//! RFC 2595 §5.1 makes the greeting the carrier of capabilities, before and after TLS:
//!
//! > After the TLS layer is established, the server MUST re-issue an untagged ACAP
//! > greeting. This is necessary to protect against man-in-the-middle attacks which
//! > alter the capabilities list prior to STARTTLS. The client MUST discard cached
//! > capability information and replace it with the information from the new ACAP
//! > greeting. (RFC 2595 §5.1)
//!
//! so [`Response::capabilities`] reads it: each parenthesised list's first atom is a
//! capability name, and the strings after `SASL` are mechanisms.
//!
//! ACAP strings are quoted strings or literals (`{n}` CRLF data, `{n+}` from a client),
//! and literals may appear in any message. The codec is symmetric: for every input a
//! reader accepts, `encode` gives back exactly the bytes it consumed; input it cannot
//! re-encode exactly is refused with a typed [`Error`](enum@Error) naming the byte offset.
//!
//! Response codes are parenthesised in ACAP, not bracketed as in IMAP:
//!
//! > resp-body = ["(" resp-code ")" SP] quoted (RFC 2244 §9)

use thiserror::Error;

use crate::proto::capability::Capabilities;
use crate::proto::line::{
    ByteSet, Canonical, Cursor, End, Found, FrameError, FrameScan, LexError, StreamBuf,
    ascii_string, check_raw, encode_literal, encode_quoted, find_keyword, parse_literal,
    parse_quoted, scan_literal_frame,
};
pub use crate::proto::line::{Ending, Keyword, Limits};

/// How deep lists may nest in a greeting or response code.
pub const MAX_DEPTH: usize = 32;

/// The longest tag (RFC 2244 §9: `tag = 1*32 TAG-CHAR`).
pub const MAX_TAG_LEN: usize = 32;

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

/// Why bytes are not a well-formed ACAP message (or not one this codec can re-encode
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
    /// A literal size written with a leading zero (`{05}`).
    #[error("the literal at byte {offset} writes its size with a leading zero")]
    NonCanonicalLiteral {
        /// Offset of the `{`.
        offset: usize,
    },
    /// A tag longer than [`MAX_TAG_LEN`].
    #[error("the tag at byte {offset} is longer than 32 characters")]
    TagTooLong {
        /// Offset of the tag.
        offset: usize,
    },
    /// Lists nest deeper than [`MAX_DEPTH`].
    #[error("the list at byte {offset} nests deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// Offset of the `(` that goes too deep.
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
            | Self::TagTooLong { offset }
            | Self::TooDeep { offset }
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
            Self::TagTooLong { offset } => Self::TagTooLong {
                offset: shift(offset),
            },
            Self::TooDeep { offset } => Self::TooDeep {
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

/// `ATOM-CHAR`: printable ASCII except the atom specials.
///
/// > ATOM-CHAR = "!" / %x23-27 / %x2A-5B / %x5D-7A / %x7C-7E (RFC 2244 §9)
static ATOM: ByteSet = ByteSet::EMPTY
    .with(b"!")
    .range(0x23, 0x27)
    .range(0x2a, 0x5b)
    .range(0x5d, 0x7a)
    .range(0x7c, 0x7e);

/// A tag character: an `ATOM-CHAR` except `*` (RFC 2244) and `+` (so that a line
/// starting with `+` is always a continuation).
static TAG: ByteSet = ATOM.without(b"*+");

/// Whether `b` is an `ATOM-CHAR`.
pub(crate) fn is_atom_char(b: u8) -> bool {
    ATOM.contains(b)
}

fn is_tag_char(b: u8) -> bool {
    TAG.contains(b)
}

/// A command tag: 1 to 32 tag characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// A tag, if `tag` is a valid one.
    ///
    /// # Errors
    ///
    /// [`Error::Unexpected`] naming the first octet that is not a tag character, or
    /// [`Error::TagTooLong`].
    pub fn new(tag: &str) -> Result<Self, Error> {
        let mut cursor = Cursor::new(tag.as_bytes());
        read_tag(&mut cursor)?;
        if !cursor.at_end() {
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

fn read_tag(cursor: &mut Cursor<'_>) -> Result<Tag, Error> {
    let start = cursor.pos();
    let tag = cursor.take_while(is_tag_char);
    if tag.is_empty() {
        return Err(Error::unexpected(cursor, "a tag, '*' or '+'"));
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(Error::TagTooLong { offset: start });
    }
    Ok(Tag(ascii_string(tag)))
}

/// An ACAP string: a quoted string or a literal, as the peer wrote it.
///
/// > string = quoted / literal (RFC 2244 §9)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AcapString {
    /// A quoted string; the value is unescaped.
    Quoted(Vec<u8>),
    /// `{n}` CRLF data, or `{n+}` CRLF data when `non_sync`.
    Literal {
        /// The literal's octets.
        data: Vec<u8>,
        /// Whether the size was written `{n+}`.
        non_sync: bool,
    },
}

impl AcapString {
    /// A quoted string if `value` can be one, else a synchronising literal.
    pub fn from_value(value: &[u8]) -> Self {
        if value.iter().all(|&b| !matches!(b, 0 | b'\r' | b'\n')) {
            Self::Quoted(value.to_vec())
        } else {
            Self::Literal {
                data: value.to_vec(),
                non_sync: false,
            }
        }
    }

    /// The string's value.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Quoted(value) | Self::Literal { data: value, .. } => value,
        }
    }

    /// Appends the wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Quoted(value) => encode_quoted(value, out),
            Self::Literal { data, non_sync } => encode_literal(data, *non_sync, out),
        }
    }
}

/// A value in a greeting capability or a response code: an atom (`NIL`, a number, a
/// name), a string, or a parenthesised list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// An atom, as spelled.
    Atom(String),
    /// A quoted string or literal.
    Str(AcapString),
    /// `(value *(SP value))`, or `()`.
    List(Vec<Self>),
}

impl Value {
    /// The string's value, if this is a string.
    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Self::Str(string) => Some(string.as_bytes()),
            Self::Atom(_) | Self::List(_) => None,
        }
    }

    /// Appends the wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Atom(atom) => out.extend_from_slice(atom.as_bytes()),
            Self::Str(string) => string.encode(out),
            Self::List(values) => {
                out.push(b'(');
                encode_values(values, out);
                out.push(b')');
            }
        }
    }
}

fn encode_values(values: &[Value], out: &mut Vec<u8>) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        value.encode(out);
    }
}

fn parse_string(cursor: &mut Cursor<'_>) -> Result<AcapString, Error> {
    match cursor.peek() {
        Some(b'"') => Ok(AcapString::Quoted(parse_quoted(cursor)?)),
        Some(b'{') => {
            let (data, non_sync) = parse_literal(cursor)?;
            Ok(AcapString::Literal { data, non_sync })
        }
        _ => Err(Error::unexpected(cursor, "a string (quoted or literal)")),
    }
}

fn parse_value(cursor: &mut Cursor<'_>, depth: usize) -> Result<Value, Error> {
    match cursor.peek() {
        Some(b'"' | b'{') => parse_string(cursor).map(Value::Str),
        Some(b'(') => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep {
                    offset: cursor.pos(),
                });
            }
            cursor.bump();
            let mut values = Vec::new();
            if cursor.eat(b')') {
                return Ok(Value::List(values));
            }
            loop {
                values.push(parse_value(cursor, depth + 1)?);
                if cursor.eat(b')') {
                    return Ok(Value::List(values));
                }
                if !cursor.eat(b' ') {
                    return Err(Error::unexpected(cursor, "SP or ')' in a list"));
                }
            }
        }
        _ => {
            let atom = cursor.take_while(is_atom_char);
            if atom.is_empty() {
                return Err(Error::unexpected(cursor, "a value (atom, string or list)"));
            }
            Ok(Value::Atom(ascii_string(atom)))
        }
    }
}

/// `*(SP value)` up to (not including) `)`.
fn parse_values_until_paren(cursor: &mut Cursor<'_>, depth: usize) -> Result<Vec<Value>, Error> {
    let mut values = Vec::new();
    while cursor.peek() != Some(b')') {
        if !cursor.eat(b' ') {
            return Err(Error::unexpected(cursor, "SP or ')'"));
        }
        values.push(parse_value(cursor, depth)?);
    }
    Ok(values)
}

/// One parenthesised capability of the greeting: `(name value ...)`.
///
/// > init-capability = init-cap-context / init-cap-extend / init-cap-implem /
/// > init-cap-sasl (RFC 2244 §9)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GreetingItem {
    /// The capability name, as spelled (`IMPLEMENTATION`, `SASL`, `STARTTLS`).
    pub name: String,
    /// Its values (strings for `SASL` and `IMPLEMENTATION`).
    pub values: Vec<Value>,
}

impl GreetingItem {
    /// A capability with string values.
    pub fn new<V: AsRef<[u8]>>(name: &str, values: impl IntoIterator<Item = V>) -> Self {
        Self {
            name: name.to_owned(),
            values: values
                .into_iter()
                .map(|v| Value::Str(AcapString::from_value(v.as_ref())))
                .collect(),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'(');
        out.extend_from_slice(self.name.as_bytes());
        for value in &self.values {
            out.push(b' ');
            value.encode(out);
        }
        out.push(b')');
    }
}

/// The `ACAP` keyword of the greeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AcapKeyword;

impl Canonical for AcapKeyword {
    fn canonical(&self) -> &str {
        "ACAP"
    }
}

/// A status condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `BYE` (untagged).
    Bye,
    /// `ALERT` (untagged).
    Alert,
}

impl Status {
    fn classify(word: &[u8], tagged: bool) -> Option<Self> {
        let all: &[Self] = if tagged {
            &[Self::Ok, Self::No, Self::Bad]
        } else {
            &[Self::Ok, Self::No, Self::Bad, Self::Bye, Self::Alert]
        };
        find_keyword(all, word)
    }
}

impl Canonical for Status {
    fn canonical(&self) -> &str {
        match self {
            Self::Ok => "OK",
            Self::No => "NO",
            Self::Bad => "BAD",
            Self::Bye => "BYE",
            Self::Alert => "ALERT",
        }
    }
}

/// A response code's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CodeName {
    /// `AUTH-TOO-WEAK`.
    AuthTooWeak,
    /// `ENCRYPT-NEEDED`.
    EncryptNeeded,
    /// `TRANSITION-NEEDED` (RFC 2595 §6 uses it to steer a client to TLS and PLAIN).
    TransitionNeeded,
    /// `SASL`: the argument is the server's final SASL data.
    Sasl,
    /// Any other code, as spelled.
    Other(String),
}

impl CodeName {
    fn classify(word: &[u8]) -> Self {
        const KNOWN: &[CodeName] = &[
            CodeName::AuthTooWeak,
            CodeName::EncryptNeeded,
            CodeName::TransitionNeeded,
            CodeName::Sasl,
        ];
        find_keyword(KNOWN, word).unwrap_or_else(|| Self::Other(ascii_string(word)))
    }
}

impl Canonical for CodeName {
    fn canonical(&self) -> &str {
        match self {
            Self::AuthTooWeak => "AUTH-TOO-WEAK",
            Self::EncryptNeeded => "ENCRYPT-NEEDED",
            Self::TransitionNeeded => "TRANSITION-NEEDED",
            Self::Sasl => "SASL",
            Self::Other(word) => word,
        }
    }
}

/// A response code: `(name value ...)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// The code's name.
    pub name: Keyword<CodeName>,
    /// Its arguments.
    pub args: Vec<Value>,
}

impl Code {
    /// A code without arguments.
    pub fn new(name: CodeName) -> Self {
        Self {
            name: Keyword::new(name),
            args: Vec::new(),
        }
    }

    /// Appends `(name args)`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'(');
        out.extend_from_slice(self.name.as_str().as_bytes());
        for value in &self.args {
            out.push(b' ');
            value.encode(out);
        }
        out.push(b')');
    }
}

/// What a response says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// `* ACAP (capability ...) ...`.
    Greeting {
        /// The `ACAP` keyword as spelled.
        keyword: Keyword<AcapKeyword>,
        /// The parenthesised capabilities, in order.
        items: Vec<GreetingItem>,
    },
    /// A status response: tagged `OK`/`NO`/`BAD`, or untagged `BYE`/`ALERT` (and
    /// `OK`/`NO`/`BAD`).
    Status {
        /// The tag, `None` for `*`.
        tag: Option<Tag>,
        /// The status keyword.
        status: Keyword<Status>,
        /// The `(code)`, if any.
        code: Option<Code>,
        /// The quoted text's value.
        text: Vec<u8>,
    },
    /// Any other response (`tag ENTRY ...`, `* LISTRIGHTS ...`), kept verbatim after the
    /// tag (or `*`) and SP, literals included.
    Data {
        /// The tag, `None` for `*`.
        tag: Option<Tag>,
        /// Everything after `tag SP`.
        raw: Vec<u8>,
    },
    /// `+ string`: a SASL challenge (quoted or literal).
    Continuation(AcapString),
}

/// One server response.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Response {
    /// What the response says.
    pub kind: ResponseKind,
    /// How its last line ended.
    pub ending: Ending,
}

impl Response {
    /// A response of `kind` ending in CRLF.
    pub fn new(kind: ResponseKind) -> Self {
        Self {
            kind,
            ending: Ending::Crlf,
        }
    }

    /// The greeting `* ACAP` followed by `items`.
    pub fn greeting(items: Vec<GreetingItem>) -> Self {
        Self::new(ResponseKind::Greeting {
            keyword: Keyword::new(AcapKeyword),
            items,
        })
    }

    /// `tag status "text"`.
    pub fn tagged(tag: Tag, status: Status, text: &str) -> Self {
        Self::new(ResponseKind::Status {
            tag: Some(tag),
            status: Keyword::new(status),
            code: None,
            text: text.as_bytes().to_vec(),
        })
    }

    /// The same response with `code` set (status responses only).
    #[must_use]
    pub fn with_code(mut self, new: Code) -> Self {
        if let ResponseKind::Status { code, .. } = &mut self.kind {
            *code = Some(new);
        }
        self
    }

    /// Reads one response from the start of `input` with the default [`Limits`],
    /// returning it and the number of octets it took.
    ///
    /// # Errors
    ///
    /// [`Error::Incomplete`] if `input` ends inside the response; otherwise an error
    /// naming the offending offset.
    pub fn read(input: &[u8]) -> Result<(Self, usize), Error> {
        Self::read_with(input, &Limits::DEFAULT)
    }

    /// [`Response::read`] with explicit limits.
    ///
    /// # Errors
    ///
    /// As [`Response::read`].
    pub fn read_with(input: &[u8], limits: &Limits) -> Result<(Self, usize), Error> {
        let mut scan = FrameScan::default();
        match scan_literal_frame(input, &mut scan, limits, |_| true)? {
            None => Err(Error::Incomplete),
            Some(end) => Ok((parse_response(input, end)?, end.len)),
        }
    }

    /// Reads exactly one response: `input` must hold nothing else.
    ///
    /// # Errors
    ///
    /// As [`Response::read`], plus [`Error::TrailingData`].
    pub fn from_bytes(input: &[u8]) -> Result<Self, Error> {
        let (response, used) = Self::read(input)?;
        match input.len() - used {
            0 => Ok(response),
            len => Err(Error::TrailingData { offset: used, len }),
        }
    }

    /// Appends the response's wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match &self.kind {
            ResponseKind::Greeting { keyword, items } => {
                out.extend_from_slice(b"* ");
                out.extend_from_slice(keyword.as_str().as_bytes());
                for item in items {
                    out.push(b' ');
                    item.encode(out);
                }
            }
            ResponseKind::Status {
                tag,
                status,
                code,
                text,
            } => {
                encode_tag(tag.as_ref(), out);
                out.push(b' ');
                out.extend_from_slice(status.as_str().as_bytes());
                out.push(b' ');
                if let Some(code) = code {
                    code.encode(out);
                    out.push(b' ');
                }
                encode_quoted(text, out);
            }
            ResponseKind::Data { tag, raw } => {
                encode_tag(tag.as_ref(), out);
                out.push(b' ');
                out.extend_from_slice(raw);
            }
            ResponseKind::Continuation(string) => {
                out.extend_from_slice(b"+ ");
                string.encode(out);
            }
        }
        out.extend_from_slice(self.ending.as_bytes());
    }

    /// The tag of a tagged response.
    pub fn tag(&self) -> Option<&Tag> {
        match &self.kind {
            ResponseKind::Status { tag, .. } | ResponseKind::Data { tag, .. } => tag.as_ref(),
            _ => None,
        }
    }

    /// The status of a status response.
    pub fn status(&self) -> Option<Status> {
        match &self.kind {
            ResponseKind::Status { status, .. } => Some(*status.kind()),
            _ => None,
        }
    }

    /// The code of a status response.
    pub fn code(&self) -> Option<&Code> {
        match &self.kind {
            ResponseKind::Status { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    /// The text of a status response.
    pub fn text(&self) -> Option<&[u8]> {
        match &self.kind {
            ResponseKind::Status { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is the `* ACAP` greeting.
    pub fn is_greeting(&self) -> bool {
        matches!(self.kind, ResponseKind::Greeting { .. })
    }

    /// The capabilities of a greeting: each item's name, and the string values of
    /// `SASL` as mechanisms. `None` for anything else.
    pub fn capabilities(&self) -> Option<Capabilities> {
        let ResponseKind::Greeting { items, .. } = &self.kind else {
            return None;
        };
        let mut caps = Capabilities::new();
        for item in items {
            caps.insert_name(&item.name);
            if item.name.eq_ignore_ascii_case("SASL") {
                for mechanism in item.values.iter().filter_map(Value::as_string) {
                    caps.insert_sasl(&String::from_utf8_lossy(mechanism));
                }
            }
        }
        Some(caps)
    }
}

fn encode_tag(tag: Option<&Tag>, out: &mut Vec<u8>) {
    match tag {
        Some(tag) => out.extend_from_slice(tag.as_str().as_bytes()),
        None => out.push(b'*'),
    }
}

fn end_of_line(cursor: &Cursor<'_>) -> Result<(), Error> {
    if cursor.at_end() {
        Ok(())
    } else {
        Err(Error::unexpected(cursor, "the end of the line"))
    }
}

/// Parses the response framed by `end` at the start of `input`.
fn parse_response(input: &[u8], end: End) -> Result<Response, Error> {
    let content = input.get(..end.content_end).unwrap_or_default();
    let mut cursor = Cursor::new(content);
    let kind = if cursor.eat(b'+') {
        if !cursor.eat(b' ') {
            return Err(Error::unexpected(&cursor, "SP after '+'"));
        }
        let string = parse_string(&mut cursor)?;
        end_of_line(&cursor)?;
        ResponseKind::Continuation(string)
    } else {
        let tag = if cursor.eat(b'*') {
            None
        } else {
            Some(read_tag(&mut cursor)?)
        };
        if !cursor.eat(b' ') {
            return Err(Error::unexpected(&cursor, "SP after the tag"));
        }
        let word = cursor
            .rest()
            .split(|&b| b == b' ')
            .next()
            .unwrap_or_default();
        if tag.is_none() && word.eq_ignore_ascii_case(b"ACAP") {
            cursor.advance(word.len());
            parse_greeting(&mut cursor, word)?
        } else if let Some(status) = Status::classify(word, tag.is_some()) {
            cursor.advance(word.len());
            let status = Keyword::from_ascii(status, word);
            parse_status(&mut cursor, tag, status)?
        } else {
            let start = cursor.pos();
            let name = cursor.take_while(is_atom_char);
            if name.is_empty() || !matches!(cursor.peek(), None | Some(b' ')) {
                return Err(Error::unexpected(&cursor, "a response name (an atom)"));
            }
            cursor.take_rest();
            let raw = content.get(start..).unwrap_or_default();
            check_raw(raw).map_err(|problem| Error::from(problem).offset_by(start))?;
            ResponseKind::Data {
                tag,
                raw: raw.to_vec(),
            }
        }
    };
    Ok(Response {
        kind,
        ending: end.ending,
    })
}

fn parse_greeting(cursor: &mut Cursor<'_>, word: &[u8]) -> Result<ResponseKind, Error> {
    let mut items = Vec::new();
    while !cursor.at_end() {
        if !cursor.eat(b' ') {
            return Err(Error::unexpected(cursor, "SP before a capability list"));
        }
        if !cursor.eat(b'(') {
            return Err(Error::unexpected(cursor, "'(' opening a capability list"));
        }
        let name = cursor.take_while(is_atom_char);
        if name.is_empty() {
            return Err(Error::unexpected(cursor, "a capability name (an atom)"));
        }
        let name = ascii_string(name);
        let values = parse_values_until_paren(cursor, 1)?;
        cursor.bump(); // the ')'
        items.push(GreetingItem { name, values });
    }
    Ok(ResponseKind::Greeting {
        keyword: Keyword::from_ascii(AcapKeyword, word),
        items,
    })
}

fn parse_status(
    cursor: &mut Cursor<'_>,
    tag: Option<Tag>,
    status: Keyword<Status>,
) -> Result<ResponseKind, Error> {
    if !cursor.eat(b' ') {
        return Err(Error::unexpected(cursor, "SP after the status"));
    }
    let code = if cursor.eat(b'(') {
        let name = cursor.take_while(is_atom_char);
        if name.is_empty() {
            return Err(Error::unexpected(cursor, "a response code name (an atom)"));
        }
        let args = parse_values_until_paren(cursor, 1)?;
        cursor.bump(); // the ')'
        if !cursor.eat(b' ') {
            return Err(Error::unexpected(cursor, "SP after the response code"));
        }
        Some(Code {
            name: Keyword::from_ascii(CodeName::classify(name), name),
            args,
        })
    } else {
        None
    };
    if cursor.peek() != Some(b'"') {
        return Err(Error::unexpected(cursor, "a quoted text"));
    }
    let text = parse_quoted(cursor)?;
    end_of_line(cursor)?;
    Ok(ResponseKind::Status {
        tag,
        status,
        code,
        text,
    })
}

/// A sans-IO reader of server responses: push bytes in, pull whole responses out.
///
/// A malformed response is reported once and skipped; a framing error is sticky.
#[derive(Clone, Debug, Default)]
pub struct ResponseReader {
    inner: FrameReader,
}

impl ResponseReader {
    /// A reader with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader with explicit limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            inner: FrameReader::with_limits(limits),
        }
    }

    /// Appends bytes received from the server.
    pub fn push(&mut self, data: &[u8]) {
        self.inner.buf.push(data);
    }

    /// The next whole response, `Ok(None)` if none is complete yet.
    ///
    /// # Errors
    ///
    /// A parse error for a malformed response (which is then skipped), or a sticky
    /// [`Error::Frame`]. Offsets count from the start of the stream.
    pub fn next_response(&mut self) -> Result<Option<Response>, Error> {
        self.inner.next(parse_response)
    }

    /// The bytes buffered beyond the last complete response (after the `OK` to
    /// `STARTTLS`: anything here, a greeting included, arrived before TLS).
    pub fn buffered(&self) -> &[u8] {
        self.inner.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete response.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.inner.take_buffered()
    }

    /// Stream offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.inner.buf.offset()
    }
}

/// The framing loop both ACAP readers share.
#[derive(Clone, Debug, Default)]
struct FrameReader {
    buf: StreamBuf,
    scan: FrameScan,
    limits: Limits,
    error: Option<Error>,
}

impl FrameReader {
    fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    fn next<T>(&mut self, parse: fn(&[u8], End) -> Result<T, Error>) -> Result<Option<T>, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let base = self.buf.offset();
        let input = self.buf.unread();
        match scan_literal_frame(input, &mut self.scan, &self.limits, |_| true) {
            Ok(None) => Ok(None),
            Err(error) => {
                let error = Error::Frame(error.offset_by(base));
                self.error = Some(error.clone());
                Err(error)
            }
            Ok(Some(end)) => {
                let parsed = parse(input, end).map_err(|e| e.offset_by(base));
                self.buf.consume(end.len);
                self.scan = FrameScan::default();
                parsed.map(Some)
            }
        }
    }

    fn take_buffered(&mut self) -> Vec<u8> {
        self.scan = FrameScan::default();
        self.buf.take()
    }
}

/// What a command asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommandBody {
    /// `STARTTLS` (RFC 2595 §5.1):
    ///
    /// > command-any =/ "STARTTLS"
    Starttls,
    /// `AUTHENTICATE mechanism [initial]`; both are strings, and the initial response is
    /// the raw SASL data (no base64), as in RFC 2595 §6:
    /// `a003 AUTHENTICATE "PLAIN" {21+}` CRLF `<NUL>tim<NUL>tanstaaftanstaaf`.
    Authenticate {
        /// The mechanism name.
        mechanism: AcapString,
        /// The initial response.
        initial: Option<AcapString>,
    },
    /// `LOGOUT`.
    Logout,
    /// `NOOP`.
    Noop,
    /// Any other command, its arguments verbatim (literals included).
    Unknown {
        /// The command name, as spelled.
        name: String,
        /// The octets after the SP following the name, if any.
        args: Option<Vec<u8>>,
    },
}

impl CommandBody {
    /// The canonical (upper-case) name, or the spelled name of an unknown command.
    pub fn canonical_name(&self) -> &str {
        match self {
            Self::Starttls => "STARTTLS",
            Self::Authenticate { .. } => "AUTHENTICATE",
            Self::Logout => "LOGOUT",
            Self::Noop => "NOOP",
            Self::Unknown { name, .. } => name,
        }
    }
}

/// One client command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    /// The tag.
    pub tag: Tag,
    /// What the command asks for.
    pub body: CommandBody,
    /// How its last line ended.
    pub ending: Ending,
    /// The name's spelling when it differs from the canonical one.
    spelling: Option<Box<str>>,
}

impl Command {
    /// `tag body` with the canonical name, ending in CRLF.
    pub fn new(tag: Tag, body: CommandBody) -> Self {
        Self {
            tag,
            body,
            ending: Ending::Crlf,
            spelling: None,
        }
    }

    /// The command name as written on the wire.
    pub fn name(&self) -> &str {
        let canonical = self.body.canonical_name();
        match &self.spelling {
            Some(spelling) if spelling.eq_ignore_ascii_case(canonical) => spelling,
            _ => canonical,
        }
    }

    /// Reads one command from the start of `input` with the default [`Limits`].
    ///
    /// # Errors
    ///
    /// [`Error::Incomplete`] if `input` ends inside the command; otherwise an error
    /// naming the offending offset.
    pub fn read(input: &[u8]) -> Result<(Self, usize), Error> {
        Self::read_with(input, &Limits::DEFAULT)
    }

    /// [`Command::read`] with explicit limits.
    ///
    /// # Errors
    ///
    /// As [`Command::read`].
    pub fn read_with(input: &[u8], limits: &Limits) -> Result<(Self, usize), Error> {
        let mut scan = FrameScan::default();
        match scan_literal_frame(input, &mut scan, limits, |_| true)? {
            None => Err(Error::Incomplete),
            Some(end) => Ok((parse_command(input, end)?, end.len)),
        }
    }

    /// Reads exactly one command: `input` must hold nothing else.
    ///
    /// # Errors
    ///
    /// As [`Command::read`], plus [`Error::TrailingData`].
    pub fn from_bytes(input: &[u8]) -> Result<Self, Error> {
        let (command, used) = Self::read(input)?;
        match input.len() - used {
            0 => Ok(command),
            len => Err(Error::TrailingData { offset: used, len }),
        }
    }

    /// Appends the command's wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.tag.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.name().as_bytes());
        match &self.body {
            CommandBody::Starttls | CommandBody::Logout | CommandBody::Noop => {}
            CommandBody::Authenticate { mechanism, initial } => {
                out.push(b' ');
                mechanism.encode(out);
                if let Some(initial) = initial {
                    out.push(b' ');
                    initial.encode(out);
                }
            }
            CommandBody::Unknown { args, .. } => {
                if let Some(args) = args {
                    out.push(b' ');
                    out.extend_from_slice(args);
                }
            }
        }
        out.extend_from_slice(self.ending.as_bytes());
    }
}

/// Parses the command framed by `end` at the start of `input`.
fn parse_command(input: &[u8], end: End) -> Result<Command, Error> {
    let content = input.get(..end.content_end).unwrap_or_default();
    let mut cursor = Cursor::new(content);
    let tag = read_tag(&mut cursor)?;
    if !cursor.eat(b' ') {
        return Err(Error::unexpected(&cursor, "SP after the tag"));
    }
    let name = cursor.take_while(is_atom_char);
    if name.is_empty() {
        return Err(Error::unexpected(&cursor, "a command name"));
    }
    if !matches!(cursor.peek(), None | Some(b' ')) {
        return Err(Error::unexpected(
            &cursor,
            "SP or the end of the line after the command name",
        ));
    }
    let no_arguments = |body: CommandBody, command: &'static str| {
        if cursor.at_end() {
            Ok(body)
        } else {
            Err(Error::UnexpectedArgument {
                offset: cursor.pos() + 1,
                command,
            })
        }
    };
    let is = |canonical: &str| name.eq_ignore_ascii_case(canonical.as_bytes());
    let body = match () {
        () if is("STARTTLS") => no_arguments(CommandBody::Starttls, "STARTTLS")?,
        () if is("LOGOUT") => no_arguments(CommandBody::Logout, "LOGOUT")?,
        () if is("NOOP") => no_arguments(CommandBody::Noop, "NOOP")?,
        () if is("AUTHENTICATE") => {
            if !cursor.eat(b' ') {
                return Err(Error::unexpected(&cursor, "SP before the SASL mechanism"));
            }
            let mechanism = parse_string(&mut cursor)?;
            let initial = if cursor.eat(b' ') {
                Some(parse_string(&mut cursor)?)
            } else {
                None
            };
            end_of_line(&cursor)?;
            CommandBody::Authenticate { mechanism, initial }
        }
        _ => {
            let args = if cursor.eat(b' ') {
                let start = cursor.pos();
                let args = cursor.take_rest();
                if args.is_empty() {
                    return Err(Error::unexpected(&cursor, "an argument"));
                }
                check_raw(args).map_err(|problem| Error::from(problem).offset_by(start))?;
                Some(args.to_vec())
            } else {
                None
            };
            CommandBody::Unknown {
                name: ascii_string(name),
                args,
            }
        }
    };
    let spelling =
        (name != body.canonical_name().as_bytes()).then(|| ascii_string(name).into_boxed_str());
    Ok(Command {
        tag,
        body,
        ending: end.ending,
        spelling,
    })
}

/// A sans-IO reader of client commands: push bytes in, pull whole commands out.
///
/// A malformed command is reported once and skipped; a framing error is sticky.
#[derive(Clone, Debug, Default)]
pub struct CommandReader {
    inner: FrameReader,
}

impl CommandReader {
    /// A reader with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader with explicit limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            inner: FrameReader::with_limits(limits),
        }
    }

    /// Appends bytes received from the client.
    pub fn push(&mut self, data: &[u8]) {
        self.inner.buf.push(data);
    }

    /// The next whole command, `Ok(None)` if none is complete yet.
    ///
    /// # Errors
    ///
    /// A parse error for a malformed command (which is then skipped), or a sticky
    /// [`Error::Frame`]. Offsets count from the start of the stream.
    pub fn next_command(&mut self) -> Result<Option<Command>, Error> {
        self.inner.next(parse_command)
    }

    /// The next client continuation (a string answering a `+` challenge, or `"*"` to
    /// cancel), `Ok(None)` if none is complete yet.
    ///
    /// # Errors
    ///
    /// As [`CommandReader::next_command`].
    pub fn next_continuation(&mut self) -> Result<Option<AcapString>, Error> {
        self.inner.next(|input, end| {
            let content = input.get(..end.content_end).unwrap_or_default();
            let mut cursor = Cursor::new(content);
            let string = parse_string(&mut cursor)?;
            end_of_line(&cursor)?;
            Ok(string)
        })
    }

    /// The bytes buffered beyond the last complete command (after `STARTTLS`: anything
    /// here was pipelined in plaintext).
    pub fn buffered(&self) -> &[u8] {
        self.inner.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete command.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.inner.take_buffered()
    }

    /// Stream offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.inner.buf.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(wire: &[u8]) -> Response {
        let (response, used) = Response::read(wire).unwrap();
        assert_eq!(used, wire.len(), "{:?}", String::from_utf8_lossy(wire));
        let mut out = Vec::new();
        response.encode(&mut out);
        assert_eq!(out, wire, "{:?}", String::from_utf8_lossy(wire));
        response
    }

    fn command(wire: &[u8]) -> Command {
        let (command, used) = Command::read(wire).unwrap();
        assert_eq!(used, wire.len());
        let mut out = Vec::new();
        command.encode(&mut out);
        assert_eq!(out, wire, "{:?}", String::from_utf8_lossy(wire));
        command
    }

    #[test]
    fn rfc2595_acap_example() {
        // RFC 2595 §5.1:
        // S: * ACAP (SASL "CRAM-MD5") (STARTTLS)
        // C: a002 STARTTLS
        // S: a002 OK "Begin TLS negotiation now"
        // <TLS negotiation, further commands are under TLS layer>
        // S: * ACAP (SASL "CRAM-MD5" "PLAIN" "EXTERNAL")
        let before = round_trip(b"* ACAP (SASL \"CRAM-MD5\") (STARTTLS)\r\n");
        let caps = before.capabilities().unwrap();
        assert!(caps.has("STARTTLS") && caps.has_sasl("CRAM-MD5") && !caps.has_sasl("PLAIN"));
        assert_eq!(command(b"a002 STARTTLS\r\n").body, CommandBody::Starttls);
        let ok = round_trip(b"a002 OK \"Begin TLS negotiation now\"\r\n");
        assert_eq!(ok.status(), Some(Status::Ok));
        assert_eq!(ok.text(), Some(&b"Begin TLS negotiation now"[..]));
        let after = round_trip(b"* ACAP (SASL \"CRAM-MD5\" \"PLAIN\" \"EXTERNAL\")\r\n");
        let caps = after.capabilities().unwrap();
        assert!(!caps.has("STARTTLS") && caps.has_sasl("PLAIN") && caps.has_sasl("EXTERNAL"));
        // C: a003 AUTHENTICATE "PLAIN" {21+}
        // C: <NUL>tim<NUL>tanstaaftanstaaf
        let auth = command(b"a003 AUTHENTICATE \"PLAIN\" {21+}\r\n\0tim\0tanstaaftanstaaf\r\n");
        let CommandBody::Authenticate { mechanism, initial } = &auth.body else {
            panic!("not AUTHENTICATE");
        };
        assert_eq!(mechanism.as_bytes(), b"PLAIN");
        assert_eq!(
            initial.as_ref().unwrap().as_bytes(),
            b"\0tim\0tanstaaftanstaaf"
        );
    }

    #[test]
    fn rfc2595_transition_needed() {
        let no = round_trip(
            b"a001 NO (TRANSITION-NEEDED) \"Please change your password, or use TLS to login\"\r\n",
        );
        assert_eq!(no.status(), Some(Status::No));
        assert_eq!(no.code().unwrap().name.kind(), &CodeName::TransitionNeeded);
    }

    #[test]
    fn greetings() {
        let full = round_trip(
            b"* ACAP (IMPLEMENTATION \"ACME v3.5\") (STARTTLS) (SASL \"PLAIN\" \"CRAM-MD5\") (CONTEXTLIMIT \"200\")\r\n",
        );
        let caps = full.capabilities().unwrap();
        assert!(caps.has("implementation") && caps.has("STARTTLS") && caps.has("CONTEXTLIMIT"));
        assert!(caps.has_sasl("plain") && caps.has_sasl("CRAM-MD5"));
        round_trip(b"* ACAP\r\n");
        round_trip(b"* acap (sasl {5}\r\nPLAIN) (X-EXT NIL 12 (a \"b\" ()))\r\n");
        let lower = round_trip(b"* acap (sasl \"plain\")\r\n");
        assert!(lower.capabilities().unwrap().has_sasl("PLAIN"));
        assert!(lower.is_greeting());
    }

    #[test]
    fn other_responses() {
        round_trip(b"* BYE \"go away\"\r\n");
        round_trip(b"* ALERT \"server going down\"\r\n");
        round_trip(b"a1 BAD (X-FOO \"a\" 1) \"nope\"\r\n");
        let entry = round_trip(b"a5 ENTRY \"/addressbook/user/fred\" {3}\r\nabc\r\n");
        assert_eq!(entry.tag().unwrap().as_str(), "a5");
        assert!(matches!(entry.kind, ResponseKind::Data { .. }));
        round_trip(b"* LISTRIGHTS \"x\"\r\n");
        let challenge = round_trip(b"+ \"<1896.697170952@postoffice.reston.mci.net>\"\r\n");
        assert!(matches!(
            challenge.kind,
            ResponseKind::Continuation(AcapString::Quoted(_))
        ));
        round_trip(b"+ {5}\r\nhello\r\n");
        round_trip(b"a1 OK \"\"\n");
    }

    #[test]
    fn response_errors() {
        let err = |wire: &[u8]| Response::read(wire).unwrap_err();
        // The RFC 2595 example's sloppy unquoted text is refused.
        assert!(matches!(
            err(b"a003 OK CRAM-MD5 password initialized\r\n"),
            Error::Unexpected { offset: 8, .. }
        ));
        assert!(matches!(
            err(b"a1 OK\r\n"),
            Error::Unexpected { offset: 5, .. }
        ));
        assert!(matches!(
            err(b"a1 OK [ALERT] \"x\"\r\n"),
            Error::Unexpected { offset: 6, .. }
        ));
        assert!(matches!(
            err(b"a1 OK \"x\" y\r\n"),
            Error::Unexpected { offset: 9, .. }
        ));
        assert!(matches!(
            err(b"* ACAP (SASL  \"PLAIN\")\r\n"),
            Error::Unexpected { offset: 13, .. }
        ));
        assert!(matches!(
            err(b"* ACAP ()\r\n"),
            Error::Unexpected { offset: 8, .. }
        ));
        assert!(matches!(
            err(b"* ACAP (SASL \"x\"\r\n"),
            Error::Unexpected { offset: 16, .. }
        ));
        assert!(matches!(err(b"+\r\n"), Error::Unexpected { offset: 1, .. }));
        assert!(matches!(
            err(b"+ x\r\n"),
            Error::Unexpected { offset: 2, .. }
        ));
        assert_eq!(err(b"a1 OK \"a\rb\"\r\n"), Error::BareCr { offset: 8 });
        assert_eq!(
            err(b"abcdefghijabcdefghijabcdefghijabc OK \"x\"\r\n"),
            Error::TagTooLong { offset: 0 }
        );
        let deep = format!("* ACAP (X {}{})\r\n", "(".repeat(40), ")".repeat(40));
        assert!(matches!(err(deep.as_bytes()), Error::TooDeep { .. }));
        assert_eq!(err(b"* ACAP (SASL {5}\r\nPL"), Error::Incomplete);
    }

    #[test]
    fn commands() {
        command(b"a1 LOGOUT\r\n");
        command(b"a1 NOOP\n");
        assert_eq!(command(b"a1 starttls\r\n").name(), "starttls");
        command(b"a1 AUTHENTICATE \"CRAM-MD5\"\r\n");
        let unknown = command(b"a1 SEARCH \"/addressbook/\" DEPTH 3 RETURN (\"*\")\r\n");
        assert_eq!(unknown.name(), "SEARCH");
        assert_eq!(
            Command::read(b"a1 STARTTLS x1 NOOP\r\n").unwrap_err(),
            Error::UnexpectedArgument {
                offset: 12,
                command: "STARTTLS"
            }
        );
        assert!(matches!(
            Command::read(b"a1 AUTHENTICATE PLAIN\r\n"),
            Err(Error::Unexpected { offset: 16, .. })
        ));
        assert!(matches!(
            Command::read(b"a1 AUTHENTICATE \"PLAIN\" \"x\" \"y\"\r\n"),
            Err(Error::Unexpected { offset: 27, .. })
        ));
    }

    #[test]
    fn readers_see_injected_greeting() {
        // acap.client.inject.greeting-after-starttls-ok
        let mut reader = ResponseReader::new();
        reader.push(b"a1 OK \"Begin TLS negotiation now\"\r\n* ACAP (SASL \"PLAIN\")\r\n");
        assert_eq!(
            reader.next_response().unwrap().unwrap().status(),
            Some(Status::Ok)
        );
        assert_eq!(reader.buffered(), b"* ACAP (SASL \"PLAIN\")\r\n");
        assert_eq!(reader.take_buffered().len(), 23);
        assert_eq!(reader.next_response(), Ok(None));
        assert_eq!(reader.offset(), 58);

        let mut reader = CommandReader::new();
        reader
            .push(b"a1 AUTHENTICATE \"CRAM-MD5\"\r\n\"tim b913a602c7eda7a495b4e6e7334d3890\"\r\n");
        assert!(reader.next_command().unwrap().is_some());
        let answer = reader.next_continuation().unwrap().unwrap();
        assert_eq!(answer.as_bytes(), b"tim b913a602c7eda7a495b4e6e7334d3890");
    }
}
