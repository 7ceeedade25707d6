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

use std::ffi::CStr;
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
    let missing = |found| PlainError {
        kind: PlainErrorKind::MissingSeparator { found },
        offset: message.len(),
    };
    let (authzid, rest) = split_at_nul(message).ok_or_else(|| missing(0))?;
    let (authcid, passwd) = split_at_nul(rest).ok_or_else(|| missing(1))?;
    // Offsets are worked out only for an error.
    let at = |field: &[u8]| message.len() - field.len();
    if let Some((_, after)) = split_at_nul(passwd) {
        return Err(PlainError {
            kind: PlainErrorKind::ExtraSeparator,
            offset: at(after) - 1,
        });
    }

    // The two separators are the only NULs: no field needs looking at for one.
    let (max, nul) = (limits.effective_max(), Nul::Absent);
    check_field(profile, max, Field::Authzid, authzid, nul)?;
    check_field(profile, max, Field::Authcid, authcid, nul).map_err(|e| e.after(at(rest)))?;
    check_field(profile, max, Field::Passwd, passwd, nul).map_err(|e| e.after(at(passwd)))?;
    Ok(PlainMessage {
        authzid: (!authzid.is_empty()).then_some(authzid),
        authcid,
        passwd,
    })
}

/// `bytes` cut at its first NUL: what comes before it and what comes after it.
fn split_at_nul(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    // `CStr::from_bytes_until_nul` is the standard library's `memchr` for a NUL.
    let with_nul = CStr::from_bytes_until_nul(bytes).ok()?.to_bytes_with_nul();
    let (before, after) = bytes.split_at(with_nul.len());
    Some((before.split_last()?.1, after))
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
    let (authcid, passwd) = (message.authcid, message.passwd);
    let (max, nul) = (Limits::DEFAULT.effective_max(), Nul::Possible);
    let authcid_at = || authzid.len() + 1;
    check_field(profile, max, Field::Authzid, authzid, nul)?;
    check_field(profile, max, Field::Authcid, authcid, nul).map_err(|e| e.after(authcid_at()))?;
    check_field(profile, max, Field::Passwd, passwd, nul)
        .map_err(|e| e.after(authcid_at() + authcid.len() + 1))?;
    out.reserve(authzid.len() + authcid.len() + passwd.len() + 2);
    out.extend_from_slice(authzid);
    out.push(0);
    out.extend_from_slice(authcid);
    out.push(0);
    out.extend_from_slice(passwd);
    Ok(())
}

impl PlainError {
    /// The same error for a field that starts `at` octets into the message.
    fn after(self, at: usize) -> Self {
        Self {
            offset: at + self.offset,
            ..self
        }
    }
}

/// Whether a field may hold a NUL (a field the caller built) or is known not to (a field
/// cut from a message between its only two NULs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nul {
    Possible,
    Absent,
}

/// Checks one field of at most `max` octets; the error offset is from the field's start.
fn check_field(
    profile: Profile,
    max: usize,
    field: Field,
    bytes: &[u8],
    nul: Nul,
) -> Result<(), PlainError> {
    let fail = |kind, offset| Err(PlainError { kind, offset });
    // Empty (allowed for authzid) or too long, in one comparison.
    if bytes.len().wrapping_sub(1) >= max {
        if !bytes.is_empty() {
            let len = bytes.len();
            return fail(PlainErrorKind::FieldTooLong { field, len, max }, 0);
        }
        if field != Field::Authzid {
            return fail(PlainErrorKind::EmptyField { field }, 0);
        }
    }
    let scan = match profile {
        Profile::Rfc2595 => scan_rfc2595(bytes),
        Profile::Rfc4616 => scan_rfc3629(bytes, nul),
    };
    let Err((i, problem)) = scan else {
        return Ok(());
    };
    let kind = match problem {
        Problem::Octet(0) => PlainErrorKind::ExtraSeparator,
        Problem::Octet(octet) => PlainErrorKind::ForbiddenOctet {
            octet,
            field,
            profile,
        },
        Problem::Utf8(problem) => PlainErrorKind::InvalidUtf8 {
            problem,
            field,
            profile,
        },
    };
    fail(kind, i)
}

enum Problem {
    Octet(u8),
    Utf8(Utf8Problem),
}

