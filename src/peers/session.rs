//! What the three protocol sessions share: the sans-IO contract the connection driver
//! runs them through ([`Session`], [`Step`]), the user check and the PLAIN check
//! (conformant and lax), the one-message mailbox, and small framing helpers.
//!
//! A session never touches a socket: bytes are pushed in, responses are appended to an
//! output buffer, and [`Step`] tells the driver when to read, when to start TLS and when
//! to close. That keeps the protocol logic testable and fuzzable without a runtime.

use super::fault::Fault;
use super::server::ServerOptions;
use crate::proto::line::Ending;
use crate::sasl::plain::{self, Limits as PlainLimits, Profile};

/// What the driver must do after one [`Session::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Something was handled; call `step` again.
    Continue,
    /// No whole command is buffered: flush the output, then read.
    NeedInput,
    /// The STARTTLS/STLS OK is the last thing in the output: flush it, then upgrade.
    /// `ending` is how the command line ended (the bare-LF fault looks at it).
    StartTls {
        /// How the STARTTLS/STLS line ended.
        ending: Ending,
        /// The line started with blanks before its tag, and was read only because of
        /// [`Fault::TagDifferentialInjection`].
        indented: bool,
    },
    /// Flush the output and close the connection (LOGOUT, QUIT, a fatal error).
    Close,
}

/// One protocol's server session, sans-IO.
pub(crate) trait Session {
    /// Appends the greeting.
    fn greeting(&mut self, out: &mut Vec<u8>);
    /// Appends octets received from the client.
    fn push(&mut self, data: &[u8]);
    /// Handles at most one command (or SASL line), appending its responses.
    fn step(&mut self, out: &mut Vec<u8>) -> Step;
    /// Takes the octets buffered beyond the last command (at the STARTTLS boundary).
    fn take_buffered(&mut self) -> Vec<u8>;
    /// The TLS handshake after STARTTLS/STLS completed: recompute what TLS changes, and
    /// append anything the server sends first inside TLS (ACAP's greeting).
    fn tls_started(&mut self, out: &mut Vec<u8>);
    /// TLS ended with the client's close_notify and the session goes on in plaintext
    /// ([`Fault::PlaintextAfterCloseNotify`] only).
    fn tls_dropped(&mut self);
    /// A handshake completed; `user` is the account a client certificate named (only on a
    /// server that accepts client certificates). Called before the greeting on an
    /// implicit-TLS port and before [`Session::tls_started`] after STARTTLS.
    fn client_user(&mut self, user: Option<String>);
}

/// The mailbox every user has: one message, with a line that POP3 must byte-stuff.
pub const MESSAGE: &str = "From: Bob <bob@example.test>\r\n\
To: Alice <alice@example.test>\r\n\
Subject: mailtls reference message\r\n\
Date: Thu, 01 Jan 2015 00:00:00 +0000\r\n\
Message-ID: <1@mail.example.test>\r\n\
\r\n\
Hello from the mailtls reference server.\r\n\
.This line starts with a dot, so POP3 byte-stuffs it.\r\n";

/// The message's unique id (POP3 UIDL) and IMAP UID.
pub(crate) const MESSAGE_UIDL: &str = "mailtls-1";

/// Whether `user`/`password` is one of the configured accounts.
pub(crate) fn check_password(opts: &ServerOptions, user: &[u8], password: &[u8]) -> bool {
    opts.users
        .iter()
        .any(|(u, p)| u.as_bytes() == user && p.as_bytes() == password)
}

/// What a PLAIN message came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PlainOutcome {
    /// Logged in as this user.
    Success(String),
    /// Well-formed, but the credentials (or the authzid) do not match.
    BadCredentials,
    /// Not a well-formed PLAIN message.
    Malformed,
    /// A field of 255 octets or fewer refused ([`Fault::ShortPlainFieldLimit`] only).
    TooLong,
}

/// The field limit of [`Fault::ShortPlainFieldLimit`]: below the 255 octets every
/// implementation MUST accept.
const SHORT_FIELD_LIMIT: usize = 64;

