//! Fuzz entry point for the `plain` target: the input is a raw PLAIN message.
//!
//! Every property below is asserted for every input. What makes that cheap: nothing
//! allocates (the re-encoding goes to a reused buffer), nothing compares octet by octet
//! (the shape of the input is read eight octets at a time, see [`Shape::of`]), and an
//! implication whose conclusion already holds is not worked out further.

use std::cell::RefCell;

use crate::sasl::plain::{Limits, PlainError, PlainMessage, Profile, encode, parse_with};

thread_local! {
    /// The re-encoding buffer, reused across inputs.
    static ENCODED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Parses `data` under both profiles and asserts:
/// - an accepted message re-encodes to exactly the input;
/// - the profiles agree on every input that is plain ASCII without CR/LF (differential);
/// - RFC 4616 acceptance implies RFC 2595 acceptance when there is no CR/LF, and RFC 2595
///   acceptance implies RFC 4616 acceptance when the input is RFC 3629 UTF-8;
/// - the strict 255-octet policy never accepts what the default policy refuses.
pub fn fuzz_plain(data: &[u8]) {
    let old = parse(Profile::Rfc2595, Limits::DEFAULT, data);
    let new = parse(Profile::Rfc4616, Limits::DEFAULT, data);
    for (profile, parsed) in [(Profile::Rfc2595, &old), (Profile::Rfc4616, &new)] {
        if let Ok(message) = parsed {
            ENCODED.with_borrow_mut(|out| {
                out.clear();
                assert!(
                    encode(profile, message, out).is_ok(),
                    "{profile}: encode refused a parsed message"
                );
                assert_eq!(out, data, "{profile}: encode(parse(x)) != x");
            });
        }
    }

    // The differential checks. Each is an implication, so the input's shape is worked out
    // only when the conclusion does not already hold: equal results satisfy both of the
    // first two, and an accepted RFC 4616 parse the third.
    if old != new {
        let shape = Shape::of(data);
        if !shape.cr_lf && shape.ascii {
            let offsets = |r: &Result<_, PlainError>| r.as_ref().map(|_| ()).map_err(|e| e.offset);
            assert_eq!(
                offsets(&old),
                offsets(&new),
                "profiles disagree on ASCII input"
            );
            assert_eq!(old, new, "profiles parse ASCII input differently");
        }
        if !shape.cr_lf && new.is_ok() {
            assert!(
                old.is_ok(),
                "RFC 4616 accepted what RFC 2595 refused: {old:?}"
            );
        }
    }
    if old.is_ok() && new.is_err() && std::str::from_utf8(data).is_ok() {
        panic!("RFC 2595 accepted UTF-8 that RFC 4616 refused: {new:?}");
    }

    if parse(Profile::Rfc4616, Limits::RFC_MINIMUM, data).is_ok() {
        assert!(
            new.is_ok(),
            "the 255-octet policy accepted what the default refused"
        );
    }
}

/// The one place the parser is called from, so that the three parses share their coverage
/// counters: each distinct edge an input runs through costs libFuzzer time to collect, and
/// three inlined copies of the parser would triple that.
#[inline(never)]
fn parse(profile: Profile, limits: Limits, data: &[u8]) -> Result<PlainMessage<'_>, PlainError> {
    parse_with(profile, limits, data)
}

/// What the differential checks need to know about the input, found independently of the
/// parser.
struct Shape {
    /// Every octet is below 0x80.
    ascii: bool,
    /// Some octet is CR or LF.
    cr_lf: bool,
}

impl Shape {
    /// Reads `data` a 64-bit word at a time, with no comparison per octet: under the
    /// fuzzer's instrumentation each comparison is a call.
    fn of(data: &[u8]) -> Self {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGHS: u64 = ONES << 7;
        // Non-zero when some octet of `word` is `octet` (an ASCII octet): the high bit of a
        // zero octet of `word ^ octet...` is set by the subtraction and not masked out.
        let has = |word: u64, octet: u8| {
            let x = word ^ (ONES * u64::from(octet));
            x.wrapping_sub(ONES) & !x & HIGHS
        };
        let (mut high, mut cr_lf) = (0, 0);
        let mut scan = |word: u64| {
            high |= word & HIGHS;
            cr_lf |= has(word, b'\r') | has(word, b'\n');
        };
        for word in data.chunks_exact(8) {
            scan(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        // The last 0-7 octets: in the last eight, which may overlap what was read (harmless
        // here), or padded with spaces (ASCII, neither CR nor LF).
        let last = match data.last_chunk::<8>() {
            Some(last) => *last,
            None => {
                let mut word = [b' '; 8];
                word[..data.len()].copy_from_slice(data);
                word
            }
        };
        scan(u64::from_le_bytes(last));
        Self {
            ascii: high == 0,
            cr_lf: cr_lf != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_agrees_with_octet_by_octet_answers() {
        // Every octet at every offset of a word and a tail, beside the octets that set
        // borrows (0x00) and high bits (0x80, 0xFF).
        for len in [1, 8, 17] {
            for at in 0..len {
                for octet in 0..=255u8 {
                    for other in [b'q', 0x00, 0x01, 0x0E, 0x80, 0xFF] {
                        let mut data = vec![other; len];
                        data[at] = octet;
                        let shape = Shape::of(&data);
                        assert_eq!(shape.ascii, data.is_ascii(), "{data:?}");
                        let cr_lf = data.iter().any(|&b| b == b'\r' || b == b'\n');
                        assert_eq!(shape.cr_lf, cr_lf, "{data:?}");
                    }
                }
            }
        }
        assert!(Shape::of(b"").ascii && !Shape::of(b"").cr_lf);
    }
}
