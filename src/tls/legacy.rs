//! Canned hellos rustls will not produce — SSL 2.0, SSL 3.0, TLS 1.0/1.1, broken cipher
//! suites, RFC 2595 §2.1's DHE-DSS-3DES — and a reader for what a peer answers to them.
//! Pure bytes, no IO: `[client-hello ...]` and `[server-hello ...]` in the engine send
//! them and judge the answer.

use crate::scenario::ast::LegacyHello;

/// TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA, the ECDHE variants, 3DES
/// and the renegotiation SCSV: what a TLS 1.0 client offered.
const OLD_SUITES: &[u16] = &[0xc013, 0xc014, 0x002f, 0x0035, 0x000a, 0x00ff];

/// Suites every current profile forbids (RFC 7465 RC4, RFC 9325 3DES/NULL/EXPORT/anon):
/// a server that picks any of them is broken.
pub const WEAK_SUITES: &[u16] = &[
    0x0005, 0x0004, 0xc011, 0x0018, // RC4
    0x000a, 0x0016, 0xc012, 0x001b, // 3DES
    0x0001, 0x0002, 0x003b, // NULL
    0x0003, 0x0006, 0x0008, 0x0014, // EXPORT
    0x0034, 0xc018, // anonymous
];

/// TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA, the suite RFC 2595 §2.1 made mandatory.
pub const RFC2595_SUITE: u16 = 0x0013;

/// The octets of the ClientHello `kind` names, ready to write on a fresh connection (or
/// right after a STARTTLS answer).
pub fn client_hello(kind: LegacyHello) -> Vec<u8> {
    match kind {
        LegacyHello::Ssl2 => ssl2_client_hello(),
        LegacyHello::Ssl3 => tls_client_hello(0x0300, OLD_SUITES, false),
        LegacyHello::Tls10 => tls_client_hello(0x0301, OLD_SUITES, true),
        LegacyHello::Tls11 => tls_client_hello(0x0302, OLD_SUITES, true),
        LegacyHello::WeakSuites => tls_client_hello(0x0303, WEAK_SUITES, true),
        LegacyHello::Rfc2595Suite => tls_client_hello(0x0303, &[RFC2595_SUITE], true),
    }
}

/// The classic SSL 2.0 CLIENT-HELLO: two-octet header (length 0x2e), seven cipher specs,
/// no session id, a 16-octet challenge.
fn ssl2_client_hello() -> Vec<u8> {
    let mut out = vec![
        0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
    ];
    out.extend_from_slice(&[
        0x07, 0x00, 0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80, 0x01, 0x00, 0x80, 0x08, 0x00, 0x80,
        0x06, 0x00, 0x40, 0x04, 0x00, 0x80,
    ]);
    out.extend_from_slice(&[0x5a; 16]);
    out
}

/// A TLS ClientHello record offering `version` at most and only `suites`.
fn tls_client_hello(version: u16, suites: &[u16], extensions: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&[0x4d; 32]); // random
    body.push(0); // no session id
    push_u16(&mut body, suites.len() * 2);
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    if extensions {
        let mut ext = Vec::new();
        // supported_groups: secp256r1, x25519
        ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x1d]);
        // ec_point_formats: uncompressed
        ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
        // signature_algorithms: rsa_pkcs1_sha256, ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256,
        // rsa_pkcs1_sha1, dsa_sha1 (for the DSS suite)
        ext.extend_from_slice(&[
            0x00, 0x0d, 0x00, 0x0c, 0x00, 0x0a, 0x04, 0x01, 0x04, 0x03, 0x08, 0x04, 0x02, 0x01,
            0x02, 0x02,
        ]);
        push_u16(&mut body, ext.len());
        body.extend_from_slice(&ext);
    }
    let mut handshake = vec![0x01];
    push_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    record(0x16, version.min(0x0301), &handshake)
}

/// A ServerHello of `kind`'s version choosing `suite`, as one record.
pub fn server_hello(kind: LegacyHello, suite: u16) -> Vec<u8> {
    let version = match kind {
        LegacyHello::Ssl3 => 0x0300,
        LegacyHello::Tls10 => 0x0301,
        _ => 0x0302,
    };
    server_hello_of(version, suite)
}

/// A ServerHello record of `version` (SSL 3.0 to TLS 1.2) choosing `suite`.
pub fn server_hello_of(version: u16, suite: u16) -> Vec<u8> {
    let version = version.clamp(0x0300, 0x0303);
    let mut body = Vec::new();
    body.extend_from_slice(&u16::to_be_bytes(version));
    body.extend_from_slice(&[0x53; 32]);
    body.push(0);
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    // renegotiation_info, empty: clients (OpenSSL 3) abort a server without it, which
    // would hide whether they accept the old version at all.
    body.extend_from_slice(&[0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]);
    let mut handshake = vec![0x02];
    push_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    record(0x16, version, &handshake)
}

