//! The server identity check: does a certificate's presented names cover the host name
//! the client meant to reach?
//!
//! RFC 2595 §2.4 puts it so (<https://www.rfc-editor.org/rfc/rfc2595#section-2.4>):
//!
//! > If a subjectAltName extension of type dNSName is present in the certificate, it
//! > SHOULD be used as the source of the server's identity.
//! > Matching is case-insensitive.
//! > A "*" wildcard character MAY be used as the left-most name component in the
//! > certificate. For example, *.example.com would match a.example.com, foo.example.com,
//! > etc. but would not match example.com.
//! > If the certificate contains multiple names (e.g. more than one dNSName field), then
//! > a match with any one of the fields is considered acceptable.
//!
//! Three rule sets are offered ([`Rules`]); each answer names the [`Rule`] that decided
//! it. Decisions on the edges the RFCs leave open, the same in every rule set unless
//! said otherwise:
//!
//! - **Case**: ASCII case-insensitive; no Unicode case folding.
//! - **Trailing dot**: one trailing dot (an absolute name, `mail.example.com.`) is
//!   ignored on the reference and on presented names.
//! - **Syntax**: a name is labels of `A-Z a-z 0-9 - _`, 1–63 octets each, at most 253
//!   octets in all. An empty label (`a..b`, a leading dot) makes a name malformed.
//! - **Malformed reference** (empty, empty labels, non-ASCII, NUL, other octets, a `*`):
//!   the verdict is [`Verdict::Malformed`], whatever is presented.
//! - **Malformed presented name**: it is skipped (it matches nothing) and named in the
//!   answer when nothing else matched.
//! - **IDN**: names are compared as A-labels (`xn--...`); U-labels (non-ASCII) are
//!   malformed: convert them to A-labels first. A full-label `*` may match an A-label.
//! - **Wildcards**: only a `*` that is the entire left-most label, matching exactly one
//!   label: never the bare parent (`example.com` for `*.example.com`), never two labels
//!   (`a.b.example.com`). `*` anywhere else, partial labels (`m*.example.com`) and `*`
//!   alone never match. `*.com`-style wildcards (one label after the `*`) match under
//!   `rfc2595`, which does not forbid them, and are refused by `rfc6125` and `rfc9525`.
//! - **IP-address references** (`127.0.0.1`, `::1`) match only an iPAddress SAN with the
//!   same address; dNSNames, wildcards and CNs are never used for them.
//! - **CN**: `rfc2595` and `rfc6125` use the subject CN only when the certificate has no
//!   dNSName SAN; `rfc9525` never uses it.

pub mod cert;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Which specification's matching rules to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rules {
    /// RFC 2595 §2.4 (1999).
    Rfc2595,
    /// RFC 6125 §6 as profiled for email by RFC 7817: no partial-label wildcards, no
    /// `*.tld`, CN only without dNSName SANs.
    Rfc6125,
    /// RFC 9525, which obsoletes RFC 6125: as `Rfc6125`, and the CN is never used.
    Rfc9525,
}

impl Rules {
    /// Every rule set, oldest first.
    pub const ALL: [Self; 3] = [Self::Rfc2595, Self::Rfc6125, Self::Rfc9525];

    /// The name the CLI and reports use (`rfc2595`, `rfc6125`, `rfc9525`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Rfc2595 => "rfc2595",
            Self::Rfc6125 => "rfc6125",
            Self::Rfc9525 => "rfc9525",
        }
    }

    fn allows_common_name(self) -> bool {
        !matches!(self, Self::Rfc9525)
    }

    fn allows_single_label_wildcard_base(self) -> bool {
        matches!(self, Self::Rfc2595)
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Rules {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.id().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown rule set {s:?}: expected rfc2595, rfc6125 or rfc9525"))
    }
}

/// The identities a certificate presents.
#[derive(Clone, Copy, Debug, Default)]
pub struct Presented<'a> {
    /// subjectAltName entries of type dNSName, in certificate order.
    pub dns_names: &'a [&'a str],
    /// subjectAltName entries of type iPAddress.
    pub ip_addresses: &'a [IpAddr],
    /// The subject's common names (CN).
    pub common_names: &'a [&'a str],
}

/// The overall answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A presented identity covers the reference name.
    Match,
    /// None does.
    NoMatch,
    /// The reference name itself is not a valid host name or IP address.
    Malformed,
}

impl Verdict {
    /// `match`, `no-match` or `malformed`, as JSON output spells it.
    pub fn id(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::NoMatch => "no-match",
            Self::Malformed => "malformed",
        }
    }
}

/// What is wrong with a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformation {
    /// Nothing (or only a dot).
    Empty,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label over 63 octets.
    LabelTooLong,
    /// Over 253 octets.
    NameTooLong,
    /// A NUL octet (the classic certificate-parser attack, CVE-2009-2408).
    Nul,
    /// A non-ASCII character: U-labels must be converted to A-labels first.
    NonAscii,
    /// An ASCII character that is not allowed in a host name.
    InvalidCharacter(char),
    /// A `*` in a reference name.
    WildcardInReference,
}

impl fmt::Display for Malformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the name is empty"),
            Self::EmptyLabel => f.write_str("the name has an empty label"),
            Self::LabelTooLong => f.write_str("a label is longer than 63 octets"),
            Self::NameTooLong => f.write_str("the name is longer than 253 octets"),
            Self::Nul => f.write_str("the name contains a NUL"),
            Self::NonAscii => f.write_str(
                "the name contains non-ASCII characters (convert U-labels to xn-- A-labels)",
            ),
            Self::InvalidCharacter(c) => write!(f, "the name contains {c:?}"),
            Self::WildcardInReference => f.write_str("a reference name cannot contain \"*\""),
        }
    }
}

