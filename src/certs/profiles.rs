//! The certificate profiles the client role presents (DESIGN §4), all minted per run for
//! one expected name: each either must be accepted by a client that checks what RFC 2595
//! §2.4 (and its successors) ask, or must make it abort the handshake.

use super::{Authority, CertError, Leaf, LeafSpec, leaf_params, self_signed};
use rcgen::SanType;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

/// One certificate profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// dNSName = the expected name, signed by the test CA.
    Valid,
    /// dNSName = another host of the same domain.
    WrongName,
    /// `*.<parent>`: a wildcard that covers the name (one label).
    Wildcard,
    /// `*.<name>`: a wildcard presented for its bare parent (`*.example.test` for
    /// `example.test`).
    WildcardParent,
    /// `*.<tld>`: a wildcard that would have to match two labels (`*.test` for
    /// `a.b.test`).
    WildcardTwoLabels,
    /// `m*.<parent>`: a partial-label wildcard (RFC 2595: `*` only as the whole
    /// left-most label; RFC 9525: never).
    PartialWildcard,
    /// Three dNSNames, the second of which is the name.
    SeveralSans,
    /// The name only in the subject CN, no subjectAltName: RFC 2595 and RFC 6125 accept
    /// it, RFC 9525 does not.
    CnOnly,
    /// Only an iPAddress SAN (127.0.0.1): no name at all.
    IpOnly,
    /// Expired in 2021.
    Expired,
    /// Valid from 2090.
    NotYetValid,
    /// Signed by itself, not by the test CA.
    SelfSigned,
    /// Signed by another CA the client was not told to trust.
    UnknownCa,
    /// The name in mixed case (`MAIL.Example.TEST`): RFC 2595 §2.4 "Matching is
    /// case-insensitive".
    MixedCase,
    /// `<first>.*.<rest>` (`mail.*.test`): a `*` that is not the left-most label.
    WildcardNotLeftmost,
    /// dNSName another host, CN the name: the SAN decides, so no match (RFC 2595 §2.4
    /// SHOULD, RFC 6125 §6.4.4).
    CnNameSanOther,
    /// dNSName the name, CN another host: the SAN decides, so a match.
    SanNameCnOther,
    /// Only URI SANs (`imap://<name>`, `pop3://<name>`, `acap://<name>`), no dNSName, no
    /// CN: RFC 7817 §3 does not use URI-IDs, so no name at all.
    UriOnly,
    /// Only the parent domain (`example.test` for `mail.example.test`), the domain of
    /// the user's mail address: RFC 7817 §3 allows it as a reference identifier, RFC 2595
    /// §2.4 (the host name the client connected to) does not.
    MailDomain,
    /// Only `host.provider.test`, the target of a CNAME the client must not follow for
    /// the name (RFC 2595 §2.4: "CNAME canonicalization is not done").
    CnameTarget,
    /// Only `mx.other.test`, a host an insecure SRV lookup or referral could hand the
    /// client (RFC 2595 §2.4: no name derived from an insecure remote source).
    SrvTarget,
}

/// Whether a checking client must go on with a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acceptance {
    /// Every reading accepts it: the client must complete the handshake.
    Accept,
    /// Every reading refuses it: the client must abort the handshake.
    Reject,
    /// The readings differ (CN-only, the mail domain): either answer passes; the report
    /// says which ([`Profile::reading`]).
    EitherReading,
}

impl Profile {
    /// Every profile, in a fixed order.
    pub const ALL: [Self; 21] = [
        Self::Valid,
        Self::WrongName,
        Self::Wildcard,
        Self::WildcardParent,
        Self::WildcardTwoLabels,
        Self::PartialWildcard,
        Self::SeveralSans,
        Self::CnOnly,
        Self::IpOnly,
        Self::Expired,
        Self::NotYetValid,
        Self::SelfSigned,
        Self::UnknownCa,
        Self::MixedCase,
        Self::WildcardNotLeftmost,
        Self::CnNameSanOther,
        Self::SanNameCnOther,
        Self::UriOnly,
        Self::MailDomain,
        Self::CnameTarget,
        Self::SrvTarget,
    ];

