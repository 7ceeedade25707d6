//! POP3 codec (RFC 1939, RFC 2449 `CAPA` and response codes, RFC 5034 `AUTH`, RFC 2595
//! §4 `STLS`): server responses and client commands, both directions, sans-IO.
//!
//! - [`Response`]: `+OK`/`-ERR` with an optional `[RESP-CODE]` (RFC 2449 §8) and text,
//!   an optional multi-line body (dot-unstuffed), or a `+` SASL continuation.
//! - [`Command`]: `STLS`, `CAPA`, `USER`, `PASS`, `APOP`, `AUTH`, `STAT`, `LIST`, `UIDL`,
//!   `RETR`, `TOP`, `DELE`, `RSET`, `NOOP`, `QUIT`; anything else is kept as
//!   [`CommandBody::Unknown`]. Keywords are case-insensitive and keep their spelling.
//! - [`parse_capa`] and [`Response::capabilities`]: the capability list of a `CAPA` answer.
//! - [`ResponseReader`] and [`CommandReader`]: push bytes in, pull whole messages out.
//!
//! Whether a `+OK` starts a multi-line body depends on the command it answers, not on
//! the response, so the response reader has to be told ([`Expect`],
//! [`ResponseReader::expect`]):
//!
//! > Responses to certain commands are multi-line. In these cases, [...] after sending
//! > the first line of the response and a CRLF, any additional lines are sent, each
//! > terminated by a CRLF pair. When all lines of the response have been sent, a final
//! > line is sent, consisting of a termination octet (decimal code 046, ".") and a CRLF
//! > pair. (RFC 1939 §3)
//!
//! The codec is symmetric: for every input a reader accepts, `encode` gives back exactly
//! the bytes it consumed. A body line that starts with `.` but is not byte-stuffed cannot
//! be re-encoded, and is a server error anyway, so it is refused:
//!
//! > If any line of the multi-line response begins with the termination octet, the line
//! > is "byte-stuffed" by pre-pending the termination octet to that line of the
//! > response. (RFC 1939 §3)

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use thiserror::Error;

use crate::proto::capability::Capabilities;
use crate::proto::line::{
    BASE64, ByteSet, Cursor, End, Found, FrameError, LexError, Line, StreamBuf, ascii_string,
    check_text, scan_line,
};
pub use crate::proto::line::{Ending, Limits};

/// Reads one server response from the start of `input` (default [`Limits`]), as
/// multi-line after `+OK` when `expect` says so: the response and the number of octets
/// it took. Same as [`Response::read`].
///
/// # Errors
///
/// [`Error::Incomplete`] if `input` ends inside the response; otherwise an error naming
/// the offending offset.
pub fn read_response(input: &[u8], expect: Expect) -> Result<(Response, usize), Error> {
    Response::read(input, expect)
}

/// Reads one client command line from the start of `input` (default [`Limits`]). Same as
/// [`Command::read`].
///
/// # Errors
///
/// As [`read_response`].
pub fn read_command(input: &[u8]) -> Result<(Command, usize), Error> {
    Command::read(input)
}

/// Why bytes are not a well-formed POP3 message (or not one this codec can re-encode
/// exactly). Offsets count from the start of the input given to `read`, or from the
/// start of the stream for a reader.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the message does (one-shot reads only; a reader just waits).
    #[error("the input ends before the message does")]
    Incomplete,
    /// The bytes cannot be framed: a line or multi-line response is over its limit.
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
    /// A NUL octet in a status line or command.
    #[error("NUL octet at byte {offset}")]
    Nul {
        /// Offset of the NUL.
        offset: usize,
    },
    /// A body line starts with `.` without being byte-stuffed.
    #[error("the body line at byte {offset} starts with '.' but is not byte-stuffed")]
    UnstuffedLine {
        /// Offset of the line.
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
    /// A `CAPA` body line is not `capa-tag *(SP param)`.
    #[error("CAPA line {line} is malformed at column {column}")]
    BadCapability {
        /// Index of the body line (0 is the first line after `+OK`).
        line: usize,
        /// Offset within the line.
        column: usize,
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
    /// The byte offset the error points at (`None` for [`Error::Incomplete`] and
    /// [`Error::BadCapability`], which point into a body).
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Incomplete | Self::BadCapability { .. } => None,
            Self::Frame(error) => Some(error.offset()),
            Self::Unexpected { offset, .. }
            | Self::BareCr { offset }
            | Self::Nul { offset }
            | Self::UnstuffedLine { offset }
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
            Self::UnstuffedLine { offset } => Self::UnstuffedLine {
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
            other @ (Self::Incomplete | Self::BadCapability { .. }) => other,
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
            LexError::BareCr(offset) | LexError::BareLf(offset) => Self::BareCr { offset },
            LexError::Nul(offset) => Self::Nul { offset },
            // Not produced by the POP3 lexing (no literals, no quoted strings).
            LexError::NonCanonicalLiteral(offset) => Self::Unexpected {
                offset,
                expected: "no literal",
                found: Found(Some(b'{')),
            },
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

/// The status indicator.
///
/// > There are currently two status indicators: positive ("+OK") and negative ("-ERR").
/// > Servers MUST send the "+OK" and "-ERR" in upper case. (RFC 1939 §3)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `+OK`.
    Ok,
    /// `-ERR`.
    Err,
}

impl Status {
    /// The indicator's octets.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Ok => b"+OK",
            Self::Err => b"-ERR",
        }
    }
}

/// An RFC 2449 response code: `[IN-USE]`, `[SYS/PERM]`, `[AUTH]`, ...
///
/// > resp-code = "[" resp-level *("/" resp-level) "]" (RFC 2449 §8)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RespCode {
    /// The `/`-separated levels, as spelled (`["SYS", "PERM"]`).
    pub levels: Vec<String>,
}

impl RespCode {
    /// A code from its `/`-separated text (`"SYS/PERM"`).
    pub fn new(code: &str) -> Self {
        Self {
            levels: code.split('/').map(str::to_owned).collect(),
        }
    }

    /// Whether the code is `code` (case-insensitive, e.g. `"sys/perm"`).
    pub fn is(&self, code: &str) -> bool {
        let mut theirs = code.split('/');
        self.levels
            .iter()
            .all(|level| theirs.next().is_some_and(|t| t.eq_ignore_ascii_case(level)))
            && theirs.next().is_none()
    }

