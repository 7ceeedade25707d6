//! The certificate profiles the client role presents (DESIGN §4), all minted per run for
//! one expected name: each either must be accepted by a client that checks what RFC 2595
//! §2.4 (and its successors) ask, or must make it abort the handshake.

use super::{Authority, CertError, Leaf, LeafSpec, self_signed};
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
}

/// Whether a checking client must go on with a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acceptance {
    /// Every reading accepts it: the client must complete the handshake.
    Accept,
    /// Every reading refuses it: the client must abort the handshake.
    Reject,
    /// The readings differ (CN-only): either answer passes; the report says which.
    EitherReading,
}

impl Profile {
    /// Every profile, in a fixed order.
    pub const ALL: [Self; 13] = [
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
        }
    }

    /// What a checking client must do with it.
    pub fn acceptance(self) -> Acceptance {
        match self {
            Self::Valid | Self::Wildcard | Self::SeveralSans => Acceptance::Accept,
            Self::CnOnly => Acceptance::EitherReading,
            _ => Acceptance::Reject,
        }
    }

    /// What the certificate presents for `name`, in words (for reports and the index).
    pub fn describe(self, name: &str) -> String {
        let spec = self.spec(name);
        let mut parts: Vec<String> = spec.dns_names.iter().map(|n| format!("DNS:{n}")).collect();
        parts.extend(spec.ip_addresses.iter().map(|ip| format!("IP:{ip}")));
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
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown profile id.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown certificate profile `{0}` (known: valid, wrong-name, wildcard, wildcard-parent, wildcard-two-labels, partial-wildcard, several-sans, cn-only, ip-only, expired, not-yet-valid, self-signed, unknown-ca)"
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
            let leaf = match profile {
                Profile::SelfSigned => self_signed(&spec)?,
                Profile::UnknownCa => stranger.issue(&spec)?,
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
                Profile::Valid | Profile::Wildcard | Profile::SeveralSans => [true; 3],
                Profile::Expired
                | Profile::NotYetValid
                | Profile::SelfSigned
                | Profile::UnknownCa => [true; 3],
                Profile::CnOnly => [true, true, false],
                _ => [false; 3],
            };
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
        assert!("nope".parse::<Profile>().is_err());
    }
}
