//! Fuzz entry point for the `identity` target.
//!
//! Input format (text, `\n`-separated lines; seeds in `corpus/identity/`):
//! line 1 is the reference name; each further line is a presented dNSName SAN, or
//! `cn:NAME` for a subject common name, or `ip:ADDR` for an iPAddress SAN.

use std::net::IpAddr;

use crate::identity::{Presented, Rule, Rules, Source, Verdict, check, match_name};

/// Runs all three rule sets on one input and asserts what must hold between them.
pub fn fuzz_identity(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let reference = lines.next().unwrap_or_default();
    let mut dns_names = Vec::new();
    let mut common_names = Vec::new();
    let mut ip_addresses: Vec<IpAddr> = Vec::new();
    for line in lines {
        if let Some(cn) = line.strip_prefix("cn:") {
            common_names.push(cn);
        } else if let Some(ip) = line.strip_prefix("ip:") {
            ip_addresses.extend(ip.parse::<IpAddr>());
        } else {
            dns_names.push(line);
        }
    }
    let presented = Presented {
        dns_names: &dns_names,
        ip_addresses: &ip_addresses,
        common_names: &common_names,
    };

    let upper = reference.to_ascii_uppercase();
    let decisions = Rules::ALL.map(|rules| check(rules, reference, &presented));
    for (rules, decision) in Rules::ALL.into_iter().zip(decisions) {
        // Matching is case-insensitive: the verdict survives an ASCII case change.
        let shouted = check(rules, &upper, &presented);
        assert_eq!(
            decision.verdict, shouted.verdict,
            "{rules}: case changed the verdict"
        );

        if decision.verdict == Verdict::Match {
            if let Some(Source::DnsName(i)) = decision.source {
                let name = dns_names.get(i).copied().unwrap_or_default();
                assert!(
                    match_name(rules, reference, name).matched,
                    "{rules}: source {name:?} does not match alone"
                );
            }
            if decision.rule == Rule::WildcardMatchesOneLabel {
                // A wildcard match covers exactly one label: the reference has a dot, and
                // dropping its first label leaves the wildcard's base.
                assert!(
                    reference.trim_end_matches('.').contains('.'),
                    "{rules}: wildcard matched a single label"
                );
            }
        }
    }

    // Malformed is about the reference alone: every rule set agrees.
    let malformed = decisions.map(|d| d.verdict == Verdict::Malformed);
    assert!(
        malformed.iter().all(|&m| m == malformed[0]),
        "rule sets disagree on malformed"
    );
    // Later rule sets are stricter: rfc9525 ⊆ rfc6125 ⊆ rfc2595.
    let [old, mid, new] = decisions.map(|d| d.is_match());
    assert!(!new || mid, "rfc9525 matched where rfc6125 did not");
    assert!(!mid || old, "rfc6125 matched where rfc2595 did not");
}
