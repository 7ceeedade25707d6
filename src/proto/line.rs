//! Line framing shared by the IMAP, POP3 and ACAP codecs, sans-IO: bytes are pushed in,
//! whole lines (or whole literal-carrying messages) come out, and nothing is ever read
//! from a socket.
//!
//! All three protocols end a line with CRLF:
//!
//! > All interactions transmitted by client and server are in the form of lines, that
//! > is, strings that end with a CRLF. (RFC 3501 §2.2; RFC 1939 §3 and RFC 2244 §2.2 say
//! > the same)
//!
//! A reader still has to cope with a bare LF, because that is exactly what the injection
//! tests send (CVE-2022-28220 was a parser differential on bare LF). So every [`Line`]
//! says how it ended ([`Ending`]), and the protocol codecs keep that ending so that a
//! bare LF survives a round trip and can be reported.
//!
//! Every buffer is bounded by [`Limits`]: a line longer than [`Limits::max_line`] is an
//! error carrying the offset where the line started, as is a literal longer than
//! [`Limits::max_literal`] or a message longer than [`Limits::max_message`].
//!
//! At a STARTTLS boundary anything the peer sent beyond the "begin TLS" line is a
//! finding (RFC 2595 §3.1: "A TLS negotiation begins immediately after the CRLF at the
//! end of the tagged OK response from the server"), so every reader lets the caller see
//! and take the bytes buffered beyond the last complete line
//! ([`LineFramer::buffered`], [`LineFramer::take_buffered`]).
//!
//! The module also holds [`Keyword`], the case-preserving protocol keyword the codecs
//! use so that `ok`, `Ok` and `OK` all mean [`OK`](crate::proto::imap::Status::Ok) yet
//! each re-encodes exactly as the peer spelled it.

use std::fmt;

use thiserror::Error;

/// Bounds on what a reader buffers for one line, one literal and one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line accepted, terminator included (default 64 KiB).
    pub max_line: usize,
    /// The largest literal (`{n}`) accepted (default 1 MiB).
    pub max_literal: usize,
    /// The largest whole message accepted: an IMAP/ACAP response or command with its
    /// literals, or a POP3 multi-line response (default 4 MiB).
    pub max_message: usize,
}

impl Limits {
    /// The defaults: 64 KiB lines, 1 MiB literals, 4 MiB messages.
    pub const DEFAULT: Self = Self {
        max_line: 64 * 1024,
        max_literal: 1024 * 1024,
        max_message: 4 * 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How a line ended on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ending {
    /// CR LF, as every one of the three protocols requires.
    #[default]
    Crlf,
    /// A bare LF: not allowed by the RFCs, but accepted by many parsers (and used by
    /// injection payloads), so it is read and reported instead of being hidden.
    Lf,
}

impl Ending {
    /// The terminator's octets.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Crlf => b"\r\n",
            Self::Lf => b"\n",
        }
    }

    /// Whether this is a bare LF.
    pub fn is_bare_lf(self) -> bool {
        self == Self::Lf
    }
}

/// One line read by a [`LineFramer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line's octets without its terminator.
    pub content: Vec<u8>,
    /// How the line ended.
    pub ending: Ending,
    /// Stream offset of the line's first octet.
    pub offset: usize,
}

impl Line {
    /// Appends the line and its terminator to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.content);
        out.extend_from_slice(self.ending.as_bytes());
    }

    /// The number of octets the line took on the wire.
    pub fn wire_len(&self) -> usize {
        self.content.len() + self.ending.as_bytes().len()
    }
}

/// Why bytes could not be framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A line (terminator included) is longer than the limit.
    #[error("the line starting at byte {offset} is longer than the limit of {limit} bytes")]
    LineTooLong {
        /// Offset of the line's first octet.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A literal announces more octets than the limit.
    #[error(
        "the literal announced at byte {offset} has {size} octets, more than the limit of {limit}"
    )]
    LiteralTooLarge {
        /// Offset of the literal's `{`.
        offset: usize,
        /// The announced size (saturated at `u64::MAX`).
        size: u64,
        /// The limit in force.
        limit: usize,
    },
    /// A whole message (with its literals, or a POP3 multi-line body) is longer than the
    /// limit.
    #[error("the message starting at byte {offset} is longer than the limit of {limit} bytes")]
    MessageTooLong {
        /// Offset of the message's first octet.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A literal announcement `{n}` ends in a bare LF instead of CRLF, so the literal's
    /// first octet cannot be located without guessing.
    #[error("the literal announced at byte {offset} is followed by a bare LF instead of CRLF")]
    BareLfAfterLiteral {
        /// Offset of the literal's `{`.
        offset: usize,
    },
}