/// Suites TLS 1.0 and 1.1 know (CBC with SHA-1), in the order a ServerHello of an old
/// version prefers them.
const PRE_TLS12_SUITES: &[u16] = &[0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x000a];

/// The suite a ServerHello of an old version should pick from a client's ClientHello:
/// one the client offers that old versions know, so that a client which still accepts
/// the old version has no other reason to abort. `None` if it offers none of them.
pub fn old_suite_for(client_hello: &[u8]) -> Option<u16> {
    let offered = offered_suites(client_hello);
    PRE_TLS12_SUITES
        .iter()
        .copied()
        .find(|suite| offered.contains(suite))
}

/// The cipher suites a TLS ClientHello record offers (empty if it is not one).
pub fn offered_suites(record: &[u8]) -> Vec<u16> {
    let read = || -> Option<Vec<u16>> {
        if *record.first()? != 0x16 || *record.get(5)? != 0x01 {
            return None;
        }
        // header 5, type 1, length 3, version 2, random 32
        let mut at = 5 + 4 + 2 + 32;
        let session = usize::from(*record.get(at)?);
        at += 1 + session;
        let len = usize::from(u16::from_be_bytes([*record.get(at)?, *record.get(at + 1)?]));
        let suites = record.get(at + 2..at + 2 + len)?;
        Some(
            suites
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
        )
    };
    read().unwrap_or_default()
}

/// How much of a TLS record `bytes` starts with is still missing (0 when the record is
/// complete or `bytes` is not a TLS record at all).
pub fn record_missing(bytes: &[u8]) -> usize {
    match bytes {
        [0x14..=0x17, 0x03, _, hi, lo, rest @ ..] => {
            usize::from(u16::from_be_bytes([*hi, *lo])).saturating_sub(rest.len())
        }
        _ => 0,
    }
}

/// What a peer answered to a canned hello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// It closed the connection without a word.
    Closed,
    /// A TLS alert record: level and description (70 = protocol_version, 40 =
    /// handshake_failure, ...).
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// The alert description code.
        description: u8,
    },
    /// A TLS ServerHello: it accepted the offer.
    ServerHello {
        /// The version it chose.
        version: u16,
        /// The suite it chose.
        suite: u16,
    },
    /// An SSL 2.0 SERVER-HELLO.
    Ssl2ServerHello,
    /// Nothing within the wait.
    Silence,
    /// Anything else (a plaintext line, another record).
    Other(Vec<u8>),
}

impl Reply {
    /// Whether the peer refused: an alert, a close, or anything that is not a hello.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Closed | Self::Alert { .. } | Self::Other(_))
    }

    /// In words, for a report.
    pub fn describe(&self) -> String {
        match self {
            Self::Closed => "the connection closed".to_owned(),
            Self::Alert { level, description } => format!(
                "a TLS {} alert ({})",
                if *level == 2 { "fatal" } else { "warning" },
                alert_name(*description)
            ),
            Self::ServerHello { version, suite } => format!(
                "a ServerHello choosing {} and suite 0x{suite:04x}",
                version_name(*version)
            ),
            Self::Ssl2ServerHello => "an SSL 2.0 SERVER-HELLO".to_owned(),
            Self::Silence => "nothing".to_owned(),
            Self::Other(bytes) => format!("{} octets that are not a hello", bytes.len()),
        }
    }
}

/// Reads the first answer in `bytes`; `closed` when the peer had closed after them.
pub fn classify(bytes: &[u8], closed: bool) -> Reply {
    match bytes {
        [] if closed => Reply::Closed,
        [] => Reply::Silence,
        [0x15, 0x03, _, _, _, level, description, ..] => Reply::Alert {
            level: *level,
            description: *description,
        },
        [0x16, 0x03, _, _, _, 0x02, _, _, _, v1, v2, rest @ ..] => {
            // random 32, session id, suite
            let suite = rest.get(32).and_then(|&len| {
                let at = 33 + usize::from(len);
                Some(u16::from_be_bytes([*rest.get(at)?, *rest.get(at + 1)?]))
            });
            Reply::ServerHello {
                version: u16::from_be_bytes([*v1, *v2]),
                suite: suite.unwrap_or(0),
            }
        }
        [first, _, 0x04, ..] if first & 0x80 != 0 => Reply::Ssl2ServerHello,
        other => Reply::Other(other.to_vec()),
    }
}

