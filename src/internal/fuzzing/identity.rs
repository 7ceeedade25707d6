//! Fuzz entry point for the `identity` target.
//!
//! Input format (text, `\n`-separated lines; seeds in `corpus/identity/`):
//! line 1 is the reference name; each further line is a presented dNSName SAN, or
//! `cn:NAME` for a subject common name, or `ip:ADDR` for an iPAddress SAN. Input that is
//! not UTF-8 is read as `String::from_utf8_lossy` would read it.
//!
//! The entry point allocates nothing per UTF-8 input (the fuzzer pays for every
//! allocation on every execution): lines are gathered on the stack, and the upper-cased
//! reference goes to a buffer reused from one input to the next.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};

use crate::identity::{Presented, Rule, Rules, Source, Verdict, check, match_name};

thread_local! {
    /// The upper-cased reference.
    static SHOUTED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs all three rule sets on one input and asserts what must hold between them.
pub fn fuzz_identity(data: &[u8]) {
    // Borrowed when `data` is UTF-8; otherwise the one allocation, done by the (compiled,
    // uninstrumented) standard library rather than an instrumented loop here.
    fuzz_text(&String::from_utf8_lossy(data));
}

fn fuzz_text(text: &str) {
    let mut lines = text.split('\n');
    let reference = lines.next().unwrap_or_default();
    let mut dns_names = Few::<&str, 16>::new("");
    let mut common_names = Few::<&str, 8>::new("");
    let mut ip_addresses = Few::<IpAddr, 8>::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    for line in lines {
        if let Some(cn) = line.strip_prefix("cn:") {
            common_names.push(cn);
        } else if let Some(ip) = line.strip_prefix("ip:") {
            if let Ok(ip) = ip.parse::<IpAddr>() {
                ip_addresses.push(ip);
            }
        } else {
            dns_names.push(line);
        }
    }
    let dns_names = dns_names.as_slice();
    let presented = Presented {
        dns_names,
        ip_addresses: ip_addresses.as_slice(),
        common_names: common_names.as_slice(),
    };

    SHOUTED.with_borrow_mut(|upper| {
        // ASCII upper-casing through a table: `to_ascii_uppercase` compares every octet.
        upper.clear();
        upper.extend(
            reference
                .bytes()
                .map(|octet| ASCII_UPPER[usize::from(octet)]),
        );
        match std::str::from_utf8(upper) {
            Ok(upper) => check_all(reference, upper, dns_names, &presented),
            Err(_) => unreachable!("ASCII case mapping keeps UTF-8 valid"),
        }
    });
}

fn check_all(reference: &str, upper: &str, dns_names: &[&str], presented: &Presented<'_>) {
    let decisions = Rules::ALL.map(|rules| check(rules, reference, presented));
    for (rules, decision) in Rules::ALL.into_iter().zip(decisions) {
        // Matching is case-insensitive: the verdict survives an ASCII case change.
        let shouted = check(rules, upper, presented);
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

/// Each octet, ASCII-uppercased.
static ASCII_UPPER: [u8; 256] = {
    let mut table = [0; 256];
    let mut octet = 0;
    while octet < 256 {
        table[octet] = (octet as u8).to_ascii_uppercase();
        octet += 1;
    }
    table
};

/// Up to `N` items on the stack, more on the heap.
struct Few<T, const N: usize> {
    inline: [T; N],
    len: usize,
    spilled: Vec<T>,
}

impl<T: Copy, const N: usize> Few<T, N> {
    fn new(fill: T) -> Self {
        Self {
            inline: [fill; N],
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn push(&mut self, item: T) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = item;
            self.len += 1;
        } else {
            if self.spilled.is_empty() {
                self.spilled.extend_from_slice(&self.inline);
            }
            self.spilled.push(item);
        }
    }

    fn as_slice(&self) -> &[T] {
        if self.spilled.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.spilled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_keeps_order_across_the_spill() {
        let mut few = Few::<usize, 3>::new(0);
        for (i, want) in (0..10).zip(1..) {
            few.push(i);
            assert_eq!(few.as_slice(), (0..want).collect::<Vec<_>>());
        }
    }
}
