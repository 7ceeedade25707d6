//! The server identity checks, reported as checks of their own: one connection reaches
//! TLS (STARTTLS/STLS, or implicit TLS), and the certificate the server presented is
//! judged against the expected name under each reading — RFC 2595 §2.4 (the clause this
//! tool checks, MUST), RFC 6125 and RFC 9525 (their successors, SHOULD) — and its chain
//! against the trust anchors.

use super::outcome::{Outcome, Verdict};
use super::{Judging, Target};
use crate::identity::Rules;
use crate::model::{Level, Party, Protocol, Transport};
use crate::net::transcript::Transcript;
use crate::net::{Conn, ConnOptions, ReadLine};
use crate::scenario::ast::Clause;
use crate::tls::{ChainVerdict, PeerRecord};
use std::sync::Arc;
use std::time::Instant;

/// The ids of the checks for a protocol and transport (`imap.server.identity.rfc2595`,
/// `imaps.server.tls.chain-trusted`, ...), in report order.
pub fn check_ids(protocol: Protocol, transport: Transport) -> Vec<String> {
    let prefix = protocol.url_scheme(transport);
    let mut ids = vec![format!("{prefix}.server.tls.chain-trusted")];
    ids.extend(
        Rules::ALL
            .iter()
            .map(|r| format!("{prefix}.server.identity.{}", rules_id(*r))),
    );
    ids
}

fn rules_id(rules: Rules) -> &'static str {
    match rules {
        Rules::Rfc2595 => "rfc2595",
        Rules::Rfc6125 => "rfc6125",
        Rules::Rfc9525 => "rfc9525",
    }
}

/// Reaches TLS on `target` and judges what the server presented. `reference` is the
/// name clients are expected to use (`--server-name`, or the URL's host).
pub async fn probe(
    protocol: Protocol,
    target: &Target,
    reference: &str,
    judging: &Judging,
) -> Vec<Outcome> {
    let started = Instant::now();
    let prefix = protocol.url_scheme(target.transport);
    let (record, transcript, trouble) = handshake(protocol, target, started).await;
    let transcript = if judging.show_secrets {
        transcript
    } else {
        transcript.redacted(&judging.secrets)
    };
    let make = |id: String,
                title: &str,
                level: Level,
                clause: Clause,
                verdict: Verdict,
                message: String| Outcome {
        id,
        title: title.to_owned(),
        protocol,
        role: Party::Server,
        level,
        clauses: vec![clause],
        cves: Vec::new(),
        verdict,
        message,
        failure: None,
        transcript: transcript.clone(),
        duration: started.elapsed(),
        file: None,
        manual: Vec::new(),
        expected_failure: None,
    };
    let mut out = Vec::new();
    let chain = record.as_ref().and_then(|r| r.verdict());
    let (verdict, message) = match (&trouble, &chain) {
        (_, Some(ChainVerdict::Trusted)) => {
            (Verdict::Pass, "the chain leads to a trusted CA".to_owned())
        }
        (_, Some(ChainVerdict::Untrusted { reason, overridden })) => (
            if *overridden {
                Verdict::Fail
            } else {
                Verdict::Error
            },
            format!(
                "the chain is not trusted: {reason}{}",
                if *overridden {
                    " (--insecure: the other checks went on)"
                } else {
                    " (give the CA with --ca, or --insecure to go on)"
                }
            ),
        ),
        (Some(why), None) => (Verdict::Error, why.clone()),
        (None, None) => (
            Verdict::Error,
            "the server presented no certificate".to_owned(),
        ),
    };
    out.push(make(
        format!("{prefix}.server.tls.chain-trusted"),
        "The certificate chain leads to a trusted CA",
        Level::Must,
        Clause {
            reference: "RFC 2595 §2.4".to_owned(),
            quote: Some("During the TLS negotiation, the client MUST check its understanding of the server hostname against the server's identity as presented in the server Certificate message, in order to prevent man-in-the-middle attacks.".to_owned()),
            url: Some("https://www.rfc-editor.org/rfc/rfc2595#section-2.4".to_owned()),
        },
        verdict,
        message,
    ));
    for rules in Rules::ALL {
        let (level, clause) = identity_clause(rules);
        let (verdict, message) = match record
            .as_ref()
            .and_then(|r| r.identity_explained(reference, rules))
        {
            Some((decision, why)) if decision.is_match() => (Verdict::Pass, why),
            Some((_, why)) => (Verdict::Fail, why),
            None => (
                Verdict::Error,
                trouble
                    .clone()
                    .unwrap_or_else(|| "the certificate's names could not be read".to_owned()),
            ),
        };
        let verdict = match verdict {
            Verdict::Fail if !judging.strict && !level.is_fatal() => Verdict::Warn,
            other => other,
        };
        out.push(make(
            format!("{prefix}.server.identity.{}", rules_id(rules)),
            &format!(
                "The certificate presents `{reference}` under the {} rules",
                rules_title(rules)
            ),
            level,
            clause,
            verdict,
            message,
        ));
    }
    out
}