impl FrameError {
    /// The stream offset the error points at.
    pub fn offset(&self) -> usize {
        match *self {
            Self::LineTooLong { offset, .. }
            | Self::LiteralTooLarge { offset, .. }
            | Self::MessageTooLong { offset, .. }
            | Self::BareLfAfterLiteral { offset } => offset,
        }
    }

    /// The same error with its offset moved by `base`.
    pub(crate) fn offset_by(self, base: usize) -> Self {
        match self {
            Self::LineTooLong { offset, limit } => Self::LineTooLong {
                offset: offset.saturating_add(base),
                limit,
            },
            Self::LiteralTooLarge {
                offset,
                size,
                limit,
            } => Self::LiteralTooLarge {
                offset: offset.saturating_add(base),
                size,
                limit,
            },
            Self::MessageTooLong { offset, limit } => Self::MessageTooLong {
                offset: offset.saturating_add(base),
                limit,
            },
            Self::BareLfAfterLiteral { offset } => Self::BareLfAfterLiteral {
                offset: offset.saturating_add(base),
            },
        }
    }
}

/// What a parser found where it expected something else: an octet, or the end of the
/// line. Its `Display` shows printable ASCII quoted and anything else in hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found(pub Option<u8>);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("the end of the line"),
            Some(b' ') => f.write_str("SP"),
            Some(b) if b.is_ascii_graphic() => write!(f, "'{}'", char::from(b)),
            Some(b) => write!(f, "octet 0x{b:02X}"),
        }
    }
}

/// A sans-IO line framer: push bytes in, pull whole lines out.
///
/// Incomplete input is not an error: [`next_line`](Self::next_line) returns `Ok(None)`
/// until a line feed arrives. A line longer than the limit is an error, and the error is
/// sticky: every later call returns it again.
#[derive(Clone, Debug)]
pub struct LineFramer {
    buf: StreamBuf,
    /// Bytes of the pending line already searched for LF.
    scanned: usize,
    max_line: usize,
    error: Option<FrameError>,
}

impl Default for LineFramer {
    fn default() -> Self {
        Self::new(&Limits::DEFAULT)
    }
}

impl LineFramer {
    /// A framer enforcing `limits.max_line`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            buf: StreamBuf::default(),
            scanned: 0,
            max_line: limits.max_line,
            error: None,
        }
    }

    /// Appends bytes received from the peer.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.push(data);
    }

    /// The next complete line, `Ok(None)` if no complete line is buffered yet.
    ///
    /// # Errors
    ///
    /// [`FrameError::LineTooLong`] once the pending line exceeds the limit (sticky).
    pub fn next_line(&mut self) -> Result<Option<Line>, FrameError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let input = self.buf.unread();
        let mut pos = self.scanned;
        match scan_line(input, 0, &mut pos, self.max_line) {
            Err(error) => {
                let error = error.offset_by(self.buf.offset());
                self.error = Some(error);
                Err(error)
            }
            Ok(None) => {
                self.scanned = pos;
                Ok(None)
            }
            Ok(Some(end)) => {
                let line = Line {
                    content: input.get(..end.content_end).unwrap_or_default().to_vec(),
                    ending: end.ending,
                    offset: self.buf.offset(),
                };
                self.buf.consume(end.len);
                self.scanned = 0;
                Ok(Some(line))
            }
        }
    }

    /// The bytes buffered beyond the last complete line.
    pub fn buffered(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete line, leaving the framer empty
    /// (its offset moves past them).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.scanned = 0;
        self.buf.take()
    }

    /// Stream offset of the next unread byte (bytes consumed or taken so far).
    pub fn offset(&self) -> usize {
        self.buf.offset()
    }
}