    /// Appends `[levels]`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, level) in self.levels.iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(level.as_bytes());
        }
        out.push(b']');
    }
}

/// One line of a multi-line body, unstuffed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BodyLine {
    /// The line's octets after dot-unstuffing, without the terminator.
    pub data: Vec<u8>,
    /// How the line ended.
    pub ending: Ending,
}

/// The body of a multi-line response: its lines and how the final `.` line ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MultiLine {
    /// The lines, unstuffed.
    pub lines: Vec<BodyLine>,
    /// How the terminating `.` line ended.
    pub end: Ending,
}

impl MultiLine {
    /// A body of CRLF-terminated `lines`.
    pub fn from_lines<L: AsRef<[u8]>>(lines: impl IntoIterator<Item = L>) -> Self {
        Self {
            lines: lines
                .into_iter()
                .map(|line| BodyLine {
                    data: line.as_ref().to_vec(),
                    ending: Ending::Crlf,
                })
                .collect(),
            end: Ending::Crlf,
        }
    }

    /// Appends the lines (byte-stuffed) and the terminating `.` line.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for line in &self.lines {
            if line.data.first() == Some(&b'.') {
                out.push(b'.');
            }
            out.extend_from_slice(&line.data);
            out.extend_from_slice(line.ending.as_bytes());
        }
        out.push(b'.');
        out.extend_from_slice(self.end.as_bytes());
    }
}

/// What a response says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// `+OK` or `-ERR`, with an optional code, text and multi-line body.
    ///
    /// `code` and `text` are `None` when absent: `+OK` has neither, `+OK ` has the
    /// empty text.
    Status {
        /// The status indicator.
        status: Status,
        /// The `[RESP-CODE]`, if any.
        code: Option<RespCode>,
        /// The text, if any (any octets but NUL, CR and LF).
        text: Option<Vec<u8>>,
        /// The body, for a `+OK` read as multi-line.
        body: Option<MultiLine>,
    },
    /// A SASL continuation: `+` alone (`None`), or `+ ` and base64 (RFC 5034 §4).
    Continuation(Option<Vec<u8>>),
}

/// One server response.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Response {
    /// What the response says.
    pub kind: ResponseKind,
    /// How the status line ended.
    pub ending: Ending,
}

/// Whether the pending command's `+OK` starts a multi-line body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Expect {
    /// A single line (the greeting, `STLS`, `USER`, ...).
    #[default]
    SingleLine,
    /// A multi-line body after `+OK` (`CAPA`, `LIST` and `UIDL` without argument,
    /// `RETR`, `TOP`).
    MultiLine,
}

impl Response {
    /// `+OK text` or `-ERR text`, single-line, ending in CRLF.
    pub fn status(status: Status, text: &str) -> Self {
        Self {
            kind: ResponseKind::Status {
                status,
                code: None,
                text: Some(text.as_bytes().to_vec()),
                body: None,
            },
            ending: Ending::Crlf,
        }
    }

    /// `+ base64(data)`.
    pub fn continuation(data: &[u8]) -> Self {
        Self {
            kind: ResponseKind::Continuation(Some(STANDARD.encode(data).into_bytes())),
            ending: Ending::Crlf,
        }
    }

    /// The same response with `code` set (status responses only).
    #[must_use]
    pub fn with_code(mut self, new: RespCode) -> Self {
        if let ResponseKind::Status { code, .. } = &mut self.kind {
            *code = Some(new);
        }
        self
    }

    /// The same response with a multi-line `body` (status responses only).
    #[must_use]
    pub fn with_body(mut self, new: MultiLine) -> Self {
        if let ResponseKind::Status { body, .. } = &mut self.kind {
            *body = Some(new);
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
    pub fn read(input: &[u8], expect: Expect) -> Result<(Self, usize), Error> {
        Self::read_with(input, expect, &Limits::DEFAULT)
    }

    /// [`Response::read`] with explicit limits.
    ///
    /// # Errors
    ///
    /// As [`Response::read`].
    pub fn read_with(
        input: &[u8],
        expect: Expect,
        limits: &Limits,
    ) -> Result<(Self, usize), Error> {
        let mut scan = Scan::default();
        match scan_response(input, &mut scan, limits, expect)? {
            None => Err(Error::Incomplete),
            Some(end) => Ok((parse_response(input, end)?, end.len)),
        }
    }

    /// Reads exactly one response: `input` must hold nothing else.
    ///
    /// # Errors
    ///
    /// As [`Response::read`], plus [`Error::TrailingData`].
    pub fn from_bytes(input: &[u8], expect: Expect) -> Result<Self, Error> {
        let (response, used) = Self::read(input, expect)?;
        match input.len() - used {
            0 => Ok(response),
            len => Err(Error::TrailingData { offset: used, len }),
        }
    }

    /// Appends the response's wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match &self.kind {
            ResponseKind::Status {
                status,
                code,
                text,
                body,
            } => {
                out.extend_from_slice(status.as_bytes());
                if let Some(code) = code {
                    out.push(b' ');
                    code.encode(out);
                }
                if let Some(text) = text {
                    out.push(b' ');
                    out.extend_from_slice(text);
                }
                out.extend_from_slice(self.ending.as_bytes());
                if let Some(body) = body {
                    body.encode(out);
                }
            }
            ResponseKind::Continuation(text) => {
                out.push(b'+');
                if let Some(text) = text {
                    out.push(b' ');
                    out.extend_from_slice(text);
                }
                out.extend_from_slice(self.ending.as_bytes());
            }
        }
    }

