//! The PLAIN SASL message: `[authzid] NUL authcid NUL passwd`, parsed and encoded under
//! either of the two specifications that define it.
//!
//! - [`Profile::Rfc2595`], RFC 2595 §6, exactly its ABNF:
//!
//!   > message = [authorize-id] NUL authenticate-id NUL password
//!   > UTF8-SAFE = %x01-09 / %x0B-0C / %x0E-7F / UTF8-2 / UTF8-3 / UTF8-4 / UTF8-5 / UTF8-6
//!
//!   so NUL, CR and LF are excluded, and the 1999 UTF-8 shapes (including overlong forms
//!   and the 5- and 6-octet sequences) are allowed as the ABNF lists them.
//!   <https://www.rfc-editor.org/rfc/rfc2595#section-6>
//! - [`Profile::Rfc4616`], which obsoletes it: `SAFE` excludes only NUL, and every field
//!   must be well-formed UTF-8 per RFC 3629 (no overlongs, no surrogates, nothing above
//!   U+10FFFF). <https://www.rfc-editor.org/rfc/rfc4616#section-2>
//!
//! Both say of each field "MUST accept up to 255 octets". Fields of up to 255 octets are
//! therefore always accepted; above that the [`Limits`] passed in decide, and the default
//! is a generous buffer bound, not a reading of the RFC.

use std::fmt;

use thiserror::Error;

/// Which specification the message is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// RFC 2595 §6 (1999): its ABNF, literally.
    Rfc2595,
    /// RFC 4616 (2006): NUL-free, well-formed UTF-8.
    Rfc4616,
}

impl Profile {
    /// The profile's name as the CLI and reports spell it (`rfc2595`, `rfc4616`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Rfc2595 => "rfc2595",
            Self::Rfc4616 => "rfc4616",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The length policy above the 255 octets every implementation must accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest field accepted, in octets. Values below 255 are raised to 255.
    pub max_field_octets: usize,
}

impl Limits {
    /// "MUST accept up to 255 octets" read as "and no more": flags longer fields.
    pub const RFC_MINIMUM: Self = Self {
        max_field_octets: 255,
    };
    /// The default bound: 64 KiB per field, a buffer limit rather than a rule.
    pub const DEFAULT: Self = Self {
        max_field_octets: 65_536,
    };

    fn effective_max(self) -> usize {
        self.max_field_octets
            .max(Self::RFC_MINIMUM.max_field_octets)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The three fields of a PLAIN message, borrowed from the input.
///
/// Fields are octets, not `str`: RFC 2595 allows sequences that are not UTF-8 today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainMessage<'a> {
    /// The authorization identity (identity to log in as); `None` when left empty.
    pub authzid: Option<&'a [u8]>,
    /// The authentication identity (identity whose password is used).
    pub authcid: &'a [u8],
    /// The clear-text password.
    pub passwd: &'a [u8],
}

/// One of the three fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The authorization identity.
    Authzid,
    /// The authentication identity.
    Authcid,
    /// The password.
    Passwd,
}

impl Field {
    /// The field's name as RFC 4616 spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authzid => "authzid",
            Self::Authcid => "authcid",
            Self::Passwd => "passwd",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an octet sequence is not acceptable UTF-8 under the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Utf8Problem {
    /// A continuation octet (0x80–0xBF) where a character must start.
    UnexpectedContinuation,
    /// An octet that starts no sequence in this profile (0xFE/0xFF; 0xF8–0xFD in RFC 4616).
    InvalidLeadOctet,
    /// A sequence cut short by the end of the field or a non-continuation octet.
    Truncated,
    /// A longer encoding than the character needs (RFC 3629 forbids it).
    Overlong,
    /// An encoded UTF-16 surrogate, U+D800–U+DFFF (RFC 3629 forbids it).
    Surrogate,
    /// A code point above U+10FFFF (RFC 3629 forbids it).
    AboveMaximum,
}

impl fmt::Display for Utf8Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnexpectedContinuation => "a continuation octet where a character must start",
            Self::InvalidLeadOctet => "an octet that starts no UTF-8 sequence",
            Self::Truncated => "a truncated UTF-8 sequence",
            Self::Overlong => "an overlong UTF-8 encoding",
            Self::Surrogate => "an encoded UTF-16 surrogate",
            Self::AboveMaximum => "a code point above U+10FFFF",
        })
    }
}