/// A protocol keyword whose meaning is case-insensitive but whose spelling is kept, so
/// that encoding gives back the peer's exact bytes.
///
/// ```
/// use mailtls::proto::imap::Status;
/// use mailtls::proto::line::Keyword;
///
/// let ok = Keyword::spelled(Status::Ok, "ok");
/// assert_eq!(ok.kind(), &Status::Ok);
/// assert_eq!(ok.as_str(), "ok");
/// assert_eq!(Keyword::new(Status::Ok).as_str(), "OK");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Keyword<K> {
    kind: K,
    /// The peer's spelling when it differs from the canonical one.
    spelling: Option<Box<str>>,
}

/// A keyword kind with a canonical (upper-case) spelling.
pub trait Canonical {
    /// The canonical spelling written by [`Keyword::new`].
    fn canonical(&self) -> &str;
}

impl<K: Canonical> Keyword<K> {
    /// The keyword in its canonical spelling.
    pub fn new(kind: K) -> Self {
        Self {
            kind,
            spelling: None,
        }
    }

    /// The keyword as `word` spells it. A `word` that is not a case variant of the
    /// canonical spelling is ignored (the canonical spelling is used).
    pub fn spelled(kind: K, word: &str) -> Self {
        let canonical = kind.canonical();
        let spelling = (word != canonical && word.eq_ignore_ascii_case(canonical))
            .then(|| Box::<str>::from(word));
        Self { kind, spelling }
    }

    /// The keyword as the ASCII bytes `word` spell it (a case variant of the canonical
    /// spelling); allocates only for a non-canonical spelling.
    pub(crate) fn from_ascii(kind: K, word: &[u8]) -> Self {
        let canonical = kind.canonical().as_bytes();
        let spelling = (word != canonical && word.eq_ignore_ascii_case(canonical))
            .then(|| ascii_string(word).into_boxed_str());
        Self { kind, spelling }
    }

    /// What the keyword means.
    pub fn kind(&self) -> &K {
        &self.kind
    }

    /// The keyword's meaning, consuming it.
    pub fn into_kind(self) -> K {
        self.kind
    }

    /// The keyword as written on the wire.
    pub fn as_str(&self) -> &str {
        match &self.spelling {
            Some(spelling) => spelling,
            None => self.kind.canonical(),
        }
    }

    /// Whether the keyword is spelled canonically (upper case).
    pub fn is_canonical(&self) -> bool {
        self.spelling.is_none()
    }
}

impl<K: Canonical> From<K> for Keyword<K> {
    fn from(kind: K) -> Self {
        Self::new(kind)
    }
}

// ---------------------------------------------------------------------------------------
// Crate-internal machinery shared by the codecs.
// ---------------------------------------------------------------------------------------

/// A set of octets as a 256-entry table: one lookup per byte instead of a chain of
/// compares (which also keeps fuzzing builds fast: a table lookup is not a traced
/// comparison).
#[derive(Clone, Copy)]
pub(crate) struct ByteSet([bool; 256]);

impl ByteSet {
    /// No octet.
    pub(crate) const EMPTY: Self = Self([false; 256]);

    /// The set plus the octets `lo..=hi`.
    pub(crate) const fn range(mut self, lo: u8, hi: u8) -> Self {
        let mut b = lo as usize;
        while b <= hi as usize {
            self.0[b] = true;
            b += 1;
        }
        self
    }

    /// The set plus `bytes`.
    pub(crate) const fn with(mut self, bytes: &[u8]) -> Self {
        let mut i = 0;
        while i < bytes.len() {
            self.0[bytes[i] as usize] = true;
            i += 1;
        }
        self
    }

    /// The set minus `bytes`.
    pub(crate) const fn without(mut self, bytes: &[u8]) -> Self {
        let mut i = 0;
        while i < bytes.len() {
            self.0[bytes[i] as usize] = false;
            i += 1;
        }
        self
    }

