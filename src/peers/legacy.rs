//! The canned answers of [`Fault::AcceptsOldProtocols`] and [`Fault::AcceptsWeakSuites`]:
//! rustls refuses SSL 2.0/3.0, TLS 1.0/1.1 and broken cipher suites by construction, so a
//! server that accepts them is shown by answering such a ClientHello with a ServerHello
//! of its own (an SSL 2.0 SERVER-HELLO for an SSL 2.0 CLIENT-HELLO). The handshake goes
//! no further: the answer alone is the defect a `[client-hello ...]` scenario judges.

use super::fault::Fault;
use super::server::ServerOptions;
use crate::tls::legacy::{RFC2595_SUITE, WEAK_SUITES, offered_suites, server_hello_of};

/// How many octets the first record of a handshake may need before the decision: an
/// SSL 2.0 header (2) or a TLS record header (5) and its body.
pub(crate) fn first_record_len(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [first, second, ..] if first & 0x80 != 0 => {
            Some(2 + usize::from(u16::from_be_bytes([first & 0x7f, *second])))
        }
        [0x16, _, _, hi, lo, ..] => Some(5 + usize::from(u16::from_be_bytes([*hi, *lo]))),
        [0x16, ..] | [] => None,
        // Not a handshake record at all: rustls will refuse it.
        _ => Some(0),
    }
}

/// The canned answer to `hello` (the client's first record, whole), if a fault makes
/// the server accept it.
pub(crate) fn answer(opts: &ServerOptions, hello: &[u8]) -> Option<Vec<u8>> {
    let old = opts.has(Fault::AcceptsOldProtocols);
    let weak = opts.has(Fault::AcceptsWeakSuites);
    match hello {
        // SSL 2.0 CLIENT-HELLO: message type 1 after the two-octet header.
        [first, _, 0x01, ..] if first & 0x80 != 0 => old.then(ssl2_server_hello),
        [0x16, _, _, _, _, 0x01, _, _, _, v1, v2, ..] => {
            let version = u16::from_be_bytes([*v1, *v2]);
            let suites = offered_suites(hello);
            let first = *suites.first()?;
            let broken = |s: &u16| WEAK_SUITES.contains(s) || *s == RFC2595_SUITE;
            if version < 0x0303 && old {
                Some(server_hello_of(version, first))
            } else if version >= 0x0303 && weak && suites.iter().all(broken) {
                Some(server_hello_of(0x0303, first))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// An SSL 2.0 SERVER-HELLO: no certificate, one cipher spec, a 16-octet connection id.
fn ssl2_server_hello() -> Vec<u8> {
    let mut body = vec![
        0x04, // SERVER-HELLO
        0x00, // session id not hit
        0x01, // certificate type X.509
        0x00, 0x02, // version SSL 2.0
        0x00, 0x00, // certificate length
        0x00, 0x03, // cipher specs length
        0x00, 0x10, // connection id length
        0x07, 0x00, 0xc0, // SSL_CK_DES_192_EDE3_CBC_WITH_MD5
    ];
    body.extend_from_slice(&[0x11; 16]);
    let mut out = vec![0x80, u8::try_from(body.len()).unwrap_or(0)];
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ast::LegacyHello;
    use crate::tls::legacy::{Reply, classify, client_hello};

    fn opts(faults: &[Fault]) -> ServerOptions {
        let mut opts = ServerOptions::for_tests();
        opts.faults.extend(faults.iter().copied());
        opts
    }

    #[test]
    fn records_are_measured_before_the_decision() {
        let hello = client_hello(LegacyHello::Tls10);
        assert_eq!(first_record_len(&hello), Some(hello.len()));
        let ssl2 = client_hello(LegacyHello::Ssl2);
        assert_eq!(first_record_len(&ssl2), Some(ssl2.len()));
        assert_eq!(first_record_len(&[0x16, 0x03]), None);
        assert_eq!(first_record_len(b"A1 NOOP"), Some(0));
    }

    #[test]
    fn each_fault_answers_its_own_hellos_only() {
        use LegacyHello::*;
        let reference = opts(&[]);
        let old = opts(&[Fault::AcceptsOldProtocols]);
        let weak = opts(&[Fault::AcceptsWeakSuites]);
        for kind in [Ssl2, Ssl3, Tls10, Tls11, WeakSuites, Rfc2595Suite] {
            let hello = client_hello(kind);
            assert_eq!(answer(&reference, &hello), None, "{kind:?}");
            let by_old = answer(&old, &hello);
            let by_weak = answer(&weak, &hello);
            let is_old = matches!(kind, Ssl2 | Ssl3 | Tls10 | Tls11);
            assert_eq!(by_old.is_some(), is_old, "{kind:?}");
            assert_eq!(by_weak.is_some(), !is_old, "{kind:?}");
            let reply = classify(&by_old.or(by_weak).unwrap_or_default(), false);
            assert!(!reply.is_refusal(), "{kind:?}: {reply:?}");
            if kind == Rfc2595Suite {
                assert!(matches!(
                    reply,
                    Reply::ServerHello {
                        suite: RFC2595_SUITE,
                        ..
                    }
                ));
            }
        }
    }
}