fn rules_title(rules: Rules) -> &'static str {
    match rules {
        Rules::Rfc2595 => "RFC 2595 §2.4",
        Rules::Rfc6125 => "RFC 6125",
        Rules::Rfc9525 => "RFC 9525",
    }
}

fn identity_clause(rules: Rules) -> (Level, Clause) {
    match rules {
        Rules::Rfc2595 => (
            Level::Must,
            Clause {
                reference: "RFC 2595 §2.4".to_owned(),
                quote: Some("A \"*\" wildcard character MAY be used as the left-most name component in the certificate. For example, *.example.com would match a.example.com, foo.example.com, etc. but would not match example.com.".to_owned()),
                url: Some("https://www.rfc-editor.org/rfc/rfc2595#section-2.4".to_owned()),
            },
        ),
        Rules::Rfc6125 => (
            Level::Should,
            Clause {
                reference: "RFC 6125 §6.4".to_owned(),
                quote: Some("the client SHOULD NOT attempt to match a presented identifier in which the wildcard character comprises a label other than the left-most label".to_owned()),
                url: Some("https://www.rfc-editor.org/rfc/rfc6125#section-6.4".to_owned()),
            },
        ),
        Rules::Rfc9525 => (
            Level::Should,
            Clause {
                reference: "RFC 9525 §6.3".to_owned(),
                quote: Some("the client MUST NOT seek a match for a reference identifier of CN-ID".to_owned()),
                url: Some("https://www.rfc-editor.org/rfc/rfc9525#section-6.3".to_owned()),
            },
        ),
    }
}

/// One connection up to a TLS handshake: the record of what the server presented, the
/// transcript, and what went wrong before a certificate arrived.
async fn handshake(
    protocol: Protocol,
    target: &Target,
    started: Instant,
) -> (Option<Arc<PeerRecord>>, Transcript, Option<String>) {
    let opts = ConnOptions {
        read_timeout: target.timeout,
        connect_timeout: target.timeout,
        max_line: target.max_line,
        started,
        ..ConnOptions::default()
    };
    let mut conn = match Conn::connect(target.addr, opts).await {
        Ok(conn) => conn,
        Err(e) => {
            return (
                None,
                Transcript::new(),
                Some(format!("cannot reach the server: {e}")),
            );
        }
    };
    match start_tls(protocol, target, &mut conn).await {
        Ok(record) => {
            let _ = conn.send_close_notify().await;
            (Some(record), conn.take_transcript(), None)
        }
        Err((record, why)) => {
            let _ = conn.close().await;
            (record, conn.take_transcript(), Some(why))
        }
    }
}

/// STARTTLS/STLS when the port needs it, then the handshake. On failure, the record of
/// what was presented (if the handshake got that far) and why it failed.
async fn start_tls(
    protocol: Protocol,
    target: &Target,
    conn: &mut Conn,
) -> Result<Arc<PeerRecord>, (Option<Arc<PeerRecord>>, String)> {
    let fail = |why: String| (None, why);
    if target.transport == Transport::Starttls {
        expect_line(conn, |_| true).await.map_err(fail)?;
        let (command, done): (&[u8], LineTest) = match protocol {
            Protocol::Pop3 => (b"STLS\r\n", |l| {
                l.starts_with(b"+OK") || l.starts_with(b"-ERR")
            }),
            Protocol::Imap | Protocol::Acap => (b"T1 STARTTLS\r\n", |l| l.starts_with(b"T1 ")),
        };
        conn.write_all(command)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let answer = expect_line(conn, done).await.map_err(fail)?;
        if !(answer.starts_with(b"+OK") || answer.starts_with(b"T1 OK")) {
            return Err(fail(format!(
                "the server refused {}: {}",
                protocol.starttls_command(),
                crate::scenario::show_octets(&answer)
            )));
        }
    }
    let (config, record) = target
        .tls
        .config()
        .map_err(|e| fail(format!("TLS client configuration: {e}")))?;
    match conn
        .upgrade_client(config, target.server_name.clone())
        .await
    {
        Ok(_) => Ok(record),
        Err(e) => Err((Some(record), format!("the TLS handshake failed: {e}"))),
    }
}

/// Whether a line is the answer a step waits for.
type LineTest = fn(&[u8]) -> bool;

/// Reads lines until one satisfies `done`; returns it.
async fn expect_line(conn: &mut Conn, done: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, String> {
    loop {
        match conn.read_line().await {
            Ok(ReadLine::Line { bytes, .. }) if done(&bytes) => return Ok(bytes),
            Ok(ReadLine::Line { .. }) => {}
            Ok(ReadLine::Closed { how, .. }) => {
                return Err(format!("the server closed the connection ({how})"));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