    /// Whether `b` is in the set.
    #[inline]
    pub(crate) fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

/// The base64 alphabet with its padding (RFC 4648 §4).
pub(crate) static BASE64: ByteSet = ByteSet::EMPTY
    .range(b'A', b'Z')
    .range(b'a', b'z')
    .range(b'0', b'9')
    .with(b"+/=");

/// LF.
static LF: ByteSet = ByteSet::EMPTY.with(b"\n");

/// What text may not hold: NUL, CR, LF.
static NOT_TEXT: ByteSet = ByteSet::EMPTY.with(b"\0\r\n");

/// A `String` of ASCII bytes (callers pass ASCII only; anything else would be replaced
/// lossily).
pub(crate) fn ascii_string(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// The first of `names` that `word` spells, case-insensitively.
pub(crate) fn find_keyword<K: Canonical + Clone>(names: &[K], word: &[u8]) -> Option<K> {
    names
        .iter()
        .find(|name| name.canonical().as_bytes().eq_ignore_ascii_case(word))
        .cloned()
}

/// A growable receive buffer that remembers how many bytes were consumed before it.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamBuf {
    buf: Vec<u8>,
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: usize,
}

impl StreamBuf {
    pub(crate) fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    pub(crate) fn unread(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.start);
        self.start += n;
        self.offset += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    pub(crate) fn take(&mut self) -> Vec<u8> {
        let rest = self.unread().to_vec();
        self.offset += rest.len();
        self.buf.clear();
        self.start = 0;
        rest
    }

    pub(crate) fn offset(&self) -> usize {
        self.offset
    }
}

/// Where a complete line or message ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct End {
    /// Bytes the line or message takes, terminator included.
    pub(crate) len: usize,
    /// End of the content (the terminator starts here).
    pub(crate) content_end: usize,
    /// The final terminator.
    pub(crate) ending: Ending,
}

/// Looks for the LF ending the line that starts at `line_start`, resuming at `*pos`
/// (nothing before `*pos` is an LF). Returns `Ok(None)` (with `*pos` advanced) when no
/// LF is buffered yet.
///
/// A line is too long when it has `max_line` octets and no LF yet, or ends beyond
/// `max_line` octets: both checks give the same error for the same stream, however it
/// is chunked.
pub(crate) fn scan_line(
    input: &[u8],
    line_start: usize,
    pos: &mut usize,
    max_line: usize,
) -> Result<Option<End>, FrameError> {
    let from = (*pos).max(line_start);
    let tail = input.get(from..).unwrap_or_default();
    match tail.iter().position(|&b| LF.contains(b)) {
        None => {
            *pos = input.len();
            if input.len().saturating_sub(line_start) >= max_line {
                return Err(FrameError::LineTooLong {
                    offset: line_start,
                    limit: max_line,
                });
            }
            Ok(None)
        }
        Some(i) => {
            let lf = from + i;
            *pos = lf;
            if lf + 1 - line_start > max_line {
                return Err(FrameError::LineTooLong {
                    offset: line_start,
                    limit: max_line,
                });
            }
            let (content_end, ending) =
                if lf > line_start && input.get(lf - 1).copied() == Some(b'\r') {
                    (lf - 1, Ending::Crlf)
                } else {
                    (lf, Ending::Lf)
                };
            Ok(Some(End {
                len: lf + 1,
                content_end,
                ending,
            }))
        }
    }
}

/// A literal announcement `{n}` or `{n+}` ending a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LiteralMark {
    /// Offset of the `{` (relative to the slice given to [`literal_suffix`]).
    pub(crate) start: usize,
    /// The announced size, saturated.
    pub(crate) size: u64,
    /// `{n+}` (LITERAL+, RFC 7888): the sender does not wait for a continuation.
    pub(crate) non_sync: bool,
    /// Whether the digits are canonical (no leading zero).
    pub(crate) canonical: bool,
}

/// The literal announcement `{digits}` or `{digits+}` at the very end of `line`, if any.
pub(crate) fn literal_suffix(line: &[u8]) -> Option<LiteralMark> {
    let body = line.strip_suffix(b"}")?;
    let (body, non_sync) = match body.strip_suffix(b"+") {
        Some(body) => (body, true),
        None => (body, false),
    };
    let digits_len = body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits_len == 0 {
        return None;
    }
    let brace = body.len().checked_sub(digits_len + 1)?;
    if body.get(brace).copied() != Some(b'{') {
        return None;
    }
    let digits = body.get(brace + 1..)?;
    let size = digits.iter().fold(0_u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(LiteralMark {
        start: brace,
        size,
        non_sync,
        canonical: digits.len() == 1 || digits.first().copied() != Some(b'0'),
    })
}

/// Resumable state of [`scan_literal_frame`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FrameScan {
    /// Start of the current physical line (after the last literal's data).
    line_start: usize,
    /// Scan position; beyond the input while a literal's data is still missing.
    pos: usize,
    /// Whether literals are recognised in this message, decided on its first line.
    literals: Option<bool>,
}