/// The rule that decided an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// A presented name equals the reference, ignoring ASCII case.
    ExactMatch,
    /// `*` as the entire left-most label matched exactly one label.
    WildcardMatchesOneLabel,
    /// `*.example.com` does not match `example.com`.
    WildcardDoesNotMatchParent,
    /// `*.example.com` does not match `a.b.example.com`.
    WildcardMatchesOnlyOneLabel,
    /// A `*` outside the left-most label never matches.
    WildcardNotLeftmost,
    /// `m*.example.com`: a wildcard that is part of a label never matches.
    PartialLabelWildcard,
    /// `*` alone never matches.
    BareWildcard,
    /// `*.com`: one label after the wildcard (refused by RFC 6125 / RFC 9525).
    WildcardTooBroad,
    /// No presented name equals or covers the reference.
    NoNameMatches,
    /// The CN matched because the certificate has no dNSName SAN.
    CommonNameWithoutSan,
    /// The CN would match, but dNSName SANs are present and take precedence.
    SanTakesPrecedenceOverCommonName,
    /// The CN would match, but RFC 9525 never uses the CN.
    CommonNameNotUsed,
    /// An iPAddress SAN equals the IP-address reference.
    IpAddressMatch,
    /// No iPAddress SAN equals the IP-address reference (names never match an IP).
    IpAddressNoMatch,
    /// The certificate presents no identity usable for this reference.
    NothingPresented,
    /// The reference name is malformed.
    MalformedReference(Malformation),
    /// A presented name is malformed and was skipped.
    MalformedPresented(Malformation),
}

impl Rule {
    /// A stable id (`wildcard-matches-only-one-label`), for JSON and expectations.
    pub fn id(self) -> &'static str {
        match self {
            Self::ExactMatch => "exact-match",
            Self::WildcardMatchesOneLabel => "wildcard-matches-one-label",
            Self::WildcardDoesNotMatchParent => "wildcard-does-not-match-parent",
            Self::WildcardMatchesOnlyOneLabel => "wildcard-matches-only-one-label",
            Self::WildcardNotLeftmost => "wildcard-not-leftmost",
            Self::PartialLabelWildcard => "partial-label-wildcard",
            Self::BareWildcard => "bare-wildcard",
            Self::WildcardTooBroad => "wildcard-too-broad",
            Self::NoNameMatches => "no-name-matches",
            Self::CommonNameWithoutSan => "cn-without-san",
            Self::SanTakesPrecedenceOverCommonName => "san-takes-precedence-over-cn",
            Self::CommonNameNotUsed => "cn-not-used",
            Self::IpAddressMatch => "ip-address-match",
            Self::IpAddressNoMatch => "ip-address-no-match",
            Self::NothingPresented => "nothing-presented",
            Self::MalformedReference(_) => "malformed-reference",
            Self::MalformedPresented(_) => "malformed-presented",
        }
    }

    /// Where the rule comes from, for the rule set in force.
    pub fn clause(self, rules: Rules) -> &'static str {
        match (self, rules) {
            (Self::WildcardTooBroad | Self::PartialLabelWildcard, Rules::Rfc6125) => {
                "RFC 6125 §6.4.3, as profiled by RFC 7817 §3"
            }
            (Self::WildcardTooBroad | Self::PartialLabelWildcard, Rules::Rfc9525) => {
                "RFC 9525 §6.3"
            }
            (Self::CommonNameNotUsed, _) => "RFC 9525 §6.3 (CN-IDs are not used)",
            (Self::IpAddressMatch | Self::IpAddressNoMatch, _) => {
                "RFC 6125 §1.7.2 / RFC 9525 §6.5 (IP addresses match iPAddress SANs only)"
            }
            (_, Rules::Rfc2595) => "RFC 2595 §2.4",
            (Self::CommonNameWithoutSan | Self::SanTakesPrecedenceOverCommonName, _) => {
                "RFC 6125 §6.4.4"
            }
            (_, Rules::Rfc6125) => "RFC 6125 §6.4",
            (_, Rules::Rfc9525) => "RFC 9525 §6.3",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExactMatch => f.write_str("the name equals the reference (case-insensitive)"),
            Self::WildcardMatchesOneLabel => {
                f.write_str("\"*\" as the entire left-most label matches exactly one label")
            }
            Self::WildcardDoesNotMatchParent => {
                f.write_str("a wildcard does not match its bare parent domain")
            }
            Self::WildcardMatchesOnlyOneLabel => {
                f.write_str("a wildcard matches one label only, never two or more")
            }
            Self::WildcardNotLeftmost => {
                f.write_str("\"*\" is allowed only as the left-most name component")
            }
            Self::PartialLabelWildcard => {
                f.write_str("\"*\" must be the entire left-most label, not part of it")
            }
            Self::BareWildcard => f.write_str("\"*\" alone matches nothing"),
            Self::WildcardTooBroad => {
                f.write_str("a wildcard needs at least two labels after it (no \"*.tld\")")
            }
            Self::NoNameMatches => f.write_str("no presented name matches the reference"),
            Self::CommonNameWithoutSan => {
                f.write_str("the CN is used because the certificate has no dNSName SAN")
            }
            Self::SanTakesPrecedenceOverCommonName => f.write_str(
                "the CN matches, but dNSName SANs are present and are the source of identity",
            ),
            Self::CommonNameNotUsed => f.write_str("the CN matches, but the CN is never used"),
            Self::IpAddressMatch => f.write_str("an iPAddress SAN equals the IP-address reference"),
            Self::IpAddressNoMatch => f.write_str(
                "no iPAddress SAN equals the IP-address reference (names never match an IP)",
            ),
            Self::NothingPresented => f.write_str("the certificate presents no usable identity"),
            Self::MalformedReference(m) => write!(f, "malformed reference: {m}"),
            Self::MalformedPresented(m) => write!(f, "malformed presented name skipped: {m}"),
        }
    }
}

/// Which presented identity an answer is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// `dns_names[i]`.
    DnsName(usize),
    /// `common_names[i]`.
    CommonName(usize),
    /// `ip_addresses[i]`.
    IpAddress(usize),
}

/// The answer: verdict, deciding rule, and the presented identity it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Match, no match, or malformed reference.
    pub verdict: Verdict,
    /// The rule that decided.
    pub rule: Rule,
    /// The presented identity the rule was applied to, when one was.
    pub source: Option<Source>,
    /// The rule set in force.
    pub rules: Rules,
}

impl Decision {
    /// Whether the verdict is a match.
    pub fn is_match(&self) -> bool {
        self.verdict == Verdict::Match
    }