    /// Whether this is `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(
            self.kind,
            ResponseKind::Status {
                status: Status::Ok,
                ..
            }
        )
    }

    /// Whether this is `-ERR`.
    pub fn is_err(&self) -> bool {
        matches!(
            self.kind,
            ResponseKind::Status {
                status: Status::Err,
                ..
            }
        )
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&RespCode> {
        match &self.kind {
            ResponseKind::Status { code, .. } => code.as_ref(),
            ResponseKind::Continuation(_) => None,
        }
    }

    /// The text of a status line or continuation.
    pub fn text(&self) -> Option<&[u8]> {
        match &self.kind {
            ResponseKind::Status { text, .. } | ResponseKind::Continuation(text) => text.as_deref(),
        }
    }

    /// The multi-line body, if the response was read as multi-line.
    pub fn body(&self) -> Option<&MultiLine> {
        match &self.kind {
            ResponseKind::Status { body, .. } => body.as_ref(),
            ResponseKind::Continuation(_) => None,
        }
    }

    /// Whether this is a `+` continuation.
    pub fn is_continuation(&self) -> bool {
        matches!(self.kind, ResponseKind::Continuation(_))
    }

    /// A continuation's text decoded as strict base64 (`+` and `+ ` give an empty
    /// challenge); `None` if this is not a continuation or its text is not base64.
    pub fn continuation_data(&self) -> Option<Vec<u8>> {
        match &self.kind {
            ResponseKind::Continuation(None) => Some(Vec::new()),
            ResponseKind::Continuation(Some(text)) => STANDARD.decode(text).ok(),
            ResponseKind::Status { .. } => None,
        }
    }

    /// The capabilities of a `+OK` multi-line `CAPA` answer; `None` for anything else.
    ///
    /// # Errors
    ///
    /// [`Error::BadCapability`] if a line is not `capa-tag *(SP param)`.
    pub fn capabilities(&self) -> Option<Result<Capabilities, Error>> {
        match &self.kind {
            ResponseKind::Status {
                status: Status::Ok,
                body: Some(body),
                ..
            } => Some(parse_capa(body).map(|lines| capabilities(&lines))),
            _ => None,
        }
    }
}

/// One line of a `CAPA` answer.
///
/// > capability = capa-tag *(SP param) CRLF (RFC 2449 §9)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CapaLine {
    /// The capability tag, as spelled (`STLS`, `SASL`, `IMPLEMENTATION`).
    pub name: String,
    /// Its parameters, as spelled (`["PLAIN", "LOGIN"]` for `SASL PLAIN LOGIN`).
    pub params: Vec<String>,
}

/// Reads the lines of a `CAPA` body.
///
/// # Errors
///
/// [`Error::BadCapability`] naming the line and column where a line is not
/// `capa-tag *(SP param)` (printable ASCII, single SPs).
pub fn parse_capa(body: &MultiLine) -> Result<Vec<CapaLine>, Error> {
    body.lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let bad = |column: usize| Error::BadCapability {
                line: index,
                column,
            };
            let mut words = Vec::new();
            let mut column = 0;
            for word in line.data.split(|&b| b == b' ') {
                if word.is_empty() || !word.iter().all(|&b| matches!(b, 0x21..=0x7f)) {
                    let rel = word
                        .iter()
                        .position(|&b| !matches!(b, 0x21..=0x7f))
                        .unwrap_or(0);
                    return Err(bad(column + rel));
                }
                words.push(ascii_string(word));
                column += word.len() + 1;
            }
            let mut words = words.into_iter();
            let name = words.next().ok_or_else(|| bad(0))?;
            Ok(CapaLine {
                name,
                params: words.collect(),
            })
        })
        .collect()
}

/// The capability set of `CAPA` lines: every tag is a name; `SASL`'s parameters are
/// also SASL mechanisms.
pub fn capabilities(lines: &[CapaLine]) -> Capabilities {
    let mut caps = Capabilities::new();
    for line in lines {
        caps.insert_name(&line.name);
        if line.name.eq_ignore_ascii_case("SASL") {
            for mechanism in &line.params {
                caps.insert_sasl(mechanism);
            }
        }
    }
    caps
}

/// Resumable framing state of a response.
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    line_start: usize,
    pos: usize,
    /// Whether the response is multi-line, decided on its first line.
    multi: Option<bool>,
}

fn starts_multi_line(first: &[u8], expect: Expect) -> bool {
    expect == Expect::MultiLine && (first == b"+OK" || first.starts_with(b"+OK "))
}

/// Finds the end of the response at the start of `input`.
fn scan_response(
    input: &[u8],
    scan: &mut Scan,
    limits: &Limits,
    expect: Expect,
) -> Result<Option<End>, FrameError> {
    loop {
        let Some(end) = scan_line(input, scan.line_start, &mut scan.pos, limits.max_line)? else {
            return Ok(None);
        };
        if end.len > limits.max_message {
            return Err(FrameError::MessageTooLong {
                offset: 0,
                limit: limits.max_message,
            });
        }
        let line = input
            .get(scan.line_start..end.content_end)
            .unwrap_or_default();
        let multi = *scan
            .multi
            .get_or_insert_with(|| starts_multi_line(line, expect));
        let first = scan.line_start == 0;
        if !multi || (!first && line == b".") {
            return Ok(Some(end));
        }
        scan.line_start = end.len;
        scan.pos = end.len;
    }
}

/// Parses the response framed by `end` at the start of `input`.
fn parse_response(input: &[u8], end: End) -> Result<Response, Error> {
    let frame = input.get(..end.len).unwrap_or_default();
    let mut pos = 0;
    let first = scan_line(frame, 0, &mut pos, usize::MAX)?.ok_or(Error::Incomplete)?;
    let line = frame.get(..first.content_end).unwrap_or_default();
    let mut cursor = Cursor::new(line);
    let kind = if line.starts_with(b"+OK") || line.starts_with(b"-ERR") {
        let status = if line.starts_with(b"+OK") {
            Status::Ok
        } else {
            Status::Err
        };
        cursor.advance(status.as_bytes().len());
        let (code, text) = parse_tail(&mut cursor)?;
        let body = if first.len < frame.len() {
            Some(parse_body(frame, first.len)?)
        } else {
            None
        };
        ResponseKind::Status {
            status,
            code,
            text,
            body,
        }
    } else if cursor.eat(b'+') {
        if cursor.at_end() {
            ResponseKind::Continuation(None)
        } else if cursor.eat(b' ') {
            ResponseKind::Continuation(Some(take_text(&mut cursor)?))
        } else {
            return Err(Error::unexpected(
                &cursor,
                "\"OK\", SP or the end of the line after '+'",
            ));
        }
    } else {
        return Err(Error::unexpected(
            &cursor,
            "\"+OK\", \"-ERR\" or a '+' continuation",
        ));
    };
    Ok(Response {
        kind,
        ending: first.ending,
    })
}

