//! Fuzz entry point for the `plain` target: the input is a raw PLAIN message.

use crate::sasl::plain::{Limits, PlainError, Profile, encode, parse, parse_with};

/// Parses `data` under both profiles and asserts:
/// - an accepted message re-encodes to exactly the input;
/// - the profiles agree on every input that is plain ASCII without CR/LF (differential);
/// - RFC 4616 acceptance implies RFC 2595 acceptance when there is no CR/LF, and RFC 2595
///   acceptance implies RFC 4616 acceptance when the input is RFC 3629 UTF-8;
/// - the strict 255-octet policy never accepts what the default policy refuses.
pub fn fuzz_plain(data: &[u8]) {
    let old = parse(Profile::Rfc2595, data);
    let new = parse(Profile::Rfc4616, data);
    for (profile, parsed) in [(Profile::Rfc2595, &old), (Profile::Rfc4616, &new)] {
        if let Ok(message) = parsed {
            let mut out = Vec::with_capacity(data.len());
            assert!(
                encode(profile, message, &mut out).is_ok(),
                "{profile}: encode refused a parsed message"
            );
            assert_eq!(out, data, "{profile}: encode(parse(x)) != x");
        }
    }

    let no_cr_lf = !data.iter().any(|&b| b == b'\r' || b == b'\n');
    if no_cr_lf && data.is_ascii() {
        let offsets = |r: &Result<_, PlainError>| r.as_ref().map(|_| ()).map_err(|e| e.offset);
        assert_eq!(
            offsets(&old),
            offsets(&new),
            "profiles disagree on ASCII input"
        );
        assert_eq!(old, new, "profiles parse ASCII input differently");
    }
    if no_cr_lf && new.is_ok() {
        assert!(
            old.is_ok(),
            "RFC 4616 accepted what RFC 2595 refused: {old:?}"
        );
    }
    if old.is_ok() && std::str::from_utf8(data).is_ok() {
        assert!(
            new.is_ok(),
            "RFC 2595 accepted UTF-8 that RFC 4616 refused: {new:?}"
        );
    }

    if parse_with(Profile::Rfc4616, Limits::RFC_MINIMUM, data).is_ok() {
        assert!(
            new.is_ok(),
            "the 255-octet policy accepted what the default refused"
        );
    }
}