/// RFC 2595's UTF8-SAFE, literally: ASCII but NUL/LF/CR, and lead octets C0–FD with
/// 1–5 continuation octets (80–BF), whatever the value they encode.
///
/// Every RFC 3629 character is also one of these (the 1999 ABNF allows more), so the
/// standard library's UTF-8 validation takes the well-formed start whole, where only NUL,
/// CR and LF remain to be found. Whatever RFC 3629 refuses after that goes through a state
/// machine; only when that refuses too is the character it stopped in read again, to say
/// what is wrong.
fn scan_rfc2595(bytes: &[u8]) -> Result<(), (usize, Problem)> {
    let (utf8, more) = utf8_prefix(bytes);
    // Inside well-formed UTF-8 an ASCII octet always starts a character.
    if has_octet(utf8, [0, b'\n', b'\r']) {
        let forbidden = |&b: &u8| matches!(b, 0 | b'\n' | b'\r');
        if let Some(at) = utf8.iter().position(forbidden) {
            return Err((at, Problem::Octet(utf8[at])));
        }
    }
    if !more {
        return Ok(());
    }
    let rest = bytes.get(utf8.len()..).unwrap_or_default();
    match rfc2595_refused(rest) {
        None => Ok(()),
        Some(at) => rfc2595_problem(bytes, utf8.len() + at),
    }
}

/// Where in `bytes` the character starts that RFC 2595 refuses (or `None`), by
/// [`RFC2595_NEXT`]: a table lookup per octet and no branch on the data, but for a look at
/// the state every 16 octets to stop early.
fn rfc2595_refused(bytes: &[u8]) -> Option<usize> {
    // All ones in the states between characters, where the next octet starts one.
    const BETWEEN: [usize; 8] = [usize::MAX, 0, 0, 0, 0, 0, 0, 0];
    let (mut state, mut start, mut i) = (0u8, 0usize, 0usize);
    for block in bytes.chunks(16) {
        for &octet in block {
            let between = BETWEEN[usize::from(state & 7)];
            start = (i & between) | (start & !between);
            state = RFC2595_NEXT[usize::from(state & 7)][usize::from(octet)];
            // At most `bytes.len()`.
            i = i.wrapping_add(1);
        }
        if state == REFUSED {
            return Some(start);
        }
    }
    // Refused when the last character is cut short.
    (state != 0).then_some(start)
}

/// The state of [`RFC2595_NEXT`] once something is refused; it stays there.
const REFUSED: u8 = 6;

/// RFC 2595's UTF8-SAFE as a state machine: the state is how many continuation octets the
/// character being read still needs (0-5), or [`REFUSED`]; the table gives the next state
/// by state and octet.
static RFC2595_NEXT: [[u8; 256]; 8] = {
    let mut table = [[REFUSED; 256]; 8];
    let mut octet = 0;
    while octet < 256 {
        // Between characters: what the octet starts.
        table[0][octet] = match octet {
            0x00 | 0x0A | 0x0D => REFUSED,
            0x01..=0x7F => 0,
            0xC0..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF7 => 3,
            0xF8..=0xFB => 4,
            0xFC..=0xFD => 5,
            _ => REFUSED,
        };
        // Inside a character: a continuation octet, one fewer to go.
        if octet >= 0x80 && octet <= 0xBF {
            let mut state = 1;
            while state <= 5 {
                table[state][octet] = state as u8 - 1;
                state += 1;
            }
        }
        octet += 1;
    }
    table
};