fn parse_tail(cursor: &mut Cursor<'_>) -> Result<(Option<RespCode>, Option<Vec<u8>>), Error> {
    if cursor.at_end() {
        return Ok((None, None));
    }
    if !cursor.eat(b' ') {
        return Err(Error::unexpected(
            cursor,
            "SP or the end of the line after the status",
        ));
    }
    let code = match cursor.peek() {
        Some(b'[') => parse_code(cursor.rest()),
        _ => None,
    };
    if let Some((code, used)) = code {
        cursor.advance(used);
        if cursor.at_end() {
            return Ok((Some(code), None));
        }
        cursor.bump(); // the SP parse_code checked for
        return Ok((Some(code), Some(take_text(cursor)?)));
    }
    Ok((None, Some(take_text(cursor)?)))
}

/// `rchar`: printable ASCII except `/` and `]`.
///
/// > rchar = %x21-2E / %x30-5C / %x5E-7F (RFC 2449 §8)
static RCHAR: ByteSet = ByteSet::EMPTY
    .range(0x21, 0x2e)
    .range(0x30, 0x5c)
    .range(0x5e, 0x7f);

fn is_rchar(b: u8) -> bool {
    RCHAR.contains(b)
}

/// Reads `[level/level]` at the start of `rest` if it is a code followed by SP or the
/// end; anything else is text.
fn parse_code(rest: &[u8]) -> Option<(RespCode, usize)> {
    let close = rest.iter().position(|&b| b == b']')?;
    if !matches!(rest.get(close + 1), None | Some(b' ')) {
        return None;
    }
    let inner = rest.get(1..close)?;
    let mut levels = Vec::new();
    for level in inner.split(|&b| b == b'/') {
        if level.is_empty() || !level.iter().all(|&b| is_rchar(b)) {
            return None;
        }
        levels.push(ascii_string(level));
    }
    Some((RespCode { levels }, close + 1))
}

fn take_text(cursor: &mut Cursor<'_>) -> Result<Vec<u8>, Error> {
    let start = cursor.pos();
    let text = cursor.take_rest();
    check_text(text, start)?;
    Ok(text.to_vec())
}

/// Reads the body lines of `frame` from `start` up to and including the `.` line.
fn parse_body(frame: &[u8], start: usize) -> Result<MultiLine, Error> {
    let mut lines = Vec::new();
    let mut line_start = start;
    loop {
        let mut pos = line_start;
        let end = scan_line(frame, line_start, &mut pos, usize::MAX)?.ok_or(Error::Incomplete)?;
        let content = frame.get(line_start..end.content_end).unwrap_or_default();
        if content == b"." {
            return Ok(MultiLine {
                lines,
                end: end.ending,
            });
        }
        let data = match content.split_first() {
            Some((b'.', rest)) if rest.first() == Some(&b'.') => rest,
            Some((b'.', _)) => return Err(Error::UnstuffedLine { offset: line_start }),
            _ => content,
        };
        lines.push(BodyLine {
            data: data.to_vec(),
            ending: end.ending,
        });
        line_start = end.len;
    }
}

/// What a command asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommandBody {
    /// `STLS` (RFC 2595 §4): "Arguments: none".
    Stls,
    /// `CAPA` (RFC 2449).
    Capa,
    /// `USER name`; the name is the rest of the line.
    User(Vec<u8>),
    /// `PASS password`; the password is the rest of the line:
    ///
    /// > Since the PASS command has exactly one argument, a POP3 server may treat spaces
    /// > in the argument as part of the password, instead of as argument separators.
    /// > (RFC 1939 §7)
    Pass(Vec<u8>),
    /// `APOP name digest`.
    Apop {
        /// The mailbox name.
        name: String,
        /// The MD5 digest.
        digest: String,
    },
    /// `AUTH [mechanism [initial-response]]` (RFC 5034; bare `AUTH` lists mechanisms in
    /// the RFC 1734 style some servers keep).
    Auth {
        /// The SASL mechanism, as spelled.
        mechanism: Option<String>,
        /// The initial response as sent: base64, or `=` for an empty one.
        initial: Option<String>,
    },
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<String>),
    /// `UIDL [msg]`.
    Uidl(Option<String>),
    /// `RETR msg`.
    Retr(String),
    /// `TOP msg n`.
    Top {
        /// The message number.
        msg: String,
        /// How many body lines.
        lines: String,
    },
    /// `DELE msg`.
    Dele(String),
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// Any other command, its arguments verbatim.
    Unknown {
        /// The keyword, as spelled.
        name: String,
        /// The octets after the SP following the keyword, if any.
        args: Option<Vec<u8>>,
    },
}

impl CommandBody {
    /// The canonical (upper-case) keyword, or the spelled keyword of an unknown command.
    pub fn canonical_name(&self) -> &str {
        match self {
            Self::Stls => "STLS",
            Self::Capa => "CAPA",
            Self::User(_) => "USER",
            Self::Pass(_) => "PASS",
            Self::Apop { .. } => "APOP",
            Self::Auth { .. } => "AUTH",
            Self::Stat => "STAT",
            Self::List(_) => "LIST",
            Self::Uidl(_) => "UIDL",
            Self::Retr(_) => "RETR",
            Self::Top { .. } => "TOP",
            Self::Dele(_) => "DELE",
            Self::Rset => "RSET",
            Self::Noop => "NOOP",
            Self::Quit => "QUIT",
            Self::Unknown { name, .. } => name,
        }
    }

    /// What the answer to this command looks like after `+OK`.
    pub fn expects(&self) -> Expect {
        match self {
            Self::Capa
            | Self::List(None)
            | Self::Uidl(None)
            | Self::Retr(_)
            | Self::Top { .. }
            | Self::Auth {
                mechanism: None, ..
            } => Expect::MultiLine,
            _ => Expect::SingleLine,
        }
    }
}

/// One client command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    /// What the command asks for.
    pub body: CommandBody,
    /// How the line ended.
    pub ending: Ending,
    /// The keyword's spelling when it differs from the canonical one.
    spelling: Option<Box<str>>,
}

impl From<CommandBody> for Command {
    fn from(body: CommandBody) -> Self {
        Self::new(body)
    }
}

impl Command {
    /// `body` with the canonical keyword, ending in CRLF.
    pub fn new(body: CommandBody) -> Self {
        Self {
            body,
            ending: Ending::Crlf,
            spelling: None,
        }
    }

    /// The keyword as written on the wire.
    pub fn name(&self) -> &str {
        let canonical = self.body.canonical_name();
        match &self.spelling {
            Some(spelling) if spelling.eq_ignore_ascii_case(canonical) => spelling,
            _ => canonical,
        }
    }