    /// The presented identity the answer is about, as text.
    pub fn source_text(&self, presented: &Presented<'_>) -> Option<String> {
        match self.source? {
            Source::DnsName(i) => presented.dns_names.get(i).map(|n| format!("dNSName {n:?}")),
            Source::CommonName(i) => presented.common_names.get(i).map(|n| format!("CN {n:?}")),
            Source::IpAddress(i) => presented
                .ip_addresses
                .get(i)
                .map(|a| format!("iPAddress {a}")),
        }
    }

    /// One sentence for a human: the rule, the clause, and the name it concerns.
    pub fn explain(&self, presented: &Presented<'_>) -> String {
        let clause = self.rule.clause(self.rules);
        match self.source_text(presented) {
            Some(source) => format!("{source}: {} ({clause})", self.rule),
            None => format!("{} ({clause})", self.rule),
        }
    }
}

/// Whether `presented` covers `reference` under `rules`.
pub fn matches(rules: Rules, reference: &str, presented: &Presented<'_>) -> bool {
    check(rules, reference, presented).is_match()
}

/// Checks `reference` (the host name the client used to connect, or an IP address)
/// against the identities a certificate presents.
pub fn check(rules: Rules, reference: &str, presented: &Presented<'_>) -> Decision {
    let decide = |verdict, rule, source| Decision {
        verdict,
        rule,
        source,
        rules,
    };

    if let Ok(ip) = reference.parse::<IpAddr>() {
        return match presented.ip_addresses.iter().position(|a| *a == ip) {
            Some(i) => decide(
                Verdict::Match,
                Rule::IpAddressMatch,
                Some(Source::IpAddress(i)),
            ),
            None => decide(Verdict::NoMatch, Rule::IpAddressNoMatch, None),
        };
    }

    let reference = match reference_name(reference) {
        Ok(name) => name,
        Err(m) => return decide(Verdict::Malformed, Rule::MalformedReference(m), None),
    };

    if !presented.dns_names.is_empty() {
        let outcome = best_outcome(rules, reference, presented.dns_names);
        if outcome.matched {
            return decide(
                Verdict::Match,
                outcome.rule,
                Some(Source::DnsName(outcome.index)),
            );
        }
        // "SAN before CN": say so when the CN would have matched.
        let cn = best_outcome(rules, reference, presented.common_names);
        if cn.matched {
            let rule = Rule::SanTakesPrecedenceOverCommonName;
            return decide(Verdict::NoMatch, rule, Some(Source::CommonName(cn.index)));
        }
        return decide(
            Verdict::NoMatch,
            outcome.rule,
            Some(Source::DnsName(outcome.index)),
        );
    }

    if presented.common_names.is_empty() {
        return decide(Verdict::NoMatch, Rule::NothingPresented, None);
    }
    let cn = best_outcome(rules, reference, presented.common_names);
    let source = Some(Source::CommonName(cn.index));
    match (cn.matched, rules.allows_common_name()) {
        (true, true) => decide(Verdict::Match, Rule::CommonNameWithoutSan, source),
        (true, false) => decide(Verdict::NoMatch, Rule::CommonNameNotUsed, source),
        (false, _) => decide(Verdict::NoMatch, cn.rule, source),
    }
}

/// The outcome of matching one presented name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameOutcome {
    /// Whether it matched.
    pub matched: bool,
    /// Why.
    pub rule: Rule,
}

/// Matches one presented DNS name against a reference host name (which must be a valid
/// host name: an invalid one is reported as [`Rule::MalformedReference`]).
pub fn match_name(rules: Rules, reference: &str, presented: &str) -> NameOutcome {
    match reference_name(reference) {
        Ok(reference) => match_one(rules, reference, presented),
        Err(m) => NameOutcome {
            matched: false,
            rule: Rule::MalformedReference(m),
        },
    }
}

struct Best {
    matched: bool,
    rule: Rule,
    index: usize,
}

/// The first match, or else the most telling failure (a named wildcard or syntax rule
/// beats a plain "different name").
fn best_outcome(rules: Rules, reference: &str, names: &[&str]) -> Best {
    let mut best = Best {
        matched: false,
        rule: Rule::NoNameMatches,
        index: 0,
    };
    // Indexes counted by hand: `enumerate` checks each step for overflow, a comparison that
    // fuzzing instrumentation turns into a call.
    let (mut names, mut index) = (names.iter(), 0usize);
    for name in &mut names {
        let outcome = match_one(rules, reference, name);
        if outcome.matched {
            return Best {
                matched: true,
                rule: outcome.rule,
                index,
            };
        }
        if outcome.rule != Rule::NoNameMatches {
            best = Best {
                matched: false,
                rule: outcome.rule,
                index,
            };
            break;
        }
        // At most `names.len()`.
        index = index.wrapping_add(1);
    }
    // Once a telling failure is found only a match can change the answer, and whether a
    // name matches takes much less to find out than why it does not; most names are not
    // even of a length that could.
    if names.as_slice().is_empty() {
        return best;
    }
    let lengths = MatchLengths::of(reference);
    for name in names {
        index = index.wrapping_add(1);
        if !lengths.admit(name) {
            continue;
        }
        if let Some(rule) = quick_match(rules, reference, name) {
            return Best {
                matched: true,
                rule,
                index,
            };
        }
    }
    best
}

/// The lengths of the presented names that can match a reference name: its own, or two
/// more than its parent's (`*.` and the parent), each with or without a trailing dot.
struct MatchLengths([u64; 4]);

impl MatchLengths {
    fn of(reference: &str) -> Self {
        let mut bits = [0; 4];
        let dot = reference.bytes().position(|octet| octet == b'.');
        let parent = dot.map(|dot| reference.len() - dot - 1);
        let wildcard = parent.map(|parent| parent + 2);
        for len in [Some(reference.len()), wildcard].into_iter().flatten() {
            for len in [len, len + 1] {
                if let Some(word) = bits.get_mut(len / 64) {
                    *word |= 1 << (len % 64);
                }
            }
        }
        Self(bits)
    }