/// Checks a decoded PLAIN message.
///
/// Conformant: the message must parse under both RFC 2595 §6 and RFC 4616 (so no NUL
/// beyond the two separators, non-empty authcid and passwd, no CR/LF, well-formed UTF-8)
/// with fields of at most 255 octets (RFC 4616 §2: "MUST accept up to 255 octets"; more
/// is refused), and the authzid, when given, must equal the authcid.
pub(crate) fn check_plain(opts: &ServerOptions, message: &[u8]) -> PlainOutcome {
    if opts.has(Fault::ShortPlainFieldLimit)
        && message
            .split(|&b| b == 0)
            .any(|f| f.len() > SHORT_FIELD_LIMIT)
    {
        return PlainOutcome::TooLong;
    }
    let (authzid, authcid, passwd) = if opts.has(Fault::LaxPlainParser) {
        match lax_plain(message) {
            Some(fields) => fields,
            None => return PlainOutcome::Malformed,
        }
    } else {
        let strict = |profile| plain::parse_with(profile, PlainLimits::RFC_MINIMUM, message);
        match (strict(Profile::Rfc2595), strict(Profile::Rfc4616)) {
            (Ok(parsed), Ok(_)) => (
                parsed.authzid.unwrap_or_default(),
                parsed.authcid,
                parsed.passwd,
            ),
            // Every parse error is a malformed message, over-long fields included.
            (Err(_), _) | (_, Err(_)) => return PlainOutcome::Malformed,
        }
    };
    if !authzid.is_empty() && authzid != authcid {
        return PlainOutcome::BadCredentials;
    }
    if check_password(opts, authcid, passwd) {
        PlainOutcome::Success(String::from_utf8_lossy(authcid).into_owned())
    } else {
        PlainOutcome::BadCredentials
    }
}

/// The lax parser of [`Fault::LaxPlainParser`]: split on NUL, ignore anything after the
/// third field, use the authzid when the authcid is empty, no length or UTF-8 checks.
fn lax_plain(message: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut fields = message.split(|&b| b == 0);
    let authzid = fields.next()?;
    let authcid = fields.next()?;
    let passwd = fields.next()?;
    let authcid = if authcid.is_empty() { authzid } else { authcid };
    Some((authzid, authcid, passwd))
}

/// Whether `buffered` ends with a synchronising literal announcement (`{n}` CRLF) the
/// client is waiting to be invited to send: IMAP (RFC 9051 §4.3) and ACAP (RFC 2244
/// §2.6.3) both require a `+` continuation before the literal's octets.
pub(crate) fn awaits_sync_literal(buffered: &[u8]) -> bool {
    let Some(line) = buffered.strip_suffix(b"}\r\n") else {
        return false;
    };
    let digits = line.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    digits > 0
        && line
            .len()
            .checked_sub(digits + 1)
            .and_then(|at| line.get(at))
            .is_some_and(|&b| b == b'{')
}

