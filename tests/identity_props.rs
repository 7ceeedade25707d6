//! proptest properties of the server identity check.

use mailtls::identity::{Presented, Rules, Verdict, check, match_name};
use proptest::prelude::*;

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

/// A valid host name of 1..=4 labels.
fn host() -> impl Strategy<Value = String> {
    proptest::collection::vec(label(), 1..=4).prop_map(|labels| labels.join("."))
}

/// A presented name: a host, or a wildcard over one.
fn presented() -> impl Strategy<Value = String> {
    prop_oneof![host(), host().prop_map(|h| format!("*.{h}"))]
}

fn flip_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ascii_case_changes_nothing(reference in host(), names in proptest::collection::vec(presented(), 0..4), m1: u64, m2: u64) {
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        let shouted: Vec<String> = names.iter().map(|n| flip_case(n, m2)).collect();
        let shouted_ref: Vec<&str> = shouted.iter().map(String::as_str).collect();
        for rules in Rules::ALL {
            let a = check(rules, &reference, &Presented { dns_names: &names_ref, ..Presented::default() });
            let b = check(rules, &flip_case(&reference, m1), &Presented { dns_names: &shouted_ref, ..Presented::default() });
            prop_assert_eq!((a.verdict, a.rule, a.source), (b.verdict, b.rule, b.source));
        }
    }

    #[test]
    fn a_wildcard_covers_exactly_one_label(base in host(), x in label(), y in label()) {
        let wildcard = format!("*.{base}");
        for rules in Rules::ALL {
            prop_assert!(!match_name(rules, &base, &wildcard).matched, "{} matched its bare parent {}", wildcard, base);
            prop_assert!(!match_name(rules, &format!("{x}.{y}.{base}"), &wildcard).matched, "two labels matched");
            let one = match_name(rules, &format!("{x}.{base}"), &wildcard).matched;
            // rfc6125/rfc9525 refuse "*.tld"; otherwise one label always matches.
            prop_assert_eq!(one, rules == Rules::Rfc2595 || base.contains('.'));
        }
    }

    #[test]
    fn later_rule_sets_are_stricter(reference in host(), names in proptest::collection::vec(presented(), 0..3), cn in proptest::option::of(presented())) {
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        let cns: Vec<&str> = cn.iter().map(String::as_str).collect();
        let p = Presented { dns_names: &names_ref, common_names: &cns, ..Presented::default() };
        let [old, mid, new] = Rules::ALL.map(|r| check(r, &reference, &p).is_match());
        prop_assert!(!new || mid);
        prop_assert!(!mid || old);
        // A CN never decides when a dNSName is present.
        if !names_ref.is_empty() {
            let without_cn = Presented { dns_names: &names_ref, ..Presented::default() };
            for rules in Rules::ALL {
                prop_assert_eq!(check(rules, &reference, &p).is_match(), check(rules, &reference, &without_cn).is_match());
            }
        }
    }

    #[test]
    fn no_input_panics(reference in any::<String>(), names in proptest::collection::vec(any::<String>(), 0..4)) {
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        for rules in Rules::ALL {
            let d = check(rules, &reference, &Presented { dns_names: &names_ref, common_names: &names_ref, ..Presented::default() });
            if d.verdict == Verdict::Match {
                prop_assert!(reference.is_ascii());
            }
        }
    }
}