    /// What the answer to this command looks like after `+OK`.
    pub fn expects(&self) -> Expect {
        self.body.expects()
    }

    /// Reads one command from the start of `input` with the default [`Limits`].
    ///
    /// # Errors
    ///
    /// [`Error::Incomplete`] if `input` holds no whole line; otherwise an error naming
    /// the offending offset.
    pub fn read(input: &[u8]) -> Result<(Self, usize), Error> {
        Self::read_with(input, &Limits::DEFAULT)
    }

    /// [`Command::read`] with explicit limits.
    ///
    /// # Errors
    ///
    /// As [`Command::read`].
    pub fn read_with(input: &[u8], limits: &Limits) -> Result<(Self, usize), Error> {
        let mut pos = 0;
        match scan_line(input, 0, &mut pos, limits.max_line)? {
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
        out.extend_from_slice(self.name().as_bytes());
        let mut arg = |bytes: &[u8]| {
            out.push(b' ');
            out.extend_from_slice(bytes);
        };
        match &self.body {
            CommandBody::Stls
            | CommandBody::Capa
            | CommandBody::Stat
            | CommandBody::Rset
            | CommandBody::Noop
            | CommandBody::Quit
            | CommandBody::List(None)
            | CommandBody::Uidl(None)
            | CommandBody::Auth {
                mechanism: None, ..
            }
            | CommandBody::Unknown { args: None, .. } => {}
            CommandBody::User(value) | CommandBody::Pass(value) => arg(value),
            CommandBody::Apop { name, digest } => {
                arg(name.as_bytes());
                arg(digest.as_bytes());
            }
            CommandBody::Auth {
                mechanism: Some(mechanism),
                initial,
            } => {
                arg(mechanism.as_bytes());
                if let Some(initial) = initial {
                    arg(initial.as_bytes());
                }
            }
            CommandBody::List(Some(msg))
            | CommandBody::Uidl(Some(msg))
            | CommandBody::Retr(msg)
            | CommandBody::Dele(msg) => arg(msg.as_bytes()),
            CommandBody::Top { msg, lines } => {
                arg(msg.as_bytes());
                arg(lines.as_bytes());
            }
            CommandBody::Unknown {
                args: Some(args), ..
            } => arg(args),
        }
        out.extend_from_slice(self.ending.as_bytes());
    }
}

/// Printable ASCII: a keyword or argument octet (RFC 1939 §3).
static TOKEN: ByteSet = ByteSet::EMPTY.range(0x21, 0x7e);

fn is_token_char(b: u8) -> bool {
    TOKEN.contains(b)
}

fn is_base64_char(b: u8) -> bool {
    BASE64.contains(b)
}

/// Parses the command line framed by `end` at the start of `input`.
fn parse_command(input: &[u8], end: End) -> Result<Command, Error> {
    let line = input.get(..end.content_end).unwrap_or_default();
    let mut cursor = Cursor::new(line);
    let name = cursor.take_while(is_token_char);
    if name.is_empty() {
        return Err(Error::unexpected(&cursor, "a command keyword"));
    }
    if !matches!(cursor.peek(), None | Some(b' ')) {
        return Err(Error::unexpected(
            &cursor,
            "SP or the end of the line after the keyword",
        ));
    }
    let is = |canonical: &str| name.eq_ignore_ascii_case(canonical.as_bytes());
    let cursor = &mut cursor;
    let body = match () {
        () if is("STLS") => no_arguments(cursor, CommandBody::Stls, "STLS")?,
        () if is("CAPA") => no_arguments(cursor, CommandBody::Capa, "CAPA")?,
        () if is("STAT") => no_arguments(cursor, CommandBody::Stat, "STAT")?,
        () if is("RSET") => no_arguments(cursor, CommandBody::Rset, "RSET")?,
        () if is("NOOP") => no_arguments(cursor, CommandBody::Noop, "NOOP")?,
        () if is("QUIT") => no_arguments(cursor, CommandBody::Quit, "QUIT")?,
        () if is("USER") => CommandBody::User(rest_argument(cursor, "SP before the user name")?),
        () if is("PASS") => CommandBody::Pass(rest_argument(cursor, "SP before the password")?),
        () if is("APOP") => {
            let name = token(cursor, "SP before the name")?;
            let digest = token(cursor, "SP before the digest")?;
            end_of_line(cursor)?;
            CommandBody::Apop { name, digest }
        }
        () if is("AUTH") => {
            let mechanism = optional_token(cursor)?;
            let initial = if mechanism.is_some() && cursor.eat(b' ') {
                let initial = cursor.take_while(is_base64_char);
                if initial.is_empty() {
                    return Err(Error::unexpected(
                        cursor,
                        "an initial response (base64 or '=')",
                    ));
                }
                Some(ascii_string(initial))
            } else {
                None
            };
            end_of_line(cursor)?;
            CommandBody::Auth { mechanism, initial }
        }
        () if is("LIST") => {
            let msg = optional_token(cursor)?;
            end_of_line(cursor)?;
            CommandBody::List(msg)
        }
        () if is("UIDL") => {
            let msg = optional_token(cursor)?;
            end_of_line(cursor)?;
            CommandBody::Uidl(msg)
        }
        () if is("RETR") => {
            let msg = token(cursor, "SP before the message number")?;
            end_of_line(cursor)?;
            CommandBody::Retr(msg)
        }
        () if is("DELE") => {
            let msg = token(cursor, "SP before the message number")?;
            end_of_line(cursor)?;
            CommandBody::Dele(msg)
        }
        () if is("TOP") => {
            let msg = token(cursor, "SP before the message number")?;
            let lines = token(cursor, "SP before the line count")?;
            end_of_line(cursor)?;
            CommandBody::Top { msg, lines }
        }
        _ => {
            let args = if cursor.eat(b' ') {
                let start = cursor.pos();
                let args = cursor.take_rest();
                check_text(args, start)?;
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
        body,
        ending: end.ending,
        spelling,
    })
}

fn no_arguments(
    cursor: &Cursor<'_>,
    body: CommandBody,
    command: &'static str,
) -> Result<CommandBody, Error> {
    if cursor.at_end() {
        Ok(body)
    } else {
        Err(Error::UnexpectedArgument {
            offset: cursor.pos() + 1,
            command,
        })
    }
}

/// SP then a token.
fn token(cursor: &mut Cursor<'_>, expected_sp: &'static str) -> Result<String, Error> {
    if !cursor.eat(b' ') {
        return Err(Error::unexpected(cursor, expected_sp));
    }
    let token = cursor.take_while(is_token_char);
    if token.is_empty() {
        return Err(Error::unexpected(cursor, "an argument (printable ASCII)"));
    }
    Ok(ascii_string(token))
}

/// Nothing, or SP then a token.
fn optional_token(cursor: &mut Cursor<'_>) -> Result<Option<String>, Error> {
    if cursor.at_end() {
        Ok(None)
    } else {
        token(cursor, "SP or the end of the line").map(Some)
    }
}

/// SP then the (non-empty) rest of the line.
fn rest_argument(cursor: &mut Cursor<'_>, expected_sp: &'static str) -> Result<Vec<u8>, Error> {
    if !cursor.eat(b' ') {
        return Err(Error::unexpected(cursor, expected_sp));
    }
    if cursor.at_end() {
        return Err(Error::unexpected(cursor, "an argument"));
    }
    let start = cursor.pos();
    let rest = cursor.take_rest();
    check_text(rest, start)?;
    Ok(rest.to_vec())
}

fn end_of_line(cursor: &Cursor<'_>) -> Result<(), Error> {
    if cursor.at_end() {
        Ok(())
    } else {
        Err(Error::unexpected(cursor, "the end of the line"))
    }
}

/// A sans-IO reader of server responses: push bytes in, queue what each pending
/// command expects, pull whole responses out.
///
/// The `n`-th final response (`+OK` or `-ERR`; continuations do not count) is read
/// with the `n`-th queued [`Expect`], or single-line when the queue is empty. A fresh
/// reader has nothing queued: if you queue an expectation before the greeting arrives,
/// queue [`Expect::SingleLine`] for the greeting first.
///
/// A malformed response is reported once and skipped (it uses up its expectation); a
/// framing error is sticky.
#[derive(Clone, Debug, Default)]
pub struct ResponseReader {
    buf: StreamBuf,
    scan: Scan,
    limits: Limits,
    expected: VecDeque<Expect>,
    error: Option<Error>,
}

impl ResponseReader {
    /// A reader with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader with explicit limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Queues what the next unanswered command expects.
    pub fn expect(&mut self, expect: Expect) {
        self.expected.push_back(expect);
    }

    /// Queues what `command` expects (call it when the command is sent).
    pub fn expect_reply_to(&mut self, command: &Command) {
        self.expect(command.expects());
    }

    /// Appends bytes received from the server.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.push(data);
    }

    /// The next whole response, `Ok(None)` if none is complete yet.
    ///
    /// # Errors
    ///
    /// A parse error for a malformed response (which is then skipped), or a sticky
    /// [`Error::Frame`]. Offsets count from the start of the stream.
    pub fn next_response(&mut self) -> Result<Option<Response>, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let base = self.buf.offset();
        let input = self.buf.unread();
        let expect = self.expected.front().copied().unwrap_or_default();
        match scan_response(input, &mut self.scan, &self.limits, expect) {
            Ok(None) => Ok(None),
            Err(error) => {
                let error = Error::Frame(error.offset_by(base));
                self.error = Some(error.clone());
                Err(error)
            }
            Ok(Some(end)) => {
                let parsed = parse_response(input, end).map_err(|e| e.offset_by(base));
                self.buf.consume(end.len);
                self.scan = Scan::default();
                if !matches!(&parsed, Ok(response) if response.is_continuation()) {
                    self.expected.pop_front();
                }
                parsed.map(Some)
            }
        }
    }