/// The tag a malformed tagged command starts with, if it starts with one that `valid`
/// accepts followed by SP (so that the BAD answering it can carry it).
pub(crate) fn leading_tag(buffered: &[u8], valid: impl Fn(&str) -> bool) -> Option<String> {
    const MAX_TAG: usize = 64;
    let head = buffered.get(..buffered.len().min(MAX_TAG + 1))?;
    let sp = head.iter().position(|&b| b == b' ')?;
    let tag = std::str::from_utf8(head.get(..sp)?).ok()?;
    valid(tag).then(|| tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(faults: &[Fault]) -> ServerOptions {
        let mut opts = ServerOptions::for_tests();
        opts.faults.extend(faults.iter().copied());
        opts
    }

    #[test]
    fn conformant_plain() {
        let o = opts(&[]);
        assert_eq!(
            check_plain(&o, b"\0alice\0s3cret"),
            PlainOutcome::Success("alice".into())
        );
        assert_eq!(
            check_plain(&o, b"alice\0alice\0s3cret"),
            PlainOutcome::Success("alice".into())
        );
        assert_eq!(
            check_plain(&o, b"bob\0alice\0s3cret"),
            PlainOutcome::BadCredentials
        );
        assert_eq!(
            check_plain(&o, b"\0alice\0wrong"),
            PlainOutcome::BadCredentials
        );
        for malformed in [
            &b"\0alice\0s3cret\0x"[..],
            b"alice\0\0s3cret",
            b"alice\0s3cret",
            b"\0alice\0",
            b"\0alice\0s3c\r\nret",
            b"\0al\xffice\0s3cret",
        ] {
            assert_eq!(check_plain(&o, malformed), PlainOutcome::Malformed);
        }
        let long = [&b"\0"[..], &[b'u'; 256], b"\0p"].concat();
        assert_eq!(check_plain(&o, &long), PlainOutcome::Malformed);
        let at_limit = [&b"\0"[..], &[b'u'; 255], b"\0", &[b'p'; 255]].concat();
        assert_eq!(check_plain(&o, &at_limit), PlainOutcome::BadCredentials);
    }

    #[test]
    fn lax_plain_accepts_what_it_should_not() {
        let o = opts(&[Fault::LaxPlainParser]);
        for accepted in [&b"\0alice\0s3cret\0junk"[..], b"alice\0\0s3cret"] {
            assert_eq!(
                check_plain(&o, accepted),
                PlainOutcome::Success("alice".into())
            );
        }
        let short = opts(&[Fault::ShortPlainFieldLimit]);
        let at_limit = [&b"\0"[..], &[b'u'; 255], b"\0p"].concat();
        assert_eq!(check_plain(&short, &at_limit), PlainOutcome::TooLong);
    }

    #[test]
    fn sync_literals_and_tags() {
        assert!(awaits_sync_literal(b"A1 LOGIN {5}\r\n"));
        assert!(!awaits_sync_literal(b"A1 LOGIN {5+}\r\n"));
        assert!(!awaits_sync_literal(b"A1 LOGIN {}\r\n"));
        assert!(!awaits_sync_literal(b"5}\r\n"));
        assert!(!awaits_sync_literal(b"A1 LOGIN {5}"));
        let valid = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric());
        assert_eq!(leading_tag(b"A1 STARTTLS x\r\n", valid), Some("A1".into()));
        assert_eq!(leading_tag(b" A1 STARTTLS\r\n", valid), None);
        assert_eq!(leading_tag(b"NOOP\r\n", valid), None);
    }

    /// Every session, under any set of faults and any byte stream cut anywhere, answers
    /// without panicking and never loops: each step either consumes input or stops.
    mod hostile {
        use super::super::{Session, Step};
        use crate::model::Protocol;
        use crate::peers::acap::AcapSession;
        use crate::peers::fault::Fault;
        use crate::peers::imap::ImapSession;
        use crate::peers::pop3::Pop3Session;
        use crate::peers::server::ServerOptions;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        const PIECES: &[&[u8]] = &[
            b"A1 ",
            b"a1 ",
            b"STARTTLS",
            b"STLS",
            b"CAPABILITY",
            b"CAPA",
            b"NOOP",
            b"LOGOUT",
            b"QUIT",
            b"LOGIN alice s3cret",
            b"AUTHENTICATE PLAIN",
            b"AUTHENTICATE \"PLAIN\"",
            b"AUTH PLAIN",
            b"AGFsaWNlAHMzY3JldA==",
            b"USER alice",
            b"PASS s3cret",
            b"STAT",
            b"RETR 1",
            b"TOP 1 3",
            b"LIST",
            b"UIDL",
            b"DELE 1",
            b"SELECT INBOX",
            b"{5}\r\n",
            b"{13+}\r\n",
            b"\0alice\0s3cret",
            b"*",
            b"=",
            b" ",
            b"\r\n",
            b"\n",
            b"\r",
            b"\0",
        ];

        fn piece() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                3 => proptest::sample::select(PIECES).prop_map(<[u8]>::to_vec),
                1 => proptest::collection::vec(any::<u8>(), 0..16),
            ]
        }

        fn base() -> &'static ServerOptions {
            static BASE: OnceLock<ServerOptions> = OnceLock::new();
            BASE.get_or_init(ServerOptions::for_tests)
        }

        fn drive(session: &mut dyn Session, chunks: &[Vec<u8>]) -> Result<(), TestCaseError> {
            let mut out = Vec::new();
            session.greeting(&mut out);
            for chunk in chunks {
                session.push(chunk);
                let mut steps = 0;
                loop {
                    steps += 1;
                    prop_assert!(steps < 10_000, "a step loop did not stop");
                    match session.step(&mut out) {
                        Step::Continue => {}
                        Step::NeedInput => break,
                        Step::StartTls { .. } => {
                            let _ = session.take_buffered();
                            session.client_user(Some("alice".to_owned()));
                            session.tls_started(&mut out);
                        }
                        Step::Close => return Ok(()),
                    }
                }
                prop_assert!(out.len() < 1 << 20, "unbounded output");
                out.clear();
            }
            session.tls_dropped();
            Ok(())
        }

        proptest! {
            #[test]
            fn sessions_survive_any_input(
                protocol in proptest::sample::select(Protocol::ALL.to_vec()),
                implicit in any::<bool>(),
                cleartext in any::<bool>(),
                faults in proptest::sample::subsequence(Fault::ALL.to_vec(), 0..4),
                chunks in proptest::collection::vec(
                    proptest::collection::vec(piece(), 0..8).prop_map(|p| p.concat()),
                    0..12,
                ),
            ) {
                let mut opts = base().clone().implicit(implicit).cleartext_login(cleartext);
                opts.faults.extend(faults);
                opts.protocol = protocol;
                match protocol {
                    Protocol::Imap => drive(&mut ImapSession::new(&opts), &chunks)?,
                    Protocol::Pop3 => drive(&mut Pop3Session::new(&opts), &chunks)?,
                    Protocol::Acap => drive(&mut AcapSession::new(&opts), &chunks)?,
                }
            }
        }
    }
}