/// Finds the end of a message made of lines and `{n}` literals (IMAP, ACAP): a line
/// ending in `{n}` CRLF continues with `n` octets and then more of the message.
///
/// `literals` tells from the first line whether literals are recognised in this message
/// (an IMAP `* OK ... {5}` ends at its CRLF: status text has no literals).
/// Returns `Ok(None)` while the message is incomplete; `state` lets the next call
/// resume without rescanning.
pub(crate) fn scan_literal_frame(
    input: &[u8],
    state: &mut FrameScan,
    limits: &Limits,
    literals: impl Fn(&[u8]) -> bool,
) -> Result<Option<End>, FrameError> {
    loop {
        if state.pos > input.len() {
            return Ok(None);
        }
        let Some(end) = scan_line(input, state.line_start, &mut state.pos, limits.max_line)? else {
            return Ok(None);
        };
        if end.len > limits.max_message {
            return Err(FrameError::MessageTooLong {
                offset: 0,
                limit: limits.max_message,
            });
        }
        let line = input
            .get(state.line_start..end.content_end)
            .unwrap_or_default();
        let recognised = *state.literals.get_or_insert_with(|| literals(line));
        let mark = if recognised {
            literal_suffix(line)
        } else {
            None
        };
        let Some(mark) = mark else {
            return Ok(Some(end));
        };
        let mark_offset = state.line_start + mark.start;
        if end.ending == Ending::Lf {
            return Err(FrameError::BareLfAfterLiteral {
                offset: mark_offset,
            });
        }
        let size = usize::try_from(mark.size).unwrap_or(usize::MAX);
        if size > limits.max_literal {
            return Err(FrameError::LiteralTooLarge {
                offset: mark_offset,
                size: mark.size,
                limit: limits.max_literal,
            });
        }
        let data_end = end.len.saturating_add(size);
        if data_end > limits.max_message {
            return Err(FrameError::MessageTooLong {
                offset: 0,
                limit: limits.max_message,
            });
        }
        state.line_start = data_end;
        state.pos = data_end;
    }
}

/// A lexical problem found by the shared lexers; each codec maps it into its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LexError {
    /// A CR that is not part of CRLF (offset).
    BareCr(usize),
    /// A NUL octet outside literal data (offset).
    Nul(usize),
    /// An LF inside the content that does not follow a literal announcement (offset).
    BareLf(usize),
    /// A literal size with a leading zero (offset of the `{`).
    NonCanonicalLiteral(usize),
    /// Something else where the grammar wants `expected`.
    Unexpected {
        offset: usize,
        expected: &'static str,
        found: Found,
    },
}

impl LexError {
    fn unexpected(cursor: &Cursor<'_>, expected: &'static str) -> Self {
        Self::Unexpected {
            offset: cursor.pos(),
            expected,
            found: cursor.found(),
        }
    }
}

/// Checks message content kept verbatim (IMAP untagged data, unknown commands): outside
/// literal data there is no NUL, no bare CR, and every CRLF follows a literal
/// announcement whose data is then skipped.
pub(crate) fn check_raw(content: &[u8]) -> Result<(), LexError> {
    let mut i = 0;
    while let Some(rel) = content
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| NOT_TEXT.contains(b)))
    {
        let at = i + rel;
        match content.get(at).copied() {
            Some(0) => return Err(LexError::Nul(at)),
            Some(b'\n') => return Err(LexError::BareLf(at)),
            _ => {}
        }
        // A CR: legal only as the CRLF after a literal announcement.
        let mark = content.get(..at).and_then(literal_suffix);
        let lf_follows = content.get(at + 1).copied() == Some(b'\n');
        match mark {
            Some(mark) if lf_follows => {
                let size = usize::try_from(mark.size).unwrap_or(usize::MAX);
                i = at.saturating_add(2).saturating_add(size);
                if i > content.len() {
                    // The framer guarantees the data is there; be total anyway.
                    return Err(LexError::BareCr(at));
                }
            }
            _ => return Err(LexError::BareCr(at)),
        }
    }
    Ok(())
}