/// `SSL 3.0`, `TLS 1.0`, ...
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".to_owned(),
        0x0301 => "TLS 1.0".to_owned(),
        0x0302 => "TLS 1.1".to_owned(),
        0x0303 => "TLS 1.2".to_owned(),
        0x0304 => "TLS 1.3".to_owned(),
        other => format!("version 0x{other:04x}"),
    }
}

fn alert_name(code: u8) -> String {
    match code {
        0 => "close_notify".to_owned(),
        10 => "unexpected_message".to_owned(),
        40 => "handshake_failure".to_owned(),
        47 => "illegal_parameter".to_owned(),
        50 => "decode_error".to_owned(),
        70 => "protocol_version".to_owned(),
        71 => "insufficient_security".to_owned(),
        80 => "internal_error".to_owned(),
        other => format!("code {other}"),
    }
}

fn record(content_type: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend_from_slice(&version.to_be_bytes());
    push_u16(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

fn push_u16(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
}

fn push_u24(out: &mut Vec<u8>, n: usize) {
    let n = u32::try_from(n).unwrap_or(0).to_be_bytes();
    out.extend_from_slice(&n[1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ssl2_hello_has_the_classic_layout() {
        let hello = client_hello(LegacyHello::Ssl2);
        // two-octet header: high bit set, length of the rest
        assert_eq!(hello[0], 0x80);
        assert_eq!(usize::from(hello[1]), hello.len() - 2);
        assert_eq!(hello[2], 0x01, "CLIENT-HELLO");
        assert_eq!(&hello[3..5], &[0x00, 0x02], "version 2");
        let specs = usize::from(u16::from_be_bytes([hello[5], hello[6]]));
        assert_eq!(specs % 3, 0, "cipher specs are three octets each");
        let challenge = usize::from(u16::from_be_bytes([hello[9], hello[10]]));
        assert_eq!(hello.len(), 11 + specs + challenge);
    }

    #[test]
    fn tls_hellos_are_complete_records_offering_what_they_say() {
        for (kind, version, suites) in [
            (LegacyHello::Ssl3, 0x0300, OLD_SUITES),
            (LegacyHello::Tls10, 0x0301, OLD_SUITES),
            (LegacyHello::Tls11, 0x0302, OLD_SUITES),
            (LegacyHello::WeakSuites, 0x0303, WEAK_SUITES),
            (LegacyHello::Rfc2595Suite, 0x0303, &[RFC2595_SUITE][..]),
        ] {
            let hello = client_hello(kind);
            assert_eq!(record_missing(&hello), 0, "{kind:?}");
            assert_eq!(
                hello.len(),
                5 + usize::from(u16::from_be_bytes([hello[3], hello[4]]))
            );
            let handshake_len = u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize;
            assert_eq!(handshake_len, hello.len() - 9, "{kind:?}");
            assert_eq!(u16::from_be_bytes([hello[9], hello[10]]), version);
            assert_eq!(offered_suites(&hello), suites, "{kind:?}");
        }
    }

    #[test]
    fn a_server_hello_reads_back_as_one() {
        let hello = server_hello(LegacyHello::Tls10, 0xc013);
        assert_eq!(record_missing(&hello), 0);
        assert_eq!(
            classify(&hello, false),
            Reply::ServerHello {
                version: 0x0301,
                suite: 0xc013
            }
        );
        assert!(!classify(&hello, false).is_refusal());
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(&[], true), Reply::Closed);
        assert_eq!(classify(&[], false), Reply::Silence);
        let alert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70];
        assert_eq!(
            classify(&alert, true),
            Reply::Alert {
                level: 2,
                description: 70
            }
        );
        assert!(classify(&alert, true).is_refusal());
        assert_eq!(
            classify(&[0x84, 0x2e, 0x04, 0x00], false),
            Reply::Ssl2ServerHello
        );
        assert!(!Reply::Ssl2ServerHello.is_refusal());
        assert!(classify(b"* BAD not TLS\r\n", true).is_refusal());
        assert!(!Reply::Silence.is_refusal());
        assert_eq!(
            Reply::Alert {
                level: 2,
                description: 70
            }
            .describe(),
            "a TLS fatal alert (protocol_version)"
        );
    }

    #[test]
    fn the_old_suite_is_taken_from_the_client_hello() {
        let modern = tls_client_hello(0x0303, &[0x1301, 0x1302, 0xc02f, 0x002f, 0xc013], true);
        assert_eq!(old_suite_for(&modern), Some(0xc013));
        let tls13_only = tls_client_hello(0x0303, &[0x1301, 0x1302], true);
        assert_eq!(old_suite_for(&tls13_only), None);
        assert_eq!(old_suite_for(b"garbage"), None);
    }
}
