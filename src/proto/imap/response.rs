//! IMAP server responses: status responses (tagged and untagged), `* CAPABILITY`,
//! other untagged data, continuations, and the reader that frames them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Error, Tag, is_atom_char, is_tag_char};
use crate::proto::capability::Capabilities;
use crate::proto::line::{
    Canonical, Cursor, End, Ending, FrameScan, Keyword, Limits, StreamBuf, ascii_string, check_raw,
    check_text, find_keyword, scan_literal_frame,
};

/// A status condition: what a tagged response or an untagged status response says.
///
/// > resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
/// > resp-cond-auth  = ("OK" / "PREAUTH") SP resp-text
/// > resp-cond-bye   = "BYE" SP resp-text (RFC 9051 §9)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `PREAUTH` (greeting only): the connection is already authenticated.
    Preauth,
    /// `BYE`: the server is closing the connection.
    Bye,
    /// Any other atom after a tag (`A1 XYZZY ...`), kept for the model to judge.
    Other(String),
}

impl Status {
    fn classify(word: &[u8]) -> Option<Self> {
        find_keyword(
            &[Self::Ok, Self::No, Self::Bad, Self::Preauth, Self::Bye],
            word,
        )
    }
}

impl Canonical for Status {
    fn canonical(&self) -> &str {
        match self {
            Self::Ok => "OK",
            Self::No => "NO",
            Self::Bad => "BAD",
            Self::Preauth => "PREAUTH",
            Self::Bye => "BYE",
            Self::Other(word) => word,
        }
    }
}

/// The `CAPABILITY` keyword of a `* CAPABILITY` response (its only spelling variants
/// are case variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CapabilityKeyword;

impl Canonical for CapabilityKeyword {
    fn canonical(&self) -> &str {
        "CAPABILITY"
    }
}