/// What is wrong with a PLAIN message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlainErrorKind {
    /// Fewer than the two NUL separators the grammar requires.
    #[error("expected 2 NUL separators, found {found}")]
    MissingSeparator {
        /// How many NULs the message has.
        found: usize,
    },
    /// A NUL inside a field (in a parsed message: a third separator, inside passwd).
    #[error("an extra NUL: no field may contain NUL")]
    ExtraSeparator,
    /// An empty authcid or passwd (both are `1*` in the grammar).
    #[error("{field} is empty; the grammar requires at least one octet")]
    EmptyField {
        /// The empty field.
        field: Field,
    },
    /// An octet the profile excludes (CR or LF under RFC 2595).
    #[error("octet 0x{octet:02X} is not allowed in {field} under {profile}")]
    ForbiddenOctet {
        /// The octet.
        octet: u8,
        /// The field it is in.
        field: Field,
        /// The profile that forbids it.
        profile: Profile,
    },
    /// Bad UTF-8 for the profile.
    #[error("{problem} in {field} under {profile}")]
    InvalidUtf8 {
        /// What is wrong.
        problem: Utf8Problem,
        /// The field it is in.
        field: Field,
        /// The profile that rejects it.
        profile: Profile,
    },
    /// A field longer than the length policy allows.
    #[error("{field} is {len} octets, above the limit of {max}")]
    FieldTooLong {
        /// The field.
        field: Field,
        /// Its length.
        len: usize,
        /// The limit in force.
        max: usize,
    },
}

/// A PLAIN message error: what, and at which byte offset of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("{kind} (at byte offset {offset})")]
pub struct PlainError {
    /// What is wrong.
    pub kind: PlainErrorKind,
    /// Offset into the message of the first offending octet (the message length when
    /// something is missing at the end).
    pub offset: usize,
}

/// Parses a PLAIN message with the default [`Limits`].
pub fn parse(profile: Profile, message: &[u8]) -> Result<PlainMessage<'_>, PlainError> {
    parse_with(profile, Limits::DEFAULT, message)
}

/// Parses a PLAIN message under `profile` and `limits`.
pub fn parse_with(
    profile: Profile,
    limits: Limits,
    message: &[u8],
) -> Result<PlainMessage<'_>, PlainError> {
    let mut separators = message
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == 0)
        .map(|(i, _)| i);
    let missing = |found| PlainError {
        kind: PlainErrorKind::MissingSeparator { found },
        offset: message.len(),
    };
    let first = separators.next().ok_or_else(|| missing(0))?;
    let second = separators.next().ok_or_else(|| missing(1))?;
    if let Some(third) = separators.next() {
        return Err(PlainError {
            kind: PlainErrorKind::ExtraSeparator,
            offset: third,
        });
    }

    let authzid = &message[..first];
    let authcid = &message[first + 1..second];
    let passwd = &message[second + 1..];
    check_field(profile, limits, Field::Authzid, authzid, 0)?;
    check_field(profile, limits, Field::Authcid, authcid, first + 1)?;
    check_field(profile, limits, Field::Passwd, passwd, second + 1)?;
    Ok(PlainMessage {
        authzid: (!authzid.is_empty()).then_some(authzid),
        authcid,
        passwd,
    })
}

/// Appends the encoded message to `out`, after checking every field under `profile`
/// (with the default [`Limits`]). On error nothing is appended.
///
/// An empty `authzid` is the same as `None`.
pub fn encode(
    profile: Profile,
    message: &PlainMessage<'_>,
    out: &mut Vec<u8>,
) -> Result<(), PlainError> {
    let authzid = message.authzid.unwrap_or_default();
    let limits = Limits::DEFAULT;
    let authcid_at = authzid.len() + 1;
    let passwd_at = authcid_at + message.authcid.len() + 1;
    check_field(profile, limits, Field::Authzid, authzid, 0)?;
    check_field(profile, limits, Field::Authcid, message.authcid, authcid_at)?;
    check_field(profile, limits, Field::Passwd, message.passwd, passwd_at)?;
    out.reserve(passwd_at + message.passwd.len());
    out.extend_from_slice(authzid);
    out.push(0);
    out.extend_from_slice(message.authcid);
    out.push(0);
    out.extend_from_slice(message.passwd);
    Ok(())
}