    /// The bytes buffered beyond the last complete response (after `+OK` to `STLS`:
    /// anything here arrived before the TLS handshake).
    pub fn buffered(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete response.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.scan = Scan::default();
        self.buf.take()
    }

    /// Stream offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.buf.offset()
    }
}

/// A sans-IO reader of client commands: push bytes in, pull whole command lines out.
///
/// [`next_line`](Self::next_line) reads one raw line instead: the client's answer to a
/// `+` continuation during `AUTH`. A malformed command is reported once and skipped; a
/// line over the limit is a sticky error.
#[derive(Clone, Debug, Default)]
pub struct CommandReader {
    buf: StreamBuf,
    scanned: usize,
    limits: Limits,
    error: Option<Error>,
}

impl CommandReader {
    /// A reader with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader with explicit limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Appends bytes received from the client.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.push(data);
    }

    /// The next whole command, `Ok(None)` if no whole line is buffered yet.
    ///
    /// # Errors
    ///
    /// A parse error for a malformed command (which is then skipped), or a sticky
    /// [`Error::Frame`]. Offsets count from the start of the stream.
    pub fn next_command(&mut self) -> Result<Option<Command>, Error> {
        let base = self.buf.offset();
        match self.next_end()? {
            None => Ok(None),
            Some(end) => {
                let parsed = parse_command(self.buf.unread(), end).map_err(|e| e.offset_by(base));
                self.buf.consume(end.len);
                parsed.map(Some)
            }
        }
    }

    /// The next raw line (a SASL continuation answer), `Ok(None)` if none is whole yet.
    ///
    /// # Errors
    ///
    /// A sticky [`Error::Frame`] if the line is over the limit.
    pub fn next_line(&mut self) -> Result<Option<Line>, Error> {
        let offset = self.buf.offset();
        match self.next_end()? {
            None => Ok(None),
            Some(end) => {
                let line = Line {
                    content: self
                        .buf
                        .unread()
                        .get(..end.content_end)
                        .unwrap_or_default()
                        .to_vec(),
                    ending: end.ending,
                    offset,
                };
                self.buf.consume(end.len);
                Ok(Some(line))
            }
        }
    }

    fn next_end(&mut self) -> Result<Option<End>, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let mut pos = self.scanned;
        match scan_line(self.buf.unread(), 0, &mut pos, self.limits.max_line) {
            Ok(None) => {
                self.scanned = pos;
                Ok(None)
            }
            Ok(Some(end)) => {
                self.scanned = 0;
                Ok(Some(end))
            }
            Err(error) => {
                let error = Error::Frame(error.offset_by(self.buf.offset()));
                self.error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// The bytes buffered beyond the last complete line (after `STLS`: anything here was
    /// pipelined in plaintext).
    pub fn buffered(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete line.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.scanned = 0;
        self.buf.take()
    }

    /// Stream offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.buf.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(wire: &[u8], expect: Expect) -> Response {
        let (response, used) = Response::read(wire, expect).unwrap();
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
    fn rfc2595_stls_examples() {
        // RFC 2595 §4:
        // C: STLS
        // S: +OK Begin TLS negotiation
        // C: STLS
        // S: -ERR Command not permitted when TLS active
        assert_eq!(command(b"STLS\r\n").body, CommandBody::Stls);
        let ok = round_trip(b"+OK Begin TLS negotiation\r\n", Expect::SingleLine);
        assert_eq!(ok, Response::status(Status::Ok, "Begin TLS negotiation"));
        let err = round_trip(
            b"-ERR Command not permitted when TLS active\r\n",
            Expect::SingleLine,
        );
        assert!(err.is_err());
        assert_eq!(
            err.text(),
            Some(&b"Command not permitted when TLS active"[..])
        );
    }

    #[test]
    fn stls_takes_no_argument() {
        assert_eq!(
            Command::read(b"STLS now\r\n").unwrap_err(),
            Error::UnexpectedArgument {
                offset: 5,
                command: "STLS"
            }
        );
    }

    #[test]
    fn status_lines_are_exact() {
        for wire in [
            &b"+OK\r\n"[..],
            b"+OK \r\n",
            b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
            b"-ERR [SYS/PERM] perm alert\r\n",
            b"-ERR [IN-USE]\r\n",
            b"+OK [in-use] odd case\r\n",
            b"-ERR [SYS//PERM] is text\r\n",
            b"-ERR [AUTH]x is text\r\n",
            b"-ERR [] is text\r\n",
            b"+OK  two spaces\n",
        ] {
            round_trip(wire, Expect::SingleLine);
        }
        let perm = round_trip(b"-ERR [SYS/PERM] perm alert\r\n", Expect::SingleLine);
        assert!(perm.code().unwrap().is(&"sys/perm".to_ascii_uppercase()));
        assert!(perm.code().unwrap().is("sys/perm"));
        assert!(!perm.code().unwrap().is("SYS"));
        assert_eq!(perm.code().unwrap().levels, ["SYS", "PERM"]);
        let text = round_trip(b"-ERR [AUTH]x is text\r\n", Expect::SingleLine);
        assert_eq!(text.code(), None);
    }

    #[test]
    fn status_errors() {
        let err = |wire: &[u8]| Response::read(wire, Expect::SingleLine).unwrap_err();
        assert!(matches!(
            err(b"+ok\r\n"),
            Error::Unexpected { offset: 1, .. }
        ));
        assert!(matches!(
            err(b"+OKAY\r\n"),
            Error::Unexpected { offset: 3, .. }
        ));
        assert!(matches!(
            err(b"PLAIN\r\n"),
            Error::Unexpected { offset: 0, .. }
        ));
        assert!(matches!(
            err(b"-err x\r\n"),
            Error::Unexpected { offset: 0, .. }
        ));
        assert_eq!(err(b"+OK a\rb\r\n"), Error::BareCr { offset: 5 });
        assert_eq!(err(b"+OK a\0b\r\n"), Error::Nul { offset: 5 });
        assert_eq!(err(b"+OK"), Error::Incomplete);
    }

    #[test]
    fn continuations() {
        let empty = round_trip(b"+ \r\n", Expect::SingleLine);
        assert_eq!(empty.continuation_data(), Some(Vec::new()));
        let bare = round_trip(b"+\r\n", Expect::MultiLine);
        assert!(bare.is_continuation());
        let challenge = round_trip(b"+ PDE4OTY+\r\n", Expect::SingleLine);
        assert_eq!(challenge.continuation_data().unwrap(), b"<1896>");
        let mut out = Vec::new();
        Response::continuation(b"<1896>").encode(&mut out);
        assert_eq!(out, b"+ PDE4OTY+\r\n");
    }

    #[test]
    fn capa_body_with_stls_and_sasl() {
        let wire = b"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\nPIPELINING\r\nIMPLEMENTATION Dovecot (Ubuntu)\r\nX-FOO\r\n.\r\n";
        let capa = round_trip(wire, Expect::MultiLine);
        let caps = capa.capabilities().unwrap().unwrap();
        for name in [
            "STLS",
            "USER",
            "TOP",
            "PIPELINING",
            "IMPLEMENTATION",
            "X-FOO",
            "SASL",
        ] {
            assert!(caps.has(name), "{name}");
        }
        assert!(caps.has_sasl("PLAIN") && caps.has_sasl("LOGIN"));
        let lines = parse_capa(capa.body().unwrap()).unwrap();
        assert_eq!(lines[5].name, "IMPLEMENTATION");
        assert_eq!(lines[5].params, ["Dovecot", "(Ubuntu)"]);
        // The same bytes read single-line: only the status line.
        let (single, used) = Response::read(wire, Expect::SingleLine).unwrap();
        assert_eq!(used, 29);
        assert_eq!(single.capabilities(), None);
    }

    #[test]
    fn capa_errors_name_line_and_column() {
        let body = MultiLine::from_lines(["STLS", "SASL  PLAIN", ""]);
        assert_eq!(
            parse_capa(&body),
            Err(Error::BadCapability { line: 1, column: 5 })
        );
        let body = MultiLine::from_lines([""]);
        assert_eq!(
            parse_capa(&body),
            Err(Error::BadCapability { line: 0, column: 0 })
        );
    }

    #[test]
    fn dot_stuffing() {
        let wire = b"+OK 120 octets\r\n..hidden\r\n...\r\nplain\r\n\r\n.\r\n";
        let retr = round_trip(wire, Expect::MultiLine);
        let body = retr.body().unwrap();
        assert_eq!(body.lines[0].data, b".hidden");
        assert_eq!(body.lines[1].data, b"..");
        assert_eq!(body.lines[3].data, b"");
        assert!(matches!(
            Response::read(b"+OK\r\n.x\r\n.\r\n", Expect::MultiLine),
            Err(Error::UnstuffedLine { offset: 5 })
        ));
        round_trip(b"+OK\n.\n", Expect::MultiLine);
        round_trip(b"+OK\r\nbare lf\n.\r\n", Expect::MultiLine);
    }

    #[test]
    fn err_is_single_line_even_when_multi_line_is_expected() {
        let (err, used) =
            Response::read(b"-ERR no such command\r\nTOP\r\n.\r\n", Expect::MultiLine).unwrap();
        assert!(err.is_err());
        assert_eq!(used, 22);
    }

    #[test]
    fn injected_capa_after_stls_ok_is_visible() {
        // pop3.client.inject.response-after-stls-ok: the +OK and a fake CAPA answer in
        // one segment.
        let mut reader = ResponseReader::new();
        reader.push(b"+OK Begin fake TLS negotiation now.\r\n+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
        assert!(reader.next_response().unwrap().unwrap().is_ok());
        assert_eq!(reader.buffered(), b"+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
    }

    #[test]
    fn reader_follows_the_expectation_queue() {
        let mut reader = ResponseReader::new();
        reader.expect(Expect::SingleLine); // greeting
        reader.expect_reply_to(&Command::new(CommandBody::Capa));
        reader.expect_reply_to(&Command::new(CommandBody::Stls));
        let wire = b"+OK ready\r\n+OK\r\nSTLS\r\n.\r\n+OK Begin TLS negotiation\r\n";
        let mut got = Vec::new();
        for chunk in wire.chunks(3) {
            reader.push(chunk);
            while let Some(response) = reader.next_response().unwrap() {
                got.push(response);
            }
        }
        assert_eq!(got.len(), 3);
        assert!(got[1].capabilities().unwrap().unwrap().has("STLS"));
        assert_eq!(got[2].body(), None);
    }

    #[test]
    fn reader_continuations_do_not_use_up_expectations() {
        let mut reader = ResponseReader::new();
        reader.expect(Expect::SingleLine); // AUTH PLAIN
        reader.expect(Expect::MultiLine); // CAPA
        reader.push(b"+ \r\n+OK done\r\n+OK\r\nUSER\r\n.\r\n");
        assert!(reader.next_response().unwrap().unwrap().is_continuation());
        assert!(reader.next_response().unwrap().unwrap().body().is_none());
        assert!(reader.next_response().unwrap().unwrap().body().is_some());
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_line: 10,
            max_literal: 0,
            max_message: 20,
        };
        assert!(matches!(
            Response::read_with(b"+OK 0123456789\r\n", Expect::SingleLine, &limits),
            Err(Error::Frame(FrameError::LineTooLong { offset: 0, .. }))
        ));
        assert!(matches!(
            Response::read_with(
                b"+OK\r\n12345\r\n12345\r\n12345\r\n.\r\n",
                Expect::MultiLine,
                &limits
            ),
            Err(Error::Frame(FrameError::MessageTooLong { offset: 0, .. }))
        ));
    }

    #[test]
    fn commands() {
        command(b"CAPA\r\n");
        assert_eq!(command(b"capa\r\n").name(), "capa");
        assert_eq!(
            command(b"USER fred\r\n").body,
            CommandBody::User(b"fred".to_vec())
        );
        assert_eq!(
            command(b"PASS secret with spaces\r\n").body,
            CommandBody::Pass(b"secret with spaces".to_vec())
        );
        assert_eq!(
            command(b"AUTH PLAIN AHZhbGlkdXNlcgB2YWxpZHB3\r\n").body,
            CommandBody::Auth {
                mechanism: Some("PLAIN".into()),
                initial: Some("AHZhbGlkdXNlcgB2YWxpZHB3".into())
            }
        );
        let auth = command(b"AUTH\r\n");
        assert_eq!(auth.expects(), Expect::MultiLine);
        command(b"AUTH PLAIN =\r\n");
        assert_eq!(command(b"LIST\r\n").expects(), Expect::MultiLine);
        assert_eq!(command(b"LIST 1\r\n").expects(), Expect::SingleLine);
        assert_eq!(command(b"UIDL\r\n").expects(), Expect::MultiLine);
        assert_eq!(command(b"RETR 1\r\n").expects(), Expect::MultiLine);
        assert_eq!(command(b"TOP 1 10\r\n").expects(), Expect::MultiLine);
        assert_eq!(command(b"STAT\r\n").expects(), Expect::SingleLine);
        command(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
        command(b"DELE 1\r\n");
        command(b"RSET\r\n");
        command(b"NOOP\r\n");
        command(b"QUIT\n");
        let unknown = command(b"XTND XMIT\r\n");
        assert_eq!(
            unknown.body,
            CommandBody::Unknown {
                name: "XTND".into(),
                args: Some(b"XMIT".to_vec())
            }
        );
    }

    #[test]
    fn command_errors() {
        let err = |wire: &[u8]| Command::read(wire).unwrap_err();
        assert!(matches!(
            err(b"USER\r\n"),
            Error::Unexpected { offset: 4, .. }
        ));
        assert!(matches!(
            err(b"USER \r\n"),
            Error::Unexpected { offset: 5, .. }
        ));
        assert!(matches!(
            err(b"RETR\r\n"),
            Error::Unexpected { offset: 4, .. }
        ));
        assert!(matches!(
            err(b"RETR 1 2\r\n"),
            Error::Unexpected { offset: 6, .. }
        ));
        assert!(matches!(
            err(b"LIST  1\r\n"),
            Error::Unexpected { offset: 5, .. }
        ));
        assert!(matches!(
            err(b" STAT\r\n"),
            Error::Unexpected { offset: 0, .. }
        ));
        assert!(matches!(
            err(b"AUTH PLAIN a*\r\n"),
            Error::Unexpected { offset: 12, .. }
        ));
        assert_eq!(err(b"PASS a\rb\r\n"), Error::BareCr { offset: 6 });
        assert_eq!(err(b"QUIT"), Error::Incomplete);
    }

    #[test]
    fn command_reader_sees_pipelined_injection() {
        // pop3.server.stls.pipelined-command-injection: `STLS\r\nCAPA\r\n`.
        let mut reader = CommandReader::new();
        reader.push(b"STLS\r\nCAPA\r\n");
        assert_eq!(
            reader.next_command().unwrap().unwrap().body,
            CommandBody::Stls
        );
        assert_eq!(reader.buffered(), b"CAPA\r\n");
        reader.push(b"AHUAcA==\r\n");
        assert_eq!(
            reader.next_command().unwrap().unwrap().body,
            CommandBody::Capa
        );
        let line = reader.next_line().unwrap().unwrap();
        assert_eq!(line.content, b"AHUAcA==");
        assert_eq!(line.offset, 12);
        assert_eq!(reader.next_line(), Ok(None));
    }
}