    /// The stable id scenario files use (`[tls cert=wrong-name]`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::WrongName => "wrong-name",
            Self::Wildcard => "wildcard",
            Self::WildcardParent => "wildcard-parent",
            Self::WildcardTwoLabels => "wildcard-two-labels",
            Self::PartialWildcard => "partial-wildcard",
            Self::SeveralSans => "several-sans",
            Self::CnOnly => "cn-only",
            Self::IpOnly => "ip-only",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::SelfSigned => "self-signed",
            Self::UnknownCa => "unknown-ca",
            Self::MixedCase => "mixed-case",
            Self::WildcardNotLeftmost => "wildcard-not-leftmost",
            Self::CnNameSanOther => "cn-name-san-other",
            Self::SanNameCnOther => "san-name-cn-other",
            Self::UriOnly => "uri-only",
            Self::MailDomain => "mail-domain",
            Self::CnameTarget => "cname-target",
            Self::SrvTarget => "srv-target",
        }
    }

    /// What a checking client must do with it.
    pub fn acceptance(self) -> Acceptance {
        match self {
            Self::Valid
            | Self::Wildcard
            | Self::SeveralSans
            | Self::MixedCase
            | Self::SanNameCnOther => Acceptance::Accept,
            Self::CnOnly | Self::MailDomain => Acceptance::EitherReading,
            _ => Acceptance::Reject,
        }
    }

    /// For a profile the readings differ on, which reading an answer follows: the
    /// client accepted the certificate (`accepted`) or refused it.
    pub fn reading(self, accepted: bool) -> Option<&'static str> {
        match (self, accepted) {
            (Self::CnOnly, true) => Some(
                "the client follows RFC 2595 §2.4 and RFC 6125 §6.4.4: without a dNSName SAN the CN names the server",
            ),
            (Self::CnOnly, false) => {
                Some("the client follows RFC 9525 §6.3: the CN is never the server's identity")
            }
            (Self::MailDomain, true) => Some(
                "the client follows RFC 7817 §3: the domain of the user's mail address is a reference identifier",
            ),
            (Self::MailDomain, false) => Some(
                "the client follows RFC 2595 §2.4: the reference is the host name it used to open the connection",
            ),
            _ => None,
        }
    }

    /// URI subjectAltNames the leaf presents for `name`.
    pub fn uris(self, name: &str) -> Vec<String> {
        match self {
            Self::UriOnly => ["imap", "pop3", "acap"]
                .iter()
                .map(|scheme| format!("{scheme}://{name}"))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What the certificate presents for `name`, in words (for reports and the index).
    pub fn describe(self, name: &str) -> String {
        let spec = self.spec(name);
        let mut parts: Vec<String> = spec.dns_names.iter().map(|n| format!("DNS:{n}")).collect();
        parts.extend(spec.ip_addresses.iter().map(|ip| format!("IP:{ip}")));
        parts.extend(self.uris(name).iter().map(|uri| format!("URI:{uri}")));
        if let Some(cn) = &spec.common_name {
            parts.push(format!("CN={cn}"));
        }
        let issuer = match self {
            Self::SelfSigned => "self-signed",
            Self::UnknownCa => "signed by an unknown CA",
            _ => "signed by the test CA",
        };
        let validity = match self {
            Self::Expired => ", expired 2021-01-01",
            Self::NotYetValid => ", valid from 2090-01-01",
            _ => "",
        };
        format!("{}; {issuer}{validity}", parts.join(", "))
    }

    /// The leaf's names and dates for the expected `name`.
    pub fn spec(self, name: &str) -> LeafSpec {
        let (first, parent) = name.split_once('.').unwrap_or((name, ""));
        let tld = name.rsplit('.').next().unwrap_or(name);
        let join = |label: &str, rest: &str| {
            if rest.is_empty() {
                label.to_owned()
            } else {
                format!("{label}.{rest}")
            }
        };
        let names = |n: &[String]| LeafSpec {
            dns_names: n.to_vec(),
            ip_addresses: Vec::new(),
            common_name: n.first().cloned(),
            validity: None,
        };
        match self {
            Self::Valid | Self::SelfSigned | Self::UnknownCa => names(&[name.to_owned()]),
            Self::WrongName => names(&[join("other", parent)]),
            Self::Wildcard => names(&[join("*", parent)]),
            Self::WildcardParent => names(&[format!("*.{name}")]),
            Self::WildcardTwoLabels => names(&[format!("*.{tld}")]),
            Self::PartialWildcard => {
                let head: String = first.chars().take(1).collect();
                names(&[join(&format!("{head}*"), parent)])
            }
            Self::SeveralSans => names(&[
                join("alpha", parent),
                name.to_owned(),
                join("omega", parent),
            ]),
            Self::CnOnly => LeafSpec {
                dns_names: Vec::new(),
                ip_addresses: Vec::new(),
                common_name: Some(name.to_owned()),
                validity: None,
            },
            Self::IpOnly => LeafSpec {
                dns_names: Vec::new(),
                ip_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
                common_name: None,
                validity: None,
            },
            Self::Expired => LeafSpec {
                validity: Some(((2020, 1, 1), (2021, 1, 1))),
                ..names(&[name.to_owned()])
            },
            Self::NotYetValid => LeafSpec {
                validity: Some(((2090, 1, 1), (2099, 1, 1))),
                ..names(&[name.to_owned()])
            },
            Self::MixedCase => names(&[mixed_case(name)]),
            Self::WildcardNotLeftmost => {
                let rest = parent.split_once('.').map_or("", |(_, rest)| rest);
                names(&[join(&join(first, "*"), rest)])
            }
            Self::CnNameSanOther => LeafSpec {
                common_name: Some(name.to_owned()),
                ..names(&[join("other", parent)])
            },
            Self::SanNameCnOther => LeafSpec {
                common_name: Some(join("other", parent)),
                ..names(&[name.to_owned()])
            },
            Self::UriOnly => LeafSpec::default(),
            Self::MailDomain => names(&[if parent.is_empty() {
                name.to_owned()
            } else {
                parent.to_owned()
            }]),
            Self::CnameTarget => names(&["host.provider.test".to_owned()]),
            Self::SrvTarget => names(&["mx.other.test".to_owned()]),
        }
    }
}

/// A leaf of the test CA that also presents URI subjectAltNames (RFC 6125 URI-IDs).
fn issue_with_uris(ca: &Authority, spec: &LeafSpec, uris: &[String]) -> Result<Leaf, CertError> {
    let mut params = leaf_params(spec)?;
    if spec.common_name.is_none() {
        // rcgen's default subject carries a CN ("rcgen self signed cert"): none at all.
        params.distinguished_name = rcgen::DistinguishedName::new();
    }
    for uri in uris {
        params
            .subject_alt_names
            .push(SanType::URI(uri.clone().try_into()?));
    }
    ca.sign(params)
}

/// `mail.example.test` → `MAIL.Example.TEST`: every label changes case, the name does not.
fn mixed_case(name: &str) -> String {
    let labels: Vec<String> = name
        .split('.')
        .enumerate()
        .map(|(i, label)| match i % 2 {
            0 => label.to_ascii_uppercase(),
            _ => {
                let mut chars = label.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                })
            }
        })
        .collect();
    labels.join(".")
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown profile id.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown certificate profile `{0}` (known: valid, wrong-name, wildcard, wildcard-parent, wildcard-two-labels, partial-wildcard, several-sans, cn-only, ip-only, expired, not-yet-valid, self-signed, unknown-ca, mixed-case, wildcard-not-leftmost, cn-name-san-other, san-name-cn-other, uri-only, mail-domain, cname-target, srv-target)"
)]
pub struct UnknownProfile(String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

/// The test CA and one leaf per profile, for one expected name.
pub struct Minted {
    /// The CA clients are told to trust.
    pub ca: Authority,
    /// The name every profile is judged against.
    pub name: String,
    /// One leaf per profile, in [`Profile::ALL`] order.
    pub leaves: Vec<(Profile, Leaf)>,
}

impl Minted {
    /// Mints the CA, the unknown CA and every profile for `name`.
    pub fn new(name: &str) -> Result<Self, CertError> {
        let ca = Authority::new()?;
        let stranger = Authority::new()?;
        let mut leaves = Vec::with_capacity(Profile::ALL.len());
        for profile in Profile::ALL {
            let spec = profile.spec(name);
            let uris = profile.uris(name);
            let leaf = match profile {
                Profile::SelfSigned => self_signed(&spec)?,
                Profile::UnknownCa => stranger.issue(&spec)?,
                _ if !uris.is_empty() => issue_with_uris(&ca, &spec, &uris)?,
                _ => ca.issue(&spec)?,
            };
            leaves.push((profile, leaf));
        }
        Ok(Self {
            ca,
            name: name.to_owned(),
            leaves,
        })
    }

    /// The leaf of a profile.
    pub fn leaf(&self, profile: Profile) -> Option<&Leaf> {
        self.leaves
            .iter()
            .find(|(p, _)| *p == profile)
            .map(|(_, leaf)| leaf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Rules;
    use crate::identity::cert::CertificateNames;

    #[test]
    fn every_profile_parses_back_and_judges_as_documented() {
        let minted = Minted::new("mail.example.test").unwrap();
        for (profile, leaf) in &minted.leaves {
            assert_eq!(profile.id().parse::<Profile>().unwrap(), *profile);
            let names = CertificateNames::from_der(&leaf.chain[0]).unwrap();
            let matches = |rules| names.check(rules, "mail.example.test").0.is_match();
            let name_ok = [Rules::Rfc2595, Rules::Rfc6125, Rules::Rfc9525].map(matches);
            let expected = match profile {
                Profile::Valid
                | Profile::Wildcard
                | Profile::SeveralSans
                | Profile::MixedCase
                | Profile::SanNameCnOther => [true; 3],
                Profile::Expired
                | Profile::NotYetValid
                | Profile::SelfSigned
                | Profile::UnknownCa => [true; 3],
                Profile::CnOnly => [true, true, false],
                _ => [false; 3],
            };
            // An accepted profile matches under every rule set; a profile the readings
            // differ on names both readings; a refused one names none.
            match profile.acceptance() {
                Acceptance::Accept => assert_eq!(name_ok, [true; 3], "{profile}"),
                Acceptance::EitherReading => {
                    assert!(profile.reading(true).is_some() && profile.reading(false).is_some())
                }
                Acceptance::Reject => assert!(profile.reading(true).is_none(), "{profile}"),
            }
            assert_eq!(
                name_ok,
                expected,
                "{profile}: {}",
                profile.describe("mail.example.test")
            );
            assert!(leaf.server_config().is_ok(), "{profile}");
        }
        assert_eq!(
            Profile::PartialWildcard.spec("mail.example.test").dns_names,
            ["m*.example.test"]
        );
        let spec = |p: Profile| p.spec("mail.example.test");
        assert_eq!(spec(Profile::MixedCase).dns_names, ["MAIL.Example.TEST"]);
        assert_eq!(
            spec(Profile::WildcardNotLeftmost).dns_names,
            ["mail.*.test"]
        );
        assert_eq!(spec(Profile::MailDomain).dns_names, ["example.test"]);
        assert_eq!(
            spec(Profile::CnNameSanOther).common_name.as_deref(),
            Some("mail.example.test")
        );
        assert_eq!(
            spec(Profile::CnNameSanOther).dns_names,
            ["other.example.test"]
        );
        assert_eq!(
            spec(Profile::SanNameCnOther).common_name.as_deref(),
            Some("other.example.test")
        );
        let uri_only = minted.leaf(Profile::UriOnly).unwrap();
        let names = CertificateNames::from_der(&uri_only.chain[0]).unwrap();
        assert!(names.dns_names.is_empty() && names.common_names.is_empty());
        assert!(
            Profile::UriOnly
                .describe("mail.example.test")
                .contains("URI:imap://mail.example.test")
        );
        assert!("nope".parse::<Profile>().is_err());
    }
}