/// Checks one field; `at` is its offset in the whole message.
fn check_field(
    profile: Profile,
    limits: Limits,
    field: Field,
    bytes: &[u8],
    at: usize,
) -> Result<(), PlainError> {
    let fail = |kind, offset| Err(PlainError { kind, offset });
    if bytes.is_empty() && field != Field::Authzid {
        return fail(PlainErrorKind::EmptyField { field }, at);
    }
    let max = limits.effective_max();
    if bytes.len() > max {
        let kind = PlainErrorKind::FieldTooLong {
            field,
            len: bytes.len(),
            max,
        };
        return fail(kind, at);
    }
    let scan = match profile {
        Profile::Rfc2595 => scan_rfc2595(bytes),
        Profile::Rfc4616 => scan_rfc3629(bytes),
    };
    match scan {
        Ok(()) => Ok(()),
        Err((i, Problem::Octet(0))) => fail(PlainErrorKind::ExtraSeparator, at + i),
        Err((i, Problem::Octet(octet))) => {
            let kind = PlainErrorKind::ForbiddenOctet {
                octet,
                field,
                profile,
            };
            fail(kind, at + i)
        }
        Err((i, Problem::Utf8(problem))) => {
            let kind = PlainErrorKind::InvalidUtf8 {
                problem,
                field,
                profile,
            };
            fail(kind, at + i)
        }
    }
}

enum Problem {
    Octet(u8),
    Utf8(Utf8Problem),
}

/// RFC 2595's UTF8-SAFE, literally: ASCII but NUL/LF/CR, and lead octets C0–FD with
/// 1–5 continuation octets (80–BF), whatever the value they encode.
fn scan_rfc2595(bytes: &[u8]) -> Result<(), (usize, Problem)> {
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        let continuations = match lead {
            0x00 | b'\n' | b'\r' => return Err((i, Problem::Octet(lead))),
            0x01..=0x7F => 0,
            0x80..=0xBF => return Err((i, Problem::Utf8(Utf8Problem::UnexpectedContinuation))),
            0xC0..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF7 => 3,
            0xF8..=0xFB => 4,
            0xFC..=0xFD => 5,
            0xFE..=0xFF => return Err((i, Problem::Utf8(Utf8Problem::InvalidLeadOctet))),
        };
        for k in 1..=continuations {
            match bytes.get(i + k) {
                Some(0x80..=0xBF) => {}
                _ => return Err((i, Problem::Utf8(Utf8Problem::Truncated))),
            }
        }
        i += 1 + continuations;
    }
    Ok(())
}

/// RFC 4616's SAFE: any well-formed RFC 3629 UTF-8 character except NUL.
fn scan_rfc3629(bytes: &[u8]) -> Result<(), (usize, Problem)> {
    // The standard library validates RFC 3629 UTF-8; only on failure do we classify.
    let (valid, invalid) = match std::str::from_utf8(bytes) {
        Ok(_) => (bytes, None),
        Err(e) => {
            let (valid, rest) = bytes.split_at(e.valid_up_to());
            (valid, Some(rest))
        }
    };
    if let Some(nul) = valid.iter().position(|&b| b == 0) {
        return Err((nul, Problem::Octet(0)));
    }
    match invalid {
        Some(rest) => Err((valid.len(), Problem::Utf8(classify_rfc3629(rest)))),
        None => Ok(()),
    }
}