/// The first problem in `bytes` under RFC 2595, reading one character at a time from
/// `from`, a character boundary.
fn rfc2595_problem(bytes: &[u8], from: usize) -> Result<(), (usize, Problem)> {
    let mut i = from;
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
fn scan_rfc3629(bytes: &[u8], nul: Nul) -> Result<(), (usize, Problem)> {
    // The standard library validates RFC 3629 UTF-8; only on failure do we classify.
    let (valid, more) = utf8_prefix(bytes);
    if nul == Nul::Possible {
        if let Some((before, _)) = split_at_nul(valid) {
            return Err((before.len(), Problem::Octet(0)));
        }
    }
    if !more {
        return Ok(());
    }
    let rest = bytes.get(valid.len()..).unwrap_or_default();
    Err((valid.len(), Problem::Utf8(classify_rfc3629(rest))))
}

/// The longest well-formed RFC 3629 UTF-8 prefix of `bytes`, and whether anything follows
/// it.
fn utf8_prefix(bytes: &[u8]) -> (&[u8], bool) {
    match std::str::from_utf8(bytes) {
        Ok(_) => (bytes, false),
        Err(e) => (bytes.split_at(e.valid_up_to()).0, true),
    }
}

/// Whether some octet of `bytes` is one of `needles`, which must be ASCII.
///
/// Eight octets at a time (SWAR) and with no branch on the data: a loop with a comparison
/// per octet costs several times more, and under fuzzing instrumentation every comparison
/// is also a call into the fuzzer. Where the octet is, the rare caller that needs it finds
/// out octet by octet.
fn has_octet<const N: usize>(bytes: &[u8], needles: [u8; N]) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = ONES << 7;
    // Non-zero when an octet of `word` is a needle: subtracting 0x01 from a zero octet of
    // `x` borrows into its high bit, which `!x` keeps since a needle is ASCII. (A borrow
    // can also mark the octet above; that one only ever follows a true match.)
    let hits = |word: u64| {
        needles.into_iter().fold(0, |acc, needle| {
            let x = word ^ (ONES * u64::from(needle));
            acc | (x.wrapping_sub(ONES) & !x & HIGHS)
        })
    };
    let found = bytes.chunks_exact(8).fold(0, |acc, word| {
        acc | hits(u64::from_le_bytes(word.try_into().unwrap_or_default()))
    });
    // The last 0-7 octets: in the last eight, which may overlap what was read (harmless:
    // only "whether" is asked), or above padding of 0x80 (not ASCII, so no needle). Not a
    // loop over the octets: unrolled, that is one comparison each.
    let last = match bytes.last_chunk::<8>() {
        Some(last) => *last,
        None => {
            let mut word = [0x80; 8];
            word[..bytes.len()].copy_from_slice(bytes);
            word
        }
    };
    found | hits(u64::from_le_bytes(last)) != 0
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

    /// The octet-at-a-time parser this module had before the SWAR and UTF-8 fast paths,
    /// kept as the reference the fast one must agree with exactly.
    mod reference {
        use super::super::{
            Field, Limits, PlainError, PlainErrorKind, PlainMessage, Profile, Utf8Problem,
            classify_rfc3629,
        };

        pub(super) fn parse_with(
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

        pub(super) fn check_field(
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
                let len = bytes.len();
                return fail(PlainErrorKind::FieldTooLong { field, len, max }, at);
            }
            let scan = match profile {
                Profile::Rfc2595 => scan_rfc2595(bytes),
                Profile::Rfc4616 => scan_rfc3629(bytes),
            };
            match scan {
                Ok(()) => Ok(()),
                Err((i, Ok(0))) => fail(PlainErrorKind::ExtraSeparator, at + i),
                Err((i, Ok(octet))) => {
                    let kind = PlainErrorKind::ForbiddenOctet {
                        octet,
                        field,
                        profile,
                    };
                    fail(kind, at + i)
                }
                Err((i, Err(problem))) => {
                    let kind = PlainErrorKind::InvalidUtf8 {
                        problem,
                        field,
                        profile,
                    };
                    fail(kind, at + i)
                }
            }
        }

        type Problem = Result<u8, Utf8Problem>;

        fn scan_rfc2595(bytes: &[u8]) -> Result<(), (usize, Problem)> {
            let mut i = 0;
            while let Some(&lead) = bytes.get(i) {
                let continuations = match lead {
                    0x00 | b'\n' | b'\r' => return Err((i, Ok(lead))),
                    0x01..=0x7F => 0,
                    0x80..=0xBF => return Err((i, Err(Utf8Problem::UnexpectedContinuation))),
                    0xC0..=0xDF => 1,
                    0xE0..=0xEF => 2,
                    0xF0..=0xF7 => 3,
                    0xF8..=0xFB => 4,
                    0xFC..=0xFD => 5,
                    0xFE..=0xFF => return Err((i, Err(Utf8Problem::InvalidLeadOctet))),
                };
                for k in 1..=continuations {
                    match bytes.get(i + k) {
                        Some(0x80..=0xBF) => {}
                        _ => return Err((i, Err(Utf8Problem::Truncated))),
                    }
                }
                i += 1 + continuations;
            }
            Ok(())
        }

        fn scan_rfc3629(bytes: &[u8]) -> Result<(), (usize, Problem)> {
            let (valid, invalid) = match std::str::from_utf8(bytes) {
                Ok(_) => (bytes, None),
                Err(e) => {
                    let (valid, rest) = bytes.split_at(e.valid_up_to());
                    (valid, Some(rest))
                }
            };
            if let Some(nul) = valid.iter().position(|&b| b == 0) {
                return Err((nul, Ok(0)));
            }
            match invalid {
                Some(rest) => Err((valid.len(), Err(classify_rfc3629(rest)))),
                None => Ok(()),
            }
        }
    }

    /// A small deterministic generator (xorshift64*), so the differential runs the same
    /// inputs every time.
    struct Octets(u64);

    impl Octets {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// An octet that is interesting to the grammar more often than not.
        fn octet(&mut self) -> u8 {
            const SHAPES: &[u8] = &[
                0x00, 0x00, b'\r', b'\n', b'a', b'Z', 0x01, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB,
                0xFC, 0xFD, 0xFE, 0xFF,
            ];
            let r = self.next();
            if r % 3 == 0 {
                (r >> 8) as u8
            } else {
                SHAPES[(r >> 8) as usize % SHAPES.len()]
            }
        }
    }

    #[test]
    fn the_fast_parser_agrees_with_the_octet_at_a_time_one() {
        let mut rng = Octets(0x9E37_79B9_7F4A_7C15);
        let mut message = Vec::new();
        for case in 0..200_000 {
            message.clear();
            // Mostly short messages, some with fields around the 255-octet policy.
            let len = match case % 8 {
                1 => 240 + (rng.next() % 600) as usize,
                _ => (rng.next() % 40) as usize,
            };
            // A quarter ASCII only, an eighth also without CR and LF.
            let shape = rng.next() % 8;
            if shape == 2 {
                // Characters RFC 2595 allows and RFC 3629 does not (overlong, surrogate,
                // 5- and 6-octet forms) among ASCII, now and then broken by a stray octet.
                const SEQUENCES: &[&[u8]] = &[
                    b"\xC0\x80",
                    b"\xED\xA0\x80",
                    b"\xF8\x88\x80\x80\x80",
                    b"\xFC\x84\x80\x80\x80\x80",
                    b"\xC3\xA9",
                    b"ab",
                ];
                while message.len() < len {
                    let r = rng.next();
                    if r % 29 == 0 {
                        message.push(rng.octet());
                    } else {
                        let sequence = SEQUENCES[(r >> 8) as usize % SEQUENCES.len()];
                        message.extend_from_slice(sequence);
                    }
                }
            }
            for _ in message.len()..len {
                let octet = match rng.octet() {
                    0x80.. if shape < 2 => b'x',
                    b'\r' | b'\n' if shape == 0 => b'y',
                    octet => octet,
                };
                message.push(octet);
            }
            // Usually exactly two NULs, so the fields themselves get read.
            if case % 4 != 0 {
                message.retain(|&b| b != 0);
                for _ in 0..2 {
                    let at = (rng.next() as usize) % (message.len() + 1);
                    message.insert(at, 0);
                }
            }
            for profile in BOTH {
                for limits in [Limits::RFC_MINIMUM, Limits::DEFAULT] {
                    assert_eq!(
                        parse_with(profile, limits, &message),
                        reference::parse_with(profile, limits, &message),
                        "{profile} on {message:?}"
                    );
                }
                // Fields a caller built, NULs and all, for encode's checks.
                for (field, at) in [(Field::Authzid, 0), (Field::Passwd, 7)] {
                    let limits = Limits::DEFAULT;
                    assert_eq!(
                        check_field(
                            profile,
                            limits.effective_max(),
                            field,
                            &message,
                            Nul::Possible
                        )
                        .map_err(|e| e.after(at)),
                        reference::check_field(profile, limits, field, &message, at),
                        "{profile} on field {message:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn has_octet_agrees_with_an_octet_by_octet_search() {
        // Octets beside the needles that trip borrow-based tricks: 0x01, 0x80, 0xFF.
        let filler = [b'a', 0x01, 0x80, 0xFF, 0x0B, 0x0E];
        for len in 0..40 {
            for fill in 0..filler.len() {
                let base: Vec<u8> = (0..len)
                    .map(|i| filler[(i + fill) % filler.len()])
                    .collect();
                let all = [0, b'\n', b'\r'];
                assert!(!has_octet(&base, all), "{base:?}");
                for at in 0..len {
                    for octet in 0..=255 {
                        let mut bytes = base.clone();
                        bytes[at] = octet;
                        assert_eq!(has_octet(&bytes, all), all.contains(&octet), "{bytes:?}");
                        assert_eq!(has_octet(&bytes, [b'\r']), octet == b'\r', "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn split_at_nul_cuts_at_the_first_nul() {
        assert_eq!(split_at_nul(b""), None);
        assert_eq!(split_at_nul(b"abc"), None);
        assert_eq!(split_at_nul(b"\0"), Some((&b""[..], &b""[..])));
        assert_eq!(split_at_nul(b"ab\0c\0d"), Some((&b"ab"[..], &b"c\0d"[..])));
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