/// A byte cursor for the codecs' recursive-descent parsers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(crate) fn found(&self) -> Found {
        Found(self.peek())
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub(crate) fn bump(&mut self) {
        self.advance(1);
    }

    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.bytes.len());
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Consumes the longest run of bytes matching `pred`.
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().take_while(|&&b| pred(b)).count();
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    /// Consumes `n` bytes, or nothing if fewer remain.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let taken = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(taken)
    }

    /// Everything not consumed yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// Consumes everything.
    pub(crate) fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.bytes.len();
        rest
    }
}

/// Checks that text has no NUL, CR or LF; `from` is the text's offset, for the error.
pub(crate) fn check_text(bytes: &[u8], from: usize) -> Result<(), LexError> {
    match bytes.iter().position(|&b| NOT_TEXT.contains(b)) {
        None => Ok(()),
        Some(i) => Err(match bytes.get(i).copied() {
            Some(0) => LexError::Nul(from + i),
            Some(b'\n') => LexError::BareLf(from + i),
            _ => LexError::BareCr(from + i),
        }),
    }
}

/// Parses a quoted string (the cursor is on its opening quote) and returns its value.
/// `\"` and `\\` are the only escapes; NUL, CR and LF are refused.
///
/// > quoted = DQUOTE *QUOTED-CHAR DQUOTE (RFC 9051 §9; RFC 2244 §9 is the same)
pub(crate) fn parse_quoted(cursor: &mut Cursor<'_>) -> Result<Vec<u8>, LexError> {
    if !cursor.eat(b'"') {
        return Err(LexError::unexpected(cursor, "'\"'"));
    }
    let mut value = Vec::new();
    loop {
        match cursor.peek() {
            None => return Err(LexError::unexpected(cursor, "a closing '\"'")),
            Some(b'"') => {
                cursor.bump();
                return Ok(value);
            }
            Some(b'\\') => {
                cursor.bump();
                match cursor.peek() {
                    Some(b @ (b'"' | b'\\')) => {
                        value.push(b);
                        cursor.bump();
                    }
                    _ => {
                        return Err(LexError::unexpected(cursor, "'\"' or '\\' after '\\'"));
                    }
                }
            }
            Some(b'\r') => return Err(LexError::BareCr(cursor.pos())),
            Some(b'\n') => return Err(LexError::BareLf(cursor.pos())),
            Some(0) => return Err(LexError::Nul(cursor.pos())),
            Some(b) => {
                value.push(b);
                cursor.bump();
            }
        }
    }
}

/// Parses a literal (the cursor is on its `{`): `{n}` or `{n+}`, CRLF, `n` octets.
/// Returns the data and whether it was `{n+}`.
pub(crate) fn parse_literal(cursor: &mut Cursor<'_>) -> Result<(Vec<u8>, bool), LexError> {
    let start = cursor.pos();
    if !cursor.eat(b'{') {
        return Err(LexError::unexpected(cursor, "'{'"));
    }
    let digits = cursor.take_while(|b| b.is_ascii_digit());
    if digits.is_empty() {
        return Err(LexError::unexpected(cursor, "the literal's size"));
    }
    let non_sync = cursor.eat(b'+');
    if !cursor.eat(b'}') {
        return Err(LexError::unexpected(cursor, "'}'"));
    }
    if !(cursor.eat(b'\r') && cursor.eat(b'\n')) {
        return Err(LexError::unexpected(
            cursor,
            "CRLF after the literal's size",
        ));
    }
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return Err(LexError::NonCanonicalLiteral(start));
    }
    let size = digits.iter().fold(0_usize, |acc, &d| {
        acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    });
    match cursor.take(size) {
        Some(data) => Ok((data.to_vec(), non_sync)),
        None => Err(LexError::unexpected(cursor, "the literal's data")),
    }
}

