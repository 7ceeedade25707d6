//! proptest properties of the PLAIN message codec and its base64 wrapping.

use mailtls::sasl::plain::{self, Limits, PlainMessage, Profile};
use mailtls::sasl::wire;
use proptest::prelude::*;

/// A field valid under both profiles: 1..=255 octets of UTF-8 without NUL, CR or LF.
fn field() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<char>().prop_filter("no NUL/CR/LF", |c| !matches!(c, '\0' | '\r' | '\n')),
        1..=64,
    )
    .prop_map(|chars| {
        let mut bytes = String::from_iter(chars).into_bytes();
        // Trim to at most 255 octets on a character boundary.
        while bytes.len() > 255 {
            bytes.pop();
            while std::str::from_utf8(&bytes).is_err() {
                bytes.pop();
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_parse_round_trips(authzid in proptest::option::of(field()), authcid in field(), passwd in field()) {
        let message = PlainMessage { authzid: authzid.as_deref(), authcid: &authcid, passwd: &passwd };
        for profile in [Profile::Rfc2595, Profile::Rfc4616] {
            let mut octets = Vec::new();
            plain::encode(profile, &message, &mut octets).unwrap();
            // Every field is at most 255 octets: even the strict policy accepts it.
            prop_assert_eq!(plain::parse_with(profile, Limits::RFC_MINIMUM, &octets).unwrap(), message);
            let b64 = wire::encode_initial_response(&octets);
            prop_assert_eq!(wire::decode_initial_response(b64.as_bytes()).unwrap(), octets);
        }
    }

    #[test]
    fn no_input_panics_and_accepted_input_reencodes(data in proptest::collection::vec(any::<u8>(), 0..600), max in 0usize..600) {
        for profile in [Profile::Rfc2595, Profile::Rfc4616] {
            if let Ok(message) = plain::parse_with(profile, Limits { max_field_octets: max }, &data) {
                let mut out = Vec::new();
                plain::encode(profile, &message, &mut out).unwrap();
                prop_assert_eq!(&out, &data);
            }
        }
        let _ = wire::decode_client_response(&data);
        let _ = wire::decode_initial_response(&data);
    }

    #[test]
    fn profiles_agree_on_ascii_without_cr_lf(data in proptest::collection::vec(prop_oneof![Just(0u8), 1u8..=9, 11u8..=12, 14u8..=127], 0..40)) {
        prop_assert_eq!(plain::parse(Profile::Rfc2595, &data), plain::parse(Profile::Rfc4616, &data));
    }

    #[test]
    fn a_nul_inside_a_field_is_never_accepted(authcid in field(), passwd in field(), at in 0usize..255) {
        let mut bad = passwd;
        bad.insert(at.min(bad.len()), 0);
        let message = PlainMessage { authzid: None, authcid: &authcid, passwd: &bad };
        for profile in [Profile::Rfc2595, Profile::Rfc4616] {
            prop_assert!(plain::encode(profile, &message, &mut Vec::new()).is_err());
        }
    }
}