    /// Whether `presented` has one of the lengths, with one comparison.
    fn admit(&self, presented: &str) -> bool {
        // No reference is over 253 octets, so no length of 255 or more is admitted.
        let len = presented.len().min(255);
        self.0[len / 64] >> (len % 64) & 1 == 1
    }
}

/// The rule by which `presented` matches `reference` (a valid name without a trailing
/// dot), if it does: exactly when [`match_one`] says it matches.
///
/// A name equal to the reference but for ASCII case is as valid as the reference; a
/// wildcard base equal to the reference's parent likewise, and it is not the reference.
fn quick_match(rules: Rules, reference: &str, presented: &str) -> Option<Rule> {
    let presented = strip_trailing_dot(presented).as_bytes();
    if same_name(presented, reference.as_bytes()) {
        return Some(Rule::ExactMatch);
    }
    let [b'*', b'.', base @ ..] = presented else {
        return None;
    };
    let (dot, _, _) = scan_dots_and_stars(reference.as_bytes());
    let parent = reference.as_bytes().get(dot + 1..)?;
    let covered = same_name(base, parent)
        && (scan_dots_and_stars(base).0 < base.len() || rules.allows_single_label_wildcard_base());
    covered.then_some(Rule::WildcardMatchesOneLabel)
}

fn match_one(rules: Rules, reference: &str, presented: &str) -> NameOutcome {
    let no = |rule| NameOutcome {
        matched: false,
        rule,
    };
    let presented = strip_trailing_dot(presented);
    let (dot, star_first, star_rest) = scan_dots_and_stars(presented.as_bytes());

    if star_rest {
        return no(Rule::WildcardNotLeftmost);
    }
    if !star_first {
        // Equal to the (valid) reference but for case is valid: no need to look.
        if same_name(presented.as_bytes(), reference.as_bytes()) {
            return NameOutcome {
                matched: true,
                rule: Rule::ExactMatch,
            };
        }
        return no(match validate(presented) {
            Ok(()) => Rule::NoNameMatches,
            Err(m) => Rule::MalformedPresented(m),
        });
    }

    // A wildcard in the left-most label.
    let (Some(first), Some(base)) = (presented.get(..dot), presented.get(dot + 1..)) else {
        return no(Rule::BareWildcard);
    };
    if let Err(m) = validate(base) {
        return no(Rule::MalformedPresented(m));
    }
    if first != "*" {
        return no(Rule::PartialLabelWildcard);
    }
    let (base_dot, _, _) = scan_dots_and_stars(base.as_bytes());
    if base_dot == base.len() && !rules.allows_single_label_wildcard_base() {
        return no(Rule::WildcardTooBroad);
    }
    if same_name(reference.as_bytes(), base.as_bytes()) {
        return no(Rule::WildcardDoesNotMatchParent);
    }
    let (reference_dot, _, _) = scan_dots_and_stars(reference.as_bytes());
    let Some(parent) = reference.get(reference_dot + 1..) else {
        return no(Rule::NoNameMatches);
    };
    if same_name(parent.as_bytes(), base.as_bytes()) {
        return NameOutcome {
            matched: true,
            rule: Rule::WildcardMatchesOneLabel,
        };
    }
    let deeper = reference
        .len()
        .checked_sub(base.len() + 1)
        .and_then(|at| reference.get(at..))
        .and_then(|tail| tail.strip_prefix('.'))
        .is_some_and(|tail| same_name(tail.as_bytes(), base.as_bytes()));
    no(if deeper {
        Rule::WildcardMatchesOnlyOneLabel
    } else {
        Rule::NoNameMatches
    })
}

fn reference_name(reference: &str) -> Result<&str, Malformation> {
    let name = strip_trailing_dot(reference);
    match validate(name) {
        Ok(()) => Ok(name),
        // A `*` is never valid, so this is the only place to look for one.
        Err(_) if name.contains('*') => Err(Malformation::WildcardInReference),
        Err(m) => Err(m),
    }
}

fn strip_trailing_dot(name: &str) -> &str {
    match name.as_bytes() {
        [stripped @ .., b'.'] => name.get(..stripped.len()).unwrap_or(name),
        _ => name,
    }
}

/// ASCII case-insensitive equality, by folding octets through [`ASCII_LOWER`] rather than
/// comparing them one by one (under fuzzing instrumentation each comparison is a call).
fn same_name(a: &[u8], b: &[u8]) -> bool {
    let differ = |acc, (x, y): (&u8, &u8)| {
        acc | (ASCII_LOWER[usize::from(*x)] ^ ASCII_LOWER[usize::from(*y)])
    };
    a.len() == b.len() && a.iter().zip(b).fold(0, differ) == 0
}

/// Where the first `.` of `name` is (its length when there is none), and whether a `*`
/// comes before it and after it: one pass through [`NAME_OCTET`], with no branch on the
/// data.
fn scan_dots_and_stars(name: &[u8]) -> (usize, bool, bool) {
    // By `class & DOT | seen_dot << 1`: all ones at the first dot only. Masks come from
    // tables, not arithmetic on flags, which the compiler would turn back into comparisons.
    const FIRST_DOT: [usize; 4] = [0, usize::MAX, 0, 0];
    let (mut dot, mut seen_dot, mut stars) = (name.len(), 0, [0u8; 2]);
    let mut i = 0usize;
    for &octet in name {
        let class = NAME_OCTET[usize::from(octet)];
        stars[usize::from(seen_dot)] |= class & STAR;
        let first = FIRST_DOT[usize::from(class & DOT | seen_dot << 1)];
        dot = (i & first) | (dot & !first);
        seen_dot |= class & DOT;
        // At most `name.len()`.
        i = i.wrapping_add(1);
    }
    (dot, stars[0] != 0, stars[1] != 0)
}

/// Each octet, ASCII-lowercased.
static ASCII_LOWER: [u8; 256] = {
    let mut table = [0; 256];
    let mut octet = 0;
    while octet < 256 {
        table[octet] = (octet as u8).to_ascii_lowercase();
        octet += 1;
    }
    table
};