/// Appends `value` as a quoted string, escaping `"` and `\\`.
pub(crate) fn encode_quoted(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Appends `data` as a literal: `{n}` (or `{n+}`), CRLF, the octets.
pub(crate) fn encode_literal(data: &[u8], non_sync: bool, out: &mut Vec<u8>) {
    out.push(b'{');
    out.extend_from_slice(data.len().to_string().as_bytes());
    if non_sync {
        out.push(b'+');
    }
    out.extend_from_slice(b"}\r\n");
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(framer: &mut LineFramer) -> Vec<Line> {
        let mut out = Vec::new();
        while let Some(line) = framer.next_line().unwrap() {
            out.push(line);
        }
        out
    }

    #[test]
    fn crlf_and_bare_lf_are_told_apart() {
        let mut framer = LineFramer::default();
        framer.push(b"A OK begin TLS\r\nB OK injected\nrest");
        let got = lines(&mut framer);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].content, b"A OK begin TLS");
        assert_eq!(got[0].ending, Ending::Crlf);
        assert_eq!(got[0].offset, 0);
        assert_eq!(got[1].content, b"B OK injected");
        assert_eq!(got[1].ending, Ending::Lf);
        assert_eq!(got[1].offset, 16);
        assert_eq!(framer.buffered(), b"rest");
        assert_eq!(framer.take_buffered(), b"rest");
        assert_eq!(framer.buffered(), b"");
        assert_eq!(framer.offset(), 34);
    }

    #[test]
    fn incomplete_input_is_not_an_error() {
        let mut framer = LineFramer::default();
        for b in b"+OK Begin TLS negotiation\r" {
            framer.push(&[*b]);
            assert_eq!(framer.next_line(), Ok(None));
        }
        framer.push(b"\n");
        let line = framer.next_line().unwrap().unwrap();
        assert_eq!(line.content, b"+OK Begin TLS negotiation");
        assert_eq!(line.wire_len(), 27);
        let mut out = Vec::new();
        line.encode(&mut out);
        assert_eq!(out, b"+OK Begin TLS negotiation\r\n");
    }

    #[test]
    fn cr_alone_is_content_and_an_empty_line_is_a_line() {
        let mut framer = LineFramer::default();
        framer.push(b"a\rb\r\n\r\n\n");
        let got = lines(&mut framer);
        assert_eq!(got[0].content, b"a\rb");
        assert_eq!(got[1].content, b"");
        assert_eq!(got[1].ending, Ending::Crlf);
        assert_eq!(got[2].content, b"");
        assert_eq!(got[2].ending, Ending::Lf);
    }

    #[test]
    fn line_limit_counts_the_terminator_and_is_sticky() {
        let limits = Limits {
            max_line: 5,
            ..Limits::DEFAULT
        };
        let mut framer = LineFramer::new(&limits);
        framer.push(b"abc\r\nabcd\r\n");
        assert_eq!(framer.next_line().unwrap().unwrap().content, b"abc");
        let err = framer.next_line().unwrap_err();
        assert_eq!(
            err,
            FrameError::LineTooLong {
                offset: 5,
                limit: 5
            }
        );
        assert_eq!(framer.next_line().unwrap_err(), err);
        assert_eq!(
            err.to_string(),
            "the line starting at byte 5 is longer than the limit of 5 bytes"
        );
    }

    #[test]
    fn an_overlong_partial_line_fails_before_its_lf_arrives() {
        let limits = Limits {
            max_line: 4,
            ..Limits::DEFAULT
        };
        let mut framer = LineFramer::new(&limits);
        framer.push(b"abc");
        assert_eq!(framer.next_line(), Ok(None));
        framer.push(b"d");
        assert!(matches!(
            framer.next_line(),
            Err(FrameError::LineTooLong { offset: 0, .. })
        ));
    }

    #[test]
    fn literal_suffixes() {
        let mark = literal_suffix(b"a LOGIN {5}").unwrap();
        assert_eq!((mark.start, mark.size, mark.non_sync), (8, 5, false));
        assert!(mark.canonical);
        let mark = literal_suffix(b"{12+}").unwrap();
        assert_eq!((mark.start, mark.size, mark.non_sync), (0, 12, true));
        assert!(!literal_suffix(b"{007}").unwrap().canonical);
        assert!(literal_suffix(b"{0}").unwrap().canonical);
        assert_eq!(literal_suffix(b"{}"), None);
        assert_eq!(literal_suffix(b"{+}"), None);
        assert_eq!(literal_suffix(b"5}"), None);
        assert_eq!(literal_suffix(b"12+}"), None);
        assert_eq!(literal_suffix(b"{5a}"), None);
        assert_eq!(
            literal_suffix(b"{99999999999999999999999}").unwrap().size,
            u64::MAX
        );
    }

    #[test]
    fn literal_frames_span_lines() {
        let input = b"* 1 FETCH (BODY[] {7}\r\nab\r\ncd\n)\r\nnext";
        let mut state = FrameScan::default();
        let end = scan_literal_frame(input, &mut state, &Limits::DEFAULT, |_| true)
            .unwrap()
            .unwrap();
        assert_eq!(end.len, input.len() - 4);
        assert_eq!(end.ending, Ending::Crlf);
        assert_eq!(check_raw(&input[..end.content_end]), Ok(()));
        // Byte by byte, resuming.
        let mut state = FrameScan::default();
        let mut got = None;
        for n in 1..=input.len() {
            got = scan_literal_frame(&input[..n], &mut state, &Limits::DEFAULT, |_| true).unwrap();
            if got.is_some() {
                break;
            }
        }
        assert_eq!(got, Some(end));
    }

    #[test]
    fn literal_frames_enforce_limits() {
        let limits = Limits {
            max_literal: 10,
            ..Limits::DEFAULT
        };
        let mut state = FrameScan::default();
        assert_eq!(
            scan_literal_frame(b"* X {11}\r\n", &mut state, &limits, |_| true),
            Err(FrameError::LiteralTooLarge {
                offset: 4,
                size: 11,
                limit: 10
            })
        );
        let mut state = FrameScan::default();
        assert_eq!(
            scan_literal_frame(b"* X {1}\nx\n", &mut state, &limits, |_| true),
            Err(FrameError::BareLfAfterLiteral { offset: 4 })
        );
        let mut state = FrameScan::default();
        let limits = Limits {
            max_message: 12,
            ..Limits::DEFAULT
        };
        assert_eq!(
            scan_literal_frame(b"* X {4}\r\n", &mut state, &limits, |_| true),
            Err(FrameError::MessageTooLong {
                offset: 0,
                limit: 12
            })
        );
        // Literals not recognised: the frame ends at the first line.
        let mut state = FrameScan::default();
        let end = scan_literal_frame(b"A OK {5}\r\nxx", &mut state, &limits, |_| false)
            .unwrap()
            .unwrap();
        assert_eq!(end.len, 10);
    }

    #[test]
    fn raw_content_checks() {
        assert_eq!(check_raw(b"3 EXISTS"), Ok(()));
        assert_eq!(check_raw(b"a\rb"), Err(LexError::BareCr(1)));
        assert_eq!(check_raw(b"a\0b"), Err(LexError::Nul(1)));
        assert_eq!(check_raw(b"x {2}\r\n\r\0 y"), Ok(()));
        assert_eq!(check_raw(b"x {9}\r\nab"), Err(LexError::BareCr(5)));
        assert_eq!(check_text(b"ok", 3), Ok(()));
        assert_eq!(check_text(b"o\rk", 3), Err(LexError::BareCr(4)));
    }

    #[test]
    fn found_displays_precisely() {
        assert_eq!(Found(None).to_string(), "the end of the line");
        assert_eq!(Found(Some(b' ')).to_string(), "SP");
        assert_eq!(Found(Some(b'[')).to_string(), "'['");
        assert_eq!(Found(Some(0x0d)).to_string(), "octet 0x0D");
    }

    #[test]
    fn stream_buf_compacts_and_counts() {
        let mut buf = StreamBuf::default();
        buf.push(b"abcdef");
        buf.consume(4);
        buf.push(b"gh");
        assert_eq!(buf.unread(), b"efgh");
        assert_eq!(buf.offset(), 4);
        buf.consume(100);
        assert_eq!(buf.unread(), b"");
        assert_eq!(buf.offset(), 8);
    }
}