/// A response code's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CodeName {
    /// `ALERT`: the text must be shown to the user (RFC 9051 §7.1; RFC 9051 §11.3 says a
    /// client SHOULD ignore it until TLS is active).
    Alert,
    /// `CAPABILITY`: the arguments are capability atoms.
    Capability,
    /// `PARSE`.
    Parse,
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`.
    TryCreate,
    /// `REFERRAL` (RFC 2221).
    Referral,
    /// Any other code, as spelled.
    Other(String),
}

impl CodeName {
    fn classify(word: &[u8]) -> Self {
        const KNOWN: &[CodeName] = &[
            CodeName::Alert,
            CodeName::Capability,
            CodeName::Parse,
            CodeName::ReadOnly,
            CodeName::ReadWrite,
            CodeName::TryCreate,
            CodeName::Referral,
        ];
        find_keyword(KNOWN, word).unwrap_or_else(|| Self::Other(ascii_string(word)))
    }
}

impl Canonical for CodeName {
    fn canonical(&self) -> &str {
        match self {
            Self::Alert => "ALERT",
            Self::Capability => "CAPABILITY",
            Self::Parse => "PARSE",
            Self::ReadOnly => "READ-ONLY",
            Self::ReadWrite => "READ-WRITE",
            Self::TryCreate => "TRYCREATE",
            Self::Referral => "REFERRAL",
            Self::Other(word) => word,
        }
    }
}

/// A response code: `[name]` or `[name SP args]`.
///
/// > resp-text-code = "ALERT" / ... / capability-data / ... /
/// > atom [SP 1*<any TEXT-CHAR except "]">] (RFC 9051 §9)
///
/// The arguments are kept verbatim; [`Code::atoms`] reads them as capability atoms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// The code's name.
    pub name: Keyword<CodeName>,
    /// The octets after the SP following the name, if there is an SP.
    pub args: Option<Vec<u8>>,
}

impl Code {
    /// `[ALERT]`.
    pub fn alert() -> Self {
        Self {
            name: Keyword::new(CodeName::Alert),
            args: None,
        }
    }

    /// `[CAPABILITY atom ...]`.
    pub fn capability<S: AsRef<str>>(atoms: impl IntoIterator<Item = S>) -> Self {
        let args = join_atoms(atoms);
        Self {
            name: Keyword::new(CodeName::Capability),
            args: (!args.is_empty()).then_some(args),
        }
    }

    /// Whether this is `[ALERT]` (in any case).
    pub fn is_alert(&self) -> bool {
        *self.name.kind() == CodeName::Alert
    }

    /// The arguments split at SP (capability atoms for a `CAPABILITY` code).
    pub fn atoms(&self) -> impl Iterator<Item = &str> {
        self.args
            .as_deref()
            .unwrap_or_default()
            .split(|&b| b == b' ')
            .filter(|atom| !atom.is_empty())
            .map(|atom| std::str::from_utf8(atom).unwrap_or_default())
    }

    /// Appends `[name args]`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        out.extend_from_slice(self.name.as_str().as_bytes());
        if let Some(args) = &self.args {
            out.push(b' ');
            out.extend_from_slice(args);
        }
        out.push(b']');
    }
}

fn join_atoms<S: AsRef<str>>(atoms: impl IntoIterator<Item = S>) -> Vec<u8> {
    let mut out = Vec::new();
    for atom in atoms {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(atom.as_ref().as_bytes());
    }
    out
}

/// What a response says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// A status response: tagged (`tag OK ...`) or untagged (`* OK ...`, `* PREAUTH
    /// ...`, `* BYE ...`).
    ///
    /// `code` and `text` are `None` when absent: `A1 OK` has neither, `A1 OK ` has the
    /// empty text, `A1 OK [ALERT]` has a code and no text.
    Status {
        /// The tag, `None` for `*`.
        tag: Option<Tag>,
        /// The status keyword.
        status: Keyword<Status>,
        /// The `[code]`, if any.
        code: Option<Code>,
        /// The human-readable text, if any (any octets but NUL, CR and LF).
        text: Option<Vec<u8>>,
    },
    /// `* CAPABILITY atom ...`.
    Capability {
        /// The `CAPABILITY` keyword as spelled.
        keyword: Keyword<CapabilityKeyword>,
        /// The capability atoms, in order, as spelled.
        atoms: Vec<String>,
    },
    /// Any other untagged response (`* 3 EXISTS`, `* LIST (...) "/" x`, `* 1 FETCH (...)`),
    /// kept verbatim after `* `, literals included.
    Data(Vec<u8>),
    /// A continuation request: `+` alone (`None`), or `+ ` followed by text or base64.
    Continuation(Option<Vec<u8>>),
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

    /// `tag status text` (no code).
    pub fn tagged(tag: Tag, status: Status, text: &str) -> Self {
        Self::new(ResponseKind::Status {
            tag: Some(tag),
            status: Keyword::new(status),
            code: None,
            text: Some(text.as_bytes().to_vec()),
        })
    }

    /// `* status text` (no code).
    pub fn untagged(status: Status, text: &str) -> Self {
        Self::new(ResponseKind::Status {
            tag: None,
            status: Keyword::new(status),
            code: None,
            text: Some(text.as_bytes().to_vec()),
        })
    }

    /// `* CAPABILITY atom ...`.
    pub fn capability<S: AsRef<str>>(atoms: impl IntoIterator<Item = S>) -> Self {
        Self::new(ResponseKind::Capability {
            keyword: Keyword::new(CapabilityKeyword),
            atoms: atoms.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        })
    }

    /// `+ text`.
    pub fn continuation(text: &[u8]) -> Self {
        Self::new(ResponseKind::Continuation(Some(text.to_vec())))
    }

    /// The same response with `code` set (status responses only; others are returned
    /// unchanged).
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
        match scan_literal_frame(input, &mut scan, limits, response_has_literals)? {
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
            ResponseKind::Status {
                tag,
                status,
                code,
                text,
            } => {
                match tag {
                    Some(tag) => out.extend_from_slice(tag.as_str().as_bytes()),
                    None => out.push(b'*'),
                }
                out.push(b' ');
                out.extend_from_slice(status.as_str().as_bytes());
                encode_tail(code.as_ref(), text.as_deref(), out);
            }
            ResponseKind::Capability { keyword, atoms } => {
                out.extend_from_slice(b"* ");
                out.extend_from_slice(keyword.as_str().as_bytes());
                for atom in atoms {
                    out.push(b' ');
                    out.extend_from_slice(atom.as_bytes());
                }
            }
            ResponseKind::Data(raw) => {
                out.extend_from_slice(b"* ");
                out.extend_from_slice(raw);
            }
            ResponseKind::Continuation(text) => {
                out.push(b'+');
                if let Some(text) = text {
                    out.push(b' ');
                    out.extend_from_slice(text);
                }
            }
        }
        out.extend_from_slice(self.ending.as_bytes());
    }

    /// The tag of a tagged status response.
    pub fn tag(&self) -> Option<&Tag> {
        match &self.kind {
            ResponseKind::Status { tag, .. } => tag.as_ref(),
            _ => None,
        }
    }

    /// The status of a status response.
    pub fn status(&self) -> Option<&Status> {
        match &self.kind {
            ResponseKind::Status { status, .. } => Some(status.kind()),
            _ => None,
        }
    }

    /// The response code of a status response.
    pub fn code(&self) -> Option<&Code> {
        match &self.kind {
            ResponseKind::Status { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    /// The text of a status response or continuation.
    pub fn text(&self) -> Option<&[u8]> {
        match &self.kind {
            ResponseKind::Status { text, .. } | ResponseKind::Continuation(text) => text.as_deref(),
            _ => None,
        }
    }

    /// Whether this is a `+` continuation request.
    pub fn is_continuation(&self) -> bool {
        matches!(self.kind, ResponseKind::Continuation(_))
    }

    /// A continuation's text decoded as strict base64 (`+ ` and `+` give an empty
    /// challenge); `None` if this is not a continuation or its text is not base64.
    pub fn continuation_data(&self) -> Option<Vec<u8>> {
        match &self.kind {
            ResponseKind::Continuation(None) => Some(Vec::new()),
            ResponseKind::Continuation(Some(text)) => STANDARD.decode(text).ok(),
            _ => None,
        }
    }

    /// The capabilities this response advertises: the atoms of `* CAPABILITY`, or of a
    /// `[CAPABILITY ...]` code in any status response (a greeting, `PREAUTH`, a tagged
    /// `OK`). `None` when it advertises none.
    pub fn capabilities(&self) -> Option<Capabilities> {
        let mut caps = Capabilities::new();
        match &self.kind {
            ResponseKind::Capability { atoms, .. } => {
                for atom in atoms {
                    caps.insert_imap_atom(atom);
                }
            }
            ResponseKind::Status {
                code: Some(code), ..
            } if *code.name.kind() == CodeName::Capability => {
                for atom in code.atoms() {
                    caps.insert_imap_atom(atom);
                }
            }
            _ => return None,
        }
        Some(caps)
    }
}

fn encode_tail(code: Option<&Code>, text: Option<&[u8]>, out: &mut Vec<u8>) {
    if let Some(code) = code {
        out.push(b' ');
        code.encode(out);
    }
    if let Some(text) = text {
        out.push(b' ');
        out.extend_from_slice(text);
    }
}

/// How an untagged response is read, from its first word.
enum Untagged {
    Status(Status),
    Capability,
    Data,
}

fn classify_untagged(word: &[u8]) -> Untagged {
    if let Some(status) = Status::classify(word) {
        Untagged::Status(status)
    } else if word.eq_ignore_ascii_case(b"CAPABILITY") {
        Untagged::Capability
    } else {
        Untagged::Data
    }
}

/// Whether a response starting with `first_line` may carry literals: only untagged data.
fn response_has_literals(first_line: &[u8]) -> bool {
    let Some(rest) = first_line.strip_prefix(b"* ") else {
        return false;
    };
    let word = rest.split(|&b| b == b' ').next().unwrap_or_default();
    matches!(classify_untagged(word), Untagged::Data)
}

/// Parses the response framed by `end` at the start of `input`.
fn parse_response(input: &[u8], end: End) -> Result<Response, Error> {
    let content = input.get(..end.content_end).unwrap_or_default();
    let mut cursor = Cursor::new(content);
    let kind = match cursor.peek() {
        Some(b'+') => {
            cursor.bump();
            if cursor.at_end() {
                ResponseKind::Continuation(None)
            } else if cursor.eat(b' ') {
                ResponseKind::Continuation(Some(take_text(&mut cursor)?))
            } else {
                return Err(Error::unexpected(
                    &cursor,
                    "SP or the end of the line after '+'",
                ));
            }
        }
        Some(b'*') => {
            cursor.bump();
            if !cursor.eat(b' ') {
                return Err(Error::unexpected(&cursor, "SP after '*'"));
            }
            parse_untagged(&mut cursor)?
        }
        _ => {
            let tag = cursor.take_while(is_tag_char);
            if tag.is_empty() {
                return Err(Error::unexpected(&cursor, "a tag, '*' or '+'"));
            }
            let tag = Tag(ascii_string(tag));
            if !cursor.eat(b' ') {
                return Err(Error::unexpected(&cursor, "SP after the tag"));
            }
            let word = cursor.take_while(is_atom_char);
            if word.is_empty() {
                return Err(Error::unexpected(&cursor, "a status (OK, NO or BAD)"));
            }
            let status = match Status::classify(word) {
                Some(status) => Keyword::from_ascii(status, word),
                None => Keyword::new(Status::Other(ascii_string(word))),
            };
            let (code, text) = parse_tail(&mut cursor)?;
            ResponseKind::Status {
                tag: Some(tag),
                status,
                code,
                text,
            }
        }
    };
    Ok(Response {
        kind,
        ending: end.ending,
    })
}

fn parse_untagged(cursor: &mut Cursor<'_>) -> Result<ResponseKind, Error> {
    let start = cursor.pos();
    let word = cursor
        .rest()
        .split(|&b| b == b' ')
        .next()
        .unwrap_or_default();
    match classify_untagged(word) {
        Untagged::Status(status) => {
            cursor.advance(word.len());
            let status = Keyword::from_ascii(status, word);
            let (code, text) = parse_tail(cursor)?;
            Ok(ResponseKind::Status {
                tag: None,
                status,
                code,
                text,
            })
        }
        Untagged::Capability => {
            cursor.advance(word.len());
            let keyword = Keyword::from_ascii(CapabilityKeyword, word);
            let mut atoms = Vec::new();
            while !cursor.at_end() {
                if !cursor.eat(b' ') {
                    return Err(Error::unexpected(cursor, "SP before a capability"));
                }
                let atom = cursor.take_while(is_atom_char);
                if atom.is_empty() {
                    return Err(Error::unexpected(cursor, "a capability atom"));
                }
                atoms.push(ascii_string(atom));
            }
            Ok(ResponseKind::Capability { keyword, atoms })
        }
        Untagged::Data => {
            let raw = cursor.rest();
            let name = cursor.take_while(is_atom_char);
            if name.is_empty() || !matches!(cursor.peek(), None | Some(b' ')) {
                return Err(Error::unexpected(
                    cursor,
                    "an untagged response name (an atom or a number)",
                ));
            }
            cursor.take_rest();
            check_raw(raw).map_err(|problem| Error::from(problem).offset_by(start))?;
            Ok(ResponseKind::Data(raw.to_vec()))
        }
    }
}

/// Reads what follows a status keyword: nothing, or SP then an optional `[code]` and
/// text. A `[` that does not open a well-formed code followed by SP or the end is text.
fn parse_tail(cursor: &mut Cursor<'_>) -> Result<(Option<Code>, Option<Vec<u8>>), Error> {
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
        Some(b'[') => parse_code(cursor.rest(), cursor.pos())?,
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

fn take_text(cursor: &mut Cursor<'_>) -> Result<Vec<u8>, Error> {
    let start = cursor.pos();
    let text = cursor.take_rest();
    check_text(text, start)?;
    Ok(text.to_vec())
}

/// Reads `[name]` or `[name SP args]` at the start of `rest` (which starts with `[`),
/// if it is one followed by SP or the end; `base` is `rest`'s offset for errors.
fn parse_code(rest: &[u8], base: usize) -> Result<Option<(Code, usize)>, Error> {
    let Some(close) = rest.iter().position(|&b| b == b']') else {
        return Ok(None);
    };
    if !matches!(rest.get(close + 1), None | Some(b' ')) {
        return Ok(None);
    }
    let inner = rest.get(1..close).unwrap_or_default();
    let name_len = inner.iter().take_while(|&&b| is_atom_char(b)).count();
    let (name, after) = inner.split_at(name_len);
    if name.is_empty() {
        return Ok(None);
    }
    let args = match after.split_first() {
        None => None,
        Some((b' ', args)) => Some(args),
        Some(_) => return Ok(None),
    };
    let args_offset = base + 2 + name_len;
    if let Some(args) = args {
        check_text(args, args_offset)?;
    }
    let kind = CodeName::classify(name);
    if kind == CodeName::Capability {
        check_atoms(args.unwrap_or_default(), args_offset, args.is_some())?;
    }
    let code = Code {
        name: Keyword::from_ascii(kind, name),
        args: args.map(<[u8]>::to_vec),
    };
    Ok(Some((code, close + 1)))
}

/// Checks `args` is atoms separated by single SPs (at least one atom if `present`).
fn check_atoms(args: &[u8], offset: usize, present: bool) -> Result<(), Error> {
    if !present {
        return Ok(());
    }
    let mut cursor = Cursor::new(args);
    loop {
        if cursor.take_while(is_atom_char).is_empty() {
            return Err(Error::unexpected(&cursor, "a capability atom").offset_by(offset));
        }
        if cursor.at_end() {
            return Ok(());
        }
        if !cursor.eat(b' ') {
            return Err(Error::unexpected(&cursor, "SP between capabilities").offset_by(offset));
        }
    }
}

/// A sans-IO reader of server responses: push bytes in, pull whole responses out.
///
/// Incomplete input is not an error ([`next_response`](Self::next_response) returns
/// `Ok(None)`). A malformed response is reported once and skipped, so reading can go on;
/// a framing error (a line or literal over its limit) is sticky, because the next
/// response's start can no longer be found.
#[derive(Clone, Debug, Default)]
pub struct ResponseReader {
    buf: StreamBuf,
    scan: FrameScan,
    limits: Limits,
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
        match scan_literal_frame(input, &mut self.scan, &self.limits, response_has_literals) {
            Ok(None) => Ok(None),
            Err(error) => {
                let error = Error::Frame(error.offset_by(base));
                self.error = Some(error.clone());
                Err(error)
            }
            Ok(Some(end)) => {
                let parsed = parse_response(input, end).map_err(|e| e.offset_by(base));
                self.buf.consume(end.len);
                self.scan = FrameScan::default();
                parsed.map(Some)
            }
        }
    }

    /// The bytes buffered beyond the last complete response.
    pub fn buffered(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete response (at a STARTTLS
    /// boundary: anything here arrived before the TLS handshake).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.scan = FrameScan::default();
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

    fn round_trip(wire: &[u8]) -> Response {
        let (response, used) = Response::read(wire).unwrap();
        assert_eq!(used, wire.len(), "{:?}", String::from_utf8_lossy(wire));
        let mut out = Vec::new();
        response.encode(&mut out);
        assert_eq!(out, wire, "{:?}", String::from_utf8_lossy(wire));
        response
    }

    fn tag(tag: &str) -> Tag {
        Tag::new(tag).unwrap()
    }

    #[test]
    fn rfc2595_capability_exchange() {
        // RFC 2595 §3.1 example:
        // C: a001 CAPABILITY
        // S: * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED
        // S: a001 OK CAPABILITY completed
        let caps = round_trip(b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n");
        let set = caps.capabilities().unwrap();
        assert!(set.has("STARTTLS") && set.has("LOGINDISABLED") && set.has("imap4rev1"));
        let done = round_trip(b"a001 OK CAPABILITY completed\r\n");
        assert_eq!(
            done,
            Response::tagged(tag("a001"), Status::Ok, "CAPABILITY completed")
        );
        assert_eq!(done.capabilities(), None);
        let begin = round_trip(b"a002 OK Begin TLS negotiation now\r\n");
        assert_eq!(begin.tag(), Some(&tag("a002")));
        assert_eq!(begin.status(), Some(&Status::Ok));
    }

    #[test]
    fn greetings() {
        let greeting = round_trip(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n");
        assert_eq!(greeting.status(), Some(&Status::Ok));
        assert_eq!(greeting.tag(), None);
        assert_eq!(greeting.text(), Some(&b"ready"[..]));
        let caps = greeting.capabilities().unwrap();
        assert!(caps.has("STARTTLS"));
        assert_eq!(caps.raw().len(), 3);

        let preauth =
            round_trip(b"* PREAUTH [CAPABILITY IMAP4rev1 AUTH=PLAIN] IMAP server ready.\r\n");
        assert_eq!(preauth.status(), Some(&Status::Preauth));
        assert!(preauth.capabilities().unwrap().has_sasl("PLAIN"));

        let plain = round_trip(b"* OK IMAP4rev1 Service Ready\r\n");
        assert_eq!(plain.code(), None);
        assert_eq!(plain.capabilities(), None);

        let bye = round_trip(b"* BYE go away\r\n");
        assert_eq!(bye.status(), Some(&Status::Bye));
    }

    #[test]
    fn tails_are_exact() {
        for wire in [
            &b"A1 OK\r\n"[..],
            b"A1 OK \r\n",
            b"A1 OK [ALERT]\r\n",
            b"A1 OK [ALERT] \r\n",
            b"A1 OK  two spaces of text\r\n",
            b"A1 NO [ALERT]x is text\r\n",
            b"A1 NO [unclosed is text\r\n",
            b"A1 NO [] is text\r\n",
            b"A1 NO [(x)] is text\r\n",
            b"* OK [READ-WRITE] SELECT completed\r\n",
            b"* NO [REFERRAL IMAP://;AUTH=*@attacker.example.org:243/] try another server\r\n",
            b"* OK [BADCHARSET (UTF-8 US-ASCII)] x\r\n",
            b"A1 BAD [FOO ] empty args\r\n",
        ] {
            round_trip(wire);
        }
        let alert = round_trip(b"* OK [ALERT] System shutdown in 10 minutes\r\n");
        assert!(alert.code().unwrap().is_alert());
        let text_only = round_trip(b"A1 NO [ALERT]x is text\r\n");
        assert_eq!(text_only.code(), None);
        assert_eq!(text_only.text(), Some(&b"[ALERT]x is text"[..]));
        let unknown = round_trip(b"* OK [X-WHATEVER a b] hi\r\n");
        assert_eq!(
            unknown.code().unwrap().name.kind(),
            &CodeName::Other("X-WHATEVER".into())
        );
        assert_eq!(unknown.code().unwrap().args.as_deref(), Some(&b"a b"[..]));
    }

    #[test]
    fn keywords_keep_their_case() {
        let lower = round_trip(b"a1 ok [alert] hi\r\n");
        assert_eq!(lower.status(), Some(&Status::Ok));
        assert!(lower.code().unwrap().is_alert());
        let caps = round_trip(b"* capability imap4rev1 starttls\r\n");
        assert!(caps.capabilities().unwrap().has("STARTTLS"));
        let code = round_trip(b"* ok [Capability IMAP4rev1 StartTLS] hi\r\n");
        assert!(code.capabilities().unwrap().has("starttls"));
    }

    #[test]
    fn unknown_tagged_status_and_garbage_greeting_are_kept() {
        let odd = round_trip(b"A1 XYZZY something\r\n");
        assert_eq!(odd.status(), Some(&Status::Other("XYZZY".into())));
        let garbage = round_trip(b"1Gdo00V4 wFaIW2WP\r\n");
        assert_eq!(garbage.tag(), Some(&tag("1Gdo00V4")));
    }

    #[test]
    fn untagged_data_is_kept_verbatim_with_literals() {
        let exists = round_trip(b"* 3 EXISTS\r\n");
        assert_eq!(exists.kind, ResponseKind::Data(b"3 EXISTS".to_vec()));
        round_trip(b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
        round_trip(b"* LIST () \"/\" {5}\r\nClick\r\n");
        let fetch = round_trip(b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n");
        assert_eq!(
            fetch.kind,
            ResponseKind::Data(b"1 FETCH (BODY[] {5}\r\nhello)".to_vec())
        );
        round_trip(b"* 1 FETCH (BODY[] {5+}\r\nA OK\n FLAGS ())\r\n");
        round_trip(b"* 2 FETCH (BODY[1] {0}\r\n BODY[2] {2}\r\n\r\n)\r\n");
    }

    #[test]
    fn status_text_has_no_literal() {
        let (response, used) = Response::read(b"A1 OK {5}\r\nhello\r\n").unwrap();
        assert_eq!(used, 11);
        assert_eq!(response.text(), Some(&b"{5}"[..]));
    }

    #[test]
    fn continuations() {
        let empty = round_trip(b"+\r\n");
        assert_eq!(empty.continuation_data(), Some(Vec::new()));
        let space = round_trip(b"+ \r\n");
        assert_eq!(space.continuation_data(), Some(Vec::new()));
        let text = round_trip(b"+ continue with something\r\n");
        assert!(text.is_continuation());
        assert_eq!(text.continuation_data(), None);
        let challenge = round_trip(b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n");
        assert_eq!(
            challenge.continuation_data().unwrap(),
            b"<1896.697170952@postoffice>"
        );
        assert!(matches!(
            Response::read(b"+OK\r\n"),
            Err(Error::Unexpected { offset: 1, .. })
        ));
    }

    #[test]
    fn bare_lf_is_read_and_reported() {
        let response = round_trip(b"B OK injected\n");
        assert_eq!(response.ending, Ending::Lf);
        let mut reader = ResponseReader::new();
        reader.push(b"A OK begin TLS\r\nB OK injected\r\n");
        assert_eq!(
            reader.next_response().unwrap().unwrap().tag(),
            Some(&tag("A"))
        );
        // At the STARTTLS boundary the caller sees the injected bytes.
        assert_eq!(reader.buffered(), b"B OK injected\r\n");
        assert_eq!(reader.take_buffered(), b"B OK injected\r\n");
        assert_eq!(reader.next_response(), Ok(None));
        assert_eq!(reader.offset(), 31);
    }

    #[test]
    fn grammar_errors_name_the_offset() {
        let err = |wire: &[u8]| Response::read(wire).unwrap_err();
        assert!(matches!(
            err(b"*  OK\r\n"),
            Error::Unexpected { offset: 2, .. }
        ));
        assert!(matches!(
            err(b"*OK\r\n"),
            Error::Unexpected { offset: 1, .. }
        ));
        assert!(matches!(
            err(b"A1  OK\r\n"),
            Error::Unexpected { offset: 3, .. }
        ));
        assert!(matches!(
            err(b"A1\r\n"),
            Error::Unexpected { offset: 2, .. }
        ));
        assert!(matches!(
            err(b"* CAPABILITY IMAP4rev1  STARTTLS\r\n"),
            Error::Unexpected { offset: 23, .. }
        ));
        assert!(matches!(
            err(b"* CAPABILITY IMAP4rev1 \r\n"),
            Error::Unexpected { offset: 23, .. }
        ));
        assert!(matches!(
            err(b"* OK [CAPABILITY IMAP4rev1  STARTTLS] x\r\n"),
            Error::Unexpected { offset: 27, .. }
        ));
        assert!(matches!(
            err(b"* OKAY[x]\r\n"),
            Error::Unexpected { offset: 8, .. }
        ));
        assert_eq!(err(b"A1 OK a\rb\r\n"), Error::BareCr { offset: 7 });
        assert_eq!(err(b"A1 OK a\0b\r\n"), Error::Nul { offset: 7 });
        assert_eq!(err(b"* 3 EX\rISTS\r\n"), Error::BareCr { offset: 6 });
        assert_eq!(err(b"+ x"), Error::Incomplete);
        assert_eq!(err(b"* 1 FETCH {5}\r\nab"), Error::Incomplete);
        assert!(matches!(
            Response::from_bytes(b"A OK x\r\nB OK y\r\n"),
            Err(Error::TrailingData { offset: 8, len: 8 })
        ));
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_line: 16,
            max_literal: 4,
            max_message: 64,
        };
        assert!(matches!(
            Response::read_with(b"* 1 FETCH {5}\r\nhello)\r\n", &limits),
            Err(Error::Frame(
                crate::proto::line::FrameError::LiteralTooLarge {
                    offset: 10,
                    size: 5,
                    ..
                }
            ))
        ));
        assert!(matches!(
            Response::read_with(b"* 1 FETCH {99999999999999999999}\r\n", &Limits::DEFAULT),
            Err(Error::Frame(
                crate::proto::line::FrameError::LiteralTooLarge { .. }
            ))
        ));
        assert!(matches!(
            Response::read_with(b"A1 OK this line is too long\r\n", &limits),
            Err(Error::Frame(crate::proto::line::FrameError::LineTooLong {
                offset: 0,
                ..
            }))
        ));
    }

    #[test]
    fn reader_skips_a_malformed_response_and_keeps_reading() {
        let mut reader = ResponseReader::new();
        reader.push(b"* OK hi\r\nA1  BAD\r\n* 2 EXISTS\r\n+ ");
        assert!(reader.next_response().unwrap().is_some());
        assert!(matches!(
            reader.next_response(),
            Err(Error::Unexpected { offset: 12, .. })
        ));
        assert_eq!(
            reader.next_response().unwrap().unwrap().kind,
            ResponseKind::Data(b"2 EXISTS".to_vec())
        );
        assert_eq!(reader.next_response(), Ok(None));
        reader.push(b"\r\n");
        assert!(reader.next_response().unwrap().unwrap().is_continuation());
    }

    #[test]
    fn reader_framing_errors_are_sticky() {
        let mut reader = ResponseReader::with_limits(Limits {
            max_line: 8,
            ..Limits::DEFAULT
        });
        reader.push(b"A OK\r\n0123456789");
        assert!(reader.next_response().unwrap().is_some());
        let err = reader.next_response().unwrap_err();
        assert_eq!(err.offset(), Some(6));
        assert_eq!(reader.next_response().unwrap_err(), err);
    }

    #[test]
    fn constructors_encode_canonically() {
        let mut out = Vec::new();
        Response::untagged(Status::Ok, "ready")
            .with_code(Code::capability(["IMAP4rev1", "STARTTLS"]))
            .encode(&mut out);
        Response::capability(["IMAP4rev1", "AUTH=PLAIN"]).encode(&mut out);
        Response::continuation(b"").encode(&mut out);
        Response::tagged(tag("A1"), Status::Bad, "no")
            .with_code(Code::alert())
            .encode(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n+ \r\nA1 BAD [ALERT] no\r\n"
        );
    }
}