/// [`NAME_OCTET`]: a letter, digit, `-` or `_`.
const LABEL: u8 = 0;
/// [`NAME_OCTET`] bit: `.`.
const DOT: u8 = 1;
/// [`NAME_OCTET`] bit: `*`.
const STAR: u8 = 2;
/// [`NAME_OCTET`] bit: anything else a label cannot hold (`*` included).
const OTHER: u8 = 4;

/// The class of each octet in a host name.
static NAME_OCTET: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut octet = 0;
    while octet < 256 {
        table[octet] = match octet as u8 {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => LABEL,
            b'.' => DOT,
            b'*' => STAR | OTHER,
            _ => OTHER,
        };
        octet += 1;
    }
    table
};

/// By [`DOT`] bit: all ones when a label goes on, zero when a dot ends it.
const LABEL_GOES_ON: [usize; 2] = [usize::MAX, 0];

/// Host-name syntax for a name without a wildcard; `*` is reported as a character.
fn validate(name: &str) -> Result<(), Malformation> {
    if name.is_empty() {
        return Err(Malformation::Empty);
    }
    if name.len() > 253 {
        return Err(Malformation::NameTooLong);
    }
    // The usual case in one pass with no branch on the data: whether any octet is neither
    // a label octet nor a dot, whether any label is empty (a dot first, last, or after a
    // dot), and the longest label.
    let (mut classes, mut empty, mut after_dot) = (LABEL, 0, DOT);
    let (mut label, mut longest) = (0usize, 0usize);
    for &octet in name.as_bytes() {
        let class = NAME_OCTET[usize::from(octet)];
        let dot = class & DOT;
        classes |= class;
        empty |= dot & after_dot;
        after_dot = dot;
        // Zero after a dot, else one longer (at most 253: no overflow). The mask comes from
        // a table, not arithmetic on `dot`, which the compiler turns into a comparison.
        label = label.wrapping_add(1) & LABEL_GOES_ON[usize::from(dot)];
        longest = longest.max(label);
    }
    if (classes & OTHER) | empty | after_dot == 0 && longest <= 63 {
        return Ok(());
    }
    // Otherwise the first label at fault, and what is wrong with it: one octet at a time,
    // a dot after the end closing the last label.
    let (mut len, mut bad) = (0usize, None);
    for octet in name.as_bytes().iter().copied().chain([b'.']) {
        match NAME_OCTET[usize::from(octet)] {
            LABEL => {}
            DOT => {
                if len == 0 {
                    return Err(Malformation::EmptyLabel);
                }
                if len > 63 {
                    return Err(Malformation::LabelTooLong);
                }
                if let Some(octet) = bad {
                    // Every octet of a multi-octet character is at least 0x80.
                    return Err(match octet {
                        0 => Malformation::Nul,
                        0x80.. => Malformation::NonAscii,
                        _ => Malformation::InvalidCharacter(char::from(octet)),
                    });
                }
                len = 0;
                continue;
            }
            _ => bad = bad.or(Some(octet)),
        }
        // At most `name.len()`.
        len = len.wrapping_add(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The implementation before the fast paths, kept as the reference the fast one must
    /// agree with exactly.
    mod reference {
        #![allow(clippy::all)]
        use std::net::IpAddr;

        use super::super::{
            Decision, Malformation, NameOutcome, Presented, Rule, Rules, Source, Verdict,
        };

        pub(super) fn check(rules: Rules, reference: &str, presented: &Presented<'_>) -> Decision {
            let decide = |verdict, rule, source| Decision {
                verdict,
                rule,
                source,
                rules,
            };

            if let Ok(ip) = reference.parse::<IpAddr>() {
                return match presented.ip_addresses.iter().position(|a| *a == ip) {
                    Some(i) => decide(
                        Verdict::Match,
                        Rule::IpAddressMatch,
                        Some(Source::IpAddress(i)),
                    ),
                    None => decide(Verdict::NoMatch, Rule::IpAddressNoMatch, None),
                };
            }

            let reference = match reference_name(reference) {
                Ok(name) => name,
                Err(m) => return decide(Verdict::Malformed, Rule::MalformedReference(m), None),
            };

            if !presented.dns_names.is_empty() {
                let outcome = best_outcome(rules, reference, presented.dns_names);
                if outcome.matched {
                    return decide(
                        Verdict::Match,
                        outcome.rule,
                        Some(Source::DnsName(outcome.index)),
                    );
                }
                // "SAN before CN": say so when the CN would have matched.
                let cn = best_outcome(rules, reference, presented.common_names);
                if cn.matched {
                    let rule = Rule::SanTakesPrecedenceOverCommonName;
                    return decide(Verdict::NoMatch, rule, Some(Source::CommonName(cn.index)));
                }
                return decide(
                    Verdict::NoMatch,
                    outcome.rule,
                    Some(Source::DnsName(outcome.index)),
                );
            }

            if presented.common_names.is_empty() {
                return decide(Verdict::NoMatch, Rule::NothingPresented, None);
            }
            let cn = best_outcome(rules, reference, presented.common_names);
            let source = Some(Source::CommonName(cn.index));
            match (cn.matched, rules.allows_common_name()) {
                (true, true) => decide(Verdict::Match, Rule::CommonNameWithoutSan, source),
                (true, false) => decide(Verdict::NoMatch, Rule::CommonNameNotUsed, source),
                (false, _) => decide(Verdict::NoMatch, cn.rule, source),
            }
        }

        pub(super) fn match_name(rules: Rules, reference: &str, presented: &str) -> NameOutcome {
            match reference_name(reference) {
                Ok(reference) => match_one(rules, reference, presented),
                Err(m) => NameOutcome {
                    matched: false,
                    rule: Rule::MalformedReference(m),
                },
            }
        }

        pub(super) struct Best {
            // The implementation before the table-driven fast paths.
            pub(super) matched: bool,
            pub(super) rule: Rule,
            pub(super) index: usize,
        }

        /// The first match, or else the most telling failure (a named wildcard or syntax rule
        /// beats a plain "different name").
        pub(super) fn best_outcome(rules: Rules, reference: &str, names: &[&str]) -> Best {
            let mut best = Best {
                matched: false,
                rule: Rule::NoNameMatches,
                index: 0,
            };
            for (index, name) in names.iter().enumerate() {
                let outcome = match_one(rules, reference, name);
                if outcome.matched {
                    return Best {
                        matched: true,
                        rule: outcome.rule,
                        index,
                    };
                }
                if best.rule == Rule::NoNameMatches && outcome.rule != Rule::NoNameMatches {
                    best = Best {
                        matched: false,
                        rule: outcome.rule,
                        index,
                    };
                }
            }
            best
        }

        pub(super) fn match_one(rules: Rules, reference: &str, presented: &str) -> NameOutcome {
            let no = |rule| NameOutcome {
                matched: false,
                rule,
            };
            let presented = strip_trailing_dot(presented);
            let (first, rest) = match presented.split_once('.') {
                Some((first, rest)) => (first, Some(rest)),
                None => (presented, None),
            };

            if rest.is_some_and(|rest| rest.contains('*')) {
                return no(Rule::WildcardNotLeftmost);
            }
            if !first.contains('*') {
                if let Err(m) = validate(presented) {
                    return no(Rule::MalformedPresented(m));
                }
                return if presented.eq_ignore_ascii_case(reference) {
                    NameOutcome {
                        matched: true,
                        rule: Rule::ExactMatch,
                    }
                } else {
                    no(Rule::NoNameMatches)
                };
            }

            // A wildcard in the left-most label.
            let Some(base) = rest else {
                return no(Rule::BareWildcard);
            };
            if let Err(m) = validate(base) {
                return no(Rule::MalformedPresented(m));
            }
            if first != "*" {
                return no(Rule::PartialLabelWildcard);
            }
            if !base.contains('.') && !rules.allows_single_label_wildcard_base() {
                return no(Rule::WildcardTooBroad);
            }
            if reference.eq_ignore_ascii_case(base) {
                return no(Rule::WildcardDoesNotMatchParent);
            }
            let Some((_, reference_rest)) = reference.split_once('.') else {
                return no(Rule::NoNameMatches);
            };
            if reference_rest.eq_ignore_ascii_case(base) {
                return NameOutcome {
                    matched: true,
                    rule: Rule::WildcardMatchesOneLabel,
                };
            }
            let deeper = reference
                .len()
                .checked_sub(base.len() + 1)
                .and_then(|at| reference.get(at..))
                .and_then(|tail| tail.strip_prefix('.'))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(base));
            no(if deeper {
                Rule::WildcardMatchesOnlyOneLabel
            } else {
                Rule::NoNameMatches
            })
        }

        pub(super) fn reference_name(reference: &str) -> Result<&str, Malformation> {
            let name = strip_trailing_dot(reference);
            if name.contains('*') {
                return Err(Malformation::WildcardInReference);
            }
            validate(name)?;
            Ok(name)
        }

        fn strip_trailing_dot(name: &str) -> &str {
            name.strip_suffix('.').unwrap_or(name)
        }

        /// Host-name syntax for a name without a wildcard; `*` is reported as a character.
        fn validate(name: &str) -> Result<(), Malformation> {
            if name.is_empty() {
                return Err(Malformation::Empty);
            }
            if name.len() > 253 {
                return Err(Malformation::NameTooLong);
            }
            for label in name.split('.') {
                if label.is_empty() {
                    return Err(Malformation::EmptyLabel);
                }
                if label.len() > 63 {
                    return Err(Malformation::LabelTooLong);
                }
                for c in label.chars() {
                    match c {
                        'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => {}
                        '\0' => return Err(Malformation::Nul),
                        c if !c.is_ascii() => return Err(Malformation::NonAscii),
                        c => return Err(Malformation::InvalidCharacter(c)),
                    }
                }
            }
            Ok(())
        }
    }

    const R2595: &[Rules] = &[Rules::Rfc2595];
    const MODERN: &[Rules] = &[Rules::Rfc6125, Rules::Rfc9525];
    const ALL: &[Rules] = &Rules::ALL;

    // (rule sets, reference, presented dNSName, matched, deciding rule)
    #[rustfmt::skip]
    const NAME_ROWS: &[(&[Rules], &str, &str, bool, Rule)] = &[
        // Exact names, case-insensitive (RFC 2595 §2.4 "Matching is case-insensitive").
        (ALL, "mail.example.com", "mail.example.com", true, Rule::ExactMatch),
        (ALL, "MAIL.Example.COM", "mail.example.com", true, Rule::ExactMatch),
        (ALL, "mail.example.com", "MAIL.EXAMPLE.COM", true, Rule::ExactMatch),
        (ALL, "mail.example.com", "imap.example.com", false, Rule::NoNameMatches),
        (ALL, "mail.example.com", "mail.example.co", false, Rule::NoNameMatches),
        // Trailing dots are ignored on either side.
        (ALL, "mail.example.com.", "mail.example.com", true, Rule::ExactMatch),
        (ALL, "mail.example.com", "mail.example.com.", true, Rule::ExactMatch),
        // RFC 2595 §2.4 examples: *.example.com matches a.example.com and for.example.com ...
        (ALL, "a.example.com", "*.example.com", true, Rule::WildcardMatchesOneLabel),
        (ALL, "for.example.com", "*.example.com", true, Rule::WildcardMatchesOneLabel),
        (ALL, "FOR.example.COM", "*.EXAMPLE.com", true, Rule::WildcardMatchesOneLabel),
        // ... "but would not match example.com".
        (ALL, "example.com", "*.example.com", false, Rule::WildcardDoesNotMatchParent),
        // "*" matches exactly one label.
        (ALL, "a.b.example.com", "*.example.com", false, Rule::WildcardMatchesOnlyOneLabel),
        (ALL, "a.example.org", "*.example.com", false, Rule::NoNameMatches),
        // Wildcard not in the left-most label.
        (ALL, "mail.a.example.com", "mail.*.example.com", false, Rule::WildcardNotLeftmost),
        (ALL, "a.b.example.com", "*.*.example.com", false, Rule::WildcardNotLeftmost),
        // Partial-label wildcards never match.
        (ALL, "mail.example.com", "m*.example.com", false, Rule::PartialLabelWildcard),
        (ALL, "mail.example.com", "*il.example.com", false, Rule::PartialLabelWildcard),
        (ALL, "xn--mnchen-3ya.example.com", "xn--*.example.com", false, Rule::PartialLabelWildcard),
        // A full-label wildcard may cover an A-label.
        (ALL, "xn--mnchen-3ya.example.com", "*.example.com", true, Rule::WildcardMatchesOneLabel),
        (ALL, "xn--mnchen-3ya.example.com", "XN--MNCHEN-3YA.example.com", true, Rule::ExactMatch),
        // "*" alone, and "*.tld".
        (ALL, "com", "*", false, Rule::BareWildcard),
        (R2595, "example.com", "*.com", true, Rule::WildcardMatchesOneLabel),
        (MODERN, "example.com", "*.com", false, Rule::WildcardTooBroad),
        (R2595, "com", "*.com", false, Rule::WildcardDoesNotMatchParent),
        (MODERN, "com", "*.com", false, Rule::WildcardTooBroad),
        // Malformed presented names match nothing.
        (ALL, "mail.example.com", "mail..example.com", false, Rule::MalformedPresented(Malformation::EmptyLabel)),
        (ALL, "mail.example.com", "mail.example.com\0.evil.test", false, Rule::MalformedPresented(Malformation::Nul)),
        (ALL, "mail.example.com", "mail.exämple.com", false, Rule::MalformedPresented(Malformation::NonAscii)),
        (ALL, "mail.example.com", "*..com", false, Rule::MalformedPresented(Malformation::EmptyLabel)),
        (ALL, "mail.example.com", "", false, Rule::MalformedPresented(Malformation::Empty)),
    ];

    #[test]
    fn name_rows() {
        for (rule_sets, reference, presented, matched, rule) in NAME_ROWS {
            for &rules in *rule_sets {
                let got = match_name(rules, reference, presented);
                assert_eq!(
                    got,
                    NameOutcome {
                        matched: *matched,
                        rule: *rule
                    },
                    "{rules}: reference {reference:?} vs presented {presented:?}"
                );
                // Through `check` the same row gives the same verdict.
                let names = [*presented];
                let decision = check(
                    rules,
                    reference,
                    &Presented {
                        dns_names: &names,
                        ..Presented::default()
                    },
                );
                assert_eq!(
                    decision.is_match(),
                    *matched,
                    "{rules}: check({reference:?}, [{presented:?}])"
                );
            }
        }
    }

    // (reference, malformation) for every rule set.
    #[rustfmt::skip]
    const MALFORMED_REFERENCES: &[(&str, Malformation)] = &[
        ("", Malformation::Empty),
        (".", Malformation::Empty),
        ("a..example.com", Malformation::EmptyLabel),
        (".example.com", Malformation::EmptyLabel),
        ("mail.example.com\0evil", Malformation::Nul),
        ("mail.exämple.com", Malformation::NonAscii),
        ("mail example.com", Malformation::InvalidCharacter(' ')),
        ("*.example.com", Malformation::WildcardInReference),
    ];

    #[test]
    fn malformed_references() {
        let names = ["*.example.com", "mail.example.com"];
        let presented = Presented {
            dns_names: &names,
            ..Presented::default()
        };
        for (reference, malformation) in MALFORMED_REFERENCES {
            for rules in Rules::ALL {
                let d = check(rules, reference, &presented);
                assert_eq!(d.verdict, Verdict::Malformed, "{rules} {reference:?}");
                assert_eq!(
                    d.rule,
                    Rule::MalformedReference(*malformation),
                    "{rules} {reference:?}"
                );
            }
        }
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert_eq!(
            check(Rules::Rfc2595, &long_label, &presented).rule,
            Rule::MalformedReference(Malformation::LabelTooLong)
        );
        let long_name = vec!["abcdefghi"; 26].join(".");
        assert_eq!(
            check(Rules::Rfc2595, &long_name, &presented).rule,
            Rule::MalformedReference(Malformation::NameTooLong)
        );
    }

    #[test]
    fn any_of_several_dns_names_may_match() {
        // "a match with any one of the fields is considered acceptable."
        let names = ["imap.example.org", "m*.example.com", "mail.example.com"];
        let presented = Presented {
            dns_names: &names,
            ..Presented::default()
        };
        for rules in Rules::ALL {
            let d = check(rules, "mail.example.com", &presented);
            assert_eq!(
                (d.verdict, d.rule, d.source),
                (Verdict::Match, Rule::ExactMatch, Some(Source::DnsName(2)))
            );
        }
        // With none matching, the most telling failure is reported (the partial label).
        let d = check(Rules::Rfc2595, "pop.example.com", &presented);
        assert_eq!(
            (d.verdict, d.rule, d.source),
            (
                Verdict::NoMatch,
                Rule::PartialLabelWildcard,
                Some(Source::DnsName(1))
            )
        );
    }

    #[test]
    fn san_before_cn() {
        let cn = ["mail.example.com"];
        let other = ["other.example.com"];
        // CN only: used by rfc2595 and rfc6125, never by rfc9525.
        let cn_only = Presented {
            common_names: &cn,
            ..Presented::default()
        };
        assert_eq!(
            check(Rules::Rfc2595, "mail.example.com", &cn_only).rule,
            Rule::CommonNameWithoutSan
        );
        assert!(matches(Rules::Rfc6125, "mail.example.com", &cn_only));
        let d = check(Rules::Rfc9525, "mail.example.com", &cn_only);
        assert_eq!(
            (d.verdict, d.rule),
            (Verdict::NoMatch, Rule::CommonNameNotUsed)
        );
        // A SAN is present: the CN is not consulted, in any rule set.
        let both = Presented {
            dns_names: &other,
            common_names: &cn,
            ..Presented::default()
        };
        for rules in Rules::ALL {
            let d = check(rules, "mail.example.com", &both);
            assert_eq!(
                (d.verdict, d.rule, d.source),
                (
                    Verdict::NoMatch,
                    Rule::SanTakesPrecedenceOverCommonName,
                    Some(Source::CommonName(0))
                ),
                "{rules}"
            );
        }
        // Nothing at all.
        let d = check(Rules::Rfc2595, "mail.example.com", &Presented::default());
        assert_eq!(
            (d.verdict, d.rule),
            (Verdict::NoMatch, Rule::NothingPresented)
        );
    }

    #[test]
    fn ip_references_match_ip_sans_only() {
        let ips: [IpAddr; 2] = ["192.0.2.7".parse().unwrap(), "::1".parse().unwrap()];
        let names = ["*.0.2.7", "127.0.0.1"];
        let cn = ["127.0.0.1"];
        let presented = Presented {
            dns_names: &names,
            ip_addresses: &ips,
            common_names: &cn,
        };
        for rules in Rules::ALL {
            let d = check(rules, "::1", &presented);
            assert_eq!(
                (d.verdict, d.rule, d.source),
                (
                    Verdict::Match,
                    Rule::IpAddressMatch,
                    Some(Source::IpAddress(1))
                )
            );
            // Neither the dNSName "127.0.0.1", the CN, nor a wildcard covers an IP reference.
            let d = check(rules, "127.0.0.1", &presented);
            assert_eq!(
                (d.verdict, d.rule),
                (Verdict::NoMatch, Rule::IpAddressNoMatch)
            );
            assert!(!matches(rules, "192.0.2.8", &presented));
        }
    }

    #[test]
    fn explanations_name_the_source_and_clause() {
        let names = ["*.example.com"];
        let presented = Presented {
            dns_names: &names,
            ..Presented::default()
        };
        let d = check(Rules::Rfc2595, "example.com", &presented);
        assert_eq!(
            d.explain(&presented),
            "dNSName \"*.example.com\": a wildcard does not match its bare parent domain (RFC 2595 §2.4)"
        );
    }

    /// A small deterministic generator (xorshift64*), so the differential runs the same
    /// names every time.
    struct Names(u64);

    impl Names {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// A name built from pieces that reach every rule: labels of `base`, other
        /// labels, wildcards, empty labels, odd characters, trailing dots, long labels.
        fn name(&mut self, base: &[&str]) -> String {
            const PIECES: &[&str] = &[
                "mail",
                "MAIL",
                "example",
                "Example",
                "com",
                "org",
                "a",
                "b",
                "*",
                "m*",
                "*il",
                "xn--mnchen-3ya",
                "xn--*",
                "",
                "_srv",
                "a-b",
                "127",
                "0",
                "1",
                "::1",
                "ex ample",
                "\0",
                "\u{e4}",
                "%",
                "é",
            ];
            let labels = 1 + (self.next() % 5) as usize;
            let mut name = Vec::new();
            for _ in 0..labels {
                let r = self.next();
                name.push(match r % 4 {
                    0 | 1 => base[(r >> 8) as usize % base.len()].to_string(),
                    2 if r % 64 == 2 => "x".repeat(60 + (r >> 8) as usize % 8),
                    _ => PIECES[(r >> 8) as usize % PIECES.len()].to_string(),
                });
            }
            let mut name = name.join(".");
            match self.next() % 8 {
                0 => name.push('.'),
                1 => name.insert(0, '.'),
                2 if name.len() < 200 => name = format!("{name}.{}", "y".repeat(250 - name.len())),
                _ => {}
            }
            name
        }

        /// Mostly a valid reference name, sometimes not.
        fn reference(&mut self) -> String {
            if self.next() % 4 == 0 {
                return self.name(&["mail", "example", "com"]);
            }
            let labels = ["mail", "Example", "com", "a", "xn--mnchen-3ya", "co", "B-2"];
            let n = 1 + (self.next() % 4) as usize;
            let name: Vec<&str> = (0..n)
                .map(|_| labels[self.next() as usize % labels.len()])
                .collect();
            name.join(".")
        }

        /// A presented name: often derived from the reference (itself, in another case,
        /// as a wildcard over its parent or over itself), otherwise built from pieces.
        fn presented(&mut self, reference: &str) -> String {
            let parent = reference.split_once('.').map_or("", |(_, rest)| rest);
            let flip = |s: &str, r: u64| -> String {
                s.chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if r >> (i % 64) & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect()
            };
            let r = self.next();
            match r % 8 {
                0 => flip(reference, self.next()),
                1 => format!("*.{}", flip(parent, self.next())),
                2 => format!("*.{reference}"),
                3 => format!("*.{parent}."),
                4 => format!("*.{}", parent.split_once('.').map_or("", |(_, rest)| rest)),
                _ => {
                    let labels: Vec<&str> = reference.split('.').collect();
                    self.name(&labels)
                }
            }
        }
    }

    #[test]
    fn the_fast_checks_agree_with_the_previous_ones() {
        let mut rng = Names(0x9E37_79B9_7F4A_7C15);
        let ips: [IpAddr; 2] = ["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        for _ in 0..40_000 {
            let reference = rng.reference();
            let dns: Vec<String> = (0..rng.next() % 5)
                .map(|_| rng.presented(&reference))
                .collect();
            let cns: Vec<String> = (0..rng.next() % 3)
                .map(|_| rng.presented(&reference))
                .collect();
            let dns: Vec<&str> = dns.iter().map(String::as_str).collect();
            let cns: Vec<&str> = cns.iter().map(String::as_str).collect();
            let presented = Presented {
                dns_names: &dns,
                ip_addresses: &ips[..(rng.next() % 3) as usize],
                common_names: &cns,
            };
            for rules in Rules::ALL {
                assert_eq!(
                    check(rules, &reference, &presented),
                    reference::check(rules, &reference, &presented),
                    "{rules}: {reference:?} against {presented:?}"
                );
                for name in dns.iter().chain(&cns) {
                    assert_eq!(
                        match_name(rules, &reference, name),
                        reference::match_name(rules, &reference, name),
                        "{rules}: {reference:?} against {name:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn rule_sets_parse_from_their_ids() {
        for rules in Rules::ALL {
            assert_eq!(rules.id().parse::<Rules>(), Ok(rules));
        }
        assert_eq!("RFC2595".parse::<Rules>(), Ok(Rules::Rfc2595));
        assert!("rfc1".parse::<Rules>().is_err());
    }
}
