//! IMAP client commands, and the reader a server (or the harness in the server role)
//! frames them with.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{AString, Error, Tag, is_atom_char, is_tag_char, parse_astring};
use crate::proto::line::{
    BASE64, Cursor, End, Ending, FrameScan, Limits, Line, StreamBuf, ascii_string, check_raw,
    scan_line, scan_literal_frame,
};

/// What a command asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommandBody {
    /// `STARTTLS` (RFC 2595 §3.1):
    ///
    /// > command_any =/ "STARTTLS"
    Starttls,
    /// `CAPABILITY`.
    Capability,
    /// `LOGOUT`.
    Logout,
    /// `NOOP`.
    Noop,
    /// `LOGIN user password`; RFC 2595 §3.2: "An IMAP client which complies with this
    /// specification MUST NOT issue the LOGIN command if this capability \[LOGINDISABLED\]
    /// is present."
    Login {
        /// The user name.
        user: AString,
        /// The password.
        password: AString,
    },
    /// `AUTHENTICATE mechanism [initial-response]` (SASL-IR, RFC 4959).
    Authenticate {
        /// The SASL mechanism, as spelled.
        mechanism: String,
        /// The initial response as sent: base64, or `=` for an empty one.
        initial: Option<String>,
    },
    /// `SELECT mailbox [params]`.
    Select {
        /// The mailbox.
        mailbox: AString,
        /// Anything after the mailbox (RFC 4466 select parameters), verbatim.
        params: Option<Vec<u8>>,
    },
    /// `ID (...)` or `ID NIL` (RFC 2971), the argument verbatim.
    Id(Vec<u8>),
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
            Self::Capability => "CAPABILITY",
            Self::Logout => "LOGOUT",
            Self::Noop => "NOOP",
            Self::Login { .. } => "LOGIN",
            Self::Authenticate { .. } => "AUTHENTICATE",
            Self::Select { .. } => "SELECT",
            Self::Id(_) => "ID",
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

    /// Reads one command from the start of `input` with the default [`Limits`],
    /// returning it and the number of octets it took.
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
            CommandBody::Starttls
            | CommandBody::Capability
            | CommandBody::Logout
            | CommandBody::Noop => {}
            CommandBody::Login { user, password } => {
                out.push(b' ');
                user.encode(out);
                out.push(b' ');
                password.encode(out);
            }
            CommandBody::Authenticate { mechanism, initial } => {
                out.push(b' ');
                out.extend_from_slice(mechanism.as_bytes());
                if let Some(initial) = initial {
                    out.push(b' ');
                    out.extend_from_slice(initial.as_bytes());
                }
            }
            CommandBody::Select { mailbox, params } => {
                out.push(b' ');
                mailbox.encode(out);
                if let Some(params) = params {
                    out.push(b' ');
                    out.extend_from_slice(params);
                }
            }
            CommandBody::Id(args) => {
                out.push(b' ');
                out.extend_from_slice(args);
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

/// Decodes an `AUTHENTICATE` initial response (RFC 4959): `=` is the empty response,
/// anything else must be strict base64. `None` if it is not.
///
/// > initial-response = base64 / "=" (RFC 4959 §7)
pub fn decode_initial_response(initial: &str) -> Option<Vec<u8>> {
    if initial == "=" {
        return Some(Vec::new());
    }
    STANDARD.decode(initial).ok()
}

fn is_base64_char(b: u8) -> bool {
    BASE64.contains(b)
}

/// Parses the command framed by `end` at the start of `input`.
fn parse_command(input: &[u8], end: End) -> Result<Command, Error> {
    let content = input.get(..end.content_end).unwrap_or_default();
    let mut cursor = Cursor::new(content);
    let tag = cursor.take_while(is_tag_char);
    if tag.is_empty() {
        return Err(Error::unexpected(&cursor, "a tag"));
    }
    let tag = Tag(ascii_string(tag));
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
    let is = |canonical: &str| name.eq_ignore_ascii_case(canonical.as_bytes());
    let body = match () {
        () if is("STARTTLS") => no_arguments(&cursor, CommandBody::Starttls, "STARTTLS")?,
        () if is("CAPABILITY") => no_arguments(&cursor, CommandBody::Capability, "CAPABILITY")?,
        () if is("LOGOUT") => no_arguments(&cursor, CommandBody::Logout, "LOGOUT")?,
        () if is("NOOP") => no_arguments(&cursor, CommandBody::Noop, "NOOP")?,
        () if is("LOGIN") => {
            sp(&mut cursor, "SP before the user name")?;
            let user = parse_astring(&mut cursor)?;
            sp(&mut cursor, "SP before the password")?;
            let password = parse_astring(&mut cursor)?;
            end_of_line(&cursor)?;
            CommandBody::Login { user, password }
        }
        () if is("AUTHENTICATE") => {
            sp(&mut cursor, "SP before the SASL mechanism")?;
            let mechanism = cursor.take_while(is_atom_char);
            if mechanism.is_empty() {
                return Err(Error::unexpected(&cursor, "a SASL mechanism name"));
            }
            let mechanism = ascii_string(mechanism);
            let initial = if cursor.eat(b' ') {
                let initial = cursor.take_while(is_base64_char);
                if initial.is_empty() {
                    return Err(Error::unexpected(
                        &cursor,
                        "an initial response (base64 or '=')",
                    ));
                }
                Some(ascii_string(initial))
            } else {
                None
            };
            end_of_line(&cursor)?;
            CommandBody::Authenticate { mechanism, initial }
        }
        () if is("SELECT") => {
            sp(&mut cursor, "SP before the mailbox")?;
            let mailbox = parse_astring(&mut cursor)?;
            let params = if cursor.eat(b' ') {
                Some(raw_args(&mut cursor)?)
            } else {
                end_of_line(&cursor)?;
                None
            };
            CommandBody::Select { mailbox, params }
        }
        () if is("ID") => {
            sp(&mut cursor, "SP before the ID parameters")?;
            CommandBody::Id(raw_args(&mut cursor)?)
        }
        _ => {
            let args = if cursor.eat(b' ') {
                Some(raw_args(&mut cursor)?)
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

fn no_arguments(
    cursor: &Cursor<'_>,
    body: CommandBody,
    command: &'static str,
) -> Result<CommandBody, Error> {
    if cursor.at_end() {
        Ok(body)
    } else {
        // The only other thing parse_command lets through is the SP before arguments.
        Err(Error::UnexpectedArgument {
            offset: cursor.pos() + 1,
            command,
        })
    }
}

fn sp(cursor: &mut Cursor<'_>, expected: &'static str) -> Result<(), Error> {
    if cursor.eat(b' ') {
        Ok(())
    } else {
        Err(Error::unexpected(cursor, expected))
    }
}

fn end_of_line(cursor: &Cursor<'_>) -> Result<(), Error> {
    if cursor.at_end() {
        Ok(())
    } else {
        Err(Error::unexpected(cursor, "the end of the line"))
    }
}

/// The rest of the command, verbatim: non-empty, literals allowed, no NUL or bare CR
/// outside them.
fn raw_args(cursor: &mut Cursor<'_>) -> Result<Vec<u8>, Error> {
    if cursor.at_end() {
        return Err(Error::unexpected(cursor, "an argument"));
    }
    let start = cursor.pos();
    let raw = cursor.take_rest();
    check_raw(raw).map_err(|problem| Error::from(problem).offset_by(start))?;
    Ok(raw.to_vec())
}

/// A sans-IO reader of client commands: push bytes in, pull whole commands out.
///
/// Commands may carry literals anywhere (`LOGIN {4}` CRLF `user {4}` CRLF `pass`), so a
/// command spans lines. Between commands, [`next_line`](Self::next_line) reads one raw
/// line instead: the client's answer to a `+` continuation during `AUTHENTICATE`.
///
/// A malformed command is reported once and skipped; a framing error is sticky.
#[derive(Clone, Debug, Default)]
pub struct CommandReader {
    buf: StreamBuf,
    scan: FrameScan,
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

    /// The next whole command, `Ok(None)` if none is complete yet.
    ///
    /// # Errors
    ///
    /// A parse error for a malformed command (which is then skipped), or a sticky
    /// [`Error::Frame`]. Offsets count from the start of the stream.
    pub fn next_command(&mut self) -> Result<Option<Command>, Error> {
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
                let parsed = parse_command(input, end).map_err(|e| e.offset_by(base));
                self.buf.consume(end.len);
                self.scan = FrameScan::default();
                parsed.map(Some)
            }
        }
    }

    /// The next raw line (a SASL continuation answer), `Ok(None)` if no whole line is
    /// buffered yet.
    ///
    /// # Errors
    ///
    /// A sticky [`Error::Frame`] if the line is over the limit.
    pub fn next_line(&mut self) -> Result<Option<Line>, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        self.scan = FrameScan::default();
        let base = self.buf.offset();
        let input = self.buf.unread();
        let mut pos = 0;
        match scan_line(input, 0, &mut pos, self.limits.max_line) {
            Ok(None) => Ok(None),
            Err(error) => {
                let error = Error::Frame(error.offset_by(base));
                self.error = Some(error.clone());
                Err(error)
            }
            Ok(Some(end)) => {
                let line = Line {
                    content: input.get(..end.content_end).unwrap_or_default().to_vec(),
                    ending: end.ending,
                    offset: base,
                };
                self.buf.consume(end.len);
                Ok(Some(line))
            }
        }
    }

    /// The bytes buffered beyond the last complete command (after `STARTTLS`: anything
    /// here was pipelined in plaintext, the command-injection finding of RFC 9051
    /// §6.2.1).
    pub fn buffered(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Takes the bytes buffered beyond the last complete command.
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

    fn round_trip(wire: &[u8]) -> Command {
        let (command, used) = Command::read(wire).unwrap();
        assert_eq!(used, wire.len(), "{:?}", String::from_utf8_lossy(wire));
        let mut out = Vec::new();
        command.encode(&mut out);
        assert_eq!(out, wire, "{:?}", String::from_utf8_lossy(wire));
        command
    }

    #[test]
    fn rfc2595_commands() {
        // RFC 2595 §3.1: C: a001 CAPABILITY ... C: a002 STARTTLS
        let capability = round_trip(b"a001 CAPABILITY\r\n");
        assert_eq!(capability.body, CommandBody::Capability);
        assert_eq!(capability.tag.as_str(), "a001");
        let starttls = round_trip(b"a002 STARTTLS\r\n");
        assert_eq!(starttls.body, CommandBody::Starttls);
        assert_eq!(starttls.name(), "STARTTLS");
    }

    #[test]
    fn starttls_with_arguments_is_refused() {
        // James `lineFollowingStartTLSShouldBeSanitized`: `A1 STARTTLS A2 NOOP`.
        assert_eq!(
            Command::read(b"A1 STARTTLS A2 NOOP\r\n").unwrap_err(),
            Error::UnexpectedArgument {
                offset: 12,
                command: "STARTTLS"
            }
        );
    }

    #[test]
    fn names_are_case_insensitive_and_keep_their_spelling() {
        let lower = round_trip(b"a1 starttls\r\n");
        assert_eq!(lower.body, CommandBody::Starttls);
        assert_eq!(lower.name(), "starttls");
        let odd = round_trip(b"a1 xAppend INBOX {3+}\r\nabc\r\n");
        assert_eq!(odd.name(), "xAppend");
        assert!(matches!(odd.body, CommandBody::Unknown { .. }));
    }

    #[test]
    fn login_takes_atoms_quoted_strings_and_literals() {
        let atoms = round_trip(b"A1 LOGIN fred s3cret\r\n");
        assert_eq!(
            atoms.body,
            CommandBody::Login {
                user: AString::Atom("fred".into()),
                password: AString::Atom("s3cret".into())
            }
        );
        round_trip(b"A1 LOGIN \"fred smith\" \"pa\\\"ss\"\r\n");
        let literals = round_trip(b"A1 LOGIN {4}\r\nfred {6+}\r\ns3\r\nt!\r\n");
        let CommandBody::Login { user, password } = &literals.body else {
            panic!("not LOGIN");
        };
        assert_eq!(user.as_bytes(), b"fred");
        assert_eq!(password.as_bytes(), b"s3\r\nt!");
        assert!(matches!(
            Command::read(b"A1 LOGIN fred\r\n"),
            Err(Error::Unexpected { offset: 13, .. })
        ));
        assert!(matches!(
            Command::read(b"A1 LOGIN fred  pw\r\n"),
            Err(Error::Unexpected { offset: 14, .. })
        ));
        assert!(matches!(
            Command::read(b"A1 LOGIN a b c\r\n"),
            Err(Error::Unexpected { offset: 12, .. })
        ));
    }

    #[test]
    fn authenticate_with_and_without_initial_response() {
        let ir = round_trip(b"A2 AUTHENTICATE PLAIN AHZhbGlkdXNlcgB2YWxpZHB3\r\n");
        let CommandBody::Authenticate { mechanism, initial } = &ir.body else {
            panic!("not AUTHENTICATE");
        };
        assert_eq!(mechanism, "PLAIN");
        assert_eq!(
            decode_initial_response(initial.as_deref().unwrap()).unwrap(),
            b"\0validuser\0validpw"
        );
        let empty = round_trip(b"A1 AUTHENTICATE EXTERNAL =\r\n");
        let CommandBody::Authenticate { initial, .. } = &empty.body else {
            panic!("not AUTHENTICATE");
        };
        assert_eq!(
            decode_initial_response(initial.as_deref().unwrap()),
            Some(vec![])
        );
        round_trip(b"A1 AUTHENTICATE PLAIN\r\n");
        assert_eq!(decode_initial_response("=AAA"), None);
        assert!(matches!(
            Command::read(b"A1 AUTHENTICATE PLAIN a*b\r\n"),
            Err(Error::Unexpected { offset: 23, .. })
        ));
    }

    #[test]
    fn other_commands() {
        round_trip(b"A1 NOOP\r\n");
        round_trip(b"A9 LOGOUT\r\n");
        let select = round_trip(b"A3 SELECT INBOX\r\n");
        assert!(matches!(
            select.body,
            CommandBody::Select { params: None, .. }
        ));
        round_trip(b"A3 SELECT \"INBOX\" (CONDSTORE)\r\n");
        let id = round_trip(b"A4 ID (\"name\" \"mutt\")\r\n");
        assert_eq!(id.body, CommandBody::Id(b"(\"name\" \"mutt\")".to_vec()));
        round_trip(b"A4 ID NIL\r\n");
        let append = round_trip(b"B2 APPEND INBOX {4+}\r\nV1 L\r\n");
        assert_eq!(
            append.body,
            CommandBody::Unknown {
                name: "APPEND".into(),
                args: Some(b"INBOX {4+}\r\nV1 L".to_vec())
            }
        );
        round_trip(b"X7QZK NOOP\n");
        round_trip(b"A5 ENABLE\r\n");
    }

    #[test]
    fn command_errors() {
        let err = |wire: &[u8]| Command::read(wire).unwrap_err();
        assert!(matches!(
            err(b" A1 STARTTLS\r\n"),
            Error::Unexpected { offset: 0, .. }
        ));
        assert!(matches!(
            err(b"A1 (X\r\n"),
            Error::Unexpected { offset: 3, .. }
        ));
        assert!(matches!(
            err(b"A1 NOOP(\r\n"),
            Error::Unexpected { offset: 7, .. }
        ));
        assert!(matches!(
            err(b"+ x\r\n"),
            Error::Unexpected { offset: 0, .. }
        ));
        assert_eq!(err(b"A1 X a\rb\r\n"), Error::BareCr { offset: 6 });
        assert!(matches!(
            err(b"A1 ID\r\n"),
            Error::Unexpected { offset: 5, .. }
        ));
        assert_eq!(err(b"A1 NOOP"), Error::Incomplete);
        assert_eq!(
            err(b"A1 LOGIN {05}\r\nhello x\r\n"),
            Error::NonCanonicalLiteral { offset: 9 }
        );
    }

    #[test]
    fn reader_sees_pipelined_injection() {
        let mut reader = CommandReader::new();
        reader.push(b"A STARTTLS\r\nX7QZK NOOP\r\n");
        assert_eq!(
            reader.next_command().unwrap().unwrap().body,
            CommandBody::Starttls
        );
        assert_eq!(reader.buffered(), b"X7QZK NOOP\r\n");
        assert_eq!(reader.take_buffered(), b"X7QZK NOOP\r\n");
        assert_eq!(reader.next_command(), Ok(None));
    }

    #[test]
    fn reader_reads_sasl_lines_between_commands() {
        let mut reader = CommandReader::new();
        reader.push(b"A1 AUTHENTICATE PLAIN\r\nAHUAcA==\r\n*\nA2 NOOP\r\n");
        assert!(reader.next_command().unwrap().is_some());
        let line = reader.next_line().unwrap().unwrap();
        assert_eq!(line.content, b"AHUAcA==");
        assert_eq!(line.offset, 23);
        let cancel = reader.next_line().unwrap().unwrap();
        assert_eq!(cancel.content, b"*");
        assert_eq!(cancel.ending, Ending::Lf);
        assert_eq!(
            reader.next_command().unwrap().unwrap().body,
            CommandBody::Noop
        );
    }

    #[test]
    fn reader_waits_for_literal_data() {
        let mut reader = CommandReader::new();
        let wire = b"A1 LOGIN {4}\r\nfred {2}\r\npw\r\n";
        for (i, b) in wire.iter().enumerate() {
            reader.push(&[*b]);
            let got = reader.next_command().unwrap();
            assert_eq!(got.is_some(), i + 1 == wire.len(), "at {i}");
        }
    }
}