/// Names the RFC 3629 problem at the start of `bytes`, which the standard library has
/// already found invalid there.
fn classify_rfc3629(bytes: &[u8]) -> Utf8Problem {
    let lead = bytes.first().copied().unwrap_or_default();
    let second = bytes.get(1).copied();
    let continuation = |b: Option<u8>| matches!(b, Some(0x80..=0xBF));
    match lead {
        0x80..=0xBF => Utf8Problem::UnexpectedContinuation,
        0xC0 | 0xC1 => Utf8Problem::Overlong,
        0xE0 if matches!(second, Some(0x80..=0x9F)) => Utf8Problem::Overlong,
        0xED if matches!(second, Some(0xA0..=0xBF)) => Utf8Problem::Surrogate,
        0xF0 if matches!(second, Some(0x80..=0x8F)) => Utf8Problem::Overlong,
        0xF4 if matches!(second, Some(0x90..=0xBF)) => Utf8Problem::AboveMaximum,
        0xF5..=0xF7 if continuation(second) => Utf8Problem::AboveMaximum,
        0xF5..=0xFF => Utf8Problem::InvalidLeadOctet,
        _ => Utf8Problem::Truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: [Profile; 2] = [Profile::Rfc2595, Profile::Rfc4616];

    // (profile, message, expected authzid, authcid, passwd) that must parse.
    #[rustfmt::skip]
    #[allow(clippy::type_complexity)] // table rows are tuples by design
    const ACCEPTED: &[(&[Profile], &[u8], Option<&[u8]>, &[u8], &[u8])] = &[
        // RFC 4616 §4 examples.
        (&BOTH, b"\0tim\0tanstaaftanstaaf", None, b"tim", b"tanstaaftanstaaf"),
        (&BOTH, b"Ursel\0Kurt\0xipj3plmq", Some(b"Ursel"), b"Kurt", b"xipj3plmq"),
        // UTF-8 2-, 3- and 4-octet characters are fine under both.
        (&BOTH, "\0J\u{fc}rgen\0p\u{e4}ss\u{20ac}\u{1F600}".as_bytes(), None, "J\u{fc}rgen".as_bytes(), "p\u{e4}ss\u{20ac}\u{1F600}".as_bytes()),
        // CR and LF are SAFE in RFC 4616 (only NUL is excluded).
        (&[Profile::Rfc4616], b"\0a\r\nb\0pw", None, b"a\r\nb", b"pw"),
        // RFC 2595's ABNF allows 5- and 6-octet sequences and overlong forms.
        (&[Profile::Rfc2595], b"\0\xF8\x88\x80\x80\x80\0\xFC\x84\x80\x80\x80\x80", None, b"\xF8\x88\x80\x80\x80", b"\xFC\x84\x80\x80\x80\x80"),
        (&[Profile::Rfc2595], b"\0\xC0\x80\0pw", None, b"\xC0\x80", b"pw"),
        (&[Profile::Rfc2595], b"\0\xED\xA0\x80\0pw", None, b"\xED\xA0\x80", b"pw"),
    ];

    // (profile, message, expected error kind, expected offset) that must be refused.
    #[rustfmt::skip]
    const REFUSED: &[(&[Profile], &[u8], PlainErrorKind, usize)] = &[
        // Separators.
        (&BOTH, b"", PlainErrorKind::MissingSeparator { found: 0 }, 0),
        (&BOTH, b"timpw", PlainErrorKind::MissingSeparator { found: 0 }, 5),
        (&BOTH, b"\0timpw", PlainErrorKind::MissingSeparator { found: 1 }, 6),
        (&BOTH, b"\0tim\0pw\0x", PlainErrorKind::ExtraSeparator, 7),
        // authcid and passwd are 1*SAFE.
        (&BOTH, b"\0\0pw", PlainErrorKind::EmptyField { field: Field::Authcid }, 1),
        (&BOTH, b"z\0tim\0", PlainErrorKind::EmptyField { field: Field::Passwd }, 6),
        // CR and LF: excluded by RFC 2595's UTF8-SAFE.
        (&[Profile::Rfc2595], b"\0ti\rm\0pw", PlainErrorKind::ForbiddenOctet { octet: b'\r', field: Field::Authcid, profile: Profile::Rfc2595 }, 3),
        (&[Profile::Rfc2595], b"a\nb\0tim\0pw", PlainErrorKind::ForbiddenOctet { octet: b'\n', field: Field::Authzid, profile: Profile::Rfc2595 }, 1),
        // RFC 3629 well-formedness, RFC 4616 only.
        (&[Profile::Rfc4616], b"\0\xC0\x80\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::Overlong, field: Field::Authcid, profile: Profile::Rfc4616 }, 1),
        (&[Profile::Rfc4616], b"\0tim\0\xE0\x80\x80", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::Overlong, field: Field::Passwd, profile: Profile::Rfc4616 }, 5),
        (&[Profile::Rfc4616], b"\0tim\0p\xED\xA0\x80", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::Surrogate, field: Field::Passwd, profile: Profile::Rfc4616 }, 6),
        (&[Profile::Rfc4616], b"\0tim\0\xF4\x90\x80\x80", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::AboveMaximum, field: Field::Passwd, profile: Profile::Rfc4616 }, 5),
        (&[Profile::Rfc4616], b"\0\xF8\x88\x80\x80\x80\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::InvalidLeadOctet, field: Field::Authcid, profile: Profile::Rfc4616 }, 1),
        // Shapes both profiles reject.
        (&[Profile::Rfc2595], b"\0\x80\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::UnexpectedContinuation, field: Field::Authcid, profile: Profile::Rfc2595 }, 1),
        (&[Profile::Rfc4616], b"\0\x80\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::UnexpectedContinuation, field: Field::Authcid, profile: Profile::Rfc4616 }, 1),
        (&[Profile::Rfc2595], b"\0ab\xC3\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::Truncated, field: Field::Authcid, profile: Profile::Rfc2595 }, 3),
        (&[Profile::Rfc4616], b"\0ab\xC3\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::Truncated, field: Field::Authcid, profile: Profile::Rfc4616 }, 3),
        (&[Profile::Rfc2595], b"\0\xFE\0pw", PlainErrorKind::InvalidUtf8 { problem: Utf8Problem::InvalidLeadOctet, field: Field::Authcid, profile: Profile::Rfc2595 }, 1),
    ];

    #[test]
    fn accepted_rows() {
        for (profiles, message, authzid, authcid, passwd) in ACCEPTED {
            for &profile in *profiles {
                let got = parse(profile, message)
                    .unwrap_or_else(|e| panic!("{profile} refused {message:?}: {e}"));
                let want = PlainMessage {
                    authzid: *authzid,
                    authcid,
                    passwd,
                };
                assert_eq!(got, want, "{profile} on {message:?}");
                let mut out = Vec::new();
                encode(profile, &got, &mut out).unwrap();
                assert_eq!(&out, message, "{profile} re-encoding {message:?}");
            }
        }
    }

    #[test]
    fn refused_rows() {
        for (profiles, message, kind, offset) in REFUSED {
            for &profile in *profiles {
                let got = parse(profile, message).expect_err("must be refused");
                assert_eq!(
                    (got.kind, got.offset),
                    (*kind, *offset),
                    "{profile} on {message:?}"
                );
            }
        }
    }

    #[test]
    fn fields_of_255_octets_are_always_accepted() {
        let field = [b'a'; 255];
        let mut message = Vec::new();
        let whole = PlainMessage {
            authzid: Some(&field),
            authcid: &field,
            passwd: &field,
        };
        encode(Profile::Rfc4616, &whole, &mut message).unwrap();
        for profile in BOTH {
            for limits in [
                Limits::RFC_MINIMUM,
                Limits::DEFAULT,
                Limits {
                    max_field_octets: 1,
                },
            ] {
                assert_eq!(parse_with(profile, limits, &message).unwrap(), whole);
            }
        }
    }

    #[test]
    fn the_length_policy_above_255_is_explicit() {
        let long = [b'p'; 256];
        let mut message = b"\0tim\0".to_vec();
        message.extend_from_slice(&long);
        let err = parse_with(Profile::Rfc4616, Limits::RFC_MINIMUM, &message).unwrap_err();
        assert_eq!(
            err.kind,
            PlainErrorKind::FieldTooLong {
                field: Field::Passwd,
                len: 256,
                max: 255
            }
        );
        assert_eq!(err.offset, 5);
        assert!(parse(Profile::Rfc4616, &message).is_ok());
    }

    #[test]
    fn encode_refuses_what_parse_refuses_and_appends_nothing() {
        let mut out = b"keep".to_vec();
        let bad = PlainMessage {
            authzid: None,
            authcid: b"ti\nm",
            passwd: b"pw",
        };
        assert!(encode(Profile::Rfc2595, &bad, &mut out).is_err());
        let nul = PlainMessage {
            authzid: None,
            authcid: b"tim",
            passwd: b"p\0w",
        };
        assert!(encode(Profile::Rfc4616, &nul, &mut out).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = parse(Profile::Rfc2595, b"\0ti\rm\0pw").unwrap_err();
        assert_eq!(
            err.to_string(),
            "octet 0x0D is not allowed in authcid under rfc2595 (at byte offset 3)"
        );
    }
}
